#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QStringList>

#include <optional>

namespace Mime {
struct ComposedMessage;
}

namespace Providers {

class Diagnostics;
class ProviderUrl;

// One message as a transport sends it: the SMTP envelope and the finished RFC 5322 bytes
// (headers, body, DKIM signature). HTTP providers parse what they need out of data.
struct OutgoingMessage
{
    QString envelopeFrom; // the return path; empty for a null sender (<>)
    QStringList recipients;
    QByteArray data;            // RFC 5322, CRLF line ends, not dot-stuffed
    QString messageId;          // the Message-ID without angle brackets, for logs and results
    bool needsSmtpUtf8 = false; // internationalised addresses or headers (RFC 6531)
    bool has8bit = false;       // 8bit body parts (RFC 6152)
};

// What a transport sends of a composed message.
OutgoingMessage toOutgoing(const Mime::ComposedMessage &composed);

// What the server said about one recipient it did not accept.
struct RecipientRejection
{
    QString recipient;
    int code = 0;         // the SMTP reply code, 0 when there was no reply
    QString enhancedCode; // e.g. "5.1.1" (RFC 3463), empty when the server sends none
    QString reply;        // the full reply text
    Common::Retry retry = Common::Retry::Permanent;
};

// The outcome of one send(). The message was delivered to the provider for every recipient in
// accepted; error is set when it was delivered to no one (then accepted is empty).
struct SendResult
{
    QString messageId; // copied from the OutgoingMessage
    QStringList accepted;
    QList<RecipientRejection> rejected;
    QString serverReply;       // the final reply, e.g. "250 2.0.0 Ok: queued as 4C1D2"
    QString providerMessageId; // the provider's id for the message, when it reports one
    std::optional<Common::Error> error;
    // HTTP providers: the provider refused the credentials (the transport is then unhealthy), or
    // asked us to slow down (HTTP 429), with the wait it asked for in Retry-After when it gave one.
    bool credentialsRefused = false;
    bool rateLimited = false;
    std::optional<int> retryAfterSeconds;
    int httpStatus = 0; // the HTTP status of the provider's answer, 0 for SMTP or no answer

    bool ok() const { return !error.has_value(); }
};

// A way to hand messages to an email provider. Implementations are asynchronous: send() returns at
// once and sent() reports the outcome on the object's thread, once per ticket.
class Transport : public QObject
{
    Q_OBJECT
public:
    using Ticket = quint64;

    explicit Transport(QObject *parent = nullptr)
        : QObject(parent)
    { }
    ~Transport() override = default;

    // Queues a message; the returned ticket identifies it in sent().
    virtual Ticket send(const OutgoingMessage &message) = 0;

    // A new, not yet started check of the connection and the credentials that sends nothing. The
    // caller owns it; start() it after connecting to its signals.
    virtual Diagnostics *createDiagnostics(QObject *parent = nullptr) const = 0;

    // Messages queued or being sent.
    virtual int pendingCount() const = 0;

    // Closes idle connections politely; messages in flight still complete.
    virtual void closeIdle() { }

    // False once the provider refused the credentials; sending again will not help until they are
    // changed. healthChanged() reports each change.
    virtual bool isHealthy() const { return true; }

    // A transport for the provider url describes.
    static Common::Result<Transport *> create(const ProviderUrl &url, QObject *parent = nullptr);

Q_SIGNALS:
    void sent(Providers::Transport::Ticket ticket, const Providers::SendResult &result);
    // Emitted when nothing is queued or in flight any more.
    void drained();
    void healthChanged(bool healthy, const QString &reason);

private:
    Q_DISABLE_COPY_MOVE(Transport)
};

} // namespace Providers

Q_DECLARE_METATYPE(Providers::OutgoingMessage)
Q_DECLARE_METATYPE(Providers::SendResult)
