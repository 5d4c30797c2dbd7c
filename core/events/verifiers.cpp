#include "verifiers.h"

#include <QMessageAuthenticationCode>
#include <QRegularExpression>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace Events {

namespace {

struct PkeyFree
{
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree
{
    void operator()(EVP_MD_CTX *p) const { EVP_MD_CTX_free(p); }
};
struct BioFree
{
    void operator()(BIO *p) const { BIO_free(p); }
};
struct X509Free
{
    void operator()(X509 *p) const { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Common::Error badSignature(const QString &what)
{
    return Common::makeError(QStringLiteral("events.bad_signature"), what);
}

Common::Error unauthenticated(const QString &what)
{
    return Common::makeError(QStringLiteral("events.unauthenticated"), what);
}

bool verifyDigest(EVP_PKEY *key, const EVP_MD *md, const QByteArray &data,
                  const QByteArray &signature)
{
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1)
        return false;
    return EVP_DigestVerify(ctx.get(),
                            reinterpret_cast<const unsigned char *>(signature.constData()),
                            size_t(signature.size()),
                            reinterpret_cast<const unsigned char *>(data.constData()),
                            size_t(data.size()))
            == 1;
}

Pkey loadPublicKey(const QByteArray &key)
{
    const QByteArray trimmed = key.trimmed();
    if (trimmed.startsWith("-----BEGIN")) {
        std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(trimmed.constData(), int(trimmed.size())));
        return Pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    }
    QByteArray compact = trimmed;
    compact.replace('\n', QByteArray()).replace('\r', QByteArray()).replace(' ', QByteArray());
    const auto der = QByteArray::fromBase64Encoding(compact,
                                                    QByteArray::AbortOnBase64DecodingErrors);
    if (!der)
        return {};
    const auto *p = reinterpret_cast<const unsigned char *>(der.decoded.constData());
    return Pkey(d2i_PUBKEY(nullptr, &p, long(der.decoded.size())));
}

} // namespace

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    return CRYPTO_memcmp(a.constData(), b.constData(), size_t(a.size())) == 0;
}

Common::Status verifySendGrid(const QByteArray &publicKey, const QByteArray &timestamp,
                              const QByteArray &body, const QByteArray &signature)
{
    if (signature.isEmpty() || timestamp.isEmpty())
        return Common::fail(unauthenticated(QStringLiteral(
                "The request has no X-Twilio-Email-Event-Webhook-Signature and -Timestamp headers: "
                "turn on Signed Event Webhook Requests in SendGrid's Mail Settings.")));
    Pkey key = loadPublicKey(publicKey);
    if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_EC)
        return Common::fail(QStringLiteral("events.bad_key"),
                            QStringLiteral("The SendGrid verification key is not an EC public key: "
                                           "set it again with 'postdeskctl webhooks set sendgrid "
                                           "--public-key FILE'."));
    const auto sig = QByteArray::fromBase64Encoding(signature.trimmed(),
                                                    QByteArray::AbortOnBase64DecodingErrors);
    if (!sig || !verifyDigest(key.get(), EVP_sha256(), timestamp + body, sig.decoded))
        return Common::fail(
                badSignature(QStringLiteral("The SendGrid signature does not match the body.")));
    return {};
}

Common::Status verifyMailgun(const QByteArray &signingKey, const QString &timestamp,
                             const QString &token, const QString &signature, qint64 now,
                             qint64 windowSeconds)
{
    if (timestamp.isEmpty() || token.isEmpty() || signature.isEmpty())
        return Common::fail(unauthenticated(QStringLiteral(
                "The Mailgun webhook has no signature (timestamp, token, signature).")));
    const QByteArray expected = QMessageAuthenticationCode::hash((timestamp + token).toUtf8(),
                                                                 signingKey,
                                                                 QCryptographicHash::Sha256)
                                        .toHex();
    if (!constantTimeEquals(expected, signature.toLatin1().toLower()))
        return Common::fail(badSignature(QStringLiteral("The Mailgun signature does not match.")));
    bool ok = false;
    const qint64 ts = timestamp.toLongLong(&ok);
    if (!ok || qAbs(now - ts) > windowSeconds)
        return Common::fail(QStringLiteral("events.stale"),
                            QStringLiteral("The Mailgun webhook's timestamp is more than %1 s from "
                                           "now: refused as a possible replay (check this host's "
                                           "clock).")
                                    .arg(windowSeconds));
    return {};
}

Common::Status verifyBasicAuth(const QByteArray &authorizationHeader, const QByteArray &user,
                               const QByteArray &password)
{
    const QByteArray h = authorizationHeader.trimmed();
    if (!h.toLower().startsWith("basic "))
        return Common::fail(
                unauthenticated(QStringLiteral("HTTP basic authentication is required.")));
    const auto decoded = QByteArray::fromBase64Encoding(h.mid(6).trimmed(),
                                                        QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return Common::fail(
                unauthenticated(QStringLiteral("The Authorization header is not valid base64.")));
    const qsizetype colon = decoded.decoded.indexOf(':');
    const QByteArray u = colon < 0 ? decoded.decoded : decoded.decoded.left(colon);
    const QByteArray p = colon < 0 ? QByteArray() : decoded.decoded.mid(colon + 1);
    // Both compared, always, so the time taken does not tell which one was wrong.
    const bool userOk = constantTimeEquals(u, user);
    const bool passwordOk = constantTimeEquals(p, password);
    if (!(userOk && passwordOk) || user.isEmpty())
        return Common::fail(unauthenticated(QStringLiteral("Wrong user name or password.")));
    return {};
}

Common::Result<QByteArray> snsStringToSign(const QJsonObject &message)
{
    const QString type = message.value(QLatin1String("Type")).toString();
    QStringList fields;
    if (type == u"Notification")
        fields = {QStringLiteral("Message"),  QStringLiteral("MessageId"),
                  QStringLiteral("Subject"),  QStringLiteral("Timestamp"),
                  QStringLiteral("TopicArn"), QStringLiteral("Type")};
    else if (type == u"SubscriptionConfirmation" || type == u"UnsubscribeConfirmation")
        fields = {QStringLiteral("Message"),      QStringLiteral("MessageId"),
                  QStringLiteral("SubscribeURL"), QStringLiteral("Timestamp"),
                  QStringLiteral("Token"),        QStringLiteral("TopicArn"),
                  QStringLiteral("Type")};
    else
        return Common::fail(QStringLiteral("events.malformed"),
                            QStringLiteral("Unknown SNS message Type '%1'.").arg(type.left(64)));
    QByteArray out;
    for (const QString &field : std::as_const(fields)) {
        const QJsonValue v = message.value(field);
        if (v.isUndefined() || v.isNull()) {
            if (field == u"Subject")
                continue; // optional, and left out of the string when absent
            return Common::fail(QStringLiteral("events.malformed"),
                                QStringLiteral("The SNS message has no %1.").arg(field));
        }
        if (!v.isString())
            return Common::fail(QStringLiteral("events.malformed"),
                                QStringLiteral("The SNS message's %1 is not a string.").arg(field));
        out += field.toUtf8() + '\n' + v.toString().toUtf8() + '\n';
    }
    return out;
}

Common::Status verifySnsSignature(const QJsonObject &message, const QByteArray &certificatePem)
{
    auto toSign = snsStringToSign(message);
    if (!toSign)
        return Common::fail(toSign.error());
    const QString version = message.value(QLatin1String("SignatureVersion")).toString();
    const EVP_MD *md = version == u"1" ? EVP_sha1() : version == u"2" ? EVP_sha256() : nullptr;
    if (!md)
        return Common::fail(badSignature(
                QStringLiteral("Unsupported SNS SignatureVersion '%1'.").arg(version.left(8))));
    const auto sig = QByteArray::fromBase64Encoding(message.value(QLatin1String("Signature"))
                                                            .toString()
                                                            .toLatin1(),
                                                    QByteArray::AbortOnBase64DecodingErrors);
    if (!sig || sig.decoded.isEmpty())
        return Common::fail(
                unauthenticated(QStringLiteral("The SNS message has no valid Signature.")));
    std::unique_ptr<BIO, BioFree> bio(
            BIO_new_mem_buf(certificatePem.constData(), int(certificatePem.size())));
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert)
        return Common::fail(QStringLiteral("events.bad_certificate"),
                            QStringLiteral(
                                    "The SNS signing certificate is not a PEM certificate."));
    Pkey key(X509_get_pubkey(cert.get()));
    if (!key || !verifyDigest(key.get(), md, *toSign, sig.decoded))
        return Common::fail(
                badSignature(QStringLiteral("The SNS signature does not match the message.")));
    return {};
}

Common::Status checkSnsCertificateUrl(const QUrl &url)
{
    static const QRegularExpression host(
            QStringLiteral("^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$"));
    if (!url.isValid() || url.scheme() != u"https" || !host.match(url.host()).hasMatch()
        || !url.userInfo().isEmpty() || (url.port() != -1 && url.port() != 443)
        || !url.path().endsWith(QLatin1String(".pem")))
        return Common::fail(badSignature(
                QStringLiteral("Refused SNS SigningCertURL '%1': only https://sns.<region>."
                               "amazonaws.com/….pem is trusted.")
                        .arg(url.toString().left(200))));
    return {};
}

} // namespace Events
