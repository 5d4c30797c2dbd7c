#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace Queue::Sql {

// Array literals for array parameters ($1::bigint[], $2::text[], ...) so that a batch travels as a
// few parameters of one statement instead of one statement per row.
QString bigintArray(const QList<qint64> &values);
// Each element quoted; std::nullopt is SQL NULL.
QString textArray(const QList<std::optional<QString>> &values);

// A text COPY field: \N for NULL, backslash escapes for the characters COPY's text format
// reserves (https://www.postgresql.org/docs/15/sql-copy.html, "Text Format").
void appendCopyField(QByteArray &line, const QString &value, bool isNull = false);

} // namespace Queue::Sql
