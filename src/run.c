/* run.c — the backend table: which backends this build has, how a run
 * picks one, and the entry points that train a planned sweep.
 *
 * A backend is a row: its id, its name, how it finds the devices a spec
 * would run on, and its run function (include/orbitsweep/backend.h). A
 * build without CUDA simply has no cuda row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/backend.h"

#define NO_CUDA_BUILD "this build has no CUDA support (configured without nvcc, or with OS_ENABLE_CUDA=OFF)"

typedef struct backend_def {
    int id;
    const char *name;
    /* the devices a run of spec would use (out may be NULL): their count,
     * or 0 with the reason (*bad_input = 1: the spec names a device that
     * does not exist) */
    int (*select)(const os_spec *spec, os_device_info *out, int *bad_input, os_error *why);
    os_status (*run)(const os_sweep *sw, os_result *results, os_progress_fn progress, void *ctx,
                     os_error *err);
} backend_def;

static int cpu_select(const os_spec *spec, os_device_info *out, int *bad_input, os_error *why)
{
    (void)spec, (void)out, (void)why;
    *bad_input = 0;
    return 1;
}

static const backend_def backends[] = {
    {OS_BACKEND_CPU, "cpu", cpu_select, os_cpu_run},
#ifdef OS_HAVE_CUDA
    {OS_BACKEND_CUDA, "cuda", os_cuda_select, os_cuda_run},
#endif
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

static const backend_def *find_backend(int id)
{
    for (size_t i = 0; i < N_BACKENDS; ++i)
        if (backends[i].id == id) return &backends[i];
    return NULL;
}

static void describe_cpu(const os_spec *s, char *buf, size_t size)
{
    const int threads = os_spec_threads(s);
    snprintf(buf, size, "the CPU (%d thread%s)", threads, threads == 1 ? "" : "s");
}

os_status os_backend_choose(const os_spec *s, os_backend_choice *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    out->backend = OS_BACKEND_CPU;
    if (s->backend == OS_BACKEND_CPU) return describe_cpu(s, out->where, sizeof out->where), OS_OK;
    const backend_def *gpu = find_backend(OS_BACKEND_CUDA);
    os_device_info dev[OS_MAX_DEVICES];
    int bad = 0, n = 0;
    os_error why;
    if (gpu)
        n = gpu->select(s, dev, &bad, &why);
    else
        os_set_error(&why, NO_CUDA_BUILD);
    const char *pre = gpu ? "no usable GPU: " : "";
    if (n == 0 && bad) {
        *err = why;
        return OS_EINPUT;
    }
    if (n == 0 && s->backend == OS_BACKEND_CUDA) {
        os_set_error(err, "--backend cuda: %s%s; use --backend cpu or auto", pre, why.msg);
        return OS_ERUNTIME;
    }
    if (n == 0) {
        describe_cpu(s, out->where, sizeof out->where);
        snprintf(out->note, sizeof out->note, "backend auto: running on the CPU (%s%s)", pre, why.msg);
        return OS_OK;
    }
    out->backend = OS_BACKEND_CUDA;
    if (n == 1)
        snprintf(out->where, sizeof out->where, "GPU %d (%s)", dev[0].index, dev[0].name);
    else
        snprintf(out->where, sizeof out->where, "%d GPUs (%s, ...)", n, dev[0].name);
    if (s->backend == OS_BACKEND_AUTO) snprintf(out->note, sizeof out->note, "backend auto: running on %s", out->where);
    return OS_OK;
}

/* The backend that runs sw into *out: spec->backend, auto resolved. */
static os_status run_backend(const os_sweep *sw, const backend_def **out, os_error *err)
{
    int id = sw->spec->backend;
    if (id == OS_BACKEND_AUTO) {
        os_backend_choice c;
        const os_status st = os_backend_choose(sw->spec, &c, err);
        if (st) return st;
        id = c.backend;
    }
    if (!(*out = find_backend(id))) {
        os_set_error(err, "--backend cuda: " NO_CUDA_BUILD);
        return OS_ERUNTIME;
    }
    return OS_OK;
}

/* A block's progress as the whole sweep's. */
typedef struct block_progress {
    os_progress_fn fn;
    void *ctx;
    size_t base, total;
} block_progress;

static void report_block(void *ctx, size_t done, size_t total)
{
    const block_progress *p = ctx;
    (void)total;
    p->fn(p->ctx, p->base + done, p->total);
}

os_status os_sweep_stream(const os_sweep *sw, size_t block_size, os_block_fn done, void *done_ctx,
                          os_progress_fn progress, void *ctx, os_error *err)
{
    const backend_def *b;
    os_status st = run_backend(sw, &b, err);
    if (st) return st;
    if (!block_size) {
        os_spec resolved = *sw->spec;
        resolved.backend = b->id;
        block_size = os_spec_block(&resolved);
    }
    const size_t n = sw->n_trials, cap = block_size < n ? block_size : n;
    os_result *res = malloc((cap ? cap : 1) * sizeof *res);
    if (!res) {
        os_set_error(err, "out of memory for a block of %zu results", cap);
        return OS_ERUNTIME;
    }
    for (size_t first = 0; first < n && !st; first += cap) {
        const size_t cnt = n - first < cap ? n - first : cap;
        os_sweep blk;
        if ((st = os_sweep_block(sw, first, cnt, &blk, err))) break;
        memset(res, 0, cnt * sizeof *res);
        block_progress bp = {progress, ctx, first, n};
        st = b->run(&blk, res, progress ? report_block : NULL, &bp, err);
        if (!st && done) st = done(done_ctx, &blk, res, err);
        os_sweep_free(&blk);
    }
    free(res);
    return st;
}

os_status os_sweep_run(const os_sweep *sw, os_result *results, os_progress_fn progress, void *ctx,
                       os_error *err)
{
    const backend_def *b;
    os_status st = run_backend(sw, &b, err);
    if (st) return st;
    if (sw->trials) return b->run(sw, results, progress, ctx, err);
    /* a prepared sweep: its blocks, into results */
    const size_t n = sw->n_trials, cap = os_spec_block(sw->spec);
    for (size_t first = 0; first < n && !st; first += cap) {
        os_sweep blk;
        if ((st = os_sweep_block(sw, first, n - first < cap ? n - first : cap, &blk, err))) break;
        block_progress bp = {progress, ctx, first, n};
        st = b->run(&blk, results + first, progress ? report_block : NULL, &bp, err);
        os_sweep_free(&blk);
    }
    return st;
}

os_status os_sweep_trace(const os_sweep *sw, FILE *f, os_error *err) { return os_cpu_trace(sw, f, err); }

int os_gpu_devices(os_device_info *out, int max, os_error *why)
{
#ifdef OS_HAVE_CUDA
    return os_cuda_devices(out, max, why);
#else
    (void)out, (void)max;
    os_set_error(why, NO_CUDA_BUILD);
    return 0;
#endif
}
