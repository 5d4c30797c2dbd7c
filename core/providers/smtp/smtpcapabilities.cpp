#include "smtpcapabilities.h"
#include "smtpreply.h"

namespace Providers {

SmtpCapabilities SmtpCapabilities::fromEhloReply(const SmtpReply &reply)
{
    SmtpCapabilities caps;
    caps.esmtp = true;
    if (!reply.lines.isEmpty())
        caps.serverName = reply.lines.first().section(u' ', 0, 0);
    for (qsizetype i = 1; i < reply.lines.size(); ++i) {
        const QString line = reply.lines.at(i).trimmed();
        if (line.isEmpty())
            continue;
        caps.keywords.append(line);
        const QStringList words = line.split(u' ', Qt::SkipEmptyParts);
        const QString keyword = words.first().toUpper();
        if (keyword == u"STARTTLS") {
            caps.startTls = true;
        } else if (keyword == u"PIPELINING") {
            caps.pipelining = true;
        } else if (keyword == u"8BITMIME") {
            caps.eightBitMime = true;
        } else if (keyword == u"SMTPUTF8") {
            caps.smtpUtf8 = true;
        } else if (keyword == u"ENHANCEDSTATUSCODES") {
            caps.enhancedStatusCodes = true;
        } else if (keyword == u"SIZE") {
            caps.size = true;
            if (words.size() > 1)
                caps.maxSize = words.at(1).toLongLong();
        } else if (keyword == u"AUTH" || keyword.startsWith(u"AUTH=")) {
            // "AUTH=PLAIN LOGIN" is the pre-RFC 4954 form some servers still send.
            QStringList mechanisms = words.mid(1);
            if (keyword.startsWith(u"AUTH="))
                mechanisms.prepend(words.first().mid(5));
            for (const QString &m : std::as_const(mechanisms)) {
                const QString upper = m.toUpper();
                if (!upper.isEmpty() && !caps.authMechanisms.contains(upper))
                    caps.authMechanisms.append(upper);
            }
        }
    }
    return caps;
}

} // namespace Providers
