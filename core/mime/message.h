#pragma once

#include "common/result.h"
#include "mime/address.h"
#include "mime/attachment.h"
#include "mime/composedmessage.h"

#include <QDateTime>
#include <QList>
#include <QPair>
#include <QString>
#include <QUrl>

namespace Mime {

// How compose() stamps a message.
struct ComposeOptions
{
    // The Date header; invalid: now.
    QDateTime date;
    // Write the Date in UTC (+0000) rather than in the date's own offset.
    bool utcDate = false;
    // A Message-ID to reuse (without angle brackets), e.g. when the same message is sent again;
    // empty: a new one, <random@domain>.
    QString messageId;
    // The domain of a new Message-ID; empty: the From address's domain.
    QString messageIdDomain;
};

// A message as the caller describes it. A value type: copy it, fill it, compose it any number of
// times (each compose() gives a new Message-ID and Date unless ComposeOptions fix them).
// Setters only store; compose() checks everything and reports the first thing to fix.
class Message
{
public:
    Message &setFrom(const Address &from);
    Message &addTo(const Address &to);
    Message &addCc(const Address &cc);
    // Bcc recipients get the message through the envelope only; they appear in no header.
    Message &addBcc(const Address &bcc);
    Message &addReplyTo(const Address &replyTo);
    // The envelope sender (MAIL FROM), e.g. a bounce or VERP address; default: the From address.
    Message &setEnvelopeFrom(const Address &envelopeFrom);
    Message &setSubject(const QString &subject);
    Message &setText(const QString &text);
    Message &setHtml(const QString &html);
    // An attachment, or an inline part of the HTML when attachment.contentId is set.
    Message &addAttachment(const Attachment &attachment);
    // An image (or other part) the HTML shows with src="cid:<contentId>".
    Message &addInline(const QString &contentId, const QString &mimeType, const QByteArray &data,
                       const QString &fileName = {});
    // A header of the caller's own (e.g. "X-Campaign", "List-Id"). Non-ASCII values become RFC
    // 2047 encoded-words. Headers the composer writes itself (From, Date, Content-Type, ...) are
    // refused at compose().
    Message &addHeader(const QString &name, const QString &value);
    // List-Unsubscribe (RFC 2369) with a mailto: and/or an https: URL; with an https URL also
    // List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058), whose POST must reach that
    // URL. Pass an empty QUrl for the one not offered.
    Message &setListUnsubscribe(const QUrl &mailto, const QUrl &https);

    Address from() const { return m_from; }
    QList<Address> to() const { return m_to; }
    QList<Address> cc() const { return m_cc; }
    QList<Address> bcc() const { return m_bcc; }
    QList<Address> replyTo() const { return m_replyTo; }
    Address envelopeFrom() const { return m_envelopeFrom; }
    QString subject() const { return m_subject; }
    QString text() const { return m_text; }
    QString html() const { return m_html; }
    QList<Attachment> attachments() const { return m_attachments; }
    QList<QPair<QString, QString>> headers() const { return m_headers; }
    QUrl unsubscribeMailto() const { return m_unsubscribeMailto; }
    QUrl unsubscribeUrl() const { return m_unsubscribeUrl; }

    // The message as RFC 5322 / MIME bytes:
    //   text only: text/plain; HTML only: text/html; both: multipart/alternative;
    //   inline parts: multipart/related(html, parts...) in place of the HTML;
    //   attachments: multipart/mixed(body, attachments...).
    // Text is UTF-8 quoted-printable, files base64 (a message/rfc822 goes unencoded, as RFC 2046
    // requires). Fails, naming what to fix, on a missing From
    // or recipient, an empty message, a CR or LF in any value, a bad header name, content type,
    // Content-ID or URL.
    Common::Result<ComposedMessage> compose(const ComposeOptions &options = {}) const;

    // The Date header value for a time (RFC 5322 section 3.3), e.g. "Tue, 24 Nov 2026 06:55:03
    // +0100": English names, the time's own UTC offset.
    static QByteArray formatDate(const QDateTime &dateTime);

private:
    Address m_from;
    QList<Address> m_to;
    QList<Address> m_cc;
    QList<Address> m_bcc;
    QList<Address> m_replyTo;
    Address m_envelopeFrom;
    QString m_subject;
    QString m_text;
    QString m_html;
    QList<Attachment> m_attachments;
    QList<QPair<QString, QString>> m_headers;
    QUrl m_unsubscribeMailto;
    QUrl m_unsubscribeUrl;
};

} // namespace Mime
