/* parity_grid.h — the grid on which the CUDA kernels must reproduce the CPU's
 * results table bit for bit. Plain C (header-only), so that the GoogleTest
 * tests (tests/test_cuda.cpp, tests/test_cuda_emu.cpp) and the GPU machine's
 * tests/gpu/gpu_selftest.c, which has no GoogleTest, check the same grid.
 *
 * Every optimizer of the catalogue (each with its own defaults) and every
 * scheduler, a diverging lr (30), a fully masked start
 * (Wa 0.001: every point masked) and a nearly masked one (0.003), batch sizes
 * with short last batches, 2 seeds. quick: fewer lrs, epochs and starts.
 */
#ifndef OS_TESTS_PARITY_GRID_H
#define OS_TESTS_PARITY_GRID_H

#include <stdio.h>
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
        {OS_AX_OPTIMIZER, "sgd,momentum,nesterov,rmsprop,adam,adamw,nadam,radam,adamax,adagrad,adadelta,lion"},
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
    os_spec_set_one(s, OS_AX_DTYPE, dtype, NULL);
    os_spec_set_one(s, OS_AX_SHUFFLE, shuffle, NULL);
    return OS_OK;
}

/* The scheduler catalogue's grid: every scheduler (cycling momentum on and
 * off, plateau, composites, table:FILE when table_file is given) x every
 * optimizer x an lr that trains and one that diverges x a nearly masked
 * start; 128 points, batches of 32 and 48, 4 epochs (at most 16 scheduler
 * steps), 2 seeds. */
static inline os_status os_parity_catalogue(os_spec *s, int dtype, int per_epoch, const char *table_file,
                                            os_error *err)
{
    static const char *const scheds[] = {
        "none",
        "constant:factor=0.5,total_iters=3",
        "linear:start_factor=0.2,total_iters=6",
        "polynomial:total_iters=10,power=0.9",
        "cosine_warm_restarts:t_0=3,t_mult=2,eta_min=0.001",
        "cyclic:base_lr=0.001,step_size_up=3,mode=triangular2",
        "cyclic:base_lr=0.002,step_size_up=2,step_size_down=5,mode=exp_range,gamma=0.9",
        "cyclic:base_lr=0.001,step_size_up=3,cycle_momentum=false",
        "onecycle:total_steps=20",
        "onecycle:total_steps=16,anneal_strategy=linear,three_phase=true",
        "onecycle:total_steps=18,cycle_momentum=false",
        "plateau:patience=0,factor=0.5",
        "plateau:mode=max,patience=1,cooldown=1,threshold_mode=abs,threshold=0.001,min_lr=0.0001",
        "sequential(linear:start_factor=0.1,total_iters=3;cosine:t_max=12,eta_min=0.0001;milestones=3)",
        "sequential(exponential:gamma=0.9;multiplicative:factor=0.8;step:step_size=2,gamma=0.5;milestones=2/7)",
        "chain(linear:start_factor=0.3,total_iters=4;multistep:milestones=2/5,gamma=0.5;polynomial:total_iters=12)",
    };
    const struct {
        int axis;
        const char *text;
    } lists[] = {
        {OS_AX_OPTIMIZER, "sgd,momentum,nesterov,rmsprop,adam"},
        {OS_AX_LR, "0.02,30"},
        {OS_AX_BATCH_SIZE, "32,48"},
        {OS_AX_EPOCHS, "4"},
        {OS_AX_INIT_WA, "0.003,0.1"},
    };
    os_status st;
    size_t i;
    if ((st = os_spec_init(s)) != OS_OK) return st;
    for (i = 0; i < sizeof scheds / sizeof scheds[0]; ++i)
        if ((st = os_spec_set_axis(s, OS_AX_SCHEDULER, scheds[i], i == 0, err)) != OS_OK) return st;
    if (table_file) {
        char spec[600];
        snprintf(spec, sizeof spec, "table:%s", table_file);
        if ((st = os_spec_set_axis(s, OS_AX_SCHEDULER, spec, 0, err)) != OS_OK) return st;
        snprintf(spec, sizeof spec, "sequential(constant:factor=0.5,total_iters=2;table:%s;milestones=4)", table_file);
        if ((st = os_spec_set_axis(s, OS_AX_SCHEDULER, spec, 0, err)) != OS_OK) return st;
    }
    for (i = 0; i < sizeof lists / sizeof lists[0]; ++i)
        if ((st = os_spec_set_axis(s, lists[i].axis, lists[i].text, 1, err)) != OS_OK) return st;
    os_spec_set_one(s, OS_AX_N, 128, NULL);
    s->seeds = 2;
    s->seed = 3;
    os_spec_set_one(s, OS_AX_DTYPE, dtype, NULL);
    os_spec_set_one(s, OS_AX_SCHED_STEP, per_epoch, NULL);
    os_spec_set_one(s, OS_AX_SHUFFLE, OS_SHUFFLE_SHARED, NULL);
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
