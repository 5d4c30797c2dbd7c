#pragma once

#include "common/result.h"
#include "connectioninfo.h"

#include <QString>
#include <QStringList>

namespace Db {

// The embedded default database: a private PostgreSQL cluster that Postdesk creates (initdb) and
// starts (pg_ctl) itself under the user's data directory. It listens only on a Unix socket in a
// private directory (no TCP port), is started on demand, reused when already running, and keeps
// running after the program that started it exits, so the next one connects at once.
//
// Layout under baseDir():  data/ (PGDATA)   run/ (socket directory, 0700)   log/server.log
//
// As root the server cannot run as root, so it runs as the "postgres" system account; in that case
// the directories belong to that account.
class LocalCluster
{
public:
    explicit LocalCluster(QString baseDir = defaultBaseDir());

    // $XDG_DATA_HOME/postdesk/db (~/.local/share/postdesk/db). As root, when the postgres account
    // could not reach that directory (root's home is private), /var/lib/postdesk/db.
    static QString defaultBaseDir();

    QString baseDir() const { return m_baseDir; }
    QString dataDir() const;
    QString socketDir() const;
    QString logFile() const;

    // True when the server runs as the postgres account because this process is root.
    static bool runsAsServiceAccount();

    // Where initdb, pg_ctl and postgres are: $POSTDESK_PG_BINDIR, else the newest
    // /usr/lib/postgresql/N/bin, else PATH. The error names the package to install.
    static Common::Result<QString> findServerBinDir();

    bool isCreated() const;
    // True when a server answers on the socket (a quick check, no login).
    bool isRunning() const;

    // Creates the cluster if there is none, starts it if it is not running, and creates the
    // postdesk database. Safe to call from several processes at once (a lock file serialises).
    Common::Status ensureRunning();
    Common::Status start();
    // Stops the server ("fast": disconnects clients, finishes cleanly).
    Common::Status stop();

    // A human-readable status: where it is, whether it is created and running, its version.
    QString statusText() const;

    ConnectionInfo connectionInfo() const;

    static constexpr const char *DatabaseName = "postdesk";
    static constexpr const char *UserName = "postdesk";

private:
    Common::Status create(const QString &binDir);
    Common::Status startLocked(const QString &binDir);
    Common::Status createDatabase();
    Common::Result<QString> run(const QString &program, const QStringList &arguments,
                                int timeoutMs) const;
    Common::Status prepareDirectory(const QString &path, bool privateMode) const;

    QString m_baseDir;
};

} // namespace Db
