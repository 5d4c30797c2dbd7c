// SendGrid v3 Mail Send against the fake SendGrid API (tests/providers/fake_sendgrid.py), which
// checks every request as SendGrid's documentation describes it.

#include "providers/fakeprovider.h"
#include "providers/sendgrid/sendgridtransport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace ProviderTest;

class TestSendGrid : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sendsAndCapturesMessageId();
    void requestBody();
    void errorClasses_data();
    void errorClasses();
    void badCredentials();
    void inFlightBound();
    void diagnostics();
    void diagnosticsWithoutMailSendScope();
    void diagnosticsWithBadKey();

private:
    QString url(const QString &key = u"SG.test-key"_qs, const QString &extra = {}) const
    {
        return QStringLiteral("sendgrid://%1@?base_url=%2%3").arg(key, m_server.baseUrl(), extra);
    }
    FakeServer m_server;
    FakeServer m_readOnly;
};

void TestSendGrid::initTestCase()
{
    qRegisterMetaType<Providers::SendResult>();
    QVERIFY2(m_server.start(u"fake_sendgrid.py"_qs,
                            {u"--key"_qs, u"SG.test-key"_qs, u"--slow"_qs, u"3"_qs}),
             qPrintable(m_server.error()));
    QVERIFY2(m_readOnly.start(u"fake_sendgrid.py"_qs,
                              {u"--key"_qs, u"SG.test-key"_qs, u"--scopes"_qs, u"stats.read"_qs}),
             qPrintable(m_readOnly.error()));
}

void TestSendGrid::sendsAndCapturesMessageId()
{
    auto transport = transportFor(url());
    QVERIFY(transport);
    auto m = message({u"ann@example.net"_qs}, u"Grüße"_qs, true);
    m.recipients << u"bcc-only@example.net"_qs;
    const auto result = sendOne(*transport, m);
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    QCOMPARE(result.httpStatus, 202);
    QVERIFY(!result.providerMessageId.isEmpty());
    QCOMPARE(result.accepted, m.recipients);
    QCOMPARE(result.messageId, m.messageId);
}

void TestSendGrid::requestBody()
{
    auto m = message({u"ann@example.net"_qs}, u"Grüße"_qs, true);
    m.recipients << u"hidden@example.net"_qs;
    const auto body = Providers::SendGridTransport::requestBody(m);
    QVERIFY(body);
    const QJsonObject o = QJsonDocument::fromJson(*body).object();
    const QJsonObject p = o.value(u"personalizations").toArray().first().toObject();
    QCOMPARE(p.value(u"to").toArray().first().toObject().value(u"email").toString(),
             u"ann@example.net"_qs);
    QCOMPARE(p.value(u"bcc").toArray().first().toObject().value(u"email").toString(),
             u"hidden@example.net"_qs);
    QCOMPARE(o.value(u"from").toObject().value(u"name").toString(), u"Postdesk Test"_qs);
    QCOMPARE(o.value(u"subject").toString(), u"Grüße"_qs);
    const QJsonArray content = o.value(u"content").toArray();
    QCOMPARE(content.size(), 2);
    QCOMPARE(content.at(0).toObject().value(u"type").toString(), u"text/plain"_qs);
    QVERIFY(content.at(0).toObject().value(u"value").toString().contains(u"😀"_qs));
    QCOMPARE(content.at(1).toObject().value(u"type").toString(), u"text/html"_qs);
    const QJsonArray attachments = o.value(u"attachments").toArray();
    QCOMPARE(attachments.size(), 2);
    bool sawPdf = false, sawInline = false;
    for (const QJsonValue &a : attachments) {
        const QJsonObject ao = a.toObject();
        if (ao.value(u"filename").toString() == u"report.pdf") {
            sawPdf = true;
            QCOMPARE(QByteArray::fromBase64(ao.value(u"content").toString().toLatin1()),
                     QByteArray("%PDF-1.4 fake\x01\x02\xff", 17));
            QCOMPARE(ao.value(u"disposition").toString(), u"attachment"_qs);
        } else {
            sawInline = true;
            QCOMPARE(ao.value(u"disposition").toString(), u"inline"_qs);
            QCOMPARE(ao.value(u"content_id").toString(), u"logo@example.org"_qs);
        }
    }
    QVERIFY(sawPdf && sawInline);
    QCOMPARE(o.value(u"categories").toArray(), (QJsonArray{u"welcome"_qs, u"test"_qs}));
    QCOMPARE(o.value(u"custom_args").toObject().value(u"campaign").toString(), u"spring"_qs);
    QCOMPARE(o.value(u"custom_args").toObject().value(u"postdesk_message_id").toString(),
             m.messageId);
}

void TestSendGrid::errorClasses_data()
{
    addErrorRows();
}

void TestSendGrid::errorClasses()
{
    checkErrorRow(url(u"SG.test-key"_qs, u"&timeout=1"_qs));
}

void TestSendGrid::badCredentials()
{
    checkBadCredentials(url(u"SG.wrong"_qs));
}

void TestSendGrid::inFlightBound()
{
    checkInFlightBound(url(u"SG.test-key"_qs, u"&in_flight=3"_qs), 3);
}

void TestSendGrid::diagnostics()
{
    auto transport = transportFor(url());
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY(report.ok());
    QCOMPARE(report.steps.size(), 1);
    QCOMPARE(report.steps.first().fact(u"mail.send"_qs), u"granted"_qs);
    QCOMPARE(report.steps.first().fact(u"Scopes"_qs), u"2"_qs);
}

void TestSendGrid::diagnosticsWithoutMailSendScope()
{
    auto transport = transportFor(
            QStringLiteral("sendgrid://SG.test-key@?base_url=%1").arg(m_readOnly.baseUrl()));
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY(!report.ok());
    QVERIFY(report.steps.last().detail.contains(u"mail.send"_qs));
}

void TestSendGrid::diagnosticsWithBadKey()
{
    auto transport = transportFor(url(u"SG.wrong"_qs));
    QVERIFY(transport);
    const auto report = diagnose(*transport);
    QVERIFY(!report.ok());
    QVERIFY2(report.steps.last().detail.contains(u"refused"_qs),
             qPrintable(report.steps.last().detail));
    QVERIFY(report.steps.last().detail.contains(u"authorization grant is invalid"_qs));
}

QTEST_GUILESS_MAIN(TestSendGrid)
#include "tst_sendgrid.moc"
