#include "smtpdiagnostics.h"
#include "smtpclient.h"

namespace Providers {

SmtpDiagnostics::SmtpDiagnostics(const SmtpSettings &settings, QObject *parent)
    : Diagnostics(parent)
    , m_settings(settings)
{ }

SmtpDiagnostics::~SmtpDiagnostics() = default;

void SmtpDiagnostics::start()
{
    if (m_client)
        return;
    m_elapsed.start();
    m_client = new SmtpClient(m_settings, this);
    connect(m_client, &SmtpClient::stepStarted, this, &Diagnostics::stepStarted);
    connect(m_client, &SmtpClient::stepFinished, this,
            [this](const DiagnosticStep &step) { addStep(step); });
    connect(m_client, &SmtpClient::ready, this, [this] {
        // Everything checked; leave politely without a transaction.
        m_client->quit();
        finish(m_elapsed.elapsed());
    });
    connect(m_client, &SmtpClient::setupFailed, this,
            [this](const Common::Error &) { finish(m_elapsed.elapsed()); });
    m_client->open();
}

void SmtpDiagnostics::cancel()
{
    if (isFinished() || !m_client)
        return;
    m_client->disconnect(this);
    m_client->abort();
    DiagnosticStep step;
    step.id = QStringLiteral("cancelled");
    step.title = tr("Cancelled");
    step.detail = tr("The check was cancelled");
    addStep(step);
    finish(m_elapsed.elapsed());
}

} // namespace Providers
