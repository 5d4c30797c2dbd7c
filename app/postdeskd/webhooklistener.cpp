#include "webhooklistener.h"

#include "common/logging.h"
#include "events/webhookserver.h"
#include "secrets/keystore.h"

#include <QHostAddress>

Common::Result<std::unique_ptr<Events::WebhookServer>> startWebhookServer(
        const QString &listen, const QString &keyDir, const Db::DatabaseConfig &config)
{
    const qsizetype colon = listen.lastIndexOf(u':');
    bool portOk = false;
    const uint port = colon > 0 ? listen.mid(colon + 1).toUInt(&portOk) : 0;
    QString host = colon > 0 ? listen.left(colon) : QString();
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    QHostAddress address;
    if (!portOk || port > 65535 || !address.setAddress(host))
        return Common::fail(QStringLiteral("daemon.listen"),
                            QStringLiteral("--listen wants ADDRESS:PORT, e.g. 127.0.0.1:8025 or "
                                           "[::]:8025 (got '%1').")
                                    .arg(listen));
    Events::WebhookServer::Options options;
    options.openConnection = [config] {
        return config.open({false, QStringLiteral("postdeskd webhooks")});
    };
    std::unique_ptr<Secrets::KeyStore> store;
    if (!keyDir.isEmpty())
        store = std::make_unique<Secrets::FileKeyStore>(keyDir);
    else
        store = std::make_unique<Secrets::KeychainKeyStore>();
    if (auto key = store->load(QStringLiteral("worker-key")); key) {
        if (auto pair = Secrets::KeyPair::fromPrivateKey(*key); pair)
            options.hostKey = *pair;
    }
    if (!options.hostKey)
        qCWarning(lcEvents).noquote()
                << "no worker key in" << store->describe()
                << "- webhooks that need a secret answer 503 until 'postdeskctl worker init' "
                   "has run here and the key is authorised";
    auto server = std::make_unique<Events::WebhookServer>(std::move(options));
    if (auto bound = server->listen(address, quint16(port)); !bound)
        return Common::fail(bound.error());
    return server;
}
