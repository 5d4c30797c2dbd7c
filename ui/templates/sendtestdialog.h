#pragma once

#include "db/databaseconfig.h"
#include "providers/providerrepository.h"
#include "providers/transport.h"
#include "templates/preview.h"

#include <QDialog>
#include <QThread>

#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class SendTestWorker;

namespace Db {
class Connection;
}

namespace Secrets {
class KeyPair;
}

// Sends the message the preview shows to one address through a stored provider (the enabled ones
// in failover order), or through a provider given by its URL (as 'postdeskctl send --via' takes
// it) under "Other (URL)…". Listing, opening the provider's secrets (the keyring may block on
// D-Bus) and sending all happen on a thread of its own; the dialog only reacts.
class SendTestDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SendTestDialog)

public:
    explicit SendTestDialog(QWidget *parent = nullptr);
    ~SendTestDialog() override;

    // Where the stored providers are; without it only "Other (URL)…" is offered. keyDirectory is
    // where this host's worker key is (empty: the keyring).
    void setDatabase(const Db::DatabaseConfig &config, const QString &keyDirectory = {});
    void refreshProviders();
    void setMessage(const Templates::Preview::Result &preview) { m_preview = preview; }
    void send();
    // Picks the stored provider of that name (false when it is not offered).
    bool selectProvider(const QString &name);
    void selectUrl();

    QLineEdit *fromEdit() const { return m_from; }
    QLineEdit *toEdit() const { return m_to; }
    QComboBox *providerBox() const { return m_providerBox; }
    QLineEdit *providerEdit() const { return m_provider; }
    QLineEdit *passwordEdit() const { return m_password; }
    QString result() const;
    QString lastMessageId() const { return m_lastMessageId; }

Q_SIGNALS:
    void providersListed();
    // messageId: the Message-ID header of the test (empty when nothing was sent).
    void finished(bool ok, const QString &message, const QString &messageId);
    // A test went to a sandbox provider: the sandbox inbox has a new message.
    void sandboxMessageStored();

private:
    void handleProviders(const QList<Providers::ProviderRecord> &records, const QString &error);
    void handleFinished(bool ok, const QString &message, const QString &messageId);
    void updateUrlRows();

    Templates::Preview::Result m_preview;
    QList<Providers::ProviderRecord> m_records;
    QString m_lastMessageId;
    bool m_hasDatabase = false;
    QLineEdit *m_from = nullptr;
    QLineEdit *m_to = nullptr;
    QComboBox *m_providerBox = nullptr;
    QLineEdit *m_provider = nullptr;
    QLineEdit *m_password = nullptr;
    QLabel *m_providerLabel = nullptr;
    QLabel *m_urlLabel = nullptr;
    QLabel *m_passwordLabel = nullptr;
    QPushButton *m_send = nullptr;
    QLabel *m_result = nullptr;
    QThread m_thread;
    SendTestWorker *m_worker = nullptr;
};

// Lives on the dialog's thread: owns its own database connection, lists the providers, opens one
// (loading the host key only when the provider has secrets), sends one message, reports.
class SendTestWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SendTestWorker)

public:
    SendTestWorker() = default;
    ~SendTestWorker() override;

    void setDatabase(const Db::DatabaseConfig &config, const QString &keyDirectory);
    void listProviders();
    void sendUrl(const QString &url, const QString &password,
                 const Providers::OutgoingMessage &message);
    void sendStored(qint64 providerId, const Providers::OutgoingMessage &message);

Q_SIGNALS:
    void providersListed(const QList<Providers::ProviderRecord> &records, const QString &error);
    void finished(bool ok, const QString &message, const QString &messageId);
    void sandboxMessageStored();

private:
    Db::Connection *connection(QString *error);
    void sendThrough(Providers::Transport *transport, const Providers::OutgoingMessage &message,
                     bool sandbox);

    std::optional<Db::DatabaseConfig> m_config;
    QString m_keyDirectory;
    std::unique_ptr<Db::Connection> m_connection;
    std::shared_ptr<const Secrets::KeyPair> m_hostKey;
    bool m_hostKeyLoaded = false;
};
