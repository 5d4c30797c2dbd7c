#pragma once

#include "common/result.h"

#include <QList>
#include <QMap>
#include <QPair>
#include <QProcessEnvironment>
#include <QString>
#include <QUrl>

namespace Providers {

// How an SMTP connection is protected.
enum class SmtpSecurity {
    StartTlsOpportunistic, // smtp://: STARTTLS when the server offers it, plain text otherwise
    StartTlsRequired, // smtp+starttls://: STARTTLS or nothing; a server that does not offer it is refused
    ImplicitTls, // smtps://: TLS from the first byte (RFC 8314), usually port 465
};

enum class SmtpAuthMechanism { Automatic, Plain, Login, XOAuth2 };

// Everything an SMTP client and its pool need to know; durations in milliseconds.
struct SmtpSettings
{
    QString host;
    quint16 port = 587;
    SmtpSecurity security = SmtpSecurity::StartTlsOpportunistic;
    QString username;
    QString password; // a password, or the OAuth 2 access token for XOAUTH2
    SmtpAuthMechanism authMechanism = SmtpAuthMechanism::Automatic;
    // Sending credentials over a connection without TLS is refused unless this is set.
    bool allowPlainTextAuth = false;
    // PEM file with the certificate authorities to trust instead of the system's.
    QString caFile;
    bool verifyCertificate = true;
    // The EHLO name; empty picks the machine's host name or an address literal.
    QString heloName;

    int connectTimeoutMs = 30'000;   // DNS, TCP connect and an implicit TLS handshake
    int greetingTimeoutMs = 300'000; // RFC 5321 4.5.3.2.1: 5 minutes for the 220 greeting
    int socketTimeoutMs = 300'000;   // each reply, and each stall while writing the message
    int idleTimeoutMs = 60'000;      // an unused pooled connection is closed after this long
    int maxConnections = 4;
    int maxMessagesPerConnection = 100;
};

enum class ProviderKind { Smtp, SendGrid, Mailgun, Ses, Postmark, CustomHttp };

// Everything an HTTP provider's transport needs; durations in milliseconds.
struct HttpProviderSettings
{
    QString apiKey; // SendGrid API key, Mailgun API key, Postmark server token, AWS access key ID
    QString secret; // AWS secret access key
    QString sessionToken; // AWS session token (temporary credentials), optional
    QString domain;       // Mailgun sending domain
    QString region;       // Mailgun: "us" or "eu"; SES: the AWS region, e.g. "eu-west-1"
    QString stream;       // Postmark message stream, e.g. "outbound"
    QString mode;         // Mailgun: "mime" (messages.mime, the default) or "form" (messages)
    QUrl baseUrl;         // the API endpoint; empty picks the provider's (per region)
    // Custom HTTP: the endpoint is baseUrl; these headers go with every request, and the body is
    // bodyTemplate rendered with the message's fields.
    QList<QPair<QByteArray, QByteArray>> headers;
    QString bodyTemplate;

    int timeoutMs = 30'000; // a whole request, from sending to the last byte of the answer
    int maxInFlight = 6;    // requests in flight at once, each on its own keep-alive connection
};

// A provider addressed by URL for ad-hoc use (postdeskctl --via, diagnostics):
//   smtp://user:pass@host:port           STARTTLS when offered (port 587 when left out)
//   smtp+starttls://user:pass@host:port  STARTTLS required (port 587)
//   smtps://user:pass@host:port          implicit TLS (port 465)
// Query options (all optional):
//   ca=FILE              trust the CAs in this PEM file instead of the system's
//   verify=0             do not verify the server certificate (diagnostics against test servers)
//   auth=plain|login|xoauth2   force a SASL mechanism (xoauth2: the password is the access token)
//   password_env=VAR     take the password from the environment variable VAR
//   insecure_auth=1      allow AUTH without TLS
//   helo=NAME            the name to send in EHLO
//   pool=N               maximum number of connections
//   per_connection=N     maximum number of messages per connection
//   connect_timeout=S, greeting_timeout=S, timeout=S, idle_timeout=S   in seconds (decimals allowed)
// HTTP providers, the credentials in the user part (percent-encoded):
//   sendgrid://KEY@                       SendGrid v3 (key from SENDGRID_API_KEY when left out)
//   mailgun://KEY@DOMAIN?region=eu        Mailgun (region us or eu; key from MAILGUN_API_KEY)
//   ses://ACCESS:SECRET@REGION            Amazon SES v2 (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
//                                         and AWS_SESSION_TOKEN when left out)
//   postmark://TOKEN@?stream=outbound     Postmark (token from POSTMARK_SERVER_TOKEN)
//   http+json://host/path?header=Name:Value&template_file=FILE   a custom JSON webhook
//   (https+json:// for TLS)
// Their options: base_url=URL (another endpoint, e.g. a local test server), key_env=VAR,
//   secret_env=VAR, token_env=VAR (secrets from the environment), timeout=S, in_flight=N,
//   mode=mime|form (Mailgun), session_token=T (SES), stream=NAME (Postmark).
class ProviderUrl
{
public:
    // Parses url; password_env is looked up in env.
    static Common::Result<ProviderUrl> parse(
            const QString &url,
            const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());

    // The schemes parse() understands, for help texts.
    static QStringList supportedSchemes();

    ProviderKind kind() const { return m_kind; }
    QString scheme() const { return m_url.scheme(); }
    const SmtpSettings &smtp() const { return m_smtp; }
    SmtpSettings &smtp() { return m_smtp; }
    const HttpProviderSettings &http() const { return m_http; }
    HttpProviderSettings &http() { return m_http; }

    // Takes the password from the environment variable (for command lines, where a password in
    // the URL would show in the process list and the shell history).
    Common::Status setPasswordFromEnvironment(
            const QString &variable,
            const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());

    // The URL without its password, for logs and output.
    QString redacted() const;

private:
    ProviderKind m_kind = ProviderKind::Smtp;
    QUrl m_url;
    SmtpSettings m_smtp;
    HttpProviderSettings m_http;

    static Common::Result<ProviderUrl> parseHttp(ProviderKind kind, const QString &text,
                                                 const QProcessEnvironment &env);
};

} // namespace Providers
