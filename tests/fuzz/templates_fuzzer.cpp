// libFuzzer target for the template engine: parses the input as a template and renders it with
// fixed data and partials (one of them recursive), and parses it as JSON data. Any crash,
// sanitizer report, hang or unbounded memory use is a bug: bad input must end in an error.
// Build and run: tests/fuzz/run.sh [SECONDS], or configure with -DPOSTDESK_FUZZ=ON using clang.
#include "templates/engine.h"
#include "templates/value.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

Templates::Engine &engine()
{
    static Templates::Engine *e = [] {
        auto *engine = new Templates::Engine;
        engine->setMaxOutputSize(1 << 20);
        (void) engine->registerPartial(QStringLiteral("p"),
                                       QStringLiteral("[{{x}}{{> @partial-block}}]"));
        (void) engine->registerPartial(QStringLiteral("loop"), QStringLiteral("{{> loop}}"));
        (void) engine->registerPartial(QStringLiteral("tree"),
                                       QStringLiteral(
                                               "{{name}}{{#each children}}{{> tree}}{{/each}}"));
        return engine;
    }();
    return *e;
}

const Templates::Value &data()
{
    static const Templates::Value v = *Templates::Value::fromJson(std::string_view(
            R"({"x":"<&>","n":0,"list":[1,"two",{"a":null}],"obj":{"b":{"c":[true,false]},"2":"k"},)"
            R"("name":"root","children":[{"name":"a","children":[]}],"date":"2024-02-29T12:00:00Z"})"));
    return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const std::string_view input(reinterpret_cast<const char *>(bytes), size);
    auto compiled = Templates::Template::compile(input);
    if (compiled)
        (void) engine().renderUtf8(**compiled, data());
    auto json = Templates::Value::fromJson(input);
    if (json)
        (void) json->toJson();
    return 0;
}
