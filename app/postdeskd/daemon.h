#pragma once

#include "db/databaseconfig.h"

#include <QObject>

#include <memory>

class QSocketNotifier;
class QTimer;

namespace Db {
class Connection;
}

// The headless process: holds the database (starting the embedded one and migrating when needed),
// keeps the link alive across server restarts, and shuts down cleanly on SIGTERM or SIGINT.
class Daemon final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Daemon)

public:
    explicit Daemon(Db::DatabaseConfig config, QObject *parent = nullptr);
    ~Daemon() override;

    // Installs the signal handlers; false when that failed.
    bool installSignalHandlers();
    void start();

private:
    void handleSignal();
    void handleTick();
    bool connectDatabase();

    Db::DatabaseConfig m_config;
    std::unique_ptr<Db::Connection> m_connection;
    QTimer *m_timer = nullptr;
    QSocketNotifier *m_signalNotifier = nullptr;
    bool m_prepared = false;
};
