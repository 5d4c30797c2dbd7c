#include "secretrepository.h"

#include "events/webhooksecretrepository.h"

#include "db/connection.h"
#include "keystore.h"

#include <QJsonObject>

namespace Secrets {

namespace {
const QString hostKeyName = QStringLiteral("worker-key");
}

Common::Result<KeyPair> loadOrCreateHostKey(KeyStore &store, bool *created)
{
    if (created)
        *created = false;
    auto existing = store.load(hostKeyName);
    if (existing)
        return KeyPair::fromPrivateKey(*existing);
    if (existing.error().code != u"secrets.not_found")
        return Common::fail(existing.error());
    auto generated = KeyPair::generate();
    if (!generated)
        return generated;
    if (auto ok = store.store(hostKeyName, generated->privateKey()); !ok)
        return Common::fail(ok.error());
    if (created)
        *created = true;
    return generated;
}

SecretRepository::SecretRepository(Db::Connection &connection)
    : m_connection(connection)
{ }

QByteArray SecretRepository::context(qint64 providerId, const QString &name)
{
    return "postdesk provider " + QByteArray::number(providerId) + ' ' + name.toUtf8();
}

Common::Result<QString> SecretRepository::registerKey(const QString &host,
                                                      const QByteArray &publicKey)
{
    const QString id = KeyPair::idOf(publicKey);
    auto inserted = m_connection.exec(
            QStringLiteral("INSERT INTO worker_keys (id, host, public_key) VALUES ($1, $2, $3) "
                           "ON CONFLICT (id) DO NOTHING"),
            {id, host, publicKey});
    if (!inserted)
        return Common::fail(inserted.error());
    return id;
}

Common::Result<QList<WorkerKeyInfo>> SecretRepository::keys()
{
    auto rows = m_connection.exec(QStringLiteral(
            "SELECT id, host, created_at, authorised_at, authorised_by FROM worker_keys "
            "ORDER BY created_at, id"));
    if (!rows)
        return Common::fail(rows.error());
    QList<WorkerKeyInfo> list;
    for (int r = 0; r < rows->rowCount(); ++r) {
        list.append({rows->text(r, 0), rows->text(r, 1), rows->toDateTime(r, 2),
                     rows->toDateTime(r, 3), rows->text(r, 4)});
    }
    return list;
}

Common::Result<int> SecretRepository::authorise(const QString &keyId, const KeyPair *opener)
{
    auto run = [&]() -> Common::Result<int> {
        if (auto ok = m_connection.begin(); !ok)
            return Common::fail(ok.error());
        auto key = m_connection.exec(
                QStringLiteral(
                        "UPDATE worker_keys SET authorised_at = coalesce(authorised_at, now()), "
                        "authorised_by = coalesce(authorised_by, current_user) "
                        "WHERE id = $1 RETURNING public_key"),
                {keyId});
        if (!key)
            return Common::fail(key.error());
        if (key->rowCount() == 0) {
            return Common::fail(QStringLiteral("secrets.unknown_key"),
                                QStringLiteral("There is no worker key %1. 'postdeskctl worker "
                                               "list' shows the keys hosts have registered.")
                                        .arg(keyId));
        }
        const QByteArray publicKey = key->bytes(0, 0);
        int resealed = 0;
        if (opener) {
            auto mine = m_connection.exec(
                    QStringLiteral("SELECT provider_id, name, sealed FROM provider_secrets "
                                   "WHERE worker_key_id = $1"),
                    {opener->id()});
            if (!mine)
                return Common::fail(mine.error());
            for (int r = 0; r < mine->rowCount(); ++r) {
                const qint64 providerId = mine->toInt(r, 0);
                const QString name = mine->text(r, 1);
                auto plain = SealedBox::open(mine->bytes(r, 2), *opener, context(providerId, name));
                if (!plain)
                    return Common::fail(plain.error());
                auto sealed = SealedBox::seal(*plain, publicKey, context(providerId, name));
                if (!sealed)
                    return Common::fail(sealed.error());
                auto stored = m_connection.exec(
                        QStringLiteral(
                                "INSERT INTO provider_secrets (provider_id, name, worker_key_id, "
                                "sealed) "
                                "VALUES ($1, $2, $3, $4) ON CONFLICT (provider_id, name, "
                                "worker_key_id) "
                                "DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()"),
                        {providerId, name, keyId, *sealed});
                if (!stored)
                    return Common::fail(stored.error());
                ++resealed;
            }
            // The webhook verification secrets and the tracking key, the same way.
            auto hooks = m_connection
                                 .exec(QStringLiteral(
                                               "SELECT provider, name, sealed FROM webhook_secrets "
                                               "WHERE worker_key_id = $1"),
                                       {opener->id()});
            if (!hooks)
                return Common::fail(hooks.error());
            for (int r = 0; r < hooks->rowCount(); ++r) {
                const QString provider = hooks->text(r, 0);
                const QString name = hooks->text(r, 1);
                const QByteArray context = Events::WebhookSecretRepository::context(provider, name);
                auto plain = SealedBox::open(hooks->bytes(r, 2), *opener, context);
                if (!plain)
                    return Common::fail(plain.error());
                auto sealed = SealedBox::seal(*plain, publicKey, context);
                if (!sealed)
                    return Common::fail(sealed.error());
                auto stored = m_connection.exec(
                        QStringLiteral(
                                "INSERT INTO webhook_secrets (provider, name, worker_key_id, "
                                "sealed) VALUES ($1, $2, $3, $4) "
                                "ON CONFLICT (provider, name, worker_key_id) "
                                "DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()"),
                        {provider, name, keyId, *sealed});
                if (!stored)
                    return Common::fail(stored.error());
                ++resealed;
            }
        }
        auto audit = m_connection.exec(
                QStringLiteral("INSERT INTO audit_log (action, entity_type, entity_id, detail) "
                               "VALUES ('authorise', 'worker_key', $1, $2)"),
                {keyId, QJsonObject{{QStringLiteral("resealed"), resealed}}});
        if (!audit)
            return Common::fail(audit.error());
        if (auto ok = m_connection.commit(); !ok)
            return Common::fail(ok.error());
        return resealed;
    };
    auto result = run();
    m_connection.rollback();
    return result;
}

Common::Status SecretRepository::revoke(const QString &keyId)
{
    // The key's sealed copies go with it (ON DELETE CASCADE).
    auto removed = m_connection.exec(QStringLiteral("DELETE FROM worker_keys WHERE id = $1"),
                                     {keyId});
    if (!removed)
        return Common::fail(removed.error());
    if (removed->affectedRows() == 0) {
        return Common::fail(QStringLiteral("secrets.unknown_key"),
                            QStringLiteral("There is no worker key %1.").arg(keyId));
    }
    return {};
}

Common::Status SecretRepository::setSecret(qint64 providerId, const QString &name,
                                           const QByteArray &value)
{
    auto run = [&]() -> Common::Status {
        if (auto ok = m_connection.begin(); !ok)
            return ok;
        if (auto sealed = sealSecret(providerId, name, value); !sealed)
            return sealed;
        return m_connection.commit();
    };
    auto result = run();
    m_connection.rollback();
    return result;
}

Common::Status SecretRepository::sealSecret(qint64 providerId, const QString &name,
                                            const QByteArray &value)
{
    auto keys = m_connection.exec(QStringLiteral(
            "SELECT id, public_key FROM worker_keys WHERE authorised_at IS NOT NULL"));
    if (!keys)
        return Common::fail(keys.error());
    if (keys->rowCount() == 0) {
        return Common::fail(QStringLiteral("secrets.no_worker_keys"),
                            QStringLiteral("No worker host is authorised to hold secrets yet. On a "
                                           "host that sends mail run 'postdeskctl worker init', "
                                           "then 'postdeskctl worker authorise ID' with the id it "
                                           "prints."));
    }
    auto cleared = m_connection.exec(
            QStringLiteral("DELETE FROM provider_secrets WHERE provider_id = $1 AND name = $2"),
            {providerId, name});
    if (!cleared)
        return Common::fail(cleared.error());
    for (int r = 0; r < keys->rowCount(); ++r) {
        auto sealed = SealedBox::seal(value, keys->bytes(r, 1), context(providerId, name));
        if (!sealed)
            return Common::fail(sealed.error());
        auto stored = m_connection.exec(QStringLiteral("INSERT INTO provider_secrets (provider_id, "
                                                       "name, worker_key_id, sealed) "
                                                       "VALUES ($1, $2, $3, $4)"),
                                        {providerId, name, keys->text(r, 0), *sealed});
        if (!stored)
            return Common::fail(stored.error());
    }
    auto audit = m_connection.exec(
            QStringLiteral("INSERT INTO audit_log (action, entity_type, entity_id, detail) "
                           "VALUES ('set_secret', 'provider', $1, $2)"),
            {QString::number(providerId), QJsonObject{{QStringLiteral("secret"), name}}});
    if (!audit)
        return Common::fail(audit.error());
    return {};
}

Common::Result<QByteArray> SecretRepository::openSecret(qint64 providerId, const QString &name,
                                                        const KeyPair &hostKey)
{
    auto row = m_connection
                       .exec(QStringLiteral(
                                     "SELECT sealed FROM provider_secrets "
                                     "WHERE provider_id = $1 AND name = $2 AND worker_key_id = $3"),
                             {providerId, name, hostKey.id()});
    if (!row)
        return Common::fail(row.error());
    if (row->rowCount() == 0) {
        return Common::fail(QStringLiteral("secrets.not_sealed_for_host"),
                            QStringLiteral("The %1 of provider %2 is not sealed for this host "
                                           "(worker key %3). Authorise this host with "
                                           "'postdeskctl worker authorise %3' on a host that "
                                           "already holds it, or set the secret again.")
                                    .arg(name)
                                    .arg(providerId)
                                    .arg(hostKey.id()));
    }
    return SealedBox::open(row->bytes(0, 0), hostKey, context(providerId, name));
}

} // namespace Secrets
