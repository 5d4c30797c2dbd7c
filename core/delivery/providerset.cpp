#include "providerset.h"

#include "common/logging.h"
#include "db/connection.h"
#include "providers/providerconfig.h"
#include "providers/sandbox/sandboxtransport.h"
#include "providers/transport.h"
#include "secrets/sealedbox.h"

#include <algorithm>

namespace Delivery {

ProviderSet::ProviderSet(QObject *owner, std::shared_ptr<const Secrets::KeyPair> hostKey,
                         std::function<Db::Connection *()> connection, TransportHook onCreated)
    : m_owner(owner)
    , m_hostKey(std::move(hostKey))
    , m_connection(std::move(connection))
    , m_onCreated(std::move(onCreated))
{ }

ProviderSet::~ProviderSet()
{
    for (auto &entry : m_entries)
        delete entry->transport;
}

Common::Result<OpenedProvider> openProvider(Db::Connection &connection,
                                            const Providers::ProviderRecord &record,
                                            const Secrets::KeyPair *hostKey,
                                            std::function<Db::Connection *()> sandboxConnection,
                                            QObject *parent)
{
    OpenedProvider opened;
    if (record.type == u"sandbox") {
        opened.transport = new Providers::SandboxTransport(std::move(sandboxConnection), record.id,
                                                           parent);
        return opened;
    }
    QMap<QString, QByteArray> secrets;
    if (!record.secretNames.isEmpty()) {
        if (!hostKey) {
            return Common::fail(QStringLiteral("secrets.no_host_key"),
                                QStringLiteral("This host has no worker key to open the "
                                               "provider's secrets: run 'postdeskctl worker init' "
                                               "and have an admin authorise it"));
        }
        Providers::ProviderRepository repository(connection);
        auto values = repository.openSecrets(record, *hostKey);
        if (!values)
            return Common::fail(values.error());
        secrets = *values;
    }
    auto settings = Providers::ProviderConfig::build(record.type, record.url(), secrets);
    if (!settings)
        return Common::fail(settings.error());
    if (settings->kind() == Providers::ProviderKind::Smtp)
        settings->smtp().maxConnections = record.poolSize;
    else
        settings->http().maxInFlight = std::min(record.poolSize, 100);

    const QString dkimDomain = record.options.value(QStringLiteral("dkim_domain")).toString();
    const QString dkimSelector = record.options.value(QStringLiteral("dkim_selector")).toString();
    if (!dkimDomain.isEmpty()) {
        if (!secrets.contains(QStringLiteral("dkim_key"))) {
            return Common::fail(QStringLiteral("providers.dkim"),
                                QStringLiteral("DKIM signing for %1 is set up but the provider "
                                               "has no dkim_key secret")
                                        .arg(dkimDomain));
        }
        auto signer = Mime::DkimSigner::fromPem(secrets.value(QStringLiteral("dkim_key")),
                                                dkimDomain, dkimSelector);
        if (!signer)
            return Common::fail(signer.error());
        opened.dkim = std::move(*signer);
    }
    auto transport = Providers::Transport::create(*settings, parent);
    if (!transport)
        return Common::fail(transport.error());
    opened.transport = *transport;
    return opened;
}

ProviderEntry ProviderSet::makeEntry(Db::Connection &connection,
                                     const Providers::ProviderRecord &record)
{
    ProviderEntry entry;
    entry.record = record;
    if (record.isDemo) {
        // Demo data shows what the app looks like; it must never send anything.
        entry.unusable = QStringLiteral("a demo provider, which never sends");
        return entry;
    }
    auto opened = openProvider(connection, record, m_hostKey.get(), m_connection, m_owner);
    if (!opened) {
        entry.unusable = opened.error().message;
        return entry;
    }
    entry.transport = opened->transport;
    entry.dkim = std::move(opened->dkim);
    return entry;
}

Common::Status ProviderSet::refresh()
{
    Db::Connection *connection = m_connection();
    if (!connection)
        return Common::fail(QStringLiteral("db.unreachable"),
                            QStringLiteral("The database is not reachable"), {},
                            Common::Retry::Transient);
    Providers::ProviderRepository repository(*connection);
    auto records = repository.list();
    if (!records)
        return Common::fail(records.error());

    std::vector<std::unique_ptr<ProviderEntry>> next;
    for (const auto &record : std::as_const(*records)) {
        auto existing = std::find_if(m_entries.begin(), m_entries.end(),
                                     [&](const auto &e) { return e && e->record.id == record.id; });
        if (existing != m_entries.end() && (*existing)->record.revision == record.revision
            && (*existing)->record.secretNames == record.secretNames) {
            // Same settings: keep the transport (and its connections); take the new health.
            (*existing)->record = record;
            next.push_back(std::move(*existing));
            continue;
        }
        if (existing != m_entries.end()) {
            retire((*existing)->transport);
            (*existing)->transport = nullptr;
        }
        auto entry = std::make_unique<ProviderEntry>(makeEntry(*connection, record));
        if (!entry->unusable.isEmpty()) {
            qCWarning(lcProviders).noquote() << "provider" << record.name
                                             << "cannot be used on this host:" << entry->unusable;
        }
        if (entry->transport && m_onCreated)
            m_onCreated(entry->transport);
        next.push_back(std::move(entry));
    }
    for (auto &gone : m_entries) {
        if (gone)
            retire(gone->transport);
    }
    m_entries = std::move(next);
    return {};
}

void ProviderSet::retire(Providers::Transport *transport)
{
    if (!transport)
        return;
    transport->closeIdle();
    if (transport->pendingCount() == 0) {
        transport->deleteLater();
        return;
    }
    QObject::connect(transport, &Providers::Transport::drained, transport, &QObject::deleteLater);
}

QList<ProviderEntry *> ProviderSet::ordered()
{
    QList<ProviderEntry *> result;
    for (auto &entry : m_entries) {
        if (entry->record.enabled)
            result.append(entry.get());
    }
    return result; // list() orders by priority, then name
}

ProviderEntry *ProviderSet::entry(qint64 id)
{
    for (auto &entry : m_entries) {
        if (entry->record.id == id)
            return entry.get();
    }
    return nullptr;
}

ProviderEntry *ProviderSet::entryFor(const Providers::Transport *transport)
{
    for (auto &entry : m_entries) {
        if (entry->transport == transport)
            return entry.get();
    }
    return nullptr;
}

void ProviderSet::updateHealth(const Providers::ProviderRecord &record)
{
    if (ProviderEntry *e = entry(record.id)) {
        e->record.health = record.health;
        e->record.healthReason = record.healthReason;
        e->record.consecutiveFailures = record.consecutiveFailures;
        e->record.circuitOpenUntil = record.circuitOpenUntil;
    }
}

} // namespace Delivery
