#pragma once

#include "common/result.h"
#include "transport.h"

#include <QString>

namespace Providers {

// The short message "Send test email" sends through a provider (postdeskctl provider send-test
// and the Providers page): plain text, saying which provider sent it and when.
Common::Result<OutgoingMessage> composeTestMessage(const QString &providerName, const QString &from,
                                                   const QString &to, const QString &subject = {});

} // namespace Providers
