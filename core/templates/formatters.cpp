#include "formatters.h"

#include <QDateTime>
#include <QHash>
#include <QTimeZone>

#include <charconv>
#include <cmath>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace Templates {

static QString currencySymbol(const QString &code, const QLocale &locale);

namespace {

// Howard Hinnant's civil calendar algorithms (proleptic Gregorian).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + int64_t(doe) - 719468;
}

void civilFromDays(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = unsigned(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = int64_t(yoe) + era * 400 + (*m <= 2);
}

bool digits(std::string_view s, size_t pos, size_t n, int *out)
{
    if (pos + n > s.size())
        return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

// YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|+HH:MM|+HHMM|+HH] to milliseconds since the epoch.
bool parseIso(std::string_view s, int64_t *msecs)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, ms = 0;
    if (!digits(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, &month)
        || s[7] != '-' || !digits(s, 8, 2, &day))
        return false;
    size_t p = 10;
    int offsetMinutes = 0;
    if (p < s.size() && (s[p] == 'T' || s[p] == 't' || s[p] == ' ')) {
        ++p;
        if (!digits(s, p, 2, &hour) || p + 2 >= s.size() || s[p + 2] != ':'
            || !digits(s, p + 3, 2, &minute))
            return false;
        p += 5;
        if (p < s.size() && s[p] == ':') {
            if (!digits(s, p + 1, 2, &second))
                return false;
            p += 3;
            if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
                ++p;
                int scale = 100;
                size_t start = p;
                while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
                    ms += (s[p] - '0') * scale;
                    scale /= 10;
                    ++p;
                }
                if (p == start)
                    return false;
            }
        }
        if (p < s.size()) {
            if (s[p] == 'Z' || s[p] == 'z') {
                ++p;
            } else if (s[p] == '+' || s[p] == '-') {
                const int sign = s[p] == '-' ? -1 : 1;
                int oh = 0, om = 0;
                if (!digits(s, p + 1, 2, &oh))
                    return false;
                p += 3;
                if (p < s.size() && s[p] == ':')
                    ++p;
                if (p < s.size()) {
                    if (!digits(s, p, 2, &om))
                        return false;
                    p += 2;
                }
                offsetMinutes = sign * (oh * 60 + om);
            }
        }
    }
    if (p != s.size())
        return false;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60)
        return false;
    static const int monthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (day > monthDays[month - 1])
        return false;
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29 && !leap)
        return false;
    const int64_t days = daysFromCivil(year, unsigned(month), unsigned(day));
    *msecs = ((days * 86400 + hour * 3600 + minute * 60 + second) - offsetMinutes * 60) * 1000 + ms;
    return true;
}

bool parseOffset(std::string_view o, int *seconds)
{
    while (!o.empty() && o.front() == ' ')
        o.remove_prefix(1);
    while (!o.empty() && o.back() == ' ')
        o.remove_suffix(1);
    if (o.empty() || (o[0] != '+' && o[0] != '-'))
        return false;
    const int sign = o[0] == '-' ? -1 : 1;
    std::string rest;
    for (char c : o.substr(1)) {
        if (c != ':')
            rest += c;
    }
    int v = 0;
    if (rest.size() == 4 && digits(rest, 0, 4, &v)) {
        *seconds = sign * ((v / 100) * 3600 + (v % 100) * 60);
        return true;
    }
    if ((rest.size() == 1 || rest.size() == 2) && digits(rest, 0, rest.size(), &v)) {
        *seconds = sign * v * 3600;
        return true;
    }
    return false;
}

const char *const monthNames[] = {"January",   "February", "March",    "April",
                                  "May",       "June",     "July",     "August",
                                  "September", "October",  "November", "December"};
const char *const dayNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                "Thursday", "Friday", "Saturday"};

void appendTwo(std::string &out, int v)
{
    out += char('0' + (v / 10) % 10);
    out += char('0' + v % 10);
}

void appendInt(std::string &out, int64_t v)
{
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, size_t(r.ptr - buf));
}

// How a locale writes numbers, learnt once from QLocale.
struct NumberLayout
{
    bool fast = false;
    std::string group;
    std::string decimal;
    std::string prefix;
    std::string suffix;
    std::string negativePrefix;
    std::string negativeSuffix;
};

NumberLayout learnLayout(const QLocale &locale, const QString *symbol)
{
    NumberLayout l;
    const QString g = locale.groupSeparator();
    const QString d = locale.decimalPoint();
    const QString expected = QStringLiteral("1") + g + QStringLiteral("234") + d
            + QStringLiteral("50");
    const QString probe = locale.toString(1234.5, 'f', 2);
    const QString big = locale.toString(1234567.0, 'f', 0);
    if (probe != expected
        || big != QStringLiteral("1") + g + QStringLiteral("234") + g + QStringLiteral("567")
        || locale.zeroDigit() != QStringLiteral("0"))
        return l;
    const QString positive = symbol ? locale.toCurrencyString(1234.5, *symbol, 2) : probe;
    // Negative amounts take the locale's minus sign before the positive form, not the
    // accounting style "($5.00)" some locales define for currency.
    const QString negative = locale.negativeSign() + positive;
    const qsizetype pi = positive.indexOf(probe);
    const qsizetype ni = negative.indexOf(probe);
    if (pi < 0 || ni < 0)
        return l;
    l.group = g.toStdString();
    l.decimal = d.toStdString();
    l.prefix = positive.left(pi).toStdString();
    l.suffix = positive.mid(pi + probe.size()).toStdString();
    l.negativePrefix = negative.left(ni).toStdString();
    l.negativeSuffix = negative.mid(ni + probe.size()).toStdString();
    l.fast = true;
    return l;
}

// The layout for a locale (and a currency, by ISO code; empty for the locale's own), cached per
// thread so that the render loop does no QString work.
const NumberLayout &layoutFor(const QLocale &locale, std::string_view code, bool currency)
{
    struct Entry
    {
        QLocale locale;
        std::string code;
        bool currency;
        NumberLayout layout;
    };
    thread_local std::vector<Entry> cache;
    for (const Entry &e : cache) {
        if (e.currency == currency && e.code == code && e.locale == locale)
            return e.layout;
    }
    if (cache.size() > 64)
        cache.clear();
    QString symbol;
    if (currency) {
        QString iso = QString::fromUtf8(code.data(), qsizetype(code.size()));
        if (iso.isEmpty())
            iso = locale.currencySymbol(QLocale::CurrencyIsoCode);
        symbol = currencySymbol(iso, locale);
    }
    cache.push_back({locale, std::string(code), currency,
                     learnLayout(locale, currency ? &symbol : nullptr)});
    return cache.back().layout;
}

// Whether a (finite, >= 0) might lie exactly halfway between two numbers of `decimals` decimals,
// where std::to_chars rounds to even but toFixed rounds away from zero. That needs
// a * 2 * 10^decimals to be an odd integer: a * 2^(decimals + 1) is exact, and fma() tells
// whether the product with 5^decimals is. Only the (rare) "maybe" needs the exact expansion.
bool mayBeHalfway(double a, int decimals)
{
    static constexpr double powersOf5[] = {1.0,         5.0,          25.0,         125.0,
                                           625.0,       3125.0,       15625.0,      78125.0,
                                           390625.0,    1953125.0,    9765625.0,    48828125.0,
                                           244140625.0, 1220703125.0, 6103515625.0, 30517578125.0};
    if (decimals < 0 || decimals >= int(std::size(powersOf5)))
        return true;
    const double y = a * double(uint64_t(2) << decimals); // exact: a power of two
    const double f = powersOf5[decimals];
    const double p = y * f;
    if (!(p < 4503599627370496.0)) // 2^52: beyond it, leave it to the exact path
        return true;
    if (std::fma(y, f, -p) != 0 || p != std::floor(p))
        return false;
    return (uint64_t(p) & 1) != 0;
}

// The common case of fixedDigits() without decimal expansion: a * 10^decimals rounded to the
// nearest integer, exactly, for a below 2^40 and up to four decimals. fma() gives the product's
// rounding error, so the comparison with one half is made on exact quantities. Halfway cases
// are left to fixedDigits().
bool roundedDigits(double a, int decimals, std::string *intPart, std::string *fraction)
{
    static constexpr double scales[] = {1.0, 10.0, 100.0, 1000.0, 10000.0};
    if (decimals < 0 || decimals >= int(std::size(scales)) || !(a < 1099511627776.0)
        || mayBeHalfway(a, decimals))
        return false;
    const double f = scales[decimals];
    const double p = a * f;
    const double err = std::fma(a, f, -p); // a * f == p + err exactly
    const double whole = std::floor(p);
    uint64_t q = uint64_t(whole);
    if ((p - whole) - 0.5 > -err)
        ++q;
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, q);
    size_t n = size_t(r.ptr - buf);
    const size_t d = size_t(decimals);
    if (n <= d) { // 0.05: pad with zeros in front
        std::memmove(buf + (d + 1 - n), buf, n);
        std::memset(buf, '0', d + 1 - n);
        n = d + 1;
    }
    intPart->assign(buf, n - d);
    fraction->assign(buf + (n - d), d);
    return true;
}

// |value| with `decimals` decimals, halves rounded away from zero; false if out of range.
bool fixedDigits(double value, int decimals, std::string *intPart, std::string *fraction)
{
    const double a = std::fabs(value);
    if (!std::isfinite(a) || a >= 1e15)
        return false;
    if (roundedDigits(a, decimals, intPart, fraction))
        return true;
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, a, std::chars_format::fixed, decimals);
    std::string s(buf, size_t(r.ptr - buf));
    if (!mayBeHalfway(a, decimals)) {
        // Not a tie: to_chars' correctly rounded digits are toFixed's.
        const size_t point = s.find('.');
        *intPart = s.substr(0, point);
        *fraction = point == std::string::npos ? std::string() : s.substr(point + 1);
        return true;
    }
    // to_chars rounds an exact tie to even; toFixed and QLocale round it up. A tie is exact only
    // when the full expansion of the double ends in 5 right after the last kept decimal.
    char exact[128];
    auto r2 = std::to_chars(exact, exact + sizeof exact, a, std::chars_format::fixed, 60);
    const std::string_view full(exact, size_t(r2.ptr - exact));
    const size_t dot = full.find('.');
    const std::string_view rest = full.substr(dot + 1 + size_t(decimals));
    if (!rest.empty() && rest[0] == '5'
        && rest.find_first_not_of('0', 1) == std::string_view::npos) {
        std::string t(full.substr(0, dot + 1 + size_t(decimals)));
        if (t.back() == '.')
            t.pop_back();
        int i = int(t.size()) - 1;
        for (; i >= 0; --i) {
            if (t[size_t(i)] == '.')
                continue;
            if (t[size_t(i)] == '9') {
                t[size_t(i)] = '0';
            } else {
                ++t[size_t(i)];
                break;
            }
        }
        if (i < 0)
            t.insert(t.begin(), '1');
        s = t;
    }
    const size_t point = s.find('.');
    *intPart = s.substr(0, point);
    *fraction = point == std::string::npos ? std::string() : s.substr(point + 1);
    return true;
}

bool fastFormat(double value, int decimals, const NumberLayout &l, bool currency, std::string *out)
{
    if (!l.fast)
        return false;
    std::string intPart, fraction;
    if (!fixedDigits(value, decimals, &intPart, &fraction))
        return false;
    const bool zero = intPart.find_first_not_of('0') == std::string::npos
            && fraction.find_first_not_of('0') == std::string::npos;
    const bool negative = value < 0 && !zero;
    static const std::string none;
    const std::string &prefix = negative ? l.negativePrefix : (currency ? l.prefix : none);
    const std::string &suffix = negative ? l.negativeSuffix : (currency ? l.suffix : none);
    const size_t n = intPart.size();
    out->clear();
    out->reserve(prefix.size() + n + (n / 3) * l.group.size() + l.decimal.size() + fraction.size()
                 + suffix.size());
    out->append(prefix);
    // The digits in groups of three from the right: the first group has 1 to 3 of them.
    size_t first = n % 3 == 0 ? 3 : n % 3;
    out->append(intPart, 0, std::min(first, n));
    for (size_t i = first; i < n; i += 3) {
        out->append(l.group);
        out->append(intPart, i, 3);
    }
    if (!fraction.empty()) {
        out->append(l.decimal);
        out->append(fraction);
    }
    out->append(suffix);
    return true;
}

} // namespace

static QString currencySymbol(const QString &code, const QLocale &locale)
{
    if (code.isEmpty() || locale.currencySymbol(QLocale::CurrencyIsoCode) == code)
        return locale.currencySymbol(QLocale::CurrencySymbol);
    static const QHash<QString, QString> symbols = {
            {QStringLiteral("USD"), QStringLiteral("$")},
            {QStringLiteral("EUR"), QStringLiteral("\u20AC")},
            {QStringLiteral("GBP"), QStringLiteral("\u00A3")},
            {QStringLiteral("JPY"), QStringLiteral("\u00A5")},
            {QStringLiteral("CNY"), QStringLiteral("CN\u00A5")},
            {QStringLiteral("INR"), QStringLiteral("\u20B9")},
            {QStringLiteral("KRW"), QStringLiteral("\u20A9")},
            {QStringLiteral("CAD"), QStringLiteral("CA$")},
            {QStringLiteral("AUD"), QStringLiteral("A$")},
            {QStringLiteral("BRL"), QStringLiteral("R$")},
            {QStringLiteral("MXN"), QStringLiteral("MX$")},
    };
    return symbols.value(code, code);
}

std::string Formatters::formatDate(const Value &date, std::string_view pattern,
                                   std::string_view offset)
{
    int64_t msecs = 0;
    if (date.isNumber()) {
        if (!std::isfinite(date.toNumber()) || std::fabs(date.toNumber()) > 8.64e15)
            return {};
        msecs = int64_t(date.toNumber());
    } else if (date.isString()) {
        if (!parseIso(date.toStdString(), &msecs)) {
            // Other ISO-8601 forms QDateTime reads (week dates are not among them).
            const QString s = date.toQString().trimmed();
            QDateTime dt = QDateTime::fromString(s, Qt::ISODateWithMs);
            if (!dt.isValid())
                return {};
            if (dt.timeSpec() == Qt::LocalTime)
                dt.setTimeZone(QTimeZone::utc()); // no zone written: UTC, as SendGrid reads it
            msecs = dt.toMSecsSinceEpoch();
        }
    } else {
        return {};
    }
    int offsetSeconds = 0;
    parseOffset(offset, &offsetSeconds);
    const int64_t local = msecs / 1000 - (msecs % 1000 < 0 ? 1 : 0) + offsetSeconds;
    int64_t days = local / 86400;
    int64_t secs = local % 86400;
    if (secs < 0) {
        secs += 86400;
        --days;
    }
    int64_t year = 0;
    unsigned month = 0, day = 0;
    civilFromDays(days, &year, &month, &day);
    const int hour = int(secs / 3600);
    const int minute = int(secs / 60 % 60);
    const int second = int(secs % 60);
    const int weekday = int(((days % 7) + 11) % 7); // 1970-01-01 was a Thursday
    const int hour12 = hour % 12 == 0 ? 12 : hour % 12;
    const int absOffset = std::abs(offsetSeconds) / 60;

    std::string out;
    out.reserve(pattern.size() + 16);
    // Tokens are runs of one letter, longest first ("MMMMM" is "MMMM" then "M"), as moment.js
    // reads them; anything else is copied.
    const size_t n = pattern.size();
    for (size_t i = 0; i < n;) {
        const char c = pattern[i];
        if (c == '[') {
            const size_t end = pattern.find(']', i + 1);
            if (end != std::string_view::npos) {
                out.append(pattern.substr(i + 1, end - i - 1));
                i = end + 1;
                continue;
            }
        }
        size_t run = 1;
        while (i + run < n && pattern[i + run] == c)
            ++run;
        size_t used = 0;
        switch (c) {
        case 'Y':
            if (run >= 4) {
                appendInt(out, year);
                used = 4;
            } else if (run >= 2) {
                appendTwo(out, int(((year % 100) + 100) % 100));
                used = 2;
            }
            break;
        case 'M':
            used = std::min<size_t>(run, 4);
            if (used == 4)
                out += monthNames[month - 1];
            else if (used == 3)
                out.append(monthNames[month - 1], 3);
            else if (used == 2)
                appendTwo(out, int(month));
            else
                appendInt(out, month);
            break;
        case 'D':
            used = std::min<size_t>(run, 2);
            if (used == 2)
                appendTwo(out, int(day));
            else
                appendInt(out, day);
            break;
        case 'd':
            if (run >= 4) {
                out += dayNames[weekday];
                used = 4;
            } else if (run == 3) {
                out.append(dayNames[weekday], 3);
                used = 3;
            }
            break;
        case 'H':
        case 'h':
        case 'm':
        case 's': {
            const int v = c == 'H' ? hour : c == 'h' ? hour12 : c == 'm' ? minute : second;
            used = std::min<size_t>(run, 2);
            if (used == 2)
                appendTwo(out, v);
            else
                appendInt(out, v);
            break;
        }
        case 'A':
            out += hour < 12 ? "AM" : "PM";
            used = 1;
            break;
        case 'a':
            out += hour < 12 ? "am" : "pm";
            used = 1;
            break;
        case 'Z':
            out += offsetSeconds < 0 ? '-' : '+';
            appendTwo(out, absOffset / 60);
            if (run < 2)
                out += ':';
            appendTwo(out, absOffset % 60);
            used = std::min<size_t>(run, 2);
            break;
        default:
            break;
        }
        if (used == 0) {
            out += c;
            used = 1;
        }
        i += used;
    }
    return out;
}

std::string Formatters::formatNumber(double value, int decimals, const QLocale &locale)
{
    decimals = std::clamp(decimals, 0, 20);
    if (!std::isfinite(value))
        return Value::fromNumber(value).toJsString();
    std::string out;
    if (fastFormat(value, decimals, layoutFor(locale, {}, false), false, &out))
        return out;
    return locale.toString(value, 'f', decimals).toStdString();
}

std::string Formatters::formatCurrency(double value, std::string_view currencyCode,
                                       const QLocale &locale)
{
    if (!std::isfinite(value))
        return Value::fromNumber(value).toJsString();
    const int decimals = (currencyCode == "JPY" || currencyCode == "KRW") ? 0 : 2;
    std::string out;
    if (fastFormat(value, decimals, layoutFor(locale, currencyCode, true), true, &out))
        return out;
    QString iso = QString::fromUtf8(currencyCode.data(), qsizetype(currencyCode.size()));
    if (iso.isEmpty())
        iso = locale.currencySymbol(QLocale::CurrencyIsoCode);
    const QString text = locale.toCurrencyString(std::fabs(value), currencySymbol(iso, locale),
                                                 decimals);
    const QString sign = value < 0 ? locale.negativeSign() : QString();
    return QString(sign + text).toStdString();
}

} // namespace Templates
