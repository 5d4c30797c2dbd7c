#pragma once

#include "common/result.h"
#include "helpercall.h"
#include "template.h"
#include "value.h"

#include <QByteArray>
#include <QLocale>
#include <QString>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace Templates {

// Renders Handlebars templates as handlebars.js 4.7 does: the same output byte for byte, with
// its built-in helpers (if, unless, each, with, lookup, log), Postdesk's helpers for email
// (comparison, fallbacks, dates, numbers, text) and any helper a feature registers.
//
// Compiled templates are cached by content, so rendering the same text again skips parsing.
// An Engine is not thread-safe while helpers or partials are being registered; rendering with a
// const Engine from several threads is safe.
class Engine
{
public:
    Engine();

    // Replaces any helper of the same name, built-ins included.
    void registerHelper(const QString &name, Helper helper);
    bool hasHelper(std::string_view name) const;
    const Helper *helper(std::string_view name) const;
    // Helper names are interned once per process, so that a render finds a helper by index.
    static int helperId(std::string_view name);
    const Helper *helper(int id) const
    {
        return id >= 0 && size_t(id) < m_helpersById.size() ? m_helpersById[size_t(id)].get()
                                                            : nullptr;
    }

    // A partial whose source does not parse is still registered, as handlebars.js compiles
    // partials only when they are used: rendering a template that uses it fails with the parse
    // error. The error is also returned here.
    Common::Status registerPartial(const QString &name, const QString &source);
    void registerPartial(const QString &name, std::shared_ptr<const Template> compiled);
    void unregisterPartial(const QString &name);
    std::shared_ptr<const Template> partial(std::string_view name) const;
    // The parse error of a partial registered with bad source, or nullptr.
    const Common::Error *partialError(std::string_view name) const;

    // Parses a template, or returns the cached parse of the same text.
    Common::Result<std::shared_ptr<const Template>> compile(const QString &source);
    Common::Result<std::shared_ptr<const Template>> compile(std::string_view utf8Source);

    // Renders into UTF-8; data is the template's context ({{@root}}).
    Common::Result<std::string> renderUtf8(const Template &compiled, const Value &data) const;
    Common::Result<QString> render(const Template &compiled, const Value &data) const;
    // Compiles (through the cache) and renders.
    Common::Result<QString> render(const QString &source, const Value &data);

    // The locale number, currency and date helpers use unless a call names one.
    void setLocale(const QLocale &locale) { m_locale = locale; }
    const QLocale &locale() const { return m_locale; }

    // Limits that turn runaway templates into errors instead of crashes.
    void setMaxOutputSize(size_t bytes) { m_maxOutput = bytes; }
    size_t maxOutputSize() const { return m_maxOutput; }
    static constexpr int maxCallDepth = 400;

    // Which built-in block helper h is, while it has not been replaced.
    enum class Builtin { None, If, Unless, Each, With };
    Builtin builtin(const Helper *h) const
    {
        if (!h)
            return Builtin::None;
        for (int i = 0; i < 4; ++i) {
            if (m_builtins[i] == h)
                return Builtin(i + 1);
        }
        return Builtin::None;
    }

    void clearCache() { m_cache.clear(); }
    size_t cacheSize() const { return m_cache.size(); }

private:
    struct StringHash
    {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
    };
    std::unordered_map<std::string, std::shared_ptr<const Helper>, StringHash, std::equal_to<>>
            m_helpers;
    std::vector<std::shared_ptr<const Helper>> m_helpersById;
    const Helper *m_builtins[4] = {nullptr, nullptr, nullptr, nullptr};
    std::unordered_map<std::string, std::shared_ptr<const Template>, StringHash, std::equal_to<>>
            m_partials;
    std::unordered_map<std::string, Common::Error, StringHash, std::equal_to<>> m_partialErrors;
    std::unordered_map<std::string, std::shared_ptr<const Template>, StringHash, std::equal_to<>>
            m_cache;
    QLocale m_locale;
    size_t m_maxOutput = size_t(256) * 1024 * 1024;
};

} // namespace Templates
