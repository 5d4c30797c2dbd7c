#include "daemon.h"
#include "events/webhookserver.h"
#include "webhooklistener.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("postdesk"));
    QCoreApplication::setApplicationName(QStringLiteral("postdesk"));
    QCoreApplication::setApplicationVersion(QStringLiteral(POSTDESK_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Postdesk's headless daemon. Logs go to stderr; stop it with SIGTERM."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption
            dbOption(QStringLiteral("db"),
                     QStringLiteral(
                             "The database: a libpq connection string or URI, or 'embedded'. "
                             "Default: $POSTDESK_DB, the saved setting, else the embedded "
                             "database."),
                     QStringLiteral("conninfo"));
    parser.addOption(dbOption);
    const QCommandLineOption
            listenOption(QStringLiteral("listen"),
                         QStringLiteral(
                                 "Serve the webhook and tracking endpoints on ADDRESS:PORT."),
                         QStringLiteral("addr:port"));
    const QCommandLineOption keyDirOption(
            QStringLiteral("key-dir"),
            QStringLiteral("This host's worker key is in DIR (default: the desktop keyring)."),
            QStringLiteral("dir"));
    parser.addOptions({listenOption, keyDirOption});
    parser.process(app);

    auto config = Db::DatabaseConfig::resolve(parser.isSet(dbOption) ? parser.value(dbOption)
                                                                     : QString());
    if (!config) {
        QTextStream(stderr) << "postdeskd: " << config.error().message << '\n';
        return 2;
    }
    Daemon daemon(*config);
    if (!daemon.installSignalHandlers()) {
        QTextStream(stderr) << "postdeskd: could not install signal handlers\n";
        return 1;
    }
    daemon.start();
    std::unique_ptr<Events::WebhookServer> webhooks;
    if (parser.isSet(listenOption)) {
        auto started = startWebhookServer(parser.value(listenOption), parser.value(keyDirOption),
                                          *config);
        if (!started) {
            QTextStream(stderr) << "postdeskd: " << started.error().message << '\n';
            return 2;
        }
        webhooks = std::move(*started);
    }
    return app.exec();
}
