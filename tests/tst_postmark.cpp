// Postmark /email against the fake Postmark API (tests/providers/fake_postmark.py), which checks
// every request as Postmark's documentation describes it.

#include "providers/fakeprovider.h"
#include "providers/postmark/postmarktransport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace ProviderTest;

class TestPostmark : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sendsAndCapturesMessageId();
    void requestBody();
    void unknownStream();
    void errorClasses_data();
    void errorClasses();
    void badCredentials();
    void inFlightBound();
    void diagnostics();
    void diagnosticsWithBadToken();

private:
    QString url(const QString &token = u"server-token"_qs, const QString &extra = {}) const
    {
        return QStringLiteral("postmark://%1@?stream=outbound&base_url=%2%3")
                .arg(token, m_server.baseUrl(), extra);
    }
    FakeServer m_server;
};

void TestPostmark::initTestCase()
{
    qRegisterMetaType<Providers::SendResult>();
    QVERIFY2(m_server.start(u"fake_postmark.py"_qs,
                            {u"--token"_qs, u"server-token"_qs, u"--slow"_qs, u"3"_qs}),
             qPrintable(m_server.error()));
}

void TestPostmark::sendsAndCapturesMessageId()
{
    auto transport = transportFor(url());
    QVERIFY(transport);
    auto m = message({u"ann@example.net"_qs}, u"Grüße"_qs, true);
    m.recipients << u"bcc-only@example.net"_qs;
    const auto result = sendOne(*transport, m);
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    QCOMPARE(result.providerMessageId.size(), 36); // a UUID, as Postmark's MessageID
    QCOMPARE(result.accepted, m.recipients);
}

void TestPostmark::requestBody()
{
    auto m = message({u"ann@example.net"_qs}, u"Grüße"_qs, true);
    m.recipients << u"hidden@example.net"_qs;
    const auto body = Providers::PostmarkTransport::requestBody(m, u"broadcast"_qs);
    QVERIFY(body);
    const QJsonObject o = QJsonDocument::fromJson(*body).object();
    QCOMPARE(o.value(u"From").toString(), u"\"Postdesk Test\" <sender@example.org>"_qs);
    QCOMPARE(o.value(u"To").toString(), u"ann@example.net"_qs);
    QCOMPARE(o.value(u"Bcc").toString(), u"hidden@example.net"_qs);
    QCOMPARE(o.value(u"Subject").toString(), u"Grüße"_qs);
    QCOMPARE(o.value(u"MessageStream").toString(), u"broadcast"_qs);
    QCOMPARE(o.value(u"Tag").toString(), u"welcome"_qs);
    QCOMPARE(o.value(u"Metadata").toObject().value(u"campaign").toString(), u"spring"_qs);
    QVERIFY(o.value(u"TextBody").toString().contains(u"😀"_qs));
    QVERIFY(o.value(u"HtmlBody").toString().contains(u"<b>there</b>"_qs));
    QCOMPARE(o.value(u"Attachments").toArray().size(), 2);
}

void TestPostmark::unknownStream()
{
    auto transport = transportFor(QStringLiteral("postmark://server-token@?stream=nope&base_url=%1")
                                          .arg(m_server.baseUrl()));
    QVERIFY(transport);
    const auto result = sendOne(*transport, message({u"ann@example.net"_qs}));
    QVERIFY(!result.ok());
    QVERIFY(!result.error->isTransient());
    QVERIFY2(result.error->message.contains(u"MessageStream"_qs), qPrintable(result.error->message));
    QVERIFY(result.error->message.contains(u"1235"_qs));
}

void TestPostmark::errorClasses_data()
{
    addErrorRows();
}

void TestPostmark::errorClasses()
{
    checkErrorRow(url(u"server-token"_qs, u"&timeout=1"_qs));
}

void TestPostmark::badCredentials()
{
    checkBadCredentials(url(u"wrong-token"_qs));
}

void TestPostmark::inFlightBound()
{
    checkInFlightBound(url(u"server-token"_qs, u"&in_flight=2"_qs), 2);
}

void TestPostmark::diagnostics()
{
    auto transport = transportFor(url());
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY(report.ok());
    QCOMPARE(report.steps.first().fact(u"Server"_qs), u"Postdesk Test"_qs);
    QCOMPARE(report.steps.first().fact(u"Message stream"_qs), u"outbound"_qs);
}

void TestPostmark::diagnosticsWithBadToken()
{
    auto transport = transportFor(url(u"wrong-token"_qs));
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY(!report.ok());
    QVERIFY2(report.steps.last().detail.contains(u"Server Token"_qs),
             qPrintable(report.steps.last().detail));
}

QTEST_GUILESS_MAIN(TestPostmark)
#include "tst_postmark.moc"
