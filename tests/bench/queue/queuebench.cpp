// Queue throughput against a real PostgreSQL:
//   1. enqueue of N messages with QueueRepository::enqueueBatch, against a raw COPY of the same
//      rows into the same table (the floor: nothing can insert faster), with and without
//      idempotency keys;
//   2. claim + complete throughput with W workers (threads, a connection each), batch size B.
// Usage: postdesk_queuebench CONNINFO [MESSAGES] [WORKERS] [BATCH]
// The database is used as it is: run it in a schema of its own (run.sh does).

#include "db/connection.h"
#include "db/migrator.h"
#include "queue/queuerepository.h"
#include "queue/sqlarray.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonDocument>
#include <QThread>

#include <atomic>
#include <cstdio>

using namespace Queue;

namespace {

int failWith(const Common::Error &error)
{
    std::fprintf(stderr, "queuebench: %s\n", qPrintable(error.toString()));
    return 1;
}

QList<NewMessage> makeMessages(int count, bool keys)
{
    QList<NewMessage> messages;
    messages.reserve(count);
    for (int i = 0; i < count; ++i) {
        NewMessage m;
        m.queue = QStringLiteral("bulk");
        m.recipient = QStringLiteral("user%1@example.org").arg(i);
        m.templateVersionId = 0;
        m.subject = QStringLiteral("Monthly news");
        m.htmlBody = QStringLiteral("<p>Hello, here is the news.</p>");
        m.data = QJsonObject{{QStringLiteral("first_name"), QStringLiteral("User %1").arg(i)},
                             {QStringLiteral("n"), i}};
        if (keys)
            m.idempotencyKey = QStringLiteral("bench/%1").arg(i);
        messages << m;
    }
    return messages;
}

// The same rows as enqueueBatch sends, formatted for COPY ahead of time (so the raw side pays
// only for the COPY itself).
QByteArray rawCopyData(const QList<NewMessage> &messages, int queueId, int priority,
                       int maxAttempts, const QString &now)
{
    QByteArray data;
    for (const NewMessage &m : messages) {
        data += QByteArray::number(queueId) + '\t' + QByteArray::number(priority) + '\t'
                + now.toUtf8() + '\t' + QByteArray::number(maxAttempts) + '\t';
        Sql::appendCopyField(data, m.idempotencyKey, m.idempotencyKey.isEmpty());
        data += '\t';
        Sql::appendCopyField(data, m.recipient);
        data += "\t\\N\t\\N\t";
        Sql::appendCopyField(data,
                             QString::fromUtf8(
                                     QJsonDocument(m.data).toJson(QJsonDocument::Compact)));
        data += '\t';
        Sql::appendCopyField(data, m.subject);
        data += '\t';
        Sql::appendCopyField(data, m.htmlBody);
        data += "\t\\N\n";
    }
    return data;
}

Common::Status reset(Db::Connection &db)
{
    if (auto ok = db.execScript(QStringLiteral("TRUNCATE messages CASCADE")); !ok)
        return ok;
    return db.execScript(QStringLiteral("VACUUM ANALYZE messages"));
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: postdesk_queuebench CONNINFO [MESSAGES] [WORKERS] [BATCH]\n");
        return 2;
    }
    auto info = Db::ConnectionInfo::parse(args.at(1));
    if (!info)
        return failWith(info.error());
    const int count = args.size() > 2 ? args.at(2).toInt() : 100000;
    const int workers = args.size() > 3 ? args.at(3).toInt() : 4;
    const int batch = args.size() > 4 ? args.at(4).toInt() : 100;

    auto connection = Db::Connection::open(*info, QStringLiteral("queuebench"));
    if (!connection)
        return failWith(connection.error());
    Db::Connection &db = **connection;
    Db::Migrator migrator(db);
    if (auto ok = migrator.migrate(); !ok)
        return failWith(ok.error());
    QueueRepository queue(db);
    auto queues = queue.queues();
    if (!queues)
        return failWith(queues.error());
    QueueInfo bulk;
    for (const QueueInfo &q : std::as_const(*queues)) {
        if (q.name == u"bulk")
            bulk = q;
    }

    std::printf("Enqueue of %d messages (each in one transaction, same table and indexes)\n", count);
    for (bool keys : {false, true}) {
        const QList<NewMessage> messages = makeMessages(count, keys);
        double rates[2] = {0, 0};
        for (int round = 0; round < 2; ++round) {
            // Raw COPY: the rows already formatted, straight into messages.
            if (auto ok = reset(db); !ok)
                return failWith(ok.error());
            const QByteArray raw = rawCopyData(messages, bulk.id, bulk.priorityClass,
                                               bulk.maxAttempts, QStringLiteral("now"));
            QElapsedTimer timer;
            timer.start();
            if (auto ok = db.begin(); !ok)
                return failWith(ok.error());
            auto copied = db.copyIn(QStringLiteral("COPY messages (queue_id, priority, "
                                                   "scheduled_at, max_attempts, idempotency_key, "
                                                   "recipient, sender, template_version_id, data, "
                                                   "subject, html_body, text_body) FROM STDIN"),
                                    raw);
            if (!copied)
                return failWith(copied.error());
            if (auto ok = db.commit(); !ok)
                return failWith(ok.error());
            const double rawSeconds = timer.nsecsElapsed() / 1e9;

            if (auto ok = reset(db); !ok)
                return failWith(ok.error());
            timer.restart();
            auto result = queue.enqueueBatch(messages);
            if (!result)
                return failWith(result.error());
            const double ourSeconds = timer.nsecsElapsed() / 1e9;
            if (result->inserted != count) {
                std::fprintf(stderr, "queuebench: inserted %lld of %d\n",
                             static_cast<long long>(result->inserted), count);
                return 1;
            }
            rates[0] = count / rawSeconds;
            rates[1] = count / ourSeconds;
        }
        std::printf("  %-26s raw COPY %9.0f msgs/s   enqueueBatch %9.0f msgs/s   ratio %.2f\n",
                    keys ? "with idempotency keys:" : "without idempotency keys:", rates[0],
                    rates[1], rates[1] / rates[0]);
    }
    std::fflush(stdout);

    // Claim + complete: the table holds `count` pending messages from the last round.
    std::printf("Claim + complete of %d messages: %d workers, batch %d\n", count, workers, batch);
    std::atomic<qint64> done{0};
    std::atomic<bool> failed{false};
    QList<QThread *> threads;
    QElapsedTimer timer;
    timer.start();
    for (int w = 0; w < workers; ++w) {
        threads << QThread::create([&, w] {
            auto own = Db::Connection::open(*info, QStringLiteral("queuebench-worker"));
            if (!own) {
                failed = true;
                return;
            }
            QueueRepository repository(**own);
            const QString id = QStringLiteral("bench-%1").arg(w);
            for (;;) {
                auto claimed = repository.claim(id, batch, 300);
                if (!claimed) {
                    std::fprintf(stderr, "%s\n", qPrintable(claimed.error().toString()));
                    failed = true;
                    return;
                }
                if (claimed->isEmpty())
                    return;
                QList<Completion> completions;
                completions.reserve(claimed->size());
                for (const ClaimedMessage &m : std::as_const(*claimed))
                    completions << Completion{m.id, m.leaseToken, 0, QStringLiteral("bench"), {}};
                auto completed = repository.complete(completions);
                if (!completed) {
                    failed = true;
                    return;
                }
                done += completed->accepted.size();
            }
        });
        threads.last()->start();
    }
    for (QThread *thread : std::as_const(threads)) {
        thread->wait();
        delete thread;
    }
    const double seconds = timer.nsecsElapsed() / 1e9;
    if (failed)
        return 1;
    std::printf("  claimed and completed %lld messages in %.2f s: %.0f msgs/s\n",
                static_cast<long long>(done.load()), seconds, done.load() / seconds);
    return 0;
}
