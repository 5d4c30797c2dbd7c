#pragma once

#include "common/result.h"
#include "mime/address.h"
#include "mime/dkimsigner.h"
#include "providers/transport.h"
#include "queue/queuetypes.h"
#include "templates/engine.h"
#include "templates/messagetemplate.h"

#include <QDateTime>
#include <QHash>

#include <functional>
#include <optional>

namespace Db {
class Connection;
}

namespace Mime {
class Message;
}

namespace Delivery {

// Turns a claimed message into the bytes a provider sends: renders its template version with the
// recipient's data (versions are loaded once and kept compiled), composes the MIME message and
// signs it with DKIM when the provider has a key.
//
// The Message-ID is the same for every attempt of a queued message, so that a receiver can tell a
// duplicate (a message sent again after a crash) by it: <ID.CREATED@DOMAIN>.
class MessageBuilder
{
public:
    MessageBuilder() = default;

    // Loads the template versions these messages use that are not cached yet (one statement).
    Common::Status prepare(Db::Connection &connection, const QList<Queue::ClaimedMessage> &messages);

    struct Options
    {
        QString defaultSender; // when the message names none
        const Mime::DkimSigner *dkim = nullptr;
        // Called with the composed-to-be message before compose(): tracking adds its links,
        // pixel and List-Unsubscribe headers here.
        std::function<void(Mime::Message &, const Queue::ClaimedMessage &)> decorate;
    };

    // Errors are permanent when the message itself is at fault (a template that does not
    // render, an invalid address): sending it again would not help.
    Common::Result<Providers::OutgoingMessage> build(const Queue::ClaimedMessage &message,
                                                     const Options &options);

    static QString messageIdFor(const Queue::ClaimedMessage &message, const QString &domain);

private:
    // The time for the Date header (RFC 5322 section 3.3: to the second), in local time with its
    // offset fixed. Looked up once a second: asking for the local time zone costs the C library a
    // stat() of /etc/localtime on each call, which was a tenth of a worker's time per message.
    QDateTime dateNow();

    Templates::Engine m_engine;
    QHash<qint64, Templates::MessageTemplate> m_templates;
    QDateTime m_date;
    qint64 m_dateSecond = -1;
    // The last sender parsed: most messages take the provider's default, the same each time.
    QString m_senderText;
    std::optional<Mime::Address> m_sender;
};

} // namespace Delivery
