#include "db/connection.h"
#include "db/demodata.h"
#include "db/migrator.h"
#include "testdb.h"

#include <QTest>

class TestDemoData : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void loadsABelievableMonth();
    void rollupsMatchTheMessages();
    void secondLoadIsANoOp();
    void refusesADatabaseWithRealData();

private:
    std::unique_ptr<Db::Connection> m_connection;
    Db::DemoData::Summary m_summary;
};

void TestDemoData::initTestCase()
{
    auto connection = Db::Connection::open(
            TestSupport::freshSchema(QStringLiteral("tst_demodata")));
    QVERIFY(connection);
    m_connection = std::move(*connection);
    QVERIFY(Db::Migrator(*m_connection).migrate());
    auto loaded = Db::DemoData::load(*m_connection);
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().toString()));
    m_summary = *loaded;
}

void TestDemoData::loadsABelievableMonth()
{
    QVERIFY(!m_summary.alreadyLoaded);
    QVERIFY(m_summary.providers >= 3);
    QVERIFY(m_summary.templates >= 3);
    // ~12k a day on weekdays over 30 days.
    QVERIFY2(m_summary.messages > 250000 && m_summary.messages < 400000,
             qPrintable(QString::number(m_summary.messages)));
    QVERIFY(m_summary.events > m_summary.messages);

    auto states = m_connection->exec(
            QStringLiteral("SELECT DISTINCT state FROM messages ORDER BY 1"));
    QVERIFY(states);
    QStringList seen;
    for (int i = 0; i < states->rowCount(); ++i)
        seen << states->text(i, 0);
    QCOMPARE(seen,
             (QStringList{QStringLiteral("cancelled"), QStringLiteral("dead"),
                          QStringLiteral("pending"), QStringLiteral("processing"),
                          QStringLiteral("sent"), QStringLiteral("suppressed")}));

    // The rates the dashboards speak of: ~98% delivered, ~46% opened, ~15% clicked, ~1% bounced.
    auto rates = m_connection->exec(
            QStringLiteral("SELECT avg((delivery = 'delivered')::int)::float8, avg((opened_at IS "
                           "NOT NULL)::int)::float8,"
                           "       avg((clicked_at IS NOT NULL)::int)::float8, avg((delivery = "
                           "'bounced')::int)::float8 "
                           "FROM messages WHERE state = 'sent'"));
    QVERIFY(rates);
    const double delivered = rates->toDouble(0, 0), opened = rates->toDouble(0, 1),
                 clicked = rates->toDouble(0, 2), bounced = rates->toDouble(0, 3);
    QVERIFY2(delivered > 0.97 && delivered < 0.99, qPrintable(QString::number(delivered)));
    QVERIFY2(opened > 0.42 && opened < 0.48, qPrintable(QString::number(opened)));
    QVERIFY2(clicked > 0.13 && clicked < 0.17, qPrintable(QString::number(clicked)));
    QVERIFY2(bounced > 0.007 && bounced < 0.013, qPrintable(QString::number(bounced)));

    // 30 days, each with traffic, none in the future.
    auto days = m_connection->exec(QStringLiteral(
            "SELECT count(DISTINCT created_at::date), max(created_at) <= now() FROM messages"));
    QCOMPARE(days->toInt(0, 0), 30);
    QVERIFY(days->toBool(0, 1));

    auto versions = m_connection->exec(
            QStringLiteral("SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM "
                           "template_versions GROUP BY template_id) c"));
    QVERIFY(versions->toInt(0, 0) >= 2);

    // No real secret stands anywhere.
    auto secrets = m_connection->exec(QStringLiteral("SELECT count(*) FROM provider_secrets"));
    QCOMPARE(secrets->toInt(0, 0), 0);
}

void TestDemoData::rollupsMatchTheMessages()
{
    auto check = m_connection->exec(
            QStringLiteral("SELECT (SELECT sum(sent) FROM daily_rollups), (SELECT count(*) FROM "
                           "messages WHERE state = 'sent'),"
                           "       (SELECT sum(opened) FROM daily_rollups), (SELECT count(*) FROM "
                           "events WHERE type = 'opened'),"
                           "       (SELECT sum(delivered) FROM daily_rollups), (SELECT count(*) "
                           "FROM events WHERE type = 'delivered')"));
    QVERIFY(check);
    QCOMPARE(check->toInt(0, 0), check->toInt(0, 1));
    QCOMPARE(check->toInt(0, 2), check->toInt(0, 3));
    QCOMPARE(check->toInt(0, 4), check->toInt(0, 5));
    // Send times, for the Dashboard's average: on every sent message, summed in the rollups.
    auto times = m_connection->exec(QStringLiteral(
            "SELECT (SELECT sum(send_ms_total) FROM daily_rollups),"
            "       (SELECT sum(send_ms) FROM messages WHERE state = 'sent'),"
            "       (SELECT count(*) FROM messages WHERE state = 'sent' AND send_ms IS NULL),"
            "       (SELECT avg(send_ms)::int FROM messages WHERE state = 'sent')"));
    QVERIFY(times);
    QVERIFY(times->toInt(0, 0) > 0);
    QCOMPARE(times->toInt(0, 0), times->toInt(0, 1));
    QCOMPARE(times->toInt(0, 2), 0);
    QVERIFY2(times->toInt(0, 3) > 200 && times->toInt(0, 3) < 2200, times->text(0, 3).toUtf8());
}

void TestDemoData::secondLoadIsANoOp()
{
    auto again = Db::DemoData::load(*m_connection);
    QVERIFY(again);
    QVERIFY(again->alreadyLoaded);
    QCOMPARE(again->messages, m_summary.messages);
}

void TestDemoData::refusesADatabaseWithRealData()
{
    auto connection = Db::Connection::open(
            TestSupport::freshSchema(QStringLiteral("tst_demodata_real")));
    QVERIFY(connection);
    QVERIFY(Db::Migrator(**connection).migrate());
    QVERIFY((*connection)
                    ->exec(QStringLiteral("INSERT INTO templates (name, kind) VALUES "
                                          "('real-template', 'transactional')")));
    auto refused = Db::DemoData::load(**connection);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, QStringLiteral("demo.not_empty"));
    QVERIFY2(refused.error().message.contains(QStringLiteral("1 templates")),
             qPrintable(refused.error().message));
    auto counts = (*connection)
                          ->exec(QStringLiteral("SELECT (SELECT count(*) FROM templates), (SELECT "
                                                "count(*) FROM messages), "
                                                "(SELECT count(*) FROM providers)"));
    QCOMPARE(counts->toInt(0, 0), 1);
    QCOMPARE(counts->toInt(0, 1), 0);
    QCOMPARE(counts->toInt(0, 2), 0);
}

QTEST_GUILESS_MAIN(TestDemoData)
#include "tst_demodata.moc"
