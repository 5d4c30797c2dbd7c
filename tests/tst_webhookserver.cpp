// The webhook and tracking server over real HTTP on 127.0.0.1, against a real PostgreSQL: signed
// provider payloads are stored once, forged, altered, replayed, stale, unauthenticated and
// malformed requests store nothing, the database going away gives 503 and the retry succeeds
// without counting anything twice; the tracking endpoints; postdeskctl webhooks and events.
#include "db/connection.h"
#include "db/migrator.h"
#include "events/signing.h"
#include "events/webhooksecretrepository.h"
#include "events/webhookserver.h"
#include "secrets/keystore.h"
#include "secrets/secretrepository.h"
#include "testdb.h"
#include "testenv.h"
#include "tracking/tracking.h"

#include <QDir>
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace Events;

namespace {
template<typename R>
QString why(const R &result)
{
    return result ? QString() : result.error().toString();
}

struct HttpReply
{
    int status = 0;
    QByteArray body;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QList<QNetworkReply::RawHeaderPair> headers;
    QByteArray header(const QByteArray &name) const
    {
        for (const auto &h : headers)
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        return {};
    }
};

// Runs pg_ctl on the test cluster (as its owner when we are root).
bool pgCtl(const QStringList &args)
{
    const QString data = TestSupport::requiredEnv("POSTDESK_TEST_PGDATA");
    QString pgCtlPath;
    const QStringList dirs = QDir(QStringLiteral("/usr/lib/postgresql"))
                                     .entryList(QDir::Dirs | QDir::NoDotAndDotDot,
                                                QDir::Name | QDir::Reversed);
    for (const QString &d : dirs) {
        const QString p = QStringLiteral("/usr/lib/postgresql/%1/bin/pg_ctl").arg(d);
        if (QFile::exists(p)) {
            pgCtlPath = p;
            break;
        }
    }
    if (pgCtlPath.isEmpty())
        return false;
    QStringList command{pgCtlPath, QStringLiteral("-D"), data};
    command += args;
    QProcess process;
    if (::getuid() == 0)
        process.start(QStringLiteral("runuser"),
                      QStringList{QStringLiteral("-u"), QStringLiteral("postgres"),
                                  QStringLiteral("--")}
                              + command);
    else
        process.start(command.takeFirst(), command);
    if (!process.waitForFinished(60000))
        return false;
    if (process.exitCode() != 0)
        qWarning() << process.readAllStandardError();
    return process.exitCode() == 0;
}
} // namespace

class TestWebhookServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void sendGridSignedBatch();
    void sendGridRefusals_data();
    void sendGridRefusals();
    void mailgunSignedReplayedAndStale();
    void postmarkBasicAuth();
    void sesNotifications();
    void sesCertificateChecks();
    void sesSubscriptionConfirmation();
    void unknownPathsAndMethods();
    void openPixel();
    void clickRedirect();
    void unsubscribe();
    void databaseRestartMidRequest();
    void ctlWebhooksAndEvents();
    void daemonListens();

private:
    HttpReply request(const QByteArray &method, const QString &path, const QByteArray &body = {},
                      const QList<QPair<QByteArray, QByteArray>> &headers = {});
    HttpReply postSendGrid(const QByteArray &body);
    qint64 scalar(const QString &sql);
    QByteArray sendGridBatch(int n, const QString &prefix);
    void startServer();

    Db::ConnectionInfo m_info;
    std::unique_ptr<Db::Connection> m_db;
    std::optional<Secrets::KeyPair> m_hostKey;
    std::unique_ptr<WebhookServer> m_server;
    quint16 m_port = 0;
    QNetworkAccessManager m_nam;
    QList<QUrl> m_fetched;
    QList<QUrl> m_confirmed;
    QByteArray m_trackingKey;
    const QByteArray m_mailgunKey = "key-7fa8c29e1d0b4e2f9a3c5d6e7f809112";
};

void TestWebhookServer::init()
{
    m_info = TestSupport::freshSchema(QStringLiteral("tst_webhookserver"));
    auto connection = Db::Connection::open(m_info);
    QVERIFY2(connection, qPrintable(why(connection)));
    m_db = std::move(*connection);
    QVERIFY(Db::Migrator(*m_db).migrate());
    // This host's worker key, registered and authorised; the secrets sealed to it.
    auto key = Secrets::KeyPair::generate();
    QVERIFY(key);
    m_hostKey = *key;
    Secrets::SecretRepository secrets(*m_db);
    auto id = secrets.registerKey(QStringLiteral("webhook-host"), key->publicKey());
    QVERIFY(id);
    QVERIFY(secrets.authorise(*id));
    WebhookSecretRepository repository(*m_db);
    QVERIFY(repository.setSecret(QStringLiteral("sendgrid"), QStringLiteral("public_key"),
                                 TestSigning::sendGridPublicKey()));
    QVERIFY(repository.setSecret(QStringLiteral("mailgun"), QStringLiteral("signing_key"),
                                 m_mailgunKey));
    QVERIFY(repository.setSecret(QStringLiteral("postmark"), QStringLiteral("user"), "hooks"));
    QVERIFY(repository.setSecret(QStringLiteral("postmark"), QStringLiteral("password"),
                                 "pm-s3cret"));
    auto tracking = repository.trackingKey(*m_hostKey);
    QVERIFY2(tracking, qPrintable(why(tracking)));
    m_trackingKey = *tracking;
    // Nothing in the database is readable without the key.
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM webhook_secrets WHERE position("
                                   "'pm-s3cret'::bytea in sealed) > 0 OR position("
                                   "'key-7fa8'::bytea in sealed) > 0")),
             0);
    startServer();
}

void TestWebhookServer::startServer()
{
    WebhookServer::Options options;
    const Db::ConnectionInfo info = m_info.with(QStringLiteral("connect_timeout"),
                                                QStringLiteral("3"));
    options.openConnection = [info] { return Db::Connection::open(info); };
    options.hostKey = m_hostKey;
    options.fetchCertificate = [this](const QUrl &url) -> Common::Result<QByteArray> {
        m_fetched.append(url);
        return TestSigning::readData(QStringLiteral("sns-test-cert.pem"));
    };
    options.confirmSubscription = [this](const QUrl &url) { m_confirmed.append(url); };
    m_server = std::make_unique<WebhookServer>(std::move(options));
    auto port = m_server->listen(QHostAddress::LocalHost, 0);
    QVERIFY2(port, qPrintable(why(port)));
    m_port = *port;
}

void TestWebhookServer::cleanup()
{
    m_server.reset();
    m_db.reset();
    m_fetched.clear();
    m_confirmed.clear();
}

qint64 TestWebhookServer::scalar(const QString &sql)
{
    auto row = m_db->exec(sql);
    if (!row) {
        qWarning() << row.error().toString();
        return -1;
    }
    return row->toInt(0, 0);
}

HttpReply TestWebhookServer::request(const QByteArray &method, const QString &path,
                                     const QByteArray &body,
                                     const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)));
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                     QNetworkRequest::ManualRedirectPolicy);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    for (const auto &h : headers)
        req.setRawHeader(h.first, h.second);
    QNetworkReply *reply = m_nam.sendCustomRequest(req, method, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        finished.wait(30000);
    HttpReply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.error = reply->error();
    r.headers = reply->rawHeaderPairs();
    reply->deleteLater();
    return r;
}

QByteArray TestWebhookServer::sendGridBatch(int n, const QString &prefix)
{
    QByteArray body = "[";
    for (int i = 0; i < n; ++i) {
        if (i)
            body += ',';
        body += QStringLiteral("{\"email\":\"r%1@example.org\",\"timestamp\":1700000000,\"event\":"
                               "\"delivered\",\"sg_event_id\":\"%2-%1\",\"sg_message_id\":"
                               "\"%2msg%1.filter0001.16648.5515E0B88.0\"}")
                        .arg(i)
                        .arg(prefix)
                        .toUtf8();
    }
    return body + ']';
}

HttpReply TestWebhookServer::postSendGrid(const QByteArray &body)
{
    const QByteArray ts = QByteArray::number(QDateTime::currentSecsSinceEpoch());
    return request("POST", QStringLiteral("/webhooks/sendgrid"), body,
                   {{"X-Twilio-Email-Event-Webhook-Signature", TestSigning::signSendGrid(ts, body)},
                    {"X-Twilio-Email-Event-Webhook-Timestamp", ts}});
}

void TestWebhookServer::sendGridSignedBatch()
{
    // The documented sample, signed, with one of our messages behind its id.
    QVERIFY(m_db->exec(
            QStringLiteral("INSERT INTO messages (queue_id, recipient, provider_message_id, "
                           "state) VALUES (1, 'example@test.com', '14c5d75ce93', 'sent')")));
    const QByteArray body = TestSigning::readData(QStringLiteral("sendgrid-events.json"));
    HttpReply reply = postSendGrid(body);
    QCOMPARE(reply.status, 200);
    QVERIFY2(reply.body.contains("\"stored\":13"), reply.body.constData());
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events WHERE source = 'sendgrid'")), 13);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events WHERE message_id IS NOT NULL")), 12);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events WHERE type = 'unknown'")), 1);
    // Raw payload kept for audit and replay.
    QCOMPARE(scalar(QStringLiteral(
                     "SELECT count(*) FROM events WHERE raw->>'sg_event_id' IS NOT NULL")),
             13);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM suppressions")), 1); // example@test.com
    // SendGrid retries the same batch: 200 again, nothing new, nothing counted twice.
    reply = postSendGrid(body);
    QCOMPARE(reply.status, 200);
    QVERIFY(reply.body.contains("\"stored\":0"));
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 13);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(delivered) FROM daily_rollups")), 1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(opened) + sum(opened_machine) FROM daily_rollups")),
             2);
}

void TestWebhookServer::sendGridRefusals_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("status");
    QTest::newRow("no signature headers") << 0 << 401;
    QTest::newRow("forged signature (other key)") << 1 << 403;
    QTest::newRow("altered body") << 2 << 403;
    QTest::newRow("altered timestamp") << 3 << 403;
    QTest::newRow("signature not base64") << 4 << 403;
    QTest::newRow("signed but truncated JSON") << 5 << 400;
    QTest::newRow("signed but not an array") << 6 << 400;
}

void TestWebhookServer::sendGridRefusals()
{
    QFETCH(int, kind);
    QFETCH(int, status);
    const QByteArray body = TestSigning::readData(QStringLiteral("sendgrid-events.json"));
    const QByteArray ts = "1700000000";
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray sent = body;
    const QJsonObject v = QJsonDocument::fromJson(
                                  TestSigning::readData(QStringLiteral("sendgrid-vector.json")))
                                  .object();
    switch (kind) {
    case 0:
        break;
    case 1: // SendGrid's published vector is valid, but for another key than ours
        sent = v.value(QStringLiteral("payload")).toString().toUtf8();
        headers = {{"X-Twilio-Email-Event-Webhook-Signature",
                    v.value(QStringLiteral("signature")).toString().toUtf8()},
                   {"X-Twilio-Email-Event-Webhook-Timestamp",
                    v.value(QStringLiteral("timestamp")).toString().toUtf8()}};
        break;
    case 2:
        headers = {{"X-Twilio-Email-Event-Webhook-Signature", TestSigning::signSendGrid(ts, body)},
                   {"X-Twilio-Email-Event-Webhook-Timestamp", ts}};
        sent.replace("\"processed\"", "\"delivered\"");
        break;
    case 3:
        headers = {{"X-Twilio-Email-Event-Webhook-Signature", TestSigning::signSendGrid(ts, body)},
                   {"X-Twilio-Email-Event-Webhook-Timestamp", "1700000001"}};
        break;
    case 4:
        headers = {{"X-Twilio-Email-Event-Webhook-Signature", "not*base64"},
                   {"X-Twilio-Email-Event-Webhook-Timestamp", ts}};
        break;
    case 5:
        sent = body.left(body.size() / 2);
        headers = {{"X-Twilio-Email-Event-Webhook-Signature", TestSigning::signSendGrid(ts, sent)},
                   {"X-Twilio-Email-Event-Webhook-Timestamp", ts}};
        break;
    case 6:
        sent = "{\"event\":\"open\"}";
        headers = {{"X-Twilio-Email-Event-Webhook-Signature", TestSigning::signSendGrid(ts, sent)},
                   {"X-Twilio-Email-Event-Webhook-Timestamp", ts}};
        break;
    }
    const HttpReply reply = request("POST", QStringLiteral("/webhooks/sendgrid"), sent, headers);
    QCOMPARE(reply.status, status);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 0);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM daily_rollups")), 0);
}

void TestWebhookServer::mailgunSignedReplayedAndStale()
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QByteArray body =
            TestSigning::mailgunBody(QStringLiteral("mailgun-delivered.json"), m_mailgunKey, now,
                                     QStringLiteral(
                                             "tok-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    QCOMPARE(request("POST", QStringLiteral("/webhooks/mailgun"), body).status, 200);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events WHERE source = 'mailgun'")), 1);
    // The same request again is a replay.
    QCOMPARE(request("POST", QStringLiteral("/webhooks/mailgun"), body).status, 403);
    // Signed with another key.
    QCOMPARE(request("POST", QStringLiteral("/webhooks/mailgun"),
                     TestSigning::mailgunBody(QStringLiteral("mailgun-opened.json"), "wrong-key",
                                              now, QStringLiteral("tok-2")))
                     .status,
             403);
    // Outside the time window.
    QCOMPARE(request("POST", QStringLiteral("/webhooks/mailgun"),
                     TestSigning::mailgunBody(QStringLiteral("mailgun-opened.json"), m_mailgunKey,
                                              now - 7200, QStringLiteral("tok-3")))
                     .status,
             403);
    // The documented sample's signature is for another key.
    QCOMPARE(request("POST", QStringLiteral("/webhooks/mailgun"),
                     TestSigning::readData(QStringLiteral("mailgun-delivered.json")))
                     .status,
             403);
    // No signature at all; malformed.
    QCOMPARE(request("POST", QStringLiteral("/webhooks/mailgun"), "{\"event-data\":{}}").status,
             401);
    QCOMPARE(request("POST", QStringLiteral("/webhooks/mailgun"), "{\"signature\":").status, 400);
    // An unknown event type is stored and counted, not an error.
    QCOMPARE(request("POST", QStringLiteral("/webhooks/mailgun"),
                     TestSigning::mailgunBody(QStringLiteral("mailgun-unknown.json"), m_mailgunKey,
                                              now, QStringLiteral("tok-4")))
                     .status,
             200);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 2);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(unknown) FROM daily_rollups")), 1);
}

void TestWebhookServer::postmarkBasicAuth()
{
    const QByteArray body = TestSigning::readData(QStringLiteral("postmark-bounce.json"));
    HttpReply reply = request("POST", QStringLiteral("/webhooks/postmark"), body);
    QCOMPARE(reply.status, 401);
    QVERIFY(reply.header("WWW-Authenticate").startsWith("Basic"));
    reply = request("POST", QStringLiteral("/webhooks/postmark"), body,
                    {{"Authorization", "Basic " + QByteArray("hooks:wrong").toBase64()}});
    QCOMPARE(reply.status, 401);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 0);
    const QByteArray auth = "Basic " + QByteArray("hooks:pm-s3cret").toBase64();
    for (const char *file : {"postmark-bounce.json", "postmark-delivery.json", "postmark-open.json",
                             "postmark-click.json", "postmark-spamcomplaint.json",
                             "postmark-subscriptionchange.json"}) {
        reply = request("POST", QStringLiteral("/webhooks/postmark"),
                        TestSigning::readData(QLatin1String(file)), {{"Authorization", auth}});
        QVERIFY2(reply.status == 200, file);
    }
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events WHERE source = 'postmark'")), 6);
    QCOMPARE(request("POST", QStringLiteral("/webhooks/postmark"),
                     "{\"RecordType\":", {{"Authorization", auth}})
                     .status,
             400);
    QCOMPARE(scalar(QStringLiteral(
                     "SELECT count(*) FROM suppressions WHERE address = 'john@example.com'")),
             1);
}

void TestWebhookServer::sesNotifications()
{
    for (int version : {1, 2}) {
        const QJsonObject sns = TestSigning::snsNotification(
                TestSigning::readData(QStringLiteral("ses-bounce.json")).trimmed(),
                QStringLiteral("sns-bounce-v%1").arg(version), version);
        const HttpReply reply = request("POST", QStringLiteral("/webhooks/ses"),
                                        QJsonDocument(sns).toJson(QJsonDocument::Compact),
                                        {{"x-amz-sns-message-type", "Notification"}});
        QCOMPARE(reply.status, 200);
    }
    // Only the configured topics are accepted, once there are some.
    QVERIFY(WebhookSecretRepository(*m_db).setSesTopics(
            {QStringLiteral("arn:aws:sns:eu-west-1:123456789012:other-topic")}));
    startServer(); // (the server reads settings at most once a minute)
    const QJsonObject foreign = TestSigning::snsNotification(
            TestSigning::readData(QStringLiteral("ses-complaint.json")).trimmed(),
            QStringLiteral("sns-foreign"));
    QCOMPARE(request("POST", QStringLiteral("/webhooks/ses"), QJsonDocument(foreign).toJson()).status,
             403);
    QVERIFY(WebhookSecretRepository(*m_db).setSesTopics(
            {QStringLiteral("arn:aws:sns:eu-west-1:123456789012:ses-events")}));
    startServer();
    // One SES event naming two recipients: one event each, per SNS message.
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events WHERE source = 'ses'")), 4);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM suppressions")), 2);
    // The certificate was fetched once, then cached.
    QCOMPARE(m_fetched.size(), 1);
    QCOMPARE(scalar(QStringLiteral(
                     "SELECT count(*) FROM sns_certificates WHERE origin = 'fetched'")),
             1);
    // Altered after signing.
    QJsonObject altered = TestSigning::snsNotification(TestSigning::readData(
                                                               QStringLiteral("ses-delivery.json"))
                                                               .trimmed(),
                                                       QStringLiteral("sns-x"));
    altered.insert(QStringLiteral("MessageId"), QStringLiteral("sns-y"));
    QCOMPARE(request("POST", QStringLiteral("/webhooks/ses"), QJsonDocument(altered).toJson()).status,
             403);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 4);
}

void TestWebhookServer::sesCertificateChecks()
{
    for (const QString url :
         {QStringLiteral(
                  "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000test.pem"),
          QStringLiteral("https://attacker.example/SimpleNotificationService-0000test.pem"),
          QStringLiteral("https://sns.eu-west-1.amazonaws.com.attacker.example/x.pem")}) {
        QJsonObject sns = TestSigning::snsNotification(TestSigning::readData(
                                                               QStringLiteral("ses-delivery.json"))
                                                               .trimmed(),
                                                       QStringLiteral("sns-c"));
        sns.insert(QStringLiteral("SigningCertURL"), url);
        QCOMPARE(request("POST", QStringLiteral("/webhooks/ses"), QJsonDocument(sns).toJson()).status,
                 403);
    }
    QVERIFY(m_fetched.isEmpty()); // nothing fetched from a host that is not SNS
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 0);
    // A pre-loaded certificate is used without fetching.
    WebhookSecretRepository(*m_db).storeCertificate(TestSigning::snsCertUrl(),
                                                    TestSigning::readData(
                                                            QStringLiteral("sns-test-cert.pem")),
                                                    QStringLiteral("preloaded"));
    const QJsonObject sns = TestSigning::snsNotification(TestSigning::readData(
                                                                 QStringLiteral("ses-click.json"))
                                                                 .trimmed(),
                                                         QStringLiteral("sns-d"));
    QCOMPARE(request("POST", QStringLiteral("/webhooks/ses"), QJsonDocument(sns).toJson()).status,
             200);
    QVERIFY(m_fetched.isEmpty());
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events WHERE type = 'clicked' AND url "
                                   "LIKE 'https://docs.aws%'")),
             1);
}

void TestWebhookServer::sesSubscriptionConfirmation()
{
    const QByteArray subscribe = "https://sns.eu-west-1.amazonaws.com/"
                                 "?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:"
                                 "123456789012:ses-events&Token=2336412f37";
    QJsonObject o{{QStringLiteral("Type"), QStringLiteral("SubscriptionConfirmation")},
                  {QStringLiteral("MessageId"),
                   QStringLiteral("165545c9-2a5c-472c-8df2-7ff2be2b3b1b")},
                  {QStringLiteral("Token"), QStringLiteral("2336412f37")},
                  {QStringLiteral("TopicArn"),
                   QStringLiteral("arn:aws:sns:eu-west-1:123456789012:ses-events")},
                  {QStringLiteral("Message"),
                   QStringLiteral("You have chosen to subscribe to the topic.")},
                  {QStringLiteral("SubscribeURL"), QString::fromLatin1(subscribe)},
                  {QStringLiteral("Timestamp"), QStringLiteral("2012-04-26T20:45:04.751Z")},
                  {QStringLiteral("SignatureVersion"), QStringLiteral("2")},
                  {QStringLiteral("SigningCertURL"), TestSigning::snsCertUrl()}};
    QByteArray toSign;
    for (const char *f :
         {"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"})
        toSign += QByteArray(f) + '\n' + o.value(QLatin1String(f)).toString().toUtf8() + '\n';
    o.insert(QStringLiteral("Signature"),
             QString::fromLatin1(
                     TestSigning::sign(TestSigning::readData(QStringLiteral("sns-test-key.pem")),
                                       EVP_sha256(), toSign)
                             .toBase64()));
    QCOMPARE(request("POST", QStringLiteral("/webhooks/ses"), QJsonDocument(o).toJson()).status,
             200);
    QCOMPARE(m_confirmed.size(), 1);
    QCOMPARE(m_confirmed.first().toEncoded(), QUrl(QString::fromLatin1(subscribe)).toEncoded());
    // A forged confirmation pointing elsewhere is refused before anything is visited.
    o.insert(QStringLiteral("SubscribeURL"), QStringLiteral("https://attacker.example/confirm"));
    QCOMPARE(request("POST", QStringLiteral("/webhooks/ses"), QJsonDocument(o).toJson()).status,
             403);
    QCOMPARE(m_confirmed.size(), 1);
}

void TestWebhookServer::unknownPathsAndMethods()
{
    QCOMPARE(request("GET", QStringLiteral("/webhooks/sendgrid")).status, 405);
    QCOMPARE(request("GET", QStringLiteral("/nothing")).status, 404);
    QCOMPARE(request("POST", QStringLiteral("/webhooks/other"), "{}").status, 404);
}

void TestWebhookServer::openPixel()
{
    QVERIFY(m_db->exec(
            QStringLiteral("INSERT INTO messages (queue_id, recipient, state, sent_at) VALUES "
                           "(3, 'reader@example.org', 'sent', now() - interval '1 hour')")));
    const qint64 id = scalar(QStringLiteral("SELECT max(id) FROM messages"));
    const QString url = Tracking::openUrl(id, QStringLiteral("http://127.0.0.1"), m_trackingKey);
    const QString path = QUrl(url).path();
    HttpReply reply = request("GET", path, {}, {{"User-Agent", "Mozilla/5.0 (Macintosh)"}});
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.header("Content-Type"), QByteArray("image/gif"));
    QVERIFY(reply.header("Cache-Control").contains("no-store"));
    QCOMPARE(reply.body, WebhookServer::openPixel());
    QVERIFY(reply.body.startsWith("GIF89a"));
    // Reloading the pixel is not another open.
    QCOMPARE(request("GET", path).status, 200);
    QCOMPARE(scalar(QStringLiteral(
                     "SELECT count(*) FROM events WHERE type = 'opened' AND source = 'tracking'")),
             1);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE opened_at IS NOT NULL")), 1);
    QCOMPARE(request("GET", QStringLiteral("/t/o/forged.token")).status, 400);
}

void TestWebhookServer::clickRedirect()
{
    QVERIFY(m_db->exec(QStringLiteral("INSERT INTO messages (queue_id, recipient, state) VALUES "
                                      "(3, 'reader@example.org', 'sent')")));
    const qint64 id = scalar(QStringLiteral("SELECT max(id) FROM messages"));
    const QString target = QStringLiteral("https://example.org/offer?a=1&b=%C3%A9");
    const QString url = Tracking::clickUrl(id, target, QStringLiteral("http://127.0.0.1"),
                                           m_trackingKey);
    HttpReply reply = request("GET", QUrl(url).path());
    QCOMPARE(reply.status, 302);
    QCOMPARE(QUrl::fromEncoded(reply.header("Location")), QUrl(target));
    QCOMPARE(scalar(QStringLiteral(
                     "SELECT count(*) FROM events WHERE type = 'clicked' AND NOT machine")),
             1);
    // A scanner's click is recorded as a bot click.
    reply = request("GET", QUrl(url).path(), {},
                    {{"User-Agent", "Mozilla/5.0 (compatible; Barracuda Sentinel)"}});
    QCOMPARE(reply.status, 302);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(clicked_bot) FROM daily_rollups")), 1);
    // Altered or forged tokens: 400 and no redirect to anywhere.
    const QString token = QUrl(url).path().mid(5);
    const QString evilPayload = QString::fromLatin1(
            QByteArray(QByteArray("c") + QByteArray::number(id) + "|https://evil.example/")
                    .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    for (const QString &bad : {QString(evilPayload + token.mid(token.indexOf(u'.'))),
                               QString(token.left(token.size() - 3) + QStringLiteral("AAA")),
                               QStringLiteral("aHR0cHM6Ly9ldmlsLmV4YW1wbGUv")}) {
        reply = request("GET", QStringLiteral("/t/c/") + bad);
        QCOMPARE(reply.status, 400);
        QVERIFY(reply.header("Location").isEmpty());
    }
}

void TestWebhookServer::unsubscribe()
{
    QVERIFY(m_db->exec(QStringLiteral(
            "INSERT INTO messages (queue_id, recipient, state) VALUES "
            "(3, 'Leaver@Example.org', 'sent'), (3, 'leaver@example.org', 'pending')")));
    const qint64 id = scalar(QStringLiteral("SELECT min(id) FROM messages"));
    const Tracking::UnsubscribeHeaders headers =
            Tracking::unsubscribeHeaders(id, QStringLiteral("http://127.0.0.1"), m_trackingKey);
    const QString path =
            QUrl(QString::fromLatin1(
                         headers.listUnsubscribe.mid(1, headers.listUnsubscribe.size() - 2)))
                    .path();
    // A link scanner GETs the link: a page, nobody unsubscribed.
    HttpReply reply = request("GET", path);
    QCOMPARE(reply.status, 200);
    QVERIFY(reply.body.contains("<form method=\"post\""));
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM suppressions")), 0);
    // A POST without the one-click body does nothing either.
    QCOMPARE(request("POST", path, "hello", {{"Content-Type", "application/x-www-form-urlencoded"}})
                     .status,
             400);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM suppressions")), 0);
    // RFC 8058 one-click POST.
    reply = request("POST", path, "List-Unsubscribe=One-Click",
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
    QCOMPARE(reply.status, 200);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM suppressions WHERE address = "
                                   "'leaver@example.org' AND reason = 'unsubscribe'")),
             1);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state = 'cancelled'")), 1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(unsubscribed) FROM daily_rollups")), 1);
    // Again: still one.
    QCOMPARE(request("POST", path, "List-Unsubscribe=One-Click").status, 200);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(unsubscribed) FROM daily_rollups")), 1);
    QCOMPARE(request("GET", QStringLiteral("/u/forged.token")).status, 400);
}

void TestWebhookServer::databaseRestartMidRequest()
{
    // Batches large enough to be stored over two connections, both lost with the server.
    const QByteArray first = sendGridBatch(600, QStringLiteral("a"));
    QCOMPARE(postSendGrid(first).status, 200); // the server now holds open connections
    QCOMPARE(scalar(QStringLiteral("SELECT count(DISTINCT xmin::text) FROM events")), 2);
    QVERIFY(pgCtl({QStringLiteral("-m"), QStringLiteral("fast"), QStringLiteral("-w"),
                   QStringLiteral("stop")}));
    const QByteArray second = sendGridBatch(600, QStringLiteral("b"));
    QElapsedTimer timer;
    timer.start();
    const HttpReply down = postSendGrid(second);
    // Start the database again before checking, whatever happened.
    const QString conninfo = TestSupport::requiredEnv("POSTDESK_TEST_DB");
    const QString sock =
            QRegularExpression(QStringLiteral("host=(\\S+)")).match(conninfo).captured(1);
    const QString port =
            QRegularExpression(QStringLiteral("port=(\\d+)")).match(conninfo).captured(1);
    const bool restarted = pgCtl({QStringLiteral("-w"), QStringLiteral("-l"),
                                  QDir::tempPath() + QStringLiteral("/postdesk-tst-webhook-pg.log"),
                                  QStringLiteral("-o"),
                                  QStringLiteral("-k %1 -p %2 -c listen_addresses=127.0.0.1 -c "
                                                 "max_connections=300 -c fsync=off")
                                          .arg(sock, port),
                                  QStringLiteral("start")});
    QVERIFY(restarted);
    QCOMPARE(down.status, 503);
    QVERIFY(timer.elapsed() < 15000);
    QVERIFY(!down.header("Retry-After").isEmpty());
    // Our own connection died with the server.
    auto again = Db::Connection::open(m_info);
    QVERIFY2(again, qPrintable(why(again)));
    m_db = std::move(*again);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 600);
    // The provider retries: accepted, and the first batch sent again is not counted twice.
    QCOMPARE(postSendGrid(second).status, 200);
    QCOMPARE(postSendGrid(first).status, 200);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 1200);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(delivered) FROM daily_rollups")), 1200);
}

void TestWebhookServer::ctlWebhooksAndEvents()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString db = m_info.toConnectionString();
    // Set from the command line: needs an authorised key (there is one) and never echoes secrets.
    QFile key(dir.filePath(QStringLiteral("mailgun.key")));
    QVERIFY(key.open(QIODevice::WriteOnly));
    key.write("key-from-the-cli-0123456789\n");
    key.close();
    TestSupport::ProgramRun run = TestSupport::runCtl(
            {QStringLiteral("webhooks"), QStringLiteral("set"), QStringLiteral("mailgun"),
             QStringLiteral("--signing-key-file"), key.fileName(), QStringLiteral("--db"), db});
    QVERIFY2(run.exitCode == 0, qPrintable(run.all()));
    QVERIFY(!run.all().contains(QLatin1String("key-from-the-cli")));
    QCOMPARE(WebhookSecretRepository(*m_db)
                     .openSecret(QStringLiteral("mailgun"), QStringLiteral("signing_key"),
                                 *m_hostKey)
                     .value_or(QByteArray()),
             QByteArray("key-from-the-cli-0123456789"));
    QFile pub(dir.filePath(QStringLiteral("sendgrid.pub")));
    QVERIFY(pub.open(QIODevice::WriteOnly));
    pub.write("not a key");
    pub.close();
    run = TestSupport::runCtl({QStringLiteral("webhooks"), QStringLiteral("set"),
                               QStringLiteral("sendgrid"), QStringLiteral("--public-key"),
                               pub.fileName(), QStringLiteral("--db"), db});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(QLatin1String("webhooks set sendgrid")), qPrintable(run.all()));
    run = TestSupport::runCtl(
            {QStringLiteral("webhooks"), QStringLiteral("set"), QStringLiteral("ses"),
             QStringLiteral("--certificate"),
             QStringLiteral("http://evil.example/x.pem=") + dir.filePath(QStringLiteral("x")),
             QStringLiteral("--db"), db});
    QCOMPARE(run.exitCode, 1);
    run = TestSupport::runCtl({QStringLiteral("webhooks"), QStringLiteral("set"),
                               QStringLiteral("tracking"), QStringLiteral("--base-url"),
                               QStringLiteral("https://t.example.org/"), QStringLiteral("--db"),
                               db});
    QVERIFY2(run.exitCode == 0, qPrintable(run.all()));
    QCOMPARE(WebhookSecretRepository(*m_db).trackingBaseUrl().value_or(QString()),
             QStringLiteral("https://t.example.org"));
    run = TestSupport::runCtl(
            {QStringLiteral("webhooks"), QStringLiteral("status"), QStringLiteral("--db"), db});
    QVERIFY2(run.exitCode == 0 && run.out.contains(QLatin1String("mailgun signing_key: set")),
             qPrintable(run.all()));

    // Import saved payloads (a SendGrid body; Postmark one per line), twice: stored once.
    const QString postmark = dir.filePath(QStringLiteral("postmark.jsonl"));
    QFile lines(postmark);
    QVERIFY(lines.open(QIODevice::WriteOnly));
    for (const char *f : {"postmark-bounce.json", "postmark-click.json"})
        lines.write(QJsonDocument::fromJson(TestSigning::readData(QLatin1String(f)))
                            .toJson(QJsonDocument::Compact)
                    + '\n');
    lines.close();
    for (int i = 0; i < 2; ++i) {
        run = TestSupport::runCtl(
                {QStringLiteral("events"), QStringLiteral("import"),
                 QStringLiteral(POSTDESK_TEST_DATA_DIR "/events/sendgrid-events.json"),
                 QStringLiteral("--provider"), QStringLiteral("sendgrid"), QStringLiteral("--db"),
                 db});
        QVERIFY2(run.exitCode == 0, qPrintable(run.all()));
        QVERIFY2(run.out.contains(i == 0 ? QLatin1String("13 new") : QLatin1String("0 new")),
                 qPrintable(run.out));
        run = TestSupport::runCtl({QStringLiteral("events"), QStringLiteral("import"), postmark,
                                   QStringLiteral("--provider"), QStringLiteral("postmark"),
                                   QStringLiteral("--db"), db});
        QVERIFY2(run.exitCode == 0, qPrintable(run.all()));
    }
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 15);
    run = TestSupport::runCtl({QStringLiteral("events"), QStringLiteral("import"), postmark,
                               QStringLiteral("--provider"), QStringLiteral("nope"),
                               QStringLiteral("--db"), db});
    QCOMPARE(run.exitCode, 1);

    run = TestSupport::runCtl({QStringLiteral("events"), QStringLiteral("export"),
                               QStringLiteral("--format"), QStringLiteral("jsonl"),
                               QStringLiteral("--db"), db});
    QVERIFY2(run.exitCode == 0, qPrintable(run.all()));
    const QStringList out = run.out.split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(out.size(), 15);
    bool sawClick = false, sawHardBounce = false, sawMachine = false;
    for (const QString &line : out) {
        const QJsonObject o = QJsonDocument::fromJson(line.toUtf8()).object();
        for (const char *field : {"type", "subtype", "machine", "provider", "recipient",
                                  "provider_message_id", "message_id", "occurred_at", "url"})
            QVERIFY2(o.contains(QLatin1String(field)), field);
        QVERIFY(o.value(QStringLiteral("occurred_at")).toString().endsWith(u'Z'));
        auto text = [&](const char *k) { return o.value(QLatin1String(k)).toString(); };
        if (text("type") == u"clicked" && text("provider") == u"postmark")
            sawClick = text("url") == u"https://example.com";
        if (text("type") == u"bounced" && text("subtype") == u"hard")
            sawHardBounce = true;
        if (o.value(QStringLiteral("machine")).toBool())
            sawMachine = true;
    }
    QVERIFY(sawClick && sawHardBounce && sawMachine);
    run = TestSupport::runCtl({QStringLiteral("events"), QStringLiteral("export"),
                               QStringLiteral("--format"), QStringLiteral("csv"),
                               QStringLiteral("--since"), QStringLiteral("2019-01-01"),
                               QStringLiteral("--db"), db});
    QVERIFY2(run.exitCode == 0, qPrintable(run.all()));
    // Postmark's samples are from 2017 and 2019; SendGrid's from 2017.
    QVERIFY(run.out.startsWith(QLatin1String("id,type,subtype,machine,provider,recipient,provider_"
                                             "message_id,message_id,occurred_at,url\n")));
    QCOMPARE(run.out.count(u'\n'), 2); // header + the 2019 bounce
}

// postdeskd --listen serves the same endpoints, with the host key from --key-dir.
void TestWebhookServer::daemonListens()
{
    QTemporaryDir keys;
    QVERIFY(keys.isValid());
    Secrets::FileKeyStore store(keys.path());
    QVERIFY(store.store(QStringLiteral("worker-key"), m_hostKey->privateKey()));
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 port = probe.serverPort();
    probe.close();
    QProcess daemon;
    daemon.setProcessChannelMode(QProcess::MergedChannels);
    daemon.start(TestSupport::programPath(QStringLiteral("postdeskd")),
                 {QStringLiteral("--db"), m_info.toConnectionString(), QStringLiteral("--listen"),
                  QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("--key-dir"),
                  keys.path()});
    QVERIFY(daemon.waitForStarted());
    const quint16 saved = m_port;
    m_port = port;
    const QByteArray auth = "Basic " + QByteArray("hooks:pm-s3cret").toBase64();
    HttpReply reply;
    QElapsedTimer waited;
    waited.start();
    do {
        QTest::qWait(100);
        reply = request("POST", QStringLiteral("/webhooks/postmark"),
                        TestSigning::readData(QStringLiteral("postmark-delivery.json")),
                        {{"Authorization", auth}});
    } while (reply.status == 0 && waited.elapsed() < 20000);
    m_port = saved;
    daemon.terminate();
    QVERIFY(daemon.waitForFinished(20000));
    QVERIFY2(reply.status == 200, daemon.readAll().constData());
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events WHERE source = 'postmark'")), 1);
    // A bad --listen value is refused with a message that says what to write.
    QProcess bad;
    bad.start(TestSupport::programPath(QStringLiteral("postdeskd")),
              {QStringLiteral("--db"), m_info.toConnectionString(), QStringLiteral("--listen"),
               QStringLiteral("localhost")});
    QVERIFY(bad.waitForFinished(20000));
    QCOMPARE(bad.exitCode(), 2);
    QVERIFY(bad.readAllStandardError().contains("ADDRESS:PORT"));
}

QTEST_GUILESS_MAIN(TestWebhookServer)
#include "tst_webhookserver.moc"
