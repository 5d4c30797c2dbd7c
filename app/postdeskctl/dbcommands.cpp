#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "db/databaseconfig.h"
#include "db/localcluster.h"
#include "db/migrator.h"

namespace Ctl {

namespace {

const char *dbUsage = "Usage: postdeskctl db migrate|status [--db CONNINFO]\n"
                      "       postdeskctl db local status|start|stop\n\n"
                      "  migrate       bring the schema up to date (safe to run concurrently)\n"
                      "  status        server version, schema version and where the database is\n"
                      "  local status  the embedded database: where it is and whether it runs\n"
                      "  local start   create (first time) and start the embedded database\n"
                      "  local stop    stop the embedded database\n";

int runMigrate(const QStringList &args)
{
    QCommandLineParser parser;
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("db migrate"), args, &exitCode))
        return exitCode;
    auto connection = openDatabase(parser, false);
    if (!connection)
        return reportError(connection.error());
    Db::Migrator migrator(**connection);
    auto applied = migrator.migrate();
    if (!applied)
        return reportError(applied.error());
    auto status = migrator.status();
    if (!status)
        return reportError(status.error());
    if (applied->isEmpty()) {
        out() << "Schema is up to date (version " << status->current << ").\n";
    } else {
        QStringList versions;
        for (int version : std::as_const(*applied))
            versions << QString::number(version);
        out() << "Applied migration" << (applied->size() > 1 ? "s " : " ") << versions.join(u", ")
              << "; schema is at version " << status->current << ".\n";
    }
    return 0;
}

int runStatus(const QStringList &args)
{
    QCommandLineParser parser;
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("db status"), args, &exitCode))
        return exitCode;
    const QString value = parser.isSet(QStringLiteral("db")) ? parser.value(QStringLiteral("db"))
                                                             : QString();
    auto config = Db::DatabaseConfig::resolve(value);
    if (!config)
        return reportError(config.error());
    out() << "Database: " << config->describe() << '\n';
    out().flush();
    auto connection = config->open({false, QStringLiteral("postdeskctl")});
    if (!connection && connection.error().code != u"db.schema_too_new")
        return reportError(connection.error());
    if (!connection) {
        out() << "Schema: too new for this program\n";
        return reportError(connection.error());
    }
    Db::Migrator migrator(**connection);
    auto status = migrator.status();
    if (!status)
        return reportError(status.error());
    out() << "Server: PostgreSQL " << (*connection)->serverVersionString() << '\n';
    out() << "Schema: version " << status->current << " (this program knows up to "
          << status->latest << ")";
    if (status->isBehind())
        out() << "; run 'postdeskctl db migrate' to update";
    out() << '\n';
    return 0;
}

int runLocal(const QStringList &args)
{
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h") {
        out() << dbUsage;
        return args.isEmpty() ? 2 : 0;
    }
    Db::LocalCluster cluster;
    const QString action = args.first();
    if (action == u"status") {
        out() << cluster.statusText() << '\n';
        return 0;
    }
    if (action == u"start") {
        const bool wasRunning = cluster.isCreated() && cluster.isRunning();
        if (Db::LocalCluster::runsAsServiceAccount() && !wasRunning)
            out() << "Running as root: the embedded PostgreSQL server runs as the 'postgres' "
                     "system account.\n";
        out().flush();
        if (auto ok = cluster.ensureRunning(); !ok)
            return reportError(ok.error());
        out() << (wasRunning ? "The embedded database is already running: "
                             : "The embedded database is running: ")
              << cluster.baseDir() << '\n';
        return 0;
    }
    if (action == u"stop") {
        if (!cluster.isCreated()) {
            out() << "There is no embedded database yet (" << cluster.baseDir() << ").\n";
            return 0;
        }
        const bool wasRunning = cluster.isRunning();
        if (auto ok = cluster.stop(); !ok)
            return reportError(ok.error());
        out() << (wasRunning ? "Stopped the embedded database.\n"
                             : "The embedded database was not running.\n");
        return 0;
    }
    err() << "postdeskctl db local: unknown action '" << action << "'.\n" << dbUsage;
    return 2;
}

} // namespace

int runDb(const QStringList &args)
{
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h") {
        out() << dbUsage;
        return args.isEmpty() ? 2 : 0;
    }
    const QString sub = args.first();
    const QStringList rest = args.mid(1);
    if (sub == u"migrate")
        return runMigrate(rest);
    if (sub == u"status")
        return runStatus(rest);
    if (sub == u"local")
        return runLocal(rest);
    err() << "postdeskctl db: unknown command '" << sub << "'.\n" << dbUsage;
    return 2;
}

} // namespace Ctl
