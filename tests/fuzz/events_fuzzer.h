// libFuzzer body shared by the provider parser targets: the input is a webhook body; parsing must
// end in events or an error, never a crash, a sanitizer report or a hang. Each target defines
// FUZZ_PROVIDER ("sendgrid", "mailgun", "postmark", "ses") before including this file.
#include "events/event.h"
#include "events/parsers.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body = QByteArray::fromRawData(reinterpret_cast<const char *>(data),
                                                    qsizetype(size));
    auto events = Events::parse(QStringLiteral(FUZZ_PROVIDER), body);
    if (events) {
        for (const Events::Event &e : std::as_const(*events)) {
            // Everything the store will read must be well formed.
            (void) Events::typeName(e.type);
            (void) e.occurredAt.toString(Qt::ISODateWithMs);
            (void) e.raw.size();
            if (e.eventKey.isEmpty())
                __builtin_trap();
        }
    } else if (events.error().message.isEmpty()) {
        __builtin_trap();
    }
    return 0;
}
