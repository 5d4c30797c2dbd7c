// `postdeskctl template check`: renders the latest stored version and runs the pre-send checks,
// one finding per line (severity, check, where, what), exit 1 when any is an error.
#include "db/connection.h"
#include "testdb.h"
#include "testenv.h"

#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

class TestTemplateCtl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void helpListsCheck();
    void check_data();
    void check();
    void checkFallsBackToTheDefaultLocale();
    void checkUsesTheSavedSample();
    void mistakes_data();
    void mistakes();

private:
    using Run = TestSupport::ProgramRun;
    Run ctl(QStringList arguments);
    QString write(const QString &name, const QByteArray &content);
    void put(const QString &name, const QByteArray &html, const QString &locale = {});

    QString m_db;
    std::unique_ptr<Db::Connection> m_connection;
    QTemporaryDir m_dir;
};

TestTemplateCtl::Run TestTemplateCtl::ctl(QStringList arguments)
{
    arguments << QStringLiteral("--db") << m_db;
    return TestSupport::runCtl(arguments);
}

QString TestTemplateCtl::write(const QString &name, const QByteArray &content)
{
    const QString path = m_dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return {};
    file.write(content);
    return path;
}

void TestTemplateCtl::put(const QString &name, const QByteArray &html, const QString &locale)
{
    QStringList args{QStringLiteral("template"),
                     QStringLiteral("put"),
                     name,
                     QStringLiteral("--subject"),
                     QStringLiteral("Hello"),
                     QStringLiteral("--html"),
                     write(name + QStringLiteral(".html"), html)};
    if (!locale.isEmpty())
        args << QStringLiteral("--locale") << locale;
    const Run run = ctl(args);
    QVERIFY2(run.exitCode == 0, qPrintable(run.all()));
}

void TestTemplateCtl::initTestCase()
{
    const auto info = TestSupport::freshSchema(QStringLiteral("tst_templatectl"));
    m_db = info.toConnectionString();
    auto connection = Db::Connection::open(info);
    QVERIFY(connection);
    m_connection = std::move(*connection);
    QVERIFY(m_dir.isValid());
    // The schema is created by the first command that opens the database.
    const Run list = ctl({QStringLiteral("template"), QStringLiteral("list")});
    QVERIFY2(list.exitCode == 0, qPrintable(list.all()));
}

void TestTemplateCtl::helpListsCheck()
{
    const Run help = TestSupport::runCtl({QStringLiteral("template"), QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    QVERIFY2(help.out.contains(QStringLiteral("template check NAME")), qPrintable(help.out));
    const Run checkHelp = TestSupport::runCtl(
            {QStringLiteral("template"), QStringLiteral("check"), QStringLiteral("--help")});
    QCOMPARE(checkHelp.exitCode, 0);
    QVERIFY2(checkHelp.out.contains(QStringLiteral("--data <file>")), qPrintable(checkHelp.out));
}

void TestTemplateCtl::check_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("html");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("exitCode");
    // A line of the report: severity, check and where, as a regular expression.
    QTest::addColumn<QString>("line");

    QTest::newRow("clean") << "transactional" << QByteArray("<p>Hello {{name}}</p>")
                           << QByteArray(R"({"name": "Ada"})") << 0 << QString();
    QTest::newRow("missing variable")
            << "transactional" << QByteArray("<p>Hello {{name}}</p>") << QByteArray("{}") << 1
            << "^error\\s+missing-variable\\s+data\\s+.*name";
    QTest::newRow("unsafe link") << "transactional"
                                 << QByteArray(R"x(<p><a href="javascript:alert(1)">Go</a></p>)x")
                                 << QByteArray("{}") << 1 << "^error\\s+link-unsafe\\s+html\\s";
    QTest::newRow("image without alt")
            << "transactional" << QByteArray(R"(<p><img src="https://example.org/a.png"></p>)")
            << QByteArray("{}") << 0 << "^warning\\s+image-no-alt\\s+html\\s";
    QTest::newRow("marketing without unsubscribe")
            << "marketing" << QByteArray("<p>Big sale</p>") << QByteArray("{}") << 1
            << "^error\\s+no-unsubscribe\\s+html\\s";
    QTest::newRow("syntax error") << "transactional" << QByteArray("<p>{{#if x}}open</p>")
                                  << QByteArray("{}") << 1 << "^error\\s+render\\s+html:\\d+:\\d+";
}

void TestTemplateCtl::check()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, html);
    QFETCH(QByteArray, data);
    QFETCH(int, exitCode);
    QFETCH(QString, line);
    const QString name =
            QStringLiteral("check-%1")
                    .arg(QString::fromLatin1(QTest::currentDataTag()).replace(u' ', u'-'));
    put(name, html);
    QVERIFY(m_connection->exec(QStringLiteral("UPDATE templates SET kind = $2 WHERE name = $1"),
                               {name, kind}));
    const Run run = ctl({QStringLiteral("template"), QStringLiteral("check"), name,
                         QStringLiteral("--data"), write(QStringLiteral("data.json"), data)});
    QVERIFY2(run.exitCode == exitCode, qPrintable(run.all()));
    QVERIFY2(run.out.startsWith(QStringLiteral("Template '%1' version 1 (en, %2)").arg(name, kind)),
             qPrintable(run.out));
    if (exitCode == 0) {
        QVERIFY2(!run.out.contains(QRegularExpression(QStringLiteral("^error"),
                                                      QRegularExpression::MultilineOption)),
                 qPrintable(run.out));
    }
    if (!line.isEmpty()) {
        QVERIFY2(run.out.contains(QRegularExpression(line, QRegularExpression::MultilineOption)),
                 qPrintable(run.out));
    }
}

void TestTemplateCtl::checkFallsBackToTheDefaultLocale()
{
    put(QStringLiteral("bilingual"), "<p>Hello</p>");
    put(QStringLiteral("bilingual"), "<p>Hallo {{name}}</p>", QStringLiteral("de"));
    const Run french = ctl({QStringLiteral("template"), QStringLiteral("check"),
                            QStringLiteral("bilingual"), QStringLiteral("--locale"),
                            QStringLiteral("fr")});
    QVERIFY2(french.exitCode == 0, qPrintable(french.all()));
    QVERIFY2(french.out.startsWith(QStringLiteral("Template 'bilingual' version 1 (en,")),
             qPrintable(french.out));
    const Run german = ctl({QStringLiteral("template"), QStringLiteral("check"),
                            QStringLiteral("bilingual"), QStringLiteral("--locale"),
                            QStringLiteral("de")});
    QCOMPARE(german.exitCode, 1); // {{name}} without data
    QVERIFY2(german.out.startsWith(QStringLiteral("Template 'bilingual' version 1 (de,")),
             qPrintable(german.out));
}

void TestTemplateCtl::checkUsesTheSavedSample()
{
    put(QStringLiteral("sampled"), "<p>Hello {{name}}</p>");
    QVERIFY(m_connection->exec(
            QStringLiteral("INSERT INTO template_samples (template_id, name, data) SELECT id, "
                           "'ada', '{\"name\": \"Ada\"}' FROM templates WHERE name = 'sampled'")));
    const Run run = ctl(
            {QStringLiteral("template"), QStringLiteral("check"), QStringLiteral("sampled")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.all()));
    QVERIFY(!run.out.contains(QStringLiteral("missing-variable")));
}

void TestTemplateCtl::mistakes_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::newRow("no name") << QStringList{} << 2 << "give exactly one template NAME";
    QTest::newRow("unknown template")
            << QStringList{QStringLiteral("nope")} << 1 << "there is no template 'nope'";
    QTest::newRow("missing data file")
            << QStringList{QStringLiteral("sampled"), QStringLiteral("--data"),
                           QStringLiteral("/nonexistent.json")}
            << 1 << "cannot read the data file";
}

void TestTemplateCtl::mistakes()
{
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const Run run = ctl(QStringList{QStringLiteral("template"), QStringLiteral("check")} + args);
    QVERIFY2(run.exitCode == exitCode, qPrintable(run.all()));
    QVERIFY2(run.all().contains(message), qPrintable(run.all()));
    // A data file that is not a JSON object.
    const Run notJson = ctl({QStringLiteral("template"), QStringLiteral("check"),
                             QStringLiteral("sampled"), QStringLiteral("--data"),
                             write(QStringLiteral("bad.json"), "[1, 2")});
    QCOMPARE(notJson.exitCode, 1);
    QVERIFY2(notJson.err.contains(QStringLiteral("is not a JSON object")), qPrintable(notJson.err));
}

QTEST_MAIN(TestTemplateCtl)
#include "tst_templatectl.moc"
