// `postdeskctl render`: the result on stdout, errors on stderr with a non-zero exit status, the
// text version, the lint report and the benchmark line.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

class TestTemplateRenderCommand : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void renders();
    void text();
    void lint();
    void bench();
    void errors_data();
    void errors();

private:
    struct Run
    {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
    };
    Run run(const QStringList &args);
    QString write(const QString &name, const QByteArray &content);

    QTemporaryDir m_dir;
    QString m_ctl;
};

void TestTemplateRenderCommand::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_ctl = QStringLiteral(POSTDESK_BINARY_DIR "/app/postdeskctl/postdeskctl");
    QVERIFY2(QFile::exists(m_ctl), qPrintable(m_ctl));
    QDir(m_dir.path()).mkpath(QStringLiteral("partials/shared"));
    write(QStringLiteral("partials/layout.hbs"), "<main>\n  {{> @partial-block}}\n</main>\n");
    write(QStringLiteral("partials/shared/footer.hbs"), "<footer>{{company}}</footer>");
    write(QStringLiteral("partials/broken.hbs"), "{{#if}"); // unused: must not matter
    write(QStringLiteral("email.hbs"),
          "{{#> layout}}\n<h1>Hi {{default name \"Friend\"}}</h1>\n<p>{{#each items}}{{this}}"
          "{{#unless @last}}, {{/unless}}{{/each}}</p>\n{{> shared/footer}}\n{{/layout}}\n");
    write(QStringLiteral("data.json"), R"({"name":"Zoë & Co","items":["a","b"],"company":"ACME"})");
}

QString TestTemplateRenderCommand::write(const QString &name, const QByteArray &content)
{
    const QString path = m_dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        qFatal("cannot write %s", qPrintable(path));
    file.write(content);
    return path;
}

TestTemplateRenderCommand::Run TestTemplateRenderCommand::run(const QStringList &args)
{
    QProcess process;
    process.start(m_ctl, QStringList{QStringLiteral("render")} + args);
    Run r;
    if (!process.waitForFinished(60000))
        return r;
    r.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    r.out = process.readAllStandardOutput();
    r.err = process.readAllStandardError();
    return r;
}

void TestTemplateRenderCommand::renders()
{
    const Run r = run({m_dir.filePath(QStringLiteral("email.hbs")), QStringLiteral("--data"),
                       m_dir.filePath(QStringLiteral("data.json")), QStringLiteral("--partials"),
                       m_dir.filePath(QStringLiteral("partials"))});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.err, QByteArray());
    QCOMPARE(r.out,
             QByteArray("<main>\n  <h1>Hi Zo\xC3\xAB &amp; Co</h1>\n  <p>a, b</p>\n  "
                        "<footer>ACME</footer></main>\n"));
}

void TestTemplateRenderCommand::text()
{
    const Run r = run({m_dir.filePath(QStringLiteral("email.hbs")), QStringLiteral("--data"),
                       m_dir.filePath(QStringLiteral("data.json")), QStringLiteral("--partials"),
                       m_dir.filePath(QStringLiteral("partials")), QStringLiteral("--text")});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.out, QByteArray("HI ZO\xC3\x8B & CO\n\na, b\n\nACME\n"));
}

void TestTemplateRenderCommand::lint()
{
    const QString t = write(QStringLiteral("lint.hbs"), "{{default name 'x'}} {{title}} {{items}}");
    const Run r = run({t, QStringLiteral("--data"), m_dir.filePath(QStringLiteral("data.json")),
                       QStringLiteral("--lint")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.out.contains("Missing from the data (no fallback):\n  title\n"), r.out.constData());
}

void TestTemplateRenderCommand::bench()
{
    const Run r = run({m_dir.filePath(QStringLiteral("email.hbs")), QStringLiteral("--data"),
                       m_dir.filePath(QStringLiteral("data.json")), QStringLiteral("--partials"),
                       m_dir.filePath(QStringLiteral("partials")), QStringLiteral("--bench"),
                       QStringLiteral("200")});
    QCOMPARE(r.exitCode, 0);
    static const QRegularExpression line(
            QStringLiteral("^200 renders in [0-9]+\\.[0-9]+ s \\([0-9]+ renders/s\\)\n$"));
    QVERIFY2(line.match(QString::fromUtf8(r.out)).hasMatch(), r.out.constData());
}

void TestTemplateRenderCommand::errors_data()
{
    QTest::addColumn<QByteArray>("templateText");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("message");
    QTest::newRow("parse error") << QByteArray("ok\n{{#if x}}") << QByteArray("{}")
                                 << QByteArray("line 2, column 10: expected '{{/'");
    QTest::newRow("bad data") << QByteArray("{{x}}") << QByteArray("{\"x\": }")
                              << QByteArray("Invalid JSON data at line 1, column 7");
    QTest::newRow("missing partial") << QByteArray("{{> nope}}") << QByteArray("{}")
                                     << QByteArray("The partial nope could not be found");
    QTest::newRow("broken partial used") << QByteArray("{{> broken}}") << QByteArray("{}")
                                         << QByteArray("Partial broken: Parse error");
    QTest::newRow("missing helper") << QByteArray("{{shout x}}") << QByteArray("{}")
                                    << QByteArray("Missing helper: \"shout\"");
}

void TestTemplateRenderCommand::errors()
{
    QFETCH(QByteArray, templateText);
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, message);
    const QString t = write(QStringLiteral("error.hbs"), templateText);
    const QString d = write(QStringLiteral("error.json"), data);
    const Run r = run({t, QStringLiteral("--data"), d, QStringLiteral("--partials"),
                       m_dir.filePath(QStringLiteral("partials"))});
    QVERIFY(r.exitCode != 0);
    QCOMPARE(r.out, QByteArray());
    QVERIFY2(r.err.contains(message), r.err.constData());
}

QTEST_GUILESS_MAIN(TestTemplateRenderCommand)
#include "tst_templaterendercommand.moc"
