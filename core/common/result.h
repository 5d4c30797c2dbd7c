#pragma once

#include <QString>

#include <tl/expected.hpp>

namespace Common {

// Whether trying the same operation again later can succeed. The retry policy reads this.
enum class Retry { Permanent, Transient };

// An error as a value: a stable code for programs, a message a person can act on, the technical
// detail behind it (SMTP reply, HTTP status, SQLSTATE, ...) and whether a retry can help.
struct Error
{
    QString code;
    QString message;
    QString detail;
    Retry retry = Retry::Permanent;

    bool isTransient() const { return retry == Retry::Transient; }

    // "message (detail)" for logs and command-line output.
    QString toString() const
    {
        return detail.isEmpty() ? message : message + QStringLiteral(" (") + detail + u')';
    }
};

inline Error makeError(QString code, QString message, QString detail = {},
                       Retry retry = Retry::Permanent)
{
    return Error{std::move(code), std::move(message), std::move(detail), retry};
}

template<typename T>
using Result = tl::expected<T, Error>;

using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> fail(QString code, QString message, QString detail = {},
                                  Retry retry = Retry::Permanent)
{
    return tl::unexpected<Error>(
            makeError(std::move(code), std::move(message), std::move(detail), retry));
}

inline tl::unexpected<Error> fail(Error error)
{
    return tl::unexpected<Error>(std::move(error));
}

} // namespace Common
