// The send workers in this process against a real PostgreSQL and a real SMTP server (aiosmtpd on
// 127.0.0.1): rendering and sending each message once, suppressions, retries and dead letters as
// the receiving server classifies them, failover when the primary provider is down and its return
// when it recovers, and a stop that gives back what was not sent.
#include "db/connection.h"
#include "db/migrator.h"
#include "delivery/workerpool.h"
#include "events/webhooksecretrepository.h"
#include "mime/messagereader.h"
#include "providers/providerrepository.h"
#include "queue/queuerepository.h"
#include "queue/suppressionrepository.h"
#include "queue/templaterepository.h"
#include "secrets/sealedbox.h"
#include "secrets/secretrepository.h"
#include "smtp/smtppeer.h"
#include "testdb.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

namespace {
template<typename R>
QString why(const R &result)
{
    return result ? QString() : result.error().toString();
}
} // namespace

class TestDelivery : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void sandboxSendsEachMessageOnce();
    void suppressedRecipientsAreNeverSent();
    void smtpRetriesAndDeadLettersAsClassified();
    void failsOverAndReturnsWhenThePrimaryRecovers();
    void aTemplateThatDoesNotRenderIsDeadLettered();
    void stopGivesBackWhatWasNotSent();
    void trackedQueuesGetTrackingLinksAndOneClickUnsubscribe();

private:
    qint64 scalar(const QString &sql, const QVariantList &params = {});
    Providers::ProviderRecord addProvider(const QString &name, const QString &url, int priority,
                                          const QString &limits = {});
    void enqueue(int count, const QString &prefix,
                 const QString &queue = QStringLiteral("transactional"), int maxAttempts = 0);
    std::unique_ptr<Delivery::WorkerPool> startPool(
            int workers, int concurrency = 16, std::shared_ptr<const Secrets::KeyPair> key = {});
    void stopPool(std::unique_ptr<Delivery::WorkerPool> &pool);

    Db::ConnectionInfo m_info;
    std::unique_ptr<Db::Connection> m_db;
    qint64 m_templateVersion = 0;
};

qint64 TestDelivery::scalar(const QString &sql, const QVariantList &params)
{
    auto result = m_db->exec(sql, params);
    if (!result) {
        qWarning() << why(result);
        return -1;
    }
    return result->toInt(0, 0);
}

void TestDelivery::init()
{
    m_info = TestSupport::freshSchema(QStringLiteral("tst_delivery"));
    auto connection = Db::Connection::open(m_info);
    QVERIFY2(connection, qPrintable(why(connection)));
    m_db = std::move(*connection);
    auto applied = Db::Migrator(*m_db).migrate();
    QVERIFY2(applied, qPrintable(why(applied)));
    Queue::TemplateRepository templates(*m_db);
    Queue::TemplateRepository::NewVersion version;
    version.name = QStringLiteral("welcome");
    version.subject = QStringLiteral("Welcome, {{first_name}}");
    version.htmlBody = QStringLiteral("<h1>Hello {{first_name}}</h1><p>Your code is {{code}}.</p>");
    auto put = templates.put(version);
    QVERIFY2(put, qPrintable(why(put)));
    m_templateVersion = put->id;
    // Retries come back within a second or two here.
    QVERIFY(m_db->exec(QStringLiteral("UPDATE queues SET retry_base_seconds = 1, "
                                      "retry_cap_seconds = 2")));
}

void TestDelivery::cleanup()
{
    m_db.reset();
}

Providers::ProviderRecord TestDelivery::addProvider(const QString &name, const QString &url,
                                                    int priority, const QString &limits)
{
    Providers::ProviderRecord record;
    record.name = name;
    record.type = url.startsWith(u"sandbox") ? QStringLiteral("sandbox") : QStringLiteral("smtp");
    record.priority = priority;
    record.options = QJsonObject{{QStringLiteral("url"), url},
                                 {QStringLiteral("from"),
                                  QStringLiteral("News <news@example.org>")}};
    record.limits = *Providers::RateLimits::parse(limits);
    Providers::ProviderRepository providers(*m_db);
    auto added = providers.add(record);
    if (!added)
        qWarning() << why(added);
    return added ? *added : Providers::ProviderRecord{};
}

void TestDelivery::enqueue(int count, const QString &prefix, const QString &queue, int maxAttempts)
{
    QList<Queue::NewMessage> batch;
    for (int i = 0; i < count; ++i) {
        Queue::NewMessage m;
        m.queue = queue;
        m.recipient = QStringLiteral("%1%2@example.net").arg(prefix).arg(i);
        m.templateVersionId = m_templateVersion;
        m.data = QJsonObject{{QStringLiteral("first_name"), QStringLiteral("Ada %1").arg(i)},
                             {QStringLiteral("code"), QStringLiteral("<%1>").arg(i)}};
        m.maxAttempts = maxAttempts;
        batch.append(m);
    }
    Queue::QueueRepository repository(*m_db);
    auto queued = repository.enqueueBatch(batch);
    QVERIFY2(queued, qPrintable(why(queued)));
    QCOMPARE(queued->inserted, count);
}

std::unique_ptr<Delivery::WorkerPool> TestDelivery::startPool(
        int workers, int concurrency, std::shared_ptr<const Secrets::KeyPair> key)
{
    Delivery::WorkerSettings settings;
    settings.hostKey = std::move(key);
    settings.database = m_info;
    settings.concurrency = concurrency;
    settings.leaseSeconds = 30;
    settings.pollIntervalMs = 200;
    settings.providerRefreshMs = 500;
    auto pool = std::make_unique<Delivery::WorkerPool>(settings, workers);
    pool->start();
    return pool;
}

void TestDelivery::stopPool(std::unique_ptr<Delivery::WorkerPool> &pool)
{
    QSignalSpy stopped(pool.get(), &Delivery::WorkerPool::stopped);
    pool->stop(5000);
    QVERIFY(stopped.count() > 0 || stopped.wait(20'000));
    pool.reset();
}

void TestDelivery::sandboxSendsEachMessageOnce()
{
    const auto box = addProvider(QStringLiteral("box"), QStringLiteral("sandbox:"), 10);
    QVERIFY(box.id > 0);
    enqueue(300, QStringLiteral("user"));
    auto pool = startPool(3);
    QTRY_COMPARE_WITH_TIMEOUT(scalar(QStringLiteral(
                                      "SELECT count(*) FROM messages WHERE state = 'sent'")),
                              300, 60'000);
    stopPool(pool);

    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM sandbox_messages")), 300);
    QCOMPARE(scalar(QStringLiteral("SELECT count(DISTINCT message_id) FROM sandbox_messages")), 300);
    // Each message went to its own recipient, with the Message-ID recorded on both sides.
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages m JOIN sandbox_messages s ON "
                                   "s.message_id = m.id "
                                   "WHERE s.recipients = ARRAY[m.recipient] "
                                   "  AND s.message_id_header = m.message_id_header "
                                   "  AND m.provider_id = $1 AND m.send_ms IS NOT NULL"),
                    {box.id}),
             300);
    // Rendered with the recipient's data, HTML-escaped; the subject is the rendered subject.
    auto sample = m_db->exec(
            QStringLiteral("SELECT convert_from(s.raw, 'UTF8'), s.subject, m.message_id_header "
                           "FROM sandbox_messages s JOIN messages m ON m.id = s.message_id "
                           "WHERE m.recipient = 'user7@example.net'"));
    QVERIFY(sample && sample->rowCount() == 1);
    const QString raw = sample->text(0, 0);
    QCOMPARE(sample->text(0, 1), QStringLiteral("Welcome, Ada 7"));
    QVERIFY2(raw.contains(u"&lt;7&gt;"), qPrintable(raw.left(2000)));
    QVERIFY(raw.contains(u"Message-ID: <" + sample->text(0, 2) + u">"));
    QVERIFY(raw.contains(u"From: News <news@example.org>"));
    // The day's counters moved with the messages.
    QCOMPARE(scalar(QStringLiteral("SELECT sum(sent) FROM daily_rollups WHERE provider_id = $1"),
                    {box.id}),
             300);
    // Each worker said it was alive, and that it stopped.
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM workers WHERE stopped_at IS NOT NULL")), 3);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(sent) FROM workers")), 300);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state = 'processing'")), 0);
}

void TestDelivery::suppressedRecipientsAreNeverSent()
{
    addProvider(QStringLiteral("box"), QStringLiteral("sandbox:"), 10);
    Queue::SuppressionRepository suppressions(*m_db);
    QVERIFY(suppressions.add(QStringLiteral("blocked3@example.net"), QStringLiteral("complaint")));
    QVERIFY(suppressions.add(QStringLiteral("BLOCKED5@example.net"), QStringLiteral("manual")));
    enqueue(10, QStringLiteral("blocked"));
    auto pool = startPool(2);
    QTRY_COMPARE_WITH_TIMEOUT(
            scalar(QStringLiteral(
                    "SELECT count(*) FROM messages WHERE state IN ('sent', 'suppressed')")),
            10, 30'000);
    stopPool(pool);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state = 'suppressed'")), 2);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM sandbox_messages WHERE recipients && "
                                   "ARRAY['blocked3@example.net', 'blocked5@example.net']")),
             0);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM sandbox_messages")), 8);
}

void TestDelivery::smtpRetriesAndDeadLettersAsClassified()
{
    SmtpTest::Peer peer;
    QVERIFY2(peer.startPython(QStringLiteral("aiosmtpd_server.py"),
                              {QStringLiteral("--reject-rcpt"), QStringLiteral("unknown"),
                               QStringLiteral("--tempfail-rcpt"), QStringLiteral("busy")}),
             qPrintable(peer.error()));
    const auto smtp = addProvider(QStringLiteral("relay"),
                                  QStringLiteral("smtp://127.0.0.1:%1").arg(peer.port()), 10);
    QVERIFY(smtp.id > 0);
    enqueue(3, QStringLiteral("ok"), QStringLiteral("transactional"), 2);
    enqueue(2, QStringLiteral("unknown"), QStringLiteral("transactional"), 2);
    enqueue(2, QStringLiteral("busy"), QStringLiteral("transactional"), 2);
    auto pool = startPool(1);
    QTRY_COMPARE_WITH_TIMEOUT(
            scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state IN ('sent', 'dead')")),
            7, 60'000);
    stopPool(pool);

    QCOMPARE(peer.messageCount(), 3);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state = 'sent' "
                                   "AND recipient LIKE 'ok%' AND attempts = 1")),
             3);
    // 550: permanent at once, on the first attempt.
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE recipient LIKE 'unknown%' "
                                   "AND state = 'dead' AND dead_reason = 'permanent_error' "
                                   "AND attempts = 1 AND last_error_class = 'permanent' "
                                   "AND last_error LIKE '%550%'")),
             2);
    // 450: retried, then dead once the attempts ran out.
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE recipient LIKE 'busy%' "
                                   "AND state = 'dead' AND dead_reason = 'attempts_exhausted' "
                                   "AND attempts = 2 AND last_error_class = 'transient' "
                                   "AND last_error LIKE '%450%'")),
             2);
    // A refused recipient is not the provider's fault.
    QCOMPARE(scalar(QStringLiteral("SELECT consecutive_failures FROM providers WHERE id = $1"),
                    {smtp.id}),
             0);
    // The receiver sees the Message-ID we recorded.
    QSet<QString> received;
    for (int n = 1; n <= peer.messageCount(); ++n) {
        const QByteArray eml = peer.message(n);
        const qsizetype at = eml.indexOf("Message-ID: <");
        QVERIFY(at >= 0);
        received.insert(QString::fromLatin1(eml.mid(at + 13, eml.indexOf('>', at) - at - 13)));
    }
    auto recorded = m_db->exec(QStringLiteral(
            "SELECT message_id_header FROM messages WHERE state = 'sent' ORDER BY id"));
    QVERIFY(recorded);
    for (int r = 0; r < recorded->rowCount(); ++r)
        QVERIFY2(received.contains(recorded->text(r, 0)), qPrintable(recorded->text(r, 0)));
}

void TestDelivery::failsOverAndReturnsWhenThePrimaryRecovers()
{
    // A port nothing listens on: connections are refused.
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    const auto primary =
            addProvider(QStringLiteral("primary"),
                        QStringLiteral("smtp://127.0.0.1:%1?connect_timeout=2").arg(port), 10);
    const auto backup = addProvider(QStringLiteral("backup"), QStringLiteral("sandbox:"), 20);
    QVERIFY(primary.id > 0 && backup.id > 0);

    enqueue(30, QStringLiteral("first"));
    auto pool = startPool(1, 8);
    QTRY_COMPARE_WITH_TIMEOUT(scalar(QStringLiteral(
                                      "SELECT count(*) FROM messages WHERE state = 'sent'")),
                              30, 60'000);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE provider_id = $1"),
                    {backup.id}),
             30);
    auto health = m_db->exec(QStringLiteral("SELECT health, consecutive_failures >= 3, "
                                            "circuit_open_until IS NOT NULL, health_reason "
                                            "FROM providers WHERE id = $1"),
                             {primary.id});
    QVERIFY(health);
    QCOMPARE(health->text(0, 0), QStringLiteral("down"));
    QVERIFY(health->toBool(0, 1));
    QVERIFY(health->toBool(0, 2));
    QVERIFY2(!health->text(0, 3).isEmpty(), "the reason is recorded");

    // The primary comes back; once its circuit lets a probe through, traffic returns to it.
    SmtpTest::Peer peer;
    QVERIFY2(peer.startPython(QStringLiteral("aiosmtpd_server.py"),
                              {QStringLiteral("--port"), QString::number(port)}),
             qPrintable(peer.error()));
    QVERIFY(m_db->exec(QStringLiteral("UPDATE providers SET circuit_open_until = now() "
                                      "WHERE id = $1"),
                       {primary.id}));
    // Traffic goes on; the first message after the back-off is the probe.
    int queued = 30;
    QElapsedTimer clock;
    clock.start();
    while (scalar(QStringLiteral("SELECT count(*) FROM messages WHERE provider_id = $1 AND state = "
                                 "'sent'"),
                  {primary.id})
                   == 0
           && clock.elapsed() < 30'000) {
        enqueue(2, QStringLiteral("second%1-").arg(queued));
        queued += 2;
        QTest::qWait(300);
    }
    QVERIFY2(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE provider_id = $1 AND state "
                                   "= 'sent'"),
                    {primary.id})
                     > 0,
             "traffic returned to the primary");
    QTRY_COMPARE_WITH_TIMEOUT(m_db->exec(QStringLiteral(
                                                 "SELECT health FROM providers WHERE id = $1"),
                                         {primary.id})
                                      ->text(0, 0),
                              QStringLiteral("healthy"), 30'000);
    // Once healthy, it takes the traffic again: new messages go to it, not to the backup.
    const qint64 backupBefore =
            scalar(QStringLiteral("SELECT count(*) FROM messages WHERE provider_id = $1"),
                   {backup.id});
    enqueue(10, QStringLiteral("third"));
    queued += 10;
    QTRY_COMPARE_WITH_TIMEOUT(scalar(QStringLiteral(
                                      "SELECT count(*) FROM messages WHERE state = 'sent'")),
                              qint64(queued), 60'000);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE provider_id = $1"),
                    {backup.id}),
             backupBefore);
    stopPool(pool);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE provider_id = $1"),
                    {primary.id}),
             qint64(peer.messageCount()));
}

void TestDelivery::aTemplateThatDoesNotRenderIsDeadLettered()
{
    addProvider(QStringLiteral("box"), QStringLiteral("sandbox:"), 10);
    Queue::QueueRepository queue(*m_db);
    Queue::NewMessage bad;
    bad.queue = QStringLiteral("system");
    bad.recipient = QStringLiteral("not an address");
    bad.subject = QStringLiteral("Hi");
    bad.htmlBody = QStringLiteral("<p>Hi</p>");
    auto queued = queue.enqueue(bad);
    if (!queued) {
        // Refused at the door is as good: nothing bad is stored.
        QVERIFY(!queued.error().message.isEmpty());
        return;
    }
    auto pool = startPool(1);
    QTRY_COMPARE_WITH_TIMEOUT(scalar(QStringLiteral(
                                      "SELECT count(*) FROM messages WHERE state = 'dead'")),
                              1, 30'000);
    stopPool(pool);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state = 'dead' "
                                   "AND dead_reason = 'permanent_error' AND attempts = 1")),
             1);
}

void TestDelivery::stopGivesBackWhatWasNotSent()
{
    // One send a second: most of the claimed batch is still waiting when the worker stops.
    addProvider(QStringLiteral("slow"), QStringLiteral("sandbox:"), 10, QStringLiteral("1/s"));
    enqueue(20, QStringLiteral("later"));
    auto pool = startPool(1, 20);
    QTRY_VERIFY_WITH_TIMEOUT(scalar(QStringLiteral(
                                     "SELECT count(*) FROM messages WHERE state = 'sent'"))
                                     >= 1,
                             20'000);
    stopPool(pool);
    const qint64 sent = scalar(
            QStringLiteral("SELECT count(*) FROM messages WHERE state = 'sent'"));
    QVERIFY(sent >= 1 && sent < 20);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state = 'processing'")), 0);
    // Given back as they were: pending, the attempt not counted.
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state = 'pending' "
                                   "AND attempts = 0")),
             20 - sent);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM sandbox_messages")), sent);
}

void TestDelivery::trackedQueuesGetTrackingLinksAndOneClickUnsubscribe()
{
    // A worker host with its key authorised, and tracking set up.
    auto key = Secrets::KeyPair::generate();
    QVERIFY(key);
    Secrets::SecretRepository secrets(*m_db);
    auto id = secrets.registerKey(QStringLiteral("this-host"), key->publicKey());
    QVERIFY(id && secrets.authorise(*id));
    Events::WebhookSecretRepository tracking(*m_db);
    QVERIFY(tracking.setTrackingBaseUrl(QStringLiteral("https://t.example.org")));
    addProvider(QStringLiteral("box"), QStringLiteral("sandbox:"), 10);

    Queue::QueueRepository queue(*m_db);
    for (const QString &name : {QStringLiteral("marketing"), QStringLiteral("transactional")}) {
        Queue::NewMessage m;
        m.queue = name;
        m.recipient = name + QStringLiteral("@example.net");
        m.subject = QStringLiteral("News");
        m.htmlBody = QStringLiteral(
                "<p><a href=\"https://shop.example.org/sale?a=1&amp;b=2\">Sale</a> "
                "<a href=\"mailto:help@example.org\">Help</a></p>");
        QVERIFY(queue.enqueue(m));
    }
    auto pool = startPool(1, 16, std::make_shared<const Secrets::KeyPair>(*key));
    QTRY_COMPARE_WITH_TIMEOUT(scalar(QStringLiteral(
                                      "SELECT count(*) FROM messages WHERE state = 'sent'")),
                              2, 30'000);
    stopPool(pool);
    // The headers as written, then the HTML part decoded.
    const auto raw = [&](const QString &recipient) -> QString {
        auto row =
                m_db->exec(QStringLiteral(
                                   "SELECT raw FROM sandbox_messages WHERE recipients = ARRAY[$1]"),
                           {recipient});
        if (!row || row->rowCount() != 1)
            return QString();
        const QByteArray bytes = row->bytes(0, 0);
        return QString::fromUtf8(bytes.left(bytes.indexOf("\r\n\r\n")))
                + Mime::MessageReader::read(bytes).html;
    };
    const QString tracked = raw(QStringLiteral("marketing@example.net"));
    const QString plain = raw(QStringLiteral("transactional@example.net"));
    QVERIFY(!tracked.isEmpty() && !plain.isEmpty());
    // Marketing tracks: the link goes through the click endpoint, a pixel is added, mailto: is
    // left alone, and the one-click unsubscribe headers are there (RFC 8058).
    QVERIFY2(tracked.contains(u"https://t.example.org/t/c/"), qPrintable(tracked));
    QVERIFY(tracked.contains(u"https://t.example.org/t/o/"));
    QVERIFY2(tracked.contains(u"mailto:help@example.org"), qPrintable(tracked));
    QVERIFY(!tracked.contains(u"https://shop.example.org/sale"));
    QVERIFY(tracked.contains(u"List-Unsubscribe: <https://t.example.org/u/"));
    QVERIFY(tracked.contains(u"List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    // Transactional does not.
    QVERIFY(plain.contains(u"https://shop.example.org/sale"));
    QVERIFY(!plain.contains(u"t.example.org"));
    QVERIFY(!plain.contains(u"List-Unsubscribe"));
}

QTEST_GUILESS_MAIN(TestDelivery)
#include "tst_delivery.moc"
