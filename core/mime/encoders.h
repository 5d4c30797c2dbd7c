#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>

// The byte-level encoders of message composition. They work on whole buffers (no per-character
// allocation) because the send path composes thousands of messages a second.
namespace Mime::Encoders {

// The longest a header or body line may be, without its CRLF (RFC 5322 section 2.1.1).
inline constexpr qsizetype MaxLineLength = 998;
// Where headers are folded: RFC 2047 section 2 limits lines holding encoded-words to 76.
inline constexpr qsizetype FoldColumn = 76;

enum class WordEncoding { Auto, Base64, QuotedPrintable };

// Whether every byte (or UTF-16 unit) is 7-bit.
bool isAscii(QByteArrayView data);
bool isAscii(QStringView text);
// Whether the text contains CR, LF or NUL: such a value could inject a header and is refused.
bool hasLineBreak(QStringView text);

// Text as quoted-printable (RFC 2045 section 6.7) for a text/* body: every line break in the input
// (CRLF, LF or a lone CR) becomes a CRLF hard line break; lines are at most 76 characters, using
// soft line breaks; trailing whitespace is encoded; a line starting "From " has its F encoded, so
// mbox-style munging cannot alter (and break the DKIM signature of) the body. Ends with CRLF
// unless empty.
QByteArray quotedPrintable(QByteArrayView text);

// Base64 (RFC 2045 section 6.8) in lines of 76 characters, each ending with CRLF.
QByteArray base64Lines(QByteArrayView data);

// The text as RFC 2047 encoded-words in UTF-8, separated by single spaces where a header may be
// folded. Every word holds whole characters (a UTF-8 sequence is never split, section 5 rule 3)
// and is at most 75 characters long (section 2); the first at most firstWordRoom (but always at
// least one character). Q encoding uses only the characters allowed in a phrase (section 5 rule 3),
// so the words are valid in display names as well as in unstructured fields.
QByteArray encodedWords(QStringView text, qsizetype firstWordRoom = 75,
                        WordEncoding encoding = WordEncoding::Auto);

// An unstructured header field value (Subject, or a caller's own header) ready for
// "Name: " + value: plain ASCII stays as it is (folded at its spaces), anything else becomes
// encoded-words. nameLength is the length of the field name, for sizing the first line.
QByteArray unstructuredValue(QStringView value, qsizetype nameLength);

// A display name as an RFC 5322 phrase: atoms as they are, other ASCII as a quoted-string,
// non-ASCII as encoded-words.
QByteArray phrase(QStringView displayName);

// One MIME parameter (RFC 2045, RFC 2231): name="value" when the value is short ASCII, otherwise
// name*=utf-8''percent-encoded, split into name*0*, name*1*, ... continuations when long. Pieces
// are joined with "; " so the header can be folded between them.
QByteArray parameter(QByteArrayView name, QStringView value);

// Folds one unfolded header line ("Name: value", without CRLF) at its whitespace so lines stay
// within FoldColumn where possible (RFC 5322 section 2.2.3) and appends it with CRLF to out.
// In a structured field, quoted-strings are not broken. Returns false when some line would still
// be longer than MaxLineLength.
bool appendFolded(QByteArray &out, QByteArrayView line, bool structured);

} // namespace Mime::Encoders
