#include "cli.h"

#include "db/connection.h"
#include "db/databaseconfig.h"

#include <QCoreApplication>

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

} // namespace Ctl
