#include "suppressionrepository.h"

#include "db/connection.h"
#include "sqlarray.h"

namespace Queue {

namespace {

// RFC 4180: fields separated by commas, quoted with double quotes when they hold a comma, quote or
// line break; a quote inside is doubled.
QList<QStringList> parseCsv(const QString &text)
{
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    bool fieldStarted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted) {
            if (c == u'"') {
                if (i + 1 < text.size() && text.at(i + 1) == u'"') {
                    field += u'"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
            continue;
        }
        if (c == u'"' && field.isEmpty()) {
            quoted = true;
            fieldStarted = true;
        } else if (c == u',') {
            row << field;
            field.clear();
            fieldStarted = true;
        } else if (c == u'\n' || c == u'\r') {
            if (c == u'\r' && i + 1 < text.size() && text.at(i + 1) == u'\n')
                ++i;
            if (fieldStarted || !field.isEmpty() || !row.isEmpty()) {
                row << field;
                rows << row;
            } else {
                rows << QStringList(); // keeps line numbers right for messages
            }
            row.clear();
            field.clear();
            fieldStarted = false;
        } else {
            field += c;
            fieldStarted = true;
        }
    }
    if (fieldStarted || !field.isEmpty() || !row.isEmpty()) {
        row << field;
        rows << row;
    }
    return rows;
}

QString csvField(const QString &value)
{
    if (!value.contains(u',') && !value.contains(u'"') && !value.contains(u'\n')
        && !value.contains(u'\r'))
        return value;
    QString escaped = value;
    escaped.replace(u'"', QStringLiteral("\"\""));
    return u'"' + escaped + u'"';
}

} // namespace

SuppressionRepository::SuppressionRepository(Db::Connection &connection)
    : m_connection(connection)
{ }

QStringList SuppressionRepository::reasons()
{
    return {QStringLiteral("hard_bounce"), QStringLiteral("soft_bounces"),
            QStringLiteral("complaint"), QStringLiteral("unsubscribe"), QStringLiteral("manual")};
}

Common::Result<QString> SuppressionRepository::normalise(const QString &address)
{
    const QString normalised = address.trimmed().toLower();
    const qsizetype at = normalised.lastIndexOf(u'@');
    if (at <= 0 || at == normalised.size() - 1 || normalised.contains(u' ')
        || normalised.contains(u',') || normalised.contains(u'<')) {
        return Common::fail(QStringLiteral("suppression.bad_address"),
                            QStringLiteral("'%1' is not an email address (expected "
                                           "local-part@domain).")
                                    .arg(address));
    }
    return normalised;
}

Common::Result<bool> SuppressionRepository::add(const QString &address, const QString &reason,
                                                const QString &note, const QString &source)
{
    auto normalised = normalise(address);
    if (!normalised)
        return Common::fail(normalised.error());
    if (!reasons().contains(reason)) {
        return Common::fail(QStringLiteral("suppression.bad_reason"),
                            QStringLiteral("'%1' is not a suppression reason; use one of: %2.")
                                    .arg(reason, reasons().join(QStringLiteral(", "))));
    }
    auto result = m_connection
                          .exec(QStringLiteral(
                                        "INSERT INTO suppressions (address, reason, note, source) "
                                        "VALUES ($1, $2, $3, $4) ON CONFLICT (address) DO NOTHING"),
                                {*normalised, reason, note,
                                 source.isEmpty() ? QStringLiteral("manual") : source});
    if (!result)
        return Common::fail(result.error());
    return result->affectedRows() == 1;
}

Common::Result<bool> SuppressionRepository::remove(const QString &address)
{
    auto result = m_connection.exec(QStringLiteral("DELETE FROM suppressions WHERE address = $1"),
                                    {address.trimmed().toLower()});
    if (!result)
        return Common::fail(result.error());
    return result->affectedRows() > 0;
}

Common::Result<bool> SuppressionRepository::contains(const QString &address)
{
    auto result = m_connection.exec(
            QStringLiteral("SELECT EXISTS (SELECT 1 FROM suppressions WHERE address = $1)"),
            {address.trimmed().toLower()});
    if (!result)
        return Common::fail(result.error());
    return result->toBool(0, 0);
}

Common::Result<QList<Suppression>> SuppressionRepository::list(const QString &search, int limit)
{
    auto result = m_connection.exec(
            QStringLiteral("SELECT address, reason, source, note, created_at, created_by "
                           "FROM suppressions "
                           "WHERE $1::text IS NULL OR strpos(address, lower($1::text)) > 0 "
                           "ORDER BY address LIMIT $2::bigint"),
            {search.isEmpty() ? QVariant() : QVariant(search),
             limit < 0 ? QVariant() : QVariant(limit)});
    if (!result)
        return Common::fail(result.error());
    QList<Suppression> list;
    for (int row = 0; row < result->rowCount(); ++row) {
        list.append(Suppression{result->text(row, 0), result->text(row, 1), result->text(row, 2),
                                result->text(row, 3), result->toDateTime(row, 4),
                                result->text(row, 5)});
    }
    return list;
}

Common::Result<QByteArray> SuppressionRepository::exportCsv()
{
    auto entries = list();
    if (!entries)
        return Common::fail(entries.error());
    QString csv = QStringLiteral("address,reason,note,source,created_at\r\n");
    for (const Suppression &entry : std::as_const(*entries)) {
        csv += csvField(entry.address) + u',' + entry.reason + u',' + csvField(entry.note) + u','
                + csvField(entry.source) + u',' + entry.createdAt.toUTC().toString(Qt::ISODate)
                + QStringLiteral("\r\n");
    }
    return csv.toUtf8();
}

Common::Result<ImportResult> SuppressionRepository::importCsv(const QByteArray &csv)
{
    QString text = QString::fromUtf8(csv);
    if (text.startsWith(QChar(0xfeff)))
        text.remove(0, 1); // a byte order mark from spreadsheet programs
    const QList<QStringList> rows = parseCsv(text);
    qsizetype first = 0;
    while (first < rows.size() && rows.at(first).isEmpty())
        ++first;
    if (first == rows.size())
        return ImportResult{};

    // With a header, columns are found by name; without, the columns are address[,reason[,note]].
    int addressColumn = 0, reasonColumn = 1, noteColumn = 2, sourceColumn = -1;
    QStringList header;
    for (const QString &name : rows.at(first))
        header << name.trimmed().toLower();
    if (header.contains(QStringLiteral("address")) || header.contains(QStringLiteral("email"))) {
        addressColumn = int(header.indexOf(QStringLiteral("address")));
        if (addressColumn < 0)
            addressColumn = int(header.indexOf(QStringLiteral("email")));
        reasonColumn = int(header.indexOf(QStringLiteral("reason")));
        noteColumn = int(header.indexOf(QStringLiteral("note")));
        sourceColumn = int(header.indexOf(QStringLiteral("source")));
        ++first;
    }

    QList<std::optional<QString>> addresses, reasonValues, notes, sources;
    for (qsizetype i = first; i < rows.size(); ++i) {
        const QStringList &row = rows.at(i);
        if (row.isEmpty() || (row.size() == 1 && row.first().trimmed().isEmpty()))
            continue;
        const auto column = [&](int index) {
            return index >= 0 && index < row.size() ? row.at(index).trimmed() : QString();
        };
        const auto lineError = [&](const Common::Error &error) {
            return Common::fail(error.code,
                                QStringLiteral("Line %1: %2").arg(i + 1).arg(error.message),
                                error.detail);
        };
        auto address = normalise(column(addressColumn));
        if (!address)
            return lineError(address.error());
        QString reason = column(reasonColumn);
        if (reason.isEmpty())
            reason = QStringLiteral("manual");
        if (!reasons().contains(reason)) {
            return lineError(
                    Common::makeError(QStringLiteral("suppression.bad_reason"),
                                      QStringLiteral(
                                              "'%1' is not a suppression reason; use one of: %2.")
                                              .arg(reason, reasons().join(QStringLiteral(", ")))));
        }
        const QString source = column(sourceColumn);
        addresses << *address;
        reasonValues << reason;
        notes << column(noteColumn);
        sources << (source.isEmpty() ? QStringLiteral("import") : source);
    }
    if (addresses.isEmpty())
        return ImportResult{};
    auto result = m_connection.exec(
            QStringLiteral("INSERT INTO suppressions (address, reason, note, source) "
                           "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
                           "ON CONFLICT (address) DO NOTHING"),
            {Sql::textArray(addresses), Sql::textArray(reasonValues), Sql::textArray(notes),
             Sql::textArray(sources)});
    if (!result)
        return Common::fail(result.error());
    const qint64 added = result->affectedRows();
    return ImportResult{added, qint64(addresses.size()) - added};
}

} // namespace Queue
