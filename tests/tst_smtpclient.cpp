// The SMTP transport against a real server: aiosmtpd on 127.0.0.1 with the test CA's certificate.
// What the server received is parsed by Python's email package and checked part by part.

#include "smtp/smtppeer.h"

#include <QJsonArray>

using namespace SmtpTest;
using Providers::SmtpSecurity;

class TestSmtpClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sendsAndServerParsesMessage_data();
    void sendsAndServerParsesMessage();
    void refusesBadCertificates_data();
    void refusesBadCertificates();
    void wrongPassword();
    void noPasswordOverPlainText();
    void partialRecipients();
    void internationalisedAddresses();
    void reusesOneConnection();
    void xoauth2_data();
    void xoauth2();
};

void TestSmtpClient::sendsAndServerParsesMessage_data()
{
    QTest::addColumn<QString>("serverTls"); // aiosmtpd_server.py --tls
    QTest::addColumn<bool>("serverAuth");
    QTest::addColumn<int>("security");
    QTest::addColumn<int>("mechanism");
    QTest::addColumn<bool>("expectTls");

    using M = Providers::SmtpAuthMechanism;
    QTest::newRow("STARTTLS required, AUTH PLAIN")
            << "starttls" << true << int(SmtpSecurity::StartTlsRequired) << int(M::Plain) << true;
    QTest::newRow("STARTTLS required, AUTH LOGIN")
            << "starttls" << true << int(SmtpSecurity::StartTlsRequired) << int(M::Login) << true;
    QTest::newRow("STARTTLS opportunistic, automatic AUTH")
            << "starttls" << true << int(SmtpSecurity::StartTlsOpportunistic) << int(M::Automatic)
            << true;
    QTest::newRow("implicit TLS, AUTH PLAIN")
            << "implicit" << true << int(SmtpSecurity::ImplicitTls) << int(M::Plain) << true;
    QTest::newRow("plain text, no AUTH")
            << "none" << false << int(SmtpSecurity::StartTlsOpportunistic) << int(M::Automatic)
            << false;
}

void TestSmtpClient::sendsAndServerParsesMessage()
{
    QFETCH(QString, serverTls);
    QFETCH(bool, serverAuth);
    QFETCH(int, security);
    QFETCH(int, mechanism);
    QFETCH(bool, expectTls);

    Peer peer;
    QStringList args{u"--tls"_qs,  serverTls,
                     u"--cert"_qs, dataFile(u"server.pem"_qs),
                     u"--key"_qs,  dataFile(u"server.key"_qs)};
    if (serverAuth)
        args << u"--auth"_qs << u"alice:correct horse"_qs;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs, args), qPrintable(peer.error()));

    auto settings = settingsFor(peer.port(), SmtpSecurity(security));
    settings.authMechanism = Providers::SmtpAuthMechanism(mechanism);
    if (serverAuth) {
        settings.username = u"alice"_qs;
        settings.password = u"correct horse"_qs;
    }
    const auto result = sendOne(settings, sampleOutgoing());
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    QCOMPARE(result.accepted, QStringList({u"bob@example.net"_qs, u"carol@example.net"_qs}));
    QVERIFY(result.rejected.isEmpty());
    QCOMPARE(result.serverReply, u"250 2.0.0 Ok: queued as AIO0001"_qs);
    QCOMPARE(result.providerMessageId, u"AIO0001"_qs);
    QCOMPARE(result.messageId, u"<sample-1@example.org>"_qs);

    // The envelope as the server saw it.
    QCOMPARE(peer.messageCount(), 1);
    const QJsonObject envelope = peer.envelope(1);
    QCOMPARE(envelope.value(u"mail_from").toString(), u"bounces@example.org"_qs);
    QCOMPARE(envelope.value(u"rcpt_tos").toArray(),
             QJsonArray({u"bob@example.net"_qs, u"carol@example.net"_qs}));
    QCOMPARE(envelope.value(u"tls").toBool(), expectTls);
    QCOMPARE(envelope.value(u"login").toString(), serverAuth ? u"alice"_qs : QString());
    const QJsonArray options = envelope.value(u"mail_options").toArray();
    QVERIFY2(options.contains(u"BODY=8BITMIME"_qs), QJsonDocument(options).toJson().constData());
    QVERIFY(options.contains(QString(u"SIZE="_qs + QString::number(sampleMessage().size()))));

    // Byte for byte what was composed: dot-stuffing was undone by the server.
    QCOMPARE(peer.message(1), sampleMessage());

    // And as an independent MIME parser reads it.
    const QJsonObject parsed = inspect(peer.messagePath(1));
    QVERIFY(!parsed.isEmpty());
    QCOMPARE(parsed.value(u"defects").toArray(), QJsonArray());
    QVERIFY(parsed.value(u"crlf").toBool());
    QCOMPARE(header(parsed, u"Subject"_qs), u"Gr\u00fc\u00dfe from the test"_qs);
    QCOMPARE(header(parsed, u"From"_qs), u"Alice Example <alice@example.org>"_qs);
    QCOMPARE(header(parsed, u"Message-ID"_qs), u"<sample-1@example.org>"_qs);
    const QJsonObject root = parsed.value(u"structure").toObject();
    QCOMPARE(root.value(u"content_type").toString(), u"multipart/mixed"_qs);
    const QJsonArray parts = root.value(u"parts").toArray();
    QCOMPARE(parts.size(), 2);
    const QJsonObject alternative = parts.at(0).toObject();
    QCOMPARE(alternative.value(u"content_type").toString(), u"multipart/alternative"_qs);
    const QJsonArray bodies = alternative.value(u"parts").toArray();
    QCOMPARE(bodies.size(), 2);
    QCOMPARE(bodies.at(0)[u"content_type"].toString(), u"text/plain"_qs);
    QCOMPARE(bodies.at(0)[u"charset"].toString(), u"utf-8"_qs);
    QCOMPARE(bodies.at(0)[u"cte"].toString(), u"8bit"_qs);
    QCOMPARE(bodies.at(0)[u"text"].toString(), sampleText().chopped(1));
    QCOMPARE(bodies.at(1)[u"content_type"].toString(), u"text/html"_qs);
    QCOMPARE(bodies.at(1)[u"cte"].toString(), u"quoted-printable"_qs);
    QCOMPARE(bodies.at(1)[u"text"].toString(), u"<p>Gr\u00fc\u00dfe</p>"_qs);
    const QJsonObject attachment = parts.at(1).toObject();
    QCOMPARE(attachment.value(u"disposition").toString(), u"attachment"_qs);
    QCOMPARE(attachment.value(u"filename").toString(), u"data.bin"_qs);
    QCOMPARE(attachment.value(u"cte").toString(), u"base64"_qs);
    QCOMPARE(QByteArray::fromBase64(attachment.value(u"base64").toString().toLatin1()),
             sampleAttachment());
}

void TestSmtpClient::refusesBadCertificates_data()
{
    QTest::addColumn<QString>("serverCert");
    QTest::addColumn<QString>("caFile");
    QTest::addColumn<bool>("verify");
    QTest::addColumn<bool>("succeeds");

    QTest::newRow("signed by an unknown CA")
            << "untrusted" << dataFile(u"ca.pem"_qs) << true << false;
    QTest::newRow("test CA not trusted (system CAs)") << "server" << QString() << true << false;
    QTest::newRow("unknown CA, verification off") << "untrusted" << QString() << false << true;
    QTest::newRow("test CA trusted") << "server" << dataFile(u"ca.pem"_qs) << true << true;
}

void TestSmtpClient::refusesBadCertificates()
{
    QFETCH(QString, serverCert);
    QFETCH(QString, caFile);
    QFETCH(bool, verify);
    QFETCH(bool, succeeds);

    for (const QString &tls : {u"starttls"_qs, u"implicit"_qs}) {
        Peer peer;
        QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs,
                                  {u"--tls"_qs, tls, u"--cert"_qs, dataFile(serverCert + u".pem"),
                                   u"--key"_qs, dataFile(serverCert + u".key")}),
                 qPrintable(peer.error()));
        auto settings = settingsFor(peer.port(),
                                    tls == u"implicit" ? SmtpSecurity::ImplicitTls
                                                       : SmtpSecurity::StartTlsRequired);
        settings.caFile = caFile;
        settings.verifyCertificate = verify;
        const auto result = sendOne(settings, sampleOutgoing());
        QCOMPARE(result.ok(), succeeds);
        if (!succeeds) {
            QCOMPARE(result.error->code, u"smtp.tls-certificate"_qs);
            QVERIFY(!result.error->isTransient());
            QVERIFY2(result.error->detail.contains(u"certificate"_qs, Qt::CaseInsensitive),
                     qPrintable(result.error->detail));
            QCOMPARE(peer.messageCount(), 0);
        } else {
            QCOMPARE(peer.messageCount(), 1);
        }
    }
}

void TestSmtpClient::wrongPassword()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs,
                              {u"--tls"_qs, u"starttls"_qs, u"--cert"_qs,
                               dataFile(u"server.pem"_qs), u"--key"_qs, dataFile(u"server.key"_qs),
                               u"--auth"_qs, u"alice:right"_qs}),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port(), SmtpSecurity::StartTlsRequired);
    settings.username = u"alice"_qs;
    settings.password = u"wrong"_qs;
    const auto result = sendOne(settings, sampleOutgoing());
    QVERIFY(!result.ok());
    QCOMPARE(result.error->code, u"smtp.auth"_qs);
    QVERIFY(!result.error->isTransient());
    QVERIFY2(result.error->detail.startsWith(u"535"_qs), qPrintable(result.error->detail));
    QVERIFY(result.error->message.contains(u"alice"_qs));
    QVERIFY(!result.error->toString().contains(u"wrong"_qs));
    QCOMPARE(peer.messageCount(), 0);
}

void TestSmtpClient::noPasswordOverPlainText()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs,
                              {u"--tls"_qs, u"none"_qs, u"--auth"_qs, u"alice:secret"_qs}),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port());
    settings.username = u"alice"_qs;
    settings.password = u"secret"_qs;
    auto result = sendOne(settings, sampleOutgoing());
    QVERIFY(!result.ok());
    QCOMPARE(result.error->code, u"smtp.auth-insecure"_qs);
    QVERIFY(!result.error->isTransient());

    settings.allowPlainTextAuth = true; // insecure_auth=1
    result = sendOne(settings, sampleOutgoing());
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    QCOMPARE(peer.envelope(1).value(u"login").toString(), u"alice"_qs);
}

void TestSmtpClient::partialRecipients()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs,
                              {u"--tls"_qs, u"none"_qs, u"--reject-rcpt"_qs, u"nobody"_qs}),
             qPrintable(peer.error()));
    const auto result = sendOne(settingsFor(peer.port()),
                                sampleOutgoing({u"bob@example.net"_qs, u"nobody@example.net"_qs,
                                                u"carol@example.net"_qs}));
    QVERIFY(result.ok());
    QCOMPARE(result.accepted, QStringList({u"bob@example.net"_qs, u"carol@example.net"_qs}));
    QCOMPARE(result.rejected.size(), 1);
    QCOMPARE(result.rejected.first().recipient, u"nobody@example.net"_qs);
    QCOMPARE(result.rejected.first().code, 550);
    QCOMPARE(result.rejected.first().enhancedCode, u"5.1.1"_qs);
    QCOMPARE(result.rejected.first().retry, Common::Retry::Permanent);
    QVERIFY(result.rejected.first().reply.contains(u"User unknown"_qs));
    QCOMPARE(peer.envelope(1).value(u"rcpt_tos").toArray(),
             QJsonArray({u"bob@example.net"_qs, u"carol@example.net"_qs}));

    // Nobody accepted: a permanent error and no message.
    const auto none = sendOne(settingsFor(peer.port()), sampleOutgoing({u"nobody@example.net"_qs}));
    QVERIFY(!none.ok());
    QCOMPARE(none.error->code, u"smtp.recipients"_qs);
    QVERIFY(!none.error->isTransient());
    QCOMPARE(none.rejected.size(), 1);
    QCOMPARE(peer.messageCount(), 1);
}

void TestSmtpClient::internationalisedAddresses()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs, {u"--tls"_qs, u"none"_qs}),
             qPrintable(peer.error()));
    auto message = sampleOutgoing({u"j\u00f6rg@b\u00fccher.example"_qs});
    message.envelopeFrom = u"r\u00fcckl\u00e4ufer@example.org"_qs;
    message.needsSmtpUtf8 = true;
    const auto result = sendOne(settingsFor(peer.port()), message);
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    const QJsonObject envelope = peer.envelope(1);
    QCOMPARE(envelope.value(u"mail_from").toString(), message.envelopeFrom);
    QCOMPARE(envelope.value(u"rcpt_tos").toArray(), QJsonArray({message.recipients.first()}));
    QVERIFY(envelope.value(u"mail_options").toArray().contains(u"SMTPUTF8"_qs));
}

void TestSmtpClient::reusesOneConnection()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs, {u"--tls"_qs, u"none"_qs}),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port());
    settings.maxConnections = 1;
    QList<Providers::OutgoingMessage> messages;
    for (int i = 0; i < 5; ++i) {
        auto m = sampleOutgoing({u"bob@example.net"_qs});
        m.messageId = u"<m%1@example.org>"_qs.arg(i);
        m.data = sampleMessage(m.messageId);
        messages << m;
    }
    const auto results = sendAll(settings, messages);
    QCOMPARE(results.size(), 5);
    for (int i = 0; i < 5; ++i) {
        QVERIFY(results.at(i).ok());
        QCOMPARE(results.at(i).messageId, messages.at(i).messageId);
        QCOMPARE(results.at(i).providerMessageId, u"AIO%1"_qs.arg(i + 1, 4, 10, QLatin1Char('0')));
    }
    QCOMPARE(peer.messageCount(), 5);
    QCOMPARE(peer.message(5), messages.at(4).data);
}

void TestSmtpClient::xoauth2_data()
{
    QTest::addColumn<QString>("token");
    QTest::addColumn<bool>("succeeds");
    QTest::newRow("valid token") << "ya29.valid-token" << true;
    QTest::newRow("expired token") << "ya29.expired" << false;
}

void TestSmtpClient::xoauth2()
{
    QFETCH(QString, token);
    QFETCH(bool, succeeds);

    // aiosmtpd has no XOAUTH2; the scriptable server speaks it as Gmail documents it.
    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs,
                              {u"--starttls"_qs, u"--cert"_qs, dataFile(u"server.pem"_qs),
                               u"--key"_qs, dataFile(u"server.key"_qs), u"--xoauth2"_qs,
                               u"--auth"_qs, u"alice@example.org:ya29.valid-token"_qs}),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port(), SmtpSecurity::StartTlsRequired);
    settings.authMechanism = Providers::SmtpAuthMechanism::XOAuth2;
    settings.username = u"alice@example.org"_qs;
    settings.password = token;
    const auto result = sendOne(settings, sampleOutgoing());
    QCOMPARE(result.ok(), succeeds);
    const QStringList log = peer.sessionLog(1);
    QVERIFY(!log.filter(u"AUTH XOAUTH2 "_qs).isEmpty());
    if (succeeds) {
        QCOMPARE(peer.messageCount(), 1);
        return;
    }
    QCOMPARE(result.error->code, u"smtp.auth"_qs);
    QVERIFY(!result.error->isTransient());
    QVERIFY2(result.error->detail.startsWith(u"535"_qs), qPrintable(result.error->detail));
    QVERIFY2(result.error->detail.contains(u"\"status\":\"401\""_qs),
             qPrintable(result.error->detail));
    QCOMPARE(peer.messageCount(), 0);
}

QTEST_GUILESS_MAIN(TestSmtpClient)
#include "tst_smtpclient.moc"
