/* fuzz_lists.c — libFuzzer target: one value as a flag would get it.
 *
 * The first byte picks the parser: a list with ranges (os_list_parse),
 * a scheduler spec (os_sched_parse), any sweep axis (os_spec_set_axis) or
 * any setting (os_spec_set); the rest is the text. Built with ASan/UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const unsigned pick = data[0], which = data[1];
    char *text = malloc(size - 1);
    if (!text) return 0;
    memcpy(text, data + 2, size - 2);
    text[size - 2] = 0;
    os_error err;
    switch (pick % 4) {
    case 0: {
        os_list l = {NULL, 0, 0};
        os_list_parse("--lr", text, &l, &err);
        free(l.v);
        break;
    }
    case 1: {
        os_sched_spec s;
        if (os_sched_parse(text, &s, &err) == OS_OK) os_sched_free(&s.s); /* a table file's multipliers */
        break;
    }
    default: {
        os_spec spec;
        if (os_spec_init(&spec) != OS_OK) break;
        if (pick % 4 == 2)
            os_spec_set_axis(&spec, (int)(which % OS_AX_COUNT), text, which & 128, &err);
        else
            os_spec_set(&spec, (int)(which % (unsigned)os_n_settings), text, &err);
        os_spec_validate(&spec, &err);
        os_spec_free(&spec);
    }
    }
    free(text);
    return 0;
}
