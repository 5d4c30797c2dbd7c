#pragma once

#include "common/result.h"
#include "connectioninfo.h"
#include "queryresult.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QVariant>

#include <memory>

struct pg_conn;

namespace Db {

struct Notification
{
    QString channel;
    QString payload;
    int serverPid = 0;
};

// One libpq connection. It belongs to the thread that uses it: every thread (GUI worker, send
// worker, HTTP server worker) opens its own. All SQL goes through exec() with parameters; values
// are never spliced into statement text.
//
// Errors carry the SQLSTATE in detail and are transient when retrying can help (connection lost,
// serialization failure, deadlock, server shutting down).
class Connection
{
public:
    Q_DISABLE_COPY_MOVE(Connection)
    ~Connection();

    // Connects; an error says plainly whether the server is unreachable, the login was refused or
    // the database does not exist, and what to do about it.
    static Common::Result<std::unique_ptr<Connection>> open(const ConnectionInfo &info,
                                                            const QString &applicationName = {});

    const ConnectionInfo &info() const { return m_info; }

    // Runs one statement with $1..$n parameters. A null QVariant is SQL NULL; QByteArray is sent as
    // bytea; bool, numbers, QDateTime, QJsonObject/QJsonArray and QStringList (as text[]) are
    // converted to PostgreSQL's text forms.
    Common::Result<QueryResult> exec(const QString &sql, const QVariantList &params = {});

    // Like exec(), for a statement this connection runs again and again (a send worker's claim and
    // settle): it is prepared on first use and kept, so the server parses and plans it once.
    Common::Result<QueryResult> execPrepared(const QString &sql, const QVariantList &params = {});

    // A statement for execEach() or execPipeline(): SQL text with its parameters, or the name of
    // one made with prepare().
    struct Statement
    {
        QString sql;
        QVariantList params;
        // execEach(): prepared as execPrepared() does; otherwise planned afresh each time, as
        // exec() does, which suits a statement whose best plan depends on its parameters' values.
        bool prepare = false;
        QByteArray prepared; // the name given to prepare(), instead of sql
    };

    // Runs the statements in one round trip with libpq's pipeline mode. Each is its own
    // transaction, as with exec(): one that fails does not undo or stop the others. The results
    // come back in order; an empty list when pipeline mode is unavailable.
    QList<Common::Result<QueryResult>> execEach(const QList<Statement> &statements);

    // Runs several statements without parameters (migrations, scripts).
    Common::Status execScript(const QString &sql);

    Common::Status begin() { return execScript(QStringLiteral("BEGIN")); }
    Common::Status commit() { return execScript(QStringLiteral("COMMIT")); }
    void rollback();

    // Several statements sent at once in libpq's pipeline mode, their results read after one
    // round trip. After the first failure the rest are skipped (the server aborts the pipeline
    // up to its sync point) and that failure is returned; a transaction the statements opened is
    // then left for rollback().
    Common::Result<QList<QueryResult>> execPipeline(const QList<Statement> &statements);

    // Prepares a named statement for this session (planned once, run with execPipeline()).
    Common::Status prepare(const QByteArray &name, const QString &sql);

    // COPY ... FROM STDIN with the given data (text or CSV as the statement says).
    Common::Result<qint64> copyIn(const QString &copySql, const QByteArray &data);

    // LISTEN on a channel; notifications are collected with takeNotifications() once the socket
    // is readable (see socketDescriptor()).
    Common::Status listen(const QString &channel);
    QList<Notification> takeNotifications();
    int socketDescriptor() const;

    // True while the server is reachable as far as libpq knows (after the last call).
    bool isAlive() const;
    // A round trip to the server.
    Common::Status ping();

    int serverVersion() const;           // e.g. 150018
    QString serverVersionString() const; // e.g. "15.18"
    int backendPid() const;

    // Escape hatch for what this class does not cover (pipelining, binary COPY). Use sparingly.
    pg_conn *handle() const { return m_conn; }

private:
    Connection(pg_conn *conn, ConnectionInfo info);
    Common::Error errorFromResult(const char *what, struct pg_result *result) const;
    // The server-side name of the prepared statement for sql, preparing it first if needed; with
    // queue set, the preparation is only sent (pipeline mode) and its result read by the caller.
    Common::Result<QByteArray> preparedName(const QString &sql, int paramCount, bool queue,
                                            bool *queued);

    QHash<QString, QByteArray> m_prepared;
    pg_conn *m_conn = nullptr;
    ConnectionInfo m_info;
};

// Quotes a text[] literal for a parameter: {"a","b\"c"}.
QString textArrayLiteral(const QStringList &values);

// Whether a statement failed on a deadlock or a serialization failure (SQLSTATE 40P01, 40001):
// the database is fine, the transaction met another one and can simply run again.
bool isConflict(const Common::Error &error);

} // namespace Db
