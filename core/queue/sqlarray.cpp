#include "sqlarray.h"

namespace Queue::Sql {

QString bigintArray(const QList<qint64> &values)
{
    QString literal;
    literal.reserve(2 + values.size() * 8);
    literal += u'{';
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i)
            literal += u',';
        literal += QString::number(values.at(i));
    }
    return literal + u'}';
}

QString textArray(const QList<std::optional<QString>> &values)
{
    // Sized once and copied a value at a time: a batch of composed messages is hundreds of
    // kilobytes, and growing the literal a character at a time took much of a worker's CPU time.
    qsizetype size = 2;
    for (const auto &value : values)
        size += (value ? value->size() + 3 : 5);
    QString literal;
    literal.reserve(size);
    literal += u'{';
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i)
            literal += u',';
        if (!values.at(i)) {
            literal += QStringLiteral("NULL");
            continue;
        }
        const QString &value = *values.at(i);
        literal += u'"';
        qsizetype from = 0;
        for (qsizetype at = 0; at < value.size(); ++at) {
            const QChar c = value.at(at);
            if (c != u'"' && c != u'\\')
                continue;
            literal += QStringView(value).mid(from, at - from);
            literal += u'\\';
            literal += c;
            from = at + 1;
        }
        literal += QStringView(value).mid(from);
        literal += u'"';
    }
    return literal + u'}';
}

void appendCopyField(QByteArray &line, const QString &value, bool isNull)
{
    if (isNull) {
        line += "\\N";
        return;
    }
    const QByteArray utf8 = value.toUtf8();
    line.reserve(line.size() + utf8.size());
    for (char c : utf8) {
        switch (c) {
        case '\\':
            line += "\\\\";
            break;
        case '\t':
            line += "\\t";
            break;
        case '\n':
            line += "\\n";
            break;
        case '\r':
            line += "\\r";
            break;
        default:
            line += c;
        }
    }
}

} // namespace Queue::Sql
