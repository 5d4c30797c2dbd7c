#include "renderer.h"

#include "builtinhelpers.h"
#include "engine.h"

#include <QObject>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#ifdef __SSE2__
#    include <emmintrin.h>
#endif

namespace Templates {

using namespace Ast;
using Slot = HelperCall::Slot;

struct Renderer::DepthNode
{
    const Value *context;
    const DepthNode *parent;
};

struct Renderer::BlockParamNode
{
    const Value *values[2] = {nullptr, nullptr};
    int count = 0;
    const BlockParamNode *parent = nullptr;
};

// handlebars.js data frames: createFrame() copies the parent's fields and links to it (@../).
struct Renderer::DataFrame
{
    const DataFrame *parent = nullptr;
    const Value *root = nullptr;
    const Value *index = nullptr;
    const Value *key = nullptr;
    const Value *first = nullptr;
    const Value *last = nullptr;
    const Closure *partialBlock = nullptr;
    Value indexStorage;
};

struct Renderer::PartialScope
{
    std::string_view name;
    const Closure *closure = nullptr;
    const PartialScope *parent = nullptr;
};

// A program with the environment it was created in: what handlebars.js' wrapProgram() captures.
struct Renderer::Closure
{
    const Program *program = nullptr;
    const DepthNode *depths = nullptr;
    const DataFrame *data = nullptr;
    const BlockParamNode *blockParams = nullptr;
    const PartialScope *partials = nullptr;
    // A partial block ({{#> layout}}...{{/layout}}) restores the outer @partial-block when run.
    bool partialBlockWrapper = false;
    const Closure *outerPartialBlock = nullptr;
};

struct Renderer::Env
{
    const Value *context = nullptr;
    const DepthNode *depths = nullptr;
    const DataFrame *data = nullptr;
    const BlockParamNode *blockParams = nullptr;
    const PartialScope *partials = nullptr;
};

namespace {

const Value &undefinedValue()
{
    static const Value v;
    return v;
}

const Value &trueValue()
{
    static const Value v = Value::fromBool(true);
    return v;
}

const Value &falseValue()
{
    static const Value v = Value::fromBool(false);
    return v;
}

const Value &emptyObject()
{
    static const Value v = Value::fromMembers({});
    return v;
}

bool isObjectLike(const Value &v)
{
    return v.isArray() || v.isObject();
}

// `context != depths[0]` in wrapProgram(): loose inequality.
bool sameContext(const Value *a, const Value *b)
{
    if (a == b)
        return true;
    const Value &x = a ? *a : undefinedValue();
    const Value &y = b ? *b : undefinedValue();
    if (isObjectLike(x) || isObjectLike(y))
        return x.isSameEntity(y);
    return x.looseEquals(y);
}

// A few argument slots on the stack, more on the heap.
class SlotBuffer
{
public:
    explicit SlotBuffer(size_t n)
    {
        if (n > std::size(m_local)) {
            m_heap = std::make_unique<Slot[]>(n);
            m_data = m_heap.get();
        } else {
            m_data = m_local;
        }
    }
    Slot *data() { return m_data; }
    Slot &operator[](size_t i) { return m_data[i]; }

private:
    Slot m_local[4];
    std::unique_ptr<Slot[]> m_heap;
    Slot *m_data;
};

// The character reference for a byte that needs escaping.
std::string_view entityFor(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#x27;";
    case '`':
        return "&#x60;";
    default:
        return "&#x3D;";
    }
}

// Utils.escapeExpression: & < > " ' ` = become character references. Runs that need no escaping
// are appended whole; with SSE2 the search goes sixteen bytes at a time (the last block of a
// longer text overlaps the one before it instead of falling back to single bytes).
void appendEscapedText(std::string &out, std::string_view s)
{
    static constexpr auto special = [] {
        std::array<bool, 256> t{};
        for (unsigned char c : {'&', '<', '>', '"', '\'', '`', '='})
            t[c] = true;
        return t;
    }();
    const char *const begin = s.data();
    const char *const end = begin + s.size();
    const char *start = begin; // the first byte not yet appended
    const char *p = begin;
#ifdef __SSE2__
    if (s.size() >= 16) {
        const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'),
                      quot = _mm_set1_epi8('"'), apos = _mm_set1_epi8('\''),
                      tick = _mm_set1_epi8('`'), eq = _mm_set1_epi8('=');
        auto specials = [&](const char *at) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(at));
            const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, amp),
                                                                       _mm_cmpeq_epi8(v, lt)),
                                                          _mm_or_si128(_mm_cmpeq_epi8(v, gt),
                                                                       _mm_cmpeq_epi8(v, quot))),
                                             _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, apos),
                                                                       _mm_cmpeq_epi8(v, tick)),
                                                          _mm_cmpeq_epi8(v, eq)));
            return unsigned(_mm_movemask_epi8(hit));
        };
        while (p < end) {
            // A block of sixteen at p, or the last sixteen bytes with those before p masked off.
            const char *block = end - p >= 16 ? p : end - 16;
            unsigned mask = specials(block) & (0xFFFFu << unsigned(p - block));
            if (mask == 0) {
                p = block + 16;
                continue;
            }
            const char *hit = block + __builtin_ctz(mask);
            out.append(start, size_t(hit - start));
            out.append(entityFor(*hit));
            start = p = hit + 1;
        }
        out.append(start, size_t(end - start));
        return;
    }
#endif
    for (; p != end; ++p) {
        if (!special[static_cast<unsigned char>(*p)])
            continue;
        out.append(start, size_t(p - start));
        out.append(entityFor(*p));
        start = p + 1;
    }
    out.append(start, size_t(end - start));
}

// invokePartialWrapper: every line of out[start..] gets the indent, except an empty last one.
// Done in place: count the lines, grow the string once, and move the lines back to front.
void indentLines(std::string &out, size_t start, std::string_view indent)
{
    const size_t n = out.size() - start;
    if (n == 0)
        return;
    // Where each line starts (relative to start); a final newline does not start a line.
    thread_local std::vector<size_t> lineStarts;
    lineStarts.clear();
    lineStarts.push_back(0);
    {
        const char *base = out.data() + start;
        const char *p = base;
        const char *last = base + n - 1;
        while ((p = static_cast<const char *>(std::memchr(p, '\n', size_t(last - p))))) {
            ++p;
            lineStarts.push_back(size_t(p - base));
        }
    }
    const size_t k = indent.size();
    const size_t lines = lineStarts.size();
    out.resize(out.size() + lines * k);
    char *base = out.data() + start;
    size_t src = n;
    size_t dst = n + lines * k;
    for (size_t i = lines; i-- > 0;) {
        const size_t lineStart = lineStarts[i];
        const size_t len = src - lineStart;
        dst -= len;
        std::memmove(base + dst, base + lineStart, len);
        dst -= k;
        std::memcpy(base + dst, indent.data(), k);
        src = lineStart;
    }
}

QString where(const Location &loc)
{
    return QObject::tr(" (line %1, column %2)").arg(loc.line).arg(loc.column);
}

} // namespace

const Value &HelperCall::Slot::get() const
{
    return ptr ? *ptr : undefinedValue();
}

const Value &HelperCall::param(int i) const
{
    if (i < 0 || i >= m_paramCount)
        return undefinedValue();
    return m_params[i].get();
}

const Value *HelperCall::hash(std::string_view key) const
{
    // The last occurrence wins, as in a JavaScript object literal.
    for (int i = m_hashCount - 1; i >= 0; --i) {
        if (m_hashKeys[i].key == key)
            return &m_hashValues[i].get();
    }
    return nullptr;
}

const Value &HelperCall::context() const
{
    return m_context ? *m_context : undefinedValue();
}

const QLocale &HelperCall::locale() const
{
    return m_renderer->locale();
}

Common::Status HelperCall::fn(const Value &context, const BlockOptions *options)
{
    return m_renderer->runBlock(*this, false, context, options);
}

Common::Status HelperCall::inverse(const Value &context)
{
    return m_renderer->runBlock(*this, true, context, nullptr);
}

Common::Result<std::string> HelperCall::capture(const Value &context, bool inverse)
{
    return m_renderer->captureBlock(*this, inverse, context);
}

const Value *HelperCall::data(std::string_view name) const
{
    return m_renderer->dataValue(*this, name);
}

Renderer::Renderer(const Engine &engine, std::string *out)
    : m_engine(engine)
    , m_out(out)
{ }

const QLocale &Renderer::locale() const
{
    return m_engine.locale();
}

bool Renderer::fail(Common::Error error)
{
    if (!m_error)
        m_error = std::move(error);
    return false;
}

bool Renderer::failMessage(const Location &loc, const QString &message)
{
    return fail(Common::makeError(QStringLiteral("templates.render"), message + where(loc)));
}

Common::Status Renderer::renderRoot(const Program &root, const Value &data)
{
    DataFrame frame;
    frame.root = &data;
    Closure closure;
    closure.program = &root;
    closure.data = &frame;
    if (!program(root, &data, closure, nullptr, nullptr, false)) {
        if (!m_error)
            m_error = Common::makeError(QStringLiteral("templates.render"),
                                        QObject::tr("The template could not be rendered."));
        return Common::fail(*m_error);
    }
    return {};
}

bool Renderer::program(const Program &p, const Value *context, const Closure &closure,
                       const DataFrame *dataOverride, const BlockParamNode *params, bool addLevel)
{
    if (m_depth >= Engine::maxCallDepth) {
        return fail(Common::makeError(
                QStringLiteral("templates.depth"),
                QObject::tr("Blocks and partials nest more than %1 levels deep (a partial that "
                            "includes itself?)")
                        .arg(Engine::maxCallDepth)));
    }
    ++m_depth;
    const Value *ctx = context ? context : &undefinedValue();
    DepthNode node{ctx, closure.depths};
    Env env;
    env.context = ctx;
    env.depths = (closure.depths && sameContext(ctx, closure.depths->context)) ? closure.depths
                                                                               : &node;
    env.data = dataOverride ? dataOverride : closure.data;
    BlockParamNode emptyLevel;
    emptyLevel.parent = closure.blockParams;
    // A template's own root gets no block parameter level; every program run from a block does.
    env.blockParams = !addLevel ? closure.blockParams : (params ? params : &emptyLevel);
    env.partials = closure.partials;

    // Inline partials are hoisted: they exist for the whole program, wherever they are written.
    std::unique_ptr<Closure[]> inlineClosures;
    std::unique_ptr<PartialScope[]> inlineScopes;
    const size_t inlineCount = p.inlinePartials.size();
    if (inlineCount) {
        inlineClosures = std::make_unique<Closure[]>(inlineCount);
        inlineScopes = std::make_unique<PartialScope[]>(inlineCount);
        const PartialScope *parent = closure.partials;
        for (size_t i = 0; i < inlineCount; ++i) {
            inlineScopes[i].name = p.inlinePartials[i]->partialName;
            inlineScopes[i].closure = &inlineClosures[i];
            inlineScopes[i].parent = parent;
            parent = &inlineScopes[i];
        }
        for (size_t i = 0; i < inlineCount; ++i) {
            Closure &c = inlineClosures[i];
            c.program = p.inlinePartials[i]->program.get();
            c.depths = closure.depths;
            c.data = closure.data;
            c.blockParams = closure.blockParams;
            c.partials = parent;
        }
        env.partials = parent;
    }

    const size_t limit = m_engine.maxOutputSize();
    for (const auto &s : p.body) {
        if (!statement(*s, env)) {
            --m_depth;
            return false;
        }
        if (m_out->size() > limit) {
            --m_depth;
            return fail(Common::makeError(QStringLiteral("templates.size"),
                                          QObject::tr("The output exceeds %1 MB.")
                                                  .arg(limit / (1024 * 1024))));
        }
    }
    --m_depth;
    return true;
}

bool Renderer::statement(const Statement &s, const Env &env)
{
    switch (s.kind) {
    case Statement::Kind::Content:
        m_out->append(s.value);
        return true;
    case Statement::Kind::Comment:
    case Statement::Kind::InlinePartial:
        return true;
    case Statement::Kind::Mustache:
        return mustache(s, env);
    case Statement::Kind::Block:
        return block(s, env);
    case Statement::Kind::Partial:
    case Statement::Kind::PartialBlock:
        return partial(s, env);
    }
    return true;
}

void Renderer::appendEscaped(const Value &v)
{
    switch (v.type()) {
    case Value::Type::Undefined:
    case Value::Type::Null:
        return;
    case Value::Type::String:
        appendEscapedText(*m_out, v.toStdString());
        return;
    case Value::Type::Number:
        Value::appendJsNumber(*m_out, v.toNumber());
        return;
    case Value::Type::Bool:
        m_out->append(v.toBool() ? "true" : "false");
        return;
    default:
        appendEscapedText(*m_out, v.toJsString());
        return;
    }
}

void Renderer::appendRaw(const Value &v)
{
    if (!v.isNullish())
        v.appendJsString(*m_out);
}

bool Renderer::mustache(const Statement &s, const Env &env)
{
    Slot slot;
    bool handled = false;
    if (s.classification == Expression::Classification::Simple) {
        if (!resolvePath(*s.call.path, env, &slot))
            return false;
    } else {
        if (!callHelper(s.call, s.classification, env, nullptr, nullptr, &slot, &handled))
            return false;
    }
    if (s.escaped)
        appendEscaped(slot.get());
    else
        appendRaw(slot.get());
    return true;
}

bool Renderer::block(const Statement &s, const Env &env)
{
    Slot slot;
    bool handled = false;
    const Program *prog = s.program.get();
    const Program *inv = s.inverse.get();
    // #if, #unless, #each and #with with one argument: called directly, without the generic
    // helper call, as long as no helper of the same name replaced them.
    if (s.classification == Expression::Classification::Helper && s.call.params.size() == 1
        && !s.call.hasHash) {
        const Expression &path = *s.call.path;
        const Engine::Builtin builtin = (path.parts.size() == 1 && !path.scoped && !path.depth)
                ? m_engine.builtin(m_engine.helper(path.helperIdOriginal))
                : Engine::Builtin::None;
        if (builtin != Engine::Builtin::None) {
            Slot param;
            if (!evaluate(*s.call.params[0], env, &param))
                return false;
            HelperCall call;
            call.m_renderer = this;
            call.m_env = &env;
            call.m_name = path.original;
            call.m_params = &param;
            call.m_paramCount = 1;
            call.m_context = env.context->isNullish() ? &emptyObject() : env.context;
            call.m_program = prog;
            call.m_inverse = inv;
            Common::Result<Value> result;
            switch (builtin) {
            case Engine::Builtin::If:
            case Engine::Builtin::Unless: {
                const Value &v = param.get();
                bool empty = !v.isTruthy() || v.isEmpty();
                if (builtin == Engine::Builtin::Unless)
                    empty = !empty;
                return bool(runBlock(call, empty, *call.m_context, nullptr));
            }
            case Engine::Builtin::Each:
                result = BuiltinHelpers::each(call);
                break;
            default:
                result = BuiltinHelpers::with(call);
                break;
            }
            if (m_error)
                return false;
            if (!result) {
                Common::Error error = result.error();
                error.message += where(path.loc);
                return fail(std::move(error));
            }
            return true;
        }
    }
    if (s.classification != Expression::Classification::Simple) {
        if (!callHelper(s.call, s.classification, env, prog, inv, &slot, &handled))
            return false;
        if (handled || s.classification == Expression::Classification::Helper) {
            appendRaw(slot.get());
            return true;
        }
    } else if (!resolvePath(*s.call.path, env, &slot)) {
        return false;
    }
    return blockHelperMissing(slot.get(), env, prog, inv);
}

// helpers/block-helper-missing.js
bool Renderer::blockHelperMissing(const Value &value, const Env &env, const Program *prog,
                                  const Program *inv)
{
    HelperCall call;
    call.m_renderer = this;
    call.m_env = &env;
    call.m_context = env.context->isNullish() ? &emptyObject() : env.context;
    call.m_program = prog;
    call.m_inverse = inv;
    if (value.isBool() && value.toBool())
        return bool(runBlock(call, false, *env.context, nullptr));
    if (value.isNullish() || value.isBool())
        return bool(runBlock(call, true, *env.context, nullptr));
    if (value.isArray()) {
        if (value.items().empty())
            return bool(runBlock(call, true, *env.context, nullptr));
        static const int eachId = Engine::helperId("each");
        const Helper *each = m_engine.helper(eachId);
        if (!each)
            return fail(Common::makeError(QStringLiteral("templates.helper"),
                                          QObject::tr("Missing helper: \"each\"")));
        Slot param;
        param.ptr = &value;
        call.m_params = &param;
        call.m_paramCount = 1;
        call.m_name = "each";
        auto result = (*each)(call);
        if (m_error)
            return false;
        if (!result)
            return fail(result.error());
        appendRaw(*result);
        return true;
    }
    return bool(runBlock(call, false, value, nullptr));
}

bool Renderer::callHelper(const Call &c, const Expression::Classification kind, const Env &env,
                          const Program *prog, const Program *inv, Slot *result, bool *handled)
{
    const Expression &path = *c.path;
    const bool simple = path.parts.size() == 1 && !path.scoped && !path.depth;
    const Helper *helper = nullptr;
    if (kind == Expression::Classification::Ambiguous)
        helper = m_engine.helper(path.helperId);
    else if (simple)
        helper = m_engine.helper(path.helperIdOriginal);

    if (!helper) {
        if (!resolvePath(path, env, result))
            return false;
        if (kind == Expression::Classification::Ambiguous)
            return true;
        // helperMissing: an error when there are arguments; the path's value cannot be called.
        if (result->get().isTruthy())
            return failMessage(path.loc,
                               QObject::tr("\"%1\" is not a helper")
                                       .arg(QString::fromStdString(path.original)));
        if (!c.params.empty())
            return failMessage(path.loc,
                               QObject::tr("Missing helper: \"%1\"")
                                       .arg(QString::fromStdString(path.original)));
        result->ptr = nullptr;
        return true;
    }

    const size_t paramCount = c.params.size();
    const size_t hashCount = c.hash.size();
    SlotBuffer slots(paramCount + hashCount);
    for (size_t i = 0; i < paramCount; ++i) {
        if (!evaluate(*c.params[i], env, &slots[i]))
            return false;
    }
    for (size_t i = 0; i < hashCount; ++i) {
        if (!evaluate(*c.hash[i].value, env, &slots[paramCount + i]))
            return false;
    }
    HelperCall call;
    call.m_renderer = this;
    call.m_env = &env;
    call.m_name = kind == Expression::Classification::Ambiguous ? path.parts[0] : path.original;
    call.m_params = slots.data();
    call.m_paramCount = int(paramCount);
    call.m_hashKeys = c.hash.data();
    call.m_hashValues = slots.data() + paramCount;
    call.m_hashCount = int(hashCount);
    call.m_context = env.context->isNullish() ? &emptyObject() : env.context;
    call.m_program = prog;
    call.m_inverse = inv;
    auto value = (*helper)(call);
    if (m_error)
        return false;
    if (!value) {
        Common::Error error = value.error();
        error.message += where(path.loc);
        return fail(std::move(error));
    }
    result->owned = std::move(*value);
    result->ptr = &result->owned;
    *handled = true;
    return true;
}

bool Renderer::evaluate(const Expression &e, const Env &env, Slot *slot)
{
    switch (e.kind) {
    case Expression::Kind::Literal:
        slot->ptr = &e.literal;
        return true;
    case Expression::Kind::Path:
        return resolvePath(e, env, slot);
    case Expression::Kind::SubExpression: {
        if (e.classification == Expression::Classification::Simple)
            return resolvePath(*e.call->path, env, slot);
        bool handled = false;
        return callHelper(*e.call, e.classification, env, nullptr, nullptr, slot, &handled);
    }
    }
    return true;
}

bool Renderer::resolvePath(const Expression &e, const Env &env, Slot *slot)
{
    const Value *cur = nullptr;
    size_t i = 0;
    bool dataPath = false;
    if (e.blockParamDepth >= 0) {
        const BlockParamNode *n = env.blockParams;
        for (int d = 0; n && d < e.blockParamDepth; ++d)
            n = n->parent;
        cur = (n && e.blockParamIndex < n->count) ? n->values[e.blockParamIndex] : nullptr;
        i = 1;
    } else if (e.data) {
        dataPath = true;
        const DataFrame *frame = env.data;
        for (int d = 0; frame && d < e.depth; ++d)
            frame = frame->parent;
        if (frame && !e.parts.empty())
            cur = dataField(*frame, e.parts[0], e.partHashes[0]);
        i = 1;
    } else if (e.depth == 0) {
        cur = env.context;
    } else {
        const DepthNode *d = env.depths;
        for (int k = 0; d && k < e.depth; ++k)
            d = d->parent;
        cur = d ? d->context : nullptr;
    }
    for (; i < e.parts.size(); ++i) {
        // context != null ? lookupProperty(context, name) : context; data paths stop at falsy.
        if (!cur || cur->isNullish() || (dataPath && !cur->isTruthy()))
            break;
        const std::string &part = e.parts[i];
        double length = 0;
        static const size_t lengthHash = Value::keyHash("length");
        if (e.partHashes[i] == lengthHash && part == "length" && cur->jsLength(&length)) {
            slot->owned = Value::fromNumber(length);
            cur = &slot->owned;
            continue;
        }
        if (cur->isString()) {
            // "abc".[1] is "b": one UTF-16 code unit, as in JavaScript.
            const QString text = cur->toQString();
            bool isIndex = !part.empty() && part.size() < 10 && (part == "0" || part[0] != '0');
            for (char c : part)
                isIndex = isIndex && c >= '0' && c <= '9';
            const qsizetype index = isIndex ? qsizetype(std::stoll(part)) : -1;
            if (index >= 0 && index < text.size()) {
                const QChar ch = text.at(index);
                slot->owned = Value::fromString(ch.isSurrogate() ? QStringLiteral("\uFFFD")
                                                                 : QString(ch));
                cur = &slot->owned;
                continue;
            }
        }
        cur = cur->isObject() ? cur->member(part, e.partHashes[i], &e.partHints[i])
                              : cur->property(part, e.partHashes[i]);
    }
    slot->ptr = cur;
    return true;
}

Common::Status Renderer::runBlock(HelperCall &call, bool inverse, const Value &context,
                                  const HelperCall::BlockOptions *options)
{
    const Program *prog = inverse ? call.m_inverse : call.m_program;
    if (!prog)
        return {};
    const Env &env = *static_cast<const Env *>(call.m_env);
    Closure closure;
    closure.program = prog;
    closure.depths = env.depths;
    closure.data = env.data;
    closure.blockParams = env.blockParams;
    closure.partials = env.partials;

    DataFrame frame;
    const DataFrame *dataOverride = nullptr;
    BlockParamNode params;
    const BlockParamNode *paramsPtr = nullptr;
    if (options) {
        if (options->iteration) {
            if (env.data)
                frame = *env.data;
            frame.parent = env.data;
            frame.indexStorage = Value::fromNumber(options->index);
            frame.index = &frame.indexStorage;
            frame.key = options->key ? options->key : &frame.indexStorage;
            frame.first = options->first ? &trueValue() : &falseValue();
            frame.last = options->last ? &trueValue() : &falseValue();
            dataOverride = &frame;
        }
        if (options->blockParamCount > 0) {
            params.count = std::min(options->blockParamCount, 2);
            for (int i = 0; i < params.count; ++i)
                params.values[i] = options->blockParams[i];
            if (options->iteration && params.count == 2 && !params.values[1])
                params.values[1] = frame.key;
            params.parent = env.blockParams;
            paramsPtr = &params;
        }
    }
    if (!program(*prog, &context, closure, dataOverride, paramsPtr))
        return Common::fail(*m_error);
    return {};
}

Common::Result<std::string> Renderer::captureBlock(HelperCall &call, bool inverse,
                                                   const Value &context)
{
    std::string buffer;
    std::string *saved = m_out;
    m_out = &buffer;
    auto status = runBlock(call, inverse, context, nullptr);
    m_out = saved;
    if (!status)
        return Common::fail(status.error());
    return buffer;
}

const Value *Renderer::dataValue(const HelperCall &call, std::string_view name) const
{
    const Env &env = *static_cast<const Env *>(call.m_env);
    const DataFrame *frame = env.data;
    if (!frame)
        return nullptr;
    return dataField(*frame, name, Value::keyHash(name));
}

// @index, @key, @first, @last, @root: told apart by the name's hash (computed when the template
// was parsed), then confirmed.
const Value *Renderer::dataField(const DataFrame &frame, std::string_view name, size_t hash)
{
    static const size_t indexHash = Value::keyHash("index");
    static const size_t keyHash = Value::keyHash("key");
    static const size_t firstHash = Value::keyHash("first");
    static const size_t lastHash = Value::keyHash("last");
    static const size_t rootHash = Value::keyHash("root");
    if (hash == indexHash && name == "index")
        return frame.index;
    if (hash == keyHash && name == "key")
        return frame.key;
    if (hash == firstHash && name == "first")
        return frame.first;
    if (hash == lastHash && name == "last")
        return frame.last;
    if (hash == rootHash && name == "root")
        return frame.root;
    return nullptr;
}

bool Renderer::partial(const Statement &s, const Env &env)
{
    std::string dynamicName;
    std::string_view name = s.partialName;
    if (s.dynamicPartial) {
        Slot slot;
        if (!evaluate(*s.call.path, env, &slot))
            return false;
        dynamicName = slot.get().toJsString();
        name = dynamicName;
    }

    // The context: the argument if there is one, extended with the hash arguments.
    Slot contextSlot;
    const Value *context = env.context;
    if (!s.call.params.empty()) {
        if (!evaluate(*s.call.params[0], env, &contextSlot))
            return false;
        context = &contextSlot.get();
    }
    Value merged;
    if (s.call.hasHash) {
        std::vector<Value::Member> members;
        members.reserve((context->isObject()          ? context->members().size()
                                 : context->isArray() ? context->items().size()
                                                      : 0)
                        + s.call.hash.size());
        if (context->isObject()) {
            members = context->members();
        } else if (context->isArray()) {
            const auto &items = context->items();
            for (size_t i = 0; i < items.size(); ++i)
                members.push_back({Value::fromString(std::to_string(i)), items[i]});
        }
        for (const HashPair &pair : s.call.hash) {
            Slot v;
            if (!evaluate(*pair.value, env, &v))
                return false;
            members.push_back({Value::fromString(pair.key), v.get()});
        }
        merged = Value::fromMembers(std::move(members));
        context = &merged;
    }

    // Which partial: @partial-block, an inline partial in scope, or a registered one.
    const Closure *closure = nullptr;
    std::shared_ptr<const Template> compiled;
    if (name == "@partial-block") {
        closure = env.data ? env.data->partialBlock : nullptr;
    } else {
        for (const PartialScope *scope = env.partials; scope; scope = scope->parent) {
            if (scope->name == name) {
                closure = scope->closure;
                break;
            }
        }
        if (!closure)
            compiled = m_engine.partial(name);
    }

    // A partial block: {{> @partial-block}} inside the partial renders it; its inline partials
    // are visible to the partial.
    Closure blockClosure;
    DataFrame blockFrame;
    const DataFrame *data = env.data;
    const PartialScope *scope = env.partials;
    std::unique_ptr<Closure[]> inlineClosures;
    std::unique_ptr<PartialScope[]> inlineScopes;
    if (s.kind == Statement::Kind::PartialBlock) {
        blockClosure.program = s.program.get();
        blockClosure.depths = env.depths;
        blockClosure.data = env.data;
        blockClosure.blockParams = env.blockParams;
        blockClosure.partials = env.partials;
        blockClosure.partialBlockWrapper = true;
        blockClosure.outerPartialBlock = env.data ? env.data->partialBlock : nullptr;
        if (env.data)
            blockFrame = *env.data;
        blockFrame.parent = env.data;
        blockFrame.partialBlock = &blockClosure;
        data = &blockFrame;
        const auto &inlines = s.program->inlinePartials;
        if (!inlines.empty()) {
            inlineClosures = std::make_unique<Closure[]>(inlines.size());
            inlineScopes = std::make_unique<PartialScope[]>(inlines.size());
            for (size_t i = 0; i < inlines.size(); ++i) {
                inlineScopes[i].name = inlines[i]->partialName;
                inlineScopes[i].closure = &inlineClosures[i];
                inlineScopes[i].parent = scope;
                scope = &inlineScopes[i];
            }
            for (size_t i = 0; i < inlines.size(); ++i) {
                inlineClosures[i].program = inlines[i]->program.get();
                inlineClosures[i].depths = env.depths;
                inlineClosures[i].data = env.data;
                inlineClosures[i].blockParams = env.blockParams;
                inlineClosures[i].partials = scope;
            }
        }
        if (!closure && !compiled)
            closure = &blockClosure;
    }
    if (!closure && !compiled) {
        if (const Common::Error *error = m_engine.partialError(name))
            return fail(*error);
    }
    if (!closure && !compiled)
        return failMessage(s.loc,
                           QObject::tr("The partial %1 could not be found")
                                   .arg(QString::fromUtf8(name.data(), qsizetype(name.size()))));

    // Rendered straight into the output; a standalone partial's lines are indented afterwards.
    const size_t start = m_out->size();
    bool ok = false;
    if (compiled) {
        Closure root;
        root.program = &compiled->program();
        root.data = data;
        root.partials = scope;
        ok = program(compiled->program(), context, root, nullptr, nullptr, false);
    } else if (closure->partialBlockWrapper) {
        DataFrame frame;
        if (data)
            frame = *data;
        frame.parent = data;
        frame.partialBlock = closure->outerPartialBlock;
        ok = program(*closure->program, context, *closure, &frame, nullptr);
    } else {
        ok = program(*closure->program, context, *closure, data, nullptr);
    }
    if (!ok)
        return false;
    if (!s.indent.empty())
        indentLines(*m_out, start, s.indent);
    return true;
}

} // namespace Templates
