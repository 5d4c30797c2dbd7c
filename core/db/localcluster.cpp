#include "localcluster.h"

#include "common/logging.h"
#include "connection.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLockFile>
#include <QProcess>
#include <QStandardPaths>
#include <QVersionNumber>

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace Db {

namespace {

constexpr const char *ServiceAccount = "postgres";
constexpr int Port = 5432; // only names the socket file; no TCP port is opened

QString socketPath(const QString &dir)
{
    return dir + QStringLiteral("/.s.PGSQL.%1").arg(Port);
}

// Can the service account walk down to path? Every ancestor must be searchable by "other" (or be
// owned by the account).
bool reachableByServiceAccount(const QString &path)
{
    const passwd *account = getpwnam(ServiceAccount);
    if (!account)
        return false;
    QString current = QDir::cleanPath(path);
    while (!current.isEmpty() && current != u"/") {
        struct stat st;
        const QByteArray local = QFile::encodeName(current);
        if (::stat(local.constData(), &st) == 0) {
            const bool owner = st.st_uid == account->pw_uid;
            if (!(owner ? (st.st_mode & S_IXUSR) : (st.st_mode & S_IXOTH)))
                return false;
        }
        current = QFileInfo(current).path();
    }
    return true;
}

} // namespace

LocalCluster::LocalCluster(QString baseDir)
    : m_baseDir(std::move(baseDir))
{ }

bool LocalCluster::runsAsServiceAccount()
{
    return geteuid() == 0;
}

QString LocalCluster::defaultBaseDir()
{
    const QString xdg = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
            + QStringLiteral("/postdesk/db");
    if (runsAsServiceAccount() && !reachableByServiceAccount(QFileInfo(xdg).path()))
        return QStringLiteral("/var/lib/postdesk/db");
    return xdg;
}

QString LocalCluster::dataDir() const
{
    return m_baseDir + QStringLiteral("/data");
}

QString LocalCluster::socketDir() const
{
    return m_baseDir + QStringLiteral("/run");
}

QString LocalCluster::logFile() const
{
    return m_baseDir + QStringLiteral("/log/server.log");
}

Common::Result<QString> LocalCluster::findServerBinDir()
{
    auto hasServer = [](const QString &dir) {
        return QFileInfo(dir + QStringLiteral("/initdb")).isExecutable()
                && QFileInfo(dir + QStringLiteral("/pg_ctl")).isExecutable()
                && QFileInfo(dir + QStringLiteral("/postgres")).isExecutable();
    };
    const QString configured = qEnvironmentVariable("POSTDESK_PG_BINDIR");
    if (!configured.isEmpty()) {
        if (hasServer(configured))
            return configured;
        return Common::fail(QStringLiteral("localdb.no_server"),
                            QStringLiteral("POSTDESK_PG_BINDIR is %1, but initdb, pg_ctl and "
                                           "postgres are not all there.")
                                    .arg(configured));
    }
    // Debian and Ubuntu keep each major version's server in /usr/lib/postgresql/N/bin.
    const QDir versions(QStringLiteral("/usr/lib/postgresql"));
    QStringList candidates = versions.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    std::sort(candidates.begin(), candidates.end(), [](const QString &a, const QString &b) {
        return QVersionNumber::fromString(a) > QVersionNumber::fromString(b);
    });
    for (const QString &version : std::as_const(candidates)) {
        const QString dir = versions.filePath(version) + QStringLiteral("/bin");
        if (hasServer(dir))
            return dir;
    }
    const QString initdb = QStandardPaths::findExecutable(QStringLiteral("initdb"));
    if (!initdb.isEmpty() && hasServer(QFileInfo(initdb).path()))
        return QFileInfo(initdb).path();
    return Common::fail(
            QStringLiteral("localdb.no_server"),
            QStringLiteral("The embedded database needs the PostgreSQL server programs (initdb, "
                           "pg_ctl, postgres), which are not installed. Install them with "
                           "'sudo apt-get install postgresql-15' (Debian 12), or point Postdesk at "
                           "an existing server with --db CONNINFO."));
}

bool LocalCluster::isCreated() const
{
    return QFileInfo::exists(dataDir() + QStringLiteral("/PG_VERSION"));
}

bool LocalCluster::isRunning() const
{
    // Connecting to the socket is enough to know a postmaster listens; no login needed.
    const QByteArray path = QFile::encodeName(socketPath(socketDir()));
    sockaddr_un address{};
    if (size_t(path.size()) >= sizeof(address.sun_path))
        return false;
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, path.constData(), size_t(path.size()));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    const bool connected = ::connect(fd, reinterpret_cast<const sockaddr *>(&address),
                                     sizeof(address))
            == 0;
    ::close(fd);
    return connected;
}

ConnectionInfo LocalCluster::connectionInfo() const
{
    auto info = ConnectionInfo::parse(QString());
    return info->with(QStringLiteral("host"), socketDir())
            .with(QStringLiteral("port"), QString::number(Port))
            .with(QStringLiteral("dbname"), QLatin1String(DatabaseName))
            .with(QStringLiteral("user"), QLatin1String(UserName))
            .with(QStringLiteral("sslmode"), QStringLiteral("disable"));
}

Common::Result<QString> LocalCluster::run(const QString &program, const QStringList &arguments,
                                          int timeoutMs) const
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    // The server must not inherit a client's idea of where to connect.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGOPTIONS"})
        env.remove(QLatin1String(name));
    env.insert(QStringLiteral("LC_MESSAGES"), QStringLiteral("C"));
    process.setProcessEnvironment(env);
    process.setWorkingDirectory(m_baseDir);
    if (runsAsServiceAccount()) {
        process.setProgram(QStringLiteral("runuser"));
        process.setArguments(QStringList{QStringLiteral("-u"), QLatin1String(ServiceAccount),
                                         QStringLiteral("--"), program}
                             + arguments);
    } else {
        process.setProgram(program);
        process.setArguments(arguments);
    }
    process.start();
    if (!process.waitForStarted(10000)) {
        return Common::fail(QStringLiteral("localdb.exec_failed"),
                            QStringLiteral("Could not run %1: %2")
                                    .arg(process.program(), process.errorString()));
    }
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished(2000);
        return Common::fail(QStringLiteral("localdb.timeout"),
                            QStringLiteral("%1 did not finish in %2 s.")
                                    .arg(QFileInfo(program).fileName())
                                    .arg(timeoutMs / 1000),
                            QString::fromLocal8Bit(process.readAll()), Common::Retry::Transient);
    }
    const QString output = QString::fromLocal8Bit(process.readAll()).trimmed();
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        return Common::fail(QStringLiteral("localdb.command_failed"),
                            QStringLiteral("%1 failed (exit status %2).")
                                    .arg(QFileInfo(program).fileName())
                                    .arg(process.exitCode()),
                            output);
    }
    return output;
}

Common::Status LocalCluster::prepareDirectory(const QString &path, bool privateMode) const
{
    if (!QDir().mkpath(path)) {
        return Common::fail(QStringLiteral("localdb.mkdir_failed"),
                            QStringLiteral("Could not create the directory %1 for the embedded "
                                           "database. Check the permissions of its parent.")
                                    .arg(path));
    }
    const QByteArray local = QFile::encodeName(path);
    if (privateMode)
        ::chmod(local.constData(), 0700);
    if (runsAsServiceAccount()) {
        const passwd *account = getpwnam(ServiceAccount);
        if (!account) {
            return Common::fail(
                    QStringLiteral("localdb.no_account"),
                    QStringLiteral("Running as root, the embedded database must run as the "
                                   "'postgres' system account, which does not exist. Install "
                                   "postgresql-15 (it creates the account), or run Postdesk as an "
                                   "ordinary user."));
        }
        if (::chown(local.constData(), account->pw_uid, account->pw_gid) != 0) {
            return Common::fail(QStringLiteral("localdb.chown_failed"),
                                QStringLiteral("Could not give %1 to the postgres account.")
                                        .arg(path));
        }
    }
    return {};
}

Common::Status LocalCluster::create(const QString &binDir)
{
    if (runsAsServiceAccount()) {
        qCInfo(lcLocalDb) << "running as root: the embedded PostgreSQL server runs as the"
                          << ServiceAccount << "system account";
    }
    qCInfo(lcLocalDb) << "creating the embedded database in" << m_baseDir;
    for (const auto &[dir, isPrivate] :
         {std::pair{m_baseDir, false}, std::pair{dataDir(), true}, std::pair{socketDir(), true},
          std::pair{QFileInfo(logFile()).path(), true}}) {
        if (auto ok = prepareDirectory(dir, isPrivate); !ok)
            return ok;
    }
    if (size_t(QFile::encodeName(socketPath(socketDir())).size()) >= sizeof(sockaddr_un::sun_path)) {
        return Common::fail(QStringLiteral("localdb.path_too_long"),
                            QStringLiteral("The socket path %1 is longer than a Unix socket "
                                           "allows (107 bytes). Set XDG_DATA_HOME to a shorter "
                                           "directory.")
                                    .arg(socketPath(socketDir())));
    }
    auto initdb = run(binDir + QStringLiteral("/initdb"),
                      {QStringLiteral("-D"), dataDir(), QStringLiteral("-U"),
                       QLatin1String(UserName), QStringLiteral("-E"), QStringLiteral("UTF8"),
                       QStringLiteral("--locale=C.UTF-8"), QStringLiteral("--auth-local=trust"),
                       QStringLiteral("--auth-host=reject"), QStringLiteral("--no-instructions")},
                      120000);
    if (!initdb) {
        Common::Error error = initdb.error();
        error.message = QStringLiteral("Could not create the embedded database in %1: %2")
                                .arg(dataDir(), error.message);
        return Common::fail(error);
    }
    // Only a Unix socket in our private directory: nobody else can reach the server, which is
    // why trust authentication is safe here.
    QFile conf(dataDir() + QStringLiteral("/postgresql.conf"));
    if (!conf.open(QIODevice::Append | QIODevice::Text)) {
        return Common::fail(QStringLiteral("localdb.config_failed"),
                            QStringLiteral("Could not write %1.").arg(conf.fileName()));
    }
    QString socketDirValue = socketDir();
    socketDirValue.replace(u'\'', QStringLiteral("''"));
    conf.write(QStringLiteral("\n# Postdesk embedded database\n"
                              "listen_addresses = ''\n"
                              "port = %1\n"
                              "unix_socket_directories = '%2'\n"
                              "unix_socket_permissions = 0700\n"
                              "max_connections = 200\n"
                              "logging_collector = off\n")
                       .arg(Port)
                       .arg(socketDirValue)
                       .toUtf8());
    return {};
}

Common::Status LocalCluster::startLocked(const QString &binDir)
{
    if (isRunning())
        return {};
    qCInfo(lcLocalDb) << "starting the embedded database in" << m_baseDir;
    auto started = run(binDir + QStringLiteral("/pg_ctl"),
                       {QStringLiteral("-D"), dataDir(), QStringLiteral("-l"), logFile(),
                        QStringLiteral("-w"), QStringLiteral("-t"), QStringLiteral("60"),
                        QStringLiteral("start")},
                       90000);
    if (!started) {
        Common::Error error = started.error();
        error.message = QStringLiteral("Could not start the embedded database (%1): %2 See %3.")
                                .arg(dataDir(), error.message, logFile());
        error.retry = Common::Retry::Transient;
        return Common::fail(error);
    }
    return {};
}

Common::Status LocalCluster::createDatabase()
{
    auto connection = Connection::open(connectionInfo().with(QStringLiteral("dbname"),
                                                             QStringLiteral("postgres")),
                                       QStringLiteral("postdesk-setup"));
    if (!connection)
        return Common::fail(connection.error());
    auto exists = (*connection)
                          ->exec(QStringLiteral("SELECT 1 FROM pg_database WHERE datname = $1"),
                                 {QLatin1String(DatabaseName)});
    if (!exists)
        return Common::fail(exists.error());
    if (exists->rowCount() == 0) {
        if (auto ok = (*connection)->execScript(QStringLiteral("CREATE DATABASE postdesk")); !ok)
            return ok;
    }
    return {};
}

Common::Status LocalCluster::ensureRunning()
{
    if (isCreated() && isRunning())
        return {};
    auto binDir = findServerBinDir();
    if (!binDir)
        return Common::fail(binDir.error());
    if (!QDir().mkpath(m_baseDir)) {
        return Common::fail(QStringLiteral("localdb.mkdir_failed"),
                            QStringLiteral("Could not create %1 for the embedded database.")
                                    .arg(m_baseDir));
    }
    // Two programs starting at once (the GUI and postdeskd, say) must not both run initdb.
    QLockFile lock(m_baseDir + QStringLiteral("/setup.lock"));
    lock.setStaleLockTime(0);
    if (!lock.tryLock(180000)) {
        return Common::fail(QStringLiteral("localdb.locked"),
                            QStringLiteral("Another Postdesk program is setting up the embedded "
                                           "database in %1 and has not finished.")
                                    .arg(m_baseDir),
                            {}, Common::Retry::Transient);
    }
    const bool fresh = !isCreated();
    if (fresh) {
        if (auto ok = create(*binDir); !ok)
            return ok;
    }
    if (auto ok = startLocked(*binDir); !ok)
        return ok;
    return createDatabase();
}

Common::Status LocalCluster::start()
{
    return ensureRunning();
}

Common::Status LocalCluster::stop()
{
    if (!isCreated()) {
        return Common::fail(QStringLiteral("localdb.not_created"),
                            QStringLiteral("There is no embedded database in %1.").arg(m_baseDir));
    }
    if (!isRunning())
        return {};
    auto binDir = findServerBinDir();
    if (!binDir)
        return Common::fail(binDir.error());
    auto stopped = run(*binDir + QStringLiteral("/pg_ctl"),
                       {QStringLiteral("-D"), dataDir(), QStringLiteral("-m"),
                        QStringLiteral("fast"), QStringLiteral("-w"), QStringLiteral("-t"),
                        QStringLiteral("60"), QStringLiteral("stop")},
                       90000);
    if (!stopped)
        return Common::fail(stopped.error());
    return {};
}

QString LocalCluster::statusText() const
{
    QStringList lines;
    lines << QStringLiteral("Embedded database: %1").arg(m_baseDir);
    if (!isCreated()) {
        lines << QStringLiteral("State: not created (it is created on first use)");
        return lines.join(u'\n');
    }
    QFile version(dataDir() + QStringLiteral("/PG_VERSION"));
    QString major = QStringLiteral("?");
    if (version.open(QIODevice::ReadOnly))
        major = QString::fromLatin1(version.readAll()).trimmed();
    lines << QStringLiteral("State: %1")
                     .arg(isRunning() ? QStringLiteral("running") : QStringLiteral("stopped"));
    lines << QStringLiteral("PostgreSQL: %1").arg(major);
    lines << QStringLiteral("Socket: %1 (no TCP port)").arg(socketDir());
    lines << QStringLiteral("Log: %1").arg(logFile());
    if (runsAsServiceAccount())
        lines << QStringLiteral("Server account: postgres (this program runs as root)");
    return lines.join(u'\n');
}

} // namespace Db
