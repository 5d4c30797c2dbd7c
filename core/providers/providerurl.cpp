#include "providerurl.h"

#include <QFile>
#include <QUrlQuery>

#include <functional>

namespace Providers {

namespace {

Common::Error urlError(const QString &message, const QString &detail = {})
{
    return Common::makeError(QStringLiteral("provider.url"), message, detail);
}

// Seconds (decimals allowed) to milliseconds.
std::optional<int> parseSeconds(const QString &text)
{
    bool ok = false;
    const double seconds = text.toDouble(&ok);
    if (!ok || seconds <= 0 || seconds > 24 * 3600)
        return std::nullopt;
    return std::max(1, int(seconds * 1000));
}

std::optional<int> parseCount(const QString &text, int max)
{
    bool ok = false;
    const int value = text.toInt(&ok);
    if (!ok || value < 1 || value > max)
        return std::nullopt;
    return value;
}

std::optional<bool> parseBool(const QString &text)
{
    const QString t = text.toLower();
    if (t == u"1" || t == u"true" || t == u"yes" || t == u"on")
        return true;
    if (t == u"0" || t == u"false" || t == u"no" || t == u"off")
        return false;
    return std::nullopt;
}

Common::Status applySmtpOption(SmtpSettings &s, const QString &key, const QString &value,
                               const QProcessEnvironment &env)
{
    const auto bad = [&](const QString &expected) {
        return Common::fail(urlError(QStringLiteral("Invalid value '%1' for the option '%2': %3")
                                             .arg(value, key, expected)));
    };
    if (key == u"ca") {
        if (value.isEmpty())
            return bad(QStringLiteral("expected a PEM file"));
        s.caFile = value;
    } else if (key == u"verify") {
        const auto b = parseBool(value);
        if (!b)
            return bad(QStringLiteral("expected 1 or 0"));
        s.verifyCertificate = *b;
    } else if (key == u"insecure_auth") {
        const auto b = parseBool(value);
        if (!b)
            return bad(QStringLiteral("expected 1 or 0"));
        s.allowPlainTextAuth = *b;
    } else if (key == u"auth") {
        const QString v = value.toLower();
        if (v == u"plain")
            s.authMechanism = SmtpAuthMechanism::Plain;
        else if (v == u"login")
            s.authMechanism = SmtpAuthMechanism::Login;
        else if (v == u"xoauth2")
            s.authMechanism = SmtpAuthMechanism::XOAuth2;
        else if (v == u"auto")
            s.authMechanism = SmtpAuthMechanism::Automatic;
        else
            return bad(QStringLiteral("expected plain, login, xoauth2 or auto"));
    } else if (key == u"password_env") {
        if (!env.contains(value)) {
            return Common::fail(urlError(
                    QStringLiteral("The environment variable %1 (named by password_env) is not set")
                            .arg(value)));
        }
        s.password = env.value(value);
    } else if (key == u"helo") {
        if (value.isEmpty() || value.contains(u' '))
            return bad(QStringLiteral("expected a host name"));
        s.heloName = value;
    } else if (key == u"pool") {
        const auto n = parseCount(value, 1000);
        if (!n)
            return bad(QStringLiteral("expected a number of connections from 1 to 1000"));
        s.maxConnections = *n;
    } else if (key == u"per_connection") {
        const auto n = parseCount(value, 1'000'000);
        if (!n)
            return bad(QStringLiteral("expected a number of messages of at least 1"));
        s.maxMessagesPerConnection = *n;
    } else {
        int *target = nullptr;
        if (key == u"connect_timeout")
            target = &s.connectTimeoutMs;
        else if (key == u"greeting_timeout")
            target = &s.greetingTimeoutMs;
        else if (key == u"timeout")
            target = &s.socketTimeoutMs;
        else if (key == u"idle_timeout")
            target = &s.idleTimeoutMs;
        if (!target) {
            return Common::fail(urlError(
                    QStringLiteral("Unknown option '%1' in the provider URL").arg(key),
                    QStringLiteral("known options: ca, verify, auth, password_env, insecure_auth, "
                                   "helo, pool, per_connection, connect_timeout, greeting_timeout, "
                                   "timeout, idle_timeout")));
        }
        const auto ms = parseSeconds(value);
        if (!ms)
            return bad(QStringLiteral("expected a number of seconds"));
        *target = *ms;
    }
    return {};
}

struct Scheme
{
    const char16_t *name;
    SmtpSecurity security;
    quint16 defaultPort;
};

// smtp:// on 587 (submission, RFC 6409); smtps:// on 465 (RFC 8314).
constexpr Scheme smtpSchemes[] = {
        {u"smtp", SmtpSecurity::StartTlsOpportunistic, 587},
        {u"smtp+starttls", SmtpSecurity::StartTlsRequired, 587},
        {u"smtps", SmtpSecurity::ImplicitTls, 465},
};

struct HttpScheme
{
    const char16_t *name;
    ProviderKind kind;
};

constexpr HttpScheme httpSchemes[] = {
        {u"sendgrid", ProviderKind::SendGrid},
        {u"mailgun", ProviderKind::Mailgun},
        {u"ses", ProviderKind::Ses},
        {u"postmark", ProviderKind::Postmark},
        {u"http+json", ProviderKind::CustomHttp},
        {u"https+json", ProviderKind::CustomHttp},
};

// The environment variables the providers' own tools read, used when the URL leaves a secret out.
QString defaultKeyVariable(ProviderKind kind)
{
    switch (kind) {
    case ProviderKind::SendGrid:
        return QStringLiteral("SENDGRID_API_KEY");
    case ProviderKind::Mailgun:
        return QStringLiteral("MAILGUN_API_KEY");
    case ProviderKind::Ses:
        return QStringLiteral("AWS_ACCESS_KEY_ID");
    case ProviderKind::Postmark:
        return QStringLiteral("POSTMARK_SERVER_TOKEN");
    case ProviderKind::Smtp:
    case ProviderKind::CustomHttp:
        break;
    }
    return {};
}

QString percentDecoded(QStringView text)
{
    return QUrl::fromPercentEncoding(text.toUtf8());
}

} // namespace

QStringList ProviderUrl::supportedSchemes()
{
    QStringList names;
    for (const Scheme &scheme : smtpSchemes)
        names << QString::fromUtf16(scheme.name);
    for (const HttpScheme &scheme : httpSchemes)
        names << QString::fromUtf16(scheme.name);
    return names;
}

// HTTP provider URLs are split by hand: "sendgrid://KEY@" and "postmark://TOKEN@?stream=x" have
// no host, and API keys may hold characters QUrl's strict mode refuses in a user name.
Common::Result<ProviderUrl> ProviderUrl::parseHttp(ProviderKind kind, const QString &text,
                                                   const QProcessEnvironment &env)
{
    const qsizetype schemeEnd = text.indexOf(u"://");
    QString rest = text.mid(schemeEnd + 3);
    QString queryText;
    if (const qsizetype q = rest.indexOf(u'?'); q >= 0) {
        queryText = rest.mid(q + 1);
        rest.truncate(q);
    }
    QString userInfo;
    if (const qsizetype at = rest.lastIndexOf(u'@'); at >= 0) {
        userInfo = rest.left(at);
        rest = rest.mid(at + 1);
    }
    QString hostAndPath = rest;
    if (hostAndPath.endsWith(u'/') && kind != ProviderKind::CustomHttp)
        hostAndPath.chop(1);

    ProviderUrl result;
    result.m_kind = kind;
    HttpProviderSettings &s = result.m_http;
    QString user = userInfo;
    QString password;
    if (const qsizetype colon = userInfo.indexOf(u':'); colon >= 0) {
        user = userInfo.left(colon);
        password = userInfo.mid(colon + 1);
    }
    user = percentDecoded(user);
    password = percentDecoded(password);

    switch (kind) {
    case ProviderKind::SendGrid:
    case ProviderKind::Postmark:
        s.apiKey = password.isEmpty() ? user : password;
        if (!hostAndPath.isEmpty()) {
            return Common::fail(urlError(
                    QStringLiteral("A host in a %1 URL is not supported; use base_url= for "
                                   "another endpoint")
                            .arg(text.left(schemeEnd))));
        }
        break;
    case ProviderKind::Mailgun:
        // mailgun://KEY@DOMAIN, or mailgun://api:KEY@DOMAIN as in Mailgun's curl examples
        s.apiKey = password.isEmpty() ? user : password;
        s.domain = percentDecoded(hostAndPath);
        s.region = QStringLiteral("us");
        s.mode = QStringLiteral("mime");
        if (s.domain.isEmpty() || s.domain.contains(u'/'))
            return Common::fail(urlError(QStringLiteral("A Mailgun URL names the sending domain: "
                                                        "mailgun://KEY@mg.example.org")));
        break;
    case ProviderKind::Ses:
        s.apiKey = user;
        s.secret = password;
        s.region = percentDecoded(hostAndPath);
        if (s.region.isEmpty() || s.region.contains(u'/'))
            return Common::fail(urlError(QStringLiteral(
                    "An SES URL names the AWS region: ses://ACCESS:SECRET@eu-west-1")));
        break;
    case ProviderKind::CustomHttp: {
        const QString scheme = text.left(schemeEnd).toLower();
        const QUrl endpoint(scheme.left(scheme.indexOf(u'+')) + QStringLiteral("://") + rest,
                            QUrl::StrictMode);
        if (!endpoint.isValid() || endpoint.host().isEmpty())
            return Common::fail(urlError(QStringLiteral("'%1' has no valid host").arg(text)));
        s.baseUrl = endpoint;
        if (!userInfo.isEmpty())
            s.apiKey = user + u':' + password; // HTTP basic authentication
        break;
    }
    case ProviderKind::Smtp:
        break;
    }

    const QUrlQuery query(queryText);
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        const auto bad = [&](const QString &expected) {
            return Common::fail(
                    urlError(QStringLiteral("Invalid value '%1' for the option '%2': %3")
                                     .arg(value, key, expected)));
        };
        const auto fromEnv = [&](QString &target) -> Common::Status {
            if (!env.contains(value)) {
                return Common::fail(urlError(
                        QStringLiteral("The environment variable %1 (named by %2) is not set")
                                .arg(value, key)));
            }
            target = env.value(value);
            return {};
        };
        if (key == u"base_url") {
            const QUrl base(value, QUrl::StrictMode);
            if (!base.isValid() || (base.scheme() != u"http" && base.scheme() != u"https")
                || base.host().isEmpty())
                return bad(QStringLiteral("expected an http:// or https:// URL"));
            s.baseUrl = base;
        } else if (key == u"key_env" || key == u"token_env" || key == u"password_env") {
            if (auto st = fromEnv(kind == ProviderKind::Ses && key == u"password_env" ? s.secret
                                                                                      : s.apiKey);
                !st)
                return Common::fail(st.error());
        } else if (key == u"secret_env") {
            if (auto st = fromEnv(s.secret); !st)
                return Common::fail(st.error());
        } else if (key == u"session_token_env") {
            if (auto st = fromEnv(s.sessionToken); !st)
                return Common::fail(st.error());
        } else if (key == u"session_token" && kind == ProviderKind::Ses) {
            s.sessionToken = value;
        } else if (key == u"region" && kind == ProviderKind::Mailgun) {
            const QString r = value.toLower();
            if (r != u"us" && r != u"eu")
                return bad(QStringLiteral("expected us or eu"));
            s.region = r;
        } else if (key == u"mode" && kind == ProviderKind::Mailgun) {
            const QString m = value.toLower();
            if (m != u"mime" && m != u"form")
                return bad(QStringLiteral("expected mime or form"));
            s.mode = m;
        } else if (key == u"stream" && kind == ProviderKind::Postmark) {
            if (value.isEmpty())
                return bad(QStringLiteral("expected a message stream ID"));
            s.stream = value;
        } else if (key == u"header" && kind == ProviderKind::CustomHttp) {
            const qsizetype colon = value.indexOf(u':');
            if (colon <= 0)
                return bad(QStringLiteral("expected Name:Value"));
            s.headers.append({value.left(colon).trimmed().toUtf8(),
                              value.mid(colon + 1).trimmed().toUtf8()});
        } else if (key == u"template" && kind == ProviderKind::CustomHttp) {
            s.bodyTemplate = value;
        } else if (key == u"template_file" && kind == ProviderKind::CustomHttp) {
            QFile file(value);
            if (!file.open(QIODevice::ReadOnly))
                return bad(file.errorString());
            s.bodyTemplate = QString::fromUtf8(file.readAll());
        } else if (key == u"timeout") {
            const auto ms = parseSeconds(value);
            if (!ms)
                return bad(QStringLiteral("expected a number of seconds"));
            s.timeoutMs = *ms;
        } else if (key == u"in_flight") {
            const auto n = parseCount(value, 100);
            if (!n)
                return bad(QStringLiteral("expected a number of requests from 1 to 100"));
            s.maxInFlight = *n;
        } else {
            return Common::fail(
                    urlError(QStringLiteral("Unknown option '%1' in the provider URL").arg(key),
                             QStringLiteral(
                                     "known options: base_url, key_env, secret_env, timeout, "
                                     "in_flight, and per provider region, mode, stream, "
                                     "session_token, header, template, template_file")));
        }
    }

    // Secrets left out of the URL come from the environment, as the providers' own tools do it.
    const QString keyVariable = defaultKeyVariable(kind);
    if (s.apiKey.isEmpty() && !keyVariable.isEmpty())
        s.apiKey = env.value(keyVariable);
    if (kind == ProviderKind::Ses) {
        if (s.secret.isEmpty())
            s.secret = env.value(QStringLiteral("AWS_SECRET_ACCESS_KEY"));
        if (s.sessionToken.isEmpty() && user.isEmpty())
            s.sessionToken = env.value(QStringLiteral("AWS_SESSION_TOKEN"));
    }
    if (kind != ProviderKind::CustomHttp && s.apiKey.isEmpty()) {
        return Common::fail(urlError(
                QStringLiteral("The provider URL has no credentials; put them in the URL or in "
                               "the environment variable %1")
                        .arg(keyVariable)));
    }
    if (kind == ProviderKind::Ses && s.secret.isEmpty()) {
        return Common::fail(
                urlError(QStringLiteral("The SES URL has no secret access key; use "
                                        "ses://ACCESS:SECRET@REGION or AWS_SECRET_ACCESS_KEY")));
    }
    result.m_url = QUrl(text.left(schemeEnd) + QStringLiteral("://")
                        + (hostAndPath.isEmpty() ? QString() : hostAndPath)
                        + (queryText.isEmpty() || kind == ProviderKind::CustomHttp
                                   ? QString() // header= values may hold credentials
                                   : u'?' + queryText));
    return result;
}

Common::Result<ProviderUrl> ProviderUrl::parse(const QString &text, const QProcessEnvironment &env)
{
    const QString trimmed = text.trimmed();
    if (const qsizetype schemeEnd = trimmed.indexOf(u"://"); schemeEnd > 0) {
        const QString name = trimmed.left(schemeEnd).toLower();
        for (const HttpScheme &candidate : httpSchemes) {
            if (name == QStringView(candidate.name))
                return parseHttp(candidate.kind, trimmed, env);
        }
    }
    const QUrl url(trimmed, QUrl::StrictMode);
    if (!url.isValid() || url.scheme().isEmpty()) {
        return Common::fail(
                urlError(QStringLiteral(
                                 "'%1' is not a provider URL such as smtp://user:pass@host:587")
                                 .arg(text),
                         url.errorString()));
    }
    const QString scheme = url.scheme().toLower();
    const Scheme *found = nullptr;
    for (const Scheme &candidate : smtpSchemes) {
        if (scheme == QStringView(candidate.name))
            found = &candidate;
    }
    if (!found) {
        return Common::fail(
                urlError(QStringLiteral("The URL scheme '%1' is not supported; use one of: %2")
                                 .arg(scheme, supportedSchemes().join(QStringLiteral(", ")))));
    }
    if (url.host().isEmpty())
        return Common::fail(urlError(QStringLiteral("The provider URL has no host name")));
    if (!url.path().isEmpty() && url.path() != u"/")
        return Common::fail(
                urlError(QStringLiteral("An SMTP URL has no path: '%1'").arg(url.path())));

    ProviderUrl result;
    result.m_kind = ProviderKind::Smtp;
    result.m_url = url;
    SmtpSettings &s = result.m_smtp;
    s.security = found->security;
    s.host = url.host();
    s.port = quint16(url.port(found->defaultPort));
    if (url.port() == 0)
        return Common::fail(urlError(QStringLiteral("Port 0 is not a valid SMTP port")));
    s.username = url.userName(QUrl::FullyDecoded);
    s.password = url.password(QUrl::FullyDecoded);

    const QUrlQuery query(url);
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        if (auto status = applySmtpOption(s, key, value, env); !status)
            return Common::fail(status.error());
    }
    if (!s.password.isEmpty() && s.username.isEmpty())
        return Common::fail(urlError(QStringLiteral("A password was given without a user name")));
    return result;
}

Common::Status ProviderUrl::setPasswordFromEnvironment(const QString &variable,
                                                       const QProcessEnvironment &env)
{
    if (!env.contains(variable)) {
        return Common::fail(
                urlError(QStringLiteral("The environment variable %1 is not set").arg(variable)));
    }
    if (m_kind == ProviderKind::Ses) {
        m_http.secret = env.value(variable);
        return {};
    }
    if (m_kind != ProviderKind::Smtp) {
        m_http.apiKey = env.value(variable);
        return {};
    }
    if (m_smtp.username.isEmpty()) {
        return Common::fail(
                urlError(QStringLiteral("A password was given without a user name in the URL")));
    }
    m_smtp.password = env.value(variable);
    return {};
}

QString ProviderUrl::redacted() const
{
    QUrl url = m_url;
    if (!url.password().isEmpty())
        url.setPassword(QStringLiteral("****"));
    // HTTP providers keep their credentials out of m_url already (see parseHttp).
    return url.toString();
}

} // namespace Providers
