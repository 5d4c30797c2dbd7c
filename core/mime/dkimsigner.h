#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QByteArrayList>
#include <QDateTime>
#include <QString>

#include <memory>

namespace Mime {

// DKIM signing (RFC 6376) with relaxed/relaxed canonicalization, by RSA-SHA256 or Ed25519-SHA256
// (RFC 8463), whichever key it is given. A value type: copies share the (immutable) key, and
// sign() may run on several threads at once.
class DkimSigner
{
public:
    enum class Algorithm { RsaSha256, Ed25519Sha256 };

    // The headers signed when present (RFC 6376 section 5.4.1), in this order.
    static QByteArrayList defaultSignedHeaders();
    // Headers listed once more than they occur, so that adding one later breaks the signature
    // (RFC 6376 section 8.15): From.
    static QByteArrayList defaultOversignedHeaders();

    // A private key in PEM (PKCS#8 "PRIVATE KEY", or "RSA PRIVATE KEY"): RSA of at least 1024
    // bits (RFC 8301; 2048 recommended) or Ed25519. domain is the d= (international names become
    // A-labels) and selector the s=: the public key is published at
    // <selector>._domainkey.<domain>.
    static Common::Result<DkimSigner> fromPem(const QByteArray &pem, const QString &domain,
                                              const QString &selector);

    Algorithm algorithm() const;
    QByteArray domain() const;
    QByteArray selector() const;
    // The DNS TXT record to publish: "v=DKIM1; k=rsa; p=..." or "v=DKIM1; k=ed25519; p=...".
    QByteArray publicKeyRecord() const;

    // Lower-case header names to sign, and those to oversign.
    void setSignedHeaders(const QByteArrayList &names);
    void setOversignedHeaders(const QByteArrayList &names);

    // The message with a DKIM-Signature header prepended. The message must use CRLF line ends
    // (as Message::compose() writes it) and have a From header. signingTime is the t= tag;
    // invalid: now.
    Common::Result<QByteArray> sign(const QByteArray &message,
                                    const QDateTime &signingTime = {}) const;
    // Only the DKIM-Signature header field, folded and ending with CRLF.
    Common::Result<QByteArray> signatureHeader(const QByteArray &message,
                                               const QDateTime &signingTime = {}) const;

private:
    struct Key;
    std::shared_ptr<const Key> m_key;
    QByteArray m_domain;
    QByteArray m_selector;
    QByteArrayList m_signedHeaders;
    QByteArrayList m_oversignedHeaders;
};

} // namespace Mime
