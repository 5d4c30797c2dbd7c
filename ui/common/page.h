#pragma once

#include <QWidget>

namespace Db {
class AsyncDatabase;
}

// A page of the main window. Pages read the database only through the AsyncDatabase they are given,
// so the GUI thread never waits for PostgreSQL; refresh() asks again for what the page shows.
class Page : public QWidget
{
    Q_OBJECT

public:
    using QWidget::QWidget;

    virtual void setDatabase(Db::AsyncDatabase *database) { m_database = database; }
    virtual void refresh() { }

protected:
    Db::AsyncDatabase *database() const { return m_database; }

private:
    Db::AsyncDatabase *m_database = nullptr;
};
