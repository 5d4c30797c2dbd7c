#pragma once

#include <QWidget>

class PreviewPane;
class QLabel;
class QStandardItemModel;
class QTableView;

namespace Db {
class AsyncDatabase;
}

// The messages the sandbox provider captured instead of delivering (sandbox_messages): a list,
// newest first, and the selected message rendered, as text and as raw MIME.
class SandboxInbox final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SandboxInbox)

public:
    explicit SandboxInbox(QWidget *parent = nullptr);

    void setDatabase(Db::AsyncDatabase *database) { m_database = database; }
    void refresh();
    void showMessage(qint64 id);

    QTableView *table() const { return m_table; }
    QStandardItemModel *model() const { return m_model; }
    PreviewPane *preview() const { return m_preview; }

Q_SIGNALS:
    void listLoaded();
    void messageShown(qint64 id);

private:
    Db::AsyncDatabase *m_database = nullptr;
    QTableView *m_table = nullptr;
    QStandardItemModel *m_model = nullptr;
    PreviewPane *m_preview = nullptr;
    QLabel *m_status = nullptr;
};
