#pragma once

#include "providers/diagnostics.h"
#include "providers/providerurl.h"
#include "providers/transport.h"

#include "providers/http/httpclient.h"

#include <QElapsedTimer>
#include <QHash>
#include <QQueue>

#include <functional>

namespace Providers {

// How a failed answer is classified; each provider's documentation decides (see their classify()).
enum class HttpFailure {
    Credentials, // 401 and the like: permanent, the transport becomes unhealthy
    RateLimited, // 429: transient, honour Retry-After
    Transient,   // 5xx, timeouts, dropped connections
    Rejected,    // request validation: permanent for this message
};

// Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date; nullopt when absent.
std::optional<int> parseRetryAfter(const QByteArray &value, const QDateTime &now);

// The shared part of the HTTP provider transports: one keep-alive HttpClient per transport, with
// as many connections as requests in flight, at most settings().maxInFlight requests at once (the
// rest wait in order), timeouts, and the mapping of answers to SendResult. Subclasses build
// requests and read answers.
class HttpTransport : public Transport
{
    Q_OBJECT
public:
    explicit HttpTransport(const HttpProviderSettings &settings, QString providerName,
                           QObject *parent = nullptr);
    ~HttpTransport() override;

    Ticket send(const OutgoingMessage &message) override;
    int pendingCount() const override;
    void closeIdle() override;
    bool isHealthy() const override { return m_healthy; }

    const HttpProviderSettings &settings() const { return m_settings; }
    int inFlightCount() const { return int(m_inFlight.size()); }
    QString providerName() const { return m_providerName; }

protected:
    // Builds the request for one message; an error fails the message at once (permanent).
    virtual Common::Result<HttpRequest> buildRequest(const OutgoingMessage &message) = 0;
    // Reads a 2xx answer into result (providerMessageId); may set result.error when the body
    // reports a failure despite the status.
    virtual void readSuccess(const HttpAnswer &answer, SendResult &result) const = 0;
    // The provider's explanation of a failed answer, from its documented error body.
    virtual QString explain(const HttpAnswer &answer) const;
    // Default: 401/403 credentials, 429 rate-limited, 408/5xx/no answer transient, else rejected.
    virtual HttpFailure classify(const HttpAnswer &answer) const;

    // The endpoint with path appended (baseUrl's own path kept, for proxies and test servers).
    QUrl endpoint(const QString &defaultBase, const QString &path) const;

private:
    struct Pending
    {
        Ticket ticket;
        OutgoingMessage message;
    };
    void startNext();
    void finishMessage(Ticket ticket, const OutgoingMessage &message, const HttpAnswer &answer);
    void setHealthy(bool healthy, const QString &reason);

    Q_DISABLE_COPY_MOVE(HttpTransport)
    HttpProviderSettings m_settings;
    QString m_providerName;
    HttpClient *m_client;
    QQueue<Pending> m_queue;
    QHash<Ticket, quint64> m_inFlight; // the client's request ids
    Ticket m_nextTicket = 1;
    bool m_healthy = true;
    bool m_startScheduled = false;
};

// A connection check made of HTTP requests that send nothing (the provider's account or key
// endpoints), each a timed step.
class HttpDiagnostics final : public Diagnostics
{
    Q_OBJECT
public:
    struct Step
    {
        QString id;
        QString title;
        HttpRequest request;
        // When set, makes the request as the step starts (for signatures that expire).
        std::function<HttpRequest()> prepare;
        // Fills detail and facts from a 2xx answer; returns false when the answer shows a problem.
        std::function<bool(const HttpAnswer &, DiagnosticStep &)> evaluate;
        // Explains a failed answer; the transport's own explanation when empty.
        std::function<QString(const HttpAnswer &)> explain;
    };

    HttpDiagnostics(const HttpProviderSettings &settings, QList<Step> steps,
                    QObject *parent = nullptr);
    void start() override;
    void cancel() override;

private:
    void runStep(int index);

    Q_DISABLE_COPY_MOVE(HttpDiagnostics)
    HttpClient *m_client;
    HttpProviderSettings m_settings;
    QList<Step> m_steps;
    QElapsedTimer m_total;
    quint64 m_current = 0; // the client's id of the running step's request
    int m_index = 0;
};

} // namespace Providers
