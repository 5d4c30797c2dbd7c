#pragma once

#include "common/result.h"
#include "event.h"
#include "secrets/sealedbox.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPair>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>

class QAbstractHttpServer;

namespace Db {
class Connection;
}

namespace Events {

class IngestPool;
class StoreLink;

// The HTTP server of postdeskd --listen: provider webhooks and our tracking endpoints.
//   POST /webhooks/sendgrid   ECDSA signature (X-Twilio-Email-Event-Webhook-Signature/-Timestamp)
//   POST /webhooks/mailgun    HMAC-SHA256 of timestamp+token; tokens remembered; time window
//   POST /webhooks/postmark   HTTP basic auth
//   POST /webhooks/ses        Amazon SNS: SubscriptionConfirmation and Notification, signature
//                             versions 1 and 2, certificate from https://sns.<region>.amazonaws.com
//   GET  /t/o/TOKEN           open pixel (1×1 GIF, no caching)
//   GET  /t/c/TOKEN           click: 302 to the signed target; 400 for a bad token
//   GET  /u/TOKEN             unsubscribe confirmation page (link scanners change nothing)
//   POST /u/TOKEN             List-Unsubscribe=One-Click (RFC 8058): unsubscribes at once
// Webhooks answer 2xx only after their events are committed; 401/403 for missing or wrong
// credentials or signatures and 400 for a malformed body (nothing stored either way); 503 while
// the database is unavailable, so the provider retries.
//
// The server works on the thread it lives on, with a database connection of its own that it opens
// on first use and again after the link is lost (each request waits at most for one connection
// attempt and one transaction). A large batch of events is stored over that connection and
// Options::ingestConnections - 1 more, on threads of their own, side by side.
class WebhookServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WebhookServer)

public:
    using ConnectionFactory = std::function<Common::Result<std::unique_ptr<Db::Connection>>()>;
    using CertificateFetcher = std::function<Common::Result<QByteArray>(const QUrl &)>;

    struct Options
    {
        ConnectionFactory openConnection;
        // This host's worker key: opens the sealed verification secrets and the tracking key.
        std::optional<Secrets::KeyPair> hostKey;
        qint64 mailgunWindowSeconds = 15 * 60;
        // How SNS signing certificates are fetched (default: HTTPS GET with a 10 s limit).
        CertificateFetcher fetchCertificate;
        // Asks for SNS SubscribeURL (default: HTTPS GET, not waited for).
        std::function<void(const QUrl &)> confirmSubscription;
        // How many database connections a large batch of events is stored over at once, each
        // part in its own transaction (see IngestPool).
        int ingestConnections = 2;
    };

    struct Request
    {
        QByteArray method; // GET, POST, ...
        QString path;
        QList<QPair<QByteArray, QByteArray>> headers;
        QByteArray body;
        QByteArray header(const QByteArray &name) const;
    };

    struct Reply
    {
        int status = 200;
        QByteArray contentType = "text/plain; charset=utf-8";
        QByteArray body;
        QList<QPair<QByteArray, QByteArray>> headers;
    };

    explicit WebhookServer(Options options, QObject *parent = nullptr);
    ~WebhookServer() override;

    // Starts listening; returns the port (useful with port 0).
    Common::Result<quint16> listen(const QHostAddress &address, quint16 port);

    // The whole request handling, without HTTP around it.
    Reply handle(const Request &request);

    static QByteArray openPixel(); // the 1×1 transparent GIF

Q_SIGNALS:
    void eventsStored(int count);

private:
    Reply handleSendGrid(const Request &request);
    Reply handleMailgun(const Request &request);
    Reply handlePostmark(const Request &request);
    Reply handleSes(const Request &request);
    Reply handleOpen(const QString &token, const Request &request);
    Reply handleClick(const QString &token, const Request &request);
    Reply handleUnsubscribe(const QString &token, const Request &request);

    // The database link, opened when needed; nullptr (and error set) when unavailable.
    Db::Connection *connection(Common::Error *error);
    void dropConnectionIf(const Common::Error &error);
    // A secret, cached for a minute; fresh=true reads it again.
    Common::Result<QByteArray> secret(const QString &provider, const QString &name, bool fresh);
    Common::Result<QByteArray> snsCertificate(const QUrl &url);
    Reply store(const QList<Event> &events, const QString &replayToken = {});
    Reply errorReply(const Common::Error &error);

    Options m_options;
    std::unique_ptr<QAbstractHttpServer> m_http;
    std::unique_ptr<StoreLink> m_link;
    std::unique_ptr<IngestPool> m_pool;
    struct Cached
    {
        QByteArray value;
        QElapsedTimer age;
    };
    QHash<QString, Cached> m_secrets;
    QHash<QString, QByteArray> m_certificates;
};

} // namespace Events
