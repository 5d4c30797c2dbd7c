// The GUI sending queued mail itself (Settings: "Send queued mail from this computer"): turning it
// on starts send workers in the app, a queued message is sent, the status bar says so, and closing
// the window lets them finish first. Offscreen, against a real PostgreSQL.
#include "dashboard/dashboardpage.h"
#include "db/connection.h"
#include "db/databaseconfig.h"
#include "db/migrator.h"
#include "delivery/workerpool.h"
#include "events/eventpoller.h"
#include "providers/providerrepository.h"
#include "queue/queuerepository.h"
#include "settings/settingspage.h"
#include "shell/mainwindow.h"
#include "testdb.h"
#include "testenv.h"

#include <QApplication>
#include <QCheckBox>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QTest>

class TestInProcessWorkers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sendsFromTheAppWhenAsked();
    void dashboardFollowsNewEvents();

private:
    qint64 scalar(Db::Connection &db, const QString &sql)
    {
        auto result = db.exec(sql);
        return result ? result->toInt(0, 0) : -1;
    }
};

void TestInProcessWorkers::sendsFromTheAppWhenAsked()
{
    QSettings().remove(QStringLiteral("workers"));
    const auto info = TestSupport::freshSchema(QStringLiteral("tst_inprocessworkers"));
    auto opened = Db::Connection::open(info);
    QVERIFY(opened);
    auto &db = **opened;
    QVERIFY(Db::Migrator(db).migrate());
    Providers::ProviderRecord box;
    box.name = QStringLiteral("box");
    box.type = QStringLiteral("sandbox");
    box.options = {{QStringLiteral("url"), QStringLiteral("sandbox:")},
                   {QStringLiteral("from"), QStringLiteral("app@example.org")}};
    QVERIFY(Providers::ProviderRepository(db).add(box));
    Queue::NewMessage message;
    message.queue = QStringLiteral("transactional");
    message.recipient = QStringLiteral("someone@example.net");
    message.subject = QStringLiteral("From the app");
    message.textBody = QStringLiteral("Hello");
    QVERIFY(Queue::QueueRepository(db).enqueue(message));

    auto config = Db::DatabaseConfig::external(info.toConnectionString());
    QVERIFY(config);
    MainWindow window(*config);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(!window.workers()); // off unless asked for
    QTest::qWait(1500);
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM messages WHERE state = 'sent'")), 0);

    window.showPage(QStringLiteral("settings"));
    auto *settings = qobject_cast<SettingsPage *>(window.page(QStringLiteral("settings")));
    QVERIFY(settings);
    QTest::mouseClick(settings->runWorkersBox(), Qt::LeftButton, {},
                      QPoint(8, settings->runWorkersBox()->height() / 2));
    QVERIFY(settings->runWorkersBox()->isChecked());
    QVERIFY(window.workers());
    QVERIFY(SettingsPage::runWorkersSetting());
    QTRY_COMPARE_WITH_TIMEOUT(scalar(db,
                                     QStringLiteral(
                                             "SELECT count(*) FROM messages WHERE state = 'sent'")),
                              1, 30'000);
    auto *status = window.findChild<QLabel *>(QStringLiteral("workersStatus"));
    QVERIFY(status);
    QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QStringLiteral("1 sent")), 10'000);
    TestSupport::saveScreenshot(&window, QStringLiteral("settings-sending"));

    // Closing waits for the workers to stop (the window stays until they have), then closes.
    window.close();
    QTRY_VERIFY_WITH_TIMEOUT(!window.workers(), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(
            scalar(db, QStringLiteral("SELECT count(*) FROM workers WHERE stopped_at IS NULL")), 0,
            10'000);
    QSettings().remove(QStringLiteral("workers"));
}

void TestInProcessWorkers::dashboardFollowsNewEvents()
{
    const auto info = TestSupport::freshSchema(QStringLiteral("tst_inprocessworkers_events"));
    auto opened = Db::Connection::open(info);
    QVERIFY(opened);
    auto &db = **opened;
    QVERIFY(Db::Migrator(db).migrate());
    auto config = Db::DatabaseConfig::external(info.toConnectionString());
    QVERIFY(config);
    MainWindow window(*config);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.eventPoller());
    QSignalSpy linked(window.eventPoller(), &Events::EventPoller::linkChanged);
    QTRY_VERIFY_WITH_TIMEOUT(!linked.isEmpty() && linked.last().first().toBool(), 20'000);
    auto *dashboard = qobject_cast<DashboardPage *>(window.page(QStringLiteral("dashboard")));
    QVERIFY(dashboard);
    QCOMPARE(dashboard->eventsSeen(), 0);

    // An event is stored (as the webhook ingest does, with its notification).
    QVERIFY(db.exec(
            QStringLiteral("INSERT INTO events (source, event_key, type, recipient, occurred_at) "
                           "VALUES ('postmark', 'k1', 'delivered', 'a@example.net', now())")));
    QVERIFY(db.exec(QStringLiteral("SELECT pg_notify('postdesk_events', '')")));
    QTRY_COMPARE_WITH_TIMEOUT(dashboard->eventsSeen(), 1, 20'000);
}

QTEST_MAIN(TestInProcessWorkers)
#include "tst_inprocessworkers.moc"
