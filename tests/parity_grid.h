/* parity_grid.h — the grid on which the CUDA kernels must reproduce the CPU's
 * results table bit for bit. Plain C (header-only), so that the GoogleTest
 * tests (tests/test_cuda.cpp, tests/test_cuda_emu.cpp) and the GPU machine's
 * tests/gpu/gpu_selftest.c, which has no GoogleTest, check the same grid.
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
        "none",
        "multistep:milestones=2/4/4/6,gamma=0.5",
        "multiplicative:factor=0.8,start=6,end=24,every=2",
        "step:step_size=3,gamma=0.7",
        "exponential:gamma=0.97",
        "cosine:t_max=7,eta_min=0.001",
    };
    const struct {
        int axis;
        const char *text;
    } lists[] = {
        {OS_AX_OPTIMIZER, "sgd,momentum,nesterov,rmsprop,adam"},
        {OS_AX_LR, quick ? "0.05,30" : "0.001,0.05,0.5,30"},
        {OS_AX_BATCH_SIZE, "32,48"},
        {OS_AX_EPOCHS, quick ? "3" : "3,4"},
        {OS_AX_INIT_WA, quick ? "0.001,0.1" : "0.001,0.003,0.1"},
    };
    os_status st;
    size_t i;
    if ((st = os_spec_init(s)) != OS_OK) return st;
    for (i = 0; i < sizeof scheds / sizeof scheds[0]; ++i)
        if ((st = os_spec_set_axis(s, OS_AX_SCHEDULER, scheds[i], i == 0, err)) != OS_OK) return st;
    for (i = 0; i < sizeof lists / sizeof lists[0]; ++i)
        if ((st = os_spec_set_axis(s, lists[i].axis, lists[i].text, 1, err)) != OS_OK) return st;
    s->seeds = 2;
    s->seed = 5;
    s->dtype = dtype;
    s->shuffle = shuffle;
    return OS_OK;
}

/* "float32_shared": a parity case's name, for test names and reports. */
static inline const char *os_parity_label(int dtype, int shuffle)
{
    static const char *const names[2][3] = {{"float32_shared", "float32_trial", "float32_none"},
                                            {"float64_shared", "float64_trial", "float64_none"}};
    return names[dtype == OS_DTYPE_F64][shuffle == OS_SHUFFLE_TRIAL ? 1 : shuffle == OS_SHUFFLE_NONE ? 2 : 0];
}

#endif
