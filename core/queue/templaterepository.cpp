#include "templaterepository.h"

#include "db/connection.h"

#include <QRegularExpression>

namespace Queue {

TemplateRepository::TemplateRepository(Db::Connection &connection)
    : m_connection(connection)
{ }

Common::Result<TemplateVersion> TemplateRepository::put(const NewVersion &version)
{
    static const QRegularExpression namePattern(
            QStringLiteral("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"));
    if (!namePattern.match(version.name).hasMatch()) {
        return Common::fail(QStringLiteral("template.bad_name"),
                            QStringLiteral("'%1' is not a template name: use letters, digits, "
                                           "'.', '_' and '-', starting with a letter or digit.")
                                    .arg(version.name));
    }
    if (version.subject.trimmed().isEmpty()) {
        return Common::fail(QStringLiteral("template.no_subject"),
                            QStringLiteral("A template version needs a subject."));
    }
    if (version.htmlBody.isEmpty() && (!version.textBody || version.textBody->isEmpty())) {
        return Common::fail(QStringLiteral("template.no_body"),
                            QStringLiteral("A template version needs an HTML or a text body."));
    }
    if (auto ok = m_connection.begin(); !ok)
        return Common::fail(ok.error());
    const auto abort = [&](const Common::Error &error) {
        m_connection.rollback();
        return Common::fail(error);
    };
    // The upsert locks the template's row, so concurrent saves number their versions in turn.
    // Every save increases the revision, so an editor that started from an older one is told.
    auto templateRow = m_connection.exec(
            QStringLiteral("INSERT INTO templates (name) VALUES ($1) ON CONFLICT (name) DO UPDATE "
                           "SET updated_at = now(), updated_by = current_user, "
                           "revision = templates.revision + 1 RETURNING id"),
            {version.name});
    if (!templateRow)
        return abort(templateRow.error());
    const qint64 templateId = templateRow->toInt(0, 0);
    auto inserted = m_connection.exec(
            QStringLiteral("INSERT INTO template_versions (template_id, locale, version, subject, "
                           "html_body, text_body, note) "
                           "SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6 "
                           "FROM template_versions WHERE template_id = $1 AND locale = $2 "
                           "RETURNING id, version, created_at"),
            {templateId, version.locale, version.subject, version.htmlBody,
             version.textBody ? QVariant(*version.textBody) : QVariant(), version.note});
    if (!inserted)
        return abort(inserted.error());
    if (auto ok = m_connection.commit(); !ok)
        return abort(ok.error());
    TemplateVersion saved;
    saved.templateId = templateId;
    saved.id = inserted->toInt(0, 0);
    saved.name = version.name;
    saved.locale = version.locale;
    saved.version = int(inserted->toInt(0, 1));
    saved.subject = version.subject;
    saved.htmlBody = version.htmlBody;
    saved.textBody = version.textBody.value_or(QString());
    saved.hasTextBody = version.textBody.has_value();
    saved.createdAt = inserted->toDateTime(0, 2);
    return saved;
}

Common::Result<QList<TemplateSummary>> TemplateRepository::list()
{
    auto result = m_connection.exec(QStringLiteral(
            "SELECT t.id, t.name, t.kind, count(v.id), coalesce(max(v.version), 0), "
            "  (array_agg(v.id ORDER BY v.version DESC, v.id DESC))[1], "
            "  (array_agg(v.subject ORDER BY v.version DESC, v.id DESC))[1], t.updated_at "
            "FROM templates t LEFT JOIN template_versions v ON v.template_id = t.id "
            "GROUP BY t.id ORDER BY t.name"));
    if (!result)
        return Common::fail(result.error());
    QList<TemplateSummary> list;
    for (int row = 0; row < result->rowCount(); ++row) {
        list.append(TemplateSummary{result->toInt(row, 0), result->text(row, 1),
                                    result->text(row, 2), int(result->toInt(row, 3)),
                                    int(result->toInt(row, 4)), result->toInt(row, 5),
                                    result->text(row, 6), result->toDateTime(row, 7)});
    }
    return list;
}

Common::Result<std::optional<TemplateVersion>> TemplateRepository::latest(const QString &name,
                                                                          const QString &locale)
{
    auto result = m_connection.exec(
            QStringLiteral("SELECT t.id, v.id, v.version, v.subject, v.html_body, v.text_body, "
                           "v.created_at, v.locale "
                           "FROM templates t JOIN template_versions v ON v.template_id = t.id "
                           "WHERE t.name = $1 AND (v.locale = $2 OR v.locale = t.default_locale) "
                           "ORDER BY v.locale = $2 DESC, v.version DESC LIMIT 1"),
            {name, locale});
    if (!result)
        return Common::fail(result.error());
    if (result->rowCount() == 0)
        return std::optional<TemplateVersion>();
    TemplateVersion version;
    version.templateId = result->toInt(0, 0);
    version.id = result->toInt(0, 1);
    version.name = name;
    version.version = int(result->toInt(0, 2));
    version.subject = result->text(0, 3);
    version.htmlBody = result->text(0, 4);
    version.textBody = result->text(0, 5);
    version.hasTextBody = !result->isNull(0, 5);
    version.createdAt = result->toDateTime(0, 6);
    version.locale = result->text(0, 7);
    return std::optional<TemplateVersion>(version);
}

} // namespace Queue
