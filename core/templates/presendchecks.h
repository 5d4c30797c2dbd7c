#pragma once

#include <QList>
#include <QRegularExpression>
#include <QString>
#include <QStringList>

#include <memory>

namespace Templates {

// One thing the pre-send checks found in a rendered message.
struct CheckFinding
{
    enum class Severity { Error, Warning, Info };
    Severity severity = Severity::Warning;
    // Stable codes: missing-variable, link-malformed, link-unsafe, image-no-alt, html-size,
    // html-clipped, no-text-part, no-unsubscribe, client-support.
    QString code;
    QString message;
    QString url; // where to read more (Can I Email's page), or empty
};

// Checks a rendered message before it is sent: what the editor's panel shows and what the command
// line can run. Pure functions over the rendered HTML and text, the linter's report and the
// template's kind (transactional / marketing / system).
class PreSendChecks
{
public:
    struct Input
    {
        QString kind;
        QString html;
        QString text;
        bool hasTextBody = false; // false: the text part is generated from the HTML
        QStringList missingVariables;
    };

    // Gmail clips a message whose HTML is larger than 102 KB ("[Message clipped]"), hiding the
    // rest, unsubscribe links included. The checks warn from 90 KB on.
    static constexpr qsizetype gmailClipBytes = 102 * 1024;
    static constexpr qsizetype sizeWarningBytes = 90 * 1024;

    static QList<CheckFinding> run(const Input &input);

    static QList<CheckFinding> missingVariables(const QStringList &missing);
    static QList<CheckFinding> links(const QString &html);
    static QList<CheckFinding> images(const QString &html);
    static QList<CheckFinding> size(const QString &html);
    static QList<CheckFinding> textPart(const QString &html, const QString &text, bool hasTextBody);
    static QList<CheckFinding> unsubscribe(const QString &kind, const QString &html);
    // HTML and CSS that common mail clients do not support, from the bundled Can I Email data.
    static QList<CheckFinding> clientSupport(const QString &html);
};

// The Can I Email data set (https://www.caniemail.com, MIT licence) as bundled in
// resources/caniemail/caniemail.json: features Postdesk detects and their support in Gmail,
// Outlook (Windows), Apple Mail and Yahoo Mail. Loaded once; safe to use from any thread.
class CanIEmail
{
public:
    enum class Support { Yes, Partial, No, Unknown };
    struct Client
    {
        QString key;
        QString label;
    };
    struct Feature
    {
        QString slug;
        QString title;
        QString url;
        QString kind;
        QStringList names;
        QList<Support> support;             // in the order of clients()
        QList<QRegularExpression> patterns; // for the CSS kinds, one per name
    };
    struct Detected
    {
        const Feature *feature = nullptr;
        QString match; // what was found, e.g. "display: flex"
    };

    static const CanIEmail &bundled();

    bool isValid() const { return !m_features.isEmpty(); }
    QString package() const { return m_package; }
    const QList<Client> &clients() const { return m_clients; }
    const QList<Feature> &features() const { return m_features; }

    // Features of the data set used in html.
    QList<Detected> detect(const QString &html) const;

private:
    CanIEmail();
    QString m_package;
    QList<Client> m_clients;
    QList<Feature> m_features;
};

// Tags of an HTML document as the checks see them: names lower-cased, attributes decoded.
struct HtmlTag
{
    QString name;
    QList<std::pair<QString, QString>> attributes; // names lower-cased
    qsizetype position = 0;                        // of '<' in the source
    qsizetype end = 0;                             // after '>'
    bool hasAttribute(const QString &name) const;
    QString attribute(const QString &name) const;
};
QList<HtmlTag> scanHtmlTags(const QString &html);

} // namespace Templates
