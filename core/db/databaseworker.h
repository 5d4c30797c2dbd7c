#pragma once

#include "databaseconfig.h"

#include <QMetaType>
#include <QObject>
#include <QStringList>
#include <QVariantList>

#include <functional>
#include <memory>

class QTimer;

namespace Db {

class Connection;

enum class LinkState { Connecting, Connected, Down };

// Rows of a query result as plain values, to cross threads in a queued signal.
struct TableData
{
    QStringList columns;
    QList<QVariantList> rows;
};

// Lives on a worker thread and owns that thread's connection: it connects (starting the embedded
// database and migrating on first use), checks the link every few seconds, reconnects by itself
// after the server comes back, and runs the queries the GUI asks for. Nothing here blocks the GUI.
class DatabaseWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DatabaseWorker)

public:
    explicit DatabaseWorker(DatabaseConfig config, QObject *parent = nullptr);
    ~DatabaseWorker() override;

    static constexpr int HeartbeatMs = 2000;
    static constexpr int RetryMs = 1000;

public Q_SLOTS:
    void start();
    void runQuery(quint64 requestId, const QString &sql, const QVariantList &params);
    // Runs function with this thread's connection (for repositories that take a Connection).
    void runFunction(quint64 requestId, const std::function<QVariant(Db::Connection &)> &function);

Q_SIGNALS:
    void linkStateChanged(Db::LinkState state, const QString &where, const QString &detail);
    void queryFinished(quint64 requestId, const Db::TableData &data, const QString &error);
    void functionFinished(quint64 requestId, const QVariant &result, const QString &error);

private:
    void handleTick();
    void connectNow();
    void setState(LinkState state, const QString &detail);

    DatabaseConfig m_config;
    ConnectionInfo m_resolved; // after the first successful open
    bool m_prepared = false;
    std::unique_ptr<Connection> m_connection;
    QTimer *m_timer = nullptr;
    LinkState m_state = LinkState::Connecting;
};

} // namespace Db

Q_DECLARE_METATYPE(Db::TableData)
Q_DECLARE_METATYPE(Db::LinkState)
