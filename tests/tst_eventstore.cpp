// The event store on a real PostgreSQL: idempotency, joining by the providers' message id forms,
// delivery precedence, suppressions (at once, and at the fifth soft bounce), cancelling pending
// mail, daily rollups, replay tokens, and the poller that hands new events to the GUI.
#include "db/connection.h"
#include "db/migrator.h"
#include "events/eventpoller.h"
#include "events/eventstore.h"
#include "events/ingestpool.h"
#include "testdb.h"

#include <QSignalSpy>
#include <QTest>

using namespace Events;

namespace {
template<typename R>
QString why(const R &result)
{
    return result ? QString() : result.error().toString();
}

Event makeEvent(const QString &source, const QString &key, Type type, const QString &recipient,
                const QString &pmid, const QString &subtype = {}, qint64 secsAgo = 60)
{
    Event e;
    e.source = source;
    e.eventKey = key;
    e.type = type;
    e.recipient = recipient;
    e.providerMessageId = pmid;
    e.subtype = subtype;
    e.occurredAt = QDateTime::currentDateTimeUtc().addSecs(-secsAgo);
    e.raw = "{\"k\":\"" + key.toUtf8() + "\"}";
    return e;
}
} // namespace

class TestEventStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void storesOnceAndCountsOnce();
    void joinsEveryIdForm();
    void deliveryPrecedence();
    void suppressesAndCancels();
    void fiveSoftBounces();
    void unknownTypesAreCountedNotErrors();
    void machineOpensWithinSecondsOfDelivery();
    void replayTokens();
    void batchIsOneTransaction();
    void largeBatchOverSeveralConnections();
    void pollerDeliversNewEvents();

private:
    qint64 message(const QString &recipient, const QString &pmid, const QString &header = {},
                   const QString &state = QStringLiteral("sent"));
    qint64 scalar(const QString &sql, const QVariantList &params = {});
    Db::ConnectionInfo m_info;
    std::unique_ptr<Db::Connection> m_db;
};

void TestEventStore::init()
{
    m_info = TestSupport::freshSchema(QStringLiteral("tst_eventstore"));
    auto connection = Db::Connection::open(m_info);
    QVERIFY2(connection, qPrintable(why(connection)));
    m_db = std::move(*connection);
    Db::Migrator migrator(*m_db);
    QVERIFY(migrator.migrate());
}

qint64 TestEventStore::message(const QString &recipient, const QString &pmid, const QString &header,
                               const QString &state)
{
    auto row = m_db->exec(
            QStringLiteral(
                    "INSERT INTO messages (queue_id, recipient, provider_message_id, "
                    "message_id_header, state, sent_at) VALUES ((SELECT id FROM queues WHERE "
                    "name = 'marketing'), $1, nullif($2, ''), nullif($3, ''), $4, "
                    "now() - interval '1 hour') RETURNING id"),
            {recipient, pmid, header, state});
    if (!row) {
        qWarning() << row.error().toString();
        return 0;
    }
    return row->toInt(0, 0);
}

qint64 TestEventStore::scalar(const QString &sql, const QVariantList &params)
{
    auto row = m_db->exec(sql, params);
    if (!row) {
        qWarning() << row.error().toString();
        return -1;
    }
    return row->toInt(0, 0);
}

void TestEventStore::storesOnceAndCountsOnce()
{
    const qint64 id = message(QStringLiteral("a@example.org"), QStringLiteral("SG1"));
    EventStore store(*m_db);
    const QList<Event> batch = {
            makeEvent(QStringLiteral("sendgrid"), QStringLiteral("e1"), Type::Delivered,
                      QStringLiteral("a@example.org"), QStringLiteral("SG1")),
            makeEvent(QStringLiteral("sendgrid"), QStringLiteral("e2"), Type::Opened,
                      QStringLiteral("a@example.org"), QStringLiteral("SG1")),
            // Repeated within the batch.
            makeEvent(QStringLiteral("sendgrid"), QStringLiteral("e2"), Type::Opened,
                      QStringLiteral("a@example.org"), QStringLiteral("SG1")),
    };
    auto first = store.ingest(batch);
    QVERIFY2(first, qPrintable(why(first)));
    QCOMPARE(first->stored, 2);
    QCOMPARE(first->duplicates, 1);
    QCOMPARE(first->joined, 2);
    // The provider delivers the same batch again: nothing new, nothing counted twice.
    auto second = store.ingest(batch);
    QVERIFY(second);
    QCOMPARE(second->stored, 0);
    QCOMPARE(second->duplicates, 3);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 2);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(delivered) FROM daily_rollups")), 1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(opened) FROM daily_rollups")), 1);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE id = $1 AND delivery = "
                                   "'delivered' AND opened_at IS NOT NULL"),
                    {id}),
             1);
    // The rollup row is keyed by the message's queue.
    QCOMPARE(scalar(QStringLiteral("SELECT queue_id FROM daily_rollups")),
             scalar(QStringLiteral("SELECT id FROM queues WHERE name = 'marketing'")));
    // The same key from another provider is another event.
    auto other = store.ingest(
            {makeEvent(QStringLiteral("mailgun"), QStringLiteral("e1"), Type::Delivered,
                       QStringLiteral("a@example.org"), QString())});
    QVERIFY(other);
    QCOMPARE(other->stored, 1);
    QCOMPARE(other->joined, 0);
}

void TestEventStore::joinsEveryIdForm()
{
    const qint64 bracketed = message(QStringLiteral("b@example.org"),
                                     QStringLiteral("<20130503182626.18666.16540@mg.example>"));
    const qint64 bare = message(QStringLiteral("c@example.org"), QStringLiteral("0100017b-ses-id"));
    const qint64 byHeader = message(QStringLiteral("d@example.org"), QString(),
                                    QStringLiteral("ours.1@postdesk.example"));
    EventStore store(*m_db);
    auto stored = store.ingest({
            makeEvent(QStringLiteral("mailgun"), QStringLiteral("m1"), Type::Delivered,
                      QStringLiteral("b@example.org"),
                      normaliseMessageId(QStringLiteral("20130503182626.18666.16540@mg.example"))),
            makeEvent(QStringLiteral("ses"), QStringLiteral("s1"), Type::Delivered,
                      QStringLiteral("c@example.org"), QStringLiteral("0100017b-ses-id")),
            makeEvent(QStringLiteral("postmark"), QStringLiteral("p1"), Type::Delivered,
                      QStringLiteral("d@example.org"),
                      normaliseMessageId(QStringLiteral("<ours.1@postdesk.example>"))),
            makeEvent(QStringLiteral("ses"), QStringLiteral("s2"), Type::Delivered,
                      QStringLiteral("x@example.org"), QStringLiteral("not-ours")),
    });
    QVERIFY2(stored, qPrintable(why(stored)));
    QCOMPARE(stored->stored, 4);
    QCOMPARE(stored->joined, 3); // the event for an unknown message is stored, not joined
    QCOMPARE(scalar(QStringLiteral("SELECT message_id FROM events WHERE event_key = 'm1'")),
             bracketed);
    QCOMPARE(scalar(QStringLiteral("SELECT message_id FROM events WHERE event_key = 's1'")), bare);
    QCOMPARE(scalar(QStringLiteral("SELECT message_id FROM events WHERE event_key = 'p1'")),
             byHeader);
    // One provider id for a request to several recipients: each event joins its recipient's.
    message(QStringLiteral("one@example.org"), QStringLiteral("SHARED"));
    const qint64 second = message(QStringLiteral("two@example.org"), QStringLiteral("SHARED"));
    QVERIFY(store.ingest(
            {makeEvent(QStringLiteral("sendgrid"), QStringLiteral("sh2"), Type::Delivered,
                       QStringLiteral("two@example.org"), QStringLiteral("SHARED"))}));
    QCOMPARE(scalar(QStringLiteral("SELECT message_id FROM events WHERE event_key = 'sh2'")),
             second);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events WHERE event_key = 's2' AND "
                                   "message_id IS NULL")),
             1);
}

void TestEventStore::deliveryPrecedence()
{
    const qint64 id = message(QStringLiteral("e@example.org"), QStringLiteral("P1"));
    EventStore store(*m_db);
    auto delivery = [&]() {
        return m_db->exec(QStringLiteral("SELECT delivery FROM messages WHERE id = $1"), {id})
                ->text(0, 0);
    };
    QVERIFY(store.ingest({makeEvent(QStringLiteral("ses"), QStringLiteral("k1"), Type::Deferred,
                                    QStringLiteral("e@example.org"), QStringLiteral("P1"))}));
    QCOMPARE(delivery(), QStringLiteral("deferred"));
    QVERIFY(store.ingest({makeEvent(QStringLiteral("ses"), QStringLiteral("k2"), Type::Bounced,
                                    QStringLiteral("e@example.org"), QStringLiteral("P1"),
                                    QStringLiteral("soft"))}));
    QCOMPARE(delivery(), QStringLiteral("bounced"));
    // A late "delivered" never hides the bounce.
    QVERIFY(store.ingest({makeEvent(QStringLiteral("ses"), QStringLiteral("k3"), Type::Delivered,
                                    QStringLiteral("e@example.org"), QStringLiteral("P1"), {}, 1)}));
    QCOMPARE(delivery(), QStringLiteral("bounced"));
    // In one batch, too: the most final outcome wins whatever the order.
    const qint64 other = message(QStringLiteral("f@example.org"), QStringLiteral("P2"));
    QVERIFY(store.ingest(
            {makeEvent(QStringLiteral("ses"), QStringLiteral("k4"), Type::Complained,
                       QStringLiteral("f@example.org"), QStringLiteral("P2"), {}, 50),
             makeEvent(QStringLiteral("ses"), QStringLiteral("k5"), Type::Delivered,
                       QStringLiteral("f@example.org"), QStringLiteral("P2"), {}, 10)}));
    QCOMPARE(m_db->exec(QStringLiteral("SELECT delivery FROM messages WHERE id = $1"), {other})
                     ->text(0, 0),
             QStringLiteral("complained"));
}

void TestEventStore::suppressesAndCancels()
{
    message(QStringLiteral("hard@example.org"), QStringLiteral("H1"));
    const qint64 pending = message(QStringLiteral("Hard@Example.org"), QString(), QString(),
                                   QStringLiteral("pending"));
    const qint64 pendingOther = message(QStringLiteral("fine@example.org"), QString(), QString(),
                                        QStringLiteral("pending"));
    message(QStringLiteral("spam@example.org"), QStringLiteral("C1"));
    const qint64 unsubPending = message(QStringLiteral("unsub@example.org"), QString(), QString(),
                                        QStringLiteral("pending"));
    EventStore store(*m_db);
    auto stored = store.ingest({
            makeEvent(QStringLiteral("sendgrid"), QStringLiteral("h"), Type::Bounced,
                      QStringLiteral("hard@example.org"), QStringLiteral("H1"),
                      QStringLiteral("hard")),
            makeEvent(QStringLiteral("sendgrid"), QStringLiteral("c"), Type::Complained,
                      QStringLiteral("spam@example.org"), QStringLiteral("C1")),
            makeEvent(QStringLiteral("postmark"), QStringLiteral("u"), Type::Unsubscribed,
                      QStringLiteral("unsub@example.org"), QString()),
            makeEvent(QStringLiteral("sendgrid"), QStringLiteral("s"), Type::Bounced,
                      QStringLiteral("soft@example.org"), QString(), QStringLiteral("soft")),
    });
    QVERIFY2(stored, qPrintable(why(stored)));
    auto reasons = m_db->exec(
            QStringLiteral("SELECT address, reason FROM suppressions ORDER BY address"));
    QVERIFY(reasons);
    QCOMPARE(reasons->rowCount(), 3); // one soft bounce suppresses nobody
    QCOMPARE(reasons->text(0, 0), QStringLiteral("hard@example.org"));
    QCOMPARE(reasons->text(0, 1), QStringLiteral("hard_bounce"));
    QCOMPARE(reasons->text(1, 1), QStringLiteral("complaint"));
    QCOMPARE(reasons->text(2, 1), QStringLiteral("unsubscribe"));
    QCOMPARE(scalar(QStringLiteral(
                            "SELECT count(*) FROM messages WHERE id = $1 AND state = 'cancelled'"),
                    {pending}),
             1);
    QCOMPARE(scalar(QStringLiteral(
                            "SELECT count(*) FROM messages WHERE id = $1 AND state = 'cancelled'"),
                    {unsubPending}),
             1);
    QCOMPARE(scalar(QStringLiteral(
                            "SELECT count(*) FROM messages WHERE id = $1 AND state = 'pending'"),
                    {pendingOther}),
             1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(bounced_hard) FROM daily_rollups")), 1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(bounced_soft) FROM daily_rollups")), 1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(complained) FROM daily_rollups")), 1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(unsubscribed) FROM daily_rollups")), 1);
}

void TestEventStore::fiveSoftBounces()
{
    EventStore store(*m_db);
    const qint64 pending = message(QStringLiteral("full@example.org"), QString(), QString(),
                                   QStringLiteral("pending"));
    for (int i = 1; i <= 5; ++i) {
        // The same event delivered twice counts once.
        const Event e = makeEvent(QStringLiteral("ses"), QStringLiteral("soft%1").arg(i),
                                  Type::Bounced, QStringLiteral("full@example.org"), QString(),
                                  QStringLiteral("soft"));
        QVERIFY(store.ingest({e}));
        QVERIFY(store.ingest({e}));
        QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM suppressions")), i < 5 ? 0 : 1);
    }
    QCOMPARE(m_db->exec(QStringLiteral("SELECT reason FROM suppressions"))->text(0, 0),
             QStringLiteral("soft_bounces"));
    QCOMPARE(scalar(QStringLiteral(
                            "SELECT count(*) FROM messages WHERE id = $1 AND state = 'cancelled'"),
                    {pending}),
             1);
}

void TestEventStore::unknownTypesAreCountedNotErrors()
{
    EventStore store(*m_db);
    Event e = makeEvent(QStringLiteral("mailgun"), QStringLiteral("u1"), Type::Unknown,
                        QStringLiteral("a@example.org"), QString(),
                        QStringLiteral("list_member_uploaded"));
    auto stored = store.ingest({e});
    QVERIFY2(stored, qPrintable(why(stored)));
    QCOMPARE(stored->unknown, 1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(unknown) FROM daily_rollups")), 1);
    QCOMPARE(scalar(QStringLiteral(
                     "SELECT count(*) FROM events WHERE type = 'unknown' AND raw->>'k' = 'u1'")),
             1);
}

void TestEventStore::machineOpensWithinSecondsOfDelivery()
{
    const qint64 id = message(QStringLiteral("mpp@example.org"), QStringLiteral("M1"));
    QVERIFY(m_db->exec(QStringLiteral("UPDATE messages SET delivered_at = now() - interval '100 s' "
                                      "WHERE id = $1"),
                       {id}));
    EventStore store(*m_db);
    // Opened 99 s ago: one second after delivery, a privacy proxy. Opened 10 s ago: a person.
    QVERIFY(store.ingest(
            {makeEvent(QStringLiteral("ses"), QStringLiteral("o1"), Type::Opened,
                       QStringLiteral("mpp@example.org"), QStringLiteral("M1"), {}, 99)}));
    QVERIFY(store.ingest(
            {makeEvent(QStringLiteral("ses"), QStringLiteral("o2"), Type::Opened,
                       QStringLiteral("mpp@example.org"), QStringLiteral("M1"), {}, 10)}));
    QCOMPARE(scalar(QStringLiteral(
                     "SELECT count(*) FROM events WHERE event_key = 'o1' AND machine")),
             1);
    QCOMPARE(scalar(QStringLiteral(
                     "SELECT count(*) FROM events WHERE event_key = 'o2' AND NOT machine")),
             1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(opened_machine) FROM daily_rollups")), 1);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(opened) FROM daily_rollups")), 1);
    // opened_at is the human open.
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE id = $1 AND opened_at > "
                                   "now() - interval '60 s'"),
                    {id}),
             1);
}

void TestEventStore::replayTokens()
{
    EventStore store(*m_db);
    const Event e = makeEvent(QStringLiteral("mailgun"), QStringLiteral("r1"), Type::Delivered,
                              QStringLiteral("a@example.org"), QString());
    QVERIFY(store.ingest({e}, IngestOptions{QStringLiteral("token-1")}));
    auto replay = store.ingest({makeEvent(QStringLiteral("mailgun"), QStringLiteral("r2"),
                                          Type::Delivered, QStringLiteral("a@example.org"),
                                          QString())},
                               IngestOptions{QStringLiteral("token-1")});
    QVERIFY(!replay);
    QCOMPARE(replay.error().code, QStringLiteral("events.replay"));
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 1);
}

void TestEventStore::batchIsOneTransaction()
{
    EventStore store(*m_db);
    // A broken row (a timestamp PostgreSQL refuses) fails the batch: nothing of it is stored.
    Event good = makeEvent(QStringLiteral("ses"), QStringLiteral("t1"), Type::Delivered,
                           QStringLiteral("a@example.org"), QString());
    Event bad = good;
    bad.eventKey = QStringLiteral("t2");
    bad.raw = "{not json";
    auto stored = store.ingest({good, bad});
    QVERIFY(!stored);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 0);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM daily_rollups")), 0);
    // The connection is usable afterwards.
    QVERIFY(store.ingest({good}));
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM events")), 1);
}

void TestEventStore::largeBatchOverSeveralConnections()
{
    QVERIFY(m_db->execScript(QStringLiteral(
            "INSERT INTO messages (queue_id, recipient, provider_message_id, state, sent_at) "
            "SELECT (SELECT id FROM queues WHERE name = 'marketing'), 'r' || i || '@example.org', "
            "'p' || i, 'sent', now() - interval '1 hour' FROM generate_series(0, 599) i")));
    // Deliveries ten minutes ago and the opens a minute ago: whether or not an open's part sees
    // the delivery's part committed, the open is long after the message arrived, so human.
    auto event = [](const QString &key, Type type, int i) {
        return makeEvent(QStringLiteral("sendgrid"), key, type,
                         QStringLiteral("r%1@example.org").arg(i), QStringLiteral("p%1").arg(i), {},
                         type == Type::Delivered ? 600 : 60);
    };
    // Three parts of 300: deliveries of messages 0-299, deliveries of 300-599, then opens of
    // 0-299 (the same messages as the first part) with one delivery of the first part repeated.
    QList<Event> batch;
    for (int i = 0; i < 600; ++i)
        batch.append(event(QStringLiteral("d%1").arg(i), Type::Delivered, i));
    for (int i = 0; i < 299; ++i)
        batch.append(event(QStringLiteral("o%1").arg(i), Type::Opened, i));
    batch.append(event(QStringLiteral("d5"), Type::Delivered, 5));

    const StoreLink::ConnectionFactory open = [info = m_info] { return Db::Connection::open(info); };
    StoreLink link(open);
    IngestPool pool(open, 2);
    auto stored = pool.ingest(link, batch);
    QVERIFY2(stored, qPrintable(why(stored)));
    QCOMPARE(stored->received, 900);
    QCOMPARE(stored->stored, 899);
    QCOMPARE(stored->duplicates, 1);
    QCOMPARE(stored->joined, 899);
    QCOMPARE(stored->lastId, scalar(QStringLiteral("SELECT max(id) FROM events")));
    // Three transactions, one per part.
    QCOMPARE(scalar(QStringLiteral("SELECT count(DISTINCT xmin::text) FROM events")), 3);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE delivery = 'delivered'")),
             600);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE opened_at IS NOT NULL")),
             299);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(delivered) FROM daily_rollups")), 600);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(opened) FROM daily_rollups")), 299);

    // The same batch again: nothing new, nothing counted twice.
    auto again = pool.ingest(link, batch);
    QVERIFY2(again, qPrintable(why(again)));
    QCOMPARE(again->stored, 0);
    QCOMPARE(again->duplicates, 900);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(delivered) FROM daily_rollups")), 600);

    // A part that fails does not undo the parts that committed; the batch sent again stores
    // exactly what is missing, and every effect is applied once.
    QList<Event> clicks;
    for (int i = 0; i < 600; ++i)
        clicks.append(event(QStringLiteral("c%1").arg(i), Type::Clicked, i));
    QList<Event> broken = clicks;
    broken.last().raw = "{not json";
    auto failed = pool.ingest(link, broken);
    QVERIFY(!failed);
    QCOMPARE(failed.error().code, QStringLiteral("db.query_failed"));
    const qint64 committed = scalar(QStringLiteral("SELECT count(*) FROM events WHERE type = "
                                                   "'clicked'"));
    QVERIFY2(committed > 0 && committed < 600, qPrintable(QString::number(committed)));
    auto retried = pool.ingest(link, clicks);
    QVERIFY2(retried, qPrintable(why(retried)));
    QCOMPARE(retried->stored, 600 - committed);
    QCOMPARE(retried->duplicates, committed);
    QCOMPARE(scalar(QStringLiteral("SELECT sum(clicked) FROM daily_rollups")), 600);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM messages WHERE clicked_at IS NOT NULL")),
             600);
}

void TestEventStore::pollerDeliversNewEvents()
{
    EventStore store(*m_db);
    QVERIFY(store.ingest({makeEvent(QStringLiteral("ses"), QStringLiteral("before"),
                                    Type::Delivered, QStringLiteral("a@example.org"), QString())}));
    const Db::ConnectionInfo info = m_info;
    // A long timer: what arrives quickly arrives by NOTIFY.
    EventPoller poller([info] { return Db::Connection::open(info); }, -1, 60000);
    QSignalSpy link(&poller, &EventPoller::linkChanged);
    QSignalSpy arrived(&poller, &EventPoller::eventsArrived);
    QSignalSpy counters(&poller, &EventPoller::countersChanged);
    poller.start();
    QVERIFY(link.wait(10000));
    QCOMPARE(link.first().first().toBool(), true);
    QVERIFY(store.ingest(
            {makeEvent(QStringLiteral("ses"), QStringLiteral("after1"), Type::Opened,
                       QStringLiteral("a@example.org"), QString()),
             makeEvent(QStringLiteral("ses"), QStringLiteral("after2"), Type::Bounced,
                       QStringLiteral("b@example.org"), QString(), QStringLiteral("hard"))}));
    QVERIFY(arrived.wait(5000));
    const auto events = arrived.first().first().value<QList<Events::Event>>();
    QCOMPARE(events.size(), 2); // not the event from before the start
    QCOMPARE(events.at(0).eventKey, QStringLiteral("after1"));
    QCOMPARE(events.at(1).type, Type::Bounced);
    QTRY_VERIFY(!counters.isEmpty());
    const auto counts = counters.last().first().value<QMap<QString, qint64>>();
    QCOMPARE(counts.value(QStringLiteral("opened")), 1);
    QCOMPARE(counts.value(QStringLiteral("bounced_hard")), 1);
    QCOMPARE(counts.value(QStringLiteral("total")), 2);
    // A repeated delivery stores nothing and delivers nothing.
    QVERIFY(store.ingest({makeEvent(QStringLiteral("ses"), QStringLiteral("after1"), Type::Opened,
                                    QStringLiteral("a@example.org"), QString())}));
    QVERIFY(store.ingest({makeEvent(QStringLiteral("ses"), QStringLiteral("after3"), Type::Clicked,
                                    QStringLiteral("a@example.org"), QString())}));
    QTRY_COMPARE(arrived.size(), 2);
    QCOMPARE(arrived.at(1).first().value<QList<Events::Event>>().size(), 1);
    poller.stop();
}

QTEST_GUILESS_MAIN(TestEventStore)
#include "tst_eventstore.moc"
