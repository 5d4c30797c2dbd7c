#include "preview.h"

#include "engine.h"
#include "htmltotext.h"
#include "templatelinter.h"

#include "mime/message.h"

#include <QElapsedTimer>
#include <QObject>
#include <QRegularExpression>

#include <set>

namespace Templates {

std::pair<int, int> Preview::position(const QString &message)
{
    static const QRegularExpression pattern(QStringLiteral("line (\\d+), column (\\d+)"));
    const auto match = pattern.match(message);
    if (!match.hasMatch())
        return {0, 0};
    return {match.captured(1).toInt(), match.captured(2).toInt()};
}

Preview::Result Preview::build(Engine &engine, const Request &request)
{
    QElapsedTimer timer;
    timer.start();
    Result result;
    result.generation = request.generation;
    engine.setLocale(QLocale(request.locale));

    auto data = Value::fromJson(request.sampleJson);
    if (!data) {
        const auto [line, column] = position(data.error().message);
        result.problems.append({QStringLiteral("data"), line, column,
                                QObject::tr("Sample data: %1").arg(data.error().message)});
        data = Value::fromMembers({});
    }

    struct Part
    {
        QString name;
        const QString *source;
        QString *out;
    };
    const bool hasText = !request.text.isEmpty();
    QList<Part> parts = {{QStringLiteral("subject"), &request.subject, &result.subject},
                         {QStringLiteral("html"), &request.html, &result.html}};
    if (hasText)
        parts.append({QStringLiteral("text"), &request.text, &result.text});

    std::set<QString> variables;
    std::set<QString> missing;
    bool ok = true;
    for (const Part &part : parts) {
        auto compiled = engine.compile(*part.source);
        if (!compiled) {
            const auto [line, column] = position(compiled.error().message);
            result.problems.append({part.name, line, column, compiled.error().message});
            ok = false;
            continue;
        }
        const TemplateLinter::Report lint = TemplateLinter::lint(**compiled, *data);
        variables.insert(lint.variables.cbegin(), lint.variables.cend());
        missing.insert(lint.missing.cbegin(), lint.missing.cend());
        auto rendered = engine.render(**compiled, *data);
        if (!rendered) {
            const auto [line, column] = position(rendered.error().message);
            result.problems.append({part.name, line, column, rendered.error().message});
            ok = false;
            continue;
        }
        *part.out = *rendered;
    }
    result.variables = QStringList(variables.cbegin(), variables.cend());
    result.missing = QStringList(missing.cbegin(), missing.cend());
    result.subject = HtmlToText::decodeEntities(result.subject).simplified();
    if (!hasText)
        result.text = HtmlToText::convert(result.html);
    result.rendered = ok;

    if (ok) {
        Mime::Message message;
        message.setFrom(*Mime::Address::create(QStringLiteral("sender@example.org"),
                                               QStringLiteral("Postdesk preview")));
        QString to = QStringLiteral("recipient@example.org");
        if (const Value *email = data->member("email"); email && email->isString()) {
            if (Mime::Address::create(email->toQString()))
                to = email->toQString();
        }
        if (auto address = Mime::Address::create(to))
            message.addTo(*address);
        message.setSubject(result.subject);
        if (!result.html.isEmpty())
            message.setHtml(result.html);
        message.setText(result.text);
        auto composed = message.compose();
        result.mime = composed ? composed->data
                               : QObject::tr("The message cannot be composed: %1")
                                         .arg(composed.error().message)
                                         .toUtf8();
    }

    PreSendChecks::Input checks;
    checks.kind = request.kind;
    checks.html = result.html;
    checks.text = result.text;
    checks.hasTextBody = hasText;
    checks.missingVariables = result.missing;
    if (ok)
        result.findings = PreSendChecks::run(checks);
    result.elapsedMs = double(timer.nsecsElapsed()) / 1e6;
    return result;
}

} // namespace Templates
