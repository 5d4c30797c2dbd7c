#include "keystore.h"

#include <QMutex>

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>

#include <qt6keychain/keychain.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Secrets {

namespace {
// The keyring library is not safe to use from several threads at once (send workers start
// together): one call at a time in this process.
QMutex keychainMutex;
} // namespace

namespace {

// Runs a QtKeychain job to completion.
template<typename Job>
void runJob(Job &job)
{
    job.setAutoDelete(false);
    QEventLoop loop;
    QObject::connect(&job, &QKeychain::Job::finished, &loop, &QEventLoop::quit);
    job.start();
    loop.exec();
}

Common::Error keychainError(const QKeychain::Job &job)
{
    return Common::makeError(
            QStringLiteral("secrets.keyring_unavailable"),
            QStringLiteral("The desktop keyring could not be used: %1. Unlock or start a keyring "
                           "(Secret Service, e.g. gnome-keyring), or on a server keep the worker "
                           "key in a file with --key-dir.")
                    .arg(job.errorString()),
            QStringLiteral("QtKeychain error %1").arg(int(job.error())));
}

} // namespace

KeychainKeyStore::KeychainKeyStore(QString service)
    : m_service(std::move(service))
{ }

Common::Result<QByteArray> KeychainKeyStore::load(const QString &name)
{
    const QMutexLocker locked(&keychainMutex);
    QKeychain::ReadPasswordJob job(m_service);
    job.setKey(name);
    runJob(job);
    if (job.error() == QKeychain::EntryNotFound) {
        return Common::fail(QStringLiteral("secrets.not_found"),
                            QStringLiteral("There is no %1 in the desktop keyring.").arg(name));
    }
    if (job.error() != QKeychain::NoError)
        return Common::fail(keychainError(job));
    return job.binaryData();
}

Common::Status KeychainKeyStore::store(const QString &name, const QByteArray &data)
{
    const QMutexLocker locked(&keychainMutex);
    QKeychain::WritePasswordJob job(m_service);
    job.setKey(name);
    job.setBinaryData(data);
    runJob(job);
    if (job.error() != QKeychain::NoError)
        return Common::fail(keychainError(job));
    return {};
}

Common::Status KeychainKeyStore::remove(const QString &name)
{
    const QMutexLocker locked(&keychainMutex);
    QKeychain::DeletePasswordJob job(m_service);
    job.setKey(name);
    runJob(job);
    if (job.error() != QKeychain::NoError && job.error() != QKeychain::EntryNotFound)
        return Common::fail(keychainError(job));
    return {};
}

QString KeychainKeyStore::describe() const
{
    return QStringLiteral("the desktop keyring (service \"%1\")").arg(m_service);
}

FileKeyStore::FileKeyStore(QString directory)
    : m_directory(std::move(directory))
{ }

QString FileKeyStore::path(const QString &name) const
{
    return m_directory + u'/' + name;
}

Common::Result<QByteArray> FileKeyStore::load(const QString &name)
{
    const QString file = path(name);
    struct stat st;
    if (::stat(QFile::encodeName(file).constData(), &st) != 0) {
        return Common::fail(QStringLiteral("secrets.not_found"),
                            QStringLiteral("There is no key file %1.").arg(file));
    }
    if ((st.st_mode & 077) != 0 || st.st_uid != ::geteuid()) {
        return Common::fail(QStringLiteral("secrets.unsafe_file"),
                            QStringLiteral("The key file %1 may be read or changed by others "
                                           "(mode %2); it is not used. Make it yours with mode "
                                           "600: chmod 600 %1")
                                    .arg(file)
                                    .arg(st.st_mode & 0777, 3, 8, QLatin1Char('0')));
    }
    QFile in(file);
    if (!in.open(QIODevice::ReadOnly)) {
        return Common::fail(QStringLiteral("secrets.unreadable"),
                            QStringLiteral("Could not read %1: %2").arg(file, in.errorString()));
    }
    return in.readAll();
}

Common::Status FileKeyStore::store(const QString &name, const QByteArray &data)
{
    if (!QDir().mkpath(m_directory)) {
        return Common::fail(QStringLiteral("secrets.unwritable"),
                            QStringLiteral("Could not create %1.").arg(m_directory));
    }
    ::chmod(QFile::encodeName(m_directory).constData(), 0700);
    // Created owner-only before a byte is written, then renamed into place.
    const QByteArray target = QFile::encodeName(path(name));
    const QByteArray temporary = target + ".tmp";
    const int fd = ::open(temporary.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && ::fchmod(fd, 0600) == 0
            && ::write(fd, data.constData(), size_t(data.size())) == ssize_t(data.size())
            && ::fsync(fd) == 0;
    if (fd >= 0)
        ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(temporary.constData(), target.constData()) != 0) {
        ::unlink(temporary.constData());
        return Common::fail(QStringLiteral("secrets.unwritable"),
                            QStringLiteral("Could not write %1: %2")
                                    .arg(path(name), QString::fromLocal8Bit(strerror(errno))));
    }
    return {};
}

Common::Status FileKeyStore::remove(const QString &name)
{
    QFile::remove(path(name));
    return {};
}

QString FileKeyStore::describe() const
{
    return QStringLiteral("files in %1, readable by their owner only").arg(m_directory);
}

} // namespace Secrets
