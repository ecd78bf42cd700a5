/* fuzz_image.c - libFuzzer entry for the input-image checks: the header reader, the structure
 * walk of PNG, JPEG and WebP, and the alpha mask on small PNGs. The body lives in
 * target_image.h so the regression replay runs the same code. */
#include "targets.h"
#include "target_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image(data, size);
}
