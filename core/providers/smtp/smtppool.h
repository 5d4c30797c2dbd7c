#pragma once

#include "providers/providerurl.h"
#include "providers/transport.h"

#include <QHash>
#include <QObject>
#include <QSet>

#include <deque>

class QTimer;

namespace Providers {

class SmtpClient;

// Connections to one SMTP server, shared by the messages queued on it: at most
// maxConnections at a time, each used for at most maxMessagesPerConnection messages and closed
// after idleTimeoutMs without work.
class SmtpPool final : public QObject
{
    Q_OBJECT
public:
    explicit SmtpPool(const SmtpSettings &settings, QObject *parent = nullptr);
    ~SmtpPool() override;

    void enqueue(quint64 ticket, const OutgoingMessage &message);
    int pendingCount() const { return int(m_queue.size() + m_inFlight.size()); }
    int connectionCount() const { return int(m_clients.size()); }
    void closeIdle();

Q_SIGNALS:
    void messageFinished(quint64 ticket, const Providers::SendResult &result);
    void drained();

private:
    struct Job
    {
        quint64 ticket = 0;
        OutgoingMessage message;
        int attempts = 0;
    };

    void dispatch();
    void startConnection();
    void assign(SmtpClient *client);
    void handleReady(SmtpClient *client);
    void handleSetupFailed(SmtpClient *client, const Common::Error &error);
    void handleMessageSent(SmtpClient *client, const SendResult &result);
    void handleClosed(SmtpClient *client);
    void makeIdle(SmtpClient *client);
    void finishJob(const Job &job, const SendResult &result);

    SmtpSettings m_settings;
    std::deque<Job> m_queue;
    QList<SmtpClient *> m_clients;
    QHash<SmtpClient *, Job> m_inFlight;
    QHash<SmtpClient *, QTimer *> m_idleTimers;
    // The last connection that could not be set up; while set, no new connections are opened
    // until the others finish.
    std::optional<Common::Error> m_lastSetupError;
    QSet<SmtpClient *> m_setupFailures;
};

} // namespace Providers
