#include "delivery/messagebuilder.h"

#include <QDateTime>
#include <QTest>

using Delivery::MessageBuilder;

class TestMessageBuilder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void dateHeaderIsTheCurrentLocalTime();
    void messageIdIsTheSameForEveryAttempt();
    void senderFollowsTheMessageAndTheProvider();

private:
    static Queue::ClaimedMessage claimed(qint64 id);
    static QDateTime dateOf(const QByteArray &data);
};

Queue::ClaimedMessage TestMessageBuilder::claimed(qint64 id)
{
    Queue::ClaimedMessage message;
    message.id = id;
    message.recipient = QStringLiteral("user@example.net");
    message.subject = QStringLiteral("Your weekly digest");
    message.htmlBody = QStringLiteral("<p>Hello</p>");
    message.createdAt = QDateTime::fromSecsSinceEpoch(1'790'000'000, Qt::UTC);
    return message;
}

QDateTime TestMessageBuilder::dateOf(const QByteArray &data)
{
    const qsizetype at = data.indexOf("\r\nDate: ");
    if (at < 0 && !data.startsWith("Date: "))
        return {};
    const qsizetype start = at < 0 ? 6 : at + 8;
    const qsizetype end = data.indexOf("\r\n", start);
    return QDateTime::fromString(QString::fromLatin1(data.mid(start, end - start)), Qt::RFC2822Date);
}

void TestMessageBuilder::dateHeaderIsTheCurrentLocalTime()
{
    // The builder looks the local time up once a second, not for every message: the header must
    // still move with the clock and carry the local offset (RFC 5322 section 3.3).
    MessageBuilder builder;
    MessageBuilder::Options options;
    options.defaultSender = QStringLiteral("Bench <bench@example.org>");
    const QDateTime before = QDateTime::currentDateTime();
    auto first = builder.build(claimed(1), options);
    QVERIFY(first);
    const QDateTime date = dateOf(first->data);
    QVERIFY2(date.isValid(), first->data.left(300).constData());
    QVERIFY(std::abs(date.secsTo(before)) <= 1);
    QCOMPARE(date.offsetFromUtc(), before.offsetFromUtc());

    QDateTime later;
    QTRY_VERIFY_WITH_TIMEOUT((later = dateOf(builder.build(claimed(2), options)->data))
                                             .toSecsSinceEpoch()
                                     > date.toSecsSinceEpoch(),
                             3000);
    QVERIFY(std::abs(later.secsTo(QDateTime::currentDateTime())) <= 1);
}

void TestMessageBuilder::messageIdIsTheSameForEveryAttempt()
{
    MessageBuilder builder;
    MessageBuilder::Options options;
    options.defaultSender = QStringLiteral("bench@example.org");
    auto first = builder.build(claimed(42), options);
    auto second = builder.build(claimed(42), options);
    QVERIFY(first && second);
    QCOMPARE(first->messageId, second->messageId);
    QCOMPARE(first->messageId,
             MessageBuilder::messageIdFor(claimed(42), QStringLiteral("example.org")));
    QVERIFY(first->data.contains(
            QByteArray("Message-ID: <" + first->messageId.toLatin1() + ">\r\n")));
}

void TestMessageBuilder::senderFollowsTheMessageAndTheProvider()
{
    // The builder keeps the last sender it parsed; a different one must not reuse it.
    MessageBuilder builder;
    MessageBuilder::Options first;
    first.defaultSender = QStringLiteral("First <first@example.org>");
    MessageBuilder::Options second;
    second.defaultSender = QStringLiteral("second@example.com");
    Queue::ClaimedMessage own = claimed(3);
    own.sender = QStringLiteral("own@example.net");
    Queue::ClaimedMessage invalid = claimed(4);
    invalid.sender = QStringLiteral("not an address");

    const QList<std::pair<QByteArray, QByteArray>>
            expected{{"From: First <first@example.org>\r\n", "first@example.org"},
                     {"From: second@example.com\r\n", "second@example.com"},
                     {"From: own@example.net\r\n", "own@example.net"},
                     {"From: First <first@example.org>\r\n", "first@example.org"}};
    const QList<Common::Result<Providers::OutgoingMessage>> built{builder.build(claimed(1), first),
                                                                  builder.build(claimed(2), second),
                                                                  builder.build(own, second),
                                                                  builder.build(claimed(5), first)};
    for (qsizetype i = 0; i < built.size(); ++i) {
        QVERIFY(built.at(i));
        QVERIFY2(built.at(i)->data.contains(expected.at(i).first), built.at(i)->data.constData());
        QCOMPARE(built.at(i)->envelopeFrom.toLatin1(), expected.at(i).second);
    }
    auto refused = builder.build(invalid, first);
    QVERIFY(!refused);
    QVERIFY(!refused.error().isTransient());
    auto after = builder.build(claimed(6), first);
    QVERIFY(after && after->data.contains("From: First <first@example.org>\r\n"));
}

QTEST_GUILESS_MAIN(TestMessageBuilder)
#include "tst_messagebuilder.moc"
