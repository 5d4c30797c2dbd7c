#include "daemon.h"
#include "events/webhookserver.h"
#include "webhooklistener.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <cstdlib>

#ifdef __GLIBC__
#    include <malloc.h>
#endif

int main(int argc, char *argv[])
{
#ifdef __GLIBC__
    // A send worker allocates and frees a batch's composed messages (tens to hundreds of KB) over
    // and over. With the default threshold glibc hands the freed top of each thread's heap back to
    // the kernel after every batch (madvise, and a TLB shootdown on every core) only to fault it
    // in again for the next: a sixth of a worker's time. Keep up to 64 MB of it.
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
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
    const QCommandLineOption workersOption(
            QStringLiteral("workers"),
            QStringLiteral("Run N send workers (threads, each with its own database connection). "
                           "Several postdeskd processes on several hosts may share one database."),
            QStringLiteral("N"));
    const QCommandLineOption
            queuesOption(QStringLiteral("queues"),
                         QStringLiteral("Only drain these queues (comma-separated); default: all."),
                         QStringLiteral("names"));
    const QCommandLineOption concurrencyOption(
            QStringLiteral("concurrency"),
            QStringLiteral("Messages each worker holds at once (claimed and not settled); "
                           "default 32."),
            QStringLiteral("N"));
    const QCommandLineOption keyDirOption(
            QStringLiteral("key-dir"),
            QStringLiteral("This host's worker key is in DIR (owner-only files, see 'postdeskctl "
                           "worker init --key-dir') instead of the desktop keyring."),
            QStringLiteral("dir"));
    const QCommandLineOption
            graceOption(QStringLiteral("grace"),
                        QStringLiteral(
                                "Seconds SIGTERM waits for messages in flight before giving their "
                                "leases back; default 30."),
                        QStringLiteral("seconds"));
    const QCommandLineOption leaseOption(
            QStringLiteral("lease"),
            QStringLiteral("Seconds a claimed message stays with a worker before others may take "
                           "it over (a crashed worker's messages come back after this); extended "
                           "while the worker is alive. Default 120."),
            QStringLiteral("seconds"));
    const QCommandLineOption
            listenOption(QStringLiteral("listen"),
                         QStringLiteral(
                                 "Serve the webhook and tracking endpoints on ADDRESS:PORT."),
                         QStringLiteral("addr:port"));
    parser.addOptions({workersOption, queuesOption, concurrencyOption, keyDirOption, graceOption,
                       leaseOption, listenOption});
    parser.process(app);

    DaemonOptions options;
    const auto number = [&](const QCommandLineOption &option, int fallback, int min, int max) {
        if (!parser.isSet(option))
            return fallback;
        bool ok = false;
        const int value = parser.value(option).toInt(&ok);
        if (!ok || value < min || value > max) {
            QTextStream(stderr) << "postdeskd: --" << option.names().first()
                                << " takes a number from " << min << " to " << max << ", not '"
                                << parser.value(option) << "'\n";
            ::exit(2);
        }
        return value;
    };
    options.workers = number(workersOption, 0, 0, 256);
    options.concurrency = number(concurrencyOption, 32, 1, 10'000);
    options.graceMs = number(graceOption, 30, 0, 3600) * 1000;
    options.leaseSeconds = number(leaseOption, 120, 3, 86'400);
    if (parser.isSet(queuesOption))
        options.queues = parser.value(queuesOption).split(u',', Qt::SkipEmptyParts);
    options.keyDirectory = parser.value(keyDirOption);

    auto config = Db::DatabaseConfig::resolve(parser.isSet(dbOption) ? parser.value(dbOption)
                                                                     : QString());
    if (!config) {
        QTextStream(stderr) << "postdeskd: " << config.error().message << '\n';
        return 2;
    }
    Daemon daemon(*config, options);
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
