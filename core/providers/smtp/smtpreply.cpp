#include "smtpreply.h"

namespace Providers {

namespace {

// Replies longer than this are not SMTP (RFC 5321 4.5.3.1.5 allows 512 octets per line).
constexpr qsizetype maxLineLength = 64 * 1024;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// "2.1.5 Ok" -> "2.1.5" when the class matches the reply code's first digit (RFC 3463, RFC 2034).
QString enhancedCodeOf(const QString &text, int code)
{
    const QString first = text.section(u' ', 0, 0);
    const QStringList parts = first.split(u'.');
    if (parts.size() != 3)
        return {};
    for (const QString &part : parts) {
        if (part.isEmpty() || part.size() > 3)
            return {};
        for (QChar c : part) {
            if (!c.isDigit())
                return {};
        }
    }
    if (parts[0] != QString::number(code / 100))
        return {};
    return first;
}

} // namespace

QString SmtpReply::text() const
{
    QString result;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (i > 0)
            result += u'\n';
        result += QString::number(code);
        if (!lines.at(i).isEmpty())
            result += u' ' + lines.at(i);
    }
    if (lines.isEmpty())
        result = QString::number(code);
    return result;
}

Common::Result<std::optional<SmtpReply>> SmtpReplyParser::next()
{
    while (true) {
        const qsizetype eol = m_buffer.indexOf('\n', m_pos);
        if (eol < 0) {
            if (m_buffer.size() - m_pos > maxLineLength) {
                return Common::fail(QStringLiteral("smtp.protocol"),
                                    QStringLiteral("The server sent a line that is too long"), {},
                                    Common::Retry::Transient);
            }
            // Compact the buffer once everything before m_pos has been used.
            if (m_pos > 0) {
                m_buffer.remove(0, m_pos);
                m_pos = 0;
            }
            return std::optional<SmtpReply>();
        }
        qsizetype end = eol;
        if (end > m_pos && m_buffer.at(end - 1) == '\r')
            --end;
        const char *line = m_buffer.constData() + m_pos;
        const qsizetype length = end - m_pos;
        m_pos = eol + 1;

        if (length < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2])
            || (length > 3 && line[3] != ' ' && line[3] != '-')) {
            return Common::fail(QStringLiteral("smtp.protocol"),
                                QStringLiteral(
                                        "The server sent something that is not an SMTP reply"),
                                QString::fromUtf8(line, std::min<qsizetype>(length, 200)),
                                Common::Retry::Transient);
        }
        const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (!m_partial.lines.isEmpty() && code != m_partial.code) {
            return Common::fail(QStringLiteral("smtp.protocol"),
                                QStringLiteral("The server changed the reply code within a "
                                               "multi-line reply"),
                                QString::fromUtf8(line, std::min<qsizetype>(length, 200)),
                                Common::Retry::Transient);
        }
        m_partial.code = code;
        const QString text = length > 4 ? QString::fromUtf8(line + 4, length - 4) : QString();
        if (m_partial.lines.isEmpty())
            m_partial.enhancedCode = enhancedCodeOf(text, code);
        m_partial.lines.append(text);
        const bool last = length == 3 || line[3] == ' ';
        if (last) {
            SmtpReply reply = std::move(m_partial);
            m_partial = SmtpReply();
            return std::optional<SmtpReply>(std::move(reply));
        }
    }
}

void SmtpReplyParser::clear()
{
    m_buffer.clear();
    m_pos = 0;
    m_partial = SmtpReply();
}

} // namespace Providers
