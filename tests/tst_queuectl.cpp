#include "db/connection.h"
#include "testdb.h"
#include "testenv.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

// The queue's commands as a newcomer meets them: help, mistakes, and real runs of template,
// enqueue, queue and suppress against a real database.

namespace {
// The error text of a failed result, for QVERIFY2 (which evaluates its message every time).
template<typename R>
QString why(const R &result)
{
    return result ? QString() : result.error().toString();
}
} // namespace

class TestQueueCtl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void helpListsTheQueueCommands();
    void mistakesSayWhatToDo_data();
    void mistakesSayWhatToDo();
    void templatePutAndList();
    void enqueueFromJsonLines();
    void enqueueFallsBackToTheDefaultLocale();
    void queueListPauseResumeAndBulk();
    void suppressAddListRemoveImportExport();

private:
    using Run = TestSupport::ProgramRun;
    Run ctl(QStringList arguments, bool withDb = true);
    QString m_db;
    std::unique_ptr<Db::Connection> m_connection;
    QTemporaryDir m_dir;
};

TestQueueCtl::Run TestQueueCtl::ctl(QStringList arguments, bool withDb)
{
    if (withDb)
        arguments << QStringLiteral("--db") << m_db;
    return TestSupport::runCtl(arguments);
}

static QString data(const char *name)
{
    return QStringLiteral(POSTDESK_TEST_DATA_DIR "/queue/") + QLatin1String(name);
}

void TestQueueCtl::initTestCase()
{
    const auto info = TestSupport::freshSchema(QStringLiteral("tst_queuectl"));
    m_db = info.toConnectionString();
    auto connection = Db::Connection::open(info);
    QVERIFY2(connection, qPrintable(why(connection)));
    m_connection = std::move(*connection);
    QVERIFY(m_dir.isValid());
}

void TestQueueCtl::helpListsTheQueueCommands()
{
    const Run help = ctl({QStringLiteral("--help")}, false);
    QCOMPARE(help.exitCode, 0);
    for (const char *command : {"template", "enqueue", "queue", "suppress"})
        QVERIFY2(help.out.contains(QStringLiteral("  ") + QLatin1String(command)),
                 qPrintable(help.out));

    const Run queueHelp = ctl({QStringLiteral("queue"), QStringLiteral("--help")}, false);
    QCOMPARE(queueHelp.exitCode, 0);
    QVERIFY(queueHelp.out.contains(QStringLiteral("reprioritise --priority N")));
    QVERIFY(queueHelp.out.contains(QStringLiteral("--error-class transient|permanent")));

    const Run enqueueHelp = ctl({QStringLiteral("enqueue"), QStringLiteral("--help")}, false);
    QCOMPARE(enqueueHelp.exitCode, 0);
    QVERIFY2(enqueueHelp.out.startsWith(QStringLiteral("Usage: postdeskctl enqueue [options]")),
             qPrintable(enqueueHelp.out));
    QVERIFY(enqueueHelp.out.contains(QStringLiteral("--recipients <file>")));
    QVERIFY(enqueueHelp.out.contains(QStringLiteral("idempotency_key")));

    const Run putHelp = ctl({QStringLiteral("template"), QStringLiteral("put"),
                             QStringLiteral("--help")},
                            false);
    QCOMPARE(putHelp.exitCode, 0);
    QVERIFY(putHelp.out.contains(QStringLiteral("--html <file>")));

    const Run suppressHelp = ctl({QStringLiteral("suppress")}, false);
    QCOMPARE(suppressHelp.exitCode, 2);
    QVERIFY(suppressHelp.out.contains(QStringLiteral("import FILE.csv")));
}

void TestQueueCtl::mistakesSayWhatToDo_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    const auto args = [](const char *line) {
        return QString::fromLatin1(line).split(u' ', Qt::SkipEmptyParts);
    };
    QTest::newRow("queue frob") << args("queue frob") << 2 << "unknown subcommand 'frob'";
    QTest::newRow("enqueue without queue")
            << args("enqueue --template x --recipients y") << 2 << "--queue is missing";
    QTest::newRow("enqueue bad priority")
            << args("enqueue --queue bulk --template x --recipients y --priority 9") << 2
            << "--priority must be 1";
    QTest::newRow("enqueue missing file")
            << args("enqueue --queue bulk --template x --recipients /nonexistent.jsonl") << 1
            << "cannot read the recipients file";
    QTest::newRow("template put without subject")
            << args("template put welcome --html x.html") << 2 << "give --subject TEXT";
    QTest::newRow("template put missing file")
            << args("template put welcome --subject Hi --html /nonexistent.html") << 1
            << "Cannot read the HTML file";
    QTest::newRow("cancel without filter")
            << args("queue cancel") << 2 << "give a filter such as --queue";
    QTest::newRow("bad state") << args("queue retry --state lost") << 2 << "'lost' is not a state";
    QTest::newRow("bad time") << args("queue count --since yesterday") << 2
                              << "not an ISO 8601 time";
    QTest::newRow("pause nothing") << args("queue pause") << 2 << "give one QUEUE";
    QTest::newRow("pause unknown")
            << args("queue pause newsletters") << 1 << "There is no queue named 'newsletters'";
    QTest::newRow("suppress bad address")
            << args("suppress add nobody") << 1 << "'nobody' is not an email address";
    QTest::newRow("suppress bad reason") << args("suppress add a@example.org --reason dislike") << 1
                                         << "not a suppression reason";
    QTest::newRow("suppress remove missing")
            << args("suppress remove never@example.org") << 1 << "is not on the suppression list";
}

void TestQueueCtl::mistakesSayWhatToDo()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const Run run = ctl(arguments);
    QCOMPARE(run.exitCode, exitCode);
    const QString all = run.out + run.err;
    QVERIFY2(all.contains(message), qPrintable(all));
}

void TestQueueCtl::templatePutAndList()
{
    const Run empty = ctl({QStringLiteral("template"), QStringLiteral("list")});
    QVERIFY2(empty.exitCode == 0, qPrintable(empty.err));
    QVERIFY(empty.out.contains(QStringLiteral("No templates yet")));
    const Run put = ctl({QStringLiteral("template"), QStringLiteral("put"),
                         QStringLiteral("welcome"), QStringLiteral("--subject"),
                         QStringLiteral("Welcome, {{name}}"), QStringLiteral("--html"),
                         data("welcome.html")});
    QVERIFY2(put.exitCode == 0, qPrintable(put.out + put.err));
    QVERIFY2(put.out.contains(QStringLiteral("Stored template 'welcome' version 1")),
             qPrintable(put.out));
    const Run put2 = ctl({QStringLiteral("template"), QStringLiteral("put"),
                          QStringLiteral("welcome"), QStringLiteral("--subject"),
                          QStringLiteral("Welcome aboard, {{name}}"), QStringLiteral("--html"),
                          data("welcome.html"), QStringLiteral("--text"), data("welcome.txt")});
    QVERIFY2(put2.out.contains(QStringLiteral("version 2")), qPrintable(put2.out + put2.err));
    const Run list = ctl({QStringLiteral("template"), QStringLiteral("list")});
    QCOMPARE(list.exitCode, 0);
    QVERIFY2(list.out.contains(QStringLiteral("welcome")), qPrintable(list.out));
    QVERIFY2(list.out.contains(QStringLiteral("Welcome aboard, {{name}}")), qPrintable(list.out));
    auto text = m_connection->exec(
            QStringLiteral("SELECT text_body FROM template_versions WHERE version = 2"));
    QVERIFY(text);
    QCOMPARE(text->text(0, 0), QStringLiteral("Hello {{name}}, welcome aboard.\n"));
}

void TestQueueCtl::enqueueFromJsonLines()
{
    const QStringList enqueue{QStringLiteral("enqueue"),   QStringLiteral("--queue"),
                              QStringLiteral("marketing"), QStringLiteral("--template"),
                              QStringLiteral("welcome"),   QStringLiteral("--recipients"),
                              data("recipients.jsonl")};
    const Run first = ctl(enqueue);
    QVERIFY2(first.exitCode == 0, qPrintable(first.out + first.err));
    QVERIFY2(first.out.contains(QStringLiteral("Queued 3 messages to queue 'marketing' with "
                                               "template 'welcome' version 2")),
             qPrintable(first.out));
    const Run again = ctl(enqueue);
    QVERIFY2(again.exitCode == 0, qPrintable(again.err));
    QVERIFY2(again.out.contains(QStringLiteral("Queued 0 messages")), qPrintable(again.out));
    QVERIFY2(again.out.contains(QStringLiteral("3 already queued")), qPrintable(again.out));

    auto rows = m_connection->exec(QStringLiteral(
            "SELECT recipient, data->>'name', priority, data ? 'to' FROM messages ORDER BY id"));
    QVERIFY(rows);
    QCOMPARE(rows->rowCount(), 3);
    QCOMPARE(rows->text(2, 0), QStringLiteral("alan@example.org"));
    QCOMPARE(rows->text(2, 1), QStringLiteral("Alan"));
    QCOMPARE(rows->toInt(2, 2), 2);
    QCOMPARE(rows->toInt(0, 2), 3);
    QVERIFY(!rows->toBool(0, 3));

    const Run missingTo = ctl({QStringLiteral("enqueue"), QStringLiteral("--queue"),
                               QStringLiteral("marketing"), QStringLiteral("--template"),
                               QStringLiteral("welcome"), QStringLiteral("--recipients"),
                               data("recipients-missing-to.jsonl")});
    QCOMPARE(missingTo.exitCode, 1);
    QVERIFY2(missingTo.err.contains(QStringLiteral("line 2: the \"to\" address is missing")),
             qPrintable(missingTo.err));
    QVERIFY(missingTo.err.contains(QStringLiteral("Nothing was queued")));

    const Run noTemplate = ctl({QStringLiteral("enqueue"), QStringLiteral("--queue"),
                                QStringLiteral("marketing"), QStringLiteral("--template"),
                                QStringLiteral("goodbye"), QStringLiteral("--recipients"),
                                data("recipients.jsonl")});
    QCOMPARE(noTemplate.exitCode, 1);
    QVERIFY2(noTemplate.err.contains(QStringLiteral("there is no template 'goodbye'")),
             qPrintable(noTemplate.err));
    const Run badQueue = ctl({QStringLiteral("enqueue"), QStringLiteral("--queue"),
                              QStringLiteral("newsletters"), QStringLiteral("--template"),
                              QStringLiteral("welcome"), QStringLiteral("--recipients"),
                              data("recipients.jsonl")});
    QCOMPARE(badQueue.exitCode, 1);
    QVERIFY2(badQueue.err.contains(QStringLiteral("There is no queue named 'newsletters'")),
             qPrintable(badQueue.err));
}

void TestQueueCtl::enqueueFallsBackToTheDefaultLocale()
{
    const auto put = [this](const QString &locale, const QString &subject) {
        return ctl({QStringLiteral("template"), QStringLiteral("put"), QStringLiteral("invoice"),
                    QStringLiteral("--locale"), locale, QStringLiteral("--subject"), subject,
                    QStringLiteral("--html"), data("welcome.html")});
    };
    const Run en = put(QStringLiteral("en"), QStringLiteral("Your invoice"));
    QVERIFY2(en.exitCode == 0, qPrintable(en.out + en.err));
    const Run de = put(QStringLiteral("de"), QStringLiteral("Ihre Rechnung"));
    QVERIFY2(de.exitCode == 0, qPrintable(de.out + de.err));

    // Per recipient "locale"; fr has no version, and a line without one takes --locale.
    QFile file(m_dir.filePath(QStringLiteral("locales.jsonl")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{\"to\": \"de@example.org\", \"locale\": \"de\", \"name\": \"Dora\"}\n"
               "{\"to\": \"fr@example.org\", \"locale\": \"fr\", \"name\": \"Fleur\"}\n"
               "{\"to\": \"none@example.org\", \"name\": \"Nils\"}\n");
    file.close();
    const auto enqueue = [this, &file](const QStringList &extra) {
        return ctl(QStringList{QStringLiteral("enqueue"), QStringLiteral("--queue"),
                               QStringLiteral("transactional"), QStringLiteral("--template"),
                               QStringLiteral("invoice"), QStringLiteral("--recipients"),
                               file.fileName()}
                   + extra);
    };
    const Run queued = enqueue({QStringLiteral("--locale"), QStringLiteral("it")});
    QVERIFY2(queued.exitCode == 0, qPrintable(queued.out + queued.err));
    QVERIFY2(queued.out.contains(QStringLiteral("Queued 3 messages")), qPrintable(queued.out));
    QVERIFY2(queued.out.contains(QStringLiteral("versions")), qPrintable(queued.out));
    const auto localeOf = [this](const QString &recipient) {
        auto rows = m_connection
                            ->exec(QStringLiteral(
                                           "SELECT v.locale, v.subject FROM messages m JOIN "
                                           "template_versions v ON v.id = m.template_version_id "
                                           "WHERE m.recipient = $1 ORDER BY m.id DESC LIMIT 1"),
                                   {recipient});
        return rows && rows->rowCount() == 1 ? rows->text(0, 0) : QString();
    };
    QCOMPARE(localeOf(QStringLiteral("de@example.org")), QStringLiteral("de"));
    QCOMPARE(localeOf(QStringLiteral("fr@example.org")), QStringLiteral("en"));
    QCOMPARE(localeOf(QStringLiteral("none@example.org")), QStringLiteral("en"));

    // Without --locale, lines without one get the default locale.
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write("{\"to\": \"plain@example.org\"}\n");
    file.close();
    const Run plain = enqueue({});
    QVERIFY2(plain.exitCode == 0, qPrintable(plain.out + plain.err));
    QVERIFY2(plain.out.contains(QStringLiteral("version 1 (en)")), qPrintable(plain.out));
    QCOMPARE(localeOf(QStringLiteral("plain@example.org")), QStringLiteral("en"));
    // The queue tests after this one count the marketing messages alone.
    QVERIFY(m_connection->exec(QStringLiteral(
            "DELETE FROM messages WHERE template_version_id IN "
            "(SELECT v.id FROM template_versions v JOIN templates t ON t.id = v.template_id "
            "WHERE t.name = 'invoice')")));
}

void TestQueueCtl::queueListPauseResumeAndBulk()
{
    const Run list = ctl({QStringLiteral("queue"), QStringLiteral("list")});
    QVERIFY2(list.exitCode == 0, qPrintable(list.err));
    const QStringList lines = list.out.split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 5);
    QVERIFY(lines.at(0).startsWith(QStringLiteral("QUEUE")));
    QVERIFY(lines.at(1).startsWith(QStringLiteral("transactional")));
    QVERIFY2(lines.at(3).contains(QRegularExpression(QStringLiteral("^marketing\\s+running\\s+3"))),
             qPrintable(lines.at(3)));

    const Run pause = ctl(
            {QStringLiteral("queue"), QStringLiteral("pause"), QStringLiteral("marketing")});
    QVERIFY2(pause.exitCode == 0, qPrintable(pause.err));
    QVERIFY(pause.out.contains(QStringLiteral("Queue 'marketing' is paused.")));
    QVERIFY(ctl({QStringLiteral("queue"), QStringLiteral("list")})
                    .out.contains(QRegularExpression(QStringLiteral("marketing\\s+paused"))));
    const Run resume = ctl(
            {QStringLiteral("queue"), QStringLiteral("resume"), QStringLiteral("marketing")});
    QVERIFY(resume.out.contains(QStringLiteral("Queue 'marketing' is running.")));

    const Run count = ctl({QStringLiteral("queue"), QStringLiteral("count"),
                           QStringLiteral("--queue"), QStringLiteral("marketing"),
                           QStringLiteral("--state"), QStringLiteral("pending")});
    QVERIFY2(count.out.contains(QStringLiteral("Matching: 3 messages.")), qPrintable(count.out));
    const Run reprioritise = ctl({QStringLiteral("queue"), QStringLiteral("reprioritise"),
                                  QStringLiteral("--priority"), QStringLiteral("1"),
                                  QStringLiteral("--queue"), QStringLiteral("marketing")});
    QVERIFY2(reprioritise.out.contains(QStringLiteral("Reprioritised: 3 messages.")),
             qPrintable(reprioritise.out + reprioritise.err));
    const Run cancel = ctl({QStringLiteral("queue"), QStringLiteral("cancel"),
                            QStringLiteral("--queue"), QStringLiteral("marketing"),
                            QStringLiteral("--since"), QStringLiteral("2000-01-01T00:00:00Z")});
    QVERIFY2(cancel.out.contains(QStringLiteral("Cancelled: 3 messages.")),
             qPrintable(cancel.out + cancel.err));
    const Run retry = ctl(
            {QStringLiteral("queue"), QStringLiteral("retry"), QStringLiteral("--all")});
    QVERIFY2(retry.out.contains(QStringLiteral("Retried: 0 messages.")), qPrintable(retry.out));
    const Run requeue = ctl({QStringLiteral("queue"), QStringLiteral("requeue"),
                             QStringLiteral("--state"), QStringLiteral("cancelled")});
    QVERIFY2(requeue.out.contains(QStringLiteral("Requeued: 3 messages.")),
             qPrintable(requeue.out + requeue.err));
    auto rows = m_connection->exec(QStringLiteral(
            "SELECT count(*) FROM messages WHERE state = 'pending' AND priority = 1"));
    QCOMPARE(rows->toInt(0, 0), 3);
}

void TestQueueCtl::suppressAddListRemoveImportExport()
{
    const Run add = ctl({QStringLiteral("suppress"), QStringLiteral("add"),
                         QStringLiteral("Ada@Example.org"), QStringLiteral("--reason"),
                         QStringLiteral("unsubscribe")});
    QVERIFY2(add.exitCode == 0, qPrintable(add.err));
    QVERIFY(add.out.contains(QStringLiteral("Suppressed ada@example.org")));
    const Run twice = ctl(
            {QStringLiteral("suppress"), QStringLiteral("add"), QStringLiteral("ada@example.org")});
    QVERIFY(twice.out.contains(QStringLiteral("Already suppressed: ada@example.org")));

    const Run imported = ctl(
            {QStringLiteral("suppress"), QStringLiteral("import"), data("suppressions.csv")});
    QVERIFY2(imported.exitCode == 0, qPrintable(imported.err));
    QVERIFY2(imported.out.contains(QStringLiteral("Imported 5 addresses; 1 already suppressed")),
             qPrintable(imported.out));
    const Run list = ctl({QStringLiteral("suppress"), QStringLiteral("list")});
    QVERIFY(list.out.contains(QStringLiteral("6 addresses.")));
    QVERIFY2(list.out.contains(
                     QRegularExpression(QStringLiteral("ada@example.org\\s+unsubscribe"))),
             qPrintable(list.out));

    const QString exportPath = m_dir.filePath(QStringLiteral("out.csv"));
    const Run exported = ctl({QStringLiteral("suppress"), QStringLiteral("export"), exportPath});
    QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
    QVERIFY(exported.out.contains(QStringLiteral("Wrote 6 addresses")));
    const Run toStdout = ctl({QStringLiteral("suppress"), QStringLiteral("export")});
    QVERIFY(toStdout.out.startsWith(QStringLiteral("address,reason,note,source,created_at")));
    QCOMPARE(toStdout.out.count(u'\n'), 7);

    const Run removed = ctl({QStringLiteral("suppress"), QStringLiteral("remove"),
                             QStringLiteral("ADA@example.org")});
    QVERIFY2(removed.exitCode == 0, qPrintable(removed.err));
    QVERIFY(removed.out.contains(QStringLiteral("Removed ada@example.org")));
}

QTEST_GUILESS_MAIN(TestQueueCtl)
#include "tst_queuectl.moc"
