#include "postmarktransport.h"

#include "providers/http/mimeparts.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Providers {

namespace {

const QString defaultBase = QStringLiteral("https://api.postmarkapp.com");

QString addressList(const QList<MimeMailbox> &list)
{
    QStringList out;
    for (const MimeMailbox &m : list) {
        if (m.name.isEmpty()) {
            out << m.email;
        } else {
            QString name = m.name;
            name.replace(u'\\', QStringLiteral("\\\\")).replace(u'"', QStringLiteral("\\\""));
            out << QStringLiteral("\"%1\" <%2>").arg(name, m.email);
        }
    }
    return out.join(QStringLiteral(", "));
}

// Postmark's documented API error codes (postmarkapp.com/developer/api/overview#error-codes).
constexpr int invalidApiToken = 10;
constexpr int inactiveServer = 412;

} // namespace

PostmarkTransport::PostmarkTransport(const HttpProviderSettings &settings, QObject *parent)
    : HttpTransport(settings, QStringLiteral("Postmark"), parent)
{ }

QNetworkRequest PostmarkTransport::apiRequest(const QString &path) const
{
    QNetworkRequest r(endpoint(defaultBase, path));
    r.setRawHeader("X-Postmark-Server-Token", settings().apiKey.toUtf8());
    r.setRawHeader("Accept", "application/json");
    return r;
}

Common::Result<QByteArray> PostmarkTransport::requestBody(const OutgoingMessage &message,
                                                          const QString &stream)
{
    const MimeParts parts = MimeParts::parse(message.data);
    if (parts.from.email.isEmpty())
        return Common::fail(QStringLiteral("postmark.message"),
                            QStringLiteral("The message has no From address Postmark can use"));
    QList<MimeMailbox> to, cc, bcc;
    const auto find = [](const QList<MimeMailbox> &list, const QString &email) {
        for (const MimeMailbox &m : list) {
            if (m.email.compare(email, Qt::CaseInsensitive) == 0)
                return std::optional<MimeMailbox>(m);
        }
        return std::optional<MimeMailbox>();
    };
    for (const QString &recipient : message.recipients) {
        if (auto m = find(parts.to, recipient))
            to << *m;
        else if (auto c = find(parts.cc, recipient))
            cc << *c;
        else
            bcc << MimeMailbox{recipient, {}};
    }
    if (to.isEmpty() && !cc.isEmpty())
        to << cc.takeFirst();
    if (to.isEmpty() && !bcc.isEmpty())
        to << bcc.takeFirst();
    if (to.isEmpty())
        return Common::fail(QStringLiteral("postmark.message"),
                            QStringLiteral("The message has no recipients"));
    QJsonObject body{{QStringLiteral("From"), addressList({parts.from})},
                     {QStringLiteral("To"), addressList(to)},
                     {QStringLiteral("Subject"), parts.subject}};
    if (!cc.isEmpty())
        body.insert(QStringLiteral("Cc"), addressList(cc));
    if (!bcc.isEmpty())
        body.insert(QStringLiteral("Bcc"), addressList(bcc));
    if (!parts.replyTo.isEmpty())
        body.insert(QStringLiteral("ReplyTo"), addressList(parts.replyTo));
    if (!parts.text.isEmpty())
        body.insert(QStringLiteral("TextBody"), parts.text);
    if (!parts.html.isEmpty())
        body.insert(QStringLiteral("HtmlBody"), parts.html);
    if (parts.text.isEmpty() && parts.html.isEmpty())
        body.insert(QStringLiteral("TextBody"), QStringLiteral(" "));
    const QStringList categories = parts.categories();
    if (!categories.isEmpty())
        body.insert(QStringLiteral("Tag"), categories.first()); // Postmark takes one tag
    QJsonObject metadata;
    for (const auto &[name, value] : parts.metadata())
        metadata.insert(name, value);
    if (!metadata.isEmpty())
        body.insert(QStringLiteral("Metadata"), metadata);
    QJsonArray headers;
    for (const auto &[name, value] : parts.extraHeaders())
        headers.append(
                QJsonObject{{QStringLiteral("Name"), name}, {QStringLiteral("Value"), value}});
    if (!headers.isEmpty())
        body.insert(QStringLiteral("Headers"), headers);
    QJsonArray attachments;
    for (const MimeAttachment &a : parts.attachments) {
        QJsonObject o{{QStringLiteral("Name"), a.filename},
                      {QStringLiteral("Content"), QString::fromLatin1(a.data.toBase64())},
                      {QStringLiteral("ContentType"), a.contentType}};
        if (a.isInline)
            o.insert(QStringLiteral("ContentID"), QString(QStringLiteral("cid:") + a.contentId));
        attachments.append(o);
    }
    if (!attachments.isEmpty())
        body.insert(QStringLiteral("Attachments"), attachments);
    body.insert(QStringLiteral("MessageStream"),
                stream.isEmpty() ? QStringLiteral("outbound") : stream);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

Common::Result<HttpRequest> PostmarkTransport::buildRequest(const OutgoingMessage &message)
{
    auto body = requestBody(message, settings().stream);
    if (!body)
        return Common::fail(body.error());
    return HttpRequest::jsonPost(apiRequest(QStringLiteral("/email")), *body);
}

void PostmarkTransport::readSuccess(const HttpAnswer &answer, SendResult &result) const
{
    const QJsonObject o = QJsonDocument::fromJson(answer.body).object();
    const int code = o.value(u"ErrorCode").toInt();
    if (code != 0) {
        result.error = Common::makeError(QStringLiteral("http.rejected"),
                                         QStringLiteral("Postmark rejected the message: %1")
                                                 .arg(o.value(u"Message").toString()),
                                         QStringLiteral("ErrorCode %1").arg(code));
        return;
    }
    result.providerMessageId = o.value(u"MessageID").toString();
}

QString PostmarkTransport::explainBody(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    if (!o.contains(u"Message"))
        return QString::fromUtf8(body.left(500)).trimmed();
    return QStringLiteral("%1 (ErrorCode %2)")
            .arg(o.value(u"Message").toString())
            .arg(o.value(u"ErrorCode").toInt());
}

QString PostmarkTransport::explain(const HttpAnswer &answer) const
{
    return explainBody(answer.body);
}

HttpFailure PostmarkTransport::classify(const HttpAnswer &answer) const
{
    const int code = QJsonDocument::fromJson(answer.body).object().value(u"ErrorCode").toInt();
    if (code == invalidApiToken || code == inactiveServer)
        return HttpFailure::Credentials;
    return HttpTransport::classify(answer);
}

Diagnostics *PostmarkTransport::createDiagnostics(QObject *parent) const
{
    HttpDiagnostics::Step server;
    server.id = QStringLiteral("auth");
    server.title = QStringLiteral("Server token");
    server.request.verb = "GET";
    server.request.request = apiRequest(QStringLiteral("/server"));
    server.explain = [](const HttpAnswer &a) { return explainBody(a.body); };
    server.evaluate = [stream = settings().stream](const HttpAnswer &a, DiagnosticStep &step) {
        const QJsonObject o = QJsonDocument::fromJson(a.body).object();
        step.facts.append({QStringLiteral("Server"), o.value(u"Name").toString()});
        step.facts.append(
                {QStringLiteral("Server ID"), QString::number(o.value(u"ID").toInteger())});
        step.facts.append({QStringLiteral("Message stream"),
                           stream.isEmpty() ? QStringLiteral("outbound") : stream});
        if (o.contains(u"DeliveryType"))
            step.facts.append(
                    {QStringLiteral("Delivery type"), o.value(u"DeliveryType").toString()});
        step.detail = QStringLiteral("The token is valid for the server '%1'")
                              .arg(o.value(u"Name").toString());
        return true;
    };
    return new HttpDiagnostics(settings(), {server}, parent);
}

} // namespace Providers
