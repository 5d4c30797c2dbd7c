#pragma once

#include "value.h"

#include <QLocale>
#include <QString>

#include <string>
#include <string_view>

namespace Templates {

// The formatting behind formatDate, formatNumber and formatCurrency, written to run in the render
// loop without QString or QDateTime work on the common paths (ISO-8601 input, locales with
// three-digit grouping); anything else goes through QLocale and QDateTime.
class Formatters
{
public:
    // SendGrid's formatDate: an ISO-8601 time stamp (or milliseconds since the epoch), a pattern
    // of tokens (YYYY YY MMMM MMM MM M DD D dddd ddd HH H hh h mm m ss s A a ZZ Z, [literal
    // text]), and an optional UTC offset such as "-0800" in which to show the time; without one
    // the time is shown in UTC. An unreadable date gives an empty string.
    // https://www.twilio.com/docs/sendgrid/for-developers/sending-email/using-handlebars#formatdate
    static std::string formatDate(const Value &date, std::string_view pattern,
                                  std::string_view offset);

    // Grouped digits with a fixed number of decimals, rounding halves away from zero (as
    // JavaScript's toFixed and QLocale do).
    static std::string formatNumber(double value, int decimals, const QLocale &locale);
    // The amount in the locale's currency layout, with the symbol of the ISO 4217 code.
    // An empty code means the locale's own currency.
    static std::string formatCurrency(double value, std::string_view currencyCode,
                                      const QLocale &locale);
};

} // namespace Templates
