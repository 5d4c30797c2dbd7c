#include "queuerepository.h"

#include "common/logging.h"
#include "db/connection.h"
#include "sqlarray.h"

#include <QHash>
#include <QJsonDocument>
#include <QSet>
#include <QUuid>

#include <cmath>

namespace Queue {

namespace {

const QString stateNames[] = {QStringLiteral("pending"),   QStringLiteral("processing"),
                              QStringLiteral("sent"),      QStringLiteral("dead"),
                              QStringLiteral("cancelled"), QStringLiteral("suppressed")};

// The filter occupies parameters $1..$7; an operation's own parameters start at $8.
constexpr int filterParameterCount = 7;

const QString filterCondition = QStringLiteral(
        "($1::text[] IS NULL OR m.queue_id IN (SELECT fq.id FROM queues fq "
        "WHERE fq.name = ANY($1::text[]))) "
        "AND ($2::text[] IS NULL OR m.state = ANY($2::text[])) "
        "AND ($3::text[] IS NULL OR m.provider_id IN (SELECT fp.id FROM providers fp "
        "WHERE fp.name = ANY($3::text[]))) "
        "AND ($4::text IS NULL OR m.last_error_class = $4::text) "
        "AND ($5::timestamptz IS NULL OR m.created_at >= $5::timestamptz) "
        "AND ($6::timestamptz IS NULL OR m.created_at < $6::timestamptz) "
        "AND ($7::bigint[] IS NULL OR m.id = ANY($7::bigint[]))");

QVariant textArrayOrNull(const QStringList &values)
{
    if (values.isEmpty())
        return QVariant();
    return Db::textArrayLiteral(values);
}

Common::Result<QVariantList> filterParameters(const Filter &filter)
{
    QStringList states;
    for (State state : filter.states)
        states << stateName(state);
    if (!filter.errorClass.isEmpty() && filter.errorClass != u"transient"
        && filter.errorClass != u"permanent") {
        return Common::fail(QStringLiteral("queue.bad_filter"),
                            QStringLiteral("The error class must be 'transient' or 'permanent', "
                                           "not '%1'.")
                                    .arg(filter.errorClass));
    }
    return QVariantList{textArrayOrNull(filter.queues),
                        textArrayOrNull(states),
                        textArrayOrNull(filter.providers),
                        filter.errorClass.isEmpty() ? QVariant() : QVariant(filter.errorClass),
                        filter.createdFrom.isValid() ? QVariant(filter.createdFrom) : QVariant(),
                        filter.createdUntil.isValid() ? QVariant(filter.createdUntil) : QVariant(),
                        filter.ids.isEmpty() ? QVariant() : QVariant(Sql::bigintArray(filter.ids))};
}

Common::Status validate(const NewMessage &message)
{
    const auto invalid = [&](const QString &why) {
        return Common::fail(QStringLiteral("queue.invalid_message"),
                            QStringLiteral("Cannot enqueue the message to '%1': %2")
                                    .arg(message.recipient, why));
    };
    const QString recipient = message.recipient.trimmed();
    if (recipient.isEmpty() || !recipient.contains(u'@') || recipient.contains(u'\n'))
        return invalid(QStringLiteral("the recipient is not an email address."));
    if (message.priority < 0 || message.priority > 5)
        return invalid(QStringLiteral("the priority must be 1 (highest) to 5."));
    if (message.maxAttempts < 0)
        return invalid(QStringLiteral("max attempts must be at least 1."));
    if (message.templateVersionId <= 0 && message.subject.isEmpty())
        return invalid(QStringLiteral("give a template version or a subject with a body."));
    if (message.templateVersionId <= 0 && message.htmlBody.isEmpty() && message.textBody.isEmpty())
        return invalid(QStringLiteral("pre-rendered content needs an HTML or a text body."));
    return {};
}

QVariant optionalText(const QString &text)
{
    return text.isEmpty() ? QVariant() : QVariant(text);
}

QString jsonText(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

Common::Error unknownQueue(const QString &name, const QList<QueueInfo> &known)
{
    QStringList names;
    for (const QueueInfo &queue : known)
        names << queue.name;
    return Common::makeError(QStringLiteral("queue.unknown_queue"),
                             QStringLiteral("There is no queue named '%1'. The queues are: %2.")
                                     .arg(name, names.join(QStringLiteral(", "))));
}

std::optional<QString> tokenOrNull(const QString &token)
{
    // A malformed token cannot hold a lease; it must not fail the batch for the others.
    if (QUuid::fromString(token).isNull())
        return std::nullopt;
    return token;
}

std::optional<QString> idOrNull(qint64 id)
{
    if (id <= 0)
        return std::nullopt;
    return QString::number(id);
}

std::optional<QString> textOrNull(const QString &text)
{
    if (text.isEmpty())
        return std::nullopt;
    return text;
}

} // namespace

QString stateName(State state)
{
    return stateNames[int(state)];
}

std::optional<State> stateFromName(const QString &name)
{
    for (int i = 0; i < 6; ++i) {
        if (stateNames[i] == name)
            return State(i);
    }
    return std::nullopt;
}

QueueRepository::QueueRepository(Db::Connection &connection)
    : m_connection(connection)
{ }

qint64 QueueRepository::backoffSeconds(int nextAttempt, int baseSeconds, int capSeconds)
{
    const int exponent = std::clamp(nextAttempt - 2, 0, 40);
    const double delay = double(baseSeconds) * std::pow(2.0, exponent);
    return qint64(std::min(double(capSeconds), delay));
}

Common::Result<EnqueueResult> QueueRepository::enqueue(const NewMessage &message)
{
    if (auto ok = validate(message); !ok)
        return Common::fail(ok.error());
    auto inserted = m_connection.exec(
            QStringLiteral(
                    "INSERT INTO messages (queue_id, priority, scheduled_at, max_attempts, "
                    "idempotency_key, recipient, sender, template_version_id, data, subject, "
                    "html_body, text_body) "
                    "SELECT q.id, coalesce($2::smallint, q.priority_class), "
                    "coalesce($3::timestamptz, now()), coalesce($4::int, q.max_attempts), $5, $6, "
                    "$7, $8, coalesce($9::jsonb, '{}'), $10, $11, $12 "
                    "FROM queues q WHERE q.name = $1 "
                    "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING "
                    "RETURNING id"),
            {message.queue, message.priority > 0 ? QVariant(message.priority) : QVariant(),
             message.scheduledAt.isValid() ? QVariant(message.scheduledAt) : QVariant(),
             message.maxAttempts > 0 ? QVariant(message.maxAttempts) : QVariant(),
             optionalText(message.idempotencyKey), message.recipient.trimmed(),
             optionalText(message.sender),
             message.templateVersionId > 0 ? QVariant(message.templateVersionId) : QVariant(),
             jsonText(message.data), optionalText(message.subject), optionalText(message.htmlBody),
             optionalText(message.textBody)});
    if (!inserted)
        return Common::fail(inserted.error());
    if (inserted->rowCount() == 1)
        return EnqueueResult{inserted->toInt(0, 0), true};
    if (!message.idempotencyKey.isEmpty()) {
        auto existing = m_connection
                                .exec(QStringLiteral(
                                              "SELECT id FROM messages WHERE idempotency_key = $1"),
                                      {message.idempotencyKey});
        if (!existing)
            return Common::fail(existing.error());
        if (existing->rowCount() == 1)
            return EnqueueResult{existing->toInt(0, 0), false};
    }
    auto known = queues();
    return Common::fail(unknownQueue(message.queue, known ? *known : QList<QueueInfo>{}));
}

Common::Result<BatchResult> QueueRepository::enqueueBatch(const QList<NewMessage> &messages)
{
    if (messages.isEmpty())
        return BatchResult{};
    auto known = queues();
    if (!known)
        return Common::fail(known.error());
    QHash<QString, QueueInfo> byName;
    for (const QueueInfo &queue : std::as_const(*known))
        byName.insert(queue.name, queue);

    bool anyKey = false;
    for (const NewMessage &message : messages) {
        if (auto ok = validate(message); !ok)
            return Common::fail(ok.error());
        if (!byName.contains(message.queue))
            return Common::fail(unknownQueue(message.queue, *known));
        anyKey = anyKey || !message.idempotencyKey.isEmpty();
    }

    if (auto ok = m_connection.begin(); !ok)
        return Common::fail(ok.error());
    const auto abort = [&](const Common::Error &error) {
        m_connection.rollback();
        return Common::fail(error);
    };
    // now() is the transaction's start: the same value the column default would give.
    auto now = m_connection.exec(QStringLiteral("SELECT now()"));
    if (!now)
        return abort(now.error());
    const QString nowText = now->text(0, 0);

    // Without idempotency keys nothing can conflict, so the rows go straight into messages with
    // COPY (as fast as PostgreSQL takes rows); with keys they go through a temporary table and
    // one INSERT ... ON CONFLICT DO NOTHING.
    const QString columns = QStringLiteral(
            "queue_id, priority, scheduled_at, max_attempts, idempotency_key, recipient, sender, "
            "template_version_id, data, subject, html_body, text_body");
    if (anyKey) {
        auto created = m_connection.exec(QStringLiteral(
                "CREATE TEMP TABLE queue_incoming (queue_id integer, priority smallint, "
                "scheduled_at timestamptz, max_attempts integer, idempotency_key text, "
                "recipient text, sender text, template_version_id bigint, data jsonb, "
                "subject text, html_body text, text_body text) ON COMMIT DROP"));
        if (!created)
            return abort(created.error());
    }

    QByteArray data;
    data.reserve(messages.size() * 160);
    for (const NewMessage &message : messages) {
        const QueueInfo &queue = byName[message.queue];
        data += QByteArray::number(queue.id);
        data += '\t';
        data += QByteArray::number(message.priority > 0 ? message.priority : queue.priorityClass);
        data += '\t';
        if (message.scheduledAt.isValid())
            data += message.scheduledAt.toUTC().toString(Qt::ISODateWithMs).toUtf8();
        else
            data += nowText.toUtf8();
        data += '\t';
        data += QByteArray::number(message.maxAttempts > 0 ? message.maxAttempts
                                                           : queue.maxAttempts);
        data += '\t';
        Sql::appendCopyField(data, message.idempotencyKey, message.idempotencyKey.isEmpty());
        data += '\t';
        Sql::appendCopyField(data, message.recipient.trimmed());
        data += '\t';
        Sql::appendCopyField(data, message.sender, message.sender.isEmpty());
        data += '\t';
        if (message.templateVersionId > 0)
            data += QByteArray::number(message.templateVersionId);
        else
            data += "\\N";
        data += '\t';
        Sql::appendCopyField(data, jsonText(message.data));
        data += '\t';
        Sql::appendCopyField(data, message.subject, message.subject.isEmpty());
        data += '\t';
        Sql::appendCopyField(data, message.htmlBody, message.htmlBody.isEmpty());
        data += '\t';
        Sql::appendCopyField(data, message.textBody, message.textBody.isEmpty());
        data += '\n';
    }

    const QString target = anyKey ? QStringLiteral("queue_incoming") : QStringLiteral("messages");
    auto copied = m_connection.copyIn(QStringLiteral("COPY %1 (%2) FROM STDIN").arg(target, columns),
                                      data);
    if (!copied)
        return abort(copied.error());

    qint64 inserted = *copied;
    if (anyKey) {
        auto insert = m_connection.exec(
                QStringLiteral("INSERT INTO messages (%1) SELECT %1 FROM queue_incoming "
                               "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL "
                               "DO NOTHING")
                        .arg(columns));
        if (!insert)
            return abort(insert.error());
        inserted = insert->affectedRows();
    }
    if (auto ok = m_connection.commit(); !ok)
        return abort(ok.error());
    qCDebug(lcQueue) << "enqueued" << inserted << "of" << messages.size() << "messages";
    analyzeIfNeverAnalyzed(inserted);
    return BatchResult{inserted, qint64(messages.size()) - inserted};
}

// Until messages has been analyzed once, the planner knows nothing of how many are pending: it
// then plans the claim as a sort of every pending message, 0.1 s a claim for a backlog of 100k,
// until autovacuum analyzes the table (up to a minute later). That is a new database's first
// large batch, so the batch that found no statistics gathers them. Best effort: a role that may
// not analyze the table only gets a warning from the server, and the claim stays correct.
void QueueRepository::analyzeIfNeverAnalyzed(qint64 inserted)
{
    if (inserted < 1000)
        return;
    auto known = m_connection.exec(
            QStringLiteral("SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = "
                           "current_schema() AND tablename = 'messages' AND attname = 'state')"));
    if (!known || known->text(0, 0) == u"t")
        return;
    if (auto analyzed = m_connection.exec(QStringLiteral("ANALYZE messages")); !analyzed)
        qCDebug(lcQueue) << "could not analyze messages:" << analyzed.error().message;
    else
        qCInfo(lcQueue) << "gathered the first statistics of the messages table";
}

// One statement: pick due messages of running queues in priority and schedule order, locking them
// and skipping rows other claimers hold, each with its recipient's suppression if there is one;
// mark those to suppressed addresses; lease the rest. The two UPDATEs touch disjoint rows of the
// same snapshot.
//
// The batch size is written into the statement and the queue filter is there only when queues are
// named, so that each prepared variant has one plan that fits every execution: the server then
// keeps a generic plan after its first five executions instead of planning each claim again
// (a LIMIT parameter or a NULL-able array makes the custom plan look cheaper for ever, and
// planning cost 0.7 ms a claim). A send worker claims whole quarters of its concurrency
// (SendWorker::claimSize()), so it prepares at most four variants.
Db::Connection::Statement QueueRepository::claimStatement(const QString &workerId, int batchSize,
                                                          int leaseSeconds,
                                                          const QStringList &queueNames)
{
    QVariantList params{workerId, leaseSeconds};
    if (!queueNames.isEmpty())
        params.append(Db::textArrayLiteral(queueNames));
    return {QStringLiteral(
                    "WITH picked AS ("
                    "  SELECT m.id, s.reason AS suppressed FROM messages m"
                    "  LEFT JOIN suppressions s ON s.address = lower(m.recipient)"
                    "  WHERE m.state = 'pending' AND m.scheduled_at <= now()"
                    "    AND m.queue_id IN (SELECT q.id FROM queues q WHERE NOT q.paused%1)"
                    "  ORDER BY m.priority, m.scheduled_at, m.id"
                    "  LIMIT %2"
                    "  FOR UPDATE OF m SKIP LOCKED"
                    "), blocked AS ("
                    "  UPDATE messages m SET state = 'suppressed', updated_at = now(),"
                    "    last_error = 'The recipient is on the suppression list (' || p.suppressed"
                    "      || '); not sent.',"
                    "    last_error_class = NULL, lease_expires_at = NULL, leased_by = NULL,"
                    "    lease_token = NULL"
                    "  FROM picked p"
                    "  WHERE m.id = p.id AND p.suppressed IS NOT NULL"
                    "), claimed AS ("
                    "  UPDATE messages m SET state = 'processing', leased_by = $1,"
                    "    lease_token = gen_random_uuid(),"
                    "    lease_expires_at = now() + make_interval(secs => $2::int),"
                    "    attempts = m.attempts + 1, updated_at = now()"
                    "  FROM picked p, queues q"
                    "  WHERE m.id = p.id AND p.suppressed IS NULL AND q.id = m.queue_id"
                    "  RETURNING m.id, m.lease_token, m.lease_expires_at, q.name, m.priority,"
                    "    m.attempts, m.max_attempts, m.recipient, m.sender, m.template_version_id,"
                    "    m.data, m.subject, m.html_body, m.text_body, m.idempotency_key,"
                    "    m.created_at, m.scheduled_at"
                    ") "
                    "SELECT * FROM claimed ORDER BY priority, scheduled_at, id")
                    .arg(queueNames.isEmpty() ? QString()
                                              : QStringLiteral(" AND q.name = ANY($3::text[])"),
                         QString::number(batchSize)),
            params, true};
}

QList<ClaimedMessage> QueueRepository::claimedFrom(const Db::QueryResult &result)
{
    QList<ClaimedMessage> claimed;
    claimed.reserve(result.rowCount());
    for (int row = 0; row < result.rowCount(); ++row) {
        ClaimedMessage message;
        message.id = result.toInt(row, 0);
        message.leaseToken = result.text(row, 1);
        message.leaseExpiresAt = result.toDateTime(row, 2);
        message.queue = result.text(row, 3);
        message.priority = int(result.toInt(row, 4));
        message.attempt = int(result.toInt(row, 5));
        message.maxAttempts = int(result.toInt(row, 6));
        message.recipient = result.text(row, 7);
        message.sender = result.text(row, 8);
        message.templateVersionId = result.toInt(row, 9);
        message.dataJson = result.bytes(row, 10);
        // Most messages carry no data: '{}' needs no parser.
        if (message.dataJson != "{}")
            message.data = QJsonDocument::fromJson(message.dataJson).object();
        message.subject = result.text(row, 11);
        message.htmlBody = result.text(row, 12);
        message.textBody = result.text(row, 13);
        message.textBodyIsNull = result.isNull(row, 13);
        message.idempotencyKey = result.text(row, 14);
        message.createdAt = result.toDateTime(row, 15);
        claimed.append(message);
    }
    return claimed;
}

Common::Result<QList<ClaimedMessage>> QueueRepository::claim(const QString &workerId, int batchSize,
                                                             int leaseSeconds,
                                                             const QStringList &queueNames,
                                                             Reclaim reclaim)
{
    if (batchSize < 1 || leaseSeconds < 1) {
        return Common::fail(QStringLiteral("queue.bad_claim"),
                            QStringLiteral(
                                    "A claim needs a batch size and a lease of at least 1."));
    }
    if (reclaim == Reclaim::First) {
        if (auto reclaimed = reclaimExpired(); !reclaimed)
            return Common::fail(reclaimed.error());
    }
    const auto statement = claimStatement(workerId, batchSize, leaseSeconds, queueNames);
    auto result = m_connection.execPrepared(statement.sql, statement.params);
    if (!result)
        return Common::fail(result.error());
    return claimedFrom(*result);
}

QueueRepository::CompletedAndClaimed QueueRepository::completeAndClaim(
        const QList<Completion> &completions, const QString &workerId, int batchSize,
        int leaseSeconds, const QStringList &queueNames, Reclaim reclaim)
{
    CompletedAndClaimed outcome{SettleResult{}, QList<ClaimedMessage>{}};
    if (batchSize < 1 || leaseSeconds < 1) {
        outcome.claimed = Common::fail(QStringLiteral("queue.bad_claim"),
                                       QStringLiteral("A claim needs a batch size and a lease "
                                                      "of at least 1."));
        outcome.completed = complete(completions);
        return outcome;
    }
    QList<qint64> ids;
    QList<Db::Connection::Statement> statements;
    if (reclaim == Reclaim::First)
        statements.append({reclaimSql(), {}, true});
    const bool completing = !completions.isEmpty();
    if (completing)
        statements.append(completeStatement(completions, &ids));
    statements.append(claimStatement(workerId, batchSize, leaseSeconds, queueNames));
    auto results = m_connection.execEach(statements);
    if (results.size() != statements.size()) {
        const Common::Error lost{QStringLiteral("db.connection_lost"),
                                 QStringLiteral("The connection to PostgreSQL was lost."),
                                 {},
                                 Common::Retry::Transient};
        outcome.completed = Common::fail(lost);
        outcome.claimed = Common::fail(lost);
        return outcome;
    }
    qsizetype at = 0;
    if (reclaim == Reclaim::First) {
        const auto &reclaimed = results.at(at++);
        if (reclaimed && reclaimed->rowCount() > 0)
            qCInfo(lcQueue) << "reclaimed" << reclaimed->rowCount()
                            << "messages with expired leases";
    }
    if (completing) {
        const auto &done = results.at(at++);
        outcome.completed = done ? Common::Result<SettleResult>(settledFrom(*done, ids))
                                 : Common::Result<SettleResult>(Common::fail(done.error()));
    }
    const auto &claimed = results.at(at);
    outcome.claimed = claimed
            ? Common::Result<QList<ClaimedMessage>>(claimedFrom(*claimed))
            : Common::Result<QList<ClaimedMessage>>(Common::fail(claimed.error()));
    return outcome;
}

// The day's counters (per provider, queue and template) move with the messages, in the same
// statement; rows are upserted in key order so that concurrent workers never deadlock.
//
// Prepared, and written so that its generic plan looks each message up by its key: the lease
// token alone fences the update (a claim sets it with 'processing', and every way out of
// 'processing' clears it), so the condition does not name the state. Naming it let a generic
// plan, which cannot know how many messages the arrays hold, join them by scanning every message
// in 'processing' (the leases index) instead; unprepared, the statement was planned for every
// batch, 0.4 ms each.
Db::Connection::Statement QueueRepository::completeStatement(const QList<Completion> &completions,
                                                             QList<qint64> *ids)
{
    QList<std::optional<QString>> tokens, providers, providerMessageIds, messageIds, sendMs;
    ids->clear();
    for (const Completion &completion : completions) {
        ids->append(completion.id);
        tokens << tokenOrNull(completion.leaseToken);
        providers << idOrNull(completion.providerId);
        providerMessageIds << textOrNull(completion.providerMessageId);
        messageIds << textOrNull(completion.messageIdHeader);
        sendMs << (completion.sendMs < 0
                           ? std::nullopt
                           : std::optional<QString>(QString::number(completion.sendMs)));
    }
    return {QStringLiteral(
                    "WITH done AS ("
                    "  UPDATE messages m SET state = 'sent', sent_at = now(), updated_at = now(),"
                    "    provider_id = coalesce(u.provider_id, m.provider_id),"
                    "    provider_message_id = u.provider_message_id,"
                    "    message_id_header = coalesce(u.message_id_header, m.message_id_header),"
                    "    send_ms = u.send_ms,"
                    "    lease_expires_at = NULL, leased_by = NULL, lease_token = NULL,"
                    "    last_error = NULL, last_error_class = NULL, dead_reason = NULL "
                    "  FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::text[], $5::text[],"
                    "    $6::integer[])"
                    "    AS u(id, token, provider_id, provider_message_id, message_id_header, "
                    "send_ms) "
                    "  WHERE m.id = u.id AND m.lease_token = u.token "
                    "  RETURNING m.id, m.provider_id, m.queue_id, m.template_version_id, m.send_ms"
                    "), counted AS ("
                    "  INSERT INTO daily_rollups AS r (day, provider_id, queue_id, template_id,"
                    "    sent, send_ms_total)"
                    "  SELECT (now() AT TIME ZONE 'UTC')::date, coalesce(d.provider_id, 0),"
                    "    d.queue_id, coalesce(tv.template_id, 0), count(*),"
                    "    coalesce(sum(d.send_ms), 0)"
                    "  FROM done d LEFT JOIN template_versions tv ON tv.id = d.template_version_id"
                    "  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
                    "  ON CONFLICT (day, provider_id, queue_id, template_id) DO UPDATE"
                    "    SET sent = r.sent + excluded.sent,"
                    "        send_ms_total = r.send_ms_total + excluded.send_ms_total"
                    ") "
                    "SELECT id FROM done"),
            {Sql::bigintArray(*ids), Sql::textArray(tokens), Sql::textArray(providers),
             Sql::textArray(providerMessageIds), Sql::textArray(messageIds), Sql::textArray(sendMs)},
            true};
}

SettleResult QueueRepository::settledFrom(const Db::QueryResult &result, const QList<qint64> &ids)
{
    SettleResult settled;
    QSet<qint64> accepted;
    for (int row = 0; row < result.rowCount(); ++row)
        accepted.insert(result.toInt(row, 0));
    for (qint64 id : ids) {
        if (accepted.contains(id))
            settled.accepted << id;
        else
            settled.refused << id;
    }
    if (!settled.refused.isEmpty())
        qCWarning(lcQueue) << "refused to complete" << settled.refused.size()
                           << "messages whose lease was lost";
    return settled;
}

Common::Result<SettleResult> QueueRepository::complete(const QList<Completion> &completions)
{
    if (completions.isEmpty())
        return SettleResult{};
    QList<qint64> ids;
    const auto statement = completeStatement(completions, &ids);
    auto result = m_connection.execPrepared(statement.sql, statement.params);
    if (!result)
        return Common::fail(result.error());
    return settledFrom(*result, ids);
}

Common::Result<SettleResult> QueueRepository::fail(const QList<Failure> &failures)
{
    SettleResult settled;
    if (failures.isEmpty())
        return settled;
    QList<qint64> ids;
    QList<std::optional<QString>> tokens, errors, permanent, providers, retryAfter;
    for (const Failure &failure : failures) {
        ids << failure.id;
        tokens << tokenOrNull(failure.leaseToken);
        errors << failure.error;
        permanent << (failure.permanent ? QStringLiteral("t") : QStringLiteral("f"));
        providers << idOrNull(failure.providerId);
        retryAfter << idOrNull(failure.retryAfterSeconds);
    }
    // The next attempt waits base * 2^(attempts - 1) seconds, at most the cap, with "equal
    // jitter": a random point in the upper half of that, so that messages failed together do
    // not come back together.
    auto result = m_connection.exec(
            QStringLiteral(
                    "WITH done AS ("
                    "UPDATE messages m SET"
                    "  state = CASE WHEN u.permanent OR m.attempts >= m.max_attempts"
                    "    THEN 'dead' ELSE 'pending' END,"
                    "  dead_reason = CASE WHEN u.permanent THEN 'permanent_error'"
                    "    WHEN m.attempts >= m.max_attempts THEN 'attempts_exhausted' END,"
                    "  scheduled_at = CASE WHEN u.permanent OR m.attempts >= m.max_attempts"
                    "    THEN m.scheduled_at"
                    "    ELSE now() + make_interval(secs => greatest(coalesce(u.retry_after, 0),"
                    "      least(q.retry_cap_seconds::float8, q.retry_base_seconds"
                    "        * power(2::float8, least(greatest(m.attempts - 1, 0), 40)))"
                    "      * (0.5 + random() * 0.5))) END,"
                    "  last_error = u.error,"
                    "  last_error_class = CASE WHEN u.permanent THEN 'permanent'"
                    "    ELSE 'transient' END,"
                    "  provider_id = coalesce(u.provider_id, m.provider_id),"
                    "  lease_expires_at = NULL, leased_by = NULL, lease_token = NULL,"
                    "  updated_at = now() "
                    "FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::boolean[],"
                    "  $5::bigint[], $6::integer[])"
                    "  AS u(id, token, error, permanent, provider_id, retry_after), queues q "
                    "WHERE m.id = u.id AND m.state = 'processing' AND m.lease_token = u.token"
                    "  AND q.id = m.queue_id "
                    "RETURNING m.id, m.state, m.provider_id, m.queue_id, m.template_version_id"
                    "), counted AS ("
                    "  INSERT INTO daily_rollups AS r (day, provider_id, queue_id, template_id,"
                    "    failed)"
                    "  SELECT (now() AT TIME ZONE 'UTC')::date, coalesce(d.provider_id, 0),"
                    "    d.queue_id, coalesce(tv.template_id, 0), count(*)"
                    "  FROM done d LEFT JOIN template_versions tv ON tv.id = d.template_version_id"
                    "  WHERE d.state = 'dead'"
                    "  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
                    "  ON CONFLICT (day, provider_id, queue_id, template_id) DO UPDATE"
                    "    SET failed = r.failed + excluded.failed"
                    ") "
                    "SELECT id, state FROM done"),
            {Sql::bigintArray(ids), Sql::textArray(tokens), Sql::textArray(errors),
             Sql::textArray(permanent), Sql::textArray(providers), Sql::textArray(retryAfter)});
    if (!result)
        return Common::fail(result.error());
    QSet<qint64> accepted;
    for (int row = 0; row < result->rowCount(); ++row) {
        accepted.insert(result->toInt(row, 0));
        if (result->text(row, 1) == u"dead")
            ++settled.deadLettered;
    }
    for (qint64 id : std::as_const(ids)) {
        if (accepted.contains(id))
            settled.accepted << id;
        else
            settled.refused << id;
    }
    return settled;
}

Common::Result<qint64> QueueRepository::extendLeases(const QList<qint64> &ids,
                                                     const QString &workerId, int leaseSeconds)
{
    auto result = m_connection.exec(
            QStringLiteral("UPDATE messages SET lease_expires_at = now() + make_interval(secs => "
                           "$3::int), updated_at = now() "
                           "WHERE id = ANY($1::bigint[]) AND leased_by = $2 "
                           "AND state = 'processing'"),
            {Sql::bigintArray(ids), workerId, leaseSeconds});
    if (!result)
        return Common::fail(result.error());
    return result->affectedRows();
}

Common::Result<qint64> QueueRepository::releaseLeases(const QString &workerId)
{
    auto result = m_connection.exec(
            QStringLiteral("UPDATE messages SET state = 'pending', attempts = greatest(attempts "
                           "- 1, 0), lease_expires_at = NULL, leased_by = NULL, "
                           "lease_token = NULL, updated_at = now() "
                           "WHERE leased_by = $1 AND state = 'processing' RETURNING queue_id"),
            {workerId});
    if (!result)
        return Common::fail(result.error());
    QStringList queueIds;
    for (int row = 0; row < result->rowCount(); ++row)
        queueIds << result->text(row, 0);
    queueIds.removeDuplicates();
    if (auto ok = notify(queueIds.join(u',')); !ok)
        return Common::fail(ok.error());
    return qint64(result->rowCount());
}

QString QueueRepository::reclaimSql()
{
    return QStringLiteral(
            "WITH expired AS ("
            "  SELECT id FROM messages"
            "  WHERE state = 'processing' AND lease_expires_at < now()"
            "  FOR UPDATE SKIP LOCKED"
            ") "
            "UPDATE messages m SET"
            "  state = CASE WHEN m.attempts >= m.max_attempts THEN 'dead' ELSE 'pending' END,"
            "  dead_reason = CASE WHEN m.attempts >= m.max_attempts"
            "    THEN 'attempts_exhausted' END,"
            "  last_error = 'The lease of ' || coalesce(m.leased_by, 'a worker')"
            "    || ' expired before it reported a result.',"
            "  last_error_class = 'transient',"
            "  lease_expires_at = NULL, leased_by = NULL, lease_token = NULL, updated_at = now() "
            "FROM expired e WHERE m.id = e.id "
            "RETURNING m.state");
}

Common::Result<qint64> QueueRepository::reclaimExpired()
{
    auto result = m_connection.execPrepared(reclaimSql());
    if (!result)
        return Common::fail(result.error());
    if (result->rowCount() > 0)
        qCInfo(lcQueue) << "reclaimed" << result->rowCount() << "messages with expired leases";
    return qint64(result->rowCount());
}

Common::Result<QList<QueueInfo>> QueueRepository::queues()
{
    auto result = m_connection.exec(QStringLiteral(
            "SELECT id, name, priority_class, concurrency_share, paused, max_attempts, "
            "retry_base_seconds, retry_cap_seconds FROM queues ORDER BY priority_class, name"));
    if (!result)
        return Common::fail(result.error());
    QList<QueueInfo> list;
    for (int row = 0; row < result->rowCount(); ++row) {
        list.append(QueueInfo{int(result->toInt(row, 0)), result->text(row, 1),
                              int(result->toInt(row, 2)), int(result->toInt(row, 3)),
                              result->toBool(row, 4), int(result->toInt(row, 5)),
                              int(result->toInt(row, 6)), int(result->toInt(row, 7))});
    }
    return list;
}

Common::Status QueueRepository::pause(const QString &queue)
{
    auto result = m_connection.exec(
            QStringLiteral("UPDATE queues SET paused = true, updated_at = now() WHERE name = $1"),
            {queue});
    if (!result)
        return Common::fail(result.error());
    if (result->affectedRows() == 0) {
        auto known = queues();
        return Common::fail(unknownQueue(queue, known ? *known : QList<QueueInfo>{}));
    }
    return {};
}

Common::Status QueueRepository::resume(const QString &queue)
{
    auto result = m_connection.exec(
            QStringLiteral("UPDATE queues SET paused = false, updated_at = now() WHERE name = $1 "
                           "RETURNING id"),
            {queue});
    if (!result)
        return Common::fail(result.error());
    if (result->rowCount() == 0) {
        auto known = queues();
        return Common::fail(unknownQueue(queue, known ? *known : QList<QueueInfo>{}));
    }
    // Workers sleeping on this queue's work wake at once instead of at their next poll.
    return notify(result->text(0, 0));
}

Common::Result<QList<QueueStats>> QueueRepository::stats()
{
    auto result = m_connection.exec(QStringLiteral(
            "SELECT q.name, q.paused,"
            "  count(m.id) FILTER (WHERE m.state = 'pending'),"
            "  count(m.id) FILTER (WHERE m.state = 'pending' AND m.scheduled_at <= now()),"
            "  count(m.id) FILTER (WHERE m.state = 'processing'),"
            "  count(m.id) FILTER (WHERE m.state = 'sent'),"
            "  count(m.id) FILTER (WHERE m.state = 'dead'),"
            "  count(m.id) FILTER (WHERE m.state = 'cancelled'),"
            "  count(m.id) FILTER (WHERE m.state = 'suppressed'),"
            "  min(m.scheduled_at) FILTER (WHERE m.state = 'pending' AND m.scheduled_at <= now()) "
            "FROM queues q LEFT JOIN messages m ON m.queue_id = q.id "
            "GROUP BY q.id ORDER BY q.priority_class, q.name"));
    if (!result)
        return Common::fail(result.error());
    QList<QueueStats> list;
    for (int row = 0; row < result->rowCount(); ++row) {
        QueueStats stats;
        stats.queue = result->text(row, 0);
        stats.paused = result->toBool(row, 1);
        stats.pending = result->toInt(row, 2);
        stats.due = result->toInt(row, 3);
        stats.processing = result->toInt(row, 4);
        stats.sent = result->toInt(row, 5);
        stats.dead = result->toInt(row, 6);
        stats.cancelled = result->toInt(row, 7);
        stats.suppressed = result->toInt(row, 8);
        if (!result->isNull(row, 9))
            stats.oldestDue = result->toDateTime(row, 9);
        list.append(stats);
    }
    return list;
}

Common::Result<qint64> QueueRepository::bulkUpdate(const QString &assignments,
                                                   const QString &stateCondition,
                                                   const Filter &filter, const QVariantList &extra)
{
    auto params = filterParameters(filter);
    if (!params)
        return Common::fail(params.error());
    *params += extra;
    auto result = m_connection.exec(
            QStringLiteral("WITH changed AS (UPDATE messages m SET %1, updated_at = now() "
                           "WHERE %2 AND %3 RETURNING m.queue_id, m.state) "
                           "SELECT count(*), string_agg(DISTINCT queue_id::text, ',') "
                           "FILTER (WHERE state = 'pending') FROM changed")
                    .arg(assignments, filterCondition, stateCondition),
            *params);
    if (!result)
        return Common::fail(result.error());
    const qint64 changed = result->toInt(0, 0);
    if (auto ok = notify(result->text(0, 1)); !ok)
        return Common::fail(ok.error());
    return changed;
}

Common::Status QueueRepository::notify(const QString &queueIds)
{
    if (queueIds.isEmpty())
        return {};
    auto notified = m_connection.exec(QStringLiteral("SELECT pg_notify($1, $2)"),
                                      {QString::fromLatin1(notifyChannel), queueIds});
    if (!notified)
        return Common::fail(notified.error());
    return {};
}

Common::Result<qint64> QueueRepository::retry(const Filter &filter)
{
    return bulkUpdate(QStringLiteral("state = 'pending', scheduled_at = now(), attempts = 0, "
                                     "dead_reason = NULL"),
                      QStringLiteral("m.state IN ('dead', 'pending')"), filter);
}

Common::Result<qint64> QueueRepository::requeue(const Filter &filter)
{
    return bulkUpdate(QStringLiteral("state = 'pending', scheduled_at = now(), attempts = 0, "
                                     "dead_reason = NULL, last_error = NULL, "
                                     "last_error_class = NULL, sent_at = NULL, "
                                     "provider_message_id = NULL"),
                      QStringLiteral("m.state <> 'processing'"), filter);
}

Common::Result<qint64> QueueRepository::cancel(const Filter &filter)
{
    return bulkUpdate(QStringLiteral("state = 'cancelled'"), QStringLiteral("m.state = 'pending'"),
                      filter);
}

Common::Result<qint64> QueueRepository::reprioritise(const Filter &filter, int priority)
{
    if (priority < 1 || priority > 5) {
        return Common::fail(QStringLiteral("queue.bad_priority"),
                            QStringLiteral("The priority must be 1 (highest) to 5, not %1.")
                                    .arg(priority));
    }
    return bulkUpdate(QStringLiteral("priority = $%1::smallint").arg(filterParameterCount + 1),
                      QStringLiteral("m.state = 'pending'"), filter, {priority});
}

Common::Result<qint64> QueueRepository::count(const Filter &filter)
{
    auto params = filterParameters(filter);
    if (!params)
        return Common::fail(params.error());
    auto result = m_connection.exec(QStringLiteral("SELECT count(*) FROM messages m WHERE %1")
                                            .arg(filterCondition),
                                    *params);
    if (!result)
        return Common::fail(result.error());
    return result->toInt(0, 0);
}

} // namespace Queue
