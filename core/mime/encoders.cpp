#include "mime/encoders.h"

#include <cstring>

namespace Mime::Encoders {

namespace {

constexpr char HexDigits[] = "0123456789ABCDEF";
constexpr char Base64Alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// "=?utf-8?q?" + "?=": the fixed part of an encoded-word.
constexpr qsizetype EncodedWordOverhead = 12;
constexpr qsizetype MaxEncodedWord = 75;
// Room for the first encoded-word of a display name: it may follow "Reply-To: " on one line.
constexpr qsizetype PhraseFirstWordRoom = FoldColumn - 10;

inline bool isWsp(char c)
{
    return c == ' ' || c == '\t';
}

// atext of RFC 5322 section 3.2.3.
inline bool isAtext(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr && c != '\0';
}

// Characters a Q-encoded word may carry literally anywhere, phrases included (RFC 2047 section 5
// rule 3): letters, digits and "!*+-/".
inline bool isQLiteral(uchar c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!'
            || c == '*' || c == '+' || c == '-' || c == '/';
}

// attr-char of RFC 5987 (the RFC 2231 attribute-char, less the characters some parsers mishandle).
inline bool isAttrChar(uchar c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '&':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

// The length of the UTF-8 sequence starting with lead, bounded by what is left.
inline qsizetype utf8SequenceLength(uchar lead, qsizetype left)
{
    qsizetype len = 1;
    if (lead >= 0xF0)
        len = 4;
    else if (lead >= 0xE0)
        len = 3;
    else if (lead >= 0xC0)
        len = 2;
    return len < left ? len : left;
}

inline void appendHex(QByteArray &out, uchar c)
{
    const char encoded[3] = {'=', HexDigits[c >> 4], HexDigits[c & 0xF]};
    out.append(encoded, 3);
}

void appendBase64(QByteArray &out, const uchar *data, qsizetype size)
{
    const qsizetype start = out.size();
    out.resize(start + (size + 2) / 3 * 4);
    char *dst = out.data() + start;
    qsizetype i = 0;
    for (; i + 2 < size; i += 3) {
        const uint v = (uint(data[i]) << 16) | (uint(data[i + 1]) << 8) | data[i + 2];
        *dst++ = Base64Alphabet[(v >> 18) & 63];
        *dst++ = Base64Alphabet[(v >> 12) & 63];
        *dst++ = Base64Alphabet[(v >> 6) & 63];
        *dst++ = Base64Alphabet[v & 63];
    }
    if (i < size) {
        uint v = uint(data[i]) << 16;
        if (i + 1 < size)
            v |= uint(data[i + 1]) << 8;
        *dst++ = Base64Alphabet[(v >> 18) & 63];
        *dst++ = Base64Alphabet[(v >> 12) & 63];
        *dst++ = i + 1 < size ? Base64Alphabet[(v >> 6) & 63] : '=';
        *dst++ = '=';
    }
}

inline qsizetype qCost(uchar c)
{
    return isQLiteral(c) || c == ' ' ? 1 : 3;
}

} // namespace

bool isAscii(QByteArrayView data)
{
    for (const char c : data) {
        if (uchar(c) >= 0x80)
            return false;
    }
    return true;
}

bool isAscii(QStringView text)
{
    for (const QChar c : text) {
        if (c.unicode() >= 0x80)
            return false;
    }
    return true;
}

bool hasLineBreak(QStringView text)
{
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u == u'\r' || u == u'\n' || u == 0)
            return true;
    }
    return false;
}

QByteArray quotedPrintable(QByteArrayView text)
{
    const auto *p = reinterpret_cast<const uchar *>(text.data());
    const qsizetype n = text.size();
    // Written through a pointer into room for the worst case, then cut to size: appending octet
    // by octet cost a third of the composition of a typical message. An octet takes at most 3
    // (encoded), a soft break at most 3 per 25 octets, a line break 2 per octet, the end 2 more.
    QByteArray out(n * 4 + 16, Qt::Uninitialized);
    char *const begin = out.data();
    char *dst = begin;
    // Characters on the current output line; a soft break "=" must still fit within 76.
    qsizetype column = 0;
    constexpr qsizetype MaxContent = 75;
    for (qsizetype i = 0; i < n; ++i) {
        const uchar c = p[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < n && p[i + 1] == '\n')
                ++i;
            *dst++ = '\r';
            *dst++ = '\n';
            column = 0;
            continue;
        }
        bool encode;
        if (c == ' ' || c == '\t') {
            // Whitespace at the end of a line would be lost in transport (section 6.7 rule 3).
            encode = i + 1 == n || p[i + 1] == '\r' || p[i + 1] == '\n';
        } else {
            encode = c < 33 || c > 126 || c == '=';
        }
        qsizetype width = encode ? 3 : 1;
        if (column + width > MaxContent) {
            *dst++ = '=';
            *dst++ = '\r';
            *dst++ = '\n';
            column = 0;
        }
        if (column == 0 && c == 'F' && n - i >= 5 && std::memcmp(p + i, "From ", 5) == 0) {
            encode = true;
            width = 3;
        }
        if (encode) {
            *dst++ = '=';
            *dst++ = HexDigits[c >> 4];
            *dst++ = HexDigits[c & 0xF];
        } else {
            *dst++ = char(c);
        }
        column += width;
    }
    if (dst != begin && !(dst - begin >= 2 && dst[-2] == '\r' && dst[-1] == '\n')) {
        *dst++ = '\r';
        *dst++ = '\n';
    }
    out.truncate(dst - begin);
    return out;
}

QByteArray base64Lines(QByteArrayView data)
{
    constexpr qsizetype LineChars = 76;
    constexpr qsizetype LineBytes = LineChars / 4 * 3;
    QByteArray out;
    const qsizetype encodedSize = (data.size() + 2) / 3 * 4;
    out.reserve(encodedSize + (encodedSize / LineChars + 1) * 2);
    const auto *p = reinterpret_cast<const uchar *>(data.data());
    for (qsizetype i = 0; i < data.size(); i += LineBytes) {
        const qsizetype chunk = qMin(LineBytes, data.size() - i);
        appendBase64(out, p + i, chunk);
        out.append("\r\n", 2);
    }
    return out;
}

QByteArray encodedWords(QStringView text, qsizetype firstWordRoom, WordEncoding encoding)
{
    const QByteArray utf8 = text.toUtf8();
    const auto *p = reinterpret_cast<const uchar *>(utf8.constData());
    const qsizetype n = utf8.size();
    if (n == 0)
        return {};

    if (encoding == WordEncoding::Auto) {
        // Q keeps mostly-ASCII text readable, so it wins unless B is clearly shorter.
        qsizetype qLength = 0;
        for (qsizetype i = 0; i < n; ++i)
            qLength += qCost(p[i]);
        const qsizetype bLength = (n + 2) / 3 * 4;
        encoding = qLength * 4 <= bLength * 5 ? WordEncoding::QuotedPrintable
                                              : WordEncoding::Base64;
    }
    const bool useQ = encoding == WordEncoding::QuotedPrintable;

    QByteArray out;
    out.reserve(n * 2 + 32);
    qsizetype room = qMin(firstWordRoom, MaxEncodedWord);
    qsizetype i = 0;
    while (i < n) {
        const qsizetype payloadRoom = room - EncodedWordOverhead;
        // Take whole characters while the encoded word still fits.
        qsizetype end = i;
        qsizetype cost = 0;
        qsizetype lastSpace = -1;
        while (end < n) {
            if (p[end] == ' ')
                lastSpace = end;
            const qsizetype len = utf8SequenceLength(p[end], n - end);
            qsizetype next;
            if (useQ) {
                next = cost;
                for (qsizetype k = 0; k < len; ++k)
                    next += qCost(p[end + k]);
            } else {
                next = (end + len - i + 2) / 3 * 4;
            }
            if (next > payloadRoom && end > i)
                break;
            cost = next;
            end += len;
            if (next > payloadRoom)
                break; // a single character wider than the room still goes in
        }
        // Prefer to end a full word before a space, so a word of the text is not cut in two.
        if (end < n && lastSpace > i && lastSpace < end)
            end = lastSpace;
        if (!out.isEmpty())
            out.append(' ');
        out.append(useQ ? "=?utf-8?q?" : "=?utf-8?b?", 10);
        if (useQ) {
            for (qsizetype k = i; k < end; ++k) {
                const uchar c = p[k];
                if (c == ' ')
                    out.append('_');
                else if (isQLiteral(c))
                    out.append(char(c));
                else
                    appendHex(out, c);
            }
        } else {
            appendBase64(out, p + i, end - i);
        }
        out.append("?=", 2);
        i = end;
        room = MaxEncodedWord;
    }
    return out;
}

QByteArray unstructuredValue(QStringView value, qsizetype nameLength)
{
    bool plain = isAscii(value) && !value.contains(u"=?");
    if (plain) {
        // Every word must fit on a line of its own once folded.
        qsizetype word = nameLength + 2;
        for (const QChar ch : value) {
            const char16_t c = ch.unicode();
            if (c == u' ' || c == u'\t') {
                word = 1;
            } else if (c < 0x20 || c == 0x7F || ++word > MaxLineLength) {
                plain = false;
                break;
            }
        }
    }
    if (plain)
        return value.toLatin1();
    return encodedWords(value, FoldColumn - nameLength - 2);
}

QByteArray phrase(QStringView displayName)
{
    if (displayName.isEmpty())
        return {};
    bool printable = true;
    bool atoms = true;
    QChar previous = u' ';
    for (const QChar ch : displayName) {
        const char16_t c = ch.unicode();
        if (c >= 0x7F || (c < 0x20 && c != u'\t')) {
            printable = false;
            break;
        }
        if (c == u' ') {
            if (previous == u' ')
                atoms = false;
        } else if (!isAtext(char(c))) {
            atoms = false;
        }
        previous = ch;
    }
    if (previous == u' ')
        atoms = false;
    // Encoded-words are only recognised as whole atoms (RFC 2047 section 5), so an ASCII name that
    // looks like one is quoted to keep it literal.
    if (atoms && displayName.contains(u"=?"))
        atoms = false;
    if (printable && displayName.size() < 512) {
        if (atoms)
            return displayName.toLatin1();
        QByteArray quoted;
        quoted.reserve(displayName.size() + 8);
        quoted.append('"');
        for (const QChar ch : displayName) {
            if (ch == u'"' || ch == u'\\')
                quoted.append('\\');
            quoted.append(char(ch.unicode()));
        }
        quoted.append('"');
        return quoted;
    }

    // Words that are plain atoms stay readable; each run of other words becomes encoded-words,
    // the spaces inside the run encoded with it. Whitespace between an encoded-word and an atom
    // is kept by every decoder, whereas whitespace between two encoded-words is dropped (RFC 2047
    // section 6.2), which some decoders get wrong: runs keep that boundary rare.
    const auto isPlainWord = [](QStringView word) {
        for (const QChar ch : word) {
            if (ch.unicode() >= 0x7F || !isAtext(char(ch.unicode())))
                return false;
        }
        return !word.contains(u"=?");
    };
    QByteArray out;
    out.reserve(displayName.size() * 3);
    qsizetype runStart = -1;
    qsizetype runEnd = -1;
    const auto flushRun = [&] {
        if (runStart < 0)
            return;
        if (!out.isEmpty())
            out.append(' ');
        out.append(encodedWords(displayName.sliced(runStart, runEnd - runStart),
                                out.isEmpty() ? PhraseFirstWordRoom : MaxEncodedWord));
        runStart = -1;
    };
    const qsizetype n = displayName.size();
    for (qsizetype i = 0; i < n;) {
        while (i < n && displayName.at(i) == u' ')
            ++i;
        if (i == n)
            break;
        qsizetype end = i;
        while (end < n && displayName.at(end) != u' ')
            ++end;
        const QStringView word = displayName.sliced(i, end - i);
        if (isPlainWord(word)) {
            flushRun();
            if (!out.isEmpty())
                out.append(' ');
            out.append(word.toLatin1());
        } else {
            if (runStart < 0)
                runStart = i;
            runEnd = end;
        }
        i = end;
    }
    flushRun();
    return out;
}

QByteArray parameter(QByteArrayView name, QStringView value)
{
    // Short enough for "; name=..." to share a folded line with other text.
    constexpr qsizetype MaxPiece = 70;
    bool printable = true;
    for (const QChar ch : value) {
        const char16_t c = ch.unicode();
        if (c < 0x20 || c >= 0x7F) {
            printable = false;
            break;
        }
    }
    QByteArray out;
    if (printable && name.size() + value.size() + 3 <= MaxPiece) {
        out.reserve(name.size() + value.size() + 8);
        out.append(name.data(), name.size());
        out.append("=\"", 2);
        for (const QChar ch : value) {
            if (ch == u'"' || ch == u'\\')
                out.append('\\');
            out.append(char(ch.unicode()));
        }
        out.append('"');
        return out;
    }

    // RFC 2231 sections 3 and 4: charset'language'percent-encoded octets, in numbered
    // continuations; each piece holds whole characters.
    const QByteArray utf8 = value.toUtf8();
    const auto *p = reinterpret_cast<const uchar *>(utf8.constData());
    const qsizetype n = utf8.size();
    qsizetype encodedSize = 0;
    for (qsizetype i = 0; i < n; ++i)
        encodedSize += isAttrChar(p[i]) ? 1 : 3;
    const auto appendEncoded = [&out](const uchar *data, qsizetype size) {
        for (qsizetype k = 0; k < size; ++k) {
            const uchar c = data[k];
            if (isAttrChar(c)) {
                out.append(char(c));
            } else {
                const char encoded[3] = {'%', HexDigits[c >> 4], HexDigits[c & 0xF]};
                out.append(encoded, 3);
            }
        }
    };
    out.reserve(encodedSize + encodedSize / 40 * (name.size() + 8) + 32);
    if (name.size() + 9 + encodedSize <= MaxPiece) {
        out.append(name.data(), name.size());
        out.append("*=utf-8''", 9);
        appendEncoded(p, n);
        return out;
    }
    qsizetype i = 0;
    int index = 0;
    while (i < n || index == 0) {
        if (index > 0)
            out.append("; ", 2);
        const QByteArray head = QByteArray(name.data(), name.size()) + '*'
                + QByteArray::number(index) + (index == 0 ? "*=utf-8''" : "*=");
        out.append(head);
        qsizetype room = MaxPiece - head.size();
        qsizetype end = i;
        while (end < n) {
            const qsizetype len = utf8SequenceLength(p[end], n - end);
            qsizetype cost = 0;
            for (qsizetype k = 0; k < len; ++k)
                cost += isAttrChar(p[end + k]) ? 1 : 3;
            if (cost > room && end > i)
                break;
            room -= cost;
            end += len;
        }
        appendEncoded(p + i, end - i);
        i = end;
        ++index;
    }
    return out;
}

bool appendFolded(QByteArray &out, QByteArrayView line, bool structured)
{
    const char *p = line.data();
    const qsizetype n = line.size();
    qsizetype lineLength = 0;
    bool fits = true;
    qsizetype i = 0;
    while (i < n) {
        const qsizetype start = i;
        while (i < n && isWsp(p[i]))
            ++i;
        const qsizetype wordStart = i;
        bool inQuote = false;
        while (i < n) {
            const char c = p[i];
            if (inQuote) {
                if (c == '\\' && i + 1 < n)
                    ++i;
                else if (c == '"')
                    inQuote = false;
                ++i;
                continue;
            }
            if (structured && c == '"') {
                inQuote = true;
                ++i;
                continue;
            }
            if (isWsp(c))
                break;
            ++i;
        }
        const qsizetype length = i - start;
        // Fold only before whitespace that precedes a word, so that no line is whitespace only
        // (RFC 5322 section 3.2.2).
        if (lineLength > 0 && wordStart > start && i > wordStart
            && lineLength + length > FoldColumn) {
            out.append("\r\n", 2);
            if (lineLength > MaxLineLength)
                fits = false;
            lineLength = 0;
        }
        out.append(p + start, length);
        lineLength += length;
    }
    if (lineLength > MaxLineLength)
        fits = false;
    out.append("\r\n", 2);
    return fits;
}

} // namespace Mime::Encoders
