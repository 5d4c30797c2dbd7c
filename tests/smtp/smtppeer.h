#pragma once

// A real SMTP peer for the tests, on 127.0.0.1 and a free port: aiosmtpd, the scriptable
// misbehaving server (both under tests/smtp/) or postfix's smtp-sink. Stopped when destroyed.
// A peer that cannot be started is a test failure, never a skip.

#include "providers/providerurl.h"
#include "providers/smtp/smtptransport.h"
#include "providers/transport.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

namespace SmtpTest {

inline QString python()
{
    return QStringLiteral("/usr/bin/python3"); // Debian's, which sees python3-aiosmtpd
}

inline QString script(const QString &name)
{
    return QStringLiteral(POSTDESK_SOURCE_DIR "/tests/smtp/") + name;
}

inline QString dataFile(const QString &name)
{
    return QStringLiteral(POSTDESK_TEST_DATA_DIR "/smtp/") + name;
}

class Peer
{
public:
    Peer() { m_process.setProcessChannelMode(QProcess::SeparateChannels); }
    ~Peer() { stop(); }
    Peer(const Peer &) = delete;
    Peer &operator=(const Peer &) = delete;

    // Starts tests/smtp/<script> with args and --out; waits for its "PORT n" line.
    bool startPython(const QString &scriptName, const QStringList &args)
    {
        if (!QFile::exists(python())) {
            m_error = QStringLiteral("%1 is missing (apt-get install python3 python3-aiosmtpd)")
                              .arg(python());
            return false;
        }
        m_process.start(python(),
                        QStringList{script(scriptName)} + args << QStringLiteral("--out")
                                                               << m_out.path());
        if (!m_process.waitForStarted(10'000)) {
            m_error = m_process.errorString();
            return false;
        }
        QByteArray line;
        QElapsedTimer timer;
        timer.start();
        while (!line.contains('\n') && timer.elapsed() < 15'000) {
            if (!m_process.waitForReadyRead(500) && m_process.state() != QProcess::Running)
                break;
            line += m_process.readAllStandardOutput();
        }
        if (!line.startsWith("PORT ")) {
            m_error = QStringLiteral("%1 did not start: %2 %3")
                              .arg(scriptName, QString::fromUtf8(line),
                                   QString::fromUtf8(m_process.readAllStandardError()));
            return false;
        }
        m_port = quint16(line.mid(5).trimmed().toUInt());
        return m_port != 0;
    }

    // Starts postfix's smtp-sink on a free port.
    bool startSmtpSink(const QStringList &extraArgs = {})
    {
        const QString sink = QStandardPaths::findExecutable(QStringLiteral("smtp-sink"),
                                                            {QStringLiteral("/usr/sbin"),
                                                             QStringLiteral("/usr/bin")});
        if (sink.isEmpty()) {
            m_error = QStringLiteral("smtp-sink is missing (apt-get install postfix)");
            return false;
        }
        {
            QTcpServer probe;
            if (!probe.listen(QHostAddress::LocalHost, 0)) {
                m_error = probe.errorString();
                return false;
            }
            m_port = probe.serverPort();
        }
        QStringList args = extraArgs;
        if (::geteuid() == 0)
            args << QStringLiteral("-u") << QStringLiteral("nobody");
        args << QStringLiteral("127.0.0.1:%1").arg(m_port) << QStringLiteral("256");
        m_sink = true;
        m_process.start(sink, args);
        if (!m_process.waitForStarted(10'000)) {
            m_error = m_process.errorString();
            return false;
        }
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 10'000) {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, m_port);
            if (socket.waitForConnected(200) && socket.waitForReadyRead(1000)
                && socket.readAll().startsWith("220"))
                return true;
            if (m_process.state() != QProcess::Running)
                break;
            QTest::qWait(50);
        }
        m_error = QStringLiteral("smtp-sink did not start: %1")
                          .arg(QString::fromUtf8(m_process.readAllStandardError()));
        return false;
    }

    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.closeWriteChannel(); // the python peers stop when stdin closes
        if (m_sink || !m_process.waitForFinished(3000)) {
            m_process.terminate();
            if (!m_process.waitForFinished(3000))
                m_process.kill();
            m_process.waitForFinished(3000);
        }
    }

    quint16 port() const { return m_port; }
    QString error() const { return m_error; }
    QString outDir() const { return m_out.path(); }

    int messageCount() const
    {
        return int(QDir(m_out.path()).entryList({QStringLiteral("*.eml")}, QDir::Files).size());
    }
    QString messagePath(int n) const { return m_out.filePath(QStringLiteral("%1.eml").arg(n)); }
    QByteArray message(int n) const { return readFile(messagePath(n)); }
    QJsonObject envelope(int n) const
    {
        return QJsonDocument::fromJson(readFile(m_out.filePath(QStringLiteral("%1.json").arg(n))))
                .object();
    }
    int sessionCount() const
    {
        return int(
                QDir(m_out.path()).entryList({QStringLiteral("session-*.log")}, QDir::Files).size());
    }
    // Every line the client sent in session n (1-based), in order.
    QStringList sessionLog(int n) const
    {
        const QString text = QString::fromUtf8(
                readFile(m_out.filePath(QStringLiteral("session-%1.log").arg(n))));
        return text.split(u'\n', Qt::SkipEmptyParts);
    }

private:
    static QByteArray readFile(const QString &path)
    {
        QFile file(path);
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }

    QProcess m_process;
    QTemporaryDir m_out;
    quint16 m_port = 0;
    bool m_sink = false;
    QString m_error;
};

// The message at path as Python's email package sees it (tests/smtp/inspect_message.py).
inline QJsonObject inspect(const QString &path)
{
    QProcess process;
    process.start(python(), {script(QStringLiteral("inspect_message.py")), path});
    if (!process.waitForFinished(20'000) || process.exitCode() != 0) {
        qWarning() << "inspect_message.py failed:" << process.readAllStandardError();
        return {};
    }
    return QJsonDocument::fromJson(process.readAllStandardOutput()).object();
}

// The decoded value of the first header called name.
inline QString header(const QJsonObject &inspected, const QString &name)
{
    for (const QJsonValue &h : inspected.value(QStringLiteral("headers")).toArray()) {
        const QJsonArray pair = h.toArray();
        if (pair.at(0).toString().compare(name, Qt::CaseInsensitive) == 0)
            return pair.at(1).toString();
    }
    return {};
}

// Settings for a peer on 127.0.0.1 with short timeouts.
inline Providers::SmtpSettings settingsFor(
        quint16 port,
        Providers::SmtpSecurity security = Providers::SmtpSecurity::StartTlsOpportunistic)
{
    Providers::SmtpSettings s;
    s.host = QStringLiteral("127.0.0.1");
    s.port = port;
    s.security = security;
    s.caFile = dataFile(QStringLiteral("ca.pem"));
    s.heloName = QStringLiteral("client.test");
    s.connectTimeoutMs = 5000;
    s.greetingTimeoutMs = 5000;
    s.socketTimeoutMs = 5000;
    return s;
}

// The text part of the sample message: lines that need dot-stuffing, 8-bit UTF-8.
inline QString sampleText()
{
    return QStringLiteral("Gr\u00fc\u00dfe aus K\u00f6ln!\n.a line that starts with a dot\n..two "
                          "dots\n.\nthe line above is a single dot\n");
}

inline QByteArray sampleAttachment()
{
    QByteArray bytes;
    for (int i = 0; i < 3000; ++i)
        bytes.append(char(i * 7 % 256));
    return bytes;
}

// A multipart/mixed message (alternative text + HTML, one attachment) in RFC 5322 form.
inline QByteArray sampleMessage(const QString &messageId = QStringLiteral("<sample-1@example.org>"))
{
    QByteArray text = sampleText().toUtf8();
    text.replace("\n", "\r\n");
    QByteArray attachment = sampleAttachment().toBase64();
    QByteArray wrapped;
    for (qsizetype i = 0; i < attachment.size(); i += 76)
        wrapped += attachment.mid(i, 76) + "\r\n";
    return "From: Alice Example <alice@example.org>\r\n"
           "To: Bob <bob@example.net>, carol@example.net\r\n"
           "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_from_the_test?=\r\n"
           "Date: Tue, 24 Nov 2026 07:00:00 +0000\r\n"
           "Message-ID: "
            + messageId.toUtf8()
            + "\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
              "\r\n"
              "--outer\r\n"
              "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
              "\r\n"
              "--inner\r\n"
              "Content-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: 8bit\r\n"
              "\r\n"
            + text
            + "--inner\r\n"
              "Content-Type: text/html; charset=utf-8\r\n"
              "Content-Transfer-Encoding: quoted-printable\r\n"
              "\r\n"
              "<p>Gr=C3=BC=C3=9Fe</p>\r\n"
              "--inner--\r\n"
              "--outer\r\n"
              "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
              "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
              "Content-Transfer-Encoding: base64\r\n"
              "\r\n"
            + wrapped + "--outer--\r\n";
}

inline Providers::OutgoingMessage sampleOutgoing(
        const QStringList &recipients = {QStringLiteral("bob@example.net"),
                                         QStringLiteral("carol@example.net")})
{
    Providers::OutgoingMessage m;
    m.envelopeFrom = QStringLiteral("bounces@example.org");
    m.recipients = recipients;
    m.data = sampleMessage();
    m.messageId = QStringLiteral("<sample-1@example.org>");
    m.has8bit = true;
    return m;
}

// Sends messages through a fresh SmtpTransport and waits for all results (in ticket order).
inline QList<Providers::SendResult> sendAll(const Providers::SmtpSettings &settings,
                                            const QList<Providers::OutgoingMessage> &messages,
                                            int timeoutMs = 20'000)
{
    Providers::SmtpTransport transport(settings);
    QMap<Providers::Transport::Ticket, Providers::SendResult> results;
    QObject::connect(&transport, &Providers::Transport::sent,
                     [&](Providers::Transport::Ticket ticket, const Providers::SendResult &r) {
                         results.insert(ticket, r);
                     });
    for (const auto &m : messages)
        transport.send(m);
    QElapsedTimer timer;
    timer.start();
    while (results.size() < messages.size() && timer.elapsed() < timeoutMs)
        QTest::qWait(10);
    return results.values();
}

inline Providers::SendResult sendOne(const Providers::SmtpSettings &settings,
                                     const Providers::OutgoingMessage &message,
                                     int timeoutMs = 20'000)
{
    const auto results = sendAll(settings, {message}, timeoutMs);
    if (results.isEmpty()) {
        Providers::SendResult timedOut;
        timedOut.error = Common::makeError(QStringLiteral("test.timeout"),
                                           QStringLiteral("no result within the test's time"));
        return timedOut;
    }
    return results.first();
}

} // namespace SmtpTest
