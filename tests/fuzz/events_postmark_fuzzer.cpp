// libFuzzer target for the postmark webhook parser (see events_fuzzer.h, tests/fuzz/run-events.sh).
#define FUZZ_PROVIDER "postmark"
#include "events_fuzzer.h"
