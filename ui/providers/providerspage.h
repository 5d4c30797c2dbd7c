#pragma once

#include "common/page.h"

class PageHeader;
class ProviderForm;
class ProviderListModel;
class QLabel;
class QPushButton;
class QStackedWidget;
class QTableView;

// The providers in failover order with their health, limits and traffic; add, edit, reorder,
// enable, disable and remove them, and test a provider's connection or send a test email.
// Every change goes through Providers::ProviderRepository on the database thread (and is audited
// there); a save is checked against the revision the form started from.
class ProvidersPage final : public Page
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProvidersPage)

public:
    explicit ProvidersPage(QWidget *parent = nullptr);

    void refresh() override;

    ProviderListModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    ProviderForm *form() const { return m_form; }
    bool isShowingForm() const;
    // Where this host's worker key is read from: the desktop keyring, or (for servers and tests)
    // the owner-only directory in POSTDESK_KEY_DIR.
    static QString keyDirectory();

Q_SIGNALS:
    // A change was stored (or refused); the text says which.
    void statusChanged(const QString &text);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void showList();
    void editSelected();
    void move(int delta);
    void toggleEnabled();
    void removeSelected();
    void save();
    void openStoredSecrets(const QString &name);
    void updateButtons();
    int selectedRow() const;
    void setStatus(const QString &text);

    PageHeader *m_header = nullptr;
    QStackedWidget *m_stack = nullptr;
    ProviderListModel *m_model = nullptr;
    QTableView *m_table = nullptr;
    ProviderForm *m_form = nullptr;
    QPushButton *m_edit = nullptr;
    QPushButton *m_up = nullptr;
    QPushButton *m_down = nullptr;
    QPushButton *m_enable = nullptr;
    QPushButton *m_remove = nullptr;
    QLabel *m_status = nullptr;
    QString m_selectAfterRefresh;
    bool m_loading = false;
    bool m_refreshAgain = false; // asked for while a load was under way
};
