#include "providerlistmodel.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>
#include <QLocale>

ProviderListModel::ProviderListModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void ProviderListModel::setRows(const QList<ProviderRow> &rows)
{
    beginResetModel();
    m_rows = rows;
    endResetModel();
}

const ProviderRow *ProviderListModel::rowAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row) : nullptr;
}

QStringList ProviderListModel::names() const
{
    QStringList names;
    for (const ProviderRow &row : m_rows)
        names << row.record.name;
    return names;
}

int ProviderListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ProviderListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

static QString healthText(const Providers::ProviderRecord &record)
{
    if (!record.enabled)
        return QObject::tr("disabled");
    if (record.circuitOpenUntil.isValid()
        && record.circuitOpenUntil > QDateTime::currentDateTimeUtc())
        return QObject::tr("down (circuit open)");
    return record.health;
}

QVariant ProviderListModel::data(const QModelIndex &index, int role) const
{
    const ProviderRow *row = index.isValid() ? rowAt(index.row()) : nullptr;
    if (!row)
        return {};
    const Providers::ProviderRecord &p = row->record;
    const QLocale locale;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Name:
            return p.name;
        case Type:
            return p.type;
        case Enabled:
            return p.enabled ? tr("yes") : tr("no");
        case Health:
            return healthText(p);
        case Priority:
            return p.priority;
        case Limits:
            return p.limits.isEmpty() ? tr("none") : p.limits.toString();
        case SentPerHour:
            return locale.toString(row->sentLastHour);
        case Delivery:
            return row->deliveryRate < 0
                    ? QStringLiteral("–")
                    : locale.toString(100.0 * row->deliveryRate, 'f', 1) + u'%';
        case Secrets:
            return p.secretNames.isEmpty() ? QStringLiteral("–")
                                           : p.secretNames.join(QStringLiteral(", "));
        }
    } else if (role == Qt::ToolTipRole && index.column() == Health) {
        return p.healthReason;
    } else if (role == Qt::ForegroundRole && index.column() == Health) {
        if (!p.enabled)
            return QBrush(QColor(0x80, 0x80, 0x80));
        if (p.health == u"down" || healthText(p) != p.health)
            return QBrush(QColor(0xb0, 0x20, 0x20));
        if (p.health == u"degraded")
            return QBrush(QColor(0xa0, 0x60, 0x00));
        return QBrush(QColor(0x1e, 0x7d, 0x32));
    } else if (role == Qt::TextAlignmentRole) {
        if (index.column() == Priority || index.column() == SentPerHour
            || index.column() == Delivery)
            return int(Qt::AlignRight | Qt::AlignVCenter);
    } else if (role == Qt::UserRole) {
        return p.name;
    }
    return {};
}

QVariant ProviderListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name:
        return tr("Name");
    case Type:
        return tr("Type");
    case Enabled:
        return tr("Enabled");
    case Health:
        return tr("Health");
    case Priority:
        return tr("Priority");
    case Limits:
        return tr("Limits");
    case SentPerHour:
        return tr("Sent last hour");
    case Delivery:
        return tr("Delivered (24 h)");
    case Secrets:
        return tr("Secrets (sealed)");
    }
    return {};
}
