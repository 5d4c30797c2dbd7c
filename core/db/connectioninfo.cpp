#include "connectioninfo.h"

#include <libpq-fe.h>

namespace Db {

namespace {

QString quoted(const QString &value)
{
    if (!value.isEmpty() && !value.contains(u' ') && !value.contains(u'\'')
        && !value.contains(u'\\') && !value.contains(u'='))
        return value;
    QString result = QStringLiteral("'");
    for (QChar c : value) {
        if (c == u'\'' || c == u'\\')
            result += u'\\';
        result += c;
    }
    return result + u'\'';
}

} // namespace

Common::Result<ConnectionInfo> ConnectionInfo::parse(const QString &conninfo)
{
    char *errorMessage = nullptr;
    const QByteArray utf8 = conninfo.trimmed().toUtf8();
    PQconninfoOption *parsed = PQconninfoParse(utf8.constData(), &errorMessage);
    if (!parsed) {
        const QString detail = errorMessage ? QString::fromUtf8(errorMessage).trimmed()
                                            : QStringLiteral("out of memory");
        PQfreemem(errorMessage);
        return Common::fail(QStringLiteral("db.bad_conninfo"),
                            QStringLiteral("The database connection string is not valid: %1. Use "
                                           "key=value pairs (host=... dbname=...) or a URI "
                                           "(postgresql://user@host/dbname).")
                                    .arg(detail),
                            detail);
    }
    ConnectionInfo info;
    for (PQconninfoOption *option = parsed; option->keyword; ++option) {
        if (option->val)
            info.m_options.append(
                    {QString::fromUtf8(option->keyword), QString::fromUtf8(option->val)});
    }
    PQconninfoFree(parsed);
    return info;
}

QString ConnectionInfo::value(const QString &keyword) const
{
    for (const auto &[key, value] : m_options) {
        if (key == keyword)
            return value;
    }
    return {};
}

ConnectionInfo ConnectionInfo::with(const QString &keyword, const QString &value) const
{
    ConnectionInfo copy = *this;
    for (auto &option : copy.m_options) {
        if (option.first == keyword) {
            option.second = value;
            return copy;
        }
    }
    copy.m_options.append({keyword, value});
    return copy;
}

QString ConnectionInfo::toConnectionString() const
{
    QStringList parts;
    parts.reserve(m_options.size());
    for (const auto &[key, value] : m_options)
        parts.append(key + u'=' + quoted(value));
    return parts.join(u' ');
}

QString ConnectionInfo::describe() const
{
    // What libpq would use: the explicit value, else the environment, else its default.
    auto effective = [this](const QString &keyword, const char *env, const QString &fallback) {
        const QString explicitValue = value(keyword);
        if (!explicitValue.isEmpty())
            return explicitValue;
        const QString fromEnv = qEnvironmentVariable(env);
        return fromEnv.isEmpty() ? fallback : fromEnv;
    };
    const QString service = effective(QStringLiteral("service"), "PGSERVICE", {});
    const QString host = effective(QStringLiteral("host"), "PGHOST",
                                   QStringLiteral("/var/run/postgresql"));
    const QString port = effective(QStringLiteral("port"), "PGPORT", QStringLiteral("5432"));
    const QString user = effective(QStringLiteral("user"), "PGUSER",
                                   qEnvironmentVariable("USER", QStringLiteral("(login name)")));
    const QString dbname = effective(QStringLiteral("dbname"), "PGDATABASE", user);
    if (!service.isEmpty() && value(QStringLiteral("host")).isEmpty())
        return QStringLiteral("service %1").arg(service);
    const QString where = host.startsWith(u'/') ? QStringLiteral("socket %1").arg(host)
                                                : QStringLiteral("%1:%2").arg(host, port);
    return QStringLiteral("%1 on %2 as %3").arg(dbname, where, user);
}

} // namespace Db
