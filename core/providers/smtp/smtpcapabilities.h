#pragma once

#include <QStringList>

namespace Providers {

struct SmtpReply;

// What a server offers in its EHLO reply (RFC 5321 4.1.1.1 and the extensions' RFCs).
struct SmtpCapabilities
{
    QString serverName;               // the first word of the first line
    bool esmtp = false;               // false after a HELO fallback
    bool startTls = false;            // RFC 3207
    bool pipelining = false;          // RFC 2920
    bool eightBitMime = false;        // RFC 6152
    bool smtpUtf8 = false;            // RFC 6531
    bool enhancedStatusCodes = false; // RFC 2034
    bool size = false;                // RFC 1870
    qint64 maxSize = 0;               // 0: no limit announced
    QStringList authMechanisms;       // upper case, e.g. {"PLAIN", "LOGIN"}
    QStringList keywords;             // every extension line as sent, e.g. "SIZE 10240000"

    static SmtpCapabilities fromEhloReply(const SmtpReply &reply);
};

} // namespace Providers
