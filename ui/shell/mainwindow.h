#pragma once

#include "db/databaseconfig.h"

#include <QMainWindow>
#include <QMap>

#include <memory>

class ConnectionIndicator;
class DashboardPage;
class Page;
class QStackedWidget;
class Sidebar;

class QLabel;

namespace Db {
class AsyncDatabase;
}

namespace Delivery {
class WorkerPool;
}

namespace Events {
class EventPoller;
}

// The main window: the sidebar, the pages and, in the status bar, the database link.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(const Db::DatabaseConfig &config, QWidget *parent = nullptr);
    ~MainWindow() override;

    static QStringList pageNames();
    bool showPage(const QString &name);
    QString currentPage() const;
    Page *page(const QString &name) const { return m_pages.value(name); }

    ConnectionIndicator *connectionIndicator() const { return m_indicator; }
    Db::AsyncDatabase *database() const { return m_database.get(); }
    // The send workers this app runs itself (Settings: "Send queued mail from this computer");
    // null when it runs none.
    Delivery::WorkerPool *workers() const { return m_workers; }
    // New delivery and engagement events as they are stored; the Dashboard follows them.
    Events::EventPoller *eventPoller() const { return m_events.get(); }

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void applyWorkerSetting(bool run, int threads);
    void connectTo(const Db::DatabaseConfig &config);
    void addPage(const QString &name, const QString &label, Page *page);
    void handleLinkStateChanged(int state);

    Sidebar *m_sidebar = nullptr;
    QStackedWidget *m_stack = nullptr;
    ConnectionIndicator *m_indicator = nullptr;
    QMap<QString, Page *> m_pages;
    std::unique_ptr<Db::AsyncDatabase> m_database;
    std::unique_ptr<Events::EventPoller> m_events;
    Db::DatabaseConfig m_config;
    Delivery::WorkerPool *m_workers = nullptr;
    QLabel *m_workersLabel = nullptr;
    DashboardPage *m_dashboard = nullptr;
    bool m_closing = false;
};
