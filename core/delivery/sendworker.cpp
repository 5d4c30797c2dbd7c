#include "sendworker.h"

#include "common/logging.h"
#include "db/connection.h"
#include "events/webhooksecretrepository.h"
#include "messagebuilder.h"
#include "mime/message.h"
#include "providers/providerrepository.h"
#include "providers/sandbox/sandboxtransport.h"
#include "providerset.h"
#include "queue/queuerepository.h"
#include "tracking/tracking.h"

#include <QCoreApplication>
#include <QHostInfo>
#include <QSocketNotifier>
#include <QTimer>

namespace Delivery {

namespace {

constexpr int tickMs = 200;
constexpr int reconnectMs = 1000;
constexpr int heartbeatMs = 5000;
const QString queueChannel = QString::fromLatin1(Queue::notifyChannel);
const QString providersChannel = QStringLiteral("postdesk_providers");

} // namespace

SendWorker::SendWorker(WorkerSettings settings, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
{ }

SendWorker::~SendWorker()
{
    // Transports are children of this object; the set only points at them.
    m_providers.reset();
}

Db::Connection *SendWorker::connection()
{
    return m_connection ? m_connection.get() : nullptr;
}

void SendWorker::start()
{
    if (!m_settings.hostKey && m_settings.hostKeyLoader)
        m_settings.hostKey = m_settings.hostKeyLoader();
    m_builder = std::make_unique<MessageBuilder>();
    m_providers = std::make_unique<ProviderSet>(
            this, m_settings.hostKey, [this] { return connection(); },
            [this](Providers::Transport *transport) {
                connect(transport, &Providers::Transport::sent, this, &SendWorker::handleSent);
            });
    m_tick = new QTimer(this);
    connect(m_tick, &QTimer::timeout, this, &SendWorker::handleTick);
    m_tick->start(tickMs);
    m_fillTimer = new QTimer(this);
    m_fillTimer->setSingleShot(true);
    connect(m_fillTimer, &QTimer::timeout, this, &SendWorker::fill);
    m_settleTimer = new QTimer(this);
    m_settleTimer->setSingleShot(true);
    connect(m_settleTimer, &QTimer::timeout, this, &SendWorker::settle);
    m_sinceLeaseExtension.start();
    m_sinceHeartbeat.start();
    m_sinceRefresh.start();
    m_sinceReconnect.start();
    m_sincePoll.start();
    if (ensureConnected())
        fill();
}

bool SendWorker::ensureConnected()
{
    if (m_connection)
        return true;
    auto opened = Db::Connection::open(m_settings.database, QStringLiteral("postdesk worker"));
    if (!opened) {
        if (m_linkUp || !m_sinceFailureLog.isValid() || m_sinceFailureLog.elapsed() > 30'000) {
            qCWarning(lcQueue).noquote() << m_settings.workerId
                                         << "cannot reach the database:" << opened.error().message;
            m_sinceFailureLog.start();
        }
        if (m_linkUp) {
            m_linkUp = false;
            Q_EMIT databaseLinkChanged(false, opened.error().message);
        }
        return false;
    }
    m_connection = std::move(*opened);
    for (const QString &channel : {queueChannel, providersChannel}) {
        if (auto listening = m_connection->listen(channel); !listening) {
            qCWarning(lcQueue).noquote() << "LISTEN failed:" << listening.error().message;
            m_connection.reset();
            return false;
        }
    }
    m_notifier = new QSocketNotifier(m_connection->socketDescriptor(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &SendWorker::handleNotification);
    if (!m_linkUp) {
        m_linkUp = true;
        qCInfo(lcQueue).noquote() << m_settings.workerId << "connected to the database";
        Q_EMIT databaseLinkChanged(true, {});
    }
    if (auto refreshed = m_providers->refresh(); !refreshed)
        qCWarning(lcQueue).noquote() << "providers:" << refreshed.error().message;
    refreshTracking();
    m_sinceRefresh.restart();
    heartbeat();
    settle(); // outcomes that waited for the database
    return m_connection != nullptr;
}

void SendWorker::handleDatabaseError(const Common::Error &error)
{
    if (m_connection && m_connection->isAlive()) {
        qCWarning(lcQueue).noquote() << m_settings.workerId << error.toString();
        return;
    }
    qCWarning(lcQueue).noquote() << m_settings.workerId << "lost the database:" << error.message;
    delete m_notifier;
    m_notifier = nullptr;
    m_connection.reset();
    if (m_linkUp) {
        m_linkUp = false;
        Q_EMIT databaseLinkChanged(false, error.message);
    }
}

void SendWorker::handleNotification()
{
    if (!m_connection)
        return;
    const auto notifications = m_connection->takeNotifications();
    if (!m_connection->isAlive()) {
        handleDatabaseError(Common::Error{QStringLiteral("db.unreachable"),
                                          QStringLiteral("the server closed the connection"),
                                          {},
                                          Common::Retry::Transient});
        return;
    }
    bool work = false;
    for (const auto &notification : notifications) {
        if (notification.channel == providersChannel) {
            if (auto refreshed = m_providers->refresh(); !refreshed)
                handleDatabaseError(refreshed.error());
            m_sinceRefresh.restart();
            work = true;
        } else {
            work = true;
        }
    }
    if (work)
        scheduleFill();
}

void SendWorker::handleTick()
{
    if (!m_connection) {
        if (m_sinceReconnect.elapsed() < reconnectMs)
            return;
        m_sinceReconnect.restart();
        if (!ensureConnected())
            return;
    }
    // Completions wait for a claim that is already on its way: it settles them in its round trip.
    if (!m_failures.isEmpty() || (!m_completions.isEmpty() && !m_fillTimer->isActive()))
        settle();
    if (!m_connection)
        return;
    if (m_sinceRefresh.elapsed() >= m_settings.providerRefreshMs) {
        m_sinceRefresh.restart();
        if (auto refreshed = m_providers->refresh(); !refreshed) {
            handleDatabaseError(refreshed.error());
            return;
        }
        refreshTracking();
    }
    if (!m_waiting.isEmpty())
        dispatchAll();
    if (m_sinceLeaseExtension.elapsed() >= m_settings.leaseSeconds * 1000 / 3) {
        m_sinceLeaseExtension.restart();
        extendLeases();
    }
    if (m_sinceHeartbeat.elapsed() >= heartbeatMs) {
        m_sinceHeartbeat.restart();
        heartbeat();
    }
    // The safety net: scheduled messages come due, and notifications may have been missed.
    if (!m_stopping && (m_moreDue || m_sincePoll.elapsed() >= m_settings.pollIntervalMs))
        fill();
}

void SendWorker::refreshTracking()
{
    if (!m_connection)
        return;
    auto queues = m_connection->exec(QStringLiteral("SELECT name FROM queues WHERE tracking"));
    if (!queues) {
        handleDatabaseError(queues.error());
        return;
    }
    m_trackedQueues.clear();
    for (int r = 0; r < queues->rowCount(); ++r)
        m_trackedQueues.insert(queues->text(r, 0));
    Events::WebhookSecretRepository settings(*m_connection);
    auto baseUrl = settings.trackingBaseUrl();
    const QString url = baseUrl ? *baseUrl : QString();
    if (url.isEmpty() || !m_settings.hostKey) {
        if (!url.isEmpty() && m_trackingBaseUrl != url)
            qCWarning(lcQueue) << "tracking is set up but this host has no worker key to open the "
                                  "tracking key: messages go out without tracking";
        m_trackingBaseUrl = url;
        m_trackingKey.clear();
        return;
    }
    if (m_trackingBaseUrl != url || m_trackingKey.isEmpty()) {
        auto key = settings.trackingKey(*m_settings.hostKey);
        if (!key) {
            qCWarning(lcQueue).noquote() << "tracking key:" << key.error().message;
            m_trackingKey.clear();
        } else {
            m_trackingKey = *key;
        }
    }
    m_trackingBaseUrl = url;
}

void SendWorker::decorate(Mime::Message &mime, const Queue::ClaimedMessage &message) const
{
    if (m_trackingKey.isEmpty() || m_trackingBaseUrl.isEmpty()
        || !m_trackedQueues.contains(message.queue))
        return;
    if (!mime.html().isEmpty())
        mime.setHtml(
                Tracking::rewriteHtml(mime.html(), message.id, m_trackingBaseUrl, m_trackingKey));
    mime.setListUnsubscribe(QUrl(),
                            QUrl(Tracking::unsubscribeUrl(message.id, m_trackingBaseUrl,
                                                          m_trackingKey)));
}

int SendWorker::claimSize(int room, int concurrency)
{
    const int quarter = std::max(1, concurrency / 4);
    return room / quarter * quarter;
}

void SendWorker::scheduleFill()
{
    if (!m_stopping && !m_fillTimer->isActive())
        m_fillTimer->start(0);
}

void SendWorker::fill()
{
    if (m_stopping || !ensureConnected())
        return;
    const int room = m_settings.concurrency - outstanding();
    // Claim in batches: wait until a quarter of the capacity is free, unless idle.
    if (room <= 0 || (outstanding() > 0 && room < std::max(1, m_settings.concurrency / 4)))
        return;
    bool usable = false;
    for (const ProviderEntry *entry : m_providers->ordered())
        usable = usable || entry->transport != nullptr;
    if (!usable)
        return; // nothing could send: leave the messages to workers that can

    m_sincePoll.restart();
    Queue::QueueRepository queue(*m_connection);
    // Expired leases (a crashed worker's messages) are reclaimed once a second, not per claim.
    const bool reclaim = !m_sinceReclaim.isValid() || m_sinceReclaim.elapsed() >= 1000;
    if (reclaim)
        m_sinceReclaim.restart();
    const auto reclaimMode = reclaim ? Queue::QueueRepository::Reclaim::First
                                     : Queue::QueueRepository::Reclaim::Skip;
    const int batch = std::max(1, claimSize(room, m_settings.concurrency));
    Common::Result<QList<Queue::ClaimedMessage>> claimed;
    if (m_completions.isEmpty()) {
        claimed = queue.claim(m_settings.workerId, batch, m_settings.leaseSeconds,
                              m_settings.queues, reclaimMode);
    } else {
        // The finished batch is settled in the same round trip that takes the next one.
        auto outcome = queue.completeAndClaim(m_completions, m_settings.workerId, batch,
                                              m_settings.leaseSeconds, m_settings.queues,
                                              reclaimMode);
        if (outcome.completed) {
            m_completions.clear();
            if (m_failures.isEmpty())
                m_settleTimer->stop();
            Q_EMIT settled(m_counters.sent, m_counters.failed);
        } else {
            handleDatabaseError(outcome.completed.error());
            if (!m_connection)
                return;
        }
        claimed = std::move(outcome.claimed);
    }
    if (!claimed) {
        handleDatabaseError(claimed.error());
        return;
    }
    m_moreDue = claimed->size() == batch;
    for (const auto &message : std::as_const(*claimed))
        m_waiting.append(Job{message, {}, {}, 0, false});
    if (!claimed->isEmpty())
        dispatchAll();
}

void SendWorker::dispatchAll()
{
    if (m_waiting.isEmpty() || !m_connection)
        return;
    QList<Queue::ClaimedMessage> messages;
    messages.reserve(m_waiting.size());
    for (const Job &job : std::as_const(m_waiting))
        messages.append(job.message);
    if (auto prepared = m_builder->prepare(*m_connection, messages); !prepared) {
        handleDatabaseError(prepared.error());
        return;
    }
    QHash<qint64, int> grants;
    QList<Job> still;
    QList<Job> jobs = std::exchange(m_waiting, {});
    m_roundSize = int(jobs.size());
    for (Job &job : jobs) {
        if (!m_connection || !dispatch(job, grants))
            still.append(job);
    }
    m_waiting = still + m_waiting;
    m_roundSize = 1;
    if (m_connection) {
        Providers::ProviderRepository providers(*m_connection);
        for (auto it = grants.cbegin(); it != grants.cend(); ++it) {
            if (it.value() > 0)
                providers.returnSends(it.key(), it.value());
        }
    }
}

bool SendWorker::dispatch(Job &job, QHash<qint64, int> &grants)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    Providers::ProviderRepository repository(*m_connection);
    bool limited = false;
    QStringList reasons;
    QDateTime earliestClose;
    for (ProviderEntry *entry : m_providers->ordered()) {
        const auto &record = entry->record;
        if (job.tried.contains(record.id))
            continue;
        if (!entry->transport) {
            reasons << QStringLiteral("%1 cannot be used here (%2)")
                               .arg(record.name, entry->unusable);
            continue;
        }
        if (!entry->transport->isHealthy()) {
            reasons << QStringLiteral("%1 refused the credentials").arg(record.name);
            continue;
        }
        if (entry->circuitOpen(now)) {
            reasons << QStringLiteral("%1 is down (%2)").arg(record.name, record.healthReason);
            if (!earliestClose.isValid() || record.circuitOpenUntil < earliestClose)
                earliestClose = record.circuitOpenUntil;
            continue;
        }
        if (entry->halfOpen(now)) {
            auto probe = repository.takeProbe(record.id);
            if (!probe) {
                handleDatabaseError(probe.error());
                return false;
            }
            if (!*probe) {
                // Another worker sends the probe; see its outcome at the next refresh.
                entry->record.circuitOpenUntil = now.addSecs(2);
                reasons << QStringLiteral("%1 is being probed").arg(record.name);
                continue;
            }
            entry->record.circuitOpenUntil = {};
            job.probe = true;
        }
        if (!record.limits.isEmpty()) {
            if (!grants.contains(record.id)) {
                // Ask once per round for as many as the round may send.
                const int wanted = std::max(1, m_roundSize);
                auto granted = repository.takeSends(record.id, wanted);
                if (!granted) {
                    handleDatabaseError(granted.error());
                    return false;
                }
                grants.insert(record.id, *granted);
            }
            int &left = grants[record.id];
            if (left <= 0) {
                limited = true;
                continue;
            }
            --left;
        }
        MessageBuilder::Options options;
        options.defaultSender = record.defaultSender();
        options.dkim = entry->dkim ? &*entry->dkim : nullptr;
        options.decorate = m_settings.decorate
                ? m_settings.decorate
                : [this](Mime::Message &mime, const Queue::ClaimedMessage &message) {
                      decorate(mime, message);
                  };
        auto outgoing = m_builder->build(job.message, options);
        if (!outgoing) {
            if (!record.limits.isEmpty())
                ++grants[record.id];
            failJob(job, outgoing.error().message, !outgoing.error().isTransient(), 0);
            return true;
        }
        if (auto *sandbox = qobject_cast<Providers::SandboxTransport *>(entry->transport))
            sandbox->setQueueMessageId(job.message.id);
        InFlight flight{job, record.id, outgoing->messageId, {}};
        flight.timer.start();
        const auto ticket = entry->transport->send(*outgoing);
        m_inFlight.insert({entry->transport, ticket}, flight);
        return true;
    }
    if (limited)
        return false; // within a limit: wait for the next window
    QString error = reasons.isEmpty()
            ? QStringLiteral("No provider is enabled")
            : QStringLiteral("No provider can send now: ") + reasons.join(QStringLiteral("; "));
    if (!job.lastError.isEmpty())
        error = job.lastError + QStringLiteral(" — ") + error;
    int retryAfter = job.retryAfterSeconds;
    if (earliestClose.isValid())
        retryAfter = std::max<int>(retryAfter, int(now.secsTo(earliestClose)) + 1);
    failJob(job, error, false, job.tried.isEmpty() ? 0 : job.tried.last(), retryAfter);
    return true;
}

void SendWorker::handleSent(Providers::Transport::Ticket ticket, const Providers::SendResult &result)
{
    const auto *transport = qobject_cast<const Providers::Transport *>(sender());
    auto found = m_inFlight.find({transport, ticket});
    if (found == m_inFlight.end())
        return;
    InFlight flight = *found;
    m_inFlight.erase(found);
    ProviderEntry *entry = m_providers->entry(flight.providerId);
    const qint64 providerId = flight.providerId;

    if (result.ok()) {
        Queue::Completion completion;
        completion.id = flight.job.message.id;
        completion.leaseToken = flight.job.message.leaseToken;
        completion.providerId = providerId;
        completion.providerMessageId = result.providerMessageId;
        completion.messageIdHeader = flight.messageId;
        completion.sendMs = int(flight.timer.elapsed());
        m_completions.append(completion);
        ++m_counters.sent;
        if (entry && m_connection
            && (entry->record.consecutiveFailures > 0 || entry->record.health != u"healthy"
                || flight.job.probe)) {
            Providers::ProviderRepository repository(*m_connection);
            if (auto ok = repository.recordSuccess(providerId); ok) {
                entry->record.consecutiveFailures = 0;
                entry->record.health = QStringLiteral("healthy");
                entry->record.circuitOpenUntil = {};
                qCInfo(lcQueue).noquote() << "provider" << entry->record.name << "is healthy again";
            }
        }
        scheduleSettle();
    } else if (!result.rejected.isEmpty()) {
        // The receiving side refused the recipient: not the provider's fault.
        const auto &rejection = result.rejected.first();
        failJob(flight.job, rejection.reply, rejection.retry == Common::Retry::Permanent,
                providerId);
    } else {
        const Common::Error error = result.error.value_or(Common::Error{});
        const bool providerFault = error.retry == Common::Retry::Transient
                || result.credentialsRefused || result.rateLimited;
        if (!providerFault) {
            failJob(flight.job, error.message, true, providerId);
        } else {
            const QString name = entry ? entry->record.name : QString::number(providerId);
            if (m_connection) {
                Providers::ProviderRepository repository(*m_connection);
                if (result.rateLimited) {
                    repository.recordDegraded(providerId,
                                              QStringLiteral("rate limited by the provider"));
                } else {
                    auto updated = repository.recordFailure(providerId, error.message,
                                                            m_settings.circuitThreshold);
                    if (updated)
                        m_providers->updateHealth(*updated);
                    else
                        handleDatabaseError(updated.error());
                }
            }
            Job job = flight.job;
            job.tried << providerId;
            job.lastError = QStringLiteral("%1: %2").arg(name, error.message);
            job.retryAfterSeconds = result.retryAfterSeconds.value_or(0);
            ++m_counters.failedOver;
            if (!m_connection) {
                failJob(job, job.lastError, false, providerId, job.retryAfterSeconds);
            } else {
                QHash<qint64, int> grants;
                if (!dispatch(job, grants))
                    m_waiting.append(job);
                Providers::ProviderRepository repository(*m_connection);
                for (auto it = grants.cbegin(); m_connection && it != grants.cend(); ++it) {
                    if (it.value() > 0)
                        repository.returnSends(it.key(), it.value());
                }
            }
        }
    }
    if (m_stopping && m_inFlight.isEmpty())
        QTimer::singleShot(0, this, &SendWorker::finishStop);
    else
        scheduleFill();
}

void SendWorker::failJob(const Job &job, const QString &error, bool permanent, qint64 providerId,
                         int retryAfterSeconds)
{
    Queue::Failure failure;
    failure.id = job.message.id;
    failure.leaseToken = job.message.leaseToken;
    failure.error = error.left(2000);
    failure.permanent = permanent;
    failure.providerId = providerId;
    failure.retryAfterSeconds = retryAfterSeconds;
    m_failures.append(failure);
    ++m_counters.failed;
    scheduleSettle();
}

void SendWorker::scheduleSettle()
{
    if (m_completions.size() + m_failures.size() >= 500) {
        settle();
        return;
    }
    if (!m_settleTimer->isActive())
        m_settleTimer->start(m_settings.settleIntervalMs);
}

void SendWorker::settle()
{
    if (!m_connection || (m_completions.isEmpty() && m_failures.isEmpty()))
        return;
    Queue::QueueRepository queue(*m_connection);
    if (!m_completions.isEmpty()) {
        auto done = queue.complete(m_completions);
        if (!done) {
            handleDatabaseError(done.error());
            return;
        }
        m_completions.clear();
    }
    if (!m_failures.isEmpty()) {
        auto done = queue.fail(m_failures);
        if (!done) {
            handleDatabaseError(done.error());
            return;
        }
        m_failures.clear();
    }
    Q_EMIT settled(m_counters.sent, m_counters.failed);
}

void SendWorker::extendLeases()
{
    QList<qint64> ids;
    for (const Job &job : std::as_const(m_waiting))
        ids << job.message.id;
    for (const InFlight &flight : std::as_const(m_inFlight))
        ids << flight.job.message.id;
    if (ids.isEmpty() || !m_connection)
        return;
    Queue::QueueRepository queue(*m_connection);
    if (auto extended = queue.extendLeases(ids, m_settings.workerId, m_settings.leaseSeconds);
        !extended)
        handleDatabaseError(extended.error());
}

void SendWorker::heartbeat()
{
    if (!m_connection)
        return;
    const QStringList parts = m_settings.workerId.split(u':');
    auto beat = m_connection->exec(
            QStringLiteral(
                    "INSERT INTO workers AS w (id, host, pid, program, queues, sent, failed) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7) "
                    "ON CONFLICT (id) DO UPDATE SET seen_at = now(), sent = excluded.sent, "
                    "failed = excluded.failed, stopped_at = $8"),
            {m_settings.workerId, QHostInfo::localHostName(), QCoreApplication::applicationPid(),
             QCoreApplication::applicationName(), m_settings.queues, m_counters.sent,
             m_counters.failed, m_stopped ? QVariant(QDateTime::currentDateTimeUtc()) : QVariant()});
    if (!beat)
        handleDatabaseError(beat.error());
}

void SendWorker::stop(int graceMs)
{
    if (m_stopping)
        return;
    m_stopping = true;
    if (m_tick)
        m_tick->stop();
    // Messages still waiting for a provider are given back at once (finishStop releases them).
    m_waiting.clear();
    if (m_inFlight.isEmpty()) {
        finishStop();
        return;
    }
    qCInfo(lcQueue).noquote() << m_settings.workerId << "finishing" << m_inFlight.size()
                              << "messages in flight";
    m_graceTimer = new QTimer(this);
    m_graceTimer->setSingleShot(true);
    connect(m_graceTimer, &QTimer::timeout, this, &SendWorker::finishStop);
    m_graceTimer->start(graceMs);
}

void SendWorker::finishStop()
{
    if (m_stopped)
        return;
    m_stopped = true;
    if (m_graceTimer)
        m_graceTimer->stop();
    if (!m_connection)
        ensureConnected();
    settle();
    if (m_connection) {
        Queue::QueueRepository queue(*m_connection);
        auto released = queue.releaseLeases(m_settings.workerId);
        if (released && *released > 0)
            qCInfo(lcQueue).noquote()
                    << m_settings.workerId << "gave back" << *released << "leases";
        heartbeat();
    }
    m_inFlight.clear();
    for (QObject *child : children()) {
        if (auto *transport = qobject_cast<Providers::Transport *>(child))
            transport->closeIdle();
    }
    Q_EMIT stopped();
}

} // namespace Delivery
