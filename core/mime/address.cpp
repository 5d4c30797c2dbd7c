#include "mime/address.h"

#include "mime/encoders.h"

#include <QHostAddress>
#include <QUrl>

namespace Mime {

namespace {

const QString InvalidAddress = QStringLiteral("mime.address.invalid");

Common::Error addressError(const QString &text, const QString &reason)
{
    return Common::makeError(InvalidAddress,
                             QStringLiteral("\"%1\" is not a valid email address: %2.")
                                     .arg(text.left(200), reason));
}

bool isAtext(char16_t c)
{
    if ((c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9'))
        return true;
    return c < 0x80 && QStringView(u"!#$%&'*+-/=?^_`{|}~").contains(QChar(c));
}

// RFC 5321 section 4.1.2 Local-part (dot-string or quoted-string), extended by RFC 6531 section
// 3.3 with UTF-8. Returns the reason it is invalid, or an empty string.
QString checkLocalPart(const QString &local, bool *utf8)
{
    *utf8 = false;
    if (local.isEmpty())
        return QStringLiteral("there is nothing before the @");
    if (local.toUtf8().size() > 64)
        return QStringLiteral("the part before the @ is longer than 64 octets (RFC 5321 section "
                              "4.5.3.1.1)");
    if (local.startsWith(u'"')) {
        if (local.size() < 2 || !local.endsWith(u'"'))
            return QStringLiteral("the quoted part before the @ is not closed");
        for (qsizetype i = 1; i < local.size() - 1; ++i) {
            const char16_t c = local.at(i).unicode();
            if (c >= 0x80) {
                *utf8 = true;
            } else if (c == u'\\') {
                ++i;
                if (i >= local.size() - 1 || local.at(i).unicode() < 0x20
                    || local.at(i).unicode() == 0x7F)
                    return QStringLiteral("a backslash in the quoted part must escape a "
                                          "printable character");
            } else if (c == u'"') {
                return QStringLiteral("a quote inside the quoted part must be escaped");
            } else if (c < 0x20 || c == 0x7F) {
                return QStringLiteral("the part before the @ contains a control character");
            }
        }
        return {};
    }
    if (local.startsWith(u'.') || local.endsWith(u'.') || local.contains(u".."))
        return QStringLiteral("the part before the @ may not start or end with a dot or hold "
                              "two dots in a row");
    for (const QChar ch : local) {
        const char16_t c = ch.unicode();
        if (c >= 0x80) {
            *utf8 = true;
        } else if (c != u'.' && !isAtext(c)) {
            if (c < 0x20 || c == 0x7F)
                return QStringLiteral("the part before the @ contains a control character");
            return QStringLiteral("the part before the @ contains '%1', which is only allowed "
                                  "inside quotes")
                    .arg(ch);
        }
    }
    return {};
}

// A host name (letters, digits, hyphens; RFC 5321 section 4.1.2 sub-domain, RFC 1035) as
// A-labels. Returns the reason it is invalid, or an empty string.
QString checkDomain(const QString &domain, QByteArray *ascii)
{
    if (domain.isEmpty())
        return QStringLiteral("there is nothing after the @");
    if (domain.startsWith(u'[')) {
        if (!domain.endsWith(u']'))
            return QStringLiteral("the address literal is not closed with ']'");
        const QString inner = domain.mid(1, domain.size() - 2);
        QHostAddress host;
        bool ok;
        if (inner.startsWith(u"IPv6:", Qt::CaseInsensitive)) {
            ok = host.setAddress(inner.mid(5)) && host.protocol() == QAbstractSocket::IPv6Protocol;
        } else {
            ok = inner.count(u'.') == 3 && host.setAddress(inner)
                    && host.protocol() == QAbstractSocket::IPv4Protocol;
        }
        if (!ok)
            return QStringLiteral("the address literal %1 is neither an IPv4 address nor "
                                  "IPv6:<address>")
                    .arg(domain);
        *ascii = domain.toLatin1();
        return {};
    }
    if (domain.endsWith(u'.') || domain.startsWith(u'.') || domain.contains(u".."))
        return QStringLiteral("the domain may not start or end with a dot or hold two dots in a "
                              "row");
    QByteArray ace = Encoders::isAscii(domain) ? domain.toLatin1().toLower() : QUrl::toAce(domain);
    if (ace.isEmpty())
        return QStringLiteral("the domain %1 is not a valid international domain name").arg(domain);
    if (ace.size() > 253)
        return QStringLiteral("the domain is longer than 253 characters");
    qsizetype labelStart = 0;
    for (qsizetype i = 0; i <= ace.size(); ++i) {
        if (i < ace.size() && ace.at(i) != '.') {
            const char c = ace.at(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '-'))
                return QStringLiteral("the domain contains '%1'; a domain has only letters, "
                                      "digits, hyphens and dots")
                        .arg(QLatin1Char(c));
            continue;
        }
        const qsizetype length = i - labelStart;
        if (length == 0)
            return QStringLiteral("the domain has an empty label");
        if (length > 63)
            return QStringLiteral("a label of the domain is longer than 63 characters");
        if (ace.at(labelStart) == '-' || ace.at(i - 1) == '-')
            return QStringLiteral("a label of the domain starts or ends with a hyphen");
        labelStart = i + 1;
    }
    *ascii = ace;
    return {};
}

} // namespace

Common::Result<Address> Address::create(const QString &addrSpec, const QString &displayName)
{
    const QString described = displayName.isEmpty()
            ? addrSpec
            : displayName + QStringLiteral(" <") + addrSpec + u'>';
    return build(described, addrSpec, displayName);
}

Common::Result<Address> Address::build(const QString &described, const QString &addrSpec,
                                       const QString &displayName)
{
    if (Encoders::hasLineBreak(addrSpec) || Encoders::hasLineBreak(displayName))
        return Common::fail(
                addressError(described.simplified(), QStringLiteral("it contains a line break")));
    for (const QChar ch : displayName) {
        if (ch.unicode() < 0x20 && ch != u'\t')
            return Common::fail(
                    addressError(described,
                                 QStringLiteral("the name contains a control character")));
    }
    const QString spec = addrSpec.trimmed();
    if (spec.isEmpty())
        return Common::fail(addressError(described, QStringLiteral("the address is empty")));
    const qsizetype at = spec.lastIndexOf(u'@');
    if (at < 0)
        return Common::fail(addressError(described, QStringLiteral("it has no @")));

    Address address;
    address.m_displayName = displayName.trimmed();
    address.m_localPart = spec.left(at);
    if (const QString reason = checkLocalPart(address.m_localPart, &address.m_smtpUtf8);
        !reason.isEmpty())
        return Common::fail(addressError(described, reason));
    if (const QString reason = checkDomain(spec.mid(at + 1), &address.m_asciiDomain);
        !reason.isEmpty())
        return Common::fail(addressError(described, reason));
    if (address.m_localPart.toUtf8().size() + 1 + address.m_asciiDomain.size() > 254)
        return Common::fail(
                addressError(described, QStringLiteral("it is longer than 254 octets (RFC 5321)")));
    address.m_domain = address.isDomainLiteral()
            ? QString::fromLatin1(address.m_asciiDomain)
            : QUrl::fromAce(address.m_asciiDomain, QUrl::IgnoreIDNWhitelist);
    if (address.m_domain.isEmpty())
        address.m_domain = QString::fromLatin1(address.m_asciiDomain);
    return address;
}

Common::Result<Address> Address::parse(const QString &text)
{
    if (Encoders::hasLineBreak(text))
        return Common::fail(
                addressError(text.simplified(), QStringLiteral("it contains a line break")));
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return Common::fail(InvalidAddress, QStringLiteral("An email address is empty."));
    if (!trimmed.endsWith(u'>'))
        return build(trimmed, trimmed, {});

    // Find the '<' of the angle-addr: the last one outside a quoted display name.
    qsizetype open = -1;
    bool inQuote = false;
    for (qsizetype i = 0; i < trimmed.size() - 1; ++i) {
        const QChar c = trimmed.at(i);
        if (inQuote && c == u'\\') {
            ++i;
        } else if (c == u'"') {
            inQuote = !inQuote;
        } else if (!inQuote && c == u'<') {
            open = i;
        }
    }
    if (open < 0)
        return Common::fail(addressError(trimmed, QStringLiteral("it has a '>' but no '<'")));
    QString name = trimmed.left(open).trimmed();
    const QString spec = trimmed.mid(open + 1, trimmed.size() - open - 2).trimmed();
    // The phrase as text: quoted-strings lose their quotes and escapes (RFC 5322 section 3.2.4),
    // wherever they stand in it.
    if (name.contains(u'"')) {
        QString unquoted;
        unquoted.reserve(name.size());
        bool quoted = false;
        for (qsizetype i = 0; i < name.size(); ++i) {
            const QChar c = name.at(i);
            if (c == u'"') {
                quoted = !quoted;
                continue;
            }
            if (quoted && c == u'\\' && i + 1 < name.size())
                ++i;
            unquoted.append(name.at(i));
        }
        name = unquoted;
    }
    return build(trimmed, spec, name);
}

Common::Result<QList<Address>> Address::parseList(const QString &text)
{
    QList<Address> addresses;
    qsizetype start = 0;
    bool inQuote = false;
    bool inAngle = false;
    for (qsizetype i = 0; i <= text.size(); ++i) {
        const QChar c = i < text.size() ? text.at(i) : QChar(u',');
        if (inQuote && c == u'\\') {
            ++i;
            continue;
        }
        if (c == u'"') {
            inQuote = !inQuote;
        } else if (!inQuote && c == u'<') {
            inAngle = true;
        } else if (!inQuote && c == u'>') {
            inAngle = false;
        } else if (!inQuote && !inAngle && c == u',') {
            const QString entry = text.mid(start, i - start).trimmed();
            start = i + 1;
            if (entry.isEmpty())
                continue;
            auto address = parse(entry);
            if (!address)
                return Common::fail(address.error());
            addresses.append(*address);
        }
    }
    return addresses;
}

Common::Result<QByteArray> Address::asciiDomainName(const QString &domain)
{
    QByteArray ascii;
    if (Encoders::hasLineBreak(domain))
        return Common::fail(QStringLiteral("mime.domain.invalid"),
                            QStringLiteral("A domain contains a line break."));
    if (const QString reason = checkDomain(domain.trimmed(), &ascii); !reason.isEmpty())
        return Common::fail(QStringLiteral("mime.domain.invalid"),
                            QStringLiteral("\"%1\" is not a valid domain: %2.")
                                    .arg(domain.left(200), reason));
    return ascii;
}

QString Address::addrSpec() const
{
    return m_localPart + u'@' + m_domain;
}

QByteArray Address::envelopeAddress() const
{
    return m_localPart.toUtf8() + '@' + m_asciiDomain;
}

QByteArray Address::toHeader() const
{
    if (m_displayName.isEmpty())
        return envelopeAddress();
    return Encoders::phrase(m_displayName) + " <" + envelopeAddress() + '>';
}

QString Address::toString() const
{
    if (m_displayName.isEmpty())
        return addrSpec();
    // Quoted when parse() would otherwise read it differently.
    bool plain = !m_displayName.contains(QStringLiteral("  "));
    for (const QChar ch : m_displayName) {
        const char16_t c = ch.unicode();
        if (c < 0x80 && c != u' ' && !isAtext(c)) {
            plain = false;
            break;
        }
    }
    if (plain)
        return m_displayName + QStringLiteral(" <") + addrSpec() + u'>';
    QString quoted;
    quoted.reserve(m_displayName.size() + addrSpec().size() + 8);
    quoted.append(u'"');
    for (const QChar ch : m_displayName) {
        if (ch == u'"' || ch == u'\\')
            quoted.append(u'\\');
        quoted.append(ch);
    }
    return quoted + QStringLiteral("\" <") + addrSpec() + u'>';
}

} // namespace Mime
