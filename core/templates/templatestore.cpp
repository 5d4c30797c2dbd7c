#include "templatestore.h"

#include "db/asyncdatabase.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

namespace Templates {

namespace {

Common::Error dbError(const QString &error)
{
    return Common::makeError(QStringLiteral("templates.db"), error);
}

TemplateVersionInfo versionFrom(const QVariantList &row)
{
    // Columns: id, locale, version, subject, html_body, text_body, note, created_at, created_by
    TemplateVersionInfo v;
    v.id = row.value(0).toLongLong();
    v.locale = row.value(1).toString();
    v.version = row.value(2).toInt();
    v.content.subject = row.value(3).toString();
    v.content.html = row.value(4).toString();
    v.content.text = row.value(5).toString();
    v.note = row.value(6).toString();
    v.createdAt = row.value(7).toDateTime();
    v.createdBy = row.value(8).toString();
    return v;
}

const QString versionColumns = QStringLiteral(
        "v.id, v.locale, v.version, v.subject, v.html_body, v.text_body, v.note, v.created_at, "
        "v.created_by");

QStringList localesFrom(const QVariant &text)
{
    // string_agg(... , ',') of locale codes, which never contain commas.
    return text.toString().split(u',', Qt::SkipEmptyParts);
}

} // namespace

void TemplateStore::run(const QString &sql, const QVariantList &params, QObject *context,
                        std::function<void(const Db::TableData &, const QString &)> handler)
{
    m_database->query(sql, params, context, std::move(handler));
}

void TemplateStore::list(QObject *context, Done<QList<TemplateListItem>> done)
{
    run(QStringLiteral(
                "SELECT t.id, t.name, t.kind, t.default_locale, "
                "  (SELECT string_agg(DISTINCT locale, ',') FROM template_versions "
                "   WHERE template_id = t.id), "
                "  coalesce(v.created_at, t.updated_at), coalesce(v.created_by, t.updated_by) "
                "FROM templates t LEFT JOIN LATERAL ("
                "  SELECT created_at, created_by FROM template_versions WHERE template_id = t.id "
                "  ORDER BY created_at DESC, id DESC LIMIT 1) v ON true "
                "ORDER BY t.name"),
        {}, context, [done](const Db::TableData &data, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            QList<TemplateListItem> items;
            for (const QVariantList &row : data.rows) {
                TemplateListItem item;
                item.id = row.value(0).toLongLong();
                item.name = row.value(1).toString();
                item.kind = row.value(2).toString();
                item.defaultLocale = row.value(3).toString();
                item.locales = localesFrom(row.value(4));
                if (item.locales.isEmpty())
                    item.locales = {item.defaultLocale};
                item.lastEdited = row.value(5).toDateTime();
                item.lastEditedBy = row.value(6).toString();
                items.append(item);
            }
            done(items);
        });
}

void TemplateStore::create(const QString &name, const QString &kind, const QString &locale,
                           QObject *context, Done<TemplateInfo> done)
{
    static const QRegularExpression namePattern(
            QStringLiteral("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"));
    if (!namePattern.match(name).hasMatch()) {
        return done(Common::fail(QStringLiteral("template.bad_name"),
                                 QObject::tr("'%1' is not a template name: use letters, digits, "
                                             "'.', '_' and '-', starting with a letter or digit.")
                                         .arg(name)));
    }
    run(QStringLiteral("INSERT INTO templates (name, kind, default_locale) VALUES ($1, $2, $3) "
                       "RETURNING id, name, kind, default_locale, revision"),
        {name, kind, locale}, context, [done](const Db::TableData &data, const QString &error) {
            if (!error.isEmpty() || data.rows.isEmpty())
                return done(Common::fail(dbError(error)));
            const QVariantList &row = data.rows.constFirst();
            done(TemplateInfo{row.value(0).toLongLong(),
                              row.value(1).toString(),
                              row.value(2).toString(),
                              row.value(3).toString(),
                              row.value(4).toInt(),
                              {row.value(3).toString()}});
        });
}

void TemplateStore::info(qint64 templateId, QObject *context, Done<TemplateInfo> done)
{
    run(QStringLiteral("SELECT t.id, t.name, t.kind, t.default_locale, t.revision, "
                       "  (SELECT string_agg(DISTINCT locale, ',') FROM template_versions "
                       "   WHERE template_id = t.id) "
                       "FROM templates t WHERE t.id = $1"),
        {templateId}, context, [done](const Db::TableData &data, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            if (data.rows.isEmpty()) {
                return done(Common::fail(QStringLiteral("template.not_found"),
                                         QObject::tr("The template no longer exists.")));
            }
            const QVariantList &row = data.rows.constFirst();
            TemplateInfo info{row.value(0).toLongLong(), row.value(1).toString(),
                              row.value(2).toString(),   row.value(3).toString(),
                              row.value(4).toInt(),      localesFrom(row.value(5))};
            if (!info.locales.contains(info.defaultLocale))
                info.locales.prepend(info.defaultLocale);
            done(info);
        });
}

void TemplateStore::latest(qint64 templateId, const QString &locale, QObject *context,
                           Done<std::optional<TemplateVersionInfo>> done)
{
    run(QStringLiteral(
                "SELECT %1 FROM template_versions v JOIN templates t ON t.id = v.template_id "
                "WHERE v.template_id = $1 AND v.locale IN ($2, t.default_locale) "
                "ORDER BY (v.locale = $2) DESC, v.version DESC LIMIT 1")
                .arg(versionColumns),
        {templateId, locale}, context, [done](const Db::TableData &data, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            if (data.rows.isEmpty())
                return done(std::optional<TemplateVersionInfo>());
            done(std::optional<TemplateVersionInfo>(versionFrom(data.rows.constFirst())));
        });
}

void TemplateStore::save(qint64 templateId, int baseRevision, const QString &locale,
                         const TemplateContent &content, const QString &note, QObject *context,
                         Done<SaveOutcome> done)
{
    if (content.subject.trimmed().isEmpty()) {
        return done(Common::fail(QStringLiteral("template.no_subject"),
                                 QObject::tr("A template version needs a subject.")));
    }
    if (content.html.isEmpty() && content.text.isEmpty()) {
        return done(Common::fail(QStringLiteral("template.no_body"),
                                 QObject::tr("A template version needs an HTML or a text body.")));
    }
    // One statement, so one transaction: the revision check locks the template's row (a second
    // saver waits, then finds the revision changed and writes nothing), the version is numbered
    // and the saver's draft is gone with the save.
    run(QStringLiteral(
                "WITH t AS (UPDATE templates SET revision = revision + 1, updated_at = now(), "
                "    updated_by = current_user WHERE id = $1 AND revision = $2 "
                "    RETURNING id, revision), "
                "v AS (INSERT INTO template_versions (template_id, locale, version, subject, "
                "    html_body, text_body, note) "
                "  SELECT t.id, $3, coalesce((SELECT max(version) FROM template_versions "
                "      WHERE template_id = t.id AND locale = $3), 0) + 1, $4, $5, $6, $7 FROM t "
                "  RETURNING id, locale, version, subject, html_body, text_body, note, "
                "    created_at, created_by), "
                "d AS (DELETE FROM template_drafts WHERE template_id = $1 AND locale = $3 "
                "    AND username = current_user AND EXISTS (SELECT 1 FROM t)) "
                "SELECT v.*, t.revision FROM v, t"),
        {templateId, baseRevision, locale, content.subject, content.html,
         content.text.isEmpty() ? QVariant() : QVariant(content.text), note},
        context, [done](const Db::TableData &data, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            SaveOutcome outcome;
            if (data.rows.isEmpty()) {
                outcome.conflict = true;
                return done(outcome);
            }
            const QVariantList &row = data.rows.constFirst();
            outcome.version = versionFrom(row);
            outcome.revision = row.value(9).toInt();
            done(outcome);
        });
}

void TemplateStore::history(qint64 templateId, const QString &locale, QObject *context,
                            Done<QList<TemplateVersionInfo>> done)
{
    run(QStringLiteral("SELECT %1 FROM template_versions v WHERE v.template_id = $1 "
                       "AND v.locale = $2 ORDER BY v.version DESC")
                .arg(versionColumns),
        {templateId, locale}, context, [done](const Db::TableData &data, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            QList<TemplateVersionInfo> versions;
            for (const QVariantList &row : data.rows)
                versions.append(versionFrom(row));
            done(versions);
        });
}

void TemplateStore::saveDraft(qint64 templateId, const QString &locale, int baseRevision,
                              const TemplateContent &content, QObject *context, Done<bool> done)
{
    run(QStringLiteral("INSERT INTO template_drafts (template_id, locale, base_revision, subject, "
                       "html_body, text_body) VALUES ($1, $2, $3, $4, $5, $6) "
                       "ON CONFLICT (template_id, locale, username) DO UPDATE SET "
                       "base_revision = $3, subject = $4, html_body = $5, text_body = $6, "
                       "saved_at = now()"),
        {templateId, locale, baseRevision, content.subject, content.html, content.text}, context,
        [done](const Db::TableData &, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            done(true);
        });
}

void TemplateStore::draft(qint64 templateId, const QString &locale, QObject *context,
                          Done<std::optional<TemplateDraft>> done)
{
    run(QStringLiteral("SELECT subject, html_body, text_body, base_revision, saved_at "
                       "FROM template_drafts WHERE template_id = $1 AND locale = $2 "
                       "AND username = current_user"),
        {templateId, locale}, context, [done](const Db::TableData &data, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            if (data.rows.isEmpty())
                return done(std::optional<TemplateDraft>());
            const QVariantList &row = data.rows.constFirst();
            TemplateDraft draft;
            draft.content = {row.value(0).toString(), row.value(1).toString(),
                             row.value(2).toString()};
            draft.baseRevision = row.value(3).toInt();
            draft.savedAt = row.value(4).toDateTime();
            done(std::optional<TemplateDraft>(draft));
        });
}

void TemplateStore::discardDraft(qint64 templateId, const QString &locale, QObject *context,
                                 Done<bool> done)
{
    run(QStringLiteral("DELETE FROM template_drafts WHERE template_id = $1 AND locale = $2 "
                       "AND username = current_user"),
        {templateId, locale}, context, [done](const Db::TableData &, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            done(true);
        });
}

void TemplateStore::samples(qint64 templateId, QObject *context, Done<QList<TemplateSample>> done)
{
    // data::text keeps the keys in the order PostgreSQL stores them (jsonb sorts them).
    run(QStringLiteral("SELECT name, data::text FROM template_samples WHERE template_id = $1 "
                       "ORDER BY name"),
        {templateId}, context, [done](const Db::TableData &data, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            QList<TemplateSample> samples;
            for (const QVariantList &row : data.rows)
                samples.append({row.value(0).toString(), row.value(1).toString().toUtf8()});
            done(samples);
        });
}

void TemplateStore::saveSample(qint64 templateId, const TemplateSample &sample, QObject *context,
                               Done<bool> done)
{
    QJsonParseError parseError;
    QJsonDocument::fromJson(sample.json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return done(Common::fail(QStringLiteral("template.bad_sample"),
                                 QObject::tr("The sample data is not valid JSON: %1")
                                         .arg(parseError.errorString())));
    }
    run(QStringLiteral("INSERT INTO template_samples (template_id, name, data) "
                       "VALUES ($1, $2, $3::jsonb) "
                       "ON CONFLICT (template_id, name) DO UPDATE SET data = excluded.data"),
        {templateId, sample.name, QString::fromUtf8(sample.json)}, context,
        [done](const Db::TableData &, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            done(true);
        });
}

void TemplateStore::recipients(qint64 templateId, QObject *context, Done<QList<TemplateSample>> done)
{
    run(QStringLiteral("SELECT m.recipient, m.data::text FROM messages m "
                       "JOIN template_versions v ON v.id = m.template_version_id "
                       "WHERE v.template_id = $1 AND m.state = 'sent' "
                       "ORDER BY m.id DESC LIMIT 20"),
        {templateId}, context, [done](const Db::TableData &data, const QString &error) {
            if (!error.isEmpty())
                return done(Common::fail(dbError(error)));
            QList<TemplateSample> samples;
            for (const QVariantList &row : data.rows)
                samples.append({row.value(0).toString(), row.value(1).toString().toUtf8()});
            done(samples);
        });
}

} // namespace Templates
