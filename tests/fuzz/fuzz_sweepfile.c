/* fuzz_sweepfile.c — libFuzzer target: a sweep file (os_sweep_text_load),
 * then the spec's validation and the count of each block's trainings, as
 * `orbitsweep run FILE` does before any work. Built with ASan/UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "orbitsweep/orbitsweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    os_spec spec;
    os_error err;
    char *output = NULL;
    if (os_spec_init(&spec) != OS_OK) return 0;
    if (os_sweep_text_load(&spec, "fuzz.yaml", (const char *)data, size, &output, &err) == OS_OK &&
        os_spec_validate(&spec, &err) == OS_OK) {
        double total = 0;
        for (size_t b = 0; b < os_spec_n_blocks(&spec); ++b) total += os_spec_count_block(&spec, b);
        (void)total;
    }
    free(output);
    os_spec_free(&spec);
    return 0;
}
