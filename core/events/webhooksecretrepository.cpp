#include "webhooksecretrepository.h"

#include "db/connection.h"
#include "secrets/sealedbox.h"
#include "tracking/tracking.h"

#include <QJsonObject>
#include <QJsonValue>

namespace Events {

WebhookSecretRepository::WebhookSecretRepository(Db::Connection &connection)
    : m_connection(connection)
{ }

QByteArray WebhookSecretRepository::context(const QString &provider, const QString &name)
{
    return "postdesk webhook " + provider.toUtf8() + ' ' + name.toUtf8();
}

Common::Status WebhookSecretRepository::setSecret(const QString &provider, const QString &name,
                                                  const QByteArray &value)
{
    auto run = [&]() -> Common::Status {
        if (auto ok = m_connection.begin(); !ok)
            return ok;
        auto keys = m_connection.exec(QStringLiteral(
                "SELECT id, public_key FROM worker_keys WHERE authorised_at IS NOT NULL"));
        if (!keys)
            return Common::fail(keys.error());
        if (keys->rowCount() == 0)
            return Common::fail(
                    QStringLiteral("secrets.no_worker_keys"),
                    QStringLiteral("No host is authorised to hold secrets yet. On the host that "
                                   "runs the webhook server run 'postdeskctl worker init', then "
                                   "'postdeskctl worker authorise ID' with the id it prints."));
        auto cleared = m_connection.exec(
                QStringLiteral("DELETE FROM webhook_secrets WHERE provider = $1 AND name = $2"),
                {provider, name});
        if (!cleared)
            return Common::fail(cleared.error());
        for (int r = 0; r < keys->rowCount(); ++r) {
            auto sealed = Secrets::SealedBox::seal(value, keys->bytes(r, 1),
                                                   context(provider, name));
            if (!sealed)
                return Common::fail(sealed.error());
            auto stored = m_connection.exec(
                    QStringLiteral("INSERT INTO webhook_secrets (provider, name, worker_key_id, "
                                   "sealed) VALUES ($1, $2, $3, $4)"),
                    {provider, name, keys->text(r, 0), *sealed});
            if (!stored)
                return Common::fail(stored.error());
        }
        auto audit = m_connection.exec(
                QStringLiteral("INSERT INTO audit_log (action, entity_type, entity_id, detail) "
                               "VALUES ('set_secret', 'webhook', $1, $2)"),
                {provider, QJsonObject{{QStringLiteral("secret"), name}}});
        if (!audit)
            return Common::fail(audit.error());
        return m_connection.commit();
    };
    auto result = run();
    if (!result)
        m_connection.rollback();
    return result;
}

Common::Result<QByteArray> WebhookSecretRepository::openSecret(const QString &provider,
                                                               const QString &name,
                                                               const Secrets::KeyPair &hostKey)
{
    auto rows = m_connection.exec(QStringLiteral(
                                          "SELECT worker_key_id, sealed FROM webhook_secrets "
                                          "WHERE provider = $1 AND name = $2"),
                                  {provider, name});
    if (!rows)
        return Common::fail(rows.error());
    if (rows->rowCount() == 0)
        return Common::fail(QStringLiteral("events.not_configured"),
                            QStringLiteral("The %1 webhook's %2 is not set: run 'postdeskctl "
                                           "webhooks set %1 …'.")
                                    .arg(provider, name));
    for (int r = 0; r < rows->rowCount(); ++r) {
        if (rows->text(r, 0) == hostKey.id())
            return Secrets::SealedBox::open(rows->bytes(r, 1), hostKey, context(provider, name));
    }
    return Common::fail(QStringLiteral("secrets.not_sealed_for_host"),
                        QStringLiteral("The %1 webhook's %2 is not sealed for this host (worker "
                                       "key %3). Authorise this host ('postdeskctl worker "
                                       "authorise %3') and set the secret again.")
                                .arg(provider, name, hostKey.id()));
}

Common::Result<QByteArray> WebhookSecretRepository::trackingKey(const Secrets::KeyPair &hostKey,
                                                                bool create)
{
    const QString provider = QStringLiteral("tracking");
    const QString name = QStringLiteral("signing_key");
    auto existing = openSecret(provider, name, hostKey);
    if (existing || !create || existing.error().code != u"events.not_configured")
        return existing;
    // One creator at a time, so every host ends up with the same key.
    auto run = [&]() -> Common::Result<QByteArray> {
        if (auto ok = m_connection.begin(); !ok)
            return Common::fail(ok.error());
        auto locked = m_connection.exec(
                QStringLiteral("SELECT pg_advisory_xact_lock(hashtext('postdesk tracking key'))"));
        if (!locked)
            return Common::fail(locked.error());
        auto again = m_connection.exec(QStringLiteral(
                "SELECT 1 FROM webhook_secrets WHERE provider = 'tracking' AND name = "
                "'signing_key' LIMIT 1"));
        if (!again)
            return Common::fail(again.error());
        if (auto ok = m_connection.commit(); !ok)
            return Common::fail(ok.error());
        if (again->rowCount() > 0)
            return openSecret(provider, name, hostKey);
        const QByteArray key = Tracking::generateKey();
        if (auto ok = setSecret(provider, name, key); !ok)
            return Common::fail(ok.error());
        return openSecret(provider, name, hostKey);
    };
    auto result = run();
    if (!result)
        m_connection.rollback();
    return result;
}

Common::Result<QString> WebhookSecretRepository::trackingBaseUrl()
{
    auto row = m_connection.exec(
            QStringLiteral("SELECT value #>> '{}' FROM settings WHERE key = 'tracking.base_url'"));
    if (!row)
        return Common::fail(row.error());
    return row->rowCount() ? row->text(0, 0) : QString();
}

Common::Status WebhookSecretRepository::setTrackingBaseUrl(const QString &url)
{
    auto ok = m_connection.exec(
            QStringLiteral("INSERT INTO settings (key, value) VALUES ('tracking.base_url', "
                           "to_jsonb($1::text)) ON CONFLICT (key) DO UPDATE SET value = "
                           "excluded.value, updated_at = now(), updated_by = current_user"),
            {url});
    if (!ok)
        return Common::fail(ok.error());
    return {};
}

Common::Result<QStringList> WebhookSecretRepository::sesTopics()
{
    auto rows = m_connection.exec(QStringLiteral(
            "SELECT jsonb_array_elements_text(value) FROM settings "
            "WHERE key = 'webhooks.ses.topic_arns' AND jsonb_typeof(value) = 'array'"));
    if (!rows)
        return Common::fail(rows.error());
    QStringList topics;
    for (int r = 0; r < rows->rowCount(); ++r)
        topics.append(rows->text(r, 0));
    return topics;
}

Common::Status WebhookSecretRepository::setSesTopics(const QStringList &topicArns)
{
    auto ok = m_connection.exec(
            QStringLiteral("INSERT INTO settings (key, value) VALUES ('webhooks.ses.topic_arns', "
                           "to_jsonb($1::text[])) ON CONFLICT (key) DO UPDATE SET value = "
                           "excluded.value, updated_at = now(), updated_by = current_user"),
            {topicArns});
    if (!ok)
        return Common::fail(ok.error());
    return {};
}

Common::Status WebhookSecretRepository::storeCertificate(const QString &url, const QByteArray &pem,
                                                         const QString &origin)
{
    auto ok = m_connection.exec(
            QStringLiteral("INSERT INTO sns_certificates (url, pem, origin) VALUES ($1, $2, $3) "
                           "ON CONFLICT (url) DO UPDATE SET pem = excluded.pem, origin = "
                           "excluded.origin, stored_at = now()"),
            {url, QString::fromLatin1(pem), origin});
    if (!ok)
        return Common::fail(ok.error());
    return {};
}

Common::Result<QByteArray> WebhookSecretRepository::certificate(const QString &url)
{
    auto row = m_connection.exec(QStringLiteral("SELECT pem FROM sns_certificates WHERE url = $1"),
                                 {url});
    if (!row)
        return Common::fail(row.error());
    return row->rowCount() ? row->bytes(0, 0) : QByteArray();
}

} // namespace Events
