#pragma once

#include "common/result.h"

#include <QByteArray>

namespace Secrets {

// A worker host's key pair (X25519). Secrets are sealed to the public key; only the holder of the
// private key opens them. The id is what the database calls the key.
class KeyPair
{
public:
    static Common::Result<KeyPair> generate();
    static Common::Result<KeyPair> fromPrivateKey(const QByteArray &privateKey);

    const QByteArray &publicKey() const { return m_public; }
    const QByteArray &privateKey() const { return m_private; }
    // Hex of the first 16 bytes of SHA-256(public key).
    static QString idOf(const QByteArray &publicKey);
    QString id() const { return idOf(m_public); }

private:
    QByteArray m_public;
    QByteArray m_private;
};

// Anonymous public-key encryption: an ephemeral X25519 key agreement with the recipient,
// HKDF-SHA256 to an AES-256-GCM key, and the context (e.g. "provider 7 password") as associated
// data, so a sealed value copied into another slot does not open there.
//   format: 0x01 | ephemeral public key (32) | nonce (12) | ciphertext | tag (16)
class SealedBox
{
public:
    static Common::Result<QByteArray> seal(const QByteArray &plaintext,
                                           const QByteArray &recipientPublicKey,
                                           const QByteArray &context);
    static Common::Result<QByteArray> open(const QByteArray &sealed, const KeyPair &recipient,
                                           const QByteArray &context);
};

} // namespace Secrets
