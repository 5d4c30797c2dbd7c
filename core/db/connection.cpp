#include "connection.h"

#include "common/logging.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <libpq-fe.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace Db {

namespace {

bool contains(const QString &text, const char *needle)
{
    return text.contains(QLatin1String(needle), Qt::CaseInsensitive);
}

// libpq reports connection failures as text only (there is no SQLSTATE before a session exists),
// so the kinds a person must tell apart are recognised by libpq's and the server's messages.
Common::Error classifyConnectError(const QString &message, const ConnectionInfo &info)
{
    const QString where = info.describe();
    if (contains(message, "password authentication failed")
        || contains(message, "no password supplied") || contains(message, "authentication failed")
        || contains(message, "no pg_hba.conf entry") || contains(message, "role \"")) {
        return Common::makeError(
                QStringLiteral("db.auth_failed"),
                QStringLiteral("PostgreSQL refused the login (%1). Check the user name and "
                               "password in the connection string, PGUSER/PGPASSWORD or "
                               "~/.pgpass, and the server's pg_hba.conf.")
                        .arg(where),
                message);
    }
    if (contains(message, "database \"") && contains(message, "does not exist")) {
        return Common::makeError(
                QStringLiteral("db.missing"),
                QStringLiteral("The database does not exist (%1). Create it (createdb NAME) or "
                               "choose another with dbname=...")
                        .arg(where),
                message);
    }
    if (contains(message, "SSL") || contains(message, "certificate")) {
        return Common::makeError(QStringLiteral("db.tls_failed"),
                                 QStringLiteral("The TLS connection to PostgreSQL failed (%1). "
                                                "Check sslmode, sslrootcert and the server's "
                                                "certificate.")
                                         .arg(where),
                                 message);
    }
    if (contains(message, "could not connect") || contains(message, "Connection refused")
        || contains(message, "No such file or directory") || contains(message, "timeout expired")
        || contains(message, "could not translate host name") || contains(message, "server closed")
        || contains(message, "the database system is starting up")
        || contains(message, "the database system is shutting down")
        || contains(message, "Network is unreachable") || contains(message, "No route to host")) {
        return Common::makeError(QStringLiteral("db.unreachable"),
                                 QStringLiteral("Cannot reach the PostgreSQL server (%1). Check "
                                                "that it is running and that the host and port "
                                                "are right.")
                                         .arg(where),
                                 message, Common::Retry::Transient);
    }
    return Common::makeError(QStringLiteral("db.connect_failed"),
                             QStringLiteral("Could not connect to PostgreSQL (%1).").arg(where),
                             message, Common::Retry::Transient);
}

bool isTransientState(const QByteArray &state)
{
    // Class 08 connection exceptions, 40001 serialization failure, 40P01 deadlock, class 53
    // insufficient resources, 57P01..57P03 shutdown / cannot connect now.
    return state.startsWith("08") || state == "40001" || state == "40P01" || state.startsWith("53")
            || state == "57P01" || state == "57P02" || state == "57P03";
}

QByteArray toParameter(const QVariant &value, bool *isBinary)
{
    *isBinary = false;
    switch (value.typeId()) {
    case QMetaType::Bool:
        return value.toBool() ? QByteArrayLiteral("t") : QByteArrayLiteral("f");
    case QMetaType::QByteArray:
        *isBinary = true;
        return value.toByteArray();
    case QMetaType::QDateTime:
        return value.toDateTime().toUTC().toString(Qt::ISODateWithMs).toUtf8();
    case QMetaType::QDate:
        return value.toDate().toString(Qt::ISODate).toUtf8();
    case QMetaType::QJsonObject:
        return QJsonDocument(value.toJsonObject()).toJson(QJsonDocument::Compact);
    case QMetaType::QJsonArray:
        return QJsonDocument(value.toJsonArray()).toJson(QJsonDocument::Compact);
    case QMetaType::QJsonDocument:
        return value.toJsonDocument().toJson(QJsonDocument::Compact);
    case QMetaType::QStringList:
        return textArrayLiteral(value.toStringList()).toUtf8();
    default:
        return value.toString().toUtf8();
    }
}

} // namespace

QString textArrayLiteral(const QStringList &values)
{
    QString literal = QStringLiteral("{");
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i)
            literal += u',';
        literal += u'"';
        for (QChar c : values.at(i)) {
            if (c == u'"' || c == u'\\')
                literal += u'\\';
            literal += c;
        }
        literal += u'"';
    }
    return literal + u'}';
}

Connection::Connection(pg_conn *conn, ConnectionInfo info)
    : m_conn(conn)
    , m_info(std::move(info))
{ }

Connection::~Connection()
{
    PQfinish(m_conn);
}

Common::Result<std::unique_ptr<Connection>> Connection::open(const ConnectionInfo &info,
                                                             const QString &applicationName)
{
    // Keywords and values as arrays, so nothing in a value needs quoting. expand_dbname lets a
    // dbname that is itself a connection string or URI expand, as psql does.
    ConnectionInfo effective = info;
    if (!applicationName.isEmpty() && info.value(QStringLiteral("application_name")).isEmpty())
        effective = effective.with(QStringLiteral("application_name"), applicationName);
    if (effective.value(QStringLiteral("connect_timeout")).isEmpty()
        && qEnvironmentVariableIsEmpty("PGCONNECT_TIMEOUT"))
        effective = effective.with(QStringLiteral("connect_timeout"), QStringLiteral("10"));

    QList<QByteArray> storage;
    storage.reserve(effective.options().size() * 2);
    std::vector<const char *> keywords;
    std::vector<const char *> values;
    for (const auto &[key, value] : effective.options()) {
        storage.append(key.toUtf8());
        keywords.push_back(storage.constLast().constData());
        storage.append(value.toUtf8());
        values.push_back(storage.constLast().constData());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);

    PGconn *conn = PQconnectdbParams(keywords.data(), values.data(), 0);
    if (!conn) {
        return Common::fail(QStringLiteral("db.connect_failed"),
                            QStringLiteral("Could not allocate a PostgreSQL connection."));
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        const QString message = QString::fromUtf8(PQerrorMessage(conn)).trimmed();
        PQfinish(conn);
        return Common::fail(classifyConnectError(message, info));
    }
    // Server notices ("relation already exists, skipping") are for the log, not the terminal.
    PQsetNoticeProcessor(
            conn,
            [](void *, const char *message) {
                qCDebug(lcDb).noquote() << QString::fromUtf8(message).trimmed();
            },
            nullptr);
    auto connection = std::unique_ptr<Connection>(new Connection(conn, info));
    // Predictable text forms for the typed accessors, whatever the server's defaults are.
    if (auto set = connection->execScript(
                QStringLiteral("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; "
                               "SET IntervalStyle = 'iso_8601'; SET client_encoding = 'UTF8'"));
        !set) {
        return Common::fail(set.error());
    }
    return connection;
}

Common::Error Connection::errorFromResult(const char *what, pg_result *result) const
{
    const QByteArray state = result ? QByteArray(PQresultErrorField(result, PG_DIAG_SQLSTATE))
                                    : QByteArray();
    QString message = result
            ? QString::fromUtf8(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY))
            : QString();
    if (message.isEmpty())
        message = QString::fromUtf8(PQerrorMessage(m_conn)).trimmed();
    if (PQstatus(m_conn) != CONNECTION_OK) {
        return Common::makeError(QStringLiteral("db.connection_lost"),
                                 QStringLiteral("The connection to PostgreSQL was lost (%1).")
                                         .arg(m_info.describe()),
                                 message, Common::Retry::Transient);
    }
    QString detail = message;
    if (!state.isEmpty())
        detail = QString::fromLatin1(state) + QStringLiteral(": ") + message;
    if (const char *hint = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_HINT) : nullptr)
        detail += QStringLiteral(" (hint: ") + QString::fromUtf8(hint) + u')';
    return Common::makeError(QStringLiteral("db.query_failed"),
                             QStringLiteral("A database %1 failed: %2")
                                     .arg(QLatin1String(what), message),
                             detail,
                             isTransientState(state) ? Common::Retry::Transient
                                                     : Common::Retry::Permanent);
}

namespace {

// Parameters in libpq's form: values as text (or binary for bytea), NULL as a null pointer.
struct Parameters
{
    explicit Parameters(const QVariantList &params)
        : storage(params.size())
        , values(params.size())
        , lengths(params.size())
        , formats(params.size())
    {
        for (qsizetype i = 0; i < params.size(); ++i) {
            const QVariant &param = params.at(i);
            if (param.isNull()) {
                values[i] = nullptr;
                continue;
            }
            bool binary = false;
            storage[i] = toParameter(param, &binary);
            values[i] = storage[i].constData();
            lengths[i] = int(storage[i].size());
            formats[i] = binary ? 1 : 0;
        }
    }
    int count() const { return int(values.size()); }

    std::vector<QByteArray> storage;
    std::vector<const char *> values;
    std::vector<int> lengths;
    std::vector<int> formats;
};

bool succeeded(const PGresult *result)
{
    const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

} // namespace

Common::Result<QueryResult> Connection::exec(const QString &sql, const QVariantList &params)
{
    const QByteArray statement = sql.toUtf8();
    const Parameters p(params);
    PGresult *result = PQexecParams(m_conn, statement.constData(), p.count(), nullptr,
                                    p.values.data(), p.lengths.data(), p.formats.data(), 0);
    if (!succeeded(result)) {
        Common::Error error = errorFromResult("query", result);
        PQclear(result);
        return Common::fail(std::move(error));
    }
    return QueryResult(result);
}

Common::Result<QList<QueryResult>> Connection::execPipeline(const QList<Statement> &statements)
{
    if (PQenterPipelineMode(m_conn) != 1)
        return Common::fail(errorFromResult("pipeline", nullptr));
    std::optional<Common::Error> failure;
    int sent = 0;
    for (const Statement &statement : statements) {
        const Parameters p(statement.params);
        const int sentOk = statement.prepared.isEmpty()
                ? PQsendQueryParams(m_conn, statement.sql.toUtf8().constData(), p.count(), nullptr,
                                    p.values.data(), p.lengths.data(), p.formats.data(), 0)
                : PQsendQueryPrepared(m_conn, statement.prepared.constData(), p.count(),
                                      p.values.data(), p.lengths.data(), p.formats.data(), 0);
        if (sentOk != 1) {
            failure = errorFromResult("query", nullptr);
            break;
        }
        ++sent;
    }
    QList<QueryResult> results;
    results.reserve(sent);
    if (PQpipelineSync(m_conn) != 1) {
        if (!failure)
            failure = errorFromResult("pipeline", nullptr);
    } else {
        // Each statement's result is followed by a null; the sync point ends the pipeline.
        for (int i = 0; i < sent && PQstatus(m_conn) == CONNECTION_OK; ++i) {
            PGresult *r = PQgetResult(m_conn);
            if (!r)
                break;
            const ExecStatusType status = PQresultStatus(r);
            if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
                results.append(QueryResult(r));
            } else {
                if (!failure && status != PGRES_PIPELINE_ABORTED)
                    failure = errorFromResult("query", r);
                PQclear(r);
                results.append(QueryResult());
            }
            while (PGresult *rest = PQgetResult(m_conn))
                PQclear(rest);
        }
        for (int nulls = 0; nulls <= sent && PQstatus(m_conn) == CONNECTION_OK;) {
            PGresult *r = PQgetResult(m_conn);
            if (!r) {
                ++nulls;
                continue;
            }
            const bool synced = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
            PQclear(r);
            if (synced)
                break;
        }
    }
    PQexitPipelineMode(m_conn);
    if (!failure && results.size() != sent)
        failure = errorFromResult("pipeline", nullptr);
    if (failure)
        return Common::fail(std::move(*failure));
    return results;
}

Common::Status Connection::prepare(const QByteArray &name, const QString &sql)
{
    PGresult *result = PQprepare(m_conn, name.constData(), sql.toUtf8().constData(), 0, nullptr);
    const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK) {
        Common::Error error = errorFromResult("statement", result);
        PQclear(result);
        return Common::fail(std::move(error));
    }
    PQclear(result);
    return {};
}

Common::Result<QByteArray> Connection::preparedName(const QString &sql, int paramCount, bool queue,
                                                    bool *queued)
{
    *queued = false;
    if (const auto found = m_prepared.constFind(sql); found != m_prepared.cend())
        return *found;
    const QByteArray name = "postdesk_" + QByteArray::number(m_prepared.size() + 1);
    const QByteArray statement = sql.toUtf8();
    if (queue) {
        if (!PQsendPrepare(m_conn, name.constData(), statement.constData(), paramCount, nullptr))
            return Common::fail(errorFromResult("prepare", nullptr));
        *queued = true;
    } else {
        PGresult *result = PQprepare(m_conn, name.constData(), statement.constData(), paramCount,
                                     nullptr);
        if (!succeeded(result)) {
            Common::Error error = errorFromResult("prepare", result);
            PQclear(result);
            return Common::fail(std::move(error));
        }
        PQclear(result);
    }
    m_prepared.insert(sql, name);
    return name;
}

Common::Result<QueryResult> Connection::execPrepared(const QString &sql, const QVariantList &params)
{
    const Parameters p(params);
    bool queued = false;
    auto name = preparedName(sql, p.count(), false, &queued);
    if (!name)
        return Common::fail(name.error());
    PGresult *result = PQexecPrepared(m_conn, name->constData(), p.count(), p.values.data(),
                                      p.lengths.data(), p.formats.data(), 0);
    if (!succeeded(result)) {
        Common::Error error = errorFromResult("query", result);
        PQclear(result);
        return Common::fail(std::move(error));
    }
    return QueryResult(result);
}

QList<Common::Result<QueryResult>> Connection::execEach(const QList<Statement> &statements)
{
    QList<Common::Result<QueryResult>> results;
    if (statements.isEmpty() || PQpipelineStatus(m_conn) != PQ_PIPELINE_OFF
        || !PQenterPipelineMode(m_conn))
        return results;
    // Each statement is followed by a sync: its own implicit transaction, so that an error in
    // one does not abort the rest of the pipeline
    // (https://www.postgresql.org/docs/15/libpq-pipeline-mode.html).
    std::vector<bool> preparedFirst;
    std::optional<Common::Error> sendError;
    for (const Statement &statement : statements) {
        const Parameters p(statement.params);
        bool queued = false;
        bool sent = false;
        if (statement.prepare) {
            auto name = preparedName(statement.sql, p.count(), true, &queued);
            if (!name) {
                sendError = name.error();
                break;
            }
            sent = PQsendQueryPrepared(m_conn, name->constData(), p.count(), p.values.data(),
                                       p.lengths.data(), p.formats.data(), 0);
        } else {
            sent = PQsendQueryParams(m_conn, statement.sql.toUtf8().constData(), p.count(), nullptr,
                                     p.values.data(), p.lengths.data(), p.formats.data(), 0);
        }
        preparedFirst.push_back(queued);
        if (!sent || !PQpipelineSync(m_conn)) {
            sendError = errorFromResult("query", nullptr);
            break;
        }
    }
    if (sendError) {
        // Only a broken connection refuses to queue a statement: forget what was prepared (the
        // next connection starts afresh) and report every statement as failed.
        m_prepared.clear();
        PQexitPipelineMode(m_conn);
        for (qsizetype i = 0; i < statements.size(); ++i)
            results.append(Common::fail(*sendError));
        return results;
    }
    for (qsizetype i = 0; i < statements.size(); ++i) {
        std::optional<Common::Error> failure;
        PGresult *kept = nullptr;
        // The preparation's result (when sent now), the statement's, then the sync's.
        const int expected = preparedFirst[size_t(i)] ? 2 : 1;
        for (int part = 0; part < expected; ++part) {
            PGresult *result = PQgetResult(m_conn);
            if (!result) {
                failure = errorFromResult("query", nullptr);
                break;
            }
            const bool last = part == expected - 1;
            if (!succeeded(result)) {
                if (!failure)
                    failure = errorFromResult(last ? "query" : "prepare", result);
                PQclear(result);
            } else if (last) {
                kept = result;
            } else {
                PQclear(result);
            }
            // Each query's results end with a null.
            while (PGresult *extra = PQgetResult(m_conn))
                PQclear(extra);
        }
        // The sync's own result.
        while (PGresult *sync = PQgetResult(m_conn)) {
            const bool isSync = PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
            PQclear(sync);
            if (isSync)
                break;
        }
        if (failure) {
            PQclear(kept);
            if (preparedFirst[size_t(i)])
                m_prepared.remove(statements.at(i).sql);
            results.append(Common::fail(*failure));
        } else {
            results.append(QueryResult(kept));
        }
        if (PQstatus(m_conn) != CONNECTION_OK) {
            for (qsizetype j = results.size(); j < statements.size(); ++j)
                results.append(Common::fail(errorFromResult("query", nullptr)));
            break;
        }
    }
    PQexitPipelineMode(m_conn);
    return results;
}

Common::Status Connection::execScript(const QString &sql)
{
    const QByteArray script = sql.toUtf8();
    PGresult *result = PQexec(m_conn, script.constData());
    const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        Common::Error error = errorFromResult("statement", result);
        PQclear(result);
        return Common::fail(std::move(error));
    }
    PQclear(result);
    return {};
}

void Connection::rollback()
{
    if (PQtransactionStatus(m_conn) != PQTRANS_IDLE)
        PQclear(PQexec(m_conn, "ROLLBACK"));
}

Common::Result<qint64> Connection::copyIn(const QString &copySql, const QByteArray &data)
{
    PGresult *result = PQexec(m_conn, copySql.toUtf8().constData());
    if (!result || PQresultStatus(result) != PGRES_COPY_IN) {
        Common::Error error = errorFromResult("COPY", result);
        PQclear(result);
        return Common::fail(std::move(error));
    }
    PQclear(result);
    // Send in chunks so that a large batch does not need one giant libpq buffer.
    constexpr qsizetype chunk = 1 << 20;
    for (qsizetype offset = 0; offset < data.size(); offset += chunk) {
        const qsizetype length = std::min(chunk, data.size() - offset);
        if (PQputCopyData(m_conn, data.constData() + offset, int(length)) != 1)
            break;
    }
    PQputCopyEnd(m_conn, nullptr);
    qint64 rows = 0;
    std::optional<Common::Error> failure;
    while (PGresult *r = PQgetResult(m_conn)) {
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            rows = QByteArray(PQcmdTuples(r)).toLongLong();
        else if (!failure)
            failure = errorFromResult("COPY", r);
        PQclear(r);
    }
    if (failure)
        return Common::fail(*failure);
    return rows;
}

Common::Status Connection::listen(const QString &channel)
{
    char *identifier = PQescapeIdentifier(m_conn, channel.toUtf8().constData(),
                                          size_t(channel.toUtf8().size()));
    if (!identifier)
        return Common::fail(errorFromResult("LISTEN", nullptr));
    const QString sql = QStringLiteral("LISTEN ") + QString::fromUtf8(identifier);
    PQfreemem(identifier);
    return execScript(sql);
}

QList<Notification> Connection::takeNotifications()
{
    QList<Notification> notifications;
    PQconsumeInput(m_conn);
    while (PGnotify *notify = PQnotifies(m_conn)) {
        notifications.append({QString::fromUtf8(notify->relname), QString::fromUtf8(notify->extra),
                              notify->be_pid});
        PQfreemem(notify);
    }
    return notifications;
}

int Connection::socketDescriptor() const
{
    return PQsocket(m_conn);
}

bool Connection::isAlive() const
{
    return PQstatus(m_conn) == CONNECTION_OK;
}

Common::Status Connection::ping()
{
    return execScript(QStringLiteral("SELECT 1"));
}

int Connection::serverVersion() const
{
    return PQserverVersion(m_conn);
}

QString Connection::serverVersionString() const
{
    const int version = serverVersion();
    return QStringLiteral("%1.%2").arg(version / 10000).arg(version % 10000);
}

int Connection::backendPid() const
{
    return PQbackendPID(m_conn);
}

bool isConflict(const Common::Error &error)
{
    // (Query errors carry "SQLSTATE: message" in their detail.)
    return error.code == u"db.query_failed"
            && (error.detail.startsWith(u"40P01") || error.detail.startsWith(u"40001"));
}

} // namespace Db
