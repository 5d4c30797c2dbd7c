#include "common/querytablepage.h"
#include "dashboard/dashboardpage.h"
#include "db/asyncdatabase.h"
#include "db/connection.h"
#include "db/demodata.h"
#include "db/localcluster.h"
#include "db/migrator.h"
#include "providers/providerlistmodel.h"
#include "providers/providerspage.h"
#include "settings/settingspage.h"
#include "shell/connectionindicator.h"
#include "shell/mainwindow.h"
#include "templates/templateeditor.h"
#include "templates/templatespage.h"
#include "testenv.h"

#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QStandardItemModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <sys/stat.h>

// The main window on the embedded database with demo data: every page, the link indicator, and
// the window staying responsive while PostgreSQL goes away and comes back.
class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void showsTheShell();
    void everyPageShowsRealData();
    void settingsValidateTheConnectionString();
    void survivesADatabaseRestart();

private:
    // Runs f on a thread of its own while the GUI thread keeps spinning its event loop.
    bool runOffGuiThread(std::function<bool()> f);

    QTemporaryDir m_home;
    QString m_baseDir;
    std::unique_ptr<MainWindow> m_window;
};

void TestMainWindow::initTestCase()
{
    QVERIFY(m_home.isValid());
    ::chmod(QFile::encodeName(m_home.path()).constData(), 0711);
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_home.filePath(QStringLiteral("config"))));
    m_baseDir = m_home.filePath(QStringLiteral("db"));
    Db::LocalCluster cluster(m_baseDir);
    auto started = cluster.ensureRunning();
    QVERIFY2(started, qPrintable(started ? QString() : started.error().toString()));
    auto connection = Db::Connection::open(cluster.connectionInfo());
    QVERIFY(connection);
    QVERIFY(Db::Migrator(**connection).migrate());
    auto demo = Db::DemoData::load(**connection);
    QVERIFY2(demo, qPrintable(demo ? QString() : demo.error().toString()));

    m_window = std::make_unique<MainWindow>(Db::DatabaseConfig::embedded(m_baseDir));
    m_window->show();
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestMainWindow::cleanupTestCase()
{
    m_window.reset();
    Db::LocalCluster cluster(m_baseDir);
    if (cluster.isRunning())
        cluster.stop();
}

void TestMainWindow::showsTheShell()
{
    QCOMPARE(m_window->windowTitle(), QStringLiteral("Postdesk"));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->connectionIndicator()->state(), Db::LinkState::Connected,
                              60000);
    QVERIFY2(m_window->connectionIndicator()->text().contains(m_baseDir),
             qPrintable(m_window->connectionIndicator()->text()));
    for (const QString &name : MainWindow::pageNames())
        QVERIFY2(m_window->showPage(name), qPrintable(name));
    QVERIFY(!m_window->showPage(QStringLiteral("nonsense")));
    QVERIFY(m_window->showPage(QStringLiteral("dashboard")));
    QCOMPARE(m_window->currentPage(), QStringLiteral("dashboard"));
}

void TestMainWindow::everyPageShowsRealData()
{
    m_window->showPage(QStringLiteral("dashboard"));
    auto *dashboard = qobject_cast<DashboardPage *>(m_window->page(QStringLiteral("dashboard")));
    QVERIFY(dashboard);
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->cardValue(QStringLiteral("delivery")).endsWith(u'%'), 30000);
    auto *queues = dashboard->findChild<QTableView *>(QStringLiteral("queuesTable"));
    QTRY_COMPARE(queues->model()->rowCount(), 4);
    auto *providers = dashboard->findChild<QTableView *>(QStringLiteral("providersTable"));
    QTRY_COMPARE(providers->model()->rowCount(), 5);
    // System status with its reason; the demo data has a degraded provider and no workers.
    const QString status = dashboard->cardValue(QStringLiteral("status"));
    QVERIFY2(status == u"Operational" || status == u"Degraded" || status == u"Down",
             qPrintable(status));
    QVERIFY(dashboard->cardValue(QStringLiteral("providers")).contains(u'/'));
    QVERIFY(dashboard->cardValue(QStringLiteral("queues")).contains(u'/'));
    QStringList queueColumns;
    for (int c = 0; c < queues->model()->columnCount(); ++c)
        queueColumns << queues->model()->headerData(c, Qt::Horizontal).toString();
    for (const char *column : {"Active workers", "Completed today", "Failure %", "Avg send ms"})
        QVERIFY2(queueColumns.contains(QLatin1String(column)), qPrintable(queueColumns.join(u',')));
    // The numbers are the database's: today's sent count as SQL counts it.
    auto connection = Db::Connection::open(Db::LocalCluster(m_baseDir).connectionInfo());
    auto sentToday = (*connection)
                             ->exec(QStringLiteral("SELECT count(*) FROM messages WHERE sent_at >= "
                                                   "date_trunc('day', now())"));
    QCOMPARE(dashboard->cardValue(QStringLiteral("sent")).remove(u',').remove(QChar(0xa0)),
             QString::number(sentToday->toInt(0, 0)));
    TestSupport::saveScreenshot(m_window.get(), QStringLiteral("page-dashboard"));

    QVERIFY(m_window->showPage(QStringLiteral("providers")));
    auto *providersPage = qobject_cast<ProvidersPage *>(
            m_window->page(QStringLiteral("providers")));
    QVERIFY(providersPage);
    QTRY_COMPARE_WITH_TIMEOUT(providersPage->model()->rowCount(), 5, 30000);
    QCOMPARE(providersPage->model()->index(0, 0).data().toString(), QStringLiteral("sandbox"));
    TestSupport::saveScreenshot(m_window.get(), QStringLiteral("page-providers"));

    for (const QString &name :
         {QStringLiteral("queues"), QStringLiteral("analytics"), QStringLiteral("suppressions")}) {
        QVERIFY(m_window->showPage(name));
        auto *page = qobject_cast<QueryTablePage *>(m_window->page(name));
        QVERIFY2(page, qPrintable(name));
        QTRY_VERIFY2_WITH_TIMEOUT(page->model()->rowCount() > 0, qPrintable(name), 30000);
        TestSupport::saveScreenshot(m_window.get(), QStringLiteral("page-") + name);
    }
    // The Templates page: the list beside the editor, which opens the selected template.
    QVERIFY(m_window->showPage(QStringLiteral("templates")));
    auto *templates = qobject_cast<TemplatesPage *>(m_window->page(QStringLiteral("templates")));
    QVERIFY(templates);
    QTRY_VERIFY_WITH_TIMEOUT(templates->model()->rowCount() > 0, 30000);
    templates->table()->selectRow(0);
    QTRY_VERIFY_WITH_TIMEOUT(templates->editor()->isEnabled()
                                     && !templates->editor()->lastPreview().html.isEmpty(),
                             30000);
    QTest::qWait(500); // the preview's page load and paint
    TestSupport::saveScreenshot(m_window.get(), QStringLiteral("page-templates"));
    m_window->showPage(QStringLiteral("settings"));
    TestSupport::saveScreenshot(m_window.get(), QStringLiteral("page-settings"));
}

void TestMainWindow::settingsValidateTheConnectionString()
{
    auto *settings = qobject_cast<SettingsPage *>(m_window->page(QStringLiteral("settings")));
    QVERIFY(settings);
    QVERIFY(settings->embeddedButton()->isChecked());
    settings->externalButton()->setChecked(true);
    QTest::keyClicks(settings->connectionEdit(), QStringLiteral("hots=db"));
    QVERIFY(!settings->saveButton()->isEnabled());
    settings->connectionEdit()->setText(QStringLiteral("host=127.0.0.1 port=1 dbname=x"));
    QVERIFY(settings->saveButton()->isEnabled());
    QTest::mouseClick(settings->testButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(settings->resultLabel()->text().contains(
                                     QStringLiteral("Cannot reach")),
                             20000);
    settings->embeddedButton()->setChecked(true);
    QVERIFY(settings->saveButton()->isEnabled());
}

bool TestMainWindow::runOffGuiThread(std::function<bool()> f)
{
    bool ok = false;
    std::unique_ptr<QThread> thread(QThread::create([&] { ok = f(); }));
    thread->start();
    while (!thread->isFinished())
        QTest::qWait(20);
    thread->wait();
    return ok;
}

void TestMainWindow::survivesADatabaseRestart()
{
    m_window->showPage(QStringLiteral("dashboard"));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->connectionIndicator()->state(), Db::LinkState::Connected,
                              30000);
    // A clock on the GUI thread: if anything there waited for PostgreSQL, it would stop ticking.
    QElapsedTimer clock;
    clock.start();
    qint64 last = 0;
    qint64 longestGap = 0;
    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, this, [&] {
        const qint64 now = clock.elapsed();
        longestGap = std::max(longestGap, now - last);
        last = now;
        ++ticks;
    });
    ticker.start(20);

    const QString baseDir = m_baseDir;
    QVERIFY(runOffGuiThread([baseDir] { return bool(Db::LocalCluster(baseDir).stop()); }));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->connectionIndicator()->state(), Db::LinkState::Down, 20000);
    QVERIFY(!m_window->page(QStringLiteral("dashboard"))->isEnabled());
    QCOMPARE(qobject_cast<DashboardPage *>(m_window->page(QStringLiteral("dashboard")))
                     ->cardValue(QStringLiteral("status")),
             QStringLiteral("Down"));
    TestSupport::saveScreenshot(m_window.get(), QStringLiteral("database-down"));
    const int ticksWhileDown = ticks;
    QTest::qWait(3 * Db::DatabaseWorker::RetryMs);
    QVERIFY(ticks > ticksWhileDown);

    QVERIFY(runOffGuiThread([baseDir] { return bool(Db::LocalCluster(baseDir).start()); }));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->connectionIndicator()->state(), Db::LinkState::Connected,
                              30000);
    QVERIFY(m_window->page(QStringLiteral("dashboard"))->isEnabled());
    TestSupport::saveScreenshot(m_window.get(), QStringLiteral("database-back"));
    ticker.stop();
    // Generous on a loaded machine; a GUI thread that waited on libpq would miss many seconds.
    QVERIFY2(longestGap < 2000, qPrintable(QString::number(longestGap)));
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
