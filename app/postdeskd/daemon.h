#pragma once

#include "db/databaseconfig.h"
#include "delivery/sendworker.h"

#include <QObject>

#include <memory>

class QSocketNotifier;
class QTimer;

namespace Db {
class Connection;
}

namespace Delivery {
class WorkerPool;
}

// What postdeskd runs besides holding the database.
struct DaemonOptions
{
    int workers = 0;    // send worker threads; 0: none
    QStringList queues; // the queues they drain; empty: all
    int concurrency = 32;
    QString keyDirectory; // the host key in owner-only files instead of the keyring
    int graceMs = 30'000; // how long SIGTERM waits for messages in flight
    int leaseSeconds = 120;
};

// The headless process: holds the database (starting the embedded one and migrating when needed),
// keeps the link alive across server restarts, and shuts down cleanly on SIGTERM or SIGINT.
class Daemon final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Daemon)

public:
    Daemon(Db::DatabaseConfig config, DaemonOptions options, QObject *parent = nullptr);
    ~Daemon() override;

    // Installs the signal handlers; false when that failed.
    bool installSignalHandlers();
    void start();

private:
    void handleSignal();
    void handleTick();
    bool connectDatabase();
    void startWorkers();

    Db::DatabaseConfig m_config;
    DaemonOptions m_options;
    Delivery::WorkerPool *m_workers = nullptr;
    bool m_shuttingDown = false;
    std::unique_ptr<Db::Connection> m_connection;
    QTimer *m_timer = nullptr;
    QSocketNotifier *m_signalNotifier = nullptr;
    bool m_prepared = false;
};
