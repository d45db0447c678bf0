/* output.c — number formatting, the results table, crash-safe files.
 *
 * Numbers are written as the shortest decimal that reads back to the same
 * value (so tables are exact and diffable); non-finite values as nan, inf,
 * -inf. Output goes to a temporary file beside the target and is renamed
 * over it only when complete, so no half-written table is ever left.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "csv.h"
#include "orbitsweep/orbitsweep.h"

#define OS_MAX_WRITERS 64 /* threads formatting the results table */

static int fmt_special(char *buf, size_t size, double v)
{
    if (isnan(v)) return snprintf(buf, size, "nan"), 1;
    if (isinf(v)) return snprintf(buf, size, v > 0 ? "inf" : "-inf"), 1;
    return 0;
}

/* The fewest significant digits that read back exactly. A value whose
 * shortest form has p <= 15 digits (a double carries 15.95) prints as just
 * that under %.15g, since %g drops trailing zeros; otherwise it needs 16 or
 * 17. So at most three tries — formatting is a large share of the time of
 * a big table. Floats likewise from 6 digits (a float carries 7.2). */
void os_fmt_double(char *buf, size_t size, double v)
{
    if (fmt_special(buf, size, v)) return;
    for (int p = 15; p < 17; ++p) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
    snprintf(buf, size, "%.17g", v);
}

void os_fmt_float(char *buf, size_t size, float v)
{
    if (fmt_special(buf, size, v)) return;
    for (int p = 6; p < 9; ++p) {
        snprintf(buf, size, "%.*g", p, (double)v);
        if (strtof(buf, NULL) == v) return;
    }
    snprintf(buf, size, "%.9g", (double)v);
}

/* A double column; NaN hyperparameters (not used by the optimizer) are empty. */
static void put_opt(FILE *f, double v)
{
    char b[40];
    if (!isnan(v)) {
        os_fmt_double(b, sizeof b, v);
        fputs(b, f);
    }
    fputc(',', f);
}

/* One row of the results table. */
static void write_row(FILE *f, const os_sweep *sw, const os_result *res, size_t i)
{
    const os_trial *t = &sw->trials[i];
    const os_result *r = &res[i];
    char b[64];
    fprintf(f, "%zu,%s,", i, os_optimizer_name(t->opt.kind));
    put_opt(f, t->lr);
    os_csv_put_field(f, sw->spec->scheds[t->sched].name);
    fputc(',', f);
    put_opt(f, t->opt.momentum);
    put_opt(f, t->opt.dampening);
    put_opt(f, t->opt.alpha);
    put_opt(f, t->opt.beta1);
    put_opt(f, t->opt.beta2);
    put_opt(f, t->opt.eps);
    put_opt(f, t->opt.weight_decay);
    fprintf(f, "%d,%d,", t->batch_size, t->epochs);
    put_opt(f, t->init_wa);
    put_opt(f, t->init_wb);
    fprintf(f, "%llu,", (unsigned long long)t->seed);
    if (sw->spec->dtype == OS_DTYPE_F32) {
        os_fmt_float(b, sizeof b, (float)r->final_wa);
        fprintf(f, "%s,", b);
        os_fmt_float(b, sizeof b, (float)r->final_wb);
        fprintf(f, "%s,", b);
    } else {
        put_opt(f, r->final_wa);
        put_opt(f, r->final_wb);
    }
    os_fmt_double(b, sizeof b, r->final_loss);
    fprintf(f, "%s,", b);
    os_fmt_double(b, sizeof b, r->loss_gap);
    fprintf(f, "%s,", b);
    os_fmt_double(b, sizeof b, r->param_error);
    fprintf(f, "%s,", b);
    if (r->steps_to_target >= 0) fprintf(f, "%lld", (long long)r->steps_to_target);
    fprintf(f, ",%d,", r->diverged);
    /* the analytics columns */
    put_opt(f, r->best_loss);
    put_opt(f, r->final_lr);
    if (r->diverged) fprintf(f, "%lld", (long long)(r->updates - 1));
    fputc(',', f);
    if (r->steps_to_target >= 0) {
        const int64_t n = os_sweep_dataset(sw, i)->n, per_epoch = (n + t->batch_size - 1) / t->batch_size;
        fprintf(f, "%lld", (long long)((r->steps_to_target + per_epoch - 1) / per_epoch));
    }
    fprintf(f, ",%lld,", (long long)r->masked_batches);
    put_opt(f, r->oscillation);
    os_fmt_double(b, sizeof b, r->path_length);
    fprintf(f, "%s\n", b);
}

/* Rows are formatted in parallel (shortest round-trip digits are not
 * cheap), each thread a contiguous range into its own buffer, and written
 * in row order: the same bytes for any thread count. */
int os_write_results(FILE *f, const os_sweep *sw, const os_result *res)
{
    fputs("trial,optimizer,lr,scheduler,momentum,dampening,alpha,beta1,beta2,eps,weight_decay,"
          "batch_size,epochs,init_wa,init_wb,seed,final_wa,final_wb,final_loss,loss_gap,"
          "param_error,steps_to_target,diverged,best_loss,final_lr,diverged_at,epochs_to_target,"
          "masked_batches,oscillation,path_length\n",
          f);
    const size_t n = sw->n_trials, chunk = (size_t)1 << 16;
    int failed = 0;
    for (size_t c0 = 0; c0 < n && !failed; c0 += chunk) {
        const size_t c1 = c0 + chunk < n ? c0 + chunk : n;
        char *bufs[OS_MAX_WRITERS] = {0};
        size_t lens[OS_MAX_WRITERS] = {0};
        int used = 1, want = 1;
#ifdef _OPENMP
        want = omp_get_max_threads() < OS_MAX_WRITERS ? omp_get_max_threads() : OS_MAX_WRITERS;
#endif
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

os_status os_atomic_open(os_atomic_file *af, const char *path, os_error *err)
{
    memset(af, 0, sizeof *af);
    size_t len = strlen(path);
    af->path = strdup(path);
    af->tmp = malloc(len + 16);
    if (!af->path || !af->tmp) {
        os_atomic_abort(af);
        os_set_error(err, "-o: out of memory");
        return OS_ERUNTIME;
    }
    snprintf(af->tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp);
    if (fd < 0) {
        os_set_error(err, "-o: '%s': %s", path, strerror(errno));
        free(af->tmp);
        af->tmp = NULL;
        os_atomic_abort(af);
        return OS_EINPUT;
    }
    mode_t mask = umask(0); /* mkstemp makes 0600; give the table the usual mode */
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    af->f = fdopen(fd, "w");
    if (!af->f) {
        close(fd);
        os_set_error(err, "-o: '%s': %s", path, strerror(errno));
        os_atomic_abort(af);
        return OS_ERUNTIME;
    }
    return OS_OK;
}

os_status os_atomic_commit(os_atomic_file *af, os_error *err)
{
    int bad = ferror(af->f);
    if (fclose(af->f) != 0) bad = 1;
    af->f = NULL;
    if (bad) {
        os_set_error(err, "-o: '%s': write failed: %s", af->path, strerror(errno));
        os_atomic_abort(af);
        return OS_ERUNTIME;
    }
    if (rename(af->tmp, af->path) != 0) {
        os_set_error(err, "-o: '%s': %s", af->path, strerror(errno));
        os_atomic_abort(af);
        return OS_ERUNTIME;
    }
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof *af);
    return OS_OK;
}

void os_atomic_abort(os_atomic_file *af)
{
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof *af);
}
