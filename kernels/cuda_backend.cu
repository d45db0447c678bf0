/* cuda_backend.cu — the CUDA backend: the GPUs of this machine and os_cuda_run.
 *
 * os_cuda_run splits the sweep into launch groups (cu_groups: one dtype,
 * shuffle mode, scheduler stepping, target and dataset each; a sweep
 * whose new axes are single-valued is one) and, group after group, plans on
 * the host — the grid's configurations, the trainings
 * in a warp-friendly order (batch size, epochs, optimizer, scheduler,
 * replicate), the data in the training dtype — splits that order across the
 * GPUs by work, and on each GPU runs back-to-back chunks: upload the chunk's
 * job list, one training launch (every epoch and update of every training,
 * cuda_train.cuh), one final-loss launch, then copy the results back while
 * the next chunk trains and fill the os_result rows (os_result_finish) on
 * the host. A result is the same bits as os_cpu_run's for any tile size,
 * chunk size or device count.
 *
 * Settings of the spec (--cuda-chunk, --cuda-table-bytes): trainings per
 * launch (default 4194304) and bytes of shared batch orders precomputed on
 * a GPU (default 1 GiB; 0: always derive them on the fly).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include "cuda_check.cuh"
#include "cuda_device.cuh"
#include "cuda_plan.cuh"
#include "cuda_train.cuh"


/* ------------------------------------------------------------------------ */
/* devices                                                                   */

/* Why the runtime lists no device. */
static void cu_no_devices(os_error *why, cudaError_t e)
{
    if (e == cudaErrorInsufficientDriver)
        os_set_error(why, "no NVIDIA driver, or one too old for CUDA %d.%d (%s)", CUDART_VERSION / 1000,
                     CUDART_VERSION % 1000 / 10, cudaGetErrorName(e));
    else if (e == cudaErrorNoDevice || e == cudaSuccess)
        os_set_error(why, "no CUDA device found");
    else
        os_set_error(why, "CUDA cannot list the devices: %s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
}

/* Device dev as the runtime reports it; usable when our kernels have code
 * that runs on it (SASS for 8.x and 9.0, PTX for newer). */
static void cu_probe(int dev, os_device_info *d)
{
    memset(d, 0, sizeof *d);
    d->index = dev;
    cudaDeviceProp p;
    cudaError_t e = cudaGetDeviceProperties(&p, dev);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(d->name, sizeof d->name, "device %d", dev);
        snprintf(d->why, sizeof d->why, "%s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
        return;
    }
    snprintf(d->name, sizeof d->name, "%s", p.name);
    d->mem_bytes = p.totalGlobalMem;
    d->cc_major = p.major;
    d->cc_minor = p.minor;
    d->sms = p.multiProcessorCount;
    cudaFuncAttributes fa;
    e = cudaSetDevice(dev);
    if (e == cudaSuccess) e = cudaFuncGetAttributes(&fa, cu_train_kernel<float, 1, false>);
    if (e == cudaSuccess) {
        d->usable = 1;
        return;
    }
    (void)cudaGetLastError();
    if (e == cudaErrorNoKernelImageForDevice || e == cudaErrorInvalidDeviceFunction)
        snprintf(d->why, sizeof d->why,
                 "this build has no code for compute capability %d.%d (it has 8.x, 9.0 and PTX for newer)",
                 p.major, p.minor);
    else
        snprintf(d->why, sizeof d->why, "%s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
}

extern "C" int os_cuda_devices(os_device_info *out, int max, os_error *why)
{
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count <= 0) {
        (void)cudaGetLastError();
        cu_no_devices(why, e);
        return 0;
    }
    for (int i = 0; i < count && i < max; ++i) cu_probe(i, &out[i]);
    return count;
}

extern "C" int os_cuda_select(const os_spec *spec, os_device_info *out, int *bad_input, os_error *err)
{
    os_device_info tmp[OS_MAX_DEVICES];
    os_device_info *dv = out ? out : tmp;
    *bad_input = 0;
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count <= 0) {
        (void)cudaGetLastError();
        cu_no_devices(err, e);
        return 0;
    }
    if (spec->n_devices > 0) {
        for (int i = 0; i < spec->n_devices; ++i) {
            const int d = spec->devices[i];
            if (d < 0 || d >= count) {
                *bad_input = 1;
                os_set_error(err, "--devices: '%d' is not a GPU of this machine (it has %d: 0..%d)", d, count,
                             count - 1);
                return 0;
            }
            for (int k = 0; k < i; ++k)
                if (spec->devices[k] == d) {
                    *bad_input = 1;
                    os_set_error(err, "--devices: '%d' is listed twice", d);
                    return 0;
                }
            cu_probe(d, &dv[i]);
            if (!dv[i].usable) {
                os_set_error(err, "GPU %d (%s), chosen by --devices, cannot run: %s", d, dv[i].name, dv[i].why);
                return 0;
            }
        }
        return spec->n_devices;
    }
    int n = 0;
    os_device_info first_bad;
    memset(&first_bad, 0, sizeof first_bad);
    for (int d = 0; d < count && n < OS_MAX_DEVICES; ++d) {
        cu_probe(d, &dv[n]);
        if (dv[n].usable)
            ++n;
        else if (!first_bad.name[0])
            first_bad = dv[n];
    }
    if (n == 0)
        os_set_error(err, "GPU %d (%s) cannot run: %s", first_bad.index, first_bad.name, first_bad.why);
    return n;
}

/* ------------------------------------------------------------------------ */
/* kernels by tile size                                                      */

template <typename T> struct cu_kernels {
    typedef void (*train_fn)(const cu_args<T>);
    static train_fn train(int tile, bool perm)
    {
        switch (tile) {
        case 1: return perm ? cu_train_kernel<T, 1, true> : cu_train_kernel<T, 1, false>;
        case 2: return perm ? cu_train_kernel<T, 2, true> : cu_train_kernel<T, 2, false>;
        case 4: return perm ? cu_train_kernel<T, 4, true> : cu_train_kernel<T, 4, false>;
        default: return perm ? cu_train_kernel<T, 8, true> : cu_train_kernel<T, 8, false>;
        }
    }
};

typedef void (*cu_loss_fn)(const cu_job *, size_t, os_result *, const cu_point<double> *, int, int);

static cu_loss_fn cu_loss(int tile)
{
    switch (tile) {
    case 1: return cu_loss_kernel<1>;
    case 2: return cu_loss_kernel<2>;
    case 4: return cu_loss_kernel<4>;
    default: return cu_loss_kernel<8>;
    }
}

/* The launch shape of fn for `count` trainings (cu_block_for, cu_grid_for). */
template <typename F>
static cudaError_t cu_shape_for(F fn, size_t count, int tile, int sms, int max_blocks, cu_shape *sh)
{
    const int block = cu_block_for(count, tile, sms);
    int per_sm = 0;
    const cudaError_t e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fn, block, 0);
    if (e != cudaSuccess) return e;
    *sh = cu_grid_for(count, tile, sms, block, per_sm, max_blocks);
    return cudaSuccess;
}

/* Trainings that fit on the GPU at once with `tile` lanes each. */
template <typename F> static size_t cu_resident(F fn, int tile, int sms)
{
    int per_sm = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fn, CU_BLOCK_MAX, 0) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return (size_t)per_sm * CU_BLOCK_MAX / tile * (size_t)sms;
}

/* ------------------------------------------------------------------------ */
/* one device                                                                */

/* How a device reports progress: through the callback (one device, on the
 * caller's thread) or a shared counter (several). */
struct cu_report {
    os_progress_fn fn;
    void *ctx;
    std::atomic<size_t> *done;
    size_t base;  /* trainings of the groups before this one */
    size_t total;
    std::atomic<bool> *stop; /* several: set when a GPU fails or a thread cannot start */
    char *halted;            /* set when this GPU stopped because of *stop */
};

/* Trains plan positions [s0, s1) on device dev, filling their os_result
 * rows; *kernel_s gets the training and final-loss kernels' own time
 * (cudaEvents, every chunk's summed). Host memory is taken before any CUDA
 * resource, and every CUDA resource is held by cu_dev_res, taken by
 * cu_dev_acquire (cuda_device.cuh, tested on the emulator's runtime). */
template <typename T>
static os_status cu_device_run(const cu_plan &pl, int dev, size_t s0, size_t s1, os_result *res,
                               const cu_report &rep, double *kernel_s, os_error *err)
{
    const os_sweep *sw = pl.sw;
    const os_spec *s = sw->spec;
    const size_t m = s1 - s0;
    *kernel_s = 0;
    if (m == 0) return OS_OK; /* an empty slice: nothing to start (a chunk would be 0) */
    const size_t chunk = std::min(m, std::max<size_t>(1, (size_t)s->cuda_chunk)), n_chunks = (m + chunk - 1) / chunk;
    std::vector<os_sched> h_sched(sw->scheds, sw->scheds + s->n_scheds); /* host memory first */
    cu_dev_res<T> r;
    cu_args<T> a = cu_args<T>(); /* cu_dev_acquire fills it */
    cu_shape tsh, lsh;
    int sms = 0, tile = s->tile;
    typename cu_kernels<T>::train_fn train = NULL;
    cu_loss_fn loss = NULL;

    /* every resource up to the first training launch (cuda_device.cuh);
     * the shared orders' table, when it fits, filled on r.sc */
    os_status st = cu_dev_acquire(pl, dev, chunk, n_chunks, h_sched, r, &a, &sms, [&]() {
        const size_t total = (size_t)pl.reps * pl.max_ep * pl.n;
        const int grid = (int)std::min<size_t>((total + 255) / 256, (size_t)sms * 32);
        cu_table_kernel<T><<<grid, 256, 0, r.sc>>>(r.d_table, a.data, pl.n, pl.max_ep, pl.reps, s->seed,
                                                   pl.single_data);
        return cudaGetLastError();
    }, err);
    if (st) return st;
    const bool perm = pl.shuffle == OS_SHUFFLE_TRIAL || (pl.shuffle == OS_SHUFFLE_SHARED && !r.d_table);

    /* the tile size */
    if (tile == 0) { /* the widest tile that still fits every training of a chunk on the GPU at once */
        tile = 1;
        for (int t = 8; t > 1; t /= 2)
            if (chunk * (size_t)t <= cu_resident(cu_kernels<T>::train(t, perm), t, sms)) {
                tile = t;
                break;
            }
    }
    train = cu_kernels<T>::train(tile, perm);
    loss = cu_loss(tile);

    /* launch chunk k, then finish chunk k-1 while k trains */
    for (size_t k = 0; k <= n_chunks; ++k) {
        if (rep.stop && rep.stop->load()) { /* another GPU failed: stop between chunks */
            *rep.halted = 1;
            os_set_error(err, "stopped: another GPU failed");
            return OS_ERUNTIME;
        }
        if (k < n_chunks) {
            const int b = (int)(k & 1);
            const size_t c0 = s0 + k * chunk, cnt = std::min(chunk, s1 - c0);
            /* h_jobs[b]'s last upload (chunk k-2) is complete: chunk k-2 was waited for */
            memcpy(r.h_jobs[b], pl.jobs.data() + c0, cnt * sizeof(cu_job));
            CU_TRY(cudaMemcpyAsync(r.d_jobs[b], r.h_jobs[b], cnt * sizeof(cu_job), cudaMemcpyHostToDevice, r.sc));
            a.jobs = r.d_jobs[b];
            a.n_jobs = cnt;
            a.out = r.d_out[b];
            CU_TRY(cu_shape_for(train, cnt, tile, sms, s->max_blocks, &tsh));
            CU_TRY(cu_shape_for(loss, cnt, tile, sms, s->max_blocks, &lsh));
            CU_TRY(cudaEventRecord(r.start[b], r.sc));
            train<<<tsh.grid, tsh.block, 0, r.sc>>>(a);
            CU_TRY(cudaGetLastError());
            loss<<<lsh.grid, lsh.block, 0, r.sc>>>(r.d_jobs[b], cnt, r.d_out[b], r.d_d64, pl.n, pl.single_data);
            CU_TRY(cudaGetLastError());
            CU_TRY(cudaEventRecord(r.done[b], r.sc));
        }
        if (k > 0) {
            const size_t kk = k - 1;
            const int b = (int)(kk & 1);
            const size_t c0 = s0 + kk * chunk, cnt = std::min(chunk, s1 - c0);
            float ms = 0;
            CU_TRY(cudaStreamWaitEvent(r.sx, r.done[b], 0));
            CU_TRY(cudaMemcpyAsync(r.h_out, r.d_out[b], cnt * sizeof(os_result), cudaMemcpyDeviceToHost, r.sx));
            CU_TRY(cudaStreamSynchronize(r.sx));
            CU_TRY(cudaEventElapsedTime(&ms, r.start[b], r.done[b]));
            *kernel_s += 1e-3 * ms;
            cu_fill_results(pl, c0, cnt, r.h_out, res);
            if (rep.done) {
                rep.done->fetch_add(cnt);
            } else if (rep.fn) {
                rep.fn(rep.ctx, rep.base + c0 + cnt, rep.total);
            }
        }
    }
    return OS_OK;

fail:
    return OS_ERUNTIME;
}

static os_status cu_device_run_any(const cu_plan &pl, int dev, size_t s0, size_t s1, os_result *res,
                                   const cu_report &rep, double *kernel_s, os_error *err)
{
    try {
        os_status st = pl.dtype == OS_DTYPE_F32 ? cu_device_run<float>(pl, dev, s0, s1, res, rep, kernel_s, err)
                                                : cu_device_run<double>(pl, dev, s0, s1, res, rep, kernel_s, err);
        if (st) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            os_set_error(err, "GPU %d: %s", dev, msg);
        }
        return st;
    } catch (const std::bad_alloc &) {
        os_set_error(err, "GPU %d: out of host memory", dev);
        return OS_ERUNTIME;
    }
}

/* ------------------------------------------------------------------------ */
/* the sweep                                                                 */

/* The kernels' time of every os_cuda_run so far (os_cuda_kernel_seconds). */
static std::atomic<long long> cu_kernel_ns(0);
static void cu_kernel_seconds_add(double s) { cu_kernel_ns.fetch_add((long long)(s * 1e9)); }
extern "C" double os_cuda_kernel_seconds(void) { return 1e-9 * (double)cu_kernel_ns.load(); }

/* One launch group (cu_groups) across the GPUs devs[0..nd): its rows of
 * res (back[t] for its trial t); progress counts base trainings before it. */
static os_status cu_run_group(const os_sweep *sw, const size_t *back, const os_device_info *devs, int nd,
                              os_result *res, os_progress_fn progress, void *ctx, size_t base, size_t total,
                              std::vector<double> &kernel_s, os_error *err)
{
    cu_plan pl;
    os_status st = cu_plan_make(sw, &pl, err);
    if (st) return st;
    pl.back = back;

    /* contiguous slices of the launch order, balanced by epochs; a GPU
     * whose slice is empty (more GPUs than trainings) starts nothing */
    const std::vector<size_t> cut = cu_plan_split(pl, nd);
    std::vector<int> busy;
    std::vector<double> group_s(nd, 0.0);
    for (int d = 0; d < nd; ++d)
        if (cut[d + 1] > cut[d]) busy.push_back(d);

    if (busy.size() == 1) {
        const int d = busy[0];
        const cu_report rep = {progress, ctx, NULL, base, total, NULL, NULL};
        st = cu_device_run_any(pl, devs[d].index, cut[d], cut[d + 1], res, rep, &group_s[d], err);
    } else {
        std::atomic<size_t> done(0);
        std::atomic<bool> stop(false);
        std::atomic<int> running(0);
        std::vector<os_status> sts(nd, OS_OK);
        std::vector<os_error> errs(nd);
        std::vector<char> halted(nd, 0);
        std::vector<std::thread> th;
        th.reserve(busy.size());
        bool started = true;
        for (int d : busy) {
            running.fetch_add(1);
            try {
                th.emplace_back([&, d]() {
                    const cu_report rep = {NULL, NULL, &done, base, total, &stop, &halted[d]};
                    sts[d] = cu_device_run_any(pl, devs[d].index, cut[d], cut[d + 1], res, rep, &group_s[d],
                                               &errs[d]);
                    if (sts[d]) stop.store(true);
                    running.fetch_sub(1);
                });
            } catch (const std::exception &e) { /* the GPUs started so far stop and are joined below */
                running.fetch_sub(1);
                stop.store(true);
                started = false;
                os_set_error(err, "CUDA backend: cannot start a thread for GPU %d: %s", devs[d].index, e.what());
                break;
            }
        }
        while (running.load() > 0) { /* the callback runs on this thread only */
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (progress && started) progress(ctx, base + done.load(), total);
        }
        for (std::thread &t : th) t.join();
        if (!started) return OS_ERUNTIME;
        for (int d = 0; d < nd && !st; ++d) /* the first GPU that failed on its own, not one told to stop */
            if (sts[d] && !halted[d]) st = sts[d], *err = errs[d];
        for (int d = 0; d < nd && !st; ++d)
            if (sts[d]) st = sts[d], *err = errs[d];
    }
    for (int d = 0; d < nd; ++d) kernel_s[d] += group_s[d];
    return st;
}

static os_status cu_run(const os_sweep *sw, os_result *res, os_progress_fn progress, void *ctx, os_error *err)
{
    const os_spec *s = sw->spec;
    os_status st = os_spec_validate(s, err); /* a spec changed since the plan (tile, devices) */
    if (st) return st;
    os_device_info devs[OS_MAX_DEVICES];
    int bad = 0;
    os_error why;
    const int nd = os_cuda_select(s, devs, &bad, &why);
    if (nd == 0) {
        if (bad)
            *err = why;
        else
            os_set_error(err, "--backend cuda: no usable GPU: %s", why.msg);
        return bad ? OS_EINPUT : OS_ERUNTIME;
    }
    const size_t total = sw->n_trials;
    if (total == 0) {
        if (progress) progress(ctx, 0, 0);
        return OS_OK;
    }
    std::vector<cu_group> groups;
    cu_groups(sw, groups);
    std::vector<double> kernel_s(nd, 0.0);
    size_t base = 0;
    for (size_t gi = 0; gi < groups.size() && !st; ++gi) {
        st = cu_run_group(&groups[gi].sw, groups[gi].index.data(), devs, nd, res, progress, ctx, base, total,
                          kernel_s, err);
        base += groups[gi].sw.n_trials;
    }
    if (!st && progress) progress(ctx, total, total);
    cu_kernel_seconds_add(*std::max_element(kernel_s.begin(), kernel_s.end())); /* the GPUs run side by side */
    return st;
}

extern "C" os_status os_cuda_run(const os_sweep *sw, os_result *res, os_progress_fn progress, void *ctx,
                                 os_error *err)
{
    try {
        return cu_run(sw, res, progress, ctx, err);
    } catch (const std::bad_alloc &) {
        os_set_error(err, "out of host memory for the CUDA backend's tables (%zu trainings)", sw->n_trials);
        return OS_ERUNTIME;
    } catch (const std::system_error &e) {
        os_set_error(err, "CUDA backend: cannot start a thread per GPU: %s", e.what());
        return OS_ERUNTIME;
    }
}
