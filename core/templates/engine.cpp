#include "engine.h"

#include "builtinhelpers.h"
#include "renderer.h"

#include <QObject>

#include <algorithm>
#include <mutex>

namespace Templates {

namespace {
constexpr size_t maxCachedTemplates = 512;
}

Engine::Engine()
    : m_locale(QLocale(QLocale::English, QLocale::UnitedStates))
{
    BuiltinHelpers::registerAll(*this);
    m_builtins[0] = helper("if");
    m_builtins[1] = helper("unless");
    m_builtins[2] = helper("each");
    m_builtins[3] = helper("with");
}

int Engine::helperId(std::string_view name)
{
    static std::mutex mutex;
    static std::unordered_map<std::string, int, StringHash, std::equal_to<>> ids;
    std::lock_guard lock(mutex);
    auto it = ids.find(name);
    if (it != ids.end())
        return it->second;
    const int id = int(ids.size());
    ids.emplace(std::string(name), id);
    return id;
}

void Engine::registerHelper(const QString &name, Helper helper)
{
    const std::string key = name.toStdString();
    auto shared = std::make_shared<const Helper>(std::move(helper));
    const int id = helperId(key);
    if (m_helpersById.size() <= size_t(id))
        m_helpersById.resize(size_t(id) + 1);
    m_helpersById[size_t(id)] = shared;
    m_helpers[key] = std::move(shared);
}

bool Engine::hasHelper(std::string_view name) const
{
    return m_helpers.find(name) != m_helpers.end();
}

const Helper *Engine::helper(std::string_view name) const
{
    auto it = m_helpers.find(name);
    return it == m_helpers.end() ? nullptr : it->second.get();
}

Common::Status Engine::registerPartial(const QString &name, const QString &source)
{
    auto compiled = compile(source);
    if (!compiled) {
        Common::Error error = compiled.error();
        error.message = QObject::tr("Partial %1: %2").arg(name, error.message);
        m_partials.erase(name.toStdString());
        m_partialErrors[name.toStdString()] = error;
        return Common::fail(std::move(error));
    }
    registerPartial(name, *compiled);
    return {};
}

void Engine::registerPartial(const QString &name, std::shared_ptr<const Template> compiled)
{
    m_partialErrors.erase(name.toStdString());
    m_partials[name.toStdString()] = std::move(compiled);
}

void Engine::unregisterPartial(const QString &name)
{
    m_partials.erase(name.toStdString());
    m_partialErrors.erase(name.toStdString());
}

const Common::Error *Engine::partialError(std::string_view name) const
{
    auto it = m_partialErrors.find(name);
    return it == m_partialErrors.end() ? nullptr : &it->second;
}

std::shared_ptr<const Template> Engine::partial(std::string_view name) const
{
    auto it = m_partials.find(name);
    return it == m_partials.end() ? nullptr : it->second;
}

Common::Result<std::shared_ptr<const Template>> Engine::compile(std::string_view utf8Source)
{
    auto it = m_cache.find(utf8Source);
    if (it != m_cache.end())
        return it->second;
    auto compiled = Template::compile(utf8Source);
    if (!compiled)
        return compiled;
    if (m_cache.size() >= maxCachedTemplates)
        m_cache.clear();
    m_cache.emplace(std::string(utf8Source), *compiled);
    return compiled;
}

Common::Result<std::shared_ptr<const Template>> Engine::compile(const QString &source)
{
    const QByteArray utf8 = source.toUtf8();
    return compile(std::string_view(utf8.constData(), size_t(utf8.size())));
}

Common::Result<std::string> Engine::renderUtf8(const Template &compiled, const Value &data) const
{
    std::string out;
    out.reserve(std::max(compiled.outputSizeHint() + compiled.outputSizeHint() / 8,
                         compiled.source().size() + compiled.source().size() / 2 + 256));
    Renderer renderer(*this, &out);
    auto status = renderer.renderRoot(compiled.program(), data);
    if (!status)
        return Common::fail(status.error());
    compiled.setOutputSizeHint(out.size());
    return out;
}

Common::Result<QString> Engine::render(const Template &compiled, const Value &data) const
{
    auto out = renderUtf8(compiled, data);
    if (!out)
        return Common::fail(out.error());
    return QString::fromUtf8(out->data(), qsizetype(out->size()));
}

Common::Result<QString> Engine::render(const QString &source, const Value &data)
{
    auto compiled = compile(source);
    if (!compiled)
        return Common::fail(compiled.error());
    return render(**compiled, data);
}

} // namespace Templates
