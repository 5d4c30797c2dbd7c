#pragma once

#include "providers/http/httptransport.h"

namespace Providers {

// Mailgun (documentation.mailgun.com, Messages API): POST /v3/{domain}/messages.mime with the MIME
// we compose (mode=mime, the default), or /v3/{domain}/messages with the message taken apart
// (mode=form). US (api.mailgun.net) and EU (api.eu.mailgun.net) regions; HTTP basic
// authentication as "api" with the key.
class MailgunTransport final : public HttpTransport
{
    Q_OBJECT
public:
    explicit MailgunTransport(const HttpProviderSettings &settings, QObject *parent = nullptr);

    Diagnostics *createDiagnostics(QObject *parent = nullptr) const override;
    QString baseUrl() const;
    static QString explainBody(const QByteArray &body);

protected:
    Common::Result<HttpRequest> buildRequest(const OutgoingMessage &message) override;
    void readSuccess(const HttpAnswer &answer, SendResult &result) const override;
    QString explain(const HttpAnswer &answer) const override;

private:
    Q_DISABLE_COPY_MOVE(MailgunTransport)
    QNetworkRequest apiRequest(const QString &path) const;
    quint64 m_boundaryCounter = 0;
};

} // namespace Providers
