/* cuda_runtime.h (test shim) — just enough of CUDA for the kernels' code to
 * run on the CPU in tests/test_cuda_emu.cpp: the qualifiers are empty, the
 * thread indices are thread-locals the emulator sets, a tile's lanes are
 * OS threads and __shfl_xor_sync exchanges values between them through a
 * barrier. Found before the toolkit's header by include order; never used
 * by the real build.
 */
#ifndef ORBITSWEEP_CUDA_EMU_RUNTIME_H
#define ORBITSWEEP_CUDA_EMU_RUNTIME_H

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __align__(n) alignas(n)
#define __launch_bounds__(...)

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

#endif
