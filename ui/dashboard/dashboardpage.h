#pragma once

#include "common/page.h"

#include <QHash>

class PageHeader;
class QLabel;
class QStandardItemModel;
class QTableView;

// The first page a user sees: today's traffic, the backlog, delivery over the last 24 hours and
// the state of each queue and provider, all read live from the database.
class DashboardPage final : public Page
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DashboardPage)

public:
    explicit DashboardPage(QWidget *parent = nullptr);

    void refresh() override;
    // New events were stored: refresh now (when shown) rather than at the next tick.
    void handleEventsArrived(int count);
    qint64 eventsSeen() const { return m_eventsSeen; }
    QString cardValue(const QString &name) const;

Q_SIGNALS:
    void pageRequested(const QString &name);

protected:
    void showEvent(QShowEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    QWidget *addCard(const QString &name, const QString &title);
    void setCard(const QString &name, const QString &value, const QString &detail);

    struct Card
    {
        QLabel *value = nullptr;
        QLabel *detail = nullptr;
    };
    PageHeader *m_header = nullptr;
    QHash<QString, Card> m_cards;
    QStandardItemModel *m_queues = nullptr;
    QStandardItemModel *m_providers = nullptr;
    QTableView *m_queuesTable = nullptr;
    QTableView *m_providersTable = nullptr;
    QLabel *m_updated = nullptr;
    int m_inFlight = 0;
    qint64 m_eventsSeen = 0;
};
