/* cpu_backend.c — trains a sweep on the CPU cores (OpenMP).
 *
 * Work is split into blocks of up to OS_CPU_BLOCK trainings of one seed;
 * threads take blocks dynamically. Each training's numbers depend only on
 * its own spec, never on the block or thread that ran it, so the table is
 * the same for any thread count.
 */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "orbitsweep/orbitsweep.h"
#include "orbitsweep/shuffle.h"
#include "orbitsweep/train.h"

#define OS_CPU_BLOCK 16

/* The batch order of one epoch: position j -> data index. */
static void cpu_make_order(uint32_t *order, uint64_t seed, uint64_t stream, uint32_t epoch,
                           uint32_t n)
{
    os_perm p;
    os_perm_init(&p, seed, stream, epoch, n);
    for (uint32_t j = 0; j < n; ++j) order[j] = os_perm_at(&p, j);
}

#define OS_F32 1
#include "orbitsweep/typed.h"
#include "cpu_t.h"
#define OS_F32 0
#include "orbitsweep/typed.h"
#include "cpu_t.h"

typedef struct cpu_state {
    cpu_data_f32 *f32;
    cpu_data_f64 *f64;
    size_t n;
    uint32_t *identity;
    int max_n;
} cpu_state;

static void cpu_state_free(cpu_state *s)
{
    for (size_t i = 0; i < s->n; ++i) {
        if (s->f32) free(s->f32[i].d2), free(s->f32[i].y);
        if (s->f64) free(s->f64[i].d2), free(s->f64[i].y);
    }
    free(s->f32);
    free(s->f64);
    free(s->identity);
}

static os_status cpu_state_make(const os_sweep *sw, cpu_state *s, os_error *err)
{
    memset(s, 0, sizeof *s);
    s->n = sw->n_data;
    int ok = 1;
    if (sw->spec->dtype == OS_DTYPE_F32) {
        s->f32 = calloc(s->n, sizeof *s->f32);
        ok = s->f32 != NULL;
        for (size_t i = 0; ok && i < s->n; ++i) ok = cpu_data_make_f32(&s->f32[i], &sw->data[i]);
    } else {
        s->f64 = calloc(s->n, sizeof *s->f64);
        ok = s->f64 != NULL;
        for (size_t i = 0; ok && i < s->n; ++i) ok = cpu_data_make_f64(&s->f64[i], &sw->data[i]);
    }
    for (size_t i = 0; i < s->n; ++i) s->max_n = sw->data[i].n > s->max_n ? sw->data[i].n : s->max_n;
    s->identity = ok ? malloc((size_t)s->max_n * sizeof *s->identity) : NULL;
    if (!s->identity) {
        cpu_state_free(s);
        os_set_error(err, "out of memory for the datasets");
        return OS_ERUNTIME;
    }
    for (int i = 0; i < s->max_n; ++i) s->identity[i] = (uint32_t)i;
    return OS_OK;
}

os_status os_cpu_run(const os_sweep *sw, os_result *res, os_progress_fn progress, void *ctx,
                     os_error *err)
{
    cpu_state cs;
    os_status st = cpu_state_make(sw, &cs, err);
    if (st) return st;

    /* blocks: for each seed, its trainings in row order, OS_CPU_BLOCK at a time */
    const size_t seeds = sw->spec->seeds, n = sw->n_trials;
    const size_t per_seed = n / seeds, blocks_per_seed = (per_seed + OS_CPU_BLOCK - 1) / OS_CPU_BLOCK;
    const long n_blocks = (long)(seeds * blocks_per_seed);
#ifdef _OPENMP
    if (sw->spec->threads > 0) omp_set_num_threads(sw->spec->threads);
#endif
    size_t done = 0;
    int failed = 0;
#pragma omp parallel
    {
        uint32_t *order = malloc((size_t)cs.max_n * sizeof *order);
        if (!order) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (long b = 0; b < n_blocks; ++b) {
            if (!order) continue;
            const size_t r = (size_t)b / blocks_per_seed, c0 = ((size_t)b % blocks_per_seed) * OS_CPU_BLOCK;
            size_t idx[OS_CPU_BLOCK];
            int cnt = 0;
            for (size_t c = c0; c < per_seed && cnt < OS_CPU_BLOCK; ++c) idx[cnt++] = c * seeds + r;
            if (cs.f32)
                cpu_block_f32(sw, cs.f32, idx, cnt, cs.identity, order, res);
            else
                cpu_block_f64(sw, cs.f64, idx, cnt, cs.identity, order, res);
            size_t now;
#pragma omp atomic capture
            now = done += (size_t)cnt;
#ifdef _OPENMP
            if (progress && omp_get_thread_num() == 0) progress(ctx, now, n);
#else
            if (progress) progress(ctx, now, n);
#endif
        }
        free(order);
    }
    cpu_state_free(&cs);
    if (failed) {
        os_set_error(err, "out of memory for the batch orders");
        return OS_ERUNTIME;
    }
    if (progress) progress(ctx, n, n);
    return OS_OK;
}

os_status os_cpu_trace(const os_sweep *sw, FILE *f, os_error *err)
{
    cpu_state cs;
    os_status st = cpu_state_make(sw, &cs, err);
    if (st) return st;
    uint32_t *order = malloc((size_t)cs.max_n * sizeof *order);
    if (!order) {
        cpu_state_free(&cs);
        os_set_error(err, "out of memory");
        return OS_ERUNTIME;
    }
    if (cs.f32)
        cpu_trace_f32(sw, cs.f32, cs.identity, order, f);
    else
        cpu_trace_f64(sw, cs.f64, cs.identity, order, f);
    free(order);
    cpu_state_free(&cs);
    return ferror(f) ? (os_set_error(err, "write failed"), OS_ERUNTIME) : OS_OK;
}
