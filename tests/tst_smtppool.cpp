// The connection pool: limits on connections and on messages per connection, RSET between
// messages, idle timeout, replacing a connection the server dropped; against postfix's smtp-sink
// and tests/smtp/misbehaving_server.py (which records every session).

#include "smtp/smtppeer.h"

using namespace SmtpTest;

class TestSmtpPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void manyMessagesToSmtpSink_data();
    void manyMessagesToSmtpSink();
    void honoursLimitsAndResets();
    void resetsAfterFailedTransaction();
    void closesIdleConnections();
    void replacesDroppedConnection();
    void unreachableServerFailsEveryMessage();
    void oneRefusedConnectionDoesNotFailTheQueue();
};

namespace {

QList<Providers::OutgoingMessage> numberedMessages(int count)
{
    QList<Providers::OutgoingMessage> messages;
    for (int i = 0; i < count; ++i) {
        Providers::OutgoingMessage m;
        m.envelopeFrom = u"bounces@example.org"_qs;
        m.recipients = {u"rcpt%1@example.net"_qs.arg(i)};
        m.messageId = u"<n%1@example.org>"_qs.arg(i);
        m.data = "From: a@example.org\r\nTo: b@example.net\r\nSubject: " + QByteArray::number(i)
                + "\r\nMessage-ID: " + m.messageId.toUtf8() + "\r\n\r\nbody "
                + QByteArray::number(i) + "\r\n.\r\n";
        messages << m;
    }
    return messages;
}

} // namespace

void TestSmtpPool::manyMessagesToSmtpSink_data()
{
    QTest::addColumn<int>("connections");
    QTest::addColumn<int>("perConnection");
    QTest::addColumn<int>("messages");
    QTest::newRow("one connection") << 1 << 100 << 30;
    QTest::newRow("four connections") << 4 << 1000 << 400;
    QTest::newRow("four connections, five messages each") << 4 << 5 << 60;
}

void TestSmtpPool::manyMessagesToSmtpSink()
{
    QFETCH(int, connections);
    QFETCH(int, perConnection);
    QFETCH(int, messages);

    Peer sink;
    QVERIFY2(sink.startSmtpSink(), qPrintable(sink.error()));
    auto settings = settingsFor(sink.port());
    settings.maxConnections = connections;
    settings.maxMessagesPerConnection = perConnection;

    Providers::SmtpTransport transport(settings);
    int done = 0;
    int failed = 0;
    int maxConnections = 0;
    QSignalSpy drained(&transport, &Providers::Transport::drained);
    connect(&transport, &Providers::Transport::sent, this,
            [&](Providers::Transport::Ticket, const Providers::SendResult &result) {
                ++done;
                if (!result.ok()) {
                    ++failed;
                    qWarning() << result.error->toString();
                }
                maxConnections = std::max(maxConnections, transport.connectionCount());
            });
    for (const auto &m : numberedMessages(messages))
        transport.send(m);
    QCOMPARE(transport.pendingCount(), messages);
    QTRY_COMPARE_WITH_TIMEOUT(done, messages, 30'000);
    QCOMPARE(failed, 0);
    QVERIFY(maxConnections <= connections);
    QVERIFY(maxConnections >= 1);
    QCOMPARE(transport.pendingCount(), 0);
    QVERIFY(drained.count() >= 1);
}

void TestSmtpPool::honoursLimitsAndResets()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs, {u"--pipelining"_qs}),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port());
    settings.maxConnections = 2;
    settings.maxMessagesPerConnection = 3;
    const auto results = sendAll(settings, numberedMessages(9));
    QCOMPARE(results.size(), 9);
    for (const auto &r : results)
        QVERIFY(r.ok());
    QCOMPARE(peer.messageCount(), 9);
    QTRY_VERIFY(peer.sessionCount() >= 3);
    int total = 0;
    for (int s = 1; s <= peer.sessionCount(); ++s) {
        const QStringList log = peer.sessionLog(s);
        const qsizetype data = log.filter(QRegularExpression(u"^DATA$"_qs)).size();
        QVERIFY2(data <= 3, qPrintable(log.join(u'|')));
        total += int(data);
        // RSET precedes every MAIL after the first in a session (free with PIPELINING).
        bool seenMail = false;
        for (qsizetype i = 0; i < log.size(); ++i) {
            if (log.at(i).startsWith(u"MAIL FROM:"_qs)) {
                if (seenMail)
                    QCOMPARE(log.at(i - 1), u"RSET"_qs);
                seenMail = true;
            }
        }
    }
    QCOMPARE(total, 9);
}

void TestSmtpPool::resetsAfterFailedTransaction()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs, {u"--reject-rcpt"_qs, u"nobody"_qs}),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port());
    settings.maxConnections = 1;
    auto first = sampleOutgoing({u"nobody@example.net"_qs});
    auto second = sampleOutgoing({u"bob@example.net"_qs});
    const auto results = sendAll(settings, {first, second});
    QCOMPARE(results.size(), 2);
    QCOMPARE(results.at(0).error->code, u"smtp.recipients"_qs);
    QVERIFY(results.at(1).ok());
    QCOMPARE(peer.sessionCount(), 1);
    QStringList commands;
    for (const QString &line : peer.sessionLog(1))
        commands << line.section(u':', 0, 0).section(u' ', 0, 1);
    QCOMPARE(commands.mid(0, 7),
             QStringList({u"EHLO client.test"_qs, u"MAIL FROM"_qs, u"RCPT TO"_qs, u"RSET"_qs,
                          u"MAIL FROM"_qs, u"RCPT TO"_qs, u"DATA"_qs}));
}

void TestSmtpPool::closesIdleConnections()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs, {}), qPrintable(peer.error()));
    auto settings = settingsFor(peer.port());
    settings.idleTimeoutMs = 300;
    Providers::SmtpTransport transport(settings);
    QSignalSpy sent(&transport, &Providers::Transport::sent);
    transport.send(sampleOutgoing());
    QVERIFY(sent.wait(10'000));
    QCOMPARE(transport.connectionCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(transport.connectionCount(), 0, 5000);
    QTRY_COMPARE(peer.sessionLog(1).last(), u"QUIT"_qs);
}

void TestSmtpPool::replacesDroppedConnection()
{
    // The server closes each connection without a word after one message, as servers do with
    // connections they consider idle: the next message must go out on a new connection.
    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs, {u"--close-after"_qs, u"1"_qs}),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port());
    settings.maxConnections = 1;
    const auto results = sendAll(settings, numberedMessages(3));
    QCOMPARE(results.size(), 3);
    for (const auto &r : results)
        QVERIFY2(r.ok(), qPrintable(r.error ? r.error->toString() : QString()));
    QCOMPARE(peer.messageCount(), 3);
    QCOMPARE(peer.sessionCount(), 3);
}

void TestSmtpPool::unreachableServerFailsEveryMessage()
{
    quint16 port = 0;
    {
        QTcpServer probe; // a port nobody listens on once probe is gone
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    auto settings = settingsFor(port);
    settings.maxConnections = 3;
    const auto results = sendAll(settings, numberedMessages(5));
    QCOMPARE(results.size(), 5);
    for (const auto &r : results) {
        QVERIFY(!r.ok());
        QCOMPARE(r.error->code, u"smtp.connect"_qs);
        QVERIFY(r.error->isTransient());
    }
}

void TestSmtpPool::oneRefusedConnectionDoesNotFailTheQueue()
{
    // The second connection is turned away at the greeting (421, as a server at its connection
    // limit does); the others carry every message.
    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs,
                              {u"--fail-at"_qs, u"greeting"_qs, u"--fail-session"_qs, u"2"_qs,
                               u"--code"_qs, u"421"_qs, u"--pipelining"_qs}),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port());
    settings.maxConnections = 3;
    const auto results = sendAll(settings, numberedMessages(12));
    QCOMPARE(results.size(), 12);
    for (const auto &r : results)
        QVERIFY2(r.ok(), qPrintable(r.error ? r.error->toString() : QString()));
    QCOMPARE(peer.messageCount(), 12);
}

QTEST_GUILESS_MAIN(TestSmtpPool)
#include "tst_smtppool.moc"
