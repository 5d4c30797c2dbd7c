#pragma once

#include "common/result.h"
#include "providers/transport.h"

#include <QCommandLineParser>
#include <QTextStream>

#include <memory>

namespace Db {
class Connection;
}

namespace Ctl {

QTextStream &out();
QTextStream &err();

// Prints "postdeskctl: <message>" and the technical detail on stderr; returns exit status 1.
int reportError(const Common::Error &error);

// Parses args for the command "postdeskctl <command>"; handles --help (prints and returns false
// with exitCode 0) and unknown options (prints what is wrong and returns false with exitCode 2).
bool parseCommandLine(QCommandLineParser &parser, const QString &command, const QStringList &args,
                      int *exitCode);

// The --db option every command that touches the database takes.
QCommandLineOption databaseOption();

// Connects to the database selected by --db (or the settings, or the embedded default), starting
// the embedded cluster when needed and, if migrate is set, bringing the schema up to date.
Common::Result<std::unique_ptr<Db::Connection>> openDatabase(const QCommandLineParser &parser,
                                                             bool migrate = true);

// Sends one message and waits for the outcome; an SMTP transport then says QUIT (within a short
// grace period). Recipients the server refused are printed on stderr.
Providers::SendResult sendAndWait(Providers::Transport &transport,
                                  const Providers::OutgoingMessage &message);

} // namespace Ctl
