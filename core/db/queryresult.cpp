#include "queryresult.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <libpq-fe.h>

#include <optional>

namespace Db {

namespace {
// Type OIDs from pg_type.dat; stable across PostgreSQL versions.
constexpr Oid BoolOid = 16;
constexpr Oid ByteaOid = 17;
constexpr Oid Int8Oid = 20;
constexpr Oid Int2Oid = 21;
constexpr Oid Int4Oid = 23;
constexpr Oid Float4Oid = 700;
constexpr Oid Float8Oid = 701;
constexpr Oid NumericOid = 1700;
constexpr Oid TimestampOid = 1114;
constexpr Oid TimestampTzOid = 1184;
constexpr Oid JsonOid = 114;
constexpr Oid JsonbOid = 3802;

// The usual text form of a timestamptz on our connections (DateStyle ISO, TimeZone UTC, both set
// when a connection opens): "2026-11-24 06:49:33.123456+00", the fraction optional. Read by hand,
// rounded to the nearest millisecond as QDateTime::fromString() rounds: that took a tenth of a send
// worker's time, for the two timestamps of each claimed message. Anything else (another offset,
// a year past 9999, BC, infinity) is left to the general parser.
std::optional<QDateTime> utcTimestamp(const char *s, int length)
{
    if (length < 22 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
        return std::nullopt;
    bool ok = true;
    const auto number = [&](int at, int count) {
        int value = 0;
        for (int i = at; i < at + count; ++i) {
            ok = ok && s[i] >= '0' && s[i] <= '9';
            value = value * 10 + (s[i] - '0');
        }
        return value;
    };
    const QDate date(number(0, 4), number(5, 2), number(8, 2));
    const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
    int at = 19;
    int msec = 0;
    if (s[at] == '.') {
        int micro = 0, digits = 0;
        for (++at; at < length && digits <= 6 && s[at] >= '0' && s[at] <= '9'; ++at, ++digits)
            micro = micro * 10 + (s[at] - '0');
        if (digits == 0 || digits > 6)
            return std::nullopt;
        for (; digits < 6; ++digits)
            micro *= 10;
        msec = (micro + 500) / 1000;
    }
    // 1000 ms: the next second, which the general parser carries over into the minutes.
    if (!ok || msec > 999 || length - at != 3 || s[at] != '+' || s[at + 1] != '0'
        || s[at + 2] != '0')
        return std::nullopt;
    const QTime time(hour, minute, second, msec);
    if (!date.isValid() || !time.isValid())
        return std::nullopt;
    return QDateTime(date, time, Qt::UTC);
}
} // namespace

QueryResult::QueryResult(pg_result *result)
    : m_result(result, PQclear)
{ }

int QueryResult::rowCount() const
{
    return m_result ? PQntuples(m_result.get()) : 0;
}

int QueryResult::columnCount() const
{
    return m_result ? PQnfields(m_result.get()) : 0;
}

QString QueryResult::columnName(int column) const
{
    return m_result ? QString::fromUtf8(PQfname(m_result.get(), column)) : QString();
}

int QueryResult::column(const char *name) const
{
    return m_result ? PQfnumber(m_result.get(), name) : -1;
}

bool QueryResult::isNull(int row, int column) const
{
    return !m_result || PQgetisnull(m_result.get(), row, column);
}

QString QueryResult::text(int row, int column) const
{
    if (isNull(row, column))
        return {};
    return QString::fromUtf8(PQgetvalue(m_result.get(), row, column),
                             PQgetlength(m_result.get(), row, column));
}

QByteArray QueryResult::bytes(int row, int column) const
{
    if (isNull(row, column))
        return {};
    const char *value = PQgetvalue(m_result.get(), row, column);
    if (PQftype(m_result.get(), column) == ByteaOid) {
        size_t length = 0;
        unsigned char *decoded = PQunescapeBytea(reinterpret_cast<const unsigned char *>(value),
                                                 &length);
        QByteArray result(reinterpret_cast<const char *>(decoded), qsizetype(length));
        PQfreemem(decoded);
        return result;
    }
    return QByteArray(value, PQgetlength(m_result.get(), row, column));
}

qint64 QueryResult::toInt(int row, int column, qint64 fallback) const
{
    if (isNull(row, column))
        return fallback;
    bool ok = false;
    const qint64 value = QByteArray(PQgetvalue(m_result.get(), row, column)).toLongLong(&ok);
    return ok ? value : fallback;
}

double QueryResult::toDouble(int row, int column, double fallback) const
{
    if (isNull(row, column))
        return fallback;
    bool ok = false;
    const double value = QByteArray(PQgetvalue(m_result.get(), row, column)).toDouble(&ok);
    return ok ? value : fallback;
}

bool QueryResult::toBool(int row, int column) const
{
    return !isNull(row, column) && PQgetvalue(m_result.get(), row, column)[0] == 't';
}

QDateTime QueryResult::toDateTime(int row, int column) const
{
    if (isNull(row, column))
        return {};
    if (auto fast = utcTimestamp(PQgetvalue(m_result.get(), row, column),
                                 PQgetlength(m_result.get(), row, column)))
        return *fast;
    // The server's text form: "2026-11-24 06:49:33.123+00" (DateStyle ISO, which we set).
    QString value = text(row, column);
    value.replace(10, 1, u'T');
    if (value.size() > 3
        && (value.at(value.size() - 3) == u'+' || value.at(value.size() - 3) == u'-'))
        value += QStringLiteral(":00");
    QDateTime result = QDateTime::fromString(value, Qt::ISODateWithMs);
    if (!result.isValid())
        result = QDateTime::fromString(value, Qt::ISODate);
    return result;
}

QJsonValue QueryResult::toJson(int row, int column) const
{
    if (isNull(row, column))
        return QJsonValue::Null;
    const QByteArray raw = bytes(row, column);
    // QJsonDocument only parses objects and arrays at the top level; wrap scalars.
    const QJsonDocument document = QJsonDocument::fromJson('[' + raw + ']');
    return document.isArray() ? document.array().first() : QJsonValue::Undefined;
}

QVariant QueryResult::value(int row, int column) const
{
    if (isNull(row, column))
        return {};
    switch (PQftype(m_result.get(), column)) {
    case BoolOid:
        return toBool(row, column);
    case Int2Oid:
    case Int4Oid:
    case Int8Oid:
        return toInt(row, column);
    case NumericOid:
        // sum() over integers is numeric: keep whole numbers whole.
        if (!text(row, column).contains(u'.'))
            return toInt(row, column);
        return toDouble(row, column);
    case Float4Oid:
    case Float8Oid:
        return toDouble(row, column);
    case TimestampOid:
    case TimestampTzOid:
        return toDateTime(row, column);
    case ByteaOid:
        return bytes(row, column);
    case JsonOid:
    case JsonbOid:
        return toJson(row, column).toVariant();
    default:
        return text(row, column);
    }
}

qint64 QueryResult::affectedRows() const
{
    return m_result ? QByteArray(PQcmdTuples(m_result.get())).toLongLong() : 0;
}

} // namespace Db
