#include "migrator.h"

#include "common/logging.h"
#include "connection.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QRegularExpression>

#include <algorithm>

namespace Db {

namespace {

// pg_advisory_xact_lock key: "postdesk" in ASCII, so it does not collide with other tools' keys.
constexpr qint64 MigrationLockKey = 0x706f73746465736bLL;

const QString createTable = QStringLiteral("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                           " version integer PRIMARY KEY,"
                                           " name text NOT NULL,"
                                           " applied_at timestamptz NOT NULL DEFAULT now(),"
                                           " applied_by text NOT NULL DEFAULT current_user)");

Common::Result<int> currentVersion(Connection &connection)
{
    // to_regclass respects search_path, so every schema has its own migrations table.
    auto exists = connection.exec(
            QStringLiteral("SELECT to_regclass('schema_migrations') IS NOT NULL"));
    if (!exists)
        return Common::fail(exists.error());
    if (!exists->toBool(0, 0))
        return 0;
    auto max = connection.exec(
            QStringLiteral("SELECT coalesce(max(version), 0) FROM schema_migrations"));
    if (!max)
        return Common::fail(max.error());
    return int(max->toInt(0, 0));
}

} // namespace

Migrator::Migrator(Connection &connection, QList<Migration> migrations)
    : m_connection(connection)
    , m_migrations(std::move(migrations))
{
    std::sort(m_migrations.begin(), m_migrations.end(),
              [](const Migration &a, const Migration &b) { return a.version < b.version; });
}

QList<Migration> Migrator::builtinMigrations()
{
    static const QList<Migration> migrations = [] {
        QList<Migration> list;
        static const QRegularExpression pattern(QStringLiteral("^(\\d+)_(.+)\\.sql$"));
        const QDir dir(QStringLiteral(":/db/migrations"));
        const QStringList files = dir.entryList({QStringLiteral("*.sql")}, QDir::Files, QDir::Name);
        for (const QString &fileName : files) {
            const auto match = pattern.match(fileName);
            if (!match.hasMatch())
                continue;
            QFile file(dir.filePath(fileName));
            if (!file.open(QIODevice::ReadOnly))
                continue;
            list.append({match.captured(1).toInt(), match.captured(2),
                         QString::fromUtf8(file.readAll())});
        }
        return list;
    }();
    return migrations;
}

int Migrator::latestBuiltinVersion()
{
    const QList<Migration> migrations = builtinMigrations();
    return migrations.isEmpty() ? 0 : migrations.constLast().version;
}

Common::Error Migrator::tooNewError(const SchemaStatus &status)
{
    return Common::makeError(
            QStringLiteral("db.schema_too_new"),
            QStringLiteral("The database schema is at version %1, newer than this Postdesk "
                           "understands (version %2). Upgrade Postdesk on this machine, or "
                           "connect to another database; nothing was changed.")
                    .arg(status.current)
                    .arg(status.latest));
}

Common::Result<SchemaStatus> Migrator::status()
{
    auto current = currentVersion(m_connection);
    if (!current)
        return Common::fail(current.error());
    return SchemaStatus{*current, m_migrations.isEmpty() ? 0 : m_migrations.constLast().version};
}

Common::Result<QList<int>> Migrator::migrate()
{
    auto run = [this]() -> Common::Result<QList<int>> {
        if (auto ok = m_connection.begin(); !ok)
            return Common::fail(ok.error());
        if (auto locked = m_connection.exec(QStringLiteral("SELECT pg_advisory_xact_lock($1)"),
                                            {MigrationLockKey});
            !locked)
            return Common::fail(locked.error());
        if (auto created = m_connection.execScript(createTable); !created)
            return Common::fail(created.error());
        auto current = currentVersion(m_connection);
        if (!current)
            return Common::fail(current.error());
        SchemaStatus state{*current, m_migrations.isEmpty() ? 0 : m_migrations.constLast().version};
        if (state.isTooNew())
            return Common::fail(tooNewError(state));

        QList<int> applied;
        for (const Migration &migration : std::as_const(m_migrations)) {
            if (migration.version <= state.current)
                continue;
            qCInfo(lcDb) << "applying migration" << migration.version << migration.name;
            if (auto ok = m_connection.execScript(migration.sql); !ok) {
                Common::Error error = ok.error();
                error.message = QStringLiteral("Migration %1 (%2) failed: %3")
                                        .arg(migration.version)
                                        .arg(migration.name, error.message);
                return Common::fail(error);
            }
            if (auto ok = m_connection.exec(
                        QStringLiteral(
                                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"),
                        {migration.version, migration.name});
                !ok)
                return Common::fail(ok.error());
            applied.append(migration.version);
        }
        if (auto ok = m_connection.commit(); !ok)
            return Common::fail(ok.error());
        return applied;
    };
    auto result = run();
    if (!result)
        m_connection.rollback();
    return result;
}

} // namespace Db
