#include "mainwindow.h"

#include "common/page.h"
#include "common/querytablepage.h"
#include "connectionindicator.h"
#include "dashboard/dashboardpage.h"
#include "db/asyncdatabase.h"
#include "delivery/workerpool.h"
#include "events/eventpoller.h"
#include "providers/providerspage.h"
#include "settings/settingspage.h"
#include "sidebar.h"
#include "templates/templatespage.h"

#include <QCloseEvent>
#include <QFile>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QStackedWidget>
#include <QStatusBar>

namespace {

QueryTablePage *queuesPage(QWidget *parent)
{
    return new QueryTablePage(
            {QObject::tr("Queues"),
             QObject::tr("Where messages wait to be sent, and what happened to them."),
             QObject::tr("Pausing, retrying, requeueing and cancelling from here comes next. The "
                         "counts below are live."),
             QStringLiteral(
                     R"sql(SELECT q.name AS "Queue", CASE WHEN q.paused THEN 'paused' ELSE 'running' END AS "State",
                   q.priority_class AS "Priority class", q.concurrency_share AS "Share %",
                   count(*) FILTER (WHERE m.state = 'pending') AS "Pending",
                   count(*) FILTER (WHERE m.state = 'processing') AS "Processing",
                   count(*) FILTER (WHERE m.state = 'sent') AS "Sent",
                   count(*) FILTER (WHERE m.state = 'dead') AS "Dead letters",
                   count(*) FILTER (WHERE m.state = 'suppressed') AS "Suppressed",
                   count(*) FILTER (WHERE m.state = 'cancelled') AS "Cancelled"
                   FROM queues q LEFT JOIN messages m ON m.queue_id = q.id
                   GROUP BY q.id ORDER BY q.priority_class)sql"),
             QObject::tr("No queues.")},
            parent);
}

QueryTablePage *analyticsPage(QWidget *parent)
{
    return new QueryTablePage(
            {QObject::tr("Analytics"),
             QObject::tr("Daily totals over the last 30 days, from the daily rollups."),
             QObject::tr("Charts, filters by provider, queue and template, and report export "
                         "come to this page next. The figures below are live."),
             QStringLiteral(
                     R"sql(SELECT day AS "Day", sum(sent) AS "Sent", sum(delivered) AS "Delivered",
                   sum(bounced_hard + bounced_soft) AS "Bounced", sum(complained) AS "Complaints",
                   sum(opened) AS "Opened", sum(clicked) AS "Clicked", sum(unsubscribed) AS "Unsubscribed",
                   round(100.0 * sum(delivered) / nullif(sum(sent), 0), 1)::float8 AS "Delivered %",
                   round(100.0 * sum(opened) / nullif(sum(delivered), 0), 1)::float8 AS "Opened %",
                   round(100.0 * sum(clicked) / nullif(sum(delivered), 0), 1)::float8 AS "Clicked %"
                   FROM daily_rollups WHERE day > current_date - 30
                   GROUP BY day ORDER BY day DESC)sql"),
             QObject::tr("No traffic in the last 30 days.")},
            parent);
}

QueryTablePage *suppressionsPage(QWidget *parent)
{
    return new QueryTablePage(
            {QObject::tr("Suppressions"),
             QObject::tr("Addresses that are never sent to: hard bounces, complaints, "
                         "unsubscribes and manual entries."),
             QObject::tr("Adding, removing, importing and exporting from here comes next; until "
                         "then use 'postdeskctl suppress'. The list below is live (newest 500)."),
             QStringLiteral(R"sql(SELECT address AS "Address", reason AS "Reason", source AS "Source",
                   created_at AS "Since", created_by AS "By", note AS "Note"
                   FROM suppressions ORDER BY created_at DESC LIMIT 500)sql"),
             QObject::tr("No suppressed addresses.")},
            parent);
}

} // namespace

MainWindow::MainWindow(const Db::DatabaseConfig &config, QWidget *parent)
    : QMainWindow(parent)
{
    setWindowTitle(tr("Postdesk"));
    setWindowIcon(QIcon(QStringLiteral(":/ui/icons/postdesk.svg")));
    resize(1280, 800);
    QFile style(QStringLiteral(":/ui/style/postdesk.qss"));
    if (style.open(QIODevice::ReadOnly))
        setStyleSheet(QString::fromUtf8(style.readAll()));

    auto *central = new QWidget(this);
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_sidebar = new Sidebar(central);
    m_stack = new QStackedWidget(central);
    layout->addWidget(m_sidebar);
    layout->addWidget(m_stack, 1);
    setCentralWidget(central);

    auto *dashboard = new DashboardPage(this);
    m_dashboard = dashboard;
    connect(dashboard, &DashboardPage::pageRequested, this, &MainWindow::showPage);
    addPage(QStringLiteral("dashboard"), tr("Dashboard"), dashboard);
    addPage(QStringLiteral("providers"), tr("Providers"), new ProvidersPage(this));
    addPage(QStringLiteral("templates"), tr("Templates"), new TemplatesPage(this));
    addPage(QStringLiteral("queues"), tr("Queues"), queuesPage(this));
    addPage(QStringLiteral("analytics"), tr("Analytics"), analyticsPage(this));
    addPage(QStringLiteral("suppressions"), tr("Suppressions"), suppressionsPage(this));
    auto *settings = new SettingsPage(this);
    addPage(QStringLiteral("settings"), tr("Settings"), settings);
    connect(settings, &SettingsPage::databaseChanged, this, [this] {
        auto config = Db::DatabaseConfig::resolve();
        if (config)
            connectTo(*config);
    });
    connect(settings, &SettingsPage::workersChanged, this, &MainWindow::applyWorkerSetting);

    connect(m_sidebar, &Sidebar::pageRequested, this, [this](const QString &name) {
        if (Page *page = m_pages.value(name))
            m_stack->setCurrentWidget(page);
    });

    m_indicator = new ConnectionIndicator(this);
    statusBar()->addWidget(m_indicator, 1);
    m_workersLabel = new QLabel(this);
    m_workersLabel->setObjectName(QStringLiteral("workersStatus"));
    statusBar()->addPermanentWidget(m_workersLabel);
    statusBar()->setSizeGripEnabled(false);

    connectTo(config);
    applyWorkerSetting(SettingsPage::runWorkersSetting(), SettingsPage::workerThreadsSetting());
    showPage(QStringLiteral("dashboard"));
}

MainWindow::~MainWindow() = default;

QStringList MainWindow::pageNames()
{
    return {QStringLiteral("dashboard"), QStringLiteral("providers"),
            QStringLiteral("templates"), QStringLiteral("queues"),
            QStringLiteral("analytics"), QStringLiteral("suppressions"),
            QStringLiteral("settings")};
}

void MainWindow::addPage(const QString &name, const QString &label, Page *page)
{
    page->setObjectName(name + QStringLiteral("Page"));
    m_pages.insert(name, page);
    m_stack->addWidget(page);
    m_sidebar->addEntry(name, label);
}

bool MainWindow::showPage(const QString &name)
{
    if (!m_pages.contains(name))
        return false;
    m_sidebar->setCurrent(name);
    m_stack->setCurrentWidget(m_pages.value(name));
    return true;
}

QString MainWindow::currentPage() const
{
    return m_sidebar->current();
}

void MainWindow::applyWorkerSetting(bool run, int threads)
{
    if (m_workers) {
        // Finish what is in flight, give the rest back, then start afresh if still wanted.
        Delivery::WorkerPool *old = std::exchange(m_workers, nullptr);
        connect(old, &Delivery::WorkerPool::stopped, old, &QObject::deleteLater);
        old->stop(10'000);
        m_workersLabel->clear();
    }
    if (!run || m_closing)
        return;
    Delivery::WorkerSettings settings;
    settings.database = m_config.connectionInfo();
    settings.hostKeyLoader = [] { return Delivery::loadHostKey({}); };
    m_workers = new Delivery::WorkerPool(settings, threads, this);
    connect(m_workers, &Delivery::WorkerPool::progress, m_workersLabel,
            [this](qint64 sent, qint64 failed) {
                m_workersLabel->setText(
                        tr("Sending from this computer: %1 sent, %2 failed").arg(sent).arg(failed));
            });
    m_workersLabel->setText(tr("Sending from this computer"));
    m_workers->start();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!m_workers || !m_workers->isRunning()) {
        event->accept();
        return;
    }
    // Let the workers finish the messages in flight (or give them back) before closing.
    m_closing = true;
    event->ignore();
    m_workersLabel->setText(tr("Finishing the messages in flight before closing…"));
    connect(m_workers, &Delivery::WorkerPool::stopped, this, [this] {
        m_workers->deleteLater();
        m_workers = nullptr;
        close();
    });
    m_workers->stop(10'000);
}

void MainWindow::connectTo(const Db::DatabaseConfig &config)
{
    const bool reconnectWorkers = m_workers != nullptr;
    m_config = config;
    // Pages drop their pointer before the old connection thread goes away.
    for (Page *page : std::as_const(m_pages))
        page->setDatabase(nullptr);
    m_database = std::make_unique<Db::AsyncDatabase>(config);
    connect(m_database.get(), &Db::AsyncDatabase::linkStateChanged, m_indicator,
            &ConnectionIndicator::setLinkState);
    connect(m_database.get(), &Db::AsyncDatabase::linkStateChanged, this,
            [this](Db::LinkState state) { handleLinkStateChanged(int(state)); });
    for (Page *page : std::as_const(m_pages))
        page->setDatabase(m_database.get());
    m_indicator->setLinkState(Db::LinkState::Connecting, config.describe(), {});

    // Events (deliveries, opens, bounces, ...) refresh the Dashboard as they arrive.
    m_events.reset();
    m_events = std::make_unique<Events::EventPoller>([config] {
        Db::DatabaseConfig::OpenOptions options;
        options.migrate = false;
        options.applicationName = QStringLiteral("postdesk events");
        return config.open(options);
    });
    connect(m_events.get(), &Events::EventPoller::eventsArrived, m_dashboard,
            [this](const QList<Events::Event> &events) {
                m_dashboard->handleEventsArrived(int(events.size()));
            });
    m_events->start();
    if (reconnectWorkers)
        applyWorkerSetting(true, m_workers->size());
}

void MainWindow::handleLinkStateChanged(int state)
{
    const auto linkState = Db::LinkState(state);
    // While the database is away the pages stay visible but greyed; Settings stays usable so the
    // user can point Postdesk elsewhere.
    for (auto it = m_pages.cbegin(); it != m_pages.cend(); ++it) {
        if (it.key() != u"settings")
            it.value()->setEnabled(linkState == Db::LinkState::Connected);
    }
    if (linkState == Db::LinkState::Connected) {
        if (auto *current = qobject_cast<Page *>(m_stack->currentWidget()))
            current->refresh();
    }
}
