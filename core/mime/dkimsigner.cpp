#include "mime/dkimsigner.h"

#include "mime/address.h"
#include "mime/encoders.h"

#include <QHash>
#include <QList>

#include <cstring>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace Mime {

struct DkimSigner::Key
{
    EVP_PKEY *pkey = nullptr;
    Algorithm algorithm = Algorithm::RsaSha256;

    Key() = default;
    Key(const Key &) = delete;
    Key &operator=(const Key &) = delete;
    ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

const QString InvalidKey = QStringLiteral("mime.dkim.key");
const QString SigningFailed = QStringLiteral("mime.dkim.sign");

// The reason OpenSSL gave for the last failure (its error queue is per thread).
QString opensslError()
{
    QString detail;
    while (const unsigned long code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        if (!detail.isEmpty())
            detail += QStringLiteral("; ");
        detail += QString::fromLatin1(buffer);
    }
    return detail;
}

// A PEM passphrase callback that gives none: an encrypted key fails instead of prompting on a
// terminal.
int noPassphrase(char *, int, int, void *)
{
    return 0;
}

inline bool isWsp(char c)
{
    return c == ' ' || c == '\t';
}

// One header field of the message: its lower-case name and the whole raw field (name, colon,
// value, folding), without the final CRLF.
struct Field
{
    QByteArray name;
    QByteArrayView raw;
};

// RFC 6376 section 3.4.2, relaxed header canonicalization: lower-case name, no whitespace around
// the colon, the value unfolded with each whitespace run as one space and none at either end.
void appendRelaxedHeader(QByteArray &out, const Field &field, bool withCrlf)
{
    out.append(field.name);
    out.append(':');
    const qsizetype colon = field.raw.indexOf(':');
    bool pendingSpace = false;
    bool started = false;
    for (qsizetype i = colon + 1; i < field.raw.size(); ++i) {
        const char c = field.raw.at(i);
        if (c == '\r' || c == '\n')
            continue;
        if (isWsp(c)) {
            pendingSpace = started;
            continue;
        }
        if (pendingSpace)
            out.append(' ');
        pendingSpace = false;
        started = true;
        out.append(c);
    }
    if (withCrlf)
        out.append("\r\n", 2);
}

// RFC 6376 section 3.4.4, relaxed body canonicalization: whitespace runs as one space, none at
// line ends, no empty lines at the end, and a final CRLF unless the body is empty.
QByteArray relaxedBody(QByteArrayView body)
{
    // The output is never longer than the input plus a final CRLF.
    QByteArray out(body.size() + 2, Qt::Uninitialized);
    char *dst = out.data();
    const char *p = body.data();
    const qsizetype n = body.size();
    qsizetype pendingEmptyLines = 0;
    qsizetype pos = 0;
    while (pos < n) {
        const auto *crlf = static_cast<const char *>(std::memchr(p + pos, '\r', size_t(n - pos)));
        qsizetype end = crlf ? crlf - p : n;
        // A CR that does not start a CRLF is ordinary line content.
        while (crlf && (end + 1 >= n || p[end + 1] != '\n')) {
            crlf = static_cast<const char *>(std::memchr(p + end + 1, '\r', size_t(n - end - 1)));
            end = crlf ? crlf - p : n;
        }
        const qsizetype next = crlf ? end + 2 : n;
        qsizetype last = end; // one past the last non-WSP octet
        while (last > pos && isWsp(p[last - 1]))
            --last;
        if (last == pos) {
            ++pendingEmptyLines;
        } else {
            for (; pendingEmptyLines > 0; --pendingEmptyLines) {
                *dst++ = '\r';
                *dst++ = '\n';
            }
            for (qsizetype i = pos; i < last; ++i) {
                const char c = p[i];
                if (isWsp(c)) {
                    while (isWsp(p[i + 1]))
                        ++i;
                    *dst++ = ' ';
                } else {
                    *dst++ = c;
                }
            }
            *dst++ = '\r';
            *dst++ = '\n';
        }
        pos = next;
    }
    out.truncate(dst - out.constData());
    return out;
}

QByteArray sha256(QByteArrayView data)
{
    QByteArray digest(EVP_MAX_MD_SIZE, Qt::Uninitialized);
    unsigned int length = 0;
    if (EVP_Digest(data.data(), size_t(data.size()), reinterpret_cast<uchar *>(digest.data()),
                   &length, EVP_sha256(), nullptr)
        != 1)
        return {};
    digest.resize(length);
    return digest;
}

// Appends text to a header under construction, starting a continuation line first when the
// current one would pass the fold column.
void appendPiece(QByteArray &out, qsizetype &lineLength, QByteArrayView piece, bool spaceBefore)
{
    const qsizetype width = piece.size() + (spaceBefore ? 1 : 0);
    if (lineLength > 0 && lineLength + width > Encoders::FoldColumn) {
        out.append("\r\n ", 3);
        lineLength = 1;
    } else if (spaceBefore) {
        out.append(' ');
        ++lineLength;
    }
    out.append(piece.data(), piece.size());
    lineLength += piece.size();
}

} // namespace

QByteArrayList DkimSigner::defaultSignedHeaders()
{
    return {"from",
            "to",
            "cc",
            "subject",
            "date",
            "message-id",
            "mime-version",
            "content-type",
            "reply-to",
            "list-unsubscribe",
            "list-unsubscribe-post"};
}

QByteArrayList DkimSigner::defaultOversignedHeaders()
{
    return {"from"};
}

Common::Result<DkimSigner> DkimSigner::fromPem(const QByteArray &pem, const QString &domain,
                                               const QString &selector)
{
    if (pem.trimmed().isEmpty())
        return Common::fail(InvalidKey,
                            QStringLiteral("The DKIM private key is empty: give the "
                                           "key in PEM format."));
    auto key = std::make_shared<Key>();
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(pem.constData(), int(pem.size()));
    key->pkey = PEM_read_bio_PrivateKey(bio, nullptr, noPassphrase, nullptr);
    BIO_free(bio);
    if (!key->pkey)
        return Common::fail(InvalidKey,
                            QStringLiteral("The DKIM key is not a readable PEM private key (an "
                                           "encrypted key must be decrypted first)."),
                            opensslError());
    if (EVP_PKEY_is_a(key->pkey, "RSA")) {
        const int bits = EVP_PKEY_get_bits(key->pkey);
        if (bits < 1024)
            return Common::fail(InvalidKey,
                                QStringLiteral("The DKIM RSA key has %1 bits; verifiers ignore "
                                               "keys under 1024 bits (RFC 8301). Use a 2048-bit "
                                               "key.")
                                        .arg(bits));
        key->algorithm = Algorithm::RsaSha256;
    } else if (EVP_PKEY_is_a(key->pkey, "ED25519")) {
        key->algorithm = Algorithm::Ed25519Sha256;
    } else {
        return Common::fail(InvalidKey,
                            QStringLiteral("The DKIM key is a %1 key; DKIM signs with RSA or "
                                           "Ed25519 keys only.")
                                    .arg(QString::fromLatin1(EVP_PKEY_get0_type_name(key->pkey))));
    }

    auto asciiDomain = Address::asciiDomainName(domain);
    if (!asciiDomain || asciiDomain->startsWith('['))
        return Common::fail(InvalidKey,
                            QStringLiteral("The DKIM domain \"%1\" is not a domain name.")
                                    .arg(domain.simplified()));
    auto asciiSelector = Address::asciiDomainName(selector);
    if (!asciiSelector || asciiSelector->startsWith('[') || !Encoders::isAscii(selector))
        return Common::fail(InvalidKey,
                            QStringLiteral("The DKIM selector \"%1\" must be one or more labels of "
                                           "letters, digits and hyphens, e.g. \"mail2026\".")
                                    .arg(selector.simplified()));

    DkimSigner signer;
    signer.m_key = std::move(key);
    signer.m_domain = *asciiDomain;
    signer.m_selector = *asciiSelector;
    signer.m_signedHeaders = defaultSignedHeaders();
    signer.m_oversignedHeaders = defaultOversignedHeaders();
    return signer;
}

DkimSigner::Algorithm DkimSigner::algorithm() const
{
    return m_key ? m_key->algorithm : Algorithm::RsaSha256;
}

QByteArray DkimSigner::domain() const
{
    return m_domain;
}

QByteArray DkimSigner::selector() const
{
    return m_selector;
}

QByteArray DkimSigner::publicKeyRecord() const
{
    if (!m_key)
        return {};
    QByteArray publicKey;
    if (m_key->algorithm == Algorithm::Ed25519Sha256) {
        // RFC 8463 section 4: the bare 32-octet public key.
        size_t length = 32;
        publicKey.resize(qsizetype(length));
        if (EVP_PKEY_get_raw_public_key(m_key->pkey, reinterpret_cast<uchar *>(publicKey.data()),
                                        &length)
            != 1)
            return {};
        publicKey.resize(qsizetype(length));
        return "v=DKIM1; k=ed25519; p=" + publicKey.toBase64();
    }
    // RFC 6376 section 3.6.1: the DER SubjectPublicKeyInfo.
    const int length = i2d_PUBKEY(m_key->pkey, nullptr);
    if (length <= 0)
        return {};
    publicKey.resize(length);
    auto *p = reinterpret_cast<uchar *>(publicKey.data());
    i2d_PUBKEY(m_key->pkey, &p);
    return "v=DKIM1; k=rsa; p=" + publicKey.toBase64();
}

void DkimSigner::setSignedHeaders(const QByteArrayList &names)
{
    m_signedHeaders.clear();
    for (const QByteArray &name : names)
        m_signedHeaders.append(name.trimmed().toLower());
}

void DkimSigner::setOversignedHeaders(const QByteArrayList &names)
{
    m_oversignedHeaders.clear();
    for (const QByteArray &name : names)
        m_oversignedHeaders.append(name.trimmed().toLower());
}

Common::Result<QByteArray> DkimSigner::sign(const QByteArray &message,
                                            const QDateTime &signingTime) const
{
    auto header = signatureHeader(message, signingTime);
    if (!header)
        return header;
    return *header + message;
}

Common::Result<QByteArray> DkimSigner::signatureHeader(const QByteArray &message,
                                                       const QDateTime &signingTime) const
{
    if (!m_key)
        return Common::fail(SigningFailed, QStringLiteral("The DKIM signer has no key."));

    // --- Split header and body (RFC 5322 section 2.1) and index the header fields.
    qsizetype bodyStart;
    qsizetype headerEnd = message.indexOf("\r\n\r\n");
    if (headerEnd >= 0) {
        headerEnd += 2;
        bodyStart = headerEnd + 2;
    } else if (message.endsWith("\r\n")) {
        headerEnd = message.size();
        bodyStart = message.size();
    } else {
        return Common::fail(SigningFailed,
                            QStringLiteral("The message to sign has no CRLF-terminated header "
                                           "block; compose it with CRLF line ends."));
    }
    QList<Field> fields;
    for (qsizetype pos = 0; pos < headerEnd;) {
        qsizetype end = message.indexOf("\r\n", pos);
        const QByteArrayView line(message.constData() + pos, end - pos);
        if (!line.isEmpty() && isWsp(line.front())) {
            if (fields.isEmpty())
                return Common::fail(SigningFailed,
                                    QStringLiteral("The message to sign starts with a "
                                                   "continuation line."));
            Field &field = fields.last();
            field.raw = QByteArrayView(field.raw.data(), message.constData() + end);
        } else {
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0)
                return Common::fail(SigningFailed,
                                    QStringLiteral("The message to sign has a header line "
                                                   "without a colon: \"%1\".")
                                            .arg(QString::fromUtf8(
                                                    line.first(qMin<qsizetype>(80, line.size())))));
            QByteArray name = line.first(colon).toByteArray().trimmed().toLower();
            fields.append(Field{std::move(name), line});
        }
        pos = end + 2;
    }

    // --- The h= list: each signed header as often as it occurs, oversigned ones once more.
    QHash<QByteArray, int> counts;
    for (const Field &field : fields)
        ++counts[field.name];
    if (!counts.contains("from"))
        return Common::fail(SigningFailed,
                            QStringLiteral("The message to sign has no From header, which DKIM "
                                           "must sign (RFC 6376 section 5.4)."));
    QByteArrayList signedNames;
    for (const QByteArray &name : m_signedHeaders) {
        for (int i = counts.value(name); i > 0; --i)
            signedNames.append(name);
    }
    for (const QByteArray &name : m_oversignedHeaders)
        signedNames.append(name);

    // --- Body hash.
    const QByteArray bodyHash = sha256(relaxedBody(QByteArrayView(message).sliced(bodyStart)))
                                        .toBase64();

    // --- The signature header without the b= value; it is signed too (section 3.7).
    const bool ed25519 = m_key->algorithm == Algorithm::Ed25519Sha256;
    const qint64 time = (signingTime.isValid() ? signingTime : QDateTime::currentDateTimeUtc())
                                .toSecsSinceEpoch();
    QByteArray header;
    header.reserve(1024);
    qsizetype lineLength = 0;
    appendPiece(header, lineLength, "DKIM-Signature: v=1;", false);
    appendPiece(header, lineLength, ed25519 ? "a=ed25519-sha256;" : "a=rsa-sha256;", true);
    appendPiece(header, lineLength, "c=relaxed/relaxed;", true);
    appendPiece(header, lineLength, QByteArray("d=" + m_domain + ';'), true);
    appendPiece(header, lineLength, QByteArray("s=" + m_selector + ';'), true);
    appendPiece(header, lineLength, QByteArray("t=" + QByteArray::number(time) + ';'), true);
    for (qsizetype i = 0; i < signedNames.size(); ++i) {
        const QByteArray piece = (i == 0 ? "h=" : "") + signedNames.at(i)
                + (i + 1 < signedNames.size() ? ":" : ";");
        appendPiece(header, lineLength, piece, i == 0);
    }
    appendPiece(header, lineLength, QByteArray("bh=" + bodyHash + ';'), true);
    appendPiece(header, lineLength, "b=", true);

    // --- Hash input: the selected headers, bottom-up per name (section 5.4.2), then the
    // signature header itself without its final CRLF.
    QByteArray signedData;
    signedData.reserve(2048);
    QHash<QByteArray, qsizetype> nextIndex;
    for (const QByteArray &name : signedNames) {
        qsizetype i = nextIndex.value(name, fields.size());
        while (--i >= 0) {
            if (fields.at(i).name == name) {
                appendRelaxedHeader(signedData, fields.at(i), true);
                break;
            }
        }
        nextIndex.insert(name, qMax<qsizetype>(i, 0));
    }
    const Field self{QByteArrayLiteral("dkim-signature"), header};
    appendRelaxedHeader(signedData, self, false);

    // --- Sign: RSASSA-PKCS1-v1_5 over SHA-256 of the data, or (RFC 8463 section 3) PureEdDSA
    // over the SHA-256 digest of the data.
    ERR_clear_error();
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    QByteArray signature;
    bool ok = context != nullptr;
    if (ok) {
        QByteArray input = ed25519 ? sha256(signedData) : signedData;
        ok = EVP_DigestSignInit(context, nullptr, ed25519 ? nullptr : EVP_sha256(), nullptr,
                                m_key->pkey)
                == 1;
        size_t length = 0;
        const auto *data = reinterpret_cast<const uchar *>(input.constData());
        ok = ok && EVP_DigestSign(context, nullptr, &length, data, size_t(input.size())) == 1;
        if (ok) {
            signature.resize(qsizetype(length));
            ok = EVP_DigestSign(context, reinterpret_cast<uchar *>(signature.data()), &length, data,
                                size_t(input.size()))
                    == 1;
            signature.resize(qsizetype(length));
        }
    }
    EVP_MD_CTX_free(context);
    if (!ok)
        return Common::fail(SigningFailed, QStringLiteral("DKIM signing failed."), opensslError());

    // The b= value may be folded anywhere (section 3.5).
    const QByteArray b64 = signature.toBase64();
    for (qsizetype i = 0; i < b64.size();) {
        qsizetype room = Encoders::FoldColumn - lineLength;
        if (room <= 0) {
            header.append("\r\n ", 3);
            lineLength = 1;
            room = Encoders::FoldColumn - 1;
        }
        const qsizetype take = qMin(room, b64.size() - i);
        header.append(b64.constData() + i, take);
        lineLength += take;
        i += take;
    }
    header.append("\r\n", 2);
    return header;
}

} // namespace Mime
