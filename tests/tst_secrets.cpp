#include "db/connection.h"
#include "db/migrator.h"
#include "events/webhooksecretrepository.h"
#include "secrets/keystore.h"
#include "secrets/sealedbox.h"
#include "secrets/secretrepository.h"
#include "testdb.h"
#include "testenv.h"

#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

// Sealed secrets: what the database holds opens only with an authorised host's private key, which
// lives in the real desktop keyring (the test command's private D-Bus session) or an owner-only file.
class TestSecrets : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sealAndOpen();
    void openFailsForTheWrongKeyContextOrBytes_data();
    void openFailsForTheWrongKeyContextOrBytes();
    void keyringStoresTheHostKey();
    void fileStoreRefusesFilesOthersCanRead();
    void databaseHoldsOnlySealedBytes();
    void workerCommands();

private:
    const QByteArray m_secret = QByteArrayLiteral("smtp-password-Zq7!");
};

void TestSecrets::sealAndOpen()
{
    auto key = Secrets::KeyPair::generate();
    QVERIFY(key);
    QCOMPARE(key->publicKey().size(), 32);
    QCOMPARE(key->id().size(), 32);
    auto sealed = Secrets::SealedBox::seal(m_secret, key->publicKey(), "ctx");
    QVERIFY(sealed);
    QVERIFY(!sealed->contains(m_secret));
    // Each seal is fresh: an observer cannot tell two equal secrets apart.
    QVERIFY(*Secrets::SealedBox::seal(m_secret, key->publicKey(), "ctx") != *sealed);
    auto opened = Secrets::SealedBox::open(*sealed, *key, "ctx");
    QVERIFY2(opened, qPrintable(opened ? QString() : opened.error().message));
    QCOMPARE(*opened, m_secret);
    auto reloaded = Secrets::KeyPair::fromPrivateKey(key->privateKey());
    QVERIFY(reloaded);
    QCOMPARE(reloaded->publicKey(), key->publicKey());
}

void TestSecrets::openFailsForTheWrongKeyContextOrBytes_data()
{
    QTest::addColumn<int>("mutation");
    QTest::newRow("another host's key") << 0;
    QTest::newRow("another slot (context)") << 1;
    QTest::newRow("ciphertext altered") << 2;
    QTest::newRow("tag altered") << 3;
    QTest::newRow("truncated") << 4;
    QTest::newRow("unknown version") << 5;
}

void TestSecrets::openFailsForTheWrongKeyContextOrBytes()
{
    QFETCH(int, mutation);
    auto key = Secrets::KeyPair::generate();
    auto other = Secrets::KeyPair::generate();
    QByteArray sealed = *Secrets::SealedBox::seal(m_secret, key->publicKey(), "provider 1 password");
    QByteArray context = "provider 1 password";
    const Secrets::KeyPair *opener = &*key;
    switch (mutation) {
    case 0:
        opener = &*other;
        break;
    case 1:
        context = "provider 2 password";
        break;
    case 2:
        sealed[1 + 32 + 12] = char(sealed[1 + 32 + 12] ^ 1);
        break;
    case 3:
        sealed[sealed.size() - 1] = char(sealed[sealed.size() - 1] ^ 0x80);
        break;
    case 4:
        sealed.chop(20);
        break;
    case 5:
        sealed[0] = 9;
        break;
    }
    auto opened = Secrets::SealedBox::open(sealed, *opener, context);
    QVERIFY(!opened);
    QVERIFY(!opened.error().message.isEmpty());
}

void TestSecrets::keyringStoresTheHostKey()
{
    // The test command runs every test inside a D-Bus session with an unlocked gnome-keyring.
    TestSupport::requiredEnv("DBUS_SESSION_BUS_ADDRESS");
    Secrets::KeychainKeyStore store(
            QStringLiteral("postdesk-test-%1").arg(QCoreApplication::applicationPid()));
    bool created = false;
    auto first = Secrets::loadOrCreateHostKey(store, &created);
    QVERIFY2(first, qPrintable(first ? QString() : first.error().toString()));
    QVERIFY(created);
    auto second = Secrets::loadOrCreateHostKey(store, &created);
    QVERIFY(second);
    QVERIFY(!created);
    QCOMPARE(second->publicKey(), first->publicKey());
    QVERIFY(store.remove(QStringLiteral("worker-key")));
    auto gone = store.load(QStringLiteral("worker-key"));
    QVERIFY(!gone);
    QCOMPARE(gone.error().code, QStringLiteral("secrets.not_found"));
}

void TestSecrets::fileStoreRefusesFilesOthersCanRead()
{
    QTemporaryDir dir;
    Secrets::FileKeyStore store(dir.filePath(QStringLiteral("keys")));
    auto key = Secrets::loadOrCreateHostKey(store);
    QVERIFY(key);
    const QByteArray path = QFile::encodeName(dir.filePath(QStringLiteral("keys/worker-key")));
    struct stat st;
    QCOMPARE(::stat(path.constData(), &st), 0);
    QCOMPARE(int(st.st_mode & 0777), 0600);
    QVERIFY(Secrets::loadOrCreateHostKey(store));

    ::chmod(path.constData(), 0644);
    auto refused = store.load(QStringLiteral("worker-key"));
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, QStringLiteral("secrets.unsafe_file"));
    QVERIFY2(refused.error().message.contains(QStringLiteral("chmod 600")),
             qPrintable(refused.error().message));
    // And no new key replaces it silently.
    QVERIFY(!Secrets::loadOrCreateHostKey(store));
}

void TestSecrets::databaseHoldsOnlySealedBytes()
{
    auto connection = Db::Connection::open(TestSupport::freshSchema(QStringLiteral("tst_secrets")));
    QVERIFY(connection);
    Db::Connection &db = **connection;
    QVERIFY(Db::Migrator(db).migrate());
    auto provider = db.exec(QStringLiteral(
            "INSERT INTO providers (name, type) VALUES ('relay', 'smtp') RETURNING id"));
    const qint64 providerId = provider->toInt(0, 0);
    Secrets::SecretRepository repository(db);

    auto hostA = Secrets::KeyPair::generate();
    auto hostB = Secrets::KeyPair::generate();
    // Nobody authorised yet: the secret cannot be stored, and the message says what to do.
    auto none = repository.setSecret(providerId, QStringLiteral("password"), m_secret);
    QVERIFY(!none);
    QVERIFY(none.error().message.contains(QStringLiteral("postdeskctl worker init")));

    auto idA = repository.registerKey(QStringLiteral("host-a"), hostA->publicKey());
    auto idB = repository.registerKey(QStringLiteral("host-b"), hostB->publicKey());
    QVERIFY(idA && idB);
    QCOMPARE(*idA, hostA->id());
    QCOMPARE(*repository.authorise(*idA), 0);
    QVERIFY(repository.setSecret(providerId, QStringLiteral("password"), m_secret));

    // No column anywhere holds the secret in the clear.
    auto leaks = db.exec(QStringLiteral("SELECT (SELECT count(*) FROM provider_secrets WHERE "
                                        "position($1::bytea IN sealed) > 0)"
                                        "     + (SELECT count(*) FROM providers WHERE "
                                        "options::text LIKE '%' || $2 || '%')"
                                        "     + (SELECT count(*) FROM audit_log WHERE detail::text "
                                        "LIKE '%' || $2 || '%')"),
                         {m_secret, QString::fromLatin1(m_secret)});
    QVERIFY(leaks);
    QCOMPARE(leaks->toInt(0, 0), 0);

    auto openedA = repository.openSecret(providerId, QStringLiteral("password"), *hostA);
    QVERIFY(openedA);
    QCOMPARE(*openedA, m_secret);
    // Host B is registered but not authorised: nothing is sealed for it.
    auto openedB = repository.openSecret(providerId, QStringLiteral("password"), *hostB);
    QVERIFY(!openedB);
    QCOMPARE(openedB.error().code, QStringLiteral("secrets.not_sealed_for_host"));

    // A webhook verification secret, sealed the same way.
    Events::WebhookSecretRepository webhooks(db);
    QVERIFY(webhooks.setSecret(QStringLiteral("mailgun"), QStringLiteral("signing_key"), "whsec"));

    // Authorised from host A, which re-seals what it holds for B: the provider's password and
    // the webhook secret.
    auto resealed = repository.authorise(*idB, &*hostA);
    QVERIFY2(resealed, qPrintable(resealed ? QString() : resealed.error().toString()));
    QCOMPARE(*resealed, 2);
    QCOMPARE(*repository.openSecret(providerId, QStringLiteral("password"), *hostB), m_secret);
    QCOMPARE(*webhooks.openSecret(QStringLiteral("mailgun"), QStringLiteral("signing_key"), *hostB),
             QByteArray("whsec"));

    // Replacing the secret replaces every copy; revoking a key removes its copies.
    QVERIFY(repository.setSecret(providerId, QStringLiteral("password"), "new"));
    QCOMPARE(*repository.openSecret(providerId, QStringLiteral("password"), *hostB),
             QByteArray("new"));
    QVERIFY(repository.revoke(*idB));
    auto copies = db.exec(QStringLiteral("SELECT count(*) FROM provider_secrets"));
    QCOMPARE(copies->toInt(0, 0), 1);
}

void TestSecrets::workerCommands()
{
    const QString db = TestSupport::freshSchema(QStringLiteral("tst_secrets_ctl"))
                               .toConnectionString();
    QTemporaryDir keys;
    auto ctl = [&](const QStringList &arguments, QString *output) {
        const TestSupport::ProgramRun run = TestSupport::runCtl(
                arguments + QStringList{QStringLiteral("--db"), db});
        *output = run.all();
        return run.exitCode;
    };
    QString output;
    const QString keyDir = keys.filePath(QStringLiteral("k"));
    QCOMPARE(ctl({QStringLiteral("worker"), QStringLiteral("init"), QStringLiteral("--key-dir"),
                  keyDir},
                 &output),
             0);
    static const QRegularExpression idPattern(QStringLiteral("Worker key id: ([0-9a-f]{32})"));
    const QString id = idPattern.match(output).captured(1);
    QVERIFY2(!id.isEmpty(), qPrintable(output));
    QCOMPARE(ctl({QStringLiteral("worker"), QStringLiteral("list")}, &output), 0);
    QVERIFY2(output.contains(id + QStringLiteral("  "))
                     && output.contains(QStringLiteral("NOT authorised")),
             qPrintable(output));
    QCOMPARE(ctl({QStringLiteral("worker"), QStringLiteral("authorise")}, &output), 2);
    QVERIFY2(output.contains(QStringLiteral("give the key id")), qPrintable(output));
    QCOMPARE(ctl({QStringLiteral("worker"), QStringLiteral("authorise"), QStringLiteral("0123")},
                 &output),
             1);
    QVERIFY2(output.contains(QStringLiteral("no worker key 0123")), qPrintable(output));
    QCOMPARE(ctl({QStringLiteral("worker"), QStringLiteral("authorise"), id}, &output), 0);
    QCOMPARE(ctl({QStringLiteral("worker"), QStringLiteral("list")}, &output), 0);
    QVERIFY2(output.contains(QStringLiteral("authorised 2")), qPrintable(output));
    // The same host again: the key is found, not replaced.
    QCOMPARE(ctl({QStringLiteral("worker"), QStringLiteral("init"), QStringLiteral("--key-dir"),
                  keyDir},
                 &output),
             0);
    QVERIFY2(output.contains(QStringLiteral("Found")) && output.contains(id), qPrintable(output));
}

QTEST_GUILESS_MAIN(TestSecrets)
#include "tst_secrets.moc"
