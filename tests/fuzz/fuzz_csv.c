/* fuzz_csv.c — libFuzzer target: the two CSV readers' users.
 *
 * The input is a file: read as a --data file (os_dataset_load: the strict
 * reader, the header, the numbers, the loss minimum) and as a results table
 * for summarize (os_summary_load). Built with ASan/UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orbitsweep/orbitsweep.h"
#include "summarize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/os_fuzz_csv.%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    os_error err;
    os_dataset d;
    if (os_dataset_load(path, 0.26, &d, &err) == OS_OK) os_dataset_free(&d);
    os_summary s;
    if (os_summary_load(path, 0.01, &s, &err) == OS_OK) os_summary_free(&s);
    unlink(path);
    return 0;
}
