#include "parser.h"

#include <QObject>

#include <algorithm>
#include <cstdlib>
#include <optional>

namespace Templates {

namespace {

using namespace Ast;

// ---------------------------------------------------------------------------------------------
// JavaScript's \s, which also covers some non-ASCII spaces, on UTF-8 text.

// One UTF-8 sequence; an invalid or truncated one counts as one byte (U+FFFD).
uint32_t decodeAt(std::string_view s, size_t i, size_t *len)
{
    const auto c = static_cast<unsigned char>(s[i]);
    *len = 1;
    if (c < 0x80)
        return c;
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0xFFFD;
    }
    if (i + n > s.size())
        return 0xFFFD;
    for (size_t k = 1; k < n; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80)
            return 0xFFFD;
        cp = (cp << 6) | (cc & 0x3Fu);
    }
    *len = n;
    return cp;
}

bool isJsSpace(uint32_t cp)
{
    return (cp >= 9 && cp <= 13) || cp == 32 || cp == 0xA0 || cp == 0x1680
            || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
            || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

// Byte length of the whitespace character starting at i, or 0.
size_t spaceAt(std::string_view s, size_t i)
{
    if (i >= s.size())
        return 0;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80)
        return ((c >= 9 && c <= 13) || c == 32) ? 1 : 0;
    size_t len = 1;
    const uint32_t cp = decodeAt(s, i, &len);
    return isJsSpace(cp) ? len : 0;
}

// Byte length of the whitespace character ending at end, or 0.
size_t spaceBefore(std::string_view s, size_t end)
{
    if (end == 0)
        return 0;
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 4)
        --start;
    size_t len = 0;
    const uint32_t cp = decodeAt(s, start, &len);
    if (start + len != end)
        return 0;
    return isJsSpace(cp) ? len : 0;
}

size_t skipSpaces(std::string_view s, size_t i)
{
    while (size_t n = spaceAt(s, i))
        i += n;
    return i;
}

bool isWordChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The characters an ID may not contain: [\s!"#%-,\.\/;->@\[-\^`\{-~]
bool isIdChar(std::string_view s, size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80)
        return spaceAt(s, i) == 0;
    if (c <= 32)
        return !((c >= 9 && c <= 13) || c == 32);
    switch (c) {
    case '!':
    case '"':
    case '#':
    case '.':
    case '/':
    case '@':
    case '`':
        return false;
    default:
        break;
    }
    if (c >= '%' && c <= ',')
        return false;
    if (c >= ';' && c <= '>')
        return false;
    if (c >= '[' && c <= '^')
        return false;
    if (c >= '{' && c <= '~')
        return false;
    return true;
}

// Lookahead sets of the lexer rules.
bool idLookahead(std::string_view s, size_t i) // [=~}\s\/.)|]
{
    if (i >= s.size())
        return false;
    const char c = s[i];
    return c == '=' || c == '~' || c == '}' || c == '/' || c == '.' || c == ')' || c == '|'
            || spaceAt(s, i) > 0;
}

bool literalLookahead(std::string_view s, size_t i) // [~}\s)]
{
    if (i >= s.size())
        return false;
    const char c = s[i];
    return c == '~' || c == '}' || c == ')' || spaceAt(s, i) > 0;
}

// ---------------------------------------------------------------------------------------------
// The lexer: handlebars.l, rule for rule, in the same order (jison takes the first rule that
// matches, not the longest).

enum class Tok {
    Content,
    Comment,
    OpenRawBlock,
    CloseRawBlock,
    EndRawBlock,
    OpenSexpr,
    CloseSexpr,
    OpenPartial,
    OpenPartialBlock,
    OpenBlock,
    OpenEndBlock,
    Inverse,
    OpenInverse,
    OpenInverseChain,
    OpenUnescaped,
    Open,
    Equals,
    Id,
    Sep,
    CloseUnescaped,
    Close,
    String,
    Data,
    Boolean,
    Undefined,
    Null,
    Number,
    OpenBlockParams,
    CloseBlockParams,
    Invalid,
    Eof,
};

const char *tokenName(Tok t)
{
    switch (t) {
    case Tok::Content:
        return "text";
    case Tok::Comment:
        return "a comment";
    case Tok::OpenRawBlock:
        return "'{{{{'";
    case Tok::CloseRawBlock:
        return "'}}}}'";
    case Tok::EndRawBlock:
        return "'{{{{/'";
    case Tok::OpenSexpr:
        return "'('";
    case Tok::CloseSexpr:
        return "')'";
    case Tok::OpenPartial:
        return "'{{>'";
    case Tok::OpenPartialBlock:
        return "'{{#>'";
    case Tok::OpenBlock:
        return "'{{#'";
    case Tok::OpenEndBlock:
        return "'{{/'";
    case Tok::Inverse:
        return "'{{else}}'";
    case Tok::OpenInverse:
        return "'{{^'";
    case Tok::OpenInverseChain:
        return "'{{else'";
    case Tok::OpenUnescaped:
        return "'{{{'";
    case Tok::Open:
        return "'{{'";
    case Tok::Equals:
        return "'='";
    case Tok::Id:
        return "a name";
    case Tok::Sep:
        return "'.' or '/'";
    case Tok::CloseUnescaped:
        return "'}}}'";
    case Tok::Close:
        return "'}}'";
    case Tok::String:
        return "a string";
    case Tok::Data:
        return "'@'";
    case Tok::Boolean:
        return "a boolean";
    case Tok::Undefined:
        return "'undefined'";
    case Tok::Null:
        return "'null'";
    case Tok::Number:
        return "a number";
    case Tok::OpenBlockParams:
        return "'as |'";
    case Tok::CloseBlockParams:
        return "'|'";
    case Tok::Invalid:
        return "an invalid character";
    case Tok::Eof:
        return "end of input";
    }
    return "?";
}

struct Token
{
    Tok type = Tok::Eof;
    std::string text;     // yytext after the rule's action
    std::string_view raw; // the input the rule matched
    Location loc;
    bool bracketed = false; // an ID written as [segment]
};

enum class State { Initial, Mu, Emu, Com, Raw };

class Lexer
{
public:
    explicit Lexer(std::string_view input)
        : m_in(input)
        , m_nextNul(input.find('\0'))
    { }

    // Tokenizes everything up front: the jison lexer does not depend on the parser's state.
    bool run(std::vector<Token> *tokens, Common::Error *error)
    {
        for (;;) {
            Token t;
            if (!next(&t)) {
                *error = lexError();
                return false;
            }
            const bool eof = t.type == Tok::Eof;
            tokens->push_back(std::move(t));
            if (eof)
                return true;
            if (tokens->size() > 50'000'000) {
                *error = Common::makeError(QStringLiteral("templates.parse"),
                                           QObject::tr("The template is too large."));
                return false;
            }
        }
    }

private:
    Common::Error lexError() const
    {
        const Location loc = locationOf(m_pos);
        return Common::makeError(QStringLiteral("templates.parse"),
                                 QObject::tr(
                                         "Parse error at line %1, column %2: unexpected text %3")
                                         .arg(loc.line)
                                         .arg(loc.column)
                                         .arg(snippet()));
    }

    QString snippet() const
    {
        std::string_view rest = m_in.substr(m_pos, 20);
        return QStringLiteral("\"%1\"").arg(QString::fromUtf8(rest.data(), qsizetype(rest.size())));
    }

    Location locationOf(size_t pos) const
    {
        // Incremental: positions only move forward.
        while (m_locPos < pos && m_locPos < m_in.size()) {
            if (m_in[m_locPos] == '\n') {
                ++m_loc.line;
                m_loc.column = 1;
            } else if ((static_cast<unsigned char>(m_in[m_locPos]) & 0xC0) != 0x80) {
                ++m_loc.column;
            }
            ++m_locPos;
        }
        return m_loc;
    }

    State state() const { return m_states.empty() ? State::Initial : m_states.back(); }
    void begin(State s) { m_states.push_back(s); }
    void popState()
    {
        if (!m_states.empty())
            m_states.pop_back();
    }
    bool startsWith(size_t i, std::string_view what) const
    {
        return m_in.substr(std::min(i, m_in.size())).starts_with(what);
    }

    void emit(Token *t, Tok type, size_t len, std::string text)
    {
        t->type = type;
        t->loc = locationOf(m_pos);
        t->raw = m_in.substr(m_pos, len);
        t->text = std::move(text);
        m_pos += len;
    }
    void emit(Token *t, Tok type, size_t len)
    {
        emit(t, type, len, std::string(m_in.substr(m_pos, len)));
    }

    bool next(Token *t)
    {
        for (;;) {
            switch (state()) {
            case State::Initial: {
                if (m_pos >= m_in.size()) {
                    emit(t, Tok::Eof, 0);
                    return true;
                }
                const size_t open = m_in.find("{{", m_pos);
                // The next NUL, found once: searching from every token would be quadratic.
                if (m_nextNul != std::string_view::npos && m_nextNul < m_pos)
                    m_nextNul = m_in.find('\0', m_pos);
                const size_t nul = m_nextNul;
                if (open != std::string_view::npos
                    && (nul == std::string_view::npos || nul > open)) {
                    // rule 0: text up to "{{", with \{{ and \\{{ escapes
                    std::string text(m_in.substr(m_pos, open - m_pos));
                    if (text.size() >= 2 && text.ends_with("\\\\")) {
                        text.pop_back();
                        begin(State::Mu);
                    } else if (text.ends_with('\\')) {
                        text.pop_back();
                        begin(State::Emu);
                    } else {
                        begin(State::Mu);
                    }
                    if (!text.empty()) {
                        emit(t, Tok::Content, open - m_pos, std::move(text));
                        return true;
                    }
                    m_pos = open;
                    continue;
                }
                // rule 1: the rest, up to a NUL
                const size_t end = nul == std::string_view::npos ? m_in.size() : nul;
                if (end == m_pos)
                    return false;
                emit(t, Tok::Content, end - m_pos);
                return true;
            }
            case State::Emu: {
                // rule 2: [^\x00]{2,}?(?=({{|\\{{|\\\\{{|$))
                size_t j = m_pos + 2;
                for (; j <= m_in.size(); ++j) {
                    if (j == m_in.size() || startsWith(j, "{{") || startsWith(j, "\\{{")
                        || startsWith(j, "\\\\{{"))
                        break;
                }
                if (j > m_in.size()
                    || m_in.substr(m_pos, j - m_pos).find('\0') != std::string_view::npos)
                    return false;
                popState();
                emit(t, Tok::Content, j - m_pos);
                return true;
            }
            case State::Com: {
                // rule 6: [\s\S]*?--(~)?}}
                size_t i = m_pos;
                for (;;) {
                    i = m_in.find("--", i);
                    if (i == std::string_view::npos)
                        return false;
                    if (startsWith(i + 2, "}}")) {
                        i += 4;
                        break;
                    }
                    if (startsWith(i + 2, "~}}")) {
                        i += 5;
                        break;
                    }
                    ++i;
                }
                popState();
                emit(t, Tok::Comment, i - m_pos);
                return true;
            }
            case State::Raw: {
                if (startsWith(m_pos, "{{{{") && m_pos + 4 < m_in.size() && m_in[m_pos + 4] != '/') {
                    begin(State::Raw);
                    emit(t, Tok::Content, 4);
                    return true;
                }
                if (startsWith(m_pos, "{{{{/")) {
                    size_t i = m_pos + 5;
                    while (i < m_in.size() && isIdChar(m_in, i))
                        ++i;
                    if (i > m_pos + 5 && startsWith(i, "}}}}")) {
                        const std::string name(m_in.substr(m_pos + 5, i - m_pos - 5));
                        popState();
                        if (state() == State::Raw) {
                            emit(t, Tok::Content, i + 4 - m_pos);
                        } else {
                            emit(t, Tok::EndRawBlock, i + 4 - m_pos, name);
                        }
                        return true;
                    }
                }
                // rule 5: [^\x00]+?(?={{{{)
                const size_t next = m_in.find("{{{{", m_pos + 1);
                if (next == std::string_view::npos
                    || m_in.substr(m_pos, next - m_pos).find('\0') != std::string_view::npos)
                    return false;
                emit(t, Tok::Content, next - m_pos);
                return true;
            }
            case State::Mu:
                if (lexMu(t))
                    return true;
                if (m_failed)
                    return false;
                continue;
            }
        }
    }

    // One rule of the "mu" state; false with m_failed unset when the rule only skipped input.
    bool lexMu(Token *t)
    {
        const std::string_view in = m_in;
        const size_t p = m_pos;
        if (p >= in.size()) {
            emit(t, Tok::Eof, 0);
            return true;
        }
        const char c = in[p];
        if (c == '(') {
            emit(t, Tok::OpenSexpr, 1);
            return true;
        }
        if (c == ')') {
            emit(t, Tok::CloseSexpr, 1);
            return true;
        }
        if (startsWith(p, "{{{{")) {
            emit(t, Tok::OpenRawBlock, 4);
            return true;
        }
        if (startsWith(p, "}}}}")) {
            popState();
            begin(State::Raw);
            emit(t, Tok::CloseRawBlock, 4);
            return true;
        }
        if (startsWith(p, "{{")) {
            size_t q = p + 2;
            if (q < in.size() && in[q] == '~')
                ++q;
            const char d = q < in.size() ? in[q] : '\0';
            if (d == '>') {
                emit(t, Tok::OpenPartial, q + 1 - p);
                return true;
            }
            if (d == '#' && startsWith(q + 1, ">")) {
                emit(t, Tok::OpenPartialBlock, q + 2 - p);
                return true;
            }
            if (d == '#') {
                emit(t, Tok::OpenBlock, (startsWith(q + 1, "*") ? q + 2 : q + 1) - p);
                return true;
            }
            if (d == '/') {
                emit(t, Tok::OpenEndBlock, q + 1 - p);
                return true;
            }
            if (d == '^') {
                // {{^}} with optional spaces and ~
                size_t r = skipSpaces(in, q + 1);
                if (r < in.size() && in[r] == '~')
                    ++r;
                if (startsWith(r, "}}")) {
                    popState();
                    emit(t, Tok::Inverse, r + 2 - p);
                    return true;
                }
            }
            {
                // {{else}} and {{else ...
                const size_t e = skipSpaces(in, q);
                if (startsWith(e, "else")) {
                    size_t r = skipSpaces(in, e + 4);
                    size_t r2 = r;
                    if (r2 < in.size() && in[r2] == '~')
                        ++r2;
                    if (startsWith(r2, "}}")) {
                        popState();
                        emit(t, Tok::Inverse, r2 + 2 - p);
                        return true;
                    }
                }
            }
            if (d == '^') {
                emit(t, Tok::OpenInverse, q + 1 - p);
                return true;
            }
            {
                const size_t e = skipSpaces(in, q);
                if (startsWith(e, "else") && (e + 4 >= in.size() || !isWordChar(in[e + 4]))) {
                    emit(t, Tok::OpenInverseChain, e + 4 - p);
                    return true;
                }
            }
            if (d == '{') {
                emit(t, Tok::OpenUnescaped, q + 1 - p);
                return true;
            }
            if (d == '&') {
                emit(t, Tok::Open, q + 1 - p);
                return true;
            }
            if (d == '!' && startsWith(q + 1, "--")) {
                // rule 21: unput, and let the "com" state match the whole comment
                popState();
                begin(State::Com);
                return false;
            }
            if (d == '!') {
                const size_t end = in.find("}}", q + 1);
                if (end == std::string_view::npos) {
                    m_failed = true;
                    return false;
                }
                popState();
                emit(t, Tok::Comment, end + 2 - p);
                return true;
            }
            emit(t, Tok::Open, (d == '*' ? q + 1 : q) - p);
            return true;
        }
        if (c == '=') {
            emit(t, Tok::Equals, 1);
            return true;
        }
        if (startsWith(p, "..")) {
            emit(t, Tok::Id, 2);
            return true;
        }
        if (c == '.' && idLookahead(in, p + 1)) {
            emit(t, Tok::Id, 1);
            return true;
        }
        if (c == '.' || c == '/') {
            emit(t, Tok::Sep, 1);
            return true;
        }
        if (const size_t n = spaceAt(in, p)) {
            size_t q = p + n;
            while (size_t m = spaceAt(in, q))
                q += m;
            m_pos = q;
            return false;
        }
        if (startsWith(p, "}~}}")) {
            popState();
            emit(t, Tok::CloseUnescaped, 4);
            return true;
        }
        if (startsWith(p, "}}}")) {
            popState();
            emit(t, Tok::CloseUnescaped, 3);
            return true;
        }
        if (startsWith(p, "~}}")) {
            popState();
            emit(t, Tok::Close, 3);
            return true;
        }
        if (startsWith(p, "}}")) {
            popState();
            emit(t, Tok::Close, 2);
            return true;
        }
        if (c == '"' || c == '\'') {
            size_t end = 0;
            if (quoted(p, c, &end)) {
                std::string text;
                std::string_view inner = in.substr(p + 1, end - p - 1);
                for (size_t i = 0; i < inner.size(); ++i) {
                    if (inner[i] == '\\' && i + 1 < inner.size() && inner[i + 1] == c)
                        continue; // \" becomes "
                    text += inner[i];
                }
                emit(t, Tok::String, end + 1 - p, std::move(text));
                return true;
            }
        }
        if (c == '@') {
            emit(t, Tok::Data, 1);
            return true;
        }
        for (const auto &[word, type] : {std::pair{std::string_view("true"), Tok::Boolean},
                                         std::pair{std::string_view("false"), Tok::Boolean},
                                         std::pair{std::string_view("undefined"), Tok::Undefined},
                                         std::pair{std::string_view("null"), Tok::Null}}) {
            if (startsWith(p, word) && literalLookahead(in, p + word.size())) {
                emit(t, type, word.size());
                return true;
            }
        }
        {
            size_t q = p;
            if (q < in.size() && in[q] == '-')
                ++q;
            const size_t digits = q;
            while (q < in.size() && in[q] >= '0' && in[q] <= '9')
                ++q;
            if (q > digits) {
                size_t r = q;
                if (r + 1 < in.size() && in[r] == '.' && in[r + 1] >= '0' && in[r + 1] <= '9') {
                    ++r;
                    while (r < in.size() && in[r] >= '0' && in[r] <= '9')
                        ++r;
                }
                if (literalLookahead(in, r)) {
                    emit(t, Tok::Number, r - p);
                    return true;
                }
            }
        }
        if (startsWith(p, "as") && spaceAt(in, p + 2)) {
            const size_t q = skipSpaces(in, p + 2);
            if (q < in.size() && in[q] == '|') {
                emit(t, Tok::OpenBlockParams, q + 1 - p);
                return true;
            }
        }
        if (c == '|') {
            emit(t, Tok::CloseBlockParams, 1);
            return true;
        }
        {
            size_t q = p;
            while (q < in.size() && isIdChar(in, q))
                ++q;
            if (q > p && idLookahead(in, q)) {
                emit(t, Tok::Id, q - p);
                return true;
            }
        }
        if (c == '[') {
            size_t end = 0;
            if (quoted(p, ']', &end)) {
                // yytext.replace(/\\([\\\]])/g, '$1'), then id() drops the brackets
                std::string text;
                std::string_view all = in.substr(p, end + 1 - p);
                for (size_t i = 0; i < all.size(); ++i) {
                    if (all[i] == '\\' && i + 1 < all.size()
                        && (all[i + 1] == '\\' || all[i + 1] == ']')) {
                        text += all[i + 1];
                        ++i;
                        continue;
                    }
                    text += all[i];
                }
                emit(t, Tok::Id, end + 1 - p, std::move(text));
                t->bracketed = true;
                return true;
            }
        }
        // rule 43: any other character
        size_t len = 1;
        decodeAt(in, p, &len);
        emit(t, Tok::Invalid, std::min(len, in.size() - p));
        return true;
    }

    // "(\\["]|[^"])*" and \[(\\\]|[^\]])*\] with the regex engine's backtracking: the closing
    // character is the first unescaped one, or else the last escaped one.
    bool quoted(size_t p, char close, size_t *end) const
    {
        size_t lastEscaped = std::string_view::npos;
        for (size_t i = p + 1; i < m_in.size(); ++i) {
            if (m_in[i] == '\\' && i + 1 < m_in.size() && m_in[i + 1] == close) {
                lastEscaped = i + 1;
                ++i;
                continue;
            }
            if (m_in[i] == close) {
                *end = i;
                return true;
            }
        }
        if (lastEscaped != std::string_view::npos) {
            *end = lastEscaped;
            return true;
        }
        return false;
    }

    std::string_view m_in;
    size_t m_pos = 0;
    size_t m_nextNul;
    std::vector<State> m_states;
    bool m_failed = false;
    mutable size_t m_locPos = 0;
    mutable Location m_loc;
};

// ---------------------------------------------------------------------------------------------
// The grammar (handlebars.yy) as recursive descent.

Strip stripFlags(std::string_view open, std::string_view close)
{
    Strip s;
    s.open = open.size() > 2 && open[2] == '~';
    s.close = close.size() >= 3 && close[close.size() - 3] == '~';
    return s;
}

struct CloseBlock
{
    std::string original;
    Strip strip;
};

struct InverseChain
{
    Strip strip;
    std::unique_ptr<Program> program;
    bool chain = false;
};

struct OpenBlock
{
    std::string open;
    Call call;
    std::vector<std::string> blockParams;
    Strip strip;
    Location loc;
};

class GrammarParser
{
public:
    GrammarParser(std::vector<Token> tokens, std::string_view source)
        : m_tokens(std::move(tokens))
        , m_sourceEnd(source.data() + source.size())
    { }

    Common::Result<std::unique_ptr<Program>> parseRoot()
    {
        auto program = parseProgram();
        if (!m_error && peek().type != Tok::Eof)
            expected(QObject::tr("end of input"));
        if (m_error)
            return Common::fail(*m_error);
        return program;
    }

private:
    const Token &peek(size_t ahead = 0) const
    {
        const size_t i = std::min(m_pos + ahead, m_tokens.size() - 1);
        return m_tokens[i];
    }
    const Token &take()
    {
        const Token &t = m_tokens[std::min(m_pos++, m_tokens.size() - 1)];
        switch (t.type) {
        case Tok::Open:
        case Tok::OpenUnescaped:
        case Tok::OpenBlock:
        case Tok::OpenInverse:
        case Tok::OpenInverseChain:
        case Tok::OpenEndBlock:
        case Tok::OpenPartial:
        case Tok::OpenPartialBlock:
        case Tok::OpenRawBlock:
            m_openTag = &t;
            m_inTag = true;
            break;
        case Tok::Close:
        case Tok::CloseUnescaped:
        case Tok::CloseRawBlock:
            m_inTag = false;
            break;
        default:
            break;
        }
        return t;
    }

    void fail(const Location &loc, const QString &message)
    {
        if (m_error)
            return;
        m_error = Common::makeError(QStringLiteral("templates.parse"),
                                    QObject::tr("Parse error at line %1, column %2: %3")
                                            .arg(loc.line)
                                            .arg(loc.column)
                                            .arg(message));
    }
    void expected(const QString &what)
    {
        const Token &t = peek();
        if ((t.type == Tok::Invalid || t.type == Tok::Eof) && m_openTag && m_inTag
            && std::string_view(t.raw.data(), size_t(m_sourceEnd - t.raw.data())).find("}}")
                    == std::string_view::npos) {
            fail(m_openTag->loc, QObject::tr("the tag is not closed: expected '}}' after it"));
            return;
        }
        QString got = QString::fromLatin1(tokenName(t.type));
        if (t.type == Tok::Id || t.type == Tok::Invalid || t.type == Tok::Number)
            got += QStringLiteral(" \"%1\"").arg(
                    QString::fromUtf8(t.raw.data(), qsizetype(t.raw.size())));
        fail(t.loc, QObject::tr("expected %1, got %2").arg(what, got));
    }
    bool expect(Tok type, const QString &what)
    {
        if (peek().type != type) {
            expected(what);
            return false;
        }
        return true;
    }
    bool enter()
    {
        if (++m_depth > Parser::maxNesting) {
            fail(peek().loc,
                 QObject::tr("the template nests more than %1 levels deep").arg(Parser::maxNesting));
            return false;
        }
        return true;
    }
    void leave() { --m_depth; }

    // yy.id(): a [bracketed] ID without its brackets.
    static std::string idName(const Token &t)
    {
        if (t.bracketed && t.text.size() >= 2 && t.text.find_first_of("\r\n") == std::string::npos)
            return t.text.substr(1, t.text.size() - 2);
        return t.text;
    }

    static bool startsStatement(Tok t)
    {
        switch (t) {
        case Tok::Content:
        case Tok::Comment:
        case Tok::Open:
        case Tok::OpenUnescaped:
        case Tok::OpenBlock:
        case Tok::OpenInverse:
        case Tok::OpenRawBlock:
        case Tok::OpenPartial:
        case Tok::OpenPartialBlock:
            return true;
        default:
            return false;
        }
    }

    std::unique_ptr<Program> parseProgram()
    {
        auto program = std::make_unique<Program>();
        if (!enter())
            return program;
        while (!m_error && startsStatement(peek().type)) {
            auto statement = parseStatement();
            if (statement)
                program->body.push_back(std::move(statement));
        }
        leave();
        return program;
    }

    std::unique_ptr<Statement> parseStatement()
    {
        const Token &t = peek();
        switch (t.type) {
        case Tok::Content: {
            auto s = std::make_unique<Statement>();
            s->kind = Statement::Kind::Content;
            s->loc = t.loc;
            s->original = t.text;
            s->value = t.text;
            take();
            return s;
        }
        case Tok::Comment: {
            auto s = std::make_unique<Statement>();
            s->kind = Statement::Kind::Comment;
            s->loc = t.loc;
            s->strip = stripFlags(t.raw, t.raw);
            take();
            return s;
        }
        case Tok::Open:
        case Tok::OpenUnescaped:
            return parseMustache();
        case Tok::OpenBlock:
        case Tok::OpenInverse:
            return parseBlock();
        case Tok::OpenRawBlock:
            return parseRawBlock();
        case Tok::OpenPartial:
            return parsePartial();
        case Tok::OpenPartialBlock:
            return parsePartialBlock();
        default:
            return nullptr;
        }
    }

    static bool startsHelperName(Tok t)
    {
        switch (t) {
        case Tok::Id:
        case Tok::Data:
        case Tok::String:
        case Tok::Number:
        case Tok::Boolean:
        case Tok::Undefined:
        case Tok::Null:
            return true;
        default:
            return false;
        }
    }

    // path: ID (SEP ID)*, with handlebars' preparePath() checks.
    ExpressionPtr parsePath(bool data, const Location &loc)
    {
        auto e = std::make_unique<Expression>();
        e->kind = Expression::Kind::Path;
        e->loc = loc;
        e->data = data;
        std::string original = data ? "@" : "";
        bool first = true;
        for (;;) {
            if (!expect(Tok::Id, QObject::tr("a name")))
                return e;
            const Token &id = take();
            std::string part = id.text;
            bool literal = false;
            if (id.bracketed) {
                // [bracketed]: id() strips the brackets when /^\[.*\]$/ matches ("." stops at
                // line breaks)
                if (part.find_first_of("\r\n") == std::string::npos) {
                    part = part.substr(1, part.size() - 2);
                    literal = true;
                }
            }
            if (!first)
                original += m_lastSeparator;
            original += part;
            if (!literal && (part == ".." || part == "." || part == "this")) {
                if (!e->parts.empty()) {
                    fail(id.loc,
                         QObject::tr("invalid path: %1").arg(QString::fromStdString(original)));
                    return e;
                }
                if (part == "..")
                    ++e->depth;
            } else {
                e->parts.push_back(std::move(part));
            }
            first = false;
            if (peek().type != Tok::Sep)
                break;
            m_lastSeparator = take().text;
        }
        e->original = std::move(original);
        // AST.helpers.scopedId: /^\.|this\b/
        const std::string &o = e->original;
        bool scoped = !o.empty() && o[0] == '.';
        for (size_t i = o.find("this"); !scoped && i != std::string::npos;
             i = o.find("this", i + 1)) {
            if (i + 4 >= o.size() || !isWordChar(o[i + 4]))
                scoped = true;
        }
        e->scoped = scoped;
        return e;
    }

    ExpressionPtr parseHelperName()
    {
        const Token &t = peek();
        const Location loc = t.loc;
        switch (t.type) {
        case Tok::Id:
            return parsePath(false, loc);
        case Tok::Data:
            take();
            return parsePath(true, loc);
        case Tok::String:
        case Tok::Number:
        case Tok::Boolean:
        case Tok::Undefined:
        case Tok::Null: {
            auto e = std::make_unique<Expression>();
            e->kind = Expression::Kind::Literal;
            e->loc = loc;
            const Token &lit = take();
            switch (lit.type) {
            case Tok::String:
                e->literal = Value::fromString(lit.text);
                e->original = lit.text;
                break;
            case Tok::Number: {
                const double d = std::strtod(lit.text.c_str(), nullptr);
                e->literal = Value::fromNumber(d);
                Value::appendJsNumber(e->original, d);
                break;
            }
            case Tok::Boolean:
                e->literal = Value::fromBool(lit.text == "true");
                e->original = lit.text;
                break;
            case Tok::Undefined:
                e->original = "undefined";
                break;
            default:
                e->literal = Value::null();
                e->original = "null";
                break;
            }
            return e;
        }
        default:
            expected(QObject::tr("a name, a string, a number, a boolean, null or undefined"));
            return nullptr;
        }
    }

    ExpressionPtr parseParam()
    {
        if (peek().type == Tok::OpenSexpr)
            return parseSubExpression();
        return parseHelperName();
    }

    ExpressionPtr parseSubExpression()
    {
        const Location loc = peek().loc;
        take(); // (
        if (!enter())
            return nullptr;
        auto e = std::make_unique<Expression>();
        e->kind = Expression::Kind::SubExpression;
        e->loc = loc;
        e->call = std::make_unique<Call>();
        parseCallBody(e->call.get(), false);
        if (!m_error && expect(Tok::CloseSexpr, QObject::tr("')'")))
            take();
        leave();
        return e;
    }

    // helperName param* hash? — and with allowBlockParams, blockParams?
    void parseCallBody(Call *call, bool allowBlockParams,
                       std::vector<std::string> *blockParams = nullptr)
    {
        call->path = parseHelperName();
        if (m_error)
            return;
        // params until a hash starts (ID '=')
        while (!m_error) {
            const Tok t = peek().type;
            if (t == Tok::Id && peek(1).type == Tok::Equals)
                break;
            if (t == Tok::OpenSexpr || startsHelperName(t)) {
                call->params.push_back(parseParam());
                continue;
            }
            break;
        }
        while (!m_error && peek().type == Tok::Id && peek(1).type == Tok::Equals) {
            call->hasHash = true;
            std::string key = idName(take());
            take(); // =
            if (peek().type != Tok::OpenSexpr && !startsHelperName(peek().type)) {
                expected(QObject::tr("a value"));
                return;
            }
            call->hash.push_back({std::move(key), parseParam()});
        }
        if (allowBlockParams && !m_error && peek().type == Tok::OpenBlockParams) {
            take();
            if (!expect(Tok::Id, QObject::tr("a block parameter name")))
                return;
            while (peek().type == Tok::Id) {
                blockParams->push_back(idName(take()));
            }
            if (!expect(Tok::CloseBlockParams, QObject::tr("'|'")))
                return;
            take();
        }
    }

    std::unique_ptr<Statement> parseMustache()
    {
        const Token &open = take();
        const std::string openText(open.raw);
        auto s = std::make_unique<Statement>();
        s->kind = Statement::Kind::Mustache;
        s->loc = open.loc;
        parseCallBody(&s->call, false);
        if (m_error)
            return nullptr;
        const Tok close = open.type == Tok::OpenUnescaped ? Tok::CloseUnescaped : Tok::Close;
        if (!expect(close, close == Tok::Close ? QObject::tr("'}}'") : QObject::tr("'}}}'")))
            return nullptr;
        const Token &closeTok = take();
        s->strip = stripFlags(openText, closeTok.raw);
        const char flag = openText.size() > 3 ? openText[3]
                                              : (openText.size() > 2 ? openText[2] : '\0');
        s->escaped = flag != '{' && flag != '&';
        if (openText.find('*') != std::string::npos) {
            fail(s->loc, QObject::tr("decorators other than inline partials are not supported"));
            return nullptr;
        }
        return s;
    }

    bool parseOpen(OpenBlock *ob, bool blockParamsAllowed = true)
    {
        const Token &open = take();
        ob->open = std::string(open.raw);
        ob->loc = open.loc;
        parseCallBody(&ob->call, blockParamsAllowed, &ob->blockParams);
        if (m_error || !expect(Tok::Close, QObject::tr("'}}'")))
            return false;
        ob->strip = stripFlags(ob->open, take().raw);
        return true;
    }

    bool parseClose(CloseBlock *close)
    {
        if (!expect(Tok::OpenEndBlock, QObject::tr("'{{/'")))
            return false;
        const Token &open = take();
        const std::string openText(open.raw);
        auto name = parseHelperName();
        if (m_error)
            return false;
        close->original = name->original;
        if (!expect(Tok::Close, QObject::tr("'}}'")))
            return false;
        close->strip = stripFlags(openText, take().raw);
        return true;
    }

    bool validateClose(const OpenBlock &open, const CloseBlock &close)
    {
        if (open.call.path->original != close.original) {
            fail(open.call.path->loc,
                 QObject::tr("%1 doesn't match %2")
                         .arg(QString::fromStdString(open.call.path->original),
                              QString::fromStdString(close.original)));
            return false;
        }
        return true;
    }

    // inverseChain: openInverseChain program inverseChain? | INVERSE program
    std::unique_ptr<InverseChain> parseInverseChain()
    {
        auto chain = std::make_unique<InverseChain>();
        if (peek().type == Tok::Inverse) {
            const Token &inv = take();
            chain->strip = stripFlags(inv.raw, inv.raw);
            chain->program = parseProgram();
            return chain;
        }
        // {{else if ...}}
        if (!enter())
            return nullptr;
        OpenBlock ob;
        if (!parseOpen(&ob))
            return nullptr;
        auto program = parseProgram();
        std::unique_ptr<InverseChain> next;
        if (!m_error && (peek().type == Tok::Inverse || peek().type == Tok::OpenInverseChain)) {
            next = parseInverseChain();
            if (m_error)
                return nullptr;
        }
        leave();
        if (m_error)
            return nullptr;
        std::optional<Strip> closeStrip;
        if (next)
            closeStrip = next->strip;
        const Strip openStrip = ob.strip;
        auto inverse = prepareBlock(std::move(ob), std::move(program), std::move(next), closeStrip,
                                    nullptr, false);
        if (!inverse)
            return nullptr;
        chain->strip = openStrip;
        chain->program = std::make_unique<Program>();
        chain->program->body.push_back(std::move(inverse));
        chain->program->chained = true;
        chain->chain = true;
        return chain;
    }

    std::unique_ptr<Statement> prepareBlock(OpenBlock open, std::unique_ptr<Program> program,
                                            std::unique_ptr<InverseChain> inverseAndProgram,
                                            std::optional<Strip> closeStrip,
                                            const CloseBlock *close, bool inverted)
    {
        if (close && !validateClose(open, *close))
            return nullptr;
        const bool decorator = open.open.find('*') != std::string::npos;
        auto s = std::make_unique<Statement>();
        s->loc = open.loc;
        s->kind = Statement::Kind::Block;
        program->blockParams = std::move(open.blockParams);
        std::unique_ptr<Program> inverse;
        if (inverseAndProgram) {
            if (decorator) {
                fail(open.loc, QObject::tr("unexpected inverse block on an inline partial"));
                return nullptr;
            }
            if (inverseAndProgram->chain && closeStrip)
                inverseAndProgram->program->body[0]->closeStrip = *closeStrip;
            s->inverseStrip = inverseAndProgram->strip;
            s->hasInverseStrip = true;
            inverse = std::move(inverseAndProgram->program);
        }
        if (inverted)
            std::swap(program, inverse);
        s->call = std::move(open.call);
        s->program = std::move(program);
        s->inverse = std::move(inverse);
        s->openStrip = open.strip;
        if (closeStrip)
            s->closeStrip = *closeStrip;
        if (decorator) {
            s->kind = Statement::Kind::InlinePartial;
            const Expression *path = s->call.path.get();
            if (path->kind != Expression::Kind::Path || path->parts.size() != 1
                || path->parts[0] != "inline") {
                fail(open.loc,
                     QObject::tr("unknown decorator \"%1\": only inline partials are supported")
                             .arg(QString::fromStdString(path->original)));
                return nullptr;
            }
            if (s->call.params.empty() || s->call.params[0]->kind != Expression::Kind::Literal) {
                fail(open.loc, QObject::tr("an inline partial needs a name"));
                return nullptr;
            }
            s->partialName = s->call.params[0]->literal.toJsString();
        }
        return s;
    }

    std::unique_ptr<Statement> parseBlock()
    {
        const bool inverted = peek().type == Tok::OpenInverse;
        if (!enter())
            return nullptr;
        OpenBlock ob;
        if (!parseOpen(&ob))
            return nullptr;
        auto program = parseProgram();
        if (m_error)
            return nullptr;
        std::unique_ptr<InverseChain> chain;
        if (peek().type == Tok::Inverse || (!inverted && peek().type == Tok::OpenInverseChain)) {
            chain = parseInverseChain();
            if (m_error)
                return nullptr;
        }
        CloseBlock close;
        if (!parseClose(&close))
            return nullptr;
        leave();
        return prepareBlock(std::move(ob), std::move(program), std::move(chain), close.strip,
                            &close, inverted);
    }

    std::unique_ptr<Statement> parseRawBlock()
    {
        const Location loc = peek().loc;
        take(); // {{{{
        auto s = std::make_unique<Statement>();
        s->kind = Statement::Kind::Block;
        s->loc = loc;
        parseCallBody(&s->call, false);
        if (m_error || !expect(Tok::CloseRawBlock, QObject::tr("'}}}}'")))
            return nullptr;
        take();
        s->program = std::make_unique<Program>();
        while (peek().type == Tok::Content) {
            const Token &t = take();
            auto c = std::make_unique<Statement>();
            c->kind = Statement::Kind::Content;
            c->loc = t.loc;
            c->original = t.text;
            c->value = t.text;
            s->program->body.push_back(std::move(c));
        }
        if (!expect(Tok::EndRawBlock,
                    QObject::tr("'{{{{/%1}}}}'").arg(QString::fromStdString(s->call.path->original))))
            return nullptr;
        const Token &end = take();
        if (end.text != s->call.path->original) {
            fail(s->call.path->loc,
                 QObject::tr("%1 doesn't match %2")
                         .arg(QString::fromStdString(s->call.path->original),
                              QString::fromStdString(end.text)));
            return nullptr;
        }
        return s;
    }

    bool parsePartialName(Statement *s)
    {
        if (peek().type == Tok::OpenSexpr) {
            s->dynamicPartial = true;
            s->call.path = parseSubExpression();
        } else {
            s->call.path = parseHelperName();
            if (s->call.path)
                s->partialName = s->call.path->original;
        }
        return !m_error;
    }

    void parsePartialArguments(Statement *s)
    {
        while (!m_error) {
            const Tok t = peek().type;
            if (t == Tok::Id && peek(1).type == Tok::Equals)
                break;
            if (t == Tok::OpenSexpr || startsHelperName(t)) {
                s->call.params.push_back(parseParam());
                continue;
            }
            break;
        }
        while (!m_error && peek().type == Tok::Id && peek(1).type == Tok::Equals) {
            s->call.hasHash = true;
            std::string key = idName(take());
            take();
            if (peek().type != Tok::OpenSexpr && !startsHelperName(peek().type)) {
                expected(QObject::tr("a value"));
                return;
            }
            s->call.hash.push_back({std::move(key), parseParam()});
        }
        if (!m_error && s->call.params.size() > 1)
            fail(s->loc,
                 QObject::tr("a partial takes at most one context argument, not %1")
                         .arg(s->call.params.size()));
    }

    std::unique_ptr<Statement> parsePartial()
    {
        const Token &open = take();
        const std::string openText(open.raw);
        auto s = std::make_unique<Statement>();
        s->kind = Statement::Kind::Partial;
        s->loc = open.loc;
        if (!parsePartialName(s.get()))
            return nullptr;
        parsePartialArguments(s.get());
        if (m_error || !expect(Tok::Close, QObject::tr("'}}'")))
            return nullptr;
        s->strip = stripFlags(openText, take().raw);
        return s;
    }

    std::unique_ptr<Statement> parsePartialBlock()
    {
        if (!enter())
            return nullptr;
        const Token &open = take();
        const std::string openText(open.raw);
        auto s = std::make_unique<Statement>();
        s->kind = Statement::Kind::PartialBlock;
        s->loc = open.loc;
        if (!parsePartialName(s.get()))
            return nullptr;
        parsePartialArguments(s.get());
        if (m_error || !expect(Tok::Close, QObject::tr("'}}'")))
            return nullptr;
        s->openStrip = stripFlags(openText, take().raw);
        s->program = parseProgram();
        if (m_error)
            return nullptr;
        CloseBlock close;
        if (!parseClose(&close))
            return nullptr;
        leave();
        if (s->call.path->original != close.original) {
            fail(s->call.path->loc,
                 QObject::tr("%1 doesn't match %2")
                         .arg(QString::fromStdString(s->call.path->original),
                              QString::fromStdString(close.original)));
            return nullptr;
        }
        s->closeStrip = close.strip;
        return s;
    }

    std::vector<Token> m_tokens;
    const char *m_sourceEnd;
    const Token *m_openTag = nullptr; // the last "{{" token read
    bool m_inTag = false;             // between it and its "}}"
    size_t m_pos = 0;
    int m_depth = 0;
    std::string m_lastSeparator;
    std::optional<Common::Error> m_error;
};

// ---------------------------------------------------------------------------------------------
// WhitespaceControl (compiler/whitespace-control.js)

using Body = std::vector<std::unique_ptr<Statement>>;

bool isContent(const Statement *s)
{
    return s && s->kind == Statement::Kind::Content;
}

// The trailing whitespace of s contains a line break.
bool trailingSpaceHasNewline(std::string_view s)
{
    size_t end = s.size();
    while (size_t n = spaceBefore(s, end)) {
        if (s[end - 1] == '\n')
            return true;
        end -= n;
    }
    return false;
}

bool leadingSpaceHasNewline(std::string_view s)
{
    size_t i = 0;
    while (size_t n = spaceAt(s, i)) {
        if (s[i] == '\n')
            return true;
        i += n;
    }
    return false;
}

bool allSpace(std::string_view s)
{
    return skipSpaces(s, 0) == s.size();
}

// isPrevWhitespace(body, i, isRoot); i == npos means body.length.
std::optional<bool> isPrevWhitespace(const Body &body, size_t i, bool isRoot)
{
    if (i == std::string::npos)
        i = body.size();
    const Statement *prev = i >= 1 ? body[i - 1].get() : nullptr;
    const Statement *sibling = i >= 2 ? body[i - 2].get() : nullptr;
    if (!prev)
        return isRoot;
    if (prev->kind == Statement::Kind::Content) {
        if (sibling || !isRoot)
            return trailingSpaceHasNewline(prev->original);
        return allSpace(prev->original) || trailingSpaceHasNewline(prev->original);
    }
    return std::nullopt;
}

std::optional<bool> isNextWhitespace(const Body &body, std::optional<size_t> i, bool isRoot)
{
    const size_t nextIndex = i ? *i + 1 : 0;
    const Statement *next = nextIndex < body.size() ? body[nextIndex].get() : nullptr;
    const Statement *sibling = nextIndex + 1 < body.size() ? body[nextIndex + 1].get() : nullptr;
    if (!next)
        return isRoot;
    if (next->kind == Statement::Kind::Content) {
        if (sibling || !isRoot)
            return leadingSpaceHasNewline(next->original);
        return leadingSpaceHasNewline(next->original) || allSpace(next->original);
    }
    return std::nullopt;
}

bool truthy(std::optional<bool> b)
{
    return b.value_or(false);
}

void omitRight(Body &body, std::optional<size_t> i, bool multiple)
{
    const size_t index = i ? *i + 1 : 0;
    Statement *current = index < body.size() ? body[index].get() : nullptr;
    if (!isContent(current) || (!multiple && current->rightStripped))
        return;
    std::string &v = current->value;
    const std::string original = v;
    if (multiple) {
        v.erase(0, skipSpaces(v, 0));
    } else {
        size_t k = 0;
        while (k < v.size() && (v[k] == ' ' || v[k] == '\t'))
            ++k;
        if (k < v.size() && v[k] == '\r')
            ++k;
        if (k < v.size() && v[k] == '\n')
            ++k;
        v.erase(0, k);
    }
    current->rightStripped = v != original;
}

bool omitLeft(Body &body, std::optional<size_t> i, bool multiple)
{
    if (body.empty())
        return false;
    Statement *current = nullptr;
    if (!i)
        current = body.back().get();
    else if (*i >= 1)
        current = body[*i - 1].get();
    if (!isContent(current) || (!multiple && current->leftStripped))
        return false;
    std::string &v = current->value;
    const std::string original = v;
    if (multiple) {
        size_t end = v.size();
        while (size_t n = spaceBefore(v, end))
            end -= n;
        v.erase(end);
    } else {
        size_t end = v.size();
        while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            --end;
        v.erase(end);
    }
    current->leftStripped = v != original;
    return current->leftStripped;
}

struct StripInfo
{
    bool open = false;
    bool close = false;
    bool openStandalone = false;
    bool closeStandalone = false;
    bool inlineStandalone = false;
};

class WhitespaceControl
{
public:
    void program(Program &program)
    {
        const bool isRoot = !m_rootSeen;
        m_rootSeen = true;
        Body &body = program.body;
        for (size_t i = 0; i < body.size(); ++i) {
            Statement *current = body[i].get();
            std::optional<StripInfo> strip = accept(*current);
            if (!strip)
                continue;
            const bool prevWs = truthy(isPrevWhitespace(body, i, isRoot));
            const bool nextWs = truthy(isNextWhitespace(body, i, isRoot));
            const bool openStandalone = strip->openStandalone && prevWs;
            const bool closeStandalone = strip->closeStandalone && nextWs;
            const bool inlineStandalone = strip->inlineStandalone && prevWs && nextWs;
            if (strip->close)
                omitRight(body, i, true);
            if (strip->open)
                omitLeft(body, i, true);
            if (inlineStandalone) {
                omitRight(body, i, false);
                if (omitLeft(body, i, false)) {
                    if (current->kind == Statement::Kind::Partial) {
                        // /(?:^|[^ \t])([ \t]+)$/ on the text as written
                        const std::string &o = body[i - 1]->original;
                        size_t start = o.size();
                        while (start > 0 && (o[start - 1] == ' ' || o[start - 1] == '\t'))
                            --start;
                        current->indent = o.substr(start);
                    }
                }
            }
            if (openStandalone) {
                Program *p = current->program ? current->program.get() : current->inverse.get();
                if (p)
                    omitRight(p->body, std::nullopt, false);
                omitLeft(body, i, false);
            }
            if (closeStandalone) {
                omitRight(body, i, false);
                Program *p = current->inverse ? current->inverse.get() : current->program.get();
                if (p)
                    omitLeft(p->body, std::nullopt, false);
            }
        }
    }

private:
    std::optional<StripInfo> accept(Statement &s)
    {
        switch (s.kind) {
        case Statement::Kind::Content:
            return std::nullopt;
        case Statement::Kind::Mustache: {
            StripInfo info;
            info.open = s.strip.open;
            info.close = s.strip.close;
            return info;
        }
        case Statement::Kind::Partial:
        case Statement::Kind::Comment: {
            StripInfo info;
            info.inlineStandalone = true;
            info.open = s.strip.open;
            info.close = s.strip.close;
            return info;
        }
        case Statement::Kind::Block:
        case Statement::Kind::PartialBlock:
        case Statement::Kind::InlinePartial:
            return block(s);
        }
        return std::nullopt;
    }

    StripInfo block(Statement &block)
    {
        if (block.program)
            program(*block.program);
        if (block.inverse)
            program(*block.inverse);
        Program *prog = block.program ? block.program.get() : block.inverse.get();
        Program *inverse = block.program ? block.inverse.get() : nullptr;
        Program *firstInverse = inverse;
        Program *lastInverse = inverse;
        if (inverse && inverse->chained) {
            firstInverse = inverse->body[0]->program.get();
            while (lastInverse->chained)
                lastInverse = lastInverse->body.back()->program.get();
        }
        StripInfo strip;
        strip.open = block.openStrip.open;
        strip.close = block.closeStrip.close;
        static const Program emptyProgram;
        const Body &progBody = prog ? prog->body : emptyProgram.body;
        strip.openStandalone = truthy(isNextWhitespace(progBody, std::nullopt, false));
        const Body &firstBody = (firstInverse ? firstInverse : prog)
                ? (firstInverse ? firstInverse : prog)->body
                : emptyProgram.body;
        strip.closeStandalone = truthy(isPrevWhitespace(firstBody, std::string::npos, false));
        if (block.openStrip.close && prog)
            omitRight(prog->body, std::nullopt, true);
        if (inverse) {
            const Strip &inverseStrip = block.inverseStrip;
            if (inverseStrip.open && prog)
                omitLeft(prog->body, std::nullopt, true);
            if (inverseStrip.close && firstInverse)
                omitRight(firstInverse->body, std::nullopt, true);
            if (block.closeStrip.open && lastInverse)
                omitLeft(lastInverse->body, std::nullopt, true);
            if (prog && firstInverse
                && truthy(isPrevWhitespace(prog->body, std::string::npos, false))
                && truthy(isNextWhitespace(firstInverse->body, std::nullopt, false))) {
                omitLeft(prog->body, std::nullopt, false);
                omitRight(firstInverse->body, std::nullopt, false);
            }
        } else if (block.closeStrip.open && prog) {
            omitLeft(prog->body, std::nullopt, true);
        }
        return strip;
    }

    bool m_rootSeen = false;
};

} // namespace

Common::Result<std::unique_ptr<Ast::Program>> Parser::parse(std::string_view source)
{
    std::vector<Token> tokens;
    Common::Error error;
    if (!Lexer(source).run(&tokens, &error))
        return Common::fail(error);
    auto program = GrammarParser(std::move(tokens), source).parseRoot();
    if (!program)
        return program;
    WhitespaceControl().program(**program);
    return program;
}

} // namespace Templates
