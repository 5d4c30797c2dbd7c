#include "sigv4signer.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>

#include <algorithm>

namespace Providers {

namespace {

QByteArray sha256Hex(QByteArrayView data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

QByteArray hmac(QByteArrayView key, QByteArrayView data)
{
    return QMessageAuthenticationCode::hash(data.toByteArray(), key.toByteArray(),
                                            QCryptographicHash::Sha256);
}

// URI-encoding as SigV4 defines it: every byte except the RFC 3986 unreserved characters as %XX
// with upper-case hex.
QByteArray uriEncode(QByteArrayView decoded)
{
    return decoded.toByteArray().toPercentEncoding(QByteArray(), QByteArray(), '%');
}

QByteArray canonicalPath(QByteArrayView path)
{
    if (path.isEmpty())
        return "/";
    // Normalised as RFC 3986 section 5.2.4 says (the test suite's get-relative, get-slashes, ...).
    QList<QByteArray> segments;
    const QList<QByteArray> parts = path.toByteArray().split('/');
    for (const QByteArray &segment : parts) {
        if (segment.isEmpty() || segment == ".")
            continue;
        if (segment == "..") {
            if (!segments.isEmpty())
                segments.removeLast();
            continue;
        }
        segments.append(uriEncode(QByteArray::fromPercentEncoding(segment)));
    }
    QByteArray result = '/' + segments.join('/');
    if (path.endsWith('/') && result.size() > 1)
        result += '/';
    return result;
}

QByteArray canonicalQuery(QByteArrayView query)
{
    QList<QPair<QByteArray, QByteArray>> pairs;
    for (const QByteArray &item : query.toByteArray().split('&')) {
        if (item.isEmpty())
            continue;
        const qsizetype eq = item.indexOf('=');
        const QByteArray key = eq < 0 ? item : item.left(eq);
        const QByteArray value = eq < 0 ? QByteArray() : item.mid(eq + 1);
        pairs.append({uriEncode(QByteArray::fromPercentEncoding(key)),
                      uriEncode(QByteArray::fromPercentEncoding(value))});
    }
    std::sort(pairs.begin(), pairs.end());
    QByteArray out;
    for (const auto &[key, value] : pairs) {
        if (!out.isEmpty())
            out += '&';
        out += key + '=' + value;
    }
    return out;
}

// Trimmed, with runs of spaces inside collapsed to one.
QByteArray canonicalValue(QByteArrayView value)
{
    QByteArray out;
    bool space = false;
    for (char c : value.trimmed()) {
        if (c == ' ' || c == '\t') {
            space = true;
            continue;
        }
        if (space)
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

// Lower-cased names, sorted; values of repeated headers joined with commas in order.
QList<QPair<QByteArray, QByteArray>> canonicalHeaders(const SigV4Signer::Request &request)
{
    QList<QPair<QByteArray, QByteArray>> headers;
    for (const auto &[name, value] : request.headers) {
        const QByteArray lower = name.trimmed().toLower();
        auto it = std::find_if(headers.begin(), headers.end(),
                               [&](const auto &h) { return h.first == lower; });
        if (it != headers.end())
            it->second += ',' + canonicalValue(value);
        else
            headers.append({lower, canonicalValue(value)});
    }
    std::stable_sort(headers.begin(), headers.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    return headers;
}

} // namespace

SigV4Signer::SigV4Signer(Credentials credentials, QString region, QString service)
    : m_credentials(std::move(credentials))
    , m_region(std::move(region))
    , m_service(std::move(service))
{ }

QByteArray SigV4Signer::amzDate(const QDateTime &now)
{
    return now.toUTC().toString(QStringLiteral("yyyyMMdd'T'HHmmss'Z'")).toLatin1();
}

QByteArray SigV4Signer::signedHeaders(const Request &request)
{
    QByteArrayList names;
    for (const auto &header : canonicalHeaders(request))
        names << header.first;
    return names.join(';');
}

QByteArray SigV4Signer::canonicalRequest(const Request &request)
{
    QByteArray out = request.method.toUpper() + '\n' + canonicalPath(request.path) + '\n'
            + canonicalQuery(request.query) + '\n';
    for (const auto &[name, value] : canonicalHeaders(request))
        out += name + ':' + value + '\n';
    out += '\n' + signedHeaders(request) + '\n' + sha256Hex(request.payload);
    return out;
}

QByteArray SigV4Signer::scope(const QDateTime &now) const
{
    return amzDate(now).left(8) + '/' + m_region.toUtf8() + '/' + m_service.toUtf8()
            + "/aws4_request";
}

QByteArray SigV4Signer::stringToSign(const Request &request, const QDateTime &now) const
{
    return "AWS4-HMAC-SHA256\n" + amzDate(now) + '\n' + scope(now) + '\n'
            + sha256Hex(canonicalRequest(request));
}

QByteArray SigV4Signer::signingKey(const QString &secret, const QByteArray &date,
                                   const QString &region, const QString &service)
{
    const QByteArray kDate = hmac(QByteArray(QByteArray("AWS4") + secret.toUtf8()), date);
    const QByteArray kRegion = hmac(kDate, region.toUtf8());
    const QByteArray kService = hmac(kRegion, service.toUtf8());
    return hmac(kService, "aws4_request");
}

QByteArray SigV4Signer::authorization(const Request &request, const QDateTime &now) const
{
    const QByteArray key = signingKey(m_credentials.secretAccessKey, amzDate(now).left(8), m_region,
                                      m_service);
    const QByteArray signature = hmac(key, stringToSign(request, now)).toHex();
    return "AWS4-HMAC-SHA256 Credential=" + m_credentials.accessKeyId.toUtf8() + '/' + scope(now)
            + ", SignedHeaders=" + signedHeaders(request) + ", Signature=" + signature;
}

QByteArray SigV4Signer::sign(Request &request, const QDateTime &now) const
{
    request.headers.append({QByteArray("X-Amz-Date"), amzDate(now)});
    if (!m_credentials.sessionToken.isEmpty())
        request.headers.append(
                {QByteArray("X-Amz-Security-Token"), m_credentials.sessionToken.toUtf8()});
    return authorization(request, now);
}

} // namespace Providers
