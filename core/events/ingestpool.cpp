#include "ingestpool.h"

#include "db/connection.h"

#include <QSemaphore>
#include <QThread>

#include <optional>

namespace Events {

StoreLink::StoreLink(ConnectionFactory open)
    : m_open(std::move(open))
{ }

StoreLink::~StoreLink() = default;

Db::Connection *StoreLink::connection(Common::Error *error)
{
    if (m_connection && !m_connection->isAlive())
        close();
    if (!m_connection) {
        if (!m_open) {
            *error = Common::makeError(QStringLiteral("events.no_database"),
                                       QStringLiteral("No database configured."), {},
                                       Common::Retry::Transient);
            return nullptr;
        }
        auto opened = m_open();
        if (!opened) {
            *error = opened.error();
            error->retry = Common::Retry::Transient;
            return nullptr;
        }
        m_connection = std::move(*opened);
        m_store = std::make_unique<EventStore>(*m_connection);
    }
    return m_connection.get();
}

Common::Result<IngestResult> StoreLink::ingest(const QList<Event> &events,
                                               const IngestOptions &options)
{
    Common::Error error;
    if (!connection(&error))
        return Common::fail(error);
    auto stored = m_store->ingest(events, options);
    if (!stored)
        dropIf(stored.error());
    return stored;
}

void StoreLink::dropIf(const Common::Error &error)
{
    if (m_connection && (error.isTransient() || !m_connection->isAlive()))
        close();
}

void StoreLink::close()
{
    m_store.reset();
    m_connection.reset();
}

// A thread with a connection of its own. The link is used on that thread only.
struct IngestPool::Lane
{
    explicit Lane(StoreLink::ConnectionFactory open)
        : link(std::move(open))
    {
        context.moveToThread(&thread);
        thread.start();
    }
    ~Lane()
    {
        // The connection is closed on the thread that used it.
        QMetaObject::invokeMethod(
                &context, [this] { link.close(); }, Qt::BlockingQueuedConnection);
        thread.quit();
        thread.wait();
    }
    QThread thread;
    QObject context;
    StoreLink link;
};

IngestPool::IngestPool(StoreLink::ConnectionFactory open, int extraConnections)
{
    for (int i = 0; i < extraConnections; ++i)
        m_lanes.push_back(std::make_unique<Lane>(open));
}

IngestPool::~IngestPool() = default;

Common::Result<IngestResult> IngestPool::ingest(StoreLink &local, const QList<Event> &events,
                                                const IngestOptions &options)
{
    const qsizetype parts = options.replayToken.isEmpty()
            ? qBound<qsizetype>(1, events.size() / minimumPart, qsizetype(m_lanes.size()) + 1)
            : 1;
    if (parts == 1)
        return local.ingest(events, options);

    QList<QList<Event>> split;
    for (qsizetype p = 0; p < parts; ++p) {
        const qsizetype begin = events.size() * p / parts;
        const qsizetype end = events.size() * (p + 1) / parts;
        split.append(events.mid(begin, end - begin));
    }
    std::vector<std::optional<Common::Result<IngestResult>>> results;
    results.resize(size_t(parts));
    QSemaphore done;
    for (qsizetype p = 1; p < parts; ++p) {
        Lane *lane = m_lanes.at(size_t(p - 1)).get();
        QMetaObject::invokeMethod(&lane->context, [lane, &split, &results, &done, p] {
            results[size_t(p)] = lane->link.ingest(split.at(p));
            done.release();
        });
    }
    results[0] = local.ingest(split.at(0));
    done.acquire(int(parts - 1));

    IngestResult total;
    std::optional<Common::Error> firstError;
    for (qsizetype p = 0; p < parts; ++p) {
        Common::Result<IngestResult> &result = *results[size_t(p)];
        // Parts that met each other in a lock cycle (possible when one event is repeated in two
        // parts) are stored again one at a time.
        if (!result && Db::isConflict(result.error()))
            result = local.ingest(split.at(p));
        if (!result) {
            if (!firstError)
                firstError = result.error();
            continue;
        }
        total.received += result->received;
        total.stored += result->stored;
        total.duplicates += result->duplicates;
        total.unknown += result->unknown;
        total.joined += result->joined;
        total.lastId = qMax(total.lastId, result->lastId);
    }
    if (firstError)
        return Common::fail(*firstError);
    return total;
}

} // namespace Events
