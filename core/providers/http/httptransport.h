#pragma once

#include "providers/diagnostics.h"
#include "providers/providerurl.h"
#include "providers/transport.h"

#include <QElapsedTimer>
#include <QHash>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QQueue>

#include <functional>

class QNetworkAccessManager;

namespace Providers {

// A request as a provider transport builds it.
struct HttpRequest
{
    QNetworkRequest request; // URL and headers
    QByteArray verb = "POST";
    QByteArray body;

    // A POST of a JSON body to request's URL, with its Content-Type set.
    static HttpRequest jsonPost(QNetworkRequest request, QByteArray body)
    {
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        return HttpRequest{std::move(request), QByteArrayLiteral("POST"), std::move(body)};
    }
};

// What came back: the status (0 when no answer arrived), headers, body, and the network error.
struct HttpAnswer
{
    int status = 0;
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;
    QNetworkReply::NetworkError networkError = QNetworkReply::NoError;
    QString errorString;
    bool timedOut = false;

    QByteArray header(QByteArrayView name) const;
    bool isSuccess() const { return status >= 200 && status < 300; }
};

// How a failed answer is classified; each provider's documentation decides (see their classify()).
enum class HttpFailure {
    Credentials, // 401 and the like: permanent, the transport becomes unhealthy
    RateLimited, // 429: transient, honour Retry-After
    Transient,   // 5xx, timeouts, dropped connections
    Rejected,    // request validation: permanent for this message
};

// Starts request on network with a transfer timeout; done gets the answer once, on finishing.
QNetworkReply *startHttpRequest(QNetworkAccessManager *network, const HttpRequest &request,
                                int timeoutMs, std::function<void(const HttpAnswer &)> done);

// Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date; nullopt when absent.
std::optional<int> parseRetryAfter(const QByteArray &value, const QDateTime &now);

// The shared part of the HTTP provider transports: one keep-alive QNetworkAccessManager per
// transport, at most settings().maxInFlight requests at once (the rest wait in order), timeouts,
// and the mapping of answers to SendResult. Subclasses build requests and read answers.
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
    QNetworkAccessManager *m_network;
    QQueue<Pending> m_queue;
    QHash<Ticket, QNetworkReply *> m_inFlight;
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
    QNetworkAccessManager *m_network;
    HttpProviderSettings m_settings;
    QList<Step> m_steps;
    QElapsedTimer m_total;
    QNetworkReply *m_current = nullptr;
    int m_index = 0;
};

} // namespace Providers
