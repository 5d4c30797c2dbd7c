#include "providerconfig.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUrl>
#include <QUrlQuery>

namespace Providers {

namespace {

const QString sandboxType = QStringLiteral("sandbox");

// Options whose value is a secret or names one; they never stand in the stored URL.
bool isSecretOption(const QString &key)
{
    return key.endsWith(u"_env") || key == u"session_token" || key == u"header"
            || key == u"template_file";
}

QString keyVariable(ProviderKind kind)
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

Common::Error configError(const QString &message, const QString &detail = {})
{
    return Common::Error{QStringLiteral("providers.config"), message, detail,
                         Common::Retry::Permanent};
}

} // namespace

QString ProviderConfig::typeName(ProviderKind kind)
{
    switch (kind) {
    case ProviderKind::Smtp:
        return QStringLiteral("smtp");
    case ProviderKind::SendGrid:
        return QStringLiteral("sendgrid");
    case ProviderKind::Mailgun:
        return QStringLiteral("mailgun");
    case ProviderKind::Ses:
        return QStringLiteral("ses");
    case ProviderKind::Postmark:
        return QStringLiteral("postmark");
    case ProviderKind::CustomHttp:
        return QStringLiteral("http");
    }
    return {};
}

QStringList ProviderConfig::typeNames()
{
    return {QStringLiteral("smtp"),   QStringLiteral("sendgrid"), QStringLiteral("mailgun"),
            QStringLiteral("ses"),    QStringLiteral("postmark"), QStringLiteral("http"),
            QStringLiteral("sandbox")};
}

Common::Result<ProviderConfig> ProviderConfig::fromUrl(const QString &url,
                                                       const QProcessEnvironment &env)
{
    const QString text = url.trimmed();
    ProviderConfig config;
    if (text == u"sandbox:" || text == u"sandbox://" || text == u"sandbox") {
        config.type = sandboxType;
        config.storedUrl = QStringLiteral("sandbox:");
        return config;
    }
    auto parsed = ProviderUrl::parse(text, env);
    if (!parsed)
        return Common::fail(parsed.error());
    config.type = typeName(parsed->kind());

    const qsizetype schemeEnd = text.indexOf(u"://");
    QString rest = text.mid(schemeEnd + 3);
    QString queryText;
    if (const qsizetype q = rest.indexOf(u'?'); q >= 0) {
        queryText = rest.mid(q + 1);
        rest.truncate(q);
    }
    // Keep the options that are not secret, and the body template's text instead of its file
    // (a worker on another host does not have the file).
    const QUrlQuery query(queryText);
    QUrlQuery kept;
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        if (!isSecretOption(key))
            kept.addQueryItem(key, value);
    }
    if (parsed->kind() == ProviderKind::CustomHttp
        && query.hasQueryItem(QStringLiteral("template_file")))
        kept.addQueryItem(QStringLiteral("template"), parsed->http().bodyTemplate);

    if (parsed->kind() == ProviderKind::Smtp) {
        QUrl stored(text);
        stored.setPassword({});
        stored.setQuery(kept);
        config.storedUrl = stored.toString(QUrl::FullyEncoded);
        if (!parsed->smtp().password.isEmpty())
            config.secrets.insert(QStringLiteral("password"), parsed->smtp().password.toUtf8());
        return config;
    }

    // HTTP providers: the credentials are the user part; drop it.
    if (const qsizetype at = rest.lastIndexOf(u'@'); at >= 0)
        rest = rest.mid(at + 1);
    const QString keptQuery = kept.toString(QUrl::FullyEncoded);
    config.storedUrl = text.left(schemeEnd) + QStringLiteral("://") + rest
            + (keptQuery.isEmpty() ? QString() : u'?' + keptQuery);
    const HttpProviderSettings &http = parsed->http();
    if (!http.apiKey.isEmpty())
        config.secrets.insert(QStringLiteral("api_key"), http.apiKey.toUtf8());
    if (!http.secret.isEmpty())
        config.secrets.insert(QStringLiteral("secret"), http.secret.toUtf8());
    if (!http.sessionToken.isEmpty())
        config.secrets.insert(QStringLiteral("session_token"), http.sessionToken.toUtf8());
    if (!http.headers.isEmpty()) {
        QJsonArray headers;
        for (const auto &[name, value] : http.headers)
            headers.append(QJsonArray{QString::fromUtf8(name), QString::fromUtf8(value)});
        config.secrets.insert(QStringLiteral("headers"),
                              QJsonDocument(headers).toJson(QJsonDocument::Compact));
    }
    return config;
}

Common::Result<ProviderUrl> ProviderConfig::build(const QString &type, const QString &storedUrl,
                                                  const QMap<QString, QByteArray> &secrets)
{
    if (type == sandboxType)
        return Common::fail(
                configError(QStringLiteral("The sandbox provider has no URL settings")));
    const auto secret = [&](const char *name) {
        return QString::fromUtf8(secrets.value(QString::fromLatin1(name)));
    };
    // The stored URL has no credentials: hand them to the parser the way it takes them from the
    // environment, in an environment of their own (never the process's).
    QProcessEnvironment env;
    auto probe = ProviderUrl::parse(storedUrl, [&] {
        // A first pass only to learn the kind; HTTP providers fail without a key, so give one.
        QProcessEnvironment e;
        for (const char *name : {"SENDGRID_API_KEY", "MAILGUN_API_KEY", "AWS_ACCESS_KEY_ID",
                                 "AWS_SECRET_ACCESS_KEY", "POSTMARK_SERVER_TOKEN"})
            e.insert(QString::fromLatin1(name), QStringLiteral("x"));
        return e;
    }());
    if (!probe)
        return Common::fail(probe.error());
    const ProviderKind kind = probe->kind();
    if (typeName(kind) != type) {
        return Common::fail(
                configError(QStringLiteral("The stored URL is for a %1 provider, not %2")
                                    .arg(typeName(kind), type)));
    }
    if (const QString variable = keyVariable(kind); !variable.isEmpty())
        env.insert(variable, secret("api_key"));
    if (kind == ProviderKind::Ses) {
        env.insert(QStringLiteral("AWS_SECRET_ACCESS_KEY"), secret("secret"));
        if (secrets.contains(QStringLiteral("session_token")))
            env.insert(QStringLiteral("AWS_SESSION_TOKEN"), secret("session_token"));
    }
    auto url = ProviderUrl::parse(storedUrl, env);
    if (!url) {
        if (kind != ProviderKind::Smtp && kind != ProviderKind::CustomHttp
            && !secrets.contains(QStringLiteral("api_key"))) {
            return Common::fail(
                    configError(QStringLiteral(
                                        "The provider's API key could not be opened on this host"),
                                url.error().message));
        }
        return Common::fail(url.error());
    }
    if (kind == ProviderKind::Smtp) {
        url->smtp().password = secret("password");
    } else if (kind == ProviderKind::CustomHttp) {
        url->http().apiKey = secret("api_key");
        const auto headers = QJsonDocument::fromJson(secrets.value(QStringLiteral("headers")))
                                     .array();
        for (const auto &header : headers) {
            const QJsonArray pair = header.toArray();
            url->http().headers.append(
                    {pair.at(0).toString().toUtf8(), pair.at(1).toString().toUtf8()});
        }
    }
    return url;
}

QStringList ProviderConfig::requiredSecrets(const QString &type, const QString &storedUrl)
{
    if (type == u"smtp") {
        return QUrl(storedUrl).userName().isEmpty() ? QStringList{}
                                                    : QStringList{QStringLiteral("password")};
    }
    if (type == u"ses")
        return {QStringLiteral("api_key"), QStringLiteral("secret")};
    if (type == u"sendgrid" || type == u"mailgun" || type == u"postmark")
        return {QStringLiteral("api_key")};
    return {};
}

} // namespace Providers
