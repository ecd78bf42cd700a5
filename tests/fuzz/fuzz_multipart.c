/* fuzz_multipart.c - libFuzzer entry for the multipart/form-data parser: bounded, in place,
 * round trip through the canonical form, limits that only refuse. The body lives in
 * target_multipart.h so the regression replay runs the same code. */
#include "targets.h"
#include "target_multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_multipart(data, size);
}
