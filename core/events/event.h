#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonDocument>
#include <QList>
#include <QMetaType>
#include <QString>

#include <utility>

namespace Events {

// One taxonomy for every provider and for our own tracking endpoints.
enum class Type {
    Sent,
    Delivered,
    Deferred,
    Bounced,
    Dropped,
    Complained,
    Opened,
    Clicked,
    Unsubscribed,
    Unknown, // a type we do not know: stored raw and counted, never an error
};

QString typeName(Type type);
Type typeFromName(const QString &name); // Unknown for anything else

// A normalised event. Parsers fill everything but id; messageId is ours when the event names it
// (a tracking token; the custom argument / user variable "postdesk_message_id" a send worker may
// set with SendGrid or Mailgun), else the store joins by providerMessageId.
struct Event
{
    qint64 id = 0;    // events.id once stored
    QString source;   // sendgrid, mailgun, postmark, ses, tracking
    QString eventKey; // stable per provider event: a repeated delivery is stored once
    Type type = Type::Unknown;
    QString subtype;           // "hard" / "soft" for bounces; the provider's name for unknown ones
    bool machine = false;      // machine opens (privacy proxies, scanners) and bot clicks
    QString recipient;         // lower case
    QString providerMessageId; // normalised (see normaliseMessageId)
    qint64 messageId = 0;      // ours, 0 when not (yet) joined
    QString url;               // clicks
    QString userAgent;
    QDateTime occurredAt; // UTC
    QByteArray raw;       // the provider's own JSON for this event, for audit and replay
};

// The forms providers use for one message id, reduced to one: surrounding angle brackets and
// white space removed; for SendGrid, the part before the first '.' (events carry
// "<X-Message-Id>.filter…" while the send API returned only "<X-Message-Id>").
QString normaliseMessageId(const QString &id, const QString &source = {});

// Known scanners and link checkers by User-Agent (security gateways, preview fetchers, HTTP
// libraries). Gmail's and Yahoo's image proxies fetch for a person who opened the mail: not bots.
bool isScannerUserAgent(const QString &userAgent);

// The parsers' common error: code "events.malformed", permanent.
Common::Error malformed(const QString &provider, const QString &what);

// A webhook body as JSON, or malformed() saying where the JSON breaks.
Common::Result<QJsonDocument> parseJson(const QString &provider, const QByteArray &body);

// Where each element of a top-level JSON array lies in its text: [begin, end) byte offsets, in
// order. For text that parseJson() has accepted as an array; for anything else the result is
// empty. Lets a parser keep each element's bytes exactly as the provider sent them.
QList<std::pair<qsizetype, qsizetype>> jsonArrayElements(const QByteArray &json);

} // namespace Events

Q_DECLARE_METATYPE(Events::Event)
