#pragma once

#include <QByteArray>
#include <QString>

namespace Mime {

// A file carried by a message. With a contentId it is an inline part of the HTML body (shown where
// the HTML says <img src="cid:contentId">, RFC 2392) and goes into multipart/related; without one
// it is an attachment in multipart/mixed. Base64 on the wire, so the bytes arrive unchanged; except
// a forwarded message (message/rfc822), which RFC 2046 section 5.2.1 forbids encoding: it goes as
// it is, with CRLF line ends, as 7bit (or 8bit, see ComposedMessage::has8bit).
struct Attachment
{
    QString fileName; // may be non-ASCII: written per RFC 2231
    QString mimeType = QStringLiteral("application/octet-stream"); // type/subtype, no parameters
    QByteArray data;
    QString contentId; // without angle brackets, e.g. "logo@example.org"
    QString charset;   // for text/* files only, e.g. "utf-8"; empty: none stated

    bool isInline() const { return !contentId.isEmpty(); }
};

} // namespace Mime
