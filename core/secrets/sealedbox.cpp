#include "sealedbox.h"

#include <QCryptographicHash>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>

namespace Secrets {

namespace {

constexpr char Version = 0x01;
constexpr int KeySize = 32;
constexpr int NonceSize = 12;
constexpr int TagSize = 16;

struct PkeyDeleter
{
    void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxDeleter
{
    void operator()(EVP_PKEY_CTX *ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct CipherCtxDeleter
{
    void operator()(EVP_CIPHER_CTX *ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

tl::unexpected<Common::Error> cryptoError(const char *what)
{
    return Common::fail(QStringLiteral("secrets.crypto"),
                        QStringLiteral("A cryptographic operation failed (%1).")
                                .arg(QLatin1String(what)));
}

QByteArray rawKey(EVP_PKEY *key, bool isPrivate)
{
    size_t length = KeySize;
    QByteArray out(KeySize, Qt::Uninitialized);
    auto *data = reinterpret_cast<unsigned char *>(out.data());
    const int ok = isPrivate ? EVP_PKEY_get_raw_private_key(key, data, &length)
                             : EVP_PKEY_get_raw_public_key(key, data, &length);
    return ok == 1 && length == KeySize ? out : QByteArray();
}

Common::Result<QByteArray> agree(EVP_PKEY *own, const QByteArray &peerPublic)
{
    Pkey peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr,
                                          reinterpret_cast<const unsigned char *>(
                                                  peerPublic.constData()),
                                          size_t(peerPublic.size())));
    if (!peer)
        return cryptoError("peer key");
    PkeyCtx ctx(EVP_PKEY_CTX_new(own, nullptr));
    size_t length = KeySize;
    QByteArray shared(KeySize, Qt::Uninitialized);
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1
        || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1
        || EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char *>(shared.data()), &length)
                != 1)
        return cryptoError("key agreement");
    return shared;
}

Common::Result<QByteArray> deriveKey(const QByteArray &shared, const QByteArray &salt)
{
    PkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
    static const QByteArray info("postdesk sealed secret v1");
    QByteArray key(KeySize, Qt::Uninitialized);
    size_t length = KeySize;
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1
        || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1
        || EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(),
                                       reinterpret_cast<const unsigned char *>(salt.constData()),
                                       int(salt.size()))
                != 1
        || EVP_PKEY_CTX_set1_hkdf_key(ctx.get(),
                                      reinterpret_cast<const unsigned char *>(shared.constData()),
                                      int(shared.size()))
                != 1
        || EVP_PKEY_CTX_add1_hkdf_info(ctx.get(),
                                       reinterpret_cast<const unsigned char *>(info.constData()),
                                       int(info.size()))
                != 1
        || EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char *>(key.data()), &length) != 1)
        return cryptoError("key derivation");
    return key;
}

} // namespace

Common::Result<KeyPair> KeyPair::generate()
{
    PkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
    EVP_PKEY *raw = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
        return cryptoError("key generation");
    Pkey key(raw);
    KeyPair pair;
    pair.m_public = rawKey(key.get(), false);
    pair.m_private = rawKey(key.get(), true);
    if (pair.m_public.isEmpty() || pair.m_private.isEmpty())
        return cryptoError("key export");
    return pair;
}

Common::Result<KeyPair> KeyPair::fromPrivateKey(const QByteArray &privateKey)
{
    if (privateKey.size() != KeySize) {
        return Common::fail(QStringLiteral("secrets.bad_key"),
                            QStringLiteral(
                                    "The worker key is damaged: it is %1 bytes long, not %2.")
                                    .arg(privateKey.size())
                                    .arg(KeySize));
    }
    Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr,
                                          reinterpret_cast<const unsigned char *>(
                                                  privateKey.constData()),
                                          size_t(privateKey.size())));
    if (!key)
        return cryptoError("private key");
    KeyPair pair;
    pair.m_private = privateKey;
    pair.m_public = rawKey(key.get(), false);
    return pair;
}

QString KeyPair::idOf(const QByteArray &publicKey)
{
    return QString::fromLatin1(
            QCryptographicHash::hash(publicKey, QCryptographicHash::Sha256).left(16).toHex());
}

Common::Result<QByteArray> SealedBox::seal(const QByteArray &plaintext,
                                           const QByteArray &recipientPublicKey,
                                           const QByteArray &context)
{
    if (recipientPublicKey.size() != KeySize) {
        return Common::fail(QStringLiteral("secrets.bad_key"),
                            QStringLiteral("A worker public key must be %1 bytes.").arg(KeySize));
    }
    auto ephemeral = KeyPair::generate();
    if (!ephemeral)
        return Common::fail(ephemeral.error());
    Pkey ephemeralKey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr,
                                                   reinterpret_cast<const unsigned char *>(
                                                           ephemeral->privateKey().constData()),
                                                   KeySize));
    auto shared = agree(ephemeralKey.get(), recipientPublicKey);
    if (!shared)
        return Common::fail(shared.error());
    auto key = deriveKey(*shared, ephemeral->publicKey() + recipientPublicKey);
    if (!key)
        return Common::fail(key.error());

    QByteArray nonce(NonceSize, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(nonce.data()), NonceSize) != 1)
        return cryptoError("random nonce");
    QByteArray out;
    out.reserve(1 + KeySize + NonceSize + plaintext.size() + TagSize);
    out += Version;
    out += ephemeral->publicKey();
    out += nonce;
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    QByteArray ciphertext(plaintext.size() + 16, Qt::Uninitialized);
    int length = 0, total = 0;
    const auto *keyData = reinterpret_cast<const unsigned char *>(key->constData());
    const auto *nonceData = reinterpret_cast<const unsigned char *>(nonce.constData());
    auto *cipherData = reinterpret_cast<unsigned char *>(ciphertext.data());
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, keyData, nonceData) != 1
        || EVP_EncryptUpdate(ctx.get(), nullptr, &length,
                             reinterpret_cast<const unsigned char *>(context.constData()),
                             int(context.size()))
                != 1
        || EVP_EncryptUpdate(ctx.get(), cipherData, &length,
                             reinterpret_cast<const unsigned char *>(plaintext.constData()),
                             int(plaintext.size()))
                != 1)
        return cryptoError("encryption");
    total = length;
    if (EVP_EncryptFinal_ex(ctx.get(), cipherData + total, &length) != 1)
        return cryptoError("encryption");
    total += length;
    ciphertext.truncate(total);
    QByteArray tag(TagSize, Qt::Uninitialized);
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, TagSize, tag.data()) != 1)
        return cryptoError("encryption tag");
    out += ciphertext;
    out += tag;
    return out;
}

Common::Result<QByteArray> SealedBox::open(const QByteArray &sealed, const KeyPair &recipient,
                                           const QByteArray &context)
{
    if (sealed.size() < 1 + KeySize + NonceSize + TagSize || sealed.at(0) != Version) {
        return Common::fail(QStringLiteral("secrets.damaged"),
                            QStringLiteral(
                                    "The sealed secret is damaged or of an unknown format."));
    }
    const QByteArray ephemeralPublic = sealed.mid(1, KeySize);
    const QByteArray nonce = sealed.mid(1 + KeySize, NonceSize);
    const QByteArray ciphertext = sealed.mid(1 + KeySize + NonceSize,
                                             sealed.size() - 1 - KeySize - NonceSize - TagSize);
    QByteArray tag = sealed.right(TagSize);

    Pkey own(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr,
                                          reinterpret_cast<const unsigned char *>(
                                                  recipient.privateKey().constData()),
                                          KeySize));
    if (!own)
        return cryptoError("private key");
    auto shared = agree(own.get(), ephemeralPublic);
    if (!shared)
        return Common::fail(shared.error());
    auto key = deriveKey(*shared, ephemeralPublic + recipient.publicKey());
    if (!key)
        return Common::fail(key.error());
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    QByteArray plaintext(ciphertext.size() + 16, Qt::Uninitialized);
    int length = 0, total = 0;
    auto *plainData = reinterpret_cast<unsigned char *>(plaintext.data());
    const bool ok = ctx
            && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                  reinterpret_cast<const unsigned char *>(key->constData()),
                                  reinterpret_cast<const unsigned char *>(nonce.constData()))
                    == 1
            && EVP_DecryptUpdate(ctx.get(), nullptr, &length,
                                 reinterpret_cast<const unsigned char *>(context.constData()),
                                 int(context.size()))
                    == 1
            && EVP_DecryptUpdate(ctx.get(), plainData, &length,
                                 reinterpret_cast<const unsigned char *>(ciphertext.constData()),
                                 int(ciphertext.size()))
                    == 1
            && (total = length, true)
            && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, TagSize, tag.data()) == 1
            && EVP_DecryptFinal_ex(ctx.get(), plainData + total, &length) == 1;
    if (!ok) {
        return Common::fail(QStringLiteral("secrets.wrong_key"),
                            QStringLiteral("This host's worker key cannot open the secret: it was "
                                           "sealed to another key or for another use, or it was "
                                           "altered. Ask an admin to authorise this host and set "
                                           "the secret again."));
    }
    plaintext.truncate(total + length);
    return plaintext;
}

} // namespace Secrets
