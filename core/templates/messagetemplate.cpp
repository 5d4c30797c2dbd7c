#include "messagetemplate.h"

#include "htmltotext.h"

#include <QObject>

namespace Templates {

namespace {

Common::Result<QString> renderPart(Engine &engine, const QString &source, const Value &data,
                                   const QString &part)
{
    auto result = engine.render(source, data);
    if (!result) {
        Common::Error error = result.error();
        error.message = QObject::tr("%1: %2").arg(part, error.message);
        return Common::fail(std::move(error));
    }
    return result;
}

} // namespace

Common::Result<MessageTemplate::Rendered> MessageTemplate::render(Engine &engine,
                                                                  const Value &data) const
{
    Rendered out;
    auto subject = renderPart(engine, m_subject, data, QObject::tr("Subject"));
    if (!subject)
        return Common::fail(subject.error());
    out.subject = HtmlToText::decodeEntities(*subject).simplified();
    auto html = renderPart(engine, m_html, data, QObject::tr("HTML body"));
    if (!html)
        return Common::fail(html.error());
    out.html = *html;
    if (hasTextBody()) {
        auto text = renderPart(engine, m_text, data, QObject::tr("Text body"));
        if (!text)
            return Common::fail(text.error());
        out.text = *text;
    } else {
        out.text = HtmlToText::convert(out.html);
    }
    return out;
}

} // namespace Templates
