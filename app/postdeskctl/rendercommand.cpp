#include "cli.h"
#include "commands.h"

#include "templates/engine.h"
#include "templates/htmltotext.h"
#include "templates/templatelinter.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>

#include <cstdio>

namespace Ctl {

namespace {

Common::Result<QByteArray> readFile(const QString &path)
{
    QFile file;
    bool ok = false;
    if (path == u"-")
        ok = file.open(stdin, QIODevice::ReadOnly);
    else {
        file.setFileName(path);
        ok = file.open(QIODevice::ReadOnly);
    }
    if (!ok)
        return Common::fail(QStringLiteral("render.read"),
                            QStringLiteral("Cannot read %1").arg(path), file.errorString());
    return file.readAll();
}

// Every file under dir is a partial named by its path relative to dir without the extension
// ("layouts/main.hbs" is {{> layouts/main}}), as the handlebars.js command line names them.
Common::Status loadPartials(Templates::Engine &engine, const QString &dir)
{
    const QDir root(QDir(dir).absolutePath());
    if (!root.exists())
        return Common::fail(QStringLiteral("render.partials"),
                            QStringLiteral("The partials directory %1 does not exist").arg(dir));
    QDirIterator it(root.absolutePath(), QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QString name = root.relativeFilePath(path);
        const QString suffix = QFileInfo(path).suffix();
        if (!suffix.isEmpty())
            name.chop(suffix.size() + 1);
        auto source = readFile(path);
        if (!source)
            return Common::fail(source.error());
        // A partial that does not parse fails the render only if it is used, as in handlebars.js.
        (void) engine.registerPartial(name, QString::fromUtf8(*source));
    }
    return {};
}

void writeOut(const std::string &bytes)
{
    out().flush();
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    std::fflush(stdout);
}

} // namespace

int runRender(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Renders a Handlebars template with JSON data and prints the result, "
                           "exactly as handlebars.js 4.7 would."));
    parser.addPositionalArgument(QStringLiteral("FILE"),
                                 QStringLiteral("The template (\"-\" reads standard input)."));
    const QCommandLineOption dataOption(QStringLiteral("data"),
                                        QStringLiteral("The JSON data (the template's context)."),
                                        QStringLiteral("DATA.json"));
    const QCommandLineOption partialsOption(
            QStringLiteral("partials"),
            QStringLiteral("A directory of partials, named by their path without extension."),
            QStringLiteral("DIR"));
    const QCommandLineOption textOption(QStringLiteral("text"),
                                        QStringLiteral(
                                                "Print the plain-text version of the HTML."));
    const QCommandLineOption
            lintOption(QStringLiteral("lint"),
                       QStringLiteral(
                               "List the variables the template reads and those the data lacks."));
    const QCommandLineOption
            benchOption(QStringLiteral("bench"),
                        QStringLiteral("Render N times and print the rate instead of the result."),
                        QStringLiteral("N"));
    parser.addOption(dataOption);
    parser.addOption(partialsOption);
    parser.addOption(textOption);
    parser.addOption(lintOption);
    parser.addOption(benchOption);
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("render"), args, &exitCode))
        return exitCode;
    if (parser.positionalArguments().size() != 1) {
        err() << "postdeskctl render: give exactly one template FILE.\n"
                 "Run 'postdeskctl render --help' for the options.\n";
        return 2;
    }

    auto source = readFile(parser.positionalArguments().constFirst());
    if (!source)
        return reportError(source.error());
    Templates::Value data = Templates::Value::fromMembers({});
    if (parser.isSet(dataOption)) {
        auto json = readFile(parser.value(dataOption));
        if (!json)
            return reportError(json.error());
        auto parsed = Templates::Value::fromJson(*json);
        if (!parsed)
            return reportError(parsed.error());
        data = std::move(*parsed);
    }

    Templates::Engine engine;
    if (parser.isSet(partialsOption)) {
        auto status = loadPartials(engine, parser.value(partialsOption));
        if (!status)
            return reportError(status.error());
    }
    auto compiled = engine.compile(std::string_view(source->constData(), size_t(source->size())));
    if (!compiled)
        return reportError(compiled.error());

    if (parser.isSet(lintOption)) {
        const auto report = Templates::TemplateLinter::lint(**compiled, data);
        out() << "Variables:\n";
        for (const QString &v : report.variables)
            out() << "  " << v << '\n';
        out() << "Missing from the data (no fallback):\n";
        for (const QString &v : report.missing)
            out() << "  " << v << '\n';
        out().flush();
        return report.missing.isEmpty() ? 0 : 1;
    }

    if (parser.isSet(benchOption)) {
        bool ok = false;
        const qint64 n = parser.value(benchOption).toLongLong(&ok);
        if (!ok || n <= 0) {
            err() << "postdeskctl render: --bench needs a positive number.\n";
            return 2;
        }
        // One render first, so a template error is reported as such, and the run starts warm.
        auto first = engine.renderUtf8(**compiled, data);
        if (!first)
            return reportError(first.error());
        size_t bytes = 0;
        QElapsedTimer timer;
        timer.start();
        for (qint64 i = 0; i < n; ++i) {
            auto result = engine.renderUtf8(**compiled, data);
            if (!result)
                return reportError(result.error());
            bytes += result->size();
        }
        const double seconds = double(timer.nsecsElapsed()) / 1e9;
        out() << n << " renders in " << QString::number(seconds, 'f', 3) << " s ("
              << QString::number(seconds > 0 ? double(n) / seconds : 0.0, 'f', 0)
              << " renders/s)\n";
        out().flush();
        Q_UNUSED(bytes);
        return 0;
    }

    auto result = engine.renderUtf8(**compiled, data);
    if (!result)
        return reportError(result.error());
    if (parser.isSet(textOption)) {
        const QString text = Templates::HtmlToText::convert(
                QString::fromUtf8(result->data(), qsizetype(result->size())));
        writeOut(text.toStdString());
    } else {
        writeOut(*result);
    }
    return 0;
}

} // namespace Ctl
