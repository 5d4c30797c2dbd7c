#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace Mime {

// Reads a composed RFC 5322 / MIME message back, enough to show it: the decoded subject, and the
// text/plain and text/html bodies (quoted-printable and base64 decoded, UTF-8 or Latin-1), found
// in nested multiparts. For the sandbox inbox, which shows what a provider would have sent.
class MessageReader
{
public:
    struct Parsed
    {
        QString subject;
        QString from;
        QString to;
        QString text;
        QString html;
    };

    static Parsed read(const QByteArray &message);
};

} // namespace Mime
