#include "databaseworker.h"

#include "common/logging.h"
#include "connection.h"

#include <QTimer>

namespace Db {

DatabaseWorker::DatabaseWorker(DatabaseConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
{
    qRegisterMetaType<Db::TableData>();
    qRegisterMetaType<Db::LinkState>();
}

DatabaseWorker::~DatabaseWorker() = default;

void DatabaseWorker::start()
{
    m_timer = new QTimer(this);
    connect(m_timer, &QTimer::timeout, this, &DatabaseWorker::handleTick);
    setState(LinkState::Connecting, {});
    connectNow();
}

void DatabaseWorker::connectNow()
{
    Common::Result<std::unique_ptr<Connection>> opened;
    if (!m_prepared) {
        // First time: start the embedded cluster if needed, refuse a too-new schema, migrate.
        opened = m_config.open(DatabaseConfig::OpenOptions{true, QStringLiteral("postdesk-gui")});
    } else {
        // Afterwards a plain reconnect: the server may be restarting, which is not ours to do.
        opened = Connection::open(m_resolved, QStringLiteral("postdesk-gui"));
    }
    if (!opened) {
        m_connection.reset();
        setState(LinkState::Down, opened.error().toString());
        // A schema that is too new or a bad connection string will not fix itself quickly, but
        // the user may change settings or upgrade the server: keep trying, slower.
        m_timer->start(opened.error().isTransient() ? RetryMs : HeartbeatMs * 2);
        return;
    }
    m_connection = std::move(*opened);
    m_resolved = m_connection->info();
    m_prepared = true;
    setState(LinkState::Connected,
             QStringLiteral("PostgreSQL %1").arg(m_connection->serverVersionString()));
    m_timer->start(HeartbeatMs);
}

void DatabaseWorker::handleTick()
{
    if (!m_connection) {
        connectNow();
        return;
    }
    if (auto ok = m_connection->ping(); !ok) {
        qCWarning(lcDb) << "database link lost:" << ok.error().toString();
        m_connection.reset();
        setState(LinkState::Down, ok.error().toString());
        m_timer->start(RetryMs);
    }
}

void DatabaseWorker::setState(LinkState state, const QString &detail)
{
    if (state == m_state && state != LinkState::Down)
        return;
    const bool changed = state != m_state;
    m_state = state;
    if (changed || state == LinkState::Down)
        Q_EMIT linkStateChanged(state, m_config.describe(), detail);
}

void DatabaseWorker::runFunction(quint64 requestId,
                                 const std::function<QVariant(Connection &)> &function)
{
    if (!m_connection) {
        Q_EMIT functionFinished(requestId, {},
                                QStringLiteral("The database is not available right now."));
        return;
    }
    const QVariant result = function(*m_connection);
    if (!m_connection->isAlive()) {
        m_connection.reset();
        setState(LinkState::Down, QStringLiteral("The connection to the database was lost."));
        m_timer->start(RetryMs);
        Q_EMIT functionFinished(requestId, {}, QStringLiteral("The database connection was lost."));
        return;
    }
    Q_EMIT functionFinished(requestId, result, {});
}

void DatabaseWorker::runQuery(quint64 requestId, const QString &sql, const QVariantList &params)
{
    if (!m_connection) {
        Q_EMIT queryFinished(requestId, {},
                             QStringLiteral("The database is not available right now."));
        return;
    }
    auto result = m_connection->exec(sql, params);
    if (!result) {
        if (!m_connection->isAlive()) {
            m_connection.reset();
            setState(LinkState::Down, result.error().toString());
            m_timer->start(RetryMs);
        }
        Q_EMIT queryFinished(requestId, {}, result.error().toString());
        return;
    }
    TableData data;
    const int columns = result->columnCount();
    for (int c = 0; c < columns; ++c)
        data.columns.append(result->columnName(c));
    const int rows = result->rowCount();
    data.rows.reserve(rows);
    for (int r = 0; r < rows; ++r) {
        QVariantList row;
        row.reserve(columns);
        for (int c = 0; c < columns; ++c)
            row.append(result->value(r, c));
        data.rows.append(std::move(row));
    }
    Q_EMIT queryFinished(requestId, data, {});
}

} // namespace Db
