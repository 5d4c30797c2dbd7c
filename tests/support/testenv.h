#pragma once

#include <QString>

class QWidget;

namespace TestSupport {

// The value of an environment variable the test command (run.sh test) exports. A missing one fails
// the calling test with a message that says how to run the suite; tests never skip quietly.
QString requiredEnv(const char *name);

// Saves a PNG of widget under the build's screenshots/ directory and returns its path.
QString saveScreenshot(QWidget *widget, const QString &name);

// Path of a built program (postdeskctl, postdeskd, postdesk) in the build tree.
QString programPath(const QString &name);

} // namespace TestSupport
