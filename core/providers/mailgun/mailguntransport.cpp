#include "mailguntransport.h"

#include "providers/http/mimeparts.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>

namespace Providers {

namespace {

// multipart/form-data (RFC 7578) built by hand so that the request body is one QByteArray.
class FormData
{
public:
    explicit FormData(QByteArray boundary)
        : m_boundary(std::move(boundary))
    { }
    void field(const QByteArray &name, const QString &value)
    {
        m_body += "--" + m_boundary + "\r\nContent-Disposition: form-data; name=\"" + name
                + "\"\r\n\r\n" + value.toUtf8() + "\r\n";
    }
    void file(const QByteArray &name, const QString &filename, const QByteArray &type,
              const QByteArray &data)
    {
        QByteArray quoted = filename.toUtf8();
        quoted.replace('\\', "\\\\").replace('"', "\\\"").replace('\r', ' ').replace('\n', ' ');
        m_body += "--" + m_boundary + "\r\nContent-Disposition: form-data; name=\"" + name
                + "\"; filename=\"" + quoted + "\"\r\nContent-Type: " + type + "\r\n\r\n" + data
                + "\r\n";
    }
    QByteArray finish() { return m_body + "--" + m_boundary + "--\r\n"; }
    QByteArray contentType() const { return "multipart/form-data; boundary=" + m_boundary; }

private:
    QByteArray m_boundary;
    QByteArray m_body;
};

} // namespace

MailgunTransport::MailgunTransport(const HttpProviderSettings &settings, QObject *parent)
    : HttpTransport(settings, QStringLiteral("Mailgun"), parent)
{ }

QString MailgunTransport::baseUrl() const
{
    return settings().region == u"eu" ? QStringLiteral("https://api.eu.mailgun.net")
                                      : QStringLiteral("https://api.mailgun.net");
}

QNetworkRequest MailgunTransport::apiRequest(const QString &path) const
{
    QNetworkRequest r(endpoint(baseUrl(), path));
    r.setRawHeader("Authorization",
                   "Basic "
                           + QByteArray(QByteArray("api:") + settings().apiKey.toUtf8()).toBase64());
    r.setRawHeader("Accept", "application/json");
    return r;
}

Common::Result<HttpRequest> MailgunTransport::buildRequest(const OutgoingMessage &message)
{
    if (message.recipients.isEmpty())
        return Common::fail(QStringLiteral("mailgun.message"),
                            QStringLiteral("The message has no recipients"));
    FormData form("postdesk-" + QByteArray::number(QRandomGenerator::global()->generate64(), 36)
                  + '-' + QByteArray::number(++m_boundaryCounter));
    const QString domainPath = QStringLiteral("/v3/")
            + QString::fromLatin1(QUrl::toPercentEncoding(settings().domain));
    HttpRequest request;
    if (settings().mode == u"form") {
        const MimeParts parts = MimeParts::parse(message.data);
        form.field("from", parts.header("From"));
        for (const QString &recipient : message.recipients)
            form.field("to", recipient);
        form.field("subject", parts.subject);
        if (!parts.text.isEmpty())
            form.field("text", parts.text);
        if (!parts.html.isEmpty())
            form.field("html", parts.html);
        for (const MimeAttachment &a : parts.attachments)
            form.file(a.isInline ? "inline" : "attachment", a.isInline ? a.contentId : a.filename,
                      a.contentType.toLatin1(), a.data);
        for (const QString &tag : parts.categories())
            form.field("o:tag", tag);
        for (const auto &[name, value] : parts.metadata())
            form.field("v:" + name.toUtf8(), value);
        for (const auto &[name, value] : parts.extraHeaders())
            form.field("h:" + name.toUtf8(), value);
        request.request = apiRequest(domainPath + QStringLiteral("/messages"));
    } else {
        // The envelope recipients decide who gets the message; the MIME's headers are kept as is.
        form.field("to", message.recipients.join(u','));
        form.file("message", QStringLiteral("message.mime"), "message/rfc822", message.data);
        request.request = apiRequest(domainPath + QStringLiteral("/messages.mime"));
    }
    request.request.setHeader(QNetworkRequest::ContentTypeHeader, form.contentType());
    request.body = form.finish();
    return request;
}

void MailgunTransport::readSuccess(const HttpAnswer &answer, SendResult &result) const
{
    QString id = QJsonDocument::fromJson(answer.body).object().value(u"id").toString();
    if (id.startsWith(u'<') && id.endsWith(u'>'))
        id = id.mid(1, id.size() - 2);
    result.providerMessageId = id;
}

QString MailgunTransport::explainBody(const QByteArray &body)
{
    const QString message = QJsonDocument::fromJson(body).object().value(u"message").toString();
    return message.isEmpty() ? QString::fromUtf8(body.left(500)).trimmed() : message;
}

QString MailgunTransport::explain(const HttpAnswer &answer) const
{
    return explainBody(answer.body);
}

Diagnostics *MailgunTransport::createDiagnostics(QObject *parent) const
{
    HttpDiagnostics::Step domain;
    domain.id = QStringLiteral("auth");
    domain.title = QStringLiteral("API key and sending domain");
    domain.request.verb = "GET";
    domain.request.request = apiRequest(
            QStringLiteral("/v3/domains/")
            + QString::fromLatin1(QUrl::toPercentEncoding(settings().domain)));
    domain.explain = [](const HttpAnswer &a) { return explainBody(a.body); };
    domain.evaluate = [region = settings().region](const HttpAnswer &a, DiagnosticStep &step) {
        const QJsonObject d = QJsonDocument::fromJson(a.body).object().value(u"domain").toObject();
        const QString state = d.value(u"state").toString();
        step.facts.append({QStringLiteral("Domain"), d.value(u"name").toString()});
        step.facts.append({QStringLiteral("State"), state});
        step.facts.append({QStringLiteral("Region"), region.toUpper()});
        if (d.contains(u"type"))
            step.facts.append({QStringLiteral("Type"), d.value(u"type").toString()});
        const bool active = state == u"active";
        step.detail = active
                ? QStringLiteral("The key is valid and the domain is active")
                : QStringLiteral("The key is valid but the domain is %1")
                          .arg(state.isEmpty() ? QStringLiteral("in an unknown state") : state);
        return active;
    };
    return new HttpDiagnostics(settings(), {domain}, parent);
}

} // namespace Providers
