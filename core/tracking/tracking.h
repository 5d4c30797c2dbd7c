#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QString>

// Open, click and unsubscribe tracking for queues that have tracking on.
//
// Every URL the server will act on carries a token signed with HMAC-SHA256 under the tracking key
// (32 random bytes, kept sealed in webhook_secrets as provider "tracking", name "signing_key"; see
// Events::WebhookSecretRepository::trackingKey). A token names the message and, for clicks, the
// target: an altered or forged token is refused (400) and never redirects anywhere.
//
// The functions below are pure (no I/O, no state) and safe to call from any thread; the send
// workers call rewriteHtml() and unsubscribeHeaders() while composing a message.
namespace Tracking {

enum class TokenKind { Open, Click, Unsubscribe };

struct TokenData
{
    TokenKind kind = TokenKind::Open;
    qint64 messageId = 0;
    QString url; // clicks: where to redirect
};

// base64url(payload) "." base64url(first 16 bytes of HMAC-SHA256(key, payload)).
QString makeToken(TokenKind kind, qint64 messageId, const QString &url, const QByteArray &key);
// Error "tracking.bad_token" for anything not made by makeToken with this key.
Common::Result<TokenData> readToken(const QString &token, const QByteArray &key);

// The endpoint URLs under baseUrl (e.g. "https://t.example.org", with or without a trailing '/').
QString openUrl(qint64 messageId, const QString &baseUrl, const QByteArray &key);
QString clickUrl(qint64 messageId, const QString &target, const QString &baseUrl,
                 const QByteArray &key);
QString unsubscribeUrl(qint64 messageId, const QString &baseUrl, const QByteArray &key);

// Returns html with every http(s) link in an <a href> pointed at baseUrl/t/c/TOKEN and a 1×1 open
// pixel (baseUrl/t/o/TOKEN) before </body> (or at the end). Left alone: mailto:, tel:, sms:,
// in-page anchors (#…), relative links, links already under baseUrl (the unsubscribe link
// itself) and links marked data-notrack. HTML entities in an href (&amp;) are decoded before the
// target is signed, so the redirect goes to the URL the author meant.
QString rewriteHtml(const QString &html, qint64 messageId, const QString &baseUrl,
                    const QByteArray &key);

// The header values for RFC 2369 List-Unsubscribe and RFC 8058 one-click unsubscribe:
//   List-Unsubscribe: <https://…/u/TOKEN>[, <mailto:…>]
//   List-Unsubscribe-Post: List-Unsubscribe=One-Click
struct UnsubscribeHeaders
{
    QByteArray listUnsubscribe;
    QByteArray listUnsubscribePost;
};
UnsubscribeHeaders unsubscribeHeaders(qint64 messageId, const QString &baseUrl,
                                      const QByteArray &key, const QString &mailto = {});

// A new random tracking key (32 bytes).
QByteArray generateKey();

} // namespace Tracking
