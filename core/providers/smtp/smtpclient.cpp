#include "smtpclient.h"

#include "common/logging.h"

#include <QFile>
#include <QHostInfo>
#include <QMetaEnum>
#include <QPointer>
#include <QRegularExpression>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QSysInfo>
#include <QTimer>

namespace Providers {

namespace {

using Common::Retry;

Common::Error replyError(const QString &code, const QString &message, const SmtpReply &reply)
{
    return Common::makeError(code, message, reply.text(), reply.retry());
}

QString seconds(int ms)
{
    return ms % 1000 == 0 ? QStringLiteral("%1 s").arg(ms / 1000)
                          : QStringLiteral("%1 s").arg(ms / 1000.0, 0, 'f', 1);
}

QString protocolName(QSsl::SslProtocol protocol)
{
    switch (protocol) {
    case QSsl::TlsV1_3:
        return QStringLiteral("TLS 1.3");
    case QSsl::TlsV1_2:
        return QStringLiteral("TLS 1.2");
    default:
        return QStringLiteral("TLS (older than 1.2)");
    }
}

// Envelope addresses go between < and > on a command line: no controls, spaces or brackets.
bool isSafeAddress(const QString &address)
{
    for (QChar c : address) {
        if (c.unicode() <= 0x20 || c.unicode() == 0x7f || c == u'<' || c == u'>')
            return false;
    }
    return true;
}

bool isAscii(const QString &text)
{
    for (QChar c : text) {
        if (c.unicode() > 0x7f)
            return false;
    }
    return true;
}

// The id many servers put in the final reply: Postfix "queued as 4C1D2", others "id=...".
QString providerIdFrom(const SmtpReply &reply)
{
    static const QRegularExpression pattern(QStringLiteral(R"((?:queued as|\bid=)\s*([\w.@-]+))"),
                                            QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch match = pattern.match(reply.lines.join(u' '));
    return match.hasMatch() ? match.captured(1) : QString();
}

} // namespace

SmtpClient::SmtpClient(const SmtpSettings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_timer(new QTimer(this))
{
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, &SmtpClient::handleTimeout);
}

SmtpClient::~SmtpClient()
{
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

bool SmtpClient::isEncrypted() const
{
    return m_socket && m_socket->isEncrypted();
}

QString SmtpClient::stateName() const
{
    return QString::fromLatin1(QMetaEnum::fromType<State>().valueToKey(int(m_state)));
}

void SmtpClient::open()
{
    if (m_state != State::Unconnected)
        return;

    m_socket = new QSslSocket(this);
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setProtocol(QSsl::TlsV1_2OrLater);
    tls.setPeerVerifyMode(m_settings.verifyCertificate ? QSslSocket::VerifyPeer
                                                       : QSslSocket::VerifyNone);
    if (!m_settings.caFile.isEmpty()) {
        const QList<QSslCertificate> cas = QSslCertificate::fromPath(m_settings.caFile);
        if (cas.isEmpty()) {
            m_state = State::Resolving;
            failSetup(Common::makeError(
                    QStringLiteral("smtp.tls-ca"),
                    QStringLiteral("Cannot read CA certificates from %1").arg(m_settings.caFile),
                    QStringLiteral("the file is missing or holds no PEM certificate")));
            return;
        }
        tls.setCaCertificates(cas);
    }
    m_socket->setSslConfiguration(tls);
    m_socket->setPeerVerifyName(m_settings.host);
    connect(m_socket, &QAbstractSocket::connected, this, &SmtpClient::handleConnected);
    connect(m_socket, &QSslSocket::encrypted, this, &SmtpClient::handleEncrypted);
    connect(m_socket, &QSslSocket::sslErrors, this, &SmtpClient::handleSslErrors);
    connect(m_socket, &QAbstractSocket::errorOccurred, this, &SmtpClient::handleSocketError);
    connect(m_socket, &QAbstractSocket::disconnected, this, &SmtpClient::handleDisconnected);
    connect(m_socket, &QIODevice::readyRead, this, &SmtpClient::handleReadyRead);
    connect(m_socket, &QIODevice::bytesWritten, this, &SmtpClient::handleBytesWritten);
    connect(m_socket, &QSslSocket::encryptedBytesWritten, this, &SmtpClient::handleBytesWritten);

    m_state = State::Resolving;
    beginStep(QStringLiteral("dns"), tr("DNS resolution"));
    armTimer(m_settings.connectTimeoutMs);
    m_lookupId = QHostInfo::lookupHost(m_settings.host, this, &SmtpClient::handleLookup);
}

void SmtpClient::handleLookup(const QHostInfo &info)
{
    m_lookupId = -1;
    if (m_state != State::Resolving)
        return;
    if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
        const bool notFound = info.error() == QHostInfo::HostNotFound;
        failSetup(Common::makeError(QStringLiteral("smtp.dns"),
                                    notFound ? tr("The host name %1 does not exist")
                                                       .arg(m_settings.host)
                                             : tr("Cannot resolve %1").arg(m_settings.host),
                                    info.errorString(),
                                    notFound ? Retry::Permanent : Retry::Transient));
        return;
    }
    m_addresses = info.addresses();
    QStringList names;
    for (const QHostAddress &address : std::as_const(m_addresses))
        names << address.toString();
    endStep(true, tr("%1 resolves to %2").arg(m_settings.host, names.join(QStringLiteral(", "))),
            {{tr("Addresses"), names.join(QStringLiteral(", "))}});
    m_state = State::Connecting;
    beginStep(QStringLiteral("connect"), tr("TCP connect"));
    connectToNextAddress();
}

void SmtpClient::connectToNextAddress()
{
    const QHostAddress address = m_addresses.at(m_addressIndex);
    qCDebug(lcSmtp) << "connecting to" << address << m_settings.port;
    m_socket->connectToHost(address, m_settings.port);
}

void SmtpClient::handleConnected()
{
    if (m_state != State::Connecting)
        return;
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    const QString peer = QStringLiteral("%1 port %2")
                                 .arg(m_socket->peerAddress().toString())
                                 .arg(m_socket->peerPort());
    endStep(true, tr("Connected to %1").arg(peer), {{tr("Peer"), peer}});
    if (m_settings.security == SmtpSecurity::ImplicitTls) {
        m_state = State::TlsHandshake;
        beginStep(QStringLiteral("tls"), tr("TLS handshake"));
        m_socket->startClientEncryption();
    } else {
        m_state = State::Greeting;
        beginStep(QStringLiteral("greeting"), tr("Server greeting"));
        armTimer(m_settings.greetingTimeoutMs);
    }
}

void SmtpClient::handleEncrypted()
{
    if (m_state != State::TlsHandshake)
        return;
    QList<DiagnosticFact> facts;
    const QString summary = tlsSummary(&facts);
    endStep(true, summary, facts);
    if (m_settings.security == SmtpSecurity::ImplicitTls) {
        m_state = State::Greeting;
        beginStep(QStringLiteral("greeting"), tr("Server greeting"));
        armTimer(m_settings.greetingTimeoutMs);
    } else {
        // RFC 3207 section 4.2: forget everything learnt before TLS and ask again.
        m_parser.clear();
        m_caps = SmtpCapabilities();
        sendEhlo();
    }
}

void SmtpClient::handleSslErrors(const QList<QSslError> &errors)
{
    // Not ignored: the handshake fails and handleSocketError() reports these.
    m_sslErrors = errors;
}

QString SmtpClient::tlsSummary(QList<DiagnosticFact> *facts) const
{
    QSslCertificate cert = m_socket->peerCertificate();
    if (cert.isNull() && !m_sslErrors.isEmpty())
        cert = m_sslErrors.first().certificate();
    QString summary;
    if (m_socket->isEncrypted()) {
        const QString protocol = protocolName(m_socket->sessionProtocol());
        const QString cipher = m_socket->sessionCipher().name();
        facts->append({tr("Protocol"), protocol});
        facts->append({tr("Cipher"), cipher});
        summary = tr("%1 with %2").arg(protocol, cipher);
    }
    if (!cert.isNull()) {
        facts->append({tr("Subject"), cert.subjectDisplayName()});
        facts->append({tr("Issuer"), cert.issuerDisplayName()});
        facts->append({tr("Expires"), cert.expiryDate().toUTC().toString(Qt::ISODate)});
    }
    QString verified;
    if (!m_settings.verifyCertificate)
        verified = tr("no (verification turned off)");
    else if (m_socket->isEncrypted())
        verified = tr("yes");
    else
        verified = tr("no");
    facts->append({tr("Verified"), verified});
    if (!cert.isNull()) {
        summary += (summary.isEmpty() ? QString() : QStringLiteral("; "))
                + tr("certificate of %1 issued by %2, expires %3")
                          .arg(cert.subjectDisplayName(), cert.issuerDisplayName(),
                               cert.expiryDate().toUTC().toString(Qt::ISODate));
    }
    return summary;
}

void SmtpClient::handleSocketError()
{
    if (m_state == State::Closed || m_state == State::Unconnected)
        return;
    const QAbstractSocket::SocketError error = m_socket->error();
    const QString where = QStringLiteral("%1:%2").arg(m_settings.host).arg(m_settings.port);
    if (m_state == State::Connecting) {
        if (m_addressIndex + 1 < m_addresses.size()) {
            qCDebug(lcSmtp) << "connect failed, trying the next address:"
                            << m_socket->errorString();
            ++m_addressIndex;
            m_socket->abort();
            connectToNextAddress();
            return;
        }
        failSetup(Common::makeError(QStringLiteral("smtp.connect"),
                                    tr("Cannot connect to %1").arg(where), m_socket->errorString(),
                                    Retry::Transient));
        return;
    }
    if (m_state == State::TlsHandshake) {
        QStringList reasons;
        for (const QSslError &e : std::as_const(m_sslErrors))
            reasons << e.errorString();
        const bool certificate = !reasons.isEmpty();
        if (reasons.isEmpty())
            reasons << m_socket->errorString();
        QList<DiagnosticFact> facts;
        tlsSummary(&facts);
        const QString detail = reasons.join(QStringLiteral("; "));
        endStep(false,
                certificate ? tr("The server's certificate was not accepted: %1").arg(detail)
                            : tr("The TLS handshake failed: %1").arg(detail),
                facts);
        failSetup(Common::makeError(certificate ? QStringLiteral("smtp.tls-certificate")
                                                : QStringLiteral("smtp.tls"),
                                    certificate
                                            ? tr("The certificate of %1 is not trusted").arg(where)
                                            : tr("The TLS handshake with %1 failed").arg(where),
                                    detail, certificate ? Retry::Permanent : Retry::Transient));
        return;
    }
    if (error == QAbstractSocket::RemoteHostClosedError) {
        handleDisconnected();
        return;
    }
    closeWith(Common::makeError(QStringLiteral("smtp.network"),
                                tr("The connection to %1 failed").arg(where),
                                m_socket->errorString(), Retry::Transient));
}

void SmtpClient::handleDisconnected()
{
    if (m_state == State::Closed || m_state == State::Unconnected)
        return;
    // A last reply may have come with the close.
    if (m_socket->bytesAvailable() > 0) {
        QPointer<SmtpClient> self(this);
        handleReadyRead();
        if (!self || m_state == State::Closed)
            return;
    }
    if (m_state == State::Quitting || m_state == State::Ready) {
        closeSocket();
        Q_EMIT closed();
        return;
    }
    QString when;
    if (m_state == State::Sending && !m_expected.empty()
        && m_expected.front().command == Command::Payload)
        when = tr(" before confirming the message; it may or may not have been delivered");
    else if (m_state == State::Greeting)
        when = tr(" without a greeting");
    closeWith(
            Common::makeError(QStringLiteral("smtp.disconnected"),
                              tr("The server %1 closed the connection%2").arg(m_settings.host, when),
                              tr("connection closed while %1").arg(stateName()), Retry::Transient));
}

void SmtpClient::handleReadyRead()
{
    m_parser.append(m_socket->readAll());
    processReplies();
}

void SmtpClient::processReplies()
{
    QPointer<SmtpClient> self(this);
    while (self && m_state != State::Closed && m_state != State::TlsHandshake) {
        auto next = m_parser.next();
        if (!next) {
            closeWith(next.error());
            return;
        }
        if (!next->has_value())
            return;
        const SmtpReply reply = std::move(**next);
        qCDebug(lcSmtp).noquote() << "S:" << reply.text();
        if (m_expected.empty()) {
            if (m_state == State::Greeting) {
                handleGreeting(reply);
            } else if (reply.code == 421) {
                // RFC 5321 3.8: the server may announce it is closing at any time.
                closeWith(replyError(QStringLiteral("smtp.closing"),
                                     tr("The server is closing the connection"), reply));
            } else {
                closeWith(Common::makeError(QStringLiteral("smtp.protocol"),
                                            tr("The server sent a reply nobody asked for"),
                                            reply.text(), Retry::Transient));
            }
            continue;
        }
        const Expected expected = m_expected.front();
        m_expected.pop_front();
        if (m_expected.empty())
            m_timer->stop();
        else
            armTimer(m_settings.socketTimeoutMs);
        handleReply(expected, reply);
    }
}

void SmtpClient::handleReply(const Expected &expected, const SmtpReply &reply)
{
    if (reply.code == 421 && expected.command != Command::Quit) {
        closeWith(replyError(QStringLiteral("smtp.closing"),
                             tr("The server is closing the connection"), reply));
        return;
    }
    switch (expected.command) {
    case Command::Ehlo:
        handleEhlo(reply, false);
        break;
    case Command::Helo:
        handleEhlo(reply, true);
        break;
    case Command::StartTls:
        handleStartTls(reply);
        break;
    case Command::AuthStart:
    case Command::AuthContinue:
        handleAuth(expected, reply);
        break;
    case Command::Rset:
    case Command::Mail:
    case Command::Rcpt:
    case Command::Data:
    case Command::Payload:
        handleTransactionReply(expected, reply);
        break;
    case Command::Quit:
        closeSocket();
        Q_EMIT closed();
        break;
    }
}

void SmtpClient::handleGreeting(const SmtpReply &reply)
{
    if (reply.code != 220) {
        failSetup(replyError(QStringLiteral("smtp.greeting"),
                             tr("The server %1 refused the connection").arg(m_settings.host),
                             reply));
        return;
    }
    endStep(true, reply.text(), {{tr("Banner"), reply.lines.join(u' ')}});
    sendEhlo();
}

void SmtpClient::sendEhlo()
{
    m_state = State::Ehlo;
    if (m_tlsStarted)
        beginStep(QStringLiteral("ehlo-tls"), tr("EHLO after TLS"));
    else
        beginStep(QStringLiteral("ehlo"), tr("EHLO capabilities"));
    writeCommand(Command::Ehlo, "EHLO " + heloName().toUtf8() + "\r\n");
}

void SmtpClient::handleEhlo(const SmtpReply &reply, bool helo)
{
    if (reply.code == 250) {
        if (helo) {
            m_caps = SmtpCapabilities();
            endStep(true, tr("The server does not speak ESMTP; using HELO without extensions"));
        } else {
            m_caps = SmtpCapabilities::fromEhloReply(reply);
            endStep(true,
                    m_caps.keywords.isEmpty()
                            ? tr("No extensions offered")
                            : tr("Offers %1").arg(m_caps.keywords.join(QStringLiteral(", "))),
                    {{tr("Server"), m_caps.serverName},
                     {tr("Extensions"), m_caps.keywords.join(QStringLiteral(", "))}});
        }
        afterCapabilities();
        return;
    }
    // RFC 5321 4.1.4: a server that does not know EHLO answers 500/502; try HELO unless an
    // extension (STARTTLS, AUTH) is required.
    const bool needsExtensions = m_settings.security == SmtpSecurity::StartTlsRequired
            || (!m_settings.username.isEmpty());
    if (!helo && !needsExtensions && (reply.code == 500 || reply.code == 502)) {
        writeCommand(Command::Helo, "HELO " + heloName().toUtf8() + "\r\n");
        return;
    }
    failSetup(replyError(QStringLiteral("smtp.ehlo"),
                         tr("The server %1 refused EHLO").arg(m_settings.host), reply));
}

void SmtpClient::afterCapabilities()
{
    if (!isEncrypted()) {
        if (m_caps.startTls && m_settings.security != SmtpSecurity::ImplicitTls) {
            m_state = State::StartTls;
            beginStep(QStringLiteral("tls"), tr("STARTTLS and TLS handshake"));
            writeCommand(Command::StartTls, "STARTTLS\r\n");
            return;
        }
        if (m_settings.security == SmtpSecurity::StartTlsRequired) {
            beginStep(QStringLiteral("tls"), tr("STARTTLS and TLS handshake"));
            failSetup(Common::makeError(
                    QStringLiteral("smtp.starttls-missing"),
                    tr("The server %1 does not offer STARTTLS, which this provider requires; not "
                       "continuing without encryption")
                            .arg(m_settings.host),
                    tr("EHLO reply without STARTTLS: %1")
                            .arg(m_caps.keywords.join(QStringLiteral(", "))),
                    Retry::Permanent));
            return;
        }
    }
    startAuth();
}

void SmtpClient::handleStartTls(const SmtpReply &reply)
{
    if (reply.code == 220) {
        // RFC 3207 section 4.2 and the STARTTLS command injection attacks (CVE-2011-0411 and
        // the 2021 "NO STARTTLS" study): whatever arrived after the 220 was sent in plain text
        // and is thrown away.
        m_parser.clear();
        m_state = State::TlsHandshake;
        m_tlsStarted = true;
        armTimer(m_settings.socketTimeoutMs);
        m_socket->startClientEncryption();
        return;
    }
    if (m_settings.security == SmtpSecurity::StartTlsRequired) {
        failSetup(replyError(QStringLiteral("smtp.starttls"),
                             tr("The server %1 refused STARTTLS").arg(m_settings.host), reply));
        return;
    }
    endStep(true, tr("STARTTLS refused (%1); continuing without encryption").arg(reply.text()));
    startAuth();
}

void SmtpClient::startAuth()
{
    m_state = State::Auth;
    if (m_settings.username.isEmpty()) {
        beginStep(QStringLiteral("auth"), tr("Authentication"));
        endStep(true, tr("No user name given; not authenticating"), {}, true);
        becomeReady();
        return;
    }
    if (!isEncrypted() && !m_settings.allowPlainTextAuth) {
        beginStep(QStringLiteral("auth"), tr("Authentication"));
        failSetup(Common::makeError(
                QStringLiteral("smtp.auth-insecure"),
                tr("Not sending the password over an unencrypted connection to %1")
                        .arg(m_settings.host),
                tr("use smtp+starttls:// or smtps://, or add ?insecure_auth=1 to the URL"),
                Retry::Permanent));
        return;
    }
    QString mechanism;
    switch (m_settings.authMechanism) {
    case SmtpAuthMechanism::Plain:
        mechanism = QStringLiteral("PLAIN");
        break;
    case SmtpAuthMechanism::Login:
        mechanism = QStringLiteral("LOGIN");
        break;
    case SmtpAuthMechanism::XOAuth2:
        mechanism = QStringLiteral("XOAUTH2");
        break;
    case SmtpAuthMechanism::Automatic:
        if (m_caps.authMechanisms.contains(u"PLAIN"))
            mechanism = QStringLiteral("PLAIN");
        else if (m_caps.authMechanisms.contains(u"LOGIN"))
            mechanism = QStringLiteral("LOGIN");
        break;
    }
    beginStep(QStringLiteral("auth"),
              mechanism.isEmpty() ? tr("Authentication") : tr("Authentication (%1)").arg(mechanism));
    const QString offered = m_caps.authMechanisms.isEmpty()
            ? tr("no AUTH in the EHLO reply")
            : tr("offered: %1").arg(m_caps.authMechanisms.join(u' '));
    if (mechanism.isEmpty() || !m_caps.authMechanisms.contains(mechanism)) {
        failSetup(Common::makeError(QStringLiteral("smtp.auth-unavailable"),
                                    mechanism.isEmpty() ? tr("The server %1 offers no login method "
                                                             "Postdesk supports (PLAIN, LOGIN, "
                                                             "XOAUTH2)")
                                                                  .arg(m_settings.host)
                                                        : tr("The server %1 does not offer AUTH %2")
                                                                  .arg(m_settings.host, mechanism),
                                    offered, Retry::Permanent));
        return;
    }
    m_authMechanism = mechanism;
    m_authStep = 0;
    const QByteArray user = m_settings.username.toUtf8();
    const QByteArray secret = m_settings.password.toUtf8();
    if (mechanism == u"PLAIN") {
        // RFC 4616: authzid NUL authcid NUL passwd, sent as the initial response (RFC 4954).
        const QByteArray response = QByteArray(1, '\0') + user + '\0' + secret;
        writeCommand(Command::AuthStart, "AUTH PLAIN " + response.toBase64() + "\r\n");
    } else if (mechanism == u"LOGIN") {
        writeCommand(Command::AuthStart, "AUTH LOGIN\r\n");
    } else {
        // https://developers.google.com/gmail/imap/xoauth2-protocol
        const QByteArray response = "user=" + user + "\x01" + "auth=Bearer " + secret + "\x01\x01";
        writeCommand(Command::AuthStart, "AUTH XOAUTH2 " + response.toBase64() + "\r\n");
    }
}

void SmtpClient::handleAuth(const Expected &, const SmtpReply &reply)
{
    if (reply.code == 235) {
        m_authenticated = true;
        endStep(true, tr("Logged in as %1 with %2").arg(m_settings.username, m_authMechanism),
                {{tr("Mechanism"), m_authMechanism}});
        becomeReady();
        return;
    }
    if (reply.code == 334) {
        const QByteArray user = m_settings.username.toUtf8();
        const QByteArray secret = m_settings.password.toUtf8();
        ++m_authStep;
        if (m_authMechanism == u"LOGIN" && m_authStep <= 2) {
            writeCommand(Command::AuthContinue,
                         (m_authStep == 1 ? user : secret).toBase64() + "\r\n");
        } else if (m_authMechanism == u"PLAIN" && m_authStep == 1) {
            const QByteArray response = QByteArray(1, '\0') + user + '\0' + secret;
            writeCommand(Command::AuthContinue, response.toBase64() + "\r\n");
        } else if (m_authMechanism == u"XOAUTH2" && m_authStep == 1) {
            // The challenge is a JSON error; an empty response makes the server send the final
            // 535 with it.
            m_authChallenge = QString::fromUtf8(
                    QByteArray::fromBase64(reply.lines.join(QString()).toLatin1()));
            writeCommand(Command::AuthContinue, "\r\n");
        } else {
            writeCommand(Command::AuthContinue, "*\r\n"); // RFC 4954 4: cancel the exchange
        }
        return;
    }
    QString detail = reply.text();
    if (!m_authChallenge.isEmpty())
        detail += u'\n' + m_authChallenge;
    failSetup(Common::makeError(
            QStringLiteral("smtp.auth"),
            reply.code == 535 ? tr("The server %1 rejected the user name or password for %2")
                                        .arg(m_settings.host, m_settings.username)
                              : tr("Logging in to %1 failed").arg(m_settings.host),
            detail, reply.retry()));
}

void SmtpClient::becomeReady()
{
    m_state = State::Ready;
    m_timer->stop();
    Q_EMIT ready();
}

QByteArray SmtpClient::encodeData(const QByteArray &message)
{
    QByteArray out;
    out.reserve(message.size() + message.size() / 64 + 8);
    const char *p = message.constData();
    const char *const end = p + message.size();
    bool lineStart = true;
    while (p < end) {
        // Copy a run of ordinary bytes in one go.
        const char *run = p;
        if (lineStart && *p == '.') {
            out.append('.'); // RFC 5321 4.5.2: transparency
        }
        while (p < end && *p != '\r' && *p != '\n')
            ++p;
        out.append(run, p - run);
        if (p == end) {
            lineStart = false;
            break;
        }
        // A line end: CRLF, a lone LF or a lone CR all become CRLF.
        if (*p == '\r' && p + 1 < end && p[1] == '\n')
            p += 2;
        else
            ++p;
        out.append("\r\n", 2);
        lineStart = true;
    }
    if (!lineStart)
        out.append("\r\n", 2);
    out.append(".\r\n", 3);
    return out;
}

void SmtpClient::send(const OutgoingMessage &message)
{
    if (m_state != State::Ready) {
        SendResult result;
        result.messageId = message.messageId;
        result.error = Common::makeError(QStringLiteral("smtp.not-ready"),
                                         tr("The SMTP connection is not ready to send"),
                                         stateName(), Retry::Transient);
        QMetaObject::invokeMethod(
                this, [this, result] { Q_EMIT messageSent(result); }, Qt::QueuedConnection);
        return;
    }
    m_message = message;
    m_result = SendResult();
    m_result.messageId = message.messageId;
    m_txError.reset();
    m_txCommands.clear();
    m_txNext = 0;
    m_txAnswered = false;
    m_mailAccepted = false;
    m_lastSendUnanswered = false;
    m_state = State::Sending;

    // Checks that need no round trip.
    std::optional<Common::Error> invalid;
    bool utf8 = message.needsSmtpUtf8 || !isAscii(message.envelopeFrom);
    if (message.recipients.isEmpty())
        invalid = Common::makeError(QStringLiteral("smtp.no-recipients"),
                                    tr("The message has no recipients"));
    if (!invalid && !isSafeAddress(message.envelopeFrom))
        invalid = Common::makeError(QStringLiteral("smtp.address"),
                                    tr("The sender address is not valid"), message.envelopeFrom);
    for (const QString &recipient : message.recipients) {
        if (invalid)
            break;
        if (recipient.isEmpty() || !isSafeAddress(recipient))
            invalid = Common::makeError(QStringLiteral("smtp.address"),
                                        tr("A recipient address is not valid"), recipient);
        utf8 = utf8 || !isAscii(recipient);
    }
    if (!invalid && utf8 && !m_caps.smtpUtf8)
        invalid = Common::makeError(
                QStringLiteral("smtp.smtputf8"),
                tr("The message needs SMTPUTF8 (internationalised addresses), which %1 does not "
                   "offer")
                        .arg(m_settings.host));
    if (!invalid && message.has8bit && !m_caps.eightBitMime && !utf8)
        invalid = Common::makeError(
                QStringLiteral("smtp.8bitmime"),
                tr("The message has 8-bit parts, but %1 does not offer 8BITMIME")
                        .arg(m_settings.host),
                tr("compose it with quoted-printable or base64 transfer encodings"));
    if (!invalid && m_caps.size && m_caps.maxSize > 0 && message.data.size() > m_caps.maxSize)
        invalid = Common::makeError(QStringLiteral("smtp.size"),
                                    tr("The message is larger than %1 accepts").arg(m_settings.host),
                                    tr("%1 bytes, the limit is %2")
                                            .arg(message.data.size())
                                            .arg(m_caps.maxSize));
    if (invalid) {
        m_txError = invalid;
        QMetaObject::invokeMethod(this, &SmtpClient::finishTransaction, Qt::QueuedConnection);
        return;
    }

    // RFC 5321 4.1.1.5: a completed transaction leaves the server reset; RSET is sent between
    // messages when it costs no round trip (PIPELINING) and always after a failed transaction.
    if (m_needsReset || (m_messagesStarted > 0 && m_caps.pipelining))
        m_txCommands.append({Command::Rset, QByteArrayLiteral("RSET\r\n")});
    QByteArray mail = "MAIL FROM:<" + message.envelopeFrom.toUtf8() + '>';
    if (m_caps.size)
        mail += " SIZE=" + QByteArray::number(message.data.size());
    if (message.has8bit && m_caps.eightBitMime)
        mail += " BODY=8BITMIME";
    if (utf8)
        mail += " SMTPUTF8";
    m_txCommands.append({Command::Mail, mail + "\r\n"});
    for (int i = 0; i < message.recipients.size(); ++i)
        m_txCommands.append(
                {Command::Rcpt, "RCPT TO:<" + message.recipients.at(i).toUtf8() + ">\r\n", i});
    m_txCommands.append({Command::Data, QByteArrayLiteral("DATA\r\n")});
    ++m_messagesStarted;
    m_needsReset = true;
    flushTransaction();
}

void SmtpClient::flushTransaction()
{
    if (m_caps.pipelining) {
        // RFC 2920: the whole envelope and DATA in one flight; DATA is last in the group.
        QByteArray batch;
        for (; m_txNext < m_txCommands.size(); ++m_txNext) {
            const PendingCommand &command = m_txCommands.at(m_txNext);
            batch += command.line;
            m_expected.push_back({command.command, command.index});
        }
        if (!batch.isEmpty()) {
            m_socket->write(batch);
            armTimer(m_settings.socketTimeoutMs);
        }
        return;
    }
    if (!m_expected.empty() || m_txNext >= m_txCommands.size())
        return;
    const PendingCommand &command = m_txCommands.at(m_txNext);
    if (command.command == Command::Data && m_result.accepted.isEmpty()) {
        // Every recipient was refused: no DATA; the next transaction starts with RSET.
        m_txError = recipientsError();
        finishTransaction();
        return;
    }
    ++m_txNext;
    writeCommand(command.command, command.line, command.index);
}

void SmtpClient::handleTransactionReply(const Expected &expected, const SmtpReply &reply)
{
    m_txAnswered = true;
    switch (expected.command) {
    case Command::Rset:
        if (reply.code != 250)
            qCWarning(lcSmtp).noquote() << "RSET refused:" << reply.text();
        break;
    case Command::Mail:
        if (reply.isPositive()) {
            m_mailAccepted = true;
        } else {
            m_txError =
                    replyError(QStringLiteral("smtp.sender"),
                               tr("The server refused the sender <%1>").arg(m_message.envelopeFrom),
                               reply);
            if (!m_caps.pipelining) {
                finishTransaction();
                return;
            }
        }
        break;
    case Command::Rcpt: {
        if (!m_mailAccepted)
            break; // consequences of a refused MAIL FROM in a pipelined group
        const QString recipient = m_message.recipients.value(expected.index);
        if (reply.code == 250 || reply.code == 251) {
            m_result.accepted.append(recipient);
        } else {
            RecipientRejection rejection;
            rejection.recipient = recipient;
            rejection.code = reply.code;
            rejection.enhancedCode = reply.enhancedCode;
            rejection.reply = reply.text();
            rejection.retry = reply.retry();
            m_result.rejected.append(rejection);
        }
        break;
    }
    case Command::Data:
        if (!m_txError && m_result.accepted.isEmpty() && m_mailAccepted)
            m_txError = recipientsError();
        if (reply.code == 354) {
            if (m_txError) {
                // RFC 2920 3.1: DATA was accepted although nothing can be sent; end it empty.
                m_socket->write(".\r\n");
            } else {
                m_socket->write(encodeData(m_message.data));
            }
            m_expected.push_back({Command::Payload});
            armTimer(m_settings.socketTimeoutMs);
            return;
        }
        if (!m_txError)
            m_txError = replyError(QStringLiteral("smtp.data"),
                                   tr("The server refused to take the message (DATA)"), reply);
        finishTransaction();
        return;
    case Command::Payload:
        if (!m_txError) {
            if (reply.code == 250) {
                m_result.serverReply = reply.text();
                m_result.providerMessageId = providerIdFrom(reply);
                m_needsReset = false;
            } else {
                m_txError = replyError(QStringLiteral("smtp.message"),
                                       tr("The server refused the message"), reply);
            }
        }
        finishTransaction();
        return;
    default:
        break;
    }
    if (!m_caps.pipelining)
        flushTransaction();
}

Common::Error SmtpClient::recipientsError() const
{
    bool transient = false;
    for (const RecipientRejection &r : m_result.rejected)
        transient = transient || r.retry == Retry::Transient;
    return Common::makeError(QStringLiteral("smtp.recipients"),
                             tr("The server accepted none of the %n recipient(s)", nullptr,
                                int(m_message.recipients.size())),
                             m_result.rejected.isEmpty() ? QString()
                                                         : m_result.rejected.first().reply,
                             transient ? Retry::Transient : Retry::Permanent);
}

void SmtpClient::finishTransaction()
{
    if (m_state != State::Sending)
        return;
    m_result.error = m_txError;
    if (m_txError)
        m_result.accepted.clear();
    m_state = State::Ready;
    m_timer->stop();
    const SendResult result = m_result;
    m_result = SendResult();
    Q_EMIT messageSent(result);
}

void SmtpClient::failTransaction(const Common::Error &error)
{
    m_lastSendUnanswered = !m_txAnswered;
    SendResult result = m_result;
    m_result = SendResult();
    result.accepted.clear();
    result.error = error;
    closeSocket();
    QPointer<SmtpClient> self(this);
    Q_EMIT messageSent(result);
    if (self)
        Q_EMIT closed();
}

void SmtpClient::quit()
{
    switch (m_state) {
    case State::Ready:
        m_state = State::Quitting;
        writeCommand(Command::Quit, "QUIT\r\n");
        armTimer(std::min(m_settings.socketTimeoutMs, 10'000));
        break;
    case State::Closed:
    case State::Quitting:
        break;
    case State::Unconnected:
        m_state = State::Closed;
        Q_EMIT closed();
        break;
    default:
        abort();
        break;
    }
}

void SmtpClient::abort()
{
    if (m_state == State::Closed)
        return;
    closeWith(Common::makeError(QStringLiteral("smtp.aborted"), tr("Sending was cancelled"), {},
                                Retry::Transient));
}

void SmtpClient::handleTimeout()
{
    QString message;
    switch (m_state) {
    case State::Resolving:
    case State::Connecting:
        message = tr("Connecting to %1:%2 timed out after %3")
                          .arg(m_settings.host)
                          .arg(m_settings.port)
                          .arg(seconds(m_settings.connectTimeoutMs));
        break;
    case State::Greeting:
        message = tr("The server %1 sent no greeting within %2")
                          .arg(m_settings.host, seconds(m_settings.greetingTimeoutMs));
        break;
    case State::TlsHandshake:
        message = tr("The TLS handshake with %1 timed out").arg(m_settings.host);
        break;
    case State::Quitting:
    case State::Ready:
        closeSocket();
        Q_EMIT closed();
        return;
    default:
        message = tr("The server %1 did not answer within %2")
                          .arg(m_settings.host, seconds(m_settings.socketTimeoutMs));
        break;
    }
    closeWith(Common::makeError(QStringLiteral("smtp.timeout"), message,
                                tr("timed out while %1").arg(stateName()), Retry::Transient));
}

void SmtpClient::handleBytesWritten()
{
    // A large message on a slow link: progress counts as activity.
    if (m_state == State::Sending && !m_expected.empty())
        armTimer(m_settings.socketTimeoutMs);
}

void SmtpClient::writeCommand(Command command, const QByteArray &line, int index)
{
    if (command != Command::AuthStart && command != Command::AuthContinue)
        qCDebug(lcSmtp).noquote() << "C:" << QString::fromUtf8(line).trimmed();
    m_expected.push_back({command, index});
    m_socket->write(line);
    armTimer(m_settings.socketTimeoutMs);
}

void SmtpClient::armTimer(int ms)
{
    m_timer->start(ms);
}

void SmtpClient::beginStep(const QString &id, const QString &title)
{
    m_stepId = id;
    m_stepTitle = title;
    m_stepTimer.start();
    Q_EMIT stepStarted(id, title);
}

void SmtpClient::endStep(bool ok, const QString &detail, QList<DiagnosticFact> facts, bool skipped)
{
    if (m_stepId.isEmpty())
        return;
    DiagnosticStep step;
    step.id = m_stepId;
    step.title = m_stepTitle;
    step.ok = ok;
    step.skipped = skipped;
    step.durationMs = m_stepTimer.elapsed();
    step.detail = detail;
    step.facts = std::move(facts);
    m_stepId.clear();
    Q_EMIT stepFinished(step);
}

void SmtpClient::failSetup(const Common::Error &error)
{
    qCDebug(lcSmtp).noquote() << "setup failed:" << error.toString();
    endStep(false, error.toString());
    closeSocket();
    QPointer<SmtpClient> self(this);
    Q_EMIT setupFailed(error);
    if (self)
        Q_EMIT closed();
}

void SmtpClient::closeWith(const Common::Error &error)
{
    switch (m_state) {
    case State::Closed:
        return;
    case State::Sending:
        failTransaction(error);
        return;
    case State::Ready:
    case State::Quitting:
    case State::Unconnected:
        qCDebug(lcSmtp).noquote() << "connection closed:" << error.toString();
        closeSocket();
        Q_EMIT closed();
        return;
    default:
        failSetup(error);
        return;
    }
}

void SmtpClient::closeSocket()
{
    m_state = State::Closed;
    m_timer->stop();
    m_expected.clear();
    if (m_lookupId >= 0) {
        QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
    }
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

QString SmtpClient::heloName() const
{
    if (!m_settings.heloName.isEmpty())
        return m_settings.heloName;
    const QString host = QSysInfo::machineHostName();
    if (host.contains(u'.') && isAscii(host) && isSafeAddress(host))
        return host;
    // RFC 5321 4.1.3: an address literal when there is no fully qualified name.
    const QHostAddress local = m_socket->localAddress();
    if (local.protocol() == QAbstractSocket::IPv6Protocol)
        return QStringLiteral("[IPv6:%1]").arg(local.toString());
    return QStringLiteral("[%1]").arg(local.toString());
}

} // namespace Providers
