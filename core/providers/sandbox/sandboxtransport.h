#pragma once

#include "providers/transport.h"

#include <QList>

#include <functional>

namespace Db {
class Connection;
}

namespace Providers {

// The sandbox provider: every message is stored, as composed, in the table sandbox_messages
// instead of being sent, so a team can try templates, queues and workers without a real provider.
// The messages given to send() in one turn of the event loop are stored with one statement.
// The connection is borrowed from the owner (it belongs to this object's thread); the accessor
// returns nullptr while the database is away, and the sends then fail as transient.
class SandboxTransport final : public Transport
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SandboxTransport)

public:
    SandboxTransport(std::function<Db::Connection *()> connection, qint64 providerId,
                     QObject *parent = nullptr);

    Ticket send(const OutgoingMessage &message) override;
    Diagnostics *createDiagnostics(QObject *parent = nullptr) const override;
    int pendingCount() const override { return int(m_pending.size()); }

    // The queued message a send belongs to, stored with it (0: none). Call before send().
    void setQueueMessageId(qint64 id) { m_nextQueueMessageId = id; }

private:
    void flush();

    struct Pending
    {
        Ticket ticket;
        OutgoingMessage message;
        qint64 queueMessageId;
    };
    std::function<Db::Connection *()> m_connection;
    qint64 m_providerId;
    QList<Pending> m_pending;
    Ticket m_nextTicket = 1;
    qint64 m_nextQueueMessageId = 0;
    bool m_flushScheduled = false;
};

} // namespace Providers
