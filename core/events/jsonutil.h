#pragma once

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

// Small helpers the parsers share (private to core/events).
namespace Events::Json {

inline QString str(const QJsonObject &o, const char *key)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isString())
        return v.toString();
    if (v.isDouble())
        return QString::number(v.toDouble(), 'f', 0);
    return {};
}

// Unix seconds (integer or fractional, number or string) to UTC; invalid when absent or absurd.
inline QDateTime fromUnix(const QJsonValue &v)
{
    double seconds = 0;
    if (v.isDouble())
        seconds = v.toDouble();
    else if (v.isString())
        seconds = v.toString().toDouble();
    if (!(seconds > 0 && seconds < 1.0e11))
        return {};
    return QDateTime::fromMSecsSinceEpoch(qint64(seconds * 1000.0), Qt::UTC);
}

// ISO 8601 (with fractions and offsets) to UTC.
inline QDateTime fromIso(const QString &s)
{
    QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(s, Qt::ISODate);
    return t.isValid() ? t.toUTC() : QDateTime();
}

inline QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace Events::Json
