#pragma once

#include "providers/providerrepository.h"

#include <QAbstractTableModel>
#include <QList>

// One saved provider with its recent traffic, as the Providers page lists it.
struct ProviderRow
{
    Providers::ProviderRecord record;
    qint64 sentLastHour = 0;
    qint64 sentLast24h = 0;
    double deliveryRate = -1; // delivered / sent over 24 h, -1 when nothing was sent
};

Q_DECLARE_METATYPE(QList<ProviderRow>)

// The saved providers in failover order: type, health, priority, limits and traffic.
class ProviderListModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProviderListModel)

public:
    enum Column {
        Name,
        Type,
        Enabled,
        Health,
        Priority,
        Limits,
        SentPerHour,
        Delivery,
        Secrets,
        ColumnCount
    };

    explicit ProviderListModel(QObject *parent = nullptr);

    void setRows(const QList<ProviderRow> &rows);
    const QList<ProviderRow> &rows() const { return m_rows; }
    const ProviderRow *rowAt(int row) const;
    QStringList names() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QList<ProviderRow> m_rows;
};
