#include "workerpool.h"

#include "common/logging.h"
#include "secrets/keystore.h"
#include "secrets/sealedbox.h"
#include "secrets/secretrepository.h"

#include <QCoreApplication>
#include <QHostInfo>
#include <QRandomGenerator>
#include <QThread>

#include <mutex>

namespace Delivery {

std::shared_ptr<const Secrets::KeyPair> loadHostKey(const QString &keyDirectory,
                                                    Db::Connection *connection)
{
    std::unique_ptr<Secrets::KeyStore> store;
    if (!keyDirectory.isEmpty())
        store = std::make_unique<Secrets::FileKeyStore>(keyDirectory);
    else
        store = std::make_unique<Secrets::KeychainKeyStore>();
    auto own = store->load(QStringLiteral("worker-key"));
    if (!own) {
        const QString init = keyDirectory.isEmpty()
                ? QStringLiteral("postdeskctl worker init")
                : QStringLiteral("postdeskctl worker init --key-dir ") + keyDirectory;
        qCWarning(lcQueue).noquote().nospace()
                << "no worker key in " << store->describe() << " (" << own.error().message
                << "): providers with secrets cannot be used here. Run '" << init
                << "' and have an admin authorise the key.";
        return nullptr;
    }
    auto pair = Secrets::KeyPair::fromPrivateKey(*own);
    if (!pair) {
        qCWarning(lcQueue).noquote() << "the worker key is unusable:" << pair.error().message;
        return nullptr;
    }
    if (!connection)
        return std::make_shared<const Secrets::KeyPair>(*pair);
    Secrets::SecretRepository secrets(*connection);
    if (auto keys = secrets.keys(); keys) {
        const auto mine = std::find_if(keys->cbegin(), keys->cend(),
                                       [&](const auto &k) { return k.id == pair->id(); });
        if (mine == keys->cend() || !mine->authorisedAt.isValid()) {
            secrets.registerKey(QHostInfo::localHostName(), pair->publicKey());
            qCWarning(lcQueue).noquote()
                    << "this host's worker key" << pair->id()
                    << "is not authorised yet: postdeskctl worker authorise" << pair->id();
        }
    }
    return std::make_shared<const Secrets::KeyPair>(*pair);
}

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
    if (m_settings.hostKeyLoader) {
        // The key is loaded once for all the workers, by whichever starts first.
        struct Once
        {
            std::mutex mutex;
            bool done = false;
            std::shared_ptr<const Secrets::KeyPair> key;
        };
        auto once = std::make_shared<Once>();
        m_settings.hostKeyLoader = [once, load = m_settings.hostKeyLoader] {
            const std::lock_guard locked(once->mutex);
            if (!once->done) {
                once->key = load();
                once->done = true;
            }
            return once->key;
        };
    }
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
    qCInfo(lcQueue).noquote() << "started" << m_count
                              << (m_count == 1 ? "send worker as" : "send workers as") << prefix;
}

void WorkerPool::stop(int graceMs)
{
    if (m_threads.isEmpty() || m_stopped) {
        Q_EMIT stopped();
        return;
    }
    for (SendWorker *worker : std::as_const(m_workers)) {
        QMetaObject::invokeMethod(
                worker, [worker, graceMs] { worker->stop(graceMs); }, Qt::QueuedConnection);
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
