#include "sidebar.h"

#include <QLabel>
#include <QListWidget>
#include <QVBoxLayout>

Sidebar::Sidebar(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("sidebar"));
    setAttribute(Qt::WA_StyledBackground);
    setFixedWidth(210);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 12);
    layout->setSpacing(0);
    auto *title = new QLabel(tr("Postdesk"), this);
    title->setObjectName(QStringLiteral("sidebarTitle"));
    m_list = new QListWidget(this);
    m_list->setObjectName(QStringLiteral("sidebarList"));
    m_list->setFrameShape(QFrame::NoFrame);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    layout->addWidget(title);
    layout->addWidget(m_list, 1);
    connect(m_list, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        if (item)
            Q_EMIT pageRequested(item->data(Qt::UserRole).toString());
    });
}

void Sidebar::addEntry(const QString &name, const QString &label)
{
    auto *item = new QListWidgetItem(label, m_list);
    item->setData(Qt::UserRole, name);
}

void Sidebar::setCurrent(const QString &name)
{
    for (int i = 0; i < m_list->count(); ++i) {
        if (m_list->item(i)->data(Qt::UserRole).toString() == name) {
            m_list->setCurrentRow(i);
            return;
        }
    }
}

QString Sidebar::current() const
{
    const QListWidgetItem *item = m_list->currentItem();
    return item ? item->data(Qt::UserRole).toString() : QString();
}
