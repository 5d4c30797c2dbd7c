#include "providerspage.h"

#include "common/pageheader.h"
#include "db/asyncdatabase.h"
#include "db/connection.h"
#include "providerform.h"
#include "providerlistmodel.h"
#include "providers/providerrepository.h"
#include "secrets/keystore.h"
#include "secrets/sealedbox.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QStackedWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace {

// The outcome of a repository call on the database thread, as it comes back to the page.
struct SaveOutcome
{
    bool ok = false;
    QString code;
    QString message;
    Providers::ProviderRecord record;
    Providers::ProviderConflict conflict;
};

struct SecretsOutcome
{
    QMap<QString, QByteArray> secrets;
    QString error;
};

const QString trafficSql = QStringLiteral(R"sql(
SELECT provider_id,
       count(*) FILTER (WHERE sent_at >= now() - interval '1 hour'),
       count(*),
       count(*) FILTER (WHERE delivery = 'delivered')
FROM messages WHERE sent_at >= now() - interval '24 hours' AND provider_id IS NOT NULL
GROUP BY provider_id
)sql");

} // namespace

Q_DECLARE_METATYPE(SaveOutcome)
Q_DECLARE_METATYPE(SecretsOutcome)

ProvidersPage::ProvidersPage(QWidget *parent)
    : Page(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 20, 24, 16);
    layout->setSpacing(12);
    m_header = new PageHeader(tr("Providers"),
                              tr("The services that deliver mail, in failover order: the first "
                                 "healthy one sends."),
                              this);
    layout->addWidget(m_header);
    m_stack = new QStackedWidget(this);
    layout->addWidget(m_stack, 1);

    auto *list = new QWidget(m_stack);
    auto *listLayout = new QVBoxLayout(list);
    listLayout->setContentsMargins(0, 0, 0, 0);
    m_model = new ProviderListModel(this);
    m_table = new QTableView(list);
    m_table->setObjectName(QStringLiteral("providersList"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    listLayout->addWidget(m_table, 1);

    auto *buttons = new QHBoxLayout;
    const auto button = [&](const QString &text, const QString &name) {
        auto *b = new QPushButton(text, list);
        b->setObjectName(name);
        buttons->addWidget(b);
        return b;
    };
    QPushButton *add = button(tr("Add provider…"), QStringLiteral("addProvider"));
    m_edit = button(tr("Edit…"), QStringLiteral("editProvider"));
    m_up = button(tr("Move up"), QStringLiteral("moveUp"));
    m_down = button(tr("Move down"), QStringLiteral("moveDown"));
    m_enable = button(tr("Disable"), QStringLiteral("toggleEnabled"));
    m_remove = button(tr("Remove"), QStringLiteral("removeProvider"));
    buttons->addStretch(1);
    m_status = new QLabel(list);
    m_status->setObjectName(QStringLiteral("providersStatus"));
    buttons->addWidget(m_status);
    listLayout->addLayout(buttons);
    m_stack->addWidget(list);

    m_form = new ProviderForm(m_stack);
    m_stack->addWidget(m_form);

    connect(add, &QPushButton::clicked, this, [this] {
        int last = 0;
        for (const ProviderRow &row : m_model->rows())
            last = std::max(last, row.record.priority);
        m_form->startNew(m_model->rowCount() == 0 ? 100 : last + 10);
        m_stack->setCurrentWidget(m_form);
    });
    connect(m_edit, &QPushButton::clicked, this, &ProvidersPage::editSelected);
    connect(m_table, &QTableView::doubleClicked, this, &ProvidersPage::editSelected);
    connect(m_up, &QPushButton::clicked, this, [this] { move(-1); });
    connect(m_down, &QPushButton::clicked, this, [this] { move(+1); });
    connect(m_enable, &QPushButton::clicked, this, &ProvidersPage::toggleEnabled);
    connect(m_remove, &QPushButton::clicked, this, &ProvidersPage::removeSelected);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ProvidersPage::updateButtons);
    connect(m_form, &ProviderForm::cancelled, this, &ProvidersPage::showList);
    connect(m_form, &ProviderForm::saveRequested, this, &ProvidersPage::save);
    connect(m_form, &ProviderForm::storedSecretsNeeded, this,
            [this](const Providers::ProviderRecord &record) { openStoredSecrets(record.name); });
    connect(m_form, &ProviderForm::reloadRequested, this, [this](const QString &name) {
        if (!database())
            return;
        database()->run(
                [name](Db::Connection &connection) {
                    auto found = Providers::ProviderRepository(connection).find(name);
                    return found ? QVariant::fromValue(*found) : QVariant();
                },
                this,
                [this](const QVariant &result, const QString &error) {
                    if (result.isValid())
                        m_form->startEdit(result.value<Providers::ProviderRecord>());
                    else
                        m_form->showSaveError(error.isEmpty() ? tr("The provider is gone.") : error);
                });
    });
    updateButtons();
}

QString ProvidersPage::keyDirectory()
{
    return qEnvironmentVariable("POSTDESK_KEY_DIR");
}

bool ProvidersPage::isShowingForm() const
{
    return m_stack->currentWidget() == m_form;
}

void ProvidersPage::showEvent(QShowEvent *event)
{
    Page::showEvent(event);
    refresh();
}

void ProvidersPage::showList()
{
    m_stack->setCurrentIndex(0);
    refresh();
}

int ProvidersPage::selectedRow() const
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? -1 : rows.first().row();
}

void ProvidersPage::updateButtons()
{
    const int row = selectedRow();
    const ProviderRow *selected = m_model->rowAt(row);
    for (QPushButton *b : {m_edit, m_up, m_down, m_enable, m_remove})
        b->setEnabled(selected != nullptr);
    if (!selected)
        return;
    m_up->setEnabled(row > 0);
    m_down->setEnabled(row + 1 < m_model->rowCount());
    m_enable->setText(selected->record.enabled ? tr("Disable") : tr("Enable"));
}

void ProvidersPage::setStatus(const QString &text)
{
    m_status->setText(text);
    Q_EMIT statusChanged(text);
}

void ProvidersPage::refresh()
{
    if (!database())
        return;
    if (m_loading) {
        m_refreshAgain = true;
        return;
    }
    m_loading = true;
    database()->run(
            [](Db::Connection &connection) -> QVariant {
                auto records = Providers::ProviderRepository(connection).list();
                if (!records)
                    return records.error().toString();
                QList<ProviderRow> rows;
                QHash<qint64, int> index;
                for (const auto &record : std::as_const(*records)) {
                    index.insert(record.id, int(rows.size()));
                    rows.append(ProviderRow{record});
                }
                if (auto traffic = connection.exec(trafficSql)) {
                    for (int r = 0; r < traffic->rowCount(); ++r) {
                        const int i = index.value(traffic->toInt(r, 0), -1);
                        if (i < 0)
                            continue;
                        rows[i].sentLastHour = traffic->toInt(r, 1);
                        rows[i].sentLast24h = traffic->toInt(r, 2);
                        if (rows[i].sentLast24h > 0)
                            rows[i].deliveryRate = double(traffic->toInt(r, 3))
                                    / double(rows[i].sentLast24h);
                    }
                }
                return QVariant::fromValue(rows);
            },
            this,
            [this](const QVariant &result, const QString &error) {
                m_loading = false;
                if (std::exchange(m_refreshAgain, false)) {
                    refresh();
                    return;
                }
                if (!error.isEmpty() || result.typeId() == QMetaType::QString) {
                    m_header->setNotice(tr("Could not load the providers: %1")
                                                .arg(error.isEmpty() ? result.toString() : error));
                    return;
                }
                m_header->setNotice({});
                const int oldRow = selectedRow();
                QString keep = m_selectAfterRefresh;
                if (keep.isEmpty() && oldRow >= 0)
                    keep = m_model->rowAt(oldRow)->record.name;
                m_selectAfterRefresh.clear();
                m_model->setRows(result.value<QList<ProviderRow>>());
                m_table->resizeColumnsToContents();
                const int row = int(m_model->names().indexOf(keep));
                if (row >= 0)
                    m_table->selectRow(row);
                updateButtons();
            });
}

void ProvidersPage::editSelected()
{
    const ProviderRow *row = m_model->rowAt(selectedRow());
    if (!row)
        return;
    m_form->startEdit(row->record);
    m_stack->setCurrentWidget(m_form);
}

void ProvidersPage::move(int delta)
{
    const int row = selectedRow();
    QStringList names = m_model->names();
    const int target = row + delta;
    if (row < 0 || target < 0 || target >= names.size() || !database())
        return;
    names.move(row, target);
    m_selectAfterRefresh = names.at(target);
    database()->run(
            [names](Db::Connection &connection) -> QVariant {
                auto done = Providers::ProviderRepository(connection).reorder(names);
                return done ? QString() : done.error().toString();
            },
            this,
            [this, names](const QVariant &result, const QString &error) {
                const QString problem = error.isEmpty() ? result.toString() : error;
                setStatus(
                        problem.isEmpty()
                                ? tr("New failover order: %1").arg(names.join(QStringLiteral(", ")))
                                : tr("Not reordered: %1").arg(problem));
                refresh();
            });
}

void ProvidersPage::toggleEnabled()
{
    const ProviderRow *row = m_model->rowAt(selectedRow());
    if (!row || !database())
        return;
    const QString name = row->record.name;
    const bool enable = !row->record.enabled;
    database()->run(
            [name, enable](Db::Connection &connection) -> QVariant {
                auto done = Providers::ProviderRepository(connection).setEnabled(name, enable);
                return done ? QString() : done.error().toString();
            },
            this,
            [this, name, enable](const QVariant &result, const QString &error) {
                const QString problem = error.isEmpty() ? result.toString() : error;
                setStatus(problem.isEmpty() ? (enable ? tr("%1 enabled").arg(name)
                                                      : tr("%1 disabled").arg(name))
                                            : problem);
                refresh();
            });
}

void ProvidersPage::removeSelected()
{
    const ProviderRow *row = m_model->rowAt(selectedRow());
    if (!row || !database())
        return;
    const QString name = row->record.name;
    const auto answer = QMessageBox::question(
            this, tr("Remove provider"),
            tr("Remove the provider %1 and its sealed secrets? Mail is no longer sent through it; "
               "this cannot be undone.")
                    .arg(name),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    database()->run(
            [name](Db::Connection &connection) -> QVariant {
                auto done = Providers::ProviderRepository(connection).remove(name);
                return done ? QString() : done.error().toString();
            },
            this,
            [this, name](const QVariant &result, const QString &error) {
                const QString problem = error.isEmpty() ? result.toString() : error;
                setStatus(problem.isEmpty() ? tr("%1 removed").arg(name) : problem);
                refresh();
            });
}

void ProvidersPage::save()
{
    if (!database() || !m_form->problems().isEmpty())
        return;
    const ProviderDraft draft = m_form->draft();
    const bool editing = m_form->isEditing();
    database()->run(
            [draft, editing](Db::Connection &connection) {
                Providers::ProviderRepository repository(connection);
                SaveOutcome outcome;
                auto saved = editing
                        ? repository.update(draft.record, draft.secrets, &outcome.conflict)
                        : repository.add(draft.record, draft.secrets);
                if (saved) {
                    outcome.ok = true;
                    outcome.record = *saved;
                } else {
                    outcome.code = saved.error().code;
                    outcome.message = saved.error().message;
                }
                return QVariant::fromValue(outcome);
            },
            this,
            [this](const QVariant &result, const QString &error) {
                if (!error.isEmpty()) {
                    m_form->showSaveError(error);
                    return;
                }
                const auto outcome = result.value<SaveOutcome>();
                if (outcome.ok) {
                    setStatus(tr("Saved %1 (revision %2)")
                                      .arg(outcome.record.name)
                                      .arg(outcome.record.revision));
                    m_selectAfterRefresh = outcome.record.name;
                    showList();
                } else if (outcome.code == u"providers.conflict") {
                    m_form->showConflict(outcome.conflict, outcome.message);
                } else {
                    m_form->showSaveError(outcome.message);
                }
            });
}

void ProvidersPage::openStoredSecrets(const QString &name)
{
    if (!database()) {
        m_form->continueWithStoredSecrets({}, tr("The database is not available."));
        return;
    }
    const QString keyDir = keyDirectory();
    // The keyring waits for the Secret Service with a local event loop: this runs on the
    // database thread, never the GUI thread.
    database()->run(
            [name, keyDir](Db::Connection &connection) {
                SecretsOutcome outcome;
                std::unique_ptr<Secrets::KeyStore> store;
                if (keyDir.isEmpty())
                    store = std::make_unique<Secrets::KeychainKeyStore>();
                else
                    store = std::make_unique<Secrets::FileKeyStore>(keyDir);
                auto key = store->load(QStringLiteral("worker-key"));
                if (!key) {
                    outcome.error = key.error().code == u"secrets.not_found"
                            ? QObject::tr("This host has no worker key in %1, so it cannot "
                                          "open the stored secrets. Type them again to test, "
                                          "or run 'postdeskctl worker init' and have an admin "
                                          "authorise this host.")
                                      .arg(store->describe())
                            : key.error().toString();
                    return QVariant::fromValue(outcome);
                }
                auto pair = Secrets::KeyPair::fromPrivateKey(*key);
                Providers::ProviderRepository repository(connection);
                auto record = repository.find(name);
                if (!pair || !record) {
                    outcome.error = !pair ? pair.error().toString() : record.error().toString();
                    return QVariant::fromValue(outcome);
                }
                auto secrets = repository.openSecrets(*record, *pair);
                if (secrets)
                    outcome.secrets = *secrets;
                else
                    outcome.error = secrets.error().toString();
                return QVariant::fromValue(outcome);
            },
            this,
            [this](const QVariant &result, const QString &error) {
                const auto outcome = result.value<SecretsOutcome>();
                m_form->continueWithStoredSecrets(outcome.secrets,
                                                  error.isEmpty() ? outcome.error : error);
            });
}
