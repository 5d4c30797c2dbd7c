#pragma once

#include "common/result.h"

#include <QList>
#include <QPair>
#include <QString>

namespace Db {

// A libpq connection string ("host=db dbname=postdesk sslmode=verify-full") or URI
// ("postgresql://user@db/postdesk?sslmode=require"), parsed by libpq itself so that every keyword
// it knows is honoured. What the string leaves out libpq takes from the PG* environment variables,
// ~/.pgpass and the service file, as it always does.
class ConnectionInfo
{
public:
    ConnectionInfo() = default;

    // Parses and validates conninfo; an error says what is wrong with it.
    static Common::Result<ConnectionInfo> parse(const QString &conninfo);

    // The keyword/value pairs given explicitly, in libpq's keyword order.
    const QList<QPair<QString, QString>> &options() const { return m_options; }
    QString value(const QString &keyword) const;

    // A copy with keyword set to value (replacing any earlier value).
    ConnectionInfo with(const QString &keyword, const QString &value) const;

    // The keyword=value form with values quoted as libpq wants; includes the password if one was
    // given, so it must never be logged or shown: use describe() for that.
    QString toConnectionString() const;

    // What a person reads to know where this points, never including a password:
    // "postdesk on db.example.com:5432 as alice" or "postdesk on socket /run/x as alice".
    QString describe() const;

    bool operator==(const ConnectionInfo &other) const = default;

private:
    QList<QPair<QString, QString>> m_options;
};

} // namespace Db
