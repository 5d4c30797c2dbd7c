#include "mime/message.h"

#include "mime/encoders.h"

#include <QRandomGenerator>
#include <QSet>

#include <cstdio>
#include <optional>

namespace Mime {

namespace {

const QString InvalidMessage = QStringLiteral("mime.message.invalid");

tl::unexpected<Common::Error> invalid(const QString &message)
{
    return Common::fail(InvalidMessage, message);
}

// Fields the composer writes itself; a caller's header of the same name would duplicate or
// contradict them (RFC 5322 section 3.6 allows most of them once only).
constexpr const char *OwnHeaders[] = {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-id",
        "content-disposition",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "dkim-signature",
};

// RFC 2045 section 5.1 token.
bool isToken(QStringView text)
{
    if (text.isEmpty())
        return false;
    for (const QChar ch : text) {
        const char16_t c = ch.unicode();
        if (c <= 32 || c >= 127 || QStringView(u"()<>@,;:\\\"/[]?=").contains(ch))
            return false;
    }
    return true;
}

bool isMimeType(QStringView text)
{
    const qsizetype slash = text.indexOf(u'/');
    return slash > 0 && isToken(text.left(slash)) && isToken(text.mid(slash + 1));
}

// RFC 5322 section 3.2.3 dot-atom-text.
bool isDotAtomText(QStringView text)
{
    if (text.isEmpty() || text.startsWith(u'.') || text.endsWith(u'.') || text.contains(u".."))
        return false;
    for (const QChar ch : text) {
        const char16_t c = ch.unicode();
        const bool alnum = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z')
                || (c >= u'0' && c <= u'9');
        if (!alnum && !QStringView(u".!#$%&'*+-/=?^_`{|}~").contains(ch))
            return false;
    }
    return true;
}

// The msg-id of RFC 5322 section 3.6.4 (and the Content-ID of RFC 2045 section 7), without
// angle brackets: dot-atom-text "@" dot-atom-text.
bool isMessageId(QStringView id)
{
    const qsizetype at = id.lastIndexOf(u'@');
    return at > 0 && isDotAtomText(id.left(at)) && isDotAtomText(id.mid(at + 1));
}

// A Content-ID as HTML refers to it (cid:...): msg-id syntax is what RFC 2392 asks for, but
// mail clients accept any printable characters, so only what cannot be written is refused.
bool isContentId(QStringView id)
{
    if (id.isEmpty())
        return false;
    for (const QChar ch : id) {
        const char16_t c = ch.unicode();
        if (c <= 32 || c >= 127 || c == u'<' || c == u'>' || c == u'"' || c == u'\\')
            return false;
    }
    return true;
}

// A leaf or a multipart entity of the body tree: its Content-* header lines, then either its
// encoded body or its children between boundaries.
struct Part
{
    QByteArray headers;
    QByteArray body;
    QByteArray boundary;
    QList<Part> children;
};

qsizetype sizeOf(const Part &part)
{
    qsizetype size = part.headers.size() + part.body.size() + 2;
    for (const Part &child : part.children)
        size += sizeOf(child) + part.boundary.size() + 6;
    return size + part.boundary.size() + 6;
}

void writeBody(QByteArray &out, const Part &part)
{
    if (part.boundary.isEmpty()) {
        out.append(part.body);
        return;
    }
    // RFC 2046 section 5.1.1: the CRLF ending each part belongs to the delimiter that follows.
    for (const Part &child : part.children) {
        out.append("--", 2);
        out.append(part.boundary);
        out.append("\r\n", 2);
        out.append(child.headers);
        out.append("\r\n", 2);
        writeBody(out, child);
    }
    out.append("--", 2);
    out.append(part.boundary);
    out.append("--\r\n", 4);
}

void appendHeader(QByteArray &out, QByteArrayView name, QByteArrayView value, bool structured,
                  bool *fits)
{
    QByteArray line;
    line.reserve(name.size() + value.size() + 2);
    line.append(name.data(), name.size());
    line.append(": ", 2);
    line.append(value.data(), value.size());
    if (!Encoders::appendFolded(out, line, structured))
        *fits = false;
}

Part textPart(QByteArrayView subtype, const QString &text)
{
    Part part;
    part.headers.reserve(96);
    part.headers.append("Content-Type: text/");
    part.headers.append(subtype.data(), subtype.size());
    part.headers.append("; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n");
    part.body = Encoders::quotedPrintable(text.toUtf8());
    if (part.body.isEmpty())
        part.body = QByteArrayLiteral("\r\n");
    return part;
}

bool isForwardedMessage(const Attachment &file)
{
    return file.mimeType.compare(u"message/rfc822", Qt::CaseInsensitive) == 0;
}

// A forwarded message as the body of a message/rfc822 part, which may not be base64- or
// quoted-printable-encoded (RFC 2046 section 5.2.1): its lines with CRLF ends. Empty when a line is
// longer than 998 octets or holds a NUL, which 7bit and 8bit data may not (RFC 2045 section 2.7).
std::optional<QByteArray> forwardedMessageBody(QByteArrayView data)
{
    QByteArray out;
    out.reserve(data.size() + data.size() / 32 + 2);
    qsizetype lineLength = 0;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const char c = data.at(i);
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < data.size() && data.at(i + 1) == '\n')
                ++i;
            out.append("\r\n", 2);
            lineLength = 0;
            continue;
        }
        if (c == '\0' || ++lineLength > Encoders::MaxLineLength)
            return std::nullopt;
        out.append(c);
    }
    if (!out.endsWith("\r\n"))
        out.append("\r\n", 2);
    return out;
}

Part filePart(const Attachment &file)
{
    Part part;
    bool fits = true;
    QByteArray type = file.mimeType.toLatin1().toLower();
    if (!file.charset.isEmpty())
        type += "; charset=" + file.charset.toLatin1();
    if (!file.fileName.isEmpty())
        type += "; " + Encoders::parameter("name", file.fileName);
    appendHeader(part.headers, "Content-Type", type, true, &fits);
    QByteArray disposition = file.isInline() ? QByteArrayLiteral("inline")
                                             : QByteArrayLiteral("attachment");
    if (!file.fileName.isEmpty())
        disposition += "; " + Encoders::parameter("filename", file.fileName);
    appendHeader(part.headers, "Content-Disposition", disposition, true, &fits);
    if (file.isInline())
        appendHeader(part.headers, "Content-ID", QByteArray('<' + file.contentId.toLatin1() + '>'),
                     true, &fits);
    if (isForwardedMessage(file)) {
        // Checked by compose() before.
        part.body = forwardedMessageBody(file.data).value_or(QByteArray());
        part.headers.append(Encoders::isAscii(part.body) ? "Content-Transfer-Encoding: 7bit\r\n"
                                                         : "Content-Transfer-Encoding: 8bit\r\n");
        return part;
    }
    part.headers.append("Content-Transfer-Encoding: base64\r\n");
    part.body = Encoders::base64Lines(file.data);
    if (part.body.isEmpty())
        part.body = QByteArrayLiteral("\r\n");
    return part;
}

Part multipart(QByteArrayView subtype, const QByteArray &boundary, QList<Part> children,
               QByteArrayView extraParameter = {})
{
    Part part;
    part.boundary = boundary;
    QByteArray type = "multipart/" + QByteArray(subtype.data(), subtype.size());
    if (!extraParameter.isEmpty())
        type += "; " + QByteArray(extraParameter.data(), extraParameter.size());
    type += "; boundary=\"" + boundary + '"';
    bool fits = true;
    appendHeader(part.headers, "Content-Type", type, true, &fits);
    part.children = std::move(children);
    return part;
}

QByteArray addressList(const QList<Address> &addresses)
{
    QByteArray value;
    for (const Address &address : addresses) {
        if (!value.isEmpty())
            value.append(", ", 2);
        value.append(address.toHeader());
    }
    return value;
}

// <time.random@domain>: the time in milliseconds (base 36) and 128 random bits from the system's
// generator (base 32, RFC 4648 alphabet in lower case), unique without any coordination.
QByteArray newMessageId(const QByteArray &domain)
{
    quint32 random[4];
    QRandomGenerator::system()->fillRange(random);
    static constexpr char Alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    QByteArray id = QByteArray::number(QDateTime::currentMSecsSinceEpoch(), 36);
    id.reserve(id.size() + 28 + domain.size());
    id.append('.');
    const auto *bytes = reinterpret_cast<const uchar *>(random);
    quint32 buffer = 0;
    int bits = 0;
    for (size_t i = 0; i < sizeof random; ++i) {
        buffer = (buffer << 8) | bytes[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            id.append(Alphabet[(buffer >> bits) & 31]);
        }
    }
    if (bits > 0)
        id.append(Alphabet[(buffer << (5 - bits)) & 31]);
    id.append('@');
    id.append(domain);
    return id;
}

} // namespace

Message &Message::setFrom(const Address &from)
{
    m_from = from;
    return *this;
}

Message &Message::addTo(const Address &to)
{
    m_to.append(to);
    return *this;
}

Message &Message::addCc(const Address &cc)
{
    m_cc.append(cc);
    return *this;
}

Message &Message::addBcc(const Address &bcc)
{
    m_bcc.append(bcc);
    return *this;
}

Message &Message::addReplyTo(const Address &replyTo)
{
    m_replyTo.append(replyTo);
    return *this;
}

Message &Message::setEnvelopeFrom(const Address &envelopeFrom)
{
    m_envelopeFrom = envelopeFrom;
    return *this;
}

Message &Message::setSubject(const QString &subject)
{
    m_subject = subject;
    return *this;
}

Message &Message::setText(const QString &text)
{
    m_text = text;
    return *this;
}

Message &Message::setHtml(const QString &html)
{
    m_html = html;
    return *this;
}

Message &Message::addAttachment(const Attachment &attachment)
{
    m_attachments.append(attachment);
    return *this;
}

Message &Message::addInline(const QString &contentId, const QString &mimeType,
                            const QByteArray &data, const QString &fileName)
{
    Attachment part;
    part.contentId = contentId;
    part.mimeType = mimeType;
    part.data = data;
    part.fileName = fileName;
    m_attachments.append(part);
    return *this;
}

Message &Message::addHeader(const QString &name, const QString &value)
{
    m_headers.append({name, value});
    return *this;
}

Message &Message::setListUnsubscribe(const QUrl &mailto, const QUrl &https)
{
    m_unsubscribeMailto = mailto;
    m_unsubscribeUrl = https;
    return *this;
}

QByteArray Message::formatDate(const QDateTime &dateTime)
{
    static constexpr const char *Days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static constexpr const char *Months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const QDate date = dateTime.date();
    const QTime time = dateTime.time();
    const int offset = dateTime.offsetFromUtc() / 60;
    const int absOffset = offset < 0 ? -offset : offset;
    char buffer[64];
    const int length = std::snprintf(buffer, sizeof buffer,
                                     "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d",
                                     Days[(date.dayOfWeek() + 6) % 7], date.day(),
                                     Months[date.month() - 1], date.year(), time.hour(),
                                     time.minute(), time.second(), offset < 0 ? '-' : '+',
                                     absOffset / 60, absOffset % 60);
    return QByteArray(buffer, length);
}

Common::Result<ComposedMessage> Message::compose(const ComposeOptions &options) const
{
    // --- Check everything first, naming what to fix.
    if (m_from.isNull())
        return invalid(QStringLiteral("The message has no From address: set one."));
    if (m_to.isEmpty() && m_cc.isEmpty() && m_bcc.isEmpty())
        return invalid(QStringLiteral("The message has no recipients: add a To, Cc or Bcc "
                                      "address."));
    for (const QList<Address> *list : {&m_to, &m_cc, &m_bcc, &m_replyTo}) {
        for (const Address &address : *list) {
            if (address.isNull())
                return invalid(QStringLiteral("A recipient or Reply-To address is empty."));
        }
    }
    if (Encoders::hasLineBreak(m_subject))
        return invalid(QStringLiteral("The subject contains a line break (CR or LF); a subject "
                                      "is one line."));
    if (m_text.isNull() && m_html.isNull() && m_attachments.isEmpty())
        return invalid(QStringLiteral("The message has no content: set a text or HTML body or "
                                      "add an attachment."));

    QSet<QString> contentIds;
    bool hasInline = false;
    bool bodyHas8bit = false;
    for (const Attachment &file : m_attachments) {
        const QString what = file.fileName.isEmpty()
                ? (file.isInline() ? QStringLiteral("The inline part <%1>").arg(file.contentId)
                                   : QStringLiteral("An attachment without a file name"))
                : QStringLiteral("The attachment \"%1\"").arg(file.fileName);
        if (Encoders::hasLineBreak(file.fileName) || Encoders::hasLineBreak(file.contentId)
            || Encoders::hasLineBreak(file.mimeType) || Encoders::hasLineBreak(file.charset))
            return invalid(what.simplified()
                           + QStringLiteral(" has a line break (CR or LF) in its file name, "
                                            "content type, charset or Content-ID."));
        if (!isMimeType(file.mimeType))
            return invalid(what
                           + QStringLiteral(" has the content type \"%1\"; give it as "
                                            "type/subtype, e.g. application/pdf.")
                                     .arg(file.mimeType));
        if (isForwardedMessage(file)) {
            const std::optional<QByteArray> body = forwardedMessageBody(file.data);
            if (!body)
                return invalid(what
                               + QStringLiteral(" is a message/rfc822 with a line longer than 998 "
                                                "octets or a NUL, which may not be encoded (RFC "
                                                "2046 section 5.2.1); attach it as "
                                                "application/octet-stream."));
            bodyHas8bit = bodyHas8bit || !Encoders::isAscii(*body);
        } else if (file.mimeType.startsWith(u"multipart/", Qt::CaseInsensitive)
                   || file.mimeType.startsWith(u"message/", Qt::CaseInsensitive)) {
            return invalid(what
                           + QStringLiteral(" has the content type \"%1\", which cannot be sent "
                                            "base64-encoded (RFC 2046 section 5); attach it as "
                                            "application/octet-stream.")
                                     .arg(file.mimeType));
        }
        if (!file.charset.isEmpty() && !isToken(file.charset))
            return invalid(what
                           + QStringLiteral(" has the charset \"%1\", which is not a charset "
                                            "name.")
                                     .arg(file.charset));
        if (file.isInline()) {
            hasInline = true;
            if (!isContentId(file.contentId))
                return invalid(what
                               + QStringLiteral(" has a Content-ID with spaces, quotes, angle "
                                                "brackets or non-ASCII characters; use e.g. "
                                                "logo@example.org."));
            if (contentIds.contains(file.contentId))
                return invalid(QStringLiteral("Two inline parts have the Content-ID <%1>; each "
                                              "needs its own.")
                                       .arg(file.contentId));
            contentIds.insert(file.contentId);
        }
    }
    if (hasInline && m_html.isNull())
        return invalid(QStringLiteral("The message has inline parts (Content-ID) but no HTML "
                                      "body to show them: set an HTML body or attach them "
                                      "without a Content-ID."));

    for (const auto &[name, value] : m_headers) {
        if (name.isEmpty())
            return invalid(QStringLiteral("A header has an empty name."));
        for (const QChar ch : name) {
            if (ch.unicode() <= 32 || ch.unicode() >= 127 || ch == u':')
                return invalid(QStringLiteral("The header name \"%1\" may only hold printable "
                                              "ASCII characters other than a colon and space "
                                              "(RFC 5322 section 2.2).")
                                       .arg(name.simplified()));
        }
        for (const char *own : OwnHeaders) {
            if (name.compare(QLatin1StringView(own), Qt::CaseInsensitive) == 0)
                return invalid(QStringLiteral("The header \"%1\" is written by the message "
                                              "itself; set it through the message, not as an "
                                              "extra header.")
                                       .arg(name));
        }
        if (Encoders::hasLineBreak(value))
            return invalid(QStringLiteral("The value of the header \"%1\" contains a line break "
                                          "(CR or LF); a header value is one line.")
                                   .arg(name));
    }

    QByteArray unsubscribe;
    if (!m_unsubscribeMailto.isEmpty()) {
        const QByteArray url = m_unsubscribeMailto.toEncoded();
        if (!m_unsubscribeMailto.isValid() || m_unsubscribeMailto.scheme() != u"mailto"
            || m_unsubscribeMailto.path().isEmpty() || !Encoders::isAscii(url) || url.contains('>')
            || url.contains(' ') || url.contains('\r') || url.contains('\n'))
            return invalid(QStringLiteral("The unsubscribe address \"%1\" is not a mailto: URL, "
                                          "e.g. mailto:unsubscribe@example.org.")
                                   .arg(m_unsubscribeMailto.toString()));
        unsubscribe += '<' + url + '>';
    }
    if (!m_unsubscribeUrl.isEmpty()) {
        const QByteArray url = m_unsubscribeUrl.toEncoded();
        // RFC 8058 section 3.1: the one-click URI must be HTTPS.
        if (!m_unsubscribeUrl.isValid() || m_unsubscribeUrl.scheme() != u"https"
            || m_unsubscribeUrl.host().isEmpty() || !Encoders::isAscii(url) || url.contains('>')
            || url.contains(' ') || url.contains('\r') || url.contains('\n'))
            return invalid(QStringLiteral("The unsubscribe URL \"%1\" is not an https:// URL; "
                                          "one-click unsubscribe (RFC 8058) needs one.")
                                   .arg(m_unsubscribeUrl.toString()));
        if (!unsubscribe.isEmpty())
            unsubscribe += ", ";
        unsubscribe += '<' + url + '>';
    }

    QByteArray messageId;
    if (!options.messageId.isEmpty()) {
        QString id = options.messageId.trimmed();
        if (id.startsWith(u'<') && id.endsWith(u'>'))
            id = id.mid(1, id.size() - 2);
        if (!isMessageId(id) || id.size() > 900)
            return invalid(QStringLiteral("The Message-ID \"%1\" is not of the form "
                                          "unique-part@domain (RFC 5322 section 3.6.4) or is "
                                          "too long.")
                                   .arg(options.messageId.simplified().left(200)));
        messageId = id.toLatin1();
    } else {
        QByteArray domain = m_from.asciiDomain();
        if (!options.messageIdDomain.isEmpty()) {
            auto ascii = Address::asciiDomainName(options.messageIdDomain);
            if (!ascii)
                return invalid(QStringLiteral("The Message-ID domain is not valid: %1")
                                       .arg(ascii.error().message));
            domain = *ascii;
        }
        messageId = newMessageId(domain);
    }

    // --- The body tree.
    const quint64 boundarySeed = QRandomGenerator::global()->generate64();
    int boundaryIndex = 0;
    const auto nextBoundary = [&]() -> QByteArray {
        return "=_pd_" + QByteArray::number(boundarySeed, 36) + '_'
                + QByteArray::number(++boundaryIndex);
    };

    std::optional<Part> body;
    std::optional<Part> htmlBody;
    if (!m_html.isNull()) {
        htmlBody = textPart("html", m_html);
        if (hasInline) {
            QList<Part> related{*htmlBody};
            for (const Attachment &file : m_attachments) {
                if (file.isInline())
                    related.append(filePart(file));
            }
            // RFC 2387 section 3.1: the type parameter names the root part's type.
            htmlBody = multipart("related", nextBoundary(), std::move(related),
                                 "type=\"text/html\"");
        }
    }
    if (!m_text.isNull() && htmlBody)
        body = multipart("alternative", nextBoundary(), {textPart("plain", m_text), *htmlBody});
    else if (!m_text.isNull())
        body = textPart("plain", m_text);
    else
        body = std::move(htmlBody);

    QList<Part> files;
    for (const Attachment &file : m_attachments) {
        if (!file.isInline())
            files.append(filePart(file));
    }
    if (!files.isEmpty()) {
        if (body)
            files.prepend(std::move(*body));
        body = multipart("mixed", nextBoundary(), std::move(files));
    }

    // --- The header block (RFC 5322 section 3.6 order, as most mail software writes it).
    QByteArray out;
    out.reserve(sizeOf(*body) + 2048);
    bool fits = true;
    QDateTime date = options.date.isValid() ? options.date : QDateTime::currentDateTime();
    if (options.utcDate)
        date = date.toUTC();
    appendHeader(out, "Date", formatDate(date), true, &fits);
    appendHeader(out, "From", m_from.toHeader(), true, &fits);
    if (!m_replyTo.isEmpty())
        appendHeader(out, "Reply-To", addressList(m_replyTo), true, &fits);
    if (!m_to.isEmpty())
        appendHeader(out, "To", addressList(m_to), true, &fits);
    else if (m_cc.isEmpty())
        appendHeader(out, "To", "undisclosed-recipients:;", true, &fits);
    if (!m_cc.isEmpty())
        appendHeader(out, "Cc", addressList(m_cc), true, &fits);
    if (!m_subject.isEmpty())
        appendHeader(out, "Subject", Encoders::unstructuredValue(m_subject, 7), false, &fits);
    // One token: folding could only put it on a line of its own.
    out.append("Message-ID: <");
    out.append(messageId);
    out.append(">\r\n");
    out.append("MIME-Version: 1.0\r\n");
    if (!unsubscribe.isEmpty()) {
        appendHeader(out, "List-Unsubscribe", unsubscribe, true, &fits);
        if (!m_unsubscribeUrl.isEmpty())
            out.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    }
    for (const auto &[name, value] : m_headers) {
        const QByteArray latinName = name.toLatin1();
        appendHeader(out, latinName, Encoders::unstructuredValue(value, latinName.size()), false,
                     &fits);
    }
    if (!fits)
        return invalid(QStringLiteral("A header line would be longer than 998 octets (RFC 5322 "
                                      "section 2.1.1); shorten the longest header value."));
    out.append(body->headers);
    out.append("\r\n", 2);
    writeBody(out, *body);

    // --- The envelope.
    ComposedMessage composed;
    const Address &sender = m_envelopeFrom.isNull() ? m_from : m_envelopeFrom;
    composed.envelopeFrom = QString::fromUtf8(sender.envelopeAddress());
    composed.needsSmtpUtf8 = sender.needsSmtpUtf8() || m_from.needsSmtpUtf8();
    QSet<QString> seen;
    for (const QList<Address> *list : {&m_to, &m_cc, &m_bcc}) {
        for (const Address &address : *list) {
            const QString recipient = QString::fromUtf8(address.envelopeAddress());
            // Domains are case-insensitive; local parts, strictly, are not (RFC 5321 2.4).
            const QString key = address.localPart() + u'@'
                    + QString::fromLatin1(address.asciiDomain()).toLower();
            if (seen.contains(key))
                continue;
            seen.insert(key);
            composed.recipients.append(recipient);
            composed.needsSmtpUtf8 = composed.needsSmtpUtf8 || address.needsSmtpUtf8();
        }
    }
    for (const Address &address : m_replyTo)
        composed.needsSmtpUtf8 = composed.needsSmtpUtf8 || address.needsSmtpUtf8();
    composed.messageId = QString::fromLatin1(messageId);
    composed.has8bit = bodyHas8bit
            || !Encoders::isAscii(QByteArrayView(out).first(out.indexOf("\r\n\r\n")));
    composed.data = std::move(out);
    return composed;
}

} // namespace Mime
