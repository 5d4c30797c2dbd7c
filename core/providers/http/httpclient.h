#pragma once

#include <QHash>
#include <QList>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QObject>

#include <deque>
#include <functional>
#include <memory>

namespace Providers {

// A request as a provider transport builds it.
struct HttpRequest
{
    QNetworkRequest request; // URL, headers and TLS configuration
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

// A small HTTP/1.1 client (RFC 9112) for the provider APIs, on the thread it lives in: a pool of
// at most maxConnections keep-alive connections (QTcpSocket, or QSslSocket with the request's TLS
// configuration, so peers are verified against the system's CAs unless the request says
// otherwise), one request at a time on each (no pipelining), each request written in one piece.
// Answers with Content-Length, chunked or close-delimited bodies are read; "Connection: close" is
// honoured. A request sent on a reused connection that the server had closed meanwhile is sent
// once more on a new connection, but only when nothing of an answer arrived. Each request has one
// timeout, from start() to the last byte of the answer (connecting included). No proxies, no
// redirects, no compression: the provider APIs need none of them.
//
// QNetworkAccessManager is not used because its HTTP/1 channel (Qt 6.4) reads status lines and
// headers one byte per read() and hands every request to a second thread, which cost more CPU per
// request than the whole rest of sending a message.
class HttpClient final : public QObject
{
    Q_OBJECT
public:
    using Callback = std::function<void(const HttpAnswer &)>;

    explicit HttpClient(int maxConnections, QObject *parent = nullptr);
    ~HttpClient() override;

    // Starts request; done gets the answer once, always from the event loop (never from within
    // start()). The id is for abort(); never 0.
    quint64 start(const HttpRequest &request, int timeoutMs, Callback done);
    // Forgets a request: its callback will not run; its connection, if busy with it, is closed.
    void abort(quint64 id);
    // Closes the connections that are not busy.
    void closeIdle();

    int connectionCount() const { return int(m_connections.size()); }
    int maxConnections() const { return m_maxConnections; }

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    struct Call;
    struct Connection;

    void dispatch();
    void scheduleDispatch();
    Connection *openConnection(const Call &call);
    void assign(Connection *connection, Call *call);
    void writeRequest(Connection *connection);
    void handleReadyRead(Connection *connection);
    void handleClosed(Connection *connection);
    enum class Parsed { Incomplete, Complete, Failed };
    // Parses what has arrived. Failed: the call has been answered with the error (and this client
    // may be gone).
    Parsed parse(Connection *connection);
    void completeCall(Connection *connection);
    void failCall(Call *call, QNetworkReply::NetworkError error, const QString &message,
                  bool timedOut = false);
    void finishCall(Call *call, const HttpAnswer &answer);
    void dropConnection(Connection *connection);

    Q_DISABLE_COPY_MOVE(HttpClient)
    int m_maxConnections;
    quint64 m_nextId = 1;
    QHash<quint64, Call *> m_calls;
    QHash<int, Call *> m_timers;
    std::deque<Call *> m_queue; // not yet on a connection, in order
    QList<Connection *> m_connections;
    bool m_dispatchScheduled = false;
    int m_inCallback = 0;
};

} // namespace Providers
