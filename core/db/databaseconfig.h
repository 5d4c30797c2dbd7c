#pragma once

#include "common/result.h"
#include "connection.h"
#include "connectioninfo.h"

#include <QString>

#include <memory>

namespace Db {

// Which database a program uses. In order: --db CONNINFO, the POSTDESK_DB environment variable, the
// "database/conninfo" setting (which the GUI's Settings page edits), else the embedded database.
class DatabaseConfig
{
public:
    enum class Kind { Embedded, External };

    static DatabaseConfig embedded(const QString &baseDir = {});
    static Common::Result<DatabaseConfig> external(const QString &conninfo);

    // commandLineValue is the --db value, or a null QString when the option was not given.
    static Common::Result<DatabaseConfig> resolve(const QString &commandLineValue = QString());

    // The stored setting ("" or missing: embedded); saveToSettings writes it.
    static QString savedConnectionString();
    static void saveConnectionString(const QString &conninfo);

    Kind kind() const { return m_kind; }
    bool isEmbedded() const { return m_kind == Kind::Embedded; }
    QString embeddedBaseDir() const; // the embedded cluster's directory
    const ConnectionInfo &externalInfo() const { return m_info; }
    // Where to connect: the external connection string, or the embedded cluster's socket (which
    // open() starts when needed; this does not).
    ConnectionInfo connectionInfo() const;

    // "embedded database (/home/a/.local/share/postdesk/db)" or "postdesk on db:5432 as alice".
    QString describe() const;

    struct OpenOptions
    {
        bool migrate = true; // bring the schema up to date (under the migration lock)
        QString applicationName = QStringLiteral("postdesk");
    };

    // Connects (starting the embedded cluster first when needed), refuses a schema newer than this
    // program, and migrates when asked. Blocking: call it on a worker thread in the GUI.
    Common::Result<std::unique_ptr<Connection>> open(const OpenOptions &options) const;
    Common::Result<std::unique_ptr<Connection>> open() const { return open(OpenOptions{}); }

private:
    Kind m_kind = Kind::Embedded;
    QString m_baseDir;
    ConnectionInfo m_info;
};

} // namespace Db
