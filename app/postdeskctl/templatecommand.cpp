#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "queue/templaterepository.h"

#include <QFile>

namespace Ctl {

namespace {

const char *templateUsage =
        "Usage: postdeskctl template put NAME --subject TEXT --html FILE [--text FILE]\n"
        "       postdeskctl template list\n\n"
        "  put   store a new version of a template (the template is created on first use)\n"
        "  list  the stored templates with their latest version\n\n"
        "Every command takes --db CONNINFO. Run 'postdeskctl template put --help' for the "
        "options.\n";

Common::Result<QString> readTextFile(const QString &path, const char *what)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return Common::fail(QStringLiteral("cli.file"),
                            QStringLiteral("Cannot read the %1 file '%2': %3.")
                                    .arg(QLatin1String(what), path, file.errorString()));
    }
    return QString::fromUtf8(file.readAll());
}

int runPut(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Stores a new version of template NAME. Messages enqueued with "
                           "--template NAME use the latest version."));
    parser.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("The template's name."));
    parser.addOption({QStringLiteral("subject"), QStringLiteral("The subject line (a template)."),
                      QStringLiteral("text")});
    parser.addOption({QStringLiteral("html"), QStringLiteral("The HTML body, from this file."),
                      QStringLiteral("file")});
    parser.addOption({QStringLiteral("text"),
                      QStringLiteral("The plain-text body, from this file (default: generated "
                                     "from the HTML)."),
                      QStringLiteral("file")});
    parser.addOption({QStringLiteral("locale"), QStringLiteral("The locale (default: en)."),
                      QStringLiteral("locale"), QStringLiteral("en")});
    parser.addOption({QStringLiteral("note"), QStringLiteral("A note on what changed."),
                      QStringLiteral("text")});
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("template put"), args, &exitCode))
        return exitCode;
    const QStringList names = parser.positionalArguments();
    if (names.size() != 1) {
        err() << "postdeskctl template put: give exactly one template NAME, e.g. 'postdeskctl "
                 "template put welcome --subject \"Hello {{name}}\" --html welcome.html'.\n";
        return 2;
    }
    if (!parser.isSet(QStringLiteral("subject"))
        || (!parser.isSet(QStringLiteral("html")) && !parser.isSet(QStringLiteral("text")))) {
        err() << "postdeskctl template put: give --subject TEXT and --html FILE (or --text "
                 "FILE).\n";
        return 2;
    }
    Queue::TemplateRepository::NewVersion version;
    version.name = names.first();
    version.subject = parser.value(QStringLiteral("subject"));
    version.locale = parser.value(QStringLiteral("locale"));
    version.note = parser.value(QStringLiteral("note"));
    if (parser.isSet(QStringLiteral("html"))) {
        auto html = readTextFile(parser.value(QStringLiteral("html")), "HTML");
        if (!html)
            return reportError(html.error());
        version.htmlBody = *html;
    }
    if (parser.isSet(QStringLiteral("text"))) {
        auto text = readTextFile(parser.value(QStringLiteral("text")), "text");
        if (!text)
            return reportError(text.error());
        version.textBody = *text;
    }
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Queue::TemplateRepository templates(**connection);
    auto saved = templates.put(version);
    if (!saved)
        return reportError(saved.error());
    out() << "Stored template '" << saved->name << "' version " << saved->version << " ("
          << saved->locale << ").\n";
    return 0;
}

int runList(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Lists the stored templates."));
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("template list"), args, &exitCode))
        return exitCode;
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Queue::TemplateRepository templates(**connection);
    auto list = templates.list();
    if (!list)
        return reportError(list.error());
    if (list->isEmpty()) {
        out() << "No templates yet. Store one with 'postdeskctl template put NAME --subject TEXT "
                 "--html FILE'.\n";
        return 0;
    }
    out() << QStringLiteral("%1 %2 %3 %4\n")
                     .arg(QStringLiteral("NAME"), -24)
                     .arg(QStringLiteral("VERSION"), 7)
                     .arg(QStringLiteral("UPDATED (UTC)"), -19)
                     .arg(QStringLiteral("SUBJECT"));
    for (const auto &summary : std::as_const(*list)) {
        out() << QStringLiteral("%1 %2 %3 %4\n")
                         .arg(summary.name, -24)
                         .arg(summary.latestVersion, 7)
                         .arg(summary.updatedAt.toUTC().toString(
                                      QStringLiteral("yyyy-MM-dd hh:mm")),
                              -19)
                         .arg(summary.latestSubject);
    }
    return 0;
}

} // namespace

int runTemplate(const QStringList &args)
{
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h"
        || args.first() == u"help") {
        out() << templateUsage;
        return args.isEmpty() ? 2 : 0;
    }
    const QString sub = args.first();
    if (sub == u"put")
        return runPut(args.mid(1));
    if (sub == u"list")
        return runList(args.mid(1));
    err() << "postdeskctl template: unknown subcommand '" << sub
          << "'. Run 'postdeskctl template --help' for the list.\n";
    return 2;
}

} // namespace Ctl
