/* run.c — the backend table: which backends this build has, how a run
 * picks one, and the entry points that train a planned sweep.
 *
 * A backend is a row: its id, its name, how it finds the devices a spec
 * would run on, and its run function (include/orbitsweep/backend.h). A
 * build without CUDA simply has no cuda row.
 */
#include <stdio.h>
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

os_status os_sweep_run(const os_sweep *sw, os_result *results, os_progress_fn progress, void *ctx,
                       os_error *err)
{
    int id = sw->spec->backend;
    if (id == OS_BACKEND_AUTO) {
        os_backend_choice c;
        os_status st = os_backend_choose(sw->spec, &c, err);
        if (st) return st;
        id = c.backend;
    }
    const backend_def *b = find_backend(id);
    if (!b) {
        os_set_error(err, "--backend cuda: " NO_CUDA_BUILD);
        return OS_ERUNTIME;
    }
    return b->run(sw, results, progress, ctx, err);
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
