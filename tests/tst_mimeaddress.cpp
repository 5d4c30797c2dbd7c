// Mime::Address: what RFC 5321/5322 allow is accepted (international domains as A-labels, UTF-8
// local parts flagged for SMTPUTF8), everything else is refused with a message naming the address.

#include "mime/address.h"

#include <QRandomGenerator>
#include <QTest>

using namespace Mime;

class TestMimeAddress : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseValid_data();
    void parseValid();
    void parseInvalid_data();
    void parseInvalid();
    void create();
    void parseList();
    void parseListNamesTheBadEntry();
    void headerForm_data();
    void headerForm();
    void asciiDomainName();
    void randomInput();
};

void TestMimeAddress::parseValid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("displayName");
    QTest::addColumn<QString>("localPart");
    QTest::addColumn<QString>("domain");
    QTest::addColumn<QByteArray>("asciiDomain");
    QTest::addColumn<bool>("smtpUtf8");

    const QString none;
    QTest::newRow("bare") << QStringLiteral("jane@example.org") << none << QStringLiteral("jane")
                          << QStringLiteral("example.org") << QByteArray("example.org") << false;
    QTest::newRow("name") << QStringLiteral("Jane Doe <jane@example.org>")
                          << QStringLiteral("Jane Doe") << QStringLiteral("jane")
                          << QStringLiteral("example.org") << QByteArray("example.org") << false;
    QTest::newRow("quoted name") << QStringLiteral("\"Doe, Jane \\\"JD\\\"\" <jane@example.org>")
                                 << QStringLiteral("Doe, Jane \"JD\"") << QStringLiteral("jane")
                                 << QStringLiteral("example.org") << QByteArray("example.org")
                                 << false;
    QTest::newRow("partly quoted name")
            << QStringLiteral("Jane \"JD\" Doe <jane@example.org>") << QStringLiteral("Jane JD Doe")
            << QStringLiteral("jane") << QStringLiteral("example.org") << QByteArray("example.org")
            << false;
    QTest::newRow("angle only") << QStringLiteral("<jane@example.org>") << none
                                << QStringLiteral("jane") << QStringLiteral("example.org")
                                << QByteArray("example.org") << false;
    QTest::newRow("name with < in quotes")
            << QStringLiteral("\"a<b\" <jane@example.org>") << QStringLiteral("a<b")
            << QStringLiteral("jane") << QStringLiteral("example.org") << QByteArray("example.org")
            << false;
    QTest::newRow("atext specials")
            << QStringLiteral("a.b+tag!#$%&'*/=?^_`{|}~-@example.org") << none
            << QStringLiteral("a.b+tag!#$%&'*/=?^_`{|}~-") << QStringLiteral("example.org")
            << QByteArray("example.org") << false;
    QTest::newRow("quoted local part")
            << QStringLiteral("\"john doe\"@example.org") << none << QStringLiteral("\"john doe\"")
            << QStringLiteral("example.org") << QByteArray("example.org") << false;
    QTest::newRow("upper-case domain")
            << QStringLiteral("Jane@Example.ORG") << none << QStringLiteral("Jane")
            << QStringLiteral("example.org") << QByteArray("example.org") << false;
    QTest::newRow("idn") << QStringLiteral("Jörg <joerg@bücher.example>") << QStringLiteral("Jörg")
                         << QStringLiteral("joerg") << QStringLiteral("bücher.example")
                         << QByteArray("xn--bcher-kva.example") << false;
    QTest::newRow("idn given as a-label")
            << QStringLiteral("joerg@xn--bcher-kva.example") << none << QStringLiteral("joerg")
            << QStringLiteral("bücher.example") << QByteArray("xn--bcher-kva.example") << false;
    QTest::newRow("cjk idn") << QStringLiteral("info@例え.テスト") << none << QStringLiteral("info")
                             << QStringLiteral("例え.テスト")
                             << QByteArray("xn--r8jz45g.xn--zckzah") << false;
    QTest::newRow("utf-8 local part")
            << QStringLiteral("jürgen@example.org") << none << QStringLiteral("jürgen")
            << QStringLiteral("example.org") << QByteArray("example.org") << true;
    QTest::newRow("ipv4 literal") << QStringLiteral("root@[192.0.2.1]") << none
                                  << QStringLiteral("root") << QStringLiteral("[192.0.2.1]")
                                  << QByteArray("[192.0.2.1]") << false;
    QTest::newRow("ipv6 literal") << QStringLiteral("root@[IPv6:2001:db8::1]") << none
                                  << QStringLiteral("root") << QStringLiteral("[IPv6:2001:db8::1]")
                                  << QByteArray("[IPv6:2001:db8::1]") << false;
    QTest::newRow("surrounding spaces")
            << QStringLiteral("  Jane   <jane@example.org>  ") << QStringLiteral("Jane")
            << QStringLiteral("jane") << QStringLiteral("example.org") << QByteArray("example.org")
            << false;
}

void TestMimeAddress::parseValid()
{
    QFETCH(QString, text);
    QFETCH(QString, displayName);
    QFETCH(QString, localPart);
    QFETCH(QString, domain);
    QFETCH(QByteArray, asciiDomain);
    QFETCH(bool, smtpUtf8);

    const auto address = Address::parse(text);
    QVERIFY2(address, qPrintable(address ? QString() : address.error().message));
    QVERIFY(!address->isNull());
    QCOMPARE(address->displayName(), displayName);
    QCOMPARE(address->localPart(), localPart);
    QCOMPARE(address->domain(), domain);
    QCOMPARE(address->asciiDomain(), asciiDomain);
    QCOMPARE(address->needsSmtpUtf8(), smtpUtf8);
    QCOMPARE(address->envelopeAddress(), localPart.toUtf8() + '@' + asciiDomain);
}

void TestMimeAddress::parseInvalid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("reason"); // a part of the error message

    QTest::newRow("empty") << QString() << QStringLiteral("empty");
    QTest::newRow("no at") << QStringLiteral("jane.example.org") << QStringLiteral("no @");
    QTest::newRow("no local part")
            << QStringLiteral("@example.org") << QStringLiteral("nothing before the @");
    QTest::newRow("no domain") << QStringLiteral("jane@") << QStringLiteral("nothing after the @");
    QTest::newRow("space in local part") << QStringLiteral("jane doe@example.org")
                                         << QStringLiteral("only allowed inside quotes");
    QTest::newRow("double dot") << QStringLiteral("jane..doe@example.org")
                                << QStringLiteral("two dots");
    QTest::newRow("leading dot") << QStringLiteral(".jane@example.org") << QStringLiteral("dot");
    QTest::newRow("unclosed quote")
            << QStringLiteral("\"jane@example.org") << QStringLiteral("not closed");
    QTest::newRow("local part too long")
            << QString(65, u'a') + QStringLiteral("@example.org") << QStringLiteral("64 octets");
    QTest::newRow("underscore in domain")
            << QStringLiteral("jane@exa_mple.org") << QStringLiteral("letters, digits, hyphens");
    QTest::newRow("hyphen label") << QStringLiteral("jane@-example.org")
                                  << QStringLiteral("hyphen");
    QTest::newRow("label too long")
            << QStringLiteral("jane@") + QString(64, u'a') + QStringLiteral(".org")
            << QStringLiteral("63 characters");
    QTest::newRow("trailing dot domain")
            << QStringLiteral("jane@example.org.") << QStringLiteral("dot");
    QTest::newRow("bad literal") << QStringLiteral("jane@[300.1.1.1]")
                                 << QStringLiteral("address literal");
    QTest::newRow("CRLF injection") << QStringLiteral("jane@example.org\r\nBcc: x@evil.example")
                                    << QStringLiteral("line break");
    QTest::newRow("LF in name") << QStringLiteral("Jane\nDoe <jane@example.org>")
                                << QStringLiteral("line break");
    QTest::newRow("gt without lt")
            << QStringLiteral("jane@example.org>") << QStringLiteral("'>' but no '<'");
    QTest::newRow("two at in angle") << QStringLiteral("Jane <jane@doe@example.org>")
                                     << QStringLiteral("only allowed inside quotes");
    QTest::newRow("control in name")
            << QStringLiteral("Ja\x01ne <jane@example.org>") << QStringLiteral("control character");
}

void TestMimeAddress::parseInvalid()
{
    QFETCH(QString, text);
    QFETCH(QString, reason);
    const auto address = Address::parse(text);
    QVERIFY(!address);
    const QString message = address.error().message;
    QCOMPARE(address.error().code, QStringLiteral("mime.address.invalid"));
    QVERIFY2(message.contains(reason), qPrintable(message));
    // The message names the bad address (as one line).
    if (!text.trimmed().isEmpty())
        QVERIFY2(message.contains(text.simplified().left(20)), qPrintable(message));
    QVERIFY(!message.contains(u'\n') && !message.contains(u'\r'));
}

void TestMimeAddress::create()
{
    const auto address = Address::create(QStringLiteral("jane@example.org"),
                                         QStringLiteral("Doe, Jane"));
    QVERIFY(address);
    QCOMPARE(address->toString(), QStringLiteral("\"Doe, Jane\" <jane@example.org>"));
    QCOMPARE(address->toHeader(), QByteArray("\"Doe, Jane\" <jane@example.org>"));
    QVERIFY(!Address::create(QStringLiteral("jane@example.org"), QStringLiteral("a\r\nb")));
    QVERIFY(!Address::create(QStringLiteral("Jane <jane@example.org>")));
}

void TestMimeAddress::parseList()
{
    const auto list = Address::parseList(QStringLiteral(
            "\"Doe, Jane\" <jane@example.org>, bob@example.org,, Zoë <zoe@bücher.example>"));
    QVERIFY2(list, qPrintable(list ? QString() : list.error().message));
    QCOMPARE(list->size(), 3);
    QCOMPARE(list->at(0).displayName(), QStringLiteral("Doe, Jane"));
    QCOMPARE(list->at(1).envelopeAddress(), QByteArray("bob@example.org"));
    QCOMPARE(list->at(2).envelopeAddress(), QByteArray("zoe@xn--bcher-kva.example"));
    const auto empty = Address::parseList(QStringLiteral(" , "));
    QVERIFY(empty);
    QVERIFY(empty->isEmpty());
}

void TestMimeAddress::parseListNamesTheBadEntry()
{
    const auto list = Address::parseList(
            QStringLiteral("good@example.org, bad@@example.org, other@example.org"));
    QVERIFY(!list);
    QVERIFY2(list.error().message.contains(QStringLiteral("\"bad@@example.org\"")),
             qPrintable(list.error().message));
}

void TestMimeAddress::headerForm_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QByteArray>("header");

    QTest::newRow("bare") << QStringLiteral("jane@example.org") << QByteArray("jane@example.org");
    QTest::newRow("atom name") << QStringLiteral("Jane Doe <jane@example.org>")
                               << QByteArray("Jane Doe <jane@example.org>");
    QTest::newRow("specials") << QStringLiteral("\"J. Doe\" <jane@example.org>")
                              << QByteArray("\"J. Doe\" <jane@example.org>");
    QTest::newRow("non-ascii name, idn")
            << QStringLiteral("Jörg Schmidt <joerg@bücher.example>")
            << QByteArray("=?utf-8?q?J=C3=B6rg?= Schmidt <joerg@xn--bcher-kva.example>");
    QTest::newRow("utf-8 local part")
            << QStringLiteral("jürgen@example.org") << QByteArray("j\xc3\xbcrgen@example.org");
}

void TestMimeAddress::headerForm()
{
    QFETCH(QString, text);
    QFETCH(QByteArray, header);
    const auto address = Address::parse(text);
    QVERIFY(address);
    QCOMPARE(address->toHeader(), header);
}

void TestMimeAddress::asciiDomainName()
{
    QCOMPARE(Address::asciiDomainName(QStringLiteral("Bücher.Example")).value(),
             QByteArray("xn--bcher-kva.example"));
    const auto bad = Address::asciiDomainName(QStringLiteral("exa mple.org"));
    QVERIFY(!bad);
    QVERIFY(bad.error().message.contains(QStringLiteral("exa mple.org")));
}

void TestMimeAddress::randomInput()
{
    // Whatever the input, parse() either refuses it or gives an address that can be written
    // safely and reads back the same.
    QRandomGenerator generator{7};
    const QStringView alphabet = u"ab.@<>\"\\ ,:;()[]\r\n\tüß例-_+=?xn1";
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        const auto randomText = [&](QStringView from, int maxLength) {
            QString text;
            const int length = int(generator.bounded(maxLength + 1));
            for (int k = 0; k < length; ++k)
                text += from.at(generator.bounded(int(from.size())));
            return text;
        };
        const QString local = randomText(u"ab.\"\\ +=?_-ü@", 8);
        const QString domain = randomText(u"ab.-ü例xn1", 12);
        const QString name = randomText(alphabet, 10);
        QString text;
        switch (generator.bounded(4)) {
        case 0:
            text = randomText(alphabet, 24);
            break;
        case 1:
            text = local + u'@' + domain;
            break;
        case 2:
            text = name + QStringLiteral(" <") + local + u'@' + domain + u'>';
            break;
        default:
            text = u'"' + name + QStringLiteral("\" <") + local + u'@' + domain + u'>';
            break;
        }
        const auto address = Address::parse(text);
        if (!address) {
            QVERIFY(!address.error().message.isEmpty());
            continue;
        }
        ++accepted;
        const QByteArray header = address->toHeader();
        QVERIFY2(!header.contains('\r') && !header.contains('\n'), header.constData());
        const QByteArray envelope = address->envelopeAddress();
        // A quoted local part may hold '<', '>' or spaces (RFC 5321 section 4.1.2), never CR/LF.
        QVERIFY2(!envelope.contains('\r') && !envelope.contains('\n'), envelope.constData());
        const auto again = Address::parse(address->toString());
        QVERIFY2(again, qPrintable(address->toString()));
        QCOMPARE(again->localPart(), address->localPart());
        QCOMPARE(again->asciiDomain(), address->asciiDomain());
        QCOMPARE(again->displayName(), address->displayName());
    }
    qInfo("%d of 20000 random strings were addresses", accepted);
    QVERIFY(accepted > 0);
}

QTEST_GUILESS_MAIN(TestMimeAddress)
#include "tst_mimeaddress.moc"
