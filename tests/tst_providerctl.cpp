// postdeskctl's saved providers as an admin meets them: add, list, set, remove, test NAME and
// send-test against a real PostgreSQL and a real aiosmtpd with STARTTLS and AUTH, the secrets
// sealed to a worker key kept in a --key-dir directory.

#include "db/connection.h"
#include "smtp/smtppeer.h"
#include "testdb.h"
#include "testenv.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>

using namespace SmtpTest;

class TestProviderCtl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void mistakesSayWhatToDo_data();
    void mistakesSayWhatToDo();
    void addWithoutAuthorisedHost();
    void addListSetRemove();
    void testAndSendTestThroughStoredProvider();
    void wrongPasswordReportedClearly();
    void testWithoutHostKey();

private:
    using Run = TestSupport::ProgramRun;
    Run ctl(QStringList arguments, const QProcessEnvironment &env = {});
    void authoriseHost();
    QString urlFor(const Peer &peer) const;
    qint64 scalar(const QString &sql);

    QString m_db;
    std::unique_ptr<Db::Connection> m_connection;
    QTemporaryDir m_keys;
    bool m_authorised = false;
};

TestProviderCtl::Run TestProviderCtl::ctl(QStringList arguments, const QProcessEnvironment &env)
{
    arguments << QStringLiteral("--db") << m_db;
    return TestSupport::runCtl(arguments, env, 60000);
}

QString TestProviderCtl::urlFor(const Peer &peer) const
{
    return u"smtp+starttls://alice@localhost:%1?ca=%2&timeout=5"_qs.arg(peer.port())
            .arg(dataFile(u"ca.pem"_qs));
}

qint64 TestProviderCtl::scalar(const QString &sql)
{
    auto r = m_connection->exec(sql);
    return r ? r->toInt(0, 0) : -1;
}

static QStringList tlsServer()
{
    return {u"--tls"_qs,  u"starttls"_qs,
            u"--cert"_qs, dataFile(u"server.pem"_qs),
            u"--key"_qs,  dataFile(u"server.key"_qs),
            u"--auth"_qs, u"alice:s3cret pass"_qs};
}

static QProcessEnvironment password(const QString &value)
{
    QProcessEnvironment env;
    env.insert(u"SMTP_PASSWORD"_qs, value);
    return env;
}

void TestProviderCtl::initTestCase()
{
    const auto info = TestSupport::freshSchema(u"tst_providerctl"_qs);
    m_db = info.toConnectionString();
    auto connection = Db::Connection::open(info);
    QVERIFY(connection);
    m_connection = std::move(*connection);
    QVERIFY(m_keys.isValid());
    // The migrations run through postdeskctl.
    QCOMPARE(ctl({u"db"_qs, u"migrate"_qs}).exitCode, 0);
}

void TestProviderCtl::authoriseHost()
{
    if (m_authorised)
        return;
    const Run init = ctl({u"worker"_qs, u"init"_qs, u"--key-dir"_qs, m_keys.path()});
    QVERIFY2(init.exitCode == 0, qPrintable(init.all()));
    const auto match = QRegularExpression(u"Worker key id: (\\S+)"_qs).match(init.out);
    QVERIFY(match.hasMatch());
    const Run authorise = ctl({u"worker"_qs, u"authorise"_qs, match.captured(1)});
    QVERIFY2(authorise.exitCode == 0, qPrintable(authorise.all()));
    m_authorised = true;
}

void TestProviderCtl::mistakesSayWhatToDo_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("expected"); // in stdout for 0, else in stderr

    QTest::newRow("help lists add") << QStringList{u"provider"_qs, u"--help"_qs} << 0 << "add";
    QTest::newRow("help lists send-test")
            << QStringList{u"provider"_qs, u"--help"_qs} << 0 << "send-test";
    QTest::newRow("add help") << QStringList{u"provider"_qs, u"add"_qs, u"--help"_qs} << 0
                              << "--dkim-key";
    QTest::newRow("add without name") << QStringList{u"provider"_qs, u"add"_qs} << 2 << "name";
    QTest::newRow("add without --via")
            << QStringList{u"provider"_qs, u"add"_qs, u"x"_qs} << 2 << "--via";
    QTest::newRow("add, bad rate")
            << QStringList{u"provider"_qs, u"add"_qs,    u"x"_qs,         u"--via"_qs,
                           u"sandbox:"_qs, u"--rate"_qs, u"10 per sec"_qs}
            << 1 << "not a rate limit";
    QTest::newRow("add, bad priority")
            << QStringList{u"provider"_qs, u"add"_qs,        u"x"_qs,    u"--via"_qs,
                           u"sandbox:"_qs, u"--priority"_qs, u"first"_qs}
            << 1 << "--priority";
    QTest::newRow("add, half of DKIM")
            << QStringList{u"provider"_qs, u"add"_qs,           u"x"_qs,          u"--via"_qs,
                           u"sandbox:"_qs, u"--dkim-domain"_qs, u"example.org"_qs}
            << 1 << "--dkim-selector";
    QTest::newRow("set unknown") << QStringList{u"provider"_qs, u"set"_qs, u"nope"_qs,
                                                u"--priority"_qs, u"5"_qs}
                                 << 1 << "nope";
    QTest::newRow("remove unknown")
            << QStringList{u"provider"_qs, u"remove"_qs, u"nope"_qs} << 1 << "nope";
    QTest::newRow("test unknown") << QStringList{u"provider"_qs, u"test"_qs, u"nope"_qs} << 1
                                  << "nope";
    QTest::newRow("send-test without --to")
            << QStringList{u"provider"_qs, u"send-test"_qs, u"nope"_qs} << 2 << "--to";
}

void TestProviderCtl::mistakesSayWhatToDo()
{
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, expected);
    const Run run = ctl(args);
    QVERIFY2(run.exitCode == exitCode, qPrintable(run.all()));
    const QString text = exitCode == 0 ? run.out : run.err;
    QVERIFY2(text.contains(expected), qPrintable(run.all()));
}

void TestProviderCtl::addWithoutAuthorisedHost()
{
    // Runs before any host is authorised: a secret has nowhere to be sealed.
    QVERIFY(!m_authorised);
    const Run run = ctl({u"provider"_qs, u"add"_qs, u"early"_qs, u"--via"_qs,
                         u"smtp://alice@localhost:2525"_qs, u"--password-env"_qs,
                         u"SMTP_PASSWORD"_qs},
                        password(u"s3cret pass"_qs));
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(u"postdeskctl worker init"_qs), qPrintable(run.err));
    QCOMPARE(scalar(u"SELECT count(*) FROM providers WHERE name = 'early'"_qs), 0);
}

void TestProviderCtl::addListSetRemove()
{
    authoriseHost();
    const Run add = ctl({u"provider"_qs,
                         u"add"_qs,
                         u"relay"_qs,
                         u"--via"_qs,
                         u"smtp+starttls://alice@mail.example.org:587"_qs,
                         u"--password-env"_qs,
                         u"SMTP_PASSWORD"_qs,
                         u"--priority"_qs,
                         u"20"_qs,
                         u"--rate"_qs,
                         u"10/s,1000/h"_qs,
                         u"--pool"_qs,
                         u"3"_qs,
                         u"--from"_qs,
                         u"News <news@example.org>"_qs,
                         u"--dkim-domain"_qs,
                         u"example.org"_qs,
                         u"--dkim-selector"_qs,
                         u"mail"_qs,
                         u"--dkim-key"_qs,
                         dataFile(u"dkim.key"_qs)},
                        password(u"s3cret pass"_qs));
    QVERIFY2(add.exitCode == 0, qPrintable(add.all()));
    QVERIFY2(add.out.contains(u"password"_qs) && add.out.contains(u"dkim_key"_qs),
             qPrintable(add.out));
    QVERIFY2(!add.out.contains(u"no default sender"_qs), qPrintable(add.out));
    const Run second = ctl({u"provider"_qs, u"add"_qs, u"inbox"_qs, u"--via"_qs, u"sandbox:"_qs,
                            u"--disabled"_qs});
    QVERIFY2(second.exitCode == 0, qPrintable(second.all()));
    // Without a sender, the message that would have been sent through it is dead: say so now.
    QVERIFY2(second.out.contains(u"no default sender"_qs)
                     && second.out.contains(u"provider set inbox --from ADDRESS"_qs),
             qPrintable(second.out));
    const Run again = ctl({u"provider"_qs, u"add"_qs, u"inbox"_qs, u"--via"_qs, u"sandbox:"_qs});
    QCOMPARE(again.exitCode, 1);

    const Run list = ctl({u"provider"_qs, u"list"_qs});
    QVERIFY2(list.exitCode == 0, qPrintable(list.all()));
    for (const QString &expected :
         {u"NAME"_qs, u"relay"_qs, u"smtp"_qs, u"10/s, 1000/h"_qs, u"dkim_key,password"_qs,
          u"smtp+starttls://alice@mail.example.org:587"_qs, u"inbox"_qs, u"sandbox"_qs,
          u"healthy"_qs}) {
        QVERIFY2(list.out.contains(expected), qPrintable(expected + u" missing in:\n" + list.out));
    }
    QVERIFY(!list.all().contains(u"s3cret"_qs));
    // relay (20) comes before inbox (100).
    QVERIFY(list.out.indexOf(u"relay"_qs) < list.out.indexOf(u"inbox"_qs));

    const Run json = ctl({u"provider"_qs, u"list"_qs, u"--json"_qs});
    QCOMPARE(json.exitCode, 0);
    QVERIFY(!json.out.contains(u"s3cret"_qs));
    const QJsonArray array = QJsonDocument::fromJson(json.out.toUtf8()).array();
    QCOMPARE(array.size(), 2);
    const QJsonObject relay = array.at(0).toObject();
    QCOMPARE(relay.value(u"name"_qs).toString(), u"relay"_qs);
    QCOMPARE(relay.value(u"limits"_qs).toObject().value(u"per_hour"_qs).toInt(), 1000);
    QCOMPARE(relay.value(u"pool_size"_qs).toInt(), 3);
    QCOMPARE(relay.value(u"options"_qs).toObject().value(u"from"_qs).toString(),
             u"News <news@example.org>"_qs);
    QCOMPARE(array.at(1).toObject().value(u"enabled"_qs).toBool(), false);

    // The password is in no table in plain text.
    auto tables = m_connection->exec(
            u"SELECT count(*) FROM (SELECT row_to_json(p)::text AS t FROM providers p UNION ALL "
            "SELECT row_to_json(s)::text FROM provider_secrets s UNION ALL "
            "SELECT row_to_json(a)::text FROM audit_log a) x WHERE t LIKE '%s3cret%' "
            "OR t LIKE '%' || encode(convert_to('s3cret pass', 'UTF8'), 'hex') || '%' "
            "OR t LIKE '%' || encode(convert_to('s3cret pass', 'UTF8'), 'base64') || '%'"_qs);
    QVERIFY(tables);
    QCOMPARE(tables->toInt(0, 0), 0);

    const Run set = ctl({u"provider"_qs, u"set"_qs, u"inbox"_qs, u"--enable"_qs, u"--priority"_qs,
                         u"5"_qs, u"--rate"_qs, u"none"_qs});
    QVERIFY2(set.exitCode == 0, qPrintable(set.all()));
    QCOMPARE(scalar(u"SELECT priority FROM providers WHERE name = 'inbox'"_qs), 5);
    QCOMPARE(scalar(u"SELECT enabled::int FROM providers WHERE name = 'inbox'"_qs), 1);
    const Run badRate = ctl({u"provider"_qs, u"set"_qs, u"inbox"_qs, u"--rate"_qs, u"fast"_qs});
    QCOMPARE(badRate.exitCode, 1);
    QVERIFY2(badRate.err.contains(u"not a rate limit"_qs), qPrintable(badRate.err));
    QVERIFY(scalar(u"SELECT count(*) FROM audit_log WHERE action LIKE '%update%' "
                   "OR action LIKE '%set%'"_qs)
            >= 1);

    const Run remove = ctl({u"provider"_qs, u"remove"_qs, u"inbox"_qs});
    QVERIFY2(remove.exitCode == 0, qPrintable(remove.all()));
    QCOMPARE(scalar(u"SELECT count(*) FROM providers WHERE name = 'inbox'"_qs), 0);
    const Run removeRelay = ctl({u"provider"_qs, u"remove"_qs, u"relay"_qs});
    QCOMPARE(removeRelay.exitCode, 0);
}

void TestProviderCtl::testAndSendTestThroughStoredProvider()
{
    authoriseHost();
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs, tlsServer()), qPrintable(peer.error()));
    const Run add = ctl({u"provider"_qs, u"add"_qs, u"smtp-test"_qs, u"--via"_qs, urlFor(peer),
                         u"--password-env"_qs, u"SMTP_PASSWORD"_qs, u"--from"_qs,
                         u"Ops <ops@example.org>"_qs},
                        password(u"s3cret pass"_qs));
    QVERIFY2(add.exitCode == 0, qPrintable(add.all()));

    const Run test = ctl(
            {u"provider"_qs, u"test"_qs, u"smtp-test"_qs, u"--key-dir"_qs, m_keys.path()});
    QVERIFY2(test.exitCode == 0, qPrintable(test.all()));
    for (const QString &expected :
         {u"DNS resolution"_qs, u"TCP connect"_qs, u"STARTTLS"_qs, u"Protocol: TLS 1."_qs,
          u"Issuer: Postdesk Test CA"_qs, u"Verified: yes"_qs, u"Authentication (PLAIN)"_qs,
          u"All checks passed"_qs}) {
        QVERIFY2(test.out.contains(expected), qPrintable(expected + u" missing in:\n" + test.out));
    }
    QVERIFY(!test.all().contains(u"s3cret"_qs));
    QCOMPARE(peer.messageCount(), 0);

    const Run send = ctl({u"provider"_qs, u"send-test"_qs, u"smtp-test"_qs, u"--to"_qs,
                          u"bob@example.net"_qs, u"--subject"_qs, u"Hello from the CLI"_qs,
                          u"--key-dir"_qs, m_keys.path()});
    QVERIFY2(send.exitCode == 0, qPrintable(send.all()));
    const auto id = QRegularExpression(u"Message-ID: <([^>]+)>"_qs).match(send.out);
    QVERIFY2(id.hasMatch(), qPrintable(send.out));
    QTRY_COMPARE(peer.messageCount(), 1);
    const QByteArray message = peer.message(1);
    QVERIFY(message.contains("Subject: Hello from the CLI"));
    QVERIFY(message.contains(id.captured(1).toUtf8()));
    QVERIFY(message.contains("From: Ops <ops@example.org>"));
    QCOMPARE(peer.envelope(1).value(u"rcpt_tos"_qs).toArray().first().toString(),
             u"bob@example.net"_qs);
    QCOMPARE(ctl({u"provider"_qs, u"remove"_qs, u"smtp-test"_qs}).exitCode, 0);
}

void TestProviderCtl::wrongPasswordReportedClearly()
{
    authoriseHost();
    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs, tlsServer()), qPrintable(peer.error()));
    const Run add = ctl({u"provider"_qs, u"add"_qs, u"wrong"_qs, u"--via"_qs, urlFor(peer),
                         u"--password-env"_qs, u"SMTP_PASSWORD"_qs, u"--from"_qs,
                         u"ops@example.org"_qs},
                        password(u"not the password"_qs));
    QVERIFY2(add.exitCode == 0, qPrintable(add.all()));
    const Run test = ctl({u"provider"_qs, u"test"_qs, u"wrong"_qs, u"--key-dir"_qs, m_keys.path()});
    QCOMPARE(test.exitCode, 1);
    QVERIFY2(test.out.contains(u"FAIL"_qs) && test.err.contains(u"Authentication"_qs),
             qPrintable(test.all()));
    QVERIFY(!test.all().contains(u"not the password"_qs));
    const Run send = ctl({u"provider"_qs, u"send-test"_qs, u"wrong"_qs, u"--to"_qs,
                          u"bob@example.net"_qs, u"--key-dir"_qs, m_keys.path()});
    QCOMPARE(send.exitCode, 1);
    QVERIFY2(send.err.contains(u"535"_qs) || send.err.contains(u"uthentication"_qs),
             qPrintable(send.all()));
    QCOMPARE(peer.messageCount(), 0);

    // A new password replaces the sealed one; the test passes then.
    const Run set = ctl({u"provider"_qs, u"set"_qs, u"wrong"_qs, u"--password-env"_qs,
                         u"SMTP_PASSWORD"_qs},
                        password(u"s3cret pass"_qs));
    QVERIFY2(set.exitCode == 0, qPrintable(set.all()));
    const Run retest = ctl(
            {u"provider"_qs, u"test"_qs, u"wrong"_qs, u"--key-dir"_qs, m_keys.path()});
    QVERIFY2(retest.exitCode == 0, qPrintable(retest.all()));
    QCOMPARE(ctl({u"provider"_qs, u"remove"_qs, u"wrong"_qs}).exitCode, 0);
}

void TestProviderCtl::testWithoutHostKey()
{
    authoriseHost();
    const Run add = ctl({u"provider"_qs, u"add"_qs, u"keyless"_qs, u"--via"_qs,
                         u"smtp://alice@localhost:2525"_qs, u"--password-env"_qs,
                         u"SMTP_PASSWORD"_qs},
                        password(u"x"_qs));
    QVERIFY2(add.exitCode == 0, qPrintable(add.all()));
    QTemporaryDir empty;
    const Run test = ctl({u"provider"_qs, u"test"_qs, u"keyless"_qs, u"--key-dir"_qs, empty.path()});
    QCOMPARE(test.exitCode, 1);
    QVERIFY2(test.err.contains(u"worker init"_qs), qPrintable(test.err));
    QCOMPARE(ctl({u"provider"_qs, u"remove"_qs, u"keyless"_qs}).exitCode, 0);
}

QTEST_GUILESS_MAIN(TestProviderCtl)
#include "tst_providerctl.moc"
