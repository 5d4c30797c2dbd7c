#pragma once

#include "common/result.h"
#include "engine.h"
#include "value.h"

#include <QString>

namespace Templates {

// An email's templates: a subject, an HTML body and an optional text body. Without a text body
// the text part is generated from the rendered HTML (HtmlToText).
class MessageTemplate
{
public:
    struct Rendered
    {
        QString subject;
        QString html;
        QString text;
    };

    MessageTemplate() = default;
    MessageTemplate(QString subject, QString html, QString text = {})
        : m_subject(std::move(subject))
        , m_html(std::move(html))
        , m_text(std::move(text))
    { }

    const QString &subject() const { return m_subject; }
    const QString &html() const { return m_html; }
    const QString &text() const { return m_text; }
    bool hasTextBody() const { return !m_text.isEmpty(); }

    // The subject is a header, not HTML: character references that escaping produced ("&amp;")
    // are decoded, and line breaks become spaces.
    Common::Result<Rendered> render(Engine &engine, const Value &data) const;

private:
    QString m_subject;
    QString m_html;
    QString m_text;
};

} // namespace Templates
