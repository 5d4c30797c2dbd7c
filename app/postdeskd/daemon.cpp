#include "daemon.h"

#include "common/logging.h"
#include "db/connection.h"
#include "delivery/workerpool.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// Self-pipe: the signal handler only writes a byte; the event loop does the rest.
int signalPipe[2] = {-1, -1};

void onSignal(int signal)
{
    const char byte = char(signal);
    [[maybe_unused]] const ssize_t written = ::write(signalPipe[0], &byte, 1);
}

} // namespace

Daemon::Daemon(Db::DatabaseConfig config, DaemonOptions options, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_options(std::move(options))
{ }

Daemon::~Daemon() = default;

bool Daemon::installSignalHandlers()
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, signalPipe) != 0)
        return false;
    m_signalNotifier = new QSocketNotifier(signalPipe[1], QSocketNotifier::Read, this);
    connect(m_signalNotifier, &QSocketNotifier::activated, this, &Daemon::handleSignal);
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(SIGTERM, &action, nullptr) == 0 && sigaction(SIGINT, &action, nullptr) == 0;
}

void Daemon::start()
{
    m_timer = new QTimer(this);
    connect(m_timer, &QTimer::timeout, this, &Daemon::handleTick);
    qCInfo(lcDb).noquote() << "postdeskd: using" << m_config.describe();
    connectDatabase();
    m_timer->start(m_connection ? 5000 : 1000);
}

bool Daemon::connectDatabase()
{
    auto opened = m_prepared ? m_config.open({false, QStringLiteral("postdeskd")})
                             : m_config.open({true, QStringLiteral("postdeskd")});
    if (!opened) {
        qCWarning(lcDb).noquote() << "postdeskd:" << opened.error().toString();
        if (!opened.error().isTransient() && !m_prepared) {
            // A bad connection string or a schema too new for this program will not heal.
            QMetaObject::invokeMethod(
                    qApp, [] { QCoreApplication::exit(1); }, Qt::QueuedConnection);
        }
        return false;
    }
    m_connection = std::move(*opened);
    m_prepared = true;
    qCInfo(lcDb).noquote() << "postdeskd: connected to PostgreSQL"
                           << m_connection->serverVersionString() << "(schema up to date)";
    if (m_options.workers > 0 && !m_workers)
        startWorkers();
    return true;
}

void Daemon::startWorkers()
{
    Delivery::WorkerSettings settings;
    settings.database = m_connection->info();
    settings.queues = m_options.queues;
    settings.concurrency = m_options.concurrency;
    settings.leaseSeconds = m_options.leaseSeconds;
    settings.hostKey = Delivery::loadHostKey(m_options.keyDirectory, m_connection.get());
    m_workers = new Delivery::WorkerPool(settings, m_options.workers, this);
    connect(m_workers, &Delivery::WorkerPool::stopped, this, [] {
        qCInfo(lcQueue) << "postdeskd: send workers stopped";
        QCoreApplication::quit();
    });
    m_workers->start();
}

void Daemon::handleTick()
{
    if (!m_connection) {
        if (connectDatabase())
            m_timer->start(5000);
        return;
    }
    if (auto ok = m_connection->ping(); !ok) {
        qCWarning(lcDb).noquote() << "postdeskd: database link lost:" << ok.error().toString();
        m_connection.reset();
        m_timer->start(1000);
    }
}

void Daemon::handleSignal()
{
    char byte = 0;
    [[maybe_unused]] const ssize_t got = ::read(signalPipe[1], &byte, 1);
    qCInfo(lcDb) << "postdeskd: signal" << int(byte) << "received, shutting down";
    if (m_workers && m_workers->isRunning() && !m_shuttingDown) {
        m_shuttingDown = true;
        m_workers->stop(m_options.graceMs);
        return;
    }
    m_timer->stop();
    m_connection.reset();
    QCoreApplication::quit();
}
