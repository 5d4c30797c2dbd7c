// postdeskctl provider test and postdeskctl send as a newcomer meets them: help, mistakes, a real
// check and a real message against aiosmtpd, parsed by Python's email package.

#include "smtp/smtppeer.h"
#include "testenv.h"

#include <QJsonArray>
#include <QTemporaryDir>

using namespace SmtpTest;

class TestSmtpCtl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpAndUsage_data();
    void helpAndUsage();
    void providerTest();
    void providerTestBadCertificate();
    void sendMessage();
    void sendPartial();
};

namespace {

struct Run
{
    int exitCode = -1;
    QString out;
    QString err;
};

Run ctl(const QStringList &args,
        const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(TestSupport::programPath(u"postdeskctl"_qs), args);
    Run run;
    if (!process.waitForFinished(30'000)) {
        process.kill();
        process.waitForFinished();
        run.err = u"postdeskctl did not finish"_qs;
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

QStringList tlsServer(const QString &cert = u"server"_qs)
{
    return {u"--tls"_qs, u"starttls"_qs,           u"--cert"_qs, dataFile(cert + u".pem"),
            u"--key"_qs, dataFile(cert + u".key"), u"--auth"_qs, u"alice:s3cret pass"_qs};
}

QString urlFor(const Peer &peer)
{
    return u"smtp+starttls://alice@localhost:%1?ca=%2&timeout=5"_qs.arg(peer.port())
            .arg(dataFile(u"ca.pem"_qs));
}

QProcessEnvironment withPassword()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"SMTP_PASSWORD"_qs, u"s3cret pass"_qs);
    return env;
}

} // namespace

void TestSmtpCtl::helpAndUsage_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("expected"); // in stdout for 0, else in stderr

    QTest::newRow("overview lists provider") << QStringList{u"--help"_qs} << 0 << "provider";
    QTest::newRow("overview lists send") << QStringList{u"--help"_qs} << 0 << "send";
    QTest::newRow("provider help")
            << QStringList{u"provider"_qs, u"--help"_qs} << 0 << "smtp+starttls://";
    QTest::newRow("provider without subcommand") << QStringList{u"provider"_qs} << 2 << QString();
    QTest::newRow("provider unknown subcommand")
            << QStringList{u"provider"_qs, u"frobnicate"_qs} << 2 << "unknown subcommand";
    QTest::newRow("provider test help")
            << QStringList{u"provider"_qs, u"test"_qs, u"--help"_qs} << 0 << "--via";
    QTest::newRow("provider test without --via")
            << QStringList{u"provider"_qs, u"test"_qs} << 2 << "--via";
    QTest::newRow("provider test, bad URL")
            << QStringList{u"provider"_qs, u"test"_qs, u"--via"_qs, u"imap://x"_qs} << 1
            << "not supported";
    QTest::newRow("provider test, unknown option")
            << QStringList{u"provider"_qs, u"test"_qs, u"--fast"_qs} << 2 << "fast";
    QTest::newRow("send help") << QStringList{u"send"_qs, u"--help"_qs} << 0 << "--dkim-key";
    QTest::newRow("send without --from")
            << QStringList{u"send"_qs, u"--via"_qs, u"smtp://h"_qs, u"--to"_qs, u"a@b.example"_qs}
            << 2 << "--from";
    QTest::newRow("send without body")
            << QStringList{u"send"_qs,        u"--via"_qs, u"smtp://h"_qs,   u"--from"_qs,
                           u"a@b.example"_qs, u"--to"_qs,  u"c@d.example"_qs}
            << 2 << "--text";
    QTest::newRow("send, bad address")
            << QStringList{u"send"_qs,        u"--via"_qs,          u"smtp://h"_qs,
                           u"--from"_qs,      u"not an address"_qs, u"--to"_qs,
                           u"c@d.example"_qs, u"--text"_qs,         u"-"_qs}
            << 1 << "not an address";
    QTest::newRow("send, half of DKIM")
            << QStringList{u"send"_qs,          u"--via"_qs,       u"smtp://h"_qs,
                           u"--from"_qs,        u"a@b.example"_qs, u"--to"_qs,
                           u"c@d.example"_qs,   u"--text"_qs,      dataFile(u"make-certs.sh"_qs),
                           u"--dkim-domain"_qs, u"b.example"_qs}
            << 1 << "--dkim-selector";
}

void TestSmtpCtl::helpAndUsage()
{
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, expected);
    const Run run = ctl(args);
    QCOMPARE(run.exitCode, exitCode);
    const QString text = exitCode == 0 ? run.out : run.err;
    QVERIFY2(text.contains(expected), qPrintable(run.out + run.err));
}

void TestSmtpCtl::providerTest()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs, tlsServer()), qPrintable(peer.error()));
    const Run run = ctl({u"provider"_qs, u"test"_qs, u"--via"_qs, urlFor(peer),
                         u"--password-env"_qs, u"SMTP_PASSWORD"_qs},
                        withPassword());
    QVERIFY2(run.exitCode == 0, qPrintable(run.out + run.err));
    for (const QString &expected :
         {u"DNS resolution"_qs, u"TCP connect"_qs, u"STARTTLS"_qs, u"Protocol: TLS 1."_qs,
          u"Cipher: "_qs, u"Issuer: Postdesk Test CA"_qs, u"Verified: yes"_qs, u"EHLO"_qs,
          u"Authentication (PLAIN)"_qs, u"All checks passed"_qs}) {
        QVERIFY2(run.out.contains(expected), qPrintable(expected + u" missing in:\n" + run.out));
    }
    QVERIFY(!run.out.contains(u"s3cret"_qs));
    QCOMPARE(peer.messageCount(), 0);
}

void TestSmtpCtl::providerTestBadCertificate()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs, tlsServer(u"untrusted"_qs)),
             qPrintable(peer.error()));
    const Run run = ctl({u"provider"_qs, u"test"_qs, u"--via"_qs, urlFor(peer),
                         u"--password-env"_qs, u"SMTP_PASSWORD"_qs},
                        withPassword());
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.out.contains(u"FAIL"_qs) && run.out.contains(u"Verified: no"_qs),
             qPrintable(run.out));
    QVERIFY2(run.err.contains(u"failed"_qs), qPrintable(run.err));
}

void TestSmtpCtl::sendMessage()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs, tlsServer()), qPrintable(peer.error()));
    QTemporaryDir dir;
    const auto write = [&](const QString &name, const QByteArray &data) {
        QFile f(dir.filePath(name));
        f.open(QIODevice::WriteOnly);
        f.write(data);
        return f.fileName();
    };
    const QString text = write(u"body.txt"_qs,
                               "Hello Bob,\n.this line starts with a dot\n\u00e9t\u00e9\n");
    const QString html = write(u"body.html"_qs, "<p>Hello <b>Bob</b></p>");
    const QByteArray pdf = "%PDF-1.4\n" + QByteArray(2000, '\x7f') + "\n%%EOF\n";
    const QString attachment = write(u"report.pdf"_qs, pdf);

    const Run run = ctl({u"send"_qs,
                         u"--via"_qs,
                         urlFor(peer),
                         u"--password-env"_qs,
                         u"SMTP_PASSWORD"_qs,
                         u"--from"_qs,
                         u"News <news@example.org>"_qs,
                         u"--to"_qs,
                         u"bob@example.net"_qs,
                         u"--to"_qs,
                         u"carol@example.net"_qs,
                         u"--bcc"_qs,
                         u"audit@example.org"_qs,
                         u"--subject"_qs,
                         u"Quarterly r\u00e9sum\u00e9"_qs,
                         u"--text"_qs,
                         text,
                         u"--html"_qs,
                         html,
                         u"--attach"_qs,
                         attachment,
                         u"--header"_qs,
                         u"X-Campaign: q3"_qs,
                         u"--dkim-domain"_qs,
                         u"example.org"_qs,
                         u"--dkim-selector"_qs,
                         u"s1"_qs,
                         u"--dkim-key"_qs,
                         dataFile(u"dkim.key"_qs)},
                        withPassword());
    QVERIFY2(run.exitCode == 0, qPrintable(run.out + run.err));
    QVERIFY2(run.out.contains(u"Server reply: 250 2.0.0 Ok: queued as AIO0001"_qs),
             qPrintable(run.out));
    QVERIFY(run.out.contains(u"Message-ID: <"_qs));
    QVERIFY(run.out.contains(u"bob@example.net, carol@example.net, audit@example.org"_qs));

    QCOMPARE(peer.messageCount(), 1);
    const QJsonObject envelope = peer.envelope(1);
    QCOMPARE(envelope.value(u"mail_from").toString(), u"news@example.org"_qs);
    QCOMPARE(envelope.value(u"rcpt_tos").toArray(),
             QJsonArray({u"bob@example.net"_qs, u"carol@example.net"_qs, u"audit@example.org"_qs}));
    QCOMPARE(envelope.value(u"login").toString(), u"alice"_qs);
    QVERIFY(envelope.value(u"tls").toBool());

    const QJsonObject parsed = inspect(peer.messagePath(1));
    QVERIFY(!parsed.isEmpty());
    QCOMPARE(parsed.value(u"defects").toArray(), QJsonArray());
    QCOMPARE(header(parsed, u"Subject"_qs), u"Quarterly r\u00e9sum\u00e9"_qs);
    QCOMPARE(header(parsed, u"X-Campaign"_qs), u"q3"_qs);
    QVERIFY(header(parsed, u"Bcc"_qs).isEmpty());
    const QString messageId = run.out.section(u"Message-ID: "_qs, 1).section(u'\n', 0, 0);
    QCOMPARE(header(parsed, u"Message-ID"_qs), messageId);
    const QString dkim = header(parsed, u"DKIM-Signature"_qs);
    QVERIFY2(dkim.contains(u"d=example.org"_qs) && dkim.contains(u"s=s1"_qs), qPrintable(dkim));

    const QJsonObject root = parsed.value(u"structure").toObject();
    QCOMPARE(root.value(u"content_type").toString(), u"multipart/mixed"_qs);
    const QJsonArray parts = root.value(u"parts").toArray();
    QCOMPARE(parts.size(), 2);
    const QJsonArray bodies = parts.at(0)[u"parts"].toArray();
    QCOMPARE(parts.at(0)[u"content_type"].toString(), u"multipart/alternative"_qs);
    QCOMPARE(bodies.size(), 2);
    QCOMPARE(bodies.at(0)[u"content_type"].toString(), u"text/plain"_qs);
    QVERIFY(bodies.at(0)[u"text"].toString().startsWith(
            u"Hello Bob,\n.this line starts with a dot\n\u00e9t\u00e9"_qs));
    QCOMPARE(bodies.at(1)[u"content_type"].toString(), u"text/html"_qs);
    QVERIFY(bodies.at(1)[u"text"].toString().contains(u"<p>Hello <b>Bob</b></p>"_qs));
    QCOMPARE(parts.at(1)[u"filename"].toString(), u"report.pdf"_qs);
    QCOMPARE(parts.at(1)[u"content_type"].toString(), u"application/pdf"_qs);
    QCOMPARE(parts.at(1)[u"disposition"].toString(), u"attachment"_qs);
    QCOMPARE(QByteArray::fromBase64(parts.at(1)[u"base64"].toString().toLatin1()), pdf);
}

void TestSmtpCtl::sendPartial()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs,
                              {u"--tls"_qs, u"none"_qs, u"--reject-rcpt"_qs, u"nobody"_qs}),
             qPrintable(peer.error()));
    QTemporaryDir dir;
    QFile body(dir.filePath(u"t.txt"_qs));
    QVERIFY(body.open(QIODevice::WriteOnly));
    body.write("hi\n");
    body.close();
    const QString via = u"smtp://127.0.0.1:%1"_qs.arg(peer.port());
    Run run = ctl({u"send"_qs, u"--via"_qs, via, u"--from"_qs, u"a@example.org"_qs, u"--to"_qs,
                   u"bob@example.net, nobody@example.net"_qs, u"--subject"_qs, u"hi"_qs,
                   u"--text"_qs, body.fileName()});
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.contains(u"refused nobody@example.net: 550 5.1.1"_qs), qPrintable(run.err));
    QVERIFY(run.out.contains(u"Sent to bob@example.net"_qs));

    run = ctl({u"send"_qs, u"--via"_qs, via, u"--from"_qs, u"a@example.org"_qs, u"--to"_qs,
               u"nobody@example.net"_qs, u"--subject"_qs, u"hi"_qs, u"--text"_qs, body.fileName()});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(u"accepted none"_qs), qPrintable(run.err));
    QVERIFY(run.err.contains(u"550 5.1.1"_qs));
}

QTEST_GUILESS_MAIN(TestSmtpCtl)
#include "tst_smtpctl.moc"
