// test_sample.cpp — random and Sobol sweeps (docs/design.md §3, "Sampling"):
//  * Sobol points against torch.quasirandom.SobolEngine's (Joe-Kuo
//    new-joe-kuo-6.21201 direction numbers; tests/golden/sobol_first256.csv
//    from scripts/make_golden.py), all 32 dimensions, bit for bit;
//  * each distribution: 10^5 samples with a fixed seed inside their support,
//    reproducible byte for byte, and a Kolmogorov-Smirnov distance from the
//    distribution's CDF below the 1% critical value 1.63/sqrt(n);
//  * through the command line: a sampled table's values are the library's
//    draws, the same bytes every run and at any --threads / --block, blocks
//    of samples and grids mixed in one table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace ostest;

TEST(sample, SobolMatchesTorchsJoeKuoPoints)
{
    std::ifstream f(std::string(OS_GOLDEN_DIR) + "/sobol_first256.csv");
    ASSERT_TRUE(f.good());
    std::string line;
    size_t rows = 0;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#' || line[0] == 'i') continue;
        std::vector<double> v;
        for (size_t p = 0; p < line.size();) {
            size_t q = line.find(',', p);
            if (q == std::string::npos) q = line.size();
            v.push_back(strtod(line.substr(p, q - p).c_str(), nullptr));
            p = q + 1;
        }
        ASSERT_EQ(v.size(), 1u + OS_SOBOL_DIMS);
        const uint64_t i = (uint64_t)v[0];
        for (int d = 0; d < OS_SOBOL_DIMS; ++d)
            ASSERT_EQ((double)os_sobol_u32(i, d) * 0x1p-32, v[1 + d]) << "point " << i << " dimension " << d;
        ++rows;
    }
    EXPECT_EQ(rows, 256u);
    // unscrambled u is the point itself; a scrambled one XORs one shift per dimension
    const uint32_t shift = (uint32_t)(os_sample_u(OS_SAMPLE_SOBOL, 7, 1, 0, 0, 3) * 0x1p32);
    for (uint64_t i = 0; i < 64; ++i) {
        EXPECT_EQ(os_sample_u(OS_SAMPLE_SOBOL, 7, 0, 0, i, 3), os_sobol_u32(i, 3) * 0x1p-32);
        EXPECT_EQ(os_sample_u(OS_SAMPLE_SOBOL, 7, 1, 0, i, 3), (double)(os_sobol_u32(i, 3) ^ shift) * 0x1p-32);
    }
}

struct Dist {
    const char *name;
    int dist;
    std::vector<double> vals;
};

// The distribution's CDF at x.
double cdf(const Dist &d, double x)
{
    const double a = d.vals[0], b = d.vals.size() > 1 ? d.vals[1] : a;
    switch (d.dist) {
    case OS_DIST_UNIFORM: return x <= a ? 0 : x >= b ? 1 : (x - a) / (b - a);
    case OS_DIST_LOG_UNIFORM: return x <= a ? 0 : x >= b ? 1 : std::log(x / a) / std::log(b / a);
    case OS_DIST_INT_UNIFORM: return x < a ? 0 : x >= b ? 1 : (std::floor(x) - a + 1) / (b - a + 1);
    }
    double k = 0; // a list: each value 1/n
    for (double v : d.vals) k += v <= x;
    return k / (double)d.vals.size();
}

TEST(sample, DistributionsKolmogorovSmirnov)
{
    const std::vector<Dist> dists = {
        {"uniform(0.9,0.9999)", OS_DIST_UNIFORM, {0.9, 0.9999}},
        {"log_uniform(1e-4,1)", OS_DIST_LOG_UNIFORM, {1e-4, 1}},
        {"int_uniform(5,20)", OS_DIST_INT_UNIFORM, {5, 20}},
        {"choice(0.1,0.2,0.3)", OS_DIST_LIST, {0.1, 0.2, 0.3}},
    };
    const size_t n = 100000;
    const double critical = 1.63 / std::sqrt((double)n); // alpha = 0.01
    for (int kind : {OS_SAMPLE_RANDOM, OS_SAMPLE_SOBOL}) {
        for (size_t k = 0; k < dists.size(); ++k) {
            const Dist &d = dists[k];
            SCOPED_TRACE(std::string(d.name) + (kind == OS_SAMPLE_SOBOL ? " sobol" : " random"));
            std::vector<double> x(n), again(n);
            for (size_t i = 0; i < n; ++i) {
                x[i] = os_dist_value(d.dist, d.vals.data(), d.vals.size(),
                                     os_sample_u(kind, 12345, 1, 2, i, (int)k + 3));
                again[i] = os_dist_value(d.dist, d.vals.data(), d.vals.size(),
                                         os_sample_u(kind, 12345, 1, 2, i, (int)k + 3));
            }
            EXPECT_EQ(memcmp(x.data(), again.data(), n * sizeof(double)), 0) << "not reproducible";
            // the support
            for (double v : x) {
                if (d.dist == OS_DIST_LIST) {
                    ASSERT_TRUE(std::find(d.vals.begin(), d.vals.end(), v) != d.vals.end()) << v;
                } else {
                    ASSERT_GE(v, d.vals[0]);
                    ASSERT_TRUE(d.dist == OS_DIST_UNIFORM ? v < d.vals[1] : v <= d.vals[1]) << v;
                    if (d.dist == OS_DIST_INT_UNIFORM) {
                        ASSERT_EQ(v, std::floor(v));
                    }
                }
            }
            // KS distance: the empirical CDF after each distinct value, and just before it
            std::sort(x.begin(), x.end());
            double dmax = 0;
            for (size_t i = 0; i < n;) {
                size_t j = i;
                while (j < n && x[j] == x[i]) ++j;
                const double f = cdf(d, x[i]);
                const double below = d.dist == OS_DIST_UNIFORM || d.dist == OS_DIST_LOG_UNIFORM ? f : cdf(d, std::nextafter(x[i], -INFINITY));
                dmax = std::max({dmax, std::fabs((double)j / n - f), std::fabs((double)i / n - below)});
                i = j;
            }
            EXPECT_LT(dmax, critical);
            // every value of a discrete distribution occurs
            if (d.dist == OS_DIST_INT_UNIFORM || d.dist == OS_DIST_LIST) {
                std::vector<double> u = x;
                u.erase(std::unique(u.begin(), u.end()), u.end());
                EXPECT_EQ(u.size(), d.dist == OS_DIST_LIST ? d.vals.size() : (size_t)(d.vals[1] - d.vals[0] + 1));
            }
        }
    }
    // other seeds, blocks and dimensions give other numbers
    EXPECT_NE(os_sample_u(OS_SAMPLE_RANDOM, 1, 1, 0, 5, 2), os_sample_u(OS_SAMPLE_RANDOM, 2, 1, 0, 5, 2));
    EXPECT_NE(os_sample_u(OS_SAMPLE_RANDOM, 1, 1, 0, 5, 2), os_sample_u(OS_SAMPLE_RANDOM, 1, 1, 1, 5, 2));
    EXPECT_NE(os_sample_u(OS_SAMPLE_RANDOM, 1, 1, 0, 5, 2), os_sample_u(OS_SAMPLE_RANDOM, 1, 1, 0, 5, 3));
}

class sample_cli : public ProgramTest {
protected:
    sample_cli() : ProgramTest("/tmp/os_sample.XXXXXX") {}
};

// The table's sampled values are the library's draws (block, point, axis).
TEST_F(sample_cli, TableHoldsTheDraws)
{
    spit(path("s.yaml"), "sample_seed: 99\nscramble: off\nepochs: 2\nn: 64\n"
                         "blocks:\n"
                         "  - {optimizer: sgd, lr: [0.01, 0.1]}\n"
                         "  - optimizer: [momentum, adam]\n"
                         "    random: 6\n"
                         "    lr: log_uniform(1e-4, 1)\n"
                         "    momentum: uniform(0.5, 0.95)\n"
                         "    beta2: [0.99, 0.999]\n"
                         "    batch_size: int_uniform(16, 128)\n"
                         "  - {optimizer: adam, sobol: 4, lr: \"log_uniform(1e-3, 1e-1)\"}\n");
    Proc p = run({"run", "s.yaml", "--quiet", "-o", "a.csv"});
    ASSERT_EQ(p.status, 0) << p.err;
    const Table t = read_table(slurp(path("a.csv")), false);
    ASSERT_TRUE(t.ok);
    ASSERT_EQ(t.rows.size(), 2u + 12u + 4u);
    auto fmt = [](double v) {
        char b[64];
        os_fmt_double(b, sizeof b, v);
        return std::string(b);
    };
    const double lr_r[2] = {1e-4, 1}, mom[2] = {0.5, 0.95}, b2[2] = {0.99, 0.999}, bs[2] = {16, 128};
    for (size_t k = 0; k < 12; ++k) {
        const size_t row = 2 + k, point = k % 6;
        SCOPED_TRACE(row);
        EXPECT_EQ(t.at(row, "optimizer"), k < 6 ? "momentum" : "adam");
        auto u = [&](int axis) { return os_sample_u(OS_SAMPLE_RANDOM, 99, 1, 1, point, axis); };
        EXPECT_EQ(t.at(row, "lr"), fmt(os_dist_value(OS_DIST_LOG_UNIFORM, lr_r, 2, u(OS_AX_LR))));
        EXPECT_EQ(t.at(row, "batch_size"), fmt(os_dist_value(OS_DIST_INT_UNIFORM, bs, 2, u(OS_AX_BATCH_SIZE))));
        if (k < 6) {
            EXPECT_EQ(t.at(row, "momentum"), fmt(os_dist_value(OS_DIST_UNIFORM, mom, 2, u(OS_AX_MOMENTUM))));
            EXPECT_EQ(t.at(row, "beta2"), "");
        } else {
            EXPECT_EQ(t.at(row, "beta2"), fmt(os_dist_value(OS_DIST_LIST, b2, 2, u(OS_AX_BETA2))));
            EXPECT_EQ(t.at(row, "momentum"), "");
        }
        EXPECT_EQ(t.at(row, "lr"), t.at(k < 6 ? row + 6 : row - 6, "lr")) << "optimizers share the points";
    }
    // the plain Sobol sequence: lr is dimension 1, whose first points are 0, 1/2, 1/4, 3/4 (Joe-Kuo),
    // so log10(lr) is -3 + 2 * (0, 1/2, 1/4, 3/4)
    EXPECT_EQ(t.at(14, "lr"), "0.001");
    EXPECT_EQ(t.at(15, "lr"), "0.01");
    EXPECT_EQ(t.at(16, "lr"), fmt(std::pow(10.0, -3 + 2 * 0.25)));
    EXPECT_EQ(t.at(17, "lr"), fmt(std::pow(10.0, -3 + 2 * 0.75)));
    // the same bytes again, at other --threads and --block, and as flags
    p = run({"run", "s.yaml", "--quiet", "--threads", "1", "--block", "5", "-o", "b.csv"});
    ASSERT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(slurp(path("a.csv")), slurp(path("b.csv")));
    p = run({"run", "--sample-seed", "99", "--n", "64", "--quiet", "-o", "c.csv",
             "--optimizer", "sgd", "--lr", "0.01,0.1", "--epochs", "2", "--and", "--n", "64",
             "--optimizer", "momentum,adam", "--random", "6", "--lr", "log_uniform(1e-4,1)", "--momentum",
             "uniform(0.5,0.95)", "--beta2", "choice(0.99,0.999)", "--batch-size", "int_uniform(16,128)", "--epochs",
             "2", "--and", "--n", "64", "--optimizer", "adam", "--sobol", "4", "--scramble", "off", "--lr",
             "log_uniform(1e-3,1e-1)", "--epochs", "2"});
    ASSERT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(slurp(path("a.csv")), slurp(path("c.csv")));
}

// The sidecar's spec hash tells sampled sweeps apart (sample seed, points)
// and a plain grid's canonical spec has no sampling in it; shards of a
// sweep of blocks and samples merge into the whole run's bytes.
TEST_F(sample_cli, SidecarsAndShards)
{
    auto hash = [&](const std::string &table) {
        const std::string j = slurp(path(table + ".json"));
        const size_t key = j.find("\"spec_sha256\":"), at = key == std::string::npos ? key : j.find('"', key + 14);
        return at == std::string::npos ? std::string("none") : j.substr(at + 1, 64);
    };
    const std::vector<std::string> base = {"run", "--optimizer", "sgd", "--and", "--optimizer", "adam", "--random", "5",
                                           "--lr", "log_uniform(1e-3,1e-1)", "--epochs", "2", "--n", "64", "--quiet"};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a = base;
        a.insert(a.end(), extra.begin(), extra.end());
        Proc p = run(a);
        EXPECT_EQ(p.status, 0) << p.err;
    };
    with({"-o", "a.csv"});
    if (slurp(path("a.csv.json")).empty()) GTEST_SKIP() << "built without sidecars";
    with({"-o", "b.csv", "--sample-seed", "1"});
    with({"-o", "c.csv", "--sobol", "5"});
    with({"-o", "d.csv", "--threads", "1"});
    ASSERT_EQ(hash("a.csv").find_first_not_of("0123456789abcdef"), std::string::npos) << hash("a.csv");
    EXPECT_NE(hash("a.csv"), hash("b.csv"));
    EXPECT_NE(hash("a.csv"), hash("c.csv"));
    EXPECT_EQ(hash("a.csv"), hash("d.csv"));
    with({"-o", "p1.csv", "--shard", "1/2"});
    with({"-o", "p2.csv", "--shard", "2/2"});
    Proc p = run({"merge", "p1.csv", "p2.csv", "-o", "m.csv"});
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(slurp(path("m.csv")), slurp(path("a.csv")));
    p = run({"run", "--lr", "0.1", "--epochs", "2", "--n", "64", "--quiet", "-o", "g.csv"});
    EXPECT_EQ(p.status, 0) << p.err;
    p = run({"run", "--lr", "0.1", "--epochs", "2", "--n", "64", "--quiet", "-o", "h.csv", "--sample-seed", "3"});
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(hash("g.csv"), hash("h.csv")) << "a grid's table does not depend on the sample seed";
    EXPECT_EQ(slurp(path("g.csv.json")).find("sample_seed"), std::string::npos);
}

TEST_F(sample_cli, BadDistributions)
{
    const std::vector<std::vector<std::string>> cases = {
        {"run", "--lr", "uniform(0.1,0.2)"},                            // no random/sobol
        {"run", "--random", "4", "--lr", "uniform(0.2,0.1)"},           // a >= b
        {"run", "--random", "4", "--lr", "log_uniform(0,1)"},           // a <= 0
        {"run", "--random", "4", "--epochs", "uniform(1,5)"},           // an integer axis
        {"run", "--random", "4", "--epochs", "int_uniform(1.5,5)"},     // not integers
        {"run", "--random", "4", "--beta2", "uniform(0.9,1.5)"},        // out of the axis's range
        {"run", "--random", "0"},                                       // no points
        {"run", "--random", "4", "--lr", "uniform(0.1,0.2)", "--lr", "0.3"}, // a distribution and values
    };
    for (auto args : cases) {
        args.insert(args.end(), {"-o", "o.csv"});
        SCOPED_TRACE(join(args, " "));
        Proc p = run(args);
        EXPECT_EQ(p.status, 2);
        EXPECT_EQ(lines_of(p.err).size(), 1u) << p.err;
        EXPECT_TRUE(listing().empty());
    }
}

} // namespace
