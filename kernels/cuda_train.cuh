/* cuda_train.cuh — the training and final-loss kernels (device code).
 *
 * The kernels own only the mapping of work to threads; every formula is one
 * of the OS_HD functions the CPU backend calls (model.h, optim.h, sched.h,
 * train.h, shuffle.h). Mapping:
 *
 *   - A tile of TL in {1, 2, 4, 8} consecutive lanes of a warp trains one
 *     training at a time, start to end, with all of its state in registers.
 *     A grid-stride loop hands each tile its next training (sorted so that
 *     neighbouring lanes run the same batch size, epochs, optimizer and
 *     scheduler) as soon as the current one ends or diverges: the loop body
 *     is one optimizer update, so lanes on different trainings still run the
 *     same instructions.
 *   - Canonical summation order (model.h): batch position p adds into
 *     partial p mod 8. Lane j of a tile takes positions j, j+TL, j+2TL, ...
 *     and holds the P = 8/TL partials j + q*TL (q = 0..P-1); a shuffle-xor
 *     butterfly over 1, 2, 4 lanes then builds the first levels of the fixed
 *     tree and the lane combines its P partials in tree order. IEEE addition
 *     is commutative, so every lane ends with os_acc_tree's bits, and every
 *     lane then runs os_grad_finish / os_train_apply redundantly (the tile
 *     stays in lockstep).
 *   - Batch orders: a table of the orders shared by a replicate, data point
 *     by data point (read as broadcasts), or the data in its own order, or
 *     the keyed bijection of shuffle.h evaluated on the fly (per-training
 *     orders are never stored).
 *   - final_loss is a second, short kernel over the final parameters (the
 *     float64 data in data order, os_dataset_loss's math and order).
 */
#ifndef ORBITSWEEP_CUDA_TRAIN_CUH
#define ORBITSWEEP_CUDA_TRAIN_CUH

#include <cuda_runtime.h>

#include "orbitsweep/backend.h"
#include "orbitsweep/shuffle.h"

#define CU_BLOCK_MAX 256 /* threads per block, at most (the launch bounds) */
#ifndef CU_MIN_BLOCKS
#define CU_MIN_BLOCKS 2 /* blocks per SM the training kernel's registers allow (CMake: OS_CUDA_MIN_BLOCKS) */
#endif

/* ------------------------------------------------------------------------ */
/* what the host hands the kernels                                           */

/* A data point as the kernels read it, in one load: d2 = os_point_d2(x, c)
 * and y in the training dtype. */
template <typename T> struct __align__(2 * sizeof(T)) cu_point {
    T d2, y;
};

/* One configuration of the grid: a trial without its replicate. */
struct cu_config {
    os_opt_hp opt;
    double lr, init_wa, init_wb;
    uint64_t order_stream; /* Philox subsequence of its batch orders */
    uint32_t sched;        /* index into the scheduler array */
    int32_t batch_size, epochs;
    int32_t sched_cycles;  /* os_train_cfg's */
};

/* One training: its configuration and replicate (seed = base seed + rep,
 * dataset rep, or 0 for a --data file). */
struct cu_job {
    uint32_t cfg, rep;
};

/* A dataset's param_error reference and the exact tolerances of --target. */
struct cu_ref {
    double ref_wa, ref_wb, tol_wa, tol_wb;
};

template <typename T> struct cu_args {
    const cu_config *configs;
    const cu_job *jobs; /* this launch's trainings, in warp-friendly order */
    size_t n_jobs;
    os_result *out;     /* out[i] for jobs[i]: every field but loss_gap, param_error */
    const os_sched *scheds; /* with device tables */
    const cu_ref *refs;     /* per dataset */
    const cu_point<T> *data;  /* n_data x n points, data order */
    const cu_point<T> *table; /* shared orders: (rep, epoch) x n points, or NULL */
    uint64_t base_seed;
    int n;           /* points per dataset */
    int max_ep;      /* epochs per replicate in table */
    int single_data; /* 1: every replicate trains on dataset 0 (--data) */
    int sched_per_epoch;
};

/* ------------------------------------------------------------------------ */
/* the shared math, by dtype                                                 */

template <typename T> struct cu_math;

template <> struct cu_math<float> {
    typedef os_train_f32 train;
    typedef os_acc_f32 acc;
    typedef os_grad_f32 grad;
    typedef os_fwd_f32 fwd;
    static __device__ __forceinline__ fwd fwd_make(float wa, float wb) { return os_fwd_make_f32(wa, wb); }
    static __device__ __forceinline__ void point_add(float inv, float wb, float d2, float y, float *l,
                                                     float *a, float *b, int *k)
    {
        os_point_add_f32(inv, wb, d2, y, l, a, b, k);
    }
    static __device__ __forceinline__ float tree8(const float *p)
    {
        return os_tree8_f32(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
    }
    static __device__ __forceinline__ grad grad_finish(acc t, float wa, float wb)
    {
        return os_grad_finish_f32(t, wa, wb);
    }
    static __device__ __forceinline__ void init(train *tr, const os_train_cfg *c) { os_train_init_f32(tr, c); }
    static __device__ __forceinline__ void apply(train *tr, const os_train_cfg *c, const grad *g)
    {
        os_train_apply_f32(tr, c, g, NULL);
    }
    static __device__ __forceinline__ void end_epoch(train *tr, const os_train_cfg *c)
    {
        os_train_end_epoch_f32(tr, c);
    }
    static __device__ __forceinline__ void result(const train *tr, os_result *r) { os_train_result_f32(tr, r); }
};

template <> struct cu_math<double> {
    typedef os_train_f64 train;
    typedef os_acc_f64 acc;
    typedef os_grad_f64 grad;
    typedef os_fwd_f64 fwd;
    static __device__ __forceinline__ fwd fwd_make(double wa, double wb) { return os_fwd_make_f64(wa, wb); }
    static __device__ __forceinline__ void point_add(double inv, double wb, double d2, double y,
                                                     double *l, double *a, double *b, int *k)
    {
        os_point_add_f64(inv, wb, d2, y, l, a, b, k);
    }
    static __device__ __forceinline__ double tree8(const double *p)
    {
        return os_tree8_f64(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
    }
    static __device__ __forceinline__ grad grad_finish(acc t, double wa, double wb)
    {
        return os_grad_finish_f64(t, wa, wb);
    }
    static __device__ __forceinline__ void init(train *tr, const os_train_cfg *c) { os_train_init_f64(tr, c); }
    static __device__ __forceinline__ void apply(train *tr, const os_train_cfg *c, const grad *g)
    {
        os_train_apply_f64(tr, c, g, NULL);
    }
    static __device__ __forceinline__ void end_epoch(train *tr, const os_train_cfg *c)
    {
        os_train_end_epoch_f64(tr, c);
    }
    static __device__ __forceinline__ void result(const train *tr, os_result *r) { os_train_result_f64(tr, r); }
};

/* ------------------------------------------------------------------------ */
/* the canonical order on a tile                                             */

/* The lanes of this thread's tile (tiles never straddle a warp). */
template <int TL> __device__ __forceinline__ unsigned cu_tile_mask()
{
    const unsigned lane = threadIdx.x & 31u;
    return (TL == 32 ? 0xFFFFFFFFu : ((1u << TL) - 1u)) << (lane & ~(unsigned)(TL - 1));
}

/* A lane's share of one batch: its P = 8/TL canonical partials. */
template <typename T, int TL> struct cu_part {
    enum { P = 8 / TL };
    T l[P], a[P], b[P];
    int k; /* unmasked points: an integer sum, exact in any order */

    __device__ __forceinline__ void zero()
    {
#pragma unroll
        for (int q = 0; q < P; ++q) l[q] = a[q] = b[q] = (T)0;
        k = 0;
    }

    /* Batch positions [0, len) of which position p is point(p); lane j
     * takes p = 8g + j + q*TL into partial q (canonical partial j + q*TL). */
    template <typename Src>
    __device__ __forceinline__ void add(const Src &point, int len, int j, T inv, T wb)
    {
        int g0 = 0;
        for (; g0 + 8 <= len; g0 += 8) {
#pragma unroll
            for (int q = 0; q < P; ++q) {
                const cu_point<T> v = point(g0 + j + q * TL);
                cu_math<T>::point_add(inv, wb, v.d2, v.y, &l[q], &a[q], &b[q], &k);
            }
        }
        if (g0 < len) { /* the short last group */
#pragma unroll
            for (int q = 0; q < P; ++q) {
                const int p = g0 + j + q * TL;
                if (p < len) {
                    const cu_point<T> v = point(p);
                    cu_math<T>::point_add(inv, wb, v.d2, v.y, &l[q], &a[q], &b[q], &k);
                }
            }
        }
    }

    /* The fixed tree over the tile: butterfly across lanes, then the lane's
     * own partials in tree order. Every lane of the tile gets the sum. */
    __device__ __forceinline__ typename cu_math<T>::acc combine(unsigned mask)
    {
#pragma unroll
        for (int off = 1; off < TL; off <<= 1) {
#pragma unroll
            for (int q = 0; q < P; ++q) {
                l[q] = l[q] + __shfl_xor_sync(mask, l[q], off, TL);
                a[q] = a[q] + __shfl_xor_sync(mask, a[q], off, TL);
                b[q] = b[q] + __shfl_xor_sync(mask, b[q], off, TL);
            }
            k = k + __shfl_xor_sync(mask, k, off, TL);
        }
        typename cu_math<T>::acc t;
        t.l = tree(l);
        t.a = tree(a);
        t.b = tree(b);
        t.k = k;
        return t;
    }

    static __device__ __forceinline__ T tree(const T *v)
    {
        if constexpr (P == 8)
            return cu_math<T>::tree8(v);
        else if constexpr (P == 4)
            return (v[0] + v[1]) + (v[2] + v[3]);
        else if constexpr (P == 2)
            return v[0] + v[1];
        else
            return v[0];
    }
};

/* One point through the read-only data path, in one 8- or 16-byte load. */
__device__ __forceinline__ cu_point<float> cu_ld(const cu_point<float> *p)
{
    const float2 v = __ldg(reinterpret_cast<const float2 *>(p));
    return cu_point<float>{v.x, v.y};
}
__device__ __forceinline__ cu_point<double> cu_ld(const cu_point<double> *p)
{
    const double2 v = __ldg(reinterpret_cast<const double2 *>(p));
    return cu_point<double>{v.x, v.y};
}

/* Batch positions read straight from an array (a shared order's table
 * slice, or the data in its own order). */
template <typename T> struct cu_src_direct {
    const cu_point<T> *base;
    __device__ __forceinline__ cu_point<T> operator()(int p) const { return cu_ld(base + p); }
};

/* Batch positions through the keyed bijection of shuffle.h. */
template <typename T> struct cu_src_perm {
    const cu_point<T> *data;
    os_perm perm;
    int lo;
    __device__ __forceinline__ cu_point<T> operator()(int p) const
    {
        return cu_ld(data + os_perm_at(&perm, (uint32_t)(lo + p)));
    }
};

/* ------------------------------------------------------------------------ */
/* the training kernel                                                       */

/* Everything one training keeps in registers besides os_train. */
struct cu_cursor {
    size_t ds;      /* dataset index */
    uint32_t rep;   /* replicate */
    int bs, epochs;
    int e, lo;      /* current epoch, first batch position of the next update */
    uint64_t seed, stream;
};

template <typename T, bool PERM>
__device__ __forceinline__ void cu_load(const cu_args<T> &a, size_t i, typename cu_math<T>::train *tr,
                                        os_train_cfg *cfg, cu_cursor *cur)
{
    const cu_job job = a.jobs[i];
    const cu_config *c = &a.configs[job.cfg];
    cur->rep = job.rep;
    cur->ds = a.single_data ? 0 : job.rep;
    cur->bs = c->batch_size;
    cur->epochs = c->epochs;
    cur->e = 0;
    cur->lo = 0;
    cur->seed = a.base_seed + job.rep; /* the plan's seed + replicate, mod 2^64 */
    cur->stream = c->order_stream;
    const cu_ref ref = a.refs[cur->ds];
    cfg->opt = c->opt;
    cfg->sched = &a.scheds[c->sched];
    cfg->lr = c->lr;
    cfg->sched_per_epoch = a.sched_per_epoch;
    cfg->sched_cycles = c->sched_cycles;
    cfg->init_wa = c->init_wa;
    cfg->init_wb = c->init_wb;
    cfg->ref_wa = ref.ref_wa;
    cfg->ref_wb = ref.ref_wb;
    cfg->tol_wa = ref.tol_wa;
    cfg->tol_wb = ref.tol_wb;
    cu_math<T>::init(tr, cfg);
}

/* The start of epoch cur->e: the table slice (or data) it reads, or its
 * bijection. */
template <typename T, bool PERM>
__device__ __forceinline__ const cu_point<T> *cu_epoch_begin(const cu_args<T> &a, const cu_cursor &cur,
                                                            os_perm *perm)
{
    if (PERM) {
        os_perm_init(perm, cur.seed, cur.stream, (uint32_t)cur.e, (uint32_t)a.n);
        return a.data + cur.ds * (size_t)a.n;
    }
    if (a.table) return a.table + ((size_t)cur.rep * (size_t)a.max_ep + (size_t)cur.e) * (size_t)a.n;
    return a.data + cur.ds * (size_t)a.n;
}

/* A training's results (os_train_result), final_loss left to cu_loss_kernel. */
template <typename T>
__device__ __forceinline__ void cu_write(os_result *o, const typename cu_math<T>::train &tr)
{
    os_result r;
    cu_math<T>::result(&tr, &r);
    *o = r;
}

/* Trains a.jobs[0 .. n_jobs): tile t takes jobs t, t + tiles, ... Each loop
 * turn is one optimizer update of the tile's current training, or, when
 * that training has ended (all epochs, or diverged), writing its results
 * and loading the next. The per-update sequence is cpu_t.h's: batch [lo,
 * min(lo+bs, n)) in the epoch's order, the 8 canonical partials, the tree,
 * os_grad_finish, os_train_apply; after an epoch's last batch (unless it
 * diverged) os_train_end_epoch. */
template <typename T, int TL, bool PERM>
__global__ void __launch_bounds__(CU_BLOCK_MAX, CU_MIN_BLOCKS) cu_train_kernel(const cu_args<T> a)
{
    typedef cu_math<T> M;
    const int j = (int)(threadIdx.x % TL);
    const unsigned mask = cu_tile_mask<TL>();
    const size_t tiles = (size_t)gridDim.x * (blockDim.x / TL);
    size_t i = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / TL;
    if (i >= a.n_jobs) return; /* the whole tile: i is the same on its lanes */

    /* The training's hyperparameters (opt, lr, scheduler, init, reference
     * and tolerances: 136 bytes) live in shared memory, one slot per
     * thread, not in registers: they are read a few times per update,
     * never per point, and the registers go to the training's state. */
    __shared__ os_train_cfg cfg_slot[CU_BLOCK_MAX];
    os_train_cfg &cfg = cfg_slot[threadIdx.x];
    typename M::train tr;
    cu_cursor cur;
    os_perm perm;
    cu_load<T, PERM>(a, i, &tr, &cfg, &cur);
    const cu_point<T> *src = cu_epoch_begin<T, PERM>(a, cur, &perm);
    for (;;) {
        if (cur.e < cur.epochs && !tr.diverged) {
            const int len = a.n - cur.lo < cur.bs ? a.n - cur.lo : cur.bs;
            const typename M::fwd f = M::fwd_make(tr.wa, tr.wb);
            cu_part<T, TL> part;
            part.zero();
            if (PERM) {
                const cu_src_perm<T> s = {src, perm, cur.lo};
                part.add(s, len, j, f.inv_wa2, f.wb);
            } else {
                const cu_src_direct<T> s = {src + cur.lo};
                part.add(s, len, j, f.inv_wa2, f.wb);
            }
            const typename M::grad g = M::grad_finish(part.combine(mask), tr.wa, tr.wb);
            M::apply(&tr, &cfg, &g);
            if (tr.diverged) continue; /* stops here: no end of epoch */
            if (a.n - cur.lo > cur.bs) {
                cur.lo += cur.bs;
                continue;
            }
            M::end_epoch(&tr, &cfg);
            cur.e += 1;
            cur.lo = 0;
            if (cur.e < cur.epochs) src = cu_epoch_begin<T, PERM>(a, cur, &perm);
        } else {
            if (j == 0) cu_write<T>(&a.out[i], tr);
            i += tiles;
            if (i >= a.n_jobs) return;
            cu_load<T, PERM>(a, i, &tr, &cfg, &cur);
            src = cu_epoch_begin<T, PERM>(a, cur, &perm);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* final_loss                                                                */

/* out[i].final_loss for jobs[0 .. n_jobs): the float64 data in data order,
 * point p into partial p mod 8, under train.h's final-loss rules
 * (os_final_loss_defined, os_loss_mean). */
template <int TL>
__global__ void __launch_bounds__(CU_BLOCK_MAX)
    cu_loss_kernel(const cu_job *jobs, size_t n_jobs, os_result *out, const cu_point<double> *data64, int n,
                   int single_data)
{
    const int j = (int)(threadIdx.x % TL);
    const unsigned mask = cu_tile_mask<TL>();
    const size_t tiles = (size_t)gridDim.x * (blockDim.x / TL);
    for (size_t i = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / TL; i < n_jobs; i += tiles) {
        const double wa = out[i].final_wa, wb = out[i].final_wb;
        double loss = NAN;
        if (os_final_loss_defined(wa, wb, out[i].diverged)) {
            const size_t ds = single_data ? 0 : jobs[i].rep;
            const os_fwd_f64 f = os_fwd_make_f64(wa, wb);
            cu_part<double, TL> part;
            part.zero();
            const cu_src_direct<double> s = {data64 + ds * (size_t)n};
            part.add(s, n, j, f.inv_wa2, f.wb);
            loss = os_loss_mean(part.combine(mask));
        }
        if (j == 0) out[i].final_loss = loss;
    }
}

/* ------------------------------------------------------------------------ */
/* the shared batch orders                                                   */

/* table[(r*max_ep + e)*n + p] = data point at position p of epoch e of
 * replicate r's shared order (cpu_make_order: seed base+r, stream 1). */
template <typename T>
__global__ void cu_table_kernel(cu_point<T> *table, const cu_point<T> *data, int n, int max_ep, uint32_t reps,
                                uint64_t base_seed, int single_data)
{
    const size_t total = (size_t)reps * (size_t)max_ep * (size_t)n;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        const size_t re = idx / (size_t)n;
        const uint32_t p = (uint32_t)(idx - re * (size_t)n);
        const uint32_t e = (uint32_t)(re % (size_t)max_ep);
        const uint32_t r = (uint32_t)(re / (size_t)max_ep);
        os_perm perm;
        os_perm_init(&perm, base_seed + r, OS_STREAM_SHARED_ORDER, e, (uint32_t)n);
        const size_t ds = single_data ? 0 : r;
        table[idx] = data[ds * (size_t)n + os_perm_at(&perm, p)];
    }
}

#endif
