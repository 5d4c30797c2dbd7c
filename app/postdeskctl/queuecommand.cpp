#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "queue/queuerepository.h"

namespace Ctl {

namespace {

const char *queueUsage =
        "Usage: postdeskctl queue SUBCOMMAND [options]\n\n"
        "Subcommands:\n"
        "  list                 the queues: state, pending, due, processing, sent, dead, ...\n"
        "  pause QUEUE          stop handing out the queue's messages\n"
        "  resume QUEUE         hand them out again\n"
        "  count [filter]       how many messages match a filter\n"
        "  retry [filter]       dead messages: send again now, with fresh attempts\n"
        "  requeue [filter]     any message not in progress (sent, cancelled, ...): send again\n"
        "  cancel [filter]      pending messages: do not send\n"
        "  reprioritise --priority N [filter]   pending messages: a new priority (1-5)\n\n"
        "Filters (combine them; retry, requeue, cancel and reprioritise need at least one, or "
        "--all):\n"
        "  --queue NAME  --state STATE  --provider NAME  --error-class transient|permanent\n"
        "  --since TIME  --until TIME (ISO 8601, on the creation time)  --id ID\n"
        "Every command takes --db CONNINFO.\n";

void addFilterOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("queue"),
                      QStringLiteral("Only this queue (repeat or separate with commas)."),
                      QStringLiteral("name")});
    parser.addOption({QStringLiteral("state"),
                      QStringLiteral("Only messages in this state: pending, processing, sent, "
                                     "dead, cancelled, suppressed."),
                      QStringLiteral("state")});
    parser.addOption({QStringLiteral("provider"),
                      QStringLiteral("Only messages last tried with this provider."),
                      QStringLiteral("name")});
    parser.addOption({QStringLiteral("error-class"),
                      QStringLiteral("Only messages whose last error was transient or "
                                     "permanent."),
                      QStringLiteral("class")});
    parser.addOption({QStringLiteral("since"),
                      QStringLiteral("Only messages created at or after this time (ISO 8601)."),
                      QStringLiteral("time")});
    parser.addOption({QStringLiteral("until"),
                      QStringLiteral("Only messages created before this time (ISO 8601)."),
                      QStringLiteral("time")});
    parser.addOption({QStringLiteral("id"), QStringLiteral("Only this message (repeatable)."),
                      QStringLiteral("id")});
    parser.addOption({QStringLiteral("all"),
                      QStringLiteral("Apply to every message the operation can change.")});
}

QStringList splitValues(const QStringList &values)
{
    QStringList split;
    for (const QString &value : values)
        split += value.split(u',', Qt::SkipEmptyParts);
    for (QString &value : split)
        value = value.trimmed();
    return split;
}

// Reads the filter options; on a mistake prints it and returns std::nullopt.
std::optional<Queue::Filter> filterFrom(const QCommandLineParser &parser, const QString &command,
                                        bool needsFilter)
{
    Queue::Filter filter;
    const auto mistake = [&](const QString &what) {
        err() << "postdeskctl " << command << ": " << what << '\n';
        return std::nullopt;
    };
    filter.queues = splitValues(parser.values(QStringLiteral("queue")));
    for (const QString &name : splitValues(parser.values(QStringLiteral("state")))) {
        const auto state = Queue::stateFromName(name);
        if (!state)
            return mistake(QStringLiteral("'%1' is not a state; use pending, processing, sent, "
                                          "dead, cancelled or suppressed.")
                                   .arg(name));
        filter.states << *state;
    }
    filter.providers = splitValues(parser.values(QStringLiteral("provider")));
    filter.errorClass = parser.value(QStringLiteral("error-class"));
    if (!filter.errorClass.isEmpty() && filter.errorClass != u"transient"
        && filter.errorClass != u"permanent")
        return mistake(QStringLiteral("--error-class must be transient or permanent."));
    for (const auto &[option, target] : {std::pair{QStringLiteral("since"), &filter.createdFrom},
                                         std::pair{QStringLiteral("until"), &filter.createdUntil}}) {
        if (!parser.isSet(option))
            continue;
        *target = QDateTime::fromString(parser.value(option), Qt::ISODateWithMs);
        if (!target->isValid())
            return mistake(QStringLiteral("--%1 '%2' is not an ISO 8601 time (e.g. "
                                          "2026-05-01T09:00:00Z).")
                                   .arg(option, parser.value(option)));
    }
    for (const QString &id : splitValues(parser.values(QStringLiteral("id")))) {
        bool ok = false;
        const qint64 value = id.toLongLong(&ok);
        if (!ok || value <= 0)
            return mistake(QStringLiteral("--id '%1' is not a message id.").arg(id));
        filter.ids << value;
    }
    const bool empty = filter.queues.isEmpty() && filter.states.isEmpty()
            && filter.providers.isEmpty() && filter.errorClass.isEmpty()
            && !filter.createdFrom.isValid() && !filter.createdUntil.isValid()
            && filter.ids.isEmpty();
    if (needsFilter && empty && !parser.isSet(QStringLiteral("all")))
        return mistake(QStringLiteral("say which messages: give a filter such as --queue "
                                      "marketing --state dead, or --all."));
    return filter;
}

int runList(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Lists the queues and their messages."));
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("queue list"), args, &exitCode))
        return exitCode;
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Queue::QueueRepository repository(**connection);
    auto stats = repository.stats();
    if (!stats)
        return reportError(stats.error());
    out() << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8 %9\n")
                     .arg(QStringLiteral("QUEUE"), -14)
                     .arg(QStringLiteral("STATE"), -8)
                     .arg(QStringLiteral("PENDING"), 8)
                     .arg(QStringLiteral("DUE"), 8)
                     .arg(QStringLiteral("SENDING"), 8)
                     .arg(QStringLiteral("SENT"), 8)
                     .arg(QStringLiteral("DEAD"), 8)
                     .arg(QStringLiteral("CANCELLED"), 9)
                     .arg(QStringLiteral("SUPPRESSED"), 10);
    for (const Queue::QueueStats &queue : std::as_const(*stats)) {
        out() << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8 %9\n")
                         .arg(queue.queue, -14)
                         .arg(queue.paused ? QStringLiteral("paused") : QStringLiteral("running"),
                              -8)
                         .arg(queue.pending, 8)
                         .arg(queue.due, 8)
                         .arg(queue.processing, 8)
                         .arg(queue.sent, 8)
                         .arg(queue.dead, 8)
                         .arg(queue.cancelled, 9)
                         .arg(queue.suppressed, 10);
    }
    return 0;
}

int runPauseResume(const QStringList &args, bool pause)
{
    const QString command = pause ? QStringLiteral("queue pause") : QStringLiteral("queue resume");
    QCommandLineParser parser;
    parser.setApplicationDescription(pause ? QStringLiteral("Stops handing out a queue's messages "
                                                            "(those being sent finish).")
                                           : QStringLiteral("Hands out a paused queue's messages "
                                                            "again."));
    parser.addPositionalArgument(QStringLiteral("QUEUE"), QStringLiteral("The queue's name."));
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, command, args, &exitCode))
        return exitCode;
    if (parser.positionalArguments().size() != 1) {
        err() << "postdeskctl " << command << ": give one QUEUE, e.g. 'postdeskctl " << command
              << " marketing'.\n";
        return 2;
    }
    const QString name = parser.positionalArguments().first();
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Queue::QueueRepository repository(**connection);
    auto done = pause ? repository.pause(name) : repository.resume(name);
    if (!done)
        return reportError(done.error());
    out() << "Queue '" << name << "' is " << (pause ? "paused" : "running") << ".\n";
    return 0;
}

enum class Bulk { Count, Retry, Requeue, Cancel, Reprioritise };

int runBulk(const QStringList &args, Bulk operation, const QString &name)
{
    const QString command = QStringLiteral("queue ") + name;
    QCommandLineParser parser;
    switch (operation) {
    case Bulk::Count:
        parser.setApplicationDescription(QStringLiteral("Counts the messages a filter matches "
                                                        "(try a filter here before changing "
                                                        "anything)."));
        break;
    case Bulk::Retry:
        parser.setApplicationDescription(QStringLiteral("Dead (and pending) messages: send "
                                                        "again now, with fresh attempts."));
        break;
    case Bulk::Requeue:
        parser.setApplicationDescription(QStringLiteral("Messages not being sent right now "
                                                        "(sent, dead, cancelled, suppressed): "
                                                        "queue them to be sent again."));
        break;
    case Bulk::Cancel:
        parser.setApplicationDescription(QStringLiteral("Pending messages: do not send them."));
        break;
    case Bulk::Reprioritise:
        parser.setApplicationDescription(QStringLiteral("Pending messages: give them a new "
                                                        "priority, 1 (highest) to 5."));
        break;
    }
    addFilterOptions(parser);
    if (operation == Bulk::Reprioritise)
        parser.addOption({QStringLiteral("priority"),
                          QStringLiteral("The new priority, 1 (highest) to 5."),
                          QStringLiteral("n")});
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, command, args, &exitCode))
        return exitCode;
    if (!parser.positionalArguments().isEmpty()) {
        err() << "postdeskctl " << command << ": unexpected argument '"
              << parser.positionalArguments().first() << "'. Filters are options, e.g. --queue "
              << parser.positionalArguments().first() << ".\n";
        return 2;
    }
    int priority = 0;
    if (operation == Bulk::Reprioritise) {
        bool ok = false;
        priority = parser.value(QStringLiteral("priority")).toInt(&ok);
        if (!ok || priority < 1 || priority > 5) {
            err() << "postdeskctl " << command << ": give --priority 1 (highest) to 5.\n";
            return 2;
        }
    }
    const auto filter = filterFrom(parser, command, operation != Bulk::Count);
    if (!filter)
        return 2;
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Queue::QueueRepository repository(**connection);
    Common::Result<qint64> changed = 0;
    switch (operation) {
    case Bulk::Count:
        changed = repository.count(*filter);
        break;
    case Bulk::Retry:
        changed = repository.retry(*filter);
        break;
    case Bulk::Requeue:
        changed = repository.requeue(*filter);
        break;
    case Bulk::Cancel:
        changed = repository.cancel(*filter);
        break;
    case Bulk::Reprioritise:
        changed = repository.reprioritise(*filter, priority);
        break;
    }
    if (!changed)
        return reportError(changed.error());
    const char *verb = operation == Bulk::Count ? "Matching"
            : operation == Bulk::Retry          ? "Retried"
            : operation == Bulk::Requeue        ? "Requeued"
            : operation == Bulk::Cancel         ? "Cancelled"
                                                : "Reprioritised";
    out() << verb << ": " << *changed << (*changed == 1 ? " message" : " messages") << ".\n";
    return 0;
}

} // namespace

int runQueue(const QStringList &args)
{
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h"
        || args.first() == u"help") {
        out() << queueUsage;
        return args.isEmpty() ? 2 : 0;
    }
    const QString sub = args.first();
    const QStringList rest = args.mid(1);
    if (sub == u"list")
        return runList(rest);
    if (sub == u"pause")
        return runPauseResume(rest, true);
    if (sub == u"resume")
        return runPauseResume(rest, false);
    if (sub == u"count")
        return runBulk(rest, Bulk::Count, sub);
    if (sub == u"retry")
        return runBulk(rest, Bulk::Retry, sub);
    if (sub == u"requeue")
        return runBulk(rest, Bulk::Requeue, sub);
    if (sub == u"cancel")
        return runBulk(rest, Bulk::Cancel, sub);
    if (sub == u"reprioritise" || sub == u"reprioritize")
        return runBulk(rest, Bulk::Reprioritise, QStringLiteral("reprioritise"));
    err() << "postdeskctl queue: unknown subcommand '" << sub
          << "'. Run 'postdeskctl queue --help' for the list.\n";
    return 2;
}

} // namespace Ctl
