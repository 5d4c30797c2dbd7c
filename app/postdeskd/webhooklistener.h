#pragma once

#include "common/result.h"
#include "db/databaseconfig.h"

#include <QString>

#include <memory>

namespace Events {
class WebhookServer;
}

// `postdeskd --listen ADDR:PORT`: the webhook and tracking server, with a database connection of
// its own and this host's worker key (from --key-dir DIR, else the desktop keyring) to open the
// sealed verification secrets.
Common::Result<std::unique_ptr<Events::WebhookServer>> startWebhookServer(
        const QString &listen, const QString &keyDir, const Db::DatabaseConfig &config);
