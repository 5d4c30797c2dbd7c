#include "testmessage.h"

#include "mime/address.h"
#include "mime/message.h"

#include <QDateTime>

namespace Providers {

Common::Result<OutgoingMessage> composeTestMessage(const QString &providerName, const QString &from,
                                                   const QString &to, const QString &subject)
{
    if (from.trimmed().isEmpty()) {
        return Common::fail(QStringLiteral("providers.test_from"),
                            QStringLiteral("The provider has no default From address; give one "
                                           "(--from, or 'Default From' on the form)"));
    }
    auto sender = Mime::Address::parse(from);
    if (!sender)
        return Common::fail(sender.error());
    auto recipient = Mime::Address::parse(to);
    if (!recipient)
        return Common::fail(recipient.error());
    Mime::Message message;
    message.setFrom(*sender);
    message.addTo(*recipient);
    message.setSubject(subject.isEmpty()
                               ? QStringLiteral("Postdesk test message via %1").arg(providerName)
                               : subject);
    message.setText(
            QStringLiteral("This is a test message sent by Postdesk through the provider "
                           "'%1' at %2.\n\nNo action is needed.\n")
                    .arg(providerName, QDateTime::currentDateTimeUtc().toString(Qt::ISODate)));
    auto composed = message.compose();
    if (!composed)
        return Common::fail(composed.error());
    return toOutgoing(*composed);
}

} // namespace Providers
