// test_metrics.cpp — the analytics columns of results.csv against values
// computed independently from `orbitsweep trace` of the same training
// (every update's loss, parameters and step), and against cases whose value
// is known outright (a start where every point is masked; a divergence).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "csv.h"
}

namespace {

const double kA = 1.261845, kB = 1.234378;

using Row = std::map<std::string, std::string>;

// Run the binary and read its CSV output (header + rows) by column name.
std::vector<Row> run_csv(const std::string &args)
{
    char path[] = "/tmp/os_metrics_XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    close(fd);
    std::string cmd = std::string(OS_BIN) + " " + args + " --quiet -o " + path + " 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::vector<Row> rows;
    os_csv r;
    EXPECT_TRUE(os_csv_open(&r, path, OS_CSV_MAX_BYTES));
    std::vector<std::string> header;
    while (os_csv_next(&r) == 1) {
        if (header.empty()) {
            header.assign(r.fields, r.fields + r.n_fields);
            continue;
        }
        Row row;
        for (int i = 0; i < r.n_fields && i < (int)header.size(); ++i) row[header[i]] = r.fields[i];
        rows.push_back(row);
    }
    os_csv_close(&r);
    std::remove(path);
    return rows;
}

double num(const std::string &s) { return s.empty() ? NAN : std::strtod(s.c_str(), nullptr); }

// A float32 trace prints the shortest text of each float: read it back as that float.
bool g_f32 = false;
double tnum(const std::string &s) { return g_f32 ? (double)std::strtof(s.c_str(), nullptr) : num(s); }

struct Expected {
    double best_loss = NAN, path = 0, osc = NAN;
    long masked = 0, diverged_at = -1, updates = 0;
};

// The metrics from a trace, written from their definitions.
Expected from_trace(const std::vector<Row> &trace, int per_epoch)
{
    Expected x;
    std::map<long, std::pair<double, long>> epoch_loss;  // epoch -> (sum, count)
    for (const Row &r : trace) {
        if (r.at("epoch").empty()) continue;  // the final row
        long k = std::stol(r.at("update")), e = std::stol(r.at("epoch"));
        double loss = tnum(r.at("loss"));
        if (std::isnan(loss)) {
            ++x.masked;
        } else {
            epoch_loss[e].first += loss;
            epoch_loss[e].second += 1;
        }
        x.path += tnum(r.at("eff_step"));
        x.updates = k + 1;
    }
    const long epochs = x.updates / per_epoch;
    for (auto &[e, sl] : epoch_loss)
        if (e < epochs && sl.second) x.best_loss = std::fmin(std::isnan(x.best_loss) ? INFINITY : x.best_loss, sl.first / sl.second);
    // spread over the last epoch: the parameters before each of its updates and after the last
    double lo_a = INFINITY, hi_a = -INFINITY, lo_b = INFINITY, hi_b = -INFINITY;
    for (const Row &r : trace) {
        long k = std::stol(r.at("update"));
        if (k < (epochs - 1) * per_epoch) continue;
        double a = tnum(r.at("wa")), b = tnum(r.at("wb"));
        lo_a = std::fmin(lo_a, a), hi_a = std::fmax(hi_a, a);
        lo_b = std::fmin(lo_b, b), hi_b = std::fmax(hi_b, b);
    }
    x.osc = std::fmax((hi_a - lo_a) / kA, (hi_b - lo_b) / kB);
    return x;
}

void check(const std::string &spec, int per_epoch)
{
    SCOPED_TRACE(spec);
    auto rows = run_csv("run " + spec);
    ASSERT_EQ(rows.size(), 1u);
    const Row &r = rows[0];
    auto trace = run_csv("trace " + spec);
    g_f32 = spec.find("float32") != std::string::npos;
    Expected x = from_trace(trace, per_epoch);
    const double rtol = 1e-12;
    EXPECT_EQ(std::stol(r.at("masked_batches")), x.masked);
    EXPECT_NEAR(num(r.at("path_length")), x.path, rtol * x.path);
    if (std::isnan(x.best_loss))
        EXPECT_EQ(r.at("best_loss"), "");
    else
        EXPECT_NEAR(num(r.at("best_loss")), x.best_loss, rtol * x.best_loss);
    EXPECT_NEAR(num(r.at("oscillation")), x.osc, 1e-12 + 1e-12 * x.osc);
    long steps = r.at("steps_to_target").empty() ? -1 : std::stol(r.at("steps_to_target"));
    if (steps < 0)
        EXPECT_EQ(r.at("epochs_to_target"), "");
    else
        EXPECT_EQ(std::stol(r.at("epochs_to_target")), (steps + per_epoch - 1) / per_epoch);
}

}  // namespace

// float64, batches in data order: every metric equals its definition
// evaluated on the trace of the same training.
TEST(Metrics, MatchTheTrace)
{
    const char *common = " --dtype float64 --shuffle none --epochs 12";
    check(std::string("--optimizer momentum --lr 0.01") + common, 8);
    check(std::string("--optimizer adam --lr 0.05 --init-wa 1 --init-wb 1") + common, 8);
    check(std::string("--optimizer rmsprop --lr 0.01 --batch-size 48") + common, 11);
    check(std::string("--optimizer sgd --lr 0.02 --init-wa 1.3 --init-wb 1.1 --n 100 --batch-size 32") + common, 4);
    check("--optimizer adam --lr 0.05 --epochs 30 --dtype float32 --shuffle shared --seed 3", 8);
}

// final_lr is the optimizer's lr after the last scheduler step.
TEST(Metrics, FinalLr)
{
    // 10 epochs x 8 updates = 80 scheduler steps: StepLR(7, 0.5) halves 11 times
    auto rows = run_csv("run --optimizer sgd --lr 0.1 --scheduler step:step_size=7,gamma=0.5 --epochs 10");
    EXPECT_DOUBLE_EQ(num(rows[0].at("final_lr")), 0.1 * std::pow(0.5, 11));
    // per epoch: 10 steps of ExponentialLR(0.9)
    rows = run_csv("run --optimizer sgd --lr 0.1 --scheduler exponential:gamma=0.9 --sched-step epoch --epochs 10");
    EXPECT_NEAR(num(rows[0].at("final_lr")), 0.1 * std::pow(0.9, 10), 1e-16);
    rows = run_csv("run --optimizer adam --lr 0.12 --epochs 3");
    EXPECT_EQ(rows[0].at("final_lr"), "0.12");
}

// Every point masked from the start (Wa below the smallest |x+c|): the
// gradients are zero, so nothing moves.
TEST(Metrics, FullyMaskedStart)
{
    auto rows = run_csv("run --optimizer adam --lr 0.05 --init-wa 0.001 --epochs 5");
    const Row &r = rows[0];
    EXPECT_EQ(r.at("masked_batches"), "40");
    EXPECT_EQ(r.at("path_length"), "0");
    EXPECT_EQ(r.at("oscillation"), "0");
    EXPECT_EQ(r.at("best_loss"), "");
    EXPECT_EQ(r.at("final_loss"), "nan");
    EXPECT_EQ(r.at("steps_to_target"), "");
    EXPECT_EQ(r.at("epochs_to_target"), "");
    EXPECT_EQ(r.at("diverged_at"), "");
}

// diverged_at is the update whose step left the finite range, as the trace shows.
TEST(Metrics, DivergedAt)
{
    const std::string spec = "--optimizer sgd --lr 50 --init-wa 1 --init-wb 1 --dtype float64 --shuffle none --epochs 5";
    auto rows = run_csv("run " + spec);
    const Row &r = rows[0];
    ASSERT_EQ(r.at("diverged"), "1");
    auto trace = run_csv("trace " + spec);
    long last = std::stol(trace.back().at("update"));  // updates taken
    EXPECT_EQ(std::stol(r.at("diverged_at")), last - 1);
    double wa = num(trace.back().at("wa")), wb = num(trace.back().at("wb"));
    EXPECT_FALSE(std::fabs(wa) <= 1e6 && std::fabs(wb) <= 1e6);
    EXPECT_EQ(r.at("oscillation"), "");
    EXPECT_EQ(r.at("steps_to_target"), "");
}
