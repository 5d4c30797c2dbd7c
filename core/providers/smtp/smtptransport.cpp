#include "smtptransport.h"
#include "smtpdiagnostics.h"
#include "smtppool.h"

namespace Providers {

SmtpTransport::SmtpTransport(const SmtpSettings &settings, QObject *parent)
    : Transport(parent)
    , m_settings(settings)
    , m_pool(new SmtpPool(settings, this))
{
    connect(m_pool, &SmtpPool::messageFinished, this, &Transport::sent);
    connect(m_pool, &SmtpPool::drained, this, &Transport::drained);
}

SmtpTransport::~SmtpTransport() = default;

Transport::Ticket SmtpTransport::send(const OutgoingMessage &message)
{
    const Ticket ticket = m_nextTicket++;
    m_pool->enqueue(ticket, message);
    return ticket;
}

Diagnostics *SmtpTransport::createDiagnostics(QObject *parent) const
{
    return new SmtpDiagnostics(m_settings, parent);
}

int SmtpTransport::pendingCount() const
{
    return m_pool->pendingCount();
}

void SmtpTransport::closeIdle()
{
    m_pool->closeIdle();
}

int SmtpTransport::connectionCount() const
{
    return m_pool->connectionCount();
}

} // namespace Providers
