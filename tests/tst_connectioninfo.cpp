#include "db/connectioninfo.h"

#include <QTest>

class TestConnectionInfo : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesKeywordsAndUris_data();
    void parsesKeywordsAndUris();
    void rejectsInvalidStrings_data();
    void rejectsInvalidStrings();
    void describeNeverShowsThePassword();
    void roundTripsThroughItsConnectionString();
    void withReplacesAValue();
};

void TestConnectionInfo::parsesKeywordsAndUris_data()
{
    QTest::addColumn<QString>("conninfo");
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("port");
    QTest::addColumn<QString>("dbname");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("sslmode");

    QTest::newRow("keywords")
            << "host=db.example.org port=6543 dbname=mail user=alice sslmode=verify-full"
            << "db.example.org"
            << "6543"
            << "mail"
            << "alice"
            << "verify-full";
    QTest::newRow("uri") << "postgresql://alice@db.example.org:6543/mail?sslmode=require"
                         << "db.example.org"
                         << "6543"
                         << "mail"
                         << "alice"
                         << "require";
    QTest::newRow("short uri") << "postgres://db/mail"
                               << "db"
                               << ""
                               << "mail"
                               << ""
                               << "";
    QTest::newRow("quoted value") << "dbname='my db' host=/run/pg"
                                  << "/run/pg"
                                  << ""
                                  << "my db"
                                  << ""
                                  << "";
    QTest::newRow("socket in uri") << "postgresql:///mail?host=/var/run/postgresql"
                                   << "/var/run/postgresql"
                                   << ""
                                   << "mail"
                                   << ""
                                   << "";
    QTest::newRow("empty: all from PG* variables") << ""
                                                   << ""
                                                   << ""
                                                   << ""
                                                   << ""
                                                   << "";
}

void TestConnectionInfo::parsesKeywordsAndUris()
{
    QFETCH(QString, conninfo);
    auto info = Db::ConnectionInfo::parse(conninfo);
    QVERIFY2(info.has_value(), qPrintable(info ? QString() : info.error().message));
    QFETCH(QString, host);
    QFETCH(QString, port);
    QFETCH(QString, dbname);
    QFETCH(QString, user);
    QFETCH(QString, sslmode);
    QCOMPARE(info->value(QStringLiteral("host")), host);
    QCOMPARE(info->value(QStringLiteral("port")), port);
    QCOMPARE(info->value(QStringLiteral("dbname")), dbname);
    QCOMPARE(info->value(QStringLiteral("user")), user);
    QCOMPARE(info->value(QStringLiteral("sslmode")), sslmode);
}

void TestConnectionInfo::rejectsInvalidStrings_data()
{
    QTest::addColumn<QString>("conninfo");
    QTest::newRow("unknown keyword") << "hots=db dbname=x";
    QTest::newRow("missing value") << "host";
    QTest::newRow("bad uri") << "postgresql://db:notaport:5/x?=";
    QTest::newRow("unterminated quote") << "dbname='x";
}

void TestConnectionInfo::rejectsInvalidStrings()
{
    QFETCH(QString, conninfo);
    auto info = Db::ConnectionInfo::parse(conninfo);
    QVERIFY(!info.has_value());
    QCOMPARE(info.error().code, QStringLiteral("db.bad_conninfo"));
    QVERIFY2(info.error().message.contains(QStringLiteral("not valid")),
             qPrintable(info.error().message));
}

void TestConnectionInfo::describeNeverShowsThePassword()
{
    auto info = Db::ConnectionInfo::parse(
            QStringLiteral("postgresql://alice:s3cret-pw@db.example.org:5433/mail"));
    QVERIFY(info);
    const QString text = info->describe();
    QVERIFY2(!text.contains(QStringLiteral("s3cret")), qPrintable(text));
    QCOMPARE(text, QStringLiteral("mail on db.example.org:5433 as alice"));
}

void TestConnectionInfo::roundTripsThroughItsConnectionString()
{
    auto info = Db::ConnectionInfo::parse(
            QStringLiteral("postgresql://al%20ice:p%27w%5C@db/my%20db?application_name=a%3Db"));
    QVERIFY(info);
    auto again = Db::ConnectionInfo::parse(info->toConnectionString());
    QVERIFY2(again, qPrintable(info->toConnectionString()));
    QCOMPARE(*again, *info);
    QCOMPARE(again->value(QStringLiteral("user")), QStringLiteral("al ice"));
    QCOMPARE(again->value(QStringLiteral("password")), QStringLiteral("p'w\\"));
    QCOMPARE(again->value(QStringLiteral("dbname")), QStringLiteral("my db"));
}

void TestConnectionInfo::withReplacesAValue()
{
    auto info = Db::ConnectionInfo::parse(QStringLiteral("host=a dbname=b"));
    QVERIFY(info);
    const auto changed = info->with(QStringLiteral("dbname"), QStringLiteral("c"))
                                 .with(QStringLiteral("port"), QStringLiteral("7"));
    QCOMPARE(changed.value(QStringLiteral("dbname")), QStringLiteral("c"));
    QCOMPARE(changed.value(QStringLiteral("port")), QStringLiteral("7"));
    QCOMPARE(info->value(QStringLiteral("dbname")), QStringLiteral("b"));
}

QTEST_GUILESS_MAIN(TestConnectionInfo)
#include "tst_connectioninfo.moc"
