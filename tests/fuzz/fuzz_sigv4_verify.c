/* fuzz_sigv4_verify.c - libFuzzer entry for SigV4 verification of received requests (bedrock-local's check).
 * The body lives in targets.h so the regression replay runs the same code. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_sigv4_verify(data, size);
}
