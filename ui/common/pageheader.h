#pragma once

#include <QWidget>

class QLabel;

// The title, a one-line explanation and, when there is something the page does not do yet, a plain
// notice that says so.
class PageHeader final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PageHeader)

public:
    explicit PageHeader(const QString &title, const QString &subtitle, QWidget *parent = nullptr);

    void setNotice(const QString &text);

private:
    QLabel *m_notice = nullptr;
};
