#pragma once

#include "providers/http/httptransport.h"
#include "sigv4signer.h"

namespace Providers {

// Amazon SES API v2 (docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html): SendEmail
// with Raw content (the MIME we compose, base64 in the JSON), signed with SigV4 for service "ses".
class SesTransport final : public HttpTransport
{
    Q_OBJECT
public:
    explicit SesTransport(const HttpProviderSettings &settings, QObject *parent = nullptr);

    Diagnostics *createDiagnostics(QObject *parent = nullptr) const override;
    QString baseUrl() const;
    static QString explainBody(const QByteArray &body);
    // The error type from X-Amzn-ErrorType or the body's "__type"/"code", e.g. "MessageRejected".
    static QString errorType(const HttpAnswer &answer);

protected:
    Common::Result<HttpRequest> buildRequest(const OutgoingMessage &message) override;
    void readSuccess(const HttpAnswer &answer, SendResult &result) const override;
    QString explain(const HttpAnswer &answer) const override;
    HttpFailure classify(const HttpAnswer &answer) const override;

private:
    Q_DISABLE_COPY_MOVE(SesTransport)
    HttpRequest signedRequest(const QByteArray &verb, const QString &path,
                              const QByteArray &body) const;
    static HttpRequest signRequest(const SigV4Signer &signer, const QUrl &url,
                                   const QByteArray &verb, const QByteArray &body);
    SigV4Signer m_signer;
};

} // namespace Providers
