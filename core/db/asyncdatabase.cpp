#include "asyncdatabase.h"

namespace Db {

AsyncDatabase::AsyncDatabase(DatabaseConfig config, QObject *parent)
    : QObject(parent)
    , m_config(config)
{
    m_thread.setObjectName(QStringLiteral("postdesk-db"));
    m_worker = new DatabaseWorker(std::move(config));
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(&m_thread, &QThread::started, m_worker, &DatabaseWorker::start);
    connect(m_worker, &DatabaseWorker::queryFinished, this, &AsyncDatabase::handleQueryFinished);
    connect(m_worker, &DatabaseWorker::functionFinished, this,
            &AsyncDatabase::handleFunctionFinished);
    connect(m_worker, &DatabaseWorker::linkStateChanged, this,
            &AsyncDatabase::handleLinkStateChanged);
    m_thread.start();
}

AsyncDatabase::~AsyncDatabase()
{
    m_thread.quit();
    m_thread.wait();
}

void AsyncDatabase::query(const QString &sql, const QVariantList &params, QObject *context,
                          Callback callback)
{
    const quint64 id = m_nextRequest++;
    m_pending.insert(id, Pending{context, std::move(callback)});
    QMetaObject::invokeMethod(
            m_worker, [worker = m_worker, id, sql, params] { worker->runQuery(id, sql, params); },
            Qt::QueuedConnection);
}

void AsyncDatabase::run(Function function, QObject *context, FunctionCallback callback)
{
    const quint64 id = m_nextRequest++;
    m_pendingFunctions.insert(id, PendingFunction{context, std::move(callback)});
    QMetaObject::invokeMethod(
            m_worker,
            [worker = m_worker, id, function = std::move(function)] {
                worker->runFunction(id, function);
            },
            Qt::QueuedConnection);
}

void AsyncDatabase::handleFunctionFinished(quint64 requestId, const QVariant &result,
                                           const QString &error)
{
    const PendingFunction pending = m_pendingFunctions.take(requestId);
    if (pending.context && pending.callback)
        pending.callback(result, error);
}

void AsyncDatabase::handleQueryFinished(quint64 requestId, const TableData &data,
                                        const QString &error)
{
    const Pending pending = m_pending.take(requestId);
    if (pending.context && pending.callback)
        pending.callback(data, error);
}

void AsyncDatabase::handleLinkStateChanged(LinkState state, const QString &where,
                                           const QString &detail)
{
    m_state = state;
    m_detail = detail;
    Q_EMIT linkStateChanged(state, where, detail);
}

} // namespace Db
