#include "jsonutil.h"
#include "parsers.h"

#include <QJsonArray>

namespace Events {

namespace {
const QString source = QStringLiteral("ses");

QStringList addresses(const QJsonArray &list, const char *field)
{
    QStringList out;
    for (const QJsonValue &v : list) {
        const QString a = field ? Json::str(v.toObject(), field) : v.toString();
        if (!a.trimmed().isEmpty())
            out.append(a.trimmed().toLower());
    }
    return out;
}
} // namespace

// SES event publishing ("eventType") and the older identity notifications ("notificationType").
// https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
Common::Result<QList<Event>> parseSesEvent(const QByteArray &message, const QString &keyPrefix)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(message, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return Common::fail(
                malformed(source,
                          QStringLiteral("the SES event in \"Message\" is not a JSON object")));
    const QJsonObject o = doc.object();
    QString kind = Json::str(o, "eventType");
    if (kind.isEmpty())
        kind = Json::str(o, "notificationType");
    if (kind.isEmpty())
        return Common::fail(
                malformed(source, QStringLiteral("no \"eventType\" or \"notificationType\"")));
    const QJsonObject mail = o.value(QLatin1String("mail")).toObject();
    const QString messageId = normaliseMessageId(Json::str(mail, "messageId"), source);
    QStringList recipients = addresses(mail.value(QLatin1String("destination")).toArray(), nullptr);
    QDateTime when = Json::fromIso(Json::str(mail, "timestamp"));

    Type type = Type::Unknown;
    QString subtype;
    QString url;
    QString userAgent;
    auto section = [&](const char *name) { return o.value(QLatin1String(name)).toObject(); };
    auto at = [&](const QJsonObject &s) {
        const QDateTime t = Json::fromIso(Json::str(s, "timestamp"));
        if (t.isValid())
            when = t;
    };
    if (kind == u"Send") {
        type = Type::Sent;
    } else if (kind == u"Delivery") {
        type = Type::Delivered;
        const QJsonObject s = section("delivery");
        at(s);
        if (const QStringList r = addresses(s.value(QLatin1String("recipients")).toArray(), nullptr);
            !r.isEmpty())
            recipients = r;
    } else if (kind == u"Bounce") {
        type = Type::Bounced;
        const QJsonObject s = section("bounce");
        at(s);
        // Permanent is hard; Transient and Undetermined are soft.
        subtype = Json::str(s, "bounceType") == u"Permanent" ? QStringLiteral("hard")
                                                             : QStringLiteral("soft");
        recipients = addresses(s.value(QLatin1String("bouncedRecipients")).toArray(),
                               "emailAddress");
    } else if (kind == u"Complaint") {
        type = Type::Complained;
        const QJsonObject s = section("complaint");
        at(s);
        recipients = addresses(s.value(QLatin1String("complainedRecipients")).toArray(),
                               "emailAddress");
    } else if (kind == u"Reject" || kind == u"Rendering Failure") {
        type = Type::Dropped;
    } else if (kind == u"DeliveryDelay") {
        type = Type::Deferred;
        const QJsonObject s = section("deliveryDelay");
        at(s);
        if (const QStringList r = addresses(s.value(QLatin1String("delayedRecipients")).toArray(),
                                            "emailAddress");
            !r.isEmpty())
            recipients = r;
    } else if (kind == u"Open") {
        type = Type::Opened;
        const QJsonObject s = section("open");
        at(s);
        userAgent = Json::str(s, "userAgent");
    } else if (kind == u"Click") {
        type = Type::Clicked;
        const QJsonObject s = section("click");
        at(s);
        userAgent = Json::str(s, "userAgent");
        url = Json::str(s, "link");
    } else if (kind == u"Subscription") {
        type = Type::Unsubscribed;
        at(section("subscription"));
    } else {
        subtype = kind.left(64);
    }
    if (!when.isValid())
        return Common::fail(malformed(source, QStringLiteral("no valid timestamp")));
    if (recipients.isEmpty())
        recipients.append(QString());
    const QByteArray raw = Json::compact(o);
    QList<Event> events;
    for (const QString &recipient : std::as_const(recipients)) {
        Event e;
        e.source = source;
        e.type = type;
        e.subtype = subtype;
        e.recipient = recipient;
        e.providerMessageId = messageId;
        e.occurredAt = when;
        e.url = url;
        e.userAgent = userAgent;
        e.machine = (type == Type::Opened || type == Type::Clicked)
                && isScannerUserAgent(userAgent);
        e.raw = raw;
        e.eventKey = keyPrefix + u':' + recipient;
        events.append(std::move(e));
    }
    return events;
}

Common::Result<QList<Event>> parseSesNotification(const QByteArray &body)
{
    const auto parsed = parseJson(source, body);
    if (!parsed)
        return Common::fail(parsed.error());
    const QJsonDocument &doc = *parsed;
    if (!doc.isObject())
        return Common::fail(malformed(source, QStringLiteral("expected an SNS message object")));
    const QJsonObject sns = doc.object();
    const QString type = Json::str(sns, "Type");
    if (type != u"Notification")
        return QList<Event>{}; // confirmations carry no SES event
    const QString snsId = Json::str(sns, "MessageId");
    if (snsId.isEmpty())
        return Common::fail(malformed(source, QStringLiteral("the SNS message has no MessageId")));
    const QJsonValue message = sns.value(QLatin1String("Message"));
    if (!message.isString())
        return Common::fail(
                malformed(source, QStringLiteral("the SNS message has no \"Message\" string")));
    return parseSesEvent(message.toString().toUtf8(), snsId);
}

} // namespace Events
