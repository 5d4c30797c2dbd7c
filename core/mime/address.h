#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace Mime {

// A validated mailbox: an optional display name and an addr-spec (RFC 5322 section 3.4). Only the
// factories make one, so a non-null Address is always safe to write into a header or an SMTP
// envelope: the local part is a dot-atom or quoted-string (RFC 5321 section 4.1.2), the domain a
// host name (international names kept alongside their A-labels, RFC 5890) or an address literal,
// and no part holds a CR or LF.
class Address
{
public:
    Address() = default;

    // "user@example.org", "Name <user@example.org>", "\"Last, First\" <user@example.org>" or
    // "<user@example.org>". The error names the address and says what is wrong with it.
    static Common::Result<Address> parse(const QString &text);
    // A display name and a bare addr-spec given separately (the name needs no quoting).
    static Common::Result<Address> create(const QString &addrSpec, const QString &displayName = {});
    // A comma-separated list of the forms parse() accepts.
    static Common::Result<QList<Address>> parseList(const QString &text);
    // A host name (international names allowed) as A-labels, e.g. for a Message-ID or a DKIM d=.
    static Common::Result<QByteArray> asciiDomainName(const QString &domain);

    bool isNull() const { return m_localPart.isEmpty(); }

    QString displayName() const { return m_displayName; }
    // As written in the address, quotes included when it is a quoted-string.
    QString localPart() const { return m_localPart; }
    // The domain for people: U-labels for an international domain name.
    QString domain() const { return m_domain; }
    // The domain on the wire: A-labels ("xn--...") or an address literal.
    QByteArray asciiDomain() const { return m_asciiDomain; }
    bool isDomainLiteral() const { return m_asciiDomain.startsWith('['); }
    // A local part outside ASCII can only travel with SMTPUTF8 (RFC 6531) and UTF-8 headers
    // (RFC 6532).
    bool needsSmtpUtf8() const { return m_smtpUtf8; }

    // local@domain, for people.
    QString addrSpec() const;
    // local@a-label-domain: for MAIL FROM / RCPT TO and headers (UTF-8 only if needsSmtpUtf8()).
    QByteArray envelopeAddress() const;
    // The mailbox as it goes into From, To, Cc or Reply-To: phrase <local@a-label-domain>.
    QByteArray toHeader() const;
    // "Name <local@domain>" for people and logs (the name quoted where needed), which parse()
    // reads back as the same address.
    QString toString() const;

    friend bool operator==(const Address &a, const Address &b)
    {
        return a.m_displayName == b.m_displayName && a.m_localPart == b.m_localPart
                && a.m_asciiDomain == b.m_asciiDomain;
    }

private:
    // described: the address as the caller wrote it, for the error message.
    static Common::Result<Address> build(const QString &described, const QString &addrSpec,
                                         const QString &displayName);

    QString m_displayName;
    QString m_localPart;
    QString m_domain;
    QByteArray m_asciiDomain;
    bool m_smtpUtf8 = false;
};

} // namespace Mime
