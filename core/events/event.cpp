#include "event.h"

#include <QRegularExpression>

namespace Events {

namespace {
struct Name
{
    Type type;
    const char *name;
};
constexpr Name names[] = {
        {Type::Sent, "sent"},
        {Type::Delivered, "delivered"},
        {Type::Deferred, "deferred"},
        {Type::Bounced, "bounced"},
        {Type::Dropped, "dropped"},
        {Type::Complained, "complained"},
        {Type::Opened, "opened"},
        {Type::Clicked, "clicked"},
        {Type::Unsubscribed, "unsubscribed"},
        {Type::Unknown, "unknown"},
};
} // namespace

QString typeName(Type type)
{
    for (const Name &n : names) {
        if (n.type == type)
            return QLatin1String(n.name);
    }
    return QStringLiteral("unknown");
}

Type typeFromName(const QString &name)
{
    for (const Name &n : names) {
        if (name == QLatin1String(n.name))
            return n.type;
    }
    return Type::Unknown;
}

QString normaliseMessageId(const QString &id, const QString &source)
{
    QString s = id.trimmed();
    if (s.startsWith(u'<') && s.endsWith(u'>'))
        s = s.mid(1, s.size() - 2).trimmed();
    if (source == u"sendgrid") {
        const qsizetype dot = s.indexOf(u'.');
        if (dot > 0)
            s.truncate(dot);
    }
    return s;
}

bool isScannerUserAgent(const QString &userAgent)
{
    if (userAgent.isEmpty())
        return false;
    static const QRegularExpression scanners(
            QStringLiteral(
                    "bot\\b|spider|crawler|barracuda|proofpoint|mimecast|safelinks|"
                    "microsoft office protection|urldefense|symantec|trend ?micro|forcepoint|"
                    "sophos|fortinet|cisco|ironport|zscaler|checkpoint|bitdefender|"
                    "python-requests|python-urllib|curl/|wget/|go-http-client|java/|okhttp|"
                    "libwww|headlesschrome|phantomjs|slackbot|linkexpanding|preview"),
            QRegularExpression::CaseInsensitiveOption);
    return scanners.match(userAgent).hasMatch();
}

Common::Error malformed(const QString &provider, const QString &what)
{
    return Common::makeError(QStringLiteral("events.malformed"),
                             QStringLiteral("The %1 webhook body is not what %1 sends: %2.")
                                     .arg(provider, what));
}

Common::Result<QJsonDocument> parseJson(const QString &provider, const QByteArray &body)
{
    QJsonParseError error;
    QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError)
        return Common::fail(malformed(provider,
                                      QStringLiteral("invalid JSON (%1 at offset %2)")
                                              .arg(error.errorString())
                                              .arg(error.offset)));
    return doc;
}

QList<std::pair<qsizetype, qsizetype>> jsonArrayElements(const QByteArray &json)
{
    QList<std::pair<qsizetype, qsizetype>> elements;
    const char *const data = json.constData();
    const qsizetype size = json.size();
    auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    qsizetype i = 0;
    while (i < size && isSpace(data[i]))
        ++i;
    if (i == size || data[i] != '[')
        return {};
    ++i;
    int depth = 0;
    qsizetype begin = -1;
    qsizetype last = -1; // the last byte of the current element that is not white space
    for (; i < size; ++i) {
        const char c = data[i];
        if (c == '"') {
            if (begin < 0)
                begin = i;
            for (++i; i < size && data[i] != '"'; ++i) {
                if (data[i] == '\\')
                    ++i;
            }
            last = i;
            continue;
        }
        if (isSpace(c))
            continue;
        if (depth == 0 && (c == ',' || c == ']')) {
            if (begin >= 0)
                elements.append({begin, last + 1});
            begin = -1;
            if (c == ']')
                return elements;
            continue;
        }
        if (begin < 0)
            begin = i;
        if (c == '{' || c == '[')
            ++depth;
        else if (c == '}' || c == ']')
            --depth;
        last = i;
    }
    return {};
}

} // namespace Events
