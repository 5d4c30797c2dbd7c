#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "delivery/providerset.h"
#include "mime/address.h"
#include "mime/dkimsigner.h"
#include "providers/diagnostics.h"
#include "providers/providerconfig.h"
#include "providers/providerrepository.h"
#include "providers/providerurl.h"
#include "providers/testmessage.h"
#include "providers/transport.h"
#include "secrets/keystore.h"
#include "secrets/sealedbox.h"

#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

#include <functional>
#include <memory>

namespace Ctl {

namespace {

QCommandLineOption viaOption()
{
    return QCommandLineOption(
            QStringLiteral("via"),
            QStringLiteral("The provider as a URL: smtp://user:pass@host:port (STARTTLS when "
                           "offered), smtp+starttls://... (STARTTLS required), smtps://... "
                           "(implicit TLS). Options such as ?ca=FILE&timeout=10; see "
                           "'postdeskctl provider --help'."),
            QStringLiteral("url"));
}

QCommandLineOption passwordEnvOption()
{
    return QCommandLineOption(QStringLiteral("password-env"),
                              QStringLiteral("Take the password from this environment variable "
                                             "instead of the URL."),
                              QStringLiteral("variable"));
}

// Prints one finished step: status, title, time, detail, then its facts indented.
void printStep(const Providers::DiagnosticStep &step)
{
    const QString status = step.skipped ? QStringLiteral("skip")
            : step.ok                   ? QStringLiteral("ok")
                                        : QStringLiteral("FAIL");
    out() << QStringLiteral("  %1 %2 %3  %4\n")
                     .arg(status, -5)
                     .arg(step.title, -28)
                     .arg(QStringLiteral("%1 ms").arg(step.durationMs), 8)
                     .arg(step.detail);
    for (const auto &fact : step.facts) {
        // The TLS facts are the point of the check; others only when the detail lacks them.
        if (!fact.value.isEmpty() && (step.id == u"tls" || !step.detail.contains(fact.value)))
            out() << QStringLiteral("        %1: %2\n").arg(fact.name, fact.value);
    }
    out().flush();
}

// Runs the transport's diagnostics, printing each step as it finishes; the exit status.
int runDiagnostics(Providers::Transport &transport, const QString &label)
{
    std::unique_ptr<Providers::Diagnostics> check(transport.createDiagnostics());

    out() << "Checking " << label << " (nothing will be sent)\n";
    out().flush();
    QEventLoop loop;
    QObject::connect(check.get(), &Providers::Diagnostics::stepFinished, &printStep);
    QObject::connect(check.get(), &Providers::Diagnostics::finished, &loop, &QEventLoop::quit);
    check->start();
    if (!check->isFinished())
        loop.exec();

    const auto &report = check->report();
    if (report.ok()) {
        out() << "All checks passed in " << report.totalMs << " ms.\n";
        out().flush();
        return 0;
    }
    const auto &failed = report.steps.last();
    out().flush();
    err() << "postdeskctl: " << failed.title << " failed: " << failed.detail << '\n';
    err().flush();
    return 1;
}

QCommandLineOption keyDirOption()
{
    return QCommandLineOption(QStringLiteral("key-dir"),
                              QStringLiteral("This host's worker key is in DIR (owner-only files) "
                                             "instead of the desktop keyring."),
                              QStringLiteral("dir"));
}

// This host's worker key, which opens the secrets sealed to it.
Common::Result<Secrets::KeyPair> loadHostKey(const QCommandLineParser &parser)
{
    std::unique_ptr<Secrets::KeyStore> store;
    if (parser.isSet(QStringLiteral("key-dir")))
        store = std::make_unique<Secrets::FileKeyStore>(parser.value(QStringLiteral("key-dir")));
    else
        store = std::make_unique<Secrets::KeychainKeyStore>();
    auto key = store->load(QStringLiteral("worker-key"));
    if (!key && key.error().code == u"secrets.not_found") {
        return Common::fail(QStringLiteral("secrets.no_host_key"),
                            QStringLiteral("This host has no worker key in %1, so it cannot open "
                                           "the provider's secrets. Run 'postdeskctl worker init' "
                                           "(with --key-dir DIR on a server) and have an admin "
                                           "run 'postdeskctl worker authorise ID'.")
                                    .arg(store->describe()));
    }
    if (!key)
        return Common::fail(key.error());
    return Secrets::KeyPair::fromPrivateKey(*key);
}

void addEditOptions(QCommandLineParser &parser, bool editing)
{
    const auto option = [&](const char *name, const char *description, const char *value = nullptr) {
        parser.addOption(QCommandLineOption(QString::fromLatin1(name),
                                            QString::fromLatin1(description),
                                            value ? QString::fromLatin1(value) : QString()));
    };
    parser.addOption(databaseOption());
    option("via",
           editing ? "Replace the provider's URL and its secrets (see 'postdeskctl provider "
                     "--help' for URLs)."
                   : "The provider as a URL, credentials included or taken from the environment "
                     "(see 'postdeskctl provider --help').",
           "url");
    option("password-env",
           "Take the password (SMTP), secret access key (SES) or API key (others) from this "
           "environment variable.",
           "variable");
    option("priority", "Failover order: lower is tried first (default 100).", "n");
    option("rate", "Sending limits, e.g. 10/s,1000/h (units s, m, h, d); 'none' clears them.",
           "limits");
    option("pool", "Connections (SMTP) or requests in flight (HTTP) per worker (default 4).", "n");
    option("from", "The default From address for mail sent through it.", "address");
    option("dkim-domain", "Sign with DKIM for this domain (d=).", "domain");
    option("dkim-selector", "The DKIM selector (s=).", "selector");
    option("dkim-key", "The DKIM private key, PEM (RSA or Ed25519); stored sealed.", "file");
    if (editing) {
        option("enable", "Send through it again.");
        option("disable", "Stop sending through it (it stays saved).");
    } else {
        option("disabled", "Save it disabled.");
    }
    parser.addPositionalArgument(QStringLiteral("name"), QStringLiteral("The provider's name."));
}

Common::Result<int> positiveNumber(const QCommandLineParser &parser, const char *name, int min)
{
    bool ok = false;
    const QString text = parser.value(QString::fromLatin1(name));
    const int value = text.toInt(&ok);
    if (!ok || value < min) {
        return Common::fail(QStringLiteral("providers.invalid"),
                            QStringLiteral("--%1 takes a whole number of at least %2, not '%3'")
                                    .arg(QLatin1String(name))
                                    .arg(min)
                                    .arg(text));
    }
    return value;
}

// Applies the options of add and set to record and the secrets to seal.
Common::Status applyOptions(const QCommandLineParser &parser, Providers::ProviderRecord &record,
                            QMap<QString, QByteArray> &secrets)
{
    const auto env = QProcessEnvironment::systemEnvironment();
    if (parser.isSet(QStringLiteral("via"))) {
        auto config = Providers::ProviderConfig::fromUrl(parser.value(QStringLiteral("via")), env);
        if (!config)
            return Common::fail(config.error());
        record.type = config->type;
        record.options.insert(QStringLiteral("url"), config->storedUrl);
        for (auto it = config->secrets.cbegin(); it != config->secrets.cend(); ++it)
            secrets.insert(it.key(), it.value());
    }
    if (parser.isSet(QStringLiteral("password-env"))) {
        const QString variable = parser.value(QStringLiteral("password-env"));
        if (!env.contains(variable)) {
            return Common::fail(QStringLiteral("providers.env"),
                                QStringLiteral("The environment variable %1 (--password-env) is "
                                               "not set")
                                        .arg(variable));
        }
        const QString name = record.type == u"smtp" ? QStringLiteral("password")
                : record.type == u"ses"             ? QStringLiteral("secret")
                                                    : QStringLiteral("api_key");
        secrets.insert(name, env.value(variable).toUtf8());
    }
    if (parser.isSet(QStringLiteral("priority"))) {
        auto value = positiveNumber(parser, "priority", 0);
        if (!value)
            return Common::fail(value.error());
        record.priority = *value;
    }
    if (parser.isSet(QStringLiteral("pool"))) {
        auto value = positiveNumber(parser, "pool", 1);
        if (!value)
            return Common::fail(value.error());
        record.poolSize = *value;
    }
    if (parser.isSet(QStringLiteral("rate"))) {
        auto limits = Providers::RateLimits::parse(parser.value(QStringLiteral("rate")));
        if (!limits)
            return Common::fail(limits.error());
        record.limits = *limits;
    }
    if (parser.isSet(QStringLiteral("from"))) {
        const QString from = parser.value(QStringLiteral("from")).trimmed();
        if (from.isEmpty()) {
            record.options.remove(QStringLiteral("from"));
        } else {
            auto address = Mime::Address::parse(from);
            if (!address)
                return Common::fail(address.error());
            record.options.insert(QStringLiteral("from"), from);
        }
    }
    for (const char *name : {"dkim-domain", "dkim-selector"}) {
        const QString option = QString::fromLatin1(name);
        if (parser.isSet(option)) {
            QString key = option;
            key.replace(u'-', u'_');
            record.options.insert(key, parser.value(option).trimmed());
        }
    }
    if (parser.isSet(QStringLiteral("dkim-key"))) {
        QFile file(parser.value(QStringLiteral("dkim-key")));
        if (!file.open(QIODevice::ReadOnly)) {
            return Common::fail(QStringLiteral("providers.dkim"),
                                QStringLiteral("Cannot read the DKIM key file %1")
                                        .arg(file.fileName()),
                                file.errorString());
        }
        secrets.insert(QStringLiteral("dkim_key"), file.readAll());
    }
    const QString dkimDomain = record.options.value(QStringLiteral("dkim_domain")).toString();
    const QString dkimSelector = record.options.value(QStringLiteral("dkim_selector")).toString();
    const bool hasKey = secrets.contains(QStringLiteral("dkim_key"))
            || record.secretNames.contains(QStringLiteral("dkim_key"));
    if (!dkimDomain.isEmpty() || !dkimSelector.isEmpty()
        || secrets.contains(QStringLiteral("dkim_key"))) {
        if (dkimDomain.isEmpty() || dkimSelector.isEmpty() || !hasKey) {
            return Common::fail(QStringLiteral("providers.dkim"),
                                QStringLiteral("DKIM signing needs all of --dkim-domain, "
                                               "--dkim-selector and --dkim-key"));
        }
        if (secrets.contains(QStringLiteral("dkim_key"))) {
            auto signer = Mime::DkimSigner::fromPem(secrets.value(QStringLiteral("dkim_key")),
                                                    dkimDomain, dkimSelector);
            if (!signer)
                return Common::fail(signer.error());
        }
    }
    return {};
}

// The single NAME argument of a subcommand, or an explanation on stderr.
bool takeName(const QCommandLineParser &parser, const char *command, QString *name)
{
    const QStringList names = parser.positionalArguments();
    if (names.size() != 1) {
        err() << "postdeskctl provider " << command << ": give "
              << (names.isEmpty() ? "the provider's name" : "exactly one name")
              << ". Run 'postdeskctl provider " << command << " --help' for the options.\n";
        return false;
    }
    *name = names.first();
    return true;
}

QString healthText(const Providers::ProviderRecord &record)
{
    QString text = record.health;
    if (record.circuitOpenUntil.isValid()
        && record.circuitOpenUntil > QDateTime::currentDateTimeUtc())
        text += QStringLiteral(" (circuit open)");
    return text;
}

int runAdd(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Saves a provider. Its secrets (password, API keys, DKIM key) are sealed to the "
            "authorised worker hosts and never shown again; the URL is stored without them."));
    addEditOptions(parser, false);
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("provider add"), args, &exitCode))
        return exitCode;
    QString name;
    if (!takeName(parser, "add", &name))
        return 2;
    if (!parser.isSet(QStringLiteral("via"))) {
        err() << "postdeskctl provider add: give the provider with --via URL, e.g. --via "
                 "smtp+starttls://user@mail.example.org:587 --password-env SMTP_PASSWORD\n";
        return 2;
    }
    Providers::ProviderRecord record;
    record.name = name;
    record.enabled = !parser.isSet(QStringLiteral("disabled"));
    QMap<QString, QByteArray> secrets;
    if (auto applied = applyOptions(parser, record, secrets); !applied)
        return reportError(applied.error());
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Providers::ProviderRepository repository(**connection);
    auto added = repository.add(record, secrets);
    if (!added)
        return reportError(added.error());
    out() << "Added provider " << added->name << " (" << added->type << ", priority "
          << added->priority << (added->enabled ? "" : ", disabled") << ").";
    if (!added->secretNames.isEmpty())
        out() << " Sealed secrets: " << added->secretNames.join(QStringLiteral(", ")) << '.';
    out() << '\n';
    if (added->defaultSender().isEmpty()) {
        out() << "It has no default sender: messages queued without one cannot be sent through "
                 "it. Give it one with 'postdeskctl provider set "
              << added->name << " --from ADDRESS'.\n";
    }
    return 0;
}

int runList(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Lists the saved providers in failover order. Secrets are shown by name only."));
    parser.addOption(databaseOption());
    parser.addOption(QCommandLineOption(QStringLiteral("json"),
                                        QStringLiteral("Print a JSON array instead of a table.")));
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("provider list"), args, &exitCode))
        return exitCode;
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Providers::ProviderRepository repository(**connection);
    auto records = repository.list();
    if (!records)
        return reportError(records.error());

    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray array;
        for (const auto &p : std::as_const(*records)) {
            QJsonObject limits;
            const auto put = [&](const char *key, const std::optional<int> &value) {
                if (value)
                    limits.insert(QLatin1String(key), *value);
            };
            put("per_second", p.limits.perSecond);
            put("per_minute", p.limits.perMinute);
            put("per_hour", p.limits.perHour);
            put("per_day", p.limits.perDay);
            QJsonObject o{{QStringLiteral("name"), p.name},
                          {QStringLiteral("type"), p.type},
                          {QStringLiteral("enabled"), p.enabled},
                          {QStringLiteral("priority"), p.priority},
                          {QStringLiteral("limits"), limits},
                          {QStringLiteral("pool_size"), p.poolSize},
                          {QStringLiteral("health"), p.health},
                          {QStringLiteral("health_reason"), p.healthReason},
                          {QStringLiteral("consecutive_failures"), p.consecutiveFailures},
                          {QStringLiteral("secrets"), QJsonArray::fromStringList(p.secretNames)},
                          {QStringLiteral("url"), p.url()},
                          {QStringLiteral("options"), p.options},
                          {QStringLiteral("revision"), p.revision},
                          {QStringLiteral("updated_at"), p.updatedAt.toString(Qt::ISODate)},
                          {QStringLiteral("updated_by"), p.updatedBy}};
            if (p.circuitOpenUntil.isValid())
                o.insert(QStringLiteral("circuit_open_until"),
                         p.circuitOpenUntil.toString(Qt::ISODate));
            array.append(o);
        }
        out() << QJsonDocument(array).toJson(QJsonDocument::Indented);
        return 0;
    }
    if (records->isEmpty()) {
        out() << "No providers yet. Add one with: postdeskctl provider add NAME --via URL\n";
        return 0;
    }
    QList<QStringList> rows{{QStringLiteral("NAME"), QStringLiteral("TYPE"),
                             QStringLiteral("ENABLED"), QStringLiteral("PRIORITY"),
                             QStringLiteral("LIMITS"), QStringLiteral("HEALTH"),
                             QStringLiteral("SECRETS"), QStringLiteral("URL")}};
    for (const auto &p : std::as_const(*records)) {
        rows.append({p.name, p.type, p.enabled ? QStringLiteral("yes") : QStringLiteral("no"),
                     QString::number(p.priority),
                     p.limits.isEmpty() ? QStringLiteral("-") : p.limits.toString(), healthText(p),
                     p.secretNames.isEmpty() ? QStringLiteral("-")
                                             : p.secretNames.join(QStringLiteral(",")),
                     p.url()});
    }
    QList<qsizetype> widths(rows.first().size(), 0);
    for (const QStringList &row : std::as_const(rows))
        for (qsizetype i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    for (const QStringList &row : std::as_const(rows)) {
        QString line;
        for (qsizetype i = 0; i < row.size(); ++i)
            line += i + 1 == row.size() ? row[i] : row[i].leftJustified(widths[i] + 2);
        out() << line << '\n';
    }
    for (const auto &p : std::as_const(*records)) {
        if (!p.healthReason.isEmpty())
            out() << p.name << ": " << p.healthReason << '\n';
    }
    return 0;
}

int runSet(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Changes a saved provider. Options not given keep their value; --via replaces the URL "
            "and the secrets it carries. The change is refused if someone else saved the provider "
            "in the meantime."));
    addEditOptions(parser, true);
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("provider set"), args, &exitCode))
        return exitCode;
    QString name;
    if (!takeName(parser, "set", &name))
        return 2;
    if (parser.isSet(QStringLiteral("enable")) && parser.isSet(QStringLiteral("disable"))) {
        err() << "postdeskctl provider set: give --enable or --disable, not both.\n";
        return 2;
    }
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Providers::ProviderRepository repository(**connection);
    auto found = repository.find(name);
    if (!found)
        return reportError(found.error());
    Providers::ProviderRecord record = *found;
    if (parser.isSet(QStringLiteral("enable")))
        record.enabled = true;
    if (parser.isSet(QStringLiteral("disable")))
        record.enabled = false;
    QMap<QString, QByteArray> secrets;
    if (auto applied = applyOptions(parser, record, secrets); !applied)
        return reportError(applied.error());
    Providers::ProviderConflict conflict;
    auto updated = repository.update(record, secrets, &conflict);
    if (!updated) {
        if (updated.error().code == u"providers.conflict") {
            err() << "postdeskctl: " << updated.error().message << '\n';
            const QJsonObject stored{{QStringLiteral("name"), conflict.stored.name},
                                     {QStringLiteral("type"), conflict.stored.type},
                                     {QStringLiteral("enabled"), conflict.stored.enabled},
                                     {QStringLiteral("priority"), conflict.stored.priority},
                                     {QStringLiteral("limits"), conflict.stored.limits.toString()},
                                     {QStringLiteral("pool_size"), conflict.stored.poolSize},
                                     {QStringLiteral("options"), conflict.stored.options}};
            for (const QString &field : std::as_const(conflict.changedFields)) {
                const QJsonValue value = stored.value(field);
                err() << "  stored " << field << ": "
                      << (value.isObject() ? QString::fromUtf8(
                                  QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact))
                                           : value.toVariant().toString())
                      << '\n';
            }
            return 1;
        }
        return reportError(updated.error());
    }
    out() << "Saved provider " << updated->name << " (revision " << updated->revision << ").";
    if (!secrets.isEmpty())
        out() << " Replaced secrets: " << QStringList(secrets.keys()).join(QStringLiteral(", "))
              << '.';
    out() << '\n';
    return 0;
}

int runRemove(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Deletes a saved provider and its sealed secrets."));
    parser.addOption(databaseOption());
    parser.addPositionalArgument(QStringLiteral("name"), QStringLiteral("The provider's name."));
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("provider remove"), args, &exitCode))
        return exitCode;
    QString name;
    if (!takeName(parser, "remove", &name))
        return 2;
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Providers::ProviderRepository repository(**connection);
    if (auto removed = repository.remove(name); !removed)
        return reportError(removed.error());
    out() << "Removed provider " << name << ".\n";
    return 0;
}

// A saved provider opened with this host's key, for test NAME and send-test.
struct OpenedSaved
{
    Providers::ProviderRecord record;
    std::unique_ptr<Providers::Transport> transport;
    std::optional<Mime::DkimSigner> dkim;
};

Common::Result<OpenedSaved> openSaved(const QCommandLineParser &parser, Db::Connection &connection,
                                      const QString &name)
{
    Providers::ProviderRepository repository(connection);
    auto record = repository.find(name);
    if (!record)
        return Common::fail(record.error());
    std::optional<Secrets::KeyPair> key;
    if (!record->secretNames.isEmpty()) {
        auto loaded = loadHostKey(parser);
        if (!loaded)
            return Common::fail(loaded.error());
        key = *loaded;
    }
    auto opened = Delivery::openProvider(
            connection, *record, key ? &*key : nullptr, [&connection] { return &connection; },
            nullptr);
    if (!opened)
        return Common::fail(opened.error());
    OpenedSaved saved;
    saved.record = *record;
    saved.transport.reset(opened->transport);
    saved.dkim = std::move(opened->dkim);
    return saved;
}

int runSavedTest(const QCommandLineParser &parser, const QString &name)
{
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    auto saved = openSaved(parser, **connection, name);
    if (!saved)
        return reportError(saved.error());
    return runDiagnostics(*saved->transport,
                          QStringLiteral("provider %1 (%2)").arg(name, saved->record.url()));
}

int runSendTest(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Sends a short test message through a saved provider and prints what "
                           "the provider answered and the Message-ID."));
    parser.addOption(databaseOption());
    parser.addOption(keyDirOption());
    parser.addOption(QCommandLineOption(QStringLiteral("to"), QStringLiteral("The recipient."),
                                        QStringLiteral("address")));
    parser.addOption(
            QCommandLineOption(QStringLiteral("from"),
                               QStringLiteral(
                                       "The From address (default: the provider's default From)."),
                               QStringLiteral("address")));
    parser.addOption(QCommandLineOption(QStringLiteral("subject"), QStringLiteral("The subject."),
                                        QStringLiteral("text")));
    parser.addPositionalArgument(QStringLiteral("name"), QStringLiteral("The provider's name."));
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("provider send-test"), args, &exitCode))
        return exitCode;
    QString name;
    if (!takeName(parser, "send-test", &name))
        return 2;
    if (!parser.isSet(QStringLiteral("to"))) {
        err() << "postdeskctl provider send-test: give the recipient with --to ADDRESS.\n";
        return 2;
    }
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    auto saved = openSaved(parser, **connection, name);
    if (!saved)
        return reportError(saved.error());
    const QString from = parser.isSet(QStringLiteral("from")) ? parser.value(QStringLiteral("from"))
                                                              : saved->record.defaultSender();
    auto message = Providers::composeTestMessage(name, from, parser.value(QStringLiteral("to")),
                                                 parser.value(QStringLiteral("subject")));
    if (!message)
        return reportError(message.error());
    if (saved->dkim) {
        auto signedData = saved->dkim->sign(message->data);
        if (!signedData)
            return reportError(signedData.error());
        message->data = *signedData;
    }

    const Providers::SendResult result = sendAndWait(*saved->transport, *message);
    if (!result.ok())
        return reportError(*result.error);
    out() << "Sent through " << name << " to " << result.accepted.join(QStringLiteral(", "))
          << '\n';
    if (!result.serverReply.isEmpty())
        out() << "Server reply: " << result.serverReply << '\n';
    out() << "Message-ID: <" << result.messageId << ">\n";
    if (!result.providerMessageId.isEmpty())
        out() << "Provider id: " << result.providerMessageId << '\n';
    out().flush();
    return result.rejected.isEmpty() ? 0 : 3;
}

int runProviderTest(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Checks a provider (a saved one by NAME, or --via URL) step by step "
                           "without sending mail: DNS resolution, "
                           "TCP connect, TLS handshake (protocol, cipher, certificate), EHLO "
                           "capabilities and AUTH. Exits 0 when every step passes, 1 otherwise."));
    parser.addOption(viaOption());
    parser.addOption(passwordEnvOption());
    parser.addOption(databaseOption());
    parser.addOption(keyDirOption());
    parser.addPositionalArgument(QStringLiteral("name"),
                                 QStringLiteral("A saved provider (instead of --via)."));
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("provider test"), args, &exitCode))
        return exitCode;
    if (!parser.isSet(QStringLiteral("via")) && parser.positionalArguments().size() == 1)
        return runSavedTest(parser, parser.positionalArguments().first());
    if (!parser.isSet(QStringLiteral("via"))) {
        err() << "postdeskctl provider test: give a saved provider's NAME, or the provider with "
                 "--via URL, e.g. --via smtp+starttls://user@mail.example.org:587\n";
        return 2;
    }
    auto url = Providers::ProviderUrl::parse(parser.value(QStringLiteral("via")));
    if (!url)
        return reportError(url.error());
    if (parser.isSet(QStringLiteral("password-env"))) {
        auto status = url->setPasswordFromEnvironment(parser.value(QStringLiteral("password-env")));
        if (!status)
            return reportError(status.error());
    }
    auto transport = Providers::Transport::create(*url);
    if (!transport)
        return reportError(transport.error());
    std::unique_ptr<Providers::Transport> owner(*transport);
    return runDiagnostics(*owner, url->redacted());
}

struct Subcommand
{
    const char *name;
    const char *summary;
    std::function<int(const QStringList &)> run;
};

const Subcommand subcommands[] = {
        {"add", "save a provider: NAME --via URL [--priority N] [--rate 10/s,1000/h] ...", runAdd},
        {"list", "the saved providers, their health and limits [--json]", runList},
        {"set", "change a saved provider: NAME [options of add] [--enable|--disable]", runSet},
        {"remove", "delete a saved provider: NAME", runRemove},
        {"test", "check a provider without sending mail: NAME, or --via URL", runProviderTest},
        {"send-test", "send a short test message: NAME --to ADDRESS [--subject S]", runSendTest},
};

void printProviderUsage()
{
    out() << "Usage: postdeskctl provider SUBCOMMAND [options]\n\nSubcommands:\n";
    for (const Subcommand &sub : subcommands)
        out() << QStringLiteral("  %1%2\n")
                         .arg(QLatin1String(sub.name), -10)
                         .arg(QLatin1String(sub.summary));
    out() << "\nProvider URLs:\n"
             "  smtp://user:pass@host:port           STARTTLS when the server offers it (port "
             "587)\n"
             "  smtp+starttls://user:pass@host:port  STARTTLS required (port 587)\n"
             "  smtps://user:pass@host:port          implicit TLS (port 465)\n"
             "Percent-encode special characters in the user name and password (@ is %40).\n"
             "Query options: ca=FILE (trust these CAs instead of the system's), verify=0,\n"
             "  auth=plain|login|xoauth2, password_env=VAR, insecure_auth=1, helo=NAME, pool=N,\n"
             "  per_connection=N, connect_timeout=S, greeting_timeout=S, timeout=S, "
             "idle_timeout=S\n"
             "Run 'postdeskctl provider SUBCOMMAND --help' for a subcommand's options.\n";
    out().flush();
}

} // namespace

int runProvider(const QStringList &args)
{
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h"
        || args.first() == u"help") {
        printProviderUsage();
        return args.isEmpty() ? 2 : 0;
    }
    const QString name = args.first();
    for (const Subcommand &sub : subcommands) {
        if (name == QLatin1String(sub.name))
            return sub.run(args.mid(1));
    }
    err() << "postdeskctl provider: unknown subcommand '" << name
          << "'. Run 'postdeskctl provider --help' for the list.\n";
    return 2;
}

} // namespace Ctl
