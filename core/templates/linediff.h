#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace Templates {

// A line-by-line difference of two texts, for the side-by-side view of two template versions and
// of a save conflict: rows pair a left line with a right line (either may be absent).
class LineDiff
{
public:
    enum class Kind { Same, Changed, Removed, Added };
    struct Row
    {
        Kind kind = Kind::Same;
        int leftLine = -1; // 0-based line in the left text, -1 for none
        int rightLine = -1;
        QString left;
        QString right;
    };

    // The longest common subsequence of lines (after the common head and tail are set aside);
    // neighbouring removals and additions pair up as changed lines.
    static QList<Row> compute(const QString &left, const QString &right);
    // Rows that are not Same.
    static int changes(const QList<Row> &rows);
};

} // namespace Templates
