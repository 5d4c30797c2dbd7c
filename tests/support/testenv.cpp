#include "testenv.h"

#include <QDir>
#include <QPixmap>
#include <QTest>
#include <QWidget>

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

} // namespace TestSupport
