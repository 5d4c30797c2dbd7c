#include "jsonutil.h"
#include "parsers.h"

namespace Events {

namespace {
const QString source = QStringLiteral("postmark");

// Postmark's bounce types: https://postmarkapp.com/developer/api/bounce-api#bounce-types
void classifyBounce(const QString &type, Event &e)
{
    static const QStringList hard = {QStringLiteral("HardBounce"),
                                     QStringLiteral("BadEmailAddress")};
    static const QStringList soft = {QStringLiteral("SoftBounce"), QStringLiteral("Transient"),
                                     QStringLiteral("DnsError"), QStringLiteral("Blocked"),
                                     QStringLiteral("DMARCPolicy")};
    if (hard.contains(type)) {
        e.type = Type::Bounced;
        e.subtype = QStringLiteral("hard");
    } else if (soft.contains(type)) {
        e.type = Type::Bounced;
        e.subtype = QStringLiteral("soft");
    } else if (type == u"SpamComplaint") {
        e.type = Type::Complained;
    } else if (type == u"ManuallyDeactivated") {
        e.type = Type::Dropped;
    } else if (type == u"Unsubscribe") {
        e.type = Type::Unsubscribed;
    } else {
        e.type = Type::Unknown; // auto-responders, challenge verifications, ...
        e.subtype = QStringLiteral("Bounce:") + type.left(48);
    }
}
} // namespace

Common::Result<QList<Event>> parsePostmark(const QByteArray &body)
{
    const auto parsed = parseJson(source, body);
    if (!parsed)
        return Common::fail(parsed.error());
    const QJsonDocument &doc = *parsed;
    if (!doc.isObject())
        return Common::fail(malformed(source, QStringLiteral("expected a JSON object")));
    const QJsonObject o = doc.object();
    const QString recordType = Json::str(o, "RecordType");
    if (recordType.isEmpty())
        return Common::fail(malformed(source, QStringLiteral("no \"RecordType\"")));
    Event e;
    e.source = source;
    e.raw = Json::compact(o);
    e.providerMessageId = normaliseMessageId(Json::str(o, "MessageID"), source);
    e.recipient = Json::str(o, "Recipient");
    if (e.recipient.isEmpty())
        e.recipient = Json::str(o, "Email");
    e.recipient = e.recipient.trimmed().toLower();
    e.userAgent = Json::str(o, "UserAgent");
    QString when;
    if (recordType == u"Delivery") {
        e.type = Type::Delivered;
        when = Json::str(o, "DeliveredAt");
    } else if (recordType == u"Bounce") {
        classifyBounce(Json::str(o, "Type"), e);
        when = Json::str(o, "BouncedAt");
    } else if (recordType == u"SpamComplaint") {
        e.type = Type::Complained;
        when = Json::str(o, "BouncedAt");
    } else if (recordType == u"Open") {
        e.type = Type::Opened;
        e.machine = isScannerUserAgent(e.userAgent);
        when = Json::str(o, "ReceivedAt");
    } else if (recordType == u"Click") {
        e.type = Type::Clicked;
        e.url = Json::str(o, "OriginalLink");
        e.machine = isScannerUserAgent(e.userAgent);
        when = Json::str(o, "ReceivedAt");
    } else if (recordType == u"SubscriptionChange") {
        // SuppressSending false is a reactivation: recorded, no effect.
        const bool suppress = o.value(QLatin1String("SuppressSending")).toBool();
        e.type = suppress ? Type::Unsubscribed : Type::Unknown;
        if (!suppress)
            e.subtype = QStringLiteral("SubscriptionChange:reactivated");
        when = Json::str(o, "ChangedAt");
    } else {
        e.type = Type::Unknown;
        e.subtype = recordType.left(64);
        when = Json::str(o, "ReceivedAt");
    }
    e.occurredAt = Json::fromIso(when);
    if (!e.occurredAt.isValid())
        e.occurredAt = QDateTime::currentDateTimeUtc(); // unknown record types may carry no time
    // Bounces and complaints have a stable ID; the other records are keyed by what they are.
    const QString id = Json::str(o, "ID");
    e.eventKey = !id.isEmpty() && (recordType == u"Bounce" || recordType == u"SpamComplaint")
            ? QString(recordType + u':' + id)
            : QString(recordType + u':' + e.providerMessageId + u':' + e.recipient + u':'
                      + (when.isEmpty() ? QString::fromLatin1(e.raw.toBase64()).left(64) : when));
    if (e.providerMessageId.isEmpty() && e.recipient.isEmpty())
        return Common::fail(
                malformed(source, QStringLiteral("neither \"MessageID\" nor a recipient")));
    return QList<Event>{e};
}

} // namespace Events
