#include "cli.h"
#include "commands.h"

#include "providers/diagnostics.h"
#include "providers/providerurl.h"
#include "providers/transport.h"

#include <QEventLoop>

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

int runProviderTest(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Checks a provider step by step without sending mail: DNS resolution, "
                           "TCP connect, TLS handshake (protocol, cipher, certificate), EHLO "
                           "capabilities and AUTH. Exits 0 when every step passes, 1 otherwise."));
    parser.addOption(viaOption());
    parser.addOption(passwordEnvOption());
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("provider test"), args, &exitCode))
        return exitCode;
    if (!parser.isSet(QStringLiteral("via"))) {
        err() << "postdeskctl provider test: give the provider with --via URL, e.g. --via "
                 "smtp+starttls://user@mail.example.org:587\n";
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
    std::unique_ptr<Providers::Diagnostics> check(owner->createDiagnostics());

    out() << "Checking " << url->redacted() << " (nothing will be sent)\n";
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

struct Subcommand
{
    const char *name;
    const char *summary;
    std::function<int(const QStringList &)> run;
};

// Saved providers (add, list, set, remove, test NAME) join this table.
const Subcommand subcommands[] = {
        {"test", "check a provider without sending mail: --via URL", runProviderTest},
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
