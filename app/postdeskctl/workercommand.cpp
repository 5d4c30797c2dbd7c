#include "cli.h"
#include "commands.h"

#include "db/connection.h"
#include "secrets/keystore.h"
#include "secrets/secretrepository.h"

#include <QHostInfo>
#include <QLocale>

namespace Ctl {

namespace {

const char *workerUsage =
        "Usage: postdeskctl worker init|list|authorise ID|revoke ID [--key-dir DIR] [--db "
        "CONNINFO]\n\n"
        "Provider secrets are sealed to the keys of the hosts that send mail.\n"
        "  init          create this host's worker key (in the desktop keyring, or with --key-dir\n"
        "                in an owner-only file on a server) and register its public key\n"
        "  list          the registered keys and whether they are authorised\n"
        "  authorise ID  let that host open secrets; run on an authorised host, it also re-seals\n"
        "                every secret this host holds for the new one\n"
        "  revoke ID     remove a key and every secret sealed to it\n";

std::unique_ptr<Secrets::KeyStore> keyStore(const QCommandLineParser &parser)
{
    if (parser.isSet(QStringLiteral("key-dir")))
        return std::make_unique<Secrets::FileKeyStore>(parser.value(QStringLiteral("key-dir")));
    return std::make_unique<Secrets::KeychainKeyStore>();
}

} // namespace

int runWorker(const QStringList &args)
{
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h") {
        out() << workerUsage;
        return args.isEmpty() ? 2 : 0;
    }
    const QString action = args.first();
    QCommandLineParser parser;
    parser.addOption(databaseOption());
    parser.addOption(QCommandLineOption(QStringLiteral("key-dir"),
                                        QStringLiteral("Keep this host's private key in DIR "
                                                       "(owner-only files) instead of the "
                                                       "desktop keyring."),
                                        QStringLiteral("dir")));
    parser.addPositionalArgument(QStringLiteral("id"), QStringLiteral("A worker key id."));
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("worker ") + action, args.mid(1), &exitCode))
        return exitCode;
    if (action != u"init" && action != u"list" && action != u"authorise" && action != u"revoke") {
        err() << "postdeskctl worker: unknown command '" << action << "'.\n" << workerUsage;
        return 2;
    }
    const bool needsId = action == u"authorise" || action == u"revoke";
    if (needsId && parser.positionalArguments().size() != 1) {
        err() << "postdeskctl worker " << action << ": give the key id ('postdeskctl worker list' "
              << "shows them).\n";
        return 2;
    }
    auto connection = openDatabase(parser);
    if (!connection)
        return reportError(connection.error());
    Secrets::SecretRepository repository(**connection);

    if (action == u"init") {
        auto store = keyStore(parser);
        bool created = false;
        auto key = Secrets::loadOrCreateHostKey(*store, &created);
        if (!key)
            return reportError(key.error());
        auto id = repository.registerKey(QHostInfo::localHostName(), key->publicKey());
        if (!id)
            return reportError(id.error());
        out() << (created ? "Created" : "Found") << " this host's worker key in "
              << store->describe() << ".\nWorker key id: " << *id << '\n'
              << "An admin authorises it with: postdeskctl worker authorise " << *id
              << "\n(run on a host that is already authorised, it also passes on the secrets).\n";
        return 0;
    }
    if (action == u"list") {
        auto keys = repository.keys();
        if (!keys)
            return reportError(keys.error());
        if (keys->isEmpty()) {
            out() << "No worker keys yet; run 'postdeskctl worker init' on each sending host.\n";
            return 0;
        }
        for (const Secrets::WorkerKeyInfo &key : std::as_const(*keys)) {
            out() << key.id << "  " << key.host << "  "
                  << (key.authorisedAt.isValid()
                              ? QStringLiteral("authorised %1 by %2")
                                        .arg(key.authorisedAt.toString(Qt::ISODate),
                                             key.authorisedBy)
                              : QStringLiteral("NOT authorised"))
                  << '\n';
        }
        return 0;
    }
    const QString id = parser.positionalArguments().first();
    if (action == u"revoke") {
        if (auto ok = repository.revoke(id); !ok)
            return reportError(ok.error());
        out() << "Revoked worker key " << id << " and the secrets sealed to it.\n";
        return 0;
    }
    // authorise: if this host holds an authorised key, pass the secrets on.
    std::optional<Secrets::KeyPair> opener;
    auto store = keyStore(parser);
    if (auto own = store->load(QStringLiteral("worker-key")); own) {
        if (auto pair = Secrets::KeyPair::fromPrivateKey(*own); pair && pair->id() != id)
            opener = *pair;
    }
    auto resealed = repository.authorise(id, opener ? &*opener : nullptr);
    if (!resealed && opener && resealed.error().code == u"secrets.wrong_key")
        resealed = repository.authorise(id, nullptr);
    if (!resealed)
        return reportError(resealed.error());
    out() << "Authorised worker key " << id << ".";
    if (*resealed > 0)
        out() << " Re-sealed " << *resealed << " secret(s) for it.";
    else
        out() << " Secrets set from now on are sealed to it; set existing ones again (or run this "
                 "on an authorised host) for it to use them.";
    out() << '\n';
    return 0;
}

} // namespace Ctl
