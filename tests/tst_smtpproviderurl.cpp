#include "providers/providerurl.h"

#include <QTest>

using Providers::ProviderUrl;
using Providers::SmtpSecurity;

class TestSmtpProviderUrl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesSmtpUrls_data();
    void parsesSmtpUrls();
    void rejectsBadUrls_data();
    void rejectsBadUrls();
    void options_data();
    void options();
    void passwordFromEnvironment();
    void redactsPassword();
};

void TestSmtpProviderUrl::parsesSmtpUrls_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<int>("security");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");

    QTest::newRow("smtp, default port")
            << "smtp://mail.example.org" << int(SmtpSecurity::StartTlsOpportunistic)
            << "mail.example.org" << 587 << QString() << QString();
    QTest::newRow("smtp with credentials and port")
            << "smtp://alice:s3cret@mail.example.org:2525"
            << int(SmtpSecurity::StartTlsOpportunistic) << "mail.example.org" << 2525 << "alice"
            << "s3cret";
    QTest::newRow("starttls required")
            << "smtp+starttls://bob@relay.example.net" << int(SmtpSecurity::StartTlsRequired)
            << "relay.example.net" << 587 << "bob" << QString();
    QTest::newRow("implicit tls, port 465")
            << "smtps://u:p@smtp.example.com" << int(SmtpSecurity::ImplicitTls)
            << "smtp.example.com" << 465 << "u"
            << "p";
    QTest::newRow("percent-encoded user and password")
            << "smtps://apikey%40example.com:p%3Ass%2Fw%40rd@127.0.0.1:1465"
            << int(SmtpSecurity::ImplicitTls) << "127.0.0.1" << 1465 << "apikey@example.com"
            << "p:ss/w@rd";
    QTest::newRow("ipv6 literal") << "smtp://[::1]:25" << int(SmtpSecurity::StartTlsOpportunistic)
                                  << "::1" << 25 << QString() << QString();
    QTest::newRow("upper-case scheme") << "SMTPS://h.example" << int(SmtpSecurity::ImplicitTls)
                                       << "h.example" << 465 << QString() << QString();
}

void TestSmtpProviderUrl::parsesSmtpUrls()
{
    QFETCH(QString, url);
    const auto parsed = ProviderUrl::parse(url, QProcessEnvironment());
    QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().toString()));
    QCOMPARE(parsed->kind(), Providers::ProviderKind::Smtp);
    const auto &s = parsed->smtp();
    QTEST(int(s.security), "security");
    QTEST(s.host, "host");
    QTEST(int(s.port), "port");
    QTEST(s.username, "user");
    QTEST(s.password, "password");
    QVERIFY(s.verifyCertificate);
    QVERIFY(s.caFile.isEmpty());
}

void TestSmtpProviderUrl::rejectsBadUrls_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("message");

    QTest::newRow("not a url") << "mail.example.org"
                               << "not a provider URL";
    QTest::newRow("unknown scheme") << "imap://mail.example.org"
                                    << "not supported";
    QTest::newRow("http provider not yet") << "sendgrid://key@api"
                                           << "not supported";
    QTest::newRow("no host") << "smtp://"
                             << "no host";
    QTest::newRow("path") << "smtp://h.example/inbox"
                          << "no path";
    QTest::newRow("unknown option") << "smtp://h.example?pool_size=3"
                                    << "Unknown option 'pool_size'";
    QTest::newRow("bad pool") << "smtp://h.example?pool=0"
                              << "Invalid value '0'";
    QTest::newRow("bad timeout") << "smtp://h.example?timeout=soon"
                                 << "Invalid value 'soon'";
    QTest::newRow("bad auth") << "smtp://h.example?auth=cram-md5"
                              << "Invalid value 'cram-md5'";
    QTest::newRow("bad verify") << "smtp://h.example?verify=maybe"
                                << "Invalid value 'maybe'";
    QTest::newRow("missing password env") << "smtp://u@h.example?password_env=POSTDESK_NOT_SET"
                                          << "POSTDESK_NOT_SET";
    QTest::newRow("port zero") << "smtp://h.example:0"
                               << "Port 0";
}

void TestSmtpProviderUrl::rejectsBadUrls()
{
    QFETCH(QString, url);
    QFETCH(QString, message);
    const auto parsed = ProviderUrl::parse(url, QProcessEnvironment());
    QVERIFY(!parsed);
    QCOMPARE(parsed.error().code, QStringLiteral("provider.url"));
    QVERIFY2(parsed.error().toString().contains(message), qPrintable(parsed.error().toString()));
}

void TestSmtpProviderUrl::options_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QVariant>("expected");

    QTest::newRow("ca") << "ca=/etc/ssl/my-ca.pem"
                        << "caFile" << QVariant(u"/etc/ssl/my-ca.pem"_qs);
    QTest::newRow("verify off") << "verify=0"
                                << "verify" << QVariant(false);
    QTest::newRow("pool") << "pool=8"
                          << "pool" << QVariant(8);
    QTest::newRow("per connection") << "per_connection=250"
                                    << "perConnection" << QVariant(250);
    QTest::newRow("connect timeout") << "connect_timeout=2.5"
                                     << "connectTimeout" << QVariant(2500);
    QTest::newRow("greeting timeout") << "greeting_timeout=10"
                                      << "greetingTimeout" << QVariant(10000);
    QTest::newRow("socket timeout") << "timeout=0.25"
                                    << "timeout" << QVariant(250);
    QTest::newRow("idle timeout") << "idle_timeout=30"
                                  << "idleTimeout" << QVariant(30000);
    QTest::newRow("helo") << "helo=sender.example.org"
                          << "helo" << QVariant(u"sender.example.org"_qs);
    QTest::newRow("auth login") << "auth=LOGIN"
                                << "auth" << QVariant(int(Providers::SmtpAuthMechanism::Login));
    QTest::newRow("auth xoauth2") << "auth=xoauth2"
                                  << "auth" << QVariant(int(Providers::SmtpAuthMechanism::XOAuth2));
    QTest::newRow("insecure auth") << "insecure_auth=yes"
                                   << "insecureAuth" << QVariant(true);
}

void TestSmtpProviderUrl::options()
{
    QFETCH(QString, query);
    QFETCH(QString, field);
    QFETCH(QVariant, expected);
    const auto parsed = ProviderUrl::parse(u"smtp://h.example?"_qs + query, QProcessEnvironment());
    QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().toString()));
    const auto &s = parsed->smtp();
    const QHash<QString, QVariant> values = {
            {u"caFile"_qs, s.caFile},
            {u"verify"_qs, s.verifyCertificate},
            {u"pool"_qs, s.maxConnections},
            {u"perConnection"_qs, s.maxMessagesPerConnection},
            {u"connectTimeout"_qs, s.connectTimeoutMs},
            {u"greetingTimeout"_qs, s.greetingTimeoutMs},
            {u"timeout"_qs, s.socketTimeoutMs},
            {u"idleTimeout"_qs, s.idleTimeoutMs},
            {u"helo"_qs, s.heloName},
            {u"auth"_qs, int(s.authMechanism)},
            {u"insecureAuth"_qs, s.allowPlainTextAuth},
    };
    QVERIFY(values.contains(field));
    QCOMPARE(values.value(field), expected);
}

void TestSmtpProviderUrl::passwordFromEnvironment()
{
    QProcessEnvironment env;
    env.insert(u"SMTP_PASSWORD"_qs, u"from-the-env"_qs);
    const auto parsed =
            ProviderUrl::parse(u"smtp+starttls://alice@h.example?password_env=SMTP_PASSWORD"_qs,
                               env);
    QVERIFY(parsed);
    QCOMPARE(parsed->smtp().username, u"alice"_qs);
    QCOMPARE(parsed->smtp().password, u"from-the-env"_qs);
    QVERIFY(!parsed->redacted().contains(u"from-the-env"_qs));
}

void TestSmtpProviderUrl::redactsPassword()
{
    const auto parsed = ProviderUrl::parse(u"smtps://alice:hunter2@h.example:465?pool=2"_qs,
                                           QProcessEnvironment());
    QVERIFY(parsed);
    QVERIFY(!parsed->redacted().contains(u"hunter2"_qs));
    QVERIFY(parsed->redacted().contains(u"alice"_qs));
    QVERIFY(parsed->redacted().contains(u"h.example"_qs));
}

QTEST_GUILESS_MAIN(TestSmtpProviderUrl)
#include "tst_smtpproviderurl.moc"
