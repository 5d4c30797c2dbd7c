#pragma once

#include "common/result.h"
#include "providerurl.h"

#include <QByteArray>
#include <QMap>
#include <QProcessEnvironment>
#include <QString>

namespace Providers {

// A provider as it is stored: its type, a URL that holds no secret (host, port, user name, region,
// options) and the secrets apart, to be sealed. The split is lossless: build() gives back the
// settings the original URL described, on any host that can open the secrets.
//
// Secret names: "password" (SMTP), "api_key" (SendGrid and Mailgun keys, the Postmark token, the
// AWS access key ID), "secret" (AWS secret access key), "session_token" (AWS), "headers" (custom
// HTTP headers, a JSON array of [name, value] pairs, since they usually carry credentials) and
// "dkim_key" (a PEM private key for DKIM signing).
struct ProviderConfig
{
    QString type;      // smtp, sendgrid, mailgun, ses, postmark, http, sandbox
    QString storedUrl; // no credentials, no *_env options, no file references
    QMap<QString, QByteArray> secrets;

    // Splits a provider URL as postdeskctl and the forms take it. Secrets named by *_env options
    // are read from env now. "sandbox:" (or "sandbox://") is the sandbox provider.
    static Common::Result<ProviderConfig> fromUrl(
            const QString &url,
            const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());

    // The settings for a transport: the stored URL with the opened secrets put back. Never reads
    // the environment.
    static Common::Result<ProviderUrl> build(const QString &type, const QString &storedUrl,
                                             const QMap<QString, QByteArray> &secrets);

    // The secrets a provider of this type needs before it can send.
    static QStringList requiredSecrets(const QString &type, const QString &storedUrl);

    static QString typeName(ProviderKind kind);
    static QStringList typeNames();
};

} // namespace Providers
