#include "testdb.h"

#include "db/connection.h"
#include "testenv.h"

#include <QTest>

namespace TestSupport {

Db::ConnectionInfo testServer()
{
    const QString conninfo = requiredEnv("POSTDESK_TEST_DB");
    auto info = Db::ConnectionInfo::parse(conninfo);
    if (!info) {
        QTest::qFail(qPrintable(info.error().message), __FILE__, __LINE__);
        return {};
    }
    return *info;
}

Db::ConnectionInfo freshSchema(const QString &name)
{
    const Db::ConnectionInfo server = testServer();
    auto connection = Db::Connection::open(server);
    if (!connection) {
        QTest::qFail(qPrintable(connection.error().toString()), __FILE__, __LINE__);
        return {};
    }
    const QString schema = name.toLower();
    (*connection)->execScript(QStringLiteral("DROP SCHEMA IF EXISTS %1 CASCADE").arg(schema));
    if (auto ok = (*connection)->execScript(QStringLiteral("CREATE SCHEMA %1").arg(schema)); !ok)
        QTest::qFail(qPrintable(ok.error().toString()), __FILE__, __LINE__);
    return server.with(QStringLiteral("options"), QStringLiteral("-c search_path=") + schema);
}

Db::ConnectionInfo freshDatabase(const QString &name)
{
    const Db::ConnectionInfo server = testServer();
    auto connection = Db::Connection::open(server);
    if (!connection) {
        QTest::qFail(qPrintable(connection.error().toString()), __FILE__, __LINE__);
        return {};
    }
    const QString database = name.toLower();
    (*connection)
            ->execScript(QStringLiteral("DROP DATABASE IF EXISTS %1 WITH (FORCE)").arg(database));
    if (auto ok = (*connection)->execScript(QStringLiteral("CREATE DATABASE %1").arg(database)); !ok)
        QTest::qFail(qPrintable(ok.error().toString()), __FILE__, __LINE__);
    return server.with(QStringLiteral("dbname"), database);
}

} // namespace TestSupport
