#pragma once

#include <QPlainTextEdit>
#include <QStringList>

class QCompleter;
class QStringListModel;

// A plain-text editor for template sources: line numbers, a marker at the line and column of an
// error, the matching {{ }} pair of the tag under the cursor, and completion of variable names
// after "{{". Everything here is per-keystroke work on the GUI thread, so it stays proportional to
// what is visible or to the current line, never to the whole document.
class CodeEditor final : public QPlainTextEdit
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CodeEditor)

public:
    explicit CodeEditor(QWidget *parent = nullptr);

    // 1-based line and column; line 0 clears the marker.
    void setErrorMarker(int line, int column, const QString &message);
    void clearErrorMarker() { setErrorMarker(0, 0, {}); }
    int errorLine() const { return m_errorLine; }
    int errorColumn() const { return m_errorColumn; }
    QString errorMessage() const { return m_errorMessage; }

    void setCompletions(const QStringList &names);
    QStringList completions() const { return m_completionNames; }
    QCompleter *completer() const { return m_completer; }

    // Positions of the braces highlighted as a matching pair, or -1, -1.
    std::pair<int, int> matchedBraces() const { return m_braces; }

    int lineNumberAreaWidth() const;
    void paintLineNumbers(QPaintEvent *event);

protected:
    void resizeEvent(QResizeEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool event(QEvent *event) override;

private:
    void handleCursorMoved();
    void handleUpdateRequest(const QRect &rect, int dy);
    void handleCompletionChosen(const QString &completion);
    void updateExtraSelections();
    QString wordBeforeCursor(bool *inTag) const;

    QWidget *m_lineNumbers = nullptr;
    QCompleter *m_completer = nullptr;
    QStringListModel *m_completionModel = nullptr;
    QStringList m_completionNames;
    int m_errorLine = 0;
    int m_errorColumn = 0;
    QString m_errorMessage;
    std::pair<int, int> m_braces{-1, -1};
    int m_lineCountDigits = 1;
};
