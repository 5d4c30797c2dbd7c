#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "queue/suppressionrepository.h"

#include <QFile>

namespace Ctl {

namespace {

const char *suppressUsage =
        "Usage: postdeskctl suppress SUBCOMMAND [options]\n\n"
        "Subcommands:\n"
        "  add ADDRESS [--reason R] [--note TEXT]  never send to this address\n"
        "  remove ADDRESS                          send to it again\n"
        "  list [--search TEXT]                    the suppressed addresses\n"
        "  import FILE.csv                         add addresses from CSV (address[,reason,note])\n"
        "  export [FILE.csv]                       write the list as CSV (default: standard "
        "output)\n\n"
        "Reasons: hard_bounce, soft_bounces, complaint, unsubscribe, manual (the default).\n"
        "Every command takes --db CONNINFO.\n";

struct Opened
{
    std::unique_ptr<Db::Connection> connection;
    QStringList positional;
};

// Parses, checks the number of positional arguments and connects; returns exit code or -1.
int prepare(QCommandLineParser &parser, const QString &command, const QStringList &args,
            int minPositional, int maxPositional, const char *example, Opened *opened)
{
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, command, args, &exitCode))
        return exitCode;
    opened->positional = parser.positionalArguments();
    if (opened->positional.size() < minPositional || opened->positional.size() > maxPositional) {
        err() << "postdeskctl " << command << ": " << example << '\n';
        return 2;
    }
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    opened->connection = std::move(*connection);
    return -1;
}

int runAdd(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Suppresses an address: messages to it are "
                                                    "marked 'suppressed' and never sent."));
    parser.addPositionalArgument(QStringLiteral("ADDRESS"), QStringLiteral("The address."));
    parser.addOption({QStringLiteral("reason"),
                      QStringLiteral("hard_bounce, soft_bounces, complaint, unsubscribe or manual "
                                     "(default)."),
                      QStringLiteral("reason"), QStringLiteral("manual")});
    parser.addOption({QStringLiteral("note"), QStringLiteral("Why, for the next person."),
                      QStringLiteral("text")});
    Opened opened;
    if (int code = prepare(parser, QStringLiteral("suppress add"), args, 1, 1,
                           "give one ADDRESS, e.g. 'postdeskctl suppress add ada@example.org "
                           "--reason unsubscribe'.",
                           &opened);
        code >= 0)
        return code;
    Queue::SuppressionRepository repository(*opened.connection);
    auto added = repository.add(opened.positional.first(), parser.value(QStringLiteral("reason")),
                                parser.value(QStringLiteral("note")));
    if (!added)
        return reportError(added.error());
    const QString address = opened.positional.first().trimmed().toLower();
    out() << (*added ? "Suppressed " : "Already suppressed: ") << address << '\n';
    return 0;
}

int runRemove(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Removes an address from the suppression "
                                                    "list."));
    parser.addPositionalArgument(QStringLiteral("ADDRESS"), QStringLiteral("The address."));
    Opened opened;
    if (int code = prepare(parser, QStringLiteral("suppress remove"), args, 1, 1,
                           "give one ADDRESS, e.g. 'postdeskctl suppress remove ada@example.org'.",
                           &opened);
        code >= 0)
        return code;
    Queue::SuppressionRepository repository(*opened.connection);
    auto removed = repository.remove(opened.positional.first());
    if (!removed)
        return reportError(removed.error());
    const QString address = opened.positional.first().trimmed().toLower();
    if (!*removed) {
        err() << "postdeskctl: " << address << " is not on the suppression list.\n";
        return 1;
    }
    out() << "Removed " << address << " from the suppression list.\n";
    return 0;
}

int runList(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Lists the suppressed addresses."));
    parser.addOption({QStringLiteral("search"),
                      QStringLiteral("Only addresses containing this text."),
                      QStringLiteral("text")});
    Opened opened;
    if (int code = prepare(parser, QStringLiteral("suppress list"), args, 0, 0,
                           "takes no arguments; use --search TEXT to narrow the list.", &opened);
        code >= 0)
        return code;
    Queue::SuppressionRepository repository(*opened.connection);
    auto list = repository.list(parser.value(QStringLiteral("search")));
    if (!list)
        return reportError(list.error());
    if (list->isEmpty()) {
        out() << "No suppressed addresses.\n";
        return 0;
    }
    out() << QStringLiteral("%1 %2 %3 %4\n")
                     .arg(QStringLiteral("ADDRESS"), -36)
                     .arg(QStringLiteral("REASON"), -13)
                     .arg(QStringLiteral("SINCE (UTC)"), -16)
                     .arg(QStringLiteral("NOTE"));
    for (const auto &entry : std::as_const(*list)) {
        out() << QStringLiteral("%1 %2 %3 %4\n")
                         .arg(entry.address, -36)
                         .arg(entry.reason, -13)
                         .arg(entry.createdAt.toUTC().toString(QStringLiteral("yyyy-MM-dd hh:mm")),
                              -16)
                         .arg(entry.note);
    }
    out() << list->size() << (list->size() == 1 ? " address.\n" : " addresses.\n");
    return 0;
}

int runImport(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Adds the addresses of a CSV file. With a header line the columns "
                           "are found by name (address or email, reason, note, source); "
                           "without, they are address[,reason[,note]]. Addresses already "
                           "suppressed keep their entry. A bad line stops the import before "
                           "anything is added."));
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The CSV file."));
    Opened opened;
    if (int code = prepare(parser, QStringLiteral("suppress import"), args, 1, 1,
                           "give one CSV FILE, e.g. 'postdeskctl suppress import bounces.csv'.",
                           &opened);
        code >= 0)
        return code;
    QFile file(opened.positional.first());
    if (!file.open(QIODevice::ReadOnly)) {
        err() << "postdeskctl: cannot read '" << file.fileName() << "': " << file.errorString()
              << ".\n";
        return 1;
    }
    Queue::SuppressionRepository repository(*opened.connection);
    auto imported = repository.importCsv(file.readAll());
    if (!imported)
        return reportError(imported.error());
    out() << "Imported " << imported->added << (imported->added == 1 ? " address" : " addresses");
    if (imported->alreadyThere > 0)
        out() << "; " << imported->alreadyThere << " already suppressed";
    out() << ".\n";
    return 0;
}

int runExport(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Writes the suppression list as CSV."));
    parser.addPositionalArgument(QStringLiteral("FILE"),
                                 QStringLiteral("Where to write (default: standard output)."),
                                 QStringLiteral("[FILE]"));
    Opened opened;
    if (int code = prepare(parser, QStringLiteral("suppress export"), args, 0, 1,
                           "give at most one FILE.", &opened);
        code >= 0)
        return code;
    Queue::SuppressionRepository repository(*opened.connection);
    auto csv = repository.exportCsv();
    if (!csv)
        return reportError(csv.error());
    if (opened.positional.isEmpty()) {
        out().flush();
        fwrite(csv->constData(), 1, size_t(csv->size()), stdout);
        fflush(stdout);
        return 0;
    }
    QFile file(opened.positional.first());
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(*csv) != csv->size()) {
        err() << "postdeskctl: cannot write '" << file.fileName() << "': " << file.errorString()
              << ".\n";
        return 1;
    }
    file.close();
    const qsizetype lines = csv->count('\n') - 1;
    out() << "Wrote " << lines << (lines == 1 ? " address" : " addresses") << " to "
          << file.fileName() << ".\n";
    return 0;
}

} // namespace

int runSuppress(const QStringList &args)
{
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h"
        || args.first() == u"help") {
        out() << suppressUsage;
        return args.isEmpty() ? 2 : 0;
    }
    const QString sub = args.first();
    const QStringList rest = args.mid(1);
    if (sub == u"add")
        return runAdd(rest);
    if (sub == u"remove")
        return runRemove(rest);
    if (sub == u"list")
        return runList(rest);
    if (sub == u"import")
        return runImport(rest);
    if (sub == u"export")
        return runExport(rest);
    err() << "postdeskctl suppress: unknown subcommand '" << sub
          << "'. Run 'postdeskctl suppress --help' for the list.\n";
    return 2;
}

} // namespace Ctl
