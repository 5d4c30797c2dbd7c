#pragma once

#include <QWidget>

class QListWidget;

// The navigation on the left: one entry per page, identified by the page's name
// ("dashboard", "providers", ...), which is also what `postdesk --page NAME` takes.
class Sidebar final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Sidebar)

public:
    explicit Sidebar(QWidget *parent = nullptr);

    void addEntry(const QString &name, const QString &label);
    void setCurrent(const QString &name);
    QString current() const;
    QListWidget *list() const { return m_list; }

Q_SIGNALS:
    void pageRequested(const QString &name);

private:
    QListWidget *m_list = nullptr;
};
