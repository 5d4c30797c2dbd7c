#include "providerrepository.h"

#include "db/connection.h"
#include "providerconfig.h"
#include "secrets/sealedbox.h"
#include "secrets/secretrepository.h"

#include <QJsonArray>
#include <QRegularExpression>

namespace Providers {

namespace {

const QString selectColumns = QStringLiteral(
        "SELECT p.id, p.name, p.type, p.enabled, p.priority, p.rate_per_second, p.rate_per_minute, "
        "p.rate_per_hour, p.rate_per_day, p.pool_size, p.options, p.health, p.health_reason, "
        "p.consecutive_failures, p.circuit_open_until, p.revision, p.updated_at, p.updated_by, "
        "coalesce((SELECT array_to_json(array_agg(DISTINCT s.name ORDER BY s.name)) "
        "          FROM provider_secrets s WHERE s.provider_id = p.id), '[]'), p.is_demo "
        "FROM providers p ");

std::optional<int> optionalInt(const Db::QueryResult &r, int row, int column)
{
    if (r.isNull(row, column))
        return std::nullopt;
    return int(r.toInt(row, column));
}

ProviderRecord recordAt(const Db::QueryResult &r, int row)
{
    ProviderRecord p;
    p.id = r.toInt(row, 0);
    p.name = r.text(row, 1);
    p.type = r.text(row, 2);
    p.enabled = r.toBool(row, 3);
    p.priority = int(r.toInt(row, 4));
    p.limits.perSecond = optionalInt(r, row, 5);
    p.limits.perMinute = optionalInt(r, row, 6);
    p.limits.perHour = optionalInt(r, row, 7);
    p.limits.perDay = optionalInt(r, row, 8);
    p.poolSize = int(r.toInt(row, 9));
    p.options = r.toJson(row, 10).toObject();
    p.health = r.text(row, 11);
    p.healthReason = r.text(row, 12);
    p.consecutiveFailures = int(r.toInt(row, 13));
    p.circuitOpenUntil = r.toDateTime(row, 14);
    p.revision = int(r.toInt(row, 15));
    p.updatedAt = r.toDateTime(row, 16);
    p.updatedBy = r.text(row, 17);
    for (const auto &name : r.toJson(row, 18).toArray())
        p.secretNames.append(name.toString());
    p.isDemo = r.toBool(row, 19);
    return p;
}

QVariant limitParam(const std::optional<int> &limit)
{
    return limit ? QVariant(*limit) : QVariant();
}

Common::Error notFound(const QString &name)
{
    return Common::Error{QStringLiteral("providers.not_found"),
                         QStringLiteral("There is no provider named '%1'. 'postdeskctl provider "
                                        "list' shows the providers.")
                                 .arg(name),
                         {},
                         Common::Retry::Permanent};
}

// The editable fields of a record, for the audit log and conflict reports (never secrets).
QJsonObject editableFields(const ProviderRecord &p)
{
    return QJsonObject{{QStringLiteral("name"), p.name},
                       {QStringLiteral("type"), p.type},
                       {QStringLiteral("enabled"), p.enabled},
                       {QStringLiteral("priority"), p.priority},
                       {QStringLiteral("limits"), p.limits.toString()},
                       {QStringLiteral("pool_size"), p.poolSize},
                       {QStringLiteral("options"), p.options}};
}

// Runs body in a transaction; rolls back whatever happens unless it committed.
template<typename T, typename Body>
Common::Result<T> inTransaction(Db::Connection &connection, Body body)
{
    if (auto begun = connection.begin(); !begun)
        return Common::fail(begun.error());
    Common::Result<T> result = body();
    if (result) {
        if (auto committed = connection.commit(); !committed) {
            connection.rollback();
            return Common::fail(committed.error());
        }
    } else {
        connection.rollback();
    }
    return result;
}

} // namespace

Common::Result<RateLimits> RateLimits::parse(const QString &text)
{
    RateLimits limits;
    const QString trimmed = text.trimmed().toLower();
    if (trimmed.isEmpty() || trimmed == u"none")
        return limits;
    static const QRegularExpression item(QStringLiteral(R"(^\s*(\d+)\s*/\s*([a-z]+)\s*$)"));
    for (const QString &part : trimmed.split(u',')) {
        const auto match = item.match(part);
        bool ok = false;
        const int count = match.hasMatch() ? match.captured(1).toInt(&ok) : 0;
        const QString unit = match.captured(2);
        std::optional<int> *slot = nullptr;
        if (unit == u"s" || unit == u"sec" || unit == u"second")
            slot = &limits.perSecond;
        else if (unit == u"m" || unit == u"min" || unit == u"minute")
            slot = &limits.perMinute;
        else if (unit == u"h" || unit == u"hour")
            slot = &limits.perHour;
        else if (unit == u"d" || unit == u"day")
            slot = &limits.perDay;
        if (!match.hasMatch() || !ok || count <= 0 || !slot) {
            return Common::fail(QStringLiteral("providers.rate"),
                                QStringLiteral("'%1' is not a rate limit. Write a count per unit, "
                                               "e.g. 10/s, 600/m, 5000/h, 100000/d, separated by "
                                               "commas.")
                                        .arg(part.trimmed()));
        }
        *slot = count;
    }
    return limits;
}

QString RateLimits::toString() const
{
    QStringList parts;
    if (perSecond)
        parts << QStringLiteral("%1/s").arg(*perSecond);
    if (perMinute)
        parts << QStringLiteral("%1/m").arg(*perMinute);
    if (perHour)
        parts << QStringLiteral("%1/h").arg(*perHour);
    if (perDay)
        parts << QStringLiteral("%1/d").arg(*perDay);
    return parts.join(QStringLiteral(", "));
}

ProviderRepository::ProviderRepository(Db::Connection &connection)
    : m_connection(connection)
{ }

QStringList ProviderRepository::validate(const ProviderRecord &record)
{
    QStringList problems;
    static const QRegularExpression name(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"));
    if (!name.match(record.name).hasMatch()) {
        problems << QStringLiteral("The name must start with a letter or digit and hold only "
                                   "letters, digits, '.', '_' and '-' (at most 63).");
    }
    if (!ProviderConfig::typeNames().contains(record.type)) {
        problems << QStringLiteral("The type must be one of %1.")
                            .arg(ProviderConfig::typeNames().join(QStringLiteral(", ")));
    }
    if (record.poolSize < 1 || record.poolSize > 256)
        problems << QStringLiteral("The pool size must be between 1 and 256.");
    if (record.type != u"sandbox" && record.url().isEmpty())
        problems << QStringLiteral("The provider needs its URL settings.");
    return problems;
}

Common::Result<QList<ProviderRecord>> ProviderRepository::list()
{
    auto rows = m_connection.exec(selectColumns + QStringLiteral("ORDER BY p.priority, p.name"));
    if (!rows)
        return Common::fail(rows.error());
    QList<ProviderRecord> records;
    records.reserve(rows->rowCount());
    for (int r = 0; r < rows->rowCount(); ++r)
        records.append(recordAt(*rows, r));
    return records;
}

Common::Result<ProviderRecord> ProviderRepository::find(const QString &name)
{
    auto rows = m_connection.exec(selectColumns + QStringLiteral("WHERE p.name = $1"), {name});
    if (!rows)
        return Common::fail(rows.error());
    if (rows->rowCount() == 0)
        return Common::fail(notFound(name));
    return recordAt(*rows, 0);
}

Common::Result<ProviderRecord> ProviderRepository::find(qint64 id)
{
    auto rows = m_connection.exec(selectColumns + QStringLiteral("WHERE p.id = $1"), {id});
    if (!rows)
        return Common::fail(rows.error());
    if (rows->rowCount() == 0)
        return Common::fail(notFound(QString::number(id)));
    return recordAt(*rows, 0);
}

Common::Status ProviderRepository::audit(const QString &action, const QString &name,
                                         const QJsonObject &detail)
{
    auto logged = m_connection.exec(
            QStringLiteral("INSERT INTO audit_log (action, entity_type, entity_id, detail) "
                           "VALUES ($1, 'provider', $2, $3)"),
            {action, name, detail});
    if (!logged)
        return Common::fail(logged.error());
    return {};
}

Common::Result<ProviderRecord> ProviderRepository::add(const ProviderRecord &record,
                                                       const QMap<QString, QByteArray> &secrets)
{
    if (const QStringList problems = validate(record); !problems.isEmpty()) {
        return Common::fail(QStringLiteral("providers.invalid"), problems.join(u' '), {},
                            Common::Retry::Permanent);
    }
    return inTransaction<ProviderRecord>(m_connection, [&]() -> Common::Result<ProviderRecord> {
        auto taken = m_connection.exec(QStringLiteral("SELECT 1 FROM providers WHERE name = $1"),
                                       {record.name});
        if (!taken)
            return Common::fail(taken.error());
        if (taken->rowCount() > 0) {
            return Common::fail(QStringLiteral("providers.exists"),
                                QStringLiteral("A provider named '%1' exists already; pick "
                                               "another name or change it with 'provider set'.")
                                        .arg(record.name));
        }
        auto inserted = m_connection.exec(
                QStringLiteral("INSERT INTO providers (name, type, enabled, priority, "
                               "rate_per_second, rate_per_minute, rate_per_hour, rate_per_day, "
                               "pool_size, options) "
                               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"),
                {record.name, record.type, record.enabled, record.priority,
                 limitParam(record.limits.perSecond), limitParam(record.limits.perMinute),
                 limitParam(record.limits.perHour), limitParam(record.limits.perDay),
                 record.poolSize, record.options});
        if (!inserted)
            return Common::fail(inserted.error());
        const qint64 id = inserted->toInt(0, 0);
        Secrets::SecretRepository secretStore(m_connection);
        for (auto it = secrets.cbegin(); it != secrets.cend(); ++it) {
            if (auto sealed = secretStore.sealSecret(id, it.key(), it.value()); !sealed)
                return Common::fail(sealed.error());
        }
        QJsonObject detail = editableFields(record);
        detail.insert(QStringLiteral("secrets"), QJsonArray::fromStringList(secrets.keys()));
        if (auto logged = audit(QStringLiteral("add"), record.name, detail); !logged)
            return Common::fail(logged.error());
        return find(id);
    });
}

Common::Result<ProviderRecord> ProviderRepository::update(const ProviderRecord &record,
                                                          const QMap<QString, QByteArray> &secrets,
                                                          ProviderConflict *conflict)
{
    if (const QStringList problems = validate(record); !problems.isEmpty()) {
        return Common::fail(QStringLiteral("providers.invalid"), problems.join(u' '), {},
                            Common::Retry::Permanent);
    }
    return inTransaction<ProviderRecord>(m_connection, [&]() -> Common::Result<ProviderRecord> {
        auto current = m_connection.exec(selectColumns
                                                 + QStringLiteral("WHERE p.id = $1 FOR UPDATE"),
                                         {record.id});
        if (!current)
            return Common::fail(current.error());
        if (current->rowCount() == 0)
            return Common::fail(notFound(record.name));
        const ProviderRecord stored = recordAt(*current, 0);
        if (stored.revision != record.revision) {
            QStringList changed;
            const QJsonObject before = editableFields(stored);
            const QJsonObject mine = editableFields(record);
            for (auto it = before.constBegin(); it != before.constEnd(); ++it) {
                if (mine.value(it.key()) != it.value())
                    changed << it.key();
            }
            if (conflict)
                *conflict = ProviderConflict{stored, changed};
            return Common::fail(QStringLiteral("providers.conflict"),
                                QStringLiteral("Provider '%1' was changed by %2 at %3 while you "
                                               "were editing it (revision %4, you started from "
                                               "%5). Nothing was saved; review their version and "
                                               "apply your change again.")
                                        .arg(stored.name, stored.updatedBy,
                                             stored.updatedAt.toLocalTime().toString(
                                                     QStringLiteral("yyyy-MM-dd HH:mm:ss")))
                                        .arg(stored.revision)
                                        .arg(record.revision),
                                changed.join(QStringLiteral(", ")), Common::Retry::Permanent);
        }
        const bool connectionChanged = stored.type != record.type || stored.url() != record.url()
                || !secrets.isEmpty();
        auto updated = m_connection.exec(
                QStringLiteral("UPDATE providers SET name = $2, type = $3, enabled = $4, "
                               "priority = $5, rate_per_second = $6, rate_per_minute = $7, "
                               "rate_per_hour = $8, rate_per_day = $9, pool_size = $10, "
                               "options = $11, revision = revision + 1, updated_at = now(), "
                               "updated_by = current_user, "
                               // New connection settings deserve a fresh start; other edits
                               // (a limit, the From address) leave the health as it is.
                               "consecutive_failures = CASE WHEN $12 THEN 0 "
                               "  ELSE consecutive_failures END, "
                               "circuit_open_until = CASE WHEN $12 THEN NULL "
                               "  ELSE circuit_open_until END, "
                               "health = CASE WHEN $12 THEN 'healthy' ELSE health END, "
                               "health_reason = CASE WHEN $12 THEN NULL ELSE health_reason END "
                               "WHERE id = $1"),
                {record.id, record.name, record.type, record.enabled, record.priority,
                 limitParam(record.limits.perSecond), limitParam(record.limits.perMinute),
                 limitParam(record.limits.perHour), limitParam(record.limits.perDay),
                 record.poolSize, record.options, connectionChanged});
        if (!updated)
            return Common::fail(updated.error());
        if (stored.type != record.type) {
            // Another kind of provider: the old kind's secrets mean nothing to it.
            auto dropped =
                    m_connection.exec(QStringLiteral(
                                              "DELETE FROM provider_secrets WHERE provider_id = $1 "
                                              "AND NOT (name = ANY($2::text[]))"),
                                      {record.id, QStringList(secrets.keys())});
            if (!dropped)
                return Common::fail(dropped.error());
        }
        Secrets::SecretRepository secretStore(m_connection);
        for (auto it = secrets.cbegin(); it != secrets.cend(); ++it) {
            if (auto sealed = secretStore.sealSecret(record.id, it.key(), it.value()); !sealed)
                return Common::fail(sealed.error());
        }
        QJsonObject detail;
        const QJsonObject before = editableFields(stored);
        const QJsonObject after = editableFields(record);
        for (auto it = after.constBegin(); it != after.constEnd(); ++it) {
            if (before.value(it.key()) != it.value())
                detail.insert(it.key(),
                              QJsonObject{{QStringLiteral("from"), before.value(it.key())},
                                          {QStringLiteral("to"), it.value()}});
        }
        if (!secrets.isEmpty())
            detail.insert(QStringLiteral("secrets"), QJsonArray::fromStringList(secrets.keys()));
        if (auto logged = audit(QStringLiteral("update"), record.name, detail); !logged)
            return Common::fail(logged.error());
        return find(record.id);
    });
}

Common::Status ProviderRepository::remove(const QString &name)
{
    auto result = inTransaction<bool>(m_connection, [&]() -> Common::Result<bool> {
        auto removed = m_connection
                               .exec(QStringLiteral(
                                             "DELETE FROM providers WHERE name = $1 RETURNING id"),
                                     {name});
        if (!removed)
            return Common::fail(removed.error());
        if (removed->rowCount() == 0)
            return Common::fail(notFound(name));
        if (auto logged = audit(QStringLiteral("remove"), name, {}); !logged)
            return Common::fail(logged.error());
        return true;
    });
    if (!result)
        return Common::fail(result.error());
    return {};
}

Common::Status ProviderRepository::setEnabled(const QString &name, bool enabled)
{
    auto result = inTransaction<bool>(m_connection, [&]() -> Common::Result<bool> {
        auto changed = m_connection.exec(
                QStringLiteral("UPDATE providers SET enabled = $2, revision = revision + 1, "
                               "updated_at = now(), updated_by = current_user "
                               "WHERE name = $1 RETURNING id"),
                {name, enabled});
        if (!changed)
            return Common::fail(changed.error());
        if (changed->rowCount() == 0)
            return Common::fail(notFound(name));
        if (auto logged = audit(enabled ? QStringLiteral("enable") : QStringLiteral("disable"),
                                name, {});
            !logged)
            return Common::fail(logged.error());
        return true;
    });
    if (!result)
        return Common::fail(result.error());
    return {};
}

Common::Status ProviderRepository::reorder(const QStringList &names)
{
    auto result = inTransaction<bool>(m_connection, [&]() -> Common::Result<bool> {
        auto changed = m_connection.exec(
                QStringLiteral("UPDATE providers p SET priority = o.position * 10, "
                               "revision = revision + 1, updated_at = now(), "
                               "updated_by = current_user "
                               "FROM unnest($1::text[]) WITH ORDINALITY AS o(name, position) "
                               "WHERE p.name = o.name AND p.priority <> o.position * 10 "
                               "RETURNING p.name"),
                {names});
        if (!changed)
            return Common::fail(changed.error());
        auto known = m_connection.exec(QStringLiteral(
                                               "SELECT n FROM unnest($1::text[]) AS n "
                                               "WHERE n NOT IN (SELECT name FROM providers)"),
                                       {names});
        if (!known)
            return Common::fail(known.error());
        if (known->rowCount() > 0)
            return Common::fail(notFound(known->text(0, 0)));
        if (auto logged = audit(QStringLiteral("reorder"), {},
                                {{QStringLiteral("order"), QJsonArray::fromStringList(names)}});
            !logged)
            return Common::fail(logged.error());
        return true;
    });
    if (!result)
        return Common::fail(result.error());
    return {};
}

Common::Result<QMap<QString, QByteArray>> ProviderRepository::openSecrets(
        const ProviderRecord &record, const Secrets::KeyPair &hostKey)
{
    QMap<QString, QByteArray> opened;
    Secrets::SecretRepository secretStore(m_connection);
    for (const QString &name : record.secretNames) {
        auto value = secretStore.openSecret(record.id, name, hostKey);
        if (!value)
            return Common::fail(value.error());
        opened.insert(name, *value);
    }
    return opened;
}

Common::Result<ProviderRecord> ProviderRepository::recordFailure(qint64 id, const QString &reason,
                                                                 int threshold)
{
    auto updated = m_connection.exec(
            QStringLiteral("UPDATE providers SET consecutive_failures = consecutive_failures + 1, "
                           "health = CASE WHEN consecutive_failures + 1 >= $3 THEN 'down' "
                           "              ELSE 'degraded' END, "
                           "health_reason = $2, "
                           "circuit_open_until = CASE WHEN consecutive_failures + 1 >= $3 THEN "
                           "    now() + make_interval(secs => least(300, 5 * power(2, least(6, "
                           "        consecutive_failures + 1 - $3)))) ELSE circuit_open_until END "
                           "WHERE id = $1"),
            {id, reason.left(500), threshold});
    if (!updated)
        return Common::fail(updated.error());
    return find(id);
}

Common::Status ProviderRepository::recordSuccess(qint64 id)
{
    auto updated = m_connection.exec(
            QStringLiteral("UPDATE providers SET consecutive_failures = 0, health = 'healthy', "
                           "health_reason = NULL, circuit_open_until = NULL "
                           "WHERE id = $1 AND (consecutive_failures > 0 OR health <> 'healthy' "
                           "                   OR circuit_open_until IS NOT NULL)"),
            {id});
    if (!updated)
        return Common::fail(updated.error());
    return {};
}

Common::Status ProviderRepository::recordDegraded(qint64 id, const QString &reason)
{
    auto updated = m_connection.exec(
            QStringLiteral("UPDATE providers SET health = 'degraded', health_reason = $2 "
                           "WHERE id = $1 AND health = 'healthy'"),
            {id, reason.left(500)});
    if (!updated)
        return Common::fail(updated.error());
    return {};
}

Common::Result<bool> ProviderRepository::takeProbe(qint64 id, int probeSeconds)
{
    auto taken = m_connection.exec(
            QStringLiteral("UPDATE providers SET circuit_open_until = now() + make_interval(secs "
                           "=> $2) WHERE id = $1 AND circuit_open_until <= now() RETURNING id"),
            {id, probeSeconds});
    if (!taken)
        return Common::fail(taken.error());
    return taken->rowCount() == 1;
}

Common::Result<int> ProviderRepository::takeSends(qint64 id, int wanted)
{
    auto granted = m_connection.exec(QStringLiteral("SELECT postdesk_take_sends($1, $2)"),
                                     {id, wanted});
    if (!granted)
        return Common::fail(granted.error());
    return int(granted->toInt(0, 0));
}

Common::Status ProviderRepository::returnSends(qint64 id, int count)
{
    auto returned = m_connection.exec(QStringLiteral("SELECT postdesk_return_sends($1, $2)"),
                                      {id, count});
    if (!returned)
        return Common::fail(returned.error());
    return {};
}

} // namespace Providers
