#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QPair>
#include <QString>

namespace Providers {

// AWS Signature Version 4
// (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html) for services
// other than S3: canonical request, string to sign, the derived signing key and the Authorization
// header. Checked against AWS's published SigV4 test suite (tests/tst_sigv4.cpp).
class SigV4Signer
{
public:
    struct Credentials
    {
        QString accessKeyId;
        QString secretAccessKey;
        QString sessionToken; // temporary credentials only; sent as X-Amz-Security-Token
    };

    // A request as it goes on the wire: path and query percent-encoded as sent.
    struct Request
    {
        QByteArray method;
        QByteArray path = "/";
        QByteArray query; // without '?'
        QList<QPair<QByteArray, QByteArray>> headers;
        QByteArray payload;
    };

    SigV4Signer(Credentials credentials, QString region, QString service);

    // Adds X-Amz-Date (and X-Amz-Security-Token) to request, then returns the Authorization
    // header's value, signed over every header request carries (Host must be one of them).
    QByteArray sign(Request &request, const QDateTime &now) const;

    // The steps, for tests and for the fake server's mirror of them.
    static QByteArray canonicalRequest(const Request &request);
    static QByteArray signedHeaders(const Request &request);
    QByteArray stringToSign(const Request &request, const QDateTime &now) const;
    QByteArray authorization(const Request &request, const QDateTime &now) const;
    static QByteArray signingKey(const QString &secret, const QByteArray &date,
                                 const QString &region, const QString &service);

    static QByteArray amzDate(const QDateTime &now); // 20150830T123600Z

private:
    QByteArray scope(const QDateTime &now) const;

    Credentials m_credentials;
    QString m_region;
    QString m_service;
};

} // namespace Providers
