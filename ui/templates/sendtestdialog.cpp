#include "sendtestdialog.h"

#include "mime/message.h"
#include "providers/providerurl.h"
#include "providers/transport.h"

#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

void SendTestWorker::send(const QString &url, const QString &password, const QByteArray &data,
                          const QString &envelopeFrom, const QStringList &recipients,
                          const QString &messageId, bool needsSmtpUtf8, bool has8bit)
{
    auto parsed = Providers::ProviderUrl::parse(url);
    if (!parsed)
        return Q_EMIT finished(false, parsed.error().toString());
    if (!password.isEmpty() && parsed->kind() == Providers::ProviderKind::Smtp)
        parsed->smtp().password = password;
    auto created = Providers::Transport::create(*parsed, this);
    if (!created)
        return Q_EMIT finished(false, created.error().toString());
    Providers::Transport *transport = *created;
    connect(transport, &Providers::Transport::sent, this,
            [this, transport](Providers::Transport::Ticket, const Providers::SendResult &r) {
                transport->closeIdle();
                transport->deleteLater();
                if (!r.ok())
                    return Q_EMIT finished(false, r.error->toString());
                QString text = tr("Sent to %1. %2")
                                       .arg(r.accepted.join(QStringLiteral(", ")), r.serverReply);
                for (const auto &rejection : r.rejected)
                    text += u'\n' + tr("Refused %1: %2").arg(rejection.recipient, rejection.reply);
                Q_EMIT finished(r.rejected.isEmpty(), text);
            });
    Providers::OutgoingMessage outgoing;
    outgoing.envelopeFrom = envelopeFrom;
    outgoing.recipients = recipients;
    outgoing.data = data;
    outgoing.messageId = messageId;
    outgoing.needsSmtpUtf8 = needsSmtpUtf8;
    outgoing.has8bit = has8bit;
    transport->send(outgoing);
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
    m_provider = new QLineEdit(this);
    m_provider->setObjectName(QStringLiteral("sendTestProvider"));
    m_provider->setPlaceholderText(QStringLiteral("smtp+starttls://user@smtp.example.org:587"));
    m_provider->setToolTip(tr("A provider URL as 'postdeskctl send --via' takes it. HTTP "
                              "providers take their key with password_env=VARIABLE."));
    m_password = new QLineEdit(this);
    m_password->setObjectName(QStringLiteral("sendTestPassword"));
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setPlaceholderText(tr("SMTP password (not stored)"));
    form->addRow(tr("From"), m_from);
    form->addRow(tr("To"), m_to);
    form->addRow(tr("Provider"), m_provider);
    form->addRow(tr("Password"), m_password);
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
    resize(520, 240);

    m_thread.setObjectName(QStringLiteral("send test"));
    m_worker = new SendTestWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &SendTestWorker::finished, this, &SendTestDialog::handleFinished);
    m_thread.start();
    connect(m_send, &QPushButton::clicked, this, &SendTestDialog::send);
}

SendTestDialog::~SendTestDialog()
{
    m_thread.quit();
    m_thread.wait();
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
                                 "checks list first."));
    }
    auto from = Mime::Address::parse(m_from->text().trimmed());
    if (!from)
        return handleFinished(false, tr("From: %1").arg(from.error().message));
    auto to = Mime::Address::parseList(m_to->text().trimmed());
    if (!to)
        return handleFinished(false, tr("To: %1").arg(to.error().message));
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
        return handleFinished(false, composed.error().message);
    m_send->setEnabled(false);
    m_result->setText(tr("Sending…"));
    const QString url = m_provider->text().trimmed();
    const QString password = m_password->text();
    const Mime::ComposedMessage c = *composed;
    QMetaObject::invokeMethod(
            m_worker,
            [worker = m_worker, url, password, c] {
                worker->send(url, password, c.data, c.envelopeFrom, c.recipients, c.messageId,
                             c.needsSmtpUtf8, c.has8bit);
            },
            Qt::QueuedConnection);
}

void SendTestDialog::handleFinished(bool ok, const QString &message)
{
    m_send->setEnabled(true);
    m_result->setText(message);
    m_result->setStyleSheet(ok ? QStringLiteral("color:#1a7f37") : QStringLiteral("color:#d1242f"));
    Q_EMIT finished(ok, message);
}
