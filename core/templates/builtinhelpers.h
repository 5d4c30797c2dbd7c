#pragma once

#include "helpercall.h"

namespace Templates {

class Engine;

// The helpers every Engine starts with:
// - handlebars.js' own: if, unless, each, with, lookup, log, and raw for {{{{raw}}}} blocks;
// - comparison and logic: eq ne gt gte lt lte and or not, and SendGrid's equals notEquals
//   greaterThan lessThan (block or inline: a block renders its body or {{else}}, inline returns
//   true or false);
// - fallbacks: default, and SendGrid's insert ("default=...");
// - formatDate as SendGrid documents it, formatNumber and formatCurrency with a locale;
// - text: uppercase lowercase capitalize truncate length join.
class BuiltinHelpers
{
public:
    static void registerAll(Engine &engine);

    // #if/#unless, #each and #with, which the renderer also calls directly while they are not
    // replaced by other helpers of the same name.
    static Common::Result<Value> conditional(HelperCall &call, bool negate);
    static Common::Result<Value> each(HelperCall &call);
    static Common::Result<Value> with(HelperCall &call);
};

} // namespace Templates
