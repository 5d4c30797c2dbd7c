#include "db/connection.h"
#include "db/migrator.h"
#include "queue/queuerepository.h"
#include "queue/suppressionrepository.h"
#include "testdb.h"

#include <QFile>
#include <QTest>

namespace {
// The error text of a failed result, for QVERIFY2 (which evaluates its message every time).
template<typename R>
QString why(const R &result)
{
    return result ? QString() : result.error().toString();
}
} // namespace

using namespace Queue;

// The suppression list, its CSV import and export, and the claim that never hands out a message
// to a suppressed address.
class TestSuppressions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void addListRemove();
    void addRejectsMistakes_data();
    void addRejectsMistakes();
    void suppressedRecipientsAreMarkedAtClaimAndNeverHandedOut();
    void csvImportAndExportRoundTrip();
    void csvImportStopsAtABadLine();

private:
    std::unique_ptr<Db::Connection> m_db;
};

void TestSuppressions::init()
{
    const auto info = TestSupport::freshSchema(QStringLiteral("tst_suppressions"));
    auto connection = Db::Connection::open(info);
    QVERIFY2(connection, qPrintable(why(connection)));
    m_db = std::move(*connection);
    Db::Migrator migrator(*m_db);
    QVERIFY(migrator.migrate());
}

void TestSuppressions::addListRemove()
{
    SuppressionRepository list(*m_db);
    auto added = list.add(QStringLiteral(" Ada@Example.ORG "), QStringLiteral("unsubscribe"),
                          QStringLiteral("asked by phone"));
    QVERIFY2(added, qPrintable(why(added)));
    QVERIFY(*added);
    auto again = list.add(QStringLiteral("ada@example.org"));
    QVERIFY(again);
    QVERIFY(!*again);
    QVERIFY(*list.add(QStringLiteral("bob@example.net"), QStringLiteral("hard_bounce")));
    QVERIFY(*list.contains(QStringLiteral("ADA@example.org")));

    auto all = list.list();
    QVERIFY(all);
    QCOMPARE(all->size(), 2);
    QCOMPARE(all->first().address, QStringLiteral("ada@example.org"));
    QCOMPARE(all->first().reason, QStringLiteral("unsubscribe")); // the first entry is kept
    QCOMPARE(all->first().note, QStringLiteral("asked by phone"));
    auto searched = list.list(QStringLiteral("EXAMPLE.NET"));
    QVERIFY(searched);
    QCOMPARE(searched->size(), 1);

    QVERIFY(*list.remove(QStringLiteral("Ada@example.org")));
    QVERIFY(!*list.remove(QStringLiteral("ada@example.org")));
    QVERIFY(!*list.contains(QStringLiteral("ada@example.org")));
}

void TestSuppressions::addRejectsMistakes_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<QString>("message");
    QTest::newRow("no at") << "nobody"
                           << "manual"
                           << "not an email address";
    QTest::newRow("no domain") << "nobody@"
                               << "manual"
                               << "not an email address";
    QTest::newRow("reason") << "a@example.org"
                            << "dislike"
                            << "not a suppression reason";
}

void TestSuppressions::addRejectsMistakes()
{
    QFETCH(QString, address);
    QFETCH(QString, reason);
    QFETCH(QString, message);
    SuppressionRepository list(*m_db);
    auto added = list.add(address, reason);
    QVERIFY(!added);
    QVERIFY2(added.error().message.contains(message), qPrintable(added.error().message));
}

void TestSuppressions::suppressedRecipientsAreMarkedAtClaimAndNeverHandedOut()
{
    QueueRepository queue(*m_db);
    QList<NewMessage> batch;
    for (int i = 0; i < 20; ++i) {
        NewMessage m;
        m.queue = QStringLiteral("marketing");
        m.recipient = i % 4 == 0 ? QStringLiteral("Blocked%1@Example.org").arg(i)
                                 : QStringLiteral("ok%1@example.org").arg(i);
        m.subject = QStringLiteral("News");
        m.htmlBody = QStringLiteral("<p>News</p>");
        batch << m;
    }
    QVERIFY(queue.enqueueBatch(batch));
    SuppressionRepository list(*m_db);
    for (int i = 0; i < 20; i += 4)
        QVERIFY(*list.add(QStringLiteral("blocked%1@example.org").arg(i),
                          QStringLiteral("complaint")));

    QList<ClaimedMessage> handedOut;
    for (int round = 0; round < 10; ++round) {
        auto claimed = queue.claim(QStringLiteral("w"), 3, 60);
        QVERIFY2(claimed, qPrintable(why(claimed)));
        handedOut += *claimed;
    }
    QCOMPARE(handedOut.size(), 15);
    for (const auto &m : std::as_const(handedOut))
        QVERIFY2(!m.recipient.startsWith(QStringLiteral("Blocked")), qPrintable(m.recipient));
    auto rows = m_db->exec(QStringLiteral(
            "SELECT count(*), bool_and(attempts = 0 AND lease_token IS NULL AND sent_at IS NULL "
            "AND last_error LIKE '%suppression list (complaint)%') FROM messages WHERE state = "
            "'suppressed'"));
    QVERIFY(rows);
    QCOMPARE(rows->toInt(0, 0), 5);
    QVERIFY(rows->toBool(0, 1));
    Filter suppressed;
    suppressed.states = {State::Suppressed};
    QCOMPARE(*queue.count(suppressed), 5);
}

void TestSuppressions::csvImportAndExportRoundTrip()
{
    QFile file(QStringLiteral(POSTDESK_TEST_DATA_DIR "/queue/suppressions.csv"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    SuppressionRepository list(*m_db);
    QVERIFY(*list.add(QStringLiteral("already@example.org")));
    auto imported = list.importCsv(file.readAll());
    QVERIFY2(imported, qPrintable(why(imported)));
    QCOMPARE(imported->added, 4);
    QCOMPARE(imported->alreadyThere, 2); // one was there, one is twice in the file
    auto entries = list.list();
    QVERIFY(entries);
    QCOMPARE(entries->size(), 5);
    QCOMPARE(entries->at(1).address, QStringLiteral("bounce@example.org"));
    QCOMPARE(entries->at(1).reason, QStringLiteral("hard_bounce"));
    QCOMPARE(entries->at(1).note, QStringLiteral("550 5.1.1, \"user unknown\""));

    auto csv = list.exportCsv();
    QVERIFY(csv);
    QVERIFY(csv->startsWith("address,reason,note,source,created_at\r\n"));
    QVERIFY2(csv->contains("bounce@example.org,hard_bounce,\"550 5.1.1, \"\"user unknown\"\"\""),
             csv->constData());
    // What was exported imports into an empty list as the same entries.
    QVERIFY(m_db->exec(QStringLiteral("DELETE FROM suppressions")));
    auto back = list.importCsv(*csv);
    QVERIFY2(back, qPrintable(why(back)));
    QCOMPARE(back->added, 5);
    auto again = list.list();
    QCOMPARE(again->at(1).note, entries->at(1).note);
    QCOMPARE(again->at(1).reason, entries->at(1).reason);
}

void TestSuppressions::csvImportStopsAtABadLine()
{
    SuppressionRepository list(*m_db);
    auto imported = list.importCsv(
            "address,reason\nok@example.org,manual\nnot-an-address,manual\n");
    QVERIFY(!imported);
    QVERIFY2(imported.error().message.startsWith(QStringLiteral("Line 3:")),
             qPrintable(imported.error().message));
    QCOMPARE(list.list()->size(), 0);
    // Without a header the columns are address[,reason[,note]].
    auto plain = list.importCsv("a@example.org\nb@example.org,unsubscribe,web form\n");
    QVERIFY(plain);
    QCOMPARE(plain->added, 2);
}

QTEST_GUILESS_MAIN(TestSuppressions)
#include "tst_suppressions.moc"
