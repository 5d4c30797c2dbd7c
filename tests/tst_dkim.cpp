// Mime::DkimSigner: signatures made here must verify with an independent verifier (Debian's
// python3-dkim, through tests/mime/verify_dkim.py, with the public key given in place of DNS), for
// RSA-SHA256 and Ed25519-SHA256, and must stop verifying when a signed part changes. When
// python3-dkim (or python3-nacl) is missing the test fails.

#include "mime/dkimsigner.h"
#include "mime/message.h"

#include "mime/pythonchecker.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>

#include <atomic>
#include <thread>
#include <vector>

using namespace Mime;

namespace {

QByteArray readTestFile(const QString &name)
{
    QFile file(QStringLiteral(POSTDESK_TEST_DATA_DIR "/mime/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read test data %s", qPrintable(file.fileName()));
    return file.readAll();
}

QString publicKeyPath(const QString &key)
{
    return QStringLiteral(POSTDESK_TEST_DATA_DIR "/mime/") + key + QStringLiteral(".pub.pem");
}

Address address(const QString &text)
{
    auto parsed = Address::parse(text);
    if (!parsed)
        qFatal("test address %s: %s", qPrintable(text), qPrintable(parsed.error().message));
    return *parsed;
}

QByteArray composedMessage(const QString &kind)
{
    Message message;
    message.setFrom(address(QStringLiteral("Postdesk <news@example.org>")))
            .addTo(address(QStringLiteral("Jane Doe <jane@example.net>")))
            .setSubject(QStringLiteral("Signed"))
            .setText(QStringLiteral("Hello Jane,\n\nthis message is signed.\n"));
    if (kind == u"rich") {
        message.setSubject(QStringLiteral("Grüße – ein langer Betreff, der gefaltet werden muss, "
                                          "weil er so lang ist 🚀"))
                .addCc(address(QStringLiteral("Zoë <zoe@bücher.example>")))
                .addReplyTo(address(QStringLiteral("\"Support, Team\" <support@example.org>")))
                .setHtml(QStringLiteral(
                        "<p>Hello <b>Jane</b></p><img src=\"cid:logo@example.org\">"))
                .addInline(QStringLiteral("logo@example.org"), QStringLiteral("image/png"),
                           QByteArray(5000, '\x89'))
                .addAttachment({QStringLiteral("Übersicht.pdf"),
                                QStringLiteral("application/pdf"),
                                QByteArray(30000, 'x'),
                                {},
                                {}})
                .addHeader(QStringLiteral("X-Campaign"), QStringLiteral("Herbst"))
                .setListUnsubscribe(QUrl(QStringLiteral("mailto:u@example.org")),
                                    QUrl(QStringLiteral("https://example.org/u/abc")));
    } else if (kind == u"empty body") {
        message.setText(QLatin1String(""));
    } else if (kind == u"trailing blank lines") {
        message.setText(QStringLiteral("Text   with    runs \t of space  \n\n\n\n"));
    }
    return message.compose()->data;
}

// Written by hand: odd spacing and folding a verifier must canonicalize the same way
// (RFC 6376 section 3.4.2 and 3.4.4), and a header that occurs twice.
QByteArray handWrittenMessage()
{
    return QByteArrayLiteral("Received: from a by b; Tue, 24 Nov 2026 06:00:00 +0000\r\n"
                             "From:   Jane  Doe\t <jane@example.org>  \r\n"
                             "To: bob@example.net,\r\n"
                             "\t carol@example.net\r\n"
                             "Subject:\tA   folded\r\n"
                             "  subject \r\n"
                             "Date: Tue, 24 Nov 2026 06:55:03 +0000\r\n"
                             "Message-ID: <x.1@example.org>\r\n"
                             "Reply-To: a@example.org\r\n"
                             "Reply-To: b@example.org\r\n"
                             "MIME-Version: 1.0\r\n"
                             "Content-Type: text/plain; charset=us-ascii\r\n"
                             "\r\n"
                             "Line with trailing space   \r\n"
                             "  Indented\t\tline\r\n"
                             "\r\n"
                             "  \r\n"
                             "\r\n");
}

} // namespace

struct Verification
{
    bool verified = false;
    QJsonObject json;
    QString problem;
};

class TestDkim : public QObject
{
    Q_OBJECT

private:
    Verification verify(const QByteArray &signedMessage, const QString &key, int index = 0);

    MimeTest::CheckerServer m_verifier;

private Q_SLOTS:
    void initTestCase();
    void signatureVerifies_data();
    void signatureVerifies();
    void tamperingIsDetected_data();
    void tamperingIsDetected();
    void dualSignature();
    void concurrentSigning();
    void publicKeyRecord_data();
    void publicKeyRecord();
    void badKeys_data();
    void badKeys();
    void badMessages_data();
    void badMessages();
    void signingSpeed();
};

Verification TestDkim::verify(const QByteArray &signedMessage, const QString &key, int index)
{
    Verification result;
    QJsonObject request;
    request.insert(QStringLiteral("index"), index);
    request.insert(QStringLiteral("key"), publicKeyPath(key));
    request.insert(QStringLiteral("message"), QString::fromLatin1(signedMessage.toBase64()));
    result.json = m_verifier.request(request, &result.problem);
    result.verified = result.problem.isEmpty() && result.json.value(u"verified").toBool();
    return result;
}

void TestDkim::initTestCase()
{
    // The independent verifier must be there: without python3-dkim (and python3-nacl) this fails.
    const QString problem = m_verifier.start(QStringLiteral("verify_dkim.py"));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    const Verification unsigned_ = verify("From: a@example.org\r\n\r\nbody\r\n",
                                          QStringLiteral("ed25519"));
    QVERIFY2(unsigned_.problem.isEmpty(),
             qPrintable(QStringLiteral("The independent DKIM verifier (python3-dkim, python3-nacl) "
                                       "does not run: ")
                        + unsigned_.problem));
    QVERIFY(!unsigned_.verified);
}

void TestDkim::signatureVerifies_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("kind");

    for (const QString &key : {QStringLiteral("rsa2048"), QStringLiteral("ed25519")}) {
        for (const QString &kind :
             {QStringLiteral("simple"), QStringLiteral("rich"), QStringLiteral("empty body"),
              QStringLiteral("trailing blank lines"), QStringLiteral("hand-written")})
            QTest::addRow("%s, %s", qPrintable(key), qPrintable(kind)) << key << kind;
    }
}

void TestDkim::signatureVerifies()
{
    QFETCH(QString, key);
    QFETCH(QString, kind);

    // The RSA key in its traditional PKCS#1 form ("BEGIN RSA PRIVATE KEY") for one case.
    const QString keyFile = kind == u"simple" && key == u"rsa2048"
            ? QStringLiteral("rsa2048.pkcs1.key.pem")
            : key + QStringLiteral(".key.pem");
    auto signer = DkimSigner::fromPem(readTestFile(keyFile), QStringLiteral("example.org"),
                                      QStringLiteral("pd2026"));
    QVERIFY2(signer, qPrintable(signer ? QString() : signer.error().toString()));
    QCOMPARE(signer->algorithm(),
             key == u"ed25519" ? DkimSigner::Algorithm::Ed25519Sha256
                               : DkimSigner::Algorithm::RsaSha256);
    const QByteArray message = kind == u"hand-written" ? handWrittenMessage()
                                                       : composedMessage(kind);
    const auto signedMessage = signer->sign(message);
    QVERIFY2(signedMessage,
             qPrintable(signedMessage ? QString() : signedMessage.error().toString()));
    QVERIFY(signedMessage->startsWith("DKIM-Signature: v=1;"));
    QVERIFY(signedMessage->endsWith(message));
    const QByteArray header = signedMessage->left(signedMessage->size() - message.size());
    for (const QByteArray &line : header.split('\n'))
        QVERIFY2(line.size() <= 78, line.constData());

    const Verification result = verify(*signedMessage, key);
    QVERIFY2(result.problem.isEmpty(), qPrintable(result.problem));
    QVERIFY2(result.verified, qPrintable(result.json.value(u"log").toString()));
    const QJsonObject tags = result.json.value(u"tags").toObject();
    QCOMPARE(tags.value(u"a").toString(),
             key == u"ed25519" ? QStringLiteral("ed25519-sha256") : QStringLiteral("rsa-sha256"));
    QCOMPARE(tags.value(u"c").toString(), QStringLiteral("relaxed/relaxed"));
    QCOMPARE(tags.value(u"d").toString(), QStringLiteral("example.org"));
    QCOMPARE(tags.value(u"s").toString(), QStringLiteral("pd2026"));
    QCOMPARE(result.json.value(u"looked_up").toArray().at(0).toString(),
             QStringLiteral("pd2026._domainkey.example.org."));
    QString hTag = tags.value(u"h").toString();
    hTag.remove(QRegularExpression(QStringLiteral("\\s")));
    const QStringList signedHeaders = hTag.split(u':');
    // From is oversigned: listed once more than it occurs (RFC 6376 section 8.15).
    QCOMPARE(signedHeaders.count(QStringLiteral("from")), 2);
    for (const QString &name : {QStringLiteral("to"), QStringLiteral("subject"),
                                QStringLiteral("date"), QStringLiteral("message-id"),
                                QStringLiteral("mime-version"), QStringLiteral("content-type")})
        QVERIFY2(signedHeaders.contains(name), qPrintable(name));
    if (kind == u"rich") {
        for (const QString &name :
             {QStringLiteral("cc"), QStringLiteral("reply-to"), QStringLiteral("list-unsubscribe"),
              QStringLiteral("list-unsubscribe-post")})
            QVERIFY2(signedHeaders.contains(name), qPrintable(name));
    }
    if (kind == u"hand-written") {
        QCOMPARE(signedHeaders.count(QStringLiteral("reply-to")), 2);
        QVERIFY(!signedHeaders.contains(QStringLiteral("received")));
    }
}

void TestDkim::tamperingIsDetected_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QByteArray>("from");
    QTest::addColumn<QByteArray>("to");

    for (const QString &key : {QStringLiteral("rsa2048"), QStringLiteral("ed25519")}) {
        QTest::addRow("%s, subject", qPrintable(key))
                << key << QByteArray("Subject: Signed") << QByteArray("Subject: Signet");
        QTest::addRow("%s, body", qPrintable(key)) << key << QByteArray("this message is signed")
                                                   << QByteArray("this message is sigNed");
        QTest::addRow("%s, second From", qPrintable(key))
                << key << QByteArray("\r\nTo: ")
                << QByteArray("\r\nFrom: Evil <evil@example.com>\r\nTo: ");
        QTest::addRow("%s, signed header removed", qPrintable(key))
                << key << QByteArray("\r\nMIME-Version: 1.0") << QByteArray();
    }
}

void TestDkim::tamperingIsDetected()
{
    QFETCH(QString, key);
    QFETCH(QByteArray, from);
    QFETCH(QByteArray, to);
    auto signer = DkimSigner::fromPem(readTestFile(key + QStringLiteral(".key.pem")),
                                      QStringLiteral("example.org"), QStringLiteral("pd2026"));
    QVERIFY(signer);
    QByteArray signedMessage = *signer->sign(composedMessage(QStringLiteral("simple")));
    const Verification before = verify(signedMessage, key);
    QVERIFY2(before.problem.isEmpty(), qPrintable(before.problem));
    QVERIFY(before.verified);

    const qsizetype at = signedMessage.indexOf(from);
    QVERIFY(at > 0);
    signedMessage.replace(at, from.size(), to);
    const Verification after = verify(signedMessage, key);
    QVERIFY2(after.problem.isEmpty(), qPrintable(after.problem));
    QVERIFY(!after.verified);
}

void TestDkim::dualSignature()
{
    // RFC 8463 section 6: Ed25519 alongside RSA for verifiers that know only RSA. Each signature
    // must verify on its own; the second signer leaves the first signature alone.
    const auto ed25519 = DkimSigner::fromPem(readTestFile(QStringLiteral("ed25519.key.pem")),
                                             QStringLiteral("example.org"),
                                             QStringLiteral("pd2026"));
    const auto rsa = DkimSigner::fromPem(readTestFile(QStringLiteral("rsa2048.key.pem")),
                                         QStringLiteral("example.org"), QStringLiteral("pd2026"));
    QVERIFY(ed25519 && rsa);
    const auto once = ed25519->sign(composedMessage(QStringLiteral("rich")));
    QVERIFY(once);
    const auto twice = rsa->sign(*once);
    QVERIFY(twice);
    const Verification first = verify(*twice, QStringLiteral("rsa2048"), 0);
    QVERIFY2(first.problem.isEmpty(), qPrintable(first.problem));
    QVERIFY2(first.verified, qPrintable(first.json.value(u"log").toString()));
    const Verification second = verify(*twice, QStringLiteral("ed25519"), 1);
    QVERIFY2(second.problem.isEmpty(), qPrintable(second.problem));
    QVERIFY2(second.verified, qPrintable(second.json.value(u"log").toString()));
}

void TestDkim::concurrentSigning()
{
    // One signer shared by the send threads: copies share the key and sign at the same time.
    const auto signer = DkimSigner::fromPem(readTestFile(QStringLiteral("rsa2048.key.pem")),
                                            QStringLiteral("example.org"),
                                            QStringLiteral("pd2026"));
    QVERIFY(signer);
    const QByteArray message = composedMessage(QStringLiteral("simple"));
    const QDateTime time = QDateTime::currentDateTimeUtc();
    const QByteArray expected = *signer->sign(message, time);
    constexpr int Threads = 4;
    std::atomic<int> mismatches = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < Threads; ++t) {
        threads.emplace_back([copy = *signer, &message, &time, &expected, &mismatches] {
            for (int i = 0; i < 50; ++i) {
                const auto result = copy.sign(message, time);
                // RSASSA-PKCS1-v1_5 is deterministic: every thread must get the same bytes.
                if (!result || *result != expected)
                    ++mismatches;
            }
        });
    }
    for (std::thread &thread : threads)
        thread.join();
    QCOMPARE(mismatches.load(), 0);
    const Verification result = verify(expected, QStringLiteral("rsa2048"));
    QVERIFY2(result.problem.isEmpty(), qPrintable(result.problem));
    QVERIFY(result.verified);
}

void TestDkim::publicKeyRecord_data()
{
    QTest::addColumn<QString>("key");
    QTest::newRow("rsa") << QStringLiteral("rsa2048");
    QTest::newRow("ed25519") << QStringLiteral("ed25519");
}

void TestDkim::publicKeyRecord()
{
    QFETCH(QString, key);
    const auto signer = DkimSigner::fromPem(readTestFile(key + QStringLiteral(".key.pem")),
                                            QStringLiteral("Bücher.Example"),
                                            QStringLiteral("sel-1.2026"));
    QVERIFY(signer);
    QCOMPARE(signer->domain(), QByteArray("xn--bcher-kva.example"));
    QCOMPARE(signer->selector(), QByteArray("sel-1.2026"));
    // The record from the public key file that openssl wrote.
    QByteArray der;
    for (const QByteArray &line : readTestFile(key + QStringLiteral(".pub.pem")).split('\n')) {
        if (!line.startsWith("-----"))
            der += QByteArray::fromBase64(line.trimmed());
    }
    const QByteArray expected = key == u"ed25519"
            ? QByteArray("v=DKIM1; k=ed25519; p=" + der.right(32).toBase64())
            : QByteArray("v=DKIM1; k=rsa; p=" + der.toBase64());
    QCOMPARE(signer->publicKeyRecord(), expected);
}

void TestDkim::badKeys_data()
{
    QTest::addColumn<QByteArray>("pem");
    QTest::addColumn<QString>("domain");
    QTest::addColumn<QString>("selector");
    QTest::addColumn<QString>("hint");

    const QByteArray good = readTestFile(QStringLiteral("ed25519.key.pem"));
    const QString domain = QStringLiteral("example.org");
    const QString selector = QStringLiteral("s1");
    QTest::newRow("empty") << QByteArray() << domain << selector << QStringLiteral("empty");
    QTest::newRow("garbage") << QByteArray(
            "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
                             << domain << selector << QStringLiteral("not a readable PEM");
    QTest::newRow("public key") << readTestFile(QStringLiteral("rsa2048.pub.pem")) << domain
                                << selector << QStringLiteral("not a readable PEM");
    QTest::newRow("rsa 512") << readTestFile(QStringLiteral("rsa512.key.pem")) << domain << selector
                             << QStringLiteral("512 bits");
    QTest::newRow("ec key") << readTestFile(QStringLiteral("ec256.key.pem")) << domain << selector
                            << QStringLiteral("RSA or Ed25519");
    QTest::newRow("bad domain") << good << QStringLiteral("exa mple.org") << selector
                                << QStringLiteral("\"exa mple.org\"");
    QTest::newRow("literal domain") << good << QStringLiteral("[192.0.2.1]") << selector
                                    << QStringLiteral("not a domain name");
    QTest::newRow("bad selector") << good << domain << QStringLiteral("sel;ector")
                                  << QStringLiteral("\"sel;ector\"");
    QTest::newRow("selector with line break")
            << good << domain << QStringLiteral("s1\r\nX: y") << QStringLiteral("selector");
}

void TestDkim::badKeys()
{
    QFETCH(QByteArray, pem);
    QFETCH(QString, domain);
    QFETCH(QString, selector);
    QFETCH(QString, hint);
    const auto signer = DkimSigner::fromPem(pem, domain, selector);
    QVERIFY(!signer);
    QCOMPARE(signer.error().code, QStringLiteral("mime.dkim.key"));
    QVERIFY2(signer.error().message.contains(hint), qPrintable(signer.error().message));
}

void TestDkim::badMessages_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QString>("hint");
    QTest::newRow("no From") << QByteArray("To: a@example.org\r\n\r\nbody\r\n")
                             << QStringLiteral("no From");
    QTest::newRow("LF line ends") << QByteArray("From: a@example.org\n\nbody\n")
                                  << QStringLiteral("CRLF");
    QTest::newRow("line without colon")
            << QByteArray("From: a@example.org\r\nnonsense\r\n\r\nx\r\n")
            << QStringLiteral("without a colon");
}

void TestDkim::badMessages()
{
    QFETCH(QByteArray, message);
    QFETCH(QString, hint);
    const auto signer = DkimSigner::fromPem(readTestFile(QStringLiteral("ed25519.key.pem")),
                                            QStringLiteral("example.org"), QStringLiteral("s1"));
    QVERIFY(signer);
    const auto result = signer->sign(message);
    QVERIFY(!result);
    QVERIFY2(result.error().message.contains(hint), qPrintable(result.error().message));
}

void TestDkim::signingSpeed()
{
    const QByteArray message = composedMessage(QStringLiteral("rich"));
    for (const QString &key : {QStringLiteral("rsa2048"), QStringLiteral("ed25519")}) {
        const auto signer = DkimSigner::fromPem(readTestFile(key + QStringLiteral(".key.pem")),
                                                QStringLiteral("example.org"),
                                                QStringLiteral("s1"));
        QVERIFY(signer);
        constexpr int Count = 300;
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < Count; ++i)
            QVERIFY(signer->sign(message));
        const double seconds = qMax<qint64>(timer.elapsed(), 1) / 1000.0;
        qInfo("%s: %.0f signatures/s on a %lld-octet message", qPrintable(key), Count / seconds,
              qlonglong(message.size()));
    }
}

QTEST_GUILESS_MAIN(TestDkim)
#include "tst_dkim.moc"
