#pragma once

#include "databaseworker.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QThread>

#include <functional>

namespace Db {

// The GUI's handle on the database: a DatabaseWorker on a thread of its own. Queries go over with a
// queued call and their answers come back to the caller's thread as callbacks, so the thread that
// owns this object never waits for PostgreSQL.
class AsyncDatabase final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AsyncDatabase)

public:
    using Callback = std::function<void(const TableData &data, const QString &error)>;

    explicit AsyncDatabase(DatabaseConfig config, QObject *parent = nullptr);
    ~AsyncDatabase() override;

    const DatabaseConfig &config() const { return m_config; }
    LinkState linkState() const { return m_state; }
    QString linkDetail() const { return m_detail; }

    // Runs sql with params on the worker; callback runs on this object's thread unless context has
    // been destroyed by then.
    void query(const QString &sql, const QVariantList &params, QObject *context, Callback callback);

    // Runs function on the worker with its connection (for the repositories, which take a
    // Db::Connection); callback gets its result, or error when the database was not available.
    // function must not touch objects of the calling thread.
    using Function = std::function<QVariant(Db::Connection &)>;
    using FunctionCallback = std::function<void(const QVariant &result, const QString &error)>;
    void run(Function function, QObject *context, FunctionCallback callback);

Q_SIGNALS:
    void linkStateChanged(Db::LinkState state, const QString &where, const QString &detail);

private:
    void handleQueryFinished(quint64 requestId, const Db::TableData &data, const QString &error);
    void handleLinkStateChanged(Db::LinkState state, const QString &where, const QString &detail);
    void handleFunctionFinished(quint64 requestId, const QVariant &result, const QString &error);

    struct Pending
    {
        QPointer<QObject> context;
        Callback callback;
    };

    DatabaseConfig m_config;
    QThread m_thread;
    DatabaseWorker *m_worker = nullptr;
    quint64 m_nextRequest = 1;
    QHash<quint64, Pending> m_pending;
    struct PendingFunction
    {
        QPointer<QObject> context;
        FunctionCallback callback;
    };
    QHash<quint64, PendingFunction> m_pendingFunctions;
    LinkState m_state = LinkState::Connecting;
    QString m_detail;
};

} // namespace Db
