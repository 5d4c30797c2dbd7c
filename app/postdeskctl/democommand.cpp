#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "db/demodata.h"

#include <QElapsedTimer>

namespace Ctl {

int runDemo(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Fills an empty database with a month of realistic demo data: "
                           "providers (no real secrets), templates with versions, messages in "
                           "every state, events and daily rollups. Refuses a database that holds "
                           "anything else; does nothing when the demo data is already there."));
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("demo"), args, &exitCode))
        return exitCode;
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    out() << "Loading demo data into " << (*connection)->info().describe() << " ...\n";
    out().flush();
    QElapsedTimer timer;
    timer.start();
    auto summary = Db::DemoData::load(**connection);
    if (!summary)
        return reportError(summary.error());
    if (summary->alreadyLoaded) {
        out() << "Demo data is already loaded (" << summary->messages << " messages).\n";
        return 0;
    }
    out() << "Loaded " << summary->providers << " providers, " << summary->templates
          << " templates, " << summary->messages << " messages and " << summary->events
          << " events in " << QString::number(timer.elapsed() / 1000.0, 'f', 1) << " s.\n";
    return 0;
}

} // namespace Ctl
