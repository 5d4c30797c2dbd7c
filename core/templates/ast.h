#pragma once

#include "value.h"

#include <memory>
#include <string>
#include <vector>

// The syntax tree of a template, the same shape handlebars.js builds (compiler/ast.js), plus what
// the renderer needs precomputed: helper classification, block parameter slots, split paths.
namespace Templates::Ast {

struct Program;
struct Expression;
using ExpressionPtr = std::unique_ptr<Expression>;

struct Location
{
    int line = 1;
    int column = 1;
};

struct PathSegment
{
    std::string name;
};

struct HashPair
{
    std::string key;
    ExpressionPtr value;
};

struct Call
{
    ExpressionPtr path;
    std::vector<ExpressionPtr> params;
    std::vector<HashPair> hash;
    bool hasHash = false;
};

struct Expression
{
    enum class Kind { Path, Literal, SubExpression };
    enum class Classification { Simple, Ambiguous, Helper };
    Kind kind = Kind::Path;
    Location loc;

    // Path: "@" data, "../" depth, the parts without this/./.., and how it was written.
    bool data = false;
    int depth = 0;
    std::vector<std::string> parts;
    std::vector<size_t> partHashes; // Value::keyHash() of each part
    // Where each part was last found in an object (see Value::member()), updated by renders.
    mutable std::vector<uint32_t> partHints;
    std::string original;
    int helperId = -1;         // Engine::helperId() of parts[0] (ambiguous calls)
    int helperIdOriginal = -1; // ... of original (helper calls)
    bool scoped = false;       // handlebars' scopedId(): starts with "." or contains "this"
    int blockParamDepth = -1;  // lexical program depth of the block parameter, or -1
    int blockParamIndex = -1;

    // Literal: a string, number, boolean, null or undefined.
    Value literal;

    // SubExpression
    std::unique_ptr<Call> call;
    Classification classification = Classification::Simple;
};

struct Strip
{
    bool open = false;
    bool close = false;
};

struct Statement
{
    enum class Kind {
        Content,
        Comment,
        Mustache,
        Block,
        Partial,
        PartialBlock,
        InlinePartial, // {{#*inline "name"}}...{{/inline}}
    };
    Kind kind = Kind::Content;
    Location loc;

    // Content: the text as written and as left after whitespace control.
    std::string original;
    std::string value;
    bool rightStripped = false;
    bool leftStripped = false;

    // Mustache, Block, Partial, PartialBlock, InlinePartial
    Call call;
    Expression::Classification classification = Expression::Classification::Simple;
    bool escaped = true;
    Strip strip; // Mustache, Partial, Comment
    Strip openStrip;
    Strip inverseStrip;
    Strip closeStrip;
    bool hasInverseStrip = false;
    std::unique_ptr<Program> program;
    std::unique_ptr<Program> inverse;

    // Partial: the name written (for lookups and errors), dynamic if a subexpression.
    std::string partialName;
    bool dynamicPartial = false;
    std::string indent;
};

struct Program
{
    std::vector<std::unique_ptr<Statement>> body;
    std::vector<std::string> blockParams;
    bool chained = false;
    // Inline partials declared directly in this program, hoisted as handlebars.js decorators are.
    std::vector<const Statement *> inlinePartials;
};

} // namespace Templates::Ast
