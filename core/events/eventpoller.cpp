#include "eventpoller.h"

#include "common/logging.h"
#include "db/connection.h"
#include "eventstore.h"

#include <QElapsedTimer>
#include <QSocketNotifier>
#include <QThread>
#include <QTimer>

namespace Events {

// Lives on the poller's thread.
class EventPollWorker final : public QObject
{
    Q_OBJECT

public:
    EventPollWorker(EventPoller::ConnectionFactory factory, qint64 afterId, int pollMs)
        : m_factory(std::move(factory))
        , m_cursor(afterId)
        , m_pollMs(pollMs)
    { }

    void start()
    {
        m_timer = new QTimer(this);
        connect(m_timer, &QTimer::timeout, this, &EventPollWorker::handleTimer);
        m_timer->start(m_pollMs);
        handleTimer();
    }

    void stop()
    {
        if (m_timer)
            m_timer->stop();
        drop();
    }

Q_SIGNALS:
    void eventsArrived(const QList<Events::Event> &events);
    void countersChanged(const QMap<QString, qint64> &counters);
    void linkChanged(bool connected);

private:
    static constexpr int batch = 1000;
    static constexpr qint64 gapMs = 60000;

    void drop()
    {
        delete m_notifier;
        m_notifier = nullptr;
        m_store.reset();
        m_connection.reset();
    }

    bool ensureConnected()
    {
        if (m_connection && m_connection->isAlive())
            return true;
        const bool wasUp = m_connection != nullptr;
        drop();
        auto opened = m_factory();
        if (!opened) {
            if (wasUp || m_everConnected)
                Q_EMIT linkChanged(false);
            qCDebug(lcEvents).noquote()
                    << "event poller: no database:" << opened.error().toString();
            return false;
        }
        m_connection = std::move(*opened);
        if (auto ok = m_connection->listen(QString::fromLatin1(EventStore::notifyChannel)); !ok) {
            drop();
            return false;
        }
        m_store = std::make_unique<EventStore>(*m_connection);
        m_notifier = new QSocketNotifier(m_connection->socketDescriptor(), QSocketNotifier::Read,
                                         this);
        connect(m_notifier, &QSocketNotifier::activated, this, &EventPollWorker::handleReadable);
        if (m_cursor < 0) {
            auto max = m_connection->exec(
                    QStringLiteral("SELECT coalesce(max(id), 0) FROM events"));
            if (!max) {
                drop();
                return false;
            }
            m_cursor = max->toInt(0, 0);
        }
        m_everConnected = true;
        Q_EMIT linkChanged(true);
        return true;
    }

    void handleReadable()
    {
        if (!m_connection)
            return;
        m_connection->takeNotifications();
        poll();
    }

    void handleTimer()
    {
        if (!ensureConnected())
            return;
        poll();
    }

    void poll()
    {
        if (!m_connection)
            return;
        const qint64 now = m_clock.isValid() ? m_clock.elapsed() : (m_clock.start(), 0);
        for (auto it = m_gaps.begin(); it != m_gaps.end();) {
            if (it.value() < now)
                it = m_gaps.erase(it);
            else
                ++it;
        }
        QList<Event> delivered;
        for (;;) {
            QString where = QStringLiteral("WHERE e.id > $1");
            QVariantList params{m_cursor};
            if (!m_gaps.isEmpty()) {
                QStringList ids;
                for (auto it = m_gaps.cbegin(); it != m_gaps.cend(); ++it)
                    ids.append(QString::number(it.key()));
                where += QStringLiteral(" OR e.id = ANY($3::bigint[])");
                params.append(batch);
                params.append(ids);
            } else {
                params.append(batch);
            }
            auto rows = m_store->eventsAfterWhere(where + QStringLiteral(" ORDER BY e.id LIMIT $2"),
                                                  params);
            if (!rows) {
                qCWarning(lcEvents).noquote() << "event poller:" << rows.error().toString();
                drop();
                Q_EMIT linkChanged(false);
                break;
            }
            qint64 top = m_cursor;
            for (const Event &e : std::as_const(*rows)) {
                if (e.id <= m_cursor) {
                    m_gaps.remove(e.id);
                } else {
                    for (qint64 id = top + 1; id < e.id && m_gaps.size() < 10000; ++id)
                        m_gaps.insert(id, now + gapMs);
                    top = e.id;
                }
                delivered.append(e);
                count(e);
            }
            m_cursor = top;
            if (rows->size() < batch)
                break;
        }
        if (!delivered.isEmpty()) {
            Q_EMIT eventsArrived(delivered);
            Q_EMIT countersChanged(m_counters);
        }
    }

    void count(const Event &e)
    {
        QString key = typeName(e.type);
        if (e.machine && e.type == Type::Opened)
            key = QStringLiteral("opened_machine");
        else if (e.machine && e.type == Type::Clicked)
            key = QStringLiteral("clicked_bot");
        else if (e.type == Type::Bounced)
            key = QStringLiteral("bounced_") + (e.subtype == u"hard" ? u"hard" : u"soft");
        ++m_counters[key];
        ++m_counters[QStringLiteral("total")];
    }

    EventPoller::ConnectionFactory m_factory;
    qint64 m_cursor;
    int m_pollMs;
    bool m_everConnected = false;
    std::unique_ptr<Db::Connection> m_connection;
    std::unique_ptr<EventStore> m_store;
    QSocketNotifier *m_notifier = nullptr;
    QTimer *m_timer = nullptr;
    QMap<qint64, qint64> m_gaps; // id -> until when (ms on m_clock) it is looked for again
    QElapsedTimer m_clock;
    QMap<QString, qint64> m_counters;
};

EventPoller::EventPoller(ConnectionFactory openConnection, qint64 afterId, int pollMs,
                         QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<QList<Events::Event>>();
    qRegisterMetaType<QMap<QString, qint64>>();
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("event poller"));
    m_worker = new EventPollWorker(std::move(openConnection), afterId, pollMs);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &EventPollWorker::eventsArrived, this, &EventPoller::eventsArrived);
    connect(m_worker, &EventPollWorker::countersChanged, this, &EventPoller::countersChanged);
    connect(m_worker, &EventPollWorker::linkChanged, this, &EventPoller::linkChanged);
}

EventPoller::~EventPoller()
{
    stop();
}

void EventPoller::start()
{
    if (m_thread->isRunning())
        return;
    m_thread->start();
    QMetaObject::invokeMethod(m_worker, &EventPollWorker::start, Qt::QueuedConnection);
}

void EventPoller::stop()
{
    if (!m_thread->isRunning())
        return;
    QMetaObject::invokeMethod(m_worker, &EventPollWorker::stop, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
}

} // namespace Events

#include "eventpoller.moc"
