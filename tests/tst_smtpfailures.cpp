// Failures at every stage of an SMTP session, against tests/smtp/misbehaving_server.py: each one
// must end in an error that says what happened, keeps the server's reply, and is classified
// transient (4xx, timeouts, dropped connections) or permanent (5xx, refused security).

#include "smtp/smtppeer.h"

using namespace SmtpTest;
using Providers::SmtpSecurity;

class TestSmtpFailures : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void failsClearly_data();
    void failsClearly();
    void partialRecipients_data();
    void partialRecipients();
    void unsupportedExtensions_data();
    void unsupportedExtensions();
    void injectedRepliesAfterStartTlsAreIgnored();
    void strippedStartTlsSendsNothing();
    void refusesUnsafeEnvelopes_data();
    void refusesUnsafeEnvelopes();
};

namespace {

struct Row
{
    const char *name;
    QStringList serverArgs;
    int security = int(SmtpSecurity::StartTlsOpportunistic);
    bool credentials = false;
    QString code; // expected error code; empty: success
    bool transient = false;
    QString detailStart; // the server's reply the error keeps
};

QStringList tlsArgs()
{
    return {u"--starttls"_qs, u"--cert"_qs, dataFile(u"server.pem"_qs), u"--key"_qs,
            dataFile(u"server.key"_qs)};
}

} // namespace

void TestSmtpFailures::failsClearly_data()
{
    QTest::addColumn<QStringList>("serverArgs");
    QTest::addColumn<int>("security");
    QTest::addColumn<bool>("credentials");
    QTest::addColumn<QString>("code");
    QTest::addColumn<bool>("transient");
    QTest::addColumn<QString>("detailStart");

    const auto fail = [](const char *stage, int code) {
        return QStringList{u"--fail-at"_qs, QString::fromLatin1(stage), u"--code"_qs,
                           QString::number(code)};
    };
    const QStringList auth = tlsArgs() + QStringList{u"--auth"_qs, u"alice:pw"_qs};
    const int required = int(SmtpSecurity::StartTlsRequired);
    const int opportunistic = int(SmtpSecurity::StartTlsOpportunistic);
    const QList<Row> rows = {
            {"greeting 421", fail("greeting", 421), opportunistic, false, u"smtp.greeting"_qs, true,
             u"421 4.0.0"_qs},
            {"greeting 554", fail("greeting", 554), opportunistic, false, u"smtp.greeting"_qs,
             false, u"554 5.0.0"_qs},
            {"EHLO 421", fail("ehlo", 421), opportunistic, false, u"smtp.closing"_qs, true,
             u"421"_qs},
            {"EHLO 550", fail("ehlo", 550), opportunistic, false, u"smtp.ehlo"_qs, false, u"550"_qs},
            {"STARTTLS 454, TLS required", tlsArgs() + fail("starttls", 454), required, false,
             u"smtp.starttls"_qs, true, u"454"_qs},
            {"STARTTLS 454, opportunistic", tlsArgs() + fail("starttls", 454), opportunistic, false,
             QString(), false, QString()},
            {"AUTH 454", auth + fail("auth", 454), required, true, u"smtp.auth"_qs, true, u"454"_qs},
            {"AUTH 535", auth + fail("auth", 535), required, true, u"smtp.auth"_qs, false,
             u"535"_qs},
            {"MAIL 451", fail("mail", 451), opportunistic, false, u"smtp.sender"_qs, true,
             u"451 4.0.0"_qs},
            {"MAIL 553", fail("mail", 553), opportunistic, false, u"smtp.sender"_qs, false,
             u"553 5.0.0"_qs},
            {"RCPT 450 for all", fail("rcpt", 450), opportunistic, false, u"smtp.recipients"_qs,
             true, u"450 4.0.0"_qs},
            {"RCPT 550 for all", fail("rcpt", 550), opportunistic, false, u"smtp.recipients"_qs,
             false, u"550 5.0.0"_qs},
            {"DATA 451", fail("data", 451), opportunistic, false, u"smtp.data"_qs, true, u"451"_qs},
            {"DATA 554", fail("data", 554), opportunistic, false, u"smtp.data"_qs, false, u"554"_qs},
            {"end of data 452", fail("eom", 452), opportunistic, false, u"smtp.message"_qs, true,
             u"452 4.0.0"_qs},
            {"end of data 552", fail("eom", 552), opportunistic, false, u"smtp.message"_qs, false,
             u"552 5.0.0"_qs},
            {"end of data 421", fail("eom", 421), opportunistic, false, u"smtp.closing"_qs, true,
             u"421"_qs},
            {"connection closed mid-DATA",
             {u"--drop-mid-data"_qs},
             opportunistic,
             false,
             u"smtp.disconnected"_qs,
             true,
             QString()},
            {"slow greeting",
             {u"--slow"_qs, u"greeting"_qs, u"--delay"_qs, u"3"_qs},
             opportunistic,
             false,
             u"smtp.timeout"_qs,
             true,
             QString()},
            {"slow MAIL reply",
             {u"--slow"_qs, u"mail"_qs, u"--delay"_qs, u"3"_qs},
             opportunistic,
             false,
             u"smtp.timeout"_qs,
             true,
             QString()},
            {"slow end-of-data reply",
             {u"--slow"_qs, u"eom"_qs, u"--delay"_qs, u"3"_qs},
             opportunistic,
             false,
             u"smtp.timeout"_qs,
             true,
             QString()},
            {"STARTTLS stripped, TLS required", tlsArgs() + QStringList{u"--strip-starttls"_qs},
             required, false, u"smtp.starttls-missing"_qs, false, QString()},
            {"message over the SIZE limit",
             {u"--size"_qs, u"1000"_qs},
             opportunistic,
             false,
             u"smtp.size"_qs,
             false,
             QString()},
    };
    for (const bool pipelining : {false, true}) {
        for (const Row &row : rows) {
            QStringList args = row.serverArgs;
            if (pipelining)
                args << u"--pipelining"_qs;
            QTest::addRow("%s%s", row.name, pipelining ? ", pipelining" : "")
                    << args << row.security << row.credentials << row.code << row.transient
                    << row.detailStart;
        }
    }
}

void TestSmtpFailures::failsClearly()
{
    QFETCH(QStringList, serverArgs);
    QFETCH(int, security);
    QFETCH(bool, credentials);
    QFETCH(QString, code);
    QFETCH(bool, transient);
    QFETCH(QString, detailStart);

    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs, serverArgs), qPrintable(peer.error()));
    auto settings = settingsFor(peer.port(), SmtpSecurity(security));
    settings.greetingTimeoutMs = 500;
    settings.socketTimeoutMs = 500;
    if (credentials) {
        settings.username = u"alice"_qs;
        settings.password = u"pw"_qs;
    }
    QElapsedTimer timer;
    timer.start();
    const auto result = sendOne(settings, sampleOutgoing());
    QVERIFY2(timer.elapsed() < 2500, "timeouts must be honoured");
    if (code.isEmpty()) {
        QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
        QCOMPARE(peer.messageCount(), 1);
        QCOMPARE(peer.message(1), sampleMessage());
        return;
    }
    QVERIFY2(!result.ok(), "the send must fail");
    QCOMPARE(result.error->code, code);
    QCOMPARE(result.error->isTransient(), transient);
    QVERIFY(!result.error->message.isEmpty());
    QVERIFY2(result.error->detail.startsWith(detailStart), qPrintable(result.error->detail));
    QVERIFY(result.accepted.isEmpty());
    QCOMPARE(peer.messageCount(), 0);
}

void TestSmtpFailures::partialRecipients_data()
{
    QTest::addColumn<bool>("pipelining");
    QTest::addColumn<int>("code");
    QTest::newRow("550, one by one") << false << 550;
    QTest::newRow("550, pipelined") << true << 550;
    QTest::newRow("450, one by one") << false << 450;
    QTest::newRow("450, pipelined") << true << 450;
}

void TestSmtpFailures::partialRecipients()
{
    QFETCH(bool, pipelining);
    QFETCH(int, code);

    Peer peer;
    QStringList args{u"--reject-rcpt"_qs, u"nobody"_qs, u"--code"_qs, QString::number(code)};
    if (pipelining)
        args << u"--pipelining"_qs;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs, args), qPrintable(peer.error()));
    const auto result = sendOne(settingsFor(peer.port()),
                                sampleOutgoing({u"nobody@example.net"_qs, u"bob@example.net"_qs,
                                                u"nobody-else@example.net"_qs,
                                                u"carol@example.net"_qs}));
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    QCOMPARE(result.accepted, QStringList({u"bob@example.net"_qs, u"carol@example.net"_qs}));
    QCOMPARE(result.rejected.size(), 2);
    QCOMPARE(result.rejected.at(0).recipient, u"nobody@example.net"_qs);
    QCOMPARE(result.rejected.at(1).recipient, u"nobody-else@example.net"_qs);
    for (const auto &rejection : result.rejected) {
        QCOMPARE(rejection.code, code);
        QCOMPARE(rejection.enhancedCode, u"%1.0.0"_qs.arg(code / 100));
        QCOMPARE(rejection.retry, code < 500 ? Common::Retry::Transient : Common::Retry::Permanent);
        QVERIFY(rejection.reply.contains(rejection.recipient));
    }
    QCOMPARE(peer.messageCount(), 1);
    QCOMPARE(peer.envelope(1).value(u"rcpt_tos").toArray(),
             QJsonArray({u"bob@example.net"_qs, u"carol@example.net"_qs}));
}

void TestSmtpFailures::unsupportedExtensions_data()
{
    QTest::addColumn<QStringList>("serverArgs");
    QTest::addColumn<bool>("eightBit");
    QTest::addColumn<bool>("utf8Address");
    QTest::addColumn<QString>("code");

    const QStringList helo{u"--fail-at"_qs, u"ehlo"_qs, u"--code"_qs, u"502"_qs};
    QTest::newRow("HELO fallback, 7-bit message") << helo << false << false << QString();
    QTest::newRow("HELO fallback, 8-bit message") << helo << true << false << u"smtp.8bitmime"_qs;
    QTest::newRow("no 8BITMIME, 8-bit message")
            << QStringList{u"--no-8bitmime"_qs} << true << false << u"smtp.8bitmime"_qs;
    QTest::newRow("no SMTPUTF8, UTF-8 address")
            << QStringList{u"--no-smtputf8"_qs} << false << true << u"smtp.smtputf8"_qs;
    QTest::newRow("SMTPUTF8, UTF-8 address") << QStringList() << true << true << QString();
}

void TestSmtpFailures::unsupportedExtensions()
{
    QFETCH(QStringList, serverArgs);
    QFETCH(bool, eightBit);
    QFETCH(bool, utf8Address);
    QFETCH(QString, code);

    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs, serverArgs), qPrintable(peer.error()));
    auto message = sampleOutgoing(
            {utf8Address ? u"j\u00f6rg@example.net"_qs : u"bob@example.net"_qs});
    message.has8bit = eightBit;
    const auto result = sendOne(settingsFor(peer.port()), message);
    if (code.isEmpty()) {
        QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
        const QStringList mailOptions =
                peer.envelope(1).value(u"mail_options").toVariant().toStringList();
        QCOMPARE(mailOptions.contains(u"BODY=8BITMIME"_qs), eightBit);
        QCOMPARE(mailOptions.contains(u"SMTPUTF8"_qs), utf8Address);
        return;
    }
    QVERIFY(!result.ok());
    QCOMPARE(result.error->code, code);
    QVERIFY(!result.error->isTransient());
    QCOMPARE(peer.messageCount(), 0);
    // Refused before any transaction started.
    QVERIFY(peer.sessionLog(1).filter(u"MAIL FROM"_qs).isEmpty());
}

void TestSmtpFailures::injectedRepliesAfterStartTlsAreIgnored()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs,
                              tlsArgs() << u"--inject-after-starttls"_qs << u"--auth"_qs
                                        << u"alice:pw"_qs),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port(), SmtpSecurity::StartTlsRequired);
    settings.username = u"alice"_qs;
    settings.password = u"pw"_qs;
    const auto result = sendOne(settings, sampleOutgoing());
    // Had the injected "250 AUTH CRAM-MD5" been taken as the EHLO reply after TLS, the client
    // would find no mechanism it supports, or its replies would be off by one.
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    QCOMPARE(peer.messageCount(), 1);
    const QStringList log = peer.sessionLog(1);
    QCOMPARE(log.filter(u"EHLO"_qs).size(), 2);
}

void TestSmtpFailures::strippedStartTlsSendsNothing()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs,
                              tlsArgs() << u"--strip-starttls"_qs << u"--auth"_qs << u"alice:pw"_qs),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port(), SmtpSecurity::StartTlsRequired);
    settings.username = u"alice"_qs;
    settings.password = u"pw"_qs;
    const auto result = sendOne(settings, sampleOutgoing());
    QVERIFY(!result.ok());
    QCOMPARE(result.error->code, u"smtp.starttls-missing"_qs);
    QVERIFY(!result.error->isTransient());
    QTRY_VERIFY(peer.sessionLog(1).size() >= 1);
    // Nothing but EHLO went over the unprotected connection: no password, no envelope.
    const QStringList log = peer.sessionLog(1);
    QCOMPARE(log.first().left(5), u"EHLO "_qs);
    QVERIFY2(log.filter(u"AUTH"_qs).isEmpty(), qPrintable(log.join(u'|')));
    QVERIFY(log.filter(u"MAIL"_qs).isEmpty());
}

void TestSmtpFailures::refusesUnsafeEnvelopes_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QStringList>("recipients");
    QTest::addColumn<QString>("code");

    QTest::newRow("command injection in a recipient")
            << "a@example.org" << QStringList{u"b@example.net>\r\nRCPT TO:<evil@example.com"_qs}
            << "smtp.address";
    QTest::newRow("space in the sender")
            << "a b@example.org" << QStringList{u"b@example.net"_qs} << "smtp.address";
    QTest::newRow("bracket in a recipient")
            << "a@example.org" << QStringList{u"<b@example.net"_qs} << "smtp.address";
    QTest::newRow("empty recipient") << "a@example.org" << QStringList{QString()} << "smtp.address";
    QTest::newRow("no recipients") << "a@example.org" << QStringList() << "smtp.no-recipients";
}

void TestSmtpFailures::refusesUnsafeEnvelopes()
{
    QFETCH(QString, from);
    QFETCH(QStringList, recipients);
    QFETCH(QString, code);

    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs, {u"--pipelining"_qs}),
             qPrintable(peer.error()));
    auto message = sampleOutgoing(recipients);
    message.envelopeFrom = from;
    auto bad = message;
    auto good = sampleOutgoing();
    auto settings = settingsFor(peer.port());
    settings.maxConnections = 1;
    // The refused message leaves the connection usable for the next one.
    const auto results = sendAll(settings, {bad, good});
    QCOMPARE(results.size(), 2);
    QVERIFY(!results.at(0).ok());
    QCOMPARE(results.at(0).error->code, code);
    QVERIFY(!results.at(0).error->isTransient());
    QVERIFY(results.at(1).ok());
    QCOMPARE(peer.messageCount(), 1);
    QCOMPARE(peer.sessionCount(), 1);
    QCOMPARE(peer.sessionLog(1).filter(u"MAIL FROM"_qs).size(), 1);
    QVERIFY(peer.sessionLog(1).filter(u"evil"_qs).isEmpty());
}

QTEST_GUILESS_MAIN(TestSmtpFailures)
#include "tst_smtpfailures.moc"
