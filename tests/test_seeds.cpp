// test_seeds.cpp — seed-heavy sweeps: the loss minima that the generated
// replicates find together (os_minscan, os_dataset_find_minima: shared
// work, SIMD lanes) are the reference's (os_dataset_find_minimum on each
// dataset alone) bit for bit, and so is every dataset and the whole results
// table of a sweep.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "orbitsweep/backend.h"
#include "orbitsweep/orbitsweep.h"
#include "test_util.h"

namespace {

using ostest::first_difference;
using ostest::set_list;
using ostest::slurp;
using ostest::table_of;

uint64_t bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

// The same double, bit for bit (NaN payloads and the sign of zero too).
#define EXPECT_SAME_DOUBLE(a, b, what) \
    EXPECT_EQ(bits(a), bits(b)) << what << ": " << (a) << " vs " << (b)

// The reference minimum of each dataset (a copy of its points, found alone)
// against what os_dataset_find_minima finds for all of them at once with
// the scan of ds[0]'s points.
void expect_minima_match(std::vector<os_dataset> &ds, const std::string &label)
{
    os_error err;
    std::vector<os_dataset> ref(ds.size());
    for (size_t r = 0; r < ds.size(); ++r) {
        os_dataset &d = ref[r];
        memset(&d, 0, sizeof d);
        d.n = ds[r].n;
        d.c = ds[r].c;
        d.x = (double *)malloc((size_t)d.n * sizeof(double));
        d.y = (double *)malloc((size_t)d.n * sizeof(double));
        ASSERT_TRUE(d.x && d.y);
        memcpy(d.x, ds[r].x, (size_t)d.n * sizeof(double));
        memcpy(d.y, ds[r].y, (size_t)d.n * sizeof(double));
        ASSERT_EQ(os_dataset_find_minimum(&d, &err), OS_OK) << err.msg;
    }
    os_minscan *scan = nullptr;
    ASSERT_EQ(os_minscan_make(&ds[0], &scan, &err), OS_OK) << err.msg;
    ASSERT_EQ(os_dataset_find_minima(scan, ds.data(), ds.size(), &err), OS_OK) << err.msg;
    os_minscan_free(scan);
    for (size_t r = 0; r < ds.size(); ++r) {
        const std::string what = label + ", dataset " + std::to_string(r);
        EXPECT_SAME_DOUBLE(ds[r].min_loss, ref[r].min_loss, what + " min_loss");
        EXPECT_SAME_DOUBLE(ds[r].min_wa, ref[r].min_wa, what + " min_wa");
        EXPECT_SAME_DOUBLE(ds[r].min_wb, ref[r].min_wb, what + " min_wb");
        os_dataset_free(&ref[r]);
    }
}

// count replicates of the generated data as the plan builds them: x
// computed once (replicate 0's) and shared.
std::vector<os_dataset> replicates(const os_spec *s, int count)
{
    std::vector<os_dataset> ds((size_t)count);
    os_error err;
    for (int r = 0; r < count; ++r) {
        EXPECT_EQ(os_dataset_generate_points(s, (int)s->axis[OS_AX_N].v[0], s->axis[OS_AX_NOISE].v[0], (uint32_t)r, r ? ds[0].x : nullptr, &ds[(size_t)r], &err), OS_OK)
            << err.msg;
    }
    return ds;
}

void free_all(std::vector<os_dataset> &ds)
{
    for (size_t r = ds.size(); r-- > 0;) os_dataset_free(&ds[r]);  // replicate 0 owns x: last
}

struct GenCase {
    int n, count;
    double a, b, noise;
    const char *what;
};

void PrintTo(const GenCase &g, std::ostream *os) { *os << g.what << " n " << g.n << " x " << g.count; }

class Minima : public ::testing::TestWithParam<GenCase> {};

// Generated data: n a multiple of 8 and not, 2 points, the largest n of
// the lanes and beyond it (os_dataset_find_minima falls back to the
// reference), odd counts (a last run of lanes partly empty), no noise,
// noise larger than the orbit, a circle.
TEST_P(Minima, GeneratedMatchTheReference)
{
    const GenCase &g = GetParam();
    os_spec s;
    ASSERT_EQ(os_spec_init(&s), OS_OK);
    os_spec_set_one(&s, OS_AX_N, g.n, NULL);
    s.seed = 12345;
    if (g.a > 0) s.a = g.a, s.b = g.b;
    os_spec_set_one(&s, OS_AX_NOISE, g.noise, NULL);
    std::vector<os_dataset> ds = replicates(&s, g.count);
    // the shared points are replicate 0's (pointer) and the same values as a
    // dataset generated alone
    os_dataset alone;
    os_error err;
    ASSERT_EQ(os_dataset_make(&s, (uint32_t)(g.count - 1), &alone, &err), OS_OK) << err.msg;
    EXPECT_EQ(memcmp(alone.x, ds.back().x, (size_t)g.n * sizeof(double)), 0);
    EXPECT_EQ(memcmp(alone.y, ds.back().y, (size_t)g.n * sizeof(double)), 0);
    expect_minima_match(ds, std::string(g.what) + " n " + std::to_string(g.n));
    EXPECT_SAME_DOUBLE(ds.back().min_loss, alone.min_loss, "alone min_loss");
    os_dataset_free(&alone);
    free_all(ds);
    os_spec_free(&s);
}

INSTANTIATE_TEST_SUITE_P(
    seeds, Minima,
    ::testing::Values(GenCase{512, 53, 0, 0, 0.1, "default"}, GenCase{2, 21, 0, 0, 0.1, "two points"},
                      GenCase{3, 17, 0, 0, 0.1, "three"}, GenCase{7, 33, 0, 0, 0.1, "seven"},
                      GenCase{9, 16, 0, 0, 0.1, "nine"}, GenCase{100, 40, 0, 0, 0.1, "hundred"},
                      GenCase{1001, 19, 0, 0, 0.1, "odd"}, GenCase{512, 18, 0, 0, 0.0, "no noise"},
                      GenCase{512, 18, 0, 0, 3.0, "noise 3"}, GenCase{333, 18, 2.0, 2.0, 0.1, "circle"},
                      GenCase{40000, 5, 0, 0, 0.1, "reference path m 250"}, GenCase{32768, 3, 0, 0, 0.1, "largest lanes"},
                      GenCase{32769, 2, 0, 0, 0.1, "reference path"}),
    [](const ::testing::TestParamInfo<GenCase> &i) {
        std::string s = i.param.what;
        for (char &c : s)
            if (!isalnum((unsigned char)c)) c = '_';
        return s + "_n" + std::to_string(i.param.n);
    });

// --data files: points in any order, repeated, on the focus (x + c = 0)
// and far outside, with several y per x (as replicates with their own
// noise would have); then datasets with other points in the same call (they
// take the reference path) and the degenerate file whose points all sit on
// x = -c.
TEST(MinimaData, FilesMatchTheReference)
{
    char path[] = "/tmp/os_test_seeds_XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    const double c = 0.2618468199940578;
    for (int n : {2, 5, 64, 257}) {
        FILE *f = fopen(path, "w");
        ASSERT_NE(f, nullptr);
        fprintf(f, "x,y\n");
        uint64_t st = 0x9E3779B97F4A7C15ULL * (uint64_t)n;
        auto uni = [&st]() {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            return (double)(st >> 11) / 9007199254740992.0;
        };
        for (int i = 0; i < n; ++i) {
            double x = -1.6 + 2.6 * uni();
            if (i % 9 == 4) x = -c;                   // on the focus
            if (i % 13 == 7) x = 40.0;                // far out: masked at most samples
            if (i % 5 == 3 && i > 0) x = -1.6 + 2.6 * (i % 3) / 3.0; // repeats
            fprintf(f, "%.17g,%.17g\n", x, 1.2 * uni());
        }
        fclose(f);
        os_dataset base;
        os_error err;
        ASSERT_EQ(os_dataset_load(path, c, &base, &err), OS_OK) << err.msg;
        std::vector<os_dataset> ds(23);
        for (size_t r = 0; r < ds.size(); ++r) {
            os_dataset &d = ds[r];
            memset(&d, 0, sizeof d);
            d.n = base.n;
            d.c = base.c;
            d.x = r ? base.x : (double *)malloc((size_t)d.n * sizeof(double));
            d.x_borrowed = r != 0;
            d.y = (double *)malloc((size_t)d.n * sizeof(double));
            ASSERT_TRUE(d.x && d.y);
            if (!r) memcpy(d.x, base.x, (size_t)d.n * sizeof(double));
            for (int i = 0; i < d.n; ++i) d.y[i] = r ? base.y[i] + 0.2 * (uni() - 0.5) * (double)(r % 4) : base.y[i];
        }
        // one of them with other points: the reference for it, the lanes for the rest
        std::vector<double> other(base.x, base.x + base.n);
        other[0] += 0.001;
        ds[11].x = other.data();
        expect_minima_match(ds, "data file n " + std::to_string(n));
        ds[11].x = base.x;
        // replicate 0 equals the file's own minimum
        EXPECT_SAME_DOUBLE(ds[0].min_wa, base.min_wa, "file min_wa");
        EXPECT_SAME_DOUBLE(ds[0].min_loss, base.min_loss, "file min_loss");
        free_all(ds);
        os_dataset_free(&base);
    }
    // every point on x = -c: the Wa range degenerates (lo 0, hi 1)
    FILE *f = fopen(path, "w");
    ASSERT_NE(f, nullptr);
    fprintf(f, "x,y\n%.17g,1\n%.17g,0.5\n%.17g,2\n", -c, -c, -c);
    fclose(f);
    os_dataset base;
    os_error err;
    ASSERT_EQ(os_dataset_load(path, c, &base, &err), OS_OK) << err.msg;
    std::vector<os_dataset> ds(3);
    for (size_t r = 0; r < ds.size(); ++r) {
        memset(&ds[r], 0, sizeof ds[r]);
        ds[r].n = base.n;
        ds[r].c = base.c;
        ds[r].x = base.x;
        ds[r].x_borrowed = 1;
        ds[r].y = (double *)malloc((size_t)base.n * sizeof(double));
        for (int i = 0; i < base.n; ++i) ds[r].y[i] = base.y[i] * (double)(r + 1);
    }
    expect_minima_match(ds, "all on the focus");
    free_all(ds);
    os_dataset_free(&base);
    unlink(path);
}

// ---------------------------------------------------------------------------
// whole sweeps

// The plan's datasets against the straightforward path (each replicate
// generated alone with os_dataset_generate, its minimum alone), field by
// field; then the table trained on the plan's datasets against the table
// trained on the straightforward ones.
void expect_sweep_matches_reference(os_spec *s, const char *label)
{
    os_sweep sw;
    os_error err;
    ASSERT_EQ(os_sweep_plan(s, &sw, &err), OS_OK) << err.msg;
    ASSERT_EQ(sw.n_data, (size_t)s->seeds);
    std::vector<os_result> fast(sw.n_trials), slow(sw.n_trials);
    ASSERT_EQ(os_cpu_run(&sw, fast.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
    const std::string a = table_of(&sw, fast);

    std::vector<os_dataset> ref(sw.n_data);
    for (size_t r = 0; r < sw.n_data; ++r) {
        ASSERT_EQ(os_dataset_make(s, (uint32_t)r, &ref[r], &err), OS_OK) << err.msg;
        const os_dataset &d = sw.data[r], &e = ref[r];
        ASSERT_EQ(d.n, e.n);
        EXPECT_EQ(memcmp(d.x, e.x, (size_t)d.n * sizeof(double)), 0) << label << " replicate " << r;
        EXPECT_EQ(memcmp(d.y, e.y, (size_t)d.n * sizeof(double)), 0) << label << " replicate " << r;
        EXPECT_EQ(d.x, sw.data[0].x) << "replicates share x";
        EXPECT_SAME_DOUBLE(d.c, e.c, "c");
        EXPECT_SAME_DOUBLE(d.ref_wa, e.ref_wa, "ref_wa");
        EXPECT_SAME_DOUBLE(d.ref_wb, e.ref_wb, "ref_wb");
        EXPECT_SAME_DOUBLE(d.min_loss, e.min_loss, std::string(label) + " min_loss " + std::to_string(r));
        EXPECT_SAME_DOUBLE(d.min_wa, e.min_wa, std::string(label) + " min_wa " + std::to_string(r));
        EXPECT_SAME_DOUBLE(d.min_wb, e.min_wb, std::string(label) + " min_wb " + std::to_string(r));
    }
    // the same sweep on the straightforward datasets
    os_dataset *planned = sw.data;
    sw.data = ref.data();
    ASSERT_EQ(os_cpu_run(&sw, slow.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
    const std::string b = table_of(&sw, slow);
    sw.data = planned;
    EXPECT_TRUE(a == b) << label << ": first difference at " << first_difference(a, b, "plan", "reference");
    for (auto &d : ref) os_dataset_free(&d);
    os_sweep_free(&sw);
}

struct SweepCase {
    int dtype, shuffle;
};

void PrintTo(const SweepCase &c, std::ostream *os) { *os << "dtype " << c.dtype << " shuffle " << c.shuffle; }

class SeedSweep : public ::testing::TestWithParam<SweepCase> {};

TEST_P(SeedSweep, TableMatchesTheStraightforwardPath)
{
    os_spec s;
    ASSERT_EQ(os_spec_init(&s), OS_OK);
    os_spec_set_one(&s, OS_AX_DTYPE, GetParam().dtype, NULL);
    os_spec_set_one(&s, OS_AX_SHUFFLE, GetParam().shuffle, NULL);
    s.seeds = 150;  // several parallel runs of 64, the last one short
    s.seed = 77;
    os_spec_set_one(&s, OS_AX_N, 100, NULL);
    set_list(&s, OS_AX_OPTIMIZER, "adam,sgd");
    set_list(&s, OS_AX_LR, "0.01,0.1");
    set_list(&s, OS_AX_EPOCHS, "4");
    set_list(&s, OS_AX_BATCH_SIZE, "32");
    const std::string label = std::string(s.axis[OS_AX_DTYPE].v[0] == OS_DTYPE_F32 ? "float32" : "float64") + " shuffle " +
                              std::to_string(s.axis[OS_AX_SHUFFLE].v[0]);
    expect_sweep_matches_reference(&s, label.c_str());
    os_spec_free(&s);
}

INSTANTIATE_TEST_SUITE_P(seeds, SeedSweep,
                         ::testing::Values(SweepCase{OS_DTYPE_F32, OS_SHUFFLE_SHARED},
                                           SweepCase{OS_DTYPE_F64, OS_SHUFFLE_SHARED},
                                           SweepCase{OS_DTYPE_F32, OS_SHUFFLE_TRIAL},
                                           SweepCase{OS_DTYPE_F64, OS_SHUFFLE_NONE}),
                         [](const ::testing::TestParamInfo<SweepCase> &i) {
                             return std::string(i.param.dtype == OS_DTYPE_F32 ? "float32" : "float64") + "_shuffle" +
                                    std::to_string(i.param.shuffle);
                         });

// A seed-heavy table written by main before the shared search existed
// (tests/golden/run_seeds.csv, the command below): the same bytes.
TEST(SeedSweepGolden, MatchesTableFromBeforeTheSharedSearch)
{
    const std::string golden = slurp(OS_GOLDEN_DIR "/run_seeds.csv");
    ASSERT_FALSE(golden.empty());
    ostest::TempDir dir("/tmp/os_test_seeds_XXXXXX");
    const std::string out = dir.path + "/r.csv";
    ostest::Proc p = ostest::run_program({"run", "--seeds", "130", "--seed", "5", "--lr", "0.03",
                                          "--epochs", "3", "--n", "77", "--batch-size", "16", "--dtype", "float64",
                                          "--threads", "2", "--quiet", "-o", out},
                                         dir.path, dir.path);
    ASSERT_EQ(p.status, 0) << p.err;
    const std::string t = slurp(out);
    EXPECT_TRUE(t == golden) << "first difference at " << first_difference(t, golden, "now", "golden");
}

}  // namespace

namespace {

// The trainings of a seed-heavy sweep run in blocks of several seeds (each
// lane its own data and order); with 8 configurations per seed they run in
// blocks of one seed. Each row is the same either way: the 8-configuration
// table against the 8 tables of one configuration each, row by row. n 90
// and n 64: the lanes' orders take the table route, and (a power of two)
// one pass of the bijection for all lanes at once.
TEST(SeedBlocks, RowsDoNotDependOnTheBlock)
{
    const char *lrs[] = {"0.001", "0.003", "0.01", "0.02", "0.03", "0.05", "0.1", "0.2"};
    for (int n : {90, 64})
    for (int dtype : {OS_DTYPE_F32, OS_DTYPE_F64})
        for (int shuffle : {OS_SHUFFLE_SHARED, OS_SHUFFLE_TRIAL, OS_SHUFFLE_NONE})
            for (int scalar : {0, 1}) {
                const std::string label = "n " + std::to_string(n) + " dtype " + std::to_string(dtype) + " shuffle " +
                                          std::to_string(shuffle) + (scalar ? " simd off" : " simd on");
                auto spec = [&](os_spec *s, const char *lr) {
                    ASSERT_EQ(os_spec_init(s), OS_OK);
                    os_spec_set_one(s, OS_AX_DTYPE, dtype, NULL);
                    os_spec_set_one(s, OS_AX_SHUFFLE, shuffle, NULL);
                    s->cpu_scalar = scalar;
                    s->seeds = 37;
                    os_spec_set_one(s, OS_AX_N, n, NULL);
                    set_list(s, OS_AX_LR, lr);
                    set_list(s, OS_AX_EPOCHS, "3");
                    set_list(s, OS_AX_BATCH_SIZE, "20");
                };
                os_spec all;
                ASSERT_NO_FATAL_FAILURE(spec(&all, "0.001,0.003,0.01,0.02,0.03,0.05,0.1,0.2"));
                os_sweep sw;
                os_error err;
                ASSERT_EQ(os_sweep_plan(&all, &sw, &err), OS_OK) << err.msg;
                std::vector<os_result> res(sw.n_trials);
                ASSERT_EQ(os_cpu_run(&sw, res.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
                const std::vector<std::string> rows = ostest::lines_of(table_of(&sw, res));
                os_sweep_free(&sw);
                os_spec_free(&all);
                for (int c = 0; c < 8; ++c) {
                    os_spec one;
                    ASSERT_NO_FATAL_FAILURE(spec(&one, lrs[c]));
                    ASSERT_EQ(os_sweep_plan(&one, &sw, &err), OS_OK) << err.msg;
                    std::vector<os_result> r1(sw.n_trials);
                    ASSERT_EQ(os_cpu_run(&sw, r1.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
                    const std::vector<std::string> got = ostest::lines_of(table_of(&sw, r1));
                    os_sweep_free(&sw);
                    os_spec_free(&one);
                    ASSERT_EQ(got.size(), 38u);
                    for (int r = 0; r < 37; ++r) {
                        // the same row but for the trial number (its first field)
                        const std::string &a = rows[1 + (size_t)c * 37 + (size_t)r], &b = got[1 + (size_t)r];
                        EXPECT_EQ(a.substr(a.find(',')), b.substr(b.find(','))) << label << ", lr " << lrs[c];
                    }
                }
            }
}

}  // namespace
