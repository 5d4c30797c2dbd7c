#pragma once

// Test-side signing for webhook payloads, with OpenSSL directly (independent of the verifiers
// under test): SendGrid's ECDSA P-256 and Amazon SNS's SHA1/SHA256withRSA.

#include <QByteArray>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QString>

#include <openssl/evp.h>
#include <openssl/pem.h>

namespace TestSigning {

inline QByteArray readData(const QString &name)
{
    QFile file(QStringLiteral(POSTDESK_TEST_DATA_DIR "/events/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read test data %s", qPrintable(file.fileName()));
    return file.readAll();
}

inline QByteArray sign(const QByteArray &privateKeyPem, const EVP_MD *md, const QByteArray &data)
{
    BIO *bio = BIO_new_mem_buf(privateKeyPem.constData(), int(privateKeyPem.size()));
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t length = 0;
    QByteArray signature;
    if (key && EVP_DigestSignInit(ctx, nullptr, md, nullptr, key) == 1
        && EVP_DigestSign(ctx, nullptr, &length,
                          reinterpret_cast<const unsigned char *>(data.constData()),
                          size_t(data.size()))
                == 1) {
        signature.resize(qsizetype(length));
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(signature.data()), &length,
                       reinterpret_cast<const unsigned char *>(data.constData()),
                       size_t(data.size()));
        signature.resize(qsizetype(length));
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return signature;
}

// base64 signature of timestamp + body with the SendGrid test key.
inline QByteArray signSendGrid(const QByteArray &timestamp, const QByteArray &body)
{
    return sign(readData(QStringLiteral("sendgrid-test-key.pem")), EVP_sha256(), timestamp + body)
            .toBase64();
}

inline QByteArray sendGridPublicKey()
{
    return readData(QStringLiteral("sendgrid-test-key.pub.b64")).trimmed();
}

inline QString snsCertUrl()
{
    return QStringLiteral(
            "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000test.pem");
}

// An SNS Notification carrying message, signed with the test certificate's key.
inline QJsonObject snsNotification(const QByteArray &message, const QString &messageId,
                                   int version = 1, const QString &subject = {})
{
    QJsonObject o{{QStringLiteral("Type"), QStringLiteral("Notification")},
                  {QStringLiteral("MessageId"), messageId},
                  {QStringLiteral("TopicArn"),
                   QStringLiteral("arn:aws:sns:eu-west-1:123456789012:ses-events")},
                  {QStringLiteral("Message"), QString::fromUtf8(message)},
                  {QStringLiteral("Timestamp"), QStringLiteral("2017-08-05T00:41:03.012Z")},
                  {QStringLiteral("SignatureVersion"), QString::number(version)},
                  {QStringLiteral("SigningCertURL"), snsCertUrl()},
                  {QStringLiteral("UnsubscribeURL"),
                   QStringLiteral("https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe")}};
    if (!subject.isEmpty())
        o.insert(QStringLiteral("Subject"), subject);
    QByteArray toSign = "Message\n" + message + "\nMessageId\n" + messageId.toUtf8() + '\n';
    if (!subject.isEmpty())
        toSign += "Subject\n" + subject.toUtf8() + '\n';
    toSign += "Timestamp\n" + o.value(QStringLiteral("Timestamp")).toString().toUtf8()
            + "\nTopicArn\n" + o.value(QStringLiteral("TopicArn")).toString().toUtf8()
            + "\nType\nNotification\n";
    const QByteArray signature = sign(readData(QStringLiteral("sns-test-key.pem")),
                                      version == 1 ? EVP_sha1() : EVP_sha256(), toSign);
    o.insert(QStringLiteral("Signature"), QString::fromLatin1(signature.toBase64()));
    return o;
}

inline QByteArray mailgunSignature(const QByteArray &key, const QString &timestamp,
                                   const QString &token)
{
    return QMessageAuthenticationCode::hash((timestamp + token).toUtf8(), key,
                                            QCryptographicHash::Sha256)
            .toHex();
}

// A Mailgun body (from a sample file) re-signed with key, timestamp and token.
inline QByteArray mailgunBody(const QString &sample, const QByteArray &key, qint64 timestamp,
                              const QString &token)
{
    QJsonObject o = QJsonDocument::fromJson(readData(sample)).object();
    const QString ts = QString::number(timestamp);
    o.insert(QStringLiteral("signature"),
             QJsonObject{{QStringLiteral("timestamp"), ts},
                         {QStringLiteral("token"), token},
                         {QStringLiteral("signature"),
                          QString::fromLatin1(mailgunSignature(key, ts, token))}});
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace TestSigning
