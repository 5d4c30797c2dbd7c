#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QUrl>

// Webhook authenticity checks: pure functions, no I/O. An error's code says how the server answers:
// "events.unauthenticated" (credentials or signature missing: 401), "events.bad_signature"
// (present but wrong: 403), "events.stale" (timestamp outside the window: 403).
namespace Events {

// SendGrid Signed Event Webhook: ECDSA P-256 / SHA-256 over the timestamp header followed by the
// raw body. publicKey is the verification key as SendGrid shows it (base64 of the DER
// SubjectPublicKeyInfo) or PEM; signature is the base64 header value.
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
Common::Status verifySendGrid(const QByteArray &publicKey, const QByteArray &timestamp,
                              const QByteArray &body, const QByteArray &signature);

// Mailgun: hex HMAC-SHA256 of timestamp + token with the webhook signing key; the timestamp must
// be within windowSeconds of now (seconds since the epoch).
// https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
Common::Status verifyMailgun(const QByteArray &signingKey, const QString &timestamp,
                             const QString &token, const QString &signature, qint64 now,
                             qint64 windowSeconds);

// HTTP basic authentication (Postmark signs nothing; its webhooks send credentials in the URL).
// Both parts are compared in constant time.
Common::Status verifyBasicAuth(const QByteArray &authorizationHeader, const QByteArray &user,
                               const QByteArray &password);

// Amazon SNS: the canonical string to sign for a Notification, SubscriptionConfirmation or
// UnsubscribeConfirmation; an error when a field it needs is missing.
// https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
Common::Result<QByteArray> snsStringToSign(const QJsonObject &message);
// Verifies "Signature" with the certificate (PEM): SignatureVersion 1 is SHA1withRSA, 2 is
// SHA256withRSA.
Common::Status verifySnsSignature(const QJsonObject &message, const QByteArray &certificatePem);
// The certificate URL must be https://sns.<region>.amazonaws.com[.cn]/….pem: nothing else is
// ever fetched.
Common::Status checkSnsCertificateUrl(const QUrl &url);

// Constant-time comparison of two byte strings.
bool constantTimeEquals(const QByteArray &a, const QByteArray &b);

} // namespace Events
