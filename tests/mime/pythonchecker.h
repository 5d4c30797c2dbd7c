#pragma once

// Runs the independent checkers of tests/mime/*.py with Debian's /usr/bin/python3 (the python3
// first on PATH may be another interpreter that cannot see Debian's modules, such as python3-dkim).

#include <QByteArray>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace MimeTest {

struct PythonRun
{
    bool started = false;
    int exitCode = -1;
    QJsonObject json;
    QByteArray standardError;
    QString problem; // why the checker could not give an answer; empty when it did
};

inline QString checkerPath(const QString &script)
{
    return QStringLiteral(POSTDESK_SOURCE_DIR "/tests/mime/") + script;
}

inline PythonRun runChecker(const QString &script, const QStringList &arguments,
                            const QByteArray &input)
{
    PythonRun run;
    const QString python = QStringLiteral("/usr/bin/python3");
    if (!QFile::exists(python)) {
        run.problem = QStringLiteral("%1 is missing: apt-get install python3").arg(python);
        return run;
    }
    QProcess process;
    process.start(python, QStringList{checkerPath(script)} + arguments);
    if (!process.waitForStarted(10000)) {
        run.problem = QStringLiteral("%1 did not start: %2").arg(python, process.errorString());
        return run;
    }
    run.started = true;
    process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        run.problem = QStringLiteral("%1 did not finish within 60 s").arg(script);
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.standardError = process.readAllStandardError();
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(process.readAllStandardOutput(), &error);
    if (document.isObject())
        run.json = document.object();
    else
        run.problem = QStringLiteral("%1 exited with %2 and printed no JSON: %3")
                              .arg(script)
                              .arg(run.exitCode)
                              .arg(QString::fromUtf8(run.standardError));
    return run;
}

// One checker process answering a JSON request per line ("--serve"), for checkers whose start-up is
// slow (python3-dkim takes a second to import).
class CheckerServer
{
public:
    CheckerServer() = default;
    CheckerServer(const CheckerServer &) = delete;
    CheckerServer &operator=(const CheckerServer &) = delete;
    ~CheckerServer()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.closeWriteChannel();
            if (!m_process.waitForFinished(10000)) {
                m_process.kill();
                m_process.waitForFinished();
            }
        }
    }

    // Empty when the checker runs, otherwise why not.
    QString start(const QString &script)
    {
        m_script = script;
        const QString python = QStringLiteral("/usr/bin/python3");
        if (!QFile::exists(python))
            return QStringLiteral("%1 is missing: apt-get install python3").arg(python);
        m_process.start(python, {checkerPath(script), QStringLiteral("--serve")});
        if (!m_process.waitForStarted(10000))
            return QStringLiteral("%1 did not start: %2").arg(python, m_process.errorString());
        return {};
    }

    // The answer to one request; on failure an empty object and the reason in *problem.
    QJsonObject request(const QJsonObject &request, QString *problem)
    {
        problem->clear();
        if (m_process.state() != QProcess::Running) {
            *problem = exitReason();
            return {};
        }
        m_process.write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
        while (!m_process.canReadLine()) {
            if (!m_process.waitForReadyRead(60000)) {
                *problem = m_process.state() == QProcess::Running
                        ? QStringLiteral("%1 gave no answer within 60 s").arg(m_script)
                        : exitReason();
                return {};
            }
        }
        const QJsonDocument answer = QJsonDocument::fromJson(m_process.readLine());
        if (!answer.isObject())
            *problem = QStringLiteral("%1 answered something other than JSON").arg(m_script);
        return answer.object();
    }

private:
    QString exitReason()
    {
        m_process.waitForFinished(10000);
        return QStringLiteral("%1 exited with %2: %3")
                .arg(m_script)
                .arg(m_process.exitCode())
                .arg(QString::fromUtf8(m_process.readAllStandardError()).trimmed());
    }

    QProcess m_process;
    QString m_script;
};

} // namespace MimeTest
