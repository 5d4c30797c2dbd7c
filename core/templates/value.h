#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QString>
#include <QStringView>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Templates {

// A JSON value as handlebars.js sees it once JSON.parse has run: undefined, null, booleans,
// numbers (doubles), strings (kept as UTF-8), arrays and objects.
//
// Objects keep their keys in the order a JavaScript engine enumerates them (ECMA-262
// OrdinaryOwnPropertyKeys): integer-like keys first in ascending order, then the others in the
// order written. QJsonObject sorts its keys, so it cannot be used where #each order matters.
// Values are immutable and cheap to copy (strings, arrays and objects are shared).
class Value
{
public:
    enum class Type : unsigned char { Undefined, Null, Bool, Number, String, Array, Object };
    struct Member;
    using Array = std::vector<Value>;

    Value() = default;
    static Value null();
    static Value fromBool(bool b);
    static Value fromNumber(double n);
    static Value fromString(std::string s);
    static Value fromString(std::string_view s) { return fromString(std::string(s)); }
    static Value fromString(const QString &s);
    static Value fromArray(Array items);
    // Members in the order written; duplicates keep the first position and the last value, and
    // integer-like keys move to the front as in JavaScript.
    static Value fromMembers(std::vector<Member> members);

    // Parses JSON text (RFC 8259). Errors carry line and column.
    static Common::Result<Value> fromJson(std::string_view json);
    static Common::Result<Value> fromJson(const QByteArray &json)
    {
        return fromJson(std::string_view(json.constData(), size_t(json.size())));
    }

    Type type() const { return m_type; }
    bool isUndefined() const { return m_type == Type::Undefined; }
    bool isNull() const { return m_type == Type::Null; }
    bool isNullish() const { return m_type <= Type::Null; }
    bool isBool() const { return m_type == Type::Bool; }
    bool isNumber() const { return m_type == Type::Number; }
    bool isString() const { return m_type == Type::String; }
    bool isArray() const { return m_type == Type::Array; }
    bool isObject() const { return m_type == Type::Object; }

    bool toBool() const { return m_bool; }
    double toNumber() const { return m_number; }
    // The UTF-8 text of a string, empty otherwise.
    const std::string &toStdString() const
    {
        return m_type == Type::String ? *static_cast<const std::string *>(m_data.get())
                                      : emptyString();
    }
    QString toQString() const { return QString::fromStdString(toStdString()); }
    const Array &items() const;
    const std::vector<Member> &members() const;

    // JavaScript truthiness: false, 0, NaN, "", null and undefined are falsy.
    bool isTruthy() const;
    // handlebars.js Utils.isEmpty: falsy but not 0, or an empty array.
    bool isEmpty() const;

    // A property lookup as handlebars.js does it (own properties only): object keys and array
    // indices. nullptr when there is none. See jsLength() for the "length" of arrays and strings.
    const Value *property(std::string_view key) const;
    const Value *member(std::string_view key) const { return member(key, keyHash(key)); }
    // With the key's keyHash() computed beforehand (paths in templates are hashed once).
    const Value *member(std::string_view key, size_t hash) const;
    const Value *property(std::string_view key, size_t hash) const;
    // With a position hint: where the key was found the last time. Objects of the same shape (the
    // items of an array) keep their keys at the same positions, so a lookup usually costs one
    // comparison. The hint is read and updated atomically (relaxed), so renders may share it.
    const Value *member(std::string_view key, size_t hash, uint32_t *hint) const;
    static size_t keyHash(std::string_view key);
    // The "length" property of an array or a string (in UTF-16 code units, as in JavaScript).
    bool jsLength(double *length) const;

    // String(value) in JavaScript, appended as UTF-8.
    void appendJsString(std::string &out) const;
    std::string toJsString() const
    {
        std::string s;
        appendJsString(s);
        return s;
    }
    // JavaScript Number.prototype.toString().
    static void appendJsNumber(std::string &out, double n);

    // Compact JSON text, keys in enumeration order.
    std::string toJson() const;

    // Strict (===) and loose (==) equality as in JavaScript; arrays and objects compare by identity.
    bool strictEquals(const Value &other) const;
    bool looseEquals(const Value &other) const;
    // ToNumber() as in JavaScript.
    double toJsNumber() const;
    bool isSameEntity(const Value &other) const;

private:
    struct ObjectData;
    static const std::string &emptyString();
    Type m_type = Type::Undefined;
    bool m_bool = false;
    double m_number = 0;
    std::shared_ptr<const void> m_data;
};

struct Value::Member
{
    Value key; // always a string
    Value value;
    size_t hash = 0; // keyHash(key), set by fromMembers()
};

} // namespace Templates
