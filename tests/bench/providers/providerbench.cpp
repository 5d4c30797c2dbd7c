// Sends N messages through an HTTP provider transport as fast as it allows and prints the rate.
// Used by run.sh next to a Node keep-alive client making the same requests; not a test.

#include "mime/message.h"
#include "providers/postmark/postmarktransport.h"
#include "providers/providerurl.h"
#include "providers/transport.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Sends messages through an HTTP provider transport and prints the rate."));
    parser.addHelpOption();
    const QCommandLineOption via(QStringLiteral("via"), QStringLiteral("Provider URL."),
                                 QStringLiteral("url"));
    const QCommandLineOption count(QStringLiteral("messages"), QStringLiteral("How many."),
                                   QStringLiteral("n"), QStringLiteral("5000"));
    const QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Text bytes per message."),
                                  QStringLiteral("bytes"), QStringLiteral("1024"));
    const QCommandLineOption dump(QStringLiteral("dump-postmark-body"),
                                  QStringLiteral("Write the Postmark request body of the message "
                                                 "to a file and exit."),
                                  QStringLiteral("file"));
    parser.addOptions({via, count, size, dump});
    parser.process(app);
    QTextStream out(stdout);
    QTextStream err(stderr);

    // A message as the product sends it: text and HTML, composed to MIME.
    const int textSize = parser.value(size).toInt();
    QString text;
    while (text.size() < textSize)
        text += QStringLiteral("The quick brown fox jumps over the lazy dog, %1 times.\n")
                        .arg(text.size());
    Mime::Message m;
    m.setFrom(*Mime::Address::parse(QStringLiteral("Postdesk Bench <foo@example.org>")));
    m.addTo(*Mime::Address::parse(QStringLiteral("bar@example.net")));
    m.setSubject(QStringLiteral("benchmark"));
    m.setText(text);
    m.setHtml(QStringLiteral("<p>") + text.toHtmlEscaped() + QStringLiteral("</p>"));
    const auto composed = m.compose();
    if (!composed) {
        err << composed.error().toString() << '\n';
        return 2;
    }
    Providers::OutgoingMessage message;
    message.envelopeFrom = composed->envelopeFrom;
    message.recipients = composed->recipients;
    message.data = composed->data;
    message.messageId = composed->messageId;

    if (parser.isSet(dump)) {
        const auto body = Providers::PostmarkTransport::requestBody(message,
                                                                    QStringLiteral("outbound"));
        QFile file(parser.value(dump));
        if (!body || !file.open(QIODevice::WriteOnly))
            return 2;
        file.write(*body);
        return 0;
    }

    const auto url = Providers::ProviderUrl::parse(parser.value(via));
    if (!url) {
        err << url.error().toString() << '\n';
        return 2;
    }
    auto transport = Providers::Transport::create(*url);
    if (!transport) {
        err << transport.error().toString() << '\n';
        return 2;
    }
    const int messages = parser.value(count).toInt();
    int done = 0;
    int failed = 0;
    QElapsedTimer timer;
    QObject::connect(*transport, &Providers::Transport::sent,
                     [&](Providers::Transport::Ticket, const Providers::SendResult &result) {
                         if (!result.ok()) {
                             if (++failed <= 3)
                                 err << result.error->toString() << '\n';
                         }
                         if (++done == messages)
                             app.quit();
                     });
    timer.start();
    for (int i = 0; i < messages; ++i)
        (*transport)->send(message);
    app.exec();
    const double seconds = timer.nsecsElapsed() / 1e9;
    out << "messages=" << messages << " failed=" << failed << " seconds=" << seconds
        << " rate=" << (messages / seconds) << '\n';
    delete *transport;
    return failed == 0 ? 0 : 1;
}
