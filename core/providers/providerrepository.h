#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <optional>

namespace Db {
class Connection;
}

namespace Secrets {
class KeyPair;
}

namespace Providers {

// Sends allowed per second, minute, hour and day; an empty member is no limit.
struct RateLimits
{
    std::optional<int> perSecond;
    std::optional<int> perMinute;
    std::optional<int> perHour;
    std::optional<int> perDay;

    // "10/s,1000/h" (units s, m, h, d; also sec, min, hour, day); "none" or "" clears them all.
    static Common::Result<RateLimits> parse(const QString &text);
    QString toString() const; // "10/s, 1000/h", or "" without limits
    bool isEmpty() const { return !perSecond && !perMinute && !perHour && !perDay; }
    bool operator==(const RateLimits &) const = default;
};

// A provider as stored: settings, health and the names (never the values) of its secrets.
struct ProviderRecord
{
    qint64 id = 0;
    QString name;
    QString type; // smtp, sendgrid, mailgun, ses, postmark, http, sandbox
    bool enabled = true;
    int priority = 100; // lower first
    RateLimits limits;
    int poolSize = 4;
    // Non-secret settings. "url": the provider URL without credentials (ProviderConfig);
    // "from": the default sender; "dkim_domain", "dkim_selector": DKIM signing (the key is the
    // secret "dkim_key").
    QJsonObject options;
    QString health = QStringLiteral("healthy"); // healthy, degraded, down
    QString healthReason;
    int consecutiveFailures = 0;
    QDateTime circuitOpenUntil;
    int revision = 0;
    QDateTime updatedAt;
    QString updatedBy;
    QStringList secretNames;
    bool isDemo = false;

    QString url() const { return options.value(QStringLiteral("url")).toString(); }
    QString defaultSender() const { return options.value(QStringLiteral("from")).toString(); }
};

// What a second editor is shown when the record changed under them: error code
// "providers.conflict", and the stored record in conflict().
struct ProviderConflict
{
    ProviderRecord stored;
    // Fields whose stored value differs from the editor's record: what they changed and what the
    // other editor changed (an editor that kept the record it started from tells them apart).
    QStringList changedFields;
};

// The provider registry in PostgreSQL. Every change is one transaction, recorded in the audit log,
// and checked against the revision the editor started from, so that two admins never overwrite
// each other silently. Secrets are sealed to the authorised worker keys (Secrets::SecretRepository)
// in the same transaction; they are never read back here.
class ProviderRepository
{
public:
    explicit ProviderRepository(Db::Connection &connection);

    Common::Result<QList<ProviderRecord>> list();
    // Error "providers.not_found" when there is no provider of that name.
    Common::Result<ProviderRecord> find(const QString &name);
    Common::Result<ProviderRecord> find(qint64 id);

    // Adds a provider with its secrets. Error "providers.exists" for a taken name.
    Common::Result<ProviderRecord> add(const ProviderRecord &record,
                                       const QMap<QString, QByteArray> &secrets = {});
    // Saves an edited record (matched by id) whose revision is the one the editor started from.
    // Secrets given replace those of the same name; others stay, unless the type changes (then
    // only the secrets given remain). Health is reset when the type, URL or secrets change. On a
    // conflict nothing is written, the error code is "providers.conflict" and conflict tells what
    // differs.
    Common::Result<ProviderRecord> update(const ProviderRecord &record,
                                          const QMap<QString, QByteArray> &secrets = {},
                                          ProviderConflict *conflict = nullptr);
    Common::Status remove(const QString &name);
    Common::Status setEnabled(const QString &name, bool enabled);
    // Failover order: the providers named get priorities 10, 20, 30, ... in this order.
    Common::Status reorder(const QStringList &names);

    // The provider's secrets opened with this host's key (only the worker hosts can).
    Common::Result<QMap<QString, QByteArray>> openSecrets(const ProviderRecord &record,
                                                          const Secrets::KeyPair &hostKey);

    // Health, as workers report it (shared by every worker on every host).
    // After a failure: consecutive failures + 1; at threshold the circuit opens for a back-off
    // that doubles with each further failure (5 s .. 5 min). Returns the updated record.
    Common::Result<ProviderRecord> recordFailure(qint64 id, const QString &reason,
                                                 int threshold = 3);
    // After a success: closes the circuit and clears the failures (a no-op when healthy).
    Common::Status recordSuccess(qint64 id);
    // Marks the provider degraded (rate limited by the provider) without opening the circuit.
    Common::Status recordDegraded(qint64 id, const QString &reason);
    // A half-open circuit lets one probe through: true for the one caller that may send it.
    Common::Result<bool> takeProbe(qint64 id, int probeSeconds = 30);

    // Shared rate limits: grants up to wanted sends now (every limit of the provider respected
    // across all workers); returns how many.
    Common::Result<int> takeSends(qint64 id, int wanted);
    Common::Status returnSends(qint64 id, int count);

    static QStringList validate(const ProviderRecord &record);

private:
    Common::Status audit(const QString &action, const QString &name, const QJsonObject &detail);

    Db::Connection &m_connection;
};

} // namespace Providers

Q_DECLARE_METATYPE(Providers::ProviderRecord)
