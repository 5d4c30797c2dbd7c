#include "sestransport.h"

#include "providers/http/mimeparts.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Providers {

SesTransport::SesTransport(const HttpProviderSettings &settings, QObject *parent)
    : HttpTransport(settings, QStringLiteral("Amazon SES"), parent)
    , m_signer({settings.apiKey, settings.secret, settings.sessionToken}, settings.region,
               QStringLiteral("ses"))
{ }

QString SesTransport::baseUrl() const
{
    return QStringLiteral("https://email.%1.amazonaws.com").arg(settings().region);
}

HttpRequest SesTransport::signedRequest(const QByteArray &verb, const QString &path,
                                        const QByteArray &body) const
{
    return signRequest(m_signer, endpoint(baseUrl(), path), verb, body);
}

HttpRequest SesTransport::signRequest(const SigV4Signer &signer, const QUrl &url,
                                      const QByteArray &verb, const QByteArray &body)
{
    SigV4Signer::Request toSign;
    toSign.method = verb;
    toSign.path = url.path(QUrl::FullyEncoded).toLatin1();
    toSign.query = url.query(QUrl::FullyEncoded).toLatin1();
    // The Host header as Qt sends it: the port only when it is not the scheme's default.
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    const int defaultPort = url.scheme() == u"https" ? 443 : 80;
    if (url.port(defaultPort) != defaultPort)
        host += ':' + QByteArray::number(url.port());
    toSign.headers.append({QByteArray("Host"), host});
    if (verb != "GET")
        toSign.headers.append({QByteArray("Content-Type"), QByteArray("application/json")});
    toSign.payload = body;
    const QByteArray authorization = signer.sign(toSign, QDateTime::currentDateTimeUtc());

    HttpRequest request;
    request.verb = verb;
    request.body = body;
    request.request = QNetworkRequest(url);
    for (const auto &[name, value] : toSign.headers) {
        if (name != "Host")
            request.request.setRawHeader(name, value);
    }
    request.request.setRawHeader("Authorization", authorization);
    request.request.setRawHeader("Accept", "application/json");
    return request;
}

Common::Result<HttpRequest> SesTransport::buildRequest(const OutgoingMessage &message)
{
    if (message.recipients.isEmpty())
        return Common::fail(QStringLiteral("ses.message"),
                            QStringLiteral("The message has no recipients"));
    const MimeParts parts = MimeParts::parse(
            message.data.left(message.data.indexOf("\r\n\r\n") + 4));
    QJsonObject body{{QStringLiteral("Content"),
                      QJsonObject{{QStringLiteral("Raw"),
                                   QJsonObject{{QStringLiteral("Data"),
                                                QString::fromLatin1(message.data.toBase64())}}}}},
                     // Raw content: the envelope recipients, Bcc included, are the destination.
                     {QStringLiteral("Destination"),
                      QJsonObject{{QStringLiteral("ToAddresses"),
                                   QJsonArray::fromStringList(message.recipients)}}}};
    if (!parts.from.email.isEmpty())
        body.insert(QStringLiteral("FromEmailAddress"), parts.from.email);
    QJsonArray tags;
    for (const QString &category : parts.categories()) {
        tags.append(QJsonObject{{QStringLiteral("Name"), QStringLiteral("category")},
                                {QStringLiteral("Value"), category}});
    }
    if (!tags.isEmpty())
        body.insert(QStringLiteral("EmailTags"), tags);
    return signedRequest("POST", QStringLiteral("/v2/email/outbound-emails"),
                         QJsonDocument(body).toJson(QJsonDocument::Compact));
}

void SesTransport::readSuccess(const HttpAnswer &answer, SendResult &result) const
{
    result.providerMessageId =
            QJsonDocument::fromJson(answer.body).object().value(u"MessageId").toString();
}

QString SesTransport::errorType(const HttpAnswer &answer)
{
    QString type = QString::fromLatin1(answer.header("X-Amzn-ErrorType"));
    if (type.isEmpty()) {
        const QJsonObject o = QJsonDocument::fromJson(answer.body).object();
        type = o.value(u"__type").toString();
        if (type.isEmpty())
            type = o.value(u"code").toString();
    }
    // "MessageRejected:http://internal.amazon.com/coral/..." or "com.amazon...#MessageRejected"
    type = type.section(u':', 0, 0);
    return type.section(u'#', -1);
}

QString SesTransport::explainBody(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    QString message = o.value(u"message").toString();
    if (message.isEmpty())
        message = o.value(u"Message").toString();
    return message.isEmpty() ? QString::fromUtf8(body.left(500)).trimmed() : message;
}

QString SesTransport::explain(const HttpAnswer &answer) const
{
    const QString type = errorType(answer);
    const QString message = explainBody(answer.body);
    return type.isEmpty() ? message : QString(type + QStringLiteral(": ") + message);
}

HttpFailure SesTransport::classify(const HttpAnswer &answer) const
{
    // docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html
    const QString type = errorType(answer);
    if (type == u"ThrottlingException" || type == u"TooManyRequestsException"
        || type == u"LimitExceededException" || type == u"Throttling")
        return HttpFailure::RateLimited;
    if (type == u"SignatureDoesNotMatch" || type == u"InvalidClientTokenId"
        || type == u"UnrecognizedClientException" || type == u"IncompleteSignature"
        || type == u"MissingAuthenticationToken" || type == u"ExpiredToken"
        || type == u"AccessDeniedException" || type == u"NotAuthorized")
        return HttpFailure::Credentials;
    if (type == u"ServiceUnavailable" || type == u"InternalFailure")
        return HttpFailure::Transient;
    return HttpTransport::classify(answer);
}

Diagnostics *SesTransport::createDiagnostics(QObject *parent) const
{
    HttpDiagnostics::Step account;
    account.id = QStringLiteral("auth");
    account.title = QStringLiteral("Credentials and sending quota");
    // Signed as the step starts: a signature is good for five minutes only.
    const QUrl accountUrl = endpoint(baseUrl(), QStringLiteral("/v2/email/account"));
    account.request = signRequest(m_signer, accountUrl, "GET", {});
    account.prepare = [signer = m_signer, accountUrl] {
        return signRequest(signer, accountUrl, "GET", {});
    };
    account.explain = [](const HttpAnswer &a) {
        const QString type = errorType(a);
        return type.isEmpty() ? explainBody(a.body)
                              : QString(type + QStringLiteral(": ") + explainBody(a.body));
    };
    account.evaluate = [region = settings().region](const HttpAnswer &a, DiagnosticStep &step) {
        const QJsonObject o = QJsonDocument::fromJson(a.body).object();
        const QJsonObject quota = o.value(u"SendQuota").toObject();
        const bool enabled = o.value(u"SendingEnabled").toBool();
        step.facts.append({QStringLiteral("Region"), region});
        step.facts.append({QStringLiteral("Max 24 hour send"),
                           QString::number(quota.value(u"Max24HourSend").toDouble())});
        step.facts.append({QStringLiteral("Max send rate"),
                           QString::number(quota.value(u"MaxSendRate").toDouble())});
        step.facts.append({QStringLiteral("Sent last 24 hours"),
                           QString::number(quota.value(u"SentLast24Hours").toDouble())});
        step.facts.append({QStringLiteral("Production access"),
                           o.value(u"ProductionAccessEnabled").toBool()
                                   ? QStringLiteral("yes")
                                   : QStringLiteral("no (sandbox)")});
        step.facts.append({QStringLiteral("Sending enabled"),
                           enabled ? QStringLiteral("yes") : QStringLiteral("no")});
        step.detail = enabled ? QStringLiteral("The credentials are valid; %1 of %2 messages sent "
                                               "in the last 24 hours, at most %3 per second")
                                        .arg(quota.value(u"SentLast24Hours").toDouble())
                                        .arg(quota.value(u"Max24HourSend").toDouble())
                                        .arg(quota.value(u"MaxSendRate").toDouble())
                              : QStringLiteral("The credentials are valid but sending is disabled "
                                               "for this account");
        return enabled;
    };
    return new HttpDiagnostics(settings(), {account}, parent);
}

} // namespace Providers
