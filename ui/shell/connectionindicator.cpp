#include "connectionindicator.h"

#include <QHBoxLayout>
#include <QLabel>

ConnectionIndicator::ConnectionIndicator(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("connectionIndicator"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 0, 6, 0);
    layout->setSpacing(6);
    m_dot = new QLabel(this);
    m_dot->setFixedSize(12, 12);
    m_label = new QLabel(this);
    layout->addWidget(m_dot);
    layout->addWidget(m_label);
    setLinkState(Db::LinkState::Connecting, tr("database"), {});
}

QString ConnectionIndicator::text() const
{
    return m_label->text();
}

void ConnectionIndicator::setLinkState(Db::LinkState state, const QString &where,
                                       const QString &detail)
{
    m_state = state;
    QString colour;
    QString text;
    switch (state) {
    case Db::LinkState::Connecting:
        colour = QStringLiteral("#f59e0b");
        text = tr("Connecting to %1…").arg(where);
        break;
    case Db::LinkState::Connected:
        colour = QStringLiteral("#16a34a");
        text = tr("Connected: %1").arg(where);
        break;
    case Db::LinkState::Down:
        colour = QStringLiteral("#dc2626");
        text = tr("Disconnected: %1 — retrying").arg(where);
        break;
    }
    m_dot->setStyleSheet(QStringLiteral("background:%1; border-radius:6px;").arg(colour));
    m_label->setText(text);
    setToolTip(detail);
}
