#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "queue/queuerepository.h"
#include "queue/templaterepository.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>

namespace Ctl {

namespace {

// Keys of a recipients line that describe the message rather than the template's data.
bool isMessageKey(const QString &key)
{
    return key == u"to" || key == u"idempotency_key" || key == u"priority" || key == u"scheduled_at"
            || key == u"from" || key == u"locale";
}

} // namespace

int runEnqueue(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Queues one message per recipient. FILE.jsonl holds one JSON object per line: \"to\" "
            "is the address; the other keys are the template's data (or put them under "
            "\"data\"). Optional per line: \"idempotency_key\" (a repeated enqueue with the same "
            "key is skipped), \"priority\" (1-5), \"scheduled_at\" (ISO 8601), \"from\", "
            "\"locale\" (the template's locale for this recipient; a locale the template has no "
            "version in falls back to its default locale).\n"
            "Example line: {\"to\": \"ada@example.org\", \"name\": \"Ada\"}"));
    parser.addOption({QStringLiteral("queue"),
                      QStringLiteral("The queue: transactional, system, marketing or bulk."),
                      QStringLiteral("name")});
    parser.addOption({QStringLiteral("template"),
                      QStringLiteral("The stored template (its latest version) to send."),
                      QStringLiteral("name")});
    parser.addOption({QStringLiteral("locale"),
                      QStringLiteral("The template's locale for recipients without a \"locale\" "
                                     "(default, and for a locale it has no version in: the "
                                     "template's default locale)."),
                      QStringLiteral("locale")});
    parser.addOption({QStringLiteral("recipients"),
                      QStringLiteral("The recipients, one JSON object per line ('-': standard "
                                     "input)."),
                      QStringLiteral("file")});
    parser.addOption({QStringLiteral("priority"),
                      QStringLiteral("1 (highest) to 5 (default: the queue's priority class)."),
                      QStringLiteral("n")});
    parser.addOption(databaseOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("enqueue"), args, &exitCode))
        return exitCode;
    if (!parser.positionalArguments().isEmpty()) {
        err() << "postdeskctl enqueue: unexpected argument '"
              << parser.positionalArguments().first()
              << "'. Run 'postdeskctl enqueue --help' for the options.\n";
        return 2;
    }
    for (const char *required : {"queue", "template", "recipients"}) {
        if (!parser.isSet(QLatin1String(required))) {
            err() << "postdeskctl enqueue: --" << required
                  << " is missing. Example: postdeskctl enqueue --queue marketing --template "
                     "welcome --recipients people.jsonl\n";
            return 2;
        }
    }
    int priority = 0;
    if (parser.isSet(QStringLiteral("priority"))) {
        bool ok = false;
        priority = parser.value(QStringLiteral("priority")).toInt(&ok);
        if (!ok || priority < 1 || priority > 5) {
            err() << "postdeskctl enqueue: --priority must be 1 (highest) to 5.\n";
            return 2;
        }
    }

    const QString path = parser.value(QStringLiteral("recipients"));
    QFile file(path);
    const bool opened = path == u"-" ? file.open(stdin, QIODevice::ReadOnly)
                                     : file.open(QIODevice::ReadOnly);
    if (!opened) {
        err() << "postdeskctl: cannot read the recipients file '" << path
              << "': " << file.errorString() << ".\n";
        return 1;
    }

    QList<Queue::NewMessage> messages;
    QStringList locales; // per message: the locale asked for ("" for the default)
    int lineNumber = 0;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        ++lineNumber;
        if (line.isEmpty())
            continue;
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(line, &parseError);
        const auto lineError = [&](const QString &what) {
            err() << "postdeskctl: " << path << " line " << lineNumber << ": " << what
                  << " Nothing was queued.\n";
            return 1;
        };
        if (parseError.error != QJsonParseError::NoError)
            return lineError(QStringLiteral("not valid JSON (%1).").arg(parseError.errorString()));
        if (!document.isObject())
            return lineError(QStringLiteral("expected a JSON object such as {\"to\": "
                                            "\"ada@example.org\", \"name\": \"Ada\"}."));
        const QJsonObject object = document.object();
        const QString to = object.value(QStringLiteral("to")).toString().trimmed();
        if (to.isEmpty())
            return lineError(QStringLiteral("the \"to\" address is missing."));
        Queue::NewMessage message;
        message.queue = parser.value(QStringLiteral("queue"));
        message.recipient = to;
        message.sender = object.value(QStringLiteral("from")).toString();
        message.idempotencyKey = object.value(QStringLiteral("idempotency_key")).toString();
        message.priority = object.value(QStringLiteral("priority")).toInt(priority);
        if (object.contains(QStringLiteral("scheduled_at"))) {
            message.scheduledAt =
                    QDateTime::fromString(object.value(QStringLiteral("scheduled_at")).toString(),
                                          Qt::ISODateWithMs);
            if (!message.scheduledAt.isValid())
                return lineError(QStringLiteral("\"scheduled_at\" is not an ISO 8601 time "
                                                "(e.g. 2026-05-01T09:00:00Z)."));
        }
        if (object.value(QStringLiteral("data")).isObject()) {
            message.data = object.value(QStringLiteral("data")).toObject();
        } else {
            for (auto it = object.begin(); it != object.end(); ++it) {
                if (!isMessageKey(it.key()))
                    message.data.insert(it.key(), it.value());
            }
        }
        messages.append(message);
        locales.append(object.contains(QStringLiteral("locale"))
                               ? object.value(QStringLiteral("locale")).toString().trimmed()
                               : parser.value(QStringLiteral("locale")));
    }
    if (messages.isEmpty()) {
        err() << "postdeskctl: " << path << " holds no recipients. Nothing was queued.\n";
        return 1;
    }

    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Queue::TemplateRepository templates(**connection);
    const QString templateName = parser.value(QStringLiteral("template"));
    // One lookup per locale asked for; each falls back to the template's default locale.
    QMap<QString, Queue::TemplateVersion> versions;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QString &locale = locales.at(i);
        if (!versions.contains(locale)) {
            auto version = templates.latest(templateName, locale);
            if (!version)
                return reportError(version.error());
            if (!*version) {
                err() << "postdeskctl: there is no template '" << templateName << "'"
                      << (locale.isEmpty() ? QString() : QStringLiteral(" (") + locale + u')')
                      << ". Store one with 'postdeskctl template put " << templateName
                      << " --subject TEXT --html FILE'; 'postdeskctl template list' shows them.\n";
                return 1;
            }
            versions.insert(locale, **version);
        }
        messages[i].templateVersionId = versions.value(locale).id;
    }

    Queue::QueueRepository queue(**connection);
    auto result = queue.enqueueBatch(messages);
    if (!result)
        return reportError(result.error());
    out() << "Queued " << result->inserted << (result->inserted == 1 ? " message" : " messages")
          << " to queue '" << parser.value(QStringLiteral("queue")) << "' with template '"
          << templateName << "'";
    // "version 2 (en)", or "versions 2 (en), 1 (fr)" when recipients asked for other locales.
    QStringList used;
    for (auto it = versions.cbegin(); it != versions.cend(); ++it) {
        const QString entry = QStringLiteral("%1 (%2)").arg(it->version).arg(it->locale);
        if (!used.contains(entry))
            used.append(entry);
    }
    out() << (used.size() == 1 ? " version " : " versions ") << used.join(QStringLiteral(", "));
    if (result->skipped > 0)
        out() << "; " << result->skipped << " already queued (same idempotency key) skipped";
    out() << ".\n";
    return 0;
}

} // namespace Ctl
