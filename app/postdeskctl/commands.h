#pragma once

#include <QStringList>

// Each command group of postdeskctl is one function: it receives the arguments after the group name
// (e.g. for `postdeskctl db migrate --db X` it receives {"migrate", "--db", "X"}), prints its
// result on stdout and errors on stderr, and returns the process exit status.
namespace Ctl {

int runDb(const QStringList &args);
int runDemo(const QStringList &args);
int runWorker(const QStringList &args);
int runRender(const QStringList &args);
int runProvider(const QStringList &args);
int runSend(const QStringList &args);
int runTemplate(const QStringList &args);
int runEnqueue(const QStringList &args);
int runQueue(const QStringList &args);
int runSuppress(const QStringList &args);
int runWebhooks(const QStringList &args);
int runEvents(const QStringList &args);

} // namespace Ctl
