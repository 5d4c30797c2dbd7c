#pragma once

#include "providers/diagnostics.h"
#include "providers/providerrepository.h"

#include <QMap>
#include <QPointer>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTreeWidget;

namespace Providers {
class Transport;
}

// What the form describes: the record to save and the secrets typed into it (an empty map entry
// is never sent; a secret left at "unchanged" keeps the stored one).
struct ProviderDraft
{
    Providers::ProviderRecord record;
    QMap<QString, QByteArray> secrets;
};

// Add or edit one provider: the settings of its type, validated as they are typed; Test connection
// (staged diagnostics, nothing sent) and Send test email through what the form describes.
class ProviderForm final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProviderForm)

public:
    explicit ProviderForm(QWidget *parent = nullptr);

    // Starts a new provider, or edits record (its revision is what a save is checked against).
    void startNew(int priority);
    void startEdit(const Providers::ProviderRecord &record);
    bool isEditing() const { return m_base.id != 0; }
    const Providers::ProviderRecord &base() const { return m_base; }

    // The problems that keep Save disabled; empty when the form is valid.
    QStringList problems() const { return m_problems; }
    ProviderDraft draft() const { return m_draft; }

    // A save was refused because someone else saved the provider first.
    void showConflict(const Providers::ProviderConflict &conflict, const QString &message);
    void showSaveError(const QString &message);
    // Takes the revision of the stored version, so that the next save overwrites it.
    void acceptStoredRevision(int revision);

    // Secrets of the stored provider, opened by the page (with this host's worker key) for a test
    // of a provider whose secrets the form leaves unchanged.
    void continueWithStoredSecrets(const QMap<QString, QByteArray> &secrets, const QString &error);

    QTreeWidget *diagnosticsView() const { return m_steps; }
    QLabel *testResultLabel() const { return m_testResult; }
    QLabel *sendResultLabel() const { return m_sendResult; }

Q_SIGNALS:
    void saveRequested();
    void cancelled();
    void reloadRequested(const QString &name);
    // The form needs the stored secrets of this provider to test it.
    void storedSecretsNeeded(const Providers::ProviderRecord &record);

private:
    enum class Action { None, Test, Send };

    QWidget *buildSmtpPage();
    QWidget *buildHttpPages();
    void revalidate();
    QString buildUrl(bool *usesPlaceholder, QStringList *problems) const;
    QString buildFormUrl(bool *usesPlaceholder, QStringList *problems) const;
    // The URL options that the form's fields set for a type; the others are kept as stored.
    static QStringList formManagedOptions(const QString &type);
    void startAction(Action action);
    void runAction(const QMap<QString, QByteArray> &secrets);
    void runDiagnostics(Providers::Transport *transport);
    void runSend(Providers::Transport *transport, const QMap<QString, QByteArray> &secrets);
    void setBusy(bool busy);
    void loadRecord(const Providers::ProviderRecord &record);

    Providers::ProviderRecord m_base;
    ProviderDraft m_draft;
    QStringList m_problems;
    bool m_needsStoredSecrets = false;
    Action m_pending = Action::None;

    QLabel *m_title = nullptr;
    QLineEdit *m_name = nullptr;
    QComboBox *m_type = nullptr;
    QCheckBox *m_enabled = nullptr;
    QSpinBox *m_priority = nullptr;
    QLineEdit *m_rate = nullptr;
    QSpinBox *m_pool = nullptr;
    QLineEdit *m_from = nullptr;
    QLineEdit *m_dkimDomain = nullptr;
    QLineEdit *m_dkimSelector = nullptr;
    QLineEdit *m_dkimKeyFile = nullptr;
    QStackedWidget *m_typePages = nullptr;
    // SMTP
    QLineEdit *m_host = nullptr;
    QSpinBox *m_port = nullptr;
    QComboBox *m_security = nullptr;
    QComboBox *m_auth = nullptr;
    QLineEdit *m_user = nullptr;
    QLineEdit *m_password = nullptr;
    QLineEdit *m_caFile = nullptr;
    QSpinBox *m_connectTimeout = nullptr;
    QSpinBox *m_timeout = nullptr;
    // HTTP providers
    QLineEdit *m_sendgridKey = nullptr;
    QLineEdit *m_mailgunKey = nullptr;
    QLineEdit *m_mailgunDomain = nullptr;
    QComboBox *m_mailgunRegion = nullptr;
    QLineEdit *m_sesRegion = nullptr;
    QLineEdit *m_sesAccess = nullptr;
    QLineEdit *m_sesSecret = nullptr;
    QLineEdit *m_postmarkToken = nullptr;
    QLineEdit *m_postmarkStream = nullptr;
    QLineEdit *m_httpUrl = nullptr;
    QPlainTextEdit *m_httpHeaders = nullptr;

    QLabel *m_problemsLabel = nullptr;
    QWidget *m_conflictBox = nullptr;
    QLabel *m_conflictLabel = nullptr;
    QPushButton *m_save = nullptr;
    QPushButton *m_testButton = nullptr;
    QLineEdit *m_testTo = nullptr;
    QPushButton *m_sendButton = nullptr;
    QTreeWidget *m_steps = nullptr;
    QLabel *m_testResult = nullptr;
    QLabel *m_sendResult = nullptr;
    QPointer<Providers::Transport> m_transport;
    QPointer<Providers::Diagnostics> m_diagnostics;
    int m_storedRevision = -1;
};
