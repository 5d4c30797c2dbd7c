#pragma once

#include "common/result.h"
#include "value.h"

#include <QLocale>

#include <functional>

#include <string>
#include <string_view>

namespace Templates {

class Renderer;
namespace Ast {
struct Program;
struct HashPair;
} // namespace Ast

// What a helper sees of its call, as handlebars.js passes it in `options`: the arguments, the hash,
// the context (`this`), and for block helpers the block (fn) and its {{else}} part (inverse).
class HelperCall
{
public:
    // One evaluated argument: a pointer into the data, or a value the call owns.
    struct Slot
    {
        const Value *ptr = nullptr;
        Value owned;
        const Value &get() const;
    };

    // What a block helper passes along with a new context, as #each does.
    struct BlockOptions
    {
        const Value *blockParams[2] = {nullptr, nullptr};
        int blockParamCount = 0;
        bool iteration = false; // sets @index, @key, @first, @last
        const Value *key = nullptr;
        double index = 0;
        bool first = false;
        bool last = false;
    };

    std::string_view name() const { return m_name; }
    int size() const { return m_paramCount; }
    // The i-th argument; undefined when there are fewer.
    const Value &param(int i) const;
    // A hash argument (key=value); nullptr when absent.
    const Value *hash(std::string_view key) const;
    bool hasHash() const { return m_hashCount > 0; }
    // `this`: the context the helper was called in.
    const Value &context() const;
    bool isBlock() const { return m_program != nullptr || m_inverse != nullptr; }
    const QLocale &locale() const;

    // Renders the block with the given context into the output. Errors are also recorded by the
    // renderer, so a helper may simply return them.
    Common::Status fn(const Value &context, const BlockOptions *options = nullptr);
    Common::Status fn() { return fn(context()); }
    Common::Status inverse(const Value &context);
    Common::Status inverse() { return inverse(context()); }
    // Renders the block into a string instead of the output (to transform it).
    Common::Result<std::string> capture(const Value &context, bool inverse = false);

    // A @data variable visible at the call: "index", "key", "first", "last", "root".
    const Value *data(std::string_view name) const;

private:
    friend class Renderer;
    HelperCall() = default;
    Renderer *m_renderer = nullptr;
    const void *m_env = nullptr;
    std::string_view m_name;
    const Slot *m_params = nullptr;
    int m_paramCount = 0;
    const Ast::HashPair *m_hashKeys = nullptr;
    const Slot *m_hashValues = nullptr;
    int m_hashCount = 0;
    const Value *m_context = nullptr;
    const Ast::Program *m_program = nullptr;
    const Ast::Program *m_inverse = nullptr;
};

using Helper = std::function<Common::Result<Value>(HelperCall &call)>;

} // namespace Templates
