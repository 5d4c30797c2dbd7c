#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace Secrets {

// Where a host keeps its private worker key. Never QSettings, never the database, never plain text
// that others can read; and no silent fallback from one store to another.
class KeyStore
{
public:
    virtual ~KeyStore() = default;
    // Error code "secrets.not_found" when there is no such entry.
    virtual Common::Result<QByteArray> load(const QString &name) = 0;
    virtual Common::Status store(const QString &name, const QByteArray &data) = 0;
    virtual Common::Status remove(const QString &name) = 0;
    // Where the key is kept, in words for the user ("the desktop keyring", "the file …").
    virtual QString describe() const = 0;
};

// The desktop keyring through QtKeychain (Secret Service on Linux). The calls wait for the keyring
// with a local event loop: use them from a worker thread or a command-line program, never the GUI
// thread.
class KeychainKeyStore final : public KeyStore
{
public:
    explicit KeychainKeyStore(QString service = QStringLiteral("postdesk"));
    Common::Result<QByteArray> load(const QString &name) override;
    Common::Status store(const QString &name, const QByteArray &data) override;
    Common::Status remove(const QString &name) override;
    QString describe() const override;

private:
    QString m_service;
};

// For servers without a keyring: one file per entry in a directory, readable by its owner only.
// A file that others can read or write is refused, not used.
class FileKeyStore final : public KeyStore
{
public:
    explicit FileKeyStore(QString directory);
    Common::Result<QByteArray> load(const QString &name) override;
    Common::Status store(const QString &name, const QByteArray &data) override;
    Common::Status remove(const QString &name) override;
    QString describe() const override;

private:
    QString path(const QString &name) const;
    QString m_directory;
};

} // namespace Secrets
