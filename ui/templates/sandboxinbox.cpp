#include "sandboxinbox.h"

#include "db/asyncdatabase.h"
#include "mime/messagereader.h"
#include "previewpane.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

SandboxInbox::SandboxInbox(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 4, 0, 0);
    auto *bar = new QHBoxLayout;
    auto *about = new QLabel(tr("Messages the sandbox provider captured instead of delivering."),
                             this);
    auto *refreshButton = new QPushButton(tr("Refresh"), this);
    refreshButton->setObjectName(QStringLiteral("sandboxRefresh"));
    m_status = new QLabel(this);
    bar->addWidget(about);
    bar->addStretch(1);
    bar->addWidget(m_status);
    bar->addWidget(refreshButton);
    layout->addLayout(bar);
    auto *splitter = new QSplitter(Qt::Horizontal, this);
    m_model = new QStandardItemModel(0, 4, this);
    m_model->setHorizontalHeaderLabels({tr("Captured"), tr("From"), tr("To"), tr("Subject")});
    m_table = new QTableView(splitter);
    m_table->setObjectName(QStringLiteral("sandboxTable"));
    m_table->setModel(m_model);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_preview = new PreviewPane(splitter);
    splitter->addWidget(m_table);
    splitter->addWidget(m_preview);
    splitter->setSizes({450, 650});
    layout->addWidget(splitter, 1);
    connect(refreshButton, &QPushButton::clicked, this, &SandboxInbox::refresh);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid())
                    showMessage(m_model->index(current.row(), 0).data(Qt::UserRole).toLongLong());
            });
}

void SandboxInbox::refresh()
{
    if (!m_database)
        return;
    m_database->query(
            QStringLiteral(
                    "SELECT id, created_at, envelope_from, array_to_string(recipients, ', '), "
                    "subject FROM sandbox_messages ORDER BY id DESC LIMIT 200"),
            {}, this, [this](const Db::TableData &data, const QString &error) {
                if (!error.isEmpty()) {
                    m_status->setText(tr("Could not load: %1").arg(error));
                    return;
                }
                m_model->setRowCount(0);
                for (const QVariantList &row : data.rows) {
                    auto *when = new QStandardItem(
                            QLocale().toString(row.value(1).toDateTime().toLocalTime(),
                                               QLocale::ShortFormat));
                    when->setData(row.value(0), Qt::UserRole);
                    m_model->appendRow({when, new QStandardItem(row.value(2).toString()),
                                        new QStandardItem(row.value(3).toString()),
                                        new QStandardItem(row.value(4).toString())});
                }
                m_table->resizeColumnsToContents();
                m_status->setText(data.rows.isEmpty()
                                          ? tr("Nothing captured yet.")
                                          : tr("%n message(s)", nullptr, int(data.rows.size())));
                Q_EMIT listLoaded();
            });
}

void SandboxInbox::showMessage(qint64 id)
{
    if (!m_database)
        return;
    m_database->query(QStringLiteral("SELECT raw FROM sandbox_messages WHERE id = $1"), {id}, this,
                      [this, id](const Db::TableData &data, const QString &error) {
                          if (!error.isEmpty() || data.rows.isEmpty())
                              return;
                          const QByteArray raw = data.rows.constFirst().value(0).toByteArray();
                          const auto parsed = Mime::MessageReader::read(raw);
                          Templates::Preview::Result result;
                          result.rendered = true;
                          result.subject = parsed.subject;
                          result.html = parsed.html.isEmpty() ? QStringLiteral("<pre>")
                                          + parsed.text.toHtmlEscaped() + QStringLiteral("</pre>")
                                                              : parsed.html;
                          result.text = parsed.text;
                          result.mime = raw;
                          m_preview->showResult(result);
                          Q_EMIT messageShown(id);
                      });
}
