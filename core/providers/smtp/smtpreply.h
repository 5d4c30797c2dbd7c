#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QStringList>

#include <optional>

namespace Providers {

// One SMTP reply (RFC 5321 4.2), possibly of several lines.
struct SmtpReply
{
    int code = 0;
    QString enhancedCode; // RFC 3463 "x.y.z" from the first line, when the server sends one
    QStringList lines;    // the text of each line after "250-" / "250 "

    bool isPositive() const { return code >= 200 && code < 400; }
    bool isTransientFailure() const { return code >= 400 && code < 500; }
    // 4xx can succeed later; everything else that is not positive is permanent (RFC 5321 4.2.1).
    Common::Retry retry() const
    {
        return isTransientFailure() ? Common::Retry::Transient : Common::Retry::Permanent;
    }
    // The reply as the server sent it, lines joined by "\n": "550 5.1.1 <x@y>: unknown user".
    QString text() const;
};

// Splits the bytes a server sends into replies. Lines end in CRLF; a lone LF is tolerated.
class SmtpReplyParser
{
public:
    void append(const QByteArray &data) { m_buffer.append(data); }
    // The next complete reply, nothing when more data is needed, or an error when the server sent
    // something that is not SMTP.
    Common::Result<std::optional<SmtpReply>> next();
    // Drops everything buffered (after STARTTLS, RFC 3207 section 4.2: nothing sent in plain text
    // before the handshake may be used afterwards).
    void clear();

private:
    QByteArray m_buffer;
    qsizetype m_pos = 0;
    SmtpReply m_partial;
};

} // namespace Providers
