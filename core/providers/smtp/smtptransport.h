#pragma once

#include "providers/providerurl.h"
#include "providers/transport.h"

namespace Providers {

class SmtpPool;

// The Transport for an SMTP server: messages go through a pool of SmtpClient connections.
class SmtpTransport final : public Transport
{
    Q_OBJECT
public:
    explicit SmtpTransport(const SmtpSettings &settings, QObject *parent = nullptr);
    ~SmtpTransport() override;

    Ticket send(const OutgoingMessage &message) override;
    Diagnostics *createDiagnostics(QObject *parent = nullptr) const override;
    int pendingCount() const override;
    void closeIdle() override;

    const SmtpSettings &settings() const { return m_settings; }
    int connectionCount() const;

private:
    Q_DISABLE_COPY_MOVE(SmtpTransport)
    SmtpSettings m_settings;
    SmtpPool *m_pool;
    Ticket m_nextTicket = 1;
};

} // namespace Providers
