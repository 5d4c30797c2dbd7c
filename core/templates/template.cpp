#include "template.h"

#include "engine.h"
#include "parser.h"

#include <QObject>

#include <algorithm>

namespace Templates {

namespace {

using namespace Ast;

// handlebars.js compiler.js: classifySexpr() and blockParamIndex(), resolved once at compile time.
class Preparer
{
public:
    bool program(Program &p)
    {
        m_blockParams.insert(m_blockParams.begin(), &p.blockParams);
        for (auto &statement : p.body) {
            if (!this->statement(*statement, p))
                return false;
        }
        m_blockParams.erase(m_blockParams.begin());
        return true;
    }

    Common::Error error;

private:
    bool statement(Statement &s, Program &owner)
    {
        switch (s.kind) {
        case Statement::Kind::Content:
        case Statement::Kind::Comment:
            return true;
        case Statement::Kind::Mustache:
            transformLiteralToPath(s.call);
            if (!call(s.call))
                return false;
            s.classification = classify(s.call, true);
            return true;
        case Statement::Kind::Block:
            transformLiteralToPath(s.call);
            if (!call(s.call))
                return false;
            s.classification = classify(s.call, true);
            return (!s.program || program(*s.program)) && (!s.inverse || program(*s.inverse));
        case Statement::Kind::InlinePartial:
            owner.inlinePartials.push_back(&s);
            return !s.program || program(*s.program);
        case Statement::Kind::Partial:
        case Statement::Kind::PartialBlock:
            if (s.dynamicPartial) {
                if (!expression(*s.call.path))
                    return false;
            }
            for (auto &param : s.call.params) {
                if (!expression(*param))
                    return false;
            }
            for (auto &pair : s.call.hash) {
                if (!expression(*pair.value))
                    return false;
            }
            return !s.program || program(*s.program);
        }
        return true;
    }

    static void transformLiteralToPath(Call &call)
    {
        Expression &path = *call.path;
        if (path.kind != Expression::Kind::Literal)
            return;
        path.kind = Expression::Kind::Path;
        path.parts = {path.original};
        path.data = false;
        path.depth = 0;
        const std::string &o = path.original;
        bool scoped = !o.empty() && o[0] == '.';
        for (size_t i = o.find("this"); !scoped && i != std::string::npos;
             i = o.find("this", i + 1)) {
            const char c = i + 4 < o.size() ? o[i + 4] : ' ';
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '_'))
                scoped = true;
        }
        path.scoped = scoped;
    }

    bool call(Call &c)
    {
        if (!expression(*c.path))
            return false;
        for (auto &param : c.params) {
            if (!expression(*param))
                return false;
        }
        for (auto &pair : c.hash) {
            if (!expression(*pair.value))
                return false;
        }
        return true;
    }

    bool expression(Expression &e)
    {
        switch (e.kind) {
        case Expression::Kind::Literal:
            return true;
        case Expression::Kind::Path:
            e.partHashes.clear();
            for (const std::string &part : e.parts)
                e.partHashes.push_back(Value::keyHash(part));
            e.partHints.assign(e.parts.size(), 0);
            if (!e.parts.empty())
                e.helperId = Engine::helperId(e.parts[0]);
            e.helperIdOriginal = Engine::helperId(e.original);
            if (!e.depth && !e.scoped && !e.parts.empty()) {
                for (size_t depth = 0; depth < m_blockParams.size(); ++depth) {
                    const auto &names = *m_blockParams[depth];
                    auto it = std::find(names.begin(), names.end(), e.parts[0]);
                    if (it != names.end()) {
                        e.blockParamDepth = int(depth);
                        e.blockParamIndex = int(it - names.begin());
                        break;
                    }
                }
            }
            return true;
        case Expression::Kind::SubExpression:
            transformLiteralToPath(*e.call);
            if (!call(*e.call))
                return false;
            e.classification = classify(*e.call, false);
            return true;
        }
        return true;
    }

    static bool simpleId(const Expression &path)
    {
        return path.parts.size() == 1 && !path.scoped && !path.depth;
    }

    Expression::Classification classify(const Call &c, bool statement) const
    {
        const Expression &path = *c.path;
        const bool isSimple = simpleId(path);
        const bool isBlockParam = isSimple && path.blockParamDepth >= 0;
        bool isHelper = !isBlockParam && (!statement || !c.params.empty() || c.hasHash);
        const bool isEligible = !isBlockParam && (isHelper || isSimple);
        if (isEligible && !isHelper) {
            static const char *const known[] = {"helperMissing", "blockHelperMissing",
                                                "each",          "if",
                                                "unless",        "with",
                                                "log",           "lookup"};
            for (const char *name : known) {
                if (path.parts[0] == name)
                    isHelper = true;
            }
        }
        if (isHelper)
            return Expression::Classification::Helper;
        if (isEligible)
            return Expression::Classification::Ambiguous;
        return Expression::Classification::Simple;
    }

    std::vector<const std::vector<std::string> *> m_blockParams;
};

} // namespace

Common::Result<std::shared_ptr<const Template>> Template::compile(std::string_view source)
{
    auto program = Parser::parse(source);
    if (!program)
        return Common::fail(program.error());
    Preparer preparer;
    if (!preparer.program(**program))
        return Common::fail(preparer.error);
    std::shared_ptr<Template> t(new Template);
    t->m_source = std::string(source);
    t->m_program = std::move(*program);
    return std::shared_ptr<const Template>(std::move(t));
}

Common::Result<std::shared_ptr<const Template>> Template::compile(const QString &source)
{
    const QByteArray utf8 = source.toUtf8();
    return compile(std::string_view(utf8.constData(), size_t(utf8.size())));
}

} // namespace Templates
