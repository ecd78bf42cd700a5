/* fuzz_extract.c - libFuzzer entry for the extraction of base64 images from a model's answer.
 * The body lives in targets.h so the regression replay runs the same code. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_extract(data, size);
}
