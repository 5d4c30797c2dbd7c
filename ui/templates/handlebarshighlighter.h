#pragma once

#include <QSyntaxHighlighter>
#include <QTextCharFormat>

// Colours Handlebars tags ({{name}}, {{#block}}, {{/block}}, {{! comment}}, {{> partial}}) over
// HTML (tags, attributes, strings). A comment or tag may span lines: the block state carries it.
class HandlebarsHighlighter final : public QSyntaxHighlighter
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HandlebarsHighlighter)

public:
    explicit HandlebarsHighlighter(QTextDocument *document, bool html = true);

protected:
    void highlightBlock(const QString &text) override;

private:
    enum State { Normal = -1, InTag = 1, InComment = 2, InHtmlComment = 3 };
    void highlightHtml(const QString &text, int from, int to);
    bool m_html;
    QTextCharFormat m_mustache;
    QTextCharFormat m_block;
    QTextCharFormat m_comment;
    QTextCharFormat m_partial;
    QTextCharFormat m_htmlTag;
    QTextCharFormat m_htmlAttribute;
    QTextCharFormat m_string;
};
