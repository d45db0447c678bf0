/* cpu_backend.c — trains a sweep on the CPU cores (OpenMP).
 *
 * Work is split into blocks of up to OS_CPU_BLOCK trainings of one dtype,
 * shuffle mode, dataset, seed and batch size (they share each epoch's batch
 * order); threads take blocks
 * dynamically, and a block runs OS_CPU_LANES trainings at a time in SIMD
 * lanes (cpu_t.h). Each training's numbers depend only on
 * its own spec, never on the block or thread that ran it, so the table is
 * the same for any thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "orbitsweep/backend.h"
#include "orbitsweep/shuffle.h"
#include "orbitsweep/train.h"

#define OS_CPU_BLOCK 64 /* trainings of one seed that share each epoch's batch order */
#define OS_CPU_LANES 16 /* trainings side by side in SIMD lanes */

/* Per-thread buffers, sized for the largest dataset. */
typedef struct cpu_scratch {
    uint32_t *order; /* the epoch's order: position -> data index */
    uint32_t *table; /* one pass of the bijection over [0, 2^bits) */
    uint32_t *lorder; /* per-lane orders (n * OS_CPU_LANES): lane l's at l * n (scalar path), lane-major (SIMD) */
    void *bd2, *by;  /* the data in batch order (n values of the dtype) */
    void *ld2, *ly;  /* per-lane copies, lane-major (n * OS_CPU_LANES) */
    void *cd2, *cy;  /* blocks of several seeds: the lanes' datasets end to end (n * OS_CPU_LANES) */
} cpu_scratch;

static void cpu_scratch_free(cpu_scratch *ws)
{
    free(ws->order);
    free(ws->table);
    free(ws->lorder);
    free(ws->cd2);
    free(ws->cy);
    free(ws->bd2);
    free(ws->by);
    free(ws->ld2);
    free(ws->ly);
    memset(ws, 0, sizeof *ws);
}

/* mixed: the sweep has blocks of several seeds (cpu_plan.mixed). */
static int cpu_scratch_make(cpu_scratch *ws, int max_n, int mixed)
{
    size_t n = (size_t)max_n, dom = 1;
    while (dom < n) dom *= 2;
    ws->order = malloc(n * sizeof *ws->order);
    ws->table = malloc(dom * sizeof *ws->table);
    ws->lorder = malloc(n * OS_CPU_LANES * sizeof *ws->lorder);
    ws->bd2 = malloc(n * sizeof(double));
    ws->by = malloc(n * sizeof(double));
    ws->ld2 = malloc(n * OS_CPU_LANES * sizeof(double));
    ws->ly = malloc(n * OS_CPU_LANES * sizeof(double));
    if (mixed) {
        ws->cd2 = malloc(n * OS_CPU_LANES * sizeof(double));
        ws->cy = malloc(n * OS_CPU_LANES * sizeof(double));
    }
    if (ws->order && ws->table && ws->lorder && ws->bd2 && ws->by && ws->ld2 && ws->ly &&
        (!mixed || (ws->cd2 && ws->cy)))
        return 1;
    cpu_scratch_free(ws);
    return 0;
}

/* The order of p into out[0..n) (position j -> data index, os_perm_at):
 * the bijection's pass over the whole power-of-two domain is tabulated in
 * one vectorised loop, then each position walks the table into [0, n)
 * (for n a power of two the pass is the order). */
static void cpu_perm_order(cpu_scratch *ws, uint32_t *out, const os_perm *pp)
{
    const os_perm p = *pp; /* a local copy: the stores below cannot alias it, so the loop vectorises */
    const uint32_t dom = p.mask + 1u, n = p.n;
    uint32_t *table = dom == n ? out : ws->table;
#pragma omp simd
    for (uint32_t x = 0; x < dom; ++x) table[x] = os_perm_round(&p, x);
    if (table == out) return;
    for (uint32_t j = 0; j < n; ++j) {
        uint32_t x = table[j];
        while (x >= n) x = table[x];
        out[j] = x;
    }
}

/* The batch order of one epoch into out[0..n). */
static void cpu_make_order_to(cpu_scratch *ws, uint32_t *out, uint64_t seed, uint64_t stream, uint32_t epoch,
                              uint32_t n)
{
    os_perm p;
    os_perm_init(&p, seed, stream, epoch, n);
    cpu_perm_order(ws, out, &p);
}

/* The orders of the OS_CPU_LANES lanes' keys p[l] (all of n points; NULL:
 * data order) for one epoch, lane-major: idx[j * OS_CPU_LANES + l] is lane
 * l's data index at position j. For n a power of two a position is one
 * pass of the bijection, computed for all lanes at once in a vector loop
 * (a key per lane); else each lane's order takes the table route. */
static void cpu_lane_orders(cpu_scratch *ws, const os_perm *p, uint32_t n, uint32_t *restrict idx)
{
    if (!p) {
        for (uint32_t j = 0; j < n; ++j)
            for (int l = 0; l < OS_CPU_LANES; ++l) idx[(size_t)j * OS_CPU_LANES + l] = j;
        return;
    }
    if (p[0].mask == n - 1u) {
        uint32_t k0[OS_CPU_LANES], k1[OS_CPU_LANES], k2[OS_CPU_LANES], k3[OS_CPU_LANES];
        for (int l = 0; l < OS_CPU_LANES; ++l) k0[l] = p[l].key[0], k1[l] = p[l].key[1], k2[l] = p[l].key[2], k3[l] = p[l].key[3];
        const uint32_t mask = p[0].mask;
        const unsigned half = p[0].half;
        for (uint32_t j = 0; j < n; ++j) {
            uint32_t *restrict o = idx + (size_t)j * OS_CPU_LANES;
#pragma omp simd
            for (int l = 0; l < OS_CPU_LANES; ++l) {
                const os_perm q = {{k0[l], k1[l], k2[l], k3[l]}, n, mask, half};
                o[l] = os_perm_round(&q, j);
            }
        }
        return;
    }
    for (int l = 0; l < OS_CPU_LANES; ++l) {
        if (!l || memcmp(p[l].key, p[l - 1].key, sizeof p[l].key) != 0) cpu_perm_order(ws, ws->order, &p[l]);
        for (uint32_t j = 0; j < n; ++j) idx[(size_t)j * OS_CPU_LANES + l] = ws->order[j];
    }
}

/* The same into ws->order. */
static void cpu_make_order(cpu_scratch *ws, uint64_t seed, uint64_t stream, uint32_t epoch, uint32_t n)
{
    cpu_make_order_to(ws, ws->order, seed, stream, epoch, n);
}

#define OS_F32 1
#include "orbitsweep/typed.h"
#include "cpu_t.h"
#define OS_F32 0
#include "orbitsweep/typed.h"
#include "cpu_t.h"

/* final_loss of trials idx[0..cnt): os_dataset_loss's math and order,
 * OS_CPU_LANES trainings at a time (one dataset broadcast, or each lane its
 * own, lane-major in data order, for a block of several seeds); then the
 * other metrics. */
static void cpu_finish(const os_sweep *sw, const cpu_data_f64 *cds, const size_t *idx, int cnt,
                       cpu_scratch *ws, os_result *res)
{
    const int n = os_sweep_dataset(sw, idx[0])->n;
    for (int c0 = 0; c0 < cnt; c0 += OS_CPU_LANES) {
        const int lanes = cnt - c0 < OS_CPU_LANES ? cnt - c0 : OS_CPU_LANES;
        double inv[OS_CPU_LANES], wb[OS_CPU_LANES];
        double al[OS_PARTIALS][OS_CPU_LANES], aa[OS_PARTIALS][OS_CPU_LANES],
            ab[OS_PARTIALS][OS_CPU_LANES];
        int ak[OS_PARTIALS][OS_CPU_LANES];
        const cpu_data_f64 *cd[OS_CPU_LANES];
        int mixed = 0;
        for (int l = 0; l < OS_CPU_LANES; ++l) {
            const size_t i = idx[c0 + (l < lanes ? l : 0)];
            const os_result *r = &res[i];
            os_fwd_f64 f = os_fwd_make_f64(r->final_wa, r->final_wb);
            inv[l] = f.inv_wa2;
            wb[l] = f.wb;
            cd[l] = &cds[sw->trials[i].data];
            mixed |= cd[l] != cd[0];
        }
        if (mixed) {
            double *ld2 = ws->ld2, *ly = ws->ly;
            for (int j = 0; j < n; ++j)
                for (int l = 0; l < OS_CPU_LANES; ++l)
                    ld2[(size_t)j * OS_CPU_LANES + l] = cd[l]->d2[j], ly[(size_t)j * OS_CPU_LANES + l] = cd[l]->y[j];
            for (int p = 0; p < OS_PARTIALS; ++p)
                cpu_partial_lanes_f64(inv, wb, ld2, ly, p, n, al[p], aa[p], ab[p], ak[p]);
        } else {
            for (int p = 0; p < OS_PARTIALS; ++p)
                cpu_partial_bcast_f64(inv, wb, cd[0]->d2, cd[0]->y, p, n, al[p], aa[p], ab[p], ak[p]);
        }
        for (int l = 0; l < lanes; ++l) {
            os_result *r = &res[idx[c0 + l]];
            os_acc_f64 part[OS_PARTIALS];
            for (int p = 0; p < OS_PARTIALS; ++p) {
                part[p].l = al[p][l];
                part[p].a = aa[p][l];
                part[p].b = ab[p][l];
                part[p].k = ak[p][l];
            }
            r->final_loss = os_final_loss_defined(r->final_wa, r->final_wb, r->diverged)
                                 ? os_loss_mean(os_acc_tree_f64(part))
                                 : NAN;
            os_result_finish(sw, idx[c0 + l], r);
        }
    }
}

typedef struct cpu_state {
    cpu_data_f32 *f32;
    cpu_data_f64 *f64;
    size_t n;
    int max_n;
} cpu_state;

static void cpu_state_free(cpu_state *s)
{
    for (size_t i = 0; i < s->n; ++i) {
        if (s->f32) cpu_data_free_f32(&s->f32[i]);
        if (s->f64) cpu_data_free_f64(&s->f64[i]);
    }
    free(s->f32);
    free(s->f64);
}

static os_status cpu_state_make(const os_sweep *sw, cpu_state *s, os_error *err)
{
    memset(s, 0, sizeof *s);
    s->n = sw->n_data;
    /* float64 data always (final losses); float32 data for float32 runs */
    s->f64 = calloc(s->n, sizeof *s->f64);
    int ok = s->f64 != NULL;
    for (size_t i = 0; ok && i < s->n; ++i)
        ok = cpu_data_make_f64(&s->f64[i], &sw->data[i], i ? &sw->data[i - 1] : NULL, i ? &s->f64[i - 1] : NULL);
    if (ok && (os_spec_dtypes(sw->spec) >> OS_DTYPE_F32 & 1)) {
        s->f32 = calloc(s->n, sizeof *s->f32);
        ok = s->f32 != NULL;
        for (size_t i = 0; ok && i < s->n; ++i)
            ok = cpu_data_make_f32(&s->f32[i], &sw->data[i], i ? &sw->data[i - 1] : NULL, i ? &s->f32[i - 1] : NULL);
    }
    for (size_t i = 0; i < s->n; ++i) s->max_n = sw->data[i].n > s->max_n ? sw->data[i].n : s->max_n;
    if (!ok) {
        cpu_state_free(s);
        os_set_error(err, "out of memory for the datasets");
        return OS_ERUNTIME;
    }
    return OS_OK;
}

/* Blocks of work: for each dtype, shuffle mode, dataset and seed its
 * trainings ordered by (batch size, epochs), cut into runs of at most
 * OS_CPU_BLOCK with one batch size. */
typedef struct cpu_plan {
    size_t *idx;              /* trial indices, block after block */
    size_t *start;            /* block b is idx[start[b] .. start[b+1]) */
    size_t n_blocks;
    int mixed;                /* some blocks hold several seeds or datasets (cpu_plan_mix_seeds) */
} cpu_plan;

/* A trial's place in the block order: dtype, shuffle mode, dataset, seed,
 * batch size, epochs, grid order. */
typedef struct cpu_key {
    int dtype, shuffle;
    uint32_t data, replicate;
    int batch_size, epochs;
    size_t idx;
} cpu_key;

static int cmp_key(const void *a, const void *b)
{
    const cpu_key *x = a, *y = b;
    if (x->dtype != y->dtype) return x->dtype < y->dtype ? -1 : 1;
    if (x->shuffle != y->shuffle) return x->shuffle < y->shuffle ? -1 : 1;
    if (x->data != y->data) return x->data < y->data ? -1 : 1;
    if (x->replicate != y->replicate) return x->replicate < y->replicate ? -1 : 1;
    if (x->batch_size != y->batch_size) return x->batch_size < y->batch_size ? -1 : 1;
    if (x->epochs != y->epochs) return x->epochs < y->epochs ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cpu_plan_make(const os_sweep *sw, cpu_plan *pl)
{
    const size_t n = sw->n_trials;
    cpu_key *keys = malloc(n * sizeof *keys);
    pl->idx = malloc(n * sizeof *pl->idx);
    pl->start = malloc((n + 1) * sizeof *pl->start);
    if (!keys || !pl->idx || !pl->start) return free(keys), 0;
    for (size_t i = 0; i < n; ++i) {
        const os_trial *t = &sw->trials[i];
        keys[i] = (cpu_key){t->dtype, t->shuffle, t->data, t->replicate, t->batch_size, t->epochs, i};
    }
    size_t sorted = 1; /* one seed, batch size and epoch count (an lr grid): in order already */
    while (sorted < n && cmp_key(&keys[sorted - 1], &keys[sorted]) < 0) ++sorted;
    if (sorted < n) qsort(keys, n, sizeof *keys, cmp_key);
    pl->n_blocks = 0;
    for (size_t i = 0; i < n; ++i) {
        pl->idx[i] = keys[i].idx;
        const size_t b = pl->n_blocks;
        int fresh = b == 0 || i - pl->start[b - 1] == OS_CPU_BLOCK;
        if (!fresh) {
            const cpu_key *first = &keys[pl->start[b - 1]], *k = &keys[i];
            fresh = first->dtype != k->dtype || first->shuffle != k->shuffle || first->data != k->data ||
                    first->replicate != k->replicate || first->batch_size != k->batch_size;
        }
        if (fresh) pl->start[pl->n_blocks++] = i;
    }
    pl->start[pl->n_blocks] = n;
    free(keys);
    return 1;
}

/* Seeds with few trainings each (one configuration x 40,000 seeds) would
 * each fill a lane or two of a block: blocks of fewer than OS_CPU_LANES / 2
 * trainings are regrouped by (dtype, shuffle mode, dataset size, batch
 * size) into blocks of OS_CPU_LANES trainings of several seeds (cpu_block
 * gives each lane its own data and order), after the others. A training's
 * numbers do not depend on its block. */
typedef struct cpu_mix_key {
    int dtype, shuffle, n, batch_size;
    size_t pos, idx;
} cpu_mix_key;

static int cmp_mix_group(const cpu_mix_key *x, const cpu_mix_key *y)
{
    if (x->dtype != y->dtype) return x->dtype < y->dtype ? -1 : 1;
    if (x->shuffle != y->shuffle) return x->shuffle < y->shuffle ? -1 : 1;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    if (x->batch_size != y->batch_size) return x->batch_size < y->batch_size ? -1 : 1;
    return 0;
}

static int cmp_mix_key(const void *a, const void *b)
{
    const cpu_mix_key *x = a, *y = b;
    const int c = cmp_mix_group(x, y);
    if (c) return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cpu_plan_mix_seeds(const os_sweep *sw, cpu_plan *pl)
{
    const size_t n = sw->n_trials;
    size_t n_small = 0, n_small_blocks = 0;
    for (size_t b = 0; b < pl->n_blocks; ++b)
        if (pl->start[b + 1] - pl->start[b] < OS_CPU_LANES / 2) n_small += pl->start[b + 1] - pl->start[b], ++n_small_blocks;
    if (sw->n_data < 2 || n_small_blocks < 2) return 1;
    cpu_mix_key *keys = malloc(n_small * sizeof *keys);
    size_t *idx = malloc(n * sizeof *idx), *start = malloc((n + 1) * sizeof *start);
    if (!keys || !idx || !start) return free(keys), free(idx), free(start), 0;
    size_t k = 0, at = 0, nb = 0;
    for (size_t b = 0; b < pl->n_blocks; ++b) {
        const size_t b0 = pl->start[b], b1 = pl->start[b + 1];
        if (b1 - b0 < OS_CPU_LANES / 2) {
            for (size_t i = b0; i < b1; ++i, ++k) {
                const os_trial *t = &sw->trials[pl->idx[i]];
                keys[k] = (cpu_mix_key){t->dtype, t->shuffle, sw->data[t->data].n, t->batch_size, i, pl->idx[i]};
            }
            continue;
        }
        start[nb++] = at;
        for (size_t i = b0; i < b1; ++i) idx[at++] = pl->idx[i];
    }
    qsort(keys, n_small, sizeof *keys, cmp_mix_key);
    for (size_t i = 0; i < n_small; ++i) {
        if (i == 0 || cmp_mix_group(&keys[i], &keys[i - 1]) || at - start[nb - 1] == OS_CPU_LANES) start[nb++] = at;
        idx[at++] = keys[i].idx;
    }
    start[nb] = at;
    free(keys);
    free(pl->idx);
    free(pl->start);
    pl->idx = idx;
    pl->start = start;
    pl->n_blocks = nb;
    pl->mixed = 1;
    return 1;
}

os_status os_cpu_run(const os_sweep *sw, os_result *res, os_progress_fn progress, void *ctx,
                     os_error *err)
{
    cpu_state cs;
    os_status st = cpu_state_make(sw, &cs, err);
    if (st) return st;
    cpu_plan pl = {0};
    if (!cpu_plan_make(sw, &pl) || !cpu_plan_mix_seeds(sw, &pl)) {
        free(pl.idx);
        free(pl.start);
        cpu_state_free(&cs);
        os_set_error(err, "out of memory for %zu trainings", sw->n_trials);
        return OS_ERUNTIME;
    }
    const int simd = !sw->spec->cpu_scalar;
    const size_t n = sw->n_trials;
    size_t done = 0;
    int failed = 0;
#pragma omp parallel num_threads(os_spec_threads(sw->spec))
    {
        cpu_scratch ws = {0};
        int ok = cpu_scratch_make(&ws, cs.max_n, pl.mixed);
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (long b = 0; b < (long)pl.n_blocks; ++b) {
            if (!ok) continue;
            const size_t *idx = pl.idx + pl.start[b];
            const int cnt = (int)(pl.start[b + 1] - pl.start[b]);
            if (sw->trials[idx[0]].dtype == OS_DTYPE_F32)
                cpu_block_f32(sw, cs.f32, idx, cnt, &ws, simd, res);
            else
                cpu_block_f64(sw, cs.f64, idx, cnt, &ws, simd, res);
            cpu_finish(sw, cs.f64, idx, cnt, &ws, res);
            size_t now;
#pragma omp atomic capture
            now = done += (size_t)cnt;
#ifdef _OPENMP
            if (progress && omp_get_thread_num() == 0) progress(ctx, now, n);
#else
            if (progress) progress(ctx, now, n);
#endif
        }
        cpu_scratch_free(&ws);
    }
    free(pl.idx);
    free(pl.start);
    cpu_state_free(&cs);
    if (failed) {
        os_set_error(err, "out of memory for the batch orders");
        return OS_ERUNTIME;
    }
    if (progress) progress(ctx, n, n);
    return OS_OK;
}

os_status os_cpu_bound(const os_sweep *sw, double *seconds, os_error *err)
{
    cpu_state cs;
    os_status st = cpu_state_make(sw, &cs, err);
    if (st) return st;
    const os_trial *t = &sw->trials[0];
    const int n = sw->data[t->data].n, bs = t->batch_size, epochs = t->epochs;
    const long blocks = (long)((sw->n_trials + OS_CPU_BLOCK - 1) / OS_CPU_BLOCK);
    double sink = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sink) num_threads(os_spec_threads(sw->spec))
    for (long b = 0; b < blocks; ++b) {
        const size_t lo = (size_t)b * OS_CPU_BLOCK, hi = lo + OS_CPU_BLOCK < sw->n_trials ? lo + OS_CPU_BLOCK : sw->n_trials;
        if (t->dtype == OS_DTYPE_F32)
            cpu_bound_block_f32(&cs.f32[t->data], n, bs, epochs, (int)(hi - lo), &sink);
        else
            cpu_bound_block_f64(&cs.f64[t->data], n, bs, epochs, (int)(hi - lo), &sink);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    cpu_state_free(&cs);
    volatile double keep = sink; /* the loop's results are used */
    (void)keep;
    return OS_OK;
}

os_status os_cpu_trace(const os_sweep *sw, FILE *f, os_error *err)
{
    cpu_state cs;
    os_status st = cpu_state_make(sw, &cs, err);
    if (st) return st;
    cpu_scratch ws = {0};
    if (!cpu_scratch_make(&ws, cs.max_n, 0)) {
        cpu_state_free(&cs);
        os_set_error(err, "out of memory");
        return OS_ERUNTIME;
    }
    const os_trial *t = &sw->trials[0];
    if (t->dtype == OS_DTYPE_F32)
        cpu_trace_f32(sw, &cs.f32[t->data], &ws, f);
    else
        cpu_trace_f64(sw, &cs.f64[t->data], &ws, f);
    cpu_scratch_free(&ws);
    cpu_state_free(&cs);
    return OS_OK; /* write errors stay on the stream, for its owner to report (ferror) */
}
