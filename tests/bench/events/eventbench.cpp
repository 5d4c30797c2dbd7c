// Event ingest throughput: signed SendGrid batches of BATCH events POSTed over one HTTP keep-alive
// connection to the webhook server (on its own thread), measured as events committed per second,
// side by side with a raw COPY of the same rows into the same events table, in ROUNDS rounds of
// EVENTS events each after one round not counted (the median ratio is the result).
//   postdesk_eventbench CONNINFO [EVENTS] [BATCH] [ROUNDS]
#include "db/connection.h"
#include "db/migrator.h"
#include "events/webhooksecretrepository.h"
#include "events/webhookserver.h"
#include "secrets/secretrepository.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QHostAddress>
#include <QTcpSocket>
#include <QThread>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>

#ifdef __GLIBC__
#    include <malloc.h>
#endif

namespace {

int fail(const QString &what)
{
    std::fprintf(stderr, "eventbench: %s\n", qPrintable(what));
    return 1;
}

struct Signer
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    ~Signer() { EVP_PKEY_free(key); }
    QByteArray publicKeyBase64() const
    {
        unsigned char *der = nullptr;
        const int n = i2d_PUBKEY(key, &der);
        QByteArray out(reinterpret_cast<const char *>(der), n);
        OPENSSL_free(der);
        return out.toBase64();
    }
    QByteArray sign(const QByteArray &data) const
    {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        size_t len = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
        EVP_DigestSign(ctx, nullptr, &len,
                       reinterpret_cast<const unsigned char *>(data.constData()),
                       size_t(data.size()));
        QByteArray sig(qsizetype(len), '\0');
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &len,
                       reinterpret_cast<const unsigned char *>(data.constData()),
                       size_t(data.size()));
        sig.resize(qsizetype(len));
        EVP_MD_CTX_free(ctx);
        return sig.toBase64();
    }
};

const char *kinds[] = {"delivered", "delivered", "delivered", "delivered", "delivered",
                       "delivered", "delivered", "open",      "open",      "click"};

} // namespace

int main(int argc, char *argv[])
{
#ifdef __GLIBC__
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024); // as postdeskd, which runs the server, does
#endif
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2)
        return fail(
                QStringLiteral("usage: postdesk_eventbench CONNINFO [EVENTS] [BATCH] [ROUNDS]"));
    const int total = args.value(2, QStringLiteral("50000")).toInt();
    const int batch = args.value(3, QStringLiteral("1000")).toInt();
    const int rounds = qMax(1, args.value(4, QStringLiteral("3")).toInt());
    // One round more, first, not counted: it opens the server's connections and prepares their
    // statements, and is the first to touch the freshly started cluster's memory and caches.
    const int sets = rounds + 1;
    auto info = Db::ConnectionInfo::parse(args.at(1));
    if (!info)
        return fail(info.error().toString());
    auto opened = Db::Connection::open(*info);
    if (!opened)
        return fail(opened.error().toString());
    Db::Connection &db = **opened;
    if (auto ok = Db::Migrator(db).migrate(); !ok)
        return fail(ok.error().toString());
    db.execScript(QStringLiteral(
            "TRUNCATE events, daily_rollups, soft_bounce_counts, suppressions; "
            "DELETE FROM messages; DELETE FROM webhook_secrets; DELETE FROM worker_keys"));

    // One message per event's recipient, so that every event is joined, and sent the way the
    // send workers do it (pending, then updated to sent), then vacuumed as autovacuum would: the
    // table is in the shape events find it in production, not freshly loaded. Each round has
    // messages of its own, which no earlier round has touched.
    {
        QByteArray copy;
        for (int i = 0; i < total * sets; ++i)
            copy += "1\tpending\tr" + QByteArray::number(i) + "@example.org\n";
        if (auto ok = db.copyIn(QStringLiteral("COPY messages (queue_id, state, recipient) FROM "
                                               "STDIN"),
                                copy);
            !ok)
            return fail(ok.error().toString());
        // (VACUUM cannot run in the implicit transaction of a multi-statement script.)
        db.execScript(QStringLiteral("VACUUM ANALYZE messages"));
        if (auto ok = db.execScript(QStringLiteral(
                    "UPDATE messages SET state = 'sent', sent_at = now(), provider_message_id = "
                    "'bench' || substring(recipient from 2 for position('@' in recipient) - 2)"));
            !ok)
            return fail(ok.error().toString());
        db.execScript(QStringLiteral("VACUUM ANALYZE messages"));
    }
    // The messages were written in recipient order: r<i> has id firstId + i.
    const qint64 firstId = db.exec(QStringLiteral("SELECT min(id) FROM messages"))->toInt(0, 0);

    // This host's key, and the SendGrid verification key sealed to it.
    auto hostKey = Secrets::KeyPair::generate();
    Secrets::SecretRepository secrets(db);
    auto id = secrets.registerKey(QStringLiteral("bench"), hostKey->publicKey());
    secrets.authorise(*id);
    Signer signer;
    if (auto ok = Events::WebhookSecretRepository(db).setSecret(QStringLiteral("sendgrid"),
                                                                QStringLiteral("public_key"),
                                                                signer.publicKeyBase64());
        !ok)
        return fail(ok.error().toString());

    // The batches, signed before the clock starts (signing is SendGrid's work, not ours).
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    struct Post
    {
        QByteArray body, timestamp, signature;
    };
    // The COPY rows are the rows the server stores, the message each event is joined to
    // included (so COPY checks the same foreign key), and once more without it.
    struct Round
    {
        QList<Post> posts;
        QByteArray copyRows, bareRows;
        QList<QByteArray> copyBatches; // copyRows, one piece per posted batch
    };
    QList<Round> work(sets);
    for (int start = 0; start < total * sets;
         start = qMin((start / total + 1) * total, start + batch)) {
        QList<Post> &posts = work[start / total].posts;
        QByteArray copyRows;
        QByteArray &bareRows = work[start / total].bareRows;
        const int end = qMin((start / total + 1) * total, start + batch);
        QByteArray body = "[";
        for (int i = start; i < end; ++i) {
            if (i > start)
                body += ',';
            const char *kind = kinds[i % 10];
            QByteArray e = "{\"email\":\"r" + QByteArray::number(i)
                    + "@example.org\",\"timestamp\":" + QByteArray::number(now - 60)
                    + ",\"smtp-id\":\"<bench" + QByteArray::number(i)
                    + "@example.org>\",\"event\":\"" + kind
                    + "\",\"category\":\"bench\",\"sg_event_id\":\"ev" + QByteArray::number(i)
                    + "\",\"sg_message_id\":\"bench" + QByteArray::number(i)
                    + ".filter0001.16648.5515E0B88.0\"";
            if (qstrcmp(kind, "click") == 0)
                e += ",\"url\":\"https://example.org/landing?i=" + QByteArray::number(i) + "\"";
            if (qstrcmp(kind, "delivered") != 0)
                e += ",\"useragent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; "
                     "x64)\",\"ip\":\"192.0.2.1\"";
            else
                e += ",\"response\":\"250 OK\",\"ip\":\"168.1.1.1\"";
            e += '}';
            body += e;
            const QByteArray type = qstrcmp(kind, "open") == 0 ? "opened"
                    : qstrcmp(kind, "click") == 0              ? "clicked"
                                                               : "delivered";
            QByteArray raw = e;
            raw.replace("\\", "\\\\");
            const QByteArray row = "sendgrid\t" + QByteArray(kind) + ":ev" + QByteArray::number(i)
                    + '\t' + type + "\tf\tbench" + QByteArray::number(i) + "\tr"
                    + QByteArray::number(i) + "@example.org\t"
                    + QDateTime::fromSecsSinceEpoch(now - 60, Qt::UTC)
                              .toString(Qt::ISODate)
                              .toLatin1()
                    + '\t' + raw + '\t'
                    + (qstrcmp(kind, "click") == 0
                               ? "https://example.org/landing?i=" + QByteArray::number(i)
                               : QByteArray("\\N"));
            copyRows += row + '\t' + QByteArray::number(firstId + i) + '\n';
            bareRows += row + '\n';
        }
        body += ']';
        const QByteArray ts = QByteArray::number(now);
        posts.append({body, ts, signer.sign(ts + body)});
        work[start / total].copyRows += copyRows;
        work[start / total].copyBatches.append(copyRows);
    }

    // The server on its own thread, with its own connection.
    QThread serverThread;
    serverThread.start();
    QObject context;
    context.moveToThread(&serverThread);
    Events::WebhookServer *server = nullptr;
    quint16 port = 0;
    const Db::ConnectionInfo serverInfo = *info;
    QMetaObject::invokeMethod(
            &context,
            [&] {
                Events::WebhookServer::Options options;
                options.openConnection = [serverInfo] { return Db::Connection::open(serverInfo); };
                options.hostKey = *hostKey;
                server = new Events::WebhookServer(std::move(options));
                port = server->listen(QHostAddress::LocalHost, 0).value_or(0);
            },
            Qt::BlockingQueuedConnection);
    if (!port)
        return fail(QStringLiteral("the server did not start"));

    // A plain HTTP/1.1 client on one keep-alive connection (blocking calls are fine here: this
    // thread does nothing else), so that the client's own overhead stays out of the measurement.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return fail(QStringLiteral("cannot connect to the server"));
    socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
    auto post = [&](const Post &p) {
        QByteArray request = "POST /webhooks/sendgrid HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Content-Type: application/json\r\nConnection: keep-alive\r\n"
                             "X-Twilio-Email-Event-Webhook-Signature: "
                + p.signature + "\r\nX-Twilio-Email-Event-Webhook-Timestamp: " + p.timestamp
                + "\r\nContent-Length: " + QByteArray::number(p.body.size()) + "\r\n\r\n" + p.body;
        socket.write(request);
        QByteArray response;
        qsizetype headerEnd = -1;
        qint64 length = -1;
        while (true) {
            if (!socket.waitForReadyRead(60000))
                return 0;
            response += socket.readAll();
            if (headerEnd < 0 && (headerEnd = response.indexOf("\r\n\r\n")) >= 0) {
                for (const QByteArray &line : response.left(headerEnd).split('\n')) {
                    if (line.toLower().startsWith("content-length:"))
                        length = line.mid(15).trimmed().toLongLong();
                }
            }
            if (headerEnd >= 0 && response.size() >= headerEnd + 4 + qMax<qint64>(length, 0))
                break;
        }
        return response.mid(9, 3).toInt();
    };
    // Warm up the connection and the secret cache with a batch of nothing new.
    post({"[]", QByteArray::number(now), signer.sign(QByteArray::number(now) + "[]")});

    // Each round: the webhook server, then raw COPY of the same rows into the same table (one
    // COPY, one COPY per batch, and one COPY of the rows without their message), each on an empty
    // events table, one right after the other, so that both sides of a ratio meet the same
    // conditions on a machine doing other work too.
    const QString copySql = QStringLiteral(
            "COPY events (source, event_key, type, machine, provider_message_id, recipient, "
            "occurred_at, raw, url, message_id) FROM STDIN");
    const QString bareSql = QStringLiteral(
            "COPY events (source, event_key, type, machine, provider_message_id, recipient, "
            "occurred_at, raw, url) FROM STDIN");
    // Seconds to COPY the chunks into an emptied events table, one COPY each; -1 on failure.
    auto timedCopy = [&db](const QString &sql, const QList<QByteArray> &chunks) {
        db.execScript(QStringLiteral("TRUNCATE events"));
        QElapsedTimer timer;
        timer.start();
        for (const QByteArray &chunk : chunks) {
            if (auto ok = db.copyIn(sql, chunk); !ok) {
                fail(ok.error().toString());
                return -1.0;
            }
        }
        return timer.nsecsElapsed() / 1e9;
    };
    QList<double> oneRatios, batchRatios, bareRatios;
    std::printf("events: %d per round in batches of %d, %d rounds\n", total, batch, rounds);
    for (int r = 0; r < sets; ++r) {
        db.execScript(QStringLiteral("TRUNCATE events, daily_rollups"));
        QElapsedTimer timer;
        timer.start();
        for (const Post &p : std::as_const(work.at(r).posts)) {
            if (const int status = post(p); status != 200)
                return fail(QStringLiteral("HTTP status %1").arg(status));
        }
        const double httpSeconds = timer.nsecsElapsed() / 1e9;
        auto count = db.exec(QStringLiteral("SELECT count(*), count(message_id) FROM events"));
        const qint64 stored = count->toInt(0, 0);
        const qint64 joined = count->toInt(0, 1);
        if (stored != total || joined != total)
            return fail(QStringLiteral("round %1: %2 of %3 events stored, %4 joined")
                                .arg(r)
                                .arg(stored)
                                .arg(total)
                                .arg(joined));

        const double copySeconds = timedCopy(copySql, {work.at(r).copyRows});
        const double copyBatchSeconds = timedCopy(copySql, work.at(r).copyBatches);
        const double bareSeconds = timedCopy(bareSql, {work.at(r).bareRows});
        if (copySeconds < 0 || copyBatchSeconds < 0 || bareSeconds < 0)
            return 1;

        const double httpRate = total / httpSeconds;
        const double copyRate = total / copySeconds;
        const double copyBatchRate = total / copyBatchSeconds;
        const double bareRate = total / bareSeconds;
        const char *label = r == 0 ? "warm-up (not counted)" : "round";
        if (r > 0) {
            oneRatios.append(httpRate / copyRate);
            batchRatios.append(httpRate / copyBatchRate);
            bareRatios.append(httpRate / bareRate);
        }
        std::printf("%s %d: webhook server (HTTP keep-alive, verify, parse, store + effects + "
                    "rollups) %6.0f events/s\n"
                    "         raw COPY %6.0f, COPY per batch %6.0f, COPY without message_id %6.0f; "
                    "ratios %.2fx, %.2fx, %.2fx\n",
                    label, r, httpRate, copyRate, copyBatchRate, bareRate, httpRate / copyRate,
                    httpRate / copyBatchRate, httpRate / bareRate);
        std::fflush(stdout);
    }
    QMetaObject::invokeMethod(
            &context, [&] { delete server; }, Qt::BlockingQueuedConnection);
    serverThread.quit();
    serverThread.wait();

    auto median = [](QList<double> values) {
        std::sort(values.begin(), values.end());
        const qsizetype n = values.size();
        return n % 2 ? values.at(n / 2) : (values.at(n / 2 - 1) + values.at(n / 2)) / 2;
    };
    std::printf("ratio, median of %d rounds: %.2fx one COPY (goal >= 0.3x), %.2fx COPY per batch, "
                "%.2fx COPY without message_id\n",
                rounds, median(oneRatios), median(batchRatios), median(bareRatios));
    return 0;
}
