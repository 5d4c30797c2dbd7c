// Amazon SES v2 SendEmail and GetAccount against the fake SES API (tests/providers/fake_ses.py),
// which recomputes every request's SigV4 signature on its own and refuses a wrong one.

#include "providers/fakeprovider.h"
#include "providers/ses/sestransport.h"

using namespace ProviderTest;

class TestSes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sendsAndCapturesMessageId();
    void sessionToken();
    void wrongSignatureIsRefused_data();
    void wrongSignatureIsRefused();
    void errorClasses_data();
    void errorClasses();
    void inFlightBound();
    void diagnostics();
    void diagnosticsWithBadSecret();
    void credentialsFromEnvironment();

private:
    QString url(const QString &secret = u"test%2Fsecret%2Bkey"_qs, const QString &extra = {},
                const QString &access = u"AKIDTEST"_qs) const
    {
        return QStringLiteral("ses://%1:%2@eu-west-1?base_url=%3%4")
                .arg(access, secret, m_server.baseUrl(), extra);
    }
    FakeServer m_server;
    FakeServer m_tokenServer;
};

void TestSes::initTestCase()
{
    qRegisterMetaType<Providers::SendResult>();
    QVERIFY2(m_server.start(u"fake_ses.py"_qs,
                            {u"--access-key"_qs, u"AKIDTEST"_qs, u"--secret"_qs,
                             u"test/secret+key"_qs, u"--region"_qs, u"eu-west-1"_qs, u"--slow"_qs,
                             u"3"_qs}),
             qPrintable(m_server.error()));
    QVERIFY2(m_tokenServer.start(u"fake_ses.py"_qs,
                                 {u"--access-key"_qs, u"ASIATEST"_qs, u"--secret"_qs, u"s3cret"_qs,
                                  u"--region"_qs, u"eu-west-1"_qs, u"--session-token"_qs,
                                  u"FwoGZXIvYXdzEXAMPLE/token+="_qs}),
             qPrintable(m_tokenServer.error()));
}

void TestSes::sendsAndCapturesMessageId()
{
    auto transport = transportFor(url());
    QVERIFY(transport);
    auto m = message({u"ann@example.net"_qs}, u"Grüße"_qs, true);
    m.recipients << u"bcc-only@example.net"_qs;
    const auto result = sendOne(*transport, m);
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    QVERIFY(result.providerMessageId.startsWith(u"0100018"_qs));
    QCOMPARE(result.accepted, m.recipients);
}

void TestSes::sessionToken()
{
    auto transport = transportFor(
            QStringLiteral("ses://ASIATEST:s3cret@eu-west-1?session_token=%1&base_url=%2")
                    .arg(QString::fromLatin1(
                                 QUrl::toPercentEncoding(u"FwoGZXIvYXdzEXAMPLE/token+="_qs)),
                         m_tokenServer.baseUrl()));
    QVERIFY(transport);
    const auto result = sendOne(*transport, message({u"ann@example.net"_qs}));
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));

    // Without the token the same keys are refused.
    auto without = transportFor(QStringLiteral("ses://ASIATEST:s3cret@eu-west-1?base_url=%1")
                                        .arg(m_tokenServer.baseUrl()));
    const auto refused = sendOne(*without, message({u"ann@example.net"_qs}));
    QVERIFY(!refused.ok());
    QVERIFY(refused.credentialsRefused);
}

void TestSes::wrongSignatureIsRefused_data()
{
    QTest::addColumn<QString>("access");
    QTest::addColumn<QString>("secret");
    QTest::addColumn<QString>("region");
    QTest::addColumn<QString>("errorType");
    QTest::newRow("wrong secret") << u"AKIDTEST"_qs << u"wrong"_qs << u"eu-west-1"_qs
                                  << u"SignatureDoesNotMatch"_qs;
    QTest::newRow("unknown key") << u"AKIDOTHER"_qs << u"test%2Fsecret%2Bkey"_qs << u"eu-west-1"_qs
                                 << u"UnrecognizedClientException"_qs;
    QTest::newRow("wrong region") << u"AKIDTEST"_qs << u"test%2Fsecret%2Bkey"_qs << u"us-east-1"_qs
                                  << u"SignatureDoesNotMatch"_qs;
}

void TestSes::wrongSignatureIsRefused()
{
    QFETCH(QString, access);
    QFETCH(QString, secret);
    QFETCH(QString, region);
    QFETCH(QString, errorType);
    auto transport = transportFor(QStringLiteral("ses://%1:%2@%3?base_url=%4")
                                          .arg(access, secret, region, m_server.baseUrl()));
    QVERIFY(transport);
    QSignalSpy health(transport.get(), &Providers::Transport::healthChanged);
    const auto result = sendOne(*transport, message({u"ann@example.net"_qs}));
    QVERIFY(!result.ok());
    QCOMPARE(result.httpStatus, 403);
    QCOMPARE(result.error->code, u"http.credentials"_qs);
    QVERIFY(result.credentialsRefused);
    QVERIFY2(result.error->detail.contains(errorType), qPrintable(result.error->detail));
    QVERIFY(!transport->isHealthy());
    QCOMPARE(health.count(), 1);
}

void TestSes::errorClasses_data()
{
    addErrorRows();
}

void TestSes::errorClasses()
{
    checkErrorRow(url(u"test%2Fsecret%2Bkey"_qs, u"&timeout=1"_qs));
}

void TestSes::inFlightBound()
{
    checkInFlightBound(url(u"test%2Fsecret%2Bkey"_qs, u"&in_flight=5"_qs), 5);
}

void TestSes::diagnostics()
{
    auto transport = transportFor(url());
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY2(report.ok(),
             qPrintable(report.steps.isEmpty() ? QString() : report.steps.last().detail));
    const auto &step = report.steps.first();
    QCOMPARE(step.fact(u"Max 24 hour send"_qs), u"50000"_qs);
    QCOMPARE(step.fact(u"Max send rate"_qs), u"14"_qs);
    QCOMPARE(step.fact(u"Sent last 24 hours"_qs), u"12"_qs);
    QCOMPARE(step.fact(u"Sending enabled"_qs), u"yes"_qs);
}

void TestSes::diagnosticsWithBadSecret()
{
    auto transport = transportFor(url(u"wrong"_qs));
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY(!report.ok());
    QVERIFY2(report.steps.last().detail.contains(u"SignatureDoesNotMatch"_qs),
             qPrintable(report.steps.last().detail));
}

void TestSes::credentialsFromEnvironment()
{
    QProcessEnvironment env;
    env.insert(u"AWS_ACCESS_KEY_ID"_qs, u"AKIDTEST"_qs);
    env.insert(u"AWS_SECRET_ACCESS_KEY"_qs, u"test/secret+key"_qs);
    auto parsed = Providers::ProviderUrl::parse(QStringLiteral("ses://eu-west-1?base_url=%1")
                                                        .arg(m_server.baseUrl()),
                                                env);
    QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().toString()));
    QCOMPARE(parsed->http().apiKey, u"AKIDTEST"_qs);
    auto created = Providers::Transport::create(*parsed);
    QVERIFY(created);
    std::unique_ptr<Providers::Transport> transport(*created);
    const auto result = sendOne(*transport, message({u"ann@example.net"_qs}));
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
}

QTEST_GUILESS_MAIN(TestSes)
#include "tst_ses.moc"
