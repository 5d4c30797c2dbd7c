#include "dashboardpage.h"

#include "common/pageheader.h"
#include "common/tablemodel.h"
#include "db/asyncdatabase.h"

#include <QEvent>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTableView>
#include <QTime>
#include <QTimer>
#include <QVBoxLayout>

namespace {

const QString summarySql = QStringLiteral(R"sql(
SELECT
  (SELECT count(*) FROM messages WHERE sent_at >= date_trunc('day', now())) AS sent_today,
  (SELECT count(*) FROM messages WHERE sent_at >= date_trunc('day', now()) - interval '1 day'
                                   AND sent_at < now() - interval '1 day') AS sent_yesterday_by_now,
  (SELECT count(*) FROM messages WHERE state IN ('pending', 'processing')) AS backlog,
  (SELECT count(*) FROM messages WHERE state = 'processing') AS processing,
  (SELECT count(*) FILTER (WHERE delivery = 'delivered')::float8 / nullif(count(*), 0)
     FROM messages WHERE sent_at >= now() - interval '24 hours') AS delivery_rate,
  (SELECT avg(send_ms)::float8 / 1000
     FROM messages WHERE sent_at >= now() - interval '24 hours') AS avg_send_seconds,
  (SELECT count(*) FROM providers WHERE enabled) AS providers_enabled,
  (SELECT count(*) FROM providers WHERE enabled AND health <> 'healthy') AS providers_unwell,
  (SELECT count(*) FROM providers WHERE enabled
     AND (health = 'down' OR circuit_open_until > now())) AS providers_down,
  (SELECT count(*) FROM queues) AS queues_total,
  (SELECT count(*) FROM queues WHERE NOT paused) AS queues_running,
  (SELECT count(*) FROM workers WHERE seen_at > now() - interval '15 seconds'
     AND stopped_at IS NULL) AS workers_active,
  (SELECT count(*) FROM messages m JOIN queues q ON q.id = m.queue_id
     WHERE m.state = 'pending' AND m.scheduled_at <= now() AND NOT q.paused) AS due_now,
  (SELECT count(*) FILTER (WHERE state = 'sent')::float8
          / nullif(count(*) FILTER (WHERE state IN ('sent', 'dead')), 0)
     FROM messages WHERE updated_at >= now() - interval '24 hours') AS success_rate,
  (SELECT string_agg(name, ', ' ORDER BY priority) FROM providers WHERE enabled
     AND (health = 'down' OR circuit_open_until > now())) AS down_names
)sql");

const QString queuesSql = QStringLiteral(R"sql(
SELECT q.name AS "Queue",
       CASE WHEN q.paused THEN 'paused' ELSE 'running' END AS "State",
       (SELECT count(*) FROM workers w WHERE w.seen_at > now() - interval '15 seconds'
          AND w.stopped_at IS NULL AND (w.queues = '{}' OR q.name = ANY (w.queues))) AS "Active workers",
       count(*) FILTER (WHERE m.state = 'pending') AS "Pending",
       count(*) FILTER (WHERE m.state = 'processing') AS "Processing",
       count(*) FILTER (WHERE m.sent_at >= date_trunc('day', now())) AS "Completed today",
       count(*) FILTER (WHERE m.state = 'dead' AND m.updated_at >= date_trunc('day', now())) AS "Failed today",
       round(100.0 * count(*) FILTER (WHERE m.state = 'dead' AND m.updated_at >= date_trunc('day', now()))
             / nullif(count(*) FILTER (WHERE m.sent_at >= date_trunc('day', now())
                                          OR (m.state = 'dead' AND m.updated_at >= date_trunc('day', now()))), 0),
             1)::float8 AS "Failure %",
       round(avg(m.send_ms) FILTER (WHERE m.sent_at >= now() - interval '24 hours'))::int8 AS "Avg send ms"
FROM queues q LEFT JOIN messages m ON m.queue_id = q.id
GROUP BY q.id ORDER BY q.priority_class, q.name
)sql");

const QString providersSql = QStringLiteral(R"sql(
SELECT p.name AS "Provider", p.type AS "Type",
       CASE WHEN NOT p.enabled THEN 'disabled'
            WHEN p.circuit_open_until > now() THEN 'down (circuit open)'
            ELSE p.health END AS "Health",
       p.priority AS "Priority",
       count(m.id) FILTER (WHERE m.sent_at >= now() - interval '1 hour') AS "Sent last hour",
       round(100.0 * count(m.id) FILTER (WHERE m.delivery = 'delivered')
             / nullif(count(m.id), 0), 1)::float8 AS "Delivered % (24 h)",
       coalesce(p.health_reason, '') AS "Reason"
FROM providers p
LEFT JOIN messages m ON m.provider_id = p.id AND m.sent_at >= now() - interval '24 hours'
GROUP BY p.id ORDER BY p.priority, p.name
)sql");

QTableView *makeTable(QStandardItemModel *model, QWidget *parent)
{
    auto *table = new QTableView(parent);
    table->setModel(model);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionMode(QAbstractItemView::NoSelection);
    table->verticalHeader()->hide();
    table->horizontalHeader()->setStretchLastSection(true);
    table->setFocusPolicy(Qt::NoFocus);
    return table;
}

} // namespace

DashboardPage::DashboardPage(QWidget *parent)
    : Page(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 20, 24, 16);
    layout->setSpacing(12);
    m_header = new PageHeader(tr("Dashboard"),
                              tr("Today's traffic, the queues and the providers, live from the "
                                 "database."),
                              this);
    layout->addWidget(m_header);

    auto *cards = new QGridLayout;
    cards->setSpacing(12);
    cards->addWidget(addCard(QStringLiteral("status"), tr("System status")), 0, 0);
    cards->addWidget(addCard(QStringLiteral("providers"), tr("Active providers")), 0, 1);
    cards->addWidget(addCard(QStringLiteral("queues"), tr("Queues")), 0, 2);
    cards->addWidget(addCard(QStringLiteral("success"), tr("Success rate (24 h)")), 0, 3);
    cards->addWidget(addCard(QStringLiteral("sent"), tr("Sent today")), 1, 0);
    cards->addWidget(addCard(QStringLiteral("backlog"), tr("Queue backlog")), 1, 1);
    cards->addWidget(addCard(QStringLiteral("delivery"), tr("Delivered (24 h)")), 1, 2);
    cards->addWidget(addCard(QStringLiteral("sendtime"), tr("Average send time")), 1, 3);
    layout->addLayout(cards);

    auto *queuesTitle = new QLabel(tr("Queues"), this);
    queuesTitle->setObjectName(QStringLiteral("cardTitle"));
    m_queues = new QStandardItemModel(this);
    auto *queuesTable = makeTable(m_queues, this);
    m_queuesTable = queuesTable;
    queuesTable->setObjectName(QStringLiteral("queuesTable"));
    auto *providersTitle = new QLabel(tr("Providers"), this);
    providersTitle->setObjectName(QStringLiteral("cardTitle"));
    m_providers = new QStandardItemModel(this);
    auto *providersTable = makeTable(m_providers, this);
    m_providersTable = providersTable;
    providersTable->setObjectName(QStringLiteral("providersTable"));
    layout->addWidget(queuesTitle);
    layout->addWidget(queuesTable, 4);
    layout->addWidget(providersTitle);
    layout->addWidget(providersTable, 5);

    auto *buttons = new QHBoxLayout;
    for (const auto &[name, label] : {std::pair{QStringLiteral("providers"), tr("Providers…")},
                                      std::pair{QStringLiteral("queues"), tr("Queues…")},
                                      std::pair{QStringLiteral("analytics"), tr("Analytics…")}}) {
        auto *button = new QPushButton(label, this);
        button->setObjectName(QStringLiteral("goto-") + name);
        connect(button, &QPushButton::clicked, this,
                [this, page = name] { Q_EMIT pageRequested(page); });
        buttons->addWidget(button);
    }
    buttons->addStretch(1);
    m_updated = new QLabel(this);
    m_updated->setObjectName(QStringLiteral("pageSubtitle"));
    buttons->addWidget(m_updated);
    layout->addLayout(buttons);

    auto *timer = new QTimer(this);
    timer->setInterval(5000);
    connect(timer, &QTimer::timeout, this, [this] {
        if (isVisible())
            refresh();
    });
    timer->start();
}

QWidget *DashboardPage::addCard(const QString &name, const QString &title)
{
    auto *card = new QWidget(this);
    card->setObjectName(QStringLiteral("card"));
    card->setAttribute(Qt::WA_StyledBackground);
    auto *layout = new QVBoxLayout(card);
    layout->setContentsMargins(16, 12, 16, 12);
    auto *titleLabel = new QLabel(title, card);
    titleLabel->setObjectName(QStringLiteral("cardTitle"));
    Card entry;
    entry.value = new QLabel(QStringLiteral("–"), card);
    entry.value->setObjectName(QStringLiteral("cardValue"));
    entry.detail = new QLabel(card);
    entry.detail->setObjectName(QStringLiteral("cardDetail"));
    layout->addWidget(titleLabel);
    layout->addWidget(entry.value);
    layout->addWidget(entry.detail);
    m_cards.insert(name, entry);
    return card;
}

void DashboardPage::setCard(const QString &name, const QString &value, const QString &detail)
{
    const Card card = m_cards.value(name);
    if (!card.value)
        return;
    card.value->setText(value);
    card.detail->setText(detail);
}

QString DashboardPage::cardValue(const QString &name) const
{
    const Card card = m_cards.value(name);
    return card.value ? card.value->text() : QString();
}

void DashboardPage::changeEvent(QEvent *event)
{
    Page::changeEvent(event);
    // The main window disables the pages while the database is unreachable.
    if (event->type() == QEvent::EnabledChange && !isEnabled())
        setCard(QStringLiteral("status"), tr("Down"), tr("the database is unreachable"));
}

void DashboardPage::showEvent(QShowEvent *event)
{
    Page::showEvent(event);
    refresh();
}

void DashboardPage::handleEventsArrived(int count)
{
    m_eventsSeen += count;
    if (isVisible())
        refresh();
}

void DashboardPage::refresh()
{
    if (!database() || m_inFlight > 0)
        return;
    m_inFlight = 3;
    auto done = [this] {
        if (--m_inFlight == 0) {
            m_updated->setText(
                    tr("Updated %1")
                            .arg(QLocale().toString(QTime::currentTime(), QLocale::ShortFormat)));
        }
    };
    database()->query(
            summarySql, {}, this, [this, done](const Db::TableData &data, const QString &error) {
                done();
                if (!error.isEmpty() || data.rows.isEmpty()) {
                    m_header->setNotice(tr("Could not load the summary: %1").arg(error));
                    return;
                }
                m_header->setNotice({});
                const QVariantList &row = data.rows.first();
                const QLocale locale;
                const qint64 sent = row.at(0).toLongLong();
                const qint64 yesterday = row.at(1).toLongLong();
                QString change = tr("none yesterday by this time");
                if (yesterday > 0) {
                    const double percent = 100.0 * double(sent - yesterday) / double(yesterday);
                    change = tr("%1%2% against yesterday by this time")
                                     .arg(percent >= 0 ? QStringLiteral("+") : QString())
                                     .arg(locale.toString(percent, 'f', 1));
                }
                setCard(QStringLiteral("sent"), locale.toString(sent), change);
                setCard(QStringLiteral("backlog"), locale.toString(row.at(2).toLongLong()),
                        tr("%1 being processed").arg(locale.toString(row.at(3).toLongLong())));
                if (row.at(4).isNull()) {
                    setCard(QStringLiteral("delivery"), QStringLiteral("–"), tr("nothing sent"));
                } else {
                    setCard(QStringLiteral("delivery"),
                            locale.toString(100.0 * row.at(4).toDouble(), 'f', 1) + u'%',
                            tr("of messages sent in the last 24 hours"));
                }
                if (row.at(5).isNull()) {
                    setCard(QStringLiteral("sendtime"), QStringLiteral("–"),
                            tr("no send times recorded in 24 h"));
                } else {
                    setCard(QStringLiteral("sendtime"),
                            tr("%1 s").arg(locale.toString(row.at(5).toDouble(), 'f', 2)),
                            tr("handing a message to the provider"));
                }
                const qint64 enabled = row.at(6).toLongLong();
                const qint64 unwell = row.at(7).toLongLong();
                const qint64 down = row.at(8).toLongLong();
                const qint64 queues = row.at(9).toLongLong();
                const qint64 running = row.at(10).toLongLong();
                const qint64 workers = row.at(11).toLongLong();
                const qint64 due = row.at(12).toLongLong();
                setCard(QStringLiteral("providers"),
                        QStringLiteral("%1 / %2").arg(enabled - down).arg(enabled),
                        unwell == 0 ? tr("all enabled providers healthy")
                                    : tr("%n degraded or down", nullptr, int(unwell)));
                setCard(QStringLiteral("queues"),
                        QStringLiteral("%1 / %2").arg(running).arg(queues),
                        tr("running; %n active worker(s)", nullptr, int(workers)));
                if (row.at(13).isNull()) {
                    setCard(QStringLiteral("success"), QStringLiteral("–"), tr("nothing finished"));
                } else {
                    setCard(QStringLiteral("success"),
                            locale.toString(100.0 * row.at(13).toDouble(), 'f', 1) + u'%',
                            tr("sent of sent + failed"));
                }
                // Down: nothing can go out. Degraded: mail goes out, but not as it should.
                QString state = tr("Operational");
                QString reason = tr("providers healthy, workers active");
                if (enabled == 0) {
                    state = tr("Down");
                    reason = tr("no provider is enabled");
                } else if (down == enabled) {
                    state = tr("Down");
                    reason = tr("every enabled provider is down");
                } else if (due > 0 && workers == 0) {
                    state = tr("Down");
                    reason = tr("%n message(s) due but no active worker", nullptr, int(due));
                } else if (unwell > 0) {
                    state = tr("Degraded");
                    reason = down > 0 ? tr("down: %1").arg(row.at(14).toString())
                                      : tr("%n provider(s) degraded", nullptr, int(unwell));
                } else if (workers == 0) {
                    reason = tr("no active workers (nothing due)");
                }
                setCard(QStringLiteral("status"), state, reason);
                m_updated->setToolTip(reason);
            });
    for (auto [sql, table] :
         {std::pair{queuesSql, m_queuesTable}, std::pair{providersSql, m_providersTable}}) {
        database()->query(sql, {}, this,
                          [table, done](const Db::TableData &data, const QString &error) {
                              done();
                              if (!error.isEmpty())
                                  return;
                              fillModel(qobject_cast<QStandardItemModel *>(table->model()), data);
                              table->resizeColumnsToContents();
                          });
    }
}
