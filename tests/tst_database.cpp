#include "db/connection.h"
#include "db/databaseconfig.h"
#include "testdb.h"
#include "testenv.h"

#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

// The connection layer against the throwaway server: errors a person can act on, parameters that
// are never spliced into SQL, COPY and LISTEN/NOTIFY, and libpq's own configuration (PG* variables,
// .pgpass, sslmode) honoured.
class TestDatabase : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void parametersRoundTrip();
    void timestampsReadTheSameInEveryZone_data();
    void timestampsReadTheSameInEveryZone();
    void parametersAreNeverSql();
    void errorsCarrySqlState();
    void copyIn();
    void listenNotify();
    void unreachableServer();
    void missingDatabase();
    void wrongPassword();
    void pgpassIsHonoured();
    void pgEnvironmentIsHonoured();
    void sslmodeIsHonoured();

private:
    std::unique_ptr<Db::Connection> open(const Db::ConnectionInfo &info);
    Db::ConnectionInfo m_schema;
    QString m_tcpHost;
    QString m_tcpPort;
};

std::unique_ptr<Db::Connection> TestDatabase::open(const Db::ConnectionInfo &info)
{
    auto connection = Db::Connection::open(info);
    if (!connection)
        qWarning() << connection.error().toString();
    return connection ? std::move(*connection) : nullptr;
}

void TestDatabase::initTestCase()
{
    m_schema = TestSupport::freshSchema(QStringLiteral("tst_database"));
    m_tcpHost = TestSupport::requiredEnv("POSTDESK_TEST_TCP_HOST");
    m_tcpPort = TestSupport::requiredEnv("POSTDESK_TEST_TCP_PORT");
    auto connection = open(m_schema);
    QVERIFY(connection);
    QVERIFY(connection->execScript(
            QStringLiteral("CREATE TABLE t (id int, name text, flag bool, at timestamptz, doc "
                           "jsonb, blob bytea, tags text[]);"
                           "DROP ROLE IF EXISTS pd_password_user;"
                           "CREATE ROLE pd_password_user LOGIN PASSWORD 'right-password'")));
}

void TestDatabase::parametersRoundTrip()
{
    auto connection = open(m_schema);
    QVERIFY(connection);
    const QDateTime at = QDateTime(QDate(2026, 11, 24), QTime(6, 49, 33, 125), Qt::UTC);
    const QByteArray blob("\x00\x01\xff\x7f binary", 12);
    auto inserted = connection->exec(
            QStringLiteral("INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"),
            {42, QStringLiteral("Zoë ✉"), true, at, QJsonObject{{QStringLiteral("k"), 1}}, blob,
             QStringList{QStringLiteral("a\"b"), QStringLiteral("c,d")}});
    QVERIFY2(inserted, qPrintable(inserted ? QString() : inserted.error().toString()));
    QCOMPARE(inserted->toInt(0, 0), 42);
    QCOMPARE(inserted->affectedRows(), 1);

    auto row = connection->exec(QStringLiteral("SELECT id, name, flag, at, doc, blob, tags[1], "
                                               "tags[2], NULL::text FROM t WHERE id = $1"),
                                {42});
    QVERIFY(row);
    QCOMPARE(row->rowCount(), 1);
    QCOMPARE(row->value(0, 0).toLongLong(), 42);
    QCOMPARE(row->text(0, 1), QStringLiteral("Zoë ✉"));
    QCOMPARE(row->toBool(0, 2), true);
    QCOMPARE(row->toDateTime(0, 3), at);
    QCOMPARE(row->toJson(0, 4).toObject().value(QStringLiteral("k")).toInt(), 1);
    QCOMPARE(row->bytes(0, 5), blob);
    QCOMPARE(row->text(0, 6), QStringLiteral("a\"b"));
    QCOMPARE(row->text(0, 7), QStringLiteral("c,d"));
    QVERIFY(row->isNull(0, 8));
    QVERIFY(!row->value(0, 8).isValid());

    // Sums of integers come back as numeric; whole numbers stay integers, fractions doubles.
    auto sums = connection->exec(
            QStringLiteral("SELECT sum(v), 1.5::numeric FROM (VALUES (1::bigint), (2)) t(v)"));
    QVERIFY(sums);
    QCOMPARE(sums->value(0, 0).typeId(), int(QMetaType::LongLong));
    QCOMPARE(sums->value(0, 0).toLongLong(), 3);
    QCOMPARE(sums->value(0, 1).toDouble(), 1.5);
}

void TestDatabase::timestampsReadTheSameInEveryZone_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QDateTime>("expected");

    const auto utc = [](int y, int mo, int d, int h, int mi, int s, int ms) {
        return QDateTime(QDate(y, mo, d), QTime(h, mi, s, ms), Qt::UTC);
    };
    QTest::newRow("whole second") << "2026-11-24 06:49:33+00" << utc(2026, 11, 24, 6, 49, 33, 0);
    QTest::newRow("tenths") << "2026-11-24 06:49:33.1+00" << utc(2026, 11, 24, 6, 49, 33, 100);
    QTest::newRow("microseconds") << "2026-11-24 06:49:33.123456+00"
                                  << utc(2026, 11, 24, 6, 49, 33, 123);
    QTest::newRow("rounds up") << "2026-11-24 06:49:33.0005+00" << utc(2026, 11, 24, 6, 49, 33, 1);
    QTest::newRow("rounds down") << "2026-11-24 06:49:33.0004+00"
                                 << utc(2026, 11, 24, 6, 49, 33, 0);
    QTest::newRow("end of a second")
            << "2026-11-24 06:49:33.9996+00" << utc(2026, 11, 24, 6, 49, 34, 0);
    QTest::newRow("leap day") << "2024-02-29 23:59:59.25+00" << utc(2024, 2, 29, 23, 59, 59, 250);
    QTest::newRow("another zone") << "2026-11-24 06:49:33.5+05:30"
                                  << utc(2026, 11, 24, 1, 19, 33, 500);
}

void TestDatabase::timestampsReadTheSameInEveryZone()
{
    // In UTC (what connections use) toDateTime() reads the server's text by hand; in other zones
    // it goes through QDateTime::fromString(). Both must give the same time.
    QFETCH(QString, value);
    QFETCH(QDateTime, expected);
    auto connection = open(m_schema);
    QVERIFY(connection);
    QList<QDateTime> read;
    for (const char *zone : {"UTC", "Asia/Kolkata", "America/St_Johns"}) {
        QVERIFY(connection->execScript(
                QStringLiteral("SET TimeZone = '%1'").arg(QLatin1String(zone))));
        auto row = connection->exec(QStringLiteral("SELECT $1::timestamptz, $1::timestamptz::text"),
                                    {value});
        QVERIFY2(row, qPrintable(row ? QString() : row.error().toString()));
        read.append(row->toDateTime(0, 0));
        QVERIFY2(read.last().isValid(), qPrintable(row->text(0, 1)));
    }
    QCOMPARE(read.at(1), read.at(0));
    QCOMPARE(read.at(2), read.at(0));
    QCOMPARE(read.at(0).timeSpec(), Qt::UTC);
    QCOMPARE(read.at(0), expected);
}

void TestDatabase::parametersAreNeverSql()
{
    auto connection = open(m_schema);
    QVERIFY(connection);
    const QString hostile = QStringLiteral("x'); DROP TABLE t; --");
    QVERIFY(connection->exec(QStringLiteral("INSERT INTO t (id, name) VALUES (7, $1)"), {hostile}));
    auto back = connection->exec(QStringLiteral("SELECT name FROM t WHERE id = 7"));
    QVERIFY(back);
    QCOMPARE(back->text(0, 0), hostile);
    QVERIFY(connection->exec(QStringLiteral("SELECT count(*) FROM t")));
}

void TestDatabase::errorsCarrySqlState()
{
    auto connection = open(m_schema);
    QVERIFY(connection);
    auto failed = connection->exec(QStringLiteral("SELECT * FROM no_such_table"));
    QVERIFY(!failed);
    QCOMPARE(failed.error().code, QStringLiteral("db.query_failed"));
    QVERIFY2(failed.error().detail.startsWith(QStringLiteral("42P01")),
             qPrintable(failed.error().detail));
    QVERIFY(!failed.error().isTransient());
    // The connection is still usable afterwards.
    QVERIFY(connection->ping());
}

void TestDatabase::copyIn()
{
    auto connection = open(m_schema);
    QVERIFY(connection);
    QByteArray data;
    for (int i = 0; i < 5000; ++i)
        data += QByteArray::number(1000 + i) + "\tname " + QByteArray::number(i) + "\n";
    auto copied = connection->copyIn(QStringLiteral("COPY t (id, name) FROM STDIN"), data);
    QVERIFY2(copied, qPrintable(copied ? QString() : copied.error().toString()));
    QCOMPARE(*copied, 5000);
    auto count = connection->exec(QStringLiteral("SELECT count(*) FROM t WHERE id >= 1000"));
    QCOMPARE(count->toInt(0, 0), 5000);

    auto bad = connection->copyIn(QStringLiteral("COPY t (id) FROM STDIN"), "not a number\n");
    QVERIFY(!bad);
    QVERIFY(connection->ping());
}

void TestDatabase::listenNotify()
{
    auto listener = open(m_schema);
    auto notifier = open(m_schema);
    QVERIFY(listener && notifier);
    QVERIFY(listener->listen(QStringLiteral("postdesk_test")));
    QVERIFY(notifier->exec(QStringLiteral("SELECT pg_notify('postdesk_test', $1)"),
                           {QStringLiteral("hello")}));
    QList<Db::Notification> received;
    QTRY_VERIFY((received += listener->takeNotifications(), !received.isEmpty()));
    QCOMPARE(received.first().channel, QStringLiteral("postdesk_test"));
    QCOMPARE(received.first().payload, QStringLiteral("hello"));
    QCOMPARE(received.first().serverPid, notifier->backendPid());
}

void TestDatabase::unreachableServer()
{
    // Nothing listens on a socket directory that does not exist, nor on port 1.
    for (const QString &conninfo : {QStringLiteral("host=/nonexistent-dir port=5999 dbname=x"),
                                    QStringLiteral("host=127.0.0.1 port=1 dbname=x")}) {
        auto info = Db::ConnectionInfo::parse(conninfo);
        QVERIFY(info);
        auto connection = Db::Connection::open(*info);
        QVERIFY(!connection);
        QCOMPARE(connection.error().code, QStringLiteral("db.unreachable"));
        QVERIFY(connection.error().isTransient());
        QVERIFY2(connection.error().message.contains(QStringLiteral("Check that it is running")),
                 qPrintable(connection.error().message));
    }
}

void TestDatabase::missingDatabase()
{
    auto connection = Db::Connection::open(
            TestSupport::testServer().with(QStringLiteral("dbname"), QStringLiteral("no_such_db")));
    QVERIFY(!connection);
    QCOMPARE(connection.error().code, QStringLiteral("db.missing"));
    QVERIFY2(connection.error().message.contains(QStringLiteral("createdb")),
             qPrintable(connection.error().message));
}

void TestDatabase::wrongPassword()
{
    auto info = Db::ConnectionInfo::parse(
            QStringLiteral("host=%1 port=%2 user=pd_password_user password=wrong dbname=postgres")
                    .arg(m_tcpHost, m_tcpPort));
    QVERIFY(info);
    auto connection = Db::Connection::open(*info);
    QVERIFY(!connection);
    QCOMPARE(connection.error().code, QStringLiteral("db.auth_failed"));
    QVERIFY(!connection.error().isTransient());
    QVERIFY(!connection.error().message.contains(QStringLiteral("wrong")));
    QVERIFY2(connection.error().message.contains(QStringLiteral("pgpass")),
             qPrintable(connection.error().message));

    auto right = Db::Connection::open(
            info->with(QStringLiteral("password"), QStringLiteral("right-password")));
    QVERIFY2(right, qPrintable(right ? QString() : right.error().toString()));
}

void TestDatabase::pgpassIsHonoured()
{
    QTemporaryDir dir;
    const QString pgpass = dir.filePath(QStringLiteral("pgpass"));
    QFile file(pgpass);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QStringLiteral("%1:%2:*:pd_password_user:right-password\n")
                       .arg(m_tcpHost, m_tcpPort)
                       .toUtf8());
    file.close();
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    qputenv("PGPASSFILE", QFile::encodeName(pgpass));
    auto info = Db::ConnectionInfo::parse(
            QStringLiteral("host=%1 port=%2 user=pd_password_user dbname=postgres")
                    .arg(m_tcpHost, m_tcpPort));
    auto connection = Db::Connection::open(*info);
    qunsetenv("PGPASSFILE");
    QVERIFY2(connection, qPrintable(connection ? QString() : connection.error().toString()));
}

void TestDatabase::pgEnvironmentIsHonoured()
{
    // What the connection string leaves out comes from PG* variables.
    qputenv("PGDATABASE", "from_the_environment");
    auto info = TestSupport::testServer();
    QList<QPair<QString, QString>> withoutDb;
    QString conninfo;
    for (const auto &[key, value] : info.options()) {
        if (key != u"dbname")
            conninfo += key + QStringLiteral("='") + value + QStringLiteral("' ");
    }
    auto parsed = Db::ConnectionInfo::parse(conninfo);
    QVERIFY(parsed);
    auto connection = Db::Connection::open(*parsed);
    qunsetenv("PGDATABASE");
    QVERIFY(!connection);
    QCOMPARE(connection.error().code, QStringLiteral("db.missing"));
    QVERIFY2(connection.error().detail.contains(QStringLiteral("from_the_environment")),
             qPrintable(connection.error().detail));
}

void TestDatabase::sslmodeIsHonoured()
{
    // The test server has no TLS: sslmode=require must refuse to go on in plain text.
    auto info = Db::ConnectionInfo::parse(
            QStringLiteral("host=%1 port=%2 user=pd_password_user password=right-password "
                           "dbname=postgres sslmode=require")
                    .arg(m_tcpHost, m_tcpPort));
    auto connection = Db::Connection::open(*info);
    QVERIFY(!connection);
    QCOMPARE(connection.error().code, QStringLiteral("db.tls_failed"));
}

QTEST_GUILESS_MAIN(TestDatabase)
#include "tst_database.moc"
