#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace Mime {

// A message ready for the transport: the exact bytes and the SMTP envelope.
struct ComposedMessage
{
    // The whole RFC 5322 message, CRLF line ends, no line over 998 octets. Not dot-stuffed: the
    // SMTP transport does that (RFC 5321 section 4.5.2).
    QByteArray data;
    // The Message-ID without angle brackets, for matching bounces and provider events.
    QString messageId;
    // MAIL FROM: the envelope sender (the bounce address), A-label domain.
    QString envelopeFrom;
    // RCPT TO: To, Cc and Bcc without duplicates, A-label domains. Bcc is in no header.
    QStringList recipients;
    // An address has a non-ASCII local part: the transport must use SMTPUTF8 (RFC 6531) and
    // refuse the message if the server does not offer it.
    bool needsSmtpUtf8 = false;
    // The data holds octets above 127: UTF-8 headers (with needsSmtpUtf8) or a forwarded
    // message/rfc822 attachment with 8-bit text. The transport must then use 8BITMIME (RFC 6152)
    // or SMTPUTF8 and refuse the message when the server offers neither. Otherwise every body is
    // 7-bit (quoted-printable or base64).
    bool has8bit = false;
};

} // namespace Mime
