// The HTTP/1.1 client of the provider transports against tests/providers/http_quirks.py, a real
// server on 127.0.0.1 that answers the way servers may: keep-alive, chunked bodies, answers split
// across reads, "Connection: close", close-delimited bodies, idle connections closed by the
// server, connections dropped with or without part of an answer, slow answers, and TLS.

#include "providers/fakeprovider.h"
#include "providers/http/httpclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTcpServer>

using namespace ProviderTest;
using Providers::HttpAnswer;
using Providers::HttpClient;
using Providers::HttpRequest;

class TestHttpClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void keepAlive();
    void postsBody();
    void chunked();
    void splitAcrossReads();
    void skipsInformational();
    void connectionClose();
    void bodyUntilClose();
    void serverClosesIdleConnection();
    void resendsOnStaleConnection();
    void noResendAfterPartialAnswer();
    void droppedRequestResentOnce_data();
    void droppedRequestResentOnce();
    void timeout();
    void boundedConnections();
    void abort();
    void connectionRefused();
    void headerInjectionRefused();
    void tlsVerifiedByDefault();
    void tlsWithTrustedCa();

private:
    HttpRequest get(const QString &path, const QString &base = {}) const
    {
        HttpRequest r;
        r.verb = "GET";
        r.request.setUrl(QUrl((base.isEmpty() ? m_server.baseUrl() : base) + path));
        return r;
    }
    // Sends request and waits for its answer; false when none came.
    static bool fetch(HttpClient &client, const HttpRequest &request, HttpAnswer &answer,
                      int timeoutMs = 10'000)
    {
        std::optional<HttpAnswer> result;
        client.start(request, timeoutMs, [&](const HttpAnswer &a) { result = a; });
        if (!QTest::qWaitFor([&] { return result.has_value(); }, 20'000))
            return false;
        answer = *result;
        return true;
    }
    // How many requests the server has read for path.
    int requestsFor(const QString &path)
    {
        HttpClient client(1);
        HttpAnswer a;
        if (!fetch(client, get(u"/stats"_qs), a))
            return -1;
        return QJsonDocument::fromJson(a.body)[u"requests"_qs][path].toInt();
    }

    FakeServer m_server;
    FakeServer m_tlsServer;
};

void TestHttpClient::initTestCase()
{
    QVERIFY2(m_server.start(u"http_quirks.py"_qs, {u"--slow"_qs, u"3"_qs}),
             qPrintable(m_server.error()));
    const QString data = QStringLiteral(POSTDESK_SOURCE_DIR "/tests/data/smtp/");
    QVERIFY2(m_tlsServer.start(u"http_quirks.py"_qs,
                               {u"--tls-cert"_qs, data + u"server.pem"_qs, u"--tls-key"_qs,
                                data + u"server.key"_qs}),
             qPrintable(m_tlsServer.error()));
}

void TestHttpClient::keepAlive()
{
    HttpClient client(4);
    QByteArray connection;
    for (int i = 1; i <= 5; ++i) {
        HttpAnswer a;
        QVERIFY(fetch(client, get(u"/plain"_qs), a));
        QCOMPARE(a.status, 200);
        QCOMPARE(a.body, QByteArray(R"({"ok":true})"));
        if (i == 1)
            connection = a.header("X-Connection");
        QCOMPARE(a.header("x-connection"), connection); // one connection for all
        QCOMPARE(a.header("X-Request"), QByteArray::number(i));
    }
    QCOMPARE(client.connectionCount(), 1);
}

void TestHttpClient::postsBody()
{
    HttpClient client(1);
    QNetworkRequest r(QUrl(m_server.baseUrl() + u"/echo?x=1"_qs));
    r.setRawHeader("User-Agent", "tst_httpclient");
    const QByteArray body = QStringLiteral(R"({"text":"Grüße"})").toUtf8();
    HttpAnswer a;
    QVERIFY(fetch(client, HttpRequest::jsonPost(r, body), a));
    QCOMPARE(a.status, 200);
    const QJsonObject echoed = QJsonDocument::fromJson(a.body).object();
    QCOMPARE(echoed[u"method"_qs].toString(), u"POST"_qs);
    QCOMPARE(echoed[u"target"_qs].toString(), u"/echo?x=1"_qs);
    QCOMPARE(echoed[u"host"_qs].toString(), u"127.0.0.1:%1"_qs.arg(m_server.port()));
    QCOMPARE(echoed[u"contentType"_qs].toString(), u"application/json"_qs);
    QCOMPARE(echoed[u"contentLength"_qs].toString(), QString::number(body.size()));
    QCOMPARE(echoed[u"userAgent"_qs].toString(), u"tst_httpclient"_qs);
    QCOMPARE(echoed[u"body"_qs].toString().toUtf8(), body);
}

void TestHttpClient::chunked()
{
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/chunked"_qs), a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, QByteArray("first,second;") + QByteArray(300, 'x'));
    // The last chunk and the trailer were read exactly: the connection serves the next request.
    HttpAnswer next;
    QVERIFY(fetch(client, get(u"/plain"_qs), next));
    QCOMPARE(next.status, 200);
    QCOMPARE(next.header("X-Connection"), a.header("X-Connection"));
    QCOMPARE(next.header("X-Request"), QByteArray("2"));
}

void TestHttpClient::splitAcrossReads()
{
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/split"_qs), a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.header("X-Split"), QByteArray("yes"));
    QCOMPARE(a.body, QByteArray(R"({"split":"across reads"})"));
    HttpAnswer next;
    QVERIFY(fetch(client, get(u"/plain"_qs), next));
    QCOMPARE(next.header("X-Connection"), a.header("X-Connection"));
}

void TestHttpClient::skipsInformational()
{
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/continue"_qs), a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, QByteArray("after continue"));
}

void TestHttpClient::connectionClose()
{
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/close"_qs), a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, QByteArray("closing"));
    QCOMPARE(client.connectionCount(), 0); // not kept for the next request
    HttpAnswer next;
    QVERIFY(fetch(client, get(u"/plain"_qs), next));
    QCOMPARE(next.status, 200);
    QVERIFY(next.header("X-Connection") != a.header("X-Connection"));
}

void TestHttpClient::bodyUntilClose()
{
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/until-close"_qs), a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.networkError, QNetworkReply::NoError);
    QCOMPARE(a.body, QByteArray("no length, ends at the close"));
}

void TestHttpClient::serverClosesIdleConnection()
{
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/close-idle"_qs), a));
    QCOMPARE(a.status, 200);
    QCOMPARE(client.connectionCount(), 1);
    // The server closes it after 0.1 s idle; the client notices and lets it go.
    QTRY_COMPARE_WITH_TIMEOUT(client.connectionCount(), 0, 10'000);
    HttpAnswer next;
    QVERIFY(fetch(client, get(u"/plain"_qs), next));
    QCOMPARE(next.status, 200);
    QCOMPARE(next.header("X-Request"), QByteArray("1"));
}

void TestHttpClient::resendsOnStaleConnection()
{
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/stale"_qs), a));
    QCOMPARE(a.status, 200);
    const int before = requestsFor(u"/echo"_qs);
    // The server reads the next request on that connection and closes it unanswered; the
    // request goes again, once, on a new connection.
    QNetworkRequest r(QUrl(m_server.baseUrl() + u"/echo"_qs));
    HttpAnswer next;
    QVERIFY(fetch(client, HttpRequest::jsonPost(r, "{}"), next));
    QCOMPARE(next.status, 200);
    QCOMPARE(next.header("X-Request"), QByteArray("1"));
    QVERIFY(next.header("X-Connection") != a.header("X-Connection"));
    QCOMPARE(requestsFor(u"/echo"_qs), before + 2);
}

void TestHttpClient::noResendAfterPartialAnswer()
{
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/plain"_qs), a));
    const int before = requestsFor(u"/partial"_qs);
    HttpAnswer partial;
    QVERIFY(fetch(client, get(u"/partial"_qs), partial));
    QCOMPARE(partial.status, 0);
    QCOMPARE(partial.networkError, QNetworkReply::RemoteHostClosedError);
    QVERIFY(!partial.timedOut);
    QCOMPARE(requestsFor(u"/partial"_qs), before + 1); // part of an answer came: not sent again
}

void TestHttpClient::droppedRequestResentOnce_data()
{
    QTest::addColumn<bool>("reused");
    QTest::newRow("new connection") << false;       // a server that drops it: not sent again
    QTest::newRow("kept-alive connection") << true; // might have been a stale connection: once
}

void TestHttpClient::droppedRequestResentOnce()
{
    QFETCH(bool, reused);
    HttpClient client(1);
    if (reused) {
        HttpAnswer a;
        QVERIFY(fetch(client, get(u"/plain"_qs), a));
    }
    const int before = requestsFor(u"/drop"_qs);
    HttpAnswer dropped;
    QVERIFY(fetch(client, get(u"/drop"_qs), dropped));
    QCOMPARE(dropped.status, 0);
    QVERIFY(dropped.networkError != QNetworkReply::NoError);
    QVERIFY(!dropped.errorString.isEmpty());
    QVERIFY(!dropped.timedOut);
    QCOMPARE(requestsFor(u"/drop"_qs), before + (reused ? 2 : 1));
}

void TestHttpClient::timeout()
{
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/slow"_qs), a, 300));
    QCOMPARE(a.status, 0);
    QVERIFY(a.timedOut);
    QCOMPARE(a.networkError, QNetworkReply::TimeoutError);
    QCOMPARE(client.connectionCount(), 0); // the late answer must not meet the next request
    HttpAnswer next;
    QVERIFY(fetch(client, get(u"/plain"_qs), next));
    QCOMPARE(next.status, 200);
}

void TestHttpClient::boundedConnections()
{
    HttpClient client(2);
    const int before = QJsonDocument::fromJson([&] {
                           HttpClient stats(1);
                           HttpAnswer a;
                           fetch(stats, get(u"/stats"_qs), a);
                           return a.body;
                       }())[u"connections"_qs]
                               .toInt();
    QList<HttpAnswer> answers;
    int most = 0;
    for (int i = 0; i < 8; ++i) {
        client.start(get(u"/chunked"_qs), 10'000, [&](const HttpAnswer &a) { answers << a; });
    }
    QVERIFY(QTest::qWaitFor(
            [&] {
                most = std::max(most, client.connectionCount());
                return answers.size() == 8;
            },
            20'000));
    QCOMPARE(most, 2);
    QSet<QByteArray> connections;
    for (const HttpAnswer &a : std::as_const(answers)) {
        QCOMPARE(a.status, 200);
        connections.insert(a.header("X-Connection"));
    }
    QCOMPARE(connections.size(), 2);
    // 2 for the requests, 1 for the statistics before and 1 after.
    const HttpAnswer last = [&] {
        HttpClient stats(1);
        HttpAnswer a;
        fetch(stats, get(u"/stats"_qs), a);
        return a;
    }();
    QCOMPARE(QJsonDocument::fromJson(last.body)[u"connections"_qs].toInt(), before + 3);
}

void TestHttpClient::abort()
{
    HttpClient client(1);
    bool called = false;
    const quint64 id = client.start(get(u"/slow"_qs), 10'000,
                                    [&](const HttpAnswer &) { called = true; });
    QVERIFY(id != 0);
    QTRY_COMPARE(client.connectionCount(), 1);
    client.abort(id);
    QCOMPARE(client.connectionCount(), 0);
    HttpAnswer next; // served while the aborted request's answer would still be pending
    QVERIFY(fetch(client, get(u"/plain"_qs), next));
    QCOMPARE(next.status, 200);
    QVERIFY(!called);
}

void TestHttpClient::connectionRefused()
{
    // A port that was free a moment ago.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost));
    const quint16 port = probe.serverPort();
    probe.close();
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/plain"_qs, u"http://127.0.0.1:%1"_qs.arg(port)), a));
    QCOMPARE(a.status, 0);
    QCOMPARE(a.networkError, QNetworkReply::ConnectionRefusedError);
    QVERIFY(!a.timedOut);
}

void TestHttpClient::headerInjectionRefused()
{
    HttpClient client(1);
    const int before = requestsFor(u"/plain"_qs);
    HttpRequest r = get(u"/plain"_qs);
    r.request.setRawHeader("X-Custom", "value\r\nX-Injected: 1");
    HttpAnswer a;
    QVERIFY(fetch(client, r, a));
    QCOMPARE(a.status, 0);
    QVERIFY2(a.errorString.contains(u"X-Custom"), qPrintable(a.errorString));
    HttpRequest named = get(u"/plain"_qs);
    named.request.setRawHeader("Bad Name", "value");
    QVERIFY(fetch(client, named, a));
    QCOMPARE(a.status, 0);
    QVERIFY2(a.errorString.contains(u"Bad Name"), qPrintable(a.errorString));
    // Nothing reached the server; a clean request still goes through.
    QCOMPARE(requestsFor(u"/plain"_qs), before);
    QVERIFY(fetch(client, get(u"/plain"_qs), a));
    QCOMPARE(a.status, 200);
    QCOMPARE(requestsFor(u"/plain"_qs), before + 1);
}

void TestHttpClient::tlsVerifiedByDefault()
{
    // The server's certificate comes from the test CA, which the system does not trust.
    HttpClient client(1);
    HttpAnswer a;
    QVERIFY(fetch(client, get(u"/plain"_qs, u"https://127.0.0.1:%1"_qs.arg(m_tlsServer.port())), a));
    QCOMPARE(a.status, 0);
    QCOMPARE(a.networkError, QNetworkReply::SslHandshakeFailedError);
    QVERIFY2(!a.errorString.isEmpty(), qPrintable(a.errorString));
}

void TestHttpClient::tlsWithTrustedCa()
{
    HttpRequest r = get(u"/plain"_qs, u"https://localhost:%1"_qs.arg(m_tlsServer.port()));
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates(QSslCertificate::fromPath(
            QStringLiteral(POSTDESK_SOURCE_DIR "/tests/data/smtp/ca.pem")));
    r.request.setSslConfiguration(tls);
    HttpClient client(1);
    for (int i = 1; i <= 2; ++i) {
        HttpAnswer a;
        QVERIFY(fetch(client, r, a));
        QCOMPARE(a.status, 200);
        QCOMPARE(a.header("X-Request"), QByteArray::number(i)); // kept alive over TLS too
    }
}

QTEST_GUILESS_MAIN(TestHttpClient)
#include "tst_httpclient.moc"
