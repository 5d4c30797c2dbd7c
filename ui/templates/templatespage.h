#pragma once

#include "common/page.h"

#include <memory>

class PageHeader;
class QComboBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTabWidget;
class QTableView;
class SandboxInbox;
class TemplateEditor;

namespace Templates {
class TemplateStore;
}

// The Templates page: a searchable list of templates beside the editor.
class TemplatesPage final : public Page
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TemplatesPage)

public:
    explicit TemplatesPage(QWidget *parent = nullptr);
    ~TemplatesPage() override;

    void setDatabase(Db::AsyncDatabase *database) override;
    void refresh() override;

    TemplateEditor *editor() const { return m_editor; }
    SandboxInbox *sandboxInbox() const { return m_inbox; }
    QTabWidget *tabs() const { return m_tabs; }
    QTableView *table() const { return m_table; }
    QStandardItemModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    QLineEdit *search() const { return m_search; }
    // Opens the template of that name when the list has it.
    bool openTemplate(const QString &name);
    void createTemplate(const QString &name, const QString &kind);

Q_SIGNALS:
    void listLoaded();

protected:
    void showEvent(QShowEvent *event) override;

private:
    std::unique_ptr<Templates::TemplateStore> m_store;
    PageHeader *m_header = nullptr;
    QLineEdit *m_search = nullptr;
    QTableView *m_table = nullptr;
    QStandardItemModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QLineEdit *m_newName = nullptr;
    QComboBox *m_newKind = nullptr;
    QLabel *m_status = nullptr;
    TemplateEditor *m_editor = nullptr;
    QTabWidget *m_tabs = nullptr;
    SandboxInbox *m_inbox = nullptr;
    bool m_inFlight = false;
    QString m_pendingOpen;
    qint64 m_selectedId = 0; // the template the list asked the editor to open
};
