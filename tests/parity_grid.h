/* parity_grid.h — the grid on which the CUDA kernels must reproduce the CPU's
 * results table bit for bit. Plain C (header-only), so that the GoogleTest
 * tests (tests/test_cuda.cpp, tests/test_cuda_emu.cpp) and the GPU machine's
 * kernels/gpu_selftest.c, which has no GoogleTest, check the same grid.
 *
 * Every optimizer and scheduler, a diverging lr (30), a fully masked start
 * (Wa 0.001: every point masked) and a nearly masked one (0.003), batch sizes
 * with short last batches, 2 seeds. quick: fewer lrs, epochs and starts.
 */
#ifndef OS_TESTS_PARITY_GRID_H
#define OS_TESTS_PARITY_GRID_H

#include <stdlib.h>

#include "orbitsweep/orbitsweep.h"

/* Fills *s (os_spec_init first; the caller os_spec_frees it). On a parse
 * error returns its status with the message in *err. */
static inline os_status os_parity_grid(os_spec *s, int dtype, int shuffle, int quick, os_error *err)
{
    static const char *const scheds[] = {
        "constant",
        "multistep:milestones=2/4/4/6,gamma=0.5",
        "multiplicative:factor=0.8,start=6,end=24,every=2",
        "step:step_size=3,gamma=0.7",
        "exponential:gamma=0.97",
        "cosine:t_max=7,eta_min=0.001",
    };
    const struct {
        os_list *list;
        const char *text;
    } lists[] = {
        {&s->lr, quick ? "0.05,30" : "0.001,0.05,0.5,30"},
        {&s->batch_size, "32,48"},
        {&s->epochs, quick ? "3" : "3,4"},
        {&s->init_wa, quick ? "0.001,0.1" : "0.001,0.003,0.1"},
    };
    os_status st;
    size_t i;
    os_spec_init(s);
    for (int o = 0; o < OS_OPT_COUNT; ++o) s->optimizers[o] = o;
    s->n_optimizers = OS_OPT_COUNT;
    free(s->scheds);
    s->n_scheds = sizeof scheds / sizeof scheds[0];
    s->scheds = (os_sched_spec *)calloc(s->n_scheds, sizeof *s->scheds);
    for (i = 0; i < s->n_scheds; ++i)
        if ((st = os_sched_parse(scheds[i], &s->scheds[i], err)) != OS_OK) return st;
    for (i = 0; i < sizeof lists / sizeof lists[0]; ++i) {
        lists[i].list->n = 0;
        if ((st = os_list_parse("list", lists[i].text, lists[i].list, err)) != OS_OK) return st;
    }
    s->seeds = 2;
    s->seed = 5;
    s->dtype = dtype;
    s->shuffle = shuffle;
    return OS_OK;
}

#endif
