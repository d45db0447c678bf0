/* results.c — the results table (docs/design.md §4): one row per training.
 *
 * Columns: trial, then one per sweep axis (axes.h, in table order), seed,
 * then the measured columns of the table below. A hyperparameter the
 * training's optimizer does not use is an empty field.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "csv.h"
#include "orbitsweep/orbitsweep.h"

#define OS_MAX_WRITERS 64 /* threads formatting the results table */

/* Rows are formatted straight into memory: a row is at most this many
 * bytes plus its scheduler's field. */
#define ROW_BYTES (40 * (OS_AX_COUNT + 16) + 64)

static char *put_text(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

static char *put_u64(char *o, uint64_t v)
{
    char t[24];
    int n = 0;
    do t[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (n) *o++ = t[--n];
    return o;
}

static char *put_i64(char *o, int64_t v)
{
    if (v < 0) *o++ = '-';
    return put_u64(o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

static char *put_double(char *o, double v) { return o + os_fmt_double(o, 40, v); }

/* A double field; NaN (a hyperparameter the optimizer does not use) is empty. */
static char *put_opt(char *o, double v) { return isnan(v) ? o : put_double(o, v); }

/* final_wa and final_wb in the training dtype. */
static char *put_param(char *o, int f32, double v)
{
    return f32 ? o + os_fmt_float(o, 40, (float)v) : put_opt(o, v);
}

/* The last value each axis column printed, and its text: neighbouring
 * rows mostly share their axes' values (one formatting then serves many
 * rows; a writer thread has its own). */
typedef struct text_cache {
    uint64_t bits[OS_AX_COUNT];
    char text[OS_AX_COUNT][40];
    unsigned char len[OS_AX_COUNT]; /* 0: nothing cached */
} text_cache;

static char *put_cached(char *o, text_cache *c, int a, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    if (!c->len[a] || c->bits[a] != bits) {
        c->bits[a] = bits;
        c->len[a] = (unsigned char)os_fmt_double(c->text[a], sizeof c->text[a], v);
    }
    return put_text(o, c->text[a], c->len[a]);
}

/* The measured columns, after the sweep axes and the seed. */
static const char *const result_columns[] = {
    "final_wa",    "final_wb",  "final_loss",  "loss_gap",         "param_error",    "steps_to_target", "diverged",
    "best_loss",   "final_lr",  "diverged_at", "epochs_to_target", "masked_batches", "oscillation",     "path_length",
};

/* One row: trial, the axes, seed, the measured columns (result_columns). */
static char *put_row(char *o, const os_sweep *sw, const os_result *r, size_t i, char *const *sched_fields,
                     text_cache *cache)
{
    const os_trial *t = &sw->trials[i];
    o = put_u64(o, sw->first + i);
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        *o++ = ',';
        switch (os_axes[a].type) {
        case OS_AXT_OPT: {
            const char *name = os_optimizer_name(t->opt.kind);
            o = put_text(o, name, strlen(name));
            break;
        }
        case OS_AXT_SCHED: o = put_text(o, sched_fields[t->sched], strlen(sched_fields[t->sched])); break;
        case OS_AXT_INT: o = put_i64(o, (int64_t)os_trial_axis(t, a)); break;
        default: {
            const double v = os_trial_axis(t, a);
            if (!isnan(v)) o = put_cached(o, cache, a, v);
            break;
        }
        }
    }
    *o++ = ',';
    o = put_u64(o, t->seed);
    const int f32 = sw->spec->dtype == OS_DTYPE_F32;
    *o++ = ',', o = put_param(o, f32, r->final_wa);
    *o++ = ',', o = put_param(o, f32, r->final_wb);
    *o++ = ',', o = put_double(o, r->final_loss);
    *o++ = ',', o = put_double(o, r->loss_gap);
    *o++ = ',', o = put_double(o, r->param_error);
    *o++ = ',';
    if (r->steps_to_target >= 0) o = put_i64(o, r->steps_to_target);
    *o++ = ',', o = put_i64(o, r->diverged);
    *o++ = ',', o = put_opt(o, r->best_loss);
    *o++ = ',';
    if (r->final_lr == t->lr && !signbit(r->final_lr)) /* a constant schedule: lr's text */
        o = put_cached(o, cache, OS_AX_LR, t->lr);
    else
        o = put_opt(o, r->final_lr);
    *o++ = ',';
    if (r->diverged) o = put_i64(o, r->updates - 1);
    *o++ = ',';
    if (r->steps_to_target >= 0) {
        const int64_t n = os_sweep_dataset(sw, i)->n, bs = t->batch_size, per_epoch = (n + bs - 1) / bs;
        o = put_i64(o, (r->steps_to_target + per_epoch - 1) / per_epoch);
    }
    *o++ = ',', o = put_i64(o, r->masked_batches);
    *o++ = ',', o = put_opt(o, r->oscillation);
    *o++ = ',', o = put_double(o, r->path_length);
    *o++ = '\n';
    return o;
}

int os_write_header(FILE *f)
{
    fputs("trial", f);
    for (int a = 0; a < OS_AX_COUNT; ++a) fprintf(f, ",%s", os_axes[a].column);
    fputs(",seed", f);
    for (size_t k = 0; k < sizeof result_columns / sizeof result_columns[0]; ++k) fprintf(f, ",%s", result_columns[k]);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

/* Each scheduler's field as the table writes it (quoted when it must be). */
static char **sched_fields(const os_spec *s, size_t *longest)
{
    char **out = calloc(s->n_scheds ? s->n_scheds : 1, sizeof *out);
    *longest = 0;
    for (size_t k = 0; out && k < s->n_scheds; ++k) {
        size_t len = 0;
        FILE *m = open_memstream(&out[k], &len);
        if (m) os_csv_put_field(m, s->scheds[k].name);
        if (!m || fclose(m) != 0) {
            for (size_t j = 0; j <= k; ++j) free(out[j]);
            free(out);
            return NULL;
        }
        *longest = len > *longest ? len : *longest;
    }
    return out;
}

/* Rows are formatted in parallel (shortest round-trip digits are not
 * free), each thread a contiguous range into its own buffer, and written
 * in row order: the same bytes for any thread count. */
int os_write_rows(FILE *f, const os_sweep *sw, const os_result *res)
{
    size_t longest;
    char **fields = sched_fields(sw->spec, &longest);
    if (!fields) return -1;
    const size_t n = sw->n_trials, chunk = 8192, row_max = ROW_BYTES + longest;
    int want = os_spec_threads(sw->spec), failed = 0;
    want = want < OS_MAX_WRITERS ? want : OS_MAX_WRITERS;
    char *bufs[OS_MAX_WRITERS] = {0};
    size_t caps[OS_MAX_WRITERS] = {0};
    for (size_t c0 = 0; c0 < n && !failed; c0 += chunk) {
        const size_t c1 = c0 + chunk < n ? c0 + chunk : n;
        size_t lens[OS_MAX_WRITERS] = {0};
        int used = 1;
#pragma omp parallel num_threads(want)
        {
            int tid = 0, nth = 1;
#ifdef _OPENMP
            tid = omp_get_thread_num();
            nth = omp_get_num_threads();
#endif
#pragma omp single
            used = nth;
            const size_t lo = c0 + (c1 - c0) * (size_t)tid / (size_t)nth;
            const size_t hi = c0 + (c1 - c0) * (size_t)(tid + 1) / (size_t)nth;
            const size_t need = (hi - lo) * row_max;
            if (need > caps[tid]) {
                free(bufs[tid]);
                bufs[tid] = malloc(need);
                caps[tid] = bufs[tid] ? need : 0;
            }
            if (need && !bufs[tid]) {
#pragma omp atomic write
                failed = 1;
            } else {
                char *o = bufs[tid];
                text_cache cache;
                memset(cache.len, 0, sizeof cache.len);
                for (size_t i = lo; i < hi; ++i) o = put_row(o, sw, &res[i], i, fields, &cache);
                lens[tid] = (size_t)(o - bufs[tid]);
            }
        }
        for (int t = 0; t < used && !failed; ++t) fwrite(bufs[t], 1, lens[t], f);
    }
    for (int t = 0; t < OS_MAX_WRITERS; ++t) free(bufs[t]);
    for (size_t k = 0; k < sw->spec->n_scheds; ++k) free(fields[k]);
    free(fields);
    return failed || ferror(f) ? -1 : 0;
}

int os_write_results(FILE *f, const os_sweep *sw, const os_result *res)
{
    return os_write_header(f) || os_write_rows(f, sw, res) ? -1 : 0;
}
