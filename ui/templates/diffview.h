#pragma once

#include "templates/linediff.h"

#include <QWidget>

class QLabel;
class QPlainTextEdit;

// Two texts side by side, lines aligned, removed lines red on the left, added green on the right,
// changed lines amber on both; the two sides scroll together.
class DiffView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DiffView)

public:
    explicit DiffView(QWidget *parent = nullptr);

    void setTexts(const QString &leftTitle, const QString &left, const QString &rightTitle,
                  const QString &right);
    const QList<Templates::LineDiff::Row> &rows() const { return m_rows; }
    int changes() const { return Templates::LineDiff::changes(m_rows); }

private:
    QLabel *m_leftTitle = nullptr;
    QLabel *m_rightTitle = nullptr;
    QPlainTextEdit *m_left = nullptr;
    QPlainTextEdit *m_right = nullptr;
    QList<Templates::LineDiff::Row> m_rows;
};
