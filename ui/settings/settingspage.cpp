#include "settingspage.h"

#include "common/pageheader.h"
#include "db/connection.h"
#include "db/connectioninfo.h"
#include "db/databaseconfig.h"
#include "db/localcluster.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QCoreApplication>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

SettingsPage::SettingsPage(QWidget *parent)
    : Page(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 20, 24, 16);
    layout->setSpacing(10);
    auto *header = new PageHeader(tr("Settings"), tr("Where Postdesk keeps its data."), this);
    layout->addWidget(header);

    auto *card = new QWidget(this);
    card->setObjectName(QStringLiteral("card"));
    card->setAttribute(Qt::WA_StyledBackground);
    auto *form = new QVBoxLayout(card);
    form->setContentsMargins(16, 14, 16, 14);
    auto *title = new QLabel(tr("Database"), card);
    title->setObjectName(QStringLiteral("cardTitle"));
    m_embedded =
            new QRadioButton(tr("Embedded database (a private PostgreSQL that Postdesk runs in %1)")
                                     .arg(Db::LocalCluster::defaultBaseDir()),
                             card);
    m_embedded->setObjectName(QStringLiteral("embeddedDatabase"));
    m_external = new QRadioButton(tr("An existing PostgreSQL server:"), card);
    m_external->setObjectName(QStringLiteral("externalDatabase"));
    auto *group = new QButtonGroup(this);
    group->addButton(m_embedded);
    group->addButton(m_external);
    m_conninfo = new QLineEdit(card);
    m_conninfo->setObjectName(QStringLiteral("connectionString"));
    m_conninfo->setPlaceholderText(QStringLiteral(
            "host=db.example.org dbname=postdesk user=postdesk sslmode=verify-full"));
    m_conninfo->setToolTip(tr("A libpq connection string or URI. What it leaves out comes from "
                              "the PG* environment variables and ~/.pgpass; keep passwords in "
                              "~/.pgpass rather than here."));
    m_validation = new QLabel(card);
    m_validation->setObjectName(QStringLiteral("cardDetail"));
    m_validation->setWordWrap(true);

    auto *buttons = new QHBoxLayout;
    m_test = new QPushButton(tr("Test connection"), card);
    m_test->setObjectName(QStringLiteral("testDatabase"));
    m_save = new QPushButton(tr("Save and reconnect"), card);
    m_save->setObjectName(QStringLiteral("primary"));
    buttons->addWidget(m_test);
    buttons->addWidget(m_save);
    buttons->addStretch(1);
    m_result = new QLabel(card);
    m_result->setObjectName(QStringLiteral("databaseTestResult"));
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);

    form->addWidget(title);
    form->addWidget(m_embedded);
    form->addWidget(m_external);
    form->addWidget(m_conninfo);
    form->addWidget(m_validation);
    form->addLayout(buttons);
    form->addWidget(m_result);
    layout->addWidget(card);
    layout->addWidget(createWorkersCard());
    layout->addStretch(1);

    connect(m_embedded, &QRadioButton::toggled, this, &SettingsPage::updateEnabled);
    connect(m_conninfo, &QLineEdit::textChanged, this, &SettingsPage::updateEnabled);
    connect(m_test, &QPushButton::clicked, this, &SettingsPage::handleTest);
    connect(m_save, &QPushButton::clicked, this, &SettingsPage::handleSave);
    loadSaved();
}

QWidget *SettingsPage::createWorkersCard()
{
    auto *card = new QWidget(this);
    card->setObjectName(QStringLiteral("card"));
    card->setAttribute(Qt::WA_StyledBackground);
    auto *form = new QVBoxLayout(card);
    form->setContentsMargins(16, 14, 16, 14);
    auto *title = new QLabel(tr("Sending"), card);
    title->setObjectName(QStringLiteral("cardTitle"));
    m_runWorkers = new QCheckBox(tr("Send queued mail from this computer while Postdesk is open"),
                                 card);
    m_runWorkers->setObjectName(QStringLiteral("runWorkers"));
    auto *threadsRow = new QHBoxLayout;
    m_workerThreads = new QSpinBox(card);
    m_workerThreads->setObjectName(QStringLiteral("workerThreads"));
    m_workerThreads->setRange(1, 16);
    threadsRow->addWidget(new QLabel(tr("Workers:"), card));
    threadsRow->addWidget(m_workerThreads);
    threadsRow->addStretch(1);
    auto *hint =
            new QLabel(tr("Each worker has its own database connection and sends several "
                          "messages at once. On a server, run 'postdeskd --workers N' instead; "
                          "any number of computers may send from the same database."),
                       card);
    hint->setObjectName(QStringLiteral("cardDetail"));
    hint->setWordWrap(true);
    form->addWidget(title);
    form->addWidget(m_runWorkers);
    form->addLayout(threadsRow);
    form->addWidget(hint);

    QSettings settings;
    m_runWorkers->setChecked(settings.value(QStringLiteral("workers/in_process"), false).toBool());
    m_workerThreads->setValue(settings.value(QStringLiteral("workers/threads"), 2).toInt());
    const auto save = [this] {
        QSettings settings;
        settings.setValue(QStringLiteral("workers/in_process"), m_runWorkers->isChecked());
        settings.setValue(QStringLiteral("workers/threads"), m_workerThreads->value());
        Q_EMIT workersChanged(m_runWorkers->isChecked(), m_workerThreads->value());
    };
    connect(m_runWorkers, &QCheckBox::toggled, this, save);
    connect(m_workerThreads, &QSpinBox::editingFinished, this, save);
    return card;
}

bool SettingsPage::runWorkersSetting()
{
    return QSettings().value(QStringLiteral("workers/in_process"), false).toBool();
}

int SettingsPage::workerThreadsSetting()
{
    return QSettings().value(QStringLiteral("workers/threads"), 2).toInt();
}

void SettingsPage::loadSaved()
{
    const QString saved = Db::DatabaseConfig::savedConnectionString();
    m_conninfo->setText(saved);
    (saved.isEmpty() ? m_embedded : m_external)->setChecked(true);
    updateEnabled();
}

QString SettingsPage::chosenConnectionString() const
{
    return m_embedded->isChecked() ? QString() : m_conninfo->text().trimmed();
}

void SettingsPage::updateEnabled()
{
    m_conninfo->setEnabled(m_external->isChecked());
    bool valid = true;
    if (m_external->isChecked()) {
        auto parsed = Db::ConnectionInfo::parse(m_conninfo->text());
        valid = parsed.has_value() && !m_conninfo->text().trimmed().isEmpty();
        if (m_conninfo->text().trimmed().isEmpty())
            m_validation->setText(tr("Enter a connection string, e.g. host=... dbname=..."));
        else if (!parsed)
            m_validation->setText(parsed.error().message);
        else
            m_validation->setText(tr("Connects to %1").arg(parsed->describe()));
    } else {
        m_validation->clear();
    }
    m_test->setEnabled(valid && !m_testing);
    m_save->setEnabled(valid);
}

void SettingsPage::handleTest()
{
    const QString conninfo = chosenConnectionString();
    auto config = conninfo.isEmpty()
            ? Common::Result<Db::DatabaseConfig>(Db::DatabaseConfig::embedded())
            : Db::DatabaseConfig::external(conninfo);
    if (!config) {
        m_result->setText(config.error().message);
        return;
    }
    m_testing = true;
    updateEnabled();
    m_result->setText(tr("Connecting to %1…").arg(config->describe()));
    // The connection attempt blocks, so it runs on a thread of its own; the answer comes back
    // to the GUI thread through a queued call.
    QPointer<SettingsPage> self(this);
    QThread *thread = QThread::create([self, config = *config] {
        auto opened = config.open(
                Db::DatabaseConfig::OpenOptions{false, QStringLiteral("postdesk-test")});
        QString text;
        if (opened) {
            text = tr("Connected to PostgreSQL %1 (%2).")
                           .arg((*opened)->serverVersionString(), config.describe());
        } else {
            text = opened.error().toString();
        }
        QMetaObject::invokeMethod(
                qApp,
                [self, text] {
                    if (!self)
                        return;
                    self->m_testing = false;
                    self->m_result->setText(text);
                    self->updateEnabled();
                },
                Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

void SettingsPage::handleSave()
{
    Db::DatabaseConfig::saveConnectionString(chosenConnectionString());
    m_result->setText(tr("Saved. Reconnecting…"));
    Q_EMIT databaseChanged();
}
