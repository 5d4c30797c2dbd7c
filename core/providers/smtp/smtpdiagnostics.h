#pragma once

#include "providers/diagnostics.h"
#include "providers/providerurl.h"

#include <QElapsedTimer>

namespace Providers {

class SmtpClient;

// Checks an SMTP server step by step (DNS, TCP connect, greeting, EHLO, TLS, AUTH) and says QUIT
// before any mail transaction: nothing is sent.
class SmtpDiagnostics final : public Diagnostics
{
    Q_OBJECT
public:
    explicit SmtpDiagnostics(const SmtpSettings &settings, QObject *parent = nullptr);
    ~SmtpDiagnostics() override;

    void start() override;
    void cancel() override;

private:
    Q_DISABLE_COPY_MOVE(SmtpDiagnostics)
    SmtpSettings m_settings;
    SmtpClient *m_client = nullptr;
    QElapsedTimer m_elapsed;
};

} // namespace Providers
