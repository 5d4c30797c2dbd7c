#pragma once

#include "ast.h"
#include "common/result.h"

#include <memory>
#include <string_view>

namespace Templates {

// Parses Handlebars source the way handlebars.js 4.7 does: its lexer rules (handlebars.l), its
// grammar (handlebars.yy), then its WhitespaceControl pass (standalone lines and "~"), so that the
// tree holds exactly the text handlebars.js would output. Errors name the line, the column and
// what was expected.
class Parser
{
public:
    // Nesting deeper than this (blocks, subexpressions) is refused, so hostile input cannot
    // exhaust the stack.
    static constexpr int maxNesting = 400;

    static Common::Result<std::unique_ptr<Ast::Program>> parse(std::string_view source);
};

} // namespace Templates
