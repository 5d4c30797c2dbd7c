// Mailgun messages.mime and messages against the fake Mailgun API
// (tests/providers/fake_mailgun.py), which checks every request as Mailgun's documentation
// describes it.

#include "providers/fakeprovider.h"
#include "providers/mailgun/mailguntransport.h"

using namespace ProviderTest;

class TestMailgun : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sends_data();
    void sends();
    void regions();
    void errorClasses_data();
    void errorClasses();
    void badCredentials();
    void unknownDomain();
    void inFlightBound();
    void diagnostics();
    void diagnosticsUnverifiedDomain();
    void diagnosticsWithBadKey();

private:
    QString url(const QString &key = u"key-test"_qs, const QString &extra = {}) const
    {
        return QStringLiteral("mailgun://%1@mg.example.org?base_url=%2%3")
                .arg(key, m_server.baseUrl(), extra);
    }
    FakeServer m_server;
    FakeServer m_unverified;
};

void TestMailgun::initTestCase()
{
    qRegisterMetaType<Providers::SendResult>();
    QVERIFY2(m_server.start(u"fake_mailgun.py"_qs,
                            {u"--key"_qs, u"key-test"_qs, u"--domain"_qs, u"mg.example.org"_qs,
                             u"--slow"_qs, u"3"_qs}),
             qPrintable(m_server.error()));
    QVERIFY2(m_unverified.start(u"fake_mailgun.py"_qs,
                                {u"--key"_qs, u"key-test"_qs, u"--domain"_qs, u"mg.example.org"_qs,
                                 u"--state"_qs, u"unverified"_qs}),
             qPrintable(m_unverified.error()));
}

void TestMailgun::sends_data()
{
    QTest::addColumn<QString>("mode");
    QTest::newRow("messages.mime") << u"mime"_qs;
    QTest::newRow("messages") << u"form"_qs;
}

void TestMailgun::sends()
{
    QFETCH(QString, mode);
    auto transport = transportFor(url(u"key-test"_qs, u"&mode="_qs + mode));
    QVERIFY(transport);
    auto m = message({u"ann@example.net"_qs}, u"Grüße"_qs, true);
    m.recipients << u"bcc-only@example.net"_qs;
    const auto result = sendOne(*transport, m);
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    QCOMPARE(result.httpStatus, 200);
    QVERIFY(result.providerMessageId.endsWith(u"@mg.example.org"_qs));
    QVERIFY(!result.providerMessageId.startsWith(u'<'));
    QCOMPARE(result.accepted, m.recipients);
}

void TestMailgun::regions()
{
    auto us = Providers::ProviderUrl::parse(u"mailgun://k@mg.example.org"_qs, {});
    auto eu = Providers::ProviderUrl::parse(u"mailgun://k@mg.example.org?region=eu"_qs, {});
    QVERIFY(us && eu);
    QCOMPARE(Providers::MailgunTransport(us->http()).baseUrl(), u"https://api.mailgun.net"_qs);
    QCOMPARE(Providers::MailgunTransport(eu->http()).baseUrl(), u"https://api.eu.mailgun.net"_qs);
    QVERIFY(!Providers::ProviderUrl::parse(u"mailgun://k@mg.example.org?region=asia"_qs, {}));
}

void TestMailgun::errorClasses_data()
{
    addErrorRows();
}

void TestMailgun::errorClasses()
{
    checkErrorRow(url(u"key-test"_qs, u"&timeout=1"_qs));
}

void TestMailgun::badCredentials()
{
    checkBadCredentials(url(u"key-wrong"_qs));
}

void TestMailgun::unknownDomain()
{
    auto transport = transportFor(QStringLiteral("mailgun://key-test@other.example.org?base_url=%1")
                                          .arg(m_server.baseUrl()));
    QVERIFY(transport);
    const auto result = sendOne(*transport, message({u"ann@example.net"_qs}));
    QVERIFY(!result.ok());
    QCOMPARE(result.error->code, u"http.rejected"_qs);
    QVERIFY(result.error->message.contains(u"Domain not found"_qs));
}

void TestMailgun::inFlightBound()
{
    checkInFlightBound(url(u"key-test"_qs, u"&in_flight=4"_qs), 4);
}

void TestMailgun::diagnostics()
{
    auto transport = transportFor(url());
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY(report.ok());
    QCOMPARE(report.steps.first().fact(u"State"_qs), u"active"_qs);
    QCOMPARE(report.steps.first().fact(u"Domain"_qs), u"mg.example.org"_qs);
}

void TestMailgun::diagnosticsUnverifiedDomain()
{
    auto transport = transportFor(QStringLiteral("mailgun://key-test@mg.example.org?base_url=%1")
                                          .arg(m_unverified.baseUrl()));
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY(!report.ok());
    QVERIFY(report.steps.last().detail.contains(u"unverified"_qs));
}

void TestMailgun::diagnosticsWithBadKey()
{
    auto transport = transportFor(url(u"key-wrong"_qs));
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY(!report.ok());
    QVERIFY2(report.steps.last().detail.contains(u"refused"_qs),
             qPrintable(report.steps.last().detail));
}

QTEST_GUILESS_MAIN(TestMailgun)
#include "tst_mailgun.moc"
