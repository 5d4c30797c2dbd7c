#pragma once

#include "common/result.h"

#include <QStringList>

namespace Db {
class Connection;
}

namespace Queue {

// How a worker sleeps between claims: it LISTENs on the queue channel and wakes when a statement
// inserts pending messages (or a queue is resumed, or messages are retried), and otherwise after
// the poll interval — the safety net for notifications lost while a connection was down, and for
// scheduled messages coming due. Blocking: for a worker thread with a connection of its own (the
// connection must not be inside a transaction, or notifications wait for its end).
class QueueWaiter
{
public:
    explicit QueueWaiter(Db::Connection &connection);

    Common::Status start(); // LISTEN

    // Waits up to timeoutMs for a notification. Returns the ids of the queues that got work
    // (possibly several notifications' worth); empty when the time ran out.
    Common::Result<QStringList> wait(int timeoutMs);

private:
    Db::Connection &m_connection;
};

} // namespace Queue
