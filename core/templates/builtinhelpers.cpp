#include "builtinhelpers.h"

#include "common/logging.h"
#include "engine.h"
#include "formatters.h"

#include <unordered_map>

#include <cmath>

namespace Templates {

namespace {

using Status = Common::Status;
using Result = Common::Result<Value>;

Result fail(const HelperCall &call, const QString &message)
{
    Q_UNUSED(call);
    return Common::fail(QStringLiteral("templates.helper"), message);
}

Result blockOrValue(HelperCall &call, bool condition)
{
    if (!call.isBlock())
        return Value::fromBool(condition);
    const auto status = condition ? call.fn() : call.inverse();
    if (!status)
        return Common::fail(status.error());
    return Value();
}

// helpers/if.js

// helpers/each.js

// helpers/with.js

// helpers/lookup.js
Result lookupHelper(HelperCall &call)
{
    const Value &obj = call.param(0);
    if (!obj.isTruthy())
        return obj;
    const std::string field = call.param(1).toJsString();
    double length = 0;
    if (field == "length" && obj.jsLength(&length))
        return Value::fromNumber(length);
    const Value *v = obj.property(field);
    return v ? *v : Value();
}

// helpers/log.js: {{log "text" value level="warn"}}
Result logHelper(HelperCall &call)
{
    QStringList parts;
    for (int i = 0; i < call.size(); ++i)
        parts << QString::fromStdString(call.param(i).toJsString());
    const Value *level = call.hash("level");
    const QString text = parts.join(u' ');
    const std::string l = level ? level->toJsString() : std::string("info");
    if (l == "error")
        qCCritical(lcTemplates).noquote() << text;
    else if (l == "warn")
        qCWarning(lcTemplates).noquote() << text;
    else if (l == "debug")
        qCDebug(lcTemplates).noquote() << text;
    else
        qCInfo(lcTemplates).noquote() << text;
    return Value();
}

// JavaScript's relational comparison (a < b) on primitives.
bool lessThan(const Value &a, const Value &b, bool orEqual)
{
    const Value pa = (a.isArray() || a.isObject()) ? Value::fromString(a.toJsString()) : a;
    const Value pb = (b.isArray() || b.isObject()) ? Value::fromString(b.toJsString()) : b;
    if (pa.isString() && pb.isString()) {
        const QString x = pa.toQString();
        const QString y = pb.toQString();
        return orEqual ? x <= y : x < y;
    }
    const double x = pa.toJsNumber();
    const double y = pb.toJsNumber();
    return orEqual ? x <= y : x < y;
}

bool isBlank(const Value &v)
{
    return v.isNullish() || (v.isString() && v.toStdString().empty());
}

QString text(const Value &v)
{
    if (v.isNullish())
        return {};
    return QString::fromStdString(v.toJsString());
}

bool isAscii(std::string_view s)
{
    for (unsigned char ch : s) {
        if (ch >= 0x80)
            return false;
    }
    return true;
}

// String(v) without a copy when v is a string already.
std::string_view jsString(const Value &v, std::string *storage)
{
    if (v.isString())
        return v.toStdString();
    *storage = v.toJsString();
    return *storage;
}

// locale="de-DE" on the call, or the engine's locale.
const QLocale &localeFor(const HelperCall &call)
{
    const Value *locale = call.hash("locale");
    if (!locale || !locale->isString())
        return call.locale();
    thread_local std::unordered_map<std::string, QLocale> cache;
    auto it = cache.find(locale->toStdString());
    if (it == cache.end()) {
        if (cache.size() > 64)
            cache.clear();
        it = cache.emplace(locale->toStdString(), QLocale(locale->toQString().replace(u'-', u'_')))
                     .first;
    }
    return it->second;
}

} // namespace

Common::Result<Value> BuiltinHelpers::conditional(HelperCall &call, bool negate)
{
    if (call.size() != 1)
        return fail(call,
                    negate ? QStringLiteral("#unless requires exactly one argument")
                           : QStringLiteral("#if requires exactly one argument"));
    const Value &conditional = call.param(0);
    const Value *includeZero = call.hash("includeZero");
    bool empty = (!(includeZero && includeZero->isTruthy()) && !conditional.isTruthy())
            || conditional.isEmpty();
    if (negate)
        empty = !empty;
    const auto status = empty ? call.inverse() : call.fn();
    if (!status)
        return Common::fail(status.error());
    return Value();
}

// helpers/each.js
Common::Result<Value> BuiltinHelpers::each(HelperCall &call)
{
    if (call.size() < 1)
        return fail(call, QStringLiteral("Must pass iterator to #each"));
    const Value &context = call.param(0);
    size_t count = 0;
    if (context.isArray()) {
        const auto &items = context.items();
        count = items.size();
        for (size_t i = 0; i < items.size(); ++i) {
            HelperCall::BlockOptions options;
            options.iteration = true;
            options.index = double(i);
            options.first = i == 0;
            options.last = i + 1 == items.size();
            options.blockParams[0] = &items[i];
            options.blockParamCount = 2;
            const auto status = call.fn(items[i], &options);
            if (!status)
                return Common::fail(status.error());
        }
    } else if (context.isObject()) {
        const auto &members = context.members();
        count = members.size();
        for (size_t i = 0; i < members.size(); ++i) {
            HelperCall::BlockOptions options;
            options.iteration = true;
            options.index = double(i);
            options.key = &members[i].key;
            options.first = i == 0;
            options.last = i + 1 == members.size();
            options.blockParams[0] = &members[i].value;
            options.blockParams[1] = &members[i].key;
            options.blockParamCount = 2;
            const auto status = call.fn(members[i].value, &options);
            if (!status)
                return Common::fail(status.error());
        }
    }
    if (count == 0) {
        const auto status = call.inverse();
        if (!status)
            return Common::fail(status.error());
    }
    return Value();
}

// helpers/with.js
Common::Result<Value> BuiltinHelpers::with(HelperCall &call)
{
    if (call.size() != 1)
        return fail(call, QStringLiteral("#with requires exactly one argument"));
    const Value &context = call.param(0);
    if (context.isEmpty()) {
        const auto status = call.inverse();
        if (!status)
            return Common::fail(status.error());
        return Value();
    }
    HelperCall::BlockOptions options;
    options.blockParams[0] = &context;
    options.blockParamCount = 1;
    const auto status = call.fn(context, &options);
    if (!status)
        return Common::fail(status.error());
    return Value();
}

void BuiltinHelpers::registerAll(Engine &engine)
{
    auto reg = [&](const char *name, Helper h) {
        engine.registerHelper(QString::fromLatin1(name), std::move(h));
    };

    reg("if", [](HelperCall &c) { return conditional(c, false); });
    reg("unless", [](HelperCall &c) { return conditional(c, true); });
    reg("each", each);
    reg("with", with);
    reg("lookup", lookupHelper);
    reg("log", logHelper);
    // {{{{raw}}}}...{{{{/raw}}}}: the block's text as written.
    reg("raw", [](HelperCall &c) -> Result {
        if (!c.isBlock()) {
            // {{raw}} outside a raw block reads the context's "raw", as if there were no helper.
            const Value *v = c.context().property("raw");
            return v ? *v : Value();
        }
        auto text = c.capture(c.context());
        if (!text)
            return Common::fail(text.error());
        return Value::fromString(std::move(*text));
    });

    // Comparison and logic. Strict equality for eq/ne (===); SendGrid's equals/notEquals compare
    // as JavaScript's == does, so "5" equals 5.
    reg("eq", [](HelperCall &c) { return blockOrValue(c, c.param(0).strictEquals(c.param(1))); });
    reg("ne", [](HelperCall &c) { return blockOrValue(c, !c.param(0).strictEquals(c.param(1))); });
    reg("gt",
        [](HelperCall &c) { return blockOrValue(c, lessThan(c.param(1), c.param(0), false)); });
    reg("gte",
        [](HelperCall &c) { return blockOrValue(c, lessThan(c.param(1), c.param(0), true)); });
    reg("lt",
        [](HelperCall &c) { return blockOrValue(c, lessThan(c.param(0), c.param(1), false)); });
    reg("lte",
        [](HelperCall &c) { return blockOrValue(c, lessThan(c.param(0), c.param(1), true)); });
    reg("equals", [](HelperCall &c) { return blockOrValue(c, c.param(0).looseEquals(c.param(1))); });
    reg("notEquals",
        [](HelperCall &c) { return blockOrValue(c, !c.param(0).looseEquals(c.param(1))); });
    reg("greaterThan",
        [](HelperCall &c) { return blockOrValue(c, lessThan(c.param(1), c.param(0), false)); });
    reg("lessThan",
        [](HelperCall &c) { return blockOrValue(c, lessThan(c.param(0), c.param(1), false)); });
    reg("and", [](HelperCall &c) {
        bool all = c.size() > 0;
        for (int i = 0; i < c.size(); ++i)
            all = all && c.param(i).isTruthy();
        return blockOrValue(c, all);
    });
    reg("or", [](HelperCall &c) {
        bool any = false;
        for (int i = 0; i < c.size(); ++i)
            any = any || c.param(i).isTruthy();
        return blockOrValue(c, any);
    });
    reg("not", [](HelperCall &c) { return blockOrValue(c, !c.param(0).isTruthy()); });

    // Fallbacks: a missing, null or empty value is replaced.
    reg("default", [](HelperCall &c) -> Result {
        for (int i = 0; i < c.size(); ++i) {
            if (!isBlank(c.param(i)))
                return c.param(i);
        }
        return c.size() > 0 ? c.param(c.size() - 1) : Value();
    });
    reg("insert", [](HelperCall &c) -> Result {
        if (!isBlank(c.param(0)))
            return c.param(0);
        const std::string spec = c.param(1).toJsString();
        if (spec.starts_with("default="))
            return Value::fromString(spec.substr(8));
        if (const Value *d = c.hash("default"))
            return *d;
        return Value::fromString(std::string());
    });

    reg("formatDate", [](HelperCall &c) -> Result {
        std::string patternText, offsetText;
        const std::string_view pattern = c.size() > 1 ? jsString(c.param(1), &patternText)
                                                      : std::string_view("YYYY-MM-DD");
        const std::string_view offset = c.size() > 2 && !c.param(2).isNullish()
                ? jsString(c.param(2), &offsetText)
                : std::string_view();
        return Value::fromString(Formatters::formatDate(c.param(0), pattern, offset));
    });
    // {{formatNumber value [decimals] locale="de-DE"}}: grouped digits; decimals defaults to 0
    // for whole numbers and 2 otherwise.
    reg("formatNumber", [](HelperCall &c) -> Result {
        const Value &v = c.param(0);
        if (v.isNullish() || (v.isString() && v.toStdString().empty()))
            return Value::fromString(std::string());
        const double n = v.toJsNumber();
        int decimals = (n == std::floor(n)) ? 0 : 2;
        if (c.size() > 1 && c.param(1).isNumber())
            decimals = int(c.param(1).toNumber());
        else if (const Value *d = c.hash("decimals"))
            decimals = int(d->toJsNumber());
        return Value::fromString(Formatters::formatNumber(n, decimals, localeFor(c)));
    });
    // {{formatCurrency value ["EUR"] locale="de-DE"}}: the locale's currency unless one is named
    // (as an argument or currency="EUR").
    reg("formatCurrency", [](HelperCall &c) -> Result {
        const Value &v = c.param(0);
        if (v.isNullish() || (v.isString() && v.toStdString().empty()))
            return Value::fromString(std::string());
        std::string code;
        if (c.size() > 1 && !c.param(1).isNullish())
            code = c.param(1).toJsString();
        else if (const Value *cur = c.hash("currency"))
            code = cur->toJsString();
        return Value::fromString(Formatters::formatCurrency(v.toJsNumber(), code, localeFor(c)));
    });

    reg("uppercase", [](HelperCall &c) -> Result {
        const Value &v = c.param(0);
        if (v.isString() && isAscii(v.toStdString())) {
            std::string s = v.toStdString();
            for (char &ch : s) {
                if (ch >= 'a' && ch <= 'z')
                    ch = char(ch - 'a' + 'A');
            }
            return Value::fromString(std::move(s));
        }
        return Value::fromString(text(v).toUpper());
    });
    reg("lowercase", [](HelperCall &c) -> Result {
        const Value &v = c.param(0);
        if (v.isString() && isAscii(v.toStdString())) {
            std::string s = v.toStdString();
            for (char &ch : s) {
                if (ch >= 'A' && ch <= 'Z')
                    ch = char(ch - 'A' + 'a');
            }
            return Value::fromString(std::move(s));
        }
        return Value::fromString(text(v).toLower());
    });
    reg("capitalize", [](HelperCall &c) -> Result {
        QString s = text(c.param(0));
        if (!s.isEmpty()) {
            const qsizetype n = s.at(0).isHighSurrogate() && s.size() > 1 ? 2 : 1;
            s = s.left(n).toUpper() + s.mid(n);
        }
        return Value::fromString(s);
    });
    // {{truncate text 20 "…"}}: at most that many characters (UTF-16 code units, as in
    // JavaScript), then the suffix if anything was cut.
    reg("truncate", [](HelperCall &c) -> Result {
        const double limit = c.param(1).toJsNumber();
        const Value &v = c.param(0);
        if (v.isString() && isAscii(v.toStdString())) {
            // ASCII: one byte per UTF-16 code unit.
            const std::string &s = v.toStdString();
            if (std::isnan(limit) || limit < 0 || double(s.size()) <= limit)
                return v;
            std::string out = s.substr(0, size_t(limit));
            const Value &suffix = c.param(2);
            if (!suffix.isNullish())
                suffix.appendJsString(out);
            return Value::fromString(std::move(out));
        }
        const QString s = text(v);
        if (std::isnan(limit) || limit < 0 || s.size() <= limit)
            return Value::fromString(s);
        return Value::fromString(s.left(qsizetype(limit)) + text(c.param(2)));
    });
    reg("length", [](HelperCall &c) -> Result {
        const Value &v = c.param(0);
        double n = 0;
        if (v.jsLength(&n))
            return Value::fromNumber(n);
        if (v.isObject())
            return Value::fromNumber(double(v.members().size()));
        return Value::fromNumber(0);
    });
    // {{join list ", "}}: Array.prototype.join, "," by default.
    reg("join", [](HelperCall &c) -> Result {
        const Value &v = c.param(0);
        if (!v.isArray())
            return Value::fromString(text(v));
        const std::string sep = c.size() > 1 ? c.param(1).toJsString() : std::string(",");
        std::string out;
        bool first = true;
        for (const Value &item : v.items()) {
            if (!first)
                out += sep;
            first = false;
            if (!item.isNullish())
                item.appendJsString(out);
        }
        return Value::fromString(std::move(out));
    });
}

} // namespace Templates
