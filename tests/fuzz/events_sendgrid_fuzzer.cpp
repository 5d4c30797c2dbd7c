// libFuzzer target for the sendgrid webhook parser (see events_fuzzer.h, tests/fuzz/run-events.sh).
#define FUZZ_PROVIDER "sendgrid"
#include "events_fuzzer.h"
