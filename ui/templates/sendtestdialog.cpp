#include "sendtestdialog.h"

#include "db/connection.h"
#include "delivery/providerset.h"
#include "delivery/workerpool.h"
#include "mime/message.h"
#include "providers/providerurl.h"
#include "providers/transport.h"
#include "secrets/sealedbox.h"

#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

namespace {
constexpr qint64 otherUrl = -1;
}

SendTestWorker::~SendTestWorker() = default;

void SendTestWorker::setDatabase(const Db::DatabaseConfig &config, const QString &keyDirectory)
{
    m_config = config;
    m_keyDirectory = keyDirectory;
    m_connection.reset();
    m_hostKey.reset();
    m_hostKeyLoaded = false;
}

Db::Connection *SendTestWorker::connection(QString *error)
{
    if (m_connection && m_connection->isAlive())
        return m_connection.get();
    m_connection.reset();
    if (!m_config) {
        *error = tr("No database to read the providers from.");
        return nullptr;
    }
    Db::DatabaseConfig::OpenOptions options;
    options.migrate = false;
    options.applicationName = QStringLiteral("postdesk send test");
    auto opened = m_config->open(options);
    if (!opened) {
        *error = opened.error().toString();
        return nullptr;
    }
    m_connection = std::move(*opened);
    return m_connection.get();
}

void SendTestWorker::listProviders()
{
    QString error;
    Db::Connection *db = connection(&error);
    if (!db)
        return Q_EMIT providersListed({}, error);
    Providers::ProviderRepository repository(*db);
    auto records = repository.list();
    if (!records)
        return Q_EMIT providersListed({}, records.error().toString());
    Q_EMIT providersListed(*records, {});
}

void SendTestWorker::sendUrl(const QString &url, const QString &password,
                             const Providers::OutgoingMessage &message)
{
    auto parsed = Providers::ProviderUrl::parse(url);
    if (!parsed)
        return Q_EMIT finished(false, parsed.error().toString(), {});
    if (!password.isEmpty() && parsed->kind() == Providers::ProviderKind::Smtp)
        parsed->smtp().password = password;
    auto created = Providers::Transport::create(*parsed, this);
    if (!created)
        return Q_EMIT finished(false, created.error().toString(), {});
    sendThrough(*created, message, false);
}

void SendTestWorker::sendStored(qint64 providerId, const Providers::OutgoingMessage &message)
{
    QString error;
    Db::Connection *db = connection(&error);
    if (!db)
        return Q_EMIT finished(false, error, {});
    Providers::ProviderRepository repository(*db);
    auto record = repository.find(providerId);
    if (!record)
        return Q_EMIT finished(false, record.error().toString(), {});
    if (!record->secretNames.isEmpty() && !m_hostKeyLoaded) {
        // May wait for the keyring over D-Bus: this is why sending has a thread of its own.
        m_hostKey = Delivery::loadHostKey(m_keyDirectory, db);
        m_hostKeyLoaded = true;
    }
    auto opened = Delivery::openProvider(
            *db, *record, m_hostKey.get(), [this] { return m_connection.get(); }, this);
    if (!opened)
        return Q_EMIT finished(false, opened.error().toString(), {});
    Providers::OutgoingMessage signedMessage = message;
    if (opened->dkim) {
        auto data = opened->dkim->sign(message.data);
        if (!data) {
            opened->transport->deleteLater();
            return Q_EMIT finished(false, data.error().toString(), {});
        }
        signedMessage.data = *data;
    }
    sendThrough(opened->transport, signedMessage, record->type == u"sandbox");
}

void SendTestWorker::sendThrough(Providers::Transport *transport,
                                 const Providers::OutgoingMessage &message, bool sandbox)
{
    connect(transport, &Providers::Transport::sent, this,
            [this, transport, sandbox](Providers::Transport::Ticket,
                                       const Providers::SendResult &r) {
                transport->closeIdle();
                transport->deleteLater();
                if (!r.ok())
                    return Q_EMIT finished(false, r.error->toString(), {});
                QString text = tr("Sent to %1. %2")
                                       .arg(r.accepted.join(QStringLiteral(", ")), r.serverReply)
                                       .trimmed();
                text += u'\n' + tr("Message-ID: %1").arg(r.messageId);
                if (!r.providerMessageId.isEmpty() && r.providerMessageId != r.messageId)
                    text += u'\n' + tr("Provider's id: %1").arg(r.providerMessageId);
                for (const auto &rejection : r.rejected)
                    text += u'\n' + tr("Refused %1: %2").arg(rejection.recipient, rejection.reply);
                if (sandbox)
                    Q_EMIT sandboxMessageStored();
                Q_EMIT finished(r.rejected.isEmpty(), text, r.messageId);
            });
    transport->send(message);
}

SendTestDialog::SendTestDialog(QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("sendTestDialog"));
    setWindowTitle(tr("Send a test"));
    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    m_from = new QLineEdit(this);
    m_from->setObjectName(QStringLiteral("sendTestFrom"));
    m_from->setPlaceholderText(QStringLiteral("news@example.org"));
    m_to = new QLineEdit(this);
    m_to->setObjectName(QStringLiteral("sendTestTo"));
    m_to->setPlaceholderText(QStringLiteral("me@example.org"));
    m_providerBox = new QComboBox(this);
    m_providerBox->setObjectName(QStringLiteral("sendTestProviderBox"));
    m_providerBox->setToolTip(tr("The enabled stored providers, in failover order."));
    m_provider = new QLineEdit(this);
    m_provider->setObjectName(QStringLiteral("sendTestProvider"));
    m_provider->setPlaceholderText(QStringLiteral("smtp+starttls://user@smtp.example.org:587"));
    m_provider->setToolTip(tr("A provider URL as 'postdeskctl send --via' takes it. HTTP "
                              "providers take their key with password_env=VARIABLE."));
    m_password = new QLineEdit(this);
    m_password->setObjectName(QStringLiteral("sendTestPassword"));
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setPlaceholderText(tr("SMTP password (not stored)"));
    m_providerLabel = new QLabel(tr("Provider"), this);
    m_urlLabel = new QLabel(tr("Provider URL"), this);
    m_passwordLabel = new QLabel(tr("Password"), this);
    form->addRow(tr("From"), m_from);
    form->addRow(tr("To"), m_to);
    form->addRow(m_providerLabel, m_providerBox);
    form->addRow(m_urlLabel, m_provider);
    form->addRow(m_passwordLabel, m_password);
    layout->addLayout(form);
    m_result = new QLabel(this);
    m_result->setObjectName(QStringLiteral("sendTestResult"));
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_result);
    m_send = new QPushButton(tr("Send test"), this);
    m_send->setObjectName(QStringLiteral("sendTestButton"));
    m_send->setDefault(true);
    layout->addWidget(m_send, 0, Qt::AlignRight);
    resize(560, 280);

    m_thread.setObjectName(QStringLiteral("send test"));
    m_worker = new SendTestWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &SendTestWorker::finished, this, &SendTestDialog::handleFinished);
    connect(m_worker, &SendTestWorker::providersListed, this, &SendTestDialog::handleProviders);
    connect(m_worker, &SendTestWorker::sandboxMessageStored, this,
            &SendTestDialog::sandboxMessageStored);
    m_thread.start();
    connect(m_send, &QPushButton::clicked, this, &SendTestDialog::send);
    connect(m_providerBox, &QComboBox::currentIndexChanged, this, &SendTestDialog::updateUrlRows);
    handleProviders({}, {});
}

SendTestDialog::~SendTestDialog()
{
    m_thread.quit();
    m_thread.wait();
}

void SendTestDialog::setDatabase(const Db::DatabaseConfig &config, const QString &keyDirectory)
{
    m_hasDatabase = true;
    QMetaObject::invokeMethod(
            m_worker,
            [worker = m_worker, config, keyDirectory] { worker->setDatabase(config, keyDirectory); },
            Qt::QueuedConnection);
    refreshProviders();
}

void SendTestDialog::refreshProviders()
{
    if (!m_hasDatabase)
        return;
    QMetaObject::invokeMethod(m_worker, &SendTestWorker::listProviders, Qt::QueuedConnection);
}

void SendTestDialog::handleProviders(const QList<Providers::ProviderRecord> &records,
                                     const QString &error)
{
    const QVariant previous = m_providerBox->currentData();
    m_records.clear();
    for (const auto &record : records) {
        if (record.enabled)
            m_records.append(record);
    }
    std::stable_sort(m_records.begin(), m_records.end(), [](const auto &a, const auto &b) {
        return std::tie(a.priority, a.name) < std::tie(b.priority, b.name);
    });
    const QSignalBlocker blocker(m_providerBox);
    m_providerBox->clear();
    for (const auto &record : std::as_const(m_records)) {
        QString label = QStringLiteral("%1 (%2)").arg(record.name, record.type);
        if (record.health != u"healthy")
            label += QStringLiteral(" — ") + record.health;
        m_providerBox->addItem(label, record.id);
    }
    m_providerBox->addItem(tr("Other (URL)…"), otherUrl);
    const int again = m_providerBox->findData(previous);
    m_providerBox->setCurrentIndex(again >= 0 ? again : 0);
    updateUrlRows();
    if (!error.isEmpty())
        m_result->setText(tr("Could not list the providers: %1").arg(error));
    Q_EMIT providersListed();
}

void SendTestDialog::updateUrlRows()
{
    const bool url = m_providerBox->currentData().toLongLong() == otherUrl;
    m_urlLabel->setVisible(url);
    m_provider->setVisible(url);
    m_passwordLabel->setVisible(url);
    m_password->setVisible(url);
}

bool SendTestDialog::selectProvider(const QString &name)
{
    for (qsizetype i = 0; i < m_records.size(); ++i) {
        if (m_records.at(i).name == name) {
            m_providerBox->setCurrentIndex(int(i));
            return true;
        }
    }
    return false;
}

void SendTestDialog::selectUrl()
{
    m_providerBox->setCurrentIndex(m_providerBox->findData(otherUrl));
}

QString SendTestDialog::result() const
{
    return m_result->text();
}

void SendTestDialog::send()
{
    if (!m_preview.rendered) {
        return handleFinished(false,
                              tr("The template does not render; fix the errors the "
                                 "checks list first."),
                              {});
    }
    auto from = Mime::Address::parse(m_from->text().trimmed());
    if (!from)
        return handleFinished(false, tr("From: %1").arg(from.error().message), {});
    auto to = Mime::Address::parseList(m_to->text().trimmed());
    if (!to)
        return handleFinished(false, tr("To: %1").arg(to.error().message), {});
    Mime::Message message;
    message.setFrom(*from);
    for (const auto &address : *to)
        message.addTo(address);
    message.setSubject(tr("[Test] %1").arg(m_preview.subject));
    if (!m_preview.html.isEmpty())
        message.setHtml(m_preview.html);
    message.setText(m_preview.text);
    auto composed = message.compose();
    if (!composed)
        return handleFinished(false, composed.error().message, {});
    const Providers::OutgoingMessage outgoing = Providers::toOutgoing(*composed);
    m_send->setEnabled(false);
    m_result->setStyleSheet({});
    m_result->setText(tr("Sending…"));
    const qint64 providerId = m_providerBox->currentData().toLongLong();
    if (providerId == otherUrl) {
        const QString url = m_provider->text().trimmed();
        const QString password = m_password->text();
        QMetaObject::invokeMethod(
                m_worker,
                [worker = m_worker, url, password, outgoing] {
                    worker->sendUrl(url, password, outgoing);
                },
                Qt::QueuedConnection);
    } else {
        QMetaObject::invokeMethod(
                m_worker,
                [worker = m_worker, providerId, outgoing] {
                    worker->sendStored(providerId, outgoing);
                },
                Qt::QueuedConnection);
    }
}

void SendTestDialog::handleFinished(bool ok, const QString &message, const QString &messageId)
{
    m_lastMessageId = messageId;
    m_send->setEnabled(true);
    m_result->setText(message);
    m_result->setStyleSheet(ok ? QStringLiteral("color:#1a7f37") : QStringLiteral("color:#d1242f"));
    Q_EMIT finished(ok, message, messageId);
}
