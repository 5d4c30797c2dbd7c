#include "db/connection.h"
#include "db/migrator.h"
#include "testdb.h"
#include "testenv.h"

#include <QProcess>
#include <QTest>

// postdeskctl as a newcomer meets it: help, mistakes, and the database commands.
class TestCtl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpListsTheCommands();
    void mistakesSayWhatToDo_data();
    void mistakesSayWhatToDo();
    void migrateAndStatus();
    void demoRefusesRealData();

private:
    using Run = TestSupport::ProgramRun;
    static Run ctl(const QStringList &arguments) { return TestSupport::runCtl(arguments); }
};

void TestCtl::helpListsTheCommands()
{
    const Run help = ctl({QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    for (const char *command : {"db", "demo"})
        QVERIFY2(help.out.contains(QStringLiteral("  ") + QLatin1String(command)),
                 qPrintable(help.out));
    QVERIFY(help.out.contains(QStringLiteral("--db CONNINFO")));
    QVERIFY(!help.out.contains(QStringLiteral("/")));

    const Run dbHelp = ctl({QStringLiteral("db"), QStringLiteral("--help")});
    QCOMPARE(dbHelp.exitCode, 0);
    QVERIFY(dbHelp.out.contains(QStringLiteral("local status|start|stop")));

    const Run migrateHelp = ctl(
            {QStringLiteral("db"), QStringLiteral("migrate"), QStringLiteral("--help")});
    QCOMPARE(migrateHelp.exitCode, 0);
    QVERIFY(migrateHelp.out.contains(QStringLiteral("--db <conninfo>")));
    QVERIFY2(migrateHelp.out.startsWith(QStringLiteral("Usage: postdeskctl db migrate [options]")),
             qPrintable(migrateHelp.out));
}

void TestCtl::mistakesSayWhatToDo_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::newRow("no command") << QStringList{} << 2 << "Usage: postdeskctl";
    QTest::newRow("unknown command")
            << QStringList{QStringLiteral("frobnicate")} << 2 << "unknown command 'frobnicate'";
    QTest::newRow("unknown option") << QStringList{QStringLiteral("db"), QStringLiteral("migrate"),
                                                   QStringLiteral("--frob")}
                                    << 2 << "Unknown option 'frob'";
    QTest::newRow("bad conninfo") << QStringList{QStringLiteral("db"), QStringLiteral("status"),
                                                 QStringLiteral("--db"), QStringLiteral("hots=x")}
                                  << 1 << "connection string is not valid";
    QTest::newRow("unreachable") << QStringList{QStringLiteral("db"), QStringLiteral("migrate"),
                                                QStringLiteral("--db"),
                                                QStringLiteral("host=127.0.0.1 port=1 dbname=x")}
                                 << 1 << "Cannot reach the PostgreSQL server";
}

void TestCtl::mistakesSayWhatToDo()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const Run run = ctl(arguments);
    QCOMPARE(run.exitCode, exitCode);
    const QString all = run.out + run.err;
    QVERIFY2(all.contains(message), qPrintable(all));
}

void TestCtl::migrateAndStatus()
{
    const QString db = TestSupport::freshSchema(QStringLiteral("tst_ctl")).toConnectionString();
    const Run before = ctl(
            {QStringLiteral("db"), QStringLiteral("status"), QStringLiteral("--db"), db});
    QVERIFY2(before.exitCode == 0, qPrintable(before.out + before.err));
    QVERIFY2(before.out.contains(QStringLiteral("Schema: version 0")), qPrintable(before.out));
    QVERIFY2(before.out.contains(QStringLiteral("run 'postdeskctl db migrate'")),
             qPrintable(before.out));

    const Run migrate = ctl(
            {QStringLiteral("db"), QStringLiteral("migrate"), QStringLiteral("--db"), db});
    QVERIFY2(migrate.exitCode == 0, qPrintable(migrate.out + migrate.err));
    QVERIFY2(migrate.out.contains(QStringLiteral("Applied migration")), qPrintable(migrate.out));

    const Run after = ctl(
            {QStringLiteral("db"), QStringLiteral("status"), QStringLiteral("--db"), db});
    QVERIFY2(after.out.contains(QStringLiteral("Schema: version %1 (this program knows up to %1)")
                                        .arg(Db::Migrator::latestBuiltinVersion())),
             qPrintable(after.out));
    QVERIFY2(after.out.contains(QStringLiteral("Server: PostgreSQL 1")), qPrintable(after.out));
}

void TestCtl::demoRefusesRealData()
{
    const Db::ConnectionInfo info = TestSupport::freshSchema(QStringLiteral("tst_ctl_demo"));
    const QString db = info.toConnectionString();
    QCOMPARE(ctl({QStringLiteral("db"), QStringLiteral("migrate"), QStringLiteral("--db"), db})
                     .exitCode,
             0);
    auto connection = Db::Connection::open(info);
    QVERIFY(connection);
    QVERIFY((*connection)
                    ->exec(QStringLiteral("INSERT INTO suppressions (address, reason) VALUES "
                                          "('a@example.com', 'manual')")));
    const Run demo = ctl({QStringLiteral("demo"), QStringLiteral("--db"), db});
    QCOMPARE(demo.exitCode, 1);
    QVERIFY2(demo.err.contains(QStringLiteral("already holds real data")), qPrintable(demo.err));
}

QTEST_GUILESS_MAIN(TestCtl)
#include "tst_ctl.moc"
