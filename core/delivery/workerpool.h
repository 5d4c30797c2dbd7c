#pragma once

#include "sendworker.h"

#include <QList>
#include <QObject>

class QThread;

namespace Delivery {

// This host's worker key, from owner-only files in keyDirectory or (empty) the desktop keyring;
// null with a warning in the log when there is none (providers with secrets then cannot be used
// here). With a connection, also registers the key and warns when it is not authorised yet. The
// keyring waits for D-Bus: not on a GUI thread.
std::shared_ptr<const Secrets::KeyPair> loadHostKey(const QString &keyDirectory,
                                                    Db::Connection *connection = nullptr);

// Send workers on threads of their own: what postdeskd --workers N runs, and what the GUI runs
// in-process when asked to. Each worker has its own database connection and transports.
class WorkerPool final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WorkerPool)

public:
    // settings.workerId is a prefix; each worker gets PREFIX:N.
    WorkerPool(WorkerSettings settings, int workers, QObject *parent = nullptr);
    ~WorkerPool() override;

    void start();
    // Every worker finishes what is in flight (up to graceMs) and gives back the rest; stopped()
    // follows when all are done.
    void stop(int graceMs = 30'000);
    bool isRunning() const { return !m_threads.isEmpty() && !m_stopped; }
    int size() const { return int(m_threads.size()); }

    // HOST:PID:RANDOM, unique per process.
    static QString processWorkerId();

Q_SIGNALS:
    void stopped();
    void databaseLinkChanged(bool up, const QString &reason);
    void progress(qint64 sent, qint64 failed);

private:
    void handleWorkerStopped();
    void handleSettled();

    WorkerSettings m_settings;
    int m_count;
    QList<QThread *> m_threads;
    QList<SendWorker *> m_workers;
    QList<QPair<qint64, qint64>> m_totals;
    int m_running = 0;
    bool m_stopped = false;
};

} // namespace Delivery
