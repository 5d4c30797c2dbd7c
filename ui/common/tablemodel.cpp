#include "tablemodel.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLocale>
#include <QStandardItemModel>

namespace {

QString display(const QVariant &value)
{
    if (value.isNull())
        return {};
    switch (value.typeId()) {
    case QMetaType::QDateTime:
        return QLocale().toString(value.toDateTime().toLocalTime(), QLocale::ShortFormat);
    case QMetaType::Bool:
        return value.toBool() ? QCoreApplication::translate("TableModel", "yes")
                              : QCoreApplication::translate("TableModel", "no");
    case QMetaType::Double:
        return QLocale().toString(value.toDouble(), 'f', 1);
    case QMetaType::LongLong:
        return QLocale().toString(value.toLongLong());
    default:
        return value.toString();
    }
}

} // namespace

void fillModel(QStandardItemModel *model, const Db::TableData &data)
{
    model->clear();
    model->setSortRole(Qt::UserRole);
    model->setHorizontalHeaderLabels(data.columns);
    for (const QVariantList &row : data.rows) {
        QList<QStandardItem *> items;
        items.reserve(row.size());
        for (const QVariant &value : row) {
            auto *item = new QStandardItem(display(value));
            item->setData(value, Qt::UserRole);
            if (value.typeId() == QMetaType::LongLong || value.typeId() == QMetaType::Double)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            items.append(item);
        }
        model->appendRow(items);
    }
}
