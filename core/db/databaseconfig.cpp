#include "databaseconfig.h"

#include "connection.h"
#include "localcluster.h"
#include "migrator.h"

#include <QSettings>

namespace Db {

namespace {
const QString settingKey = QStringLiteral("database/conninfo");
}

DatabaseConfig DatabaseConfig::embedded(const QString &baseDir)
{
    DatabaseConfig config;
    config.m_kind = Kind::Embedded;
    config.m_baseDir = baseDir;
    return config;
}

Common::Result<DatabaseConfig> DatabaseConfig::external(const QString &conninfo)
{
    auto info = ConnectionInfo::parse(conninfo);
    if (!info)
        return Common::fail(info.error());
    DatabaseConfig config;
    config.m_kind = Kind::External;
    config.m_info = *info;
    return config;
}

Common::Result<DatabaseConfig> DatabaseConfig::resolve(const QString &commandLineValue)
{
    // "--db embedded" asks for the embedded database explicitly, whatever the settings say.
    auto choose = [](const QString &value) -> Common::Result<DatabaseConfig> {
        if (value.trimmed() == u"embedded")
            return embedded();
        return external(value);
    };
    if (!commandLineValue.isNull())
        return choose(commandLineValue);
    if (qEnvironmentVariableIsSet("POSTDESK_DB"))
        return choose(qEnvironmentVariable("POSTDESK_DB"));
    const QString saved = savedConnectionString();
    if (!saved.trimmed().isEmpty())
        return choose(saved);
    return embedded();
}

QString DatabaseConfig::savedConnectionString()
{
    return QSettings().value(settingKey).toString();
}

void DatabaseConfig::saveConnectionString(const QString &conninfo)
{
    QSettings settings;
    if (conninfo.trimmed().isEmpty())
        settings.remove(settingKey);
    else
        settings.setValue(settingKey, conninfo.trimmed());
}

QString DatabaseConfig::embeddedBaseDir() const
{
    return m_baseDir.isEmpty() ? LocalCluster::defaultBaseDir() : m_baseDir;
}

ConnectionInfo DatabaseConfig::connectionInfo() const
{
    return isEmbedded() ? LocalCluster(embeddedBaseDir()).connectionInfo() : m_info;
}

QString DatabaseConfig::describe() const
{
    if (isEmbedded())
        return QStringLiteral("embedded database (%1)").arg(embeddedBaseDir());
    return m_info.describe();
}

Common::Result<std::unique_ptr<Connection>> DatabaseConfig::open(const OpenOptions &options) const
{
    ConnectionInfo info = m_info;
    if (isEmbedded()) {
        LocalCluster cluster(embeddedBaseDir());
        if (auto ok = cluster.ensureRunning(); !ok)
            return Common::fail(ok.error());
        info = cluster.connectionInfo();
    }
    auto connection = Connection::open(info, options.applicationName);
    if (!connection)
        return connection;
    Migrator migrator(**connection);
    auto status = migrator.status();
    if (!status)
        return Common::fail(status.error());
    if (status->isTooNew())
        return Common::fail(Migrator::tooNewError(*status));
    if (options.migrate && status->isBehind()) {
        if (auto applied = migrator.migrate(); !applied)
            return Common::fail(applied.error());
    }
    return connection;
}

} // namespace Db
