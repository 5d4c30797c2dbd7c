#include "testenv.h"

#include <QDir>
#include <QPixmap>
#include <QProcess>
#include <QTest>
#include <QWidget>

#include <unistd.h>

namespace {

// GUI tests show the template preview, a QtWebEngine view: it shares OpenGL contexts with the
// widgets (to be set before the application exists) and, as root, runs without its sandbox.
void prepareWebEngine()
{
    if (::geteuid() == 0 && !qEnvironmentVariableIsSet("QTWEBENGINE_DISABLE_SANDBOX"))
        qputenv("QTWEBENGINE_DISABLE_SANDBOX", "1");
    QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
}
Q_CONSTRUCTOR_FUNCTION(prepareWebEngine)

} // namespace

namespace TestSupport {

QString requiredEnv(const char *name)
{
    const QString value = qEnvironmentVariable(name);
    if (value.isEmpty()) {
        QTest::qFail(qPrintable(QStringLiteral("%1 is not set: run the tests with './run.sh test', "
                                               "which starts the services they need.")
                                        .arg(QLatin1String(name))),
                     __FILE__, __LINE__);
    }
    return value;
}

QString saveScreenshot(QWidget *widget, const QString &name)
{
    QString dir = qEnvironmentVariable("POSTDESK_SCREENSHOT_DIR");
    if (dir.isEmpty())
        dir = QStringLiteral(POSTDESK_BINARY_DIR) + QStringLiteral("/screenshots");
    QDir().mkpath(dir);
    const QString path = dir + u'/' + name + QStringLiteral(".png");
    widget->grab().save(path);
    return path;
}

QString programPath(const QString &name)
{
    return QStringLiteral(POSTDESK_BINARY_DIR) + QStringLiteral("/app/") + name + u'/' + name;
}

ProgramRun runCtl(const QStringList &arguments, const QProcessEnvironment &extra, int timeoutMs)
{
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("POSTDESK_DB"));
    env.insert(extra);
    process.setProcessEnvironment(env);
    process.start(programPath(QStringLiteral("postdeskctl")), arguments);
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return {};
    }
    ProgramRun run;
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

} // namespace TestSupport
