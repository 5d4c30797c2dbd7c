#include "presendchecks.h"

#include "htmltotext.h"

#include "common/logging.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QObject>
#include <QRegularExpression>
#include <QUrl>

namespace Templates {

namespace {

CheckFinding finding(CheckFinding::Severity severity, const char *code, const QString &message,
                     const QString &url = {})
{
    return CheckFinding{severity, QString::fromLatin1(code), message, url};
}

QString shortened(const QString &s, int max = 60)
{
    return s.size() <= max ? s : s.left(max - 1) + QChar(0x2026);
}

// The text between an <a> tag and its </a>, without tags.
QString linkText(const QString &html, const HtmlTag &tag)
{
    const qsizetype close = html.indexOf(QLatin1String("</a"), tag.end, Qt::CaseInsensitive);
    if (close < 0)
        return {};
    static const QRegularExpression tags(QStringLiteral("<[^>]*>"));
    QString inner = html.mid(tag.end, close - tag.end);
    inner.remove(tags);
    return HtmlToText::decodeEntities(inner).simplified();
}

// CSS of the document: <style> blocks and style="" attributes.
struct Css
{
    QString sheets;
    QString inlineStyles;
};

Css collectCss(const QString &html, const QList<HtmlTag> &tags)
{
    Css css;
    for (const HtmlTag &tag : tags) {
        if (tag.name == u"style") {
            const qsizetype close = html.indexOf(QLatin1String("</style"), tag.end,
                                                 Qt::CaseInsensitive);
            css.sheets += html.mid(tag.end, close < 0 ? -1 : close - tag.end);
            css.sheets += u'\n';
        } else if (tag.hasAttribute(QStringLiteral("style"))) {
            css.inlineStyles += tag.attribute(QStringLiteral("style"));
            css.inlineStyles += QLatin1String(";\n");
        }
    }
    return css;
}

// How a CSS feature shows in a style sheet or a style attribute.
QRegularExpression cssPattern(const QString &kind, const QString &name)
{
    QString pattern;
    const QString escaped = QRegularExpression::escape(name);
    if (kind == u"css-property") {
        pattern = QStringLiteral("(?<![\\w-])%1\\s*:").arg(escaped);
    } else if (kind == u"css-value") {
        const QStringList pv = name.split(u':');
        pattern = QStringLiteral("(?<![\\w-])%1\\s*:\\s*%2(?![\\w-])")
                          .arg(QRegularExpression::escape(pv.value(0)),
                               QRegularExpression::escape(pv.value(1)));
    } else if (kind == u"css-function") {
        pattern = QStringLiteral("(?<![\\w-])%1\\(").arg(escaped);
    } else if (kind == u"css-at-rule") {
        pattern = QStringLiteral("@%1(?![\\w-])").arg(escaped);
    } else if (kind == u"css-pseudo") {
        pattern = QStringLiteral(":%1(?![\\w-])").arg(escaped);
    } else {
        return {};
    }
    QRegularExpression re(pattern, QRegularExpression::CaseInsensitiveOption);
    re.optimize();
    return re;
}

} // namespace

bool HtmlTag::hasAttribute(const QString &attributeName) const
{
    for (const auto &[key, value] : attributes) {
        if (key == attributeName)
            return true;
    }
    return false;
}

QString HtmlTag::attribute(const QString &attributeName) const
{
    for (const auto &[key, value] : attributes) {
        if (key == attributeName)
            return value;
    }
    return {};
}

QList<HtmlTag> scanHtmlTags(const QString &html)
{
    QList<HtmlTag> tags;
    const qsizetype n = html.size();
    qsizetype i = 0;
    while (i < n) {
        const qsizetype lt = html.indexOf(u'<', i);
        if (lt < 0 || lt + 1 >= n)
            break;
        if (html.mid(lt, 4) == QLatin1String("<!--")) {
            const qsizetype end = html.indexOf(QLatin1String("-->"), lt + 4);
            i = end < 0 ? n : end + 3;
            continue;
        }
        if (!html.at(lt + 1).isLetter()) {
            i = lt + 1;
            continue;
        }
        HtmlTag tag;
        tag.position = lt;
        qsizetype p = lt + 1;
        while (p < n && (html.at(p).isLetterOrNumber() || html.at(p) == u'-' || html.at(p) == u':'))
            ++p;
        tag.name = html.mid(lt + 1, p - lt - 1).toLower();
        // Attributes: name, name=value, name="value", name='value' (HTML Living Standard 13.1.2.3).
        while (p < n) {
            while (p < n && (html.at(p).isSpace() || html.at(p) == u'/'))
                ++p;
            if (p >= n || html.at(p) == u'>')
                break;
            const qsizetype nameStart = p;
            while (p < n && !html.at(p).isSpace() && html.at(p) != u'=' && html.at(p) != u'>'
                   && html.at(p) != u'/')
                ++p;
            QString name = html.mid(nameStart, p - nameStart).toLower();
            while (p < n && html.at(p).isSpace())
                ++p;
            QString value;
            if (p < n && html.at(p) == u'=') {
                ++p;
                while (p < n && html.at(p).isSpace())
                    ++p;
                if (p < n && (html.at(p) == u'"' || html.at(p) == u'\'')) {
                    const QChar quote = html.at(p);
                    const qsizetype close = html.indexOf(quote, p + 1);
                    const qsizetype valueEnd = close < 0 ? n : close;
                    value = html.mid(p + 1, valueEnd - p - 1);
                    p = close < 0 ? n : close + 1;
                } else {
                    const qsizetype valueStart = p;
                    while (p < n && !html.at(p).isSpace() && html.at(p) != u'>')
                        ++p;
                    value = html.mid(valueStart, p - valueStart);
                }
            }
            if (!name.isEmpty())
                tag.attributes.append({name, HtmlToText::decodeEntities(value)});
        }
        tag.end = p < n ? p + 1 : n;
        tags.append(std::move(tag));
        i = tags.constLast().end;
        // Raw text elements: what is inside is not markup.
        const QString &last = tags.constLast().name;
        if (last == u"style" || last == u"script" || last == u"title" || last == u"textarea") {
            const qsizetype close = html.indexOf(QLatin1String("</") + last, i, Qt::CaseInsensitive);
            i = close < 0 ? n : close;
        }
    }
    return tags;
}

QList<CheckFinding> PreSendChecks::run(const Input &input)
{
    QList<CheckFinding> out;
    out += missingVariables(input.missingVariables);
    out += links(input.html);
    out += images(input.html);
    out += size(input.html);
    out += textPart(input.html, input.text, input.hasTextBody);
    out += unsubscribe(input.kind, input.html);
    out += clientSupport(input.html);
    return out;
}

QList<CheckFinding> PreSendChecks::missingVariables(const QStringList &missing)
{
    QList<CheckFinding> out;
    for (const QString &name : missing) {
        out.append(finding(CheckFinding::Severity::Error, "missing-variable",
                           QObject::tr("{{%1}} has no value in the sample data and no fallback: "
                                       "recipients without it see nothing there. Add it to the "
                                       "data or use {{default %1 \"...\"}}.")
                                   .arg(name)));
    }
    return out;
}

QList<CheckFinding> PreSendChecks::links(const QString &html)
{
    QList<CheckFinding> out;
    static const QStringList unsafeSchemes = {QStringLiteral("javascript"),
                                              QStringLiteral("vbscript"), QStringLiteral("data"),
                                              QStringLiteral("file")};
    static const QStringList fineSchemes = {QStringLiteral("http"), QStringLiteral("https"),
                                            QStringLiteral("mailto"), QStringLiteral("tel"),
                                            QStringLiteral("sms")};
    for (const HtmlTag &tag : scanHtmlTags(html)) {
        if (tag.name != u"a" || !tag.hasAttribute(QStringLiteral("href")))
            continue;
        // Browsers drop tabs and line breaks inside URLs and ignore surrounding spaces (WHATWG
        // URL standard), which is how "java\nscript:" slips past naive filters.
        QString href = tag.attribute(QStringLiteral("href")).trimmed();
        QString compact = href;
        compact.remove(u'\t').remove(u'\n').remove(u'\r');
        const qsizetype colon = compact.indexOf(u':');
        const QString scheme = colon > 0 ? compact.left(colon).trimmed().toLower() : QString();
        if (unsafeSchemes.contains(scheme)) {
            out.append(finding(CheckFinding::Severity::Error, "link-unsafe",
                               QObject::tr("Unsafe link \"%1\": %2: links run code or hide their "
                                           "target, and mail clients block or flag them.")
                                       .arg(shortened(href), scheme)));
            continue;
        }
        if (href.isEmpty()) {
            out.append(finding(CheckFinding::Severity::Warning, "link-malformed",
                               QObject::tr("A link has an empty address.")));
            continue;
        }
        if (href.startsWith(u'#'))
            continue;
        const QUrl url(compact, QUrl::StrictMode);
        if (!url.isValid() || scheme.isEmpty() || !fineSchemes.contains(scheme)
            || ((scheme == u"http" || scheme == u"https") && url.host().isEmpty())
            || compact.contains(u' ')) {
            out.append(finding(CheckFinding::Severity::Warning, "link-malformed",
                               QObject::tr("Malformed link \"%1\": an email link needs a full "
                                           "address such as https://example.org/page.")
                                       .arg(shortened(href))));
        }
    }
    return out;
}

QList<CheckFinding> PreSendChecks::images(const QString &html)
{
    QList<CheckFinding> out;
    for (const HtmlTag &tag : scanHtmlTags(html)) {
        if (tag.name != u"img" || tag.hasAttribute(QStringLiteral("alt")))
            continue;
        out.append(finding(CheckFinding::Severity::Warning, "image-no-alt",
                           QObject::tr("Image \"%1\" has no alt text: with images blocked, and "
                                       "for screen readers, it shows nothing. Use alt=\"\" for "
                                       "decoration.")
                                   .arg(shortened(tag.attribute(QStringLiteral("src"))))));
    }
    return out;
}

QList<CheckFinding> PreSendChecks::size(const QString &html)
{
    const qsizetype bytes = html.toUtf8().size();
    const QString kb = QString::number(double(bytes) / 1024.0, 'f', 1);
    if (bytes > gmailClipBytes) {
        return {finding(CheckFinding::Severity::Error, "html-clipped",
                        QObject::tr("The HTML is %1 KB: Gmail clips messages over 102 KB and "
                                    "hides the rest, unsubscribe link included.")
                                .arg(kb))};
    }
    if (bytes >= sizeWarningBytes) {
        return {finding(CheckFinding::Severity::Warning, "html-size",
                        QObject::tr("The HTML is %1 KB, close to Gmail's 102 KB clipping point.")
                                .arg(kb))};
    }
    return {finding(CheckFinding::Severity::Info, "html-size",
                    bytes < 1024
                            ? QObject::tr("The HTML is %1 bytes (Gmail clips at 102 KB).").arg(bytes)
                            : QObject::tr("The HTML is %1 KB (Gmail clips at 102 KB).").arg(kb))};
}

QList<CheckFinding> PreSendChecks::textPart(const QString &html, const QString &text,
                                            bool hasTextBody)
{
    if (!hasTextBody && !html.trimmed().isEmpty()) {
        return {finding(CheckFinding::Severity::Warning, "no-text-part",
                        QObject::tr("There is no text part: one is generated from the HTML. "
                                    "Check it in the Text tab, or write one."))};
    }
    if (text.trimmed().isEmpty()) {
        return {finding(CheckFinding::Severity::Warning, "no-text-part",
                        QObject::tr("The text part is empty: spam filters and text-only "
                                    "clients expect one."))};
    }
    return {};
}

QList<CheckFinding> PreSendChecks::unsubscribe(const QString &kind, const QString &html)
{
    if (kind != u"marketing")
        return {};
    for (const HtmlTag &tag : scanHtmlTags(html)) {
        if (tag.name != u"a")
            continue;
        const QString href = tag.attribute(QStringLiteral("href"));
        if (href.contains(QLatin1String("unsubscribe"), Qt::CaseInsensitive)
            || linkText(html, tag).contains(QLatin1String("unsubscribe"), Qt::CaseInsensitive))
            return {};
    }
    return {finding(CheckFinding::Severity::Error, "no-unsubscribe",
                    QObject::tr("A marketing message needs an unsubscribe link (a link whose "
                                "address or text says \"unsubscribe\"); Gmail and Yahoo require "
                                "one for bulk senders."))};
}

QList<CheckFinding> PreSendChecks::clientSupport(const QString &html)
{
    const CanIEmail &data = CanIEmail::bundled();
    QList<CheckFinding> out;
    for (const CanIEmail::Detected &found : data.detect(html)) {
        QStringList no;
        QStringList partial;
        for (qsizetype i = 0; i < data.clients().size() && i < found.feature->support.size(); ++i) {
            if (found.feature->support.at(i) == CanIEmail::Support::No)
                no.append(data.clients().at(i).label);
            else if (found.feature->support.at(i) == CanIEmail::Support::Partial)
                partial.append(data.clients().at(i).label);
        }
        if (no.isEmpty() && partial.isEmpty())
            continue;
        QStringList parts;
        if (!no.isEmpty())
            parts.append(QObject::tr("not supported in %1").arg(no.join(QStringLiteral(", "))));
        if (!partial.isEmpty())
            parts.append(QObject::tr("partly in %1").arg(partial.join(QStringLiteral(", "))));
        out.append(finding(no.isEmpty() ? CheckFinding::Severity::Info
                                        : CheckFinding::Severity::Warning,
                           "client-support",
                           QObject::tr("%1 (%2): %3.")
                                   .arg(found.feature->title, found.match,
                                        parts.join(QStringLiteral("; "))),
                           found.feature->url));
    }
    return out;
}

const CanIEmail &CanIEmail::bundled()
{
    static const CanIEmail data;
    return data;
}

CanIEmail::CanIEmail()
{
    QFile file(QStringLiteral(":/caniemail/caniemail.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        qCWarning(lcTemplates) << "the Can I Email data is not bundled";
        return;
    }
    const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    m_package = root.value(u"package").toString();
    const QJsonObject clients = root.value(u"clients").toObject();
    // The order the generator wrote, which QJsonObject does not keep: fixed here.
    for (const char *key : {"gmail", "outlook-windows", "apple-mail", "yahoo"}) {
        const QString k = QString::fromLatin1(key);
        m_clients.append({k, clients.value(k).toString(k)});
    }
    const QJsonArray features = root.value(u"features").toArray();
    for (const QJsonValue &v : features) {
        const QJsonObject o = v.toObject();
        Feature f;
        f.slug = o.value(u"slug").toString();
        f.title = o.value(u"title").toString();
        f.url = o.value(u"url").toString();
        f.kind = o.value(u"kind").toString();
        for (const QJsonValue &name : o.value(u"names").toArray())
            f.names.append(name.toString());
        const QJsonObject support = o.value(u"support").toObject();
        for (const Client &client : std::as_const(m_clients)) {
            const QString s = support.value(client.key).toString();
            f.support.append(s == u"y"           ? Support::Yes
                                     : s == u"a" ? Support::Partial
                                     : s == u"n" ? Support::No
                                                 : Support::Unknown);
        }
        for (const QString &name : std::as_const(f.names))
            f.patterns.append(cssPattern(f.kind, name));
        m_features.append(std::move(f));
    }
}

QList<CanIEmail::Detected> CanIEmail::detect(const QString &html) const
{
    const QList<HtmlTag> tags = scanHtmlTags(html);
    const Css css = collectCss(html, tags);
    const QString allCss = css.sheets + u'\n' + css.inlineStyles;
    QList<Detected> out;
    for (const Feature &f : m_features) {
        QString match;
        for (qsizetype i = 0; i < f.names.size(); ++i) {
            const QString &name = f.names.at(i);
            const QRegularExpression &re = f.patterns.at(i);
            if (f.kind == u"css-property") {
                if (re.match(allCss).hasMatch())
                    match = name;
            } else if (f.kind == u"css-value") {
                if (re.match(allCss).hasMatch())
                    match = QString(name).replace(u':', QStringLiteral(": "));
            } else if (f.kind == u"css-function") {
                if (re.match(allCss).hasMatch())
                    match = name + QStringLiteral("()");
            } else if (f.kind == u"css-at-rule") {
                if (re.match(css.sheets).hasMatch())
                    match = u'@' + name;
            } else if (f.kind == u"css-pseudo") {
                if (re.match(css.sheets).hasMatch())
                    match = u':' + name;
            } else if (f.kind == u"html-element") {
                for (const HtmlTag &tag : tags) {
                    if (tag.name == name) {
                        match = u'<' + name + u'>';
                        break;
                    }
                }
            } else if (f.kind == u"html-attribute") {
                for (const HtmlTag &tag : tags) {
                    if (tag.hasAttribute(name)) {
                        match = name + QStringLiteral("=\"\"");
                        break;
                    }
                }
            } else if (f.kind == u"image-extension") {
                for (const HtmlTag &tag : tags) {
                    if (tag.name != u"img")
                        continue;
                    const QString path = QUrl(tag.attribute(QStringLiteral("src"))).path().toLower();
                    if (path.endsWith(u'.' + name)) {
                        match = QStringLiteral(".") + name + QStringLiteral(" image");
                        break;
                    }
                }
            }
            if (!match.isEmpty())
                break;
        }
        if (!match.isEmpty())
            out.append({&f, match});
    }
    return out;
}

} // namespace Templates
