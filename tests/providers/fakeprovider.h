#pragma once

// A fake provider API for the tests (tests/providers/fake_*.py) on 127.0.0.1 and a free port,
// and helpers to send through a transport and wait for the outcome. A fake that cannot be started
// is a test failure, never a skip.

#include "mime/attachment.h"
#include "mime/message.h"
#include "providers/diagnostics.h"
#include "providers/http/httptransport.h"
#include "providers/providerurl.h"
#include "providers/transport.h"

#include <QFile>
#include <QProcess>
#include <QSet>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

namespace ProviderTest {

class FakeServer
{
public:
    FakeServer() = default;
    ~FakeServer()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    FakeServer(const FakeServer &) = delete;
    FakeServer &operator=(const FakeServer &) = delete;

    // Starts tests/providers/<script> with args; waits for its "PORT n" line.
    bool start(const QString &script, const QStringList &args)
    {
        const QString python = QStringLiteral("/usr/bin/python3");
        if (!QFile::exists(python)) {
            m_error = QStringLiteral("/usr/bin/python3 is missing (apt-get install python3)");
            return false;
        }
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        m_process.setWorkingDirectory(QStringLiteral(POSTDESK_SOURCE_DIR "/tests/providers"));
        m_process.start(python,
                        QStringList{QStringLiteral(POSTDESK_SOURCE_DIR "/tests/providers/") + script}
                                + args);
        if (!m_process.waitForStarted(10'000)) {
            m_error = m_process.errorString();
            return false;
        }
        QByteArray line;
        while (!line.contains('\n')) {
            if (!m_process.waitForReadyRead(10'000)) {
                m_error = QStringLiteral("%1 did not start: %2")
                                  .arg(script, QString::fromUtf8(m_process.readAllStandardError()));
                return false;
            }
            line += m_process.readAllStandardOutput();
        }
        if (!line.startsWith("PORT ")) {
            m_error = QString::fromUtf8(line);
            return false;
        }
        m_port = quint16(line.mid(5).trimmed().toUInt());
        return m_port != 0;
    }

    quint16 port() const { return m_port; }
    QString baseUrl() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }
    QString error() const { return m_error; }

private:
    QProcess m_process;
    quint16 m_port = 0;
    QString m_error;
};

inline Providers::OutgoingMessage message(const QStringList &to,
                                          const QString &subject = u"Hello"_qs,
                                          bool withAttachment = false)
{
    Mime::Message m;
    m.setFrom(*Mime::Address::parse(u"Postdesk Test <sender@example.org>"_qs));
    for (const QString &r : to)
        m.addTo(*Mime::Address::parse(r));
    m.setSubject(subject);
    m.setText(u"Hello there,\nthis is a test with non-ASCII: é ü 😀\n"_qs);
    m.setHtml(u"<p>Hello <b>there</b> é</p>"_qs);
    m.addHeader(u"X-Postdesk-Category"_qs, u"welcome, test"_qs);
    m.addHeader(u"X-Postdesk-Meta-campaign"_qs, u"spring"_qs);
    if (withAttachment) {
        Mime::Attachment a;
        a.fileName = u"report.pdf"_qs;
        a.mimeType = u"application/pdf"_qs;
        a.data = QByteArray("%PDF-1.4 fake\x01\x02\xff", 17);
        m.addAttachment(a);
        m.addInline(u"logo@example.org"_qs, u"image/png"_qs, QByteArray("\x89PNG fake", 9),
                    u"logo.png"_qs);
    }
    auto composed = m.compose();
    if (!composed)
        qFatal("cannot compose: %s", qPrintable(composed.error().toString()));
    Providers::OutgoingMessage out;
    out.envelopeFrom = u"sender@example.org"_qs;
    out.recipients = to;
    out.data = composed->data;
    out.messageId = composed->messageId;
    return out;
}

// Sends one message and waits for its result.
inline Providers::SendResult sendOne(Providers::Transport &transport,
                                     const Providers::OutgoingMessage &m, int timeoutMs = 20'000)
{
    QSignalSpy spy(&transport, &Providers::Transport::sent);
    const auto ticket = transport.send(m);
    if (!spy.wait(timeoutMs)) {
        Providers::SendResult failed;
        failed.error = Common::makeError(u"test.timeout"_qs, u"no result"_qs);
        return failed;
    }
    if (spy.first().first().value<Providers::Transport::Ticket>() != ticket)
        qWarning("a result for another ticket");
    return spy.first().at(1).value<Providers::SendResult>();
}

inline Providers::DiagnosticReport diagnose(const Providers::Transport &transport)
{
    std::unique_ptr<Providers::Diagnostics> check(transport.createDiagnostics());
    QSignalSpy finished(check.get(), &Providers::Diagnostics::finished);
    check->start();
    if (!check->isFinished() && !finished.wait(20'000))
        return {};
    return check->report();
}

inline std::unique_ptr<Providers::Transport> transportFor(const QString &url)
{
    auto parsed = Providers::ProviderUrl::parse(url, QProcessEnvironment());
    if (!parsed) {
        qWarning() << parsed.error().toString();
        return nullptr;
    }
    auto created = Providers::Transport::create(*parsed);
    if (!created) {
        qWarning() << created.error().toString();
        return nullptr;
    }
    return std::unique_ptr<Providers::Transport>(*created);
}

} // namespace ProviderTest

namespace ProviderTest {

// The error classes every fake can produce through a magic recipient (see fakecommon.py).
inline void addErrorRows()
{
    QTest::addColumn<QString>("recipient");
    QTest::addColumn<QString>("code");
    QTest::addColumn<bool>("transient");
    QTest::addColumn<bool>("rateLimited");
    QTest::newRow("429 rate-limited")
            << u"ratelimit@example.net"_qs << u"http.rate-limited"_qs << true << true;
    QTest::newRow("500") << u"fail-500@example.net"_qs << u"http.server"_qs << true << false;
    QTest::newRow("503") << u"fail-503@example.net"_qs << u"http.server"_qs << true << false;
    QTest::newRow("validation") << u"invalid@example.net"_qs << u"http.rejected"_qs << false
                                << false;
    QTest::newRow("timeout") << u"slow@example.net"_qs << u"http.timeout"_qs << true << false;
    QTest::newRow("dropped connection")
            << u"drop@example.net"_qs << u"http.network"_qs << true << false;
}

// Sends to the row's recipient through url (which has timeout=1 so that slow@ times out).
inline void checkErrorRow(const QString &url)
{
    QFETCH(QString, recipient);
    QFETCH(QString, code);
    QFETCH(bool, transient);
    QFETCH(bool, rateLimited);
    auto transport = transportFor(url);
    QVERIFY(transport);
    const auto result = sendOne(*transport, message({recipient}));
    QVERIFY(!result.ok());
    QCOMPARE(result.error->code, code);
    QCOMPARE(result.error->isTransient(), transient);
    QCOMPARE(result.rateLimited, rateLimited);
    QVERIFY(!result.credentialsRefused);
    QVERIFY(transport->isHealthy());
    QVERIFY(result.accepted.isEmpty());
    if (rateLimited) {
        QVERIFY(result.retryAfterSeconds.has_value());
        QCOMPARE(*result.retryAfterSeconds, 7);
    }
    if (code == u"http.rejected") // the provider's explanation is kept
        QVERIFY2(result.error->detail.size() > 12, qPrintable(result.error->detail));
    if (code == u"http.server" || code == u"http.rate-limited" || code == u"http.rejected")
        QVERIFY(result.httpStatus >= 400);
}

// A refused credential: permanent, flagged, and the transport turns unhealthy.
inline void checkBadCredentials(const QString &url)
{
    auto transport = transportFor(url);
    QVERIFY(transport);
    QSignalSpy health(transport.get(), &Providers::Transport::healthChanged);
    const auto result = sendOne(*transport, message({u"someone@example.net"_qs}));
    QVERIFY(!result.ok());
    QCOMPARE(result.error->code, u"http.credentials"_qs);
    QVERIFY(!result.error->isTransient());
    QVERIFY(result.credentialsRefused);
    QVERIFY(!transport->isHealthy());
    QCOMPARE(health.count(), 1);
    QCOMPARE(health.first().first().toBool(), false);
}

// Many messages through a bounded number of requests in flight; all arrive, each once.
inline void checkInFlightBound(const QString &url, int bound)
{
    auto transport = transportFor(url);
    QVERIFY(transport);
    QSignalSpy sent(transport.get(), &Providers::Transport::sent);
    QSignalSpy drained(transport.get(), &Providers::Transport::drained);
    const int count = 40;
    QSet<Providers::Transport::Ticket> tickets;
    for (int i = 0; i < count; ++i)
        tickets.insert(transport->send(message({QStringLiteral("user%1@example.net").arg(i)})));
    QCOMPARE(transport->pendingCount(), count);
    auto *http = dynamic_cast<Providers::HttpTransport *>(transport.get());
    QVERIFY(http);
    int maxInFlight = 0;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, http,
                     [&] { maxInFlight = std::max(maxInFlight, http->inFlightCount()); });
    poll.start(0);
    QTRY_COMPARE_WITH_TIMEOUT(sent.count(), count, 30'000);
    poll.stop();
    QVERIFY2(maxInFlight <= bound, qPrintable(QString::number(maxInFlight)));
    QCOMPARE(maxInFlight, bound); // the bound is used, not just respected
    QTRY_VERIFY(drained.count() >= 1);
    QSet<QString> providerIds;
    for (const auto &args : sent) {
        QVERIFY(tickets.remove(args.first().value<Providers::Transport::Ticket>()));
        const auto result = args.at(1).value<Providers::SendResult>();
        QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
        providerIds.insert(result.providerMessageId);
    }
    QVERIFY(tickets.isEmpty());
    QCOMPARE(providerIds.size(), count);
}

} // namespace ProviderTest
