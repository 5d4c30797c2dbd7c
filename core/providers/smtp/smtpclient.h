#pragma once

#include "providers/diagnostics.h"
#include "providers/providerurl.h"
#include "providers/transport.h"
#include "smtpcapabilities.h"
#include "smtpreply.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QSslError>

#include <deque>

class QSslSocket;
class QTimer;
class QHostInfo;

namespace Providers {

// One SMTP connection as an asynchronous state machine on a QSslSocket: open() resolves, connects,
// protects the connection with TLS, reads the capabilities and authenticates, then send() runs one
// mail transaction at a time. Nothing blocks; every wait has a timer.
class SmtpClient final : public QObject
{
    Q_OBJECT
public:
    enum class State {
        Unconnected,
        Resolving,
        Connecting,
        TlsHandshake,
        Greeting,
        Ehlo,
        StartTls,
        Auth,
        Ready,
        Sending,
        Quitting,
        Closed,
    };
    Q_ENUM(State)

    explicit SmtpClient(const SmtpSettings &settings, QObject *parent = nullptr);
    ~SmtpClient() override;

    // Starts connecting; ends in ready() or setupFailed() followed by closed().
    void open();
    // Runs one transaction; only in the Ready state. Ends in messageSent().
    void send(const OutgoingMessage &message);
    // Says QUIT and closes; closed() follows.
    void quit();
    // Closes at once; a transaction in flight fails with a transient error.
    void abort();

    State state() const { return m_state; }
    bool isReady() const { return m_state == State::Ready; }
    bool isEncrypted() const;
    bool isAuthenticated() const { return m_authenticated; }
    const SmtpCapabilities &capabilities() const { return m_caps; }
    int messagesSent() const { return m_messagesStarted; }
    // True when the last send() failed because the connection was gone before the server answered
    // any command of it: the usual sign of a reused connection the server had already dropped.
    bool lastSendFailedUnanswered() const { return m_lastSendUnanswered; }

    // The DATA payload for message bytes: CRLF line ends, dot-stuffed (RFC 5321 4.5.2), ending in
    // CRLF "." CRLF.
    static QByteArray encodeData(const QByteArray &message);

Q_SIGNALS:
    // Progress of open(), for diagnostics: each step as it starts and ends.
    void stepStarted(const QString &id, const QString &title);
    void stepFinished(const Providers::DiagnosticStep &step);
    void ready();
    void setupFailed(const Common::Error &error);
    void messageSent(const Providers::SendResult &result);
    // The connection is gone (after quit(), abort(), an error or the server closing it).
    void closed();

private:
    enum class Command {
        Ehlo,
        Helo,
        StartTls,
        AuthStart,
        AuthContinue,
        Rset,
        Mail,
        Rcpt,
        Data,
        Payload,
        Quit
    };
    struct Expected
    {
        Command command;
        int index = 0; // the recipient for Rcpt
    };

    void handleLookup(const QHostInfo &info);
    void connectToNextAddress();
    void handleConnected();
    void handleEncrypted();
    void handleSslErrors(const QList<QSslError> &errors);
    void handleSocketError();
    void handleDisconnected();
    void handleReadyRead();
    void handleTimeout();
    void handleBytesWritten();
    void processReplies();

    void handleReply(const Expected &expected, const SmtpReply &reply);
    void handleGreeting(const SmtpReply &reply);
    void handleEhlo(const SmtpReply &reply, bool helo);
    void handleStartTls(const SmtpReply &reply);
    void handleAuth(const Expected &expected, const SmtpReply &reply);
    void handleTransactionReply(const Expected &expected, const SmtpReply &reply);

    void sendEhlo();
    void afterCapabilities();
    void startAuth();
    void becomeReady();
    void writeCommand(Command command, const QByteArray &line, int index = 0);
    void flushTransaction();
    void finishTransaction();
    Common::Error recipientsError() const;
    void failTransaction(const Common::Error &error);

    void beginStep(const QString &id, const QString &title);
    void endStep(bool ok, const QString &detail, QList<DiagnosticFact> facts = {},
                 bool skipped = false);
    void armTimer(int ms);
    void failSetup(const Common::Error &error);
    void closeWith(const Common::Error &error);
    void closeSocket();
    QString tlsSummary(QList<DiagnosticFact> *facts) const;
    QString heloName() const;
    QString stateName() const;

    SmtpSettings m_settings;
    State m_state = State::Unconnected;
    QSslSocket *m_socket = nullptr;
    QTimer *m_timer = nullptr;
    int m_lookupId = -1;
    QList<QHostAddress> m_addresses;
    qsizetype m_addressIndex = 0;
    SmtpReplyParser m_parser;
    std::deque<Expected> m_expected;
    SmtpCapabilities m_caps;
    bool m_tlsStarted = false;
    bool m_authenticated = false;
    QList<QSslError> m_sslErrors;
    QString m_authMechanism;
    QString m_authChallenge; // the XOAUTH2 error, JSON
    int m_authStep = 0;

    // Diagnostics of the step under way.
    QString m_stepId;
    QString m_stepTitle;
    QElapsedTimer m_stepTimer;

    // The transaction under way.
    struct PendingCommand
    {
        Command command;
        QByteArray line;
        int index = 0;
    };
    OutgoingMessage m_message;
    SendResult m_result;
    QList<PendingCommand> m_txCommands;
    qsizetype m_txNext = 0;
    bool m_txAnswered = false;
    bool m_mailAccepted = false;
    bool m_needsReset = false;
    bool m_lastSendUnanswered = false;
    std::optional<Common::Error> m_txError;
    int m_messagesStarted = 0;
};

} // namespace Providers
