#include "workerpool.h"

#include "common/logging.h"

#include <QCoreApplication>
#include <QHostInfo>
#include <QRandomGenerator>
#include <QThread>

namespace Delivery {

WorkerPool::WorkerPool(WorkerSettings settings, int workers, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
    , m_count(std::max(1, workers))
{ }

WorkerPool::~WorkerPool()
{
    for (QThread *thread : std::as_const(m_threads)) {
        thread->quit();
        thread->wait();
    }
}

QString WorkerPool::processWorkerId()
{
    return QStringLiteral("%1:%2:%3")
            .arg(QHostInfo::localHostName())
            .arg(QCoreApplication::applicationPid())
            .arg(QRandomGenerator::global()->generate() % 0x10000, 4, 16, QLatin1Char('0'));
}

void WorkerPool::start()
{
    if (!m_threads.isEmpty())
        return;
    const QString prefix = m_settings.workerId.isEmpty() ? processWorkerId() : m_settings.workerId;
    for (int i = 0; i < m_count; ++i) {
        WorkerSettings settings = m_settings;
        settings.workerId = QStringLiteral("%1:%2").arg(prefix).arg(i + 1);
        auto *thread = new QThread(this);
        thread->setObjectName(QStringLiteral("send-worker-%1").arg(i + 1));
        auto *worker = new SendWorker(settings);
        worker->moveToThread(thread);
        connect(thread, &QThread::started, worker, &SendWorker::start);
        connect(thread, &QThread::finished, worker, &QObject::deleteLater);
        connect(worker, &SendWorker::stopped, this, &WorkerPool::handleWorkerStopped);
        connect(worker, &SendWorker::databaseLinkChanged, this, &WorkerPool::databaseLinkChanged);
        connect(worker, &SendWorker::settled, this, [this, i](qint64 sent, qint64 failed) {
            m_totals[i] = {sent, failed};
            handleSettled();
        });
        m_threads.append(thread);
        m_workers.append(worker);
        m_totals.append({0, 0});
    }
    m_running = m_count;
    for (QThread *thread : std::as_const(m_threads))
        thread->start();
    qCInfo(lcQueue).noquote() << "started" << m_count << "send workers as" << prefix;
}

void WorkerPool::stop(int graceMs)
{
    if (m_threads.isEmpty() || m_stopped) {
        Q_EMIT stopped();
        return;
    }
    for (SendWorker *worker : std::as_const(m_workers)) {
        QMetaObject::invokeMethod(worker, [worker, graceMs] { worker->stop(graceMs); },
                                  Qt::QueuedConnection);
    }
}

void WorkerPool::handleWorkerStopped()
{
    if (--m_running > 0)
        return;
    m_stopped = true;
    for (QThread *thread : std::as_const(m_threads)) {
        thread->quit();
        thread->wait();
    }
    Q_EMIT stopped();
}

void WorkerPool::handleSettled()
{
    qint64 sent = 0, failed = 0;
    for (const auto &[s, f] : std::as_const(m_totals)) {
        sent += s;
        failed += f;
    }
    Q_EMIT progress(sent, failed);
}

} // namespace Delivery
