/* results.c — the results table (docs/design.md §4): one row per training.
 *
 * Columns: trial, then one per sweep axis (axes.h, in table order), seed,
 * then the measured columns of the table below. A hyperparameter the
 * training's optimizer does not use is an empty field.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "csv.h"
#include "orbitsweep/orbitsweep.h"

#define OS_MAX_WRITERS 64 /* threads formatting the results table */

/* A double field; NaN (a hyperparameter the optimizer does not use) is empty. */
static void put_opt(FILE *f, double v)
{
    char b[40];
    if (!isnan(v)) {
        os_fmt_double(b, sizeof b, v);
        fputs(b, f);
    }
}

static void put_double(FILE *f, double v)
{
    char b[40];
    os_fmt_double(b, sizeof b, v);
    fputs(b, f);
}

/* final_wa and final_wb in the training dtype. */
static void put_param(FILE *f, const os_sweep *sw, double v)
{
    char b[40];
    if (sw->spec->dtype != OS_DTYPE_F32) return put_opt(f, v);
    os_fmt_float(b, sizeof b, (float)v);
    fputs(b, f);
}

/* ---- the measured columns ---- */

typedef struct col_ctx {
    const os_sweep *sw;
    size_t i;
    const os_result *r;
} col_ctx;

static void c_final_wa(FILE *f, const col_ctx *c) { put_param(f, c->sw, c->r->final_wa); }
static void c_final_wb(FILE *f, const col_ctx *c) { put_param(f, c->sw, c->r->final_wb); }
static void c_final_loss(FILE *f, const col_ctx *c) { put_double(f, c->r->final_loss); }
static void c_loss_gap(FILE *f, const col_ctx *c) { put_double(f, c->r->loss_gap); }
static void c_param_error(FILE *f, const col_ctx *c) { put_double(f, c->r->param_error); }
static void c_steps(FILE *f, const col_ctx *c)
{
    if (c->r->steps_to_target >= 0) fprintf(f, "%lld", (long long)c->r->steps_to_target);
}
static void c_diverged(FILE *f, const col_ctx *c) { fprintf(f, "%d", c->r->diverged); }
static void c_best_loss(FILE *f, const col_ctx *c) { put_opt(f, c->r->best_loss); }
static void c_final_lr(FILE *f, const col_ctx *c) { put_opt(f, c->r->final_lr); }
static void c_diverged_at(FILE *f, const col_ctx *c)
{
    if (c->r->diverged) fprintf(f, "%lld", (long long)(c->r->updates - 1));
}
static void c_epochs(FILE *f, const col_ctx *c)
{
    if (c->r->steps_to_target < 0) return;
    const int64_t n = os_sweep_dataset(c->sw, c->i)->n, bs = c->sw->trials[c->i].batch_size;
    const int64_t per_epoch = (n + bs - 1) / bs;
    fprintf(f, "%lld", (long long)((c->r->steps_to_target + per_epoch - 1) / per_epoch));
}
static void c_masked(FILE *f, const col_ctx *c) { fprintf(f, "%lld", (long long)c->r->masked_batches); }
static void c_oscillation(FILE *f, const col_ctx *c) { put_opt(f, c->r->oscillation); }
static void c_path(FILE *f, const col_ctx *c) { put_double(f, c->r->path_length); }

static const struct {
    const char *name;
    void (*put)(FILE *f, const col_ctx *c);
} result_cols[] = {
    {"final_wa", c_final_wa},       {"final_wb", c_final_wb},
    {"final_loss", c_final_loss},   {"loss_gap", c_loss_gap},
    {"param_error", c_param_error}, {"steps_to_target", c_steps},
    {"diverged", c_diverged},       {"best_loss", c_best_loss},
    {"final_lr", c_final_lr},       {"diverged_at", c_diverged_at},
    {"epochs_to_target", c_epochs}, {"masked_batches", c_masked},
    {"oscillation", c_oscillation}, {"path_length", c_path},
};
#define N_RESULT_COLS (sizeof result_cols / sizeof result_cols[0])

static void write_header(FILE *f)
{
    fputs("trial", f);
    for (int a = 0; a < OS_AX_COUNT; ++a) fprintf(f, ",%s", os_axes[a].column);
    fputs(",seed", f);
    for (size_t k = 0; k < N_RESULT_COLS; ++k) fprintf(f, ",%s", result_cols[k].name);
    fputc('\n', f);
}

/* One row of the results table. */
static void write_row(FILE *f, const os_sweep *sw, const os_result *res, size_t i)
{
    const os_trial *t = &sw->trials[i];
    fprintf(f, "%zu", i);
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        fputc(',', f);
        const double v = os_trial_axis(t, a);
        switch (os_axes[a].type) {
        case OS_AXT_OPT: fputs(os_optimizer_name(t->opt.kind), f); break;
        case OS_AXT_SCHED: os_csv_put_field(f, sw->spec->scheds[t->sched].name); break;
        case OS_AXT_INT: fprintf(f, "%.0f", v); break;
        default: put_opt(f, v); break;
        }
    }
    fprintf(f, ",%llu", (unsigned long long)t->seed);
    const col_ctx c = {sw, i, &res[i]};
    for (size_t k = 0; k < N_RESULT_COLS; ++k) {
        fputc(',', f);
        result_cols[k].put(f, &c);
    }
    fputc('\n', f);
}

/* Rows are formatted in parallel (shortest round-trip digits are not
 * cheap), each thread a contiguous range into its own buffer, and written
 * in row order: the same bytes for any thread count. */
int os_write_results(FILE *f, const os_sweep *sw, const os_result *res)
{
    write_header(f);
    const size_t n = sw->n_trials, chunk = (size_t)1 << 16;
    int failed = 0;
    for (size_t c0 = 0; c0 < n && !failed; c0 += chunk) {
        const size_t c1 = c0 + chunk < n ? c0 + chunk : n;
        char *bufs[OS_MAX_WRITERS] = {0};
        size_t lens[OS_MAX_WRITERS] = {0};
        int used = 1, want = os_spec_threads(sw->spec);
        want = want < OS_MAX_WRITERS ? want : OS_MAX_WRITERS;
#pragma omp parallel num_threads(want)
        {
            int tid = 0, nth = 1;
#ifdef _OPENMP
            tid = omp_get_thread_num();
            nth = omp_get_num_threads();
#endif
#pragma omp single
            used = nth;
            FILE *m = open_memstream(&bufs[tid], &lens[tid]);
            if (!m) {
#pragma omp atomic write
                failed = 1;
            } else {
                const size_t lo = c0 + (c1 - c0) * (size_t)tid / (size_t)nth;
                const size_t hi = c0 + (c1 - c0) * (size_t)(tid + 1) / (size_t)nth;
                for (size_t i = lo; i < hi; ++i) write_row(m, sw, res, i);
                if (fclose(m) != 0) {
#pragma omp atomic write
                    failed = 1;
                }
            }
        }
        for (int t = 0; t < used; ++t) {
            if (!failed && bufs[t]) fwrite(bufs[t], 1, lens[t], f);
            free(bufs[t]);
        }
    }
    return failed || ferror(f) ? -1 : 0;
}
