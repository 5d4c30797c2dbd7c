#include "cli.h"
#include "commands.h"

#include <QCoreApplication>

#include <functional>

namespace {

struct Group
{
    const char *name;
    const char *summary;
    std::function<int(const QStringList &)> run;
};

const Group groups[] = {
    {"db", "the database: migrate, status, local status|start|stop", Ctl::runDb},
    {"demo", "fill an empty database with realistic demo data", Ctl::runDemo},
};

void printUsage()
{
    Ctl::out() << "Usage: postdeskctl COMMAND [options]\n\nCommands:\n";
    for (const Group &group : groups)
        Ctl::out() << QStringLiteral("  %1%2\n")
                              .arg(QLatin1String(group.name), -12)
                              .arg(QLatin1String(group.summary));
    Ctl::out() << "\nEvery command takes --db CONNINFO (a libpq connection string or URI) to use an\n"
                  "existing PostgreSQL; without it Postdesk uses its embedded database.\n"
                  "Run 'postdeskctl COMMAND --help' for a command's options.\n";
    Ctl::out().flush();
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("postdesk"));
    QCoreApplication::setApplicationName(QStringLiteral("postdesk"));
    QCoreApplication::setApplicationVersion(QStringLiteral(POSTDESK_VERSION));

    QStringList args = app.arguments().mid(1);
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h"
        || args.first() == u"help") {
        printUsage();
        return args.isEmpty() ? 2 : 0;
    }
    if (args.first() == u"--version") {
        Ctl::out() << "postdeskctl " << QCoreApplication::applicationVersion() << '\n';
        return 0;
    }
    const QString name = args.takeFirst();
    for (const Group &group : groups) {
        if (name == QLatin1String(group.name))
            return group.run(args);
    }
    Ctl::err() << "postdeskctl: unknown command '" << name
               << "'. Run 'postdeskctl --help' for the list.\n";
    return 2;
}
