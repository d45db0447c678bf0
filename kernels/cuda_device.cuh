/* cuda_device.cuh — one device's CUDA resources and their acquisition
 * (host C++: CUDA runtime calls, no kernel launch syntax).
 *
 * cu_dev_res holds every CUDA resource of one device's run and releases
 * them in its destructor; cu_dev_acquire takes them in cu_device_run's
 * order, up to the first training launch (the shared-order table's launch
 * is the caller's, through a function). Kept free of <<<>>> so that
 * tests/test_cuda_emu.cpp compiles it with g++ against the shim's host
 * runtime (tests/cuda_emu/cuda_runtime.h), fails each call in turn and
 * checks that everything taken before it is released.
 */
#ifndef ORBITSWEEP_CUDA_DEVICE_CUH
#define ORBITSWEEP_CUDA_DEVICE_CUH

#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include "cuda_check.cuh"
#include "cuda_plan.cuh"

/* Every CUDA resource of one device's run, released by the destructor on
 * every way out: a CUDA error (CU_TRY's goto), an exception (bad_alloc)
 * or success. After a kernel fault the context is gone and the frees fail
 * too: ignored. */
template <typename T> struct cu_dev_res {
    cudaStream_t sc = NULL, sx = NULL;
    cudaEvent_t start[2] = {NULL, NULL}, done[2] = {NULL, NULL}; /* around each chunk's kernels */
    cu_config *d_cfg = NULL;
    cu_ref *d_ref = NULL;
    os_sched *d_sched = NULL;
    std::vector<double *> d_cos; /* the schedulers' tables, OS_SCHED_MAX_PARTS per scheduler */
    cu_point<double> *d_d64 = NULL;
    cu_point<float> *d_d32 = NULL;
    cu_point<T> *d_table = NULL;
    cu_job *d_jobs[2] = {NULL, NULL};
    os_result *d_out[2] = {NULL, NULL};
    cu_job *h_jobs[2] = {NULL, NULL}; /* pinned: a chunk's job list on its way up */
    os_result *h_out = NULL;          /* pinned: a chunk's results on their way back */

    cu_dev_res() = default;
    cu_dev_res(const cu_dev_res &) = delete;
    cu_dev_res &operator=(const cu_dev_res &) = delete;
    ~cu_dev_res()
    {
        if (sc) cudaStreamSynchronize(sc); /* nothing in flight reads what is freed below */
        if (sx) cudaStreamSynchronize(sx);
        for (int b = 0; b < 2; ++b) {
            cudaFree(d_jobs[b]);
            cudaFree(d_out[b]);
            cudaFreeHost(h_jobs[b]);
            if (start[b]) cudaEventDestroy(start[b]);
            if (done[b]) cudaEventDestroy(done[b]);
        }
        cudaFreeHost(h_out);
        cudaFree(d_table);
        cudaFree(d_d32);
        cudaFree(d_d64);
        cudaFree(d_sched);
        for (double *p : d_cos) cudaFree(p);
        cudaFree(d_ref);
        cudaFree(d_cfg);
        if (sc) cudaStreamDestroy(sc);
        if (sx) cudaStreamDestroy(sx);
        (void)cudaGetLastError();
    }
};

/* Takes device dev's resources for a run of `chunk` trainings per launch
 * and n_chunks launches into r (which must be fresh), in this order: the
 * device, its SM count (*sms), two streams, four events, the tables every
 * training reads (configurations, references, schedulers' tables — h_sched's
 * parts' tab pointers are redirected to the device copies —, schedulers, the
 * data) uploaded on r.sc, the shared-order table when it fits (then
 * launch_table(), which returns the launch's cudaError_t, fills it on
 * r.sc; when it does not fit, or its allocation fails, r.d_table stays
 * NULL and the orders are derived on the fly), two job and result buffers
 * and the pinned host buffers. Fills a's fields but jobs, n_jobs and out.
 * On a failed call: OS_ERUNTIME, err names the call (CU_TRY), and what was
 * taken stays in r for its destructor; an exception leaves the same way. */
template <typename T, typename L>
static os_status cu_dev_acquire(const cu_plan &pl, int dev, size_t chunk, size_t n_chunks,
                                std::vector<os_sched> &h_sched, cu_dev_res<T> &r, cu_args<T> *a, int *sms,
                                L launch_table, os_error *err)
{
    const os_spec *s = pl.sw->spec;
    const size_t np = pl.d64.size();
    size_t free_b = 0, total_b = 0;
    r.d_cos.assign(h_sched.size() * OS_SCHED_MAX_PARTS, (double *)NULL); /* host memory first */

    CU_TRY(cudaSetDevice(dev));
    CU_TRY(cudaDeviceGetAttribute(sms, cudaDevAttrMultiProcessorCount, dev));
    CU_TRY(cudaStreamCreateWithFlags(&r.sc, cudaStreamNonBlocking));
    CU_TRY(cudaStreamCreateWithFlags(&r.sx, cudaStreamNonBlocking));
    for (int b = 0; b < 2; ++b) {
        CU_TRY(cudaEventCreate(&r.start[b]));
        CU_TRY(cudaEventCreate(&r.done[b]));
    }

    /* the tables every training reads */
    CU_TRY(cudaMalloc(&r.d_cfg, pl.configs.size() * sizeof *r.d_cfg));
    CU_TRY(cudaMemcpyAsync(r.d_cfg, pl.configs.data(), pl.configs.size() * sizeof *r.d_cfg, cudaMemcpyHostToDevice,
                           r.sc));
    CU_TRY(cudaMalloc(&r.d_ref, pl.refs.size() * sizeof *r.d_ref));
    CU_TRY(cudaMemcpyAsync(r.d_ref, pl.refs.data(), pl.refs.size() * sizeof *r.d_ref, cudaMemcpyHostToDevice, r.sc));
    for (size_t k = 0; k < h_sched.size(); ++k) /* schedulers' tables: the host libm's bits */
        for (int j = 0; j < OS_SCHED_MAX_PARTS; ++j) {
            os_sched_part &p = h_sched[k].part[j];
            if (!p.tab || p.tab_len <= 0) continue;
            double *&d = r.d_cos[k * OS_SCHED_MAX_PARTS + j];
            const size_t bytes = (size_t)p.tab_len * sizeof(double);
            CU_TRY(cudaMalloc(&d, bytes));
            CU_TRY(cudaMemcpyAsync(d, p.tab, bytes, cudaMemcpyHostToDevice, r.sc));
            p.tab = d;
        }
    CU_TRY(cudaMalloc(&r.d_sched, h_sched.size() * sizeof *r.d_sched));
    CU_TRY(cudaMemcpyAsync(r.d_sched, h_sched.data(), h_sched.size() * sizeof *r.d_sched, cudaMemcpyHostToDevice,
                           r.sc));
    CU_TRY(cudaMalloc(&r.d_d64, np * sizeof *r.d_d64));
    CU_TRY(cudaMemcpyAsync(r.d_d64, pl.d64.data(), np * sizeof *r.d_d64, cudaMemcpyHostToDevice, r.sc));
    if (pl.dtype == OS_DTYPE_F32) {
        CU_TRY(cudaMalloc(&r.d_d32, np * sizeof *r.d_d32));
        CU_TRY(cudaMemcpyAsync(r.d_d32, pl.d32.data(), np * sizeof *r.d_d32, cudaMemcpyHostToDevice, r.sc));
    }
    memset(a, 0, sizeof *a);
    a->configs = r.d_cfg;
    a->scheds = r.d_sched;
    a->refs = r.d_ref;
    a->data = pl.dtype == OS_DTYPE_F32 ? (const cu_point<T> *)r.d_d32 : (const cu_point<T> *)r.d_d64;
    a->base_seed = s->seed;
    a->n = pl.n;
    a->max_ep = pl.max_ep;
    a->single_data = pl.single_data;
    a->sched_per_epoch = pl.sched_per_epoch;

    /* the shared batch orders, precomputed when they fit (else derived on
     * the fly like per-training orders) */
    if (pl.shuffle == OS_SHUFFLE_SHARED) {
        const double bytes = (double)pl.reps * pl.max_ep * pl.n * sizeof(cu_point<T>);
        CU_TRY(cudaMemGetInfo(&free_b, &total_b));
        const double limit = std::min((double)s->cuda_table_bytes, (double)free_b / 4);
        if (bytes > 0 && bytes <= limit && cudaMalloc(&r.d_table, (size_t)bytes) == cudaSuccess) {
            CU_TRY(launch_table());
            a->table = r.d_table;
        } else {
            (void)cudaGetLastError(); /* a failed allocation: derive them instead */
            r.d_table = NULL;
        }
    }

    for (int b = 0; b < 2 && b < (int)n_chunks; ++b) {
        CU_TRY(cudaMalloc(&r.d_jobs[b], chunk * sizeof(cu_job)));
        CU_TRY(cudaMalloc(&r.d_out[b], chunk * sizeof(os_result)));
        CU_TRY(cudaMallocHost(&r.h_jobs[b], chunk * sizeof(cu_job)));
    }
    CU_TRY(cudaMallocHost(&r.h_out, chunk * sizeof(os_result)));
    return OS_OK;

fail:
    return OS_ERUNTIME;
}

#endif
