/* fuzz_flags.c — libFuzzer target: the command line of run/trace/data.
 *
 * The input is argv, one argument per line. Every flag goes through the
 * flag parser (src/flags.c: the axis and settings tables, list ranges,
 * scheduler specs, choices, numbers), then os_spec_validate, and a small
 * valid grid is planned. Bad input must be an error, never a crash, a leak
 * or undefined behaviour (the target is built with ASan and UBSan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "orbitsweep/orbitsweep.h"

typedef struct cli {
    os_spec spec;
    char *out;
    int quiet;
} cli;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every block's datasets small (n <= 4096; a distribution's end points
 * are its list), a plan worth making. */
static int small_data(const os_spec *s)
{
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const int *given;
        const os_list *n = &os_spec_block_axes(s, b, &given)[OS_AX_N];
        for (size_t i = 0; i < n->n; ++i)
            if (n->v[i] > 4096) return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char *argv[64];
    int argc = 0;
    for (char *p = text; argc < 64;) {
        argv[argc++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = 0;
        p = nl + 1;
    }
    os_flag flags[OS_AX_COUNT + 64];
    size_t n = os_flags_for_spec(flags, offsetof(cli, spec));
    flags[n++] = (os_flag){"-o", OS_F_VALUE, offsetof(cli, out), OS_V_STRING, NULL, NULL, NULL, NULL, NULL};
    flags[n++] = (os_flag){"--quiet", OS_F_BOOL, offsetof(cli, quiet), 0, NULL, NULL, NULL, NULL, NULL};
    cli c;
    memset(&c, 0, sizeof c);
    os_error err;
    int n_pos = 0;
    if (os_spec_init(&c.spec) == OS_OK) {
        if (os_flags_parse(flags, n, &c, argc, argv, NULL, 0, &n_pos, &err) == OS_OK &&
            os_spec_validate(&c.spec, &err) == OS_OK && !c.spec.data_file && small_data(&c.spec) &&
            c.spec.seeds <= 16) {
            c.spec.max_memory = 1e8; /* a plan, but never a big one */
            os_sweep sw;
            if (os_sweep_plan(&c.spec, &sw, &err) == OS_OK) os_sweep_free(&sw);
        }
        os_spec_free(&c.spec);
    }
    free(c.out);
    free(text);
    return 0;
}
