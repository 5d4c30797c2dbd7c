#pragma once

#include "event.h"

#include <QDateTime>
#include <QList>

namespace Db {
class Connection;
}

namespace Events {

struct IngestResult
{
    int received = 0;   // events handed in
    int stored = 0;     // new rows in events
    int duplicates = 0; // already stored (or repeated within the batch): stored once
    int unknown = 0;    // of the stored, how many had a type we do not know
    int joined = 0;     // of the stored, how many were joined to one of our messages
    qint64 lastId = 0;  // the highest events.id stored, 0 when none
};

struct IngestOptions
{
    // Mailgun's token: remembered in the same transaction; a token seen before fails the whole
    // batch with "events.replay" and stores nothing.
    QString replayToken;
};

// Stores events and applies their effects, all in ONE transaction per batch, with a fixed number
// of statements whatever the batch size:
//   1. insert (ON CONFLICT (source, event_key) DO NOTHING), joining each event to our message by
//      the provider's message id (or our Message-ID, or the id a tracking token carries);
//   2. advance messages.delivery by precedence (postdesk_delivery_rank), delivered_at, opened_at
//      and clicked_at (human opens and clicks only);
//   3. suppress addresses at once for hard bounces, complaints and unsubscribes, and at the fifth
//      soft bounce;
//   4. cancel pending messages to the addresses suppressed;
//   5. add the batch to daily_rollups (by UTC day, provider, queue and template);
//   6. NOTIFY postdesk_events with the highest id, delivered when the transaction commits.
// Only new events have effects, so a repeated delivery is never counted twice. Errors are
// transient when the database is unreachable (the caller answers 503 and the provider retries).
class EventStore
{
public:
    explicit EventStore(Db::Connection &connection);

    static constexpr const char *notifyChannel = "postdesk_events";
    // Opens within this many seconds of delivery are machine opens (mail privacy proxies fetch
    // every image as soon as the message arrives).
    static constexpr int machineOpenSeconds = 5;

    Common::Result<IngestResult> ingest(const QList<Event> &events,
                                        const IngestOptions &options = {});

    // Stored events with id > afterId, oldest first (the poller's cursor).
    Common::Result<QList<Event>> eventsAfter(qint64 afterId, int limit = 1000);
    // Stored events that occurred at or after since (null: all), by id, for export.
    Common::Result<QList<Event>> eventsSince(const QDateTime &since, qint64 afterId, int limit);

    // For the poller: "WHERE … ORDER BY … LIMIT …" over events e.
    Common::Result<QList<Event>> eventsAfterWhere(const QString &where, const QVariantList &params)
    {
        return select(where, params);
    }

private:
    Common::Status prepareSession();
    Common::Result<QList<Event>> select(const QString &where, const QVariantList &params);

    Db::Connection &m_connection;
    int m_preparedFor = -1; // backend pid the temp table was created in
};

} // namespace Events
