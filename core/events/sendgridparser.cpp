#include "jsonutil.h"
#include "parsers.h"

#include <QCryptographicHash>
#include <QJsonArray>

namespace Events {

namespace {

const QString source = QStringLiteral("sendgrid");

// SendGrid's event names, mapped to ours.
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event#event-objects
// raw: the event's bytes as SendGrid sent them.
Event fromSendGrid(const QJsonObject &o, QByteArray raw)
{
    Event e;
    e.source = source;
    e.raw = std::move(raw);
    const QString name = Json::str(o, "event");
    e.recipient = Json::str(o, "email").trimmed().toLower();
    e.providerMessageId = normaliseMessageId(Json::str(o, "sg_message_id"), source);
    e.occurredAt = Json::fromUnix(o.value(QLatin1String("timestamp")));
    e.userAgent = Json::str(o, "useragent");
    // Our own id, when the send worker passed it as a custom argument (SendGrid repeats custom
    // arguments at the top level of each event).
    e.messageId = Json::str(o, "postdesk_message_id").toLongLong();
    if (name == u"processed") {
        e.type = Type::Sent;
    } else if (name == u"delivered") {
        e.type = Type::Delivered;
    } else if (name == u"deferred") {
        e.type = Type::Deferred;
    } else if (name == u"bounce") {
        // "type": "bounce" is a permanent rejection, "blocked" a temporary one.
        e.type = Type::Bounced;
        e.subtype = Json::str(o, "type") == u"blocked" ? QStringLiteral("soft")
                                                       : QStringLiteral("hard");
    } else if (name == u"dropped") {
        e.type = Type::Dropped;
    } else if (name == u"spamreport") {
        e.type = Type::Complained;
    } else if (name == u"open") {
        e.type = Type::Opened;
        e.machine = o.value(QLatin1String("sg_machine_open")).toBool()
                || isScannerUserAgent(e.userAgent);
    } else if (name == u"click") {
        e.type = Type::Clicked;
        e.url = Json::str(o, "url");
        e.machine = isScannerUserAgent(e.userAgent);
    } else if (name == u"unsubscribe" || name == u"group_unsubscribe") {
        e.type = Type::Unsubscribed;
    } else {
        e.type = Type::Unknown;
        e.subtype = name.left(64);
    }
    // sg_event_id is SendGrid's stable id for an event; without one, the event's own bytes are.
    // sg_event_id is unique per event; the event name is added because SendGrid's own sample
    // payloads reuse one placeholder id for every event.
    e.eventKey = Json::str(o, "sg_event_id");
    if (!e.eventKey.isEmpty())
        e.eventKey = name + u':' + e.eventKey;
    // (The hash is of the compact form, not of the bytes received, so that the key does not
    // depend on how the JSON was spaced.)
    if (e.eventKey.isEmpty()) {
        e.eventKey = QStringLiteral("sha256:")
                + QString::fromLatin1(
                             QCryptographicHash::hash(Json::compact(o), QCryptographicHash::Sha256)
                                     .toHex());
    }
    return e;
}

} // namespace

Common::Result<QList<Event>> parseSendGrid(const QByteArray &body)
{
    const auto parsed = parseJson(source, body);
    if (!parsed)
        return Common::fail(parsed.error());
    const QJsonDocument &doc = *parsed;
    if (!doc.isArray())
        return Common::fail(malformed(source, QStringLiteral("expected a JSON array of events")));
    QList<Event> events;
    const QJsonArray array = doc.array();
    // Each event is stored as the bytes SendGrid sent, cut from the body, rather than written
    // out again from the parsed document: that took half the time of parsing a batch.
    const auto elements = jsonArrayElements(body);
    if (elements.size() != array.size())
        return Common::fail(malformed(source, QStringLiteral("the array cannot be split")));
    events.reserve(array.size());
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QJsonValue v = array.at(i);
        if (!v.isObject())
            return Common::fail(
                    malformed(source, QStringLiteral("an array element is not an object")));
        const auto [begin, end] = elements.at(i);
        Event e = fromSendGrid(v.toObject(), body.sliced(begin, end - begin));
        if (!e.occurredAt.isValid())
            return Common::fail(
                    malformed(source, QStringLiteral("an event without a valid timestamp")));
        events.append(std::move(e));
    }
    return events;
}

Common::Result<QList<Event>> parse(const QString &provider, const QByteArray &body)
{
    if (provider == u"sendgrid")
        return parseSendGrid(body);
    if (provider == u"mailgun")
        return parseMailgun(body);
    if (provider == u"postmark")
        return parsePostmark(body);
    if (provider == u"ses")
        return parseSesNotification(body);
    return Common::fail(QStringLiteral("events.unknown_provider"),
                        QStringLiteral(
                                "Unknown provider '%1': use sendgrid, mailgun, postmark or ses.")
                                .arg(provider));
}

} // namespace Events
