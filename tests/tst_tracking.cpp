// Tracking tokens, link rewriting and the List-Unsubscribe headers (pure functions).
#include "tracking/tracking.h"

#include <QRegularExpression>
#include <QTest>

using namespace Tracking;

namespace {
const QByteArray key = QByteArray(32, 'k');
const QString base = QStringLiteral("https://t.example.org");

QStringList hrefs(const QString &html)
{
    static const QRegularExpression re(QStringLiteral("href=\"([^\"]*)\""),
                                       QRegularExpression::CaseInsensitiveOption);
    QStringList out;
    auto it = re.globalMatch(html);
    while (it.hasNext())
        out.append(it.next().captured(1));
    return out;
}
} // namespace

class TestTracking : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tokensRoundTrip()
    {
        const QString target = QStringLiteral("https://example.org/a?b=1&c=%C3%A9#frag");
        auto click = readToken(makeToken(TokenKind::Click, 42, target, key), key);
        QVERIFY(click);
        QCOMPARE(click->kind, TokenKind::Click);
        QCOMPARE(click->messageId, 42);
        QCOMPARE(click->url, target);
        auto open = readToken(makeToken(TokenKind::Open, 7, {}, key), key);
        QVERIFY(open);
        QCOMPARE(open->kind, TokenKind::Open);
        QCOMPARE(open->messageId, 7);
        auto unsub = readToken(makeToken(TokenKind::Unsubscribe, 9, {}, key), key);
        QVERIFY(unsub);
        QCOMPARE(unsub->kind, TokenKind::Unsubscribe);
        // URL-safe: fits in one path segment.
        const QString token = makeToken(TokenKind::Click, 42, target, key);
        QVERIFY(!token.contains(u'/') && !token.contains(u'+') && !token.contains(u'='));
    }

    void forgedTokens()
    {
        const QString token = makeToken(TokenKind::Click, 42,
                                        QStringLiteral("https://example.org/"), key);
        // Another key, a changed payload (other target or message), a changed MAC, garbage.
        QVERIFY(!readToken(token, QByteArray(32, 'x')));
        const qsizetype dot = token.indexOf(u'.');
        const QByteArray evil = QByteArray("c42|https://evil.example/")
                                        .toBase64(QByteArray::Base64UrlEncoding
                                                  | QByteArray::OmitTrailingEquals);
        QVERIFY(!readToken(QString::fromLatin1(evil) + token.mid(dot), key));
        QString flipped = token;
        flipped[flipped.size() - 2] = flipped.at(flipped.size() - 2) == u'A' ? u'B' : u'A';
        QVERIFY(!readToken(flipped, key));
        QVERIFY(!readToken(QStringLiteral("nonsense"), key));
        QVERIFY(!readToken(QString(), key));
        QVERIFY(!readToken(token, QByteArray()));
        QCOMPARE(readToken(QStringLiteral("a.b"), key).error().code,
                 QStringLiteral("tracking.bad_token"));
    }

    void rewriteHtml_data()
    {
        QTest::addColumn<QString>("html");
        QTest::addColumn<QStringList>("targets"); // what each href must lead to, in order
        QTest::addColumn<QList<bool>>("tracked");
        QTest::newRow("mixed links")
                << QStringLiteral(
                           "<html><body><p><a href=\"https://example.org/x?a=1&amp;b=2\">x</a> "
                           "<A HREF='http://example.org/y'>y</A> "
                           "<a href=\"mailto:a@example.org\">m</a> <a href=\"tel:+123\">t</a> "
                           "<a href=\"#top\">top</a> <a href=\"/relative\">r</a> "
                           "<a data-notrack href=\"https://example.org/private\">p</a> "
                           "<a href=\"https://t.example.org/u/TOKEN\">unsubscribe</a> "
                           "<a name=\"anchor\">n</a></p></body></html>")
                << QStringList{QStringLiteral("https://example.org/x?a=1&b=2"),
                               QStringLiteral("http://example.org/y"),
                               QStringLiteral("mailto:a@example.org"),
                               QStringLiteral("tel:+123"),
                               QStringLiteral("#top"),
                               QStringLiteral("/relative"),
                               QStringLiteral("https://example.org/private"),
                               QStringLiteral("https://t.example.org/u/TOKEN")}
                << QList<bool>{true, true, false, false, false, false, false, false};
        QTest::newRow("unquoted href")
                << QStringLiteral("<a href=https://example.org/z>z</a>")
                << QStringList{QStringLiteral("https://example.org/z")} << QList<bool>{true};
    }

    void rewriteHtml()
    {
        QFETCH(QString, html);
        QFETCH(QStringList, targets);
        QFETCH(QList<bool>, tracked);
        const QString out = Tracking::rewriteHtml(html, 1234, base, key);
        QStringList found = hrefs(out);
        QCOMPARE(found.size(), targets.size());
        for (int i = 0; i < targets.size(); ++i) {
            if (tracked.at(i)) {
                QVERIFY2(found.at(i).startsWith(base + QStringLiteral("/t/c/")),
                         qPrintable(found.at(i)));
                auto data = readToken(found.at(i).mid(base.size() + 5), key);
                QVERIFY(data);
                QCOMPARE(data->url, targets.at(i));
                QCOMPARE(data->messageId, 1234);
            } else {
                QVERIFY2(out.contains(targets.at(i)), qPrintable(targets.at(i)));
            }
        }
        // Exactly one open pixel, before </body> when there is one.
        QCOMPARE(out.count(base + QStringLiteral("/t/o/")), 1);
        if (html.contains(QLatin1String("</body>")))
            QVERIFY(out.indexOf(QLatin1String("/t/o/")) < out.indexOf(QLatin1String("</body>")));
        // Everything else is unchanged.
        if (html.contains(QLatin1String("unsubscribe")))
            QVERIFY(out.contains(QLatin1String(">unsubscribe</a>")));
    }

    void unsubscribeHeaders()
    {
        const UnsubscribeHeaders h = Tracking::unsubscribeHeaders(55, base + u'/', key,
                                                                  QStringLiteral(
                                                                          "unsub@example.org"));
        QVERIFY(h.listUnsubscribe.startsWith("<https://t.example.org/u/"));
        QVERIFY(h.listUnsubscribe.endsWith(">, <mailto:unsub@example.org>"));
        QCOMPARE(h.listUnsubscribePost, QByteArray("List-Unsubscribe=One-Click"));
        const QByteArray url = h.listUnsubscribe.mid(1, h.listUnsubscribe.indexOf('>') - 1);
        auto data = readToken(QString::fromLatin1(url.mid(url.lastIndexOf('/') + 1)), key);
        QVERIFY(data);
        QCOMPARE(data->kind, TokenKind::Unsubscribe);
        QCOMPARE(data->messageId, 55);
    }

    void keys()
    {
        const QByteArray a = generateKey();
        QCOMPARE(a.size(), 32);
        QVERIFY(a != generateKey());
    }
};

QTEST_GUILESS_MAIN(TestTracking)
#include "tst_tracking.moc"
