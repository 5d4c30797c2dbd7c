// The byte-level encoders of core/mime: exact output for known cases, and for generated input the
// limits of RFC 2045, RFC 2047, RFC 2231 and RFC 5322 and a lossless round trip through decoders
// written here from the RFCs.

#include "mime/encoders.h"

#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStringDecoder>
#include <QTest>

#include <cctype>

using namespace Mime;

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

// RFC 2045 section 6.7 decoding; hard line breaks come out as CRLF.
QByteArray decodeQuotedPrintable(const QByteArray &encoded)
{
    QByteArray out;
    const QList<QByteArray> lines = encoded.split('\n');
    for (qsizetype l = 0; l < lines.size(); ++l) {
        QByteArray line = lines.at(l);
        if (line.endsWith('\r'))
            line.chop(1);
        bool soft = false;
        for (qsizetype i = 0; i < line.size(); ++i) {
            const char c = line.at(i);
            if (c == '=' && i + 1 == line.size()) {
                soft = true;
            } else if (c == '=' && i + 2 < line.size() + 1) {
                out.append(char(hexValue(line.at(i + 1)) * 16 + hexValue(line.at(i + 2))));
                i += 2;
            } else {
                out.append(c);
            }
        }
        if (!soft && l + 1 < lines.size())
            out.append("\r\n");
    }
    return out;
}

// One RFC 2047 encoded-word to its octets; empty and false when malformed.
QByteArray decodeWord(const QByteArray &word, bool *ok)
{
    static const QRegularExpression pattern(QStringLiteral("^=\\?utf-8\\?([bq])\\?([^?]*)\\?=$"));
    const QRegularExpressionMatch match = pattern.match(QString::fromLatin1(word));
    *ok = match.hasMatch();
    if (!*ok)
        return {};
    const QByteArray text = match.captured(2).toLatin1();
    if (match.captured(1) == u"b")
        return QByteArray::fromBase64(text);
    QByteArray out;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text.at(i) == '_') {
            out.append(' ');
        } else if (text.at(i) == '=') {
            out.append(char(hexValue(text.at(i + 1)) * 16 + hexValue(text.at(i + 2))));
            i += 2;
        } else {
            out.append(text.at(i));
        }
    }
    return out;
}

bool isValidUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8);
    const QString text = decoder.decode(bytes);
    Q_UNUSED(text);
    return !decoder.hasError();
}

QByteArray percentDecode(const QByteArray &text)
{
    return QByteArray::fromPercentEncoding(text);
}

} // namespace

class TestMimeEncoders : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void quotedPrintable_data();
    void quotedPrintable();
    void quotedPrintableLimits_data();
    void quotedPrintableLimits();
    void base64Lines_data();
    void base64Lines();
    void encodedWords_data();
    void encodedWords();
    void unstructuredValue_data();
    void unstructuredValue();
    void phrase_data();
    void phrase();
    void parameter_data();
    void parameter();
    void folding_data();
    void folding();
    void foldingRefusesOverlongLines();
    void lineBreakDetection_data();
    void lineBreakDetection();
};

void TestMimeEncoders::quotedPrintable_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("empty") << QByteArray() << QByteArray();
    QTest::newRow("plain") << QByteArray("Hello") << QByteArray("Hello\r\n");
    QTest::newRow("equals sign") << QByteArray("a=b") << QByteArray("a=3Db\r\n");
    QTest::newRow("LF becomes CRLF") << QByteArray("a\nb\n") << QByteArray("a\r\nb\r\n");
    QTest::newRow("lone CR becomes CRLF") << QByteArray("a\rb") << QByteArray("a\r\nb\r\n");
    QTest::newRow("CRLF stays") << QByteArray("a\r\nb") << QByteArray("a\r\nb\r\n");
    QTest::newRow("trailing space") << QByteArray("a \nb ") << QByteArray("a=20\r\nb=20\r\n");
    QTest::newRow("trailing tab") << QByteArray("a\t") << QByteArray("a=09\r\n");
    QTest::newRow("inner whitespace") << QByteArray("a b\tc") << QByteArray("a b\tc\r\n");
    QTest::newRow("utf-8") << QByteArray("caf\xc3\xa9") << QByteArray("caf=C3=A9\r\n");
    QTest::newRow("From at line start")
            << QByteArray("From me\nFrom you") << QByteArray("=46rom me\r\n=46rom you\r\n");
    QTest::newRow("From elsewhere") << QByteArray("x From me") << QByteArray("x From me\r\n");
    QTest::newRow("control characters") << QByteArray("a\x01\x7f", 3) << QByteArray("a=01=7F\r\n");
    QTest::newRow("NUL") << QByteArray("a\0b", 3) << QByteArray("a=00b\r\n");
    QTest::newRow("76 characters wrap")
            << QByteArray(76, 'x') << QByteArray(75, 'x') + "=\r\nx\r\n";
    QTest::newRow("encoded triplet is not split")
            << QByteArray(74, 'x') + "=" << QByteArray(74, 'x') + "=\r\n=3D\r\n";
}

void TestMimeEncoders::quotedPrintable()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    QCOMPARE(Encoders::quotedPrintable(input), expected);
}

void TestMimeEncoders::quotedPrintableLimits_data()
{
    QTest::addColumn<QByteArray>("input");

    QTest::newRow("long ASCII line") << QByteArray(1000, 'a');
    QTest::newRow("long UTF-8 line") << QString(300, QChar(0x00E9)).toUtf8();
    QTest::newRow("spaces at every wrap")
            << QByteArray("word ").repeated(200) + "\nend of line   \n";
    QByteArray random(5000, Qt::Uninitialized);
    QRandomGenerator generator(42);
    for (char &c : random)
        c = char(generator.bounded(256));
    QTest::newRow("random octets") << random;
    // The encoder writes into room for its worst cases: every octet encoded, every octet a line
    // break.
    QTest::newRow("every octet encoded") << QByteArray(3000, '\xff');
    QTest::newRow("every octet a line break") << QByteArray(3000, '\n');
    QTest::newRow("lone CRs") << QByteArray(3000, '\r');
}

void TestMimeEncoders::quotedPrintableLimits()
{
    QFETCH(QByteArray, input);
    const QByteArray encoded = Encoders::quotedPrintable(input);
    QVERIFY(encoded.endsWith("\r\n"));
    for (const QByteArray &line : encoded.split('\n')) {
        QVERIFY2(line.size() <= 77, line.constData()); // 76 + the CR of CRLF
        if (line.size() > 1 && line.endsWith('\r')) {
            const char last = line.at(line.size() - 2);
            QVERIFY2(last != ' ' && last != '\t', "whitespace before a line break is encoded");
        }
        for (const char c : line)
            QVERIFY(c == '\r' || c == '\t' || (c >= 32 && c <= 126));
    }
    QByteArray normalized = input;
    normalized.replace("\r\n", "\n").replace('\r', '\n').replace("\n", "\r\n");
    QByteArray decoded = decodeQuotedPrintable(encoded);
    if (!normalized.endsWith("\r\n"))
        decoded.chop(2); // the encoder closes the last line
    QCOMPARE(decoded, normalized);
}

void TestMimeEncoders::base64Lines_data()
{
    QTest::addColumn<int>("size");
    for (const int size : {0, 1, 2, 3, 56, 57, 58, 114, 1000, 100000})
        QTest::addRow("%d octets", size) << size;
}

void TestMimeEncoders::base64Lines()
{
    QFETCH(int, size);
    QByteArray data(size, Qt::Uninitialized);
    QRandomGenerator generator(size);
    for (char &c : data)
        c = char(generator.bounded(256));
    const QByteArray encoded = Encoders::base64Lines(data);
    if (size == 0) {
        QVERIFY(encoded.isEmpty());
        return;
    }
    QVERIFY(encoded.endsWith("\r\n"));
    QList<QByteArray> lines = encoded.split('\n');
    QVERIFY(lines.takeLast().isEmpty());
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QVERIFY(lines.at(i).endsWith('\r'));
        const qsizetype length = lines.at(i).size() - 1;
        if (i + 1 < lines.size())
            QCOMPARE(length, 76);
        else
            QVERIFY(length <= 76);
    }
    QCOMPARE(QByteArray(encoded).replace("\r\n", ""), data.toBase64());
}

void TestMimeEncoders::encodedWords_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("firstWordRoom");
    QTest::addColumn<QString>("encoding"); // "q", "b" or "" for any

    QTest::newRow("latin") << QStringLiteral("Grüße aus dem schönen Köln am Rhein") << 75
                           << QStringLiteral("q");
    QTest::newRow("cyrillic") << QStringLiteral("Привет, мир! Это тестовое письмо с длинной темой")
                              << 66 << QStringLiteral("b");
    QTest::newRow("cjk long") << QStringLiteral("日本語のテキスト").repeated(12) << 60
                              << QStringLiteral("b");
    QTest::newRow("emoji") << QStringLiteral("Launch 🚀🚀🚀 party 🎉 tonight 🎉🎉").repeated(4) << 10
                           << QString();
    QTest::newRow("combining marks") << QStringLiteral("e\u0301").repeated(60) << 20 << QString();
    QTest::newRow("specials") << QStringLiteral("a=b?c_d \"q\" (x) <y> é") << 75 << QString();
    QTest::newRow("specials in Q")
            << QStringLiteral("Price=10? yes_no (ok) é") << 75 << QStringLiteral("q");
    QTest::newRow("tiny room") << QStringLiteral("ü") << 1 << QString();
}

void TestMimeEncoders::encodedWords()
{
    QFETCH(QString, text);
    QFETCH(int, firstWordRoom);
    QFETCH(QString, encoding);

    const QByteArray encoded = Encoders::encodedWords(text, firstWordRoom);
    const QList<QByteArray> words = encoded.split(' ');
    QByteArray joined;
    for (qsizetype i = 0; i < words.size(); ++i) {
        const QByteArray &word = words.at(i);
        QVERIFY2(word.size() <= 75, word.constData()); // RFC 2047 section 2
        if (i == 0 && firstWordRoom >= 20)
            QVERIFY2(word.size() <= firstWordRoom, word.constData());
        if (!encoding.isEmpty())
            QVERIFY(word.startsWith(QByteArray("=?utf-8?" + encoding.toLatin1() + '?')));
        // Q words hold only characters allowed in a phrase (section 5 rule 3).
        if (word.startsWith("=?utf-8?q?")) {
            for (const char c : word.mid(10, word.size() - 12))
                QVERIFY2(QByteArrayView("!*+-/=_").contains(c) || std::isalnum(uchar(c)), word);
        }
        bool ok;
        const QByteArray octets = decodeWord(word, &ok);
        QVERIFY2(ok, word.constData());
        // Whole characters only: each word is valid UTF-8 on its own (section 5 rule 3).
        QVERIFY2(isValidUtf8(octets), word.constData());
        // A full word ends before a space of the text when it holds one, so words of the text
        // are not cut in two.
        if (i > 0 && text.contains(u' ') && words.at(i - 1).size() > 40
            && QString::fromUtf8(octets).size() > 1 && !joined.isEmpty()) {
            const QString previous = QString::fromUtf8(decodeWord(words.at(i - 1), &ok));
            if (previous.contains(u' ') || previous.size() > 1)
                QVERIFY2(octets.startsWith(' ') || !previous.contains(u' '), word.constData());
        }
        joined += octets;
    }
    QCOMPARE(QString::fromUtf8(joined), text);
}

void TestMimeEncoders::unstructuredValue_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("plain");

    QTest::newRow("ascii") << QStringLiteral("Your order has shipped") << true;
    QTest::newRow("looks encoded") << QStringLiteral("=?utf-8?q?x?=") << false;
    QTest::newRow("non-ascii") << QStringLiteral("Ihre Bestellung über 20 €") << false;
    QTest::newRow("control character") << QStringLiteral("a\x01z") << false;
    QTest::newRow("unbreakable word") << QString(1200, u'x') << false;
    QTest::newRow("long but breakable") << QStringLiteral("word ").repeated(300) << true;
}

void TestMimeEncoders::unstructuredValue()
{
    QFETCH(QString, value);
    QFETCH(bool, plain);
    const QByteArray encoded = Encoders::unstructuredValue(value, 7);
    QCOMPARE(encoded == value.toLatin1(), plain);
    QByteArray header;
    QVERIFY(Encoders::appendFolded(header, QByteArray("Subject: " + encoded), false));
    for (const QByteArray &line : header.split('\n'))
        QVERIFY2(line.size() <= (plain ? 999 : 77), line.constData());
}

void TestMimeEncoders::phrase_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("atoms") << QStringLiteral("Jane Doe") << QByteArray("Jane Doe");
    QTest::newRow("comma") << QStringLiteral("Doe, Jane") << QByteArray("\"Doe, Jane\"");
    QTest::newRow("quotes and backslash")
            << QStringLiteral("Jane \"JD\" D\\oe") << QByteArray("\"Jane \\\"JD\\\" D\\\\oe\"");
    QTest::newRow("dot") << QStringLiteral("J. Doe") << QByteArray("\"J. Doe\"");
    QTest::newRow("double space") << QStringLiteral("Jane  Doe") << QByteArray("\"Jane  Doe\"");
    QTest::newRow("looks encoded")
            << QStringLiteral("=?utf-8?q?x?=") << QByteArray("\"=?utf-8?q?x?=\"");
    QTest::newRow("non-ascii") << QStringLiteral("Jürgen Müller")
                               << QByteArray("=?utf-8?q?J=C3=BCrgen_M=C3=BCller?=");
    QTest::newRow("atoms kept beside encoded words")
            << QStringLiteral("Jörg Schmidt von Müller-Lüdenscheidt GmbH")
            << QByteArray("=?utf-8?q?J=C3=B6rg?= Schmidt von "
                          "=?utf-8?q?M=C3=BCller-L=C3=BCdenscheidt?= "
                          "GmbH");
    QTest::newRow("run with specials")
            << QStringLiteral("Müller, Jörg") << QByteArray("=?utf-8?q?M=C3=BCller=2C_J=C3=B6rg?=");
    QTest::newRow("empty") << QString() << QByteArray();
}

void TestMimeEncoders::phrase()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, expected);
    QCOMPARE(Encoders::phrase(name), expected);
}

void TestMimeEncoders::parameter_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QByteArray>("expected"); // empty: check the continuation form instead

    QTest::newRow("ascii") << QStringLiteral("report.pdf") << QByteArray("filename=\"report.pdf\"");
    QTest::newRow("ascii with quote")
            << QStringLiteral("a \"b\".txt") << QByteArray("filename=\"a \\\"b\\\".txt\"");
    QTest::newRow("non-ascii") << QStringLiteral("naïve résumé.pdf")
                               << QByteArray("filename*=utf-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf");
    QTest::newRow("long non-ascii") << QStringLiteral("Übersicht der Quartalszahlen für das "
                                                      "Geschäftsjahr 2026 – endgültig.xlsx")
                                    << QByteArray();
    QTest::newRow("long ascii") << QStringLiteral("a").repeated(150) + QStringLiteral(".txt")
                                << QByteArray();
    QTest::newRow("cjk") << QStringLiteral("請求書").repeated(10) + QStringLiteral(".pdf")
                         << QByteArray();
}

void TestMimeEncoders::parameter()
{
    QFETCH(QString, value);
    QFETCH(QByteArray, expected);
    const QByteArray encoded = Encoders::parameter("filename", value);
    if (!expected.isEmpty()) {
        QCOMPARE(encoded, expected);
        return;
    }
    // RFC 2231 sections 3 and 4: filename*0*=utf-8''..; filename*1*=..; in order, each short.
    const QList<QByteArray> pieces = encoded.split(';');
    QVERIFY(pieces.size() > 1);
    QByteArray octets;
    for (qsizetype i = 0; i < pieces.size(); ++i) {
        const QByteArray piece = pieces.at(i).trimmed();
        QVERIFY2(piece.size() <= 70, piece.constData());
        const QByteArray prefix = "filename*" + QByteArray::number(i) + "*=";
        QVERIFY2(piece.startsWith(prefix), piece.constData());
        QByteArray value = piece.mid(prefix.size());
        if (i == 0) {
            QVERIFY(value.startsWith("utf-8''"));
            value = value.mid(7);
        }
        for (const char c : value)
            QVERIFY2(c == '%' || std::isalnum(uchar(c))
                             || QByteArrayView("!#$&+-.^_`|~").contains(c),
                     piece.constData());
        const QByteArray decoded = percentDecode(value);
        QVERIFY2(isValidUtf8(decoded), piece.constData());
        octets += decoded;
    }
    QCOMPARE(QString::fromUtf8(octets), value);
}

void TestMimeEncoders::folding_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("structured");

    QTest::newRow("short") << QByteArray("Subject: hello") << false;
    QTest::newRow("many words") << "Subject: " + QByteArray("lorem ipsum ").repeated(30) << false;
    QTest::newRow("address list") << "To: "
                    + QByteArray("\"Doe, Jane Quentin\" <jane.quentin.doe@example.org>, ").repeated(5)
                    + "last@example.org"
                                  << true;
    QTest::newRow("double spaces") << "X-Note: " + QByteArray("a  b   ").repeated(40) << false;
    QTest::newRow("long word kept whole") << "X-Token: " + QByteArray(200, 't') + " after" << false;
}

void TestMimeEncoders::folding()
{
    QFETCH(QByteArray, line);
    QFETCH(bool, structured);
    QByteArray folded;
    QVERIFY(Encoders::appendFolded(folded, line, structured));
    QVERIFY(folded.endsWith("\r\n"));
    const QList<QByteArray> lines = folded.chopped(2).split('\n');
    bool inQuote = false;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QByteArray l = lines.at(i);
        if (i + 1 < lines.size()) {
            QVERIFY(l.endsWith('\r'));
            l.chop(1);
        }
        if (i > 0)
            QVERIFY2(l.startsWith(' ') || l.startsWith('\t'), "continuation starts with WSP");
        QVERIFY2(!l.trimmed().isEmpty(), "no whitespace-only line (RFC 5322 3.2.2)");
        if (l.size() > 76)
            QVERIFY2(!l.trimmed().contains(' ') || inQuote,
                     l.constData()); // only an unbreakable word
        if (structured) {
            QVERIFY2(!inQuote, "a quoted-string is not folded");
            for (const char c : l)
                inQuote = c == '"' ? !inQuote : inQuote;
        }
    }
    // Unfolding (RFC 5322 section 2.2.3) gives back the line.
    QCOMPARE(folded.chopped(2).replace("\r\n", ""), line);
}

void TestMimeEncoders::foldingRefusesOverlongLines()
{
    QByteArray folded;
    QVERIFY(!Encoders::appendFolded(folded, QByteArray("X-Token: " + QByteArray(1000, 't')), false));
}

void TestMimeEncoders::lineBreakDetection_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("found");
    QTest::newRow("none") << QStringLiteral("plain text") << false;
    QTest::newRow("CR") << QStringLiteral("a\rb") << true;
    QTest::newRow("LF") << QStringLiteral("a\nb") << true;
    QTest::newRow("NUL") << QString(QStringLiteral("a") + QChar(0) + QStringLiteral("b")) << true;
    QTest::newRow("unicode line separator is not CR/LF") << QStringLiteral("a\u2028b") << false;
}

void TestMimeEncoders::lineBreakDetection()
{
    QFETCH(QString, text);
    QFETCH(bool, found);
    QCOMPARE(Encoders::hasLineBreak(text), found);
}

QTEST_GUILESS_MAIN(TestMimeEncoders)
#include "tst_mimeencoders.moc"
