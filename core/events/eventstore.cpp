#include "eventstore.h"

#include "db/connection.h"

namespace Events {

namespace {

const QString tempTables = QStringLiteral(
        "CREATE TEMP TABLE IF NOT EXISTS ingest_input ("
        " source text, event_key text, type text, subtype text, machine boolean, pmid text,"
        " recipient text, url text, occurred_at timestamptz, raw text, explicit_msg bigint,"
        " ord integer) ON COMMIT DELETE ROWS;"
        "CREATE TEMP TABLE IF NOT EXISTS ingest_batch ("
        " id bigint, type text, subtype text, machine boolean, message_id bigint,"
        " recipient text, occurred_at timestamptz, source text) ON COMMIT DELETE ROWS");

const QString copySql = QStringLiteral(
        "COPY ingest_input (source, event_key, type, subtype, machine, pmid, recipient, url, "
        "occurred_at, raw, explicit_msg, ord) FROM STDIN");

// 1. Insert, joined to messages; the new rows go to ingest_batch. The message is looked up by the
// id a tracking token carries, else by the provider's id as sent, in brackets, or by our own
// Message-ID, in that order; COALESCE stops at the first that finds one, so a known message
// costs one index probe. One provider id may cover several of our messages (one API request to
// several recipients): the one to the event's recipient is taken.
const QString insertSql = QStringLiteral(R"(
WITH dedup AS (
    SELECT DISTINCT ON (source, event_key) * FROM ingest_input ORDER BY source, event_key, ord
), ids AS MATERIALIZED (
    SELECT d.*, coalesce(
        (SELECT id FROM messages WHERE id = d.explicit_msg),
        (SELECT id FROM messages WHERE d.explicit_msg IS NULL AND d.pmid <> ''
             AND provider_message_id = d.pmid
             ORDER BY lower(recipient) = d.recipient DESC, id LIMIT 1),
        (SELECT id FROM messages WHERE d.explicit_msg IS NULL AND d.pmid <> ''
             AND provider_message_id = '<' || d.pmid || '>'
             ORDER BY lower(recipient) = d.recipient DESC, id LIMIT 1),
        (SELECT id FROM messages WHERE d.explicit_msg IS NULL AND d.pmid <> ''
             AND message_id_header = d.pmid
             ORDER BY lower(recipient) = d.recipient DESC, id LIMIT 1)) AS message_id
    FROM dedup d
), joined AS (
    SELECT i.*, m.provider_id, lower(m.recipient) AS message_recipient,
           coalesce(m.delivered_at, m.sent_at) AS arrived_at
    FROM ids i
    LEFT JOIN LATERAL (SELECT provider_id, recipient, delivered_at, sent_at FROM messages
                       WHERE id = i.message_id) m ON true
), ins AS (
    INSERT INTO events (source, event_key, type, subtype, machine, message_id, provider_id,
                        provider_message_id, recipient, url, occurred_at, raw)
    SELECT source, event_key, type, nullif(subtype, ''),
           machine OR (type = 'opened' AND arrived_at IS NOT NULL
                       AND occurred_at < arrived_at + make_interval(secs => $1)),
           message_id, provider_id, nullif(pmid, ''),
           coalesce(nullif(recipient, ''), message_recipient), nullif(url, ''),
           occurred_at, raw::jsonb
    FROM joined ORDER BY ord
    ON CONFLICT (source, event_key) DO NOTHING
    RETURNING id, type, subtype, machine, message_id, recipient, occurred_at, source
)
INSERT INTO ingest_batch SELECT * FROM ins
RETURNING id, type, message_id
)");

// 2. Delivery by precedence; first human open and click.
const QString messagesSql = QStringLiteral(R"(
UPDATE messages m SET
    delivery = CASE WHEN postdesk_delivery_rank(x.delivery) > postdesk_delivery_rank(m.delivery)
                    THEN x.delivery ELSE m.delivery END,
    delivered_at = coalesce(m.delivered_at, x.delivered_at),
    opened_at = least(m.opened_at, x.opened_at),
    clicked_at = least(m.clicked_at, x.clicked_at),
    updated_at = now()
FROM (
    SELECT message_id,
           (array_agg(type ORDER BY postdesk_delivery_rank(type) DESC, occurred_at DESC)
               FILTER (WHERE postdesk_delivery_rank(type) > 0))[1] AS delivery,
           min(occurred_at) FILTER (WHERE type = 'delivered') AS delivered_at,
           min(occurred_at) FILTER (WHERE type = 'opened' AND NOT machine) AS opened_at,
           min(occurred_at) FILTER (WHERE type = 'clicked' AND NOT machine) AS clicked_at
    FROM ingest_batch WHERE message_id IS NOT NULL
    GROUP BY message_id ORDER BY message_id
) x
WHERE m.id = x.message_id
)");

// 3. Suppressions: at once for hard bounces, complaints and unsubscribes; at the fifth soft bounce.
const QString suppressSql = QStringLiteral(R"(
WITH soft AS (
    INSERT INTO soft_bounce_counts AS s (address, bounces, last_at)
    SELECT lower(recipient), count(*), max(occurred_at) FROM ingest_batch
    WHERE type = 'bounced' AND subtype = 'soft' AND recipient LIKE '%_@_%'
    GROUP BY 1 ORDER BY 1
    ON CONFLICT (address) DO UPDATE
        SET bounces = s.bounces + excluded.bounces, last_at = greatest(s.last_at, excluded.last_at)
    RETURNING address, bounces
), wanted AS (
    SELECT lower(recipient) AS address,
           CASE type WHEN 'bounced' THEN 'hard_bounce' WHEN 'complained' THEN 'complaint'
                     ELSE 'unsubscribe' END AS reason,
           source
    FROM ingest_batch
    WHERE ((type = 'bounced' AND subtype = 'hard') OR type IN ('complained', 'unsubscribed'))
      AND recipient LIKE '%_@_%'
    UNION ALL
    SELECT address, 'soft_bounces', 'events' FROM soft WHERE bounces >= 5
)
INSERT INTO suppressions (address, reason, source, note)
SELECT DISTINCT ON (address) address, reason, source, 'from a ' || source || ' event'
FROM wanted ORDER BY address, reason
ON CONFLICT (address) DO NOTHING
)");

// 4. Pending messages to the batch's suppressed addresses are cancelled.
const QString cancelSql = QStringLiteral(R"(
UPDATE messages m SET state = 'cancelled', updated_at = now(),
       last_error = 'the recipient is suppressed (' || s.reason || ')'
FROM suppressions s
WHERE s.address IN (SELECT lower(recipient) FROM ingest_batch
                    WHERE type IN ('bounced', 'complained', 'unsubscribed'))
  AND lower(m.recipient) = s.address AND m.state = 'pending'
)");

// 5. Daily rollups, in key order so that concurrent batches lock rows in the same order.
const QString rollupSql = QStringLiteral(R"(
INSERT INTO daily_rollups AS r (day, provider_id, queue_id, template_id, delivered, deferred,
    bounced_hard, bounced_soft, dropped, complained, opened, opened_machine, clicked, clicked_bot,
    unsubscribed, unknown)
SELECT (b.occurred_at AT TIME ZONE 'UTC')::date, coalesce(m.provider_id, 0), coalesce(m.queue_id, 0),
       coalesce(tv.template_id, 0),
       count(*) FILTER (WHERE b.type = 'delivered'),
       count(*) FILTER (WHERE b.type = 'deferred'),
       count(*) FILTER (WHERE b.type = 'bounced' AND b.subtype = 'hard'),
       count(*) FILTER (WHERE b.type = 'bounced' AND b.subtype IS DISTINCT FROM 'hard'),
       count(*) FILTER (WHERE b.type = 'dropped'),
       count(*) FILTER (WHERE b.type = 'complained'),
       count(*) FILTER (WHERE b.type = 'opened' AND NOT b.machine),
       count(*) FILTER (WHERE b.type = 'opened' AND b.machine),
       count(*) FILTER (WHERE b.type = 'clicked' AND NOT b.machine),
       count(*) FILTER (WHERE b.type = 'clicked' AND b.machine),
       count(*) FILTER (WHERE b.type = 'unsubscribed'),
       count(*) FILTER (WHERE b.type = 'unknown')
FROM ingest_batch b
LEFT JOIN messages m ON m.id = b.message_id
LEFT JOIN template_versions tv ON tv.id = m.template_version_id
WHERE b.type <> 'sent'
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (day, provider_id, queue_id, template_id) DO UPDATE SET
    delivered = r.delivered + excluded.delivered, deferred = r.deferred + excluded.deferred,
    bounced_hard = r.bounced_hard + excluded.bounced_hard,
    bounced_soft = r.bounced_soft + excluded.bounced_soft, dropped = r.dropped + excluded.dropped,
    complained = r.complained + excluded.complained, opened = r.opened + excluded.opened,
    opened_machine = r.opened_machine + excluded.opened_machine,
    clicked = r.clicked + excluded.clicked, clicked_bot = r.clicked_bot + excluded.clicked_bot,
    unsubscribed = r.unsubscribed + excluded.unsubscribed, unknown = r.unknown + excluded.unknown
)");

QString iso(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

} // namespace

EventStore::EventStore(Db::Connection &connection)
    : m_connection(connection)
{ }

Common::Status EventStore::prepareSession()
{
    if (m_preparedFor == m_connection.backendPid())
        return {};
    auto ok = m_connection.execScript(tempTables);
    if (!ok)
        return ok;
    m_preparedFor = m_connection.backendPid();
    return {};
}

Common::Result<IngestResult> EventStore::ingest(const QList<Event> &events,
                                                const IngestOptions &options)
{
    IngestResult result;
    result.received = int(events.size());
    if (events.isEmpty() && options.replayToken.isEmpty())
        return result;

    // COPY text format: tab-separated, \N for NULL, backslash escapes.
    QByteArray copy;
    copy.reserve(events.size() * 512);
    auto field = [&copy](const QByteArray &value) {
        for (const char c : value) {
            switch (c) {
            case '\\':
                copy += "\\\\";
                break;
            case '\t':
                copy += "\\t";
                break;
            case '\n':
                copy += "\\n";
                break;
            case '\r':
                copy += "\\r";
                break;
            default:
                copy += c;
            }
        }
        copy += '\t';
    };
    int ord = 0;
    for (const Event &e : events) {
        field(e.source.toUtf8());
        field(e.eventKey.toUtf8());
        field(typeName(e.type).toLatin1());
        field(e.subtype.toUtf8());
        copy += e.machine ? "t\t" : "f\t";
        field(e.providerMessageId.toUtf8());
        field(e.recipient.toUtf8());
        field(e.url.toUtf8());
        field(iso(e.occurredAt.isValid() ? e.occurredAt : QDateTime::currentDateTimeUtc())
                      .toLatin1());
        field(e.raw.isEmpty() ? QByteArray("null") : e.raw);
        copy += e.messageId > 0 ? QByteArray::number(e.messageId) + '\t' : QByteArray("\\N\t");
        copy += QByteArray::number(++ord) + '\n';
    }

    auto run = [&]() -> Common::Result<IngestResult> {
        if (auto ok = prepareSession(); !ok)
            return Common::fail(ok.error());
        // Every join here goes from at most one batch of rows into large tables by their
        // indexes; the temporary tables have no statistics, so without this the planner may hash
        // whole tables (messages) for a batch of a thousand rows.
        if (auto ok = m_connection.execScript(QStringLiteral(
                    "BEGIN; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"));
            !ok)
            return Common::fail(ok.error());
        if (!options.replayToken.isEmpty()) {
            // Tokens older than any acceptable timestamp can go: their requests are refused
            // as stale anyway.
            auto token = m_connection.exec(
                    QStringLiteral("WITH purge AS (DELETE FROM mailgun_tokens WHERE seen_at < "
                                   "now() - interval '2 days') "
                                   "INSERT INTO mailgun_tokens (token) VALUES ($1) "
                                   "ON CONFLICT (token) DO NOTHING"),
                    {options.replayToken});
            if (!token)
                return Common::fail(token.error());
            if (token->affectedRows() == 0)
                return Common::fail(QStringLiteral("events.replay"),
                                    QStringLiteral("This Mailgun webhook token was used before: "
                                                   "refused as a replay."));
        }
        if (events.isEmpty()) {
            if (auto ok = m_connection.commit(); !ok)
                return Common::fail(ok.error());
            return result;
        }
        if (auto copied = m_connection.copyIn(copySql, copy); !copied)
            return Common::fail(copied.error());
        auto inserted = m_connection.exec(insertSql, {machineOpenSeconds});
        if (!inserted)
            return Common::fail(inserted.error());
        result.stored = inserted->rowCount();
        result.duplicates = result.received - result.stored;
        for (int r = 0; r < inserted->rowCount(); ++r) {
            result.lastId = qMax(result.lastId, inserted->toInt(r, 0));
            if (inserted->text(r, 1) == u"unknown")
                ++result.unknown;
            if (!inserted->isNull(r, 2))
                ++result.joined;
        }
        if (result.stored > 0) {
            for (const QString &sql : {messagesSql, suppressSql, cancelSql, rollupSql}) {
                auto ok = m_connection.exec(sql);
                if (!ok)
                    return Common::fail(ok.error());
            }
            auto notified = m_connection.exec(QStringLiteral("SELECT pg_notify($1, $2)"),
                                              {QString::fromLatin1(notifyChannel),
                                               QString::number(result.lastId)});
            if (!notified)
                return Common::fail(notified.error());
        }
        if (auto ok = m_connection.commit(); !ok)
            return Common::fail(ok.error());
        return result;
    };
    auto outcome = run();
    if (!outcome)
        m_connection.rollback();
    return outcome;
}

Common::Result<QList<Event>> EventStore::select(const QString &where, const QVariantList &params)
{
    auto rows = m_connection.exec(
            QStringLiteral("SELECT e.id, e.source, e.event_key, e.type, coalesce(e.subtype, ''), "
                           "e.machine, coalesce(e.recipient, ''), "
                           "coalesce(e.provider_message_id, ''), coalesce(e.message_id, 0), "
                           "coalesce(e.url, ''), e.occurred_at, coalesce(e.raw::text, '') "
                           "FROM events e ")
                    + where,
            params);
    if (!rows)
        return Common::fail(rows.error());
    QList<Event> list;
    list.reserve(rows->rowCount());
    for (int r = 0; r < rows->rowCount(); ++r) {
        Event e;
        e.id = rows->toInt(r, 0);
        e.source = rows->text(r, 1);
        e.eventKey = rows->text(r, 2);
        e.type = typeFromName(rows->text(r, 3));
        e.subtype = rows->text(r, 4);
        e.machine = rows->toBool(r, 5);
        e.recipient = rows->text(r, 6);
        e.providerMessageId = rows->text(r, 7);
        e.messageId = rows->toInt(r, 8);
        e.url = rows->text(r, 9);
        e.occurredAt = rows->toDateTime(r, 10).toUTC();
        e.raw = rows->bytes(r, 11);
        list.append(std::move(e));
    }
    return list;
}

Common::Result<QList<Event>> EventStore::eventsAfter(qint64 afterId, int limit)
{
    return select(QStringLiteral("WHERE e.id > $1 ORDER BY e.id LIMIT $2"), {afterId, limit});
}

Common::Result<QList<Event>> EventStore::eventsSince(const QDateTime &since, qint64 afterId,
                                                     int limit)
{
    return select(QStringLiteral("WHERE e.id > $1 AND ($2::timestamptz IS NULL OR e.occurred_at "
                                 ">= $2) ORDER BY e.id LIMIT $3"),
                  {afterId, since.isValid() ? QVariant(iso(since)) : QVariant(), limit});
}

} // namespace Events
