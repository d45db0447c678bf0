/* run.c — the backend table: which backends this build has, how a run
 * picks one, and the entry points that train a planned sweep.
 *
 * A backend is a row: its id, its name, how it finds the devices a spec
 * would run on, and its run function (include/orbitsweep/backend.h). A
 * build without CUDA simply has no cuda row.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static double run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A block in flight: trained, waiting for (or being handed to) done. */
typedef struct slot {
    os_sweep blk;
    os_result *res;
    int full; /* handed to the writer, not yet done */
} slot;

/* The writer of an overlapped stream: runs done on each full slot in turn
 * (slot k % 2 for the k-th block), in grid order. */
typedef struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot slots[2];
    size_t next;   /* the block the writer takes next */
    int closing;   /* no more blocks will come */
    os_status st;  /* done's first failure */
    os_error err;
    os_block_fn done;
    void *done_ctx;
} pipeline;

static void *writer_main(void *arg)
{
    pipeline *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        slot *s = &p->slots[p->next % 2];
        while (!s->full && !p->closing) pthread_cond_wait(&p->cv, &p->mu);
        if (!s->full) break;
        pthread_mutex_unlock(&p->mu);
        os_error e;
        const os_status st = p->st ? p->st : p->done ? p->done(p->done_ctx, &s->blk, s->res, &e) : OS_OK;
        pthread_mutex_lock(&p->mu);
        if (st && !p->st) p->st = st, p->err = e;
        s->full = 0;
        p->next += 1;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* The blocks one after another, done between them; into (when not NULL)
 * holds every trial's result at its index, else one block's buffer is
 * reused. */
static os_status stream_serial(const os_sweep *sw, const backend_def *b, size_t lo, size_t hi, size_t cap,
                               os_block_fn done, void *done_ctx, os_progress_fn progress, void *ctx,
                               double *train_s, os_result *into, os_error *err)
{
    os_result *own = into ? NULL : malloc(cap * sizeof *own);
    if (!into && !own) {
        os_set_error(err, "out of memory for a block of %zu results", cap);
        return OS_ERUNTIME;
    }
    os_status st = OS_OK;
    os_sweep blk; /* one block's trials, reused */
    memset(&blk, 0, sizeof blk);
    for (size_t first = lo; first < hi && !st; first += cap) {
        const size_t cnt = hi - first < cap ? hi - first : cap;
        os_result *res = into ? into + first : own;
        if ((st = os_sweep_block_next(sw, first, cnt, &blk, err))) break;
        memset(res, 0, cnt * sizeof *res);
        block_progress bp = {progress, ctx, first, sw->n_trials};
        const double t0 = run_now();
        st = b->run(&blk, res, progress ? report_block : NULL, &bp, err);
        *train_s += run_now() - t0;
        if (!st && done) st = done(done_ctx, &blk, res, err);
    }
    os_sweep_free(&blk);
    free(own);
    return st;
}

/* The trainings of the overlapped block at first: cap, and the last cap
 * or fewer in halves down to a sixteenth of cap, so that the last block's
 * writing, which nothing overlaps, is short (each half still trains while
 * the block before it is written). */
static size_t taper(size_t first, size_t hi, size_t cap)
{
    const size_t left = hi - first, least = cap / 16 > 0 ? cap / 16 : 1;
    if (left > cap) return cap;
    return left > least ? (left + 1) / 2 : left;
}

/* The same with done on the writer thread while the next block trains. */
static os_status stream_overlapped(const os_sweep *sw, const backend_def *b, size_t lo, size_t hi, size_t cap,
                                   os_block_fn done, void *done_ctx, os_progress_fn progress, void *ctx,
                                   double *train_s, os_error *err)
{
    pipeline p;
    memset(&p, 0, sizeof p);
    p.done = done;
    p.done_ctx = done_ctx;
    p.slots[0].res = malloc(cap * sizeof(os_result));
    p.slots[1].res = malloc(cap * sizeof(os_result));
    if (!p.slots[0].res || !p.slots[1].res) {
        free(p.slots[0].res), free(p.slots[1].res);
        os_set_error(err, "out of memory for two blocks of %zu results", cap);
        return OS_ERUNTIME;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    pthread_t writer;
    if (pthread_create(&writer, NULL, writer_main, &p) != 0) {
        pthread_cond_destroy(&p.cv), pthread_mutex_destroy(&p.mu);
        free(p.slots[0].res), free(p.slots[1].res);
        return stream_serial(sw, b, lo, hi, cap, done, done_ctx, progress, ctx, train_s, NULL, err);
    }
    os_status st = OS_OK;
    size_t k = 0;
    for (size_t first = lo, cnt = 0; first < hi && !st; first += cnt, ++k) {
        slot *s = &p.slots[k % 2];
        pthread_mutex_lock(&p.mu); /* the slot's last block written, and the writer's verdict */
        while (s->full) pthread_cond_wait(&p.cv, &p.mu);
        const os_status wst = p.st;
        pthread_mutex_unlock(&p.mu);
        if (wst) break;
        cnt = taper(first, hi, cap);
        if ((st = os_sweep_block_next(sw, first, cnt, &s->blk, err))) break; /* the slot's trials reused */
        memset(s->res, 0, cnt * sizeof *s->res);
        block_progress bp = {progress, ctx, first, sw->n_trials};
        const double t0 = run_now();
        st = b->run(&s->blk, s->res, progress ? report_block : NULL, &bp, err);
        *train_s += run_now() - t0;
        if (st) break;
        pthread_mutex_lock(&p.mu);
        s->full = 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
    }
    pthread_mutex_lock(&p.mu);
    p.closing = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    pthread_join(writer, NULL);
    if (!st && p.st) st = p.st, *err = p.err;
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    os_sweep_free(&p.slots[0].blk);
    os_sweep_free(&p.slots[1].blk);
    free(p.slots[0].res);
    free(p.slots[1].res);
    return st;
}

os_status os_sweep_stream(const os_sweep *sw, size_t block_size, os_block_fn done, void *done_ctx,
                          os_progress_fn progress, void *ctx, double *train_s, os_error *err)
{
    return os_sweep_stream_range(sw, 0, sw->n_trials, block_size, done, done_ctx, progress, ctx, train_s, err);
}

os_status os_sweep_stream_range(const os_sweep *sw, size_t lo, size_t hi, size_t block_size, os_block_fn done,
                                void *done_ctx, os_progress_fn progress, void *ctx, double *train_s, os_error *err)
{
    double spent = 0;
    if (!train_s) train_s = &spent;
    *train_s = 0;
    const backend_def *b;
    os_status st = run_backend(sw, &b, err);
    if (st) return st;
    os_spec resolved = *sw->spec;
    resolved.backend = b->id;
    if (!block_size) block_size = os_spec_block(&resolved);
    if (hi > sw->n_trials) hi = sw->n_trials;
    const size_t n = hi > lo ? hi - lo : 0, cap = block_size < n ? block_size : n;
    if (!cap) return OS_OK;
    if (os_spec_overlaps(&resolved) && cap < n)
        return stream_overlapped(sw, b, lo, hi, cap, done, done_ctx, progress, ctx, train_s, err);
    return stream_serial(sw, b, lo, hi, cap, done, done_ctx, progress, ctx, train_s, NULL, err);
}

os_status os_sweep_run(const os_sweep *sw, os_result *results, os_progress_fn progress, void *ctx,
                       os_error *err)
{
    const backend_def *b;
    os_status st = run_backend(sw, &b, err);
    if (st) return st;
    if (sw->trials) return b->run(sw, results, progress, ctx, err);
    double train_s = 0; /* a prepared sweep: its blocks, straight into results */
    return stream_serial(sw, b, 0, sw->n_trials, os_spec_block(sw->spec), NULL, NULL, progress, ctx, &train_s,
                         results, err);
}

os_status os_sweep_trace(const os_sweep *sw, FILE *f, os_error *err) { return os_cpu_trace(sw, f, err); }

os_status os_trace_check(const os_sweep *sw, os_error *err)
{
    if (sw->n_trials == 1) return OS_OK;
    os_set_error(err, "trace: the options give %zu trainings; give one value per axis and --seeds 1", sw->n_trials);
    return OS_EINPUT;
}

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
