#pragma once

#include "event.h"

#include <QList>
#include <QMap>
#include <QObject>

#include <functional>
#include <memory>

class QThread;

namespace Db {
class Connection;
}

namespace Events {

class EventPollWorker;

// Delivers newly stored events to the GUI: a worker thread with its own connection LISTENs on
// EventStore::notifyChannel (the ingest NOTIFYs after each commit) and polls every pollMs as a
// safety net, reading events by increasing id from a cursor. Ids a concurrent transaction had not
// committed yet when the cursor passed them (and ids skipped by duplicates or rollbacks) are
// looked at again for a minute, so no event is missed and none is delivered twice. After the
// database restarts the worker reconnects and carries on from its cursor.
class EventPoller final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventPoller)

public:
    using ConnectionFactory = std::function<Common::Result<std::unique_ptr<Db::Connection>>()>;

    // afterId: deliver events with a greater id; -1 starts after the newest event at connect time.
    explicit EventPoller(ConnectionFactory openConnection, qint64 afterId = -1, int pollMs = 2000,
                         QObject *parent = nullptr);
    ~EventPoller() override;

    void start();
    void stop();

Q_SIGNALS:
    void eventsArrived(const QList<Events::Event> &events);
    // Per type ("opened", "bounced", …; machine opens and bot clicks as "opened_machine" and
    // "clicked_bot"), counted since start.
    void countersChanged(const QMap<QString, qint64> &counters);
    void linkChanged(bool connected);

private:
    QThread *m_thread = nullptr;
    EventPollWorker *m_worker = nullptr;
};

} // namespace Events
