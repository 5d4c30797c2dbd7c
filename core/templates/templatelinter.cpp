#include "templatelinter.h"

#include <set>

namespace Templates {

namespace {

using namespace Ast;

struct Scope
{
    std::string prefix;                    // "items[]" inside {{#each items}}
    std::vector<const Value *> candidates; // what the sample data has at this point
};

class Linter
{
public:
    explicit Linter(const Value &data) { m_scopes.push_back({std::string(), {&data}}); }

    void program(const Program &p)
    {
        for (const auto &s : p.body)
            statement(*s);
    }

    TemplateLinter::Report report;

private:
    struct Resolved
    {
        std::string name;
        std::vector<const Value *> values;
        bool known = true; // false for block parameters and @data
    };

    Resolved resolve(const Expression &path)
    {
        Resolved r;
        if (path.kind != Expression::Kind::Path || path.data || path.blockParamDepth >= 0) {
            r.known = false;
            return r;
        }
        const int index = int(m_scopes.size()) - 1 - path.depth;
        if (index < 0) {
            r.known = false;
            return r;
        }
        const Scope &scope = m_scopes[size_t(index)];
        r.name = scope.prefix;
        for (const std::string &part : path.parts) {
            if (!r.name.empty())
                r.name += '.';
            r.name += part;
        }
        for (const Value *v : scope.candidates) {
            const Value *cur = v;
            for (const std::string &part : path.parts) {
                if (!cur)
                    break;
                double length = 0;
                cur = (part == "length" && cur->jsLength(&length)) ? cur : cur->property(part);
            }
            r.values.push_back(cur);
        }
        return r;
    }

    void read(const Expression &e, bool hasFallback)
    {
        if (e.kind == Expression::Kind::SubExpression) {
            call(*e.call, e.classification == Expression::Classification::Simple);
            return;
        }
        if (e.kind != Expression::Kind::Path || e.parts.empty())
            return;
        Resolved r = resolve(e);
        if (!r.known || r.name.empty())
            return;
        const QString name = QString::fromStdString(r.name);
        if (!report.variables.contains(name))
            report.variables << name;
        if (hasFallback || m_guards.count(r.name))
            return;
        bool provided = r.values.empty(); // nothing to compare with: assume provided
        for (const Value *v : r.values) {
            if (v && !v->isUndefined())
                provided = true;
        }
        if (!provided && !report.missing.contains(name))
            report.missing << name;
    }

    static bool isFallbackHelper(const Call &c)
    {
        const Expression &p = *c.path;
        return p.parts.size() == 1 && (p.parts[0] == "default" || p.parts[0] == "insert");
    }

    // Reads the arguments of a call; the path itself when it is not a helper.
    void call(const Call &c, bool pathIsValue)
    {
        if (pathIsValue)
            read(*c.path, false);
        const bool fallback = isFallbackHelper(c);
        for (size_t i = 0; i < c.params.size(); ++i)
            read(*c.params[i], fallback && i == 0);
        for (const auto &pair : c.hash)
            read(*pair.value, false);
    }

    void statement(const Statement &s)
    {
        switch (s.kind) {
        case Statement::Kind::Content:
        case Statement::Kind::Comment:
            return;
        case Statement::Kind::Mustache: {
            const bool value = s.classification == Expression::Classification::Simple
                    || (s.classification == Expression::Classification::Ambiguous
                        && !isKnownHelperName(s.call.path->parts[0]));
            call(s.call, value);
            return;
        }
        case Statement::Kind::Partial:
        case Statement::Kind::PartialBlock:
            for (const auto &param : s.call.params)
                read(*param, false);
            for (const auto &pair : s.call.hash)
                read(*pair.value, false);
            if (s.program)
                program(*s.program);
            return;
        case Statement::Kind::InlinePartial:
            if (s.program)
                program(*s.program);
            return;
        case Statement::Kind::Block:
            block(s);
            return;
        }
    }

    bool isKnownHelperName(const std::string &name) const
    {
        static const std::set<std::string> names = {"if",         "unless",       "each",
                                                    "with",       "lookup",       "log",
                                                    "eq",         "ne",           "gt",
                                                    "gte",        "lt",           "lte",
                                                    "and",        "or",           "not",
                                                    "equals",     "notEquals",    "greaterThan",
                                                    "lessThan",   "default",      "insert",
                                                    "formatDate", "formatNumber", "formatCurrency",
                                                    "uppercase",  "lowercase",    "capitalize",
                                                    "truncate",   "length",       "join",
                                                    "raw"};
        return names.count(name) > 0;
    }

    void block(const Statement &s)
    {
        const Expression &path = *s.call.path;
        const std::string helper = path.parts.size() == 1 ? path.parts[0] : std::string();
        const bool isHelperBlock = s.classification != Expression::Classification::Simple
                && isKnownHelperName(helper);
        if (helper == "if" || helper == "unless") {
            std::string guarded;
            for (size_t i = 0; i < s.call.params.size(); ++i) {
                read(*s.call.params[i], true);
                if (i == 0 && s.call.params[0]->kind == Expression::Kind::Path)
                    guarded = resolve(*s.call.params[0]).name;
            }
            if (!guarded.empty())
                m_guards.insert(guarded);
            if (s.program)
                program(*s.program);
            if (!guarded.empty())
                m_guards.erase(m_guards.find(guarded));
            if (s.inverse)
                program(*s.inverse);
            return;
        }
        if ((helper == "each" || helper == "with") && !s.call.params.empty()
            && s.call.params[0]->kind == Expression::Kind::Path) {
            read(*s.call.params[0], s.inverse != nullptr);
            Resolved r = resolve(*s.call.params[0]);
            Scope scope;
            scope.prefix = r.name + (helper == "each" ? "[]" : "");
            for (const Value *v : r.values) {
                if (!v)
                    continue;
                if (helper == "with")
                    scope.candidates.push_back(v);
                else if (v->isArray())
                    for (const Value &item : v->items())
                        scope.candidates.push_back(&item);
                else if (v->isObject())
                    for (const auto &m : v->members())
                        scope.candidates.push_back(&m.value);
            }
            m_scopes.push_back(std::move(scope));
            if (s.program)
                program(*s.program);
            m_scopes.pop_back();
            if (s.inverse)
                program(*s.inverse);
            return;
        }
        if (!isHelperBlock && s.classification != Expression::Classification::Helper) {
            // {{#section}}: a value used as a section, Mustache style.
            read(path, s.inverse != nullptr);
            Resolved r = resolve(path);
            Scope scope;
            scope.prefix = r.name;
            for (const Value *v : r.values) {
                if (v && v->isArray()) {
                    scope.prefix = r.name + "[]";
                    for (const Value &item : v->items())
                        scope.candidates.push_back(&item);
                } else if (v && (v->isObject())) {
                    scope.candidates.push_back(v);
                }
            }
            if (scope.candidates.empty())
                scope = m_scopes.back();
            m_scopes.push_back(std::move(scope));
            if (s.program)
                program(*s.program);
            m_scopes.pop_back();
            if (s.inverse)
                program(*s.inverse);
            return;
        }
        call(s.call, false);
        if (s.program)
            program(*s.program);
        if (s.inverse)
            program(*s.inverse);
    }

    std::vector<Scope> m_scopes;
    std::multiset<std::string> m_guards;
};

} // namespace

TemplateLinter::Report TemplateLinter::lint(const Template &compiled, const Value &data)
{
    Linter linter(data);
    linter.program(compiled.program());
    return linter.report;
}

} // namespace Templates
