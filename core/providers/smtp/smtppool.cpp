#include "smtppool.h"
#include "smtpclient.h"

#include "common/logging.h"

#include <QTimer>

namespace Providers {

SmtpPool::SmtpPool(const SmtpSettings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
{
    m_settings.maxConnections = std::max(1, m_settings.maxConnections);
    m_settings.maxMessagesPerConnection = std::max(1, m_settings.maxMessagesPerConnection);
}

SmtpPool::~SmtpPool()
{
    for (SmtpClient *client : std::as_const(m_clients))
        client->disconnect(this);
}

void SmtpPool::enqueue(quint64 ticket, const OutgoingMessage &message)
{
    m_queue.push_back({ticket, message, 0});
    dispatch();
}

void SmtpPool::closeIdle()
{
    const QList<SmtpClient *> clients = m_clients;
    for (SmtpClient *client : clients) {
        if (client->isReady() && !m_inFlight.contains(client))
            client->quit();
    }
}

void SmtpPool::dispatch()
{
    // Idle connections first.
    for (SmtpClient *client : std::as_const(m_clients)) {
        if (m_queue.empty())
            break;
        if (client->isReady() && !m_inFlight.contains(client))
            assign(client);
    }
    // Then open as many as the waiting messages need, within the limit.
    int opening = 0;
    for (SmtpClient *client : std::as_const(m_clients)) {
        const auto state = client->state();
        if (state != SmtpClient::State::Ready && state != SmtpClient::State::Sending
            && state != SmtpClient::State::Quitting && state != SmtpClient::State::Closed)
            ++opening;
    }
    // After a failed connection, wait for the others to finish instead of hammering the server.
    if (m_lastSetupError && !m_clients.isEmpty())
        return;
    while (qsizetype(m_queue.size()) > opening && m_clients.size() < m_settings.maxConnections) {
        startConnection();
        ++opening;
    }
}

void SmtpPool::startConnection()
{
    auto *client = new SmtpClient(m_settings, this);
    m_clients.append(client);
    connect(client, &SmtpClient::ready, this, [this, client] { handleReady(client); });
    connect(client, &SmtpClient::setupFailed, this,
            [this, client](const Common::Error &error) { handleSetupFailed(client, error); });
    connect(client, &SmtpClient::messageSent, this,
            [this, client](const SendResult &result) { handleMessageSent(client, result); });
    connect(client, &SmtpClient::closed, this, [this, client] { handleClosed(client); });
    auto *idle = new QTimer(client);
    idle->setSingleShot(true);
    idle->setInterval(m_settings.idleTimeoutMs);
    connect(idle, &QTimer::timeout, client, &SmtpClient::quit);
    m_idleTimers.insert(client, idle);
    client->open();
}

void SmtpPool::assign(SmtpClient *client)
{
    Job job = std::move(m_queue.front());
    m_queue.pop_front();
    ++job.attempts;
    m_idleTimers.value(client)->stop();
    const OutgoingMessage message = job.message;
    m_inFlight.insert(client, std::move(job));
    client->send(message);
}

void SmtpPool::handleReady(SmtpClient *client)
{
    m_lastSetupError.reset();
    if (m_queue.empty())
        makeIdle(client);
    else
        assign(client);
}

void SmtpPool::handleSetupFailed(SmtpClient *client, const Common::Error &error)
{
    qCDebug(lcSmtp).noquote() << "connection failed:" << error.toString();
    m_lastSetupError = error;
    m_setupFailures.insert(client);
}

void SmtpPool::handleMessageSent(SmtpClient *client, const SendResult &result)
{
    auto it = m_inFlight.find(client);
    if (it == m_inFlight.end())
        return;
    Job job = std::move(it.value());
    m_inFlight.erase(it);

    // A reused connection the server had already dropped: try once more on a fresh one.
    if (result.error && client->lastSendFailedUnanswered() && client->messagesSent() > 1
        && job.attempts < 2) {
        qCDebug(lcSmtp) << "retrying on a new connection:" << result.error->toString();
        m_queue.push_front(std::move(job));
    } else {
        finishJob(job, result);
    }

    if (client->isReady()) {
        if (client->messagesSent() >= m_settings.maxMessagesPerConnection) {
            client->quit();
            dispatch();
        } else if (!m_queue.empty()) {
            assign(client);
        } else {
            makeIdle(client);
        }
    }
}

void SmtpPool::handleClosed(SmtpClient *client)
{
    m_clients.removeOne(client);
    m_idleTimers.remove(client);
    if (m_inFlight.contains(client)) {
        // The client reports a failed transaction before it closes; this is a safety net.
        const Job job = m_inFlight.take(client);
        SendResult result;
        result.messageId = job.message.messageId;
        result.error = Common::makeError(QStringLiteral("smtp.disconnected"),
                                         tr("The connection closed while sending"), {},
                                         Common::Retry::Transient);
        finishJob(job, result);
    }
    client->disconnect(this);
    client->deleteLater();
    const bool setupFailed = m_setupFailures.remove(client);
    if (m_clients.isEmpty() && !setupFailed)
        m_lastSetupError.reset(); // a connection that worked closed: start afresh

    if (!m_queue.empty() && setupFailed && m_lastSetupError && m_clients.isEmpty()) {
        // No connection can be made right now: report it for every waiting message, and let
        // the caller's retry policy decide when to try again.
        const Common::Error error = *m_lastSetupError;
        m_lastSetupError.reset();
        std::deque<Job> failed;
        failed.swap(m_queue);
        while (!failed.empty()) {
            const Job job = std::move(failed.front());
            failed.pop_front();
            SendResult result;
            result.messageId = job.message.messageId;
            result.error = error;
            Q_EMIT messageFinished(job.ticket, result);
        }
        if (m_queue.empty() && m_inFlight.isEmpty())
            Q_EMIT drained();
        return;
    }
    dispatch();
}

void SmtpPool::makeIdle(SmtpClient *client)
{
    if (QTimer *timer = m_idleTimers.value(client))
        timer->start();
}

void SmtpPool::finishJob(const Job &job, const SendResult &result)
{
    Q_EMIT messageFinished(job.ticket, result);
    if (m_queue.empty() && m_inFlight.isEmpty())
        Q_EMIT drained();
}

} // namespace Providers
