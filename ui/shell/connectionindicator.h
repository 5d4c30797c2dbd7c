#pragma once

#include "db/databaseworker.h"

#include <QWidget>

class QLabel;

// In the status bar: which database the window is connected to and whether that link is alive
// (green), being established (amber) or down (red), with the reason in the tooltip.
class ConnectionIndicator final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionIndicator)

public:
    explicit ConnectionIndicator(QWidget *parent = nullptr);

    Db::LinkState state() const { return m_state; }
    QString text() const;

public Q_SLOTS:
    void setLinkState(Db::LinkState state, const QString &where, const QString &detail);

private:
    QLabel *m_dot = nullptr;
    QLabel *m_label = nullptr;
    Db::LinkState m_state = Db::LinkState::Connecting;
};
