#pragma once

#include <QString>

namespace Templates {

// The plain-text alternative of an HTML email (RFC 2046 multipart/alternative), for messages whose
// template has no text body: headings and paragraphs become blocks of text, lists become "* " or
// "1. " lines, table rows become lines (cells separated by spaces), links become "text (url)",
// images their alt text, entities are decoded, style/script/head are dropped and lines are wrapped
// at 78 columns (RFC 5322 section 2.1.1 recommends at most 78 characters).
class HtmlToText
{
public:
    static QString convert(const QString &html, int width = 78);
    // Decodes character references (&amp; &#233; &#x20AC; and the common named ones).
    static QString decodeEntities(QStringView text);
};

} // namespace Templates
