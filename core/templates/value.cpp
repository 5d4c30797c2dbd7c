#include "value.h"

#include <QObject>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <unordered_map>

namespace Templates {

struct Value::ObjectData
{
    std::vector<Member> members;
    // Only for objects large enough that a linear scan costs more than hashing.
    std::unordered_multimap<size_t, size_t> index; // keyHash -> position
};

namespace {

const Value::Array &emptyArray()
{
    static const Value::Array empty;
    return empty;
}

const std::vector<Value::Member> &emptyMembers()
{
    static const std::vector<Value::Member> empty;
    return empty;
}

constexpr size_t indexThreshold = 24;

// A canonical array index in JavaScript: "0" or [1-9][0-9]* below 2^32 - 1.
bool arrayIndex(std::string_view key, uint32_t *index)
{
    if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0'))
        return false;
    uint64_t v = 0;
    for (char c : key) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + uint64_t(c - '0');
    }
    if (v >= 4294967295ull)
        return false;
    *index = uint32_t(v);
    return true;
}

// Key equality once the hashes matched: nearly always equal, and short. Compared inline, eight
// bytes at a time, instead of a call to memcmp.
inline bool sameKey(const std::string &a, std::string_view b)
{
    const size_t n = a.size();
    if (n != b.size())
        return false;
    const char *x = a.data();
    const char *y = b.data();
    auto load8 = [](const char *p) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        return v;
    };
    auto load4 = [](const char *p) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    };
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            if (load8(x + i) != load8(y + i))
                return false;
        }
        return load8(x + n - 8) == load8(y + n - 8); // the last eight, overlapping
    }
    if (n >= 4)
        return load4(x) == load4(y) && load4(x + n - 4) == load4(y + n - 4);
    for (size_t i = 0; i < n; ++i) {
        if (x[i] != y[i])
            return false;
    }
    return true;
}

size_t utf16Length(std::string_view s)
{
    size_t n = 0;
    for (unsigned char c : s) {
        if ((c & 0xC0) != 0x80)
            n += (c >= 0xF0) ? 2 : 1;
    }
    return n;
}

class JsonParser
{
public:
    explicit JsonParser(std::string_view text)
        : m_text(text)
    { }

    Common::Result<Value> parse()
    {
        skipSpace();
        Value v;
        if (!parseValue(v, 0))
            return fail();
        skipSpace();
        if (m_pos != m_text.size()) {
            m_expected = QObject::tr("end of input");
            return fail();
        }
        return v;
    }

private:
    static constexpr int maxDepth = 512;

    tl::unexpected<Common::Error> fail() const
    {
        int line = 1;
        size_t lineStart = 0;
        const size_t end = std::min(m_pos, m_text.size());
        for (size_t i = 0; i < end; ++i) {
            if (m_text[i] == '\n') {
                ++line;
                lineStart = i + 1;
            }
        }
        const int column = int(end - lineStart) + 1;
        QString got = m_pos >= m_text.size()
                ? QObject::tr("end of input")
                : QStringLiteral("'%1'").arg(QChar(QLatin1Char(m_text[m_pos])));
        return Common::fail(QStringLiteral("templates.json"),
                            QObject::tr(
                                    "Invalid JSON data at line %1, column %2: expected %3, got %4")
                                    .arg(line)
                                    .arg(column)
                                    .arg(m_expected, got));
    }

    void skipSpace()
    {
        while (m_pos < m_text.size()) {
            const char c = m_text[m_pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                break;
            ++m_pos;
        }
    }

    bool parseValue(Value &out, int depth)
    {
        if (depth > maxDepth) {
            m_expected = QObject::tr("less deeply nested data (at most %1 levels)").arg(maxDepth);
            return false;
        }
        if (m_pos >= m_text.size()) {
            m_expected = QObject::tr("a value");
            return false;
        }
        switch (m_text[m_pos]) {
        case '{':
            return parseObject(out, depth);
        case '[':
            return parseArray(out, depth);
        case '"': {
            std::string s;
            if (!parseString(s))
                return false;
            out = Value::fromString(std::move(s));
            return true;
        }
        case 't':
            return literal("true", Value::fromBool(true), out);
        case 'f':
            return literal("false", Value::fromBool(false), out);
        case 'n':
            return literal("null", Value::null(), out);
        default:
            return parseNumber(out);
        }
    }

    bool literal(const char *word, Value v, Value &out)
    {
        const size_t n = std::strlen(word);
        if (m_text.substr(m_pos, n) != word) {
            m_expected = QObject::tr("a value");
            return false;
        }
        m_pos += n;
        out = std::move(v);
        return true;
    }

    bool parseNumber(Value &out)
    {
        const size_t start = m_pos;
        auto digit = [&] {
            return m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9';
        };
        if (m_pos < m_text.size() && m_text[m_pos] == '-')
            ++m_pos;
        if (!digit()) {
            m_expected = QObject::tr("a value");
            return false;
        }
        if (m_text[m_pos] == '0') {
            ++m_pos;
        } else {
            while (digit())
                ++m_pos;
        }
        if (m_pos < m_text.size() && m_text[m_pos] == '.') {
            ++m_pos;
            if (!digit()) {
                m_expected = QObject::tr("a digit");
                return false;
            }
            while (digit())
                ++m_pos;
        }
        if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
            ++m_pos;
            if (m_pos < m_text.size() && (m_text[m_pos] == '+' || m_text[m_pos] == '-'))
                ++m_pos;
            if (!digit()) {
                m_expected = QObject::tr("a digit");
                return false;
            }
            while (digit())
                ++m_pos;
        }
        double d = 0;
        const auto res = std::from_chars(m_text.data() + start, m_text.data() + m_pos, d);
        if (res.ec == std::errc::result_out_of_range) {
            // JSON.parse gives Infinity or 0 for numbers out of range.
            const bool neg = m_text[start] == '-';
            const std::string_view t = m_text.substr(start, m_pos - start);
            const auto e = t.find_first_of("eE");
            const bool tiny = e != std::string_view::npos && t.substr(e + 1).starts_with('-');
            d = tiny ? (neg ? -0.0 : 0.0) : (neg ? -HUGE_VAL : HUGE_VAL);
        }
        out = Value::fromNumber(d);
        return true;
    }

    static void appendUtf8(std::string &s, uint32_t cp)
    {
        if (cp < 0x80) {
            s += char(cp);
        } else if (cp < 0x800) {
            s += char(0xC0 | (cp >> 6));
            s += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            s += char(0xE0 | (cp >> 12));
            s += char(0x80 | ((cp >> 6) & 0x3F));
            s += char(0x80 | (cp & 0x3F));
        } else {
            s += char(0xF0 | (cp >> 18));
            s += char(0x80 | ((cp >> 12) & 0x3F));
            s += char(0x80 | ((cp >> 6) & 0x3F));
            s += char(0x80 | (cp & 0x3F));
        }
    }

    bool hex4(uint32_t *v)
    {
        if (m_pos + 4 > m_text.size()) {
            m_expected = QObject::tr("four hex digits");
            return false;
        }
        uint32_t r = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = m_text[m_pos + size_t(i)];
            r <<= 4;
            if (c >= '0' && c <= '9')
                r |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f')
                r |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                r |= uint32_t(c - 'A' + 10);
            else {
                m_pos += size_t(i);
                m_expected = QObject::tr("a hex digit");
                return false;
            }
        }
        m_pos += 4;
        *v = r;
        return true;
    }

    bool parseString(std::string &s)
    {
        ++m_pos; // opening quote
        for (;;) {
            const size_t runStart = m_pos;
            while (m_pos < m_text.size()) {
                const unsigned char c = static_cast<unsigned char>(m_text[m_pos]);
                if (c == '"' || c == '\\' || c < 0x20)
                    break;
                ++m_pos;
            }
            s.append(m_text.data() + runStart, m_pos - runStart);
            if (m_pos >= m_text.size()) {
                m_expected = QObject::tr("a closing quote");
                return false;
            }
            const char c = m_text[m_pos];
            if (c == '"') {
                ++m_pos;
                return true;
            }
            if (c != '\\') {
                m_expected = QObject::tr("an escaped control character");
                return false;
            }
            ++m_pos;
            if (m_pos >= m_text.size()) {
                m_expected = QObject::tr("an escape sequence");
                return false;
            }
            const char e = m_text[m_pos++];
            switch (e) {
            case '"':
                s += '"';
                break;
            case '\\':
                s += '\\';
                break;
            case '/':
                s += '/';
                break;
            case 'b':
                s += '\b';
                break;
            case 'f':
                s += '\f';
                break;
            case 'n':
                s += '\n';
                break;
            case 'r':
                s += '\r';
                break;
            case 't':
                s += '\t';
                break;
            case 'u': {
                uint32_t cp = 0;
                if (!hex4(&cp))
                    return false;
                if (cp >= 0xD800 && cp <= 0xDBFF && m_pos + 6 <= m_text.size()
                    && m_text[m_pos] == '\\' && m_text[m_pos + 1] == 'u') {
                    const size_t save = m_pos;
                    m_pos += 2;
                    uint32_t lo = 0;
                    if (hex4(&lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else {
                        m_pos = save;
                    }
                }
                if (cp >= 0xD800 && cp <= 0xDFFF)
                    cp = 0xFFFD; // a lone surrogate cannot be written as UTF-8
                appendUtf8(s, cp);
                break;
            }
            default:
                --m_pos;
                m_expected = QObject::tr("a valid escape sequence");
                return false;
            }
        }
    }

    bool parseArray(Value &out, int depth)
    {
        ++m_pos;
        Value::Array items;
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == ']') {
            ++m_pos;
            out = Value::fromArray(std::move(items));
            return true;
        }
        for (;;) {
            skipSpace();
            Value v;
            if (!parseValue(v, depth + 1))
                return false;
            items.push_back(std::move(v));
            skipSpace();
            if (m_pos < m_text.size() && m_text[m_pos] == ',') {
                ++m_pos;
                continue;
            }
            if (m_pos < m_text.size() && m_text[m_pos] == ']') {
                ++m_pos;
                out = Value::fromArray(std::move(items));
                return true;
            }
            m_expected = QObject::tr("',' or ']'");
            return false;
        }
    }

    bool parseObject(Value &out, int depth)
    {
        ++m_pos;
        std::vector<Value::Member> members;
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == '}') {
            ++m_pos;
            out = Value::fromMembers(std::move(members));
            return true;
        }
        for (;;) {
            skipSpace();
            if (m_pos >= m_text.size() || m_text[m_pos] != '"') {
                m_expected = QObject::tr("a quoted key");
                return false;
            }
            std::string key;
            if (!parseString(key))
                return false;
            skipSpace();
            if (m_pos >= m_text.size() || m_text[m_pos] != ':') {
                m_expected = QObject::tr("':'");
                return false;
            }
            ++m_pos;
            skipSpace();
            Value v;
            if (!parseValue(v, depth + 1))
                return false;
            members.push_back({Value::fromString(std::move(key)), std::move(v)});
            skipSpace();
            if (m_pos < m_text.size() && m_text[m_pos] == ',') {
                ++m_pos;
                continue;
            }
            if (m_pos < m_text.size() && m_text[m_pos] == '}') {
                ++m_pos;
                out = Value::fromMembers(std::move(members));
                return true;
            }
            m_expected = QObject::tr("',' or '}'");
            return false;
        }
    }

    std::string_view m_text;
    size_t m_pos = 0;
    QString m_expected;
};

void appendJsonString(std::string &out, const std::string &s)
{
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += char(c);
            }
        }
    }
    out += '"';
}

void appendJson(std::string &out, const Value &v)
{
    switch (v.type()) {
    case Value::Type::Undefined:
    case Value::Type::Null:
        out += "null";
        break;
    case Value::Type::Bool:
        out += v.toBool() ? "true" : "false";
        break;
    case Value::Type::Number:
        if (std::isfinite(v.toNumber()))
            Value::appendJsNumber(out, v.toNumber());
        else
            out += "null";
        break;
    case Value::Type::String:
        appendJsonString(out, v.toStdString());
        break;
    case Value::Type::Array: {
        out += '[';
        bool first = true;
        for (const Value &item : v.items()) {
            if (!first)
                out += ',';
            first = false;
            appendJson(out, item);
        }
        out += ']';
        break;
    }
    case Value::Type::Object: {
        out += '{';
        bool first = true;
        for (const Value::Member &m : v.members()) {
            if (m.value.isUndefined())
                continue;
            if (!first)
                out += ',';
            first = false;
            appendJsonString(out, m.key.toStdString());
            out += ':';
            appendJson(out, m.value);
        }
        out += '}';
        break;
    }
    }
}

} // namespace

Value Value::null()
{
    Value v;
    v.m_type = Type::Null;
    return v;
}

Value Value::fromBool(bool b)
{
    Value v;
    v.m_type = Type::Bool;
    v.m_bool = b;
    return v;
}

Value Value::fromNumber(double n)
{
    Value v;
    v.m_type = Type::Number;
    v.m_number = n;
    return v;
}

Value Value::fromString(std::string s)
{
    Value v;
    v.m_type = Type::String;
    v.m_data = std::make_shared<const std::string>(std::move(s));
    return v;
}

Value Value::fromString(const QString &s)
{
    return fromString(s.toStdString());
}

Value Value::fromArray(Array items)
{
    Value v;
    v.m_type = Type::Array;
    v.m_data = std::make_shared<const Array>(std::move(items));
    return v;
}

Value Value::fromMembers(std::vector<Member> members)
{
    auto data = std::make_shared<ObjectData>();
    // Integer-like keys first, ascending; then the rest in insertion order. A duplicate key keeps
    // the position of its first occurrence and the value of its last, as JSON.parse does.
    std::vector<std::pair<uint32_t, size_t>> integerKeys;
    std::vector<Member> &out = data->members;
    out.reserve(members.size());
    const bool small = members.size() < 64;
    std::unordered_multimap<size_t, size_t> seen;
    for (Member &m : members) {
        const std::string &key = m.key.toStdString();
        m.hash = keyHash(key);
        size_t existing = size_t(-1);
        if (small) {
            for (size_t i = 0; i < out.size(); ++i) {
                if (out[i].hash == m.hash && out[i].key.toStdString() == key) {
                    existing = i;
                    break;
                }
            }
        } else {
            auto range = seen.equal_range(m.hash);
            for (auto it = range.first; it != range.second; ++it) {
                if (out[it->second].key.toStdString() == key) {
                    existing = it->second;
                    break;
                }
            }
        }
        if (existing != size_t(-1)) {
            out[existing].value = std::move(m.value);
            continue;
        }
        out.push_back(std::move(m));
        if (!small)
            seen.emplace(out.back().hash, out.size() - 1);
        uint32_t index = 0;
        if (arrayIndex(out.back().key.toStdString(), &index))
            integerKeys.emplace_back(index, out.size() - 1);
    }
    if (!integerKeys.empty()) {
        std::sort(integerKeys.begin(), integerKeys.end());
        std::vector<Member> ordered;
        ordered.reserve(out.size());
        std::vector<bool> moved(out.size(), false);
        for (const auto &[index, pos] : integerKeys) {
            ordered.push_back(std::move(out[pos]));
            moved[pos] = true;
        }
        for (size_t i = 0; i < out.size(); ++i) {
            if (!moved[i])
                ordered.push_back(std::move(out[i]));
        }
        out = std::move(ordered);
    }
    if (out.size() >= indexThreshold) {
        data->index.reserve(out.size());
        for (size_t i = 0; i < out.size(); ++i)
            data->index.emplace(out[i].hash, i);
    }
    Value v;
    v.m_type = Type::Object;
    v.m_data = std::move(data);
    return v;
}

Common::Result<Value> Value::fromJson(std::string_view json)
{
    if (json.starts_with("\xEF\xBB\xBF"))
        json.remove_prefix(3);
    return JsonParser(json).parse();
}

const std::string &Value::emptyString()
{
    static const std::string empty;
    return empty;
}

const Value::Array &Value::items() const
{
    if (m_type != Type::Array)
        return emptyArray();
    return *static_cast<const Array *>(m_data.get());
}

const std::vector<Value::Member> &Value::members() const
{
    if (m_type != Type::Object)
        return emptyMembers();
    return static_cast<const ObjectData *>(m_data.get())->members;
}

bool Value::isTruthy() const
{
    switch (m_type) {
    case Type::Undefined:
    case Type::Null:
        return false;
    case Type::Bool:
        return m_bool;
    case Type::Number:
        return m_number != 0 && !std::isnan(m_number);
    case Type::String:
        return !toStdString().empty();
    case Type::Array:
    case Type::Object:
        return true;
    }
    return false;
}

bool Value::isEmpty() const
{
    if (!isTruthy() && !(m_type == Type::Number && m_number == 0))
        return true;
    return m_type == Type::Array && items().empty();
}

size_t Value::keyHash(std::string_view key)
{
    // FNV-1a: short keys, computed once per key in the data and once per path in a template.
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : key) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return size_t(h);
}

namespace {

// The position of key in the object, or npos.
size_t findMember(const std::vector<Value::Member> &members,
                  const std::unordered_multimap<size_t, size_t> &index, std::string_view key,
                  size_t hash)
{
    if (!index.empty()) {
        auto range = index.equal_range(hash);
        for (auto it = range.first; it != range.second; ++it) {
            if (sameKey(members[it->second].key.toStdString(), key))
                return it->second;
        }
        return std::string_view::npos;
    }
    const size_t n = members.size();
    for (size_t i = 0; i < n; ++i) {
        const Value::Member &m = members[i];
        if (m.hash == hash && sameKey(m.key.toStdString(), key))
            return i;
    }
    return std::string_view::npos;
}

} // namespace

const Value *Value::member(std::string_view key, size_t hash) const
{
    if (m_type != Type::Object)
        return nullptr;
    const auto &data = *static_cast<const ObjectData *>(m_data.get());
    const size_t i = findMember(data.members, data.index, key, hash);
    return i == std::string_view::npos ? nullptr : &data.members[i].value;
}

const Value *Value::member(std::string_view key, size_t hash, uint32_t *hint) const
{
    if (m_type != Type::Object)
        return nullptr;
    const auto &data = *static_cast<const ObjectData *>(m_data.get());
    std::atomic_ref<uint32_t> position(*hint);
    const uint32_t guess = position.load(std::memory_order_relaxed);
    if (guess < data.members.size()) {
        const Member &m = data.members[guess];
        if (m.hash == hash && sameKey(m.key.toStdString(), key))
            return &m.value;
    }
    const size_t i = findMember(data.members, data.index, key, hash);
    if (i == std::string_view::npos)
        return nullptr;
    if (i != guess && i <= UINT32_MAX)
        position.store(uint32_t(i), std::memory_order_relaxed);
    return &data.members[i].value;
}

const Value *Value::property(std::string_view key, size_t hash) const
{
    if (m_type == Type::Object)
        return member(key, hash);
    return property(key);
}

const Value *Value::property(std::string_view key) const
{
    switch (m_type) {
    case Type::Object:
        return member(key);
    case Type::Array: {
        const Array &a = items();
        uint32_t index = 0;
        if (arrayIndex(key, &index))
            return index < a.size() ? &a[index] : nullptr;
        return nullptr;
    }
    default:
        return nullptr;
    }
}

bool Value::jsLength(double *length) const
{
    if (m_type == Type::Array) {
        *length = double(items().size());
        return true;
    }
    if (m_type == Type::String) {
        *length = double(utf16Length(toStdString()));
        return true;
    }
    return false;
}

void Value::appendJsNumber(std::string &out, double n)
{
    if (std::isnan(n)) {
        out += "NaN";
        return;
    }
    if (std::isinf(n)) {
        out += n < 0 ? "-Infinity" : "Infinity";
        return;
    }
    if (n == 0) {
        out += '0';
        return;
    }
    if (n < 0) {
        out += '-';
        n = -n;
    }
    // Integers below 2^53 are the common case: print them directly.
    if (n < 9007199254740992.0 && n == std::floor(n)) {
        char buf[24];
        auto res = std::to_chars(buf, buf + sizeof buf, uint64_t(n));
        if (n < 1e21) {
            out.append(buf, size_t(res.ptr - buf));
            return;
        }
    }
    // Shortest round-trip digits, then ECMA-262 Number::toString layout.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, n, std::chars_format::scientific);
    std::string_view sci(buf, size_t(res.ptr - buf));
    const size_t e = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e)) {
        if (c != '.')
            digits += c;
    }
    int exp = 0;
    std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp);
    const int k = int(digits.size());
    const int pointPos = exp + 1; // "n" in the specification
    if (k <= pointPos && pointPos <= 21) {
        out += digits;
        out.append(size_t(pointPos - k), '0');
    } else if (0 < pointPos && pointPos <= 21) {
        out.append(digits, 0, size_t(pointPos));
        out += '.';
        out.append(digits, size_t(pointPos));
    } else if (-6 < pointPos && pointPos <= 0) {
        out += "0.";
        out.append(size_t(-pointPos), '0');
        out += digits;
    } else {
        out += digits[0];
        if (k > 1) {
            out += '.';
            out.append(digits, 1);
        }
        out += 'e';
        const int shown = pointPos - 1;
        out += shown < 0 ? '-' : '+';
        out += std::to_string(std::abs(shown));
    }
}

void Value::appendJsString(std::string &out) const
{
    switch (m_type) {
    case Type::Undefined:
        out += "undefined";
        break;
    case Type::Null:
        out += "null";
        break;
    case Type::Bool:
        out += m_bool ? "true" : "false";
        break;
    case Type::Number:
        appendJsNumber(out, m_number);
        break;
    case Type::String:
        out += toStdString();
        break;
    case Type::Array: {
        // Array.prototype.join(","): null and undefined become empty strings.
        bool first = true;
        for (const Value &item : items()) {
            if (!first)
                out += ',';
            first = false;
            if (!item.isNullish())
                item.appendJsString(out);
        }
        break;
    }
    case Type::Object:
        out += "[object Object]";
        break;
    }
}

std::string Value::toJson() const
{
    std::string out;
    appendJson(out, *this);
    return out;
}

bool Value::isSameEntity(const Value &other) const
{
    if (m_type != other.m_type)
        return false;
    if (m_type == Type::Array || m_type == Type::Object)
        return m_data == other.m_data;
    return strictEquals(other);
}

bool Value::strictEquals(const Value &other) const
{
    if (m_type != other.m_type)
        return false;
    switch (m_type) {
    case Type::Undefined:
    case Type::Null:
        return true;
    case Type::Bool:
        return m_bool == other.m_bool;
    case Type::Number:
        return m_number == other.m_number;
    case Type::String:
        return toStdString() == other.toStdString();
    case Type::Array:
    case Type::Object:
        return m_data == other.m_data;
    }
    return false;
}

double Value::toJsNumber() const
{
    switch (m_type) {
    case Type::Undefined:
        return std::nan("");
    case Type::Null:
        return 0;
    case Type::Bool:
        return m_bool ? 1 : 0;
    case Type::Number:
        return m_number;
    case Type::String: {
        std::string_view s = toStdString();
        while (!s.empty() && std::strchr(" \t\n\r\f\v", s.front()))
            s.remove_prefix(1);
        while (!s.empty() && std::strchr(" \t\n\r\f\v", s.back()))
            s.remove_suffix(1);
        if (s.empty())
            return 0;
        if (s.starts_with("0x") || s.starts_with("0X")) {
            uint64_t v = 0;
            auto r = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
            return (r.ec == std::errc() && r.ptr == s.data() + s.size()) ? double(v) : std::nan("");
        }
        if (s == "Infinity" || s == "+Infinity")
            return HUGE_VAL;
        if (s == "-Infinity")
            return -HUGE_VAL;
        if (s.starts_with('+'))
            s.remove_prefix(1);
        double d = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), d);
        if (r.ptr != s.data() + s.size()
            || (r.ec != std::errc() && r.ec != std::errc::result_out_of_range))
            return std::nan("");
        return d;
    }
    case Type::Array: {
        const Array &a = items();
        if (a.empty())
            return 0;
        if (a.size() == 1)
            return Value::fromString(a[0].isNullish() ? std::string() : a[0].toJsString())
                    .toJsNumber();
        return std::nan("");
    }
    case Type::Object:
        return std::nan("");
    }
    return std::nan("");
}

bool Value::looseEquals(const Value &other) const
{
    if (m_type == other.m_type)
        return strictEquals(other);
    if (isNullish() && other.isNullish())
        return true;
    if (isNullish() || other.isNullish())
        return false;
    const bool aObj = m_type == Type::Array || m_type == Type::Object;
    const bool bObj = other.m_type == Type::Array || other.m_type == Type::Object;
    if (aObj && bObj)
        return false;
    if (aObj)
        return fromString(toJsString()).looseEquals(other);
    if (bObj)
        return looseEquals(fromString(other.toJsString()));
    return toJsNumber() == other.toJsNumber();
}

} // namespace Templates
