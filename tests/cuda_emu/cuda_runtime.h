/* cuda_runtime.h (test shim) — just enough of CUDA for the kernels' code to
 * run on the CPU in tests/test_cuda_emu.cpp: the qualifiers are empty, the
 * thread indices are thread-locals the emulator sets, a tile's lanes are
 * OS threads and __shfl_xor_sync exchanges values between them through a
 * barrier. And the host runtime calls of kernels/cuda_device.cuh, with
 * device memory in host memory: every resource is counted while live, and
 * the test can make the k-th fallible call fail or throw std::bad_alloc
 * (emu_rt). Found before the toolkit's header by include order; never used
 * by the real build.
 */
#ifndef ORBITSWEEP_CUDA_EMU_RUNTIME_H
#define ORBITSWEEP_CUDA_EMU_RUNTIME_H

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <thread>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __align__(n) alignas(n)
#define __launch_bounds__(...)
#define __shared__ /* a kernel's shared arrays: the emulated lane's own (threads use their own slots) */

struct dim3 {
    unsigned x = 0, y = 1, z = 1;
};
struct alignas(8) float2 {
    float x, y;
};
struct alignas(16) double2 {
    double x, y;
};

inline thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;

inline float2 __ldg(const float2 *p) { return *p; }
inline double2 __ldg(const double2 *p) { return *p; }

/* The lanes of one tile: a barrier and one exchange slot per lane. The
 * barrier spins and yields (a tile's lanes outnumber the cores). */
struct emu_tile {
    int width = 1;
    unsigned char slot[32][16];
    std::atomic<int> arrived{0};
    std::atomic<unsigned long> generation{0};

    void wait()
    {
        const unsigned long gen = generation.load(std::memory_order_acquire);
        if (arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == width) {
            arrived.store(0, std::memory_order_relaxed);
            generation.store(gen + 1, std::memory_order_release);
            return;
        }
        while (generation.load(std::memory_order_acquire) == gen) std::this_thread::yield();
    }
};
inline thread_local emu_tile *emu_this_tile;
inline thread_local unsigned long emu_shuffles; /* per lane, for the tests' bookkeeping */

/* The real thing's contract, checked: the mask names this lane and its
 * partner, the width is the tile's, the partner is inside the tile. */
template <typename V> V __shfl_xor_sync(unsigned mask, V v, int lane_mask, int width)
{
    static_assert(sizeof(V) <= 16, "shuffle of a large type");
    emu_tile *t = emu_this_tile;
    const unsigned lane = threadIdx.x & 31u, j = lane & (unsigned)(width - 1), partner = j ^ (unsigned)lane_mask;
    if (!t || width != t->width || !((mask >> lane) & 1u) || !((mask >> (lane ^ (unsigned)lane_mask)) & 1u) ||
        partner >= (unsigned)width || __builtin_popcount(mask) != width) {
        std::fprintf(stderr, "emulated __shfl_xor_sync: bad arguments (mask %08x, lane %u, xor %d, width %d)\n", mask,
                     lane, lane_mask, width);
        std::abort();
    }
    ++emu_shuffles;
    std::memcpy(t->slot[j], &v, sizeof v);
    t->wait();
    V r;
    std::memcpy(&r, t->slot[partner], sizeof r);
    t->wait();
    return r;
}

/* ---- the host runtime ---------------------------------------------------- */

enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
};
enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
};
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16 };
#define cudaStreamNonBlocking 0x01
struct CUstream_st {
    int flags;
};
struct CUevent_st {
    int unused;
};
typedef CUstream_st *cudaStream_t;
typedef CUevent_st *cudaEvent_t;

/* What the runtime holds, by kind, and the injection. A fallible call is
 * one that takes or uses a resource (setting the device, an attribute, a
 * create, an allocation, a copy, the memory info); releases and
 * synchronisations always succeed. Host-thread only. */
struct emu_runtime {
    enum kind { DEVICE_MEM, PINNED_MEM, STREAM, EVENT, KINDS };
    std::map<const void *, int> live;  /* resource -> kind */
    long calls = 0;                    /* fallible calls so far */
    long fail_at = -1;                 /* the call that fails (0-based), or -1 */
    bool throw_bad_alloc = false;      /* that call throws std::bad_alloc instead */
    std::string failed;                /* the name of the call that failed */
    cudaError_t last = cudaSuccess;    /* cudaGetLastError's */
    int sms = 132;
    size_t free_bytes = (size_t)100 << 30, total_bytes = (size_t)141 << 30;

    void reset()
    {
        calls = 0;
        fail_at = -1;
        throw_bad_alloc = false;
        failed.clear();
        last = cudaSuccess;
    }
    size_t count(int k) const
    {
        size_t c = 0;
        for (const auto &e : live) c += e.second == k;
        return c;
    }
    /* A fallible call begins: cudaSuccess, or the injected failure. */
    cudaError_t enter(const char *name)
    {
        if (calls++ != fail_at) return cudaSuccess;
        failed = name;
        if (throw_bad_alloc) throw std::bad_alloc();
        last = cudaErrorMemoryAllocation;
        return cudaErrorMemoryAllocation;
    }
    void take(const void *p, int k)
    {
        if (!live.emplace(p, k).second) std::abort();
    }
    /* Releases p of kind k: a pointer the runtime never gave, or gave as
     * another kind, is a bug of the caller's. */
    void give_back(const void *p, int k)
    {
        const auto it = live.find(p);
        if (it == live.end() || it->second != k) {
            std::fprintf(stderr, "emulated CUDA runtime: release of %p, not a live resource of kind %d\n", p, k);
            std::abort();
        }
        live.erase(it);
    }
};
inline emu_runtime emu_rt;

inline const char *cudaGetErrorName(cudaError_t e)
{
    return e == cudaSuccess ? "cudaSuccess" : e == cudaErrorMemoryAllocation ? "cudaErrorMemoryAllocation"
                                                                             : "cudaErrorInvalidValue";
}
inline const char *cudaGetErrorString(cudaError_t e)
{
    return e == cudaSuccess ? "no error" : e == cudaErrorMemoryAllocation ? "out of memory" : "invalid argument";
}
inline cudaError_t cudaGetLastError()
{
    const cudaError_t e = emu_rt.last;
    emu_rt.last = cudaSuccess;
    return e;
}
inline cudaError_t cudaSetDevice(int dev) { return dev < 0 ? cudaErrorInvalidValue : emu_rt.enter("cudaSetDevice"); }
inline cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr, int)
{
    const cudaError_t e = emu_rt.enter("cudaDeviceGetAttribute");
    if (e == cudaSuccess) *v = emu_rt.sms;
    return e;
}
inline cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b)
{
    const cudaError_t e = emu_rt.enter("cudaMemGetInfo");
    if (e == cudaSuccess) *free_b = emu_rt.free_bytes, *total_b = emu_rt.total_bytes;
    return e;
}
/* Streams and events: counted handles (emu_rt.take / give_back). */
template <class H>
inline cudaError_t emu_handle_create(const char *api, H **h, int flags, int kind)
{
    const cudaError_t e = emu_rt.enter(api);
    if (e != cudaSuccess) return e;
    *h = new H{flags};
    emu_rt.take(*h, kind);
    return e;
}
template <class H>
inline cudaError_t emu_handle_destroy(H *h, int kind)
{
    emu_rt.give_back(h, kind);
    delete h;
    return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
    return emu_handle_create("cudaStreamCreateWithFlags", s, (int)flags, emu_runtime::STREAM);
}
inline cudaError_t cudaStreamDestroy(cudaStream_t s) { return emu_handle_destroy(s, emu_runtime::STREAM); }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; } /* copies are synchronous */
inline cudaError_t cudaEventCreate(cudaEvent_t *ev) { return emu_handle_create("cudaEventCreate", ev, 0, emu_runtime::EVENT); }
inline cudaError_t cudaEventDestroy(cudaEvent_t ev) { return emu_handle_destroy(ev, emu_runtime::EVENT); }
/* Device and pinned memory: aligned host memory (the device's 256 bytes). */
inline void *emu_alloc(size_t bytes) { return std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256 * (bytes == 0)); }
/* An allocation of one kind (device or pinned memory), counted; its free. */
inline cudaError_t emu_mem_take(const char *call, emu_runtime::kind k, void **p, size_t bytes)
{
    const cudaError_t e = emu_rt.enter(call);
    if (e != cudaSuccess) return e;
    *p = emu_alloc(bytes);
    emu_rt.take(*p, k);
    return e;
}
inline cudaError_t emu_mem_give(void *p, emu_runtime::kind k)
{
    if (!p) return cudaSuccess;
    emu_rt.give_back(p, k);
    std::free(p);
    return cudaSuccess;
}
template <typename P> cudaError_t cudaMalloc(P **p, size_t bytes)
{
    return emu_mem_take("cudaMalloc", emu_runtime::DEVICE_MEM, (void **)p, bytes);
}
inline cudaError_t cudaFree(void *p) { return emu_mem_give(p, emu_runtime::DEVICE_MEM); }
template <typename P> cudaError_t cudaMallocHost(P **p, size_t bytes)
{
    return emu_mem_take("cudaMallocHost", emu_runtime::PINNED_MEM, (void **)p, bytes);
}
inline cudaError_t cudaFreeHost(void *p) { return emu_mem_give(p, emu_runtime::PINNED_MEM); }
inline cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind, cudaStream_t s)
{
    const cudaError_t e = emu_rt.enter("cudaMemcpyAsync");
    if (e != cudaSuccess) return e;
    if (!s || !emu_rt.live.count(s)) std::abort(); /* a copy on a stream that does not exist */
    if (bytes) std::memcpy(dst, src, bytes);
    return e;
}

#endif
