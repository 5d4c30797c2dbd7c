#include "tracking.h"

#include <QMessageAuthenticationCode>
#include <QRandomGenerator>
#include <QRegularExpression>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace Tracking {

namespace {

constexpr auto b64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
constexpr int macBytes = 16;

QByteArray mac(const QByteArray &payload, const QByteArray &key)
{
    return QMessageAuthenticationCode::hash("postdesk-tracking-v1|" + payload, key,
                                            QCryptographicHash::Sha256)
            .left(macBytes);
}

char kindChar(TokenKind kind)
{
    switch (kind) {
    case TokenKind::Open:
        return 'o';
    case TokenKind::Click:
        return 'c';
    case TokenKind::Unsubscribe:
        return 'u';
    }
    return 'o';
}

QString base(const QString &baseUrl)
{
    QString b = baseUrl.trimmed();
    while (b.endsWith(u'/'))
        b.chop(1);
    return b;
}

Common::Error badToken()
{
    return Common::makeError(QStringLiteral("tracking.bad_token"),
                             QStringLiteral("This link is not valid (it was altered or is not "
                                            "one of ours)."));
}

QString decodeEntities(QString s)
{
    s.replace(QLatin1String("&amp;"), QLatin1String("&"));
    s.replace(QLatin1String("&#38;"), QLatin1String("&"));
    s.replace(QLatin1String("&#x26;"), QLatin1String("&"));
    s.replace(QLatin1String("&quot;"), QLatin1String("\""));
    return s;
}

} // namespace

QByteArray generateKey()
{
    QByteArray key(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char *>(key.data()), int(key.size())) != 1) {
        for (char &c : key)
            c = char(QRandomGenerator::system()->generate());
    }
    return key;
}

QString makeToken(TokenKind kind, qint64 messageId, const QString &url, const QByteArray &key)
{
    QByteArray payload = QByteArray(1, kindChar(kind)) + QByteArray::number(messageId);
    if (kind == TokenKind::Click)
        payload += '|' + url.toUtf8();
    return QString::fromLatin1(payload.toBase64(b64) + '.' + mac(payload, key).toBase64(b64));
}

Common::Result<TokenData> readToken(const QString &token, const QByteArray &key)
{
    if (key.isEmpty() || token.size() > 8192)
        return Common::fail(badToken());
    const qsizetype dot = token.indexOf(u'.');
    if (dot <= 0)
        return Common::fail(badToken());
    const auto payload =
            QByteArray::fromBase64Encoding(token.left(dot).toLatin1(),
                                           b64 | QByteArray::AbortOnBase64DecodingErrors);
    const auto given = QByteArray::fromBase64Encoding(token.mid(dot + 1).toLatin1(),
                                                      b64 | QByteArray::AbortOnBase64DecodingErrors);
    if (!payload || !given || payload.decoded.size() < 2 || given.decoded.size() != macBytes)
        return Common::fail(badToken());
    const QByteArray expected = mac(payload.decoded, key);
    if (CRYPTO_memcmp(expected.constData(), given.decoded.constData(), macBytes) != 0)
        return Common::fail(badToken());
    TokenData data;
    const char k = payload.decoded.at(0);
    QByteArray rest = payload.decoded.mid(1);
    if (k == 'o') {
        data.kind = TokenKind::Open;
    } else if (k == 'u') {
        data.kind = TokenKind::Unsubscribe;
    } else if (k == 'c') {
        data.kind = TokenKind::Click;
        const qsizetype bar = rest.indexOf('|');
        if (bar < 0)
            return Common::fail(badToken());
        data.url = QString::fromUtf8(rest.mid(bar + 1));
        rest.truncate(bar);
    } else {
        return Common::fail(badToken());
    }
    bool ok = false;
    data.messageId = rest.toLongLong(&ok);
    if (!ok || data.messageId <= 0)
        return Common::fail(badToken());
    return data;
}

QString openUrl(qint64 messageId, const QString &baseUrl, const QByteArray &key)
{
    return base(baseUrl) + QStringLiteral("/t/o/") + makeToken(TokenKind::Open, messageId, {}, key);
}

QString clickUrl(qint64 messageId, const QString &target, const QString &baseUrl,
                 const QByteArray &key)
{
    return base(baseUrl) + QStringLiteral("/t/c/")
            + makeToken(TokenKind::Click, messageId, target, key);
}

QString unsubscribeUrl(qint64 messageId, const QString &baseUrl, const QByteArray &key)
{
    return base(baseUrl) + QStringLiteral("/u/")
            + makeToken(TokenKind::Unsubscribe, messageId, {}, key);
}

QString rewriteHtml(const QString &html, qint64 messageId, const QString &baseUrl,
                    const QByteArray &key)
{
    // <a …> start tags; the href value quoted with " or ' or unquoted.
    static const QRegularExpression anchor(QStringLiteral("<a\\b[^>]*>"),
                                           QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression
            href(QStringLiteral("(\\bhref\\s*=\\s*)(?:\"([^\"]*)\"|'([^']*)'|([^\\s\"'>]+))"),
                 QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression noTrack(QStringLiteral("\\bdata-notrack\\b"),
                                            QRegularExpression::CaseInsensitiveOption);
    const QString ownBase = base(baseUrl);
    QString out;
    out.reserve(html.size() + html.size() / 4);
    qsizetype last = 0;
    auto it = anchor.globalMatch(html);
    while (it.hasNext()) {
        const QRegularExpressionMatch tag = it.next();
        out += QStringView(html).mid(last, tag.capturedStart() - last);
        last = tag.capturedEnd();
        QString tagText = tag.captured();
        const QRegularExpressionMatch h = href.match(tagText);
        if (!h.hasMatch() || noTrack.match(tagText).hasMatch()) {
            out += tagText;
            continue;
        }
        const int group = h.capturedStart(2) >= 0 ? 2 : h.capturedStart(3) >= 0 ? 3 : 4;
        const QString value = h.captured(group);
        const QString target = decodeEntities(value.trimmed());
        const QString lower = target.toLower();
        const bool trackable = (lower.startsWith(QLatin1String("http://"))
                                || lower.startsWith(QLatin1String("https://")))
                && !(!ownBase.isEmpty() && target.startsWith(ownBase + u'/'));
        if (!trackable) {
            out += tagText;
            continue;
        }
        const QString rewritten = clickUrl(messageId, target, baseUrl, key);
        tagText.replace(h.capturedStart(), h.capturedLength(),
                        h.captured(1) + u'"' + rewritten + u'"');
        out += tagText;
    }
    out += QStringView(html).mid(last);

    const QString pixel = QStringLiteral("<img src=\"%1\" width=\"1\" height=\"1\" alt=\"\" "
                                         "style=\"display:block;border:0;width:1px;height:1px\">")
                                  .arg(openUrl(messageId, baseUrl, key));
    const qsizetype body = out.lastIndexOf(QLatin1String("</body"), -1, Qt::CaseInsensitive);
    if (body >= 0)
        out.insert(body, pixel);
    else
        out += pixel;
    return out;
}

UnsubscribeHeaders unsubscribeHeaders(qint64 messageId, const QString &baseUrl,
                                      const QByteArray &key, const QString &mailto)
{
    UnsubscribeHeaders h;
    h.listUnsubscribe = '<' + unsubscribeUrl(messageId, baseUrl, key).toUtf8() + '>';
    if (!mailto.isEmpty())
        h.listUnsubscribe += ", <mailto:" + mailto.toUtf8() + '>';
    h.listUnsubscribePost = "List-Unsubscribe=One-Click";
    return h;
}

} // namespace Tracking
