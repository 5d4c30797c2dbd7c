#include "delivery/sendworker.h"

#include <QSet>
#include <QTest>

using Delivery::SendWorker;

class TestSendWorker : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void claimsWholeQuarters_data();
    void claimsWholeQuarters();
    void claimsAHandfulOfSizes();
};

void TestSendWorker::claimsWholeQuarters_data()
{
    QTest::addColumn<int>("room");
    QTest::addColumn<int>("concurrency");
    QTest::addColumn<int>("expected");

    QTest::newRow("idle") << 64 << 64 << 64;
    QTest::newRow("a quarter") << 16 << 64 << 16;
    QTest::newRow("between quarters") << 47 << 64 << 32;
    QTest::newRow("just under all") << 63 << 64 << 48;
    QTest::newRow("not divisible by four") << 10 << 10 << 10;
    QTest::newRow("small concurrency") << 3 << 3 << 3;
    QTest::newRow("one") << 1 << 1 << 1;
}

void TestSendWorker::claimsWholeQuarters()
{
    QFETCH(int, room);
    QFETCH(int, concurrency);
    QFETCH(int, expected);
    QCOMPARE(SendWorker::claimSize(room, concurrency), expected);
}

void TestSendWorker::claimsAHandfulOfSizes()
{
    // The claim is prepared once per size: whatever room a worker has when it claims (it claims
    // once a quarter is free), it uses at most four sizes, and never claims more than its room.
    for (const int concurrency : {4, 32, 64, 100, 1000}) {
        QSet<int> sizes;
        for (int room = std::max(1, concurrency / 4); room <= concurrency; ++room) {
            const int size = SendWorker::claimSize(room, concurrency);
            QVERIFY(size >= 1 && size <= room);
            sizes.insert(size);
        }
        QVERIFY2(sizes.size() <= 4, qPrintable(QString::number(concurrency)));
    }
}

QTEST_GUILESS_MAIN(TestSendWorker)
#include "tst_sendworker.moc"
