#pragma once

#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

class QWidget;

namespace TestSupport {

// The value of an environment variable the test command (run.sh test) exports. A missing one fails
// the calling test with a message that says how to run the suite; tests never skip quietly.
QString requiredEnv(const char *name);

// Saves a PNG of widget under the build's screenshots/ directory and returns its path.
QString saveScreenshot(QWidget *widget, const QString &name);

// Path of a built program (postdeskctl, postdeskd, postdesk) in the build tree.
QString programPath(const QString &name);

// What a run of a command-line program printed and how it ended (-1: did not finish or crashed).
struct ProgramRun
{
    int exitCode = -1;
    QString out;
    QString err;
    QString all() const { return out + err; }
};

// Runs postdeskctl with arguments, without POSTDESK_DB from the test's environment and with extra
// variables added, and waits for it.
ProgramRun runCtl(const QStringList &arguments, const QProcessEnvironment &extra = {},
                  int timeoutMs = 180000);

} // namespace TestSupport
