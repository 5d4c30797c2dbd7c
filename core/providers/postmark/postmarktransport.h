#pragma once

#include "providers/http/httptransport.h"

namespace Providers {

// Postmark (postmarkapp.com/developer/api/email-api): POST /email with the message taken apart into
// JSON, X-Postmark-Server-Token and a MessageStream; the id comes back as MessageID.
class PostmarkTransport final : public HttpTransport
{
    Q_OBJECT
public:
    explicit PostmarkTransport(const HttpProviderSettings &settings, QObject *parent = nullptr);

    Diagnostics *createDiagnostics(QObject *parent = nullptr) const override;
    static Common::Result<QByteArray> requestBody(const OutgoingMessage &message,
                                                  const QString &stream);
    static QString explainBody(const QByteArray &body);

protected:
    Common::Result<HttpRequest> buildRequest(const OutgoingMessage &message) override;
    void readSuccess(const HttpAnswer &answer, SendResult &result) const override;
    QString explain(const HttpAnswer &answer) const override;
    HttpFailure classify(const HttpAnswer &answer) const override;

private:
    Q_DISABLE_COPY_MOVE(PostmarkTransport)
    QNetworkRequest apiRequest(const QString &path) const;
};

} // namespace Providers
