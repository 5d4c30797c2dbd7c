#include "transport.h"

#include "http/customhttptransport.h"
#include "mailgun/mailguntransport.h"
#include "mime/composedmessage.h"
#include "postmark/postmarktransport.h"
#include "providerurl.h"
#include "sendgrid/sendgridtransport.h"
#include "ses/sestransport.h"
#include "smtp/smtptransport.h"

namespace Providers {

OutgoingMessage toOutgoing(const Mime::ComposedMessage &composed)
{
    OutgoingMessage outgoing;
    outgoing.envelopeFrom = composed.envelopeFrom;
    outgoing.recipients = composed.recipients;
    outgoing.data = composed.data;
    outgoing.messageId = composed.messageId;
    outgoing.needsSmtpUtf8 = composed.needsSmtpUtf8;
    outgoing.has8bit = composed.has8bit;
    return outgoing;
}

Common::Result<Transport *> Transport::create(const ProviderUrl &url, QObject *parent)
{
    switch (url.kind()) {
    case ProviderKind::Smtp:
        return new SmtpTransport(url.smtp(), parent);
    case ProviderKind::SendGrid:
        return new SendGridTransport(url.http(), parent);
    case ProviderKind::Mailgun:
        return new MailgunTransport(url.http(), parent);
    case ProviderKind::Ses:
        return new SesTransport(url.http(), parent);
    case ProviderKind::Postmark:
        return new PostmarkTransport(url.http(), parent);
    case ProviderKind::CustomHttp:
        return new CustomHttpTransport(url.http(), parent);
    }
    return Common::fail(QStringLiteral("provider.unsupported"),
                        QStringLiteral("This kind of provider is not supported yet"));
}

} // namespace Providers
