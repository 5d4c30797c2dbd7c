#pragma once

#include "page.h"

#include <QVariantList>

class PageHeader;
class QLabel;
class QStandardItemModel;
class QTableView;

// A page that shows the rows of one read-only query as a table, refreshed when shown and every few
// seconds while visible. Pages whose editors come later use it to show the real data meanwhile.
class QueryTablePage : public Page
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QueryTablePage)

public:
    struct Definition
    {
        QString title;
        QString subtitle;
        QString notice; // what the page will do that it does not do yet; empty when none
        QString sql;
        QString emptyText;
    };

    explicit QueryTablePage(Definition definition, QWidget *parent = nullptr);

    void refresh() override;
    QTableView *table() const { return m_table; }
    QStandardItemModel *model() const { return m_model; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    Definition m_definition;
    PageHeader *m_header = nullptr;
    QTableView *m_table = nullptr;
    QStandardItemModel *m_model = nullptr;
    QLabel *m_status = nullptr;
    bool m_requestInFlight = false;
};
