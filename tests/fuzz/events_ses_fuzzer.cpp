// libFuzzer target for the ses webhook parser (see events_fuzzer.h, tests/fuzz/run-events.sh).
#define FUZZ_PROVIDER "ses"
#include "events_fuzzer.h"
