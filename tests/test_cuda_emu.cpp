// test_cuda_emu.cpp — the CUDA kernels' own code, run on the CPU (no GPU).
//
// kernels/cuda_train.cuh is compiled by the host compiler against a small
// shim of the CUDA runtime (tests/cuda_emu/cuda_runtime.h): every lane of
// an emulated grid runs the kernel function, a tile's lanes as OS threads
// whose __shfl_xor_sync meet at a barrier. Driven like kernels/
// cuda_backend.cu drives the GPU (the same host plan, cuda_plan.cuh: launch
// order, configurations, data, result rows), the results table must be
// byte-identical to os_cpu_run's; the device's resources are taken by
// cuda_device.cuh's cu_dev_acquire from the shim's host runtime (device
// memory in host memory), which can also fail any call: the error paths
// must release everything (CudaEmuErrors). This checks the kernels' logic — the
// mapping of batch positions to canonical partials, the butterfly, epochs
// and divergence, the grid-stride hand-over between trainings, the shared
// order table, the final loss — on every CI run. It cannot check what only
// a GPU shows (nvcc's arithmetic, launch shapes, memory): tests/
// test_cuda.cpp and os_gpu_selftest do that on a GPU.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

// The kernels' code goes into a namespace of its own: in a CUDA build the
// library also holds the real kernels' host stubs under the global names.
#include <cuda_runtime.h>  // the shim (tests/cuda_emu), before the toolkit's
#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "orbitsweep/backend.h"
#include "orbitsweep/shuffle.h"
#include "parity_grid.h"
#include "test_util.h"
namespace emu {
#include "cuda_device.cuh"  // and cuda_plan.cuh, cuda_train.cuh
}  // namespace emu

namespace {

using namespace emu;
using ostest::first_difference;
using ostest::set_list;
using ostest::table_of;
using ostest::write_dataset;

// Runs body on every lane of a grid of G blocks of B threads: tile after
// tile, the TL lanes of a tile side by side.
template <int TL, typename F> void emu_launch(unsigned G, unsigned B, F body)
{
    for (unsigned b = 0; b < G; ++b)
        for (unsigned t0 = 0; t0 < B; t0 += TL) {
            emu_tile tile;
            tile.width = TL;
            auto lane = [&, b, t0](unsigned j) {
                blockIdx.x = b;
                threadIdx.x = t0 + j;
                blockDim.x = B;
                gridDim.x = G;
                emu_this_tile = &tile;
                body();
            };
            if (TL == 1) {
                lane(0);
            } else {
                std::vector<std::thread> th;
                for (unsigned j = 0; j < (unsigned)TL; ++j) th.emplace_back(lane, j);
                for (std::thread &t : th) t.join();
            }
        }
}

struct EmuShape {
    unsigned grid, block;
    size_t chunk;
    bool table;  // precompute the shared orders (else derive them)
};

// The shared-order table's launch, as cu_device_run makes it (one fallible
// call of the emulated runtime: the injection can fail it too).
template <typename T> cudaError_t emu_table_launch(const cu_plan &pl, const cu_args<T> &a, cu_point<T> *table)
{
    if (emu_rt.enter("launch_table") != cudaSuccess) return cudaGetLastError();
    emu_launch<1>(3, 64,
                  [&] { cu_table_kernel<T>(table, a.data, pl.n, pl.max_ep, pl.reps, pl.sw->spec->seed, pl.single_data); });
    return cudaGetLastError();
}

// cu_device_run on the emulator: plan, the device's resources as
// cu_dev_acquire takes them from the emulated runtime (the uploads, the
// device scheduler tables, the shared-order table), chunks of a training
// launch and a final-loss launch through the job and result buffers,
// result rows; then every resource released. back: sw is a launch group
// (cu_groups) whose trial t is row back[t] of res (sized by the caller).
template <typename T, int TL>
void emu_run(const os_sweep *sw, std::vector<os_result> &res, const EmuShape &sh, const size_t *back = nullptr)
{
    cu_plan pl;
    os_error err;
    ASSERT_EQ(cu_plan_make(sw, &pl, &err), OS_OK) << err.msg;
    pl.back = back;
    if (!back) res.assign(sw->n_trials, os_result());
    const size_t chunk = std::min(sh.chunk, std::max<size_t>(sw->n_trials, 1)),
                 n_chunks = (sw->n_trials + chunk - 1) / chunk;
    emu_rt.reset();
    const size_t free_bytes = emu_rt.free_bytes;
    if (!sh.table) emu_rt.free_bytes = 0;  // no room for the table: orders derived on the fly
    {
        std::vector<os_sched> h_sched(sw->scheds, sw->scheds + sw->spec->n_scheds);
        cu_dev_res<T> r;
        cu_args<T> a;
        int sms = 0;
        const os_status st = cu_dev_acquire(pl, 0, chunk, n_chunks, h_sched, r, &a, &sms,
                                            [&] { return emu_table_launch<T>(pl, a, r.d_table); }, &err);
        emu_rt.free_bytes = free_bytes;
        ASSERT_EQ(st, OS_OK) << err.msg;
        ASSERT_EQ(pl.shuffle == OS_SHUFFLE_SHARED && sh.table, r.d_table != nullptr);
        const bool perm = pl.shuffle == OS_SHUFFLE_TRIAL || (pl.shuffle == OS_SHUFFLE_SHARED && !r.d_table);
        for (size_t k = 0; k < n_chunks; ++k) {
            const int b = (int)(k & 1);
            const size_t c0 = k * chunk, cnt = std::min(chunk, sw->n_trials - c0);
            std::memcpy(r.h_jobs[b], pl.jobs.data() + c0, cnt * sizeof(cu_job));
            ASSERT_EQ(cudaMemcpyAsync(r.d_jobs[b], r.h_jobs[b], cnt * sizeof(cu_job), cudaMemcpyHostToDevice, r.sc),
                      cudaSuccess);
            a.jobs = r.d_jobs[b];
            a.n_jobs = cnt;
            a.out = r.d_out[b];
            if (perm)
                emu_launch<TL>(sh.grid, sh.block, [&] { cu_train_kernel<T, TL, true>(a); });
            else
                emu_launch<TL>(sh.grid, sh.block, [&] { cu_train_kernel<T, TL, false>(a); });
            emu_launch<TL>(sh.grid, sh.block,
                           [&] { cu_loss_kernel<TL>(a.jobs, cnt, a.out, r.d_d64, pl.n, pl.single_data); });
            ASSERT_EQ(cudaMemcpyAsync(r.h_out, r.d_out[b], cnt * sizeof(os_result), cudaMemcpyDeviceToHost, r.sx),
                      cudaSuccess);
            cu_fill_results(pl, c0, cnt, r.h_out, res.data());
        }
    }
    EXPECT_TRUE(emu_rt.live.empty()) << emu_rt.live.size() << " resources left after the run";
    emu_rt.live.clear();  // reported once (ASan sees its memory)
}

// os_cuda_run on the emulator: the sweep's launch groups (cu_groups), each
// run as emu_run runs a sweep, in its dtype, into its rows of res.
template <int TL> void emu_run_groups(const os_sweep *sw, std::vector<os_result> &res, const EmuShape &sh)
{
    std::vector<cu_group> groups;
    cu_groups(sw, groups);
    res.assign(sw->n_trials, os_result());
    for (const cu_group &g : groups) {
        if (g.trials[0].dtype == OS_DTYPE_F32)
            emu_run<float, TL>(&g.sw, res, sh, g.index.data());
        else
            emu_run<double, TL>(&g.sw, res, sh, g.index.data());
    }
}

// The parity grid (tests/parity_grid.h, shared with kernels/gpu_selftest.c):
// every optimizer and scheduler, a diverging lr (30), fully masked (Wa
// 0.001) and nearly masked (0.003) starts, short last batches, 2 seeds;
// here with 512 points and batches of 512 too, or small: 128 points and
// fewer lrs, epochs and starts.
void grid_spec(os_spec *s, int dtype, int shuffle, bool small)
{
    os_error err;
    ASSERT_EQ(os_parity_grid(s, dtype, shuffle, small, &err), OS_OK) << err.msg;
    if (!small) set_list(s, OS_AX_BATCH_SIZE, "32,48,512");
    os_spec_set_one(s, OS_AX_N, small ? 128 : 512, NULL);
}

struct EmuCase {
    int dtype, shuffle;
};

// "float32_shared": the test name's suffix, and how ctest shows the parameter.
std::string dtype_shuffle(const EmuCase &c) { return os_parity_label(c.dtype, c.shuffle); }

void PrintTo(const EmuCase &c, std::ostream *os) { *os << dtype_shuffle(c); }

std::string case_name(const ::testing::TestParamInfo<EmuCase> &i) { return dtype_shuffle(i.param); }

// The CPU's table and the emulated kernels' for one spec and shape.
template <int TL> void expect_same(os_spec *s, const EmuShape &sh)
{
    os_sweep sw;
    os_error err;
    ASSERT_EQ(os_sweep_plan(s, &sw, &err), OS_OK) << err.msg;
    std::vector<os_result> cpu(sw.n_trials), emu;
    ASSERT_EQ(os_cpu_run(&sw, cpu.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
    if (s->axis[OS_AX_DTYPE].v[0] == OS_DTYPE_F32)
        emu_run<float, TL>(&sw, emu, sh);
    else
        emu_run<double, TL>(&sw, emu, sh);
    const std::string a = table_of(&sw, cpu), b = table_of(&sw, emu);
    EXPECT_TRUE(a == b) << "tile " << TL << ", grid " << sh.grid << "x" << sh.block << ", chunk " << sh.chunk << ", "
                        << sw.n_trials << " trainings: first difference at "
                        << first_difference(a, b, "cpu", "emu");
    os_sweep_free(&sw);
}

class CudaEmu : public ::testing::TestWithParam<EmuCase> {};

// Thread per training (tile 1) over the full grid, in one launch with
// every training its own lane, and with few lanes, in chunks, so that lanes
// hand over from training to training mid-warp.
TEST_P(CudaEmu, Tile1MatchesTheCpu)
{
    os_spec s;
    grid_spec(&s, GetParam().dtype, GetParam().shuffle, false);
    expect_same<1>(&s, EmuShape{64, 64, 1u << 22, true});
    expect_same<1>(&s, EmuShape{1, 32, 997, true});
    if (GetParam().shuffle == OS_SHUFFLE_SHARED) expect_same<1>(&s, EmuShape{2, 32, 1u << 22, false});
    os_spec_free(&s);
}

// Tiles of 2, 4 and 8 lanes (the butterfly, the lanes' partials): each
// case one tile size, each size in both dtypes. A tile's lanes are threads
// meeting at every shuffle, so the grid is small: 64 points, batches of 24
// and 40 (short last batches), 2 epochs.
TEST_P(CudaEmu, WideTilesMatchTheCpu)
{
    os_spec s;
    grid_spec(&s, GetParam().dtype, GetParam().shuffle, true);
    set_list(&s, OS_AX_BATCH_SIZE, "24,40");
    set_list(&s, OS_AX_EPOCHS, "2");
    os_spec_set_one(&s, OS_AX_N, 64, NULL);
    const int which = (GetParam().dtype * 3 + GetParam().shuffle) % 3;
    if (which == 0) expect_same<2>(&s, EmuShape{2, 64, 1u << 22, true});
    if (which == 1) expect_same<4>(&s, EmuShape{1, 64, 101, true});
    if (which == 2) expect_same<8>(&s, EmuShape{2, 32, 1u << 22, GetParam().shuffle != OS_SHUFFLE_SHARED});
    os_spec_free(&s);
}

INSTANTIATE_TEST_SUITE_P(cuda, CudaEmu,
                         ::testing::Values(EmuCase{OS_DTYPE_F32, OS_SHUFFLE_SHARED}, EmuCase{OS_DTYPE_F32, OS_SHUFFLE_TRIAL},
                                           EmuCase{OS_DTYPE_F32, OS_SHUFFLE_NONE}, EmuCase{OS_DTYPE_F64, OS_SHUFFLE_SHARED},
                                           EmuCase{OS_DTYPE_F64, OS_SHUFFLE_TRIAL}, EmuCase{OS_DTYPE_F64, OS_SHUFFLE_NONE}),
                         case_name);

// Per-epoch schedulers, weight decay, dampening, an odd dataset size (the
// bijection walks cycles), batches larger than the data.
TEST(CudaEmuMore, PerEpochSchedulersWeightDecayOddSize)
{
    os_spec s;
    grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_TRIAL, true);
    set_list(&s, OS_AX_OPTIMIZER, "sgd,momentum,rmsprop,adam");  // every optimizer but nesterov, which takes no dampening
    os_spec_set_one(&s, OS_AX_SCHED_STEP, 1, NULL);
    set_list(&s, OS_AX_WEIGHT_DECAY, "0,0.01");
    set_list(&s, OS_AX_DAMPENING, "0,0.1");
    set_list(&s, OS_AX_BATCH_SIZE, "7,48,200");
    os_spec_set_one(&s, OS_AX_N, 101, NULL);
    expect_same<1>(&s, EmuShape{4, 32, 1u << 22, true});
    set_list(&s, OS_AX_LR, "0.05");
    set_list(&s, OS_AX_BATCH_SIZE, "48,200");
    expect_same<8>(&s, EmuShape{1, 32, 1u << 22, true});
    os_spec_set_one(&s, OS_AX_SHUFFLE, OS_SHUFFLE_SHARED, NULL);
    os_spec_set_one(&s, OS_AX_DTYPE, OS_DTYPE_F64, NULL);
    expect_same<2>(&s, EmuShape{1, 64, 1u << 22, true});
    os_spec_free(&s);
}

// The catalogue's options, every one away from its default: amsgrad and
// centered both ways, RMSprop's momentum (with centered: all three state
// pairs), L2 and decoupled weight decay, Adagrad's lr decay and starting
// sum, NAdam's momentum decay, Adadelta's rho; both dtypes, tiles 1 and 4.
TEST(CudaEmuMore, CatalogueOptions)
{
    for (int dtype : {OS_DTYPE_F32, OS_DTYPE_F64}) {
        SCOPED_TRACE(dtype == OS_DTYPE_F32 ? "float32" : "float64");
        os_spec s;
        grid_spec(&s, dtype, OS_SHUFFLE_TRIAL, true);
        set_list(&s, OS_AX_LR, "0.003,0.05");
        set_list(&s, OS_AX_AMSGRAD, "false,true");
        set_list(&s, OS_AX_CENTERED, "false,true");
        set_list(&s, OS_AX_MOMENTUM, "0.5");
        set_list(&s, OS_AX_WEIGHT_DECAY, "0,0.01");
        set_list(&s, OS_AX_LR_DECAY, "0.01");
        set_list(&s, OS_AX_INITIAL_ACCUMULATOR_VALUE, "0.1");
        set_list(&s, OS_AX_MOMENTUM_DECAY, "0.1");
        set_list(&s, OS_AX_RHO, "0.5");
        set_list(&s, OS_AX_INIT_WA, "0.1,1");
        set_list(&s, OS_AX_EPOCHS, "3");
        os_spec_set_one(&s, OS_AX_N, 101, NULL);
        expect_same<1>(&s, EmuShape{4, 32, 1u << 22, true});
        set_list(&s, OS_AX_BATCH_SIZE, "48");
        expect_same<4>(&s, EmuShape{1, 64, 1u << 22, true});
        os_spec_free(&s);
    }
}

// The scheduler catalogue (tests/parity_grid.h): every scheduler, cycled
// momentum and beta1, plateau on the epoch loss, composites and a table
// file, in both dtypes, stepped per update and per epoch: the emulated
// kernels' table is the CPU's, byte for byte (tile 1 and tile 4).
TEST(CudaEmuCatalogue, EverySchedulerBothDtypesBothSteppings)
{
    const std::string table = ::testing::TempDir() + "emu_sched_table.csv";
    FILE *f = fopen(table.c_str(), "w");
    ASSERT_TRUE(f);
    fputs("factor\n0.1\n0.4\n0.7\n1\n0.9\n0.81\n0.729\n", f);
    fclose(f);
    for (int dtype : {OS_DTYPE_F32, OS_DTYPE_F64})
        for (int per_epoch : {0, 1}) {
            SCOPED_TRACE(std::string(dtype == OS_DTYPE_F32 ? "float32" : "float64") +
                         (per_epoch ? ", per epoch" : ", per update"));
            os_spec s;
            os_error err;
            ASSERT_EQ(os_parity_catalogue(&s, dtype, per_epoch, table.c_str(), &err), OS_OK) << err.msg;
            expect_same<1>(&s, EmuShape{8, 32, 1u << 22, true});
            if (!per_epoch) expect_same<4>(&s, EmuShape{2, 64, 1u << 22, true});
            os_spec_free(&s);
        }
}

// ---- the split across GPUs (cu_split, cu_plan_split) -----------------------

// Every cut list a split returns: from 0 to nt, never decreasing; no empty
// slice while there are at least as many trainings as GPUs; with more GPUs
// than trainings, one training each on the first nt.
void expect_valid_split(const std::vector<size_t> &cut, size_t nt, int nd)
{
    ASSERT_EQ(cut.size(), (size_t)nd + 1);
    EXPECT_EQ(cut[0], 0u);
    EXPECT_EQ(cut[nd], nt);
    size_t busy = 0;
    for (int d = 0; d < nd; ++d) {
        EXPECT_LE(cut[d], cut[d + 1]) << "GPU " << d;
        busy += cut[d + 1] > cut[d];
    }
    EXPECT_EQ(busy, std::min(nt, (size_t)nd)) << nt << " trainings on " << nd << " GPUs";
}

TEST(CudaSplit, NoEmptySliceWhileTrainingsLast)
{
    // the reading's case: epochs {1, 100} on 2 GPUs used to give [0, 2, 2]
    const double ep[] = {1, 100};
    auto w = [&](size_t k) { return ep[k]; };
    EXPECT_EQ(cu_split(2, 2, w), (std::vector<size_t>{0, 1, 2}));
    const double ep3[] = {100, 1, 1};
    EXPECT_EQ(cu_split(3, 3, [&](size_t k) { return ep3[k]; }), (std::vector<size_t>{0, 1, 2, 3}));
    // equal work: equal slices
    auto one = [](size_t) { return 1.0; };
    EXPECT_EQ(cu_split(100, 4, one), (std::vector<size_t>{0, 25, 50, 75, 100}));
    EXPECT_EQ(cu_split(7, 1, one), (std::vector<size_t>{0, 7}));
    // heavy work at the end: the early GPUs take more trainings
    const std::vector<size_t> c = cu_split(10, 2, [](size_t k) { return k == 9 ? 9.0 : 1.0; });
    EXPECT_EQ(c, (std::vector<size_t>{0, 9, 10}));
}

TEST(CudaSplit, MoreGpusThanTrainings)
{
    auto one = [](size_t) { return 1.0; };
    for (size_t nt : {0, 1, 2, 3})
        for (int nd : {2, 3, 4, 8, OS_MAX_DEVICES}) expect_valid_split(cu_split(nt, nd, one), nt, nd);
    EXPECT_EQ(cu_split(2, 4, one), (std::vector<size_t>{0, 1, 2, 2, 2}));
    EXPECT_EQ(cu_split(0, 2, one), (std::vector<size_t>{0, 0, 0}));
}

TEST(CudaSplit, RandomWorkAlwaysValid)
{
    uint64_t x = 88172645463325252ull;
    auto rnd = [&]() {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return x;
    };
    for (int rep = 0; rep < 3000; ++rep) {
        const size_t nt = rnd() % 40;
        const int nd = 1 + (int)(rnd() % 10);
        std::vector<double> w(nt);
        for (double &v : w) v = rnd() % 4 == 0 ? 1e5 : (double)(1 + rnd() % 100);  // mostly small, some huge
        const std::vector<size_t> cut = cu_split(nt, nd, [&](size_t k) { return w[k]; });
        ASSERT_NO_FATAL_FAILURE(expect_valid_split(cut, nt, nd));
        // and cu_device_run's chunking of every slice starts no empty launch
        for (int d = 0; d < nd; ++d) {
            const size_t m = cut[d + 1] - cut[d];
            if (m == 0) continue;
            const size_t chunk = std::min(m, std::max<size_t>(1, 37));
            ASSERT_GE(chunk, 1u);
        }
    }
}

// The plan's own split: by each training's epochs, in launch order.
TEST(CudaSplit, ThePlansSplit)
{
    os_spec s;
    ASSERT_EQ(os_spec_init(&s), OS_OK);
    set_list(&s, OS_AX_EPOCHS, "1,100");
    os_spec_set_one(&s, OS_AX_N, 64, NULL);
    os_sweep sw;
    os_error err;
    ASSERT_EQ(os_sweep_plan(&s, &sw, &err), OS_OK) << err.msg;
    cu_plan pl;
    ASSERT_EQ(cu_plan_make(&sw, &pl, &err), OS_OK) << err.msg;
    ASSERT_EQ(pl.jobs.size(), 2u);
    EXPECT_EQ(cu_plan_split(pl, 2), (std::vector<size_t>{0, 1, 2}));
    expect_valid_split(cu_plan_split(pl, 5), 2, 5);
    os_sweep_free(&sw);
    os_spec_free(&s);
}

// ---- launch shapes and the grid cap (--max-blocks) --------------------------

TEST(CudaShape, GridCapAndRounds)
{
    // 1M trainings at tile 1 on 132 SMs, 2 blocks of 256 per SM: 264 blocks
    // in rounds; the cap lowers the grid, never below 1
    cu_shape sh = cu_grid_for(1000000, 1, 132, cu_block_for(1000000, 1, 132), 2, 0);
    EXPECT_EQ(sh.block, 256);
    EXPECT_LE(sh.grid, 264);
    EXPECT_GE((size_t)sh.grid * sh.block * 16, 1000000u / 16);
    sh = cu_grid_for(1000000, 1, 132, 256, 2, 7);
    EXPECT_EQ(sh.grid, 7);
    // few trainings: blocks halve to 64, one block each
    EXPECT_EQ(cu_block_for(10, 8, 132), 64);
    sh = cu_grid_for(10, 8, 132, 64, 8, 0);
    EXPECT_EQ(sh.grid, 2);
    EXPECT_EQ(cu_grid_for(10, 8, 132, 64, 8, 1).grid, 1);
    EXPECT_EQ(cu_grid_for(1, 1, 1, 64, 0, 0).grid, 1);
}

// The hand-over, as the GPU runs it under --max-blocks 1: one block, so
// every tile of every size trains several trainings in turn, some of its
// lanes' trainings ending (epochs 1 or 3, a diverging lr) while others
// run on. Each tile size over every dtype and shuffle mode.
TEST(CudaEmuHandOver, CappedGridAtEveryTile)
{
    for (int dtype : {OS_DTYPE_F32, OS_DTYPE_F64})
        for (int shuffle : {OS_SHUFFLE_SHARED, OS_SHUFFLE_TRIAL, OS_SHUFFLE_NONE}) {
            os_spec s;
            grid_spec(&s, dtype, shuffle, true);
            // the hand-over does not depend on the optimizer (CudaEmu runs the catalogue):
            // the case study's five keep these threaded runs short
            set_list(&s, OS_AX_OPTIMIZER, "sgd,momentum,nesterov,rmsprop,adam");
            set_list(&s, OS_AX_BATCH_SIZE, "24,40");
            set_list(&s, OS_AX_EPOCHS, "1,3");
            os_spec_set_one(&s, OS_AX_N, 64, NULL);
            s.max_blocks = 1;
            os_sweep sw;
            os_error err;
            ASSERT_EQ(os_sweep_plan(&s, &sw, &err), OS_OK) << err.msg;
            const size_t count = sw.n_trials;
            os_sweep_free(&sw);
            auto shape = [&](int tile) {
                const cu_shape sh = cu_grid_for(count, tile, 132, cu_block_for(count, tile, 132), 2, s.max_blocks);
                EXPECT_EQ(sh.grid, 1);
                EXPECT_GT(count, (size_t)sh.grid * sh.block / tile) << "tile " << tile << ": no hand-over";
                return EmuShape{(unsigned)sh.grid, (unsigned)sh.block, 1u << 22, true};
            };
            // the wide tiles are OS threads meeting at every shuffle: one tile size per case
            const int which = (dtype * 3 + shuffle) % 3;
            expect_same<1>(&s, shape(1));
            if (which == 0) expect_same<2>(&s, shape(2));
            if (which == 1) expect_same<4>(&s, shape(4));
            if (which == 2) expect_same<8>(&s, shape(8));
            if (dtype == OS_DTYPE_F32 && shuffle == OS_SHUFFLE_SHARED) {
                EmuShape sh = shape(8);
                sh.table = false;  // the shared orders derived on the fly
                expect_same<8>(&s, sh);
            }
            os_spec_free(&s);
        }
}

// A --data file: one dataset for every seed, each seed its own orders.
// A grid over the settings that are axes: float32 and float64, shuffle
// modes, scheduler stepping, two dataset sizes and noise levels, two
// targets (launch groups, each its datasets), in prepared sweeps' blocks
// that start mid-group: the CPU's table, at tiles 1 and 4.
TEST(CudaEmuMore, MixedDtypeNoiseSizeStepping)
{
    os_spec s;
    os_error err;
    grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_SHARED, true);
    set_list(&s, OS_AX_OPTIMIZER, "sgd,adam,rmsprop");
    set_list(&s, OS_AX_SCHEDULER, "cosine:t_max=7,eta_min=0.001");
    ASSERT_EQ(os_spec_set_axis(&s, OS_AX_SCHEDULER, "step:step_size=2,gamma=0.5", 0, &err), OS_OK) << err.msg;
    set_list(&s, OS_AX_LR, "0.01,0.2");
    set_list(&s, OS_AX_INIT_WA, "0.1");
    set_list(&s, OS_AX_BATCH_SIZE, "24,40");
    set_list(&s, OS_AX_EPOCHS, "2");
    set_list(&s, OS_AX_DTYPE, "float32,float64");
    set_list(&s, OS_AX_SHUFFLE, "shared,trial,none");
    set_list(&s, OS_AX_SCHED_STEP, "update,epoch");
    set_list(&s, OS_AX_N, "48,64");
    set_list(&s, OS_AX_NOISE, "0,0.05");
    set_list(&s, OS_AX_TARGET, "0.01,0.3");
    os_sweep sw;
    ASSERT_EQ(os_sweep_prepare(&s, &sw, &err), OS_OK) << err.msg;
    EXPECT_EQ(sw.n_data, 4u * (size_t)s.seeds) << "one dataset per (n, noise) and seed";
    for (size_t first = 0; first < sw.n_trials; first += 700) {  // blocks of 700 straddle the groups
        os_sweep blk;
        ASSERT_EQ(os_sweep_block(&sw, first, std::min<size_t>(700, sw.n_trials - first), &blk, &err), OS_OK);
        std::vector<os_result> cpu(blk.n_trials), emu1, emu4;
        ASSERT_EQ(os_cpu_run(&blk, cpu.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
        emu_run_groups<1>(&blk, emu1, EmuShape{2, 64, 1u << 22, true});
        const std::string a = table_of(&blk, cpu), b = table_of(&blk, emu1);
        EXPECT_TRUE(a == b) << "block at " << first << ": first difference at " << first_difference(a, b, "cpu", "emu");
        if (first == 0) {
            emu_run_groups<4>(&blk, emu4, EmuShape{1, 64, 97, false});
            const std::string c = table_of(&blk, emu4);
            EXPECT_TRUE(a == c) << "tile 4: first difference at " << first_difference(a, c, "cpu", "emu");
        }
        os_sweep_free(&blk);
    }
    os_sweep_free(&sw);
    os_spec_free(&s);
}

TEST(CudaEmuMore, DataFile)
{
    char path[] = "/tmp/os_test_cuda_emu_XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    ASSERT_NO_FATAL_FAILURE(write_dataset(path, 90));
    for (int shuffle : {OS_SHUFFLE_SHARED, OS_SHUFFLE_TRIAL}) {
        os_spec s;
        grid_spec(&s, OS_DTYPE_F32, shuffle, true);
        s.data_file = strdup(path);
        expect_same<1>(&s, EmuShape{2, 32, 1u << 22, true});
        set_list(&s, OS_AX_BATCH_SIZE, "32");
        expect_same<4>(&s, EmuShape{1, 32, 1u << 22, true});
        os_spec_free(&s);
    }
    unlink(path);
}


// ---- error paths: a device run's resources under injected failures --------

// One cu_dev_acquire on the emulated runtime, its call number fail_at
// failing (-1: none) or throwing std::bad_alloc; what it returned and held,
// and what was left after its cu_dev_res went out of scope.
struct Acquired {
    os_status st = OS_OK;
    std::string msg, failed;  // the message, the name of the call that failed
    bool threw = false, table = false, cos = false;
    size_t held = 0, left = 0;
    long calls = 0;
};

template <typename T> Acquired acquire_once(const cu_plan &pl, size_t chunk, size_t n_chunks, long fail_at, bool bad_alloc)
{
    Acquired out;
    emu_rt.reset();
    emu_rt.fail_at = fail_at;
    emu_rt.throw_bad_alloc = bad_alloc;
    try {
        std::vector<os_sched> h_sched(pl.sw->scheds, pl.sw->scheds + pl.sw->spec->n_scheds);
        cu_dev_res<T> r;
        cu_args<T> a;
        int sms = 0;
        os_error err;
        err.msg[0] = 0;
        out.st = cu_dev_acquire(pl, 0, chunk, n_chunks, h_sched, r, &a, &sms,
                                [&] { return emu_table_launch<T>(pl, a, r.d_table); }, &err);
        out.msg = err.msg;
        out.table = r.d_table != nullptr;
        for (double *p : r.d_cos) out.cos = out.cos || p;
        out.held = emu_rt.live.size();
    } catch (const std::bad_alloc &) {
        out.threw = true;
    }
    out.calls = emu_rt.calls;
    out.failed = emu_rt.failed;
    out.left = emu_rt.live.size();
    emu_rt.reset();
    emu_rt.live.clear();  // a leak is reported once, by the caller (ASan sees its memory)
    return out;
}

// Every fallible call of a device run's acquisition fails in turn (k = 0,
// 1, ...): cu_dev_acquire returns OS_ERUNTIME with a message naming that
// call, and once its cu_dev_res is gone nothing is held — or, for the
// shared-order table's cudaMalloc, it falls back to deriving the orders
// and holds everything else. Then the same calls throw std::bad_alloc
// midway: the exception leaves with nothing held. ASan (scripts/
// sanitize.sh) checks that the emulated device memory is freed as well.
template <typename T> void expect_clean_failures(int dtype, int shuffle)
{
    os_spec s;
    grid_spec(&s, dtype, shuffle, true);
    os_sweep sw;
    os_error err;
    ASSERT_EQ(os_sweep_plan(&s, &sw, &err), OS_OK) << err.msg;
    cu_plan pl;
    ASSERT_EQ(cu_plan_make(&sw, &pl, &err), OS_OK) << err.msg;
    const size_t chunk = (sw.n_trials + 2) / 3, n_chunks = 3;  // both job and result buffers
    const Acquired ok = acquire_once<T>(pl, chunk, n_chunks, -1, false);
    ASSERT_EQ(ok.st, OS_OK) << ok.msg;
    EXPECT_TRUE(ok.cos) << "the grid has a cosine scheduler: its table is a resource too";
    EXPECT_EQ(ok.table, shuffle == OS_SHUFFLE_SHARED);
    // 2 streams, 4 events, 4 tables + data (+ float32 data) (+ cosine) (+ order table), 4 buffers, 3 pinned
    EXPECT_GE(ok.held, 2u + 4 + 4 + 4 + 3);
    EXPECT_EQ(ok.left, 0u);
    ASSERT_GT(ok.calls, 10);
    for (long k = 0; k < ok.calls; ++k) {
        const Acquired f = acquire_once<T>(pl, chunk, n_chunks, k, false);
        EXPECT_EQ(f.left, 0u) << "call " << k << ": " << f.left << " resources left after failing";
        EXPECT_FALSE(f.threw);
        if (f.st == OS_OK) {  // only the order table's allocation may fail quietly
            EXPECT_TRUE(ok.table && !f.table) << "call " << k << " failed, yet cu_dev_acquire succeeded";
            EXPECT_EQ(f.held, ok.held - 1) << "call " << k;
            continue;
        }
        EXPECT_EQ(f.st, OS_ERUNTIME) << "call " << k;
        EXPECT_EQ(f.calls, k + 1) << "call " << k << ": calls went on after the failure";
        EXPECT_NE(f.msg.find("CUDA error at kernels/cuda_device.cuh:"), std::string::npos) << f.msg;
        EXPECT_NE(f.msg.find(" (cudaErrorMemoryAllocation)"), std::string::npos) << f.msg;
        EXPECT_NE(f.msg.find(" in " + f.failed + "("), std::string::npos) << "call " << k << " (" << f.failed
                                                                          << ") is not named: " << f.msg;
    }
    for (long k = 0; k < ok.calls; ++k) {
        const Acquired f = acquire_once<T>(pl, chunk, n_chunks, k, true);
        EXPECT_TRUE(f.threw) << "call " << k;
        EXPECT_FALSE(f.failed.empty()) << "call " << k;
        EXPECT_EQ(f.left, 0u) << "call " << k << ": " << f.left << " resources left after std::bad_alloc";
    }
    os_sweep_free(&sw);
    os_spec_free(&s);
}

TEST(CudaEmuErrors, EveryAcquisitionFailsCleanly)
{
    expect_clean_failures<float>(OS_DTYPE_F32, OS_SHUFFLE_SHARED);
    expect_clean_failures<double>(OS_DTYPE_F64, OS_SHUFFLE_SHARED);
    expect_clean_failures<float>(OS_DTYPE_F32, OS_SHUFFLE_TRIAL);
}

}  // namespace
