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
        {"worker", "worker host keys that provider secrets are sealed to", Ctl::runWorker},
        {"provider", "email providers: test --via URL checks one without sending", Ctl::runProvider},
        {"send", "compose one message and send it: --via URL --from --to --subject", Ctl::runSend},
        {"render", "render a template with JSON data", Ctl::runRender},
        {"template", "stored templates: put NAME --subject --html FILE, list", Ctl::runTemplate},
        {"enqueue", "queue messages: --queue Q --template NAME --recipients FILE.jsonl",
         Ctl::runEnqueue},
        {"queue", "the send queues: list, pause, resume, retry, requeue, cancel, ...",
         Ctl::runQueue},
        {"suppress", "addresses never to send to: add, remove, list, import, export",
         Ctl::runSuppress},
        {"webhooks", "what the webhook endpoints verify with: set PROVIDER ..., status",
         Ctl::runWebhooks},
        {"events", "delivery and engagement events: import FILE --provider P, export",
         Ctl::runEvents},
};

void printUsage()
{
    Ctl::out() << "Usage: postdeskctl COMMAND [options]\n\nCommands:\n";
    for (const Group &group : groups)
        Ctl::out() << QStringLiteral("  %1%2\n")
                              .arg(QLatin1String(group.name), -12)
                              .arg(QLatin1String(group.summary));
    Ctl::out() << "\nCommands that use the database take --db CONNINFO (a libpq connection string\n"
                  "or URI) to use an existing PostgreSQL; without it Postdesk uses its embedded\n"
                  "database.\n"
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
