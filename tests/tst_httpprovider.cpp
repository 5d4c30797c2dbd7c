// The shared HTTP provider parts: provider URLs for the HTTP schemes, the MIME reader, Retry-After,
// and the custom JSON webhook against tests/providers/fake_webhook.py.

#include "providers/fakeprovider.h"
#include "providers/http/customhttptransport.h"
#include "providers/http/httptransport.h"
#include "providers/http/mimeparts.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryFile>

using namespace ProviderTest;
using Providers::ProviderKind;
using Providers::ProviderUrl;

class TestHttpProvider : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void parsesUrls_data();
    void parsesUrls();
    void refusesUrls_data();
    void refusesUrls();
    void secretsFromEnvironment();
    void redacted();
    void retryAfter_data();
    void retryAfter();
    void mimeParts();
    void webhookSends();
    void webhookTemplateFile();
    void webhookTemplateMustRenderJson();
    void webhookErrorClasses_data();
    void webhookErrorClasses();
    void webhookRefusedHeader();

private:
    QString webhookUrl(const QString &extra = {}) const
    {
        return QStringLiteral("http+json://127.0.0.1:%1/hooks/mail?header=X-Api-Key:secret-1%2")
                .arg(m_webhook.port())
                .arg(extra);
    }
    FakeServer m_webhook;
};

void TestHttpProvider::initTestCase()
{
    qRegisterMetaType<Providers::SendResult>();
    QVERIFY2(m_webhook.start(u"fake_webhook.py"_qs,
                             {u"--require-header"_qs, u"X-Api-Key: secret-1"_qs,
                              u"--require-field"_qs, u"subject"_qs, u"--slow"_qs, u"3"_qs}),
             qPrintable(m_webhook.error()));
}

void TestHttpProvider::parsesUrls_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("secret");
    QTest::addColumn<QString>("domainOrRegion");
    QTest::addColumn<QString>("baseUrl");

    QTest::newRow("sendgrid") << u"sendgrid://SG.abc.def@"_qs << int(ProviderKind::SendGrid)
                              << u"SG.abc.def"_qs << QString() << QString() << QString();
    QTest::newRow("sendgrid base_url") << u"sendgrid://SG.x@?base_url=http://127.0.0.1:8080/sg"_qs
                                       << int(ProviderKind::SendGrid) << u"SG.x"_qs << QString()
                                       << QString() << u"http://127.0.0.1:8080/sg"_qs;
    QTest::newRow("mailgun eu") << u"mailgun://key-1@mg.example.org?region=eu"_qs
                                << int(ProviderKind::Mailgun) << u"key-1"_qs << QString()
                                << u"mg.example.org"_qs << QString();
    QTest::newRow("mailgun api:key")
            << u"mailgun://api:key-2@mg.example.org"_qs << int(ProviderKind::Mailgun) << u"key-2"_qs
            << QString() << u"mg.example.org"_qs << QString();
    QTest::newRow("ses") << u"ses://AKID:se%2Fcr%2Bet@eu-west-1"_qs << int(ProviderKind::Ses)
                         << u"AKID"_qs << u"se/cr+et"_qs << u"eu-west-1"_qs << QString();
    QTest::newRow("postmark") << u"postmark://tok-1@?stream=outbound"_qs
                              << int(ProviderKind::Postmark) << u"tok-1"_qs << QString()
                              << QString() << QString();
    QTest::newRow("webhook") << u"https+json://hooks.example.org/mail"_qs
                             << int(ProviderKind::CustomHttp) << QString() << QString() << QString()
                             << u"https://hooks.example.org/mail"_qs;
}

void TestHttpProvider::parsesUrls()
{
    QFETCH(QString, url);
    QFETCH(int, kind);
    QFETCH(QString, key);
    QFETCH(QString, secret);
    QFETCH(QString, domainOrRegion);
    QFETCH(QString, baseUrl);
    const auto parsed = ProviderUrl::parse(url, {});
    QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().toString()));
    QCOMPARE(int(parsed->kind()), kind);
    QCOMPARE(parsed->http().apiKey, key);
    QCOMPARE(parsed->http().secret, secret);
    if (parsed->kind() == ProviderKind::Mailgun)
        QCOMPARE(parsed->http().domain, domainOrRegion);
    if (parsed->kind() == ProviderKind::Ses)
        QCOMPARE(parsed->http().region, domainOrRegion);
    QCOMPARE(parsed->http().baseUrl.toString(), baseUrl);
    if (parsed->kind() == ProviderKind::Postmark)
        QCOMPARE(parsed->http().stream, u"outbound"_qs);
    auto transport = Providers::Transport::create(*parsed);
    QVERIFY(transport);
    delete *transport;
}

void TestHttpProvider::refusesUrls_data()
{
    QTest::addColumn<QString>("url");
    QTest::newRow("sendgrid without key") << u"sendgrid://"_qs;
    QTest::newRow("sendgrid with a host") << u"sendgrid://k@api.sendgrid.com"_qs;
    QTest::newRow("mailgun without domain") << u"mailgun://k@"_qs;
    QTest::newRow("mailgun bad region") << u"mailgun://k@d.example?region=ap"_qs;
    QTest::newRow("ses without secret") << u"ses://AKID@eu-west-1"_qs;
    QTest::newRow("ses without region") << u"ses://AKID:s@"_qs;
    QTest::newRow("bad base_url") << u"postmark://t@?base_url=ftp://x"_qs;
    QTest::newRow("unknown option") << u"postmark://t@?colour=red"_qs;
    QTest::newRow("missing env") << u"sendgrid://?key_env=NOT_SET_ANYWHERE"_qs;
    QTest::newRow("bad in_flight") << u"sendgrid://k@?in_flight=0"_qs;
}

void TestHttpProvider::refusesUrls()
{
    QFETCH(QString, url);
    const auto parsed = ProviderUrl::parse(url, {});
    QVERIFY(!parsed);
    QCOMPARE(parsed.error().code, u"provider.url"_qs);
}

void TestHttpProvider::secretsFromEnvironment()
{
    QProcessEnvironment env;
    env.insert(u"SENDGRID_API_KEY"_qs, u"SG.from-env"_qs);
    env.insert(u"MY_TOKEN"_qs, u"tok-env"_qs);
    env.insert(u"MAILGUN_API_KEY"_qs, u"key-env"_qs);
    auto sg = ProviderUrl::parse(u"sendgrid://"_qs, env);
    QVERIFY(sg);
    QCOMPARE(sg->http().apiKey, u"SG.from-env"_qs);
    auto pm = ProviderUrl::parse(u"postmark://?token_env=MY_TOKEN"_qs, env);
    QVERIFY(pm);
    QCOMPARE(pm->http().apiKey, u"tok-env"_qs);
    auto mg = ProviderUrl::parse(u"mailgun://mg.example.org"_qs, env);
    QVERIFY(mg);
    QCOMPARE(mg->http().apiKey, u"key-env"_qs);
    // postdeskctl --password-env
    auto ses = ProviderUrl::parse(u"ses://AKID:placeholder@eu-west-1"_qs, env);
    QVERIFY(ses);
    QVERIFY(ses->setPasswordFromEnvironment(u"MY_TOKEN"_qs, env));
    QCOMPARE(ses->http().secret, u"tok-env"_qs);
}

void TestHttpProvider::redacted()
{
    for (const QString &url :
         {u"sendgrid://SG.secret@?base_url=http://127.0.0.1:1"_qs,
          u"ses://AKID:secret@eu-west-1"_qs, u"mailgun://secret@mg.example.org"_qs,
          u"http+json://h.example/x?header=Authorization:Bearer%20secret"_qs}) {
        const auto parsed = ProviderUrl::parse(url, {});
        QVERIFY(parsed);
        QVERIFY2(!parsed->redacted().contains(u"secret"_qs), qPrintable(parsed->redacted()));
    }
}

void TestHttpProvider::retryAfter_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<int>("seconds"); // -1: none
    QTest::newRow("seconds") << QByteArray("120") << 120;
    QTest::newRow("zero") << QByteArray("0") << 0;
    QTest::newRow("http-date") << QByteArray("Tue, 24 Nov 2026 08:01:30 GMT") << 90;
    QTest::newRow("past date") << QByteArray("Tue, 24 Nov 2026 07:00:00 GMT") << 0;
    QTest::newRow("absent") << QByteArray() << -1;
    QTest::newRow("garbage") << QByteArray("soon") << -1;
}

void TestHttpProvider::retryAfter()
{
    QFETCH(QByteArray, value);
    QFETCH(int, seconds);
    const QDateTime now(QDate(2026, 11, 24), QTime(8, 0, 0), Qt::UTC);
    const auto parsed = Providers::parseRetryAfter(value, now);
    QCOMPARE(parsed.has_value() ? *parsed : -1, seconds);
}

void TestHttpProvider::mimeParts()
{
    auto m = message({u"ann@example.net"_qs}, u"Grüße 😀 aus Köln"_qs, true);
    const auto parts = Providers::MimeParts::parse(m.data);
    QCOMPARE(parts.from.email, u"sender@example.org"_qs);
    QCOMPARE(parts.from.name, u"Postdesk Test"_qs);
    QCOMPARE(parts.to.size(), 1);
    QCOMPARE(parts.subject, u"Grüße 😀 aus Köln"_qs);
    QCOMPARE(parts.text.trimmed(), u"Hello there,\r\nthis is a test with non-ASCII: é ü 😀"_qs);
    QCOMPARE(parts.html, u"<p>Hello <b>there</b> é</p>"_qs);
    QCOMPARE(parts.attachments.size(), 2);
    QCOMPARE(parts.categories(), (QStringList{u"welcome"_qs, u"test"_qs}));
    QCOMPARE(parts.metadata().size(), 1);
    QCOMPARE(Providers::decodeHeaderValue("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?UTF-8?B?IGF1cw==?= x"),
             u"Grüße aus x"_qs);
}

void TestHttpProvider::webhookSends()
{
    auto transport = transportFor(webhookUrl());
    QVERIFY(transport);
    const auto m = message({u"ann@example.net"_qs, u"bob@example.net"_qs},
                           u"A \"quoted\" subject"_qs);
    const auto result = sendOne(*transport, m);
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
    QCOMPARE(result.providerMessageId.size(), 36);
    // The default body: every field JSON-escaped, the recipients as an array.
    const auto body = Providers::CustomHttpTransport::renderBody({}, m);
    QVERIFY(body);
    const QJsonObject o = QJsonDocument::fromJson(*body).object();
    QCOMPARE(o.value(u"subject").toString(), u"A \"quoted\" subject"_qs);
    QCOMPARE(o.value(u"to").toArray().size(), 2);
    QCOMPARE(o.value(u"messageId").toString(), m.messageId);
    QCOMPARE(QByteArray::fromBase64(o.value(u"raw").toString().toLatin1()), m.data);
}

void TestHttpProvider::webhookTemplateFile()
{
    QTemporaryFile file;
    QVERIFY(file.open());
    file.write(R"({"subject": "{{{subject}}}", "to": "{{{to}}}", "sender": "{{{from}}}"})");
    file.close();
    auto transport = transportFor(webhookUrl(u"&template_file="_qs + file.fileName()));
    QVERIFY(transport);
    const auto result = sendOne(*transport, message({u"ann@example.net"_qs}, u"Line\\break"_qs));
    QVERIFY2(result.ok(), qPrintable(result.error ? result.error->toString() : QString()));
}

void TestHttpProvider::webhookTemplateMustRenderJson()
{
    const auto body = Providers::CustomHttpTransport::renderBody(u"{\"subject\": {{{subject}}}}"_qs,
                                                                 message({u"a@example.net"_qs}));
    QVERIFY(!body);
    QCOMPARE(body.error().code, u"http.template"_qs);
}

void TestHttpProvider::webhookErrorClasses_data()
{
    addErrorRows();
}

void TestHttpProvider::webhookErrorClasses()
{
    checkErrorRow(webhookUrl(u"&timeout=1"_qs));
}

void TestHttpProvider::webhookRefusedHeader()
{
    checkBadCredentials(QStringLiteral("http+json://127.0.0.1:%1/hooks/mail?header=X-Api-Key:wrong")
                                .arg(m_webhook.port()));
}

QTEST_GUILESS_MAIN(TestHttpProvider)
#include "tst_httpprovider.moc"
