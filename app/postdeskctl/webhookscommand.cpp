#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "events/verifiers.h"
#include "events/webhooksecretrepository.h"
#include "tracking/tracking.h"

#include <QFile>
#include <QUrl>

namespace Ctl {

namespace {

const char *webhooksUsage =
        "Usage: postdeskctl webhooks set PROVIDER [options] [--db CONNINFO]\n"
        "       postdeskctl webhooks status [--db CONNINFO]\n\n"
        "What the webhook endpoints of 'postdeskd --listen' verify with. Secrets are sealed to\n"
        "the authorised worker hosts' keys (see 'postdeskctl worker'); nobody reads them back.\n"
        "  set sendgrid --public-key FILE           SendGrid's verification key (as shown in\n"
        "                                           Mail Settings, base64 or PEM)\n"
        "  set mailgun --signing-key-file FILE      Mailgun's HTTP webhook signing key\n"
        "              | --signing-key-env VAR\n"
        "  set postmark --user USER                 the basic-auth credentials in the webhook\n"
        "              --password-file FILE | --password-env VAR   URL you give Postmark\n"
        "  set ses --topic ARN ...                  accept SNS messages of these topics only\n"
        "          --certificate URL=FILE ...       pre-load SNS signing certificates (for hosts\n"
        "                                           without internet access)\n"
        "  set tracking --base-url URL [--new-key]  where tracking links point; --new-key\n"
        "                                           replaces the link signing key (old links\n"
        "                                           stop working)\n"
        "  status                                   what is configured (never the values)\n";

QCommandLineOption option(const char *name, const char *description, const char *value = nullptr)
{
    return value ? QCommandLineOption(QLatin1String(name), QLatin1String(description),
                                      QLatin1String(value))
                 : QCommandLineOption(QLatin1String(name), QLatin1String(description));
}

// A secret from --NAME-file or --NAME-env; never from the command line itself.
Common::Result<QByteArray> secretFrom(const QCommandLineParser &parser, const QString &name)
{
    if (parser.isSet(name + QStringLiteral("-file"))) {
        QFile file(parser.value(name + QStringLiteral("-file")));
        if (!file.open(QIODevice::ReadOnly))
            return Common::fail(QStringLiteral("ctl.file"),
                                QStringLiteral("Cannot read %1: %2")
                                        .arg(file.fileName(), file.errorString()));
        return file.readAll().trimmed();
    }
    if (parser.isSet(name + QStringLiteral("-env"))) {
        const QString var = parser.value(name + QStringLiteral("-env"));
        const QByteArray value = qgetenv(var.toLocal8Bit().constData()).trimmed();
        if (value.isEmpty())
            return Common::fail(QStringLiteral("ctl.env"),
                                QStringLiteral("The environment variable %1 is empty or not set.")
                                        .arg(var));
        return value;
    }
    return Common::fail(QStringLiteral("ctl.usage"),
                        QStringLiteral("Give --%1-file FILE or --%1-env VARIABLE.").arg(name));
}

} // namespace

int runWebhooks(const QStringList &args)
{
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h") {
        out() << webhooksUsage;
        return args.isEmpty() ? 2 : 0;
    }
    const QString action = args.first();
    QCommandLineParser parser;
    parser.addOption(databaseOption());
    parser.addOption(option("public-key", "SendGrid verification key file.", "file"));
    parser.addOption(option("signing-key-file", "File with Mailgun's signing key.", "file"));
    parser.addOption(option("signing-key-env", "Variable with Mailgun's signing key.", "variable"));
    parser.addOption(option("user", "Postmark basic-auth user.", "user"));
    parser.addOption(option("password-file", "File with the Postmark basic-auth password.", "file"));
    parser.addOption(
            option("password-env", "Variable with the Postmark basic-auth password.", "variable"));
    parser.addOption(option("certificate", "URL=FILE: an SNS signing certificate.", "url=file"));
    parser.addOption(option("topic", "An SNS topic ARN whose messages are accepted.", "arn"));
    parser.addOption(
            option("base-url", "The tracking base URL, e.g. https://t.example.org.", "url"));
    parser.addOption(option("new-key", "Replace the tracking link signing key."));
    parser.addPositionalArgument(QStringLiteral("provider"),
                                 QStringLiteral("sendgrid, mailgun, postmark, ses or tracking."));
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("webhooks ") + action, args.mid(1), &exitCode))
        return exitCode;
    if (action != u"set" && action != u"status") {
        err() << "postdeskctl webhooks: unknown command '" << action << "'.\n" << webhooksUsage;
        return 2;
    }
    const QStringList positional = parser.positionalArguments();
    const QString provider = positional.value(0);
    if (action == u"set"
        && (positional.size() != 1
            || !QStringList{QStringLiteral("sendgrid"), QStringLiteral("mailgun"),
                            QStringLiteral("postmark"), QStringLiteral("ses"),
                            QStringLiteral("tracking")}
                        .contains(provider))) {
        err() << "postdeskctl webhooks set: give one of sendgrid, mailgun, postmark, ses, "
                 "tracking.\n";
        return 2;
    }
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Events::WebhookSecretRepository repository(**connection);

    if (action == u"status") {
        auto rows = (*connection)
                            ->exec(QStringLiteral(
                                    "SELECT provider, name, count(*), max(updated_at) FROM "
                                    "webhook_secrets "
                                    "GROUP BY provider, name ORDER BY provider, name"));
        if (!rows)
            return reportError(rows.error());
        for (int r = 0; r < rows->rowCount(); ++r)
            out() << rows->text(r, 0) << ' ' << rows->text(r, 1) << ": set, sealed for "
                  << rows->text(r, 2) << " host(s), "
                  << rows->toDateTime(r, 3).toString(Qt::ISODate) << '\n';
        auto certs = (*connection)
                             ->exec(QStringLiteral(
                                     "SELECT url, origin FROM sns_certificates ORDER BY url"));
        if (!certs)
            return reportError(certs.error());
        for (int r = 0; r < certs->rowCount(); ++r)
            out() << "ses certificate " << certs->text(r, 0) << " (" << certs->text(r, 1) << ")\n";
        auto base = repository.trackingBaseUrl();
        if (!base)
            return reportError(base.error());
        out() << "tracking base URL: " << (base->isEmpty() ? QStringLiteral("(not set)") : *base)
              << '\n';
        return 0;
    }

    auto done = [&](const Common::Status &status, const QString &what) {
        if (!status)
            return reportError(status.error());
        out() << what << '\n';
        return 0;
    };
    if (provider == u"sendgrid") {
        if (!parser.isSet(QStringLiteral("public-key"))) {
            err() << "postdeskctl webhooks set sendgrid: give --public-key FILE.\n";
            return 2;
        }
        QFile file(parser.value(QStringLiteral("public-key")));
        if (!file.open(QIODevice::ReadOnly))
            return reportError(Common::makeError(QStringLiteral("ctl.file"),
                                                 QStringLiteral("Cannot read %1: %2")
                                                         .arg(file.fileName(), file.errorString())));
        const QByteArray key = file.readAll().trimmed();
        // Checked now, so a wrong file is noticed here rather than at the first webhook.
        if (auto check = Events::verifySendGrid(key, "0", {}, "AA==");
            !check && check.error().code == u"events.bad_key")
            return reportError(check.error());
        return done(repository.setSecret(provider, QStringLiteral("public_key"), key),
                    QStringLiteral("SendGrid verification key set (sealed)."));
    }
    if (provider == u"mailgun") {
        auto key = secretFrom(parser, QStringLiteral("signing-key"));
        if (!key)
            return reportError(key.error());
        return done(repository.setSecret(provider, QStringLiteral("signing_key"), *key),
                    QStringLiteral("Mailgun signing key set (sealed)."));
    }
    if (provider == u"postmark") {
        const QString user = parser.value(QStringLiteral("user"));
        if (user.isEmpty()) {
            err() << "postdeskctl webhooks set postmark: give --user USER and "
                     "--password-file FILE or --password-env VARIABLE.\n";
            return 2;
        }
        auto password = secretFrom(parser, QStringLiteral("password"));
        if (!password)
            return reportError(password.error());
        if (auto ok = repository.setSecret(provider, QStringLiteral("user"), user.toUtf8()); !ok)
            return reportError(ok.error());
        return done(repository.setSecret(provider, QStringLiteral("password"), *password),
                    QStringLiteral("Postmark webhook credentials set (sealed). Give Postmark the "
                                   "URL https://%1:PASSWORD@HOST/webhooks/postmark.")
                            .arg(user));
    }
    if (provider == u"ses") {
        const QStringList certificates = parser.values(QStringLiteral("certificate"));
        const QStringList topics = parser.values(QStringLiteral("topic"));
        if (certificates.isEmpty() && topics.isEmpty()) {
            err() << "postdeskctl webhooks set ses: give --topic ARN (the SNS topics SES "
                     "publishes to) and/or --certificate URL=FILE.\n";
            return 2;
        }
        for (const QString &topic : topics) {
            if (!topic.startsWith(QLatin1String("arn:aws")) || topic.count(u':') != 5)
                return reportError(Common::makeError(
                        QStringLiteral("ctl.usage"),
                        QStringLiteral("'%1' is not an SNS topic ARN (arn:aws:sns:REGION:"
                                       "ACCOUNT:NAME).")
                                .arg(topic)));
        }
        if (!topics.isEmpty()) {
            if (auto ok = repository.setSesTopics(topics); !ok)
                return reportError(ok.error());
            out() << "Accepting SNS messages of: " << topics.join(QStringLiteral(", ")) << '\n';
        }
        for (const QString &spec : certificates) {
            const qsizetype eq = spec.lastIndexOf(u'=');
            const QUrl url(spec.left(eq));
            if (eq <= 0)
                return reportError(
                        Common::makeError(QStringLiteral("ctl.usage"),
                                          QStringLiteral("Write --certificate URL=FILE.")));
            if (auto ok = Events::checkSnsCertificateUrl(url); !ok)
                return reportError(ok.error());
            QFile file(spec.mid(eq + 1));
            if (!file.open(QIODevice::ReadOnly))
                return reportError(
                        Common::makeError(QStringLiteral("ctl.file"),
                                          QStringLiteral("Cannot read %1: %2")
                                                  .arg(file.fileName(), file.errorString())));
            const QByteArray pem = file.readAll();
            if (!pem.contains("-----BEGIN CERTIFICATE-----"))
                return reportError(Common::makeError(QStringLiteral("ctl.file"),
                                                     QStringLiteral("%1 is not a PEM certificate.")
                                                             .arg(file.fileName())));
            if (auto ok = repository.storeCertificate(url.toString(), pem,
                                                      QStringLiteral("preloaded"));
                !ok)
                return reportError(ok.error());
            out() << "Loaded the SNS certificate for " << url.toString() << '\n';
        }
        return 0;
    }
    // tracking
    if (!parser.isSet(QStringLiteral("base-url")) && !parser.isSet(QStringLiteral("new-key"))) {
        err() << "postdeskctl webhooks set tracking: give --base-url URL and/or --new-key.\n";
        return 2;
    }
    if (parser.isSet(QStringLiteral("base-url"))) {
        const QUrl url(parser.value(QStringLiteral("base-url")), QUrl::StrictMode);
        if (!url.isValid() || (url.scheme() != u"https" && url.scheme() != u"http")
            || url.host().isEmpty())
            return reportError(Common::makeError(QStringLiteral("ctl.usage"),
                                                 QStringLiteral("The tracking base URL must be an "
                                                                "http(s) URL, e.g. "
                                                                "https://t.example.org.")));
        QString base = url.toString();
        while (base.endsWith(u'/'))
            base.chop(1);
        if (auto ok = repository.setTrackingBaseUrl(base); !ok)
            return reportError(ok.error());
        out() << "Tracking base URL set to " << base << '\n';
    }
    if (parser.isSet(QStringLiteral("new-key")))
        return done(repository.setSecret(QStringLiteral("tracking"), QStringLiteral("signing_key"),
                                         Tracking::generateKey()),
                    QStringLiteral("New tracking link key set (sealed); links made before no "
                                   "longer work."));
    return 0;
}

} // namespace Ctl
