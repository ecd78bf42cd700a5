/* fuzz_event.c - libFuzzer entry for the API Gateway event through ig_event_to_request
 * and the shipped policy's admit.
 * The body lives in targets.h so the regression replay runs the same code. */
#include "targets.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return fuzz_event_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_event(data, size);
}
