#include "handlebarshighlighter.h"

#include <QColor>

HandlebarsHighlighter::HandlebarsHighlighter(QTextDocument *document, bool html)
    : QSyntaxHighlighter(document)
    , m_html(html)
{
    m_mustache.setForeground(QColor(0x1f, 0x6f, 0xeb));
    m_mustache.setFontWeight(QFont::DemiBold);
    m_block.setForeground(QColor(0x8a, 0x3f, 0xc7));
    m_block.setFontWeight(QFont::Bold);
    m_comment.setForeground(QColor(0x6a, 0x73, 0x7d));
    m_comment.setFontItalic(true);
    m_partial.setForeground(QColor(0xb3, 0x5c, 0x00));
    m_htmlTag.setForeground(QColor(0x22, 0x86, 0x3a));
    m_htmlAttribute.setForeground(QColor(0x95, 0x6d, 0x00));
    m_string.setForeground(QColor(0x03, 0x2f, 0x62));
}

void HandlebarsHighlighter::highlightBlock(const QString &text)
{
    int i = 0;
    const int n = int(text.size());
    int state = previousBlockState();
    // Continue what the previous line left open.
    if (state == InComment) {
        const int end = int(text.indexOf(QLatin1String("}}"), 0));
        if (end < 0) {
            setFormat(0, n, m_comment);
            setCurrentBlockState(InComment);
            return;
        }
        setFormat(0, end + 2, m_comment);
        i = end + 2;
    } else if (state == InTag) {
        const int end = int(text.indexOf(QLatin1String("}}"), 0));
        if (end < 0) {
            setFormat(0, n, m_mustache);
            setCurrentBlockState(InTag);
            return;
        }
        setFormat(0, end + 2, m_mustache);
        i = end + 2;
    } else if (state == InHtmlComment) {
        const int end = int(text.indexOf(QLatin1String("-->"), 0));
        if (end < 0) {
            setFormat(0, n, m_comment);
            setCurrentBlockState(InHtmlComment);
            return;
        }
        setFormat(0, end + 3, m_comment);
        i = end + 3;
    }
    setCurrentBlockState(Normal);
    while (i < n) {
        const int open = int(text.indexOf(QLatin1String("{{"), i));
        const int htmlComment = m_html ? int(text.indexOf(QLatin1String("<!--"), i)) : -1;
        if (htmlComment >= 0 && (open < 0 || htmlComment < open)) {
            highlightHtml(text, i, htmlComment);
            const int end = int(text.indexOf(QLatin1String("-->"), htmlComment + 4));
            if (end < 0) {
                setFormat(htmlComment, n - htmlComment, m_comment);
                setCurrentBlockState(InHtmlComment);
                return;
            }
            setFormat(htmlComment, end + 3 - htmlComment, m_comment);
            i = end + 3;
            continue;
        }
        if (open < 0) {
            highlightHtml(text, i, n);
            return;
        }
        highlightHtml(text, i, open);
        int p = open + 2;
        while (p < n && (text.at(p) == u'{' || text.at(p) == u'~' || text.at(p) == u'&'))
            ++p;
        const QChar sigil = p < n ? text.at(p) : QChar();
        const bool comment = sigil == u'!';
        const QTextCharFormat &format = comment                     ? m_comment
                : (sigil == u'#' || sigil == u'/' || sigil == u'^') ? m_block
                : sigil == u'>'                                     ? m_partial
                                                                    : m_mustache;
        const int close = int(text.indexOf(QLatin1String("}}"), p));
        if (close < 0) {
            setFormat(open, n - open, format);
            setCurrentBlockState(comment ? InComment : InTag);
            return;
        }
        int end = close + 2;
        while (end < n && text.at(end) == u'}')
            ++end;
        setFormat(open, end - open, format);
        i = end;
    }
}

void HandlebarsHighlighter::highlightHtml(const QString &text, int from, int to)
{
    if (!m_html)
        return;
    int i = from;
    while (i < to) {
        const int lt = int(text.indexOf(u'<', i));
        if (lt < 0 || lt >= to)
            return;
        int gt = int(text.indexOf(u'>', lt));
        if (gt < 0 || gt >= to)
            gt = to - 1;
        int p = lt + 1;
        if (p < to && text.at(p) == u'/')
            ++p;
        while (p <= gt && (text.at(p).isLetterOrNumber() || text.at(p) == u'-'))
            ++p;
        setFormat(lt, p - lt, m_htmlTag);
        // Attributes and their quoted values up to '>'.
        while (p <= gt) {
            const QChar c = text.at(p);
            if (c == u'"' || c == u'\'') {
                int close = int(text.indexOf(c, p + 1));
                if (close < 0 || close > gt)
                    close = gt;
                setFormat(p, close - p + 1, m_string);
                p = close + 1;
            } else if (c.isLetter()) {
                const int start = p;
                while (p <= gt && (text.at(p).isLetterOrNumber() || text.at(p) == u'-'))
                    ++p;
                setFormat(start, p - start, m_htmlAttribute);
            } else {
                ++p;
            }
        }
        if (text.at(gt) == u'>')
            setFormat(gt, 1, m_htmlTag);
        i = gt + 1;
    }
}
