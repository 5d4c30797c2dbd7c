#include "cli.h"
#include "commands.h"

#include "mime/address.h"
#include "mime/dkimsigner.h"
#include "mime/message.h"
#include "providers/providerurl.h"
#include "providers/transport.h"

#include <QFile>
#include <QFileInfo>
#include <QMimeDatabase>

#include <memory>

namespace Ctl {

namespace {

Common::Result<QByteArray> readInput(const QString &path, const QString &what)
{
    QFile file;
    bool ok = false;
    if (path == u"-") {
        ok = file.open(stdin, QIODevice::ReadOnly);
    } else {
        file.setFileName(path);
        ok = file.open(QIODevice::ReadOnly);
    }
    if (!ok) {
        return Common::fail(QStringLiteral("send.read"),
                            QStringLiteral("Cannot read the %1 file %2").arg(what, path),
                            file.errorString());
    }
    return file.readAll();
}

Common::Status addAddresses(const QStringList &values,
                            const std::function<void(const Mime::Address &)> &add)
{
    for (const QString &value : values) {
        auto list = Mime::Address::parseList(value);
        if (!list)
            return Common::fail(list.error());
        for (const Mime::Address &address : std::as_const(*list))
            add(address);
    }
    return {};
}

// The message the options describe, composed and (with --dkim-*) signed.
Common::Result<Mime::ComposedMessage> composeFrom(const QCommandLineParser &parser)
{
    Mime::Message message;
    auto from = Mime::Address::parse(parser.value(QStringLiteral("from")));
    if (!from)
        return Common::fail(from.error());
    message.setFrom(*from);
    if (parser.isSet(QStringLiteral("envelope-from"))) {
        auto envelope = Mime::Address::parse(parser.value(QStringLiteral("envelope-from")));
        if (!envelope)
            return Common::fail(envelope.error());
        message.setEnvelopeFrom(*envelope);
    }
    for (const auto &[option, add] : std::initializer_list<
                 std::pair<const char *, Mime::Message &(Mime::Message::*) (const Mime::Address &)>>{
                 {"to", &Mime::Message::addTo},
                 {"cc", &Mime::Message::addCc},
                 {"bcc", &Mime::Message::addBcc},
                 {"reply-to", &Mime::Message::addReplyTo}}) {
        auto status = addAddresses(parser.values(QString::fromLatin1(option)),
                                   [&](const Mime::Address &a) { (message.*add)(a); });
        if (!status)
            return Common::fail(status.error());
    }
    message.setSubject(parser.value(QStringLiteral("subject")));
    if (parser.isSet(QStringLiteral("text"))) {
        auto text = readInput(parser.value(QStringLiteral("text")), QStringLiteral("text"));
        if (!text)
            return Common::fail(text.error());
        message.setText(QString::fromUtf8(*text));
    }
    if (parser.isSet(QStringLiteral("html"))) {
        auto html = readInput(parser.value(QStringLiteral("html")), QStringLiteral("HTML"));
        if (!html)
            return Common::fail(html.error());
        message.setHtml(QString::fromUtf8(*html));
    }
    const QMimeDatabase mimeTypes;
    for (const QString &path : parser.values(QStringLiteral("attach"))) {
        auto data = readInput(path, QStringLiteral("attachment"));
        if (!data)
            return Common::fail(data.error());
        Mime::Attachment attachment;
        attachment.fileName = QFileInfo(path).fileName();
        attachment.mimeType = mimeTypes.mimeTypeForFileNameAndData(path, *data).name();
        attachment.data = *data;
        message.addAttachment(attachment);
    }
    for (const QString &header : parser.values(QStringLiteral("header"))) {
        const qsizetype colon = header.indexOf(u':');
        if (colon <= 0) {
            return Common::fail(QStringLiteral("send.header"),
                                QStringLiteral("--header takes 'Name: value', not '%1'").arg(header));
        }
        message.addHeader(header.left(colon).trimmed(), header.mid(colon + 1).trimmed());
    }
    auto composed = message.compose();
    if (!composed)
        return composed;

    const QStringList dkim{QStringLiteral("dkim-domain"), QStringLiteral("dkim-selector"),
                           QStringLiteral("dkim-key")};
    int dkimSet = 0;
    for (const QString &name : dkim)
        dkimSet += parser.isSet(name) ? 1 : 0;
    if (dkimSet != 0 && dkimSet != 3) {
        return Common::fail(QStringLiteral("send.dkim"),
                            QStringLiteral("DKIM signing needs all of --dkim-domain, "
                                           "--dkim-selector and --dkim-key"));
    }
    if (dkimSet == 3) {
        auto pem = readInput(parser.value(QStringLiteral("dkim-key")), QStringLiteral("DKIM key"));
        if (!pem)
            return Common::fail(pem.error());
        auto signer = Mime::DkimSigner::fromPem(*pem, parser.value(QStringLiteral("dkim-domain")),
                                                parser.value(QStringLiteral("dkim-selector")));
        if (!signer)
            return Common::fail(signer.error());
        auto signedData = signer->sign(composed->data);
        if (!signedData)
            return Common::fail(signedData.error());
        composed->data = *signedData;
    }
    return composed;
}

} // namespace

int runSend(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Composes one message and sends it through a provider given by URL; prints what the "
            "server answered and the Message-ID.\nExit status: 0 sent to every recipient, 3 sent "
            "but some recipients were refused, 1 not sent, 2 wrong usage."));
    const auto option = [&](const char *name, const char *description, const char *value = nullptr) {
        parser.addOption(QCommandLineOption(QString::fromLatin1(name),
                                            QString::fromLatin1(description),
                                            value ? QString::fromLatin1(value) : QString()));
    };
    option("via",
           "The provider as a URL: smtp://user:pass@host:port, smtp+starttls://..., smtps://... "
           "(see 'postdeskctl provider --help').",
           "url");
    option("password-env", "Take the password from this environment variable.", "variable");
    option("from", "The From address, e.g. 'News <news@example.org>'.", "address");
    option("to", "A recipient (repeat, or separate with commas).", "address");
    option("cc", "A Cc recipient (repeatable).", "address");
    option("bcc", "A Bcc recipient, in the envelope only (repeatable).", "address");
    option("reply-to", "A Reply-To address.", "address");
    option("envelope-from", "The bounce address (MAIL FROM); default: the From address.", "address");
    option("subject", "The subject.", "text");
    option("text", "The plain-text body from a UTF-8 file ('-' for stdin).", "file");
    option("html", "The HTML body from a UTF-8 file.", "file");
    option("attach", "Attach a file (repeatable).", "file");
    option("header", "An extra header 'Name: value' (repeatable).", "header");
    option("dkim-domain", "Sign with DKIM for this domain (d=).", "domain");
    option("dkim-selector", "The DKIM selector (s=).", "selector");
    option("dkim-key", "The DKIM private key, PEM (RSA or Ed25519).", "file");
    int exitCode = 0;
    if (!parseCommandLine(parser, QStringLiteral("send"), args, &exitCode))
        return exitCode;
    if (!parser.positionalArguments().isEmpty()) {
        err() << "postdeskctl send: unexpected argument '" << parser.positionalArguments().first()
              << "'. Run 'postdeskctl send --help' for the options.\n";
        return 2;
    }
    for (const char *required : {"via", "from", "to"}) {
        if (!parser.isSet(QString::fromLatin1(required))) {
            err() << "postdeskctl send: --" << required
                  << " is required. Run 'postdeskctl send --help' for the options.\n";
            return 2;
        }
    }
    if (!parser.isSet(QStringLiteral("text")) && !parser.isSet(QStringLiteral("html"))) {
        err() << "postdeskctl send: give the body with --text FILE and/or --html FILE.\n";
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
    auto composed = composeFrom(parser);
    if (!composed)
        return reportError(composed.error());

    auto created = Providers::Transport::create(*url);
    if (!created)
        return reportError(created.error());
    std::unique_ptr<Providers::Transport> transport(*created);

    const Providers::OutgoingMessage outgoing = Providers::toOutgoing(*composed);

    const Providers::SendResult result = sendAndWait(*transport, outgoing);
    if (!result.ok())
        return reportError(*result.error);
    out() << "Sent to " << result.accepted.join(QStringLiteral(", ")) << '\n'
          << "Server reply: " << result.serverReply << '\n'
          << "Message-ID: <" << result.messageId << ">\n";
    if (!result.providerMessageId.isEmpty())
        out() << "Provider id: " << result.providerMessageId << '\n';
    out().flush();
    return result.rejected.isEmpty() ? 0 : 3;
}

} // namespace Ctl
