// Several postdeskd processes against one PostgreSQL (a private cluster of this test's own, so
// that it can be restarted): every message sent exactly once in normal operation; a worker
// process killed with SIGKILL loses nothing and duplicates only what it had in flight, each
// duplicate recognisable by its Message-ID; a PostgreSQL restart in the middle of a run; rate
// limits shared across processes; SIGTERM finishes cleanly.
#include "db/connection.h"
#include "db/localcluster.h"
#include "db/migrator.h"
#include "providers/providerrepository.h"
#include "queue/queuerepository.h"
#include "smtp/smtppeer.h"
#include "testdb.h"
#include "testenv.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/stat.h>

namespace {
template<typename R>
QString why(const R &result)
{
    return result ? QString() : result.error().toString();
}
} // namespace

class TestWorkerProcesses : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void cleanupTestCase();

    void eachMessageOnceAcrossProcesses();
    void killNineLosesNothing();
    void databaseRestartInTheMiddle();
    void rateLimitHoldsAcrossProcesses();

private:
    QProcess *startDaemon(int workers, const QStringList &extra = {});
    bool stopDaemon(QProcess *process);
    qint64 scalar(const QString &sql, const QVariantList &params = {});
    qint64 providerId(const QString &name, const QString &url, const QString &limits = {});
    void enqueue(int count);

    QTemporaryDir m_home;
    QString m_baseDir;
    Db::ConnectionInfo m_info;
    std::unique_ptr<Db::Connection> m_db;
    QList<QProcess *> m_daemons;
};

void TestWorkerProcesses::initTestCase()
{
    QVERIFY(m_home.isValid());
    ::chmod(QFile::encodeName(m_home.path()).constData(), 0711);
    m_baseDir = m_home.filePath(QStringLiteral("db"));
    Db::LocalCluster cluster(m_baseDir);
    auto started = cluster.ensureRunning();
    QVERIFY2(started, qPrintable(why(started)));
    m_info = cluster.connectionInfo();
}

void TestWorkerProcesses::cleanupTestCase()
{
    Db::LocalCluster cluster(m_baseDir);
    if (cluster.isRunning())
        cluster.stop();
}

void TestWorkerProcesses::init()
{
    if (!m_db || !m_db->isAlive()) {
        auto connection = Db::Connection::open(m_info);
        QVERIFY2(connection, qPrintable(why(connection)));
        m_db = std::move(*connection);
    }
    QVERIFY(m_db->execScript(QStringLiteral("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")));
    QVERIFY(Db::Migrator(*m_db).migrate());
    QVERIFY(m_db->exec(QStringLiteral("UPDATE queues SET retry_base_seconds = 1, "
                                      "retry_cap_seconds = 2")));
}

void TestWorkerProcesses::cleanup()
{
    for (QProcess *process : std::as_const(m_daemons)) {
        if (process->state() != QProcess::NotRunning) {
            process->kill();
            process->waitForFinished(5000);
        }
        if (QTest::currentTestFailed())
            qWarning().noquote() << "postdeskd said:\n"
                                 << process->readAllStandardError().right(4000);
        delete process;
    }
    m_daemons.clear();
}

qint64 TestWorkerProcesses::scalar(const QString &sql, const QVariantList &params)
{
    auto result = m_db->exec(sql, params);
    return result ? result->toInt(0, 0) : -1;
}

qint64 TestWorkerProcesses::providerId(const QString &name, const QString &url,
                                       const QString &limits)
{
    Providers::ProviderRecord record;
    record.name = name;
    record.type = url.startsWith(u"sandbox") ? QStringLiteral("sandbox") : QStringLiteral("smtp");
    record.options = QJsonObject{{QStringLiteral("url"), url},
                                 {QStringLiteral("from"), QStringLiteral("ops@example.org")}};
    record.limits = *Providers::RateLimits::parse(limits);
    auto added = Providers::ProviderRepository(*m_db).add(record);
    if (!added)
        qWarning() << why(added);
    return added ? added->id : 0;
}

void TestWorkerProcesses::enqueue(int count)
{
    QList<Queue::NewMessage> batch;
    for (int i = 0; i < count; ++i) {
        Queue::NewMessage m;
        m.queue = i % 3 == 0 ? QStringLiteral("transactional") : QStringLiteral("bulk");
        m.recipient = QStringLiteral("r%1@example.net").arg(i);
        m.subject = QStringLiteral("Number %1").arg(i);
        m.htmlBody = QStringLiteral("<p>Message %1</p>").arg(i);
        batch.append(m);
    }
    auto queued = Queue::QueueRepository(*m_db).enqueueBatch(batch);
    QVERIFY2(queued, qPrintable(why(queued)));
    QCOMPARE(queued->inserted, count);
}

QProcess *TestWorkerProcesses::startDaemon(int workers, const QStringList &extra)
{
    auto *process = new QProcess;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("POSTDESK_DB"));
    process->setProcessEnvironment(env);
    process->start(TestSupport::programPath(QStringLiteral("postdeskd")),
                   QStringList{QStringLiteral("--db"), m_info.toConnectionString(),
                               QStringLiteral("--workers"), QString::number(workers),
                               QStringLiteral("--lease"), QStringLiteral("5"),
                               QStringLiteral("--grace"), QStringLiteral("10")}
                           + extra);
    m_daemons.append(process);
    if (!process->waitForStarted(10'000))
        qWarning() << "postdeskd did not start:" << process->errorString();
    return process;
}

bool TestWorkerProcesses::stopDaemon(QProcess *process)
{
    ::kill(pid_t(process->processId()), SIGTERM);
    if (!process->waitForFinished(30'000))
        return false;
    return process->exitStatus() == QProcess::NormalExit && process->exitCode() == 0;
}

void TestWorkerProcesses::eachMessageOnceAcrossProcesses()
{
    QVERIFY(providerId(QStringLiteral("box"), QStringLiteral("sandbox:")) > 0);
    enqueue(3000);
    QList<QProcess *> daemons;
    for (int i = 0; i < 3; ++i)
        daemons << startDaemon(2);
    QTRY_COMPARE_WITH_TIMEOUT(scalar(QStringLiteral(
                                      "SELECT count(*) FROM messages WHERE state = 'sent'")),
                              3000, 180'000);
    for (QProcess *daemon : std::as_const(daemons))
        QVERIFY2(stopDaemon(daemon), daemon->readAllStandardError().right(2000).constData());
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM sandbox_messages")), 3000);
    QCOMPARE(scalar(QStringLiteral("SELECT count(DISTINCT message_id) FROM sandbox_messages")),
             3000);
    // All three processes took part, and each said it stopped.
    QCOMPARE(scalar(QStringLiteral("SELECT count(DISTINCT pid) FROM workers WHERE sent > 0")), 3);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM workers WHERE stopped_at IS NULL")), 0);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state <> 'sent'")), 0);
}

void TestWorkerProcesses::killNineLosesNothing()
{
    QVERIFY(providerId(QStringLiteral("box"), QStringLiteral("sandbox:")) > 0);
    enqueue(10'000);
    const int concurrency = 32;
    const QStringList options{QStringLiteral("--concurrency"), QString::number(concurrency)};
    QProcess *victim = startDaemon(2, options);
    QProcess *survivor = startDaemon(2, options);
    QTRY_VERIFY_WITH_TIMEOUT(scalar(QStringLiteral(
                                     "SELECT count(*) FROM messages WHERE state = 'sent'"))
                                     >= 2000,
                             120'000);
    const qint64 victimPid = victim->processId();
    ::kill(pid_t(victimPid), SIGKILL);
    QVERIFY(victim->waitForFinished(10'000));
    QCOMPARE(victim->exitStatus(), QProcess::CrashExit);
    const qint64 heldByVictim =
            scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state = 'processing' "
                                  "AND leased_by LIKE '%:' || $1 || ':%'"),
                   {victimPid});
    qInfo() << "killed postdeskd" << victimPid << "holding" << heldByVictim << "leases";
    QProcess *restarted = startDaemon(2, options);

    QTRY_COMPARE_WITH_TIMEOUT(scalar(QStringLiteral(
                                      "SELECT count(*) FROM messages WHERE state = 'sent'")),
                              10'000, 300'000);
    QVERIFY(stopDaemon(survivor));
    QVERIFY(stopDaemon(restarted));

    // Nothing lost: every message reached the receiver.
    QCOMPARE(scalar(QStringLiteral("SELECT count(DISTINCT message_id) FROM sandbox_messages")),
             10'000);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages m WHERE NOT EXISTS "
                                   "(SELECT 1 FROM sandbox_messages s WHERE s.message_id = m.id)")),
             0);
    // Duplicates only from the killed process's claims in flight, and each copy carries the same
    // Message-ID, so the receiver can tell.
    const qint64 duplicates = scalar(QStringLiteral("SELECT count(*) - count(DISTINCT message_id) "
                                                    "FROM sandbox_messages"));
    qInfo() << "duplicates after kill -9:" << duplicates;
    // Only what the killed process held can have been stored twice: the leases it had taken
    // (at most what its workers claim at once) and not yet completed.
    QVERIFY2(duplicates <= heldByVictim,
             qPrintable(QStringLiteral("%1 duplicates, %2 leases held")
                                .arg(duplicates)
                                .arg(heldByVictim)));
    QCOMPARE(scalar(QStringLiteral(
                     "SELECT count(*) FROM (SELECT message_id FROM sandbox_messages "
                     "GROUP BY message_id HAVING count(DISTINCT message_id_header) > 1) d")),
             0);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE state <> 'sent'")), 0);
}

void TestWorkerProcesses::databaseRestartInTheMiddle()
{
    SmtpTest::Peer peer;
    QVERIFY2(peer.startPython(QStringLiteral("aiosmtpd_server.py"), {}), qPrintable(peer.error()));
    QVERIFY(providerId(QStringLiteral("relay"),
                       QStringLiteral("smtp://127.0.0.1:%1").arg(peer.port()))
            > 0);
    const int total = 1500;
    enqueue(total);
    QProcess *a = startDaemon(2);
    QProcess *b = startDaemon(1);
    QTRY_VERIFY_WITH_TIMEOUT(peer.messageCount() >= 300, 120'000);

    Db::LocalCluster cluster(m_baseDir);
    m_db.reset();
    auto stopped = cluster.stop();
    QVERIFY2(stopped, qPrintable(why(stopped)));
    QTest::qWait(3000);
    auto started = cluster.start();
    QVERIFY2(started, qPrintable(why(started)));
    auto connection = Db::Connection::open(m_info);
    QVERIFY2(connection, qPrintable(why(connection)));
    m_db = std::move(*connection);

    QTRY_COMPARE_WITH_TIMEOUT(scalar(QStringLiteral(
                                      "SELECT count(*) FROM messages WHERE state = 'sent'")),
                              total, 300'000);
    QVERIFY(stopDaemon(a));
    QVERIFY(stopDaemon(b));
    QCOMPARE(a->exitCode(), 0);

    // The receiver got every message (a message whose outcome was lost with the connection may
    // come twice, with the same Message-ID).
    static const QRegularExpression messageId(QStringLiteral("^Message-ID: <([^>]+)>"),
                                              QRegularExpression::MultilineOption);
    QSet<QString> received;
    for (int n = 1; n <= peer.messageCount(); ++n)
        received.insert(messageId.match(QString::fromLatin1(peer.message(n))).captured(1));
    auto recorded = m_db->exec(QStringLiteral("SELECT message_id_header FROM messages"));
    QVERIFY(recorded);
    QCOMPARE(recorded->rowCount(), total);
    for (int r = 0; r < recorded->rowCount(); ++r)
        QVERIFY2(received.contains(recorded->text(r, 0)), qPrintable(recorded->text(r, 0)));
    qInfo() << "received" << peer.messageCount() << "messages for" << total << "queued";
}

void TestWorkerProcesses::rateLimitHoldsAcrossProcesses()
{
    const int limit = 20;
    QVERIFY(providerId(QStringLiteral("limited"), QStringLiteral("sandbox:"),
                       QStringLiteral("%1/s").arg(limit))
            > 0);
    const int total = 200;
    enqueue(total);
    QProcess *a = startDaemon(1);
    QProcess *b = startDaemon(1);
    QTRY_COMPARE_WITH_TIMEOUT(scalar(QStringLiteral(
                                      "SELECT count(*) FROM messages WHERE state = 'sent'")),
                              total, 120'000);
    QVERIFY(stopDaemon(a));
    QVERIFY(stopDaemon(b));
    // Both processes sent, and no two seconds of the server's clock together saw more than twice
    // the limit. (A message is stored a moment after its send was granted: on a busy machine the
    // sends granted in one second can be stored in the next, next to that second's own, so a
    // single second may show more than the limit while no window was ever granted more.)
    QCOMPARE(scalar(QStringLiteral("SELECT count(DISTINCT pid) FROM workers WHERE sent > 0")), 2);
    const qint64 busiest = scalar(
            QStringLiteral("WITH s AS (SELECT date_trunc('second', created_at) AS t, count(*) AS n "
                           "           FROM sandbox_messages GROUP BY 1) "
                           "SELECT max(a.n + coalesce(b.n, 0)) FROM s a "
                           "LEFT JOIN s b ON b.t = a.t + interval '1 second'"));
    // The rate over the whole seconds between the first and the last (those two are partial).
    auto steady = m_db->exec(QStringLiteral(
            "WITH s AS (SELECT date_trunc('second', created_at) AS t, count(*) AS n "
            "           FROM sandbox_messages GROUP BY 1) "
            "SELECT avg(n)::float8, count(*) FROM s WHERE t > (SELECT min(t) FROM s) "
            "  AND t < (SELECT max(t) FROM s)"));
    QVERIFY(steady);
    qInfo() << "busiest two seconds:" << busiest << "sends; steady rate" << steady->toDouble(0, 0)
            << "per second over" << steady->toInt(0, 1) << "whole seconds, for a limit of" << limit;
    QVERIFY2(busiest <= 2 * limit + 2, qPrintable(QString::number(busiest)));
    // And they really were spread over the seconds the limit asks for.
    QVERIFY2(steady->toInt(0, 1) >= total / limit - 2,
             qPrintable(QString::number(steady->toInt(0, 1))));
}

QTEST_GUILESS_MAIN(TestWorkerProcesses)
#include "tst_workerprocesses.moc"
