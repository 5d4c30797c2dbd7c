// The provider registry against a real PostgreSQL: URLs split into settings and sealed secrets and
// put back together, two editors never overwriting each other, the audit log, failover order,
// shared rate limits and the circuit breaker's state.
#include "db/connection.h"
#include "db/migrator.h"
#include "providers/providerconfig.h"
#include "providers/providerrepository.h"
#include "secrets/sealedbox.h"
#include "secrets/secretrepository.h"
#include "testdb.h"

#include <QTest>

namespace {
template<typename R>
QString why(const R &result)
{
    return result ? QString() : result.error().toString();
}
} // namespace

using namespace Providers;

class TestProviderRegistry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void urlsSplitIntoSettingsAndSecrets_data();
    void urlsSplitIntoSettingsAndSecrets();
    void secretsFromTheEnvironmentAreTakenAtOnce();
    void rateLimitsParse_data();
    void rateLimitsParse();
    void addSealsSecretsAndAudits();
    void addWithoutAnAuthorisedHostStoresNothing();
    void secondEditorIsToldWhatChanged();
    void reorderEnableRemove();
    void editsKeepHealthUnlessTheConnectionChanges();
    void sharedRateLimitNeverOvergrants();
    void circuitOpensAfterThreeFailuresAndLetsOneProbeThrough();

private:
    qint64 scalar(const QString &sql, const QVariantList &params = {});
    ProviderRecord record(const QString &name, const QString &url);

    std::unique_ptr<Db::Connection> m_db;
    std::optional<Secrets::KeyPair> m_hostKey;
};

qint64 TestProviderRegistry::scalar(const QString &sql, const QVariantList &params)
{
    auto result = m_db->exec(sql, params);
    return result ? result->toInt(0, 0) : -1;
}

ProviderRecord TestProviderRegistry::record(const QString &name, const QString &url)
{
    auto config = ProviderConfig::fromUrl(url, {});
    ProviderRecord r;
    r.name = name;
    r.type = config ? config->type : QString();
    r.options = {{QStringLiteral("url"), config ? config->storedUrl : QString()}};
    return r;
}

void TestProviderRegistry::init()
{
    auto connection = Db::Connection::open(
            TestSupport::freshSchema(QStringLiteral("tst_providerregistry")));
    QVERIFY2(connection, qPrintable(why(connection)));
    m_db = std::move(*connection);
    QVERIFY(Db::Migrator(*m_db).migrate());
    auto key = Secrets::KeyPair::generate();
    QVERIFY(key);
    m_hostKey = *key;
    Secrets::SecretRepository secrets(*m_db);
    auto id = secrets.registerKey(QStringLiteral("test-host"), key->publicKey());
    QVERIFY2(id, qPrintable(why(id)));
    QVERIFY(secrets.authorise(*id));
}

void TestProviderRegistry::cleanup()
{
    m_db.reset();
}

void TestProviderRegistry::urlsSplitIntoSettingsAndSecrets_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("stored");
    QTest::addColumn<QStringList>("secretNames");

    QTest::newRow("smtp") << u"smtp+starttls://mailer:s3cr%40t@mail.example.org:587?pool=3"_qs
                          << u"smtp"_qs << u"smtp+starttls://mailer@mail.example.org:587?pool=3"_qs
                          << QStringList{u"password"_qs};
    QTest::newRow("smtp without auth") << u"smtp://127.0.0.1:2525"_qs << u"smtp"_qs
                                       << u"smtp://127.0.0.1:2525"_qs << QStringList{};
    QTest::newRow("sendgrid") << u"sendgrid://SG.key-123@?timeout=5"_qs << u"sendgrid"_qs
                              << u"sendgrid://?timeout=5"_qs << QStringList{u"api_key"_qs};
    QTest::newRow("mailgun") << u"mailgun://key-abc@mg.example.org?region=eu"_qs << u"mailgun"_qs
                             << u"mailgun://mg.example.org?region=eu"_qs
                             << QStringList{u"api_key"_qs};
    QTest::newRow("ses") << u"ses://AKIDEXAMPLE:wJalr%2Fsecret@eu-west-1?session_token=tok"_qs
                         << u"ses"_qs << u"ses://eu-west-1"_qs
                         << QStringList{u"api_key"_qs, u"secret"_qs, u"session_token"_qs};
    QTest::newRow("postmark") << u"postmark://server-token@?stream=broadcast"_qs << u"postmark"_qs
                              << u"postmark://?stream=broadcast"_qs << QStringList{u"api_key"_qs};
    QTest::newRow("custom http")
            << u"https+json://hooks.example.org/send?header=Authorization:Bearer%20xyz"_qs
            << u"http"_qs << u"https+json://hooks.example.org/send"_qs
            << QStringList{u"headers"_qs};
    QTest::newRow("sandbox") << u"sandbox:"_qs << u"sandbox"_qs << u"sandbox:"_qs << QStringList{};
}

void TestProviderRegistry::urlsSplitIntoSettingsAndSecrets()
{
    QFETCH(QString, url);
    QFETCH(QString, type);
    QFETCH(QString, stored);
    QFETCH(QStringList, secretNames);
    auto config = ProviderConfig::fromUrl(url, {});
    QVERIFY2(config, qPrintable(why(config)));
    QCOMPARE(config->type, type);
    QCOMPARE(config->storedUrl, stored);
    QCOMPARE(config->secrets.keys(), secretNames);
    if (type == u"sandbox")
        return;
    // Built back, the settings are those of the original URL.
    auto original = ProviderUrl::parse(url, {});
    auto rebuilt = ProviderConfig::build(config->type, config->storedUrl, config->secrets);
    QVERIFY2(rebuilt, qPrintable(why(rebuilt)));
    QCOMPARE(rebuilt->kind(), original->kind());
    QCOMPARE(rebuilt->smtp().password, original->smtp().password);
    QCOMPARE(rebuilt->smtp().username, original->smtp().username);
    QCOMPARE(rebuilt->smtp().host, original->smtp().host);
    QCOMPARE(rebuilt->smtp().maxConnections, original->smtp().maxConnections);
    QCOMPARE(rebuilt->http().apiKey, original->http().apiKey);
    QCOMPARE(rebuilt->http().secret, original->http().secret);
    QCOMPARE(rebuilt->http().sessionToken, original->http().sessionToken);
    QCOMPARE(rebuilt->http().region, original->http().region);
    QCOMPARE(rebuilt->http().stream, original->http().stream);
    QCOMPARE(rebuilt->http().headers, original->http().headers);
    QCOMPARE(rebuilt->http().timeoutMs, original->http().timeoutMs);
    // Nothing secret is in the stored URL, and the build never read the process environment.
    for (const QByteArray &secret : std::as_const(config->secrets))
        QVERIFY(!config->storedUrl.contains(QString::fromUtf8(secret)));
}

void TestProviderRegistry::secretsFromTheEnvironmentAreTakenAtOnce()
{
    QProcessEnvironment env;
    env.insert(u"MY_PASSWORD"_qs, u"from-env"_qs);
    auto config = ProviderConfig::fromUrl(u"smtp://user@mail.example.org?password_env=MY_PASSWORD"_qs,
                                          env);
    QVERIFY2(config, qPrintable(why(config)));
    QCOMPARE(config->storedUrl, u"smtp://user@mail.example.org"_qs);
    QCOMPARE(config->secrets.value(u"password"_qs), QByteArray("from-env"));
    auto missing = ProviderConfig::fromUrl(u"smtp://user@mail.example.org?password_env=NOPE"_qs,
                                           env);
    QVERIFY(!missing);
    QVERIFY(missing.error().message.contains(u"NOPE"));
}

void TestProviderRegistry::rateLimitsParse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("normal"); // empty with ok=false: refused
    QTest::addColumn<bool>("ok");
    QTest::newRow("two") << u"10/s,1000/h"_qs << u"10/s, 1000/h"_qs << true;
    QTest::newRow("words") << u" 5 / second , 600/min, 100000/day"_qs << u"5/s, 600/m, 100000/d"_qs
                           << true;
    QTest::newRow("none") << u"none"_qs << QString() << true;
    QTest::newRow("zero") << u"0/s"_qs << QString() << false;
    QTest::newRow("unit") << u"10/week"_qs << QString() << false;
    QTest::newRow("junk") << u"fast"_qs << QString() << false;
}

void TestProviderRegistry::rateLimitsParse()
{
    QFETCH(QString, text);
    QFETCH(QString, normal);
    QFETCH(bool, ok);
    auto limits = RateLimits::parse(text);
    QCOMPARE(bool(limits), ok);
    if (ok)
        QCOMPARE(limits->toString(), normal);
    else
        QVERIFY(limits.error().message.contains(u"e.g. 10/s"));
}

void TestProviderRegistry::addSealsSecretsAndAudits()
{
    auto config = ProviderConfig::fromUrl(u"smtp://mailer:hunter2@mail.example.org:2525"_qs, {});
    QVERIFY(config);
    ProviderRecord r = record(u"relay"_qs, u"smtp://mailer:hunter2@mail.example.org:2525"_qs);
    r.limits = *RateLimits::parse(u"50/s"_qs);
    ProviderRepository providers(*m_db);
    auto added = providers.add(r, config->secrets);
    QVERIFY2(added, qPrintable(why(added)));
    QCOMPARE(added->secretNames, QStringList{u"password"_qs});
    QCOMPARE(added->limits.perSecond, 50);
    QCOMPARE(added->revision, 1);
    // Not in plain text anywhere in the database.
    QCOMPARE(scalar(u"SELECT count(*) FROM provider_secrets WHERE position('hunter2'::bytea IN sealed) > 0"_qs),
             0);
    QCOMPARE(scalar(u"SELECT count(*) FROM providers WHERE options::text LIKE '%hunter2%'"_qs), 0);
    QCOMPARE(scalar(u"SELECT count(*) FROM audit_log WHERE detail::text LIKE '%hunter2%'"_qs), 0);
    // This host opens it.
    auto opened = providers.openSecrets(*added, *m_hostKey);
    QVERIFY2(opened, qPrintable(why(opened)));
    QCOMPARE(opened->value(u"password"_qs), QByteArray("hunter2"));
    QCOMPARE(scalar(u"SELECT count(*) FROM audit_log WHERE action = 'add' AND entity_id = 'relay'"_qs),
             1);
    // The same name twice is refused.
    auto again = providers.add(r);
    QVERIFY(!again);
    QCOMPARE(again.error().code, u"providers.exists"_qs);
}

void TestProviderRegistry::addWithoutAnAuthorisedHostStoresNothing()
{
    QVERIFY(m_db->exec(u"DELETE FROM worker_keys"_qs));
    ProviderRepository providers(*m_db);
    auto added = providers.add(record(u"relay"_qs, u"smtp://127.0.0.1"_qs),
                               {{u"password"_qs, QByteArray("x")}});
    QVERIFY(!added);
    QCOMPARE(added.error().code, u"secrets.no_worker_keys"_qs);
    QCOMPARE(scalar(u"SELECT count(*) FROM providers"_qs), 0);
}

void TestProviderRegistry::secondEditorIsToldWhatChanged()
{
    ProviderRepository providers(*m_db);
    auto added = providers.add(record(u"relay"_qs, u"smtp://127.0.0.1:25"_qs));
    QVERIFY(added);
    ProviderRecord alice = *added;
    ProviderRecord bob = *added;
    alice.priority = 5;
    alice.poolSize = 8;
    auto saved = providers.update(alice);
    QVERIFY2(saved, qPrintable(why(saved)));
    QCOMPARE(saved->revision, 2);

    bob.limits = *RateLimits::parse(u"10/s"_qs);
    ProviderConflict conflict;
    auto refused = providers.update(bob, {}, &conflict);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, u"providers.conflict"_qs);
    QVERIFY(refused.error().message.contains(u"Nothing was saved"));
    QCOMPARE(conflict.stored.priority, 5);
    QVERIFY(conflict.changedFields.contains(u"priority"_qs));
    QVERIFY(conflict.changedFields.contains(u"pool_size"_qs));
    QVERIFY(conflict.changedFields.contains(u"limits"_qs));
    // Nothing of Bob's was written.
    QCOMPARE(scalar(u"SELECT count(*) FROM providers WHERE rate_per_second IS NULL AND priority = 5"_qs),
             1);
    // Starting from the stored revision, Bob's change goes in; the audit log has both, with the
    // values before and after.
    bob = conflict.stored;
    bob.limits = *RateLimits::parse(u"10/s"_qs);
    QVERIFY(providers.update(bob));
    QCOMPARE(scalar(u"SELECT count(*) FROM audit_log WHERE action = 'update'"_qs), 2);
    QCOMPARE(scalar(u"SELECT count(*) FROM audit_log WHERE action = 'update' "
                    "AND detail->'priority'->>'from' = '100' AND detail->'priority'->>'to' = '5'"_qs),
             1);
}

void TestProviderRegistry::reorderEnableRemove()
{
    ProviderRepository providers(*m_db);
    for (const QString &name : {u"a"_qs, u"b"_qs, u"c"_qs})
        QVERIFY(providers.add(record(name, u"sandbox:"_qs)));
    QVERIFY(providers.reorder({u"c"_qs, u"a"_qs, u"b"_qs}));
    auto list = providers.list();
    QVERIFY(list);
    QStringList order;
    for (const auto &p : std::as_const(*list))
        order << p.name;
    QCOMPARE(order, (QStringList{u"c"_qs, u"a"_qs, u"b"_qs}));
    QCOMPARE(list->first().priority, 10);
    auto unknown = providers.reorder({u"a"_qs, u"zzz"_qs});
    QVERIFY(!unknown);
    QCOMPARE(unknown.error().code, u"providers.not_found"_qs);
    QCOMPARE(scalar(u"SELECT priority FROM providers WHERE name = 'a'"_qs), 20); // unchanged

    QVERIFY(providers.setEnabled(u"a"_qs, false));
    QCOMPARE(scalar(u"SELECT count(*) FROM providers WHERE NOT enabled"_qs), 1);
    QVERIFY(providers.remove(u"b"_qs));
    QVERIFY(!providers.remove(u"b"_qs));
    QCOMPARE(scalar(u"SELECT count(*) FROM providers"_qs), 2);
    QCOMPARE(scalar(u"SELECT count(*) FROM audit_log WHERE action IN ('reorder', 'disable', 'remove')"_qs),
             3);
}

void TestProviderRegistry::editsKeepHealthUnlessTheConnectionChanges()
{
    ProviderRepository providers(*m_db);
    auto added = providers.add(record(u"relay"_qs, u"smtp://user@127.0.0.1:25"_qs),
                               {{u"password"_qs, QByteArray("pw")}});
    QVERIFY2(added, qPrintable(why(added)));
    for (int i = 0; i < 3; ++i)
        QVERIFY(providers.recordFailure(added->id, u"connection refused"_qs));
    // A new From address is not a reason to close an open circuit.
    ProviderRecord edited = *providers.find(added->id);
    edited.options.insert(u"from"_qs, u"news@example.org"_qs);
    auto saved = providers.update(edited);
    QVERIFY2(saved, qPrintable(why(saved)));
    QCOMPARE(saved->health, u"down"_qs);
    QVERIFY(saved->circuitOpenUntil.isValid());
    // A new kind of provider starts afresh, and the old kind's secrets go.
    ProviderRecord other = *saved;
    auto config = ProviderConfig::fromUrl(u"postmark://token-1@?stream=outbound"_qs, {});
    QVERIFY(config);
    other.type = config->type;
    other.options.insert(u"url"_qs, config->storedUrl);
    auto switched = providers.update(other, config->secrets);
    QVERIFY2(switched, qPrintable(why(switched)));
    QCOMPARE(switched->health, u"healthy"_qs);
    QCOMPARE(switched->secretNames, QStringList{u"api_key"_qs});
}

void TestProviderRegistry::sharedRateLimitNeverOvergrants()
{
    ProviderRepository providers(*m_db);
    ProviderRecord r = record(u"limited"_qs, u"sandbox:"_qs);
    r.limits = *RateLimits::parse(u"100/s,150/m"_qs);
    auto added = providers.add(r);
    QVERIFY(added);
    // Within one second (the window is the server's clock second): at most 100 in all. On a busy
    // machine the calls may straddle a second; then the round is done again.
    int first = 0, second = 0, third = 0;
    for (int round = 0; round < 5; ++round) {
        QVERIFY(m_db->exec(u"DELETE FROM provider_rate_windows"_qs));
        QVERIFY(m_db->exec(
                u"SELECT pg_sleep(1.02 - (extract(epoch FROM clock_timestamp()) % 1))"_qs));
        const qint64 before = scalar(u"SELECT extract(epoch FROM clock_timestamp())::bigint"_qs);
        first = *providers.takeSends(added->id, 60);
        second = *providers.takeSends(added->id, 60);
        QVERIFY(providers.returnSends(added->id, 10));
        third = *providers.takeSends(added->id, 60);
        if (scalar(u"SELECT extract(epoch FROM clock_timestamp())::bigint"_qs) == before)
            break;
    }
    QCOMPARE(first, 60);
    QCOMPARE(second, 40);
    QCOMPARE(third, 10);
    // The next second, the minute's limit is what is left: 150 - (60 + 40 - 10 + 10).
    QVERIFY(m_db->exec(u"SELECT pg_sleep(1.05)"_qs));
    auto later = providers.takeSends(added->id, 100);
    QVERIFY(later);
    if (scalar(u"SELECT extract(second FROM clock_timestamp())::int"_qs) > 1) // same minute
        QCOMPARE(*later, 50);
    // No limits: everything asked for.
    auto free = providers.add(record(u"free"_qs, u"sandbox:"_qs));
    QVERIFY(free);
    QCOMPARE(*providers.takeSends(free->id, 1000), 1000);
}

void TestProviderRegistry::circuitOpensAfterThreeFailuresAndLetsOneProbeThrough()
{
    ProviderRepository providers(*m_db);
    auto added = providers.add(record(u"flaky"_qs, u"smtp://127.0.0.1:25"_qs));
    QVERIFY(added);
    auto one = providers.recordFailure(added->id, u"connection refused"_qs);
    QVERIFY(one);
    QCOMPARE(one->health, u"degraded"_qs);
    QVERIFY(!one->circuitOpenUntil.isValid());
    providers.recordFailure(added->id, u"connection refused"_qs);
    auto three = providers.recordFailure(added->id, u"connection refused"_qs);
    QVERIFY(three);
    QCOMPARE(three->health, u"down"_qs);
    QCOMPARE(three->healthReason, u"connection refused"_qs);
    QVERIFY(three->circuitOpenUntil > QDateTime::currentDateTimeUtc().addSecs(3));
    // While open, no probe; once the back-off is over, exactly one caller gets it.
    QCOMPARE(*providers.takeProbe(added->id), false);
    QVERIFY(m_db->exec(u"UPDATE providers SET circuit_open_until = now() - interval '1 s'"_qs));
    QCOMPARE(*providers.takeProbe(added->id), true);
    QCOMPARE(*providers.takeProbe(added->id), false);
    // A success closes it.
    QVERIFY(providers.recordSuccess(added->id));
    auto healed = providers.find(added->id);
    QVERIFY(healed);
    QCOMPARE(healed->health, u"healthy"_qs);
    QCOMPARE(healed->consecutiveFailures, 0);
    QVERIFY(!healed->circuitOpenUntil.isValid());
}

QTEST_GUILESS_MAIN(TestProviderRegistry)
#include "tst_providerregistry.moc"
