// libFuzzer target for the mailgun webhook parser (see events_fuzzer.h, tests/fuzz/run-events.sh).
#define FUZZ_PROVIDER "mailgun"
#include "events_fuzzer.h"
