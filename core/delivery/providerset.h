#pragma once

#include "common/result.h"
#include "mime/dkimsigner.h"
#include "providers/providerrepository.h"

#include <QDateTime>
#include <QList>
#include <QObject>

#include <functional>
#include <memory>
#include <optional>

namespace Db {
class Connection;
}

namespace Secrets {
class KeyPair;
}

namespace Providers {
class Transport;
}

namespace Delivery {

// One stored provider as a worker thread uses it: the record (health and circuit as last seen),
// its transport, its DKIM signer, or why this host cannot use it.
struct ProviderEntry
{
    Providers::ProviderRecord record;
    Providers::Transport *transport = nullptr; // owned by the ProviderSet's parent object
    std::optional<Mime::DkimSigner> dkim;
    QString unusable; // non-empty: why this host cannot send through it (secrets, settings)

    bool circuitOpen(const QDateTime &now) const
    {
        return record.circuitOpenUntil.isValid() && record.circuitOpenUntil > now;
    }
    // The circuit was opened and its back-off is over: the next send is a probe.
    bool halfOpen(const QDateTime &now) const
    {
        return record.circuitOpenUntil.isValid() && record.circuitOpenUntil <= now;
    }
};

// A transport (and DKIM signer) for a stored provider, its secrets opened with hostKey; for the
// sandbox, connection is what it stores into. The transport is a child of parent. Used by the
// workers, and by "Test connection" / "Send test" in postdeskctl and the GUI.
struct OpenedProvider
{
    Providers::Transport *transport = nullptr;
    std::optional<Mime::DkimSigner> dkim;
};
Common::Result<OpenedProvider> openProvider(Db::Connection &connection,
                                            const Providers::ProviderRecord &record,
                                            const Secrets::KeyPair *hostKey,
                                            std::function<Db::Connection *()> sandboxConnection,
                                            QObject *parent);

// The providers of one worker thread, kept in step with the registry: refresh() reloads the
// records (cheap) and rebuilds the transport of a provider whose settings changed; a replaced
// transport is retired once its messages are done. Transports are created on the calling thread,
// as children of owner.
class ProviderSet
{
public:
    using TransportHook = std::function<void(Providers::Transport *)>;

    ProviderSet(QObject *owner, std::shared_ptr<const Secrets::KeyPair> hostKey,
                std::function<Db::Connection *()> connection, TransportHook onCreated);
    ~ProviderSet();

    Common::Status refresh();

    // Enabled providers in failover order (priority, then name), usable or not.
    QList<ProviderEntry *> ordered();
    ProviderEntry *entry(qint64 id);
    ProviderEntry *entryFor(const Providers::Transport *transport);
    bool isEmpty() const { return m_entries.empty(); }
    // Updates the health fields from a record the repository returned.
    void updateHealth(const Providers::ProviderRecord &record);

private:
    ProviderEntry makeEntry(Db::Connection &connection, const Providers::ProviderRecord &record);
    void retire(Providers::Transport *transport);

    QObject *m_owner;
    std::shared_ptr<const Secrets::KeyPair> m_hostKey;
    std::function<Db::Connection *()> m_connection;
    TransportHook m_onCreated;
    std::vector<std::unique_ptr<ProviderEntry>> m_entries;
};

} // namespace Delivery
