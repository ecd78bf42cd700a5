/* fuzz_base64.c - libFuzzer entry for the strict base64 decoder: no overrun, canonical round trip.
 * The body lives in targets.h so the regression replay runs the same code. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_base64(data, size);
}
