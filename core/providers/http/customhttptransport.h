#pragma once

#include "httptransport.h"

namespace Providers {

// A JSON POST to an endpoint of the organisation's own (a webhook, a relay): the configured
// headers, and a body rendered from a Handlebars template (core/templates) whose fields are the
// message's, already escaped for a JSON string, so a template writes "subject": "{{{subject}}}".
// Fields: messageId, from, fromName, to (the recipients, comma-separated), recipientsJson (a JSON
// array), subject, text, html, raw (the MIME, base64). The rendered body must be JSON.
class CustomHttpTransport final : public HttpTransport
{
    Q_OBJECT
public:
    explicit CustomHttpTransport(const HttpProviderSettings &settings, QObject *parent = nullptr);

    Diagnostics *createDiagnostics(QObject *parent = nullptr) const override;
    static QString defaultTemplate();
    static Common::Result<QByteArray> renderBody(const QString &bodyTemplate,
                                                 const OutgoingMessage &message);

protected:
    Common::Result<HttpRequest> buildRequest(const OutgoingMessage &message) override;
    void readSuccess(const HttpAnswer &answer, SendResult &result) const override;

private:
    Q_DISABLE_COPY_MOVE(CustomHttpTransport)
};

} // namespace Providers
