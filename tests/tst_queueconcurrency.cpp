#include "db/connection.h"
#include "db/migrator.h"
#include "queue/queuerepository.h"
#include "testdb.h"

#include <QCoreApplication>
#include <QProcess>
#include <QTest>
#include <QThread>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace {
// The error text of a failed result, for QVERIFY2 (which evaluates its message every time).
template<typename R>
QString why(const R &result)
{
    return result ? QString() : result.error().toString();
}
} // namespace

using namespace Queue;

namespace {

// Claims and completes until the queue stays empty; returns the ids it completed, or an error
// text. Every claimer has its own connection, as every worker does.
struct ClaimRun
{
    QList<qint64> ids;
    QString error;
};

ClaimRun claimUntilEmpty(const Db::ConnectionInfo &info, const QString &workerId, int batchSize)
{
    ClaimRun run;
    auto connection = Db::Connection::open(info, workerId);
    if (!connection) {
        run.error = connection.error().toString();
        return run;
    }
    QueueRepository queue(**connection);
    int emptyRounds = 0;
    while (emptyRounds < 3) {
        auto claimed = queue.claim(workerId, batchSize, 300);
        if (!claimed) {
            run.error = claimed.error().toString();
            return run;
        }
        if (claimed->isEmpty()) {
            ++emptyRounds;
            QThread::msleep(20);
            continue;
        }
        emptyRounds = 0;
        QList<Completion> done;
        for (const ClaimedMessage &message : std::as_const(*claimed)) {
            run.ids << message.id;
            done << Completion{message.id, message.leaseToken, 0, {}, {}};
        }
        auto completed = queue.complete(done);
        if (!completed) {
            run.error = completed.error().toString();
            return run;
        }
        if (!completed->refused.isEmpty()) {
            run.error = QStringLiteral("%1 completions refused").arg(completed->refused.size());
            return run;
        }
    }
    return run;
}

} // namespace

// Several claimers at once — threads and separate processes, each with its own connection —
// claim every message exactly once.
class TestQueueConcurrency : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void threadsAndProcessesClaimEachMessageOnce();
    void claimersNeverWaitForEachOther();

private:
    Db::ConnectionInfo m_info;
    std::unique_ptr<Db::Connection> m_db;
    void enqueue(int count);
};

void TestQueueConcurrency::initTestCase()
{
    m_info = TestSupport::freshSchema(QStringLiteral("tst_queueconcurrency"));
    auto connection = Db::Connection::open(m_info);
    QVERIFY2(connection, qPrintable(why(connection)));
    m_db = std::move(*connection);
    Db::Migrator migrator(*m_db);
    QVERIFY(migrator.migrate());
}

void TestQueueConcurrency::enqueue(int count)
{
    QVERIFY(m_db->exec(QStringLiteral("TRUNCATE messages CASCADE")));
    QList<NewMessage> batch;
    for (int i = 0; i < count; ++i) {
        NewMessage m;
        m.queue = i % 3 ? QStringLiteral("marketing") : QStringLiteral("transactional");
        m.recipient = QStringLiteral("user%1@example.org").arg(i);
        m.subject = QStringLiteral("Hello");
        m.textBody = QStringLiteral("Hello");
        m.priority = 1 + i % 5;
        batch << m;
    }
    QueueRepository queue(*m_db);
    auto result = queue.enqueueBatch(batch);
    QVERIFY2(result, qPrintable(why(result)));
    QCOMPARE(result->inserted, qint64(count));
}

void TestQueueConcurrency::threadsAndProcessesClaimEachMessageOnce()
{
    constexpr int messages = 20000;
    constexpr int threads = 6;
    constexpr int processes = 4;
    enqueue(messages);

    QList<QProcess *> children;
    for (int p = 0; p < processes; ++p) {
        auto *child = new QProcess(this);
        child->start(QCoreApplication::applicationFilePath(),
                     {QStringLiteral("--claim-worker"), m_info.toConnectionString(),
                      QStringLiteral("process-%1").arg(p)});
        children << child;
    }
    QList<ClaimRun> runs(threads);
    QList<QThread *> workers;
    for (int t = 0; t < threads; ++t) {
        workers << QThread::create([this, t, &runs] {
            runs[t] = claimUntilEmpty(m_info, QStringLiteral("thread-%1").arg(t), 25 + t * 10);
        });
        workers.last()->start();
    }
    for (QThread *worker : std::as_const(workers)) {
        QVERIFY(worker->wait(240000));
        delete worker;
    }
    QHash<qint64, QString> owner;
    int duplicates = 0;
    const auto record = [&](qint64 id, const QString &who) {
        if (owner.contains(id))
            ++duplicates;
        owner.insert(id, who);
    };
    for (int t = 0; t < threads; ++t) {
        QVERIFY2(runs[t].error.isEmpty(), qPrintable(runs[t].error));
        for (qint64 id : std::as_const(runs[t].ids))
            record(id, QStringLiteral("thread-%1").arg(t));
    }
    int processesThatClaimed = 0;
    for (int p = 0; p < processes; ++p) {
        QProcess *child = children.at(p);
        QVERIFY(child->waitForFinished(240000));
        QVERIFY2(child->exitCode() == 0, child->readAllStandardError().constData());
        const QList<QByteArray> lines = child->readAllStandardOutput().split('\n');
        int claimedHere = 0;
        for (const QByteArray &line : lines) {
            if (line.isEmpty())
                continue;
            record(line.toLongLong(), QStringLiteral("process-%1").arg(p));
            ++claimedHere;
        }
        if (claimedHere > 0)
            ++processesThatClaimed;
    }
    QCOMPARE(duplicates, 0);
    QCOMPARE(owner.size(), messages);
    QVERIFY2(processesThatClaimed > 0, "the processes took part");
    auto states = m_db->exec(QStringLiteral(
            "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE attempts <> "
            "1), count(DISTINCT leased_by) FROM messages"));
    QVERIFY(states);
    QCOMPARE(states->toInt(0, 0), messages);
    QCOMPARE(states->toInt(0, 1), 0); // nobody claimed a message twice
}

void TestQueueConcurrency::claimersNeverWaitForEachOther()
{
    // One claimer holds a batch inside an open transaction (row locks held); another claims at
    // the same time and gets different messages at once instead of waiting (SKIP LOCKED).
    enqueue(100);
    auto other = Db::Connection::open(m_info);
    QVERIFY(other);
    QVERIFY((*other)->begin());
    QueueRepository holder(**other);
    auto held = holder.claim(QStringLiteral("holder"), 40, 60);
    QVERIFY2(held, qPrintable(why(held)));
    QCOMPARE(held->size(), 40);

    QueueRepository queue(*m_db);
    QVERIFY(m_db->exec(QStringLiteral("SET statement_timeout = '5s'")));
    auto mine = queue.claim(QStringLiteral("me"), 100, 60);
    QVERIFY2(mine, qPrintable(why(mine)));
    QCOMPARE(mine->size(), 60);
    QSet<qint64> heldIds;
    for (const auto &m : std::as_const(*held))
        heldIds.insert(m.id);
    for (const auto &m : std::as_const(*mine))
        QVERIFY(!heldIds.contains(m.id));
    (*other)->rollback();
    QVERIFY(m_db->exec(QStringLiteral("SET statement_timeout = 0")));
}

int main(int argc, char *argv[])
{
    if (argc == 4 && std::strcmp(argv[1], "--claim-worker") == 0) {
        QCoreApplication app(argc, argv);
        auto info = Db::ConnectionInfo::parse(QString::fromLocal8Bit(argv[2]));
        if (!info) {
            std::fprintf(stderr, "%s\n", qPrintable(why(info)));
            return 1;
        }
        const ClaimRun run = claimUntilEmpty(*info, QString::fromLocal8Bit(argv[3]), 40);
        for (qint64 id : run.ids)
            std::printf("%lld\n", static_cast<long long>(id));
        if (!run.error.isEmpty()) {
            std::fprintf(stderr, "%s\n", qPrintable(run.error));
            return 1;
        }
        return 0;
    }
    QCoreApplication app(argc, argv);
    TestQueueConcurrency test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_queueconcurrency.moc"
