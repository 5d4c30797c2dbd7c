#include "jsonutil.h"
#include "parsers.h"

namespace Events {

namespace {
const QString source = QStringLiteral("mailgun");
}

// https://documentation.mailgun.com/docs/mailgun/user-manual/events/ (event types and fields)
Common::Result<QList<Event>> parseMailgun(const QByteArray &body)
{
    const auto parsed = parseJson(source, body);
    if (!parsed)
        return Common::fail(parsed.error());
    const QJsonDocument &doc = *parsed;
    if (!doc.isObject() || !doc.object().value(QLatin1String("event-data")).isObject())
        return Common::fail(malformed(source, QStringLiteral("no \"event-data\" object")));
    const QJsonObject d = doc.object().value(QLatin1String("event-data")).toObject();
    Event e;
    e.source = source;
    e.raw = Json::compact(d);
    e.eventKey = Json::str(d, "id");
    if (e.eventKey.isEmpty())
        return Common::fail(malformed(source, QStringLiteral("the event has no \"id\"")));
    e.occurredAt = Json::fromUnix(d.value(QLatin1String("timestamp")));
    if (!e.occurredAt.isValid())
        return Common::fail(
                malformed(source, QStringLiteral("the event has no valid \"timestamp\"")));
    e.recipient = Json::str(d, "recipient").trimmed().toLower();
    const QJsonObject headers =
            d.value(QLatin1String("message")).toObject().value(QLatin1String("headers")).toObject();
    e.providerMessageId = normaliseMessageId(Json::str(headers, "message-id"), source);
    // Our own id, when the send worker passed it as a Mailgun user variable (v:postdesk_message_id).
    e.messageId = Json::str(d.value(QLatin1String("user-variables")).toObject(),
                            "postdesk_message_id")
                          .toLongLong();
    const QJsonObject client = d.value(QLatin1String("client-info")).toObject();
    e.userAgent = Json::str(client, "user-agent");
    // Mailgun names the bot it saw (e.g. "apple", "gmail") in client-info.bot.
    const bool bot = !Json::str(client, "bot").isEmpty() || isScannerUserAgent(e.userAgent);

    const QString name = Json::str(d, "event");
    if (name == u"accepted") {
        e.type = Type::Sent;
    } else if (name == u"delivered") {
        e.type = Type::Delivered;
    } else if (name == u"failed") {
        const QString severity = Json::str(d, "severity");
        const QString reason = Json::str(d, "reason");
        if (severity == u"temporary") {
            // Mailgun retries: a deferral, not yet a bounce.
            e.type = Type::Deferred;
        } else if (reason.startsWith(u"suppress-")) {
            e.type = Type::Dropped; // not attempted: the address is on Mailgun's suppression list
        } else {
            e.type = Type::Bounced;
            e.subtype = QStringLiteral("hard");
        }
    } else if (name == u"rejected") {
        e.type = Type::Dropped;
    } else if (name == u"complained") {
        e.type = Type::Complained;
    } else if (name == u"opened") {
        e.type = Type::Opened;
        e.machine = bot;
    } else if (name == u"clicked") {
        e.type = Type::Clicked;
        e.url = Json::str(d, "url");
        e.machine = bot;
    } else if (name == u"unsubscribed") {
        e.type = Type::Unsubscribed;
    } else {
        e.type = Type::Unknown;
        e.subtype = name.left(64);
    }
    return QList<Event>{e};
}

} // namespace Events
