#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace Db {
class Connection;
}

namespace Queue {

struct Suppression
{
    QString address; // lower case
    QString reason;  // hard_bounce, soft_bounces, complaint, unsubscribe, manual
    QString source;
    QString note;
    QDateTime createdAt;
    QString createdBy;
};

struct ImportResult
{
    qint64 added = 0;
    qint64 alreadyThere = 0;
};

// Addresses never to send to. The claim marks messages to them 'suppressed' (see
// QueueRepository::claim); this class keeps the list.
class SuppressionRepository
{
public:
    explicit SuppressionRepository(Db::Connection &connection);

    static QStringList reasons();
    // Lower case and trimmed; an error for something that is not an address.
    static Common::Result<QString> normalise(const QString &address);

    // Returns false when the address was already suppressed (its entry is kept as it was).
    Common::Result<bool> add(const QString &address,
                             const QString &reason = QStringLiteral("manual"),
                             const QString &note = {},
                             const QString &source = QStringLiteral("manual"));
    // Returns false when the address was not suppressed.
    Common::Result<bool> remove(const QString &address);
    Common::Result<bool> contains(const QString &address);
    // Ordered by address; search is a substring of the address (empty: all).
    Common::Result<QList<Suppression>> list(const QString &search = {}, int limit = -1);

    // CSV with a header line: address,reason,note,source,created_at (RFC 4180 quoting). Import
    // needs the address column; reason defaults to manual. Existing entries are kept.
    Common::Result<QByteArray> exportCsv();
    Common::Result<ImportResult> importCsv(const QByteArray &csv);

private:
    Db::Connection &m_connection;
};

} // namespace Queue
