#include "demodata.h"

#include "connection.h"

#include <QFile>

namespace Db {

Common::Result<DemoData::Summary> DemoData::count(Connection &connection)
{
    auto counts = connection.exec(
            QStringLiteral("SELECT (SELECT count(*) FROM providers WHERE is_demo),"
                           "       (SELECT count(*) FROM templates WHERE is_demo),"
                           "       (SELECT count(*) FROM messages WHERE is_demo),"
                           "       (SELECT count(*) FROM events e JOIN messages m ON m.id = "
                           "e.message_id WHERE m.is_demo),"
                           "       EXISTS (SELECT 1 FROM settings WHERE key = 'demo')"));
    if (!counts)
        return Common::fail(counts.error());
    Summary summary;
    summary.providers = counts->toInt(0, 0);
    summary.templates = counts->toInt(0, 1);
    summary.messages = counts->toInt(0, 2);
    summary.events = counts->toInt(0, 3);
    summary.alreadyLoaded = counts->toBool(0, 4);
    return summary;
}

Common::Result<DemoData::Summary> DemoData::load(Connection &connection)
{
    QFile script(QStringLiteral(":/db/demo/demo.sql"));
    if (!script.open(QIODevice::ReadOnly))
        return Common::fail(QStringLiteral("demo.missing"),
                            QStringLiteral("The demo data script is missing from this build."));
    const QString sql = QString::fromUtf8(script.readAll());

    auto run = [&]() -> Common::Result<Summary> {
        if (auto ok = connection.begin(); !ok)
            return Common::fail(ok.error());
        // Serialise with another loader started at the same moment.
        if (auto ok = connection.execScript(
                    QStringLiteral("LOCK TABLE providers, templates, messages IN EXCLUSIVE MODE"));
            !ok)
            return Common::fail(ok.error());
        auto other = connection.exec(QStringLiteral(
                "SELECT (SELECT count(*) FROM providers WHERE NOT is_demo),"
                "       (SELECT count(*) FROM templates WHERE NOT is_demo),"
                "       (SELECT count(*) FROM messages WHERE NOT is_demo),"
                "       (SELECT count(*) FROM suppressions WHERE source <> 'demo')"));
        if (!other)
            return Common::fail(other.error());
        if (other->toInt(0, 0) + other->toInt(0, 1) + other->toInt(0, 2) + other->toInt(0, 3) > 0) {
            return Common::fail(
                    QStringLiteral("demo.not_empty"),
                    QStringLiteral("This database already holds real data (%1 providers, %2 "
                                   "templates, %3 messages, %4 suppressions that are not demo "
                                   "data). Demo data is only loaded into an empty database; use "
                                   "a new one, e.g. --db 'dbname=postdesk_demo'.")
                            .arg(other->toInt(0, 0))
                            .arg(other->toInt(0, 1))
                            .arg(other->toInt(0, 2))
                            .arg(other->toInt(0, 3)));
        }
        auto existing = count(connection);
        if (!existing)
            return existing;
        if (existing->alreadyLoaded) {
            connection.rollback();
            return existing;
        }
        if (auto ok = connection.execScript(sql); !ok)
            return Common::fail(ok.error());
        auto loaded = count(connection);
        if (!loaded)
            return loaded;
        if (auto ok = connection.commit(); !ok)
            return Common::fail(ok.error());
        loaded->alreadyLoaded = false;
        return loaded;
    };
    auto result = run();
    connection.rollback(); // no-op after a commit
    return result;
}

} // namespace Db
