#include "querytablepage.h"

#include "db/asyncdatabase.h"
#include "pageheader.h"
#include "tablemodel.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QStandardItemModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

QueryTablePage::QueryTablePage(Definition definition, QWidget *parent)
    : Page(parent)
    , m_definition(std::move(definition))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 20, 24, 16);
    m_header = new PageHeader(m_definition.title, m_definition.subtitle, this);
    m_header->setNotice(m_definition.notice);
    m_model = new QStandardItemModel(this);
    m_model->setSortRole(Qt::UserRole);
    m_table = new QTableView(this);
    m_table->setModel(m_model);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(false);
    m_table->setSortingEnabled(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("pageSubtitle"));
    layout->addWidget(m_header);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_status);

    auto *timer = new QTimer(this);
    timer->setInterval(10000);
    connect(timer, &QTimer::timeout, this, [this] {
        if (isVisible())
            refresh();
    });
    timer->start();
}

void QueryTablePage::showEvent(QShowEvent *event)
{
    Page::showEvent(event);
    refresh();
}

void QueryTablePage::refresh()
{
    if (!database() || m_requestInFlight)
        return;
    m_requestInFlight = true;
    database()->query(m_definition.sql, {}, this,
                      [this](const Db::TableData &data, const QString &error) {
                          m_requestInFlight = false;
                          if (!error.isEmpty()) {
                              m_status->setText(tr("Could not load: %1").arg(error));
                              return;
                          }
                          fillModel(m_model, data);
                          m_table->resizeColumnsToContents();
                          m_status->setText(
                                  data.rows.isEmpty()
                                          ? m_definition.emptyText
                                          : tr("%n row(s), updated %1", nullptr,
                                               int(data.rows.size()))
                                                    .arg(QLocale().toString(QTime::currentTime(),
                                                                            QLocale::ShortFormat)));
                      });
}
