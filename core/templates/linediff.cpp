#include "linediff.h"

#include <vector>

namespace Templates {

QList<LineDiff::Row> LineDiff::compute(const QString &left, const QString &right)
{
    const QStringList a = left.split(u'\n');
    const QStringList b = right.split(u'\n');
    qsizetype head = 0;
    while (head < a.size() && head < b.size() && a.at(head) == b.at(head))
        ++head;
    qsizetype tail = 0;
    while (tail < a.size() - head && tail < b.size() - head
           && a.at(a.size() - 1 - tail) == b.at(b.size() - 1 - tail))
        ++tail;
    const qsizetype n = a.size() - head - tail;
    const qsizetype m = b.size() - head - tail;

    QList<Row> rows;
    for (qsizetype i = 0; i < head; ++i)
        rows.append({Kind::Same, int(i), int(i), a.at(i), b.at(i)});

    // Edit script of the middle: LCS table (n*m cells). Templates are at most a few thousand lines
    // and differ in a few places, so the middle stays small; past a bound, it is all changed.
    std::vector<Row> middle;
    constexpr qsizetype maxCells = qsizetype(16) * 1024 * 1024;
    if (n > 0 && m > 0 && n * m <= maxCells) {
        std::vector<int> lcs(size_t((n + 1) * (m + 1)), 0);
        const auto at = [&](qsizetype i, qsizetype j) -> int & {
            return lcs[size_t(i * (m + 1) + j)];
        };
        for (qsizetype i = n - 1; i >= 0; --i) {
            for (qsizetype j = m - 1; j >= 0; --j) {
                at(i, j) = a.at(head + i) == b.at(head + j) ? at(i + 1, j + 1) + 1
                                                            : std::max(at(i + 1, j), at(i, j + 1));
            }
        }
        qsizetype i = 0;
        qsizetype j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a.at(head + i) == b.at(head + j)) {
                middle.push_back(
                        {Kind::Same, int(head + i), int(head + j), a.at(head + i), b.at(head + j)});
                ++i;
                ++j;
            } else if (j < m && (i == n || at(i, j + 1) >= at(i + 1, j))) {
                middle.push_back({Kind::Added, -1, int(head + j), QString(), b.at(head + j)});
                ++j;
            } else {
                middle.push_back({Kind::Removed, int(head + i), -1, a.at(head + i), QString()});
                ++i;
            }
        }
    } else {
        for (qsizetype i = 0; i < n; ++i)
            middle.push_back({Kind::Removed, int(head + i), -1, a.at(head + i), QString()});
        for (qsizetype j = 0; j < m; ++j)
            middle.push_back({Kind::Added, -1, int(head + j), QString(), b.at(head + j)});
    }

    // Pair each run of removals with the additions that follow it as changed lines.
    size_t k = 0;
    while (k < middle.size()) {
        if (middle[k].kind != Kind::Removed && middle[k].kind != Kind::Added) {
            rows.append(middle[k++]);
            continue;
        }
        std::vector<Row> removed;
        std::vector<Row> added;
        while (k < middle.size()
               && (middle[k].kind == Kind::Removed || middle[k].kind == Kind::Added)) {
            (middle[k].kind == Kind::Removed ? removed : added).push_back(middle[k]);
            ++k;
        }
        const size_t pairs = std::min(removed.size(), added.size());
        for (size_t p = 0; p < pairs; ++p) {
            rows.append({Kind::Changed, removed[p].leftLine, added[p].rightLine, removed[p].left,
                         added[p].right});
        }
        for (size_t p = pairs; p < removed.size(); ++p)
            rows.append(removed[p]);
        for (size_t p = pairs; p < added.size(); ++p)
            rows.append(added[p]);
    }

    for (qsizetype t = tail; t > 0; --t) {
        const qsizetype i = a.size() - t;
        const qsizetype j = b.size() - t;
        rows.append({Kind::Same, int(i), int(j), a.at(i), b.at(j)});
    }
    return rows;
}

int LineDiff::changes(const QList<Row> &rows)
{
    int count = 0;
    for (const Row &row : rows) {
        if (row.kind != Kind::Same)
            ++count;
    }
    return count;
}

} // namespace Templates
