#include "cli.h"

#include "db/connection.h"
#include "db/databaseconfig.h"
#include "providers/smtp/smtptransport.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QTimer>

namespace Ctl {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

int reportError(const Common::Error &error)
{
    out().flush();
    err() << "postdeskctl: " << error.message << '\n';
    if (!error.detail.isEmpty() && !error.message.contains(error.detail))
        err() << "  detail: " << error.detail << '\n';
    err().flush();
    return 1;
}

bool parseCommandLine(QCommandLineParser &parser, const QString &command, const QStringList &args,
                      int *exitCode)
{
    parser.setApplicationDescription(parser.applicationDescription());
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    parser.addOption(help);
    if (!parser.parse(QStringList{QStringLiteral("postdeskctl ") + command} + args)) {
        err() << "postdeskctl " << command << ": " << parser.errorText() << "\nRun 'postdeskctl "
              << command << " --help' for the options.\n";
        err().flush();
        *exitCode = 2;
        return false;
    }
    if (parser.isSet(help)) {
        // QCommandLineParser names the program by its path; a person types "postdeskctl <command>".
        QString text = parser.helpText();
        const QString program = QCoreApplication::arguments().constFirst();
        text.replace(QStringLiteral("Usage: ") + program,
                     QStringLiteral("Usage: postdeskctl ") + command);
        out() << text;
        out().flush();
        *exitCode = 0;
        return false;
    }
    *exitCode = 0;
    return true;
}

QCommandLineOption databaseOption()
{
    return QCommandLineOption(
            QStringLiteral("db"),
            QStringLiteral("The database: a libpq connection string or URI, or 'embedded'. "
                           "Default: $POSTDESK_DB, the saved setting, else the embedded "
                           "database."),
            QStringLiteral("conninfo"));
}

Common::Result<std::unique_ptr<Db::Connection>> openDatabase(const QCommandLineParser &parser,
                                                             bool migrate)
{
    const QString value = parser.isSet(QStringLiteral("db")) ? parser.value(QStringLiteral("db"))
                                                             : QString();
    auto config = Db::DatabaseConfig::resolve(value);
    if (!config)
        return Common::fail(config.error());
    return config->open(Db::DatabaseConfig::OpenOptions{migrate, QStringLiteral("postdeskctl")});
}

Providers::SendResult sendAndWait(Providers::Transport &transport,
                                  const Providers::OutgoingMessage &message)
{
    QEventLoop loop;
    Providers::SendResult result;
    QObject::connect(&transport, &Providers::Transport::sent, &loop,
                     [&](Providers::Transport::Ticket, const Providers::SendResult &r) {
                         result = r;
                         loop.quit();
                     });
    transport.send(message);
    loop.exec();

    // Say QUIT before leaving, with a short grace period.
    if (auto *smtp = qobject_cast<Providers::SmtpTransport *>(&transport)) {
        smtp->closeIdle();
        QTimer grace;
        grace.start(2000);
        QObject::connect(&grace, &QTimer::timeout, &loop, &QEventLoop::quit);
        QTimer poll;
        QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
            if (smtp->connectionCount() == 0)
                loop.quit();
        });
        poll.start(10);
        loop.exec();
    }

    for (const auto &rejection : std::as_const(result.rejected))
        err() << "postdeskctl: refused " << rejection.recipient << ": " << rejection.reply << '\n';
    err().flush();
    return result;
}

} // namespace Ctl
