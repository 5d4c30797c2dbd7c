// AWS Signature Version 4: the signer reproduces AWS's published test suite
// (tests/data/providers/sigv4-test-suite.json names its source) and signs SES requests as the
// fake SES server checks them.

#include "providers/ses/sigv4signer.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using Providers::SigV4Signer;

class TestSigV4 : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testSuite_data();
    void testSuite();
    void signingKey();
    void sessionTokenIsSigned();
    void pathIsNormalised();
};

namespace {

QJsonObject suite()
{
    QFile file(QStringLiteral(POSTDESK_TEST_DATA_DIR "/providers/sigv4-test-suite.json"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read the SigV4 test suite");
    return QJsonDocument::fromJson(file.readAll()).object();
}

QDateTime suiteDate()
{
    QDateTime date(QDate(2015, 8, 30), QTime(12, 36, 0), Qt::UTC);
    return date;
}

SigV4Signer suiteSigner(const QString &sessionToken = {})
{
    const QJsonObject s = suite();
    const QJsonObject c = s.value(u"credentials").toObject();
    return SigV4Signer({c.value(u"accessKeyId").toString(), c.value(u"secretAccessKey").toString(),
                        sessionToken},
                       s.value(u"region").toString(), s.value(u"service").toString());
}

} // namespace

void TestSigV4::testSuite_data()
{
    QTest::addColumn<QJsonObject>("testCase");
    const QJsonArray cases = suite().value(u"cases").toArray();
    QVERIFY(cases.size() >= 10);
    for (const QJsonValue &c : cases)
        QTest::newRow(qPrintable(c.toObject().value(u"name").toString())) << c.toObject();
}

void TestSigV4::testSuite()
{
    QFETCH(QJsonObject, testCase);
    SigV4Signer::Request request;
    request.method = testCase.value(u"method").toString().toLatin1();
    request.path = testCase.value(u"path").toString().toLatin1();
    request.query = testCase.value(u"query").toString().toLatin1();
    request.payload = testCase.value(u"body").toString().toUtf8();
    for (const QJsonValue &h : testCase.value(u"headers").toArray()) {
        request.headers.append(
                {h.toArray().at(0).toString().toLatin1(), h.toArray().at(1).toString().toUtf8()});
    }
    const SigV4Signer signer = suiteSigner();
    if (testCase.contains(u"canonicalRequest")) {
        QCOMPARE(QString::fromUtf8(SigV4Signer::canonicalRequest(request)),
                 testCase.value(u"canonicalRequest").toString());
    }
    if (testCase.contains(u"stringToSign")) {
        QCOMPARE(QString::fromUtf8(signer.stringToSign(request, suiteDate())),
                 testCase.value(u"stringToSign").toString());
    }
    QCOMPARE(QString::fromUtf8(signer.authorization(request, suiteDate())),
             testCase.value(u"authorization").toString());
}

void TestSigV4::signingKey()
{
    // The worked example of the derived key in AWS's SigV4 documentation ("Examples of how to
    // derive a signing key"): secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215,
    // us-east-1, iam.
    QCOMPARE(SigV4Signer::signingKey(u"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"_qs, "20120215",
                                     u"us-east-1"_qs, u"iam"_qs)
                     .toHex(),
             QByteArray("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"));
}

void TestSigV4::sessionTokenIsSigned()
{
    SigV4Signer::Request request;
    request.method = "POST";
    request.headers.append({QByteArray("Host"), QByteArray("example.amazonaws.com")});
    const SigV4Signer signer = suiteSigner(u"TOKEN"_qs);
    const QByteArray authorization = signer.sign(request, suiteDate());
    QVERIFY(authorization.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"));
    QCOMPARE(request.headers.last(),
             (QPair<QByteArray, QByteArray>("X-Amz-Security-Token", "TOKEN")));
}

void TestSigV4::pathIsNormalised()
{
    // get-slashes, get-relative-relative and get-space from the test suite: the canonical URI.
    SigV4Signer::Request request;
    request.method = "GET";
    request.headers.append({QByteArray("Host"), QByteArray("example.amazonaws.com")});
    request.path = "//example//";
    QVERIFY(SigV4Signer::canonicalRequest(request).startsWith("GET\n/example/\n"));
    request.path = "/example1/example2/../..";
    QVERIFY(SigV4Signer::canonicalRequest(request).startsWith("GET\n/\n"));
    request.path = "/example%20space/";
    QVERIFY(SigV4Signer::canonicalRequest(request).startsWith("GET\n/example%20space/\n"));
}

QTEST_GUILESS_MAIN(TestSigV4)
#include "tst_sigv4.moc"
