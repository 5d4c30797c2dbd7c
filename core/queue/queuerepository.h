#pragma once

#include "common/result.h"
#include "db/connection.h"
#include "queuetypes.h"

#include <QList>
#include <QString>

namespace Queue {

// The send queue in PostgreSQL: enqueue, claim under a lease, complete and fail (with backoff and
// dead-lettering), bulk operations by filter, pause and resume, statistics.
//
// Every operation is one statement or one short transaction on the connection it was given; the
// connection belongs to the calling thread (a worker, the daemon, the GUI's database worker).
// Batch operations pass arrays or COPY, never one statement per message.
class QueueRepository
{
public:
    explicit QueueRepository(Db::Connection &connection);

    // --- enqueue
    Common::Result<EnqueueResult> enqueue(const NewMessage &message);
    // COPY, then one INSERT: a batch of 100k takes seconds. Runs in its own transaction (call it
    // outside one). All or nothing: an unknown queue or an invalid message fails the whole batch.
    Common::Result<BatchResult> enqueueBatch(const QList<NewMessage> &messages);

    // --- the worker's side
    // Claims up to batchSize due messages of running queues (all, or those named) in priority and
    // schedule order, with FOR UPDATE SKIP LOCKED so that concurrent claimers never wait for or
    // share a message. Each claimed message gets a lease of leaseSeconds and a fresh lease token;
    // its attempt count goes up. Messages to suppressed addresses are marked 'suppressed' instead
    // and never handed out. Expired leases are reclaimed first unless reclaim is Reclaim::Skip (a
    // worker that calls reclaimExpired() on a timer of its own).
    enum class Reclaim { First, Skip };
    Common::Result<QList<ClaimedMessage>> claim(const QString &workerId, int batchSize,
                                                int leaseSeconds, const QStringList &queues = {},
                                                Reclaim reclaim = Reclaim::First);
    // Marks messages sent. Only the current lease holder (matching token) succeeds.
    Common::Result<SettleResult> complete(const QList<Completion> &completions);
    // complete() and then claim() (reclaiming expired leases first unless told to skip) in one
    // round trip to the server; each is its own transaction, and one may fail while the other
    // succeeds. A worker settles the batch it finished and takes the next with it.
    struct CompletedAndClaimed
    {
        Common::Result<SettleResult> completed;
        Common::Result<QList<ClaimedMessage>> claimed;
    };
    CompletedAndClaimed completeAndClaim(const QList<Completion> &completions,
                                         const QString &workerId, int batchSize, int leaseSeconds,
                                         const QStringList &queues = {},
                                         Reclaim reclaim = Reclaim::First);
    // Records failures: a transient one goes back to pending after exponential backoff with jitter
    // (the queue's retry base and cap); a permanent one, or the last attempt, is dead-lettered.
    Common::Result<SettleResult> fail(const QList<Failure> &failures);
    // Extends the leases of messages still being worked on. Returns how many were extended.
    Common::Result<qint64> extendLeases(const QList<qint64> &ids, const QString &workerId,
                                        int leaseSeconds);
    // Gives back every lease a worker holds (at an orderly shutdown) without using an attempt.
    Common::Result<qint64> releaseLeases(const QString &workerId);
    // Returns messages whose lease expired (a crashed or stalled worker) to pending, or to the
    // dead-letter state when that was their last attempt. claim() calls it too.
    Common::Result<qint64> reclaimExpired();

    // --- queues
    Common::Result<QList<QueueInfo>> queues();
    Common::Status pause(const QString &queue);
    Common::Status resume(const QString &queue);
    Common::Result<QList<QueueStats>> stats();

    // --- bulk operations by filter; each returns how many messages it changed
    // Dead (or pending) messages: pending now, attempts counted afresh.
    Common::Result<qint64> retry(const Filter &filter);
    // Any message not being worked on (sent, dead, cancelled, suppressed, pending): send again.
    Common::Result<qint64> requeue(const Filter &filter);
    // Pending messages: cancelled.
    Common::Result<qint64> cancel(const Filter &filter);
    // Pending messages: a new priority (1..5).
    Common::Result<qint64> reprioritise(const Filter &filter, int priority);
    // Counts messages matching the filter (a preview before a bulk operation).
    Common::Result<qint64> count(const Filter &filter);

    // The backoff before attempt number nextAttempt (2 for the first retry), without jitter:
    // min(cap, base * 2^(nextAttempt - 2)). The delay applied lies in [half of it, all of it].
    static qint64 backoffSeconds(int nextAttempt, int baseSeconds, int capSeconds);

private:
    static Db::Connection::Statement claimStatement(const QString &workerId, int batchSize,
                                                    int leaseSeconds, const QStringList &queues);
    static QList<ClaimedMessage> claimedFrom(const Db::QueryResult &result);
    static Db::Connection::Statement completeStatement(const QList<Completion> &completions,
                                                       QList<qint64> *ids);
    static SettleResult settledFrom(const Db::QueryResult &result, const QList<qint64> &ids);
    static QString reclaimSql();
    Common::Result<qint64> bulkUpdate(const QString &assignments, const QString &stateCondition,
                                      const Filter &filter, const QVariantList &extra = {});
    Common::Status notify(const QString &queueIds);
    void analyzeIfNeverAnalyzed(qint64 inserted);

    Db::Connection &m_connection;
};

} // namespace Queue
