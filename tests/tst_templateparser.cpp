// Parsing and bad input: errors that name the line, the column and what was expected, and
// hostile templates (deep nesting, huge input, unterminated tags, recursive partials) that end in
// a clear error, never a crash or a hang.
#include "templates/engine.h"
#include "templates/template.h"
#include "templates/value.h"

#include <QElapsedTimer>
#include <QTest>

using Templates::Engine;
using Templates::Template;
using Templates::Value;

class TestTemplateParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseErrors_data();
    void parseErrors();
    void renderErrors_data();
    void renderErrors();
    void deepNesting_data();
    void deepNesting();
    void hugeInput();
    void recursivePartial();
    void runawayOutput();
    void invalidUtf8AndNul();
    void jsonErrors_data();
    void jsonErrors();
};

void TestTemplateParser::parseErrors_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("message");
    QTest::newRow("unclosed block") << QStringLiteral("{{#if a}}\n  x")
                                    << QStringLiteral("line 2, column 4: expected '{{/'");
    QTest::newRow("mismatched close")
            << QStringLiteral("{{#each x}}{{/with}}")
            << QStringLiteral("line 1, column 4: each doesn't match with");
    QTest::newRow("unterminated tag") << QStringLiteral("Hello\n{{name")
                                      << QStringLiteral("line 2, column 1: the tag is not closed");
    QTest::newRow("unterminated triple")
            << QStringLiteral("{{{name}}") << QStringLiteral("expected '}}}', got '}}'");
    QTest::newRow("hash without value") << QStringLiteral("a\n  {{foo bar=}}")
                                        << QStringLiteral("line 2, column 13: expected a value");
    QTest::newRow("unterminated comment")
            << QStringLiteral("x\n{{!-- y") << QStringLiteral("line 2, column 1: unexpected text");
    QTest::newRow("unterminated raw block")
            << QStringLiteral("{{{{raw}}}} x") << QStringLiteral("unexpected text");
    QTest::newRow("else outside a block")
            << QStringLiteral("{{else}}") << QStringLiteral("expected end of input");
    QTest::newRow("invalid path") << QStringLiteral("{{foo.this}}")
                                  << QStringLiteral("invalid path: foo.this");
    QTest::newRow("two partial contexts")
            << QStringLiteral("{{> p a b}}") << QStringLiteral("at most one context argument");
    QTest::newRow("unknown decorator")
            << QStringLiteral("{{#*foo}}{{/foo}}") << QStringLiteral("unknown decorator");
    QTest::newRow("empty mustache") << QStringLiteral("{{}}") << QStringLiteral("expected a name");
}

void TestTemplateParser::parseErrors()
{
    QFETCH(QString, source);
    QFETCH(QString, message);
    const auto compiled = Template::compile(source);
    QVERIFY(!compiled);
    QVERIFY2(compiled.error().message.contains(message), qPrintable(compiled.error().message));
    QCOMPARE(compiled.error().code, QStringLiteral("templates.parse"));
}

void TestTemplateParser::renderErrors_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing partial") << QStringLiteral("{{> footer}}")
                                     << QStringLiteral("The partial footer could not be found");
    QTest::newRow("missing helper")
            << QStringLiteral("\n {{shout name}}")
            << QStringLiteral("Missing helper: \"shout\" (line 2, column 4)");
    QTest::newRow("missing helper in subexpression") << QStringLiteral("{{uppercase (shout name)}}")
                                                     << QStringLiteral("Missing helper: \"shout\"");
    QTest::newRow("if without argument") << QStringLiteral("{{#if}}x{{/if}}")
                                         << QStringLiteral("#if requires exactly one argument");
}

void TestTemplateParser::renderErrors()
{
    QFETCH(QString, source);
    QFETCH(QString, message);
    Engine engine;
    const auto result = engine.render(source, Value::fromMembers({}));
    QVERIFY(!result);
    QVERIFY2(result.error().message.contains(message), qPrintable(result.error().message));
}

void TestTemplateParser::deepNesting_data()
{
    QTest::addColumn<QString>("source");
    const int n = 20000;
    QTest::newRow("blocks") << QStringLiteral("{{#if a}}").repeated(n);
    QTest::newRow("closed blocks")
            << QStringLiteral("{{#if a}}").repeated(n) + QStringLiteral("{{/if}}").repeated(n);
    QTest::newRow("subexpressions") << QStringLiteral("{{x ") + QStringLiteral("(x ").repeated(n)
                    + QStringLiteral("1") + QStringLiteral(")").repeated(n) + QStringLiteral("}}");
    QTest::newRow("partial blocks") << QStringLiteral("{{#> p}}").repeated(n);
    QTest::newRow("else chain") << QStringLiteral("{{#if a}}")
                    + QStringLiteral("{{else if b}}").repeated(n) + QStringLiteral("{{/if}}");
}

void TestTemplateParser::deepNesting()
{
    QFETCH(QString, source);
    const auto compiled = Template::compile(source);
    QVERIFY(!compiled);
    QVERIFY2(compiled.error().message.contains(QStringLiteral("levels deep")),
             qPrintable(compiled.error().message));
}

void TestTemplateParser::hugeInput()
{
    // 8 MB of text and tags parses and renders, without running out of stack or memory.
    const QString chunk = QStringLiteral(
            "<p>Hello {{name}}, {{#if vip}}VIP{{else}}guest{{/if}}!</p>\n");
    const QString source = chunk.repeated(8 * 1024 * 1024 / chunk.size());
    QElapsedTimer timer;
    timer.start();
    Engine engine;
    auto compiled = engine.compile(source);
    QVERIFY(compiled);
    const auto data = Value::fromJson(QByteArray(R"({"name":"Ann","vip":true})"));
    const auto out = engine.renderUtf8(**compiled, *data);
    QVERIFY(out);
    QVERIFY(out->size() > 2 * 1024 * 1024);
    qInfo("8 MB template compiled and rendered in %lld ms", qint64(timer.elapsed()));
}

void TestTemplateParser::recursivePartial()
{
    Engine engine;
    QVERIFY(engine.registerPartial(QStringLiteral("loop"), QStringLiteral("x{{> loop}}")));
    QVERIFY(engine.registerPartial(QStringLiteral("a"),
                                   QStringLiteral("{{#each list}}{{> b ..}}{{/each}}")));
    QVERIFY(engine.registerPartial(QStringLiteral("b"), QStringLiteral("{{> a}}")));
    const auto data = Value::fromJson(QByteArray(R"({"list":[1]})"));
    for (const QString &source :
         {QStringLiteral("{{> loop}}"), QStringLiteral("{{> a list=list}}"),
          QStringLiteral("{{#*inline \"me\"}}{{> me}}{{/inline}}{{> me}}")}) {
        const auto result = engine.render(source, *data);
        QVERIFY(!result);
        QVERIFY2(result.error().message.contains(QStringLiteral("levels deep")),
                 qPrintable(result.error().message));
    }
}

void TestTemplateParser::runawayOutput()
{
    // Output that doubles at every level is stopped by the output limit, not by memory.
    Engine engine;
    engine.setMaxOutputSize(4 * 1024 * 1024);
    QString source = QStringLiteral("xxxxxxxxxxxxxxxx");
    for (int i = 0; i < 40; ++i)
        source = QStringLiteral("{{#each @root.list}}") + source + QStringLiteral("{{/each}}");
    const auto data = Value::fromJson(QByteArray(R"({"list":[1,2]})"));
    const auto result = engine.render(source, *data);
    QVERIFY(!result);
    QCOMPARE(result.error().code, QStringLiteral("templates.size"));
}

void TestTemplateParser::invalidUtf8AndNul()
{
    Engine engine;
    const QByteArray bad("caf\xC3 {{x}} \xE2\x82 \xF0\x9F");
    auto compiled = engine.compile(std::string_view(bad.constData(), size_t(bad.size())));
    QVERIFY(compiled);
    const QByteArray withNul("a\0{{x}}", 7);
    QVERIFY(!engine.compile(std::string_view(withNul.constData(), size_t(withNul.size()))));
}

void TestTemplateParser::jsonErrors_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("trailing comma")
            << QByteArray("{\"a\":1,}") << QStringLiteral("line 1, column 8");
    QTest::newRow("second line") << QByteArray("{\n  \"a\": tru\n}")
                                 << QStringLiteral("line 2, column 8");
    QTest::newRow("unterminated string") << QByteArray("[\"abc") << QStringLiteral("closing quote");
    QTest::newRow("deep") << QByteArray(100000, '[') << QStringLiteral("nested");
    QTest::newRow("garbage after") << QByteArray("{} x") << QStringLiteral("end of input");
}

void TestTemplateParser::jsonErrors()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, message);
    const auto value = Value::fromJson(json);
    QVERIFY(!value);
    QVERIFY2(value.error().message.contains(message), qPrintable(value.error().message));
}

QTEST_GUILESS_MAIN(TestTemplateParser)
#include "tst_templateparser.moc"
