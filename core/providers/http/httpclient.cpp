#include "httpclient.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QSslSocket>
#include <QTimerEvent>

Q_DECLARE_LOGGING_CATEGORY(lcHttpProvider)

namespace Providers {

namespace {

// Bounds on what a server may send; a provider API's answers are a few kilobytes.
constexpr qsizetype maxHeaderBytes = 64 * 1024;
constexpr qint64 maxBodyBytes = 64 * 1024 * 1024;

bool hasToken(const QByteArray &list, QByteArrayView token)
{
    for (const QByteArray &item : list.split(',')) {
        if (item.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

QNetworkReply::NetworkError networkErrorOf(QAbstractSocket::SocketError error)
{
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        return QNetworkReply::ConnectionRefusedError;
    case QAbstractSocket::RemoteHostClosedError:
        return QNetworkReply::RemoteHostClosedError;
    case QAbstractSocket::HostNotFoundError:
        return QNetworkReply::HostNotFoundError;
    case QAbstractSocket::SocketTimeoutError:
        return QNetworkReply::TimeoutError;
    case QAbstractSocket::SslHandshakeFailedError:
    case QAbstractSocket::SslInternalError:
    case QAbstractSocket::SslInvalidUserDataError:
        return QNetworkReply::SslHandshakeFailedError;
    default:
        return QNetworkReply::UnknownNetworkError;
    }
}

} // namespace

QByteArray HttpAnswer::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

struct HttpClient::Call
{
    quint64 id = 0;
    QByteArray origin; // scheme://host:port, the connections it may use
    QString host;
    quint16 port = 0;
    bool tls = false;
    QSslConfiguration tlsConfiguration;
    QByteArray wire; // the whole request as sent
    int timerId = 0;
    int timeoutMs = 0;
    bool resent = false;
    Connection *connection = nullptr;
    Callback done;
};

struct HttpClient::Connection
{
    enum class State {
        Status,
        Headers,
        Body,
        ChunkSize,
        ChunkData,
        ChunkEnd,
        Trailers,
        UntilClose
    };

    QSslSocket *socket = nullptr;
    QByteArray origin;
    bool tls = false;
    bool ready = false; // connected, and encrypted when tls
    int answered = 0;   // answers read completely on this connection
    Call *call = nullptr;

    // The answer being read.
    QByteArray buffer;
    qsizetype position = 0;
    State state = State::Status;
    bool received = false; // a byte of an answer arrived
    bool closeAfter = false;
    qint64 remaining = 0;
    HttpAnswer answer;

    void reset()
    {
        buffer.clear();
        position = 0;
        state = State::Status;
        received = false;
        closeAfter = false;
        remaining = 0;
        answer = HttpAnswer();
    }
};

HttpClient::HttpClient(int maxConnections, QObject *parent)
    : QObject(parent)
    , m_maxConnections(std::max(1, maxConnections))
{ }

HttpClient::~HttpClient()
{
    // The sockets may be in the middle of emitting a signal (a callback deleted its client), so
    // they go later, silenced.
    for (Connection *c : std::as_const(m_connections)) {
        c->socket->disconnect(this);
        c->socket->abort();
        c->socket->setParent(nullptr);
        c->socket->deleteLater();
        delete c;
    }
    qDeleteAll(m_calls);
}

quint64 HttpClient::start(const HttpRequest &request, int timeoutMs, Callback done)
{
    auto call = std::make_unique<Call>();
    call->id = m_nextId++;
    call->done = std::move(done);
    call->timeoutMs = timeoutMs;
    const QUrl url = request.request.url();
    const QString scheme = url.scheme().toLower();
    call->tls = scheme == u"https";
    const quint16 defaultPort = call->tls ? 443 : 80;
    call->host = url.host();
    call->port = quint16(url.port(defaultPort));
    if (call->tls)
        call->tlsConfiguration = request.request.sslConfiguration();
    call->origin = scheme.toLatin1() + "://" + call->host.toUtf8() + ':'
            + QByteArray::number(call->port);

    Call *c = call.release();
    m_calls.insert(c->id, c);
    if (timeoutMs > 0) {
        c->timerId = startTimer(timeoutMs, Qt::CoarseTimer);
        m_timers.insert(c->timerId, c);
    }
    const auto refuse = [this, c](QNetworkReply::NetworkError error, const QString &why) {
        const quint64 id = c->id;
        QMetaObject::invokeMethod(
                this,
                [this, id, error, why] {
                    if (Call *bad = m_calls.value(id))
                        failCall(bad, error, why);
                },
                Qt::QueuedConnection);
        return id;
    };
    if (!url.isValid() || c->host.isEmpty() || (scheme != u"http" && scheme != u"https")) {
        return refuse(QNetworkReply::ProtocolUnknownError,
                      QStringLiteral("Cannot send to \"%1\": only http and https URLs with a "
                                     "host are supported")
                              .arg(url.toString(QUrl::RemoveUserInfo)));
    }
    // A line break or a colon in the wrong place would let a configured header write headers
    // (or a request) of its own.
    for (const QByteArray &name : request.request.rawHeaderList()) {
        const QByteArray value = request.request.rawHeader(name);
        const auto breaks = [](const QByteArray &b) {
            return b.contains('\r') || b.contains('\n') || b.contains('\0');
        };
        if (name.isEmpty() || name.contains(':') || name.contains(' ') || breaks(name)
            || breaks(value)) {
            return refuse(QNetworkReply::ProtocolInvalidOperationError,
                          QStringLiteral("The header \"%1\" has a line break, a colon or a "
                                         "space in its name, or a line break in its value: fix "
                                         "the provider's headers")
                                  .arg(QString::fromLatin1(name.left(60)).simplified()));
        }
    }

    // The request line and headers (RFC 9112 section 3), then the body, in one buffer so that
    // it leaves in one write.
    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (c->port != defaultPort)
        host += ':' + QByteArray::number(c->port);
    QByteArray &wire = c->wire;
    wire.reserve(256 + request.body.size());
    wire += request.verb + ' ' + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
    bool userAgent = false;
    for (const QByteArray &name : request.request.rawHeaderList()) {
        // Framing is ours to state.
        if (name.compare("Host", Qt::CaseInsensitive) == 0
            || name.compare("Content-Length", Qt::CaseInsensitive) == 0
            || name.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0
            || name.compare("Connection", Qt::CaseInsensitive) == 0)
            continue;
        userAgent = userAgent || name.compare("User-Agent", Qt::CaseInsensitive) == 0;
        wire += name + ": " + request.request.rawHeader(name) + "\r\n";
    }
    if (!userAgent)
        wire += "User-Agent: Postdesk\r\n";
    if (!request.body.isEmpty() || (request.verb != "GET" && request.verb != "HEAD"))
        wire += "Content-Length: " + QByteArray::number(request.body.size()) + "\r\n";
    wire += "\r\n";
    wire += request.body;

    m_queue.push_back(c);
    scheduleDispatch();
    return c->id;
}

void HttpClient::abort(quint64 id)
{
    Call *call = m_calls.take(id);
    if (!call)
        return;
    if (call->timerId) {
        killTimer(call->timerId);
        m_timers.remove(call->timerId);
    }
    if (Connection *c = call->connection) {
        c->call = nullptr;
        dropConnection(c);
    } else {
        std::erase(m_queue, call);
    }
    delete call;
    scheduleDispatch();
}

void HttpClient::closeIdle()
{
    const QList<Connection *> all = m_connections;
    for (Connection *c : all) {
        if (!c->call)
            dropConnection(c);
    }
}

void HttpClient::timerEvent(QTimerEvent *event)
{
    Call *call = m_timers.value(event->timerId());
    if (!call) {
        QObject::timerEvent(event);
        return;
    }
    failCall(call, QNetworkReply::TimeoutError,
             QStringLiteral("No complete answer within %1 ms").arg(call->timeoutMs), true);
}

void HttpClient::scheduleDispatch()
{
    // Within a callback, finishCall() dispatches right after it.
    if (m_dispatchScheduled || m_queue.empty() || m_inCallback > 0)
        return;
    m_dispatchScheduled = true;
    QMetaObject::invokeMethod(
            this,
            [this] {
                m_dispatchScheduled = false;
                dispatch();
            },
            Qt::QueuedConnection);
}

void HttpClient::dispatch()
{
    while (!m_queue.empty()) {
        Call *call = m_queue.front();
        Connection *idle = nullptr;
        Connection *idleElsewhere = nullptr;
        for (Connection *c : std::as_const(m_connections)) {
            if (c->call)
                continue;
            if (c->origin == call->origin) {
                idle = c;
                break;
            }
            idleElsewhere = c;
        }
        if (!idle) {
            if (m_connections.size() >= m_maxConnections) {
                if (!idleElsewhere)
                    return; // every connection is busy: the next answer dispatches again
                dropConnection(idleElsewhere);
            }
            idle = openConnection(*call);
        }
        m_queue.pop_front();
        QPointer<HttpClient> self(this);
        assign(idle, call); // a failed write answers at once, and the callback may delete this
        if (!self)
            return;
    }
}

HttpClient::Connection *HttpClient::openConnection(const Call &call)
{
    auto *c = new Connection;
    c->origin = call.origin;
    c->tls = call.tls;
    c->socket = new QSslSocket(this);
    QSslSocket *socket = c->socket;
    m_connections.append(c);
    const auto ready = [this, c] {
        c->ready = true;
        // Requests and answers are small and each waits for the other: no Nagle delay.
        c->socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        if (c->call)
            writeRequest(c);
    };
    if (call.tls) {
        socket->setSslConfiguration(call.tlsConfiguration);
        connect(socket, &QSslSocket::encrypted, this, ready);
    } else {
        connect(socket, &QAbstractSocket::connected, this, ready);
    }
    connect(socket, &QIODevice::readyRead, this, [this, c] { handleReadyRead(c); });
    connect(socket, &QAbstractSocket::disconnected, this, [this, c] { handleClosed(c); });
    connect(socket, &QAbstractSocket::errorOccurred, this, [this, c] { handleClosed(c); });
    if (call.tls)
        socket->connectToHostEncrypted(call.host, call.port);
    else
        socket->connectToHost(call.host, call.port);
    return c;
}

void HttpClient::assign(Connection *connection, Call *call)
{
    connection->call = call;
    connection->reset();
    call->connection = connection;
    if (connection->ready)
        writeRequest(connection);
}

void HttpClient::writeRequest(Connection *connection)
{
    connection->socket->write(connection->call->wire);
    connection->socket->flush();
}

void HttpClient::handleReadyRead(Connection *connection)
{
    if (!connection->call) {
        // Nothing was asked: whatever this is, the connection cannot be trusted any more.
        dropConnection(connection);
        return;
    }
    connection->buffer += connection->socket->readAll();
    connection->received = connection->received || !connection->buffer.isEmpty();
    // On Failed the call has been answered and this client may be gone.
    if (parse(connection) == Parsed::Complete)
        completeCall(connection);
}

void HttpClient::handleClosed(Connection *connection)
{
    if (!m_connections.contains(connection))
        return; // errorOccurred and disconnected both report one closing
    Call *call = connection->call;
    if (call && connection->socket->bytesAvailable() > 0) {
        // What arrived just before the close may complete the answer.
        connection->buffer += connection->socket->readAll();
        connection->received = true;
        const Parsed parsed = parse(connection);
        if (parsed == Parsed::Failed)
            return;
        if (parsed == Parsed::Complete) {
            completeCall(connection);
            return;
        }
    }
    const QAbstractSocket::SocketError error = connection->socket->error();
    const QString errorString = connection->socket->errorString();
    if (call && connection->state == Connection::State::UntilClose
        && error == QAbstractSocket::RemoteHostClosedError) {
        // The body ends where the connection does (RFC 9112 section 6.3, item 8).
        connection->buffer += connection->socket->readAll();
        connection->answer.body = connection->buffer.mid(connection->position);
        connection->closeAfter = true;
        completeCall(connection);
        return;
    }
    connection->call = nullptr;
    const bool reused = connection->answered > 0;
    const bool anythingBack = connection->received || connection->socket->bytesAvailable() > 0;
    dropConnection(connection);
    if (!call)
        return; // an idle keep-alive connection the server closed
    call->connection = nullptr;
    if (reused && !anythingBack && !call->resent) {
        // The server closed a kept-alive connection as the request went out on it (RFC 9112
        // section 9.3.1): nothing was answered, so the request goes once more on a new one.
        qCDebug(lcHttpProvider) << "resending on a new connection to" << call->origin;
        call->resent = true;
        m_queue.push_front(call);
        dispatch();
        return;
    }
    failCall(call, anythingBack ? QNetworkReply::RemoteHostClosedError : networkErrorOf(error),
             anythingBack ? QStringLiteral("The connection closed in the middle of the answer")
                          : errorString);
}

HttpClient::Parsed HttpClient::parse(Connection *connection)
{
    using State = Connection::State;
    Connection &c = *connection;
    QByteArray &in = c.buffer;
    HttpAnswer &answer = c.answer;
    const auto protocolError = [&](const QString &what) {
        Call *call = c.call;
        c.call = nullptr;
        call->connection = nullptr;
        dropConnection(connection);
        failCall(call, QNetworkReply::ProtocolFailure,
                 QStringLiteral("Unreadable HTTP answer: %1").arg(what));
        return Parsed::Failed;
    };
    // One CRLF-terminated line from position, or nullopt when it has not all arrived.
    const auto line = [&]() -> std::optional<QByteArrayView> {
        const qsizetype end = in.indexOf('\n', c.position);
        if (end < 0)
            return std::nullopt;
        QByteArrayView l(in.constData() + c.position, end - c.position);
        if (l.endsWith('\r'))
            l.chop(1);
        c.position = end + 1;
        return l;
    };

    for (;;) {
        switch (c.state) {
        case State::Status: {
            const auto l = line();
            if (!l) {
                if (in.size() - c.position > maxHeaderBytes)
                    return protocolError(QStringLiteral("the status line is too long"));
                return Parsed::Incomplete;
            }
            // HTTP-version SP status-code SP [reason-phrase]
            if (!l->startsWith("HTTP/1.") || l->size() < 12 || (*l)[8] != ' ')
                return protocolError(QStringLiteral("no HTTP/1.x status line"));
            bool ok = false;
            answer.status = l->sliced(9, 3).toInt(&ok);
            if (!ok || answer.status < 100 || answer.status > 999)
                return protocolError(QStringLiteral("no status code"));
            // HTTP/1.0 closes unless asked otherwise (RFC 9112 section 9.3).
            c.closeAfter = (*l)[7] == '0';
            answer.headers.clear();
            c.state = State::Headers;
            break;
        }
        case State::Headers: {
            const auto l = line();
            if (!l) {
                if (in.size() - c.position > maxHeaderBytes)
                    return protocolError(QStringLiteral("the header section is too long"));
                return Parsed::Incomplete;
            }
            if (!l->isEmpty()) {
                const qsizetype colon = l->indexOf(':');
                if (colon <= 0)
                    return protocolError(QStringLiteral("a header line without a name"));
                answer.headers.append({l->first(colon).trimmed().toByteArray(),
                                       l->sliced(colon + 1).trimmed().toByteArray()});
                break;
            }
            // The header section ends: decide how the body is framed (RFC 9112 section 6.3).
            if (answer.status < 200) {
                c.state = State::Status; // 100 Continue and the like: the real answer follows
                break;
            }
            const QByteArray connectionHeader = answer.header("Connection");
            if (hasToken(connectionHeader, "close"))
                c.closeAfter = true;
            else if (hasToken(connectionHeader, "keep-alive"))
                c.closeAfter = false;
            const QByteArray transferEncoding = answer.header("Transfer-Encoding");
            const QByteArray contentLength = answer.header("Content-Length");
            in.remove(0, c.position);
            c.position = 0;
            if (answer.status == 204 || answer.status == 304) {
                return Parsed::Complete;
            } else if (!transferEncoding.isEmpty()) {
                if (!transferEncoding.trimmed().toLower().endsWith("chunked"))
                    return protocolError(QStringLiteral("unsupported transfer coding \"%1\"")
                                                 .arg(QString::fromLatin1(transferEncoding)));
                c.state = State::ChunkSize;
            } else if (!contentLength.isEmpty()) {
                bool ok = false;
                c.remaining = contentLength.trimmed().toLongLong(&ok);
                if (!ok || c.remaining < 0 || c.remaining > maxBodyBytes)
                    return protocolError(QStringLiteral("a bad Content-Length"));
                c.state = State::Body;
            } else {
                c.closeAfter = true;
                c.state = State::UntilClose;
            }
            break;
        }
        case State::Body:
            if (in.size() < c.remaining)
                return Parsed::Incomplete;
            if (in.size() == c.remaining) {
                answer.body = std::exchange(in, QByteArray());
            } else {
                answer.body = in.left(c.remaining);
                in.remove(0, c.remaining); // more than was announced: see completeCall()
            }
            return Parsed::Complete;
        case State::ChunkSize: {
            const auto l = line();
            if (!l) {
                if (in.size() - c.position > 1024)
                    return protocolError(QStringLiteral("a chunk size line is too long"));
                return Parsed::Incomplete;
            }
            QByteArrayView size = *l;
            if (const qsizetype semicolon = size.indexOf(';'); semicolon >= 0)
                size = size.first(semicolon); // chunk extensions are ignored
            bool ok = false;
            c.remaining = size.trimmed().toLongLong(&ok, 16);
            if (!ok || c.remaining < 0 || answer.body.size() + c.remaining > maxBodyBytes)
                return protocolError(QStringLiteral("a bad chunk size"));
            c.state = c.remaining == 0 ? State::Trailers : State::ChunkData;
            break;
        }
        case State::ChunkData: {
            if (in.size() - c.position < c.remaining)
                return Parsed::Incomplete;
            answer.body.append(in.constData() + c.position, c.remaining);
            c.position += c.remaining;
            c.state = State::ChunkEnd;
            break;
        }
        case State::ChunkEnd: {
            const auto l = line();
            if (!l)
                return Parsed::Incomplete;
            if (!l->isEmpty())
                return protocolError(QStringLiteral("a chunk longer than its size"));
            in.remove(0, c.position);
            c.position = 0;
            c.state = State::ChunkSize;
            break;
        }
        case State::Trailers: {
            const auto l = line();
            if (!l)
                return Parsed::Incomplete;
            if (l->isEmpty()) {
                in.remove(0, c.position);
                c.position = 0;
                return Parsed::Complete;
            }
            break; // trailer fields are not used
        }
        case State::UntilClose:
            if (in.size() - c.position > maxBodyBytes)
                return protocolError(QStringLiteral("the answer is too long"));
            return Parsed::Incomplete;
        }
    }
}

void HttpClient::completeCall(Connection *connection)
{
    Call *call = connection->call;
    HttpAnswer answer = std::move(connection->answer);
    connection->call = nullptr;
    call->connection = nullptr;
    ++connection->answered;
    // Bytes after the answer were never asked for: such a connection is not reused.
    if (connection->closeAfter || !connection->buffer.isEmpty()
        || connection->socket->bytesAvailable() > 0)
        dropConnection(connection);
    else
        connection->reset();
    finishCall(call, answer);
}

void HttpClient::failCall(Call *call, QNetworkReply::NetworkError error, const QString &message,
                          bool timedOut)
{
    if (Connection *c = call->connection) {
        // The connection is in an unknown state (say, half an answer read): it is not reused.
        c->call = nullptr;
        call->connection = nullptr;
        dropConnection(c);
    } else {
        std::erase(m_queue, call);
    }
    HttpAnswer answer;
    answer.networkError = error;
    answer.errorString = message;
    answer.timedOut = timedOut;
    finishCall(call, answer);
}

void HttpClient::finishCall(Call *call, const HttpAnswer &answer)
{
    m_calls.remove(call->id);
    if (call->timerId) {
        killTimer(call->timerId);
        m_timers.remove(call->timerId);
    }
    const Callback done = std::move(call->done);
    delete call;
    // The callback may start requests, abort others, or delete this client.
    QPointer<HttpClient> self(this);
    ++m_inCallback;
    if (done)
        done(answer);
    if (!self)
        return;
    --m_inCallback;
    dispatch();
}

void HttpClient::dropConnection(Connection *connection)
{
    if (!m_connections.removeOne(connection))
        return;
    QSslSocket *socket = connection->socket;
    socket->disconnect(this);
    socket->abort();
    // This may run inside one of the socket's own signals.
    socket->deleteLater();
    delete connection;
}

} // namespace Providers
