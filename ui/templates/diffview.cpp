#include "diffview.h"

#include <QFontDatabase>
#include <QGridLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>

DiffView::DiffView(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_leftTitle = new QLabel(this);
    m_rightTitle = new QLabel(this);
    m_left = new QPlainTextEdit(this);
    m_right = new QPlainTextEdit(this);
    m_left->setObjectName(QStringLiteral("diffLeft"));
    m_right->setObjectName(QStringLiteral("diffRight"));
    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    for (QPlainTextEdit *side : {m_left, m_right}) {
        side->setReadOnly(true);
        side->setLineWrapMode(QPlainTextEdit::NoWrap);
        side->setFont(fixed);
    }
    layout->addWidget(m_leftTitle, 0, 0);
    layout->addWidget(m_rightTitle, 0, 1);
    layout->addWidget(m_left, 1, 0);
    layout->addWidget(m_right, 1, 1);
    connect(m_left->verticalScrollBar(), &QScrollBar::valueChanged, m_right->verticalScrollBar(),
            &QScrollBar::setValue);
    connect(m_right->verticalScrollBar(), &QScrollBar::valueChanged, m_left->verticalScrollBar(),
            &QScrollBar::setValue);
}

void DiffView::setTexts(const QString &leftTitle, const QString &left, const QString &rightTitle,
                        const QString &right)
{
    using Kind = Templates::LineDiff::Kind;
    m_rows = Templates::LineDiff::compute(left, right);
    const int count = Templates::LineDiff::changes(m_rows);
    m_leftTitle->setText(leftTitle);
    m_rightTitle->setText(rightTitle + u"  " + tr("(%n line(s) differ)", nullptr, count));
    QStringList leftLines;
    QStringList rightLines;
    for (const auto &row : std::as_const(m_rows)) {
        leftLines.append(row.leftLine >= 0 ? row.left : QString());
        rightLines.append(row.rightLine >= 0 ? row.right : QString());
    }
    m_left->setPlainText(leftLines.join(u'\n'));
    m_right->setPlainText(rightLines.join(u'\n'));
    const QColor removed(0xff, 0xeb, 0xe9);
    const QColor added(0xe6, 0xff, 0xec);
    const QColor changed(0xff, 0xf5, 0xd1);
    const QColor absent(0xf3, 0xf4, 0xf6);
    QList<QTextEdit::ExtraSelection> leftMarks;
    QList<QTextEdit::ExtraSelection> rightMarks;
    const auto mark = [](QPlainTextEdit *side, int line, const QColor &colour) {
        QTextEdit::ExtraSelection s;
        s.cursor = QTextCursor(side->document()->findBlockByNumber(line));
        s.format.setBackground(colour);
        s.format.setProperty(QTextFormat::FullWidthSelection, true);
        return s;
    };
    for (int i = 0; i < m_rows.size(); ++i) {
        switch (m_rows.at(i).kind) {
        case Kind::Same:
            break;
        case Kind::Changed:
            leftMarks.append(mark(m_left, i, changed));
            rightMarks.append(mark(m_right, i, changed));
            break;
        case Kind::Removed:
            leftMarks.append(mark(m_left, i, removed));
            rightMarks.append(mark(m_right, i, absent));
            break;
        case Kind::Added:
            leftMarks.append(mark(m_left, i, absent));
            rightMarks.append(mark(m_right, i, added));
            break;
        }
    }
    m_left->setExtraSelections(leftMarks);
    m_right->setExtraSelections(rightMarks);
    // Start at the first difference.
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).kind != Kind::Same) {
            QTextCursor c(m_left->document()->findBlockByNumber(std::max(0, i - 3)));
            m_left->setTextCursor(c);
            m_left->centerCursor();
            break;
        }
    }
}
