#include "customhttptransport.h"

#include "mimeparts.h"
#include "templates/engine.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Providers {

namespace {

// The inside of a JSON string literal for text (RFC 8259 section 7), without the quotes.
QString jsonEscaped(const QString &text)
{
    const QByteArray quoted = QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(quoted.mid(2, quoted.size() - 4)); // strip [" and "]
}

} // namespace

CustomHttpTransport::CustomHttpTransport(const HttpProviderSettings &settings, QObject *parent)
    : HttpTransport(settings, settings.baseUrl.host(), parent)
{ }

QString CustomHttpTransport::defaultTemplate()
{
    return QStringLiteral(
            "{\"messageId\": \"{{{messageId}}}\", \"from\": \"{{{from}}}\", "
            "\"to\": {{{recipientsJson}}}, \"subject\": \"{{{subject}}}\", "
            "\"text\": \"{{{text}}}\", \"html\": \"{{{html}}}\", \"raw\": \"{{{raw}}}\"}");
}

Common::Result<QByteArray> CustomHttpTransport::renderBody(const QString &bodyTemplate,
                                                           const OutgoingMessage &message)
{
    const MimeParts parts = MimeParts::parse(message.data);
    const auto field = [](const char *name, const QString &value) {
        return Templates::Value::Member{Templates::Value::fromString(std::string(name)),
                                        Templates::Value::fromString(jsonEscaped(value))};
    };
    std::vector<Templates::Value::Member> members{
            field("messageId", message.messageId),
            field("from", parts.from.email),
            field("fromName", parts.from.name),
            field("to", message.recipients.join(u',')),
            field("subject", parts.subject),
            field("text", parts.text),
            field("html", parts.html),
            field("raw", QString::fromLatin1(message.data.toBase64())),
            {Templates::Value::fromString(std::string("recipientsJson")),
             Templates::Value::fromString(
                     QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(message.recipients))
                                               .toJson(QJsonDocument::Compact)))},
    };
    Templates::Engine engine;
    auto rendered = engine.render(bodyTemplate.isEmpty() ? defaultTemplate() : bodyTemplate,
                                  Templates::Value::fromMembers(std::move(members)));
    if (!rendered)
        return Common::fail(QStringLiteral("http.template"),
                            QStringLiteral("The body template cannot be rendered"),
                            rendered.error().toString());
    const QByteArray body = rendered->toUtf8();
    QJsonParseError error;
    QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError)
        return Common::fail(QStringLiteral("http.template"),
                            QStringLiteral("The body template does not render JSON"),
                            QStringLiteral("%1 at offset %2")
                                    .arg(error.errorString())
                                    .arg(error.offset));
    return body;
}

Common::Result<HttpRequest> CustomHttpTransport::buildRequest(const OutgoingMessage &message)
{
    auto body = renderBody(settings().bodyTemplate, message);
    if (!body)
        return Common::fail(body.error());
    HttpRequest request = HttpRequest::jsonPost(QNetworkRequest(settings().baseUrl), *body);
    request.request.setRawHeader("Accept", "application/json");
    if (!settings().apiKey.isEmpty())
        request.request.setRawHeader("Authorization",
                                     "Basic " + settings().apiKey.toUtf8().toBase64());
    for (const auto &[name, value] : settings().headers)
        request.request.setRawHeader(name, value);
    return request;
}

void CustomHttpTransport::readSuccess(const HttpAnswer &answer, SendResult &result) const
{
    const QJsonObject o = QJsonDocument::fromJson(answer.body).object();
    for (const auto *key : {u"id", u"messageId", u"message_id"}) {
        if (o.value(QStringView(key)).isString()) {
            result.providerMessageId = o.value(QStringView(key)).toString();
            break;
        }
    }
}

Diagnostics *CustomHttpTransport::createDiagnostics(QObject *parent) const
{
    // Nothing can be checked without sending; an OPTIONS request shows that the endpoint answers.
    HttpDiagnostics::Step reach;
    reach.id = QStringLiteral("connect");
    reach.title = QStringLiteral("Endpoint");
    reach.request.verb = "OPTIONS";
    reach.request.request = QNetworkRequest(settings().baseUrl);
    for (const auto &[name, value] : settings().headers)
        reach.request.request.setRawHeader(name, value);
    reach.evaluate = [](const HttpAnswer &, DiagnosticStep &step) {
        step.detail = QStringLiteral("The endpoint answers");
        return true;
    };
    return new HttpDiagnostics(settings(), {reach}, parent);
}

} // namespace Providers
