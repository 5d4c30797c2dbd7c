#include "templatespage.h"

#include "common/pageheader.h"
#include "db/asyncdatabase.h"
#include "sandboxinbox.h"
#include "templateeditor.h"
#include "templates/templatestore.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

TemplatesPage::TemplatesPage(QWidget *parent)
    : Page(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(16, 12, 16, 8);
    m_header = new PageHeader(tr("Templates"),
                              tr("Email templates: edit with a live preview, check before "
                                 "sending, and every save is a version."),
                              this);
    layout->addWidget(m_header);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("templatesTabs"));
    m_tabs->setDocumentMode(true);
    auto *splitter = new QSplitter(Qt::Horizontal, m_tabs);
    auto *listSide = new QWidget(splitter);
    auto *listLayout = new QVBoxLayout(listSide);
    listLayout->setContentsMargins(0, 0, 0, 0);
    m_search = new QLineEdit(listSide);
    m_search->setObjectName(QStringLiteral("templateSearch"));
    m_search->setPlaceholderText(tr("Search templates"));
    m_search->setClearButtonEnabled(true);
    listLayout->addWidget(m_search);
    m_model = new QStandardItemModel(0, 5, this);
    m_model->setHorizontalHeaderLabels(
            {tr("Name"), tr("Type"), tr("Locale"), tr("Last edited"), tr("By")});
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setSortRole(Qt::UserRole);
    m_table = new QTableView(listSide);
    m_table->setObjectName(QStringLiteral("templatesTable"));
    m_table->setModel(m_proxy);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(0, Qt::AscendingOrder);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    listLayout->addWidget(m_table, 1);
    auto *newRow = new QGridLayout;
    m_newName = new QLineEdit(listSide);
    m_newName->setObjectName(QStringLiteral("newTemplateName"));
    m_newName->setPlaceholderText(tr("New template name"));
    m_newKind = new QComboBox(listSide);
    m_newKind->setObjectName(QStringLiteral("newTemplateKind"));
    m_newKind->addItem(tr("transactional"), QStringLiteral("transactional"));
    m_newKind->addItem(tr("marketing"), QStringLiteral("marketing"));
    m_newKind->addItem(tr("system"), QStringLiteral("system"));
    auto *create = new QPushButton(tr("Create"), listSide);
    create->setObjectName(QStringLiteral("createTemplateButton"));
    newRow->addWidget(m_newName, 0, 0, 1, 2);
    newRow->addWidget(m_newKind, 1, 0);
    newRow->addWidget(create, 1, 1);
    listLayout->addLayout(newRow);
    m_status = new QLabel(listSide);
    m_status->setObjectName(QStringLiteral("pageSubtitle"));
    m_status->setWordWrap(true);
    listLayout->addWidget(m_status);

    m_editor = new TemplateEditor(splitter);
    splitter->addWidget(listSide);
    splitter->addWidget(m_editor);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({300, 900});
    m_tabs->addTab(splitter, tr("Editor"));
    m_inbox = new SandboxInbox(m_tabs);
    m_tabs->addTab(m_inbox, tr("Sandbox inbox"));
    layout->addWidget(m_tabs, 1);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int index) {
        if (m_tabs->widget(index) == m_inbox)
            m_inbox->refresh();
    });

    connect(m_search, &QLineEdit::textChanged, m_proxy,
            &QSortFilterProxyModel::setFilterFixedString);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (!current.isValid())
                    return;
                const qint64 id =
                        m_proxy->index(current.row(), 0).data(Qt::UserRole + 1).toLongLong();
                if (!id || id == m_selectedId)
                    return;
                m_selectedId = id;
                m_editor->open(id);
            });
    connect(create, &QPushButton::clicked, this, [this] {
        createTemplate(m_newName->text().trimmed(), m_newKind->currentData().toString());
    });
    connect(m_editor, &TemplateEditor::saved, this, [this] { refresh(); });
    connect(m_editor, &TemplateEditor::sandboxMessageStored, m_inbox, &SandboxInbox::refresh);
}

TemplatesPage::~TemplatesPage() = default;

void TemplatesPage::setDatabase(Db::AsyncDatabase *database)
{
    Page::setDatabase(database);
    m_store = std::make_unique<Templates::TemplateStore>(database);
    m_editor->setStore(m_store.get());
    m_inbox->setDatabase(database);
    if (database) {
        m_editor->setDatabaseConfig(database->config());
        connect(database, &Db::AsyncDatabase::linkStateChanged, this, [this](Db::LinkState state) {
            if (state == Db::LinkState::Connected && isVisible())
                refresh();
        });
    }
}

void TemplatesPage::showEvent(QShowEvent *event)
{
    Page::showEvent(event);
    refresh();
}

void TemplatesPage::refresh()
{
    if (!m_store || m_inFlight)
        return;
    m_inFlight = true;
    m_store->list(this, [this](const Common::Result<QList<Templates::TemplateListItem>> &items) {
        m_inFlight = false;
        if (!items) {
            m_status->setText(tr("Could not load: %1").arg(items.error().message));
            return;
        }
        const qint64 current = m_selectedId;
        m_model->setRowCount(0);
        for (const auto &item : *items) {
            QList<QStandardItem *> row;
            const auto cell = [](const QString &text, const QVariant &sortKey) {
                auto *c = new QStandardItem(text);
                c->setData(sortKey, Qt::UserRole);
                return c;
            };
            row.append(cell(item.name, item.name.toLower()));
            row.first()->setData(item.id, Qt::UserRole + 1);
            row.append(cell(item.kind, item.kind));
            row.append(cell(item.locales.join(QStringLiteral(", ")), item.defaultLocale));
            row.append(cell(QLocale().toString(item.lastEdited.toLocalTime(), QLocale::ShortFormat),
                            item.lastEdited));
            row.append(cell(item.lastEditedBy, item.lastEditedBy));
            m_model->appendRow(row);
        }
        m_table->resizeColumnsToContents();
        m_status->setText(items->isEmpty() ? tr("No templates yet: create one below.")
                                           : tr("%n template(s)", nullptr, int(items->size())));
        // Keep the open template selected.
        for (int r = 0; r < m_proxy->rowCount(); ++r) {
            const QModelIndex index = m_proxy->index(r, 0);
            const qint64 id = index.data(Qt::UserRole + 1).toLongLong();
            if ((current && id == current)
                || (!m_pendingOpen.isEmpty() && index.data().toString() == m_pendingOpen)) {
                m_pendingOpen.clear();
                m_table->selectionModel()->setCurrentIndex(index,
                                                           QItemSelectionModel::ClearAndSelect
                                                                   | QItemSelectionModel::Rows);
                break;
            }
        }
        Q_EMIT listLoaded();
    });
}

bool TemplatesPage::openTemplate(const QString &name)
{
    for (int r = 0; r < m_proxy->rowCount(); ++r) {
        const QModelIndex index = m_proxy->index(r, 0);
        if (index.data().toString() == name) {
            m_table->selectionModel()->setCurrentIndex(index,
                                                       QItemSelectionModel::ClearAndSelect
                                                               | QItemSelectionModel::Rows);
            return true;
        }
    }
    return false;
}

void TemplatesPage::createTemplate(const QString &name, const QString &kind)
{
    if (!m_store)
        return;
    m_store->create(name, kind, QStringLiteral("en"), this,
                    [this](const Common::Result<Templates::TemplateInfo> &info) {
                        if (!info) {
                            m_status->setText(info.error().message);
                            return;
                        }
                        m_newName->clear();
                        m_pendingOpen = info->name;
                        refresh();
                    });
}
