#pragma once

#include "ast.h"
#include "helpercall.h"
#include "value.h"

#include <optional>
#include <string>

namespace Templates {

class Engine;

// One render of a template: the runtime of handlebars.js (runtime.js, the built-in helpers and
// what the JavaScript compiler emits for each statement), walking the prepared tree and writing
// UTF-8 into one buffer. Used by Engine; not part of the API.
class Renderer
{
public:
    struct Closure;
    struct DepthNode;
    struct BlockParamNode;
    struct DataFrame;
    struct PartialScope;
    struct Env;

    Renderer(const Engine &engine, std::string *out);

    Common::Status renderRoot(const Ast::Program &program, const Value &data);

    // Used by HelperCall.
    Common::Status runBlock(HelperCall &call, bool inverse, const Value &context,
                            const HelperCall::BlockOptions *options);
    Common::Result<std::string> captureBlock(HelperCall &call, bool inverse, const Value &context);
    const Value *dataValue(const HelperCall &call, std::string_view name) const;
    const QLocale &locale() const;

private:
    bool program(const Ast::Program &program, const Value *context, const Closure &closure,
                 const DataFrame *dataOverride, const BlockParamNode *params, bool addLevel = true);
    bool statement(const Ast::Statement &s, const Env &env);
    bool mustache(const Ast::Statement &s, const Env &env);
    bool block(const Ast::Statement &s, const Env &env);
    bool partial(const Ast::Statement &s, const Env &env);
    bool evaluate(const Ast::Expression &e, const Env &env, HelperCall::Slot *slot);
    bool resolvePath(const Ast::Expression &e, const Env &env, HelperCall::Slot *slot);
    bool callHelper(const Ast::Call &call, const Ast::Expression::Classification kind,
                    const Env &env, const Ast::Program *program, const Ast::Program *inverse,
                    HelperCall::Slot *result, bool *handled);
    bool blockHelperMissing(const Value &value, const Env &env, const Ast::Program *program,
                            const Ast::Program *inverse);
    bool each(HelperCall &call);
    static const Value *dataField(const DataFrame &frame, std::string_view name, size_t hash);
    bool fail(Common::Error error);
    bool failMessage(const Ast::Location &loc, const QString &message);
    void appendEscaped(const Value &v);
    void appendRaw(const Value &v);

    const Engine &m_engine;
    std::string *m_out;
    std::optional<Common::Error> m_error;
    int m_depth = 0;
};

} // namespace Templates
