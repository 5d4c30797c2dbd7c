#include "htmltotext.h"

#include <QHash>
#include <QList>
#include <QStringList>

namespace Templates {

namespace {

const QHash<QString, QString> &namedEntities()
{
    static const QHash<QString, QString> entities = [] {
        QHash<QString, QString> e;
        const struct
        {
            const char *name;
            char16_t ch;
        } table[] = {
                {"amp", u'&'},      {"lt", u'<'},       {"gt", u'>'},       {"quot", u'"'},
                {"apos", u'\''},    {"nbsp", 0x00A0},   {"copy", 0x00A9},   {"reg", 0x00AE},
                {"trade", 0x2122},  {"hellip", 0x2026}, {"mdash", 0x2014},  {"ndash", 0x2013},
                {"lsquo", 0x2018},  {"rsquo", 0x2019},  {"ldquo", 0x201C},  {"rdquo", 0x201D},
                {"sbquo", 0x201A},  {"bdquo", 0x201E},  {"bull", 0x2022},   {"middot", 0x00B7},
                {"euro", 0x20AC},   {"pound", 0x00A3},  {"yen", 0x00A5},    {"cent", 0x00A2},
                {"deg", 0x00B0},    {"times", 0x00D7},  {"divide", 0x00F7}, {"laquo", 0x00AB},
                {"raquo", 0x00BB},  {"zwnj", 0x200C},   {"zwj", 0x200D},    {"shy", 0x00AD},
                {"thinsp", 0x2009}, {"ensp", 0x2002},   {"emsp", 0x2003},   {"para", 0x00B6},
                {"sect", 0x00A7},   {"iexcl", 0x00A1},  {"iquest", 0x00BF}, {"auml", 0x00E4},
                {"ouml", 0x00F6},   {"uuml", 0x00FC},   {"Auml", 0x00C4},   {"Ouml", 0x00D6},
                {"Uuml", 0x00DC},   {"szlig", 0x00DF},  {"eacute", 0x00E9}, {"egrave", 0x00E8},
                {"ecirc", 0x00EA},  {"aacute", 0x00E1}, {"agrave", 0x00E0}, {"acirc", 0x00E2},
                {"iacute", 0x00ED}, {"oacute", 0x00F3}, {"uacute", 0x00FA}, {"ntilde", 0x00F1},
                {"ccedil", 0x00E7}, {"Eacute", 0x00C9}, {"oslash", 0x00F8}, {"aring", 0x00E5},
                {"aelig", 0x00E6},  {"rarr", 0x2192},   {"larr", 0x2190},   {"check", 0x2713},
                {"hearts", 0x2665}, {"star", 0x2606},   {"frac12", 0x00BD}, {"frac14", 0x00BC},
                {"plusmn", 0x00B1}, {"micro", 0x00B5},  {"prime", 0x2032},  {"Prime", 0x2033},
                {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"dagger", 0x2020}, {"permil", 0x2030},
        };
        for (const auto &entry : table)
            e.insert(QString::fromLatin1(entry.name), QString(QChar(entry.ch)));
        return e;
    }();
    return entities;
}

bool isBlockTag(QStringView tag)
{
    static const QStringList blocks = {
            QStringLiteral("p"),          QStringLiteral("div"),        QStringLiteral("h1"),
            QStringLiteral("h2"),         QStringLiteral("h3"),         QStringLiteral("h4"),
            QStringLiteral("h5"),         QStringLiteral("h6"),         QStringLiteral("ul"),
            QStringLiteral("ol"),         QStringLiteral("li"),         QStringLiteral("table"),
            QStringLiteral("tr"),         QStringLiteral("blockquote"), QStringLiteral("section"),
            QStringLiteral("article"),    QStringLiteral("header"),     QStringLiteral("footer"),
            QStringLiteral("center"),     QStringLiteral("pre"),        QStringLiteral("hr"),
            QStringLiteral("body"),       QStringLiteral("html"),       QStringLiteral("main"),
            QStringLiteral("nav"),        QStringLiteral("aside"),      QStringLiteral("dl"),
            QStringLiteral("dt"),         QStringLiteral("dd"),         QStringLiteral("figure"),
            QStringLiteral("figcaption"), QStringLiteral("address"),    QStringLiteral("tbody"),
            QStringLiteral("thead"),      QStringLiteral("tfoot"),
    };
    for (const QString &b : blocks) {
        if (tag == b)
            return true;
    }
    return false;
}

// Blank line after these; a single line break after the others.
bool isParagraphTag(QStringView tag)
{
    return tag == u"p" || (tag.size() == 2 && tag[0] == u'h' && tag[1] >= u'1' && tag[1] <= u'6')
            || tag == u"ul" || tag == u"ol" || tag == u"table" || tag == u"blockquote"
            || tag == u"pre" || tag == u"hr";
}

QString attribute(QStringView tagText, QStringView name)
{
    // tagText is the inside of the tag without "<" and ">".
    qsizetype i = 0;
    const qsizetype n = tagText.size();
    while (i < n && !tagText[i].isSpace() && tagText[i] != u'/')
        ++i; // the tag name
    while (i < n) {
        while (i < n && (tagText[i].isSpace() || tagText[i] == u'/'))
            ++i;
        const qsizetype nameStart = i;
        while (i < n && !tagText[i].isSpace() && tagText[i] != u'=' && tagText[i] != u'/')
            ++i;
        const QStringView attrName = tagText.mid(nameStart, i - nameStart);
        while (i < n && tagText[i].isSpace())
            ++i;
        QStringView value;
        if (i < n && tagText[i] == u'=') {
            ++i;
            while (i < n && tagText[i].isSpace())
                ++i;
            if (i < n && (tagText[i] == u'"' || tagText[i] == u'\'')) {
                const QChar q = tagText[i];
                const qsizetype end = tagText.indexOf(q, i + 1);
                const qsizetype stop = end < 0 ? n : end;
                value = tagText.mid(i + 1, stop - i - 1);
                i = stop + 1;
            } else {
                const qsizetype start = i;
                while (i < n && !tagText[i].isSpace())
                    ++i;
                value = tagText.mid(start, i - start);
            }
        }
        if (attrName.compare(name, Qt::CaseInsensitive) == 0)
            return HtmlToText::decodeEntities(value);
        if (attrName.isEmpty())
            ++i;
    }
    return {};
}

struct ListLevel
{
    bool ordered = false;
    int counter = 0;
};

class Converter
{
public:
    explicit Converter(int width)
        : m_width(width)
    { }

    QString run(const QString &html)
    {
        const qsizetype n = html.size();
        qsizetype i = 0;
        while (i < n) {
            if (html[i] == u'<') {
                if (QStringView(html).mid(i).startsWith(u"<!--")) {
                    const qsizetype end = html.indexOf(QStringLiteral("-->"), i + 4);
                    i = end < 0 ? n : end + 3;
                    continue;
                }
                const qsizetype end = html.indexOf(u'>', i + 1);
                if (end < 0) {
                    text(QStringView(html).mid(i));
                    break;
                }
                tag(QStringView(html).mid(i + 1, end - i - 1));
                i = end + 1;
                if (!m_skipUntil.isEmpty()) {
                    // Skip the content of style, script, head and title.
                    const qsizetype close = html.indexOf(QStringLiteral("</") + m_skipUntil, i,
                                                         Qt::CaseInsensitive);
                    if (close < 0) {
                        i = n;
                    } else {
                        const qsizetype gt = html.indexOf(u'>', close);
                        i = gt < 0 ? n : gt + 1;
                    }
                    m_skipUntil.clear();
                }
                continue;
            }
            const qsizetype next = html.indexOf(u'<', i);
            const qsizetype stop = next < 0 ? n : next;
            text(QStringView(html).mid(i, stop - i));
            i = stop;
        }
        flush();
        // Trailing spaces off, at most one blank line in a row, none at the ends.
        QStringList lines = m_out.split(u'\n');
        QStringList result;
        bool blank = true;
        for (QString &line : lines) {
            while (!line.isEmpty() && (line.back() == u' ' || line.back() == u'\t'))
                line.chop(1);
            if (line.isEmpty()) {
                if (!blank)
                    result << QString();
                blank = true;
            } else {
                result << line;
                blank = false;
            }
        }
        while (!result.isEmpty() && result.back().isEmpty())
            result.removeLast();
        return result.join(u'\n') + (result.isEmpty() ? QString() : QStringLiteral("\n"));
    }

private:
    void text(QStringView raw)
    {
        const QString decoded = HtmlToText::decodeEntities(raw);
        if (m_pre > 0) {
            m_para += decoded;
            return;
        }
        for (QChar c : decoded) {
            if (c.isSpace() && c != QChar(0x00A0)) {
                if (!m_para.isEmpty() && !m_para.back().isSpace())
                    m_para += u' ';
            } else if (c == QChar(0x00AD) || c == QChar(0x200C) || c == QChar(0x200B)) {
                continue; // invisible
            } else {
                m_para += (c == QChar(0x00A0)) ? QChar(u' ') : c;
            }
        }
    }

    void tag(QStringView inside)
    {
        bool closing = false;
        if (inside.startsWith(u'/')) {
            closing = true;
            inside = inside.mid(1);
        }
        if (inside.startsWith(u'!') || inside.startsWith(u'?'))
            return; // doctype, processing instruction
        qsizetype k = 0;
        while (k < inside.size() && (inside[k].isLetterOrNumber()))
            ++k;
        const QString name = inside.left(k).toString().toLower();
        if (!closing
            && (name == u"style" || name == u"script" || name == u"head" || name == u"title")) {
            if (!inside.endsWith(u'/'))
                m_skipUntil = name;
            return;
        }
        if (name == u"br") {
            m_para += u'\n';
            return;
        }
        if (name == u"img" && !closing) {
            const QString alt = attribute(inside, u"alt").simplified();
            if (!alt.isEmpty())
                text(alt);
            return;
        }
        if (name == u"a") {
            if (!closing) {
                m_links.append({attribute(inside, u"href").trimmed(), m_para.size()});
            } else if (!m_links.isEmpty()) {
                const auto link = m_links.takeLast();
                const QString label = m_para.mid(link.second).trimmed();
                QString href = link.first;
                const bool useless = href.isEmpty() || href.startsWith(u'#')
                        || href.startsWith(QLatin1String("javascript:"), Qt::CaseInsensitive);
                QString shown = href;
                if (shown.startsWith(QLatin1String("mailto:"), Qt::CaseInsensitive))
                    shown = shown.mid(7);
                if (!useless && shown != label) {
                    if (!m_para.isEmpty() && !m_para.back().isSpace())
                        m_para += u' ';
                    m_para += u'(' + href + u')';
                }
            }
            return;
        }
        if (name == u"td" || name == u"th") {
            if (!closing && !m_para.isEmpty() && !m_para.back().isSpace())
                m_para += u' ';
            return;
        }
        if (!isBlockTag(name))
            return;
        if (name == u"pre")
            m_pre += closing ? -1 : 1;
        if (name == u"ul" || name == u"ol") {
            flush();
            if (closing) {
                if (!m_lists.isEmpty())
                    m_lists.removeLast();
            } else {
                m_lists.append({name == u"ol", 0});
            }
            paragraphBreak(m_lists.isEmpty());
            return;
        }
        if (name == u"li") {
            flush();
            if (!closing) {
                if (m_lists.isEmpty())
                    m_lists.append({false, 0});
                ListLevel &level = m_lists.last();
                ++level.counter;
                m_bullet = level.ordered ? QString::number(level.counter) + QStringLiteral(". ")
                                         : QStringLiteral("* ");
            }
            return;
        }
        if (name == u"hr") {
            flush();
            paragraphBreak(true);
            m_out += QString(qMin(m_width, 40), u'-') + u'\n';
            paragraphBreak(true);
            return;
        }
        flush();
        const bool heading = name.size() == 2 && name[0] == u'h' && name[1].isDigit();
        if (heading && !closing)
            m_heading = name[1].digitValue();
        if (heading && closing)
            m_heading = 0;
        paragraphBreak(isParagraphTag(name));
    }

    void paragraphBreak(bool blankLine)
    {
        if (m_out.isEmpty())
            return;
        if (!m_out.endsWith(u'\n'))
            m_out += u'\n';
        if (blankLine && !m_out.endsWith(QStringLiteral("\n\n")))
            m_out += u'\n';
    }

    void flush()
    {
        QString para = m_para;
        m_para.clear();
        if (m_pre > 0 || para.contains(u'\n')) {
            // Explicit line breaks (<br>, <pre>) stay; each line is wrapped on its own.
        }
        const QStringList lines = para.split(u'\n');
        bool any = false;
        for (const QString &l : lines) {
            if (!l.trimmed().isEmpty())
                any = true;
        }
        if (!any) {
            if (!m_bullet.isEmpty() && para.isEmpty())
                return;
            return;
        }
        const int depth = int(m_lists.size());
        const QString indent = depth > 1 ? QString((depth - 1) * 2, u' ') : QString();
        QString first = indent + m_bullet;
        const QString rest = indent + QString(m_bullet.size(), u' ');
        m_bullet.clear();
        if (!m_out.isEmpty() && !m_out.endsWith(u'\n'))
            m_out += u'\n';
        for (qsizetype li = 0; li < lines.size(); ++li) {
            QString line = m_pre > 0 ? lines[li] : lines[li].trimmed();
            if (m_heading == 1)
                line = line.toUpper();
            wrap(line, li == 0 ? first : rest, rest);
        }
    }

    void wrap(const QString &text, const QString &firstPrefix, const QString &prefix)
    {
        if (m_pre > 0) {
            m_out += firstPrefix + text + u'\n';
            return;
        }
        const QStringList words = text.split(u' ', Qt::SkipEmptyParts);
        QString line = firstPrefix;
        bool lineHasWord = false;
        for (const QString &w : words) {
            if (lineHasWord && line.size() + 1 + w.size() > m_width) {
                m_out += line + u'\n';
                line = prefix;
                lineHasWord = false;
            }
            if (lineHasWord)
                line += u' ';
            line += w;
            lineHasWord = true;
        }
        m_out += line + u'\n';
    }

    int m_width;
    QString m_out;
    QString m_para;
    QString m_bullet;
    QString m_skipUntil;
    QList<ListLevel> m_lists;
    QList<QPair<QString, qsizetype>> m_links;
    int m_pre = 0;
    int m_heading = 0;
};

} // namespace

QString HtmlToText::decodeEntities(QStringView text)
{
    if (!text.contains(u'&'))
        return text.toString();
    QString out;
    out.reserve(text.size());
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        if (text[i] != u'&') {
            out += text[i];
            continue;
        }
        const qsizetype semi = text.indexOf(u';', i + 1);
        if (semi < 0 || semi - i > 12) {
            out += text[i];
            continue;
        }
        const QStringView name = text.mid(i + 1, semi - i - 1);
        if (name.startsWith(u'#')) {
            bool ok = false;
            uint cp = 0;
            if (name.size() > 1 && (name[1] == u'x' || name[1] == u'X'))
                cp = name.mid(2).toUInt(&ok, 16);
            else
                cp = name.mid(1).toUInt(&ok, 10);
            if (ok && cp > 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
                const char32_t c = char32_t(cp);
                out += QString::fromUcs4(&c, 1);
                i = semi;
                continue;
            }
        } else {
            auto it = namedEntities().constFind(name.toString());
            if (it != namedEntities().constEnd()) {
                out += *it;
                i = semi;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

QString HtmlToText::convert(const QString &html, int width)
{
    return Converter(width).run(html);
}

} // namespace Templates
