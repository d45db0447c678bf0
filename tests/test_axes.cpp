// test_axes.cpp — dtype, shuffle, sched_step, n, noise and target as sweep
// axes (docs/design.md §2, "The axis table").
//
// The reference for a sweep over them is the sweeps of each combination
// of their values alone: those axes nest outside the optimizer, so the
// mixed table must be, row for row and byte for byte on every column but
// trial, the concatenation of the single-valued tables (in the nesting
// order dtype, shuffle, sched_step, n, noise, target) — at any --threads,
// --block and --simd. A sampled block's rows are each checked against the
// single training its row names. Bad values exit 2 naming the flag and the
// value; --data refuses a swept n or noise; summarize groups by the new
// columns and counts success against each row's own target.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace ostest;

class axes : public ProgramTest {
protected:
    axes() : ProgramTest("/tmp/orbitsweep_axes.XXXXXX") {}

    Table run_table(std::vector<std::string> args, const std::string &out)
    {
        args.insert(args.end(), {"--quiet", "-o", out});
        const Proc q = run(args);
        EXPECT_EQ(q.status, 0) << join(args, " ") << "\n" << q.err;
        return read_table(slurp(path(out)), false);
    }
};

// Every training of the sweep: two optimizers (one with a scheduler's
// table), short last batches, several seeds.
const std::vector<std::string> kBase = {"--optimizer", "sgd,adam", "--lr", "0.02,0.2", "--epochs", "3",
                                        "--batch-size", "16,48", "--seeds", "3", "--scheduler",
                                        "step:step_size=2,gamma=0.5"};

// The new axes' values, in nesting order (outermost first).
const std::vector<std::pair<std::string, std::vector<std::string>>> kAxes = {
    {"--dtype", {"float32", "float64"}}, {"--shuffle", {"shared", "trial"}}, {"--sched-step", {"update", "epoch"}},
    {"--n", {"64", "100"}},              {"--noise", {"0", "0.05"}},         {"--target", {"0.01", "0.3"}},
};

TEST_F(axes, MixedSweepIsTheConcatenationOfItsCombinations)
{
    // the reference: one run per combination, concatenated in nesting order
    std::vector<std::string> expect;
    const size_t combos = (size_t)1 << kAxes.size();
    for (size_t c = 0; c < combos; ++c) {
        std::vector<std::string> args = {"run"};
        args.insert(args.end(), kBase.begin(), kBase.end());
        for (size_t k = 0; k < kAxes.size(); ++k) /* the last axis turns fastest */
            args.insert(args.end(), {kAxes[k].first, kAxes[k].second[(c >> (kAxes.size() - 1 - k)) & 1]});
        const Table t = run_table(args, "one.csv");
        ASSERT_EQ(t.rows.size(), 24u);
        for (const auto &r : rows_without_trial(t)) expect.push_back(r);
    }
    std::vector<std::string> mixed = {"run"};
    mixed.insert(mixed.end(), kBase.begin(), kBase.end());
    for (const auto &a : kAxes) mixed.insert(mixed.end(), {a.first, a.second[0] + "," + a.second[1]});
    const std::vector<std::vector<std::string>> executions = {
        {"--threads", "1"}, {"--threads", "2", "--block", "7"}, {"--threads", "2", "--simd", "off", "--block", "500"}};
    std::string first;
    for (const auto &ex : executions) {
        std::vector<std::string> args = mixed;
        args.insert(args.end(), ex.begin(), ex.end());
        SCOPED_TRACE(join(ex, " "));
        const Table t = run_table(args, "mixed.csv");
        ASSERT_EQ(t.rows.size(), expect.size());
        const std::vector<std::string> got = rows_without_trial(t);
        for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expect[i]) << "row " << i;
        for (size_t i = 0; i < t.rows.size(); ++i) ASSERT_EQ(t.at(i, "trial"), std::to_string(i));
        if (first.empty()) first = slurp(path("mixed.csv"));
        EXPECT_EQ(slurp(path("mixed.csv")), first);
    }
    // the same sweep from a file, keys for the new axes
    spit(path("s.yaml"), "optimizer: [sgd, adam]\nlr: [0.02, 0.2]\nepochs: 3\nbatch_size: [16, 48]\nseeds: 3\n"
                         "scheduler: 'step:step_size=2,gamma=0.5'\ndtype: [float32, float64]\nshuffle: [shared, trial]\n"
                         "sched_step: [update, epoch]\nn: [64, 100]\nnoise: [0, 0.05]\ntarget: [0.01, 0.3]\n");
    run_table({"run", "s.yaml"}, "file.csv");
    EXPECT_EQ(slurp(path("file.csv")), first);
}

// A float32/float64 archive: final_wa/final_wb as <f8 (a float32 value is
// exact in a double); the codes of dtype name the CSV's text.
TEST_F(axes, MixedDtypeArchiveHoldsTheCsvValues)
{
    std::vector<std::string> args = {"run", "--optimizer", "adam", "--lr", "0.01,0.1", "--epochs", "2", "--n", "64",
                                     "--dtype", "float32,float64", "--shuffle", "none,shared"};
    const Table t = run_table(args, "r.csv");
    args.insert(args.end(), {"--quiet", "-o", "r.npz"});
    ASSERT_EQ(run(args).status, 0);
    // read back with numpy (the archive's own reader)
    const std::string py = "import numpy as np, csv, sys\n"
                           "z = np.load('r.npz'); rows = list(csv.DictReader(open('r.csv')))\n"
                           "assert z['final_wa'].dtype == np.float64, z['final_wa'].dtype\n"
                           "cats = list(z['dtype_categories']); sh = list(z['shuffle_categories'])\n"
                           "for i, r in enumerate(rows):\n"
                           "    assert cats[z['dtype'][i]] == r['dtype'] and sh[z['shuffle'][i]] == r['shuffle']\n"
                           "    f = np.float32 if r['dtype'] == 'float32' else np.float64\n"
                           "    assert float(f(r['final_wa'])) == z['final_wa'][i], (i, r['final_wa'])\n"
                           "print(len(rows))\n";
    spit(path("check.py"), py);
    const std::string cmd = "cd " + work_ + " && /usr/bin/python3 check.py > py.out 2>&1";
    if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) GTEST_SKIP() << "no numpy";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << slurp(path("py.out"));
    EXPECT_EQ(slurp(path("py.out")), std::to_string(t.rows.size()) + "\n");
}

// A sampled block draws the new axes (noise uniform, n int_uniform, dtype,
// shuffle and sched_step choice, target log_uniform): each row is the
// training it names, run alone; values within their support; the same
// table at other --threads and --block.
TEST_F(axes, SampledNewAxesAreTheTrainingsTheyName)
{
    const std::vector<std::string> args = {
        "run", "--optimizer", "sgd,momentum", "--lr", "log_uniform(1e-3,1e-1)", "--epochs", "2", "--random", "8",
        "--sample-seed", "3", "--noise", "uniform(0,0.2)", "--n", "int_uniform(40,90)", "--dtype", "choice(float32,float64)",
        "--shuffle", "choice(shared,trial,none)", "--sched-step", "update,epoch", "--target", "log_uniform(1e-3,1e-1)",
        "--scheduler", "step:step_size=3,gamma=0.5", "--seeds", "2"};
    const Table t = run_table(args, "s.csv");
    ASSERT_EQ(t.rows.size(), 32u);
    std::vector<std::string> again = args;
    again.insert(again.end(), {"--threads", "1", "--block", "3"});
    run_table(again, "s2.csv");
    EXPECT_EQ(slurp(path("s.csv")), slurp(path("s2.csv")));
    std::vector<std::string> seen_dtype, seen_n;
    for (size_t i = 0; i < t.rows.size(); ++i) {
        const double noise = std::stod(t.at(i, "noise")), target = std::stod(t.at(i, "target"));
        const int n = std::stoi(t.at(i, "n"));
        EXPECT_TRUE(noise >= 0 && noise < 0.2) << noise;
        EXPECT_TRUE(n >= 40 && n <= 90) << n;
        EXPECT_TRUE(target >= 1e-3 && target <= 1e-1) << target;
        seen_dtype.push_back(t.at(i, "dtype"));
        seen_n.push_back(t.at(i, "n"));
    }
    std::sort(seen_dtype.begin(), seen_dtype.end());
    EXPECT_NE(seen_dtype.front(), seen_dtype.back()) << "both dtypes drawn";
    std::sort(seen_n.begin(), seen_n.end());
    EXPECT_NE(seen_n.front(), seen_n.back()) << "several n drawn";
    // rows 0, 1 (a point's two seeds), 9 and 30: each the training its row names
    for (size_t i : {0u, 1u, 9u, 30u}) {
        SCOPED_TRACE("row " + std::to_string(i));
        std::vector<std::string> one = {"run", "--seeds", "1", "--seed", t.at(i, "seed"), "--epochs", "2",
                                        "--scheduler", "step:step_size=3,gamma=0.5"};
        for (const char *c : {"optimizer", "lr", "dtype", "shuffle", "sched_step", "n", "noise", "target"}) {
            std::string flag = std::string("--") + c;
            std::replace(flag.begin(), flag.end(), '_', '-');
            one.insert(one.end(), {flag, t.at(i, c)});
        }
        if (!t.at(i, "momentum").empty()) one.insert(one.end(), {"--momentum", t.at(i, "momentum")});
        const Table o = run_table(one, "one.csv");
        ASSERT_EQ(o.rows.size(), 1u);
        const std::string row = join(std::vector<std::string>(t.rows[i].begin() + 1, t.rows[i].end()), ",");
        EXPECT_EQ(rows_without_trial(o)[0], row);
    }
}

// Bad values of the new axes: exit 2, one line naming the flag and the
// value, no output file.
TEST_F(axes, BadValuesExitTwoNamingFlagAndValue)
{
    const std::vector<std::vector<std::string>> cases = {
        {"--dtype", "float32,float16"}, {"--shuffle", "random"},  {"--sched-step", "step"}, {"--n", "1"},
        {"--n", "64.5"},                {"--noise", "-0.1"},      {"--target", "0"},        {"--target", "nan"},
        {"--n", "uniform(64,128)"},     {"--dtype", "choice(float32,half)"}};
    for (const auto &c : cases) {
        SCOPED_TRACE(join(c, " "));
        const Proc p = run({"run", c[0], c[1], "--quiet", "-o", "bad.csv"});
        EXPECT_EQ(p.status, 2);
        EXPECT_EQ(lines_of(p.err).size(), 1u) << p.err;
        EXPECT_NE(p.err.find(c[0]), std::string::npos) << p.err;
        const std::string value = c[1].find('(') != std::string::npos ? c[0] : c[1] == "float32,float16" ? "float16"
                                  : c[1] == "64.5" ? "64.5" : c[1];
        EXPECT_NE(p.err.find(value), std::string::npos) << p.err;
        EXPECT_FALSE(exists(path("bad.csv")));
    }
}

// --data: n and noise come from the file; sweeping them is bad input.
TEST_F(axes, DataFileRefusesSweptNAndNoise)
{
    ASSERT_NO_FATAL_FAILURE(write_dataset(path("d.csv"), 50));
    for (const auto &c : std::vector<std::vector<std::string>>{{"--n", "64,128"}, {"--noise", "0,0.1"}}) {
        const Proc p = run({"run", "--data", "d.csv", c[0], c[1], "--quiet", "-o", "r.csv"});
        EXPECT_EQ(p.status, 2) << p.err;
        EXPECT_NE(p.err.find(c[0] + ": swept with --data 'd.csv'"), std::string::npos) << p.err;
        EXPECT_FALSE(exists(path("r.csv")));
    }
    // one value: the file's points all the same, its n in the column and no noise
    const Table t = run_table({"run", "--data", "d.csv", "--epochs", "1", "--dtype", "float32,float64"}, "r.csv");
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.at(0, "n"), "50");
    EXPECT_EQ(t.at(1, "noise"), "");
    // data writes one dataset
    const Proc p = run({"data", "--n", "64,128", "-o", "x.csv"});
    EXPECT_EQ(p.status, 2);
    EXPECT_NE(p.err.find("--n"), std::string::npos) << p.err;
}

// summarize: one group per configuration including the new columns; each
// group's success rate counts its rows' own target (recomputed here from
// the results table).
TEST_F(axes, SummarizeGroupsByTheNewColumns)
{
    const Table r = run_table({"run", "--optimizer", "adam", "--lr", "0.05", "--epochs", "30", "--n", "64",
                               "--seeds", "5", "--dtype", "float32,float64", "--noise", "0,0.05", "--target",
                               "0.01,0.5"},
                              "r.csv");
    ASSERT_EQ(r.rows.size(), 40u);
    ASSERT_EQ(run({"summarize", "r.csv", "-o", "s.csv"}).status, 0);
    const Table s = read_table(slurp(path("s.csv")), false);
    ASSERT_EQ(s.rows.size(), 8u);
    for (size_t g = 0; g < 8; ++g) {
        EXPECT_EQ(s.at(g, "trainings"), "5");
        size_t ok = 0;
        for (size_t i = 5 * g; i < 5 * g + 5; ++i) {
            for (const char *c : {"dtype", "noise", "target", "n", "shuffle", "sched_step"})
                EXPECT_EQ(r.at(i, c), s.at(g, c)) << c;
            ok += r.at(i, "diverged") == "0" && std::stod(r.at(i, "param_error")) <= std::stod(r.at(i, "target"));
        }
        EXPECT_EQ(std::stod(s.at(g, "success_rate")), (double)ok / 5) << "group " << g;
    }
    // --target overrides every row's
    ASSERT_EQ(run({"summarize", "r.csv", "--target", "0.5", "-o", "s5.csv"}).status, 0);
    const Table s5 = read_table(slurp(path("s5.csv")), false);
    for (size_t g = 1; g < 8; g += 2) EXPECT_EQ(s5.at(g, "success_rate"), s.at(g, "success_rate"));
}

}  // namespace
