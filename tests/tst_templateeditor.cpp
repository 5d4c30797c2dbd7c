#include "db/asyncdatabase.h"
#include "db/connection.h"
#include "db/databaseconfig.h"
#include "db/migrator.h"
#include "mime/message.h"
#include "providers/providerrepository.h"
#include "queue/templaterepository.h"
#include "smtp/smtppeer.h"
#include "templates/codeeditor.h"
#include "templates/diffview.h"
#include "templates/previewpane.h"
#include "templates/previewrenderer.h"
#include "templates/sandboxinbox.h"
#include "templates/sendtestdialog.h"
#include "templates/templateeditor.h"
#include "templates/templatespage.h"
#include "testdb.h"
#include "testenv.h"

#include <QAbstractItemView>
#include <QComboBox>
#include <QCompleter>
#include <QDialog>
#include <QFile>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <QWebEnginePage>
#include <QWebEngineScript>
#include <QWebEngineView>

// The template editor driven offscreen against a real PostgreSQL: typing updates the preview,
// syntax errors get a marker where the engine says, saves make versions that roll back, a
// concurrent save is shown instead of overwritten, drafts survive, and each pre-send check fires.
class TestTemplateEditor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void webEngineRendersOffscreenWithoutRemoteContent();
    void listAndCreate();
    void typingUpdatesThePreview();
    void syntaxErrorShowsAMarker();
    void completionOffersSampleVariables();
    void saveTwiceAndRollBack();
    void concurrentSaveIsShownNotOverwritten();
    void draftsSurviveAClosedEditor();
    void eachPreSendCheckFires();
    void localeFallsBackToTheDefault();
    void samplesAndRealRecipients();
    void newestPreviewWins();
    void updatesKeepTheReadersPlace();
    void sandboxInboxShowsCapturedMessages();
    void sendTestThroughAProviderUrl();
    void sendTestThroughAStoredSandboxProvider();
    void sendTestThroughAStoredSmtpProvider();

private:
    TemplateEditor *editor() const { return m_page->editor(); }
    std::unique_ptr<Db::Connection> connect() const;
    void typeHtml(const QString &text);
    bool openAndWait(const QString &name);
    void waitForPreviewShown();

    Db::ConnectionInfo m_info;
    std::unique_ptr<Db::AsyncDatabase> m_database;
    std::unique_ptr<TemplatesPage> m_page;
};

std::unique_ptr<Db::Connection> TestTemplateEditor::connect() const
{
    auto connection = Db::Connection::open(m_info);
    if (!connection)
        return nullptr;
    return std::move(*connection);
}

void TestTemplateEditor::initTestCase()
{
    m_info = TestSupport::freshSchema(QStringLiteral("tst_templateeditor"));
    auto connection = connect();
    QVERIFY(connection);
    QVERIFY(Db::Migrator(*connection).migrate());
    auto config = Db::DatabaseConfig::external(m_info.toConnectionString());
    QVERIFY2(config, qPrintable(config ? QString() : config.error().toString()));
    m_database = std::make_unique<Db::AsyncDatabase>(*config);
    QTRY_COMPARE_WITH_TIMEOUT(m_database->linkState(), Db::LinkState::Connected, 30000);

    m_page = std::make_unique<TemplatesPage>();
    QFile style(QStringLiteral(":/ui/style/postdesk.qss"));
    if (style.open(QIODevice::ReadOnly))
        m_page->setStyleSheet(QString::fromUtf8(style.readAll()));
    m_page->setDatabase(m_database.get());
    m_page->resize(1500, 900);
    m_page->show();
    m_page->activateWindow();
    QVERIFY(QTest::qWaitForWindowExposed(m_page.get()));
}

void TestTemplateEditor::cleanupTestCase()
{
    m_page.reset();
    m_database.reset();
}

void TestTemplateEditor::webEngineRendersOffscreenWithoutRemoteContent()
{
    PreviewPane pane;
    pane.resize(600, 500);
    pane.show();
    QVERIFY(QTest::qWaitForWindowExposed(&pane));
    QSignalSpy loaded(&pane, &PreviewPane::htmlLoaded);
    Templates::Preview::Result result;
    result.subject = QStringLiteral("Offscreen");
    result.html = QStringLiteral(
            "<html><head><title>t</title><script>document.title='scripted'</script></head>"
            "<body><p>Rendered offscreen</p><img alt=\"pixel\" "
            "src=\"http://127.0.0.1:9/pixel.png\"><a id=\"l\" "
            "href=\"https://example.org/\">link</a></body></html>");
    pane.showResult(result);
    QVERIFY(loaded.wait(30000));
    QString text;
    pane.htmlView()->page()->toPlainText([&text](const QString &t) { text = t; });
    QTRY_VERIFY_WITH_TIMEOUT(text.contains(u"Rendered offscreen"), 10000);
    // Scripts do not run; the remote image was never fetched.
    QCOMPARE(pane.htmlView()->title(), QStringLiteral("t"));
    QVERIFY(pane.blockedRequests() >= 1);
    // A link is not followed: the page stays where it is.
    const QUrl before = pane.htmlView()->url();
    pane.htmlView()->page()->triggerAction(QWebEnginePage::Reload); // harmless; keeps the data URL
    QTest::qWait(200);
    QCOMPARE(pane.htmlView()->url().scheme(), before.scheme());
    pane.setWidth(PreviewPane::Width::Phone);
    QCOMPARE(pane.htmlView()->width(), PreviewPane::phoneWidth);
    const int loads = pane.htmlLoads();
    pane.setDarkMode(true);
    QVERIFY(pane.html().contains(u"invert(1)"));
    QTRY_VERIFY_WITH_TIMEOUT(pane.htmlLoads() > loads, 30000);
    QTest::qWait(300); // the view's next frame
    TestSupport::saveScreenshot(&pane, QStringLiteral("editor-webengine-phone-dark"));
}

void TestTemplateEditor::listAndCreate()
{
    QSignalSpy listed(m_page.get(), &TemplatesPage::listLoaded);
    m_page->refresh();
    QVERIFY(listed.wait(10000));
    QCOMPARE(m_page->model()->rowCount(), 0);
    QSignalSpy loaded(editor(), &TemplateEditor::loaded);
    m_page->createTemplate(QStringLiteral("welcome"), QStringLiteral("transactional"));
    QVERIFY(loaded.wait(10000));
    QCOMPARE(editor()->info().name, QStringLiteral("welcome"));
    m_page->createTemplate(QStringLiteral("spring-sale"), QStringLiteral("marketing"));
    QTRY_COMPARE(m_page->model()->rowCount(), 2);
    QTRY_COMPARE(editor()->info().name, QStringLiteral("spring-sale"));
    // Search filters the list.
    QTest::keyClicks(m_page->search(), QStringLiteral("WEL"));
    QCOMPARE(m_page->proxy()->rowCount(), 1);
    m_page->search()->clear();
    QVERIFY(openAndWait(QStringLiteral("welcome")));
}

// Until the HTML view has loaded what the newest preview rendered, and painted it.
void TestTemplateEditor::waitForPreviewShown()
{
    // The load may already be under way or done: wait a little for one, then for a frame.
    QSignalSpy loaded(editor()->previewPane(), &PreviewPane::htmlLoaded);
    loaded.wait(3000);
    QTest::qWait(300);
}

bool TestTemplateEditor::openAndWait(const QString &name)
{
    if (editor()->info().name == name && editor()->isEnabled())
        return true; // open already
    QSignalSpy loaded(editor(), &TemplateEditor::loaded);
    return m_page->openTemplate(name) && loaded.wait(10000) && editor()->info().name == name;
}

void TestTemplateEditor::typeHtml(const QString &text)
{
    editor()->htmlEditor()->setFocus();
    editor()->htmlEditor()->moveCursor(QTextCursor::End);
    // keyClicks knows no line break: Return types one, as a person would.
    const QStringList lines = text.split(u'\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (i > 0)
            QTest::keyClick(editor()->htmlEditor(), Qt::Key_Return);
        QTest::keyClicks(editor()->htmlEditor(), lines.at(i));
    }
}

void TestTemplateEditor::typingUpdatesThePreview()
{
    editor()->setSampleJson(R"({"name": "Ada", "plan": "Pro", "email": "ada@example.org"})");
    QTest::keyClicks(editor()->subjectEditor(), QStringLiteral("Welcome, {{name}}"));
    typeHtml(QStringLiteral("<h1>Hello {{name}}</h1>"));
    QTRY_VERIFY2_WITH_TIMEOUT(editor()->previewPane()->html().contains(u"<h1>Hello Ada</h1>"),
                              qPrintable(editor()->htmlEditor()->toPlainText() + u" | "
                                         + editor()->previewPane()->html()),
                              5000);
    QCOMPARE(editor()->previewPane()->subject(), QStringLiteral("Subject: Welcome, Ada"));
    QVERIFY2(editor()->previewPane()->text().contains(u"Hello Ada", Qt::CaseInsensitive),
             qPrintable(editor()->previewPane()->text()));
    QVERIFY(editor()->previewPane()->mime().contains(u"Subject: Welcome, Ada"));
    QVERIFY(editor()->previewPane()->mime().contains(u"To: ada@example.org"));
    typeHtml(QStringLiteral("\n<p>You are on {{plan}}.</p>"));
    QTRY_VERIFY_WITH_TIMEOUT(editor()->previewPane()->html().contains(u"You are on Pro."), 5000);
    waitForPreviewShown();
    TestSupport::saveScreenshot(m_page.get(), QStringLiteral("editor-typing"));
}

void TestTemplateEditor::syntaxErrorShowsAMarker()
{
    CodeEditor *html = editor()->htmlEditor();
    QCOMPARE(html->errorLine(), 0);
    typeHtml(QStringLiteral("\n<p>{{#if plan}}unclosed</p>"));
    QTRY_VERIFY_WITH_TIMEOUT(html->errorLine() > 0, 5000);
    waitForPreviewShown();
    QVERIFY2(html->errorLine() >= 3, qPrintable(html->errorMessage()));
    QVERIFY(html->errorMessage().contains(u"line"));
    QVERIFY(editor()->findingCodes().contains(u"syntax"));
    TestSupport::saveScreenshot(m_page.get(), QStringLiteral("editor-syntax-error"));
    typeHtml(QStringLiteral("{{/if}}"));
    QTRY_COMPARE_WITH_TIMEOUT(html->errorLine(), 0, 5000);
    QVERIFY(!editor()->findingCodes().contains(u"syntax"));

    // A lexer error in the middle of a line: line and column as the engine reports them.
    html->setPlainText(QStringLiteral("<p>one</p>\n<p>two {{name}</p>"));
    QTRY_COMPARE_WITH_TIMEOUT(html->errorLine(), 2, 5000);
    QVERIFY(html->errorColumn() >= 1);
    html->setPlainText(QStringLiteral("<h1>Hello {{name}}</h1>\n<p>You are on {{plan}}.</p>"));
    QTRY_COMPARE_WITH_TIMEOUT(html->errorLine(), 0, 5000);
}

void TestTemplateEditor::completionOffersSampleVariables()
{
    CodeEditor *html = editor()->htmlEditor();
    QTRY_VERIFY(html->completions().contains(u"plan"));
    QVERIFY(html->completions().contains(u"email"));
    html->moveCursor(QTextCursor::End);
    QTest::keyClicks(html, QStringLiteral("{{pl"));
    QTRY_VERIFY(html->completer()->popup()->isVisible());
    QCOMPARE(html->completer()->currentCompletion(), QStringLiteral("plan"));
    QTest::keyClick(html->completer()->popup(), Qt::Key_Return);
    QVERIFY2(html->toPlainText().endsWith(u"{{plan}}"), qPrintable(html->toPlainText()));
    // Matching braces: the cursor inside the tag highlights its {{ and }}.
    html->moveCursor(QTextCursor::End);
    html->moveCursor(QTextCursor::Left);
    html->moveCursor(QTextCursor::Left);
    html->moveCursor(QTextCursor::Left);
    const auto braces = html->matchedBraces();
    QVERIFY(braces.first >= 0);
    QCOMPARE(html->toPlainText().mid(braces.first, 2), QStringLiteral("{{"));
    QCOMPARE(html->toPlainText().mid(braces.second, 2), QStringLiteral("}}"));
    html->setPlainText(QStringLiteral("<h1>Hello {{name}}</h1>\n<p>You are on {{plan}}.</p>"));
}

void TestTemplateEditor::saveTwiceAndRollBack()
{
    QSignalSpy saved(editor(), &TemplateEditor::saved);
    editor()->save();
    QVERIFY(saved.wait(10000));
    QCOMPARE(saved.last().at(0).toInt(), 1);
    const Templates::TemplateContent first = editor()->content();
    QVERIFY(!editor()->isModified());

    typeHtml(QStringLiteral("\n<p>Second version.</p>"));
    QVERIFY(editor()->isModified());
    editor()->save();
    QVERIFY(saved.wait(10000));
    QCOMPARE(saved.last().at(0).toInt(), 2);

    editor()->showHistory();
    QTRY_VERIFY(editor()->historyDialog() && editor()->historyDialog()->isVisible());
    QDialog *history = editor()->historyDialog();
    auto *table = history->findChild<QTableWidget *>(QStringLiteral("historyTable"));
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(table->item(0, 0)->text(), QStringLiteral("2"));
    auto *diff = history->findChild<DiffView *>(QStringLiteral("historyDiff"));
    QVERIFY2(diff->changes() == 1, // the added paragraph
             qPrintable(first.html + u" || " + editor()->content().html));
    TestSupport::saveScreenshot(history, QStringLiteral("editor-history-diff"));
    table->selectRow(1);
    QTest::mouseClick(history->findChild<QPushButton *>(QStringLiteral("rollbackButton")),
                      Qt::LeftButton);
    QVERIFY(saved.wait(10000));
    QCOMPARE(saved.last().at(0).toInt(), 3);
    QCOMPARE(editor()->content(), first);

    auto connection = connect();
    auto rows = connection->exec(
            QStringLiteral("SELECT v.version, v.note, v.html_body FROM template_versions v "
                           "JOIN templates t ON t.id = v.template_id WHERE t.name = 'welcome' "
                           "ORDER BY v.version"));
    QVERIFY(rows);
    QCOMPARE(rows->rowCount(), 3);
    QCOMPARE(rows->text(2, 1), QStringLiteral("Rolled back to version 1"));
    QCOMPARE(rows->text(2, 2), rows->text(0, 2));
}

void TestTemplateEditor::concurrentSaveIsShownNotOverwritten()
{
    // Someone else saves (here through the command line's repository) while we edit.
    typeHtml(QStringLiteral("\n<p>Mine.</p>"));
    {
        auto connection = connect();
        Queue::TemplateRepository repository(*connection);
        Queue::TemplateRepository::NewVersion theirs;
        theirs.name = QStringLiteral("welcome");
        theirs.subject = QStringLiteral("Welcome aboard, {{name}}");
        theirs.htmlBody = QStringLiteral("<h1>Hello {{name}}</h1>\n<p>Theirs.</p>");
        QVERIFY(repository.put(theirs));
    }
    QSignalSpy conflict(editor(), &TemplateEditor::conflict);
    QSignalSpy saved(editor(), &TemplateEditor::saved);
    editor()->save();
    QVERIFY(conflict.wait(10000));
    QCOMPARE(saved.size(), 0);
    QDialog *dialog = editor()->conflictDialog();
    QVERIFY(dialog && dialog->isVisible());
    auto *diff = dialog->findChild<DiffView *>();
    QVERIFY(diff->changes() >= 2); // their subject and paragraph against mine
    TestSupport::saveScreenshot(dialog, QStringLiteral("editor-conflict"));
    // Nothing of ours was written yet.
    auto connection = connect();
    auto count = connection->exec(QStringLiteral(
            "SELECT count(*) FROM template_versions WHERE html_body LIKE '%Mine.%'"));
    QCOMPARE(count->toInt(0, 0), 0);
    QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("saveMineButton")),
                      Qt::LeftButton);
    QVERIFY(saved.wait(10000));
    QCOMPARE(saved.last().at(0).toInt(), 5);
    auto both = connection->exec(QStringLiteral(
            "SELECT string_agg(html_body, '|' ORDER BY version) FROM template_versions v "
            "JOIN templates t ON t.id = v.template_id WHERE t.name = 'welcome' AND version >= 4"));
    QVERIFY(both->text(0, 0).contains(u"Theirs."));
    QVERIFY(both->text(0, 0).contains(u"Mine."));
}

void TestTemplateEditor::draftsSurviveAClosedEditor()
{
    QSignalSpy drafted(editor(), &TemplateEditor::draftSaved);
    typeHtml(QStringLiteral("\n<p>Not saved yet.</p>"));
    QVERIFY(drafted.wait(10000));
    const Templates::TemplateContent typed = editor()->content();
    auto connection = connect();
    auto draft = connection->exec(QStringLiteral("SELECT html_body FROM template_drafts"));
    QCOMPARE(draft->rowCount(), 1);
    QCOMPARE(draft->text(0, 0), typed.html);

    // A second editor (a new window, or after a crash) opens the same template: the draft is back.
    Templates::TemplateStore store(m_database.get());
    TemplateEditor other;
    other.setStore(&store);
    QSignalSpy loaded(&other, &TemplateEditor::loaded);
    other.open(editor()->templateId());
    QVERIFY(loaded.wait(10000));
    QCOMPARE(other.content(), typed);
    QVERIFY2(other.banner().contains(u"restored"), qPrintable(other.banner()));

    // Saving removes the draft.
    QSignalSpy saved(editor(), &TemplateEditor::saved);
    editor()->save();
    QVERIFY(saved.wait(10000));
    QCOMPARE(connection->exec(QStringLiteral("SELECT count(*) FROM template_drafts"))->toInt(0, 0),
             0);
}

void TestTemplateEditor::eachPreSendCheckFires()
{
    QVERIFY(openAndWait(QStringLiteral("spring-sale")));
    QCOMPARE(editor()->info().kind, QStringLiteral("marketing"));
    editor()->setSampleJson(R"({"name": "Ada"})");
    QTest::keyClicks(editor()->subjectEditor(), QStringLiteral("Spring sale for {{name}}"));
    const QString filler = QStringLiteral("<p>") + QString(104 * 1024, u'x')
            + QStringLiteral("</p>");
    editor()->htmlEditor()->setPlainText(
            QStringLiteral("<div style=\"display:flex\">\n"
                           "<p>Hi {{name}}, {{coupon}} is yours.</p>\n"
                           "<a href=\"javascript:alert(1)\">Claim</a>\n"
                           "<a href=\"www.example.org/shop\">Shop</a>\n"
                           "<img src=\"https://cdn.example.org/banner.png\">\n"
                           "</div>\n")
            + filler);
    const QStringList expected = {QStringLiteral("missing-variable"),
                                  QStringLiteral("link-unsafe"),
                                  QStringLiteral("link-malformed"),
                                  QStringLiteral("image-no-alt"),
                                  QStringLiteral("html-clipped"),
                                  QStringLiteral("no-text-part"),
                                  QStringLiteral("no-unsubscribe"),
                                  QStringLiteral("client-support")};
    QTRY_VERIFY_WITH_TIMEOUT(editor()->findingCodes().contains(u"html-clipped"), 10000);
    const QStringList codes = editor()->findingCodes();
    for (const QString &code : expected)
        QVERIFY2(codes.contains(code), qPrintable(code + u" in " + codes.join(u',')));
    editor()->htmlEditor()->setPlainText(
            QStringLiteral("<div style=\"display:flex\">\n"
                           "<p>Hi {{name}}, {{coupon}} is yours.</p>\n"
                           "<a href=\"javascript:alert(1)\">Claim</a>\n"
                           "<a href=\"www.example.org/shop\">Shop</a>\n"
                           "<img src=\"https://cdn.example.org/banner.png\">\n</div>\n"));
    QTRY_VERIFY_WITH_TIMEOUT(!editor()->findingCodes().contains(u"html-clipped"), 10000);
    waitForPreviewShown();
    TestSupport::saveScreenshot(m_page.get(), QStringLiteral("editor-presend-checks"));

    // Fixed: only the size note and the client support notes stay.
    editor()->textEditor()->setPlainText(QStringLiteral("Hi {{name}}"));
    editor()->setSampleJson(R"({"name": "Ada", "coupon": "SPRING"})");
    editor()->htmlEditor()->setPlainText(
            QStringLiteral("<p>Hi {{name}}, {{coupon}} is yours.</p>\n"
                           "<a href=\"https://example.org/claim\">Claim</a>\n"
                           "<img alt=\"Spring\" src=\"https://cdn.example.org/banner.png\">\n"
                           "<a href=\"https://example.org/unsubscribe\">Unsubscribe</a>\n"));
    QTRY_VERIFY_WITH_TIMEOUT(!editor()->findingCodes().contains(u"no-unsubscribe"), 10000);
    QCOMPARE(editor()->findingCodes(), QStringList{QStringLiteral("html-size")});
}

void TestTemplateEditor::localeFallsBackToTheDefault()
{
    QVERIFY(openAndWait(QStringLiteral("welcome")));
    const Templates::TemplateContent english = editor()->content();
    QSignalSpy loaded(editor(), &TemplateEditor::loaded);
    editor()->openLocale(QStringLiteral("de"));
    QVERIFY(loaded.wait(10000));
    QCOMPARE(editor()->locale(), QStringLiteral("de"));
    QCOMPARE(editor()->content(), english);
    QVERIFY2(editor()->banner().contains(u"\"de\""), qPrintable(editor()->banner()));
    editor()->subjectEditor()->setText(QStringLiteral("Willkommen, {{name}}"));
    QSignalSpy saved(editor(), &TemplateEditor::saved);
    editor()->save();
    QVERIFY(saved.wait(10000));
    QCOMPARE(saved.last().at(0).toInt(), 1); // the first German version
    QVERIFY(editor()->info().locales.contains(u"de"));
    editor()->openLocale(QStringLiteral("en"));
    QVERIFY(loaded.wait(10000));
    QCOMPARE(editor()->content().subject, english.subject);
}

void TestTemplateEditor::samplesAndRealRecipients()
{
    // A message already sent with the template: its data is offered as a preview.
    auto connection = connect();
    QVERIFY(connection->exec(QStringLiteral(
            "INSERT INTO messages (queue_id, state, recipient, template_version_id, data) "
            "SELECT (SELECT id FROM queues WHERE name = 'transactional'), 'sent', "
            "'grace@example.org', v.id, '{\"name\": \"Grace\", \"plan\": \"Team\"}' "
            "FROM template_versions v JOIN templates t ON t.id = v.template_id "
            "WHERE t.name = 'welcome' ORDER BY v.id LIMIT 1")));
    QTest::keyClicks(editor()->findChild<QLineEdit *>(QStringLiteral("sampleName")),
                     QStringLiteral("pro-customer"));
    QTest::mouseClick(editor()->findChild<QPushButton *>(QStringLiteral("saveSampleButton")),
                      Qt::LeftButton);
    auto *samples = editor()->findChild<QComboBox *>(QStringLiteral("sampleBox"));
    QTRY_VERIFY_WITH_TIMEOUT(samples->findText(QStringLiteral("pro-customer")) >= 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(samples->findText(QStringLiteral("Sent to grace@example.org")) >= 0,
                             10000);
    const int grace = samples->findText(QStringLiteral("Sent to grace@example.org"));
    samples->setCurrentIndex(grace);
    Q_EMIT samples->activated(grace);
    QTRY_VERIFY_WITH_TIMEOUT(editor()->previewPane()->html().contains(u"Hello Grace"), 5000);
    auto stored = connection->exec(QStringLiteral("SELECT name FROM template_samples"));
    QCOMPARE(stored->text(0, 0), QStringLiteral("pro-customer"));
}

// Updates while the author types replace the shown document in place: the reader stays where
// they scrolled to, and the new tree is as inert as a loaded one (no script, no remote image).
void TestTemplateEditor::updatesKeepTheReadersPlace()
{
    PreviewPane pane;
    pane.resize(600, 400);
    pane.show();
    QVERIFY(QTest::qWaitForWindowExposed(&pane));
    QSignalSpy loaded(&pane, &PreviewPane::htmlLoaded);
    const auto page = [](const QString &title, const QString &extra) -> QString {
        QString html = u"<!doctype html><html><head><title>"_qs + title
                + u"</title></head><body>"_qs;
        for (int i = 0; i < 200; ++i)
            html += QStringLiteral("<p>Line %1</p>").arg(i);
        return html + extra + u"</body></html>"_qs;
    };
    Templates::Preview::Result result;
    result.html = page(QStringLiteral("first"), QString());
    pane.showResult(result);
    QVERIFY(loaded.wait(30000));
    QWebEnginePage *web = pane.htmlView()->page();
    web->runJavaScript(QStringLiteral("window.scrollTo(0, 1500)"),
                       QWebEngineScript::ApplicationWorld);
    QTRY_VERIFY_WITH_TIMEOUT(web->scrollPosition().y() > 1000, 10000);

    result.html = page(QStringLiteral("second"),
                       QStringLiteral(
                               "<p id=\"edited\">Edited</p>"
                               "<script>document.title='scripted'</script>"
                               "<img alt=\"remote\" src=\"http://127.0.0.1:9/second.png\">"));
    pane.showResult(result);
    QVERIFY(loaded.wait(30000));
    QString text;
    QTRY_VERIFY_WITH_TIMEOUT((web->toPlainText([&text](const QString &t) { text = t; }),
                              text.contains(u"Edited")),
                             10000);
    QTRY_COMPARE_WITH_TIMEOUT(pane.htmlView()->title(), QStringLiteral("second"), 10000);
    QVERIFY(web->scrollPosition().y() > 1000); // a new load would have gone back to the top
    QTRY_VERIFY_WITH_TIMEOUT(pane.blockedRequests() >= 1, 10000);
    QTest::qWait(200);
    QCOMPARE(pane.htmlView()->title(), QStringLiteral("second"));
}

void TestTemplateEditor::newestPreviewWins()
{
    // Many requests in a burst: only the newest result reaches the editor.
    PreviewRenderer renderer;
    QList<quint64> shown;
    QObject::connect(&renderer, &PreviewRenderer::ready, this,
                     [&shown](const Templates::Preview::Result &r) { shown.append(r.generation); });
    Templates::Preview::Request request;
    request.subject = QStringLiteral("s");
    for (int i = 0; i < 50; ++i) {
        request.html = QStringLiteral("<p>%1</p>").arg(i) + QString(20000, u'x');
        renderer.request(request);
    }
    QTRY_VERIFY(!shown.isEmpty() && shown.constLast() == renderer.latestGeneration());
    QTest::qWait(100);
    QCOMPARE(shown.size(), 1);
    QCOMPARE(renderer.skipped() + renderer.dropped(), 49);
}

void TestTemplateEditor::sandboxInboxShowsCapturedMessages()
{
    Mime::Message message;
    message.setFrom(*Mime::Address::create(QStringLiteral("news@example.org")));
    message.addTo(*Mime::Address::create(QStringLiteral("zoe@example.org")));
    message.setSubject(QStringLiteral("Grüße from the sandbox"));
    message.setHtml(QStringLiteral("<h1>Captured héllo</h1>"));
    message.setText(QStringLiteral("Captured héllo"));
    auto composed = message.compose();
    QVERIFY(composed);
    auto connection = connect();
    QVERIFY(connection->exec(
            QStringLiteral("INSERT INTO sandbox_messages (message_id_header, envelope_from, "
                           "recipients, subject, raw) VALUES ($1, $2, ARRAY[$3], $4, $5)"),
            {composed->messageId, composed->envelopeFrom, QStringLiteral("zoe@example.org"),
             message.subject(), composed->data}));
    QSignalSpy listed(m_page->sandboxInbox(), &SandboxInbox::listLoaded);
    m_page->tabs()->setCurrentWidget(m_page->sandboxInbox());
    QVERIFY(listed.wait(10000));
    QCOMPARE(m_page->sandboxInbox()->model()->rowCount(), 1);
    QSignalSpy shown(m_page->sandboxInbox(), &SandboxInbox::messageShown);
    m_page->sandboxInbox()->table()->selectRow(0);
    QVERIFY(shown.wait(10000));
    PreviewPane *preview = m_page->sandboxInbox()->preview();
    QCOMPARE(preview->html(), QStringLiteral("<h1>Captured héllo</h1>"));
    QCOMPARE(preview->subject(), QStringLiteral("Subject: Grüße from the sandbox"));
    QVERIFY(preview->text().contains(u"Captured héllo"));
    QVERIFY(preview->mime().contains(u"zoe@example.org"));
    QTRY_VERIFY_WITH_TIMEOUT(preview->htmlLoads() > 0, 30000);
    QTest::qWait(500); // the view's next frame
    TestSupport::saveScreenshot(m_page.get(), QStringLiteral("editor-sandbox-inbox"));
    m_page->tabs()->setCurrentIndex(0);
}

void TestTemplateEditor::sendTestThroughAProviderUrl()
{
    // A real SMTP server on loopback receives the test.
    SmtpTest::Peer peer;
    QVERIFY2(peer.startPython(QStringLiteral("aiosmtpd_server.py"),
                              {QStringLiteral("--tls"), QStringLiteral("none")}),
             qPrintable(peer.error()));
    QVERIFY(openAndWait(QStringLiteral("welcome")));
    QTRY_VERIFY_WITH_TIMEOUT(editor()->lastPreview().rendered, 5000);
    editor()->showSendTest();
    SendTestDialog *dialog = editor()->sendTestDialog();
    QVERIFY(dialog && dialog->isVisible());
    dialog->fromEdit()->setText(QStringLiteral("news@example.org"));
    dialog->toEdit()->setText(QStringLiteral("tester@example.org"));
    // No stored providers yet: the only choice is "Other (URL)…".
    QCOMPARE(dialog->providerBox()->count(), 1);
    dialog->selectUrl();
    QVERIFY(dialog->providerEdit()->isVisible());
    dialog->providerEdit()->setText(
            QStringLiteral("smtp://localhost:%1?timeout=5").arg(peer.port()));
    QSignalSpy finished(dialog, &SendTestDialog::finished);
    QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("sendTestButton")),
                      Qt::LeftButton);
    QVERIFY(finished.wait(30000));
    QVERIFY2(finished.first().at(0).toBool(), qPrintable(dialog->result()));
    QTRY_COMPARE_WITH_TIMEOUT(peer.messageCount(), 1, 10000);
    const QByteArray received = peer.message(1);
    QVERIFY(received.contains("Subject: [Test] Welcome"));
    QVERIFY(received.contains("To: tester@example.org"));
    TestSupport::saveScreenshot(dialog, QStringLiteral("editor-send-test"));
    // A bad provider URL is reported, not crashed on.
    dialog->providerEdit()->setText(QStringLiteral("carrier-pigeon://coop"));
    QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("sendTestButton")),
                      Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY(!finished.last().at(0).toBool());
    dialog->close();
}

namespace {
Providers::ProviderRecord storedProvider(const QString &name, const QString &type,
                                         const QString &url, int priority, bool enabled = true)
{
    Providers::ProviderRecord record;
    record.name = name;
    record.type = type;
    record.priority = priority;
    record.enabled = enabled;
    record.poolSize = 1;
    if (!url.isEmpty())
        record.options.insert(QStringLiteral("url"), url);
    return record;
}
} // namespace

void TestTemplateEditor::sendTestThroughAStoredSandboxProvider()
{
    auto connection = connect();
    QVERIFY(connection);
    Providers::ProviderRepository providers(*connection);
    auto box = providers.add(
            storedProvider(QStringLiteral("test-box"), QStringLiteral("sandbox"), QString(), 10));
    QVERIFY2(box, qPrintable(box ? QString() : box.error().toString()));
    auto off = providers.add(storedProvider(QStringLiteral("switched-off"),
                                            QStringLiteral("sandbox"), QString(), 5, false));
    QVERIFY(off);

    QVERIFY(openAndWait(QStringLiteral("welcome")));
    QTRY_VERIFY_WITH_TIMEOUT(editor()->lastPreview().rendered, 5000);
    editor()->showSendTest();
    SendTestDialog *dialog = editor()->sendTestDialog();
    QVERIFY(dialog && dialog->isVisible());
    // The combo lists the enabled stored providers (and "Other (URL)…"), never a disabled one.
    QTRY_VERIFY_WITH_TIMEOUT(dialog->selectProvider(QStringLiteral("test-box")), 10000);
    QVERIFY(!dialog->selectProvider(QStringLiteral("switched-off")));
    QCOMPARE(dialog->providerBox()->currentText(), QStringLiteral("test-box (sandbox)"));
    QVERIFY(!dialog->providerEdit()->isVisible());
    dialog->fromEdit()->setText(QStringLiteral("news@example.org"));
    dialog->toEdit()->setText(QStringLiteral("sandboxed@example.org"));

    QSignalSpy finished(dialog, &SendTestDialog::finished);
    QSignalSpy listed(m_page->sandboxInbox(), &SandboxInbox::listLoaded);
    QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("sendTestButton")),
                      Qt::LeftButton);
    QVERIFY(finished.wait(30000));
    QVERIFY2(finished.first().at(0).toBool(), qPrintable(dialog->result()));
    const QString messageId = finished.first().at(2).toString();
    QVERIFY(!messageId.isEmpty());
    QVERIFY2(dialog->result().contains(messageId), qPrintable(dialog->result()));
    TestSupport::saveScreenshot(dialog, QStringLiteral("editor-send-test-sandbox"));

    // Stored by the sandbox provider, and the sandbox inbox (refreshed by the send) lists it.
    auto stored = connection->exec(QStringLiteral(
                                           "SELECT subject, array_to_string(recipients, ',') FROM "
                                           "sandbox_messages WHERE message_id_header = $1"),
                                   {messageId});
    QVERIFY(stored);
    QCOMPARE(stored->rowCount(), 1);
    QVERIFY(stored->text(0, 0).startsWith(u"[Test] Welcome"));
    QCOMPARE(stored->text(0, 1), QStringLiteral("sandboxed@example.org"));
    QTRY_VERIFY_WITH_TIMEOUT(!listed.isEmpty(), 10000);
    dialog->close();
    m_page->tabs()->setCurrentWidget(m_page->sandboxInbox());
    QStandardItemModel *inbox = m_page->sandboxInbox()->model();
    QTRY_VERIFY_WITH_TIMEOUT(inbox->rowCount() > 0
                                     && inbox->index(0, 2).data().toString()
                                             == u"sandboxed@example.org",
                             10000);
    QVERIFY(inbox->index(0, 3).data().toString().startsWith(u"[Test] Welcome"));
    QSignalSpy shown(m_page->sandboxInbox(), &SandboxInbox::messageShown);
    m_page->sandboxInbox()->table()->selectRow(0);
    QVERIFY(shown.wait(10000));
    QVERIFY(m_page->sandboxInbox()->preview()->mime().contains(messageId));
    m_page->tabs()->setCurrentIndex(0);
    QVERIFY(providers.remove(QStringLiteral("switched-off")));
}

void TestTemplateEditor::sendTestThroughAStoredSmtpProvider()
{
    SmtpTest::Peer peer;
    QVERIFY2(peer.startPython(QStringLiteral("aiosmtpd_server.py"),
                              {QStringLiteral("--tls"), QStringLiteral("none")}),
             qPrintable(peer.error()));
    auto connection = connect();
    QVERIFY(connection);
    Providers::ProviderRepository providers(*connection);
    auto smtp = providers.add(
            storedProvider(QStringLiteral("loopback-smtp"), QStringLiteral("smtp"),
                           QStringLiteral("smtp://127.0.0.1:%1?timeout=5").arg(peer.port()), 20));
    QVERIFY2(smtp, qPrintable(smtp ? QString() : smtp.error().toString()));

    QVERIFY(openAndWait(QStringLiteral("welcome")));
    QTRY_VERIFY_WITH_TIMEOUT(editor()->lastPreview().rendered, 5000);
    editor()->showSendTest(); // lists the providers again
    SendTestDialog *dialog = editor()->sendTestDialog();
    QVERIFY(dialog && dialog->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(dialog->selectProvider(QStringLiteral("loopback-smtp")), 10000);
    dialog->fromEdit()->setText(QStringLiteral("news@example.org"));
    dialog->toEdit()->setText(QStringLiteral("smtp-tester@example.org"));
    QSignalSpy finished(dialog, &SendTestDialog::finished);
    QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("sendTestButton")),
                      Qt::LeftButton);
    QVERIFY(finished.wait(30000));
    QVERIFY2(finished.first().at(0).toBool(), qPrintable(dialog->result()));
    const QString messageId = finished.first().at(2).toString();
    QVERIFY(dialog->result().contains(messageId));
    QTRY_COMPARE_WITH_TIMEOUT(peer.messageCount(), 1, 10000);
    const QByteArray received = peer.message(1);
    QVERIFY(received.contains("Subject: [Test] Welcome"));
    QVERIFY(received.contains("To: smtp-tester@example.org"));
    QVERIFY(received.contains(messageId.toUtf8()));
    TestSupport::saveScreenshot(dialog, QStringLiteral("editor-send-test-smtp"));
    dialog->close();
}

QTEST_MAIN(TestTemplateEditor)
#include "tst_templateeditor.moc"
