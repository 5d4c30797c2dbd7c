#include "sendgridtransport.h"

#include "providers/http/mimeparts.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Providers {

namespace {

const QString defaultBase = QStringLiteral("https://api.sendgrid.com");

QJsonObject mailbox(const MimeMailbox &m)
{
    QJsonObject o{{QStringLiteral("email"), m.email}};
    if (!m.name.isEmpty())
        o.insert(QStringLiteral("name"), m.name);
    return o;
}

} // namespace

SendGridTransport::SendGridTransport(const HttpProviderSettings &settings, QObject *parent)
    : HttpTransport(settings, QStringLiteral("SendGrid"), parent)
{ }

QNetworkRequest SendGridTransport::apiRequest(const QString &path) const
{
    QNetworkRequest r(endpoint(defaultBase, path));
    r.setRawHeader("Authorization", "Bearer " + settings().apiKey.toUtf8());
    r.setRawHeader("Accept", "application/json");
    return r;
}

Common::Result<QByteArray> SendGridTransport::requestBody(const OutgoingMessage &message)
{
    const MimeParts parts = MimeParts::parse(message.data);
    if (parts.from.email.isEmpty())
        return Common::fail(QStringLiteral("sendgrid.message"),
                            QStringLiteral("The message has no From address SendGrid can use"));

    // Envelope recipients go where the headers show them; the rest are Bcc. SendGrid refuses an
    // address that appears twice in one personalization.
    QJsonArray to, cc, bcc;
    QStringList seen;
    const auto inList = [](const QList<MimeMailbox> &list, const QString &email) {
        for (const MimeMailbox &m : list) {
            if (m.email.compare(email, Qt::CaseInsensitive) == 0)
                return &m;
        }
        return static_cast<const MimeMailbox *>(nullptr);
    };
    for (const QString &recipient : message.recipients) {
        if (seen.contains(recipient, Qt::CaseInsensitive))
            continue;
        seen << recipient;
        if (const MimeMailbox *m = inList(parts.to, recipient))
            to.append(mailbox(*m));
        else if (const MimeMailbox *c = inList(parts.cc, recipient))
            cc.append(mailbox(*c));
        else
            bcc.append(mailbox({recipient, {}}));
    }
    if (to.isEmpty()) {
        // A personalization needs at least one "to" (the docs' "personalizations.0.to" error).
        if (!cc.isEmpty())
            to.append(cc.takeAt(0));
        else if (!bcc.isEmpty())
            to.append(bcc.takeAt(0));
        else
            return Common::fail(QStringLiteral("sendgrid.message"),
                                QStringLiteral("The message has no recipients"));
    }
    QJsonObject personalization{{QStringLiteral("to"), to}};
    if (!cc.isEmpty())
        personalization.insert(QStringLiteral("cc"), cc);
    if (!bcc.isEmpty())
        personalization.insert(QStringLiteral("bcc"), bcc);

    QJsonObject body{{QStringLiteral("personalizations"), QJsonArray{personalization}},
                     {QStringLiteral("from"), mailbox(parts.from)},
                     {QStringLiteral("subject"), parts.subject}};
    if (!parts.replyTo.isEmpty())
        body.insert(QStringLiteral("reply_to"), mailbox(parts.replyTo.first()));

    // text/plain must come first, then text/html (the API's rule for content).
    QJsonArray content;
    if (!parts.text.isEmpty())
        content.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text/plain")},
                                   {QStringLiteral("value"), parts.text}});
    if (!parts.html.isEmpty())
        content.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text/html")},
                                   {QStringLiteral("value"), parts.html}});
    if (content.isEmpty())
        content.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text/plain")},
                                   {QStringLiteral("value"), QStringLiteral(" ")}});
    body.insert(QStringLiteral("content"), content);

    QJsonArray attachments;
    for (const MimeAttachment &a : parts.attachments) {
        QJsonObject o{{QStringLiteral("content"), QString::fromLatin1(a.data.toBase64())},
                      {QStringLiteral("filename"), a.filename},
                      {QStringLiteral("type"), a.contentType},
                      {QStringLiteral("disposition"),
                       a.isInline ? QStringLiteral("inline") : QStringLiteral("attachment")}};
        if (a.isInline)
            o.insert(QStringLiteral("content_id"), a.contentId);
        attachments.append(o);
    }
    if (!attachments.isEmpty())
        body.insert(QStringLiteral("attachments"), attachments);

    const QStringList categories = parts.categories();
    if (!categories.isEmpty())
        body.insert(QStringLiteral("categories"), QJsonArray::fromStringList(categories));
    QJsonObject customArgs;
    for (const auto &[name, value] : parts.metadata())
        customArgs.insert(name, value);
    if (!message.messageId.isEmpty())
        customArgs.insert(QStringLiteral("postdesk_message_id"), message.messageId);
    if (!customArgs.isEmpty())
        body.insert(QStringLiteral("custom_args"), customArgs);

    QJsonObject headers;
    for (const auto &[name, value] : parts.extraHeaders())
        headers.insert(name, value);
    if (!headers.isEmpty())
        body.insert(QStringLiteral("headers"), headers);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

Common::Result<HttpRequest> SendGridTransport::buildRequest(const OutgoingMessage &message)
{
    auto body = requestBody(message);
    if (!body)
        return Common::fail(body.error());
    return HttpRequest::jsonPost(apiRequest(QStringLiteral("/v3/mail/send")), *body);
}

void SendGridTransport::readSuccess(const HttpAnswer &answer, SendResult &result) const
{
    result.providerMessageId = QString::fromLatin1(answer.header("X-Message-Id"));
}

QString SendGridTransport::explainBody(const QByteArray &body)
{
    const QJsonArray errors = QJsonDocument::fromJson(body).object().value(u"errors").toArray();
    QStringList parts;
    for (const QJsonValue &e : errors) {
        const QJsonObject o = e.toObject();
        const QString field = o.value(u"field").toString();
        const QString text = o.value(u"message").toString();
        parts << (field.isEmpty() ? text : QString(field + QStringLiteral(": ") + text));
    }
    if (parts.isEmpty())
        return QString::fromUtf8(body.left(500)).trimmed();
    return parts.join(QStringLiteral("; "));
}

QString SendGridTransport::explain(const HttpAnswer &answer) const
{
    return explainBody(answer.body);
}

Diagnostics *SendGridTransport::createDiagnostics(QObject *parent) const
{
    // GET /v3/scopes lists what the key grants without sending anything.
    HttpDiagnostics::Step scopes;
    scopes.id = QStringLiteral("auth");
    scopes.title = QStringLiteral("API key and scopes");
    scopes.request.verb = "GET";
    scopes.request.request = apiRequest(QStringLiteral("/v3/scopes"));
    scopes.explain = [](const HttpAnswer &a) { return explainBody(a.body); };
    scopes.evaluate = [](const HttpAnswer &a, DiagnosticStep &step) {
        const QJsonArray list = QJsonDocument::fromJson(a.body).object().value(u"scopes").toArray();
        QStringList names;
        for (const QJsonValue &v : list)
            names << v.toString();
        step.facts.append({QStringLiteral("Scopes"), QString::number(names.size())});
        const bool canSend = names.contains(u"mail.send"_qs);
        step.facts.append({QStringLiteral("mail.send"),
                           canSend ? QStringLiteral("granted") : QStringLiteral("missing")});
        step.detail = canSend
                ? QStringLiteral("The key is valid and may send mail (%1 scopes)").arg(names.size())
                : QStringLiteral("The key is valid but lacks the mail.send scope");
        return canSend;
    };
    return new HttpDiagnostics(settings(), {scopes}, parent);
}

} // namespace Providers
