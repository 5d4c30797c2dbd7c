#include "providerform.h"

#include "mime/address.h"
#include "mime/dkimsigner.h"
#include "providers/providerconfig.h"
#include "providers/providerurl.h"
#include "providers/smtp/smtptransport.h"
#include "providers/testmessage.h"
#include "providers/transport.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTreeWidget>
#include <QUrl>
#include <QUrlQuery>
#include <QVBoxLayout>

namespace {

// Stands in for a secret the form leaves unchanged, so the URL can be checked; never saved.
const QString placeholderSecret = QStringLiteral("postdesk-unchanged-secret");

const QStringList typeOrder{QStringLiteral("smtp"),     QStringLiteral("sendgrid"),
                            QStringLiteral("mailgun"),  QStringLiteral("ses"),
                            QStringLiteral("postmark"), QStringLiteral("http"),
                            QStringLiteral("sandbox")};

QLineEdit *secretEdit(QWidget *parent, const QString &objectName)
{
    auto *edit = new QLineEdit(parent);
    edit->setObjectName(objectName);
    edit->setEchoMode(QLineEdit::Password);
    return edit;
}

QString enc(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

// edit with a Browse… button that fills it with a chosen file.
QHBoxLayout *browseRow(QWidget *parent, QLineEdit *edit)
{
    auto *row = new QHBoxLayout;
    row->addWidget(edit, 1);
    auto *browse = new QPushButton(QObject::tr("Browse…"), parent);
    QObject::connect(browse, &QPushButton::clicked, parent, [parent, edit] {
        const QString file = QFileDialog::getOpenFileName(parent, QObject::tr("Choose a file"));
        if (!file.isEmpty())
            edit->setText(file);
    });
    row->addWidget(browse);
    return row;
}

} // namespace

ProviderForm::ProviderForm(QWidget *parent)
    : QWidget(parent)
{
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("cardTitle"));
    outer->addWidget(m_title);

    auto *columns = new QHBoxLayout;
    outer->addLayout(columns, 1);

    // Left: the settings.
    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto *settings = new QWidget(scroll);
    auto *settingsLayout = new QVBoxLayout(settings);
    settingsLayout->setContentsMargins(0, 0, 8, 0);
    scroll->setWidget(settings);
    columns->addWidget(scroll, 1);

    auto *general = new QGroupBox(tr("Provider"), settings);
    auto *form = new QFormLayout(general);
    m_name = new QLineEdit(general);
    m_name->setObjectName(QStringLiteral("providerName"));
    m_name->setPlaceholderText(tr("e.g. main-relay"));
    m_type = new QComboBox(general);
    m_type->setObjectName(QStringLiteral("providerType"));
    const QStringList labels{tr("SMTP"),
                             tr("SendGrid"),
                             tr("Mailgun"),
                             tr("Amazon SES"),
                             tr("Postmark"),
                             tr("Custom HTTP (JSON)"),
                             tr("Sandbox (keeps mail in the database)")};
    for (int i = 0; i < typeOrder.size(); ++i)
        m_type->addItem(labels.at(i), typeOrder.at(i));
    m_enabled = new QCheckBox(tr("Send through this provider"), general);
    m_enabled->setObjectName(QStringLiteral("providerEnabled"));
    m_priority = new QSpinBox(general);
    m_priority->setObjectName(QStringLiteral("providerPriority"));
    m_priority->setRange(0, 100000);
    m_priority->setToolTip(tr("Failover order: lower is tried first."));
    m_rate = new QLineEdit(general);
    m_rate->setObjectName(QStringLiteral("providerRate"));
    m_rate->setPlaceholderText(tr("e.g. 10/s, 1000/h (empty: no limit)"));
    m_pool = new QSpinBox(general);
    m_pool->setObjectName(QStringLiteral("providerPool"));
    m_pool->setRange(1, 100);
    m_from = new QLineEdit(general);
    m_from->setObjectName(QStringLiteral("providerFrom"));
    m_from->setPlaceholderText(tr("e.g. News <news@example.org>"));
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Type"), m_type);
    form->addRow(QString(), m_enabled);
    form->addRow(tr("Priority"), m_priority);
    form->addRow(tr("Rate limits"), m_rate);
    form->addRow(tr("Pool size"), m_pool);
    form->addRow(tr("Default From"), m_from);
    settingsLayout->addWidget(general);

    m_typePages = new QStackedWidget(settings);
    m_typePages->addWidget(buildSmtpPage());
    buildHttpPages();
    settingsLayout->addWidget(m_typePages);

    auto *dkim = new QGroupBox(tr("DKIM signing (optional)"), settings);
    auto *dkimForm = new QFormLayout(dkim);
    m_dkimDomain = new QLineEdit(dkim);
    m_dkimDomain->setObjectName(QStringLiteral("dkimDomain"));
    m_dkimSelector = new QLineEdit(dkim);
    m_dkimSelector->setObjectName(QStringLiteral("dkimSelector"));
    m_dkimKeyFile = new QLineEdit(dkim);
    m_dkimKeyFile->setObjectName(QStringLiteral("dkimKeyFile"));
    QHBoxLayout *keyRow = browseRow(dkim, m_dkimKeyFile);
    dkimForm->addRow(tr("Domain (d=)"), m_dkimDomain);
    dkimForm->addRow(tr("Selector (s=)"), m_dkimSelector);
    dkimForm->addRow(tr("Private key (PEM)"), keyRow);
    settingsLayout->addWidget(dkim);

    auto *where = new QLabel(tr("Passwords, API keys and the DKIM key are sealed to the authorised "
                                "worker hosts and are not readable back, not even here. When "
                                "editing, leave a secret empty to keep the stored one."),
                             settings);
    where->setObjectName(QStringLiteral("secretsNote"));
    where->setWordWrap(true);
    settingsLayout->addWidget(where);
    settingsLayout->addStretch(1);

    // Right: checks, problems, conflict and the buttons.
    auto *side = new QVBoxLayout;
    columns->addLayout(side, 1);
    auto *checks = new QGroupBox(tr("Test"), this);
    auto *checksLayout = new QVBoxLayout(checks);
    auto *testRow = new QHBoxLayout;
    m_testButton = new QPushButton(tr("Test connection"), checks);
    m_testButton->setObjectName(QStringLiteral("testConnection"));
    m_testButton->setToolTip(tr("Checks DNS, TCP, TLS, EHLO and AUTH (or the API credentials) "
                                "without sending mail."));
    testRow->addWidget(m_testButton);
    testRow->addStretch(1);
    checksLayout->addLayout(testRow);
    m_steps = new QTreeWidget(checks);
    m_steps->setObjectName(QStringLiteral("diagnostics"));
    m_steps->setHeaderLabels({tr("Step"), tr("Result"), tr("Time"), tr("Detail")});
    m_steps->setRootIsDecorated(true);
    m_steps->setWordWrap(true);
    m_steps->header()->setStretchLastSection(true);
    m_steps->setColumnWidth(0, 230);
    m_steps->setColumnWidth(1, 60);
    m_steps->setColumnWidth(2, 60);
    checksLayout->addWidget(m_steps, 1);
    m_testResult = new QLabel(checks);
    m_testResult->setObjectName(QStringLiteral("testResult"));
    m_testResult->setWordWrap(true);
    m_testResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    checksLayout->addWidget(m_testResult);
    auto *sendRow = new QHBoxLayout;
    m_testTo = new QLineEdit(checks);
    m_testTo->setObjectName(QStringLiteral("testRecipient"));
    m_testTo->setPlaceholderText(tr("Send a test email to…"));
    m_sendButton = new QPushButton(tr("Send test email"), checks);
    m_sendButton->setObjectName(QStringLiteral("sendTest"));
    sendRow->addWidget(m_testTo, 1);
    sendRow->addWidget(m_sendButton);
    checksLayout->addLayout(sendRow);
    m_sendResult = new QLabel(checks);
    m_sendResult->setObjectName(QStringLiteral("sendResult"));
    m_sendResult->setWordWrap(true);
    m_sendResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    checksLayout->addWidget(m_sendResult);
    side->addWidget(checks, 1);

    m_conflictBox = new QGroupBox(tr("Someone else saved this provider"), this);
    m_conflictBox->setObjectName(QStringLiteral("conflictBox"));
    auto *conflictLayout = new QVBoxLayout(m_conflictBox);
    m_conflictLabel = new QLabel(m_conflictBox);
    m_conflictLabel->setObjectName(QStringLiteral("conflictText"));
    m_conflictLabel->setWordWrap(true);
    m_conflictLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    conflictLayout->addWidget(m_conflictLabel);
    auto *conflictButtons = new QHBoxLayout;
    auto *reload = new QPushButton(tr("Reload their version"), m_conflictBox);
    reload->setObjectName(QStringLiteral("conflictReload"));
    auto *overwrite = new QPushButton(tr("Overwrite with mine"), m_conflictBox);
    overwrite->setObjectName(QStringLiteral("conflictOverwrite"));
    conflictButtons->addWidget(reload);
    conflictButtons->addWidget(overwrite);
    conflictButtons->addStretch(1);
    conflictLayout->addLayout(conflictButtons);
    m_conflictBox->hide();
    side->addWidget(m_conflictBox);

    m_problemsLabel = new QLabel(this);
    m_problemsLabel->setObjectName(QStringLiteral("formProblems"));
    m_problemsLabel->setWordWrap(true);
    m_problemsLabel->setStyleSheet(QStringLiteral("color: #b02020;"));
    side->addWidget(m_problemsLabel);

    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    auto *cancel = new QPushButton(tr("Back to the list"), this);
    cancel->setObjectName(QStringLiteral("formCancel"));
    m_save = new QPushButton(tr("Save"), this);
    m_save->setObjectName(QStringLiteral("formSave"));
    m_save->setDefault(true);
    buttons->addWidget(cancel);
    buttons->addWidget(m_save);
    side->addLayout(buttons);

    connect(m_type, &QComboBox::currentIndexChanged, this, [this](int index) {
        m_typePages->setCurrentIndex(index);
        revalidate();
    });
    for (QLineEdit *edit : findChildren<QLineEdit *>()) {
        if (edit != m_testTo)
            connect(edit, &QLineEdit::textChanged, this, &ProviderForm::revalidate);
    }
    for (QSpinBox *spin : findChildren<QSpinBox *>())
        connect(spin, &QSpinBox::valueChanged, this, &ProviderForm::revalidate);
    for (QComboBox *combo : findChildren<QComboBox *>())
        connect(combo, &QComboBox::currentIndexChanged, this, &ProviderForm::revalidate);
    connect(m_enabled, &QCheckBox::toggled, this, &ProviderForm::revalidate);
    connect(m_httpHeaders, &QPlainTextEdit::textChanged, this, &ProviderForm::revalidate);
    connect(m_save, &QPushButton::clicked, this, [this] {
        m_conflictBox->hide();
        Q_EMIT saveRequested();
    });
    connect(cancel, &QPushButton::clicked, this, &ProviderForm::cancelled);
    connect(m_testButton, &QPushButton::clicked, this, [this] { startAction(Action::Test); });
    connect(m_sendButton, &QPushButton::clicked, this, [this] { startAction(Action::Send); });
    connect(m_testTo, &QLineEdit::textChanged, this, [this] { revalidate(); });
    connect(reload, &QPushButton::clicked, this, [this] {
        m_conflictBox->hide();
        Q_EMIT reloadRequested(m_base.name);
    });
    connect(overwrite, &QPushButton::clicked, this, [this] {
        m_conflictBox->hide();
        if (m_storedRevision >= 0)
            acceptStoredRevision(m_storedRevision);
        Q_EMIT saveRequested();
    });
    startNew(100);
}

QWidget *ProviderForm::buildSmtpPage()
{
    auto *box = new QGroupBox(tr("SMTP server"));
    auto *form = new QFormLayout(box);
    m_host = new QLineEdit(box);
    m_host->setObjectName(QStringLiteral("smtpHost"));
    m_host->setPlaceholderText(tr("e.g. smtp.example.org"));
    m_port = new QSpinBox(box);
    m_port->setObjectName(QStringLiteral("smtpPort"));
    m_port->setRange(1, 65535);
    m_port->setValue(587);
    m_security = new QComboBox(box);
    m_security->setObjectName(QStringLiteral("smtpSecurity"));
    m_security->addItem(tr("STARTTLS required"), QStringLiteral("smtp+starttls"));
    m_security->addItem(tr("STARTTLS when offered"), QStringLiteral("smtp"));
    m_security->addItem(tr("Implicit TLS (port 465)"), QStringLiteral("smtps"));
    m_auth = new QComboBox(box);
    m_auth->setObjectName(QStringLiteral("smtpAuth"));
    m_auth->addItem(tr("Automatic"), QString());
    m_auth->addItem(QStringLiteral("PLAIN"), QStringLiteral("plain"));
    m_auth->addItem(QStringLiteral("LOGIN"), QStringLiteral("login"));
    m_auth->addItem(QStringLiteral("XOAUTH2"), QStringLiteral("xoauth2"));
    m_user = new QLineEdit(box);
    m_user->setObjectName(QStringLiteral("smtpUser"));
    m_password = secretEdit(box, QStringLiteral("smtpPassword"));
    m_caFile = new QLineEdit(box);
    m_caFile->setObjectName(QStringLiteral("smtpCaFile"));
    m_caFile->setPlaceholderText(tr("empty: the system's certificate authorities"));
    QHBoxLayout *caRow = browseRow(box, m_caFile);
    m_connectTimeout = new QSpinBox(box);
    m_connectTimeout->setObjectName(QStringLiteral("smtpConnectTimeout"));
    m_connectTimeout->setRange(1, 600);
    m_connectTimeout->setValue(30);
    m_connectTimeout->setSuffix(tr(" s"));
    m_timeout = new QSpinBox(box);
    m_timeout->setObjectName(QStringLiteral("smtpTimeout"));
    m_timeout->setRange(1, 3600);
    m_timeout->setValue(300);
    m_timeout->setSuffix(tr(" s"));
    form->addRow(tr("Host"), m_host);
    form->addRow(tr("Port"), m_port);
    form->addRow(tr("Security"), m_security);
    form->addRow(tr("Authentication"), m_auth);
    form->addRow(tr("User name"), m_user);
    form->addRow(tr("Password"), m_password);
    form->addRow(tr("CA file"), caRow);
    form->addRow(tr("Connect timeout"), m_connectTimeout);
    form->addRow(tr("Reply timeout"), m_timeout);
    return box;
}

QWidget *ProviderForm::buildHttpPages()
{
    auto page = [this](const QString &title) {
        auto *box = new QGroupBox(title);
        m_typePages->addWidget(box);
        return new QFormLayout(box);
    };
    QFormLayout *sendgrid = page(tr("SendGrid"));
    m_sendgridKey = secretEdit(m_typePages, QStringLiteral("sendgridKey"));
    sendgrid->addRow(tr("API key"), m_sendgridKey);

    QFormLayout *mailgun = page(tr("Mailgun"));
    m_mailgunKey = secretEdit(m_typePages, QStringLiteral("mailgunKey"));
    m_mailgunDomain = new QLineEdit(m_typePages);
    m_mailgunDomain->setObjectName(QStringLiteral("mailgunDomain"));
    m_mailgunRegion = new QComboBox(m_typePages);
    m_mailgunRegion->setObjectName(QStringLiteral("mailgunRegion"));
    m_mailgunRegion->addItem(tr("US"), QStringLiteral("us"));
    m_mailgunRegion->addItem(tr("EU"), QStringLiteral("eu"));
    mailgun->addRow(tr("API key"), m_mailgunKey);
    mailgun->addRow(tr("Sending domain"), m_mailgunDomain);
    mailgun->addRow(tr("Region"), m_mailgunRegion);

    QFormLayout *ses = page(tr("Amazon SES"));
    m_sesRegion = new QLineEdit(m_typePages);
    m_sesRegion->setObjectName(QStringLiteral("sesRegion"));
    m_sesRegion->setPlaceholderText(tr("e.g. eu-west-1"));
    m_sesAccess = secretEdit(m_typePages, QStringLiteral("sesAccessKey"));
    m_sesSecret = secretEdit(m_typePages, QStringLiteral("sesSecret"));
    ses->addRow(tr("Region"), m_sesRegion);
    ses->addRow(tr("Access key ID"), m_sesAccess);
    ses->addRow(tr("Secret access key"), m_sesSecret);

    QFormLayout *postmark = page(tr("Postmark"));
    m_postmarkToken = secretEdit(m_typePages, QStringLiteral("postmarkToken"));
    m_postmarkStream = new QLineEdit(m_typePages);
    m_postmarkStream->setObjectName(QStringLiteral("postmarkStream"));
    m_postmarkStream->setPlaceholderText(QStringLiteral("outbound"));
    postmark->addRow(tr("Server token"), m_postmarkToken);
    postmark->addRow(tr("Message stream"), m_postmarkStream);

    QFormLayout *http = page(tr("Custom HTTP (JSON)"));
    m_httpUrl = new QLineEdit(m_typePages);
    m_httpUrl->setObjectName(QStringLiteral("httpUrl"));
    m_httpUrl->setPlaceholderText(QStringLiteral("https+json://api.example.org/send"));
    m_httpHeaders = new QPlainTextEdit(m_typePages);
    m_httpHeaders->setObjectName(QStringLiteral("httpHeaders"));
    m_httpHeaders->setPlaceholderText(
            tr("One 'Name: value' per line, e.g. Authorization: Bearer …"));
    m_httpHeaders->setMaximumHeight(80);
    http->addRow(tr("Endpoint URL"), m_httpUrl);
    http->addRow(tr("Headers (secret)"), m_httpHeaders);

    QFormLayout *sandbox = page(tr("Sandbox"));
    auto *note = new QLabel(tr("Messages are kept in the database's sandbox inbox and never leave "
                               "it: for trying templates and queues safely."),
                            m_typePages);
    note->setWordWrap(true);
    sandbox->addRow(note);
    return nullptr;
}

void ProviderForm::startNew(int priority)
{
    m_base = Providers::ProviderRecord{};
    m_base.priority = priority;
    m_storedRevision = -1;
    loadRecord(m_base);
    m_title->setText(tr("New provider"));
}

void ProviderForm::startEdit(const Providers::ProviderRecord &record)
{
    m_base = record;
    m_storedRevision = -1;
    loadRecord(record);
    m_title->setText(tr("Edit provider %1 (revision %2, saved by %3)")
                             .arg(record.name)
                             .arg(record.revision)
                             .arg(record.updatedBy));
}

void ProviderForm::loadRecord(const Providers::ProviderRecord &record)
{
    const QSignalBlocker blockType(m_type);
    m_name->setText(record.name);
    const int typeIndex = std::max(0,
                                   int(typeOrder.indexOf(record.type.isEmpty()
                                                                 ? QStringLiteral("smtp")
                                                                 : record.type)));
    m_type->setCurrentIndex(typeIndex);
    m_typePages->setCurrentIndex(typeIndex);
    m_enabled->setChecked(record.enabled);
    m_priority->setValue(record.priority);
    m_rate->setText(record.limits.toString());
    m_pool->setValue(record.poolSize);
    m_from->setText(record.defaultSender());
    m_dkimDomain->setText(record.options.value(QStringLiteral("dkim_domain")).toString());
    m_dkimSelector->setText(record.options.value(QStringLiteral("dkim_selector")).toString());
    m_dkimKeyFile->clear();
    for (QLineEdit *secret :
         {m_password, m_sendgridKey, m_mailgunKey, m_sesAccess, m_sesSecret, m_postmarkToken})
        secret->clear();
    m_httpHeaders->clear();

    const QUrl url(record.url());
    const QUrlQuery query(url);
    const bool stored = record.id != 0;
    const auto unchanged = [&](QWidget *edit, const QString &secret) {
        const QString text = stored && record.secretNames.contains(secret)
                ? tr("unchanged (stored sealed)")
                : QString();
        if (auto *line = qobject_cast<QLineEdit *>(edit))
            line->setPlaceholderText(text);
        else if (auto *plain = qobject_cast<QPlainTextEdit *>(edit))
            plain->setPlaceholderText(text.isEmpty() ? tr("One 'Name: value' per line") : text);
    };
    unchanged(m_password, QStringLiteral("password"));
    for (QLineEdit *key : {m_sendgridKey, m_mailgunKey, m_sesAccess, m_postmarkToken})
        unchanged(key, QStringLiteral("api_key"));
    unchanged(m_sesSecret, QStringLiteral("secret"));
    unchanged(m_httpHeaders, QStringLiteral("headers"));
    m_dkimKeyFile->setPlaceholderText(stored && record.secretNames.contains(u"dkim_key"_qs)
                                              ? tr("unchanged (stored sealed)")
                                              : QString());

    m_host->clear();
    m_user->clear();
    m_caFile->clear();
    m_port->setValue(587);
    m_security->setCurrentIndex(0);
    m_auth->setCurrentIndex(0);
    m_connectTimeout->setValue(30);
    m_timeout->setValue(300);
    m_mailgunDomain->clear();
    m_sesRegion->clear();
    m_postmarkStream->clear();
    m_httpUrl->clear();
    if (record.type == u"smtp" && url.isValid()) {
        m_host->setText(url.host());
        m_port->setValue(url.port(url.scheme() == u"smtps" ? 465 : 587));
        m_security->setCurrentIndex(std::max(0, m_security->findData(url.scheme())));
        m_user->setText(url.userName());
        m_auth->setCurrentIndex(std::max(0, m_auth->findData(query.queryItemValue(u"auth"_qs))));
        m_caFile->setText(query.queryItemValue(QStringLiteral("ca"), QUrl::FullyDecoded));
        if (query.hasQueryItem(QStringLiteral("connect_timeout")))
            m_connectTimeout->setValue(
                    int(query.queryItemValue(QStringLiteral("connect_timeout")).toDouble()));
        if (query.hasQueryItem(QStringLiteral("timeout")))
            m_timeout->setValue(int(query.queryItemValue(QStringLiteral("timeout")).toDouble()));
    } else if (record.type == u"mailgun") {
        m_mailgunDomain->setText(url.host());
        m_mailgunRegion->setCurrentIndex(
                std::max(0, m_mailgunRegion->findData(query.queryItemValue(u"region"_qs))));
    } else if (record.type == u"ses") {
        m_sesRegion->setText(url.host());
    } else if (record.type == u"postmark") {
        m_postmarkStream->setText(query.queryItemValue(QStringLiteral("stream")));
    } else if (record.type == u"http") {
        m_httpUrl->setText(record.url());
    }
    m_conflictBox->hide();
    m_steps->clear();
    m_testResult->clear();
    m_sendResult->clear();
    revalidate();
}

QString ProviderForm::buildUrl(bool *usesPlaceholder, QStringList *problems) const
{
    QString url = buildFormUrl(usesPlaceholder, problems);
    const QString type = m_type->currentData().toString();
    if (m_base.id == 0 || m_base.type != type || type == u"http" || type == u"sandbox")
        return url;
    // Options the form has no field for (helo, verify, per_connection, base_url, ...) stay as
    // they were stored: editing a provider here never drops them.
    const QUrlQuery stored(QUrl(m_base.url()).query());
    const bool hasQuery = url.contains(u'?');
    const QUrlQuery built(hasQuery ? url.mid(url.indexOf(u'?') + 1) : QString());
    QStringList extra;
    for (const auto &[key, value] : stored.queryItems(QUrl::FullyEncoded)) {
        if (!built.hasQueryItem(key) && !formManagedOptions(type).contains(key))
            extra << key + u'=' + value;
    }
    if (!extra.isEmpty())
        url += (hasQuery ? u'&' : u'?') + extra.join(u'&');
    return url;
}

QStringList ProviderForm::formManagedOptions(const QString &type)
{
    if (type == u"smtp")
        return {QStringLiteral("ca"), QStringLiteral("auth"), QStringLiteral("connect_timeout"),
                QStringLiteral("timeout")};
    if (type == u"mailgun")
        return {QStringLiteral("region")};
    if (type == u"postmark")
        return {QStringLiteral("stream")};
    return {};
}

QString ProviderForm::buildFormUrl(bool *usesPlaceholder, QStringList *problems) const
{
    const QString type = m_type->currentData().toString();
    const bool stored = m_base.id != 0 && m_base.type == type;
    // A secret field: what was typed, the placeholder for a stored one left unchanged, or empty.
    const auto secret = [&](QLineEdit *edit, const QString &name) {
        if (!edit->text().isEmpty())
            return edit->text();
        if (stored && m_base.secretNames.contains(name)) {
            *usesPlaceholder = true;
            return placeholderSecret;
        }
        return QString();
    };
    const auto required = [&](const QString &value, const QString &what) {
        if (value.trimmed().isEmpty())
            problems->append(tr("%1 is required.").arg(what));
    };
    if (type == u"smtp") {
        required(m_host->text(), tr("The SMTP host"));
        QUrl url;
        url.setScheme(m_security->currentData().toString());
        url.setHost(m_host->text().trimmed());
        url.setPort(m_port->value());
        const QString password = secret(m_password, QStringLiteral("password"));
        if (!m_user->text().isEmpty()) {
            url.setUserName(m_user->text());
            if (password.isEmpty() && m_auth->currentData().toString() != u"")
                problems->append(tr("A password is needed for %1 authentication.")
                                         .arg(m_auth->currentText()));
            if (!password.isEmpty())
                url.setPassword(password);
        } else if (!password.isEmpty()) {
            problems->append(tr("A password without a user name: give the user name too."));
        }
        QUrlQuery query;
        if (!m_caFile->text().isEmpty()) {
            if (!QFile::exists(m_caFile->text()))
                problems->append(tr("The CA file %1 does not exist.").arg(m_caFile->text()));
            query.addQueryItem(QStringLiteral("ca"), enc(m_caFile->text()));
        }
        if (!m_auth->currentData().toString().isEmpty())
            query.addQueryItem(QStringLiteral("auth"), m_auth->currentData().toString());
        if (m_connectTimeout->value() != 30)
            query.addQueryItem(QStringLiteral("connect_timeout"),
                               QString::number(m_connectTimeout->value()));
        if (m_timeout->value() != 300)
            query.addQueryItem(QStringLiteral("timeout"), QString::number(m_timeout->value()));
        url.setQuery(query);
        return url.toString(QUrl::FullyEncoded);
    }
    if (type == u"sendgrid") {
        const QString key = secret(m_sendgridKey, QStringLiteral("api_key"));
        required(key, tr("The API key"));
        return QStringLiteral("sendgrid://%1@").arg(enc(key));
    }
    if (type == u"mailgun") {
        const QString key = secret(m_mailgunKey, QStringLiteral("api_key"));
        required(key, tr("The API key"));
        required(m_mailgunDomain->text(), tr("The sending domain"));
        return QStringLiteral("mailgun://%1@%2?region=%3")
                .arg(enc(key), m_mailgunDomain->text().trimmed(),
                     m_mailgunRegion->currentData().toString());
    }
    if (type == u"ses") {
        const QString access = secret(m_sesAccess, QStringLiteral("api_key"));
        const QString secretKey = secret(m_sesSecret, QStringLiteral("secret"));
        required(m_sesRegion->text(), tr("The AWS region"));
        required(access, tr("The access key ID"));
        required(secretKey, tr("The secret access key"));
        return QStringLiteral("ses://%1:%2@%3")
                .arg(enc(access), enc(secretKey), m_sesRegion->text().trimmed());
    }
    if (type == u"postmark") {
        const QString token = secret(m_postmarkToken, QStringLiteral("api_key"));
        required(token, tr("The server token"));
        QString url = QStringLiteral("postmark://%1@").arg(enc(token));
        if (!m_postmarkStream->text().trimmed().isEmpty())
            url += QStringLiteral("?stream=") + enc(m_postmarkStream->text().trimmed());
        return url;
    }
    if (type == u"http") {
        required(m_httpUrl->text(), tr("The endpoint URL"));
        QUrl url(m_httpUrl->text().trimmed());
        QUrlQuery query(url);
        const QStringList lines = m_httpHeaders->toPlainText().split(u'\n', Qt::SkipEmptyParts);
        for (const QString &line : lines) {
            const qsizetype colon = line.indexOf(u':');
            if (colon <= 0) {
                problems->append(tr("The header line '%1' is not 'Name: value'.").arg(line));
                continue;
            }
            query.addQueryItem(QStringLiteral("header"),
                               enc(line.left(colon).trimmed() + u':'
                                   + line.mid(colon + 1).trimmed()));
        }
        if (lines.isEmpty() && stored && m_base.secretNames.contains(u"headers"_qs))
            *usesPlaceholder = true; // the stored headers stay
        url.setQuery(query);
        return url.toString(QUrl::FullyEncoded);
    }
    return QStringLiteral("sandbox:");
}

void ProviderForm::revalidate()
{
    QStringList problems;
    ProviderDraft draft;
    draft.record = m_base;
    Providers::ProviderRecord &r = draft.record;
    r.name = m_name->text().trimmed();
    if (r.name.isEmpty())
        problems << tr("Give the provider a name.");
    r.enabled = m_enabled->isChecked();
    r.priority = m_priority->value();
    r.poolSize = m_pool->value();
    auto limits = Providers::RateLimits::parse(m_rate->text());
    if (limits)
        r.limits = *limits;
    else
        problems << limits.error().message;

    bool placeholder = false;
    const QString url = buildUrl(&placeholder, &problems);
    m_needsStoredSecrets = placeholder;
    auto config = Providers::ProviderConfig::fromUrl(url, QProcessEnvironment());
    if (!config) {
        problems << config.error().toString().replace(placeholderSecret, QStringLiteral("…"));
    } else {
        r.type = config->type;
        r.options.insert(QStringLiteral("url"), config->storedUrl);
        for (auto it = config->secrets.cbegin(); it != config->secrets.cend(); ++it) {
            if (it.value() != placeholderSecret.toUtf8())
                draft.secrets.insert(it.key(), it.value());
        }
    }
    const QString from = m_from->text().trimmed();
    if (from.isEmpty()) {
        r.options.remove(QStringLiteral("from"));
    } else if (auto address = Mime::Address::parse(from); !address) {
        problems << tr("Default From: %1").arg(address.error().message);
    } else {
        r.options.insert(QStringLiteral("from"), from);
    }

    const QString dkimDomain = m_dkimDomain->text().trimmed();
    const QString dkimSelector = m_dkimSelector->text().trimmed();
    const QString keyFile = m_dkimKeyFile->text().trimmed();
    const bool storedKey = m_base.secretNames.contains(u"dkim_key"_qs);
    r.options.remove(QStringLiteral("dkim_domain"));
    r.options.remove(QStringLiteral("dkim_selector"));
    if (!dkimDomain.isEmpty() || !dkimSelector.isEmpty() || !keyFile.isEmpty()) {
        if (dkimDomain.isEmpty() || dkimSelector.isEmpty() || (keyFile.isEmpty() && !storedKey)) {
            problems << tr("DKIM signing needs the domain, the selector and the private key.");
        } else {
            r.options.insert(QStringLiteral("dkim_domain"), dkimDomain);
            r.options.insert(QStringLiteral("dkim_selector"), dkimSelector);
        }
        if (!keyFile.isEmpty()) {
            QFile file(keyFile);
            if (!file.open(QIODevice::ReadOnly)) {
                problems << tr("Cannot read the DKIM key file %1.").arg(keyFile);
            } else {
                const QByteArray pem = file.readAll();
                if (auto signer = Mime::DkimSigner::fromPem(pem, dkimDomain, dkimSelector); !signer)
                    problems << tr("DKIM key: %1").arg(signer.error().message);
                else
                    draft.secrets.insert(QStringLiteral("dkim_key"), pem);
            }
        }
    }
    if (const QStringList more = Providers::ProviderRepository::validate(r); !more.isEmpty()) {
        for (const QString &p : more) {
            if (!problems.contains(p))
                problems << p;
        }
    }
    m_problems = problems;
    m_draft = draft;
    m_problemsLabel->setText(problems.isEmpty() ? QString()
                                                : QStringLiteral("• ") + problems.join(u"\n• "_qs));
    m_save->setEnabled(problems.isEmpty());
    const bool canTest = problems.isEmpty() || (problems.size() == 1 && r.name.isEmpty());
    m_testButton->setEnabled(canTest && r.type != u"sandbox");
    m_sendButton->setEnabled(canTest && !m_testTo->text().trimmed().isEmpty());
}

void ProviderForm::acceptStoredRevision(int revision)
{
    m_base.revision = revision;
    m_draft.record.revision = revision;
}

// The editable fields as the repository compares them.
static QJsonObject editableFields(const Providers::ProviderRecord &p)
{
    return QJsonObject{{QStringLiteral("name"), p.name},
                       {QStringLiteral("type"), p.type},
                       {QStringLiteral("enabled"), p.enabled},
                       {QStringLiteral("priority"), p.priority},
                       {QStringLiteral("limits"), p.limits.toString()},
                       {QStringLiteral("pool_size"), p.poolSize},
                       {QStringLiteral("options"), p.options}};
}

void ProviderForm::showConflict(const Providers::ProviderConflict &conflict, const QString &message)
{
    m_storedRevision = conflict.stored.revision;
    // What the other editor changed: the stored value against the one this form started from
    // (the repository's changedFields also names the fields this form changed itself).
    const QJsonObject theirs = editableFields(conflict.stored);
    const QJsonObject started = editableFields(m_base);
    const QJsonObject mine = editableFields(m_draft.record);
    const auto text = [](const QJsonValue &v) { return v.toVariant().toString(); };
    QStringList lines;
    for (auto it = theirs.constBegin(); it != theirs.constEnd(); ++it) {
        const QString &field = it.key();
        if (it.value().isObject()) {
            const QJsonObject stored = it.value().toObject();
            const QJsonObject before = started.value(field).toObject();
            const QJsonObject now = mine.value(field).toObject();
            QStringList keys = stored.keys() + before.keys();
            keys.removeDuplicates();
            for (const QString &key : std::as_const(keys)) {
                if (stored.value(key) != before.value(key))
                    lines << tr("%1: theirs “%2”, yours “%3”")
                                     .arg(key, text(stored.value(key)), text(now.value(key)));
            }
        } else if (it.value() != started.value(field)) {
            lines << tr("%1: theirs “%2”, yours “%3”")
                             .arg(field, text(it.value()), text(mine.value(field)));
        }
    }
    if (lines.isEmpty())
        lines << tr("(only health or secrets changed)");
    m_conflictLabel->setText(message + u"\n\n" + tr("Changed by them:") + u'\n' + lines.join(u'\n'));
    m_conflictBox->show();
}

void ProviderForm::showSaveError(const QString &message)
{
    m_problemsLabel->setText(message);
}

void ProviderForm::setBusy(bool busy)
{
    m_testButton->setEnabled(!busy);
    m_sendButton->setEnabled(!busy && !m_testTo->text().trimmed().isEmpty());
    if (!busy)
        revalidate();
}

void ProviderForm::startAction(Action action)
{
    revalidate();
    m_pending = action;
    if (action == Action::Test) {
        m_steps->clear();
        m_testResult->setText(tr("Checking…"));
    } else {
        m_sendResult->setText(tr("Sending…"));
    }
    setBusy(true);
    if (m_needsStoredSecrets) {
        // Secrets the form leaves unchanged are opened with this host's worker key by the page.
        Q_EMIT storedSecretsNeeded(m_base);
        return;
    }
    runAction({});
}

void ProviderForm::continueWithStoredSecrets(const QMap<QString, QByteArray> &secrets,
                                             const QString &error)
{
    if (m_pending == Action::None)
        return;
    if (!error.isEmpty()) {
        (m_pending == Action::Test ? m_testResult : m_sendResult)->setText(error);
        m_pending = Action::None;
        setBusy(false);
        return;
    }
    runAction(secrets);
}

void ProviderForm::runAction(const QMap<QString, QByteArray> &storedSecrets)
{
    const Action action = std::exchange(m_pending, Action::None);
    QLabel *result = action == Action::Test ? m_testResult : m_sendResult;
    QMap<QString, QByteArray> secrets = storedSecrets;
    for (auto it = m_draft.secrets.cbegin(); it != m_draft.secrets.cend(); ++it)
        secrets.insert(it.key(), it.value());
    const Providers::ProviderRecord &r = m_draft.record;
    auto settings = Providers::ProviderConfig::build(r.type, r.url(), secrets);
    if (!settings) {
        result->setText(settings.error().toString());
        setBusy(false);
        return;
    }
    if (settings->kind() == Providers::ProviderKind::Smtp)
        settings->smtp().maxConnections = 1;
    delete m_diagnostics;
    if (m_transport)
        m_transport->deleteLater();
    auto transport = Providers::Transport::create(*settings, this);
    if (!transport) {
        result->setText(transport.error().toString());
        setBusy(false);
        return;
    }
    m_transport = *transport;
    if (action == Action::Test)
        runDiagnostics(m_transport);
    else
        runSend(m_transport, secrets);
}

void ProviderForm::runDiagnostics(Providers::Transport *transport)
{
    m_diagnostics = transport->createDiagnostics(this);
    connect(m_diagnostics, &Providers::Diagnostics::stepStarted, this,
            [this](const QString &id, const QString &title) {
                auto *item = new QTreeWidgetItem(m_steps, {title, tr("…"), QString(), QString()});
                item->setData(0, Qt::UserRole, id);
            });
    connect(m_diagnostics, &Providers::Diagnostics::stepFinished, this, [this](const Providers::DiagnosticStep &step) {
        QTreeWidgetItem *item = nullptr;
        for (int i = m_steps->topLevelItemCount() - 1; i >= 0 && !item; --i) {
            if (m_steps->topLevelItem(i)->data(0, Qt::UserRole).toString() == step.id)
                item = m_steps->topLevelItem(i);
        }
        if (!item) {
            item = new QTreeWidgetItem(m_steps);
            item->setData(0, Qt::UserRole, step.id);
        }
        const QString status = step.skipped ? tr("skipped") : step.ok ? tr("ok") : tr("FAILED");
        item->setText(0, step.title);
        item->setText(1, status);
        item->setText(2, tr("%1 ms").arg(step.durationMs));
        item->setText(3, step.detail);
        item->setToolTip(3, step.detail);
        item->setForeground(1, step.ok ? QColor(0x1e, 0x7d, 0x32) : QColor(0xb0, 0x20, 0x20));
        for (const Providers::DiagnosticFact &fact : step.facts) {
            if (fact.value.isEmpty())
                continue;
            auto *child = new QTreeWidgetItem(item, {fact.name, QString(), QString(), fact.value});
            child->setToolTip(3, fact.value);
        }
        item->setExpanded(step.id == u"tls" || !step.ok);
    });
    connect(m_diagnostics, &Providers::Diagnostics::finished, this,
            [this](const Providers::DiagnosticReport &report) {
                if (report.ok()) {
                    m_testResult->setText(
                            tr("All checks passed in %1 ms. Nothing was sent.").arg(report.totalMs));
                } else if (!report.steps.isEmpty()) {
                    const auto &failed = report.steps.last();
                    m_testResult->setText(tr("%1 failed: %2").arg(failed.title, failed.detail));
                }
                setBusy(false);
            });
    m_diagnostics->start();
}

void ProviderForm::runSend(Providers::Transport *transport, const QMap<QString, QByteArray> &secrets)
{
    const Providers::ProviderRecord &r = m_draft.record;
    auto message = Providers::composeTestMessage(r.name.isEmpty() ? tr("(unsaved)") : r.name,
                                                 r.defaultSender(), m_testTo->text().trimmed());
    if (!message) {
        m_sendResult->setText(message.error().toString());
        setBusy(false);
        return;
    }
    const QString dkimDomain = r.options.value(QStringLiteral("dkim_domain")).toString();
    if (!dkimDomain.isEmpty() && secrets.contains(QStringLiteral("dkim_key"))) {
        auto signer = Mime::DkimSigner::fromPem(secrets.value(QStringLiteral("dkim_key")),
                                                dkimDomain,
                                                r.options.value(QStringLiteral("dkim_selector"))
                                                        .toString());
        auto signedData = signer ? signer->sign(message->data)
                                 : Common::Result<QByteArray>(tl::unexpected(signer.error()));
        if (!signedData) {
            m_sendResult->setText(signedData.error().toString());
            setBusy(false);
            return;
        }
        message->data = *signedData;
    }
    connect(transport, &Providers::Transport::sent, this,
            [this, transport](Providers::Transport::Ticket, const Providers::SendResult &result) {
                if (result.ok()) {
                    QString text = tr("Sent to %1.\nMessage-ID: <%2>")
                                           .arg(result.accepted.join(QStringLiteral(", ")),
                                                result.messageId);
                    if (!result.serverReply.isEmpty())
                        text += tr("\nServer reply: %1").arg(result.serverReply);
                    if (!result.providerMessageId.isEmpty())
                        text += tr("\nProvider id: %1").arg(result.providerMessageId);
                    m_sendResult->setText(text);
                } else {
                    m_sendResult->setText(tr("Not sent: %1").arg(result.error->toString()));
                }
                transport->closeIdle();
                setBusy(false);
            });
    transport->send(*message);
}
