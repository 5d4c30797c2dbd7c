#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace Db {
class AsyncDatabase;
struct TableData;
} // namespace Db

namespace Templates {

struct TemplateContent
{
    QString subject;
    QString html;
    QString text; // empty: generated from the HTML
    bool operator==(const TemplateContent &) const = default;
};

struct TemplateListItem
{
    qint64 id = 0;
    QString name;
    QString kind;
    QString defaultLocale;
    QStringList locales;
    QDateTime lastEdited;
    QString lastEditedBy;
};

struct TemplateInfo
{
    qint64 id = 0;
    QString name;
    QString kind;
    QString defaultLocale;
    int revision = 0; // templates.revision: every save increases it
    QStringList locales;
};

struct TemplateVersionInfo
{
    qint64 id = 0;
    QString locale;
    int version = 0;
    TemplateContent content;
    QString note;
    QDateTime createdAt;
    QString createdBy;
};

struct TemplateDraft
{
    TemplateContent content;
    int baseRevision = 0;
    QDateTime savedAt;
};

struct TemplateSample
{
    QString name;
    QByteArray json;
};

// What the editor reads and writes, through the GUI's AsyncDatabase: every call returns at once and
// the answer comes back as a callback on the caller's thread (dropped if context is gone).
// Saves are checked against the revision the editor started from, in one statement, so of two
// people saving the same template the second is told instead of overwriting the first.
class TemplateStore
{
public:
    template<typename T>
    using Done = std::function<void(const Common::Result<T> &)>;

    struct SaveOutcome
    {
        bool conflict = false; // someone saved since baseRevision: nothing was written
        int revision = 0;      // the template's revision after the save
        TemplateVersionInfo version;
    };

    explicit TemplateStore(Db::AsyncDatabase *database)
        : m_database(database)
    { }

    void list(QObject *context, Done<QList<TemplateListItem>> done);
    void create(const QString &name, const QString &kind, const QString &locale, QObject *context,
                Done<TemplateInfo> done);
    void info(qint64 templateId, QObject *context, Done<TemplateInfo> done);
    // The newest version in the locale, else in the template's default locale (the fallback).
    void latest(qint64 templateId, const QString &locale, QObject *context,
                Done<std::optional<TemplateVersionInfo>> done);
    void save(qint64 templateId, int baseRevision, const QString &locale,
              const TemplateContent &content, const QString &note, QObject *context,
              Done<SaveOutcome> done);
    // Every version of the locale, newest first.
    void history(qint64 templateId, const QString &locale, QObject *context,
                 Done<QList<TemplateVersionInfo>> done);

    void saveDraft(qint64 templateId, const QString &locale, int baseRevision,
                   const TemplateContent &content, QObject *context, Done<bool> done);
    void draft(qint64 templateId, const QString &locale, QObject *context,
               Done<std::optional<TemplateDraft>> done);
    void discardDraft(qint64 templateId, const QString &locale, QObject *context, Done<bool> done);

    void samples(qint64 templateId, QObject *context, Done<QList<TemplateSample>> done);
    void saveSample(qint64 templateId, const TemplateSample &sample, QObject *context,
                    Done<bool> done);
    // The data of messages already sent with the template, newest first, named by recipient:
    // "preview as a real recipient".
    void recipients(qint64 templateId, QObject *context, Done<QList<TemplateSample>> done);

private:
    void run(const QString &sql, const QVariantList &params, QObject *context,
             std::function<void(const Db::TableData &data, const QString &error)> handler);
    Db::AsyncDatabase *m_database;
};

} // namespace Templates
