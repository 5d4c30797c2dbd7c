#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "events/eventstore.h"
#include "events/parsers.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

namespace Ctl {

namespace {

const char *eventsUsage =
        "Usage: postdeskctl events import FILE --provider P [--db CONNINFO]\n"
        "       postdeskctl events export [--since TIME] [--format jsonl|csv] [--db CONNINFO]\n\n"
        "  import   replays saved webhook payloads through the same path as the webhook server\n"
        "           (without signature checks): FILE holds one request body, or one per line.\n"
        "           Events already stored are not stored or counted again.\n"
        "  export   prints the normalised events, oldest first: type, subtype, machine, provider,\n"
        "           recipient, provider_message_id, message_id, occurred_at (UTC), url.\n"
        "           --since takes an ISO 8601 time (e.g. 2026-05-01 or 2026-05-01T12:00:00Z).\n";

QString csvField(const QString &value)
{
    if (!value.contains(u',') && !value.contains(u'"') && !value.contains(u'\n')
        && !value.contains(u'\r'))
        return value;
    QString quoted = value;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return u'"' + quoted + u'"';
}

} // namespace

int runEvents(const QStringList &args)
{
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h") {
        out() << eventsUsage;
        return args.isEmpty() ? 2 : 0;
    }
    const QString action = args.first();
    QCommandLineParser parser;
    parser.addOption(databaseOption());
    parser.addOption({QStringLiteral("provider"),
                      QStringLiteral("sendgrid, mailgun, postmark or ses."), QStringLiteral("p")});
    parser.addOption({QStringLiteral("since"), QStringLiteral("Only events from this time on."),
                      QStringLiteral("time")});
    parser.addOption({QStringLiteral("format"), QStringLiteral("jsonl (default) or csv."),
                      QStringLiteral("format"), QStringLiteral("jsonl")});
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("Saved payloads."));
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("events ") + action, args.mid(1), &exitCode))
        return exitCode;
    if (action != u"import" && action != u"export") {
        err() << "postdeskctl events: unknown command '" << action << "'.\n" << eventsUsage;
        return 2;
    }

    if (action == u"import") {
        const QString provider = parser.value(QStringLiteral("provider"));
        if (parser.positionalArguments().size() != 1 || provider.isEmpty()) {
            err() << "postdeskctl events import: give FILE and --provider "
                     "sendgrid|mailgun|postmark|ses.\n";
            return 2;
        }
        QFile file(parser.positionalArguments().first());
        if (!file.open(QIODevice::ReadOnly))
            return reportError(Common::makeError(QStringLiteral("ctl.file"),
                                                 QStringLiteral("Cannot read %1: %2")
                                                         .arg(file.fileName(), file.errorString())));
        const QByteArray data = file.readAll();
        // One body for the whole file, or one per line (JSON Lines).
        QList<QByteArray> bodies;
        QJsonParseError whole;
        QJsonDocument::fromJson(data, &whole);
        if (whole.error == QJsonParseError::NoError) {
            bodies.append(data);
        } else {
            for (const QByteArray &line : data.split('\n')) {
                if (!line.trimmed().isEmpty())
                    bodies.append(line);
            }
        }
        QList<Events::Event> events;
        int lineNo = 0;
        for (QByteArray body : std::as_const(bodies)) {
            ++lineNo;
            // A saved SendGrid event on its own line is one element of the array SendGrid posts.
            if (provider == u"sendgrid" && body.trimmed().startsWith('{'))
                body = '[' + body + ']';
            auto parsed = Events::parse(provider, body);
            if (!parsed) {
                Common::Error e = parsed.error();
                if (bodies.size() > 1)
                    e.message = QStringLiteral("Payload %1 of %2: ").arg(lineNo).arg(bodies.size())
                            + e.message;
                return reportError(e);
            }
            events += *parsed;
        }
        auto connection = openDatabase(parser);
        if (!connection)
            return reportError(connection.error());
        Events::EventStore store(**connection);
        Events::IngestResult total;
        for (qsizetype i = 0; i < events.size(); i += 1000) {
            auto stored = store.ingest(events.mid(i, 1000));
            if (!stored)
                return reportError(stored.error());
            total.received += stored->received;
            total.stored += stored->stored;
            total.duplicates += stored->duplicates;
            total.unknown += stored->unknown;
            total.joined += stored->joined;
        }
        out() << "Imported " << total.received << " event(s): " << total.stored << " new, "
              << total.duplicates << " already stored, " << total.unknown << " of unknown type, "
              << total.joined << " joined to our messages.\n";
        return 0;
    }

    const QString format = parser.value(QStringLiteral("format"));
    if (format != u"jsonl" && format != u"csv") {
        err() << "postdeskctl events export: --format is jsonl or csv.\n";
        return 2;
    }
    QDateTime since;
    if (parser.isSet(QStringLiteral("since"))) {
        const QString value = parser.value(QStringLiteral("since"));
        since = QDateTime::fromString(value, Qt::ISODateWithMs);
        if (!since.isValid()) {
            const QDate day = QDate::fromString(value, Qt::ISODate);
            if (day.isValid())
                since = day.startOfDay(Qt::UTC);
        }
        if (!since.isValid()) {
            err() << "postdeskctl events export: --since wants an ISO 8601 time such as "
                     "2026-05-01 or 2026-05-01T12:00:00Z.\n";
            return 2;
        }
        if (since.timeSpec() == Qt::LocalTime && !value.contains(u'+') && !value.endsWith(u'Z'))
            since.setTimeSpec(Qt::UTC);
    }
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Events::EventStore store(**connection);
    if (format == u"csv")
        out() << "id,type,subtype,machine,provider,recipient,provider_message_id,message_id,"
                 "occurred_at,url\n";
    qint64 after = 0;
    for (;;) {
        auto page = store.eventsSince(since, after, 5000);
        if (!page)
            return reportError(page.error());
        for (const Events::Event &e : std::as_const(*page)) {
            const QString occurred = e.occurredAt.toUTC().toString(Qt::ISODateWithMs);
            if (format == u"jsonl") {
                QJsonObject o{{QStringLiteral("id"), e.id},
                              {QStringLiteral("type"), Events::typeName(e.type)},
                              {QStringLiteral("subtype"),
                               e.subtype.isEmpty() ? QJsonValue() : QJsonValue(e.subtype)},
                              {QStringLiteral("machine"), e.machine},
                              {QStringLiteral("provider"), e.source},
                              {QStringLiteral("recipient"), e.recipient},
                              {QStringLiteral("provider_message_id"),
                               e.providerMessageId.isEmpty() ? QJsonValue()
                                                             : QJsonValue(e.providerMessageId)},
                              {QStringLiteral("message_id"),
                               e.messageId ? QJsonValue(e.messageId) : QJsonValue()},
                              {QStringLiteral("occurred_at"), occurred},
                              {QStringLiteral("url"),
                               e.url.isEmpty() ? QJsonValue() : QJsonValue(e.url)}};
                out() << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
            } else {
                out() << e.id << ',' << Events::typeName(e.type) << ',' << csvField(e.subtype)
                      << ',' << (e.machine ? "true" : "false") << ',' << csvField(e.source) << ','
                      << csvField(e.recipient) << ',' << csvField(e.providerMessageId) << ','
                      << (e.messageId ? QString::number(e.messageId) : QString()) << ',' << occurred
                      << ',' << csvField(e.url) << '\n';
            }
            after = e.id;
        }
        if (page->size() < 5000)
            break;
    }
    out().flush();
    return 0;
}

} // namespace Ctl
