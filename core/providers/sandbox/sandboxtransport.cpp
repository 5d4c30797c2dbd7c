#include "sandboxtransport.h"

#include "db/connection.h"
#include "db/queryresult.h"
#include "providers/diagnostics.h"
#include "queue/sqlarray.h"

#include <QElapsedTimer>
#include <QTimer>

namespace Providers {

namespace {

// The Subject header of a composed message, unfolded (encoded words left as they are).
QString subjectOf(const QByteArray &data)
{
    const qsizetype headerEnd = data.indexOf("\r\n\r\n");
    const QByteArray headers = data.left(headerEnd < 0 ? data.size() : headerEnd);
    qsizetype at = headers.startsWith("Subject:") ? 0 : headers.indexOf("\r\nSubject:");
    if (at < 0)
        return {};
    at += at == 0 ? 8 : 10;
    QByteArray value;
    while (at < headers.size()) {
        qsizetype end = headers.indexOf("\r\n", at);
        if (end < 0)
            end = headers.size();
        value += headers.mid(at, end - at);
        at = end + 2;
        if (at >= headers.size() || (headers.at(at) != ' ' && headers.at(at) != '\t'))
            break;
    }
    return QString::fromUtf8(value.trimmed());
}

class SandboxDiagnostics final : public Diagnostics
{
public:
    SandboxDiagnostics(std::function<Db::Connection *()> connection, QObject *parent)
        : Diagnostics(parent)
        , m_connection(connection)
    { }

    void start() override
    {
        QElapsedTimer timer;
        timer.start();
        DiagnosticStep step;
        step.id = QStringLiteral("database");
        step.title = QStringLiteral("Sandbox inbox");
        Q_EMIT stepStarted(step.id, step.title);
        Db::Connection *connection = m_connection();
        auto count = connection
                ? connection->exec(QStringLiteral("SELECT count(*) FROM sandbox_messages"))
                : Common::Result<Db::QueryResult>(
                        Common::fail(QStringLiteral("db.unreachable"),
                                     QStringLiteral("The database is not reachable"), {},
                                     Common::Retry::Transient));
        step.ok = count.has_value();
        step.detail = step.ok ? QStringLiteral("Messages are stored in the database, not sent "
                                               "(%1 there now).")
                                        .arg(count->toInt(0, 0))
                              : count.error().message;
        step.durationMs = timer.elapsed();
        addStep(step);
        finish(timer.elapsed());
    }
    void cancel() override { }

private:
    std::function<Db::Connection *()> m_connection;
};

} // namespace

SandboxTransport::SandboxTransport(std::function<Db::Connection *()> connection, qint64 providerId,
                                   QObject *parent)
    : Transport(parent)
    , m_connection(std::move(connection))
    , m_providerId(providerId)
{ }

Transport::Ticket SandboxTransport::send(const OutgoingMessage &message)
{
    const Ticket ticket = m_nextTicket++;
    m_pending.append({ticket, message, m_nextQueueMessageId});
    m_nextQueueMessageId = 0;
    if (!m_flushScheduled) {
        m_flushScheduled = true;
        QTimer::singleShot(0, this, &SandboxTransport::flush);
    }
    return ticket;
}

void SandboxTransport::flush()
{
    m_flushScheduled = false;
    const QList<Pending> batch = std::exchange(m_pending, {});
    if (batch.isEmpty())
        return;
    // One statement for the batch: parallel arrays, unnested. The messages travel as one binary
    // bytea parameter, cut apart on the server by offset and length: no text encoding on either
    // side for the bulk of the data.
    QList<qint64> queueIds, offsets, lengths;
    QList<std::optional<QString>> headers, froms, recipients, subjects;
    qsizetype total = 0;
    for (const Pending &p : batch)
        total += p.message.data.size();
    QByteArray raws;
    raws.reserve(total);
    for (const Pending &p : batch) {
        queueIds.append(p.queueMessageId);
        headers.append(p.message.messageId);
        froms.append(p.message.envelopeFrom);
        recipients.append(Queue::Sql::textArray(
                {p.message.recipients.cbegin(), p.message.recipients.cend()}));
        subjects.append(subjectOf(p.message.data));
        offsets.append(raws.size() + 1); // substr() counts from 1
        lengths.append(p.message.data.size());
        raws += p.message.data;
    }
    Db::Connection *connection = m_connection();
    auto stored = !connection
            ? Common::Result<Db::QueryResult>(
                    Common::fail(QStringLiteral("db.unreachable"),
                                 QStringLiteral("The database is not reachable"), {},
                                 Common::Retry::Transient))
            : connection->execPrepared(
                    QStringLiteral("INSERT INTO sandbox_messages (provider_id, message_id, "
                                   "  message_id_header, envelope_from, recipients, subject, raw) "
                                   "SELECT $1, nullif(u.q, 0), u.h, u.f, u.r::text[], u.s, "
                                   "  substr($8::bytea, u.o::int, u.l::int) "
                                   "FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], "
                                   "  $6::text[], $7::bigint[], $9::bigint[]) "
                                   "  AS u(q, h, f, r, s, o, l)"),
                    {m_providerId, Queue::Sql::bigintArray(queueIds),
                     Queue::Sql::textArray(headers), Queue::Sql::textArray(froms),
                     Queue::Sql::textArray(recipients), Queue::Sql::textArray(subjects),
                     Queue::Sql::bigintArray(offsets), raws, Queue::Sql::bigintArray(lengths)});
    for (const Pending &p : batch) {
        SendResult result;
        result.messageId = p.message.messageId;
        if (stored) {
            result.accepted = p.message.recipients;
            result.serverReply = QStringLiteral("Stored in the sandbox inbox");
            result.providerMessageId = QStringLiteral("sandbox-") + p.message.messageId;
        } else {
            Common::Error error = stored.error();
            error.message = QStringLiteral("The sandbox could not store the message: ")
                    + error.message;
            error.retry = Common::Retry::Transient;
            result.error = error;
        }
        Q_EMIT sent(p.ticket, result);
    }
    if (m_pending.isEmpty())
        Q_EMIT drained();
}

Diagnostics *SandboxTransport::createDiagnostics(QObject *parent) const
{
    return new SandboxDiagnostics(m_connection, parent);
}

} // namespace Providers
