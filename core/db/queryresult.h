#pragma once

#include <QDateTime>
#include <QJsonValue>
#include <QString>
#include <QVariant>

#include <memory>

struct pg_result;

namespace Db {

// The rows a statement returned, in libpq's text format. Cheap to copy (shared), safe to move to
// another thread; read it with the typed accessors.
class QueryResult
{
public:
    QueryResult() = default;
    explicit QueryResult(pg_result *result);

    int rowCount() const;
    int columnCount() const;
    QString columnName(int column) const;
    int column(const char *name) const; // -1 when there is no such column

    bool isNull(int row, int column) const;
    QString text(int row, int column) const;
    QByteArray bytes(int row, int column) const; // raw text; for bytea the decoded bytes
    qint64 toInt(int row, int column, qint64 fallback = 0) const;
    double toDouble(int row, int column, double fallback = 0) const;
    bool toBool(int row, int column) const;
    QDateTime toDateTime(int row, int column) const;
    QJsonValue toJson(int row, int column) const;
    QVariant value(int row, int column) const; // typed by the column's type OID

    // For INSERT/UPDATE/DELETE: how many rows the statement touched.
    qint64 affectedRows() const;

private:
    std::shared_ptr<pg_result> m_result;
};

} // namespace Db
