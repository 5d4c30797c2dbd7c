#include "httptransport.h"

#include <QDateTime>
#include <QLocale>
#include <QLoggingCategory>
#include <QTimer>

Q_LOGGING_CATEGORY(lcHttpProvider, "postdesk.providers.http")

namespace Providers {

std::optional<int> parseRetryAfter(const QByteArray &value, const QDateTime &now)
{
    const QByteArray v = value.trimmed();
    if (v.isEmpty())
        return std::nullopt;
    bool ok = false;
    const int seconds = v.toInt(&ok);
    if (ok)
        return seconds >= 0 ? std::optional<int>(seconds) : std::nullopt;
    // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT"
    QDateTime when = QLocale::c().toDateTime(QString::fromLatin1(
                                                     v.chopped(v.endsWith(" GMT") ? 4 : 0)),
                                             QStringLiteral("ddd, dd MMM yyyy HH:mm:ss"));
    if (!when.isValid())
        return std::nullopt;
    when.setTimeSpec(Qt::UTC);
    return int(std::max<qint64>(0, now.secsTo(when)));
}

HttpTransport::HttpTransport(const HttpProviderSettings &settings, QString providerName,
                             QObject *parent)
    : Transport(parent)
    , m_settings(settings)
    , m_providerName(std::move(providerName))
    , m_client(new HttpClient(settings.maxInFlight, this))
{ }

HttpTransport::~HttpTransport()
{
    // Requests still running must not call back into a transport half destroyed.
    delete m_client;
}

Transport::Ticket HttpTransport::send(const OutgoingMessage &message)
{
    const Ticket ticket = m_nextTicket++;
    m_queue.enqueue({ticket, message});
    // Started from the event loop, so that sent() never arrives before send() has returned.
    if (!m_startScheduled) {
        m_startScheduled = true;
        QMetaObject::invokeMethod(this, &HttpTransport::startNext, Qt::QueuedConnection);
    }
    return ticket;
}

int HttpTransport::pendingCount() const
{
    return int(m_queue.size() + m_inFlight.size());
}

void HttpTransport::closeIdle()
{
    if (m_inFlight.isEmpty())
        m_client->closeIdle();
}

QUrl HttpTransport::endpoint(const QString &defaultBase, const QString &path) const
{
    QUrl url = m_settings.baseUrl.isEmpty() ? QUrl(defaultBase) : m_settings.baseUrl;
    QString basePath = url.path();
    if (basePath.endsWith(u'/'))
        basePath.chop(1);
    url.setPath(basePath + path);
    return url;
}

void HttpTransport::startNext()
{
    m_startScheduled = false;
    while (!m_queue.isEmpty() && m_inFlight.size() < m_settings.maxInFlight) {
        const Pending next = m_queue.dequeue();
        auto built = buildRequest(next.message);
        if (!built) {
            SendResult result;
            result.messageId = next.message.messageId;
            result.error = built.error();
            Q_EMIT sent(next.ticket, result);
            continue;
        }
        const Ticket ticket = next.ticket;
        m_inFlight.insert(ticket,
                          m_client->start(*built, m_settings.timeoutMs,
                                          [this, ticket,
                                           message = next.message](const HttpAnswer &answer) {
                                              finishMessage(ticket, message, answer);
                                          }));
    }
    if (m_queue.isEmpty() && m_inFlight.isEmpty())
        Q_EMIT drained();
}

QString HttpTransport::explain(const HttpAnswer &answer) const
{
    return QString::fromUtf8(answer.body.left(500)).trimmed();
}

HttpFailure HttpTransport::classify(const HttpAnswer &answer) const
{
    if (answer.status == 401 || answer.status == 403)
        return HttpFailure::Credentials;
    if (answer.status == 429)
        return HttpFailure::RateLimited;
    if (answer.status == 0 || answer.status == 408 || answer.status >= 500)
        return HttpFailure::Transient;
    return HttpFailure::Rejected;
}

void HttpTransport::finishMessage(Ticket ticket, const OutgoingMessage &message,
                                  const HttpAnswer &answer)
{
    m_inFlight.remove(ticket);
    SendResult result;
    result.messageId = message.messageId;
    result.httpStatus = answer.status;
    result.serverReply = answer.status ? QStringLiteral("HTTP %1 %2")
                                                 .arg(answer.status)
                                                 .arg(QString::fromUtf8(answer.body.left(300)))
                                                 .trimmed()
                                       : answer.errorString;
    if (answer.isSuccess()) {
        readSuccess(answer, result);
        if (!result.error)
            result.accepted = message.recipients;
        if (!m_healthy)
            setHealthy(true, {});
    } else if (answer.status == 0) {
        const QString what = answer.timedOut
                ? QStringLiteral("%1 did not answer within %2 s")
                          .arg(m_providerName)
                          .arg(m_settings.timeoutMs / 1000.0)
                : QStringLiteral("The connection to %1 failed").arg(m_providerName);
        result.error = Common::makeError(answer.timedOut ? QStringLiteral("http.timeout")
                                                         : QStringLiteral("http.network"),
                                         what, answer.errorString, Common::Retry::Transient);
    } else {
        const QString explanation = explain(answer);
        const QString detail = QStringLiteral("HTTP %1: %2").arg(answer.status).arg(explanation);
        switch (classify(answer)) {
        case HttpFailure::Credentials:
            result.credentialsRefused = true;
            result.error =
                    Common::makeError(QStringLiteral("http.credentials"),
                                      QStringLiteral(
                                              "%1 refused the credentials; check the API key")
                                              .arg(m_providerName),
                                      detail, Common::Retry::Permanent);
            setHealthy(false, explanation);
            break;
        case HttpFailure::RateLimited:
            result.rateLimited = true;
            result.retryAfterSeconds = parseRetryAfter(answer.header("Retry-After"),
                                                       QDateTime::currentDateTimeUtc());
            result.error = Common::makeError(QStringLiteral("http.rate-limited"),
                                             QStringLiteral(
                                                     "%1 is rate-limiting us; try again later")
                                                     .arg(m_providerName),
                                             detail, Common::Retry::Transient);
            break;
        case HttpFailure::Transient:
            result.error = Common::makeError(QStringLiteral("http.server"),
                                             QStringLiteral("%1 had a temporary problem")
                                                     .arg(m_providerName),
                                             detail, Common::Retry::Transient);
            break;
        case HttpFailure::Rejected:
            result.error = Common::makeError(QStringLiteral("http.rejected"),
                                             QStringLiteral("%1 rejected the message: %2")
                                                     .arg(m_providerName, explanation),
                                             detail, Common::Retry::Permanent);
            break;
        }
    }
    if (result.error) {
        qCDebug(lcHttpProvider) << m_providerName << message.messageId << result.error->toString();
    }
    Q_EMIT sent(ticket, result);
    startNext();
}

void HttpTransport::setHealthy(bool healthy, const QString &reason)
{
    if (m_healthy == healthy)
        return;
    m_healthy = healthy;
    Q_EMIT healthChanged(healthy, reason);
}

HttpDiagnostics::HttpDiagnostics(const HttpProviderSettings &settings, QList<Step> steps,
                                 QObject *parent)
    : Diagnostics(parent)
    , m_client(new HttpClient(1, this))
    , m_settings(settings)
    , m_steps(std::move(steps))
{ }

void HttpDiagnostics::start()
{
    m_total.start();
    m_index = 0;
    runStep(0);
}

void HttpDiagnostics::cancel()
{
    if (isFinished())
        return;
    if (m_current) {
        m_client->abort(m_current);
        m_current = 0;
    }
    DiagnosticStep step;
    step.id = m_index < m_steps.size() ? m_steps[m_index].id : QStringLiteral("cancel");
    step.title = m_index < m_steps.size() ? m_steps[m_index].title : QStringLiteral("Cancelled");
    step.detail = QStringLiteral("Cancelled");
    addStep(step);
    finish(m_total.elapsed());
}

void HttpDiagnostics::runStep(int index)
{
    m_index = index;
    if (index >= m_steps.size()) {
        finish(m_total.elapsed());
        return;
    }
    Step &step = m_steps[index];
    if (step.prepare)
        step.request = step.prepare();
    Q_EMIT stepStarted(step.id, step.title);
    QElapsedTimer timer;
    timer.start();
    m_current = m_client->start(step.request, m_settings.timeoutMs, [this, index, timer](const HttpAnswer &answer) {
        m_current = 0;
        const Step &s = m_steps[index];
        DiagnosticStep result;
        result.id = s.id;
        result.title = s.title;
        result.facts.append({QStringLiteral("Endpoint"),
                             s.request.request.url().toString(QUrl::RemoveUserInfo)});
        if (answer.status)
            result.facts.append({QStringLiteral("HTTP status"), QString::number(answer.status)});
        if (answer.isSuccess()) {
            result.ok = s.evaluate(answer, result);
        } else if (answer.status == 0) {
            result.detail = answer.timedOut
                    ? QStringLiteral("No answer within %1 s").arg(m_settings.timeoutMs / 1000.0)
                    : QStringLiteral("Could not connect: %1").arg(answer.errorString);
        } else {
            const QString why = s.explain ? s.explain(answer) : QString::fromUtf8(answer.body);
            if (answer.status == 401 || answer.status == 403)
                result.detail = QStringLiteral("The credentials were refused (HTTP %1): %2")
                                        .arg(answer.status)
                                        .arg(why);
            else
                result.detail = QStringLiteral("HTTP %1: %2").arg(answer.status).arg(why);
        }
        result.durationMs = timer.elapsed();
        addStep(result);
        if (!result.ok) {
            finish(m_total.elapsed());
            return;
        }
        runStep(index + 1);
    });
}

} // namespace Providers
