#pragma once

#include "event.h"

// The provider parsers: pure functions from a webhook body (raw bytes, already verified) to
// normalised events, or an error for a body that is not what the provider sends. No I/O. An event
// type a parser does not know becomes Type::Unknown with the provider's name in subtype.
namespace Events {

// SendGrid Event Webhook: a JSON array of event objects.
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
Common::Result<QList<Event>> parseSendGrid(const QByteArray &body);

// Mailgun webhooks (JSON): {"signature": {...}, "event-data": {...}}.
// https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/
Common::Result<QList<Event>> parseMailgun(const QByteArray &body);

// Postmark webhooks: one JSON object per request, "RecordType" says which.
// https://postmarkapp.com/developer/webhooks/webhooks-overview
Common::Result<QList<Event>> parsePostmark(const QByteArray &body);

// Amazon SES events in an Amazon SNS Notification: the SES event is the JSON string in "Message".
// One SES event may name several recipients: one Event each, keyed SNS MessageId + recipient.
// https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
Common::Result<QList<Event>> parseSesNotification(const QByteArray &body);
// The same for a bare SES event (the "Message" string itself), with the key prefix to use.
Common::Result<QList<Event>> parseSesEvent(const QByteArray &message, const QString &keyPrefix);

// Dispatch by provider name (sendgrid, mailgun, postmark, ses); an error for another name.
Common::Result<QList<Event>> parse(const QString &provider, const QByteArray &body);

} // namespace Events
