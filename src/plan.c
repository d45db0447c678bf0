/* plan.c — from a spec to the grid of trials, their datasets and results.
 *
 * Grid order (the row order of results.csv): an odometer over the axis
 * table (axes.h) in its `nest` order — dtype, shuffle, sched_step, n,
 * noise, target, then optimizer, scheduler, lr, momentum, dampening, alpha,
 * beta1, beta2, eps, weight_decay, ..., batch_size, epochs, init_wa,
 * init_wb — then seed innermost, so the replicates of one configuration
 * are adjacent. The axes before the optimizer are outer: a grid block is
 * the product of the others for each combination of their values in turn,
 * so a sweep over them is the concatenation of the single-valued sweeps.
 * An axis an optimizer does not use (beta1 for sgd, ...) does not multiply
 * its trainings and its column is left empty (NaN); an axis its row pins
 * is 0. Datasets: one per (n, noise) the trials use and replicate.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"
#include "orbitsweep/shuffle.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* trials and their axes                                                     */

double os_trial_axis(const os_trial *t, int axis)
{
    return os_axis_field((const char *)t + os_axes[axis].offset, os_axes[axis].type);
}

static void trial_set_axis(os_trial *t, int axis, double v)
{
    char *p = (char *)t + os_axes[axis].offset;
    switch (os_axes[axis].type) {
    case OS_AXT_OPT:
    case OS_AXT_CHOICE:
    case OS_AXT_INT: *(int *)p = (int)v; break;
    case OS_AXT_SCHED: *(uint32_t *)p = (uint32_t)v; break;
    default: *(double *)p = v; break;
    }
}

/* FNV-1a over bytes. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001B3ULL;
    return h;
}

uint64_t os_config_hash(const os_axis_def *table, size_t n, const os_trial *t, const os_spec *spec)
{
    const os_axis_def *by_pos[OS_AX_COUNT] = {0};
    for (size_t r = 0; r < n; ++r)
        if (table[r].hash >= 0 && table[r].hash < OS_AX_COUNT) by_pos[table[r].hash] = &table[r];
    uint64_t h = 0xCBF29CE484222325ULL;
    for (int pos = 0; pos < OS_AX_COUNT; ++pos) {
        const os_axis_def *d = by_pos[pos];
        if (!d) continue;
        if (d->type == OS_AXT_SCHED) {
            const char *name = spec->scheds[t->sched].name;
            h = fnv1a(h, name, strlen(name));
        } else {
            double x = os_trial_axis(t, d->id);
            if (isnan(x)) x = 0.0; /* one bit pattern for "unused" */
            if (pos >= OS_HASH_LATER && x == 0) continue; /* as before the axis existed */
            h = fnv1a(h, &x, sizeof x);
        }
    }
    return h;
}

/* The axes in grid order, outermost first. */
static void nest_order(int order[OS_AX_COUNT])
{
    for (int a = 0; a < OS_AX_COUNT; ++a) order[os_axes[a].nest] = a;
}

/* An axis that nests outside the optimizer (dtype, shuffle, sched_step,
 * n, noise, target): in a grid block, each combination of their values is
 * the block's product of the other axes. */
static int outer_axis(int a) { return os_axes[a].nest < os_axes[OS_AX_OPTIMIZER].nest; }

/* Combinations of the outer axes' values in a block (1 in a sampled block:
 * there they are drawn like the others). */
static size_t outer_combos(const os_list *axis, int sample)
{
    size_t c = 1;
    for (int a = 0; a < OS_AX_COUNT && sample == OS_SAMPLE_GRID; ++a)
        if (outer_axis(a)) c *= axis[a].n;
    return c;
}

/* The values axis a takes for optimizer kind: the given list, or the
 * optimizer's own default (one value in *one; adadelta's lr too), or the
 * axis default; NULL when the optimizer does not use the axis. */
static const double *axis_values(const os_list *axis, const int *given, int a, int kind, double *one, size_t *n)
{
    *n = 1;
    if (!os_axis_used(a, kind)) return NULL;
    if (!given[a] && os_optimizer_default(kind, a, one)) return one;
    *n = axis[a].n;
    return axis[a].v;
}

/* The grid's layout, from which any trial is decoded from its index: per
 * block (spec->blocks, in order), combination of the outer axes' values
 * and optimizer (in --optimizer order) the values of each axis, where its
 * trials start and its first configuration. */
typedef struct grid_opt {
    int kind;
    int sample;                      /* OS_SAMPLE_*: a product, or sample points */
    uint32_t block;                  /* its block (the sample points' stream) */
    const int *dist;                 /* its block's distributions */
    size_t count[OS_AX_COUNT];
    const double *vals[OS_AX_COUNT]; /* NULL: an axis the optimizer does not use */
    double own[OS_AX_COUNT];         /* its own defaults */
    size_t first, n;                 /* its trials: first .. first+n-1 */
    uint32_t cfg0;                   /* its first configuration */
} grid_opt;

/* A generated dataset's settings: the (n, noise) of datasets
 * pair * seeds .. pair * seeds + seeds - 1. */
typedef struct grid_pair {
    int n;
    double noise;
} grid_pair;

struct os_grid {
    int order[OS_AX_COUNT]; /* the axes in grid order, outermost first */
    grid_pair *pairs;       /* sorted by n, then noise; none for a --data file */
    size_t n_pairs;
    size_t n_opt;
    grid_opt opt[];
};

/* The layout of spec's grid; NULL when out of memory. */
static os_grid *grid_make(const os_spec *s)
{
    size_t n_opt = 0;
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const int *given, *dist;
        int64_t n_samples;
        const os_list *axis = os_spec_block_axes(s, b, &given);
        n_opt += outer_combos(axis, os_spec_block_sampling(s, b, &dist, &n_samples)) * axis[OS_AX_OPTIMIZER].n;
    }
    os_grid *g = calloc(1, sizeof *g + n_opt * sizeof g->opt[0]);
    if (!g) return NULL;
    nest_order(g->order);
    g->n_opt = n_opt;
    size_t first = 0, cfg = 0, o = 0;
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const int *given, *dist;
        int64_t n_samples;
        const os_list *axis = os_spec_block_axes(s, b, &given);
        const int sample = os_spec_block_sampling(s, b, &dist, &n_samples);
        const size_t combos = outer_combos(axis, sample);
        for (size_t cmb = 0; cmb < combos; ++cmb)
        for (size_t k = 0; k < axis[OS_AX_OPTIMIZER].n; ++k, ++o) {
            grid_opt *go = &g->opt[o];
            go->kind = (int)axis[OS_AX_OPTIMIZER].v[k];
            go->sample = sample;
            go->block = (uint32_t)b;
            go->dist = dist;
            size_t configs = 1, rest = cmb;
            for (int j = OS_AX_COUNT - 1; j >= 0; --j) { /* the combination's values, the innermost fastest */
                const int a = g->order[j];
                go->vals[a] = axis_values(axis, given, a, go->kind, &go->own[a], &go->count[a]);
                if (outer_axis(a) && sample == OS_SAMPLE_GRID) {
                    go->vals[a] += rest % go->count[a];
                    rest /= go->count[a];
                    go->count[a] = 1;
                }
            }
            for (int a = 0; a < OS_AX_COUNT; ++a)
                if (a != OS_AX_OPTIMIZER) configs *= go->count[a];
            if (sample != OS_SAMPLE_GRID) configs = (size_t)n_samples;
            go->first = first;
            go->n = configs * (size_t)s->seeds;
            go->cfg0 = (uint32_t)cfg;
            first += go->n;
            cfg += configs;
        }
    }
    return g;
}

/* Replicate r of a configuration: its dataset (its (n, noise)'s r-th;
 * the one of a --data file) and its seed. */
static void set_replicate(os_trial *t, const os_spec *s, uint32_t r)
{
    if (!s->data_file) t->data = t->data - t->replicate + r;
    t->replicate = r;
    t->seed = s->seed + r;
}

static int cmp_pair(const void *x, const void *y)
{
    const grid_pair *a = x, *b = y;
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    return (a->noise > b->noise) - (a->noise < b->noise);
}

/* Axis a of the trial at point `point` (a sampled block's point number) and
 * odometer position idx of go: drawn, listed, or the optimizer's pin. */
static double grid_value(const os_spec *s, const grid_opt *go, size_t point, size_t idx, int a)
{
    if (a == OS_AX_OPTIMIZER) return go->kind;
    if (go->vals[a] && go->sample && (go->count[a] > 1 || go->dist[a] != OS_DIST_LIST))
        return os_dist_value(go->dist[a], go->vals[a], go->count[a],
                             os_sample_u(go->sample, s->sample_seed, !s->sobol_plain, go->block, point, a));
    if (go->vals[a]) return go->vals[a][idx];
    return os_optimizers[go->kind].pinned & (1u << a) ? 0.0 : NAN;
}

/* The layout entry that holds trial i (the last whose trials start at or
 * before i: entries hold at least one trial, in order). */
static size_t grid_find(const os_grid *g, size_t i)
{
    size_t lo = 0, hi = g->n_opt;
    while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        if (g->opt[mid].first <= i) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* A trial's batch-order stream: its configuration's own, or its seed's. */
static void set_order_stream(os_trial *t, const os_spec *s)
{
    t->order_stream = t->shuffle == OS_SHUFFLE_TRIAL ? OS_STREAM_TRIAL_ORDER(os_config_hash(os_axes, OS_AX_COUNT, t, s))
                                                     : OS_STREAM_SHARED_ORDER;
}

/* Trial i of the grid: the odometer's position decoded from the index
 * (the innermost axis, last in grid order, turns fastest; seeds inside),
 * into idx. */
static void grid_trial(const os_sweep *sw, size_t i, os_trial *t, size_t idx[OS_AX_COUNT])
{
    const os_spec *s = sw->spec;
    const os_grid *g = sw->grid;
    const size_t o = grid_find(g, i);
    const grid_opt *go = &g->opt[o];
    const size_t j = i - go->first;
    size_t c = j / (size_t)s->seeds;
    memset(idx, 0, OS_AX_COUNT * sizeof *idx);
    memset(t, 0, sizeof *t);
    t->cfg = go->cfg0 + (uint32_t)c;
    const size_t point = c; /* a sample's point number */
    for (int k = OS_AX_COUNT - 1; k >= 0 && !go->sample; --k) {
        const int a = g->order[k];
        if (a == OS_AX_OPTIMIZER || go->count[a] < 2) continue; /* index 0: most axes hold one value, and a division costs ~40 cycles */
        idx[a] = c % go->count[a];
        c /= go->count[a];
    }
    for (int a = 0; a < OS_AX_COUNT; ++a) trial_set_axis(t, a, grid_value(s, go, point, idx[a], a));
    set_order_stream(t, s);
    if (s->data_file) { /* the file's points: its n, no noise */
        t->n = sw->n_data ? sw->data[0].n : 0;
        t->noise = NAN;
    } else {
        const grid_pair key = {t->n, t->noise};
        const grid_pair *p = bsearch(&key, g->pairs, g->n_pairs, sizeof key, cmp_pair);
        t->data = (uint32_t)(p - g->pairs) * (uint32_t)s->seeds;
    }
    set_replicate(t, s, (uint32_t)(j % (size_t)s->seeds));
}

/* The innermost axis of go's odometer that turns (-1: none; a sampled
 * block has no odometer). */
static int grid_inner(const os_grid *g, const grid_opt *go)
{
    for (int k = OS_AX_COUNT - 1; k >= 0 && !go->sample; --k) {
        const int a = g->order[k];
        if (a != OS_AX_OPTIMIZER && go->count[a] > 1) return a;
    }
    return -1;
}

/* Trials first .. first+n-1 into out, in parallel. Each part decodes its
 * first trial from the index, then steps: a seed after the first of its
 * configuration copies its neighbour (same axes, same hash), and the next
 * configuration, where only the innermost axis moves on (no carry), is its
 * neighbour with that axis's next value (and its own hash); the rest are
 * decoded. The same trials as decoding each (test_stream). */
static void grid_trials(const os_sweep *sw, size_t first, size_t n, os_trial *out)
{
    const os_spec *s = sw->spec;
    const uint32_t seeds = (uint32_t)s->seeds;
    const long parts = (long)(n / 4096 + 1);
#pragma omp parallel for schedule(static) num_threads(os_spec_threads(sw->spec))
    for (long p = 0; p < parts; ++p) {
        const size_t lo = n * (size_t)p / (size_t)parts, hi = n * (size_t)(p + 1) / (size_t)parts;
        const os_grid *g = sw->grid;
        const grid_opt *go = NULL; /* the layout entry of the trial before, which ends at end */
        size_t idx[OS_AX_COUNT], end = 0;
        int inner = -1;
        for (size_t k = lo; k < hi; ++k) {
            const size_t i = first + k;
            const uint32_t r = go ? out[k - 1].replicate + 1 : 0; /* the trial before's seed, one on */
            if (go && i < end && r < seeds) {
                out[k] = out[k - 1];
                set_replicate(&out[k], s, r);
            } else if (go && i < end && inner >= 0 && idx[inner] + 1 < go->count[inner]) {
                /* the next configuration; the dataset stays: n and noise are outer axes, one value per
                 * layout entry */
                out[k] = out[k - 1];
                idx[inner] += 1;
                trial_set_axis(&out[k], inner, grid_value(s, go, 0, idx[inner], inner));
                out[k].cfg += 1;
                set_order_stream(&out[k], s);
                set_replicate(&out[k], s, 0);
            } else {
                grid_trial(sw, i, &out[k], idx);
                go = &g->opt[grid_find(g, i)];
                end = go->first + go->n;
                inner = grid_inner(g, go);
            }
        }
    }
}

/* The number of trials (a double: it may be far beyond any limit). */
double os_spec_count_block(const os_spec *s, size_t b)
{
    double total = 0, one;
    const int *given, *dist;
    int64_t n_samples;
    const os_list *axis = os_spec_block_axes(s, b, &given);
    if (os_spec_block_sampling(s, b, &dist, &n_samples) != OS_SAMPLE_GRID) /* points per optimizer */
        return (double)axis[OS_AX_OPTIMIZER].n * (double)n_samples * s->seeds;
    for (size_t o = 0; o < axis[OS_AX_OPTIMIZER].n; ++o) {
        double n = s->seeds;
        for (int a = 0; a < OS_AX_COUNT; ++a) {
            size_t count;
            axis_values(axis, given, a, (int)axis[OS_AX_OPTIMIZER].v[o], &one, &count);
            if (a != OS_AX_OPTIMIZER) n *= (double)count;
        }
        total += n;
    }
    return total;
}

static double count_trials(const os_spec *s)
{
    double total = 0;
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) total += os_spec_count_block(s, b);
    return total;
}

/* Scheduler steps the longest training takes (the schedulers' tables' length): the
 * most epochs with the smallest batch size (every optimizer's grid holds
 * every pair) on the largest dataset, if any training steps its scheduler
 * after every update. */
static int64_t max_sched_steps(const os_sweep *sw)
{
    int64_t epochs = 0, batch = INT64_MAX, n = 0;
    int per_update = 0;
    for (size_t b = 0; b < os_spec_n_blocks(sw->spec); ++b) { /* the most epochs and smallest batch of any block */
        const int *given;
        const os_list *axis = os_spec_block_axes(sw->spec, b, &given);
        const os_list *ep = &axis[OS_AX_EPOCHS], *bs = &axis[OS_AX_BATCH_SIZE], *st = &axis[OS_AX_SCHED_STEP];
        for (size_t k = 0; k < ep->n; ++k) epochs = (int64_t)ep->v[k] > epochs ? (int64_t)ep->v[k] : epochs;
        for (size_t k = 0; k < bs->n; ++k) batch = (int64_t)bs->v[k] < batch ? (int64_t)bs->v[k] : batch;
        for (size_t k = 0; k < st->n; ++k) per_update |= st->v[k] == 0;
    }
    if (!per_update || !sw->n_trials) return sw->n_trials ? epochs : 0;
    for (size_t d = 0; d < sw->n_data; ++d) n = sw->data[d].n > n ? sw->data[d].n : n;
    return epochs * ((n + batch - 1) / batch);
}

/* The distinct (n, noise) of the grid's trials (sorted), for its datasets:
 * a grid block's combinations, a sampled block's points. Refuses more than
 * OS_MAX_PAIRS (each is `seeds` datasets). */
#define OS_MAX_PAIRS 1000000
static os_status grid_pairs(const os_spec *s, os_grid *g, os_error *err)
{
    size_t n = 0, cap = 0;
    grid_pair *v = NULL;
    for (size_t o = 0; o < g->n_opt && !s->data_file; ++o) {
        const grid_opt *go = &g->opt[o];
        const int drawn = go->sample && (go->count[OS_AX_N] > 1 || go->dist[OS_AX_N] != OS_DIST_LIST ||
                                         go->count[OS_AX_NOISE] > 1 || go->dist[OS_AX_NOISE] != OS_DIST_LIST);
        const size_t points = drawn ? go->n / (size_t)s->seeds : 1;
        for (size_t p = 0; p < points; ++p) {
            if (n == cap) {
                if (n >= 4 * (size_t)OS_MAX_PAIRS) { /* sort and dedupe before growing */
                    qsort(v, n, sizeof *v, cmp_pair);
                    size_t w = 0;
                    for (size_t i = 0; i < n; ++i)
                        if (!w || cmp_pair(&v[w - 1], &v[i])) v[w++] = v[i];
                    n = w;
                }
                if (n > OS_MAX_PAIRS) break;
                cap = n == cap ? (cap ? 2 * cap : 64) : cap;
                grid_pair *nv = realloc(v, cap * sizeof *v);
                if (!nv) return free(v), os_set_error(err, "out of memory"), OS_ERUNTIME;
                v = nv;
            }
            v[n].n = (int)grid_value(s, go, p, 0, OS_AX_N);
            v[n++].noise = grid_value(s, go, p, 0, OS_AX_NOISE);
        }
    }
    if (n) qsort(v, n, sizeof *v, cmp_pair);
    size_t w = 0;
    for (size_t i = 0; i < n; ++i)
        if (!w || cmp_pair(&v[w - 1], &v[i])) v[w++] = v[i];
    if (w > OS_MAX_PAIRS) {
        free(v);
        os_set_error(err, "--n, --noise: the sweep's trainings use more than %d datasets (n, noise); each is "
                          "generated and searched for its loss minimum: sample n and noise from lists", OS_MAX_PAIRS);
        return OS_EINPUT;
    }
    g->pairs = v;
    g->n_pairs = w;
    return OS_OK;
}

static os_status plan_datasets(const os_spec *s, os_sweep *sw, os_error *err)
{
    const os_grid *gr = sw->grid;
    sw->n_data = s->data_file ? 1 : gr->n_pairs * (size_t)s->seeds;
    sw->data = calloc(sw->n_data, sizeof *sw->data);
    if (!sw->data) {
        os_set_error(err, "out of memory for %zu datasets", sw->n_data);
        return OS_ERUNTIME;
    }
    if (s->data_file) return os_dataset_make(s, 0, &sw->data[0], err);
    /* the replicates and noise levels of one n differ only in y: they
     * share the first one's x, and the loss-minimum search shares all its
     * work that does not involve y (os_minscan); runs of datasets are built
     * and searched in parallel */
    os_status first = OS_OK;
    for (size_t p0 = 0, p1; p0 < gr->n_pairs && !first; p0 = p1) {
        for (p1 = p0 + 1; p1 < gr->n_pairs && gr->pairs[p1].n == gr->pairs[p0].n;) ++p1;
        os_dataset *ds = sw->data + p0 * (size_t)s->seeds;
        const size_t count = (p1 - p0) * (size_t)s->seeds, seeds = (size_t)s->seeds;
        const int n = gr->pairs[p0].n;
        os_minscan *scan = NULL;
        first = os_dataset_generate_points(s, n, gr->pairs[p0].noise, 0, NULL, &ds[0], err);
        if (first || (first = os_minscan_make(&ds[0], &scan, err))) return first;
        const long runs = ((long)count + 63) / 64;
#pragma omp parallel for schedule(dynamic, 1) num_threads(os_spec_threads(s))
        for (long g = 0; g < runs; ++g) {
            const size_t r0 = (size_t)g * 64, cnt = count - r0 < 64 ? count - r0 : 64;
            os_error e;
            os_status rs = OS_OK;
            for (size_t r = r0 > 0 ? r0 : 1; !rs && r < r0 + cnt; ++r)
                rs = os_dataset_generate_points(s, n, gr->pairs[p0 + r / seeds].noise, (uint32_t)(r % seeds), ds[0].x,
                                                &ds[r], &e);
            if (!rs) rs = os_dataset_find_minima(scan, &ds[r0], cnt, &e);
            if (rs) {
#pragma omp critical
                if (!first) first = rs, *err = e;
            }
        }
        os_minscan_free(scan);
    }
    return first;
}

/* The host's table of a part, for its steps 0 .. steps (os_sched_part_tabval:
 * host libm, so every backend gets the same bits); a table file's
 * multipliers are copied. NULL when out of memory. */
static double *part_table(const os_sched_part *p, int64_t steps, int64_t *len)
{
    if (p->kind == OS_SCHED_TABLE) {
        double *t = malloc((size_t)p->tab_len * sizeof *t);
        if (t) memcpy(t, p->tab, (size_t)p->tab_len * sizeof *t);
        *len = p->tab_len;
        return t;
    }
    *len = steps + 1;
    double *t = malloc((size_t)(steps + 1) * sizeof *t);
    if (!t) return NULL;
    if (p->kind == OS_SCHED_WARM_RESTARTS) { /* Tcur, Ti stepped along (tabval restarts from 0) */
        int64_t tcur = 0, ti = p->t_max;
        for (int64_t e = 0; e <= steps; ++e) {
            if (e > 0 && ++tcur >= ti) {
                tcur -= ti;
                ti *= p->t_mult;
            }
            t[e] = cos(3.141592653589793 * (double)tcur / (double)ti);
        }
        return t;
    }
    for (int64_t e = 0; e <= steps; ++e) t[e] = os_sched_part_tabval(p, e);
    return t;
}

/* cyclic and onecycle cycle what the optimizer has (os_optimizer_cycles:
 * PyTorch's 'momentum' or 'betas' in its defaults). */
int os_sched_cycles(const os_sched *s, int opt)
{
    const os_sched_part *p = &s->part[0];
    if (s->n != 1 || (p->kind != OS_SCHED_CYCLIC && p->kind != OS_SCHED_ONECYCLE) || p->cycle_momentum == OS_CM_FALSE)
        return 0;
    if (os_optimizer_cycles(opt) != OS_CYCLE_NONE) return 1; /* PyTorch: 'momentum' or 'betas' in its defaults */
    return p->cycle_momentum == OS_CM_TRUE ? -1 : 0;
}

/* The checks that need the sweep: onecycle's total_steps against the
 * longest training (PyTorch raises past it) and its phases (a phase of
 * length 0 divides by zero in PyTorch); cycle_momentum=true against every
 * optimizer of the sweep. */
static os_status check_scheduler(const os_spec *s, const os_sched_spec *sp, int64_t max_steps, os_error *err)
{
    const os_sched_part *p = &sp->s.part[0];
    if (p->kind == OS_SCHED_ONECYCLE) {
        if (max_steps > p->total_iters) {
            os_set_error(err, "--scheduler: '%s': total_steps=%lld, but the longest training takes %lld scheduler "
                              "steps (PyTorch's OneCycleLR raises past total_steps)",
                         sp->text, (long long)p->total_iters, (long long)max_steps);
            return OS_EINPUT;
        }
        for (int64_t e = 0; e <= max_steps; ++e) {
            int a, b, c, d;
            double pct;
            if (os_onecycle_phase(p, e, &a, &b, &c, &d, &pct) == 0) {
                os_set_error(err, "--scheduler: '%s': a phase of zero length at step %lld (PyTorch divides by "
                                  "zero): change pct_start or total_steps",
                             sp->text, (long long)e);
                return OS_EINPUT;
            }
        }
    }
    const os_list *opts = &s->axis[OS_AX_OPTIMIZER];
    for (size_t o = 0; o < opts->n; ++o)
        if (os_sched_cycles(&sp->s, (int)opts->v[o]) < 0) {
            os_set_error(err, "--scheduler: '%s': cycle_momentum=true, but %s has no momentum or beta1 to cycle "
                              "(PyTorch raises; use cycle_momentum=auto or false)",
                         sp->text, os_optimizer_name((int)opts->v[o]));
            return OS_EINPUT;
        }
    return OS_OK;
}

/* Each scheduler, with its parts' tables (cos, pow, a table file's
 * multipliers) up to the most scheduler steps any training takes. */
static os_status plan_schedulers(const os_spec *s, os_sweep *sw, os_error *err)
{
    sw->scheds = calloc(s->n_scheds, sizeof *sw->scheds);
    if (!sw->scheds) {
        os_set_error(err, "out of memory");
        return OS_ERUNTIME;
    }
    const int64_t max_steps = max_sched_steps(sw);
    for (size_t i = 0; i < s->n_scheds; ++i) {
        os_status st = check_scheduler(s, &s->scheds[i], max_steps, err);
        if (st) return st;
        os_sched *sc = &sw->scheds[i];
        *sc = s->scheds[i].s;
        for (int j = 0; j < OS_SCHED_MAX_PARTS; ++j) {
            os_sched_part *p = &sc->part[j];
            p->tab = NULL;
            p->tab_len = 0;
            if (j >= sc->n || !os_sched_part_has_tab(p)) continue;
            int64_t len;
            double *tab = part_table(&s->scheds[i].s.part[j], max_steps, &len);
            if (!tab) {
                os_set_error(err, "out of memory for a scheduler table of %lld steps", (long long)max_steps);
                return OS_ERUNTIME;
            }
            p->tab = tab;
            p->tab_len = len;
        }
    }
    return OS_OK;
}

double os_sweep_memory(double n_trials, double n_data, double n)
{
    const double per_trial = (double)(sizeof(os_trial) + sizeof(os_result)) + 64; /* + a backend's plan */
    const double per_point = 8 + 4; /* each replicate's y in double and float (x and d2 are shared) */
    const double shared = n * (8 + 8 + 4 + 300 * 8); /* x, d2 in each dtype, the loss-minimum scan's table */
    return n_trials * per_trial + n_data * (n * per_point + 4096) + shared + 64.0 * 1048576; /* + table buffers */
}

/* The sweep's memory against --max-memory, or what the machine has. */
static os_status check_memory(const os_spec *s, const os_grid *g, double total, os_error *err)
{
    double n_data = s->data_file ? 1 : (double)g->n_pairs * s->seeds, n = 0;
    for (size_t p = 0; p < g->n_pairs; ++p) n = g->pairs[p].n > n ? g->pairs[p].n : n;
    const double need = os_sweep_memory(total, n_data, n);
    const double have = s->max_memory > 0 ? s->max_memory : os_memory_available();
    if (have < 0 || need <= have) return OS_OK;
    os_set_error(err, "the sweep needs about %.3g GB of memory (%.4g trainings, %.4g datasets of %.4g points); "
                      "%s %.3g GB", need / 1e9, total, n_data, n,
                 s->max_memory > 0 ? "--max-memory allows" : "this machine has available", have / 1e9);
    return OS_EINPUT;
}

static void warn(os_sweep *sw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(os_sweep *sw, const char *fmt, ...)
{
    if (sw->n_warnings == (int)(sizeof sw->warnings / sizeof sw->warnings[0])) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sw->warnings[sw->n_warnings++], sizeof sw->warnings[0], fmt, ap);
    va_end(ap);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A value listed twice on an axis trains the same thing twice. */
static void duplicate_warning(const os_spec *s, os_sweep *sw, int a, const os_list *l)
{
    double *v = malloc(l->n * sizeof *v), dup = NAN;
    if (!v) return;
    if (os_axes[a].type == OS_AXT_SCHED)
        for (size_t i = 0; i < l->n; ++i)
            for (size_t j = 0; j < i; ++j)
                if (strcmp(s->scheds[(size_t)l->v[i]].name, s->scheds[(size_t)l->v[j]].name) == 0) dup = l->v[i];
    int monotonic = l->n > 1; /* strictly increasing or decreasing (a range, a logspace): no duplicate, no sort */
    for (size_t i = 2; monotonic && i < l->n; ++i) monotonic = (l->v[i] > l->v[i - 1]) == (l->v[1] > l->v[0]);
    for (size_t i = 1; monotonic && i < l->n; ++i) monotonic = l->v[i] != l->v[i - 1];
    if (os_axes[a].type != OS_AXT_SCHED && !monotonic) {
        memcpy(v, l->v, l->n * sizeof *v);
        qsort(v, l->n, sizeof *v, cmp_double);
        for (size_t i = 1; i < l->n; ++i)
            if (v[i] == v[i - 1]) dup = v[i];
    }
    free(v);
    if (isnan(dup)) return;
    char text[300];
    if (os_axes[a].type == OS_AXT_SCHED)
        snprintf(text, sizeof text, "%.200s", s->scheds[(size_t)dup].name);
    else if (os_axes[a].type == OS_AXT_OPT)
        snprintf(text, sizeof text, "%s", os_optimizer_name((int)dup));
    else
        os_fmt_double(text, sizeof text, dup);
    warn(sw, "%s lists '%s' more than once: those trainings run twice and count twice in summaries",
         os_axes[a].flag, text);
}

/* Pseudo-replication and settings that do nothing: warnings, not errors. */
static void plan_warnings(const os_spec *s, os_sweep *sw)
{
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const int *given, *dist;
        int64_t n_samples;
        const os_list *axis = os_spec_block_axes(s, b, &given);
        os_spec_block_sampling(s, b, &dist, &n_samples);
        for (int a = 0; a < OS_AX_COUNT; ++a)
            if (dist[a] == OS_DIST_LIST) duplicate_warning(s, sw, a, &axis[a]);
    }
    int same = s->seeds > 1; /* every training with --shuffle none and no noise */
    for (size_t b = 0; b < os_spec_n_blocks(s) && same; ++b) {
        const int *given;
        const os_list *axis = os_spec_block_axes(s, b, &given);
        for (size_t i = 0; i < axis[OS_AX_SHUFFLE].n; ++i) same &= axis[OS_AX_SHUFFLE].v[i] == OS_SHUFFLE_NONE;
        for (size_t i = 0; i < axis[OS_AX_NOISE].n && !s->data_file; ++i) same &= axis[OS_AX_NOISE].v[i] == 0;
    }
    if (same)
        warn(sw, "--seeds %d: with --shuffle none and %s, every seed trains exactly the same thing", s->seeds,
             s->data_file ? "a --data file" : "--noise 0");
    if (s->data_file && (s->given[OS_AX_N] || s->given[OS_AX_NOISE]))
        warn(sw, "--n and --noise shape the generated data; they do nothing with --data");
}

/* A --data file the model cannot fit well: most often the wrong --offset. */
static void data_warning(const os_spec *s, os_sweep *sw)
{
    if (!s->data_file || !sw->n_data) return;
    const os_dataset *d = &sw->data[0];
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < d->n; ++i) lo = fmin(lo, d->y[i]), hi = fmax(hi, d->y[i]);
    const double rms = sqrt(d->min_loss);
    if (!(rms <= 0.05 * (hi - lo)))
        warn(sw, "--data '%s': the best fit (Wa %.6g, Wb %.6g) leaves a root-mean-square error of %.3g, %.0f%% of "
                 "y's range, with the offset c = %.6g: is --offset right?",
             s->data_file, d->min_wa, d->min_wb, rms, 100 * rms / (hi - lo), d->c);
}

/* The plan without its trials; whole: all of them will be held in memory
 * (else a block at a time). */
static os_status prepare(const os_spec *s, os_sweep *sw, int whole, os_error *err)
{
    memset(sw, 0, sizeof *sw);
    sw->spec = s;
    os_status st = os_spec_validate(s, err);
    if (st) return st;

    /* count first, so a too-large grid is an input error, not an OOM */
    const double total = count_trials(s);
    if (total > (double)OS_MAX_TRIALS) {
        os_set_error(err, "the grid has %.4g trainings (every axis's values and seeds multiplied), more than the "
                          "limit of %llu", total, OS_MAX_TRIALS);
        return OS_EINPUT;
    }
    const double block = (double)os_spec_block(s);
    /* a streamed run holds one block, two while one is written as the next trains (--overlap) */
    const double held = whole || total <= block ? total : os_spec_overlaps(s) ? 2 * block : block;
    sw->n_trials = (size_t)total;
    if (!(sw->grid = grid_make(s))) {
        os_set_error(err, "out of memory");
        return OS_ERUNTIME;
    }
    if ((st = grid_pairs(s, sw->grid, err)) ||
        (st = check_memory(s, sw->grid, held, err)) ||
        (st = plan_datasets(s, sw, err)) || (st = plan_schedulers(s, sw, err))) {
        os_sweep_free(sw);
        return st;
    }
    plan_warnings(s, sw);
    data_warning(s, sw);
    return OS_OK;
}

os_status os_sweep_prepare(const os_spec *s, os_sweep *sw, os_error *err) { return prepare(s, sw, 0, err); }

os_status os_sweep_plan(const os_spec *s, os_sweep *sw, os_error *err)
{
    os_status st = prepare(s, sw, 1, err);
    if (st) return st;
    if (!(sw->trials = malloc((sw->n_trials ? sw->n_trials : 1) * sizeof *sw->trials))) {
        os_set_error(err, "out of memory for %zu trainings", sw->n_trials);
        os_sweep_free(sw);
        return OS_ERUNTIME;
    }
    grid_trials(sw, 0, sw->n_trials, sw->trials);
    return OS_OK;
}

os_status os_sweep_block(const os_sweep *sw, size_t first, size_t n, os_sweep *block, os_error *err)
{
    *block = *sw;
    block->parent = sw;
    block->first = sw->first + first;
    block->n_trials = n;
    block->owns_trials = 0;
    block->n_warnings = 0;
    if (sw->trials) {
        block->trials = sw->trials + first;
        return OS_OK;
    }
    if (!(block->trials = malloc((n ? n : 1) * sizeof *block->trials))) {
        os_set_error(err, "out of memory for a block of %zu trainings", n);
        return OS_ERUNTIME;
    }
    block->owns_trials = 1;
    grid_trials(sw, block->first, n, block->trials);
    return OS_OK;
}

os_status os_sweep_block_next(const os_sweep *sw, size_t first, size_t n, os_sweep *block, os_error *err)
{
    if (block->parent != sw || !block->owns_trials || block->n_trials < n) {
        os_sweep_free(block);
        return os_sweep_block(sw, first, n, block, err);
    }
    os_trial *keep = block->trials;
    *block = *sw;
    block->parent = sw;
    block->first = sw->first + first;
    block->n_trials = n;
    block->owns_trials = 1;
    block->n_warnings = 0;
    block->trials = keep;
    grid_trials(sw, block->first, n, block->trials);
    return OS_OK;
}

const os_dataset *os_sweep_dataset(const os_sweep *sw, size_t i) { return &sw->data[sw->trials[i].data]; }

os_train_cfg os_sweep_train_cfg(const os_sweep *sw, size_t i)
{
    const os_trial *t = &sw->trials[i];
    const os_dataset *d = os_sweep_dataset(sw, i);
    os_train_cfg c;
    c.opt = t->opt;
    c.sched = &sw->scheds[t->sched];
    c.lr = t->lr;
    c.sched_per_epoch = t->sched_step;
    c.sched_cycles = os_sched_cycles(c.sched, t->opt.kind) > 0;
    c.init_wa = t->init_wa;
    c.init_wb = t->init_wb;
    c.ref_wa = d->ref_wa;
    c.ref_wb = d->ref_wb;
    c.tol_wa = os_param_error_tolerance(d->ref_wa, t->target);
    c.tol_wb = os_param_error_tolerance(d->ref_wb, t->target);
    return c;
}

void os_result_finish(const os_sweep *sw, size_t i, os_result *r)
{
    const os_dataset *d = os_sweep_dataset(sw, i);
    r->loss_gap = r->final_loss - d->min_loss;
    r->param_error = os_param_error(r->final_wa, r->final_wb, d->ref_wa, d->ref_wb);
}

double os_sweep_evaluations(const os_sweep *sw)
{
    double e = 0;
    if (sw->trials) {
        for (size_t i = 0; i < sw->n_trials; ++i) e += (double)sw->trials[i].epochs * os_sweep_dataset(sw, i)->n;
        return e;
    }
    /* the whole grid: each optimizer's trials spread evenly over its epochs
     * and its n (a sampled n at its values' or range's mean) */
    for (size_t o = 0; o < sw->grid->n_opt; ++o) {
        const grid_opt *go = &sw->grid->opt[o];
        double sum = 0, n = 0;
        for (size_t k = 0; k < go->count[OS_AX_EPOCHS]; ++k) sum += go->vals[OS_AX_EPOCHS][k];
        for (size_t k = 0; k < go->count[OS_AX_N]; ++k) n += go->vals[OS_AX_N][k] / (double)go->count[OS_AX_N];
        if (go->dist[OS_AX_N] != OS_DIST_LIST && go->sample) n = (go->vals[OS_AX_N][0] + go->vals[OS_AX_N][1]) / 2;
        if (sw->spec->data_file) n = sw->n_data ? sw->data[0].n : 0;
        e += (double)go->n / (double)go->count[OS_AX_EPOCHS] * sum * n;
    }
    return e;
}

void os_sweep_free(os_sweep *sw)
{
    if (sw->parent) { /* a block: only its trials are its own */
        if (sw->owns_trials) free(sw->trials);
        memset(sw, 0, sizeof *sw);
        return;
    }
    if (sw->grid) free(sw->grid->pairs);
    free(sw->grid);
    for (size_t i = 0; sw->scheds && i < sw->spec->n_scheds; ++i) os_sched_free(&sw->scheds[i]);
    free(sw->scheds);
    for (size_t r = 0; r < sw->n_data && sw->data; ++r) os_dataset_free(&sw->data[r]);
    free(sw->data);
    free(sw->trials);
    memset(sw, 0, sizeof *sw);
}

/* ------------------------------------------------------------------------ */
/* shards: contiguous ranges of the grid, balanced by cost                  */

/* A trial's cost: its updates (epochs x batches per epoch). */
static uint64_t trial_cost(const os_sweep *sw, const os_trial *t)
{
    const uint64_t n = (uint64_t)(sw->n_data ? sw->data[t->data].n : 1), bs = (uint64_t)t->batch_size;
    return (uint64_t)t->epochs * ((n + bs - 1) / bs);
}

/* Calls fn(ctx, i, cost of trial i, ...) for every trial of sw in grid
 * order, decoding a bounded block at a time. */
static os_status each_cost(const os_sweep *sw, void (*fn)(void *, size_t, uint64_t), void *ctx, os_error *err)
{
    const size_t chunk = 65536;
    for (size_t first = 0; first < sw->n_trials; first += chunk) {
        const size_t cnt = sw->n_trials - first < chunk ? sw->n_trials - first : chunk;
        os_sweep blk;
        const os_status st = os_sweep_block(sw, first, cnt, &blk, err);
        if (st) return st;
        for (size_t i = 0; i < cnt; ++i) fn(ctx, first + i, trial_cost(sw, &blk.trials[i]));
        os_sweep_free(&blk);
    }
    return OS_OK;
}

typedef struct shard_scan {
    unsigned __int128 total, before; /* all trials' cost; the cost of the trials before the current one */
    uint64_t n_shards, k;
    size_t lo, hi;
    int seen; /* a trial of shard k was found */
} shard_scan;

static void add_total(void *ctx, size_t i, uint64_t c)
{
    (void)i;
    ((shard_scan *)ctx)->total += c;
}

/* Trial i belongs to the shard its cost's midpoint falls in: shard
 * floor(N * (before + c/2) / total), a monotone function of i. */
static void find_shard(void *ctx, size_t i, uint64_t c)
{
    shard_scan *s = ctx;
    const unsigned __int128 mid2 = 2 * s->before + c; /* twice the midpoint */
    uint64_t shard = s->total ? (uint64_t)(mid2 * s->n_shards / (2 * s->total)) : 0;
    if (shard >= s->n_shards) shard = s->n_shards - 1;
    s->before += c;
    if (shard < s->k) s->lo = s->hi = i + 1;
    else if (shard == s->k) s->hi = i + 1, s->seen = 1;
}

os_status os_sweep_shard(const os_sweep *sw, int k, int n, size_t *lo, size_t *hi, os_error *err)
{
    *lo = *hi = 0;
    if (n <= 1) return *hi = sw->n_trials, OS_OK;
    shard_scan s;
    memset(&s, 0, sizeof s);
    s.n_shards = (uint64_t)n;
    s.k = (uint64_t)(k - 1);
    os_status st = each_cost(sw, add_total, &s, err);
    if (!st) st = each_cost(sw, find_shard, &s, err);
    if (st) return st;
    *lo = s.lo;
    *hi = s.seen ? s.hi : s.lo;
    return OS_OK;
}
