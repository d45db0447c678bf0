// test_cuda.cpp — the CUDA backend (kernels/) against the CPU reference.
//  * on a GPU: the results table of os_cuda_run is byte-identical to
//    os_cpu_run's over a grid with every optimizer, scheduler, shuffle mode
//    and dtype, diverging and fully masked trainings, for every tile size,
//    in chunks, with shared orders derived on the fly, on a --data file, and
//    twice in a row; Philox and batch orders on the device equal the
//    known-answer vectors and the host port; the CLI's auto backend picks
//    the GPU and says so.
//  * without a usable GPU (CI) those tests skip, and the no-GPU behaviour is
//    checked instead: --backend cuda exits 1 with a clear message, auto runs
//    on the CPU and says why, `devices` lists the CPU.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "cuda_selftest.h"
#include "orbitsweep/backend.h"
#include "orbitsweep/shuffle.h"
#include "parity_grid.h"
#include "test_util.h"

namespace {

using namespace ostest;

// ---------------------------------------------------------------------------
// helpers (ostest: set_list, table_of, first_difference, running the CLI)

// Whether a GPU is usable; why not in *why.
bool have_gpu(std::string *why)
{
    os_spec s;
    os_spec_init(&s);
    int bad = 0;
    os_error e;
    const int n = os_cuda_select(&s, nullptr, &bad, &e);
    os_spec_free(&s);
    if (n == 0 && why) *why = e.msg;
    return n > 0;
}

#define REQUIRE_GPU()                                                                              \
    do {                                                                                           \
        std::string why_;                                                                          \
        if (!have_gpu(&why_)) GTEST_SKIP() << "no usable GPU: " << why_;                           \
    } while (0)

// The parity grid (tests/parity_grid.h, shared with kernels/gpu_selftest.c):
// every optimizer and scheduler, a diverging lr (30), a fully masked start
// (Wa 0.001: every point masked) and a nearly masked one (0.003), batch sizes
// with short last batches, 2 seeds.
void grid_spec(os_spec *s, int dtype, int shuffle)
{
    os_error err;
    ASSERT_EQ(os_parity_grid(s, dtype, shuffle, 0, &err), OS_OK) << err.msg;
}

// A planned sweep with its CPU table.
struct Planned {
    os_sweep sw;
    std::string cpu;
    bool ok = false;
    explicit Planned(os_spec *s)
    {
        os_error err;
        if (os_sweep_plan(s, &sw, &err) != OS_OK) {
            ADD_FAILURE() << err.msg;
            return;
        }
        std::vector<os_result> res(sw.n_trials);
        if (os_cpu_run(&sw, res.data(), nullptr, nullptr, &err) != OS_OK) {
            ADD_FAILURE() << err.msg;
            return;
        }
        cpu = table_of(&sw, res);
        ok = true;
    }
    ~Planned()
    {
        if (ok) os_sweep_free(&sw);
    }
    std::string gpu(int tile)
    {
        ((os_spec *)sw.spec)->tile = tile;
        std::vector<os_result> res(sw.n_trials);
        os_error err;
        const os_status st = os_cuda_run(&sw, res.data(), nullptr, nullptr, &err);
        EXPECT_EQ(st, OS_OK) << err.msg;
        return st == OS_OK ? table_of(&sw, res) : "";
    }
};

void expect_parity(os_spec *s, std::initializer_list<int> tiles)
{
    Planned p(s);
    ASSERT_TRUE(p.ok);
    for (int tile : tiles) {
        const std::string g = p.gpu(tile);
        EXPECT_TRUE(g == p.cpu) << "tile " << tile << ", " << p.sw.n_trials << " trainings: first difference at "
                                << first_difference(p.cpu, g, "cpu", "gpu");
    }
}

// Runs the CLI in dir with args (words separated by spaces); exit status,
// stdout and stderr (captured in dir/stdout and dir/stderr).
Proc run_cli(const std::string &args, const std::string &dir)
{
    std::vector<std::string> words;
    std::istringstream in(args);
    for (std::string w; in >> w;) words.push_back(w);
    return run_program(words, dir, dir);
}

// A temporary directory for one test.
struct CudaTempDir : TempDir {
    CudaTempDir() : TempDir("/tmp/os_test_cuda_XXXXXX") {}
};

// ---------------------------------------------------------------------------
// 1. Philox and batch orders on the device

struct PhiloxCase {
    uint64_t seed, sub, off;
    std::vector<uint32_t> want;
};

TEST(CudaPhilox, DeviceWordsMatchKnownAnswersAndHostPort)
{
    REQUIRE_GPU();
    const std::vector<PhiloxCase> cases = {
        {0, 0, 0, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8, 0xf8e4cca4, 0x5cb200db}},
        {1234, 5, 7, {0x72c26332, 0x26a9bd1b, 0xd88ecb0d, 0x088f2111, 0xd1e85602, 0xc19c9fa2}},
        {0, 0, 4ull * 0xFFFFFFFFull - 2, {}},  // the counter carries into its second word
        {~0ull, ~0ull, ~0ull - 70, {}},
        {42, OS_STREAM_TRIAL_ORDER(0x123456789abcdefull), 13, {}},
    };
    for (const PhiloxCase &c : cases) {
        SCOPED_TRACE("curand_init(" + std::to_string(c.seed) + ", " + std::to_string(c.sub) + ", " +
                     std::to_string(c.off) + ")");
        std::vector<uint32_t> cur(64), port(64), host(64);
        float uc, up;
        os_error err;
        ASSERT_EQ(os_cuda_test_philox(0, c.seed, c.sub, c.off, 64, cur.data(), port.data(), &uc, &up, &err), OS_OK)
            << err.msg;
        os_philox s;
        os_philox_init(&s, c.seed, c.sub, c.off);
        for (uint32_t &w : host) w = os_philox_next(&s);
        os_philox_init(&s, c.seed, c.sub, c.off);
        const float uh = os_philox_uniform(&s);
        for (size_t i = 0; i < c.want.size(); ++i) EXPECT_EQ(cur[i], c.want[i]) << "cuRAND word " << i;
        EXPECT_EQ(cur, port) << "our port on the device differs from cuRAND's device API";
        EXPECT_EQ(cur, host) << "the host port differs from cuRAND's device API";
        EXPECT_EQ(std::memcmp(&uc, &up, 4), 0);
        EXPECT_EQ(std::memcmp(&uc, &uh, 4), 0);
    }
    uint32_t w, bits_c, bits_p;
    float uc, up;
    os_error err;
    ASSERT_EQ(os_cuda_test_philox(0, 0, 0, 0, 1, &w, &w, &uc, &up, &err), OS_OK) << err.msg;
    std::memcpy(&bits_c, &uc, 4);
    std::memcpy(&bits_p, &up, 4);
    EXPECT_EQ(bits_c, 0x3ecc4fd2u) << "first curand_uniform of curand_init(0,0,0)";
    EXPECT_EQ(bits_p, 0x3ecc4fd2u) << "first os_philox_uniform on the device";
}

TEST(CudaPhilox, BatchOrdersOnDeviceMatchHost)
{
    REQUIRE_GPU();
    for (uint32_t n : {512u, 300u, 2u, 1000u, 4096u}) {
        for (uint32_t e : {0u, 1u, 99u}) {
            std::vector<uint32_t> d(n);
            os_error err;
            const uint64_t stream = e == 99 ? OS_STREAM_TRIAL_ORDER(0xfeedbeefull) : OS_STREAM_SHARED_ORDER;
            ASSERT_EQ(os_cuda_test_perm(0, 17, stream, e, n, d.data(), &err), OS_OK) << err.msg;
            os_perm p;
            os_perm_init(&p, 17, stream, e, n);
            for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(d[i], os_perm_at(&p, i)) << "n " << n << " epoch " << e;
        }
    }
}

// ---------------------------------------------------------------------------
// 2. parity: GPU tables byte-identical to the CPU's

struct ParityCase {
    int dtype, shuffle;
};

// "float32_shared": the test name's suffix, and how ctest shows the parameter.
std::string dtype_shuffle(const ParityCase &c) { return os_parity_label(c.dtype, c.shuffle); }

void PrintTo(const ParityCase &c, std::ostream *os) { *os << dtype_shuffle(c); }

class CudaParity : public ::testing::TestWithParam<ParityCase> {};

std::string parity_name(const ::testing::TestParamInfo<ParityCase> &i) { return dtype_shuffle(i.param); }

TEST_P(CudaParity, EveryTileSizeGivesTheCpuTable)
{
    REQUIRE_GPU();
    os_spec s;
    grid_spec(&s, GetParam().dtype, GetParam().shuffle);
    expect_parity(&s, {1, 2, 4, 8, 0});
    os_spec_free(&s);
}

INSTANTIATE_TEST_SUITE_P(cuda, CudaParity,
                         ::testing::Values(ParityCase{OS_DTYPE_F32, OS_SHUFFLE_SHARED},
                                           ParityCase{OS_DTYPE_F32, OS_SHUFFLE_TRIAL},
                                           ParityCase{OS_DTYPE_F32, OS_SHUFFLE_NONE},
                                           ParityCase{OS_DTYPE_F64, OS_SHUFFLE_SHARED},
                                           ParityCase{OS_DTYPE_F64, OS_SHUFFLE_TRIAL},
                                           ParityCase{OS_DTYPE_F64, OS_SHUFFLE_NONE}),
                         parity_name);

TEST(Cuda, PerEpochSchedulersWeightDecayDampeningOddSize)
{
    REQUIRE_GPU();
    os_spec s;
    grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_TRIAL);
    set_list(&s, OS_AX_OPTIMIZER, "sgd,momentum,rmsprop,adam");  // every optimizer but nesterov, which takes no dampening
    os_spec_set_one(&s, OS_AX_SCHED_STEP, 1, NULL);
    set_list(&s, OS_AX_WEIGHT_DECAY, "0,0.01");
    set_list(&s, OS_AX_DAMPENING, "0,0.1");
    os_spec_set_one(&s, OS_AX_N, 301, NULL);
    expect_parity(&s, {1, 8});
    os_spec_set_one(&s, OS_AX_DTYPE, OS_DTYPE_F64, NULL);
    expect_parity(&s, {2, 4});
    os_spec_free(&s);
}

// A grid over the settings that are axes (launch groups: dtype, shuffle,
// stepping, dataset size and noise, target): the CPU's table, bit for bit.
TEST(Cuda, MixedDtypeNoiseSizeStepping)
{
    REQUIRE_GPU();
    os_spec s;
    grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_SHARED);
    set_list(&s, OS_AX_OPTIMIZER, "sgd,momentum,adam,lion");
    set_list(&s, OS_AX_DTYPE, "float32,float64");
    set_list(&s, OS_AX_SHUFFLE, "shared,trial,none");
    set_list(&s, OS_AX_SCHED_STEP, "update,epoch");
    set_list(&s, OS_AX_N, "97,128");
    set_list(&s, OS_AX_NOISE, "0,0.05");
    set_list(&s, OS_AX_TARGET, "0.01,0.3");
    expect_parity(&s, {1, 4});
    os_spec_free(&s);
}

TEST(Cuda, ChunksAndOrdersOnTheFlyGiveTheSameTable)
{
    REQUIRE_GPU();
    os_spec s;
    grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_SHARED);
    s.cuda_chunk = 37;
    expect_parity(&s, {0, 1});
    s.cuda_chunk = 4194304;
    s.cuda_table_bytes = 0;
    expect_parity(&s, {0, 2});
    os_spec_free(&s);
}

TEST(Cuda, DataFileOneDatasetForEverySeed)
{
    REQUIRE_GPU();
    CudaTempDir dir;
    const std::string path = dir.path + "/data.csv";
    ASSERT_NO_FATAL_FAILURE(write_dataset(path, 200));
    for (int shuffle : {OS_SHUFFLE_SHARED, OS_SHUFFLE_TRIAL}) {
        os_spec s;
        grid_spec(&s, OS_DTYPE_F32, shuffle);
        s.data_file = strdup(path.c_str());
        expect_parity(&s, {0});
        os_spec_free(&s);
    }
}

TEST(Cuda, TwoRunsGiveTheSameBits)
{
    REQUIRE_GPU();
    os_spec s;
    grid_spec(&s, OS_DTYPE_F32, OS_SHUFFLE_TRIAL);
    os_sweep sw;
    os_error err;
    ASSERT_EQ(os_sweep_plan(&s, &sw, &err), OS_OK) << err.msg;
    std::vector<os_result> a(sw.n_trials), b(sw.n_trials);
    ASSERT_EQ(os_cuda_run(&sw, a.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
    ASSERT_EQ(os_cuda_run(&sw, b.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof a[0]), 0) << "Nondeterminism!";
    os_sweep_free(&sw);
    os_spec_free(&s);
}

TEST(Cuda, CliAutoPicksTheGpuAndMatchesTheCpu)
{
    REQUIRE_GPU();
    CudaTempDir dir;
    const std::string grid = "--optimizer sgd,adam --lr 0.01,0.1 --seeds 3 --epochs 3 --n 128 ";
    Proc g = run_cli("run " + grid + "-o gpu.csv", dir.path);
    ASSERT_EQ(g.status, 0) << g.err;
    EXPECT_NE(g.err.find("backend auto: running on GPU"), std::string::npos) << g.err;
    EXPECT_EQ(g.out.find("CPU"), std::string::npos) << g.out;
    Proc c = run_cli("run --backend cpu --quiet " + grid + "-o cpu.csv", dir.path);
    ASSERT_EQ(c.status, 0) << c.err;
    EXPECT_TRUE(slurp(dir.path + "/gpu.csv") == slurp(dir.path + "/cpu.csv"));
    Proc d = run_cli("devices", dir.path);
    EXPECT_EQ(d.status, 0);
    EXPECT_NE(d.out.find("gpu 0"), std::string::npos) << d.out;
}

// ---------------------------------------------------------------------------
// 3. without a GPU (and what needs none)

TEST(Cuda, BadTileIsAnInputError)
{
    os_spec s;
    os_spec_init(&s);
    set_list(&s, OS_AX_EPOCHS, "1");
    os_spec_set_one(&s, OS_AX_N, 64, NULL);
    s.tile = 3;
    os_sweep sw;
    os_error err;
    EXPECT_EQ(os_sweep_plan(&s, &sw, &err), OS_EINPUT);  // os_spec_validate
    EXPECT_NE(std::string(err.msg).find("--tile"), std::string::npos) << err.msg;
    s.tile = 1;
    ASSERT_EQ(os_sweep_plan(&s, &sw, &err), OS_OK) << err.msg;
    s.tile = 3;  // changed after the plan: the backend checks again, with the same rules
    std::vector<os_result> r(sw.n_trials);
    EXPECT_EQ(os_cuda_run(&sw, r.data(), nullptr, nullptr, &err), OS_EINPUT);
    EXPECT_NE(std::string(err.msg).find("--tile"), std::string::npos) << err.msg;
    os_sweep_free(&sw);
    os_spec_free(&s);
}

TEST(Cuda, WithoutGpuCudaFailsClearlyAndAutoRunsOnTheCpu)
{
    std::string why;
    if (have_gpu(&why)) GTEST_SKIP() << "this machine has a usable GPU";
    EXPECT_FALSE(why.empty());
    // the library: os_cuda_run fails, os_sweep_run with auto is the CPU
    os_spec s;
    os_spec_init(&s);
    set_list(&s, OS_AX_EPOCHS, "2");
    set_list(&s, OS_AX_LR, "0.01,0.1");
    os_spec_set_one(&s, OS_AX_N, 64, NULL);
    os_sweep sw;
    os_error err;
    ASSERT_EQ(os_sweep_plan(&s, &sw, &err), OS_OK) << err.msg;
    std::vector<os_result> a(sw.n_trials), b(sw.n_trials);
    EXPECT_EQ(os_cuda_run(&sw, a.data(), nullptr, nullptr, &err), OS_ERUNTIME);
    EXPECT_NE(std::string(err.msg).find("--backend cuda"), std::string::npos) << err.msg;
    s.backend = OS_BACKEND_AUTO;
    ASSERT_EQ(os_sweep_run(&sw, a.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
    ASSERT_EQ(os_cpu_run(&sw, b.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
    EXPECT_EQ(table_of(&sw, a), table_of(&sw, b));
    os_sweep_free(&sw);
    os_spec_free(&s);

    // the CLI
    CudaTempDir dir;
    Proc p = run_cli("run --backend cuda --epochs 2 --n 64 -o out.csv", dir.path);
    EXPECT_EQ(p.status, 1);
    EXPECT_EQ(p.out, "");
    EXPECT_NE(p.err.find("--backend cuda"), std::string::npos) << p.err;
    EXPECT_NE(p.err.find("use --backend cpu or auto"), std::string::npos) << p.err;
    EXPECT_EQ(std::count(p.err.begin(), p.err.end(), '\n'), 1) << p.err;
    struct stat st;
    EXPECT_NE(stat((dir.path + "/out.csv").c_str(), &st), 0) << "an output file was left behind";

    p = run_cli("run --epochs 2 --n 64 -o out.csv", dir.path);
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_NE(p.err.find("backend auto: running on the CPU ("), std::string::npos) << p.err;
    EXPECT_NE(p.out.find("on the CPU"), std::string::npos) << p.out;

    p = run_cli("devices", dir.path);
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(p.out.rfind("cpu ", 0), 0u) << p.out;
    EXPECT_NE(p.out.find("gpu     none ("), std::string::npos) << p.out;

    p = run_cli("bench --backend cuda --sizes 10", dir.path);
    EXPECT_EQ(p.status, 1) << p.err;
}

TEST(Cuda, CliFlagsAreChecked)
{
    CudaTempDir dir;
    Proc p = run_cli("run --tile 3 --epochs 1 --n 64 -o out.csv", dir.path);
    EXPECT_EQ(p.status, 2);
    EXPECT_NE(p.err.find("--tile"), std::string::npos) << p.err;
    p = run_cli("run --devices 0,x --epochs 1 --n 64 -o out.csv", dir.path);
    EXPECT_EQ(p.status, 2);
    EXPECT_NE(p.err.find("--devices"), std::string::npos) << p.err;
    p = run_cli("run --backend cpu --tile 4 --devices 0 --epochs 1 --n 64 --quiet -o out.csv", dir.path);
    EXPECT_EQ(p.status, 0) << p.err;  // CUDA-only flags are ignored on the CPU
}

}  // namespace
