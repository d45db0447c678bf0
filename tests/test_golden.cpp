// test_golden.cpp — orbitsweep against PyTorch, through golden files that
// scripts/make_golden.py wrote with Debian's PyTorch (float64):
//  * every trace_*.csv: the `# args:` line is replayed with `orbitsweep
//    trace`; every update must match. Tolerances: lr exact; wa, wb, loss
//    1e-6 relative (docs/design.md §1); gradients, steps and optimizer state
//    1e-5 relative — near the mask edge dWa is ill-conditioned (a 1e-8
//    relative change of Wa moves it by up to 2.5e-6 relative) — with an
//    absolute floor of 1e-12 for values that cancel to ~0.
//  * trace_f32_*.csv: float32 trainings from (1, 1), where the problem is
//    well-conditioned. PyTorch's float32 reductions sum in another order,
//    so only lr (exact), wa and wb (3e-5 relative: RMSprop's sign-like steps
//    amplify float32 rounding to ~9e-6 observed) and the loss (1e-3) are
//    compared; gradients near the minimum are tiny and noisy.
//  * sched_lr.csv: every scheduler's lr sequence, exactly, in double.
//  * data_default.csv: the generated dataset, byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" {
#include "csv.h"
#include "orbitsweep/orbitsweep.h"
}
#include "test_util.h"

namespace {

std::string slurp_cmd(const std::string &cmd, int *status)
{
    std::string out;
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    *status = pclose(p);
    return out;
}

std::vector<std::vector<std::string>> read_csv_text(const std::string &text)
{
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> f;
        std::string cur;
        for (char c : line) {
            if (c == ',') f.push_back(cur), cur.clear();
            else cur += c;
        }
        f.push_back(cur);
        rows.push_back(f);
    }
    return rows;
}

std::vector<std::string> golden_traces()
{
    std::vector<std::string> names;
    DIR *d = opendir(OS_GOLDEN_DIR);
    if (!d) return names;
    while (dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.rfind("trace_", 0) == 0 && n.size() > 4 && n.substr(n.size() - 4) == ".csv")
            names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

// Relative tolerance of a column; negative: not compared.
double tolerance_for(const std::string &col, bool f32)
{
    if (col == "lr") return 0;
    if (f32) return col == "wa" || col == "wb" ? 3e-5 : col == "loss" ? 1e-3 : -1;
    if (col == "wa" || col == "wb" || col == "loss") return 1e-6;
    return 1e-5;
}

bool close_enough(double want, double got, double rtol)
{
    if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
    if (want == got) return true;
    if (rtol == 0) return false;
    return std::fabs(want - got) <= rtol * std::fmax(std::fabs(want), std::fabs(got)) + 1e-12;
}

class GoldenTrace : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(GoldenTrace, MatchesPyTorch)
{
    const std::string path = std::string(OS_GOLDEN_DIR) + "/" + GetParam();
    ASSERT_TRUE(std::ifstream(path).good()) << path;
    const std::string text = ostest::slurp(path);
    size_t at = text.find("# args:");
    ASSERT_NE(at, std::string::npos) << "no '# args:' line; regenerate with scripts/make_golden.py";
    std::string args = text.substr(at + 7, text.find('\n', at) - at - 7);

    int status = -1;
    // from the repository root: a table:FILE in the args is relative to it
    std::string out = slurp_cmd("cd " OS_GOLDEN_DIR "/../.. && " + std::string(OS_BIN) + " trace" + args, &status);
    ASSERT_EQ(status, 0) << "orbitsweep trace" << args;
    auto want = read_csv_text(text), got = read_csv_text(out);
    ASSERT_EQ(got.size(), want.size()) << "rows differ for" << args;
    ASSERT_EQ(got[0], want[0]) << "header";
    const auto &hdr = want[0];
    const bool f32 = args.find("--dtype float32") != std::string::npos;
    double worst = 0;
    for (size_t r = 1; r < want.size(); ++r) {
        ASSERT_EQ(got[r].size(), hdr.size()) << "row " << r;
        for (size_t c = 0; c < hdr.size(); ++c) {
            const std::string &w = want[r][c], &g = got[r][c];
            ASSERT_EQ(w.empty(), g.empty()) << hdr[c] << " at update " << r - 1;
            const double tol = tolerance_for(hdr[c], f32);
            if (w.empty() || tol < 0) continue;
            double wv = std::strtod(w.c_str(), nullptr), gv = std::strtod(g.c_str(), nullptr);
            ASSERT_TRUE(close_enough(wv, gv, tol))
                << GetParam() << ": " << hdr[c] << " at update " << r - 1 << ": PyTorch " << w
                << ", orbitsweep " << g << "\n  replay: orbitsweep trace" << args;
            if (hdr[c] == "wa" || hdr[c] == "wb")
                worst = std::fmax(worst, std::fabs(wv - gv) / std::fmax(std::fabs(wv), 1e-300));
        }
    }
    RecordProperty("worst_param_rel_error", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(PyTorch, GoldenTrace, ::testing::ValuesIn(golden_traces()),
                         [](const ::testing::TestParamInfo<std::string> &p) {
                             std::string n = p.param.substr(6, p.param.size() - 10);
                             for (char &ch : n)
                                 if (!isalnum((unsigned char)ch)) ch = '_';
                             return n;
                         });

TEST(GoldenFiles, EnoughTraces) { EXPECT_GE(golden_traces().size(), 40u); }

// Every scheduler's lr after k scheduler.step() calls equals PyTorch's, bit for bit.
TEST(GoldenSchedules, LrSequencesExact)
{
    os_csv r;
    ASSERT_TRUE(os_csv_open(&r, OS_GOLDEN_DIR "/sched_lr.csv", OS_CSV_MAX_BYTES));
    int rows = 0, header = 0;
    std::string cur_spec;
    double cur_base = NAN;
    os_sched_spec spec;
    os_sched_state st;
    while (os_csv_next(&r) == 1) {
        if (r.fields[0][0] == '#') continue;
        if (!header) {
            header = 1;
            ASSERT_STREQ(r.fields[0], "scheduler");
            continue;
        }
        ASSERT_EQ(r.n_fields, 4);
        double base = std::strtod(r.fields[1], nullptr), want = std::strtod(r.fields[3], nullptr);
        long step = std::strtol(r.fields[2], nullptr, 10);
        if (cur_spec != r.fields[0] || base != cur_base || step == 0) {
            cur_spec = r.fields[0];
            cur_base = base;
            os_error err;
            ASSERT_EQ(os_sched_parse(r.fields[0], &spec, &err), OS_OK) << err.msg;
            os_sched_init(&spec.s, &st, base, 0);
            ASSERT_EQ(step, 0);
        } else {
            os_sched_step(&spec.s, &st);
        }
        ASSERT_EQ(st.e, step);
        EXPECT_EQ(st.lr, want) << cur_spec << " base " << base << " step " << step;
        ++rows;
    }
    os_csv_close(&r);
    EXPECT_GT(rows, 1000);
}

// The scheduler catalogue (none's successors: constant, linear, polynomial,
// cosine_warm_restarts, cyclic, onecycle, plateau, table, sequential, chain):
// the lr after k steps, and the momentum it cycles, equal PyTorch's bit for
// bit (tests/golden/sched_catalogue.csv; plateau steps on its metric column).
TEST(GoldenSchedules, CatalogueExact)
{
    os_csv r;
    ASSERT_TRUE(os_csv_open(&r, OS_GOLDEN_DIR "/sched_catalogue.csv", OS_CSV_MAX_BYTES));
    ASSERT_EQ(chdir(OS_GOLDEN_DIR "/../.."), 0);  // table:FILE is relative to the repository
    int rows = 0, header = 0, cycled = 0, plateau_cuts = 0;
    std::string cur_spec;
    double cur_base = NAN;
    os_sched_spec spec;
    bool have = false;
    os_sched_state st;
    while (os_csv_next(&r) == 1) {
        if (r.fields[0][0] == '#') continue;
        if (!header) {
            header = 1;
            ASSERT_STREQ(r.fields[5], "metric");
            continue;
        }
        ASSERT_EQ(r.n_fields, 6);
        const double base = std::strtod(r.fields[1], nullptr), want = std::strtod(r.fields[3], nullptr);
        const long step = std::strtol(r.fields[2], nullptr, 10);
        const bool mom = r.fields[4][0] != 0;
        if (step == 0) {
            if (have) os_sched_free(&spec.s);
            cur_spec = r.fields[0];
            cur_base = base;
            os_error err;
            ASSERT_EQ(os_sched_parse(r.fields[0], &spec, &err), OS_OK) << err.msg;
            have = true;
            os_sched_init(&spec.s, &st, base, mom);
        } else if (r.fields[5][0]) {
            const double before = st.lr;
            os_sched_epoch(&spec.s, &st, std::strtod(r.fields[5], nullptr));
            plateau_cuts += st.lr != before;
        } else {
            os_sched_step(&spec.s, &st);
        }
        ASSERT_EQ(cur_spec, r.fields[0]);
        ASSERT_EQ(cur_base, base);
        EXPECT_EQ(st.lr, want) << cur_spec << " base " << base << " step " << step;
        if (mom) {
            EXPECT_EQ(st.mom, std::strtod(r.fields[4], nullptr)) << cur_spec << " momentum, step " << step;
            ++cycled;
        }
        ++rows;
    }
    if (have) os_sched_free(&spec.s);
    os_csv_close(&r);
    EXPECT_GT(rows, 3000);
    EXPECT_GT(cycled, 300);
    EXPECT_GT(plateau_cuts, 8);
}

// The generated dataset equals the independent Python port, byte for byte.
TEST(GoldenData, DefaultDataset)
{
    int status = -1;
    std::string out = slurp_cmd(std::string(OS_BIN) + " data", &status);
    ASSERT_EQ(status, 0);
    EXPECT_EQ(out, ostest::slurp(OS_GOLDEN_DIR "/data_default.csv"));
}

// ---------------------------------------------------------------------------
// Momentum / beta1 cycling, the optimizer side (os_opt_step's `mom`):
// cycle_*.csv are float64 trainings in which make_golden.py set
// param_groups[0]['momentum'] (or beta1 of 'betas') to `mom` before every
// optimizer.step(). PyTorch's own gradients (dwa, dwb) and lr are fed to
// os_opt_step_f64 with that mom; the parameters after every step and the
// optimizer state must match to 1e-10 relative (the same gradients leave
// only rounding: torch's beta1**t is glibc's pow, ours the correctly
// rounded power), absolute floor 1e-300.

namespace {

std::vector<std::string> golden_files(const char *prefix)
{
    std::vector<std::string> names;
    DIR *d = opendir(OS_GOLDEN_DIR);
    if (!d) return names;
    while (dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.rfind(prefix, 0) == 0) names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

// The optimizer hyperparameters of a `# args:` line, as `orbitsweep trace`
// would plan them (per-optimizer defaults, unused ones NaN).
os_opt_hp plan_hp(const std::string &args)
{
    std::istringstream in(args);
    std::vector<std::string> tok;
    for (std::string t; in >> t;) tok.push_back(t);
    os_spec spec;
    os_error err;
    EXPECT_EQ(os_spec_init(&spec), OS_OK);
    for (size_t i = 0; i + 1 < tok.size(); i += 2) {
        int axis = -1;
        for (int a = 0; a < OS_AX_COUNT; ++a)
            if (tok[i] == os_axes[a].flag) axis = a;
        if (axis >= 0) {
            EXPECT_EQ(os_spec_set_axis(&spec, axis, tok[i + 1].c_str(), 1, &err), OS_OK) << err.msg;
        } else {
            const int s = os_setting_find(tok[i].c_str());
            EXPECT_GE(s, 0) << tok[i];
            if (s >= 0) {
                EXPECT_EQ(os_spec_set(&spec, s, tok[i + 1].c_str(), &err), OS_OK) << err.msg;
            }
        }
    }
    os_sweep sw;
    os_opt_hp hp{};
    EXPECT_EQ(os_sweep_plan(&spec, &sw, &err), OS_OK) << err.msg;
    EXPECT_EQ(sw.n_trials, 1u);
    if (sw.n_trials) hp = sw.trials[0].opt;
    os_sweep_free(&sw);
    os_spec_free(&spec);
    return hp;
}

class GoldenCycle : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(GoldenCycle, OptimizerStepWithPyTorchsMomentum)
{
    const std::string text = ostest::slurp(std::string(OS_GOLDEN_DIR) + "/" + GetParam());
    const size_t at = text.find("# args:");
    ASSERT_NE(at, std::string::npos);
    const std::string args = text.substr(at + 7, text.find('\n', at) - at - 7);
    const os_opt_hp hp = plan_hp(args);
    const auto rows = read_csv_text(text);
    const auto &hdr = rows[0];
    ASSERT_EQ(hdr.back(), "mom");
    auto col = [&](const char *name) {
        return (size_t)(std::find(hdr.begin(), hdr.end(), name) - hdr.begin());
    };
    const size_t c_lr = col("lr"), c_wa = col("wa"), c_wb = col("wb"), c_gwa = col("dwa"),
                 c_gwb = col("dwb"), c_mom = col("mom"), c_m = col("m_wa"), c_v = col("v_wa");
    os_opt_state_f64 st;
    os_opt_init_f64(&st);
    double p[2] = {std::strtod(rows[1][c_wa].c_str(), nullptr), std::strtod(rows[1][c_wb].c_str(), nullptr)};
    auto near = [](double want, double got) {
        return want == got || std::fabs(want - got) <= 1e-10 * std::fmax(std::fabs(want), std::fabs(got)) + 1e-300;
    };
    size_t steps = 0;
    for (size_t r = 1; r + 1 < rows.size(); ++r, ++steps) {
        const auto &row = rows[r];
        const double g[2] = {std::strtod(row[c_gwa].c_str(), nullptr), std::strtod(row[c_gwb].c_str(), nullptr)};
        os_opt_step_f64(&hp, &st, p, g, std::strtod(row[c_lr].c_str(), nullptr),
                        std::strtod(row[c_mom].c_str(), nullptr));
        const auto &next = rows[r + 1];
        for (int i = 0; i < 2; ++i) {
            const double want = std::strtod(next[i ? c_wb : c_wa].c_str(), nullptr);
            ASSERT_TRUE(near(want, p[i])) << GetParam() << " update " << r - 1 << " param " << i
                                          << ": PyTorch " << want << ", orbitsweep " << p[i];
            const std::string &m = row[c_m + i], &v = row[c_v + i];
            if (!m.empty()) {
                EXPECT_TRUE(near(std::strtod(m.c_str(), nullptr), st.m[i])) << "m at " << r - 1;
            }
            if (!v.empty()) {
                EXPECT_TRUE(near(std::strtod(v.c_str(), nullptr), st.v[i])) << "v at " << r - 1;
            }
        }
    }
    EXPECT_GE(steps, 40u);
}

INSTANTIATE_TEST_SUITE_P(PyTorch, GoldenCycle, ::testing::ValuesIn(golden_files("cycle_")),
                         [](const ::testing::TestParamInfo<std::string> &p) {
                             return p.param.substr(6, p.param.size() - 10);
                         });

TEST(GoldenFiles, CycleTraces) { EXPECT_GE(golden_files("cycle_").size(), 10u); }

// beta**t by squaring in double-double (a cycled beta1's bias correction):
// the correctly rounded power (make_golden.py's fractions.Fraction) at every
// row, equal to the running product's, and within one ulp of Python's
// beta ** t (glibc's pow, what torch uses).
TEST(GoldenPow, CycledBetaPowerIsCorrectlyRounded)
{
    const auto rows = read_csv_text(ostest::slurp(OS_GOLDEN_DIR "/beta_pow.csv"));
    ASSERT_EQ(rows[0], (std::vector<std::string>{"beta", "t", "python", "exact"}));
    int differ = 0;
    for (size_t r = 1; r < rows.size(); ++r) {
        const double b = std::strtod(rows[r][0].c_str(), nullptr), py = std::strtod(rows[r][2].c_str(), nullptr),
                     exact = std::strtod(rows[r][3].c_str(), nullptr);
        const long t = std::strtol(rows[r][1].c_str(), nullptr, 10);
        const os_powdd sq = os_powdd_pow(b, t);
        os_powdd run = {1.0, 0.0};
        for (long k = 0; k < t; ++k) os_powdd_mul(&run, b);
        ASSERT_EQ(sq.hi, exact) << b << "**" << t;
        ASSERT_EQ(run.hi, exact) << b << "**" << t;
        if (py != exact) {
            ++differ;
            EXPECT_EQ(std::fabs(py - exact), std::fabs(std::nextafter(exact, 0.0) - exact)) << b << "**" << t;
        }
    }
    EXPECT_GT(rows.size(), 500u);
    EXPECT_LT(differ, 10);
}
