#pragma once

#include "db/connectioninfo.h"
#include "providers/transport.h"
#include "queue/queuetypes.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>

#include <memory>

class QSocketNotifier;
class QTimer;

namespace Db {
class Connection;
}

namespace Mime {
class Message;
}

namespace Secrets {
class KeyPair;
}

namespace Delivery {

class MessageBuilder;
class ProviderSet;
struct ProviderEntry;

struct WorkerSettings
{
    Db::ConnectionInfo database;
    QString workerId;          // unique per thread: host:pid:n
    QStringList queues;        // empty: every queue
    int concurrency = 32;      // messages claimed and not yet settled, at most
    int leaseSeconds = 120;    // extended while a message waits for its turn
    int pollIntervalMs = 1000; // the safety net behind LISTEN/NOTIFY
    int providerRefreshMs = 2000;
    int settleIntervalMs = 20; // completions and failures are written in batches this often
    int circuitThreshold = 3;  // consecutive provider failures that open its circuit
    std::shared_ptr<const Secrets::KeyPair> hostKey; // opens provider secrets; may be null
    // Or, when set, loads it on the worker's thread at start (the keyring waits for D-Bus, which
    // must not happen on a GUI thread).
    std::function<std::shared_ptr<const Secrets::KeyPair>()> hostKeyLoader;
    // Tracking: called on each message before it is composed (links, pixel, List-Unsubscribe).
    std::function<void(Mime::Message &, const Queue::ClaimedMessage &)> decorate;
};

struct WorkerCounters
{
    qint64 sent = 0;
    qint64 failed = 0;     // attempts that failed (retried later or dead-lettered)
    qint64 failedOver = 0; // sends moved to another provider after a provider failure
};

// A send worker: lives on a thread of its own with its own database connection. It claims
// batches of due messages (FOR UPDATE SKIP LOCKED, under a lease), renders and composes them,
// picks a provider for each (priority among the enabled, healthy and within their shared rate
// limits; on a provider failure the message fails over to the next one), sends them through the
// providers' asynchronous transports, and settles the outcomes in batches. It wakes on
// LISTEN/NOTIFY, polls as a safety net, and rides out database restarts: outcomes wait in memory
// until the connection is back.
//
// Create it, moveToThread(), then invoke start() on its thread. stop() finishes what is in flight
// (up to graceMs), gives back the leases of what is left, and emits stopped().
class SendWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SendWorker)

public:
    explicit SendWorker(WorkerSettings settings, QObject *parent = nullptr);
    ~SendWorker() override;

    WorkerCounters counters() const { return m_counters; }

    // How many messages to claim with room for that many: a whole number of quarters of the
    // concurrency (all of it when it is under four). The claim is prepared once per batch size,
    // the size being part of its plan, so a worker keeps a handful of statements however its
    // messages finish.
    static int claimSize(int room, int concurrency);

public Q_SLOTS:
    void start();
    void stop(int graceMs = 30'000);

Q_SIGNALS:
    void databaseLinkChanged(bool up, const QString &reason);
    void settled(qint64 sent, qint64 failed);
    void stopped();

private:
    struct Job
    {
        Queue::ClaimedMessage message;
        QList<qint64> tried; // providers that failed this attempt
        QString lastError;
        int retryAfterSeconds = 0;
        bool probe = false;
    };
    struct InFlight
    {
        Job job;
        qint64 providerId = 0;
        QString messageId;
        QElapsedTimer timer;
    };

    Db::Connection *connection();
    bool ensureConnected();
    void handleDatabaseError(const Common::Error &error);
    void handleNotification();
    void handleTick();
    void handleSent(Providers::Transport::Ticket ticket, const Providers::SendResult &result);
    // Reloads which queues track opens and clicks, the tracking base URL and key.
    void refreshTracking();
    void decorate(Mime::Message &mime, const Queue::ClaimedMessage &message) const;
    void scheduleFill();
    void fill();
    void dispatchAll();
    // Sends the job through the first provider that can take it; false when none can now
    // because of rate limits (the job waits); fails the job when no provider can take it at all.
    bool dispatch(Job &job, QHash<qint64, int> &grants);
    void failJob(const Job &job, const QString &error, bool permanent, qint64 providerId,
                 int retryAfterSeconds = 0);
    void scheduleSettle();
    void settle();
    void extendLeases();
    void heartbeat();
    void finishStop();
    int outstanding() const { return int(m_inFlight.size() + m_waiting.size()); }

    WorkerSettings m_settings;
    std::unique_ptr<Db::Connection> m_connection;
    std::unique_ptr<ProviderSet> m_providers;
    std::unique_ptr<MessageBuilder> m_builder;
    QSocketNotifier *m_notifier = nullptr;
    QTimer *m_tick = nullptr;
    QTimer *m_fillTimer = nullptr;
    QTimer *m_settleTimer = nullptr;
    QElapsedTimer m_sinceRefresh;
    QElapsedTimer m_sinceLeaseExtension;
    QElapsedTimer m_sinceHeartbeat;
    QElapsedTimer m_sinceReconnect;
    QElapsedTimer m_sincePoll;
    QElapsedTimer m_sinceFailureLog;
    QElapsedTimer m_sinceReclaim;
    QList<Job> m_waiting;
    QHash<QPair<const Providers::Transport *, Providers::Transport::Ticket>, InFlight> m_inFlight;
    QList<Queue::Completion> m_completions;
    QList<Queue::Failure> m_failures;
    WorkerCounters m_counters;
    bool m_stopping = false;
    bool m_stopped = false;
    bool m_linkUp = false;
    QSet<QString> m_trackedQueues;
    QString m_trackingBaseUrl;
    QByteArray m_trackingKey;
    int m_roundSize = 1;    // jobs in the dispatch round under way
    bool m_moreDue = false; // the last claim was full: claim again without waiting
    QTimer *m_graceTimer = nullptr;
};

} // namespace Delivery
