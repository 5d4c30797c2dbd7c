#pragma once

#include "eventstore.h"

#include <QList>

#include <functional>
#include <memory>
#include <vector>

class QThread;

namespace Events {

// A database connection opened on first use, and again after the link is lost, with an
// EventStore on it. Used on one thread only.
class StoreLink
{
public:
    using ConnectionFactory = std::function<Common::Result<std::unique_ptr<Db::Connection>>()>;

    explicit StoreLink(ConnectionFactory open);
    ~StoreLink();

    // The connection, or nullptr with error set (transient) when the database is unavailable.
    Db::Connection *connection(Common::Error *error);
    // Stores events, opening the connection when needed and forgetting it after an error that
    // lost it.
    Common::Result<IngestResult> ingest(const QList<Event> &events,
                                        const IngestOptions &options = {});
    // Forgets the connection after an error that lost it (it is opened again when next needed).
    void dropIf(const Common::Error &error);
    void close();

private:
    ConnectionFactory m_open;
    std::unique_ptr<Db::Connection> m_connection;
    std::unique_ptr<EventStore> m_store;
};

// Stores a large batch over several connections at once: the batch is cut into consecutive
// parts, one per connection, each stored in its own transaction on its own thread, so that the
// database works on the parts side by side. The first part is stored on the calling thread
// through the caller's own link.
//
// Every part is still all or nothing, and a part that committed stays when another fails. That
// is safe because storing is idempotent: the caller answers with an error, the provider sends the
// whole batch again, and the events already stored are recognised by their keys (stored once,
// their effects applied once). Parts lock the rows they share (messages, rollups, suppressions)
// in key order, so they wait for each other rather than deadlock; a part that fails on a deadlock
// or serialization conflict all the same is stored again once, on its own. A batch with a replay
// token is never cut: the token and the events go in one transaction.
class IngestPool
{
public:
    // extraConnections: connections besides the caller's; 0 stores every batch as one part.
    IngestPool(StoreLink::ConnectionFactory open, int extraConnections);
    ~IngestPool();
    Q_DISABLE_COPY_MOVE(IngestPool)

    // Batches smaller than this many events per connection are not cut.
    static constexpr int minimumPart = 250;

    Common::Result<IngestResult> ingest(StoreLink &local, const QList<Event> &events,
                                        const IngestOptions &options = {});

private:
    struct Lane;
    std::vector<std::unique_ptr<Lane>> m_lanes;
};

} // namespace Events
