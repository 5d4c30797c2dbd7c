// The engine's API and Postdesk's own helpers: helper registration, the compiled-template cache,
// JSON data in JavaScript key order, formatDate as SendGrid documents it, numbers and currency in
// a locale, the lint pass and message templates.
#include "templates/engine.h"
#include "templates/formatters.h"
#include "templates/messagetemplate.h"
#include "templates/templatelinter.h"
#include "templates/value.h"

#include <QTest>

#include <atomic>
#include <thread>

using Templates::Engine;
using Templates::HelperCall;
using Templates::Value;

namespace {

Value json(const char *text)
{
    auto v = Value::fromJson(QByteArray(text));
    if (!v)
        qFatal("bad test JSON: %s", qPrintable(v.error().toString()));
    return *v;
}

QStringList strings(std::initializer_list<const char *> items)
{
    QStringList list;
    for (const char *item : items)
        list << QString::fromUtf8(item);
    return list;
}

QString render(Engine &engine, const QString &source, const char *data = "{}")
{
    auto result = engine.render(source, json(data));
    return result ? *result : QStringLiteral("ERROR: ") + result.error().message;
}

} // namespace

class TestTemplateRender : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void keyOrder();
    void jsNumbers_data();
    void jsNumbers();
    void registerHelper();
    void registerBlockHelper();
    void overrideBuiltin();
    void cache();
    void formatDate_data();
    void formatDate();
    void formatNumber_data();
    void formatNumber();
    void fallbacks();
    void textHelpers();
    void lint();
    void messageTemplate();
    void renderFromThreads();
};

void TestTemplateRender::keyOrder()
{
    // JavaScript enumerates integer-like keys first, ascending, then the others as written;
    // a duplicate key keeps its first position and its last value.
    const Value v = json(R"({"z":1,"10":2,"2":3,"a":4,"01":5,"-1":6,"z":7})");
    QStringList keys;
    for (const auto &m : v.members())
        keys << m.key.toQString();
    QCOMPARE(keys, strings({"2", "10", "z", "a", "01", "-1"}));
    QCOMPARE(v.member("z")->toNumber(), 7.0);
    Engine engine;
    QCOMPARE(render(engine, QStringLiteral("{{#each this}}{{@key}}={{this}} {{/each}}"),
                    R"({"b":1,"a":2,"3":"x"})"),
             QStringLiteral("3=x b=1 a=2 "));
}

void TestTemplateRender::jsNumbers_data()
{
    QTest::addColumn<double>("number");
    QTest::addColumn<QString>("text");
    QTest::newRow("integer") << 42.0 << QStringLiteral("42");
    QTest::newRow("negative zero") << -0.0 << QStringLiteral("0");
    QTest::newRow("fraction") << 0.1 << QStringLiteral("0.1");
    QTest::newRow("sum") << 0.1 + 0.2 << QStringLiteral("0.30000000000000004");
    QTest::newRow("big") << 1e21 << QStringLiteral("1e+21");
    QTest::newRow("below big") << 123456789012345680000.0
                               << QStringLiteral("123456789012345680000");
    QTest::newRow("small") << 1e-7 << QStringLiteral("1e-7");
    QTest::newRow("not so small") << 0.000001 << QStringLiteral("0.000001");
    QTest::newRow("exponent fraction") << 1.5e300 << QStringLiteral("1.5e+300");
}

void TestTemplateRender::jsNumbers()
{
    QFETCH(double, number);
    QFETCH(QString, text);
    QCOMPARE(QString::fromStdString(Value::fromNumber(number).toJsString()), text);
}

void TestTemplateRender::registerHelper()
{
    Engine engine;
    engine.registerHelper(QStringLiteral("shout"), [](HelperCall &call) -> Common::Result<Value> {
        const Value *suffix = call.hash("suffix");
        return Value::fromString(call.param(0).toQString().toUpper()
                                 + (suffix ? suffix->toQString() : QStringLiteral("!")));
    });
    QVERIFY(engine.hasHelper("shout"));
    QCOMPARE(render(engine,
                    QStringLiteral("{{shout name}} {{shout name suffix='?'}} {{{shout tag}}}"),
                    R"({"name":"ann","tag":"<b>"})"),
             QStringLiteral("ANN! ANN? <B>!"));
    // A helper's result is escaped in {{ }}.
    QCOMPARE(render(engine, QStringLiteral("{{shout tag}}"), R"({"tag":"<b>"})"),
             QStringLiteral("&lt;B&gt;!"));
    // Errors from helpers reach the caller.
    engine.registerHelper(QStringLiteral("broken"), [](HelperCall &) -> Common::Result<Value> {
        return Common::fail(QStringLiteral("test.broken"), QStringLiteral("it broke"));
    });
    QVERIFY(render(engine, QStringLiteral("a{{broken}}"))
                    .startsWith(QStringLiteral("ERROR: it broke")));
}

void TestTemplateRender::registerBlockHelper()
{
    Engine engine;
    // A block helper that repeats its block, with @index and a block parameter.
    engine.registerHelper(QStringLiteral("times"), [](HelperCall &call) -> Common::Result<Value> {
        const int n = int(call.param(0).toNumber());
        if (n <= 0)
            return call.inverse() ? Common::Result<Value>(Value()) : Common::fail(Common::Error());
        for (int i = 0; i < n; ++i) {
            const Value number = Value::fromNumber(i + 1);
            HelperCall::BlockOptions options;
            options.iteration = true;
            options.index = i;
            options.first = i == 0;
            options.last = i == n - 1;
            options.blockParams[0] = &number;
            options.blockParamCount = 1;
            auto status = call.fn(call.context(), &options);
            if (!status)
                return Common::fail(status.error());
        }
        return Value();
    });
    QCOMPARE(render(engine,
                    QStringLiteral(
                            "{{#times 3 as |n|}}{{n}}{{#unless @last}},{{/unless}}{{/times}}")),
             QStringLiteral("1,2,3"));
    QCOMPARE(render(engine, QStringLiteral("{{#times 0}}x{{else}}none{{/times}}")),
             QStringLiteral("none"));
    // capture(): a helper that transforms its block.
    engine.registerHelper(QStringLiteral("upper"), [](HelperCall &call) -> Common::Result<Value> {
        auto text = call.capture(call.context());
        if (!text)
            return Common::fail(text.error());
        return Value::fromString(QString::fromStdString(*text).toUpper());
    });
    QCOMPARE(render(engine, QStringLiteral("{{#upper}}hi {{name}}{{/upper}}"), R"({"name":"<x>"})"),
             QStringLiteral("HI &LT;X&GT;"));
}

void TestTemplateRender::overrideBuiltin()
{
    Engine engine;
    engine.registerHelper(QStringLiteral("uppercase"), [](HelperCall &) -> Common::Result<Value> {
        return Value::fromString(std::string("custom"));
    });
    QCOMPARE(render(engine, QStringLiteral("{{uppercase x}}")), QStringLiteral("custom"));
}

void TestTemplateRender::cache()
{
    Engine engine;
    auto a = engine.compile(QStringLiteral("Hello {{name}}"));
    auto b = engine.compile(QStringLiteral("Hello {{name}}"));
    QVERIFY(a && b);
    QCOMPARE(a->get(), b->get());
    QCOMPARE(engine.cacheSize(), size_t(1));
    auto c = engine.compile(QStringLiteral("Bye {{name}}"));
    QVERIFY(c);
    QVERIFY(c->get() != a->get());
    QCOMPARE(engine.cacheSize(), size_t(2));
    // One compiled template renders many times with different data.
    QCOMPARE(*engine.render(**a, json(R"({"name":"A"})")), QStringLiteral("Hello A"));
    QCOMPARE(*engine.render(**a, json(R"({"name":"B"})")), QStringLiteral("Hello B"));
}

void TestTemplateRender::formatDate_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("expected");
    // The examples of SendGrid's documentation ("formatDate").
    QTest::newRow("sendgrid") << QStringLiteral("{{formatDate timeStamp dateFormat}}")
                              << QStringLiteral("January 01, 2020 11:00:00 PM");
    QTest::newRow("sendgrid offset")
            << QStringLiteral("{{formatDate timeStamp dateFormat timezoneOffset}}")
            << QStringLiteral("January 01, 2020 3:00:00 PM");
    QTest::newRow("iso") << QStringLiteral("{{formatDate timeStamp 'YYYY-MM-DDTHH:mm:ssZ'}}")
                         << QStringLiteral("2020-01-01T23:00:00+00:00");
    QTest::newRow("offset crosses midnight")
            << QStringLiteral("{{formatDate timeStamp 'dddd D MMM YY, HH:mm ZZ' '+0130'}}")
            << QStringLiteral("Thursday 2 Jan 20, 00:30 +0130");
    QTest::newRow("written offset")
            << QStringLiteral("{{formatDate '2024-02-29T10:00:00-05:00' 'ddd M/D h a'}}")
            << QStringLiteral("Thu 2/29 3 pm");
    QTest::newRow("date only") << QStringLiteral("{{formatDate '2024-12-25' 'MMMM D, YYYY'}}")
                               << QStringLiteral("December 25, 2024");
    QTest::newRow("milliseconds") << QStringLiteral("{{formatDate 0 'YYYY-MM-DD HH:mm:ss'}}")
                                  << QStringLiteral("1970-01-01 00:00:00");
    QTest::newRow("literal text") << QStringLiteral("{{formatDate timeStamp '[Day] D [of] MMMM'}}")
                                  << QStringLiteral("Day 1 of January");
    QTest::newRow("invalid") << QStringLiteral("[{{formatDate 'yesterday' 'YYYY'}}]")
                             << QStringLiteral("[]");
    QTest::newRow("missing") << QStringLiteral("[{{formatDate nothing 'YYYY'}}]")
                             << QStringLiteral("[]");
}

void TestTemplateRender::formatDate()
{
    QFETCH(QString, source);
    QFETCH(QString, expected);
    Engine engine;
    QCOMPARE(render(engine, source,
                    R"({"timeStamp":"2020-01-01T23:00:00.000Z","dateFormat":"MMMM DD, YYYY h:mm:ss A",)"
                    R"("timezoneOffset":"-0800"})"),
             expected);
}

void TestTemplateRender::formatNumber_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("expected");
    QTest::newRow("grouped") << QStringLiteral("{{formatNumber 1234567}}")
                             << QStringLiteral("1,234,567");
    QTest::newRow("fraction") << QStringLiteral("{{formatNumber 1234.5}}")
                              << QStringLiteral("1,234.50");
    QTest::newRow("decimals") << QStringLiteral("{{formatNumber 2.5 0}}") << QStringLiteral("3");
    QTest::newRow("half up") << QStringLiteral("{{formatNumber 1.005 2}} {{formatNumber 0.125 2}}")
                             << QStringLiteral("1.00 0.13");
    QTest::newRow("german") << QStringLiteral("{{formatNumber 1234.5 locale='de-DE'}}")
                            << QStringLiteral("1.234,50");
    QTest::newRow("string input") << QStringLiteral("{{formatNumber '1999.9' 1}}")
                                  << QStringLiteral("1,999.9");
    QTest::newRow("currency") << QStringLiteral("{{formatCurrency 1234.5}}")
                              << QStringLiteral("$1,234.50");
    QTest::newRow("currency negative")
            << QStringLiteral("{{formatCurrency -5}}") << QStringLiteral("-$5.00");
    QTest::newRow("currency euro")
            << QStringLiteral("{{formatCurrency 1234.5 'EUR' locale='de-DE'}}")
            << QStringLiteral("1.234,50\u00A0\u20AC");
    QTest::newRow("currency hash")
            << QStringLiteral("{{formatCurrency 9.99 currency='GBP' locale='en-GB'}}")
            << QStringLiteral("\u00A39.99");
    QTest::newRow("currency yen") << QStringLiteral("{{formatCurrency 1234 'JPY' locale='ja-JP'}}")
                                  << QStringLiteral("\uFFE51,234");
    QTest::newRow("missing") << QStringLiteral("[{{formatCurrency nothing}}]")
                             << QStringLiteral("[]");
}

void TestTemplateRender::formatNumber()
{
    QFETCH(QString, source);
    QFETCH(QString, expected);
    Engine engine;
    QCOMPARE(render(engine, source), expected);
}

void TestTemplateRender::fallbacks()
{
    Engine engine;
    const char *data = R"({"first_name":"","nick":null,"name":"Ann"})";
    QCOMPARE(render(engine,
                    QStringLiteral("{{default first_name 'Friend'}}/{{default nick 'N'}}/"
                                   "{{default name 'X'}}/{{default missing 'M'}}"),
                    data),
             QStringLiteral("Friend/N/Ann/M"));
    QCOMPARE(render(engine,
                    QStringLiteral(
                            "{{insert first_name 'default=Customer'}}/{{insert name 'default=C'}}"),
                    data),
             QStringLiteral("Customer/Ann"));
}

void TestTemplateRender::textHelpers()
{
    Engine engine;
    QCOMPARE(render(engine,
                    QStringLiteral("{{uppercase s}} {{lowercase s}} {{capitalize w}} "
                                   "{{truncate s 4 '…'}} {{length list}} {{join list ' | '}}"),
                    R"({"s":"Straße","w":"élan","list":[1,"b",null]})"),
             QStringLiteral("STRASSE straße Élan Stra… 3 1 | b | "));
}

void TestTemplateRender::lint()
{
    Engine engine;
    auto compiled = engine.compile(
            QStringLiteral("Hi {{default first_name 'Friend'}} {{last_name}}, {{company.name}}\n"
                           "{{#if coupon}}Use {{coupon}}{{/if}}\n"
                           "{{#each items}}{{name}} {{price}} {{../currency}}{{/each}}\n"
                           "{{formatDate order.date 'YYYY'}} {{@index}}"));
    QVERIFY(compiled);
    const auto report = Templates::TemplateLinter::lint(
            **compiled, json(R"({"last_name":"L","items":[{"name":"n"}],"order":{}})"));
    QCOMPARE(report.variables,
             strings({"first_name", "last_name", "company.name", "coupon", "items", "items[].name",
                      "items[].price", "currency", "order.date"}));
    QCOMPARE(report.missing, strings({"company.name", "items[].price", "currency", "order.date"}));
}

void TestTemplateRender::messageTemplate()
{
    Engine engine;
    const Templates::MessageTemplate message(
            QStringLiteral("Order {{number}} for {{name}}"),
            QStringLiteral(
                    "<h1>Thanks, {{name}}!</h1><p>See <a href=\"{{url}}\">your order</a>.</p>"));
    const auto rendered =
            message.render(engine,
                           json(R"({"number":7,"name":"Tom & Jerry","url":"https://x.test/o/7"})"));
    QVERIFY(rendered);
    QCOMPARE(rendered->subject, QStringLiteral("Order 7 for Tom & Jerry"));
    QCOMPARE(rendered->html,
             QStringLiteral("<h1>Thanks, Tom &amp; Jerry!</h1><p>See <a "
                            "href=\"https://x.test/o/7\">your order</a>.</p>"));
    QCOMPARE(rendered->text,
             QStringLiteral("THANKS, TOM & JERRY!\n\nSee your order (https://x.test/o/7).\n"));
    const Templates::MessageTemplate withText(QStringLiteral("S"), QStringLiteral("<p>x</p>"),
                                              QStringLiteral("Plain {{name}}"));
    const auto plain = withText.render(engine, json(R"({"name":"<b>"})"));
    QVERIFY(plain);
    QCOMPARE(plain->text, QStringLiteral("Plain &lt;b&gt;"));
    const Templates::MessageTemplate broken(QStringLiteral("{{#if}}"), QStringLiteral("x"));
    const auto error = broken.render(engine, json("{}"));
    QVERIFY(!error);
    QVERIFY(error.error().message.startsWith(QStringLiteral("Subject: ")));
}

void TestTemplateRender::renderFromThreads()
{
    // A const Engine and a compiled template are shared by several threads.
    Engine engine;
    auto compiled = engine.compile(QStringLiteral(
            "{{#each list}}{{formatCurrency this}} {{formatDate ../d 'YYYY'}};{{/each}}"));
    QVERIFY(compiled);
    const Value data = json(R"({"list":[1,2.5,1000],"d":"2024-01-01"})");
    const QString expected = QStringLiteral("$1.00 2024;$2.50 2024;$1,000.00 2024;");
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                auto out = engine.render(**compiled, data);
                if (!out || *out != expected)
                    ++failures;
            }
        });
    }
    for (auto &thread : threads)
        thread.join();
    QCOMPARE(failures.load(), 0);
}

QTEST_GUILESS_MAIN(TestTemplateRender)
#include "tst_templaterender.moc"
