#include "queuewaiter.h"

#include "db/connection.h"
#include "queuetypes.h"

#include <QDeadlineTimer>

#include <cerrno>
#include <poll.h>

namespace Queue {

QueueWaiter::QueueWaiter(Db::Connection &connection)
    : m_connection(connection)
{ }

Common::Status QueueWaiter::start()
{
    return m_connection.listen(QString::fromLatin1(notifyChannel));
}

Common::Result<QStringList> QueueWaiter::wait(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    QStringList queueIds;
    const auto collect = [&] {
        for (const auto &notification : m_connection.takeNotifications()) {
            if (notification.channel == QLatin1String(notifyChannel))
                queueIds += notification.payload.split(u',', Qt::SkipEmptyParts);
        }
    };
    collect();
    while (queueIds.isEmpty()) {
        const qint64 remaining = deadline.remainingTime();
        if (remaining == 0)
            break;
        pollfd fd{m_connection.socketDescriptor(), POLLIN, 0};
        if (fd.fd < 0) {
            return Common::fail(QStringLiteral("db.connection_lost"),
                                QStringLiteral("The connection to PostgreSQL was lost while "
                                               "waiting for queue notifications."),
                                {}, Common::Retry::Transient);
        }
        const int ready = ::poll(&fd, 1, remaining < 0 ? -1 : int(remaining));
        if (ready < 0 && errno != EINTR) {
            return Common::fail(QStringLiteral("queue.wait_failed"),
                                QStringLiteral("Waiting for queue notifications failed."),
                                QString::fromLocal8Bit(strerror(errno)), Common::Retry::Transient);
        }
        if (ready > 0) {
            collect();
            if (!m_connection.isAlive()) {
                return Common::fail(QStringLiteral("db.connection_lost"),
                                    QStringLiteral("The connection to PostgreSQL was lost while "
                                                   "waiting for queue notifications."),
                                    {}, Common::Retry::Transient);
            }
        }
    }
    queueIds.removeDuplicates();
    return queueIds;
}

} // namespace Queue
