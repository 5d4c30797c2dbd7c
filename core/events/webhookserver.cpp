#include "webhookserver.h"

#include "common/logging.h"
#include "db/connection.h"
#include "eventstore.h"
#include "ingestpool.h"
#include "parsers.h"
#include "tracking/tracking.h"
#include "verifiers.h"
#include "webhooksecretrepository.h"

#include <QAbstractHttpServer>
#include <QCryptographicHash>
#include <QDateTime>
#include <QEventLoop>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTcpSocket>
#include <QTimer>
#include <QUrlQuery>

namespace Events {

namespace {

// Routes every request to WebhookServer::handle and writes its reply.
class HttpFrontend final : public QAbstractHttpServer
{
public:
    explicit HttpFrontend(WebhookServer *server)
        : m_server(server)
    { }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        WebhookServer::Request r;
        switch (request.method()) {
        case QHttpServerRequest::Method::Get:
            r.method = "GET";
            break;
        case QHttpServerRequest::Method::Post:
            r.method = "POST";
            break;
        case QHttpServerRequest::Method::Head:
            r.method = "HEAD";
            break;
        default:
            r.method = "OTHER";
            break;
        }
        r.path = request.url().path();
        r.headers = request.headers();
        r.body = request.body();
        const WebhookServer::Reply reply = m_server->handle(r);
        // Answer at once: with Nagle's algorithm a response could wait for the client's delayed
        // ACK, which would cap a keep-alive connection at a few dozen requests per second.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        QHttpServerResponder responder = makeResponder(request, socket);
        responder.writeStatusLine(QHttpServerResponder::StatusCode(reply.status));
        responder.writeHeader("Content-Type", reply.contentType);
        for (const auto &header : reply.headers)
            responder.writeHeader(header.first, header.second);
        const QByteArray body = r.method == "HEAD" ? QByteArray() : reply.body;
        responder.writeHeader("Content-Length", QByteArray::number(reply.body.size()));
        responder.writeBody(body);
        return true;
    }

    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override { }

private:
    WebhookServer *m_server;
};

WebhookServer::Reply text(int status, const QString &message)
{
    WebhookServer::Reply reply;
    reply.status = status;
    reply.body = message.toUtf8() + '\n';
    return reply;
}

WebhookServer::Reply html(int status, const QString &title, const QString &bodyHtml)
{
    WebhookServer::Reply reply;
    reply.status = status;
    reply.contentType = "text/html; charset=utf-8";
    reply.headers.emplaceBack(QByteArray("Cache-Control"), QByteArray("no-store"));
    reply.body = QStringLiteral(
                         "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                         "<meta name=\"robots\" content=\"noindex\"><title>%1</title></head>"
                         "<body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">"
                         "%2</body></html>")
                         .arg(title.toHtmlEscaped(), bodyHtml)
                         .toUtf8();
    return reply;
}

QByteArray httpsGet(const QUrl &url, int timeoutMs, QString *error)
{
    QNetworkAccessManager manager;
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    request.setTransferTimeout(timeoutMs);
    std::unique_ptr<QNetworkReply> reply(manager.get(request));
    QEventLoop loop;
    QObject::connect(reply.get(), &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    if (reply->error() != QNetworkReply::NoError) {
        *error = reply->errorString();
        return {};
    }
    return reply->readAll();
}

} // namespace

QByteArray WebhookServer::Request::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

WebhookServer::WebhookServer(Options options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_link(std::make_unique<StoreLink>(m_options.openConnection))
    , m_pool(std::make_unique<IngestPool>(m_options.openConnection,
                                          m_options.openConnection
                                                  ? qMax(0, m_options.ingestConnections - 1)
                                                  : 0))
{
    if (!m_options.fetchCertificate) {
        m_options.fetchCertificate = [](const QUrl &url) -> Common::Result<QByteArray> {
            QString error;
            const QByteArray pem = httpsGet(url, 10000, &error);
            if (pem.isEmpty())
                return Common::fail(QStringLiteral("events.certificate_fetch"),
                                    QStringLiteral("Could not fetch the SNS signing certificate "
                                                   "%1; without internet access, load it with "
                                                   "'postdeskctl webhooks set ses "
                                                   "--certificate URL=FILE'.")
                                            .arg(url.toString()),
                                    error, Common::Retry::Transient);
            return pem;
        };
    }
    if (!m_options.confirmSubscription) {
        m_options.confirmSubscription = [this](const QUrl &url) {
            auto *manager = new QNetworkAccessManager(this);
            QNetworkReply *reply = manager->get(QNetworkRequest(url));
            connect(reply, &QNetworkReply::finished, manager, [reply, manager] {
                if (reply->error() != QNetworkReply::NoError)
                    qCWarning(lcEvents)
                            << "SNS subscription confirmation failed:" << reply->errorString();
                else
                    qCInfo(lcEvents) << "SNS subscription confirmed";
                reply->deleteLater();
                manager->deleteLater();
            });
        };
    }
}

WebhookServer::~WebhookServer() = default;

Common::Result<quint16> WebhookServer::listen(const QHostAddress &address, quint16 port)
{
    m_http = std::make_unique<HttpFrontend>(this);
    const quint16 bound = m_http->listen(address, port);
    if (bound == 0)
        return Common::fail(QStringLiteral("events.listen"),
                            QStringLiteral("Cannot listen on %1:%2: the port is in use or not "
                                           "allowed. Pick another with --listen ADDR:PORT.")
                                    .arg(address.toString())
                                    .arg(port));
    qCInfo(lcEvents).noquote() << QStringLiteral("webhook server listening on %1:%2")
                                          .arg(address.toString())
                                          .arg(bound);
    return bound;
}

Db::Connection *WebhookServer::connection(Common::Error *error)
{
    return m_link->connection(error);
}

void WebhookServer::dropConnectionIf(const Common::Error &error)
{
    m_link->dropIf(error);
}

Common::Result<QByteArray> WebhookServer::secret(const QString &provider, const QString &name,
                                                 bool fresh)
{
    const QString cacheKey = provider + u'/' + name;
    auto it = m_secrets.find(cacheKey);
    if (!fresh && it != m_secrets.end() && it->age.elapsed() < 60000)
        return it->value;
    if (provider == u"ses") {
        // Not a secret: the accepted topics, one per line (empty: any).
        Common::Error error;
        Db::Connection *db = connection(&error);
        if (!db)
            return Common::fail(error);
        auto topics = WebhookSecretRepository(*db).sesTopics();
        if (!topics) {
            dropConnectionIf(topics.error());
            return Common::fail(topics.error());
        }
        Cached cached{topics->join(u'\n').toUtf8(), {}};
        cached.age.start();
        m_secrets.insert(cacheKey, cached);
        return cached.value;
    }
    if (!m_options.hostKey)
        return Common::fail(QStringLiteral("events.no_host_key"),
                            QStringLiteral("The webhook server has no host key to open the "
                                           "verification secrets with: run 'postdeskctl worker "
                                           "init' on this host and authorise it."));
    Common::Error error;
    Db::Connection *db = connection(&error);
    if (!db)
        return Common::fail(error);
    WebhookSecretRepository repository(*db);
    auto value = provider == u"tracking"
            ? repository.trackingKey(*m_options.hostKey)
            : repository.openSecret(provider, name, *m_options.hostKey);
    if (!value) {
        dropConnectionIf(value.error());
        return value;
    }
    Cached cached{*value, {}};
    cached.age.start();
    m_secrets.insert(cacheKey, cached);
    return value;
}

WebhookServer::Reply WebhookServer::errorReply(const Common::Error &error)
{
    const QString &code = error.code;
    if (code == u"events.unauthenticated") {
        Reply r = text(401, error.message);
        return r;
    }
    if (code == u"events.bad_signature" || code == u"events.stale" || code == u"events.replay"
        || code == u"events.forbidden_topic")
        return text(403, error.message);
    if (code == u"events.malformed" || code == u"tracking.bad_token")
        return text(400, error.message);
    if (error.isTransient() || code == u"events.not_configured" || code == u"events.no_host_key"
        || code.startsWith(u"secrets.") || code.startsWith(u"db.")) {
        qCWarning(lcEvents).noquote() << "webhook request refused for now:" << error.toString();
        Reply r = text(503, QStringLiteral("Temporarily unavailable: ") + error.message);
        r.headers.emplaceBack(QByteArray("Retry-After"), QByteArray("30"));
        return r;
    }
    qCWarning(lcEvents).noquote() << "webhook request failed:" << error.toString();
    return text(500, error.message);
}

WebhookServer::Reply WebhookServer::store(const QList<Event> &events, const QString &replayToken)
{
    auto stored = m_pool->ingest(*m_link, events, IngestOptions{replayToken});
    if (!stored) {
        Common::Error e = stored.error();
        if (e.code != u"events.replay")
            e.retry = Common::Retry::Transient; // the provider retries (stored events are known)
        return errorReply(e);
    }
    if (stored->stored > 0)
        Q_EMIT eventsStored(stored->stored);
    Reply reply;
    reply.contentType = "application/json";
    reply.body = QJsonDocument(QJsonObject{{QStringLiteral("received"), stored->received},
                                           {QStringLiteral("stored"), stored->stored},
                                           {QStringLiteral("duplicates"), stored->duplicates}})
                         .toJson(QJsonDocument::Compact);
    return reply;
}

WebhookServer::Reply WebhookServer::handle(const Request &request)
{
    const QString &path = request.path;
    const bool post = request.method == "POST";
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (path.startsWith(u"/webhooks/")) {
        if (!post)
            return text(405, QStringLiteral("Webhooks are POST requests."));
        if (path == u"/webhooks/sendgrid")
            return handleSendGrid(request);
        if (path == u"/webhooks/mailgun")
            return handleMailgun(request);
        if (path == u"/webhooks/postmark")
            return handlePostmark(request);
        if (path == u"/webhooks/ses")
            return handleSes(request);
    } else if (path.startsWith(u"/t/o/") && get) {
        return handleOpen(path.mid(5), request);
    } else if (path.startsWith(u"/t/c/") && get) {
        return handleClick(path.mid(5), request);
    } else if (path.startsWith(u"/u/") && (get || post)) {
        return handleUnsubscribe(path.mid(3), request);
    }
    return text(404, QStringLiteral("Not found."));
}

WebhookServer::Reply WebhookServer::handleSendGrid(const Request &request)
{
    const QByteArray signature = request.header("X-Twilio-Email-Event-Webhook-Signature");
    const QByteArray timestamp = request.header("X-Twilio-Email-Event-Webhook-Timestamp");
    if (signature.isEmpty() || timestamp.isEmpty())
        return errorReply(verifySendGrid({}, timestamp, request.body, signature).error());
    auto key = secret(QStringLiteral("sendgrid"), QStringLiteral("public_key"), false);
    if (!key)
        return errorReply(key.error());
    auto ok = verifySendGrid(*key, timestamp, request.body, signature);
    if (!ok && ok.error().code == u"events.bad_signature") {
        // The key may just have been replaced: read it again once.
        if (auto fresh = secret(QStringLiteral("sendgrid"), QStringLiteral("public_key"), true);
            fresh && *fresh != *key)
            ok = verifySendGrid(*fresh, timestamp, request.body, signature);
    }
    if (!ok)
        return errorReply(ok.error());
    auto events = parseSendGrid(request.body);
    if (!events)
        return errorReply(events.error());
    return store(*events);
}

WebhookServer::Reply WebhookServer::handleMailgun(const Request &request)
{
    const QJsonDocument doc = QJsonDocument::fromJson(request.body);
    if (!doc.isObject())
        return errorReply(malformed(QStringLiteral("mailgun"), QStringLiteral("invalid JSON")));
    const QJsonObject sig = doc.object().value(QLatin1String("signature")).toObject();
    const QString timestamp = sig.value(QLatin1String("timestamp")).isDouble()
            ? QString::number(qint64(sig.value(QLatin1String("timestamp")).toDouble()))
            : sig.value(QLatin1String("timestamp")).toString();
    const QString token = sig.value(QLatin1String("token")).toString();
    const QString signature = sig.value(QLatin1String("signature")).toString();
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    if (timestamp.isEmpty() || token.isEmpty() || signature.isEmpty())
        return errorReply(verifyMailgun({}, {}, {}, {}, now, 0).error());
    auto key = secret(QStringLiteral("mailgun"), QStringLiteral("signing_key"), false);
    if (!key)
        return errorReply(key.error());
    auto ok = verifyMailgun(*key, timestamp, token, signature, now, m_options.mailgunWindowSeconds);
    if (!ok && ok.error().code == u"events.bad_signature") {
        if (auto fresh = secret(QStringLiteral("mailgun"), QStringLiteral("signing_key"), true);
            fresh && *fresh != *key)
            ok = verifyMailgun(*fresh, timestamp, token, signature, now,
                               m_options.mailgunWindowSeconds);
    }
    if (!ok)
        return errorReply(ok.error());
    auto events = parseMailgun(request.body);
    if (!events)
        return errorReply(events.error());
    return store(*events, token);
}

WebhookServer::Reply WebhookServer::handlePostmark(const Request &request)
{
    const QByteArray authorization = request.header("Authorization");
    auto unauthorised = [](const Common::Error &error) {
        Reply r = text(401, error.message);
        r.headers.emplaceBack(QByteArray("WWW-Authenticate"),
                              QByteArray("Basic realm=\"postdesk webhooks\""));
        return r;
    };
    if (authorization.isEmpty())
        return unauthorised(verifyBasicAuth({}, {}, {}).error());
    auto user = secret(QStringLiteral("postmark"), QStringLiteral("user"), false);
    if (!user)
        return errorReply(user.error());
    auto password = secret(QStringLiteral("postmark"), QStringLiteral("password"), false);
    if (!password)
        return errorReply(password.error());
    auto ok = verifyBasicAuth(authorization, *user, *password);
    if (!ok) {
        auto freshUser = secret(QStringLiteral("postmark"), QStringLiteral("user"), true);
        auto freshPassword = secret(QStringLiteral("postmark"), QStringLiteral("password"), true);
        if (freshUser && freshPassword && (*freshUser != *user || *freshPassword != *password))
            ok = verifyBasicAuth(authorization, *freshUser, *freshPassword);
    }
    if (!ok)
        return unauthorised(ok.error());
    auto events = parsePostmark(request.body);
    if (!events)
        return errorReply(events.error());
    return store(*events);
}

Common::Result<QByteArray> WebhookServer::snsCertificate(const QUrl &url)
{
    if (auto ok = checkSnsCertificateUrl(url); !ok)
        return Common::fail(ok.error());
    const QString key = url.toString();
    if (auto it = m_certificates.constFind(key); it != m_certificates.constEnd())
        return *it;
    Common::Error error;
    Db::Connection *db = connection(&error);
    if (!db)
        return Common::fail(error);
    WebhookSecretRepository repository(*db);
    auto cached = repository.certificate(key);
    if (!cached) {
        dropConnectionIf(cached.error());
        return cached;
    }
    if (!cached->isEmpty()) {
        m_certificates.insert(key, *cached);
        return cached;
    }
    auto fetched = m_options.fetchCertificate(url);
    if (!fetched)
        return fetched;
    if (!fetched->contains("-----BEGIN CERTIFICATE-----"))
        return Common::fail(QStringLiteral("events.bad_certificate"),
                            QStringLiteral("%1 did not return a PEM certificate.").arg(key));
    // The connection may have been used by another request meanwhile; ask again.
    if (Db::Connection *again = connection(&error)) {
        if (auto ok = WebhookSecretRepository(*again).storeCertificate(key, *fetched,
                                                                       QStringLiteral("fetched"));
            !ok)
            qCWarning(lcEvents).noquote()
                    << "could not cache the SNS certificate:" << ok.error().toString();
    }
    m_certificates.insert(key, *fetched);
    return fetched;
}

WebhookServer::Reply WebhookServer::handleSes(const Request &request)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return errorReply(malformed(QStringLiteral("ses"), QStringLiteral("invalid JSON")));
    const QJsonObject message = doc.object();
    if (auto toSign = snsStringToSign(message); !toSign)
        return errorReply(toSign.error());
    const QString certUrl = message.value(QLatin1String("SigningCertURL")).toString();
    if (certUrl.isEmpty() || message.value(QLatin1String("Signature")).toString().isEmpty())
        return errorReply(Common::makeError(QStringLiteral("events.unauthenticated"),
                                            QStringLiteral("The SNS message is not signed.")));
    auto certificate = snsCertificate(QUrl(certUrl));
    if (!certificate)
        return errorReply(certificate.error());
    if (auto ok = verifySnsSignature(message, *certificate); !ok)
        return errorReply(ok.error());
    // Anyone can have AWS sign messages of their own topic: only the configured topics count,
    // and the certificate must be the one of the topic's region.
    const QString topic = message.value(QLatin1String("TopicArn")).toString();
    const QString region = topic.section(u':', 3, 3);
    if (region.isEmpty() || !QUrl(certUrl).host().startsWith(QStringLiteral("sns.") + region + u'.'))
        return errorReply(Common::makeError(QStringLiteral("events.bad_signature"),
                                            QStringLiteral("The SNS certificate is not the one of "
                                                           "the topic's region.")));
    auto topics = secret(QStringLiteral("ses"), QStringLiteral("topic_arns"), false);
    if (!topics)
        return errorReply(topics.error());
    if (!topics->isEmpty() && !topics->split('\n').contains(topic.toUtf8()))
        return errorReply(Common::makeError(
                QStringLiteral("events.forbidden_topic"),
                QStringLiteral("SNS topic %1 is not one this server accepts ('postdeskctl "
                               "webhooks set ses --topic ARN').")
                        .arg(topic.left(200))));
    const QString type = message.value(QLatin1String("Type")).toString();
    if (type == u"SubscriptionConfirmation") {
        const QUrl subscribe(message.value(QLatin1String("SubscribeURL")).toString());
        // Only ever visit an SNS host over HTTPS.
        if (subscribe.scheme() != u"https"
            || !checkSnsCertificateUrl(
                    QUrl(QStringLiteral("https://%1/x.pem").arg(subscribe.host()))))
            return errorReply(Common::makeError(QStringLiteral("events.bad_signature"),
                                                QStringLiteral("Refused SubscribeURL: not an "
                                                               "SNS host.")));
        m_options.confirmSubscription(subscribe);
        return text(200, QStringLiteral("Subscription confirmation requested."));
    }
    if (type == u"UnsubscribeConfirmation")
        return text(200, QStringLiteral("Noted."));
    auto events = parseSesNotification(request.body);
    if (!events)
        return errorReply(events.error());
    return store(*events);
}

QByteArray WebhookServer::openPixel()
{
    // GIF89a, 1×1, one transparent pixel.
    static const QByteArray gif = QByteArray::fromBase64(
            "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");
    return gif;
}

WebhookServer::Reply WebhookServer::handleOpen(const QString &token, const Request &request)
{
    auto key = secret(QStringLiteral("tracking"), QStringLiteral("signing_key"), false);
    if (!key)
        return errorReply(key.error());
    auto data = Tracking::readToken(token, *key);
    if (!data || data->kind != Tracking::TokenKind::Open)
        return text(400, QStringLiteral("This link is not valid."));
    Event e;
    e.source = QStringLiteral("tracking");
    e.type = Type::Opened;
    e.messageId = data->messageId;
    e.userAgent = QString::fromUtf8(request.header("User-Agent"));
    e.machine = isScannerUserAgent(e.userAgent);
    e.occurredAt = QDateTime::currentDateTimeUtc();
    // One open of each kind per message: reloads of the pixel are not new opens.
    e.eventKey = QStringLiteral("o:%1:%2").arg(data->messageId).arg(e.machine ? u'm' : u'h');
    e.raw = QJsonDocument(QJsonObject{{QStringLiteral("user_agent"), e.userAgent}})
                    .toJson(QJsonDocument::Compact);
    Reply stored = store({e});
    if (stored.status != 200)
        return stored;
    Reply reply;
    reply.contentType = "image/gif";
    reply.body = openPixel();
    reply.headers = {{"Cache-Control", "no-store, no-cache, must-revalidate, max-age=0"},
                     {"Pragma", "no-cache"},
                     {"Expires", "0"}};
    return reply;
}

WebhookServer::Reply WebhookServer::handleClick(const QString &token, const Request &request)
{
    auto key = secret(QStringLiteral("tracking"), QStringLiteral("signing_key"), false);
    if (!key)
        return errorReply(key.error());
    auto data = Tracking::readToken(token, *key);
    const QUrl target = data ? QUrl(data->url, QUrl::StrictMode) : QUrl();
    if (!data || data->kind != Tracking::TokenKind::Click || !target.isValid()
        || (target.scheme() != u"http" && target.scheme() != u"https"))
        return text(400, QStringLiteral("This link is not valid."));
    Event e;
    e.source = QStringLiteral("tracking");
    e.type = Type::Clicked;
    e.messageId = data->messageId;
    e.url = data->url;
    e.userAgent = QString::fromUtf8(request.header("User-Agent"));
    e.machine = isScannerUserAgent(e.userAgent);
    e.occurredAt = QDateTime::currentDateTimeUtc();
    e.eventKey = QStringLiteral("c:%1:%2:%3")
                         .arg(data->messageId)
                         .arg(QString::fromLatin1(
                                 QCryptographicHash::hash(data->url.toUtf8(),
                                                          QCryptographicHash::Sha256)
                                         .toHex()
                                         .left(16)))
                         .arg(e.machine ? u'b' : u'h');
    e.raw = QJsonDocument(QJsonObject{{QStringLiteral("user_agent"), e.userAgent},
                                      {QStringLiteral("url"), e.url}})
                    .toJson(QJsonDocument::Compact);
    // The reader gets to the target even when the click cannot be recorded right now.
    if (Reply stored = store({e}); stored.status != 200)
        qCWarning(lcEvents) << "click not recorded, redirecting anyway; status" << stored.status;
    Reply reply;
    reply.status = 302;
    reply.headers = {{"Location", target.toEncoded()},
                     {"Cache-Control", "no-store"},
                     {"Referrer-Policy", "no-referrer"}};
    return reply;
}

WebhookServer::Reply WebhookServer::handleUnsubscribe(const QString &token, const Request &request)
{
    auto key = secret(QStringLiteral("tracking"), QStringLiteral("signing_key"), false);
    if (!key)
        return errorReply(key.error());
    auto data = Tracking::readToken(token, *key);
    if (!data || data->kind != Tracking::TokenKind::Unsubscribe)
        return html(400, QStringLiteral("Invalid link"),
                    QStringLiteral("<p>This unsubscribe link is not valid.</p>"));
    if (request.method != "POST") {
        // A GET only shows the page: link scanners that follow every link unsubscribe nobody.
        return html(200, QStringLiteral("Unsubscribe"),
                    QStringLiteral("<h1>Unsubscribe</h1><p>Stop receiving these emails?</p>"
                                   "<form method=\"post\"><input type=\"hidden\" "
                                   "name=\"List-Unsubscribe\" value=\"One-Click\">"
                                   "<button type=\"submit\">Unsubscribe</button></form>"));
    }
    // RFC 8058: the body is List-Unsubscribe=One-Click (form-urlencoded or multipart).
    const QByteArray body = request.body;
    const bool oneClick = QUrlQuery(QString::fromUtf8(body))
                                  .queryItemValue(QStringLiteral("List-Unsubscribe"))
                    == u"One-Click"
            || (body.contains("name=\"List-Unsubscribe\"") && body.contains("One-Click"));
    if (!oneClick)
        return html(400, QStringLiteral("Unsubscribe"),
                    QStringLiteral("<p>The request did not ask to unsubscribe "
                                   "(List-Unsubscribe=One-Click).</p>"));
    Event e;
    e.source = QStringLiteral("tracking");
    e.type = Type::Unsubscribed;
    e.messageId = data->messageId;
    e.occurredAt = QDateTime::currentDateTimeUtc();
    e.eventKey = QStringLiteral("u:%1").arg(data->messageId);
    e.raw = QJsonDocument(QJsonObject{{QStringLiteral("one_click"), true}})
                    .toJson(QJsonDocument::Compact);
    Reply stored = store({e});
    if (stored.status != 200)
        return stored;
    return html(200, QStringLiteral("Unsubscribed"),
                QStringLiteral("<h1>Unsubscribed</h1><p>You will not receive these emails "
                               "any more.</p>"));
}

} // namespace Events
