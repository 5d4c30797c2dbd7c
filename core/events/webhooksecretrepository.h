#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace Db {
class Connection;
}
namespace Secrets {
class KeyPair;
}

namespace Events {

// What the webhook endpoints verify with, and the tracking key: sealed to every authorised worker
// host key (Secrets::SealedBox, bound to provider and name), never stored or logged in plain text.
// The webhook server's host opens them with its own host key.
//   sendgrid  public_key            SendGrid's verification key (base64 DER or PEM)
//   mailgun   signing_key           Mailgun's HTTP webhook signing key
//   postmark  user, password        the basic-auth credentials put in Postmark's webhook URL
//   tracking  signing_key           the tracking token key (32 random bytes)
// And the SNS certificate cache (not secret): pre-loaded by an admin or fetched and cached.
class WebhookSecretRepository
{
public:
    explicit WebhookSecretRepository(Db::Connection &connection);

    static QByteArray context(const QString &provider, const QString &name);

    // Replaces a secret, sealed to every authorised worker key; an error says how to authorise
    // one when there is none.
    Common::Status setSecret(const QString &provider, const QString &name, const QByteArray &value);
    // "events.not_configured" when it was never set, "secrets.not_sealed_for_host" when it was not
    // sealed to this host's key.
    Common::Result<QByteArray> openSecret(const QString &provider, const QString &name,
                                          const Secrets::KeyPair &hostKey);

    // The tracking key; created (and sealed to every authorised key) on first use when create.
    Common::Result<QByteArray> trackingKey(const Secrets::KeyPair &hostKey, bool create = true);

    // The tracking base URL (setting "tracking.base_url"), e.g. https://t.example.org.
    Common::Result<QString> trackingBaseUrl();
    Common::Status setTrackingBaseUrl(const QString &url);

    // The SNS topics whose messages /webhooks/ses accepts (setting "webhooks.ses.topic_arns");
    // empty: any topic with a valid AWS signature.
    Common::Result<QStringList> sesTopics();
    Common::Status setSesTopics(const QStringList &topicArns);

    // SNS signing certificates by URL; origin is "preloaded" or "fetched".
    Common::Status storeCertificate(const QString &url, const QByteArray &pem,
                                    const QString &origin);
    // Empty when not cached.
    Common::Result<QByteArray> certificate(const QString &url);

private:
    Db::Connection &m_connection;
};

} // namespace Events
