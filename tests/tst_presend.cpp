#include "templates/engine.h"
#include "templates/linediff.h"
#include "templates/presendchecks.h"
#include "templates/preview.h"

#include <QTest>

using Templates::CheckFinding;
using Templates::PreSendChecks;

// The pre-send checks over rendered HTML, the bundled Can I Email data, the line diff behind the
// history view, and the preview builder the editor runs off the GUI thread.
class TestPreSend : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void links_data();
    void links();
    void imagesWithoutAlt();
    void sizeNearGmailClipping();
    void textPart();
    void unsubscribeForMarketing_data();
    void unsubscribeForMarketing();
    void missingVariables();
    void canIEmailDataIsBundled();
    void clientSupport_data();
    void clientSupport();
    void tagScanner();
    void lineDiff();
    void previewRendersAndChecks();
    void previewReportsParseErrorPosition();
    void previewReportsBadSampleData();
};

static QStringList codes(const QList<CheckFinding> &findings)
{
    QStringList out;
    for (const auto &f : findings)
        out.append(f.code);
    return out;
}

void TestPreSend::links_data()
{
    QTest::addColumn<QString>("html");
    QTest::addColumn<QString>("expected"); // code, or empty for none
    QTest::newRow("https") << "<a href=\"https://example.org/x?a=1\">x</a>"
                           << "";
    QTest::newRow("mailto") << "<a href='mailto:a@example.org'>x</a>"
                            << "";
    QTest::newRow("anchor") << "<a href=\"#top\">x</a>"
                            << "";
    QTest::newRow("javascript") << "<a href=\"javascript:alert(1)\">x</a>"
                                << "link-unsafe";
    QTest::newRow("javascript upper, spaced") << "<a href=\"  JavaScript:alert(1)\">x</a>"
                                              << "link-unsafe";
    QTest::newRow("javascript split by a newline") << "<a href=\"java\nscript:alert(1)\">x</a>"
                                                   << "link-unsafe";
    QTest::newRow("vbscript") << "<A HREF=vbscript:x>x</A>"
                              << "link-unsafe";
    QTest::newRow("data") << "<a href=\"data:text/html,hi\">x</a>"
                          << "link-unsafe";
    QTest::newRow("relative") << "<a href=\"/account\">x</a>"
                              << "link-malformed";
    QTest::newRow("no host") << "<a href=\"https://\">x</a>"
                             << "link-malformed";
    QTest::newRow("space") << "<a href=\"https://exa mple.org\">x</a>"
                           << "link-malformed";
    QTest::newRow("typo scheme") << "<a href=\"htps://example.org\">x</a>"
                                 << "link-malformed";
    QTest::newRow("empty") << "<a href=\"\">x</a>"
                           << "link-malformed";
    QTest::newRow("no href") << "<a name=\"top\">x</a>"
                             << "";
}

void TestPreSend::links()
{
    QFETCH(QString, html);
    QFETCH(QString, expected);
    const QStringList found = codes(PreSendChecks::links(html));
    QCOMPARE(found, expected.isEmpty() ? QStringList() : QStringList{expected});
}

void TestPreSend::imagesWithoutAlt()
{
    const QString html = QStringLiteral(
            "<img src=\"a.png\" alt=\"Logo\"><img src=\"spacer.gif\" alt=\"\">"
            "<IMG SRC=\"https://cdn.example.org/hero.jpg\"><!-- <img src=\"c.png\"> -->");
    const auto findings = PreSendChecks::images(html);
    QCOMPARE(findings.size(), 1);
    QCOMPARE(findings.first().code, QStringLiteral("image-no-alt"));
    QVERIFY(findings.first().message.contains(u"hero.jpg"));
}

void TestPreSend::sizeNearGmailClipping()
{
    const auto small = PreSendChecks::size(QStringLiteral("<p>hi</p>"));
    QCOMPARE(small.size(), 1);
    QCOMPARE(small.first().severity, CheckFinding::Severity::Info);
    const auto near = PreSendChecks::size(QString(95 * 1024, u'x'));
    QCOMPARE(near.first().code, QStringLiteral("html-size"));
    QCOMPARE(near.first().severity, CheckFinding::Severity::Warning);
    // Bytes count, not characters: 55 000 characters, 105 000 bytes of UTF-8.
    const auto multibyte = PreSendChecks::size(QString(50000, QChar(0xe9)) + QString(5000, u'x'));
    QCOMPARE(multibyte.first().code, QStringLiteral("html-clipped"));
    const auto clipped = PreSendChecks::size(QString(103 * 1024, u'x'));
    QCOMPARE(clipped.first().code, QStringLiteral("html-clipped"));
    QCOMPARE(clipped.first().severity, CheckFinding::Severity::Error);
}

void TestPreSend::textPart()
{
    QCOMPARE(codes(PreSendChecks::textPart(QStringLiteral("<p>x</p>"), QStringLiteral("x"), false)),
             QStringList{QStringLiteral("no-text-part")});
    QVERIFY(PreSendChecks::textPart(QStringLiteral("<p>x</p>"), QStringLiteral("x"), true).isEmpty());
    QCOMPARE(codes(PreSendChecks::textPart(QString(), QStringLiteral("  "), true)),
             QStringList{QStringLiteral("no-text-part")});
}

void TestPreSend::unsubscribeForMarketing_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("html");
    QTest::addColumn<bool>("flagged");
    const QString none = QStringLiteral(
            "<p>Sale!</p><a href=\"https://shop.example.org\">Shop</a>");
    QTest::newRow("marketing without") << "marketing" << none << true;
    QTest::newRow("transactional without") << "transactional" << none << false;
    QTest::newRow("by address") << "marketing"
                                << "<a href=\"https://example.org/unsubscribe?u=1\">Leave</a>"
                                << false;
    QTest::newRow("by text") << "marketing"
                             << "<a href=\"https://example.org/u/1\"><b>Unsubscribe</b></a>"
                             << false;
    QTest::newRow("text outside a link") << "marketing"
                                         << "<p>To unsubscribe, reply.</p>" << true;
}

void TestPreSend::unsubscribeForMarketing()
{
    QFETCH(QString, kind);
    QFETCH(QString, html);
    QFETCH(bool, flagged);
    QCOMPARE(codes(PreSendChecks::unsubscribe(kind, html)).contains(u"no-unsubscribe"), flagged);
}

void TestPreSend::missingVariables()
{
    const auto findings = PreSendChecks::missingVariables({QStringLiteral("first_name")});
    QCOMPARE(findings.size(), 1);
    QCOMPARE(findings.first().code, QStringLiteral("missing-variable"));
    QVERIFY(findings.first().message.contains(u"{{first_name}}"));
}

void TestPreSend::canIEmailDataIsBundled()
{
    const auto &data = Templates::CanIEmail::bundled();
    QVERIFY(data.isValid());
    QVERIFY(data.package().startsWith(u"caniemail@"));
    QCOMPARE(data.clients().size(), 4);
    QCOMPARE(data.clients().at(1).label, QStringLiteral("Outlook (Windows)"));
    QVERIFY(data.features().size() > 50);
    for (const auto &feature : data.features()) {
        QVERIFY2(!feature.names.isEmpty(), qPrintable(feature.slug));
        QCOMPARE(feature.support.size(), 4);
        QVERIFY(feature.url.startsWith(u"https://www.caniemail.com/"));
    }
}

void TestPreSend::clientSupport_data()
{
    QTest::addColumn<QString>("html");
    QTest::addColumn<QString>("needle"); // in the finding's message; empty: no finding
    QTest::newRow("flex inline") << "<div style=\"display: flex\">x</div>"
                                 << "display: flex";
    QTest::newRow("grid sheet") << "<style>.a{display:grid;grid-template-columns:1fr 1fr}</style>"
                                << "display: grid";
    QTest::newRow("box-shadow") << "<td style=\"box-shadow:0 0 2px #000\">"
                                << "box-shadow";
    QTest::newRow("not the longer name") << "<td style=\"backdrop-filter-x:1\">"
                                         << "";
    QTest::newRow("video") << "<video src=\"a.mp4\"></video>"
                           << "<video>";
    QTest::newRow("form") << "<form action=\"https://x\"><input name=q></form>"
                          << "<form>";
    QTest::newRow("svg image") << "<img alt=\"\" src=\"https://x.example/logo.svg?v=2\">"
                               << ".svg image";
    QTest::newRow("css variables") << "<style>p{color:var(--brand)}</style>"
                                   << "var()";
    QTest::newRow("property named in text is not css") << "<p>position: absolute is fun</p>"
                                                       << "";
    QTest::newRow("plain table") << "<table><tr><td style=\"color:#333\">x</td></tr></table>"
                                 << "";
}

void TestPreSend::clientSupport()
{
    QFETCH(QString, html);
    QFETCH(QString, needle);
    const auto findings = PreSendChecks::clientSupport(html);
    if (needle.isEmpty()) {
        QVERIFY2(findings.isEmpty(),
                 qPrintable(findings.isEmpty() ? QString() : findings.first().message));
        return;
    }
    bool found = false;
    for (const auto &f : findings) {
        QCOMPARE(f.code, QStringLiteral("client-support"));
        if (f.message.contains(needle))
            found = true;
    }
    QVERIFY2(found, qPrintable(needle));
}

void TestPreSend::tagScanner()
{
    const auto tags = Templates::scanHtmlTags(
            QStringLiteral("<!doctype html><P CLASS=a data-x='1 > 2'>t</P><style>a>b{}</style><br/>"
                           "<a href=\"x&amp;y\" hidden>"));
    QStringList names;
    for (const auto &t : tags)
        names.append(t.name);
    QCOMPARE(names,
             (QStringList{QStringLiteral("p"), QStringLiteral("style"), QStringLiteral("br"),
                          QStringLiteral("a")}));
    QCOMPARE(tags.at(0).attribute(QStringLiteral("data-x")), QStringLiteral("1 > 2"));
    QCOMPARE(tags.at(3).attribute(QStringLiteral("href")), QStringLiteral("x&y"));
    QVERIFY(tags.at(3).hasAttribute(QStringLiteral("hidden")));
}

void TestPreSend::lineDiff()
{
    using Kind = Templates::LineDiff::Kind;
    const auto rows = Templates::LineDiff::compute(QStringLiteral("a\nb\nc\nd"),
                                                   QStringLiteral("a\nB\nc\nd\ne"));
    QCOMPARE(rows.size(), 5);
    QCOMPARE(rows.at(0).kind, Kind::Same);
    QCOMPARE(rows.at(1).kind, Kind::Changed);
    QCOMPARE(rows.at(1).left, QStringLiteral("b"));
    QCOMPARE(rows.at(1).right, QStringLiteral("B"));
    QCOMPARE(rows.at(4).kind, Kind::Added);
    QCOMPARE(rows.at(4).rightLine, 4);
    QCOMPARE(Templates::LineDiff::changes(rows), 2);
    const auto removed = Templates::LineDiff::compute(QStringLiteral("x\ny\nz"),
                                                      QStringLiteral("x\nz"));
    QCOMPARE(Templates::LineDiff::changes(removed), 1);
    QCOMPARE(removed.at(1).kind, Kind::Removed);
    QCOMPARE(Templates::LineDiff::changes(
                     Templates::LineDiff::compute(QStringLiteral("same"), QStringLiteral("same"))),
             0);
}

void TestPreSend::previewRendersAndChecks()
{
    Templates::Engine engine;
    Templates::Preview::Request request;
    request.generation = 7;
    request.kind = QStringLiteral("marketing");
    request.subject = QStringLiteral("Hi {{name}} &amp; co");
    request.html = QStringLiteral("<p>Hello {{name}}, {{city}}</p><img src=\"x.png\">");
    request.sampleJson = R"({"name": "Ada", "email": "ada@example.org"})";
    const auto result = Templates::Preview::build(engine, request);
    QCOMPARE(result.generation, quint64(7));
    QVERIFY(result.rendered);
    QCOMPARE(result.subject, QStringLiteral("Hi Ada & co"));
    QCOMPARE(result.html, QStringLiteral("<p>Hello Ada, </p><img src=\"x.png\">"));
    QVERIFY(result.text.contains(u"Hello Ada"));
    QVERIFY(result.mime.contains("To: ada@example.org"));
    QVERIFY(result.mime.contains("multipart/alternative"));
    QCOMPARE(result.missing, QStringList{QStringLiteral("city")});
    const QStringList found = codes(result.findings);
    for (const char *code :
         {"missing-variable", "image-no-alt", "no-text-part", "no-unsubscribe", "html-size"})
        QVERIFY2(found.contains(QString::fromLatin1(code)), code);
}

void TestPreSend::previewReportsParseErrorPosition()
{
    Templates::Engine engine;
    Templates::Preview::Request request;
    request.subject = QStringLiteral("ok");
    request.html = QStringLiteral("<p>line one</p>\n<p>{{#if x}}unclosed</p>\n");
    const auto result = Templates::Preview::build(engine, request);
    QVERIFY(!result.rendered);
    QCOMPARE(result.problems.size(), 1);
    QCOMPARE(result.problems.first().part, QStringLiteral("html"));
    QVERIFY2(result.problems.first().line >= 2, qPrintable(result.problems.first().message));
    QVERIFY(result.problems.first().column > 0);

    request.html = QStringLiteral("<p>\n  {{name}</p>");
    const auto lexError = Templates::Preview::build(engine, request);
    QCOMPARE(lexError.problems.size(), 1);
    QCOMPARE(lexError.problems.first().line, 2);
    QCOMPARE(Templates::Preview::position(QStringLiteral("at line 12, column 3: x")),
             std::make_pair(12, 3));
}

void TestPreSend::previewReportsBadSampleData()
{
    Templates::Engine engine;
    Templates::Preview::Request request;
    request.subject = QStringLiteral("ok");
    request.html = QStringLiteral("<p>{{name}}</p>");
    request.sampleJson = "{\"name\": }";
    const auto result = Templates::Preview::build(engine, request);
    QCOMPARE(result.problems.size(), 1);
    QCOMPARE(result.problems.first().part, QStringLiteral("data"));
    QVERIFY(result.rendered); // rendered with empty data
}

QTEST_GUILESS_MAIN(TestPreSend)
#include "tst_presend.moc"
