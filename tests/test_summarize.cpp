// test_summarize.cpp — `orbitsweep summarize`: one row per configuration.
// The library (os_summary_load / os_summary_write, src/summarize.h) on a
// hand-written results table whose groups were computed by hand, then the
// command line through the built binary (OS_BIN): the same table, bad input
// (exit 2, one stderr line, no file left behind), and run -> summarize end
// to end. Then the streaming: the windowed CSV reader against the
// whole-file one, generated tables (adjacent and shuffled, every read
// window size) against a reference grouping written here, the same
// messages from both grouping paths, stdin and pipes, and the memory of a
// large table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "summarize.h"
#include "test_util.h"

extern "C" {
#include "csv.h"
}

namespace {

// ---------------------------------------------------------------------------
// the hand-written table

// Columns in an unusual order with extra ones (best_loss first, oscillation
// last, diverged before the metrics): everything is found by name.
const char *const kHeader =
    "trial,best_loss,optimizer,lr,scheduler,momentum,dampening,alpha,beta1,beta2,eps,"
    "weight_decay,batch_size,epochs,init_wa,init_wb,seed,final_wa,final_wb,final_loss,diverged,"
    "loss_gap,param_error,steps_to_target,oscillation\n";
// The same with the axes added later (amsgrad ... rho); kHeader is a table
// from before them, which summarize still reads.
const char *const kHeaderNow =
    "trial,best_loss,optimizer,lr,scheduler,momentum,dampening,alpha,beta1,beta2,eps,"
    "weight_decay,amsgrad,centered,momentum_decay,lr_decay,initial_accumulator_value,rho,"
    "batch_size,epochs,init_wa,init_wb,dtype,shuffle,sched_step,n,noise,target,seed,final_wa,final_wb,final_loss,"
    "diverged,loss_gap,param_error,steps_to_target,oscillation\n";

// The 14 configuration fields (optimizer ... init_wb) of each group, as CSV.
const char *const G1 = "sgd,0.1,none,,,,,,,0,64,100,0.1,1.8";
const char *const G2 = "adam,3,none,,,,0.9,0.999,1e-08,0,64,100,0.1,1.8";
const char *const G3 = "momentum,0.01,none,0.9,0,,,,,0,64,100,0.1,1.8";
const char *const G4 = "rmsprop,0.001,none,,,0.99,,,1e-08,0,32,50,0.1,1.8";
const char *const G5 = "adam,0.01,\"multistep:milestones=4/8,gamma=0.8\",,,,0.9,0.999,1e-08,0,64,100,0.1,1.8";
const char *const G6 = "sgd,0.10,none,,,,,,,0,64,100,0.1,1.8";  // G1 but "0.10": its own group

// One training; the extra columns hold plausible filler.
std::string row(int trial, const char *cfg, int seed, int diverged, const char *gap,
                const char *pe, const char *steps)
{
    std::ostringstream s;
    s << trial << ",0.0" << trial + 1 << "," << cfg << "," << seed << ",1.25,1.23,"
      << (diverged ? "nan" : "0.0105") << "," << diverged << "," << gap << "," << pe << ","
      << steps << ",0.5\n";
    return s.str();
}

// Groups, interleaved (order of first appearance: G1 G2 G4 G3 G5 G6), as
// (param_error, loss_gap, steps_to_target) per training:
//  G1 4 seeds: (0.004,0.1,40) (0.008,0.3,12) (0.001,0.2,20) (0.3,0.4,-)
//  G2 3 seeds, all diverged (param_error finite, as the engine writes it)
//  G3 a single training: (0.005, 0.002, 77)
//  G4 5 seeds: (0.5,nan,-) (0.009,0.001,15) (0.2,0.1,-) diverged (0.002,0.0005,9)
//  G5 2 seeds: (0.01,0.02,30) (0.03,0.04,-); 0.01 is exactly the target
//  G6 1 training: (0.05, 0.01, -)
std::string hand_table()
{
    return std::string(kHeader) +
           row(0, G1, 0, 0, "0.1", "0.004", "40") +
           row(1, G2, 0, 1, "nan", "1046715.418111794", "") +
           row(2, G1, 1, 0, "0.3", "0.008", "12") +
           row(3, G4, 0, 0, "nan", "0.5", "") +
           row(4, G3, 0, 0, "0.002", "0.005", "77") +
           row(5, G2, 1, 1, "nan", "2765132.532840022", "") +
           row(6, G5, 0, 0, "0.02", "0.01", "30") +
           row(7, G1, 2, 0, "0.2", "0.001", "20") +
           row(8, G4, 1, 0, "0.001", "0.009", "15") +
           row(9, G6, 0, 0, "0.01", "0.05", "") +
           row(10, G4, 2, 0, "0.1", "0.2", "") +
           row(11, G2, 2, 1, "nan", "1.5e6", "") +
           row(12, G4, 3, 1, "nan", "2000000", "") +
           row(13, G5, 1, 0, "0.04", "0.03", "") +
           row(14, G1, 3, 0, "0.4", "0.3", "") +
           row(15, G4, 4, 0, "0.0005", "0.002", "9");
}

// Expected statistics, by hand with numpy's linear method: sorted values
// v[0..n-1], position p = (n-1)q, v[floor p] + (v[floor p + 1] - v[floor p])·frac(p);
// diverged and nan are +inf. (numpy.quantile agrees on every finite case;
// where an inf is a neighbour numpy says nan and we take the limit.)
//  G1 param_error 0.001 0.004 0.008 0.3: median p=1.5 -> 0.006,
//     q25 p=0.75 -> 0.001+0.003·0.75 = 0.00325, q75 p=2.25 -> 0.008+0.292·0.25 = 0.081;
//     loss_gap 0.1 0.2 0.3 0.4 -> 0.25, 0.175, 0.325; steps 12 20 40 inf -> 30;
//     success 3/4 (<= 0.01), reached 3.
//  G2 everything inf, success 0, divergence 1, steps median empty, reached 0.
//  G3 n = 1: every quantile is the value itself; success 1, steps 77.
//  G4 param_error 0.002 0.009 0.2 0.5 inf: median p=2 -> 0.2, q25 p=1 -> 0.009,
//     q75 p=3 -> 0.5; loss_gap 0.0005 0.001 0.1 inf inf -> 0.1, 0.001, inf;
//     steps 9 15 inf inf inf -> inf (3 of 5 never reached); success 2/5,
//     divergence 1/5, reached 2.
//  G5 param_error 0.01 0.03 -> 0.02, 0.015, 0.025; loss_gap -> 0.03, 0.025,
//     0.035; steps 30 inf: p=0.5 lies between 30 and inf -> inf (exactly half
//     reached); success 1/2 (param_error == target counts), reached 1.
//  G6 n = 1, success 0, steps empty.
struct Expected {
    const char *optimizer, *lr, *scheduler;
    size_t n, n_success, n_diverged, n_reached;
    double pe[3], gap[3], steps;  // {median, q25, q75}
};

const double kInf = INFINITY;

// numpy.quantile(v, q) with its default method 'linear', written out from
// numpy's definition (a second implementation, not the library's): sorted
// v, position (n-1)q between v[i] and v[i+1], numpy's two-sided lerp
// (a + (b-a)t below t = 0.5, b - (b-a)(1-t) from 0.5). Where an infinity is
// a neighbour the result is its limit (numpy would say nan).
double numpy_linear(std::vector<double> v, double q)
{
    std::sort(v.begin(), v.end());
    const double pos = (double)(v.size() - 1) * q;
    const size_t i = (size_t)std::floor(pos), j = std::min(i + 1, v.size() - 1);
    const double t = pos - std::floor(pos), a = v[i], b = v[j];
    if (t == 0 || a == b) return a;
    if (std::isinf(a) || std::isinf(b)) return std::isinf(b) ? b : a;
    return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

// A group from its trainings' (param_error, loss_gap, steps) with +inf for
// diverged, nan and never reached, as the summary counts them.
Expected group(const char *opt, const char *lr, const char *sched, size_t n_success, size_t n_diverged,
               const std::vector<double> &pe, const std::vector<double> &gap, const std::vector<double> &steps)
{
    Expected e = {opt, lr, sched, pe.size(), n_success, n_diverged, 0, {0, 0, 0}, {0, 0, 0}, 0};
    const double qs[3] = {0.5, 0.25, 0.75};
    for (int k = 0; k < 3; ++k) e.pe[k] = numpy_linear(pe, qs[k]), e.gap[k] = numpy_linear(gap, qs[k]);
    e.steps = numpy_linear(steps, 0.5);
    for (double s : steps) e.n_reached += std::isfinite(s);
    return e;
}

const std::vector<Expected> &expected()
{
    static const std::vector<Expected> e = {
        group("sgd", "0.1", "none", 3, 0, {0.004, 0.008, 0.001, 0.3}, {0.1, 0.3, 0.2, 0.4}, {40, 12, 20, kInf}),
        group("adam", "3", "none", 0, 3, {kInf, kInf, kInf}, {kInf, kInf, kInf}, {kInf, kInf, kInf}),
        group("rmsprop", "0.001", "none", 2, 1, {0.5, 0.009, 0.2, kInf, 0.002}, {kInf, 0.001, 0.1, kInf, 0.0005},
              {kInf, 15, kInf, kInf, 9}),
        group("momentum", "0.01", "none", 1, 0, {0.005}, {0.002}, {77}),
        group("adam", "0.01", "multistep:milestones=4/8,gamma=0.8", 1, 0, {0.01, 0.03}, {0.02, 0.04}, {30, kInf}),
        group("sgd", "0.10", "none", 0, 0, {0.05}, {0.01}, {kInf}),
    };
    // the hand values of the comment above, to the decimal
    EXPECT_NEAR(e[0].pe[2], 0.081, 1e-15);
    EXPECT_NEAR(e[0].gap[1], 0.175, 1e-15);
    EXPECT_EQ(e[0].steps, 30);
    EXPECT_EQ(e[2].gap[2], kInf);
    EXPECT_EQ(e[4].steps, kInf);
    return e;
}

// Bitwise equality (infinities equal, NaN never): the summary's numbers are
// exactly numpy's.
::testing::AssertionResult exactly(double a, double b)
{
    if (a == b) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << std::hexfloat << a << " != " << b;
}

// ---------------------------------------------------------------------------
// helpers (ostest: files, a strict RFC 4180 reader, running the binary)

using namespace ostest;

const char *const kSummaryHeader =
    "optimizer,lr,scheduler,momentum,dampening,alpha,beta1,beta2,eps,weight_decay,amsgrad,"
    "centered,momentum_decay,lr_decay,initial_accumulator_value,rho,batch_size,"
    "epochs,init_wa,init_wb,dtype,shuffle,sched_step,n,noise,target,trainings,success_rate,divergence_rate,param_error_median,param_error_q25,"
    "param_error_q75,loss_gap_median,loss_gap_q25,loss_gap_q75,steps_to_target_median,"
    "steps_to_target_reached";

// A summary table: records end with "\n" only (a "\r" stays in the field).
Table read_table(const std::string &text) { return ostest::read_table(text, false); }

// Each test gets root/ (mkdtemp) for captured output and root/work/, the
// program's working directory (ostest::ProgramTest: run, path, listing).
class summarize : public ProgramTest {
protected:
    summarize() : ProgramTest("/tmp/orbitsweep_summarize.XXXXXX") {}
};

void check_groups(const os_summary &s)
{
    const auto &e = expected();
    ASSERT_EQ(s.n_groups, e.size());
    EXPECT_EQ(s.n_trainings, 16u);
    for (size_t g = 0; g < e.size(); ++g) {
        const os_summary_group &gr = s.groups[g];
        SCOPED_TRACE("group " + std::to_string(g) + " (" + e[g].optimizer + " lr " + e[g].lr + ")");
        EXPECT_STREQ(gr.config[0], e[g].optimizer);
        EXPECT_STREQ(gr.config[1], e[g].lr);
        EXPECT_STREQ(gr.config[2], e[g].scheduler);
        EXPECT_EQ(gr.n, e[g].n);
        EXPECT_EQ(gr.n_success, e[g].n_success);
        EXPECT_EQ(gr.n_diverged, e[g].n_diverged);
        EXPECT_EQ(gr.n_reached, e[g].n_reached);
        EXPECT_TRUE(exactly(gr.pe_med, e[g].pe[0]));
        EXPECT_TRUE(exactly(gr.pe_q25, e[g].pe[1]));
        EXPECT_TRUE(exactly(gr.pe_q75, e[g].pe[2]));
        EXPECT_TRUE(exactly(gr.gap_med, e[g].gap[0]));
        EXPECT_TRUE(exactly(gr.gap_q25, e[g].gap[1]));
        EXPECT_TRUE(exactly(gr.gap_q75, e[g].gap[2]));
        EXPECT_TRUE(exactly(gr.steps_med, e[g].steps));
    }
}

// The rows of a summary table against expected(); also the text of the
// quoted scheduler and of the special values.
void check_table(const std::string &text)
{
    EXPECT_EQ(lines_of(text).at(0), kSummaryHeader);
    const Table t = read_table(text);
    ASSERT_TRUE(t.ok) << "not RFC 4180 with one field per column:\n" << text;
    const auto &e = expected();
    ASSERT_EQ(t.rows.size(), e.size()) << text;
    for (size_t g = 0; g < e.size(); ++g) {
        SCOPED_TRACE("row " + std::to_string(g));
        EXPECT_EQ(t.at(g, "optimizer"), e[g].optimizer);
        EXPECT_EQ(t.at(g, "lr"), e[g].lr);
        EXPECT_EQ(t.at(g, "scheduler"), e[g].scheduler);
        EXPECT_EQ(t.at(g, "trainings"), std::to_string(e[g].n));
        EXPECT_TRUE(exactly(t.num(g, "success_rate"), (double)e[g].n_success / e[g].n));
        EXPECT_TRUE(exactly(t.num(g, "divergence_rate"), (double)e[g].n_diverged / e[g].n));
        EXPECT_TRUE(exactly(t.num(g, "param_error_median"), e[g].pe[0]));
        EXPECT_TRUE(exactly(t.num(g, "param_error_q25"), e[g].pe[1]));
        EXPECT_TRUE(exactly(t.num(g, "param_error_q75"), e[g].pe[2]));
        EXPECT_TRUE(exactly(t.num(g, "loss_gap_median"), e[g].gap[0]));
        EXPECT_TRUE(exactly(t.num(g, "loss_gap_q25"), e[g].gap[1]));
        EXPECT_TRUE(exactly(t.num(g, "loss_gap_q75"), e[g].gap[2]));
        if (std::isinf(e[g].steps))
            EXPECT_EQ(t.at(g, "steps_to_target_median"), "");
        else
            EXPECT_TRUE(exactly(t.num(g, "steps_to_target_median"), e[g].steps));
        EXPECT_EQ(t.at(g, "steps_to_target_reached"), std::to_string(e[g].n_reached));
    }
    // configuration columns verbatim, the scheduler quoted as in the input
    const std::vector<std::string> lines = lines_of(text);
    // the hand table predates the axes of hash position >= OS_HASH_LATER
    // (amsgrad ... rho) and the settings that became axes (dtype ...
    // target): they are read as empty and written empty
    auto out = [](const char *g) {
        std::string s = g;  // before the last four fields (batch_size ... init_wb)
        size_t at = s.size();
        for (int k = 0; k < 4; ++k) at = s.rfind(',', at - 1);
        return s.substr(0, at) + ",,,,,," + s.substr(at) + ",,,,,,";
    };
    EXPECT_EQ(lines.at(2).rfind(out(G2) + ",3,0,1,inf,inf,inf,inf,inf,inf,,0", 0), 0u)
        << lines.at(2);
    EXPECT_EQ(lines.at(5).rfind(out(G5) + ",2,0.5,0,", 0), 0u) << lines.at(5);
    EXPECT_EQ(lines.at(1).rfind(out(G1) + ",4,0.75,0,0.006,", 0), 0u) << lines.at(1);
}

// ---------------------------------------------------------------------------
// 1. the library

TEST(summarize_quantile, NumpyLinear)
{
    // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) = [1.75, 2.5, 3.25]
    const double v[] = {1, 2, 3, 4};
    EXPECT_EQ(os_quantile_sorted(v, 4, 0.25), 1.75);
    EXPECT_EQ(os_quantile_sorted(v, 4, 0.5), 2.5);
    EXPECT_EQ(os_quantile_sorted(v, 4, 0.75), 3.25);
    EXPECT_EQ(os_quantile_sorted(v, 4, 0.0), 1.0);
    EXPECT_EQ(os_quantile_sorted(v, 4, 1.0), 4.0);
    EXPECT_EQ(os_quantile_sorted(v, 1, 0.75), 1.0);
    // bit-identical to numpy 1.24 and 2.4: np.quantile([0.001, 0.004, 0.008, 0.3], q)
    const double w[] = {0.001, 0.004, 0.008, 0.3};
    EXPECT_EQ(os_quantile_sorted(w, 4, 0.25), 0.0032500000000000003);
    EXPECT_EQ(os_quantile_sorted(w, 4, 0.75), 0.08099999999999999);
    // Cases where numpy's two-sided lerp (a + d*t for t < 0.5, b - d*(1-t)
    // from 0.5) differs in the last bit from either one-sided formula; the
    // expected values are numpy 1.24's np.quantile(v, q), printed with repr.
    struct Case {
        std::vector<double> v;
        double q, numpy;
    };
    const Case cases[] = {
        {{0.001, 0.01}, 0.5, 0.0055},                                            // a + d*t: 0.0055000000000000005
        {{0.0003, 0.013}, 0.75, 0.009825},                                       // a + d*t: 0.009824999999999999
        {{1e-05, 0.0003, 0.003}, 0.25, 0.000155},                                // a + d*t: 0.00015499999999999997
        {{1e-05, 0.0003, 0.1, 2.5}, 0.25, 0.0002275},                            // a + d*t: 0.00022749999999999997
        {{0.002, 0.007, 0.01, 0.02, 0.3, 2.5}, 0.75, 0.22999999999999998},       // a + d*t: 0.22999999999999995
        {{0.0003, 0.02, 0.7}, 0.25, 0.010150000000000001},                       // a + d*t: 0.01015
        {{0.002, 0.007, 0.1}, 0.75, 0.053500000000000006},                       // a + d*t: 0.0535
        {{0.001, 0.013}, 0.25, 0.004},                                           // b - d*(1-t): 0.003999999999999998
        {{0.013, 2.5}, 0.25, 0.63475},                                           // b - d*(1-t): 0.6347499999999999
        {{0.002, 0.02}, 0.25, 0.006500000000000001},                             // b - d*(1-t): 0.006499999999999999
    };
    for (const Case &c : cases)
        EXPECT_EQ(os_quantile_sorted(c.v.data(), c.v.size(), c.q), c.numpy)
            << "q " << c.q << " of " << c.v.size() << " values starting " << c.v[0];
    // infinities: the limit (numpy says nan)
    const double x[] = {1, 2, 3, kInf, kInf};
    EXPECT_EQ(os_quantile_sorted(x, 5, 0.5), 3.0);
    EXPECT_EQ(os_quantile_sorted(x, 5, 0.75), kInf);
    EXPECT_EQ(os_quantile_sorted(x, 4, 0.5), 2.5);
    EXPECT_EQ(os_quantile_sorted(x + 2, 2, 0.5), kInf);
}

TEST_F(summarize, LibraryGroups)
{
    spit(path("r.csv"), hand_table());
    os_summary s;
    os_error err;
    ASSERT_EQ(os_summary_load(path("r.csv").c_str(), 0.01, &s, &err), OS_OK) << err.msg;
    check_groups(s);
    EXPECT_STREQ(s.groups[4].config[2], "multistep:milestones=4/8,gamma=0.8");
    EXPECT_STREQ(s.groups[1].config[6], "0.9");  // beta1 of G2
    EXPECT_STREQ(s.groups[1].config[3], "");     // its momentum: empty, kept empty
    os_summary_free(&s);
}

TEST_F(summarize, LibraryWrite)
{
    spit(path("r.csv"), hand_table());
    FILE *f = fopen(path("s.csv").c_str(), "w");
    ASSERT_NE(f, nullptr);
    os_error err;
    ASSERT_EQ(os_summarize(path("r.csv").c_str(), f, 0.01, &err), OS_OK) << err.msg;
    fclose(f);
    check_table(slurp(path("s.csv")));
}

TEST_F(summarize, LibraryTarget)
{
    spit(path("r.csv"), hand_table());
    os_summary s;
    os_error err;
    // target 0.0049: G1 keeps 0.004 and 0.001, G3 (0.005) fails, G4 keeps 0.002
    ASSERT_EQ(os_summary_load(path("r.csv").c_str(), 0.0049, &s, &err), OS_OK) << err.msg;
    EXPECT_EQ(s.groups[0].n_success, 2u);
    EXPECT_EQ(s.groups[3].n_success, 0u);
    EXPECT_EQ(s.groups[2].n_success, 1u);
    // steps_to_target is the table's own (for the table's target): unchanged
    EXPECT_EQ(s.groups[0].n_reached, 3u);
    os_summary_free(&s);
    EXPECT_EQ(os_summary_load(path("r.csv").c_str(), 0, &s, &err), OS_EINPUT);
    EXPECT_NE(strstr(err.msg, "--target"), nullptr) << err.msg;
}

// A field with quotes, commas and a line break survives the round trip.
TEST_F(summarize, LibraryQuotedRoundTrip)
{
    spit(path("r.csv"),
         "optimizer,lr,scheduler,momentum,dampening,alpha,beta1,beta2,eps,weight_decay,"
         "batch_size,epochs,init_wa,init_wb,param_error,loss_gap,steps_to_target,diverged\n"
         "sgd,0.1,\"we \"\"ird\"\",\nx\",,,,,,,0,64,100,0.1,1.8,0.5,0.1,,0\r\n"
         "sgd,0.1,\"we \"\"ird\"\",\nx\",,,,,,,0,64,100,0.1,1.8,0.25,0.1,,0\r\n");
    os_summary s;
    os_error err;
    ASSERT_EQ(os_summary_load(path("r.csv").c_str(), 0.01, &s, &err), OS_OK) << err.msg;
    ASSERT_EQ(s.n_groups, 1u);
    EXPECT_STREQ(s.groups[0].config[2], "we \"ird\",\nx");
    EXPECT_EQ(s.groups[0].pe_med, 0.375);
    FILE *f = fopen(path("s.csv").c_str(), "w");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(os_summary_write(f, &s), 0);
    fclose(f);
    os_summary_free(&s);
    const Table t = read_table(slurp(path("s.csv")));
    ASSERT_TRUE(t.ok);
    ASSERT_EQ(t.rows.size(), 1u);
    EXPECT_EQ(t.at(0, "scheduler"), "we \"ird\",\nx");
}

// ---------------------------------------------------------------------------
// 2. the command line

TEST_F(summarize, CliStdout)
{
    spit(path("r.csv"), hand_table());
    Proc p = run({"summarize", "r.csv"});
    ASSERT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(p.err, "");
    check_table(p.out);
    EXPECT_EQ(listing(), std::vector<std::string>{"r.csv"});
}

TEST_F(summarize, CliOutputFile)
{
    spit(path("r.csv"), hand_table());
    Proc p = run({"summarize", "r.csv", "-o", "s.csv"});
    ASSERT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(p.err, "");
    EXPECT_EQ(p.out, "6 configurations from 16 trainings -> s.csv\n");
    EXPECT_EQ(listing(), (std::vector<std::string>{"r.csv", "s.csv"}));
    check_table(slurp(path("s.csv")));
    // the same bytes as on stdout; --quiet drops the summary line
    Proc q = run({"summarize", "--quiet", "-o", "t.csv", "r.csv"});
    ASSERT_EQ(q.status, 0) << q.err;
    EXPECT_EQ(q.out, "");
    EXPECT_EQ(slurp(path("t.csv")), slurp(path("s.csv")));
    Proc o = run({"summarize", "r.csv"});
    EXPECT_EQ(o.out, slurp(path("s.csv")));
}

TEST_F(summarize, CliTarget)
{
    spit(path("r.csv"), hand_table());
    Proc p = run({"summarize", "r.csv", "--target=0.0049"});
    ASSERT_EQ(p.status, 0) << p.err;
    const Table t = read_table(p.out);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.at(0, "success_rate"), "0.5");
    EXPECT_EQ(t.at(2, "success_rate"), "0.2");
    EXPECT_EQ(t.at(3, "success_rate"), "0");
}

struct BadCase {
    const char *name;
    std::vector<std::string> args;     // after "summarize"; "-o s.csv" is added
    std::vector<std::string> needles;  // the one stderr line must contain each
    const char *file = nullptr;        // written to work/ first
    std::string text = {};
};

void PrintTo(const BadCase &c, std::ostream *os) { *os << c.name; }

std::string without_column(const std::string &table, const std::string &name)
{
    std::string t = table;
    size_t at = t.find("," + name + ",");
    t.replace(at, name.size() + 1, "");
    return t;
}

const std::vector<BadCase> &bad_cases()
{
    const std::string h = kHeader, ok = row(0, G1, 0, 0, "0.1", "0.004", "40");
    static const std::vector<BadCase> cases = {
        {"missing_file", {"nope.csv"}, {"nope.csv", "No such file"}},
        {"directory", {"."}, {"'.'"}},
        {"empty_file", {"e.csv"}, {"e.csv", "empty"}, "e.csv", ""},
        {"header_only", {"h.csv"}, {"h.csv", "no trainings"}, "h.csv", h},
        {"missing_column_lr", {"m.csv"}, {"m.csv", "'lr'"}, "m.csv", without_column(h, "lr")},
        {"missing_column_param_error", {"m.csv"}, {"m.csv", "line 1", "'param_error'"}, "m.csv",
         without_column(h, "param_error")},
        {"duplicate_column", {"d.csv"}, {"d.csv", "'lr'", "twice"}, "d.csv",
         "optimizer,lr,scheduler,momentum,dampening,alpha,beta1,beta2,eps,weight_decay,batch_size,"
         "epochs,init_wa,init_wb,param_error,loss_gap,steps_to_target,diverged,seed,lr\n"},
        {"short_row", {"s.csv"}, {"s.csv", "line 3", "24 fields", "25"}, "s.csv",
         h + ok + "1,0.1," + G1 + ",1,1.25,1.23,0.0105,0,0.1,0.004,40\n"},
        {"long_row", {"s.csv"}, {"s.csv", "line 2", "26 fields"}, "s.csv",
         h + "0,0.1," + G1 + ",0,1.25,1.23,0.0105,0,0.1,0.004,40,0.5,9\n"},
        {"param_error_text", {"p.csv"}, {"p.csv", "line 3", "column 23", "param_error", "'abc'"},
         "p.csv", h + ok + row(1, G1, 1, 0, "0.1", "abc", "40")},
        {"param_error_empty", {"p.csv"}, {"p.csv", "line 2", "param_error"}, "p.csv",
         h + row(0, G1, 0, 0, "0.1", "", "40")},
        {"loss_gap_text", {"p.csv"}, {"p.csv", "line 2", "column 22", "loss_gap", "'1.0x'"},
         "p.csv", h + row(0, G1, 0, 0, "1.0x", "0.004", "40")},
        {"steps_fraction", {"p.csv"}, {"p.csv", "steps_to_target", "'4.5'"}, "p.csv",
         h + row(0, G1, 0, 0, "0.1", "0.004", "4.5")},
        {"steps_negative", {"p.csv"}, {"p.csv", "steps_to_target", "'-1'"}, "p.csv",
         h + row(0, G1, 0, 0, "0.1", "0.004", "-1")},
        {"diverged_2", {"p.csv"}, {"p.csv", "line 2", "diverged", "'2'"}, "p.csv",
         h + row(0, G1, 0, 2, "0.1", "0.004", "")},
        {"unterminated_quote", {"q.csv"}, {"q.csv", "line 3", "quote"}, "q.csv",
         h + ok + "1,0.1,sgd,0.1,\"constant,,,,,,,0,64,100,0.1,1.8,1,1,1,1,0,0.1,0.004,40,0.5\n"},
        {"no_input", {}, {"summarize", "no results table"}},
        {"two_inputs", {"a.csv", "b.csv"}, {"a.csv", "b.csv"}},
        {"unknown_flag", {"r.csv", "--lr", "0.1"}, {"--lr"}},
        {"target_zero", {"r.csv", "--target", "0"}, {"--target", "'0'"}},
        {"target_text", {"r.csv", "--target", "abc"}, {"--target", "'abc'"}},
        {"target_missing_value", {"r.csv", "--target"}, {"--target", "missing"}},
    };
    return cases;
}

class SummarizeBad : public summarize, public ::testing::WithParamInterface<BadCase> {};

TEST_P(SummarizeBad, ExitsTwoWithOneLineAndNoFile)
{
    const BadCase &c = GetParam();
    if (c.file) spit(path(c.file), c.text);
    const std::vector<std::string> before = listing();
    std::vector<std::string> args = {"summarize", "-o", "out.csv"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    Proc p = run(args);
    const std::vector<std::string> err_lines = lines_of(p.err);
    const std::string line = err_lines.empty() ? "" : err_lines[0];
    EXPECT_EQ(p.status, 2);
    EXPECT_EQ(p.out, "");
    EXPECT_EQ(err_lines.size(), 1u) << p.err;
    for (const auto &n : c.needles)
        EXPECT_NE(line.find(n), std::string::npos) << "stderr does not name '" << n << "': " << line;
    EXPECT_EQ(listing(), before) << "files left behind";
}

INSTANTIATE_TEST_SUITE_P(summarize, SummarizeBad, ::testing::ValuesIn(bad_cases()),
                         [](const ::testing::TestParamInfo<BadCase> &i) { return i.param.name; });

// Bad input never touches an existing output; stdout mode prints nothing.
TEST_F(summarize, BadInputKeepsExistingOutput)
{
    spit(path("s.csv"), "old\n");
    spit(path("r.csv"), std::string(kHeader) + row(0, G1, 0, 0, "0.1", "x", "40"));
    Proc p = run({"summarize", "r.csv", "-o", "s.csv"});
    EXPECT_EQ(p.status, 2);
    EXPECT_EQ(slurp(path("s.csv")), "old\n");
    EXPECT_EQ(listing(), (std::vector<std::string>{"r.csv", "s.csv"}));
    Proc q = run({"summarize", "r.csv"});
    EXPECT_EQ(q.status, 2);
    EXPECT_EQ(q.out, "");
    EXPECT_EQ(lines_of(q.err).size(), 1u) << q.err;
}

TEST_F(summarize, OutputIntoMissingDirectory)
{
    spit(path("r.csv"), hand_table());
    Proc p = run({"summarize", "r.csv", "-o", "nodir/s.csv"});
    EXPECT_EQ(p.status, 2);
    EXPECT_EQ(p.out, "");
    ASSERT_EQ(lines_of(p.err).size(), 1u) << p.err;
    EXPECT_NE(p.err.find("nodir/s.csv"), std::string::npos) << p.err;
    EXPECT_EQ(listing(), std::vector<std::string>{"r.csv"});
}

TEST_F(summarize, HelpListsSummarize)
{
    Proc p = run({"--help"});
    EXPECT_EQ(p.status, 0);
    EXPECT_NE(p.out.find("orbitsweep summarize"), std::string::npos);
    Proc q = run({"summarize", "--help"});
    EXPECT_EQ(q.status, 0);
    EXPECT_NE(q.out.find("orbitsweep summarize"), std::string::npos);
}

// ---------------------------------------------------------------------------
// 3. end to end: run, then summarize its table

TEST_F(summarize, RunThenSummarize)
{
    Proc r = run({"run", "--optimizer", "sgd,adam", "--lr", "0.01,0.1", "--seeds", "3", "--epochs",
                  "3", "--n", "64", "--quiet", "-o", "r.csv"});
    ASSERT_EQ(r.status, 0) << r.err;
    Proc p = run({"summarize", "r.csv", "-o", "s.csv"});
    ASSERT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(p.out, "4 configurations from 12 trainings -> s.csv\n");
    const Table t = read_table(slurp(path("s.csv")));
    ASSERT_TRUE(t.ok);
    ASSERT_EQ(t.rows.size(), 4u);
    const char *const order[4][2] = {{"sgd", "0.01"}, {"sgd", "0.1"}, {"adam", "0.01"}, {"adam", "0.1"}};
    for (size_t i = 0; i < 4; ++i) {
        SCOPED_TRACE("row " + std::to_string(i));
        EXPECT_EQ(t.at(i, "optimizer"), order[i][0]);
        EXPECT_EQ(t.at(i, "lr"), order[i][1]);
        EXPECT_EQ(t.at(i, "trainings"), "3");
        const double s = t.num(i, "success_rate"), d = t.num(i, "divergence_rate");
        EXPECT_TRUE(s >= 0 && s <= 1 && d >= 0 && d <= 1) << s << " " << d;
        EXPECT_LE(t.num(i, "param_error_q25"), t.num(i, "param_error_median"));
        EXPECT_LE(t.num(i, "param_error_median"), t.num(i, "param_error_q75"));
    }
}

// ---------------------------------------------------------------------------
// 4. the streaming reader: the same records as the whole-file reader

struct Record {
    int rc, line;
    std::vector<std::string> fields;
    std::string problem;
    bool operator==(const Record &o) const
    {
        return rc == o.rc && line == o.line && fields == o.fields && problem == o.problem;
    }
};

std::ostream &operator<<(std::ostream &os, const Record &r)
{
    os << "rc " << r.rc << " line " << r.line << " [";
    for (const auto &f : r.fields) os << "'" << f << "' ";
    return os << "] " << r.problem;
}

std::vector<Record> read_whole(const std::string &path)
{
    std::vector<Record> v;
    os_csv r;
    if (!os_csv_open(&r, path.c_str(), (size_t)-1)) {
        v.push_back({-9, 0, {}, os_csv_why(&r)});
        return v;
    }
    for (;;) {
        const int rc = os_csv_next(&r);
        Record rec{rc, r.line, {}, rc < 0 ? r.problem : ""};
        if (rc == 1)
            for (int i = 0; i < r.n_fields; ++i) rec.fields.push_back(r.fields[i]);
        v.push_back(rec);
        if (rc != 1) break;
    }
    os_csv_close(&r);
    return v;
}

// With a NUL byte anywhere the whole-file reader refuses the file at once;
// the stream says so when it reaches it, or find_nul does after a problem
// found before it.
std::vector<Record> read_stream(const std::string &path, size_t window)
{
    std::vector<Record> v;
    os_csv_stream s;
    if (!os_csv_stream_open(&s, path.c_str(), window)) {
        v.push_back({-9, 0, {}, os_csv_why(&s.r)});
        return v;
    }
    for (;;) {
        const int rc = os_csv_stream_next(&s);
        Record rec{rc, s.r.line, {}, rc < 0 ? s.r.problem : ""};
        if (rc == 1)
            for (int i = 0; i < s.r.n_fields; ++i) rec.fields.push_back(s.r.fields[i]);
        if (rc < 0 && os_csv_stream_find_nul(&s)) rec.problem = s.r.problem;  // as summarize does
        v.push_back(rec);
        if (rc != 1) break;
    }
    os_csv_stream_close(&s);
    return v;
}

TEST_F(summarize, StreamReaderMatchesWholeFileReader)
{
    const std::vector<std::string> texts = {
        "a,b\n1,2\n",
        "a,b\r\n1,2\r\n\r\n\n3,4",
        "\xEF\xBB\xBF" "a,b\n1,2\n",
        "\xEF\xBB",
        "",
        "\n\n\r\n",
        "a,\"b,c\"\n\"x\"\"y\",\"multi\nline\r\nfield\"\n5,6\r",
        "a,b\n\"unterminated,2\n3,4\n",
        "a,b\n\"closed\"x,2\n",
        "a,b\n\"q\"\r\n\"r\"\rz\n",
        "a,b\nx\ry,2\r",
        "a,b\n1,2\n\"\"\"\"\n,\n,,\n\r",
        "a\"b\"c,d\n",
        std::string("a,b\n1,2\n3,") + '\0' + "4\n",
        std::string("a,b\n\"bad\"x,2\n") + std::string(300, 'z') + "\n" + '\0',
    };
    std::string big = "h1,h2,h3\n";  // records longer than the smallest windows
    std::mt19937 rng(5);
    for (int i = 0; i < 60; ++i) {
        big += std::string(rng() % 90, 'x') + ",\"" + std::string(rng() % 40, ',') + "\"\"\n" +
               std::string(rng() % 3, '\n') + "\"," + std::to_string(i) + (i % 7 ? "\n" : "\r\n");
        if (i % 11 == 0) big += "\n";
    }
    std::vector<std::string> all = texts;
    all.push_back(big);
    all.push_back(big.substr(0, big.size() - 1));
    all.push_back(big + "\"open");
    for (size_t t = 0; t < all.size(); ++t) {
        spit(path("c.csv"), all[t]);
        const std::vector<Record> want = read_whole(path("c.csv"));
        for (size_t w : {8, 9, 10, 13, 16, 31, 64, 100, 257, 4096}) {
            SCOPED_TRACE("text " + std::to_string(t) + ", window " + std::to_string(w));
            const std::vector<Record> got = read_stream(path("c.csv"), w);
            const bool has_nul = all[t].find('\0') != std::string::npos;
            if (!has_nul) {
                ASSERT_EQ(got, want);
                continue;
            }
            // a NUL: the whole-file reader fails to open; the stream ends in the same problem
            ASSERT_EQ(want.size(), 1u);
            EXPECT_EQ(got.back().problem, want[0].problem);
        }
    }
}

// ---------------------------------------------------------------------------
// 5. generated tables: streaming, the hash table and a reference grouping

struct GenRow {
    std::string cfg;  // the configuration fields as CSV
    std::vector<std::string> cfg_fields;
    std::string pe, gap, steps;
    int diverged;
};

const char *const kOptimizers[] = {"sgd", "momentum", "rmsprop", "adam", "nesterov"};

// A configuration's fields; some schedulers are quoted (a comma inside).
std::vector<std::string> gen_config(std::mt19937_64 &rng, int i)
{
    char lr[40];
    std::snprintf(lr, sizeof lr, "%.17g", std::pow(10.0, -4.0 + 3.5 * (double)(rng() % 1000) / 999));
    std::vector<std::string> f = {kOptimizers[rng() % 5], lr,
                                  i % 3 == 0 ? "multistep:milestones=4/8,gamma=0.8" : "none"};
    for (int k = 0; k < 7; ++k) f.push_back(rng() % 2 ? "" : std::to_string(rng() % 3));
    for (int k = 0; k < 6; ++k) /* amsgrad, centered (booleans), then four reals */
        f.push_back(rng() % 2 ? "" : k < 2 ? (rng() % 2 ? "true" : "false") : std::to_string(rng() % 3));
    f.push_back(std::to_string(16 << (rng() % 3)));
    f.push_back(std::to_string(1 + i));  // epochs: distinct per configuration index
    f.push_back("0.1");
    f.push_back("1.8");
    f.push_back(rng() % 2 ? "float32" : "float64");  // the settings that became axes
    f.push_back("shared");
    f.push_back("update");
    f.push_back(std::to_string(64 << (rng() % 2)));
    f.push_back(rng() % 2 ? "0" : "0.1");
    f.push_back("0.01");
    return f;
}

std::string csv_field(const std::string &s)
{
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string shortest(double v)
{
    char b[40];
    os_fmt_double(b, sizeof b, v);
    return b;
}

// A metric value as a table could hold it, special ones included.
std::string gen_value(std::mt19937_64 &rng, bool negative_ok)
{
    switch (rng() % 20) {
    case 0: return "nan";
    case 1: return "inf";
    case 2: return "0";
    case 3: return negative_ok ? "-0" : "0";
    case 4: return "1e-320";
    case 5: return "0.01";  // the default target exactly
    default: {
        const double v = std::ldexp((double)(rng() >> 11), -53) * std::pow(10.0, -(double)(rng() % 6));
        return shortest(negative_ok && rng() % 4 == 0 ? -v : v);
    }
    }
}

// n_configs configurations with 1..max_seeds trainings each, adjacent (as
// orbitsweep writes them) or shuffled.
std::vector<GenRow> gen_rows(uint64_t seed, int n_configs, int max_seeds, bool shuffle)
{
    std::mt19937_64 rng(seed);
    std::vector<GenRow> rows;
    for (int i = 0; i < n_configs; ++i) {
        const std::vector<std::string> f = gen_config(rng, i);
        std::string cfg;
        for (size_t k = 0; k < f.size(); ++k) cfg += (k ? "," : "") + csv_field(f[k]);
        const int n = 1 + (int)(rng() % max_seeds);
        for (int j = 0; j < n; ++j) {
            GenRow r{cfg, f, gen_value(rng, false), gen_value(rng, true), "", rng() % 8 == 0};
            if (rng() % 3) r.steps = std::to_string(rng() % 500);
            rows.push_back(r);
        }
    }
    if (shuffle) std::shuffle(rows.begin(), rows.end(), rng);
    return rows;
}

std::string gen_table(const std::vector<GenRow> &rows)
{
    std::string t = kHeaderNow;
    for (size_t i = 0; i < rows.size(); ++i)
        t += row((int)i, rows[i].cfg.c_str(), (int)i, rows[i].diverged, rows[i].gap.c_str(),
                 rows[i].pe.c_str(), rows[i].steps.c_str());
    return t;
}

// The reference: groups by configuration text in order of first
// appearance (std::map + a list), values read with strtod, quantiles by
// numpy_linear.
struct RefGroup {
    std::vector<std::string> cfg;
    std::vector<double> pe, gap, steps;
    size_t n_success = 0, n_diverged = 0, n_reached = 0;
};

std::vector<RefGroup> reference(const std::vector<GenRow> &rows, double target)
{
    std::vector<RefGroup> groups;
    std::map<std::string, size_t> index;
    for (const GenRow &r : rows) {
        auto it = index.find(r.cfg);
        if (it == index.end()) {
            it = index.emplace(r.cfg, groups.size()).first;
            groups.push_back({});
            groups.back().cfg = r.cfg_fields;
        }
        RefGroup &g = groups[it->second];
        double pe = std::strtod(r.pe.c_str(), nullptr), gap = std::strtod(r.gap.c_str(), nullptr);
        double steps = r.steps.empty() ? kInf : std::strtod(r.steps.c_str(), nullptr);
        if (r.diverged) pe = gap = steps = kInf;
        if (std::isnan(pe)) pe = kInf;
        if (std::isnan(gap)) gap = kInf;
        g.pe.push_back(pe);
        g.gap.push_back(gap);
        g.steps.push_back(steps);
        g.n_diverged += r.diverged;
        g.n_success += !r.diverged && pe <= target;
        g.n_reached += std::isfinite(steps);
    }
    return groups;
}

// Bitwise, so that a zero's sign counts too (only where no -0 is involved:
// numpy_linear's std::sort may order 0 and -0 either way).
::testing::AssertionResult same_bits(double a, double b)
{
    if (std::memcmp(&a, &b, sizeof a) == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << std::hexfloat << a << " != " << b;
}

void check_against_reference(const os_summary &s, const std::vector<RefGroup> &ref)
{
    ASSERT_EQ(s.n_groups, ref.size());
    for (size_t g = 0; g < ref.size(); ++g) {
        SCOPED_TRACE("group " + std::to_string(g));
        const os_summary_group &gr = s.groups[g];
        const RefGroup &e = ref[g];
        for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) ASSERT_EQ(gr.config[k], e.cfg[k]);
        ASSERT_EQ(gr.n, e.pe.size());
        EXPECT_EQ(gr.n_success, e.n_success);
        EXPECT_EQ(gr.n_diverged, e.n_diverged);
        EXPECT_EQ(gr.n_reached, e.n_reached);
        const double got[7] = {gr.pe_med, gr.pe_q25, gr.pe_q75, gr.gap_med, gr.gap_q25, gr.gap_q75, gr.steps_med};
        const double want[7] = {numpy_linear(e.pe, 0.5),  numpy_linear(e.pe, 0.25),  numpy_linear(e.pe, 0.75),
                                numpy_linear(e.gap, 0.5), numpy_linear(e.gap, 0.25), numpy_linear(e.gap, 0.75),
                                numpy_linear(e.steps, 0.5)};
        for (int k = 0; k < 7; ++k) EXPECT_TRUE(exactly(got[k], want[k])) << "statistic " << k;
    }
}

struct Loaded {
    os_summary s;
    os_status st;
    int used_hash;
    std::string msg;
};

Loaded load(const std::string &p, size_t window, int hash_grouping, double target = 0.01)
{
    Loaded l;
    os_summary_tuning t = {window, hash_grouping, -1};
    os_error err;
    err.msg[0] = 0;
    l.st = os_summary_load_tuned(p.c_str(), target, &t, &l.s, &err);
    l.used_hash = t.used_hash;
    l.msg = err.msg;
    return l;
}

std::string summary_text(const os_summary &s)
{
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    os_summary_write(f, &s);
    fclose(f);
    std::string t(buf, len);
    free(buf);
    return t;
}

std::string spool_text(const std::string &p, size_t window, os_summary_tuning *t_out = nullptr)
{
    os_summary_tuning t = {window, 0, -1};
    os_summary_spool sp;
    os_error err;
    EXPECT_EQ(os_summary_spool_load(p.c_str(), 0.01, &t, &sp, &err), OS_OK) << err.msg;
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    EXPECT_EQ(os_summary_spool_write(f, &sp), 0);
    fclose(f);
    os_summary_spool_free(&sp);
    std::string text(buf, len);
    free(buf);
    if (t_out) *t_out = t;
    return text;
}

TEST_F(summarize, StreamingEqualsReferenceAndHashTable)
{
    struct Size {
        int configs, max_seeds;
    };
    for (const Size sz : {Size{1, 1}, Size{1, 40}, Size{3, 5}, Size{40, 8}, Size{300, 12}, Size{2000, 3}}) {
        for (int shuffle = 0; shuffle < 2; ++shuffle) {
            SCOPED_TRACE(std::to_string(sz.configs) + " configurations, " + (shuffle ? "shuffled" : "adjacent"));
            const std::vector<GenRow> rows = gen_rows(1000 + sz.configs, sz.configs, sz.max_seeds, shuffle);
            spit(path("g.csv"), gen_table(rows));
            const std::vector<RefGroup> ref = reference(rows, 0.01);
            Loaded hashed = load(path("g.csv"), 0, 1);
            ASSERT_EQ(hashed.st, OS_OK) << hashed.msg;
            check_against_reference(hashed.s, ref);
            const std::string want_text = summary_text(hashed.s);
            const bool scattered = ref.size() > 1 && shuffle;
            // windows that put group and record boundaries everywhere
            for (size_t w : {8, 11, 64, 97, 256, 1000, 4096, 1 << 20}) {
                SCOPED_TRACE("window " + std::to_string(w));
                Loaded st = load(path("g.csv"), w, 0);
                ASSERT_EQ(st.st, OS_OK) << st.msg;
                EXPECT_EQ(st.used_hash, scattered ? 1 : 0);
                check_against_reference(st.s, ref);
                EXPECT_EQ(summary_text(st.s), want_text);
                EXPECT_EQ(st.s.n_trainings, rows.size());
                os_summary_free(&st.s);
                os_summary_tuning t;
                EXPECT_EQ(spool_text(path("g.csv"), w, &t), want_text);
                EXPECT_EQ(t.used_hash, scattered ? 1 : 0);
            }
            os_summary_free(&hashed.s);
        }
    }
}

// A configuration that comes back after others, once, at the very end:
// the streaming pass gives up late and the hash table starts over.
TEST_F(summarize, ConfigurationComingBackAtTheEnd)
{
    std::vector<GenRow> rows = gen_rows(77, 50, 4, false);
    rows.push_back(rows.front());
    rows.back().pe = "0.5";
    spit(path("g.csv"), gen_table(rows));
    const std::vector<RefGroup> ref = reference(rows, 0.01);
    for (size_t w : {8, 100, 1 << 20}) {
        Loaded st = load(path("g.csv"), w, 0);
        ASSERT_EQ(st.st, OS_OK) << st.msg;
        EXPECT_EQ(st.used_hash, 1);
        check_against_reference(st.s, ref);
        os_summary_free(&st.s);
    }
}

// -0 among a group's values: the zero a quantile returns has the sign it
// always had (the old code's qsort over the values in table order).
TEST_F(summarize, NegativeZeroKeepsItsSign)
{
    const std::string h = kHeader;
    const std::string t = h + row(0, G1, 0, 0, "-0", "0.004", "") + row(1, G1, 1, 0, "0", "0.004", "") +
                          row(2, G1, 2, 0, "-0", "0.004", "") + row(3, G3, 0, 0, "-0", "0.5", "");
    spit(path("z.csv"), t);
    Loaded a = load(path("z.csv"), 0, 0), b = load(path("z.csv"), 0, 1);
    ASSERT_EQ(a.st, OS_OK) << a.msg;
    ASSERT_EQ(b.st, OS_OK) << b.msg;
    EXPECT_EQ(summary_text(a.s), summary_text(b.s));
    // qsort of {-0, 0, -0} by value: glibc keeps equal values in order (a merge sort)
    std::vector<double> v = {-0.0, 0.0, -0.0};
    qsort(v.data(), v.size(), sizeof(double), [](const void *x, const void *y) {
        const double p = *(const double *)x, q = *(const double *)y;
        return (p > q) - (p < q);
    });
    EXPECT_TRUE(same_bits(a.s.groups[0].gap_med, v[1]));
    EXPECT_TRUE(same_bits(a.s.groups[1].gap_med, -0.0));
    os_summary_free(&a.s);
    os_summary_free(&b.s);
}

// Bad input: the same message whichever path reads it and whatever the
// window, including a problem after the point where streaming gives up and
// a NUL byte after an earlier problem (the whole-file reader's message).
TEST_F(summarize, BadInputSameMessageOnEveryPath)
{
    std::vector<GenRow> rows = gen_rows(9, 30, 3, true);
    const std::string good = gen_table(rows);
    const std::string h = kHeader;
    const std::vector<std::string> bad = {
        good + row(999, G1, 0, 0, "0.1", "abc", "40"),
        good + row(999, G1, 0, 3, "0.1", "0.1", "40"),
        good + "1,2,3\n",
        good + "1,\"2,3\n",
        h + row(0, G1, 0, 0, "0.1", "x", "40") + row(1, G1, 1, 0, "0.1", "0.1", "40") + std::string(5000, 'y') +
            '\0' + "\n",
        h + std::string(3000, '\n') + row(0, G1, 0, 0, "0.1", "0.1", "4.5"),
        std::string("a,b\n") + '\0',
    };
    for (size_t i = 0; i < bad.size(); ++i) {
        SCOPED_TRACE("case " + std::to_string(i));
        spit(path("b.csv"), bad[i]);
        Loaded ref = load(path("b.csv"), 0, 1);
        EXPECT_EQ(ref.st, OS_EINPUT);
        EXPECT_NE(ref.msg, "");
        for (size_t w : {8, 50, 1000, 1 << 20}) {
            Loaded st = load(path("b.csv"), w, 0);
            EXPECT_EQ(st.st, OS_EINPUT);
            EXPECT_EQ(st.msg, ref.msg);
        }
        if (bad[i].find('\0') != std::string::npos) {
            EXPECT_NE(ref.msg.find("NUL"), std::string::npos) << ref.msg;
        }
    }
}

// stdin: a regular file (read again by seeking) and a pipe (copied to a
// temporary file as it streams), adjacent and shuffled: the same bytes as
// from the file.
TEST_F(summarize, StdinFileAndPipe)
{
    for (int shuffle = 0; shuffle < 2; ++shuffle) {
        SCOPED_TRACE(shuffle ? "shuffled" : "adjacent");
        spit(path("g.csv"), gen_table(gen_rows(31, 400, 6, shuffle)));
        Proc p = run({"summarize", "g.csv"});
        ASSERT_EQ(p.status, 0) << p.err;
        Loaded ref = load(path("g.csv"), 0, 1);
        ASSERT_EQ(ref.st, OS_OK);
        EXPECT_EQ(p.out, summary_text(ref.s));
        os_summary_free(&ref.s);
        const std::string bin = OS_BIN, g = path("g.csv");
        const std::string redirected = bin + " summarize - < " + g + " > " + path("s1.csv");
        ASSERT_EQ(std::system(redirected.c_str()), 0);
        EXPECT_EQ(slurp(path("s1.csv")), p.out);
        const std::string piped = "cat " + g + " | " + bin + " summarize - -o " + path("s2.csv") + " --quiet";
        ASSERT_EQ(std::system(piped.c_str()), 0);
        EXPECT_EQ(slurp(path("s2.csv")), p.out);
        // and a bad row at the end of a pipe: exit 2, nothing written
        spit(path("bad.csv"), slurp(g) + row(9999, "sgd,0.1,constant,,,,,,,0,,,,,,,64,100,0.1,1.8,float32,shared,update,64,0,0.01", 0, 0,
                                             "0.1", "zzz", ""));
        const std::string bad = "cat " + path("bad.csv") + " | " + bin + " summarize - -o " + path("s3.csv") +
                                " 2> " + path("err.txt");
        const int rc = std::system(bad.c_str());
        EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 2) << rc;
        EXPECT_NE(slurp(path("err.txt")).find("'zzz'"), std::string::npos);
        EXPECT_FALSE(access(path("s3.csv").c_str(), F_OK) == 0);
    }
}

// Memory: a table of ~80 MB in orbitsweep's order is summarized by a
// process whose peak resident memory stays far below the table's size
// (the whole-file reader alone needed twice the file). Loose bounds, no
// timing.
TEST_F(summarize, LargeTableInBoundedMemory)
{
#ifdef OS_SANITIZED
    GTEST_SKIP() << "AddressSanitizer's shadow memory counts in the peak";
#endif
    std::string t = kHeader;
    t.reserve(90u << 20);
    std::mt19937_64 rng(4);
    const int n_configs = 75000, seeds = 8;
    char buf[512];
    for (int c = 0, trial = 0; c < n_configs; ++c) {
        for (int s = 0; s < seeds; ++s, ++trial) {
            const double pe = std::ldexp((double)(rng() >> 11), -53);
            std::snprintf(buf, sizeof buf,
                          "%d,0.25,adam,%.17g,none,,,,0.9,0.999,1e-08,0,64,100,0.1,1.8,%d,1.25,1.23,0.0105,0,"
                          "%.17g,%.17g,%s,0.5\n",
                          trial, 1e-4 * (1 + c), s, pe / 3, pe, s % 2 ? "" : "17");
            t += buf;
        }
    }
    spit(path("big.csv"), t);
    const size_t file_kb = t.size() / 1024;
    t.clear();
    t.shrink_to_fit();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const int out = open("/dev/null", O_WRONLY);  // (the summary is written to s.csv)
        if (out < 0 || chdir(work_.c_str()) != 0 || dup2(out, 1) < 0) _exit(126);
        execl(OS_BIN, OS_BIN, "summarize", "big.csv", "-o", "s.csv", (char *)nullptr);
        _exit(127);
    }
    int ws = 0;
    struct rusage ru;
    ASSERT_EQ(wait4(pid, &ws, 0, &ru), pid);
    ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ws;
    const long peak_kb = ru.ru_maxrss;
    EXPECT_LT(peak_kb, 48 * 1024) << "peak " << peak_kb << " KB for a " << file_kb << " KB table";
    EXPECT_LT((size_t)peak_kb, file_kb / 2) << "peak " << peak_kb << " KB for a " << file_kb << " KB table";
    const Table s = read_table(slurp(path("s.csv")));
    ASSERT_TRUE(s.ok);
    ASSERT_EQ(s.rows.size(), (size_t)n_configs);
    EXPECT_EQ(s.at(n_configs - 1, "trainings"), "8");
    EXPECT_EQ(s.at(0, "steps_to_target_median"), "");  // half reached: the median touches inf
}

}  // namespace
