#include "codeeditor.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QFontDatabase>
#include <QHelpEvent>
#include <QPainter>
#include <QScrollBar>
#include <QStringListModel>
#include <QTextBlock>
#include <QToolTip>

namespace {

class LineNumberArea final : public QWidget
{
public:
    explicit LineNumberArea(CodeEditor *editor)
        : QWidget(editor)
        , m_editor(editor)
    { }
    QSize sizeHint() const override { return {m_editor->lineNumberAreaWidth(), 0}; }

protected:
    void paintEvent(QPaintEvent *event) override { m_editor->paintLineNumbers(event); }

private:
    CodeEditor *m_editor;
};

} // namespace

CodeEditor::CodeEditor(QWidget *parent)
    : QPlainTextEdit(parent)
{
    QFont font = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    font.setPointSize(10);
    setFont(font);
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setTabStopDistance(QFontMetricsF(font).horizontalAdvance(u' ') * 2);
    m_lineNumbers = new LineNumberArea(this);
    connect(this, &QPlainTextEdit::blockCountChanged, this, [this](int count) {
        const int digits = int(QString::number(std::max(1, count)).size());
        if (digits != m_lineCountDigits) {
            m_lineCountDigits = digits;
            setViewportMargins(lineNumberAreaWidth(), 0, 0, 0);
        }
    });
    connect(this, &QPlainTextEdit::updateRequest, this, &CodeEditor::handleUpdateRequest);
    connect(this, &QPlainTextEdit::cursorPositionChanged, this, &CodeEditor::handleCursorMoved);
    setViewportMargins(lineNumberAreaWidth(), 0, 0, 0);

    m_completionModel = new QStringListModel(this);
    m_completer = new QCompleter(m_completionModel, this);
    m_completer->setWidget(this);
    m_completer->setCompletionMode(QCompleter::PopupCompletion);
    m_completer->setCaseSensitivity(Qt::CaseInsensitive);
    m_completer->setFilterMode(Qt::MatchContains);
    connect(m_completer, qOverload<const QString &>(&QCompleter::activated), this,
            &CodeEditor::handleCompletionChosen);
}

int CodeEditor::lineNumberAreaWidth() const
{
    // Room for the digits and the error marker.
    return 14 + fontMetrics().horizontalAdvance(u'9') * std::max(3, m_lineCountDigits);
}

void CodeEditor::resizeEvent(QResizeEvent *event)
{
    QPlainTextEdit::resizeEvent(event);
    const QRect r = contentsRect();
    m_lineNumbers->setGeometry(QRect(r.left(), r.top(), lineNumberAreaWidth(), r.height()));
}

void CodeEditor::handleUpdateRequest(const QRect &rect, int dy)
{
    if (dy)
        m_lineNumbers->scroll(0, dy);
    else
        m_lineNumbers->update(0, rect.y(), m_lineNumbers->width(), rect.height());
}

void CodeEditor::paintLineNumbers(QPaintEvent *event)
{
    QPainter painter(m_lineNumbers);
    painter.fillRect(event->rect(), QColor(0xf3, 0xf4, 0xf6));
    QTextBlock block = firstVisibleBlock();
    int number = block.blockNumber() + 1;
    int top = qRound(blockBoundingGeometry(block).translated(contentOffset()).top());
    int bottom = top + qRound(blockBoundingRect(block).height());
    const int current = textCursor().blockNumber() + 1;
    while (block.isValid() && top <= event->rect().bottom()) {
        if (block.isVisible() && bottom >= event->rect().top()) {
            if (number == m_errorLine) {
                painter.fillRect(0, top, m_lineNumbers->width(), bottom - top,
                                 QColor(0xfd, 0xe2, 0xe1));
                painter.setBrush(QColor(0xd1, 0x24, 0x2f));
                painter.setPen(Qt::NoPen);
                const int d = std::min(8, bottom - top - 4);
                painter.drawEllipse(3, top + (bottom - top - d) / 2, d, d);
            }
            painter.setPen(number == current ? QColor(0x1f, 0x23, 0x28) : QColor(0x8c, 0x95, 0x9f));
            painter.drawText(0, top, m_lineNumbers->width() - 4, fontMetrics().height(),
                             Qt::AlignRight, QString::number(number));
        }
        block = block.next();
        top = bottom;
        bottom = top + qRound(blockBoundingRect(block).height());
        ++number;
    }
}

void CodeEditor::setErrorMarker(int line, int column, const QString &message)
{
    if (line == m_errorLine && column == m_errorColumn && message == m_errorMessage)
        return;
    m_errorLine = line;
    m_errorColumn = column;
    m_errorMessage = message;
    updateExtraSelections();
    m_lineNumbers->update();
}

void CodeEditor::setCompletions(const QStringList &names)
{
    if (names == m_completionNames)
        return;
    m_completionNames = names;
    m_completionModel->setStringList(names);
}

void CodeEditor::handleCursorMoved()
{
    // The {{ ... }} around the cursor, searched on the current line only.
    const QTextCursor cursor = textCursor();
    const QTextBlock block = cursor.block();
    const QString text = block.text();
    const int col = cursor.positionInBlock();
    std::pair<int, int> braces{-1, -1};
    const qsizetype open = text.lastIndexOf(QLatin1String("{{"), std::max(0, col - 1));
    if (open >= 0) {
        const qsizetype close = text.indexOf(QLatin1String("}}"), open + 2);
        const qsizetype previousClose = text.lastIndexOf(QLatin1String("}}"), std::max(0, col - 2));
        if (close >= 0 && close + 2 >= col && (previousClose < open || previousClose == close))
            braces = {block.position() + int(open), block.position() + int(close)};
    }
    if (braces != m_braces) {
        m_braces = braces;
        updateExtraSelections();
    } else {
        m_lineNumbers->update();
    }
}

void CodeEditor::updateExtraSelections()
{
    QList<QTextEdit::ExtraSelection> selections;
    if (m_errorLine > 0) {
        const QTextBlock block = document()->findBlockByNumber(m_errorLine - 1);
        if (block.isValid()) {
            QTextEdit::ExtraSelection line;
            line.format.setBackground(QColor(0xff, 0xf0, 0xef));
            line.format.setProperty(QTextFormat::FullWidthSelection, true);
            line.cursor = QTextCursor(block);
            selections.append(line);
            QTextEdit::ExtraSelection at;
            at.format.setUnderlineStyle(QTextCharFormat::WaveUnderline);
            at.format.setUnderlineColor(QColor(0xd1, 0x24, 0x2f));
            at.format.setBackground(QColor(0xff, 0xc1, 0xc0));
            at.format.setToolTip(m_errorMessage);
            QTextCursor c(block);
            const int column = std::clamp(m_errorColumn - 1, 0, std::max(0, block.length() - 2));
            c.setPosition(block.position() + column);
            c.movePosition(QTextCursor::EndOfWord, QTextCursor::KeepAnchor);
            if (!c.hasSelection())
                c.movePosition(QTextCursor::NextCharacter, QTextCursor::KeepAnchor);
            at.cursor = c;
            selections.append(at);
        }
    }
    if (m_braces.first >= 0) {
        for (int pos : {m_braces.first, m_braces.second}) {
            QTextEdit::ExtraSelection brace;
            brace.format.setBackground(QColor(0xc8, 0xe1, 0xff));
            QTextCursor c(document());
            c.setPosition(pos);
            c.setPosition(pos + 2, QTextCursor::KeepAnchor);
            brace.cursor = c;
            selections.append(brace);
        }
    }
    setExtraSelections(selections);
}

bool CodeEditor::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip && m_errorLine > 0) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QTextCursor c = cursorForPosition(viewport()->mapFromGlobal(help->globalPos()));
        if (c.blockNumber() + 1 == m_errorLine) {
            QToolTip::showText(help->globalPos(), m_errorMessage, this);
            return true;
        }
    }
    return QPlainTextEdit::event(event);
}

QString CodeEditor::wordBeforeCursor(bool *inTag) const
{
    const QTextCursor cursor = textCursor();
    const QString text = cursor.block().text().left(cursor.positionInBlock());
    qsizetype start = text.size();
    while (start > 0
           && (text.at(start - 1).isLetterOrNumber() || text.at(start - 1) == u'_'
               || text.at(start - 1) == u'.' || text.at(start - 1) == u'@'))
        --start;
    const qsizetype open = text.lastIndexOf(QLatin1String("{{"));
    const qsizetype close = text.lastIndexOf(QLatin1String("}}"));
    *inTag = open >= 0 && open > close;
    return text.mid(start);
}

void CodeEditor::keyPressEvent(QKeyEvent *event)
{
    if (m_completer->popup()->isVisible()) {
        switch (event->key()) {
        case Qt::Key_Enter:
        case Qt::Key_Return:
        case Qt::Key_Escape:
        case Qt::Key_Tab:
        case Qt::Key_Backtab:
            event->ignore();
            return; // the completer takes these
        default:
            break;
        }
    }
    const bool forced = event->key() == Qt::Key_Space && (event->modifiers() & Qt::ControlModifier);
    if (!forced)
        QPlainTextEdit::keyPressEvent(event);
    if (m_completionNames.isEmpty())
        return;
    bool inTag = false;
    const QString word = wordBeforeCursor(&inTag);
    const bool typing = !event->text().isEmpty()
            && (event->text().at(0).isLetterOrNumber() || event->text() == u"{"
                || event->text() == u"." || event->text() == u"_");
    if (!inTag || (!forced && (!typing || (word.isEmpty() && event->text() != u"{")))) {
        m_completer->popup()->hide();
        return;
    }
    if (word != m_completer->completionPrefix()) {
        m_completer->setCompletionPrefix(word);
        m_completer->popup()->setCurrentIndex(m_completer->completionModel()->index(0, 0));
    }
    if (m_completer->completionCount() == 0) {
        m_completer->popup()->hide();
        return;
    }
    QRect r = cursorRect();
    r.setWidth(m_completer->popup()->sizeHintForColumn(0)
               + m_completer->popup()->verticalScrollBar()->sizeHint().width() + 8);
    m_completer->complete(r);
}

void CodeEditor::handleCompletionChosen(const QString &completion)
{
    bool inTag = false;
    const QString word = wordBeforeCursor(&inTag);
    QTextCursor cursor = textCursor();
    cursor.movePosition(QTextCursor::Left, QTextCursor::KeepAnchor, int(word.size()));
    cursor.insertText(completion);
    // Close the tag when it is not closed yet on this line.
    const QString rest = cursor.block().text().mid(cursor.positionInBlock());
    if (!rest.trimmed().startsWith(QLatin1String("}}"))) {
        cursor.insertText(QStringLiteral("}}"));
        cursor.movePosition(QTextCursor::Left, QTextCursor::MoveAnchor, 2);
    }
    setTextCursor(cursor);
}
