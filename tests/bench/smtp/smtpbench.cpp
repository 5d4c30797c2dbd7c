// Sends N messages of a given size through Providers::SmtpTransport as fast as it can and prints
// the rate. Used by run.sh next to postfix's smtp-source; not a test.

#include "providers/providerurl.h"
#include "providers/transport.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
            QStringLiteral("Sends messages through the SMTP transport and prints the rate."));
    parser.addHelpOption();
    const QCommandLineOption via(QStringLiteral("via"), QStringLiteral("Provider URL."),
                                 QStringLiteral("url"));
    const QCommandLineOption count(QStringLiteral("messages"), QStringLiteral("How many."),
                                   QStringLiteral("n"), QStringLiteral("10000"));
    const QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Body bytes per message."),
                                  QStringLiteral("bytes"), QStringLiteral("1024"));
    parser.addOptions({via, count, size});
    parser.process(app);

    QTextStream out(stdout);
    QTextStream err(stderr);
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
    const int bodySize = parser.value(size).toInt();

    // Like smtp-source -l: a few headers and a body of bodySize bytes in lines of 78.
    QByteArray body;
    while (body.size() < bodySize) {
        const qsizetype n = std::min<qsizetype>(78, bodySize - body.size());
        body += QByteArray(n, 'x') + "\r\n";
    }
    const QByteArray headers = "From: <foo@example.org>\r\nTo: <bar@example.net>\r\n"
                               "Subject: benchmark\r\nMessage-ID: <bench@example.org>\r\n\r\n";
    Providers::OutgoingMessage message;
    message.envelopeFrom = QStringLiteral("foo@example.org");
    message.recipients = {QStringLiteral("bar@example.net")};
    message.data = headers + body;

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
