#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace Db {
class Connection;
}

namespace Queue {

struct TemplateVersion
{
    qint64 templateId = 0;
    qint64 id = 0; // template_versions.id: what a message references
    QString name;
    QString locale;
    int version = 0;
    QString subject;
    QString htmlBody;
    QString textBody;
    bool hasTextBody = false; // false: the text part is generated from the HTML
    QDateTime createdAt;
};

struct TemplateSummary
{
    qint64 id = 0;
    QString name;
    QString kind;
    int versions = 0;
    int latestVersion = 0;
    qint64 latestVersionId = 0;
    QString latestSubject;
    QDateTime updatedAt;
};

// Stored templates as the queue uses them: every save adds a version; messages reference a version.
class TemplateRepository
{
public:
    explicit TemplateRepository(Db::Connection &connection);

    struct NewVersion
    {
        QString name;
        QString subject;
        QString htmlBody;
        std::optional<QString> textBody; // none: generated from the HTML
        QString locale = QStringLiteral("en");
        QString note;
    };

    // Creates the template on first use; returns the new version. Runs in its own transaction.
    Common::Result<TemplateVersion> put(const NewVersion &version);
    Common::Result<QList<TemplateSummary>> list();
    // The newest version for the locale; when the locale has none (or is empty), the newest
    // version in the template's default locale (version.locale says which was taken);
    // std::nullopt when there is neither.
    Common::Result<std::optional<TemplateVersion>> latest(
            const QString &name, const QString &locale = QStringLiteral("en"));

private:
    Db::Connection &m_connection;
};

} // namespace Queue
