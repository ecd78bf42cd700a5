/* fuzz_gateway_event.c - libFuzzer entry for the gateway's route matching and proxy-event building, then the runtime's parse.
 * The body lives in targets.h so the regression replay runs the same code. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_gateway_event(data, size);
}
