#pragma once

#include "templates/preview.h"

#include <QDialog>
#include <QThread>

class QLabel;
class QLineEdit;
class QPushButton;
class SendTestWorker;

// Sends the message the preview shows to one address through a provider given by its URL (as
// 'postdeskctl send --via' takes it), on a thread of its own. Kept apart so that it can move to
// the stored providers once they exist.
class SendTestDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SendTestDialog)

public:
    explicit SendTestDialog(QWidget *parent = nullptr);
    ~SendTestDialog() override;

    void setMessage(const Templates::Preview::Result &preview) { m_preview = preview; }
    void send();

    QLineEdit *fromEdit() const { return m_from; }
    QLineEdit *toEdit() const { return m_to; }
    QLineEdit *providerEdit() const { return m_provider; }
    QLineEdit *passwordEdit() const { return m_password; }
    QString result() const;

Q_SIGNALS:
    void finished(bool ok, const QString &message);

private:
    void handleFinished(bool ok, const QString &message);

    Templates::Preview::Result m_preview;
    QLineEdit *m_from = nullptr;
    QLineEdit *m_to = nullptr;
    QLineEdit *m_provider = nullptr;
    QLineEdit *m_password = nullptr;
    QPushButton *m_send = nullptr;
    QLabel *m_result = nullptr;
    QThread m_thread;
    SendTestWorker *m_worker = nullptr;
};

// Lives on the dialog's thread: creates the transport there, sends one message, reports.
class SendTestWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SendTestWorker)

public:
    SendTestWorker() = default;
    void send(const QString &url, const QString &password, const QByteArray &data,
              const QString &envelopeFrom, const QStringList &recipients, const QString &messageId,
              bool needsSmtpUtf8, bool has8bit);

Q_SIGNALS:
    void finished(bool ok, const QString &message);
};
