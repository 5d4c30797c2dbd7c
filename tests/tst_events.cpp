// The provider parsers and the webhook verifiers, on the providers' documented samples and the
// SendGrid SDKs' published signature test vector.
#include "events/event.h"
#include "events/parsers.h"
#include "events/signing.h"
#include "events/verifiers.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

using namespace Events;

class TestEvents : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sendGridSample()
    {
        auto events = parseSendGrid(TestSigning::readData(QStringLiteral("sendgrid-events.json")));
        QVERIFY2(events, qPrintable(events ? QString() : events.error().message));
        QCOMPARE(events->size(), 13);
        const QList<Type> types = {Type::Sent,       Type::Deferred,     Type::Delivered,
                                   Type::Opened,     Type::Opened,       Type::Clicked,
                                   Type::Bounced,    Type::Bounced,      Type::Dropped,
                                   Type::Complained, Type::Unsubscribed, Type::Unsubscribed,
                                   Type::Unknown};
        for (int i = 0; i < types.size(); ++i)
            QCOMPARE(events->at(i).type, types.at(i));
        const Event &first = events->first();
        QCOMPARE(first.recipient, QStringLiteral("example@test.com"));
        // The suffixed id in events is reduced to the X-Message-Id the send API returned.
        QCOMPARE(first.providerMessageId, QStringLiteral("14c5d75ce93"));
        QCOMPARE(first.occurredAt, QDateTime::fromSecsSinceEpoch(1513299569, Qt::UTC));
        QVERIFY(!events->at(3).machine);
        QVERIFY(events->at(4).machine); // sg_machine_open
        QCOMPARE(events->at(5).url, QStringLiteral("http://www.sendgrid.com/"));
        QCOMPARE(events->at(6).subtype, QStringLiteral("hard"));
        QCOMPARE(events->at(7).subtype, QStringLiteral("soft")); // type "blocked"
        QCOMPARE(events->at(12).subtype, QStringLiteral("group_resubscribe"));
        QSet<QString> keys;
        for (const Event &e : std::as_const(*events)) {
            keys.insert(e.eventKey);
            QVERIFY(!e.raw.isEmpty());
        }
        QCOMPARE(keys.size(), events->size());
        // Each event keeps the bytes SendGrid sent for it, and they are the same JSON.
        const QByteArray body = TestSigning::readData(QStringLiteral("sendgrid-events.json"));
        const QJsonArray array = QJsonDocument::fromJson(body).array();
        for (int i = 0; i < events->size(); ++i) {
            QVERIFY(body.contains(events->at(i).raw));
            QCOMPARE(QJsonDocument::fromJson(events->at(i).raw).object(), array.at(i).toObject());
        }
    }

    void arrayElementsAreCutExactly_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QList<QByteArray>>("elements");
        QTest::newRow("empty") << QByteArray(" [ ] ") << QList<QByteArray>();
        QTest::newRow("spaced") << QByteArray(" [ {\"a\":1} ,\n\t{\"b\": [2, 3]}\r\n] ")
                                << QList<QByteArray>{"{\"a\":1}", "{\"b\": [2, 3]}"};
        QTest::newRow("brackets and quotes in strings")
                << QByteArray("[{\"s\":\"]},[{\\\"x\"},\"t\",{\"u\":\"\\\\\"}, 12, null]")
                << QList<QByteArray>{"{\"s\":\"]},[{\\\"x\"}", "\"t\"", "{\"u\":\"\\\\\"}", "12",
                                     "null"};
        QTest::newRow("nested arrays")
                << QByteArray("[[1,[2]],[]]") << QList<QByteArray>{"[1,[2]]", "[]"};
        QTest::newRow("not an array") << QByteArray("{\"a\":[1]}") << QList<QByteArray>();
        QTest::newRow("unterminated") << QByteArray("[{\"a\":1}") << QList<QByteArray>();
    }

    void arrayElementsAreCutExactly()
    {
        QFETCH(QByteArray, json);
        QFETCH(QList<QByteArray>, elements);
        QList<QByteArray> cut;
        for (const auto &[begin, end] : jsonArrayElements(json))
            cut.append(json.mid(begin, end - begin));
        QCOMPARE(cut, elements);
    }

    void malformedBodies_data()
    {
        QTest::addColumn<QString>("provider");
        QTest::addColumn<QByteArray>("body");
        const QByteArray sg = TestSigning::readData(QStringLiteral("sendgrid-events.json"));
        QTest::newRow("sendgrid truncated") << "sendgrid" << sg.left(sg.size() / 2);
        QTest::newRow("sendgrid object") << "sendgrid" << QByteArray("{\"event\":\"open\"}");
        QTest::newRow("sendgrid no timestamp")
                << "sendgrid" << QByteArray("[{\"event\":\"open\"}]");
        QTest::newRow("sendgrid number") << "sendgrid" << QByteArray("[1]");
        QTest::newRow("empty") << "sendgrid" << QByteArray();
        const QByteArray mg = TestSigning::readData(QStringLiteral("mailgun-delivered.json"));
        QTest::newRow("mailgun truncated") << "mailgun" << mg.left(100);
        QTest::newRow("mailgun no event-data") << "mailgun" << QByteArray("{\"signature\":{}}");
        QTest::newRow("mailgun no id")
                << "mailgun"
                << QByteArray("{\"event-data\":{\"event\":\"delivered\",\"timestamp\":1}}");
        QTest::newRow("postmark array") << "postmark" << QByteArray("[]");
        QTest::newRow("postmark no RecordType")
                << "postmark" << QByteArray("{\"MessageID\":\"x\"}");
        QTest::newRow("ses not json") << "ses" << QByteArray("<xml/>");
        QTest::newRow("ses message not json")
                << "ses"
                << QByteArray(
                           "{\"Type\":\"Notification\",\"MessageId\":\"m\",\"Message\":\"{oops\"}");
        QTest::newRow("ses no eventType")
                << "ses"
                << QByteArray("{\"Type\":\"Notification\",\"MessageId\":\"m\",\"Message\":\"{}\"}");
    }

    void malformedBodies()
    {
        QFETCH(QString, provider);
        QFETCH(QByteArray, body);
        auto events = parse(provider, body);
        QVERIFY(!events);
        QCOMPARE(events.error().code, QStringLiteral("events.malformed"));
        QVERIFY(events.error().message.contains(provider));
    }

    void mailgunSamples_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("type");
        QTest::addColumn<QString>("subtype");
        QTest::addColumn<bool>("machine");
        QTest::newRow("delivered")
                << "mailgun-delivered.json" << int(Type::Delivered) << "" << false;
        QTest::newRow("permanent")
                << "mailgun-failed-permanent.json" << int(Type::Bounced) << "hard" << false;
        QTest::newRow("temporary")
                << "mailgun-failed-temporary.json" << int(Type::Deferred) << "" << false;
        QTest::newRow("opened") << "mailgun-opened.json" << int(Type::Opened) << "" << false;
        QTest::newRow("clicked by a bot")
                << "mailgun-clicked-bot.json" << int(Type::Clicked) << "" << true;
        QTest::newRow("unknown") << "mailgun-unknown.json" << int(Type::Unknown)
                                 << "list_member_uploaded" << false;
    }

    void mailgunSamples()
    {
        QFETCH(QString, file);
        QFETCH(int, type);
        QFETCH(QString, subtype);
        QFETCH(bool, machine);
        auto events = parseMailgun(TestSigning::readData(file));
        QVERIFY2(events, qPrintable(events ? QString() : events.error().message));
        QCOMPARE(events->size(), 1);
        const Event &e = events->first();
        QCOMPARE(int(e.type), type);
        QCOMPARE(e.subtype, subtype);
        QCOMPARE(e.machine, machine);
        QCOMPARE(e.recipient, QStringLiteral("alice@example.com"));
        QVERIFY(!e.eventKey.isEmpty());
        if (type != int(Type::Unknown))
            QVERIFY(e.providerMessageId.endsWith(u"@sandbox.mgsend.net"));
    }

    void postmarkSamples_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("type");
        QTest::addColumn<QString>("subtype");
        QTest::addColumn<QString>("recipient");
        QTest::newRow("bounce") << "postmark-bounce.json" << int(Type::Bounced) << "hard"
                                << "john@example.com";
        QTest::newRow("delivery") << "postmark-delivery.json" << int(Type::Delivered) << ""
                                  << "john@example.com";
        QTest::newRow("complaint") << "postmark-spamcomplaint.json" << int(Type::Complained) << ""
                                   << "john@example.com";
        QTest::newRow("open") << "postmark-open.json" << int(Type::Opened) << ""
                              << "john@example.com";
        QTest::newRow("click") << "postmark-click.json" << int(Type::Clicked) << ""
                               << "john@example.com";
        QTest::newRow("subscription")
                << "postmark-subscriptionchange.json" << int(Type::Unsubscribed) << ""
                << "bounced-address@wildbit.com";
    }

    void postmarkSamples()
    {
        QFETCH(QString, file);
        QFETCH(int, type);
        QFETCH(QString, subtype);
        QFETCH(QString, recipient);
        auto events = parsePostmark(TestSigning::readData(file));
        QVERIFY2(events, qPrintable(events ? QString() : events.error().message));
        QCOMPARE(events->size(), 1);
        QCOMPARE(int(events->first().type), type);
        QCOMPARE(events->first().subtype, subtype);
        QCOMPARE(events->first().recipient, recipient);
        QVERIFY(events->first().occurredAt.isValid());
        // Parsing again gives the same key: a repeated delivery is recognised.
        QCOMPARE(parsePostmark(TestSigning::readData(file))->first().eventKey,
                 events->first().eventKey);
    }

    void postmarkUnknownBounceType()
    {
        auto events = parsePostmark(
                R"({"RecordType":"Bounce","ID":7,"Type":"AutoResponder","Email":"a@b.org","BouncedAt":"2019-11-05T16:33:54Z","MessageID":"x"})");
        QVERIFY(events);
        QCOMPARE(events->first().type, Type::Unknown);
    }

    void sesSamples_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("type");
        QTest::addColumn<QStringList>("recipients");
        QTest::addColumn<QString>("subtype");
        QTest::newRow("bounce, two recipients")
                << "ses-bounce.json" << int(Type::Bounced)
                << QStringList{QStringLiteral("recipient@example.com"),
                               QStringLiteral("second@example.com")}
                << "hard";
        QTest::newRow("delivery") << "ses-delivery.json" << int(Type::Delivered)
                                  << QStringList{QStringLiteral("recipient@example.com")} << "";
        QTest::newRow("complaint") << "ses-complaint.json" << int(Type::Complained)
                                   << QStringList{QStringLiteral("recipient@example.com")} << "";
        QTest::newRow("open") << "ses-open.json" << int(Type::Opened)
                              << QStringList{QStringLiteral("recipient@example.com")} << "";
        QTest::newRow("click") << "ses-click.json" << int(Type::Clicked)
                               << QStringList{QStringLiteral("recipient@example.com")} << "";
    }

    void sesSamples()
    {
        QFETCH(QString, file);
        QFETCH(int, type);
        QFETCH(QStringList, recipients);
        QFETCH(QString, subtype);
        const QJsonObject sns = TestSigning::snsNotification(TestSigning::readData(file).trimmed(),
                                                             QStringLiteral("sns-1"));
        auto events = parseSesNotification(QJsonDocument(sns).toJson());
        QVERIFY2(events, qPrintable(events ? QString() : events.error().message));
        QCOMPARE(events->size(), recipients.size());
        for (int i = 0; i < recipients.size(); ++i) {
            const Event &e = events->at(i);
            QCOMPARE(int(e.type), type);
            QCOMPARE(e.recipient, recipients.at(i));
            QCOMPARE(e.subtype, subtype);
            QCOMPARE(e.eventKey, QStringLiteral("sns-1:") + recipients.at(i));
            QCOMPARE(e.providerMessageId,
                     QStringLiteral(
                             "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"));
        }
    }

    void ourIdFromCustomArguments()
    {
        auto sg = parseSendGrid(
                R"([{"email":"a@b.org","timestamp":1700000000,"event":"delivered","sg_event_id":"x","postdesk_message_id":"42"}])");
        QVERIFY(sg);
        QCOMPARE(sg->first().messageId, 42);
        auto mg = parseMailgun(
                R"({"event-data":{"event":"delivered","id":"y","timestamp":1700000000,"recipient":"a@b.org","user-variables":{"postdesk_message_id":"43"}}})");
        QVERIFY(mg);
        QCOMPARE(mg->first().messageId, 43);
    }

    void messageIdForms()
    {
        QCOMPARE(normaliseMessageId(QStringLiteral("<abc@example.org>")),
                 QStringLiteral("abc@example.org"));
        QCOMPARE(normaliseMessageId(QStringLiteral(" abc@example.org ")),
                 QStringLiteral("abc@example.org"));
        QCOMPARE(normaliseMessageId(QStringLiteral(
                                            "W86EgYT6SQKk0lRflfLRsA.filter0001.16648.5515E0B88.0"),
                                    QStringLiteral("sendgrid")),
                 QStringLiteral("W86EgYT6SQKk0lRflfLRsA"));
        QCOMPARE(normaliseMessageId(QStringLiteral("W86EgYT6SQKk0lRflfLRsA"),
                                    QStringLiteral("sendgrid")),
                 QStringLiteral("W86EgYT6SQKk0lRflfLRsA"));
    }

    // The published vector of SendGrid's SDKs.
    void sendGridVector()
    {
        const QJsonObject v = QJsonDocument::fromJson(
                                      TestSigning::readData(QStringLiteral("sendgrid-vector.json")))
                                      .object();
        auto s = [&](const char *k) { return v.value(QLatin1String(k)).toString().toUtf8(); };
        QVERIFY(verifySendGrid(s("publicKey"), s("timestamp"), s("payload"), s("signature")));
        // Wrong key, altered payload, altered timestamp, altered signature: refused.
        auto refused = [](const Common::Status &st) {
            return !st && st.error().code == u"events.bad_signature";
        };
        QVERIFY(refused(verifySendGrid(s("failingPublicKey"), s("timestamp"), s("payload"),
                                       s("signature"))));
        QVERIFY(refused(verifySendGrid(s("publicKey"), s("timestamp"), "payload", s("signature"))));
        QVERIFY(refused(verifySendGrid(s("publicKey"), "1388788367", s("payload"), s("signature"))));
        QVERIFY(refused(verifySendGrid(s("publicKey"), s("timestamp"), s("payload"),
                                       s("failingSignature"))));
        QVERIFY(refused(verifySendGrid(s("publicKey"), s("timestamp"), s("payload"), "!!!")));
        // PEM works as well as SendGrid's bare base64.
        const QByteArray pem = "-----BEGIN PUBLIC KEY-----\n" + s("publicKey")
                + "\n-----END PUBLIC KEY-----\n";
        QVERIFY(verifySendGrid(pem, s("timestamp"), s("payload"), s("signature")));
        // Missing headers are a 401 case, not a 403.
        QCOMPARE(verifySendGrid(s("publicKey"), {}, s("payload"), {}).error().code,
                 QStringLiteral("events.unauthenticated"));
        QCOMPARE(verifySendGrid("bm90IGEga2V5", "1", "x", "AA==").error().code,
                 QStringLiteral("events.bad_key"));
    }

    void sendGridOwnKey()
    {
        const QByteArray body = TestSigning::readData(QStringLiteral("sendgrid-events.json"));
        const QByteArray sig = TestSigning::signSendGrid("1700000000", body);
        QVERIFY(verifySendGrid(TestSigning::sendGridPublicKey(), "1700000000", body, sig));
        QByteArray altered = body;
        altered.replace("example@test.com", "exbmple@test.com");
        QVERIFY(!verifySendGrid(TestSigning::sendGridPublicKey(), "1700000000", altered, sig));
    }

    void mailgun()
    {
        const QByteArray key = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
        const qint64 now = 1700000000;
        const QString ts = QString::number(now - 10);
        const QString token = QStringLiteral("a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0");
        const QString sig = QString::fromLatin1(TestSigning::mailgunSignature(key, ts, token));
        QVERIFY(verifyMailgun(key, ts, token, sig, now, 900));
        QVERIFY(verifyMailgun(key, ts, token, sig.toUpper(), now, 900));
        QCOMPARE(verifyMailgun("other", ts, token, sig, now, 900).error().code,
                 QStringLiteral("events.bad_signature"));
        QCOMPARE(verifyMailgun(key, ts, token + u'x', sig, now, 900).error().code,
                 QStringLiteral("events.bad_signature"));
        QCOMPARE(verifyMailgun(key, ts, token, sig, now + 3600, 900).error().code,
                 QStringLiteral("events.stale"));
        QCOMPARE(verifyMailgun(key, ts, token, {}, now, 900).error().code,
                 QStringLiteral("events.unauthenticated"));
    }

    void basicAuth()
    {
        const QByteArray good = "Basic " + QByteArray("hooks:s3cret").toBase64();
        QVERIFY(verifyBasicAuth(good, "hooks", "s3cret"));
        QVERIFY(!verifyBasicAuth("Basic " + QByteArray("hooks:wrong").toBase64(), "hooks",
                                 "s3cret"));
        QVERIFY(!verifyBasicAuth("Basic " + QByteArray("other:s3cret").toBase64(), "hooks",
                                 "s3cret"));
        QVERIFY(!verifyBasicAuth("Bearer x", "hooks", "s3cret"));
        QVERIFY(!verifyBasicAuth("Basic ###", "hooks", "s3cret"));
        QVERIFY(!verifyBasicAuth({}, "hooks", "s3cret"));
    }

    void sns_data()
    {
        QTest::addColumn<int>("version");
        QTest::addColumn<QString>("subject");
        QTest::newRow("v1") << 1 << QString();
        QTest::newRow("v2") << 2 << QString();
        QTest::newRow("v1 with subject") << 1 << QStringLiteral("Amazon SES Email Event");
    }

    void sns()
    {
        QFETCH(int, version);
        QFETCH(QString, subject);
        const QByteArray cert = TestSigning::readData(QStringLiteral("sns-test-cert.pem"));
        QJsonObject m = TestSigning::snsNotification(
                TestSigning::readData(QStringLiteral("ses-delivery.json")).trimmed(),
                QStringLiteral("22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"), version, subject);
        QVERIFY(verifySnsSignature(m, cert));
        QJsonObject altered = m;
        altered.insert(QStringLiteral("Message"), QStringLiteral("{\"eventType\":\"Bounce\"}"));
        QCOMPARE(verifySnsSignature(altered, cert).error().code,
                 QStringLiteral("events.bad_signature"));
        QJsonObject otherVersion = m;
        otherVersion.insert(QStringLiteral("SignatureVersion"),
                            version == 1 ? QStringLiteral("2") : QStringLiteral("1"));
        QVERIFY(!verifySnsSignature(otherVersion, cert));
        QJsonObject noSig = m;
        noSig.remove(QStringLiteral("Signature"));
        QVERIFY(!verifySnsSignature(noSig, cert));
    }

    void snsCertificateUrls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("allowed");
        QTest::newRow("sns") << "https://sns.us-east-1.amazonaws.com/"
                                "SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem"
                             << true;
        QTest::newRow("china")
                << "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem"
                << true;
        QTest::newRow("http")
                << "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem" << false;
        QTest::newRow("other host")
                << "https://sns.us-east-1.amazonaws.com.evil.example/x.pem" << false;
        QTest::newRow("attacker") << "https://attacker.example/SimpleNotificationService-x.pem"
                                  << false;
        QTest::newRow("s3") << "https://s3.amazonaws.com/x.pem" << false;
        QTest::newRow("userinfo") << "https://a@sns.us-east-1.amazonaws.com/x.pem" << false;
        QTest::newRow("port") << "https://sns.us-east-1.amazonaws.com:8443/x.pem" << false;
        QTest::newRow("not pem") << "https://sns.us-east-1.amazonaws.com/x.txt" << false;
    }

    void snsCertificateUrls()
    {
        QFETCH(QString, url);
        QFETCH(bool, allowed);
        QCOMPARE(bool(checkSnsCertificateUrl(QUrl(url))), allowed);
    }

    void scanners()
    {
        QVERIFY(isScannerUserAgent(QStringLiteral("Mozilla/5.0 (compatible; Barracuda Sentinel)")));
        QVERIFY(isScannerUserAgent(QStringLiteral("python-requests/2.31")));
        QVERIFY(!isScannerUserAgent(
                QStringLiteral("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via "
                               "ggpht.com GoogleImageProxy)")));
        QVERIFY(!isScannerUserAgent(QString()));
    }
};

QTEST_GUILESS_MAIN(TestEvents)
#include "tst_events.moc"
