#pragma once

#include "template.h"
#include "value.h"

#include <QStringList>

namespace Templates {

// What a template reads from its data, for the editor: every variable (as a dotted path; "[]"
// marks the items of a list iterated with #each), and those the sample data does not provide and
// that have no fallback. A variable has a fallback when it is the first argument of default or
// insert, or when it is read under an #if/#unless on itself, or is the condition of #if/#unless.
class TemplateLinter
{
public:
    struct Report
    {
        QStringList variables;
        QStringList missing;
    };

    static Report lint(const Template &compiled, const Value &data);
};

} // namespace Templates
