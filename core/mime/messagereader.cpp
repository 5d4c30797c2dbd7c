#include "messagereader.h"

#include <QRegularExpression>
#include <QStringDecoder>

namespace Mime {

namespace {

struct Part
{
    QList<std::pair<QByteArray, QByteArray>> headers; // names lower-cased, unfolded
    QByteArray body;
    QByteArray header(const QByteArray &name) const
    {
        for (const auto &[key, value] : headers) {
            if (key == name)
                return value;
        }
        return {};
    }
};

Part split(const QByteArray &raw)
{
    Part part;
    QByteArray data = raw;
    data.replace("\r\n", "\n");
    qsizetype end = data.indexOf("\n\n");
    const QByteArray head = end < 0 ? data : data.left(end);
    part.body = end < 0 ? QByteArray() : data.mid(end + 2);
    QByteArray current;
    for (const QByteArray &line : head.split('\n')) {
        if (!line.isEmpty() && (line.at(0) == ' ' || line.at(0) == '\t')) {
            current += ' ' + line.trimmed(); // RFC 5322 section 2.2.3 unfolding
            continue;
        }
        if (!current.isEmpty()) {
            const qsizetype colon = current.indexOf(':');
            if (colon > 0)
                part.headers.append({current.left(colon).trimmed().toLower(),
                                     current.mid(colon + 1).trimmed()});
        }
        current = line;
    }
    if (!current.isEmpty()) {
        const qsizetype colon = current.indexOf(':');
        if (colon > 0)
            part.headers.append(
                    {current.left(colon).trimmed().toLower(), current.mid(colon + 1).trimmed()});
    }
    return part;
}

QByteArray parameter(const QByteArray &value, const QByteArray &name)
{
    const QRegularExpression re(QStringLiteral("(?:^|;)\\s*%1\\s*=\\s*(\"([^\"]*)\"|([^;\\s]*))")
                                        .arg(QString::fromLatin1(name)),
                                QRegularExpression::CaseInsensitiveOption);
    const auto match = re.match(QString::fromLatin1(value));
    if (!match.hasMatch())
        return {};
    return (match.capturedLength(2) ? match.captured(2) : match.captured(3)).toLatin1();
}

QByteArray decodeQuotedPrintable(const QByteArray &in)
{
    QByteArray out;
    out.reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in.at(i);
        if (c != '=') {
            out += c;
            continue;
        }
        if (i + 1 < in.size() && in.at(i + 1) == '\n') { // soft line break
            ++i;
            continue;
        }
        if (i + 2 < in.size()) {
            bool ok = false;
            const int byte = in.mid(i + 1, 2).toInt(&ok, 16);
            if (ok) {
                out += char(byte);
                i += 2;
                continue;
            }
        }
        out += c;
    }
    return out;
}

QString decodeBody(const Part &part)
{
    const QByteArray encoding = part.header("content-transfer-encoding").toLower();
    QByteArray bytes = part.body;
    if (encoding == "quoted-printable")
        bytes = decodeQuotedPrintable(bytes);
    else if (encoding == "base64")
        bytes = QByteArray::fromBase64(bytes);
    const QByteArray charset = parameter(part.header("content-type"), "charset").toLower();
    if (charset.isEmpty() || charset == "utf-8" || charset == "us-ascii")
        return QString::fromUtf8(bytes);
    QStringDecoder decoder(charset.constData());
    return decoder.isValid() ? QString(decoder.decode(bytes)) : QString::fromLatin1(bytes);
}

// RFC 2047 encoded-words in a header value.
QString decodeHeader(const QByteArray &value)
{
    static const QRegularExpression word(
            QStringLiteral("=\\?([^?]+)\\?([bBqQ])\\?([^?]*)\\?=(\\s+(?==\\?))?"));
    const QString text = QString::fromUtf8(value);
    QString out;
    qsizetype last = 0;
    auto it = word.globalMatch(text);
    while (it.hasNext()) {
        const auto m = it.next();
        out += text.mid(last, m.capturedStart() - last);
        QByteArray bytes = m.captured(3).toLatin1();
        if (m.captured(2).toLower() == u"b") {
            bytes = QByteArray::fromBase64(bytes);
        } else {
            bytes.replace('_', ' ');
            bytes = decodeQuotedPrintable(bytes);
        }
        QStringDecoder decoder(m.captured(1).toLatin1().constData());
        out += decoder.isValid() ? QString(decoder.decode(bytes)) : QString::fromLatin1(bytes);
        last = m.capturedEnd();
    }
    return out + text.mid(last);
}

void walk(const Part &part, MessageReader::Parsed *out, int depth)
{
    const QByteArray type = part.header("content-type");
    const QByteArray mime = type.left(type.indexOf(';')).trimmed().toLower();
    if (mime.startsWith("multipart/") && depth < 8) {
        const QByteArray boundary = "--" + parameter(type, "boundary");
        if (boundary.size() <= 2)
            return;
        QByteArray body = part.body;
        qsizetype pos = body.indexOf(boundary);
        while (pos >= 0) {
            qsizetype start = body.indexOf('\n', pos);
            if (start < 0 || body.mid(pos + boundary.size(), 2) == "--")
                break;
            const qsizetype next = body.indexOf(QByteArray("\n" + boundary), start);
            const QByteArray child = body.mid(start + 1, next < 0 ? -1 : next - start - 1);
            walk(split(child), out, depth + 1);
            pos = next < 0 ? -1 : next + 1;
        }
        return;
    }
    if ((mime.isEmpty() || mime == "text/plain") && out->text.isEmpty())
        out->text = decodeBody(part);
    else if (mime == "text/html" && out->html.isEmpty())
        out->html = decodeBody(part);
}

} // namespace

MessageReader::Parsed MessageReader::read(const QByteArray &message)
{
    const Part top = split(message);
    Parsed parsed;
    parsed.subject = decodeHeader(top.header("subject"));
    parsed.from = decodeHeader(top.header("from"));
    parsed.to = decodeHeader(top.header("to"));
    walk(top, &parsed, 0);
    return parsed;
}

} // namespace Mime
