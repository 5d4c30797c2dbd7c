#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "queue/templaterepository.h"
#include "templates/engine.h"
#include "templates/preview.h"

#include <QFile>
#include <QJsonDocument>

namespace Ctl {

namespace {

const char *templateUsage =
        "Usage: postdeskctl template put NAME --subject TEXT --html FILE [--text FILE]\n"
        "       postdeskctl template list\n"
        "       postdeskctl template check NAME [--locale L] [--data FILE.json]\n\n"
        "  put    store a new version of a template (the template is created on first use)\n"
        "  list   the stored templates with their latest version\n"
        "  check  render the latest version and run the pre-send checks on it; exit 1 on an "
        "error\n\n"
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

const char *severityName(Templates::CheckFinding::Severity severity)
{
    switch (severity) {
    case Templates::CheckFinding::Severity::Error:
        return "error";
    case Templates::CheckFinding::Severity::Warning:
        return "warning";
    case Templates::CheckFinding::Severity::Info:
        break;
    }
    return "info";
}

// Where a finding is: the part of the message its check looks at.
QString findingPart(const QString &code)
{
    if (code == u"missing-variable")
        return QStringLiteral("data");
    if (code == u"no-text-part")
        return QStringLiteral("text");
    return QStringLiteral("html");
}

int runCheck(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Renders the latest version of template NAME with sample data and runs the pre-send "
            "checks the editor shows: missing variables, malformed or unsafe links, images "
            "without alt text, size and Gmail clipping, the text part, the unsubscribe link of "
            "marketing mail, and mail client support. Prints one finding per line (severity, "
            "check, where, what) and exits 1 when any is an error."));
    parser.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("The template's name."));
    parser.addOption({QStringLiteral("locale"),
                      QStringLiteral("The locale (default, and for a locale without a version: "
                                     "the template's default locale)."),
                      QStringLiteral("locale")});
    parser.addOption({QStringLiteral("data"),
                      QStringLiteral("The data to render with, a JSON object in this file "
                                     "(default: the template's first saved sample, else {})."),
                      QStringLiteral("file")});
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("template check"), args, &exitCode))
        return exitCode;
    const QStringList names = parser.positionalArguments();
    if (names.size() != 1) {
        err() << "postdeskctl template check: give exactly one template NAME, e.g. "
                 "'postdeskctl template check welcome --data sample.json'.\n";
        return 2;
    }
    const QString name = names.first();
    QByteArray data;
    if (parser.isSet(QStringLiteral("data"))) {
        const QString path = parser.value(QStringLiteral("data"));
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            err() << "postdeskctl: cannot read the data file '" << path
                  << "': " << file.errorString() << ".\n";
            return 1;
        }
        data = file.readAll();
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(data, &parseError);
        if (parseError.error != QJsonParseError::NoError || !document.isObject()) {
            err() << "postdeskctl: the data file '" << path << "' is not a JSON object"
                  << (parseError.error != QJsonParseError::NoError
                              ? QStringLiteral(" (%1 at offset %2)")
                                        .arg(parseError.errorString())
                                        .arg(parseError.offset)
                              : QString())
                  << ".\n";
            return 1;
        }
    }

    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Queue::TemplateRepository templates(**connection);
    auto version = templates.latest(name, parser.value(QStringLiteral("locale")));
    if (!version)
        return reportError(version.error());
    if (!*version) {
        err() << "postdeskctl: there is no template '" << name
              << "'. 'postdeskctl template list' shows them.\n";
        return 1;
    }
    auto meta =
            (*connection)
                    ->exec(QStringLiteral(
                                   "SELECT t.kind, (SELECT s.data::text FROM template_samples s "
                                   "WHERE "
                                   "s.template_id = t.id ORDER BY s.name LIMIT 1) FROM templates t "
                                   "WHERE t.id = $1"),
                           {(*version)->templateId});
    if (!meta)
        return reportError(meta.error());
    Templates::Preview::Request request;
    request.kind = meta->rowCount() > 0 ? meta->text(0, 0) : QStringLiteral("transactional");
    request.locale = (*version)->locale;
    request.subject = (*version)->subject;
    request.html = (*version)->htmlBody;
    request.text = (*version)->hasTextBody ? (*version)->textBody : QString();
    if (!data.isEmpty())
        request.sampleJson = data;
    else if (meta->rowCount() > 0 && !meta->isNull(0, 1))
        request.sampleJson = meta->text(0, 1).toUtf8();
    Templates::Engine engine;
    const Templates::Preview::Result result = Templates::Preview::build(engine, request);

    out() << "Template '" << name << "' version " << (*version)->version << " ("
          << (*version)->locale << ", " << request.kind << ")\n";
    int errors = 0;
    int warnings = 0;
    for (const auto &problem : result.problems) {
        ++errors;
        QString where = problem.part;
        if (problem.line > 0)
            where += QStringLiteral(":%1:%2").arg(problem.line).arg(problem.column);
        out() << QStringLiteral("error    %1 %2 %3\n")
                         .arg(QStringLiteral("render"), -18)
                         .arg(where, -10)
                         .arg(problem.message);
    }
    for (const auto &finding : result.findings) {
        if (finding.severity == Templates::CheckFinding::Severity::Error)
            ++errors;
        else if (finding.severity == Templates::CheckFinding::Severity::Warning)
            ++warnings;
        QString what = finding.message;
        if (!finding.url.isEmpty())
            what += QStringLiteral(" (") + finding.url + u')';
        out() << QStringLiteral("%1 %2 %3 %4\n")
                         .arg(QLatin1String(severityName(finding.severity)), -8)
                         .arg(finding.code, -18)
                         .arg(findingPart(finding.code), -10)
                         .arg(what);
    }
    if (result.problems.isEmpty() && result.findings.isEmpty())
        out() << "No findings.\n";
    else
        out() << errors << (errors == 1 ? " error, " : " errors, ") << warnings
              << (warnings == 1 ? " warning.\n" : " warnings.\n");
    return errors > 0 ? 1 : 0;
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
    if (sub == u"check")
        return runCheck(args.mid(1));
    err() << "postdeskctl template: unknown subcommand '" << sub
          << "'. Run 'postdeskctl template --help' for the list.\n";
    return 2;
}

} // namespace Ctl
