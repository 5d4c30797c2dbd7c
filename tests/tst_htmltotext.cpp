// The text part generated from an HTML body: structure kept, markup dropped, lines wrapped at 78.
#include "templates/htmltotext.h"

#include <QTest>

using Templates::HtmlToText;

class TestHtmlToText : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void convert_data();
    void convert();
    void wrapsAt78();
    void entities();
};

void TestHtmlToText::convert_data()
{
    QTest::addColumn<QString>("html");
    QTest::addColumn<QString>("text");
    QTest::newRow("paragraphs") << QStringLiteral("<p>One\n   two</p><p>Three</p>")
                                << QStringLiteral("One two\n\nThree\n");
    QTest::newRow("headings") << QStringLiteral(
            "<h1>Order shipped</h1><h2>Details</h2><p>Soon.</p>")
                              << QStringLiteral("ORDER SHIPPED\n\nDetails\n\nSoon.\n");
    QTest::newRow("line breaks") << QStringLiteral("<p>a<br>b<br/>c</p>")
                                 << QStringLiteral("a\nb\nc\n");
    QTest::newRow("unordered list") << QStringLiteral("<ul><li>Tea</li><li>Milk</li></ul>")
                                    << QStringLiteral("* Tea\n* Milk\n");
    QTest::newRow("ordered list") << QStringLiteral(
            "<p>Steps:</p><ol><li>Open</li><li>Close</li></ol>")
                                  << QStringLiteral("Steps:\n\n1. Open\n2. Close\n");
    QTest::newRow("nested list") << QStringLiteral("<ul><li>A<ul><li>B</li></ul></li></ul>")
                                 << QStringLiteral("* A\n  * B\n");
    QTest::newRow("table") << QStringLiteral("<table><tr><th>Item</th><th>Qty</th></tr>"
                                             "<tr><td>Mug</td><td>2</td></tr></table>")
                           << QStringLiteral("Item Qty\nMug 2\n");
    QTest::newRow("link") << QStringLiteral(
            "<p>Read <a href=\"https://x.test/a?b=1&amp;c=2\">the guide</a>.</p>")
                          << QStringLiteral("Read the guide (https://x.test/a?b=1&c=2).\n");
    QTest::newRow("link is its url")
            << QStringLiteral("<a href=\"https://x.test\">https://x.test</a>")
            << QStringLiteral("https://x.test\n");
    QTest::newRow("mailto") << QStringLiteral("<a href=\"mailto:help@x.test\">help@x.test</a>")
                            << QStringLiteral("help@x.test\n");
    QTest::newRow("image") << QStringLiteral(
            "<p><img src=\"logo.png\" alt=\"Fjord &amp; Fern\"> news</p>")
                           << QStringLiteral("Fjord & Fern news\n");
    QTest::newRow("dropped") << QStringLiteral(
            "<html><head><title>T</title><style>p{color:red}</style>"
            "</head><body><script>alert(1)</script><p>Body</p>"
            "<!-- comment --></body></html>")
                             << QStringLiteral("Body\n");
    QTest::newRow("hr") << QStringLiteral("<p>a</p><hr><p>b</p>")
                        << QStringLiteral("a\n\n----------------------------------------\n\nb\n");
}

void TestHtmlToText::convert()
{
    QFETCH(QString, html);
    QFETCH(QString, text);
    QCOMPARE(HtmlToText::convert(html), text);
}

void TestHtmlToText::wrapsAt78()
{
    const QString words = QStringLiteral("lorem ipsum dolor sit amet ").repeated(20);
    const QString text = HtmlToText::convert(QStringLiteral("<p>") + words + QStringLiteral("</p>"));
    const QStringList lines = text.split(u'\n', Qt::SkipEmptyParts);
    QVERIFY(lines.size() > 5);
    for (const QString &line : lines)
        QVERIFY2(line.size() <= 78, qPrintable(line));
    QCOMPARE(lines.join(u' '), words.trimmed());
    // A word longer than the line stays whole.
    const QString url = QStringLiteral("https://example.com/") + QString(100, u'x');
    QCOMPARE(HtmlToText::convert(QStringLiteral("<p>see ") + url + QStringLiteral("</p>")),
             QStringLiteral("see\n") + url + u'\n');
}

void TestHtmlToText::entities()
{
    QCOMPARE(HtmlToText::decodeEntities(u"&lt;&gt;&amp;&quot;&#39;&#x20AC;&euro;&nbsp;&bogus;&"),
             QStringLiteral("<>&\"'\u20AC\u20AC\u00A0&bogus;&"));
    QCOMPARE(HtmlToText::convert(QStringLiteral("<p>Caf&eacute;&nbsp;&mdash; 5&#160;&euro;</p>")),
             QStringLiteral("Caf\u00E9 \u2014 5 \u20AC\n"));
}

QTEST_GUILESS_MAIN(TestHtmlToText)
#include "tst_htmltotext.moc"
