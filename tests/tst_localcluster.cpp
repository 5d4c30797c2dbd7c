#include "db/connection.h"
#include "db/localcluster.h"
#include "testenv.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

// The embedded database, driven the way a user meets it: through postdeskctl with no database
// configured, in a data directory of its own.
class TestLocalCluster : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void notCreatedBeforeFirstUse();
    void createdOnFirstUseAndSurvivesTheProgram();
    void reusedOnSecondUse();
    void privateSocketAndNoTcp();
    void stopAndStartAgain();
    void missingServerProgramsAreNamed();

private:
    using Run = TestSupport::ProgramRun;
    Run ctl(const QStringList &arguments, const QProcessEnvironment &extra = {});
    QString postmasterPid() const;

    QTemporaryDir m_home;
    QString m_dataHome;
    QString m_baseDir;
};

void TestLocalCluster::initTestCase()
{
    QVERIFY(m_home.isValid());
    // As root the server runs as the postgres account, which must be able to walk down here.
    ::chmod(QFile::encodeName(m_home.path()).constData(), 0711);
    m_dataHome = m_home.filePath(QStringLiteral("data"));
    QVERIFY(QDir().mkpath(m_dataHome));
    ::chmod(QFile::encodeName(m_dataHome).constData(), 0711);
    m_baseDir = m_dataHome + QStringLiteral("/postdesk/db");
    qputenv("XDG_DATA_HOME", QFile::encodeName(m_dataHome));
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_home.filePath(QStringLiteral("config"))));
    QCOMPARE(Db::LocalCluster::defaultBaseDir(), m_baseDir);
}

void TestLocalCluster::cleanupTestCase()
{
    Db::LocalCluster cluster(m_baseDir);
    if (cluster.isRunning())
        QVERIFY(cluster.stop());
}

TestLocalCluster::Run TestLocalCluster::ctl(const QStringList &arguments,
                                            const QProcessEnvironment &extra)
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_dataHome);
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home.filePath(QStringLiteral("config")));
    env.insert(extra);
    return TestSupport::runCtl(arguments, env);
}

QString TestLocalCluster::postmasterPid() const
{
    QFile file(Db::LocalCluster(m_baseDir).dataDir() + QStringLiteral("/postmaster.pid"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QString::fromLatin1(file.readLine()).trimmed();
}

void TestLocalCluster::notCreatedBeforeFirstUse()
{
    const Run status = ctl(
            {QStringLiteral("db"), QStringLiteral("local"), QStringLiteral("status")});
    QCOMPARE(status.exitCode, 0);
    QVERIFY2(status.out.contains(QStringLiteral("not created")), qPrintable(status.out));
    QVERIFY(!QFileInfo::exists(m_baseDir + QStringLiteral("/data")));
}

void TestLocalCluster::createdOnFirstUseAndSurvivesTheProgram()
{
    const Run status = ctl({QStringLiteral("db"), QStringLiteral("status")});
    QVERIFY2(status.exitCode == 0, qPrintable(status.out + status.err));
    QVERIFY2(status.out.contains(QStringLiteral("embedded database (") + m_baseDir),
             qPrintable(status.out));
    QVERIFY2(status.out.contains(QStringLiteral("Server: PostgreSQL")), qPrintable(status.out));
    // status only reads: the new database is empty until something migrates it.
    QVERIFY2(status.out.contains(QStringLiteral("Schema: version 0")), qPrintable(status.out));

    // postdeskctl has exited; the server it started goes on running.
    Db::LocalCluster cluster(m_baseDir);
    QVERIFY(cluster.isCreated());
    QVERIFY(cluster.isRunning());
    QVERIFY(!postmasterPid().isEmpty());
    if (Db::LocalCluster::runsAsServiceAccount()) {
        QFileInfo data(cluster.dataDir());
        QCOMPARE(data.owner(), QStringLiteral("postgres"));
    }
}

void TestLocalCluster::reusedOnSecondUse()
{
    const QString pid = postmasterPid();
    QVERIFY(!pid.isEmpty());
    const Run migrate = ctl({QStringLiteral("db"), QStringLiteral("migrate")});
    QVERIFY2(migrate.exitCode == 0, qPrintable(migrate.out + migrate.err));
    QVERIFY2(migrate.out.contains(QStringLiteral("Applied migration")), qPrintable(migrate.out));
    QCOMPARE(postmasterPid(), pid);
    const Run again = ctl({QStringLiteral("db"), QStringLiteral("migrate")});
    QVERIFY2(again.exitCode == 0, qPrintable(again.out + again.err));
    QVERIFY2(again.out.contains(QStringLiteral("up to date")), qPrintable(again.out));
    QCOMPARE(postmasterPid(), pid);

    const Run start = ctl({QStringLiteral("db"), QStringLiteral("local"), QStringLiteral("start")});
    QCOMPARE(start.exitCode, 0);
    QVERIFY2(start.out.contains(QStringLiteral("already running")), qPrintable(start.out));
    QCOMPARE(postmasterPid(), pid);
}

void TestLocalCluster::privateSocketAndNoTcp()
{
    Db::LocalCluster cluster(m_baseDir);
    QFileInfo socketDir(cluster.socketDir());
    QCOMPARE(socketDir.permissions()
                     & (QFileDevice::ReadOther | QFileDevice::ExeOther | QFileDevice::ReadGroup
                        | QFileDevice::ExeGroup),
             QFileDevice::Permissions());
    auto connection = Db::Connection::open(cluster.connectionInfo());
    QVERIFY2(connection, qPrintable(connection ? QString() : connection.error().toString()));
    auto listen = (*connection)->exec(QStringLiteral("SHOW listen_addresses"));
    QVERIFY(listen);
    QCOMPARE(listen->text(0, 0), QString());

    const Run status = ctl(
            {QStringLiteral("db"), QStringLiteral("local"), QStringLiteral("status")});
    QVERIFY2(status.out.contains(QStringLiteral("State: running")), qPrintable(status.out));
    QVERIFY2(status.out.contains(QStringLiteral("no TCP port")), qPrintable(status.out));
    if (Db::LocalCluster::runsAsServiceAccount())
        QVERIFY2(status.out.contains(QStringLiteral("postgres")), qPrintable(status.out));
}

void TestLocalCluster::stopAndStartAgain()
{
    const Run stop = ctl({QStringLiteral("db"), QStringLiteral("local"), QStringLiteral("stop")});
    QVERIFY2(stop.exitCode == 0, qPrintable(stop.out + stop.err));
    QVERIFY2(stop.out.contains(QStringLiteral("Stopped")), qPrintable(stop.out));
    QVERIFY(!Db::LocalCluster(m_baseDir).isRunning());

    const Run status = ctl(
            {QStringLiteral("db"), QStringLiteral("local"), QStringLiteral("status")});
    QVERIFY2(status.out.contains(QStringLiteral("State: stopped")), qPrintable(status.out));

    // Any program that needs it starts it again on demand.
    const Run migrate = ctl({QStringLiteral("db"), QStringLiteral("migrate")});
    QVERIFY2(migrate.exitCode == 0, qPrintable(migrate.out + migrate.err));
    QVERIFY(Db::LocalCluster(m_baseDir).isRunning());
}

void TestLocalCluster::missingServerProgramsAreNamed()
{
    QTemporaryDir empty;
    QProcessEnvironment env;
    env.insert(QStringLiteral("POSTDESK_PG_BINDIR"), empty.path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), empty.path());
    const Run start = ctl({QStringLiteral("db"), QStringLiteral("local"), QStringLiteral("start")},
                          env);
    // ctl() sets XDG_DATA_HOME first; the extra environment overrides it.
    QCOMPARE(start.exitCode, 1);
    QVERIFY2(start.err.contains(QStringLiteral("initdb, pg_ctl and postgres")),
             qPrintable(start.err));
}

QTEST_GUILESS_MAIN(TestLocalCluster)
#include "tst_localcluster.moc"
