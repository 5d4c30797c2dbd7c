#pragma once

#include "common/result.h"

#include <QList>
#include <QString>

namespace Db {

class Connection;

struct Migration
{
    int version = 0;
    QString name;
    QString sql;
};

struct SchemaStatus
{
    int current = 0; // highest version applied to the database (0: empty)
    int latest = 0;  // highest version this program knows
    bool isTooNew() const { return current > latest; }
    bool isBehind() const { return current < latest; }
};

// Applies the versioned SQL files compiled into the program (":/db/migrations/NNNN_name.sql") in
// order. All of a run happens in one transaction under an advisory lock, so two processes starting
// at once serialise: the second finds the work done. Applied versions are recorded in
// schema_migrations. A database whose schema is newer than the program is refused.
class Migrator
{
public:
    explicit Migrator(Connection &connection, QList<Migration> migrations = builtinMigrations());

    static QList<Migration> builtinMigrations();
    static int latestBuiltinVersion();

    Common::Result<SchemaStatus> status();
    // Returns the versions it applied (empty when the schema was already current).
    Common::Result<QList<int>> migrate();

    // The error for a schema newer than this program.
    static Common::Error tooNewError(const SchemaStatus &status);

private:
    Connection &m_connection;
    QList<Migration> m_migrations;
};

} // namespace Db
