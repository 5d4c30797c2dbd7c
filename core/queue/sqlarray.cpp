#include "sqlarray.h"

namespace Queue::Sql {

QString bigintArray(const QList<qint64> &values)
{
    QString literal = QStringLiteral("{");
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i)
            literal += u',';
        literal += QString::number(values.at(i));
    }
    return literal + u'}';
}

QString textArray(const QList<std::optional<QString>> &values)
{
    QString literal = QStringLiteral("{");
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i)
            literal += u',';
        if (!values.at(i)) {
            literal += QStringLiteral("NULL");
            continue;
        }
        literal += u'"';
        for (QChar c : *values.at(i)) {
            if (c == u'"' || c == u'\\')
                literal += u'\\';
            literal += c;
        }
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
