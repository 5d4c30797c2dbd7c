// The official Mustache specification (github.com/mustache/spec, vendored in
// tests/data/mustache-spec with its LICENSE): comments, interpolation, inverted sections, partials
// and sections. Every test passes except the few where handlebars.js deliberately differs from
// Mustache, listed in exceptions() with the reason: Postdesk renders as handlebars.js does.
#include "templates/engine.h"
#include "templates/value.h"

#include <QFile>
#include <QHash>
#include <QTest>

using Templates::Engine;
using Templates::Value;

Q_DECLARE_METATYPE(Templates::Value)

class TestMustacheSpec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void spec_data();
    void spec();
    void exceptionsStillDiffer();

private:
    struct Exception
    {
        QString reason;
        QString handlebarsOutput;
    };
    static const QHash<QString, Exception> &exceptions();
    static Value loadFile(const QString &name);
};

// "file/test name" -> why handlebars.js (and so Postdesk) renders differently, and what
// handlebars.js 4.7 renders instead (an empty string marks an error).
const QHash<QString, TestMustacheSpec::Exception> &TestMustacheSpec::exceptions()
{
    static const QString noContextWalk = QStringLiteral(
            "handlebars.js looks a name up in the current context only; Mustache walks up the "
            "context stack (handlebars.js needs ../name, or its compat option)");
    static const QHash<QString, Exception> list = {
            {QStringLiteral("partials/Failed Lookup"),
             {QStringLiteral("handlebars.js: a missing partial is an error, not an empty string"),
              QString()}},
            {QStringLiteral("partials/Standalone Indentation"),
             {QStringLiteral("handlebars.js indents every line of the partial's output, including "
                             "lines that come from interpolated data"),
              QStringLiteral("\\\n |\n <\n ->\n |\n/\n")}},
            {QStringLiteral("sections/Parent contexts"),
             {noContextWalk, QStringLiteral("\", bar, \"")}},
            {QStringLiteral("sections/Variable test"),
             {noContextWalk, QStringLiteral("\"bar is \"")}},
            {QStringLiteral("sections/List Contexts"), {noContextWalk, QStringLiteral("1.x.y.")}},
            {QStringLiteral("sections/Deeply Nested Contexts"),
             {noContextWalk, QStringLiteral("1\n1\n")}},
    };
    return list;
}

Value TestMustacheSpec::loadFile(const QString &name)
{
    QFile file(QStringLiteral(POSTDESK_TEST_DATA_DIR "/mustache-spec/") + name + u".json");
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open %s", qPrintable(file.fileName()));
    auto value = Value::fromJson(file.readAll());
    if (!value)
        qFatal("cannot parse %s: %s", qPrintable(file.fileName()),
               qPrintable(value.error().toString()));
    return *value;
}

void TestMustacheSpec::spec_data()
{
    QTest::addColumn<QString>("templateText");
    QTest::addColumn<Value>("data");
    QTest::addColumn<Value>("partials");
    QTest::addColumn<QString>("expected");
    for (const char *file : {"comments", "interpolation", "inverted", "partials", "sections"}) {
        const Value spec = loadFile(QString::fromLatin1(file));
        const Value *tests = spec.member("tests");
        QVERIFY(tests && tests->isArray());
        for (const Value &test : tests->items()) {
            const QString name = QString::fromLatin1(file) + u'/'
                    + test.member("name")->toQString();
            if (exceptions().contains(name))
                continue;
            const Value *partials = test.member("partials");
            QTest::newRow(qPrintable(name))
                    << test.member("template")->toQString() << *test.member("data")
                    << (partials ? *partials : Value()) << test.member("expected")->toQString();
        }
    }
}

void TestMustacheSpec::spec()
{
    QFETCH(QString, templateText);
    QFETCH(Value, data);
    QFETCH(Value, partials);
    QFETCH(QString, expected);
    Engine engine;
    for (const Value::Member &m : partials.members())
        QVERIFY(engine.registerPartial(m.key.toQString(), m.value.toQString()));
    const auto result = engine.render(templateText, data);
    QVERIFY2(result, result ? "" : qPrintable(result.error().toString()));
    QCOMPARE(*result, expected);
}

// The exceptions are real: Postdesk renders what handlebars.js renders, not what Mustache says.
void TestMustacheSpec::exceptionsStillDiffer()
{
    int checked = 0;
    for (const char *file : {"comments", "interpolation", "inverted", "partials", "sections"}) {
        const Value spec = loadFile(QString::fromLatin1(file));
        for (const Value &test : spec.member("tests")->items()) {
            const QString name = QString::fromLatin1(file) + u'/'
                    + test.member("name")->toQString();
            const auto exception = exceptions().constFind(name);
            if (exception == exceptions().constEnd())
                continue;
            ++checked;
            Engine engine;
            if (const Value *partials = test.member("partials")) {
                for (const Value::Member &m : partials->members())
                    QVERIFY(engine.registerPartial(m.key.toQString(), m.value.toQString()));
            }
            const auto result = engine.render(test.member("template")->toQString(),
                                              *test.member("data"));
            if (exception->handlebarsOutput.isEmpty()) {
                QVERIFY2(!result, qPrintable(name));
            } else {
                QVERIFY2(result, qPrintable(name));
                QCOMPARE(*result, exception->handlebarsOutput);
            }
            if (result)
                QVERIFY(*result != test.member("expected")->toQString());
        }
    }
    QCOMPARE(checked, int(exceptions().size()));
}

QTEST_GUILESS_MAIN(TestMustacheSpec)
#include "tst_mustachespec.moc"
