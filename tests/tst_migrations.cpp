#include "db/connection.h"
#include "db/databaseconfig.h"
#include "db/migrator.h"
#include "testdb.h"
#include "testenv.h"

#include <QProcess>
#include <QTest>

class TestMigrations : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void appliesEverythingOnAnEmptySchema();
    void secondRunChangesNothing();
    void concurrentProcessesApplyEachMigrationOnce();
    void newerSchemaIsRefused();
    void failedMigrationLeavesNothingBehind();

private:
    std::unique_ptr<Db::Connection> open(const Db::ConnectionInfo &info)
    {
        auto connection = Db::Connection::open(info);
        return connection ? std::move(*connection) : nullptr;
    }
    QString tableSnapshot(Db::Connection &connection);
};

QString TestMigrations::tableSnapshot(Db::Connection &connection)
{
    auto result = connection.exec(QStringLiteral(
            "SELECT string_agg(table_name || ':' || column_name || ':' || data_type, ',' "
            "ORDER BY table_name, ordinal_position) FROM information_schema.columns "
            "WHERE table_schema = current_schema()"));
    return result ? result->text(0, 0) : QString();
}

void TestMigrations::appliesEverythingOnAnEmptySchema()
{
    auto connection = open(TestSupport::freshSchema(QStringLiteral("tst_migrations_a")));
    QVERIFY(connection);
    QVERIFY(Db::Migrator::latestBuiltinVersion() >= 1);
    Db::Migrator migrator(*connection);
    auto before = migrator.status();
    QVERIFY(before);
    QCOMPARE(before->current, 0);
    QVERIFY(before->isBehind());

    auto applied = migrator.migrate();
    QVERIFY2(applied, qPrintable(applied ? QString() : applied.error().toString()));
    QCOMPARE(applied->size(), Db::Migrator::builtinMigrations().size());
    QCOMPARE(applied->first(), 1);

    // The domain is there, and the default queues.
    for (const char *table : {"providers", "provider_secrets", "worker_keys", "templates",
                              "template_versions", "queues", "messages", "events", "suppressions",
                              "daily_rollups", "audit_log", "settings"}) {
        auto exists = connection->exec(QStringLiteral("SELECT to_regclass($1) IS NOT NULL"),
                                       {QString::fromLatin1(table)});
        QVERIFY2(exists && exists->toBool(0, 0), table);
    }
    auto queues = connection->exec(
            QStringLiteral("SELECT string_agg(name, ',' ORDER BY priority_class) FROM queues"));
    QCOMPARE(queues->text(0, 0), QStringLiteral("transactional,system,marketing,bulk"));
}

void TestMigrations::secondRunChangesNothing()
{
    auto connection = open(TestSupport::freshSchema(QStringLiteral("tst_migrations_b")));
    QVERIFY(connection);
    QVERIFY(Db::Migrator(*connection).migrate());
    const QString before = tableSnapshot(*connection);
    auto rowsBefore = connection->exec(
            QStringLiteral("SELECT count(*), max(applied_at) FROM schema_migrations"));

    auto again = Db::Migrator(*connection).migrate();
    QVERIFY(again);
    QVERIFY(again->isEmpty());
    QCOMPARE(tableSnapshot(*connection), before);
    auto rowsAfter = connection->exec(
            QStringLiteral("SELECT count(*), max(applied_at) FROM schema_migrations"));
    QCOMPARE(rowsAfter->text(0, 0), rowsBefore->text(0, 0));
    QCOMPARE(rowsAfter->text(0, 1), rowsBefore->text(0, 1));
    auto queues = connection->exec(QStringLiteral("SELECT count(*) FROM queues"));
    QCOMPARE(queues->toInt(0, 0), 4);
}

void TestMigrations::concurrentProcessesApplyEachMigrationOnce()
{
    const Db::ConnectionInfo schema = TestSupport::freshSchema(QStringLiteral("tst_migrations_c"));
    const QString ctl = TestSupport::programPath(QStringLiteral("postdeskctl"));
    // Several processes at once; the advisory lock makes all but one find the work done.
    std::vector<std::unique_ptr<QProcess>> processes;
    for (int i = 0; i < 4; ++i) {
        auto process = std::make_unique<QProcess>();
        process->setProcessChannelMode(QProcess::MergedChannels);
        process->start(ctl,
                       {QStringLiteral("db"), QStringLiteral("migrate"), QStringLiteral("--db"),
                        schema.toConnectionString()});
        processes.push_back(std::move(process));
    }
    int appliedCount = 0;
    for (auto &process : processes) {
        QVERIFY(process->waitForFinished(60000));
        const QString output = QString::fromUtf8(process->readAll());
        QVERIFY2(process->exitStatus() == QProcess::NormalExit && process->exitCode() == 0,
                 qPrintable(output));
        if (output.contains(QStringLiteral("Applied migration")))
            ++appliedCount;
        else
            QVERIFY2(output.contains(QStringLiteral("up to date")), qPrintable(output));
    }
    QCOMPARE(appliedCount, 1);
    auto connection = open(schema);
    auto rows = connection->exec(
            QStringLiteral("SELECT count(*), count(DISTINCT version) FROM schema_migrations"));
    QCOMPARE(rows->toInt(0, 0), qint64(Db::Migrator::builtinMigrations().size()));
    QCOMPARE(rows->toInt(0, 1), rows->toInt(0, 0));
    auto queues = connection->exec(QStringLiteral("SELECT count(*) FROM queues"));
    QCOMPARE(queues->toInt(0, 0), 4);
}

void TestMigrations::newerSchemaIsRefused()
{
    const Db::ConnectionInfo schema = TestSupport::freshSchema(QStringLiteral("tst_migrations_d"));
    auto connection = open(schema);
    QVERIFY(Db::Migrator(*connection).migrate());
    QVERIFY(connection->exec(QStringLiteral(
            "INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')")));

    auto refused = Db::Migrator(*connection).migrate();
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, QStringLiteral("db.schema_too_new"));
    QVERIFY2(refused.error().message.contains(QStringLiteral("version 9999")),
             qPrintable(refused.error().message));
    QVERIFY2(refused.error().message.contains(QStringLiteral("Upgrade Postdesk")),
             qPrintable(refused.error().message));

    auto config = Db::DatabaseConfig::external(schema.toConnectionString());
    QVERIFY(config);
    auto opened = config->open();
    QVERIFY(!opened);
    QCOMPARE(opened.error().code, QStringLiteral("db.schema_too_new"));

    QProcess ctl;
    ctl.start(TestSupport::programPath(QStringLiteral("postdeskctl")),
              {QStringLiteral("db"), QStringLiteral("migrate"), QStringLiteral("--db"),
               schema.toConnectionString()});
    QVERIFY(ctl.waitForFinished(30000));
    QCOMPARE(ctl.exitCode(), 1);
    QVERIFY(QString::fromUtf8(ctl.readAllStandardError())
                    .contains(QStringLiteral("newer than this Postdesk")));
    // Nothing changed.
    auto versions = connection->exec(
            QStringLiteral("SELECT max(version), count(*) FROM schema_migrations"));
    QCOMPARE(versions->toInt(0, 0), 9999);
}

void TestMigrations::failedMigrationLeavesNothingBehind()
{
    auto connection = open(TestSupport::freshSchema(QStringLiteral("tst_migrations_e")));
    QList<Db::Migration> migrations = Db::Migrator::builtinMigrations();
    const int next = migrations.constLast().version + 1;
    migrations.append({next, QStringLiteral("broken"),
                       QStringLiteral("CREATE TABLE half_done (id int); SELECT * FROM nowhere;")});
    auto failed = Db::Migrator(*connection, migrations).migrate();
    QVERIFY(!failed);
    QVERIFY2(failed.error().message.contains(QStringLiteral("broken")),
             qPrintable(failed.error().message));
    // One transaction: not even the earlier migrations of the run stay.
    auto tables = connection->exec(QStringLiteral(
            "SELECT to_regclass('half_done') IS NULL, to_regclass('messages') IS NULL, "
            "to_regclass('schema_migrations') IS NULL"));
    QVERIFY(tables);
    QVERIFY(tables->toBool(0, 0));
    QVERIFY(tables->toBool(0, 1));
    QVERIFY(tables->toBool(0, 2));
}

QTEST_GUILESS_MAIN(TestMigrations)
#include "tst_migrations.moc"
