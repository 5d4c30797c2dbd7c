#pragma once

#include "common/result.h"
#include "sealedbox.h"

#include <QDateTime>
#include <QList>

namespace Db {
class Connection;
}

namespace Secrets {

class KeyStore;

struct WorkerKeyInfo
{
    QString id;
    QString host;
    QDateTime createdAt;
    QDateTime authorisedAt; // null: not authorised yet
    QString authorisedBy;
};

// This host's worker key pair, kept in a KeyStore under the name "worker-key"; created on first use.
Common::Result<KeyPair> loadOrCreateHostKey(KeyStore &store, bool *created = nullptr);

// Provider secrets, sealed to the public keys of the authorised worker hosts. The database holds
// only sealed bytes: a dump, a marketing user or a stolen laptop without a worker key learns nothing.
// Admins replace secrets; nobody reads one back except a worker host, with its private key.
class SecretRepository
{
public:
    explicit SecretRepository(Db::Connection &connection);

    // Records a host's public key (not yet authorised); a no-op for a known key.
    Common::Result<QString> registerKey(const QString &host, const QByteArray &publicKey);
    Common::Result<QList<WorkerKeyInfo>> keys();
    // Authorises a key. When opener is an authorised key pair (run on an authorised host), every
    // secret is re-sealed to the new key too; returns how many were.
    Common::Result<int> authorise(const QString &keyId, const KeyPair *opener = nullptr);
    Common::Status revoke(const QString &keyId);

    // Replaces a provider's secret, sealed to every authorised key.
    Common::Status setSecret(qint64 providerId, const QString &name, const QByteArray &value);
    // The same inside the caller's transaction (for changes that store a provider and its secrets
    // together).
    Common::Status sealSecret(qint64 providerId, const QString &name, const QByteArray &value);
    // Opens the copy sealed to this host's key.
    Common::Result<QByteArray> openSecret(qint64 providerId, const QString &name,
                                          const KeyPair &hostKey);

    static QByteArray context(qint64 providerId, const QString &name);

private:
    Db::Connection &m_connection;
};

} // namespace Secrets
