#include "eventstore.h"

#include "db/connection.h"

#include <chrono>
#include <cstdio>

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

// 1. Insert, joined to messages; the new rows go to ingest_batch, and one row of counts comes
// back. The message is looked up by the id a tracking token carries, else by the provider's id as
// sent, in brackets, or by our own Message-ID, in that order of preference. One provider id may
// cover several of our messages (one API request to several recipients): the one to the event's
// recipient is taken. Every form is probed for the whole batch at once (one index probe each
// per event, in one nested loop per form) and DISTINCT ON keeps each event's best candidate: one
// sort for the batch instead of a subquery with its own sort per event and form. The candidates
// carry only where the event is (its row's ctid) and its position, not the event itself (its raw
// JSON made the sort three times as long); the chosen ones fetch their events again by ctid. An
// event repeated within the batch is inserted in batch order, so its first copy is stored and ON
// CONFLICT skips the later ones, as it skips events stored by earlier batches.
const QString insertSql = QStringLiteral(R"(
WITH candidates AS (
    SELECT i.ctid AS tid, i.ord, 1 AS pick, m.id AS message_id, m.provider_id,
           lower(m.recipient) AS message_recipient,
           coalesce(m.delivered_at, m.sent_at) AS arrived_at,
           lower(m.recipient) = i.recipient AS same_recipient
    FROM ingest_input i JOIN messages m ON m.id = i.explicit_msg
    UNION ALL
    SELECT i.ctid, i.ord, 2, m.id, m.provider_id, lower(m.recipient),
           coalesce(m.delivered_at, m.sent_at), lower(m.recipient) = i.recipient
    FROM ingest_input i JOIN messages m ON m.provider_message_id = i.pmid
    WHERE i.explicit_msg IS NULL AND i.pmid <> ''
    UNION ALL
    SELECT i.ctid, i.ord, 3, m.id, m.provider_id, lower(m.recipient),
           coalesce(m.delivered_at, m.sent_at), lower(m.recipient) = i.recipient
    FROM ingest_input i JOIN messages m ON m.provider_message_id = '<' || i.pmid || '>'
    WHERE i.explicit_msg IS NULL AND i.pmid <> ''
    UNION ALL
    SELECT i.ctid, i.ord, 4, m.id, m.provider_id, lower(m.recipient),
           coalesce(m.delivered_at, m.sent_at), lower(m.recipient) = i.recipient
    FROM ingest_input i JOIN messages m ON m.message_id_header = i.pmid
    WHERE i.explicit_msg IS NULL AND i.pmid <> ''
    UNION ALL
    SELECT ctid, ord, 5, NULL, NULL, NULL, NULL, NULL FROM ingest_input
), ins AS (
    INSERT INTO events (source, event_key, type, subtype, machine, message_id, provider_id,
                        provider_message_id, recipient, url, occurred_at, raw)
    SELECT i.source, i.event_key, i.type, nullif(i.subtype, ''),
           i.machine OR (i.type = 'opened' AND b.arrived_at IS NOT NULL
                       AND i.occurred_at < b.arrived_at + make_interval(secs => $1)),
           b.message_id, b.provider_id, nullif(i.pmid, ''),
           coalesce(nullif(i.recipient, ''), b.message_recipient), nullif(i.url, ''),
           i.occurred_at, i.raw::jsonb
    FROM (SELECT DISTINCT ON (ord) * FROM candidates
          ORDER BY ord, pick, same_recipient IS TRUE DESC, message_id) b
    JOIN ingest_input i ON i.ctid = b.tid
    ORDER BY b.ord
    ON CONFLICT (source, event_key) DO NOTHING
    RETURNING id, type, subtype, machine, message_id, recipient, occurred_at, source
), batch AS (
    INSERT INTO ingest_batch SELECT * FROM ins
    RETURNING id, type, message_id
)
SELECT count(*), count(*) FILTER (WHERE type = 'unknown'), count(message_id), coalesce(max(id), 0)
FROM batch
)");

// 2. Delivery by precedence; first human open and click. postdesk_delivery_rank gives each
// delivery outcome its own rank from 1 to 5, so the most final outcome is the maximum of rank and
// name written together (one aggregate, not a sort per message).
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
           substr(max(postdesk_delivery_rank(type) || type)
                      FILTER (WHERE postdesk_delivery_rank(type) > 0), 2) AS delivery,
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

const QString notifySql = QStringLiteral(
        "SELECT pg_notify($1, max(id)::text) FROM ingest_batch HAVING count(*) > 0");

// The statements run after the COPY, in this order, by the names they are prepared under.
const QList<std::pair<QByteArray, QString>> &effectStatements()
{
    static const QList<std::pair<QByteArray, QString>> statements =
            {{"postdesk_ingest_insert", insertSql},     {"postdesk_ingest_messages", messagesSql},
             {"postdesk_ingest_suppress", suppressSql}, {"postdesk_ingest_cancel", cancelSql},
             {"postdesk_ingest_rollup", rollupSql},     {"postdesk_ingest_notify", notifySql}};
    return statements;
}

QString iso(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

// The same text as iso() for a UTC time given in milliseconds since the epoch, written straight
// into a COPY buffer: QDateTime::toString() was a tenth of the time of turning a batch into COPY.
void appendIsoUtc(QByteArray &out, qint64 msecs)
{
    using namespace std::chrono;
    const sys_time<milliseconds> t{milliseconds(msecs)};
    const auto day = floor<days>(t);
    const year_month_day date{day};
    const hh_mm_ss<milliseconds> time{t - day};
    char text[32];
    const int n = std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                                int(date.year()), unsigned(date.month()), unsigned(date.day()),
                                int(time.hours().count()), int(time.minutes().count()),
                                int(time.seconds().count()), int(time.subseconds().count()));
    out.append(text, n);
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
    // The statements after the COPY are planned once per session, not once per batch (another
    // store on this connection may have prepared them already).
    auto existing = m_connection.exec(QStringLiteral(
            "SELECT name FROM pg_prepared_statements WHERE name LIKE 'postdesk\\_ingest\\_%'"));
    if (!existing)
        return Common::fail(existing.error());
    QList<QString> names;
    for (int r = 0; r < existing->rowCount(); ++r)
        names.append(existing->text(r, 0));
    for (const auto &[name, sql] : effectStatements()) {
        if (names.contains(QString::fromLatin1(name)))
            continue;
        if (auto prepared = m_connection.prepare(name, sql); !prepared)
            return prepared;
    }
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
    // Runs of ordinary bytes are appended whole; only the four special ones are escaped.
    auto field = [&copy](const QByteArray &value) {
        const char *p = value.constData();
        const char *const end = p + value.size();
        while (p < end) {
            const char *run = p;
            while (p < end && *p != '\\' && *p != '\t' && *p != '\n' && *p != '\r')
                ++p;
            copy.append(run, p - run);
            if (p == end)
                break;
            switch (*p++) {
            case '\\':
                copy += "\\\\";
                break;
            case '\t':
                copy += "\\t";
                break;
            case '\n':
                copy += "\\n";
                break;
            default:
                copy += "\\r";
                break;
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
        appendIsoUtc(copy,
                     (e.occurredAt.isValid() ? e.occurredAt : QDateTime::currentDateTimeUtc())
                             .toMSecsSinceEpoch());
        copy += '\t';
        field(e.raw.isEmpty() ? QByteArray("null") : e.raw);
        copy += e.messageId > 0 ? QByteArray::number(e.messageId) + '\t' : QByteArray("\\N\t");
        copy += QByteArray::number(++ord) + '\n';
    }

    auto run = [&]() -> Common::Result<IngestResult> {
        if (auto ok = prepareSession(); !ok)
            return Common::fail(ok.error());
        // Every join here goes from at most one batch of rows into large tables by their
        // indexes; the temporary tables have no statistics, so without this the planner may hash
        // whole tables (messages) for a batch of a thousand rows. For the same reason one plan
        // serves every batch: the prepared insert is not planned again for its parameter.
        const QString begin = QStringLiteral("BEGIN; SET LOCAL enable_hashjoin = off; "
                                             "SET LOCAL enable_mergejoin = off; "
                                             "SET LOCAL plan_cache_mode = force_generic_plan; ");
        if (!options.replayToken.isEmpty()) {
            if (auto ok = m_connection.execScript(begin); !ok)
                return Common::fail(ok.error());
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
            if (events.isEmpty()) {
                if (auto ok = m_connection.commit(); !ok)
                    return Common::fail(ok.error());
                return result;
            }
        }
        // The transaction opens in the same round trip as the COPY starts (libpq runs the
        // statements before the COPY and hands back the COPY), and everything after the COPY,
        // the commit included, goes in one pipeline: three round trips per batch in all. When a
        // statement fails the server skips the rest, COMMIT too, and the caller rolls back.
        if (auto copied = m_connection.copyIn(options.replayToken.isEmpty() ? begin + copySql
                                                                            : copySql,
                                              copy);
            !copied)
            return Common::fail(copied.error());
        const auto &names = effectStatements();
        auto done = m_connection.execPipeline(
                {{.params = {machineOpenSeconds}, .prepared = names.at(0).first},
                 {.prepared = names.at(1).first},
                 {.prepared = names.at(2).first},
                 {.prepared = names.at(3).first},
                 {.prepared = names.at(4).first},
                 {.params = {QString::fromLatin1(notifyChannel)}, .prepared = names.at(5).first},
                 {.sql = QStringLiteral("COMMIT")}});
        if (!done)
            return Common::fail(done.error());
        const Db::QueryResult &counts = done->first();
        result.stored = int(counts.toInt(0, 0));
        result.unknown = int(counts.toInt(0, 1));
        result.joined = int(counts.toInt(0, 2));
        result.lastId = counts.toInt(0, 3);
        result.duplicates = result.received - result.stored;
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
