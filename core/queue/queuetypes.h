#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <optional>

// Value types of the send queue: what goes in (NewMessage), what a worker gets (ClaimedMessage),
// what it reports back (Completion, Failure) and how bulk operations select messages (Filter).
// All are plain values, safe to pass between threads in queued signals.
namespace Queue {

// The channel workers LISTEN on; a statement that inserts pending messages notifies it once, with
// the comma-separated ids of the queues that received work.
inline constexpr const char *notifyChannel = "postdesk_queue";

enum class State { Pending, Processing, Sent, Dead, Cancelled, Suppressed };

QString stateName(State state);
std::optional<State> stateFromName(const QString &name);

// One message to one recipient. Either templateVersionId (with data for the placeholders) or
// pre-rendered content (subject and at least one body) is given.
struct NewMessage
{
    QString queue;          // queue name: transactional, marketing, system, bulk, ...
    QString recipient;      // the address
    QString sender;         // empty: the provider's or the organisation's default
    int priority = 0;       // 1 (highest) .. 5; 0: the queue's priority class
    QDateTime scheduledAt;  // invalid: now
    int maxAttempts = 0;    // 0: the queue's max_attempts
    QString idempotencyKey; // a repeated enqueue with the same key is a no-op
    qint64 templateVersionId = 0;
    QJsonObject data;
    QString subject;
    QString htmlBody;
    QString textBody;
};

struct EnqueueResult
{
    qint64 id = 0;
    bool created = false; // false: the idempotency key was already there (id is that message)
};

struct BatchResult
{
    qint64 inserted = 0;
    qint64 skipped = 0; // already enqueued under the same idempotency key
};

// A message handed to a worker under a lease. Completing or failing it needs id and leaseToken.
struct ClaimedMessage
{
    qint64 id = 0;
    QString leaseToken;
    QDateTime leaseExpiresAt;
    QString queue;
    int priority = 3;
    int attempt = 1; // this attempt's number, 1 for the first
    int maxAttempts = 1;
    QString recipient;
    QString sender;
    qint64 templateVersionId = 0;
    QJsonObject data;
    QByteArray dataJson; // the same as written, keys in their order (templates iterate in it)
    QString subject;
    QString htmlBody;
    QString textBody;
    bool textBodyIsNull = true;
    QString idempotencyKey;
    QDateTime createdAt;
};

struct Completion
{
    qint64 id = 0;
    QString leaseToken;
    qint64 providerId = 0; // 0: none recorded
    QString providerMessageId;
    QString messageIdHeader; // our Message-ID, without angle brackets
    int sendMs = -1;         // time the provider took, -1: not measured
};

struct Failure
{
    qint64 id = 0;
    QString leaseToken;
    QString error;          // what the provider said, for a person
    bool permanent = false; // Common::Retry::Permanent: dead-letter at once
    qint64 providerId = 0;
    int retryAfterSeconds = 0; // a provider's Retry-After; 0: backoff only
};

// What complete() or fail() did: accepted ids, and refused ones (the lease was lost: expired and
// taken over, released, or the message was cancelled meanwhile).
struct SettleResult
{
    QList<qint64> accepted;
    QList<qint64> refused;
    qint64 deadLettered = 0; // fail() only: how many went to the dead-letter state
};

// Selects messages for bulk operations. Empty members do not filter.
struct Filter
{
    QStringList queues;
    QList<State> states;
    QStringList providers;  // provider names
    QString errorClass;     // "transient" or "permanent"
    QDateTime createdFrom;  // inclusive
    QDateTime createdUntil; // exclusive
    QList<qint64> ids;
};

struct QueueInfo
{
    int id = 0;
    QString name;
    int priorityClass = 3;
    int concurrencyShare = 25;
    bool paused = false;
    int maxAttempts = 8;
    int retryBaseSeconds = 30;
    int retryCapSeconds = 21600;
};

struct QueueStats
{
    QString queue;
    bool paused = false;
    qint64 pending = 0;
    qint64 due = 0; // pending and scheduled_at <= now
    qint64 processing = 0;
    qint64 sent = 0;
    qint64 dead = 0;
    qint64 cancelled = 0;
    qint64 suppressed = 0;
    QDateTime oldestDue; // invalid when nothing is due
};

} // namespace Queue

Q_DECLARE_METATYPE(Queue::ClaimedMessage)
Q_DECLARE_METATYPE(Queue::Completion)
Q_DECLARE_METATYPE(Queue::Failure)
Q_DECLARE_METATYPE(Queue::Filter)
Q_DECLARE_METATYPE(Queue::QueueStats)
