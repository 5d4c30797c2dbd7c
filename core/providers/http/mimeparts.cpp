#include "mimeparts.h"

#include "mime/address.h"

#include <QRegularExpression>
#include <QStringDecoder>

namespace Providers {

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

// Splits at the first empty line; headers unfolded (RFC 5322 section 2.2.3).
void splitEntity(QByteArrayView entity, Headers &headers, QByteArray &body)
{
    qsizetype pos = 0;
    while (pos < entity.size()) {
        qsizetype end = entity.indexOf("\n", pos);
        if (end < 0)
            end = entity.size();
        QByteArrayView line = entity.sliced(pos, end - pos);
        if (line.endsWith('\r'))
            line.chop(1);
        pos = end + 1;
        if (line.isEmpty()) {
            body = entity.sliced(std::min(pos, entity.size())).toByteArray();
            return;
        }
        if ((line.startsWith(' ') || line.startsWith('\t')) && !headers.isEmpty()) {
            headers.last().second += line.toByteArray();
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        headers.append({line.first(colon).trimmed().toByteArray(),
                        line.sliced(colon + 1).trimmed().toByteArray()});
    }
}

QByteArray findHeader(const Headers &headers, QByteArrayView name)
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

// The value before the first ';' lowercased, and a parameter's value (quotes removed; RFC 2231
// continuations are not needed for what we compose ourselves, but a plain RFC 2231 value is read).
QByteArray mainValue(const QByteArray &header)
{
    const qsizetype semi = header.indexOf(';');
    return (semi < 0 ? header : header.left(semi)).trimmed().toLower();
}

QString parameter(const QByteArray &header, QByteArrayView name)
{
    // Walks "type/sub; a=b; c=\"d;e\"" once, quotes respected (RFC 2045 section 5.1).
    qsizetype i = header.indexOf(';');
    while (i >= 0 && i < header.size()) {
        ++i;
        while (i < header.size() && (header[i] == ' ' || header[i] == '\t'))
            ++i;
        const qsizetype eq = header.indexOf('=', i);
        if (eq < 0)
            return {};
        const QByteArrayView key = QByteArrayView(header).sliced(i, eq - i).trimmed();
        qsizetype pos = eq + 1;
        QByteArray value;
        if (pos < header.size() && header[pos] == '"') {
            for (++pos; pos < header.size() && header[pos] != '"'; ++pos) {
                if (header[pos] == '\\' && pos + 1 < header.size())
                    ++pos;
                value += header[pos];
            }
            ++pos;
        } else {
            const qsizetype semi = header.indexOf(';', pos);
            value = header.mid(pos, semi < 0 ? -1 : semi - pos).trimmed();
            pos = semi < 0 ? header.size() : semi;
        }
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return decodeHeaderValue(value);
        // RFC 2231 extended value: charset'language'percent-encoded
        if (key.size() == name.size() + 1 && key.endsWith('*')
            && key.first(name.size()).compare(name, Qt::CaseInsensitive) == 0) {
            const qsizetype q = value.lastIndexOf('\'');
            return QString::fromUtf8(QByteArray::fromPercentEncoding(value.mid(q + 1)));
        }
        i = header.indexOf(';', pos);
    }
    return {};
}

QByteArray decodeQuotedPrintable(QByteArrayView data)
{
    QByteArray out;
    out.reserve(data.size());
    for (qsizetype i = 0; i < data.size(); ++i) {
        const char c = data[i];
        if (c != '=') {
            out += c;
            continue;
        }
        if (i + 1 < data.size() && (data[i + 1] == '\r' || data[i + 1] == '\n')) {
            i += (data[i + 1] == '\r' && i + 2 < data.size() && data[i + 2] == '\n') ? 2 : 1;
            continue; // soft line break
        }
        if (i + 2 < data.size()) {
            bool ok = false;
            const int value = data.sliced(i + 1, 2).toByteArray().toInt(&ok, 16);
            if (ok) {
                out += char(value);
                i += 2;
                continue;
            }
        }
        out += c;
    }
    return out;
}

QByteArray decodeBody(const QByteArray &body, const QByteArray &transferEncoding)
{
    const QByteArray cte = transferEncoding.trimmed().toLower();
    if (cte == "base64")
        return QByteArray::fromBase64(body);
    if (cte == "quoted-printable")
        return decodeQuotedPrintable(body);
    return body;
}

QString toText(const QByteArray &data, const QString &charset)
{
    if (charset.isEmpty() || charset.compare(u"utf-8", Qt::CaseInsensitive) == 0
        || charset.compare(u"us-ascii", Qt::CaseInsensitive) == 0)
        return QString::fromUtf8(data);
    QStringDecoder decoder(charset.toLatin1().constData());
    if (!decoder.isValid())
        return QString::fromUtf8(data);
    return decoder.decode(data);
}

QList<MimeMailbox> mailboxes(const QString &value)
{
    QList<MimeMailbox> result;
    if (value.trimmed().isEmpty())
        return result;
    const auto list = Mime::Address::parseList(value);
    if (!list)
        return result;
    for (const Mime::Address &a : *list)
        result.append({a.addrSpec(), a.displayName()});
    return result;
}

void walk(const Headers &headers, const QByteArray &body, MimeParts &out)
{
    QByteArray contentType = findHeader(headers, "Content-Type");
    if (contentType.isEmpty())
        contentType = "text/plain; charset=us-ascii";
    const QByteArray type = mainValue(contentType);
    if (type.startsWith("multipart/")) {
        const QByteArray boundary = "--" + parameter(contentType, "boundary").toUtf8();
        if (boundary.size() <= 2)
            return;
        qsizetype pos = body.indexOf(boundary);
        while (pos >= 0) {
            qsizetype start = pos + boundary.size();
            if (body.mid(start, 2) == "--")
                break;
            start = body.indexOf('\n', start);
            if (start < 0)
                break;
            ++start;
            qsizetype next = body.indexOf(QByteArray("\n" + boundary), start);
            if (next < 0)
                break;
            qsizetype end = next;
            if (end > start && body[end - 1] == '\r')
                --end;
            Headers partHeaders;
            QByteArray partBody;
            splitEntity(QByteArrayView(body).sliced(start, end - start), partHeaders, partBody);
            walk(partHeaders, partBody, out);
            pos = next + 1;
        }
        return;
    }
    const QByteArray disposition = findHeader(headers, "Content-Disposition");
    const QByteArray dispositionType = mainValue(disposition);
    QString filename = parameter(disposition, "filename");
    if (filename.isEmpty())
        filename = parameter(contentType, "name");
    const QByteArray data = decodeBody(body, findHeader(headers, "Content-Transfer-Encoding"));
    const bool isAttachment = dispositionType == "attachment" || !filename.isEmpty();
    if (!isAttachment && type == "text/plain" && out.text.isEmpty()) {
        out.text = toText(data, parameter(contentType, "charset"));
        return;
    }
    if (!isAttachment && type == "text/html" && out.html.isEmpty()) {
        out.html = toText(data, parameter(contentType, "charset"));
        return;
    }
    MimeAttachment attachment;
    attachment.filename = filename.isEmpty() ? QStringLiteral("attachment") : filename;
    attachment.contentType = QString::fromLatin1(type);
    QByteArray contentId = findHeader(headers, "Content-ID").trimmed();
    if (contentId.startsWith('<') && contentId.endsWith('>'))
        contentId = contentId.mid(1, contentId.size() - 2);
    attachment.isInline = dispositionType == "inline" && !contentId.isEmpty();
    attachment.contentId = attachment.isInline ? QString::fromUtf8(contentId) : QString();
    attachment.data = data;
    out.attachments.append(attachment);
}

} // namespace

QString decodeHeaderValue(QByteArrayView raw)
{
    if (!raw.contains("=?"))
        return QString::fromUtf8(raw);
    static const QRegularExpression word(
            QStringLiteral("=\\?([^?*]+)(?:\\*[^?]*)?\\?([bBqQ])\\?([^?]*)\\?="));
    const QString text = QString::fromUtf8(raw);
    QString out;
    qsizetype last = 0;
    bool previousWasWord = false;
    auto it = word.globalMatch(text);
    while (it.hasNext()) {
        const auto m = it.next();
        const QString between = text.mid(last, m.capturedStart() - last);
        // Whitespace between two encoded-words is not part of the text (RFC 2047 section 6.2).
        if (!(previousWasWord && between.trimmed().isEmpty()))
            out += between;
        QByteArray bytes = m.captured(3).toLatin1();
        if (m.captured(2).compare(u"b", Qt::CaseInsensitive) == 0) {
            bytes = QByteArray::fromBase64(bytes);
        } else {
            bytes.replace('_', ' ');
            bytes = decodeQuotedPrintable(bytes);
        }
        out += toText(bytes, m.captured(1));
        last = m.capturedEnd();
        previousWasWord = true;
    }
    out += text.mid(last);
    return out;
}

QByteArray MimeParts::rawHeader(QByteArrayView name) const
{
    return findHeader(headers, name);
}

QString MimeParts::header(QByteArrayView name) const
{
    return decodeHeaderValue(rawHeader(name));
}

QList<QPair<QString, QString>> MimeParts::extraHeaders() const
{
    static const QByteArrayView own[] = {
            "From",
            "To",
            "Cc",
            "Bcc",
            "Subject",
            "Reply-To",
            "Content-Type",
            "Content-Transfer-Encoding",
            "MIME-Version",
            "Date",
            "Message-ID",
            "DKIM-Signature",
            "Return-Path",
            "Sender",
            "X-Postdesk-Category",
    };
    QList<QPair<QString, QString>> result;
    for (const auto &[name, value] : headers) {
        bool skip = name.startsWith("X-Postdesk-Meta-");
        for (QByteArrayView o : own)
            skip = skip || name.compare(o, Qt::CaseInsensitive) == 0;
        if (!skip)
            result.append({QString::fromLatin1(name), decodeHeaderValue(value)});
    }
    return result;
}

QStringList MimeParts::categories() const
{
    QStringList result;
    for (const auto &[name, value] : headers) {
        if (name.compare("X-Postdesk-Category", Qt::CaseInsensitive) != 0)
            continue;
        for (const QString &c : decodeHeaderValue(value).split(u',', Qt::SkipEmptyParts))
            result << c.trimmed();
    }
    return result;
}

QList<QPair<QString, QString>> MimeParts::metadata() const
{
    QList<QPair<QString, QString>> result;
    const QByteArrayView prefix = "X-Postdesk-Meta-";
    for (const auto &[name, value] : headers) {
        if (name.size() > prefix.size()
            && name.first(prefix.size()).compare(prefix, Qt::CaseInsensitive) == 0)
            result.append({QString::fromLatin1(name.mid(prefix.size())), decodeHeaderValue(value)});
    }
    return result;
}

MimeParts MimeParts::parse(const QByteArray &message)
{
    MimeParts parts;
    QByteArray body;
    splitEntity(message, parts.headers, body);
    const auto first = [](const QList<MimeMailbox> &list) {
        return list.isEmpty() ? MimeMailbox{} : list.first();
    };
    parts.from = first(mailboxes(parts.header("From")));
    parts.to = mailboxes(parts.header("To"));
    parts.cc = mailboxes(parts.header("Cc"));
    parts.replyTo = mailboxes(parts.header("Reply-To"));
    parts.subject = parts.header("Subject");
    walk(parts.headers, body, parts);
    return parts;
}

} // namespace Providers
