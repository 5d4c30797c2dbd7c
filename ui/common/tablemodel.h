#pragma once

#include "db/databaseworker.h"

class QStandardItemModel;

// Replaces the model's contents with data: display text formatted for the locale, the raw value
// kept in Qt::UserRole (the sort role), numbers right-aligned.
void fillModel(QStandardItemModel *model, const Db::TableData &data);
