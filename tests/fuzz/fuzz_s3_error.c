/* fuzz_s3_error.c - libFuzzer entry for S3's XML error documents.
 * The body lives in targets.h so the regression replay runs the same code. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_s3_error(data, size);
}
