#pragma once

#include "providers/http/httptransport.h"

namespace Providers {

// SendGrid v3 Mail Send (POST /v3/mail/send, www.twilio.com/docs/sendgrid/api-reference/mail-send):
// the composed message taken apart into the JSON request; the id comes back in X-Message-Id.
class SendGridTransport final : public HttpTransport
{
    Q_OBJECT
public:
    explicit SendGridTransport(const HttpProviderSettings &settings, QObject *parent = nullptr);

    Diagnostics *createDiagnostics(QObject *parent = nullptr) const override;

    // The JSON body for one message (public for tests).
    static Common::Result<QByteArray> requestBody(const OutgoingMessage &message);
    // {"errors":[{"message":..., "field":...}]} as one sentence.
    static QString explainBody(const QByteArray &body);

protected:
    Common::Result<HttpRequest> buildRequest(const OutgoingMessage &message) override;
    void readSuccess(const HttpAnswer &answer, SendResult &result) const override;
    QString explain(const HttpAnswer &answer) const override;

private:
    Q_DISABLE_COPY_MOVE(SendGridTransport)
    QNetworkRequest apiRequest(const QString &path) const;
};

} // namespace Providers
