// The pieces of SMTP that need no peer: replies (RFC 5321 4.2, RFC 3463), EHLO capabilities and
// the DATA encoding (RFC 5321 4.5.2).

#include "providers/smtp/smtpcapabilities.h"
#include "providers/smtp/smtpclient.h"
#include "providers/smtp/smtpreply.h"

#include <QTest>

using Providers::SmtpCapabilities;
using Providers::SmtpReply;
using Providers::SmtpReplyParser;

class TestSmtpProtocol : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesReplies_data();
    void parsesReplies();
    void parsesRepliesInPieces();
    void rejectsGarbage_data();
    void rejectsGarbage();
    void parsesCapabilities();
    void encodesData_data();
    void encodesData();
};

void TestSmtpProtocol::parsesReplies_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("enhanced");
    QTest::addColumn<QStringList>("lines");
    QTest::addColumn<int>("retry");

    QTest::newRow("single line") << QByteArray("250 OK\r\n") << 250 << QString()
                                 << QStringList{u"OK"_qs} << int(Common::Retry::Permanent);
    QTest::newRow("enhanced") << QByteArray("550 5.1.1 <x@y>: User unknown\r\n") << 550
                              << u"5.1.1"_qs << QStringList{u"5.1.1 <x@y>: User unknown"_qs}
                              << int(Common::Retry::Permanent);
    QTest::newRow("transient") << QByteArray("451 4.7.1 Try again later\r\n") << 451 << u"4.7.1"_qs
                               << QStringList{u"4.7.1 Try again later"_qs}
                               << int(Common::Retry::Transient);
    QTest::newRow("multi-line") << QByteArray(
            "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n")
                                << 250 << QString()
                                << QStringList{u"mx.example"_qs, u"PIPELINING"_qs, u"SIZE 1000"_qs}
                                << int(Common::Retry::Permanent);
    QTest::newRow("bare LF") << QByteArray("220 hi\n") << 220 << QString() << QStringList{u"hi"_qs}
                             << int(Common::Retry::Permanent);
    QTest::newRow("code only") << QByteArray("354\r\n") << 354 << QString()
                               << QStringList{QString()} << int(Common::Retry::Permanent);
    QTest::newRow("enhanced class must match")
            << QByteArray("250 5.0.0 odd\r\n") << 250 << QString() << QStringList{u"5.0.0 odd"_qs}
            << int(Common::Retry::Permanent);
}

void TestSmtpProtocol::parsesReplies()
{
    QFETCH(QByteArray, input);
    SmtpReplyParser parser;
    parser.append(input);
    auto reply = parser.next();
    QVERIFY(reply);
    QVERIFY(reply->has_value());
    QTEST((*reply)->code, "code");
    QTEST((*reply)->enhancedCode, "enhanced");
    QTEST((*reply)->lines, "lines");
    QTEST(int((*reply)->retry()), "retry");
    auto none = parser.next();
    QVERIFY(none && !none->has_value());
}

void TestSmtpProtocol::parsesRepliesInPieces()
{
    const QByteArray all = "250-first\r\n250 second\r\n354 go\r\n";
    SmtpReplyParser parser;
    QList<SmtpReply> replies;
    for (char c : all) {
        parser.append(QByteArray(1, c));
        auto r = parser.next();
        QVERIFY(r);
        if (r->has_value())
            replies << **r;
    }
    QCOMPARE(replies.size(), 2);
    QCOMPARE(replies.at(0).text(), u"250 first\n250 second"_qs);
    QCOMPARE(replies.at(1).code, 354);
}

void TestSmtpProtocol::rejectsGarbage_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::newRow("not a code") << QByteArray("hello\r\n");
    QTest::newRow("bad separator") << QByteArray("250xOK\r\n");
    QTest::newRow("code changes mid-reply") << QByteArray("250-a\r\n251 b\r\n");
    QTest::newRow("endless line") << QByteArray(70'000, 'x');
}

void TestSmtpProtocol::rejectsGarbage()
{
    QFETCH(QByteArray, input);
    SmtpReplyParser parser;
    parser.append(input);
    auto r = parser.next();
    QVERIFY(!r);
    QCOMPARE(r.error().code, u"smtp.protocol"_qs);
    QVERIFY(r.error().isTransient());
}

void TestSmtpProtocol::parsesCapabilities()
{
    SmtpReplyParser parser;
    parser.append("250-smtp.example.com at your service\r\n"
                  "250-SIZE 35882577\r\n"
                  "250-8BITMIME\r\n"
                  "250-STARTTLS\r\n"
                  "250-AUTH LOGIN PLAIN XOAUTH2\r\n"
                  "250-AUTH=LOGIN\r\n"
                  "250-ENHANCEDSTATUSCODES\r\n"
                  "250-PIPELINING\r\n"
                  "250 SMTPUTF8\r\n");
    const auto reply = parser.next();
    QVERIFY(reply && reply->has_value());
    const auto caps = SmtpCapabilities::fromEhloReply(**reply);
    QCOMPARE(caps.serverName, u"smtp.example.com"_qs);
    QVERIFY(caps.esmtp && caps.startTls && caps.pipelining && caps.eightBitMime && caps.smtpUtf8
            && caps.enhancedStatusCodes && caps.size);
    QCOMPARE(caps.maxSize, 35882577);
    QCOMPARE(caps.authMechanisms, QStringList({u"LOGIN"_qs, u"PLAIN"_qs, u"XOAUTH2"_qs}));
    QCOMPARE(caps.keywords.size(), 8);

    SmtpReplyParser bare;
    bare.append("250 tiny.example\r\n");
    const auto tiny = SmtpCapabilities::fromEhloReply(**bare.next());
    QVERIFY(!tiny.startTls && !tiny.pipelining && tiny.authMechanisms.isEmpty());
}

void TestSmtpProtocol::encodesData_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("encoded");

    QTest::newRow("plain") << QByteArray("a\r\nb\r\n") << QByteArray("a\r\nb\r\n.\r\n");
    QTest::newRow("no final line end") << QByteArray("a\r\nb") << QByteArray("a\r\nb\r\n.\r\n");
    QTest::newRow("leading dot") << QByteArray(".a\r\n") << QByteArray("..a\r\n.\r\n");
    QTest::newRow("lone dot line")
            << QByteArray("a\r\n.\r\nb\r\n") << QByteArray("a\r\n..\r\nb\r\n.\r\n");
    QTest::newRow("dots mid-line stay")
            << QByteArray("a.b ..\r\n") << QByteArray("a.b ..\r\n.\r\n");
    QTest::newRow("bare LF becomes CRLF")
            << QByteArray("a\n.b\nc") << QByteArray("a\r\n..b\r\nc\r\n.\r\n");
    QTest::newRow("bare CR becomes CRLF")
            << QByteArray("a\rb\r\n") << QByteArray("a\r\nb\r\n.\r\n");
    QTest::newRow("empty") << QByteArray() << QByteArray(".\r\n");
    QTest::newRow("8-bit bytes") << QByteArray("gr\xc3\xbc\xc3\x9f\r\n")
                                 << QByteArray("gr\xc3\xbc\xc3\x9f\r\n.\r\n");
}

void TestSmtpProtocol::encodesData()
{
    QFETCH(QByteArray, message);
    QTEST(Providers::SmtpClient::encodeData(message), "encoded");
}

QTEST_GUILESS_MAIN(TestSmtpProtocol)
#include "tst_smtpprotocol.moc"
