#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace Providers {

// One attachment (or inline part) of a parsed message, decoded.
struct MimeAttachment
{
    QString filename;
    QString contentType; // without parameters, e.g. "application/pdf"
    QString contentId;   // without angle brackets; empty unless the part is inline
    bool isInline = false;
    QByteArray data;
};

// An address as the JSON APIs want it: the addr-spec and the display name apart.
struct MimeMailbox
{
    QString email;
    QString name;
};

// The parts of a finished RFC 5322 message that JSON APIs (SendGrid, Postmark) take as fields:
// the message is composed once as MIME, and those APIs get it taken apart again.
struct MimeParts
{
    QList<QPair<QByteArray, QByteArray>> headers; // unfolded, raw, in order
    MimeMailbox from;
    QList<MimeMailbox> to, cc, replyTo;
    QString subject;
    QString text;
    QString html;
    QList<MimeAttachment> attachments;

    // The raw value of the first header with this name (case-insensitive), unfolded.
    QByteArray rawHeader(QByteArrayView name) const;
    // The value with RFC 2047 encoded-words decoded.
    QString header(QByteArrayView name) const;

    // Headers other than the ones the JSON APIs set from their own fields (From, To, Subject,
    // Content-*, MIME-Version, Date, ...), decoded, for their "headers" field.
    QList<QPair<QString, QString>> extraHeaders() const;

    // Comma-separated X-Postdesk-Category values, and X-Postdesk-Meta-NAME headers as NAME/value,
    // for SendGrid categories / custom args and Postmark Tag / Metadata.
    QStringList categories() const;
    QList<QPair<QString, QString>> metadata() const;

    static MimeParts parse(const QByteArray &message);
};

// RFC 2047 encoded-words in a header value, decoded (B and Q, any charset Qt knows).
QString decodeHeaderValue(QByteArrayView raw);

} // namespace Providers
