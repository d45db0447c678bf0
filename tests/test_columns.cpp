// test_columns.cpp — every column of the results table pinned, exactly, by
// a reference that is not the code under test:
//  * recomputed from `orbitsweep trace` of the same training (its updates,
//    losses, parameters and steps) and from `orbitsweep data` (the points),
//    with the definitions of docs/design.md §4 written out here: final_loss
//    (the masked MSE over the whole dataset in the canonical order),
//    param_error, steps_to_target, epochs_to_target, diverged, diverged_at,
//    best_loss, masked_batches, oscillation, path_length — compared bit for
//    bit, not within a tolerance;
//  * the mirror: Wa enters the model only as Wa^2, so starting from -Wa
//    gives the mirrored training, bit for bit: every column is the same but
//    final_wa, which changes sign;
//  * the round trip: every float column of a table reads back (strtod, or
//    strtof for float32 parameters) to the very value the library computed,
//    and loss_gap is final_loss minus the dataset's loss minimum.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "orbitsweep/orbitsweep.h"
#include "test_util.h"

namespace {

using namespace ostest;

const double kA = 1.261845, kB = 1.234378;  // the default orbit (--a, --b)

// Bitwise equality of doubles (NaN equals NaN).
::testing::AssertionResult same_bits(double got, double want)
{
    if ((std::isnan(got) && std::isnan(want)) || std::memcmp(&got, &want, sizeof got) == 0)
        return ::testing::AssertionSuccess();
    char g[40], w[40];
    snprintf(g, sizeof g, "%.17g", got);
    snprintf(w, sizeof w, "%.17g", want);
    return ::testing::AssertionFailure() << "got " << g << ", want " << w;
}

// The definitions, written out independently of the library.

// max(||Wa| - A| / A, |Wb - B| / B); NaN for parameters that are not finite.
double param_error(double wa, double wb, double A, double B)
{
    if (!std::isfinite(wa) || !std::isfinite(wb)) return NAN;
    const double ea = std::fabs(std::fabs(wa) - A) / A, eb = std::fabs(wb - B) / B;
    return ea > eb ? ea : eb;
}

// The masked MSE over all points at (wa, wb) in double: point i adds into
// partial i mod 8, the partials are combined by the tree
// ((p0+p1)+(p2+p3))+((p4+p5)+(p6+p7)); per point s = 1 - d2 * (1/wa^2),
// masked when s < 0, e = wb sqrt(s) - y. NaN when every point is masked.
double full_loss(const std::vector<double> &x, const std::vector<double> &y, double c, double wa, double wb)
{
    double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int k[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const double inv = 1.0 / (wa * wa);
    for (size_t i = 0; i < x.size(); ++i) {
        const double xc = x[i] + c, s = 1.0 - (xc * xc) * inv;
        if (s < 0) continue;
        const double e = wb * std::sqrt(s) - y[i];
        p[i % 8] += e * e;
        k[i % 8] += 1;
    }
    const double l = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
    const int kk = k[0] + k[1] + k[2] + k[3] + k[4] + k[5] + k[6] + k[7];
    return kk ? l / kk : NAN;
}

// One minibatch's loss and gradients in dtype T, as docs/design.md §1 and
// §6 define them: per point (batch position k into partial k mod 8)
// s = 1 - d2 (1/Wa^2) with d2 = ((T)x + (T)c)^2, masked when s < 0, r = sqrt(s),
// e = Wb r - y; sums of e^2, e d2 / r, e r; the partials combined by the
// fixed tree; loss = sum/K, dWa = (2/K) (sum_a (Wb / Wa^3)), dWb = (2/K) sum_b.
template <typename T> struct Grad {
    T loss, gwa, gwb;
};

template <typename T>
Grad<T> batch_grad(const std::vector<double> &x, const std::vector<double> &y, double c, size_t lo, size_t hi,
                   T wa, T wb)
{
    T l[8] = {0, 0, 0, 0, 0, 0, 0, 0}, a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int k = 0;
    const T inv = (T)1 / (wa * wa);
    for (size_t j = lo; j < hi; ++j) {
        const T xc = (T)x[j] + (T)c, d2 = xc * xc, s = (T)1 - d2 * inv;
        if (s < 0) continue;
        const T r = std::sqrt(s), e = wb * r - (T)y[j];
        const size_t p = (j - lo) % 8;
        l[p] += e * e;
        a[p] += (e * d2) / r;
        b[p] += e * r;
        ++k;
    }
    auto tree = [](const T *v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); };
    const T kk = (T)(k ? k : 1), two_k = (T)2 / kk;
    Grad<T> g;
    g.loss = k ? tree(l) / kk : (T)NAN;
    g.gwa = k ? two_k * (tree(a) * (wb / (wa * wa * wa))) : (T)0;
    g.gwb = k ? two_k * tree(b) : (T)0;
    return g;
}

struct Case {
    std::string name, args;
    double a = kA, b = kB, target = 0.01;
    int n = 512, bs = 64, epochs = 100;
    bool f32 = true;
    // the scheduler's step e (the recursive form): the lr after e steps
    // from the lr after e - 1 (constant by default)
    std::function<double(double lr, long e)> step = [](double lr, long) { return lr; };
};

class columns : public ProgramTest {
protected:
    columns() : ProgramTest("/tmp/os_columns.XXXXXX") {}

    Table table(const std::string &cmd, const std::string &args)
    {
        std::vector<std::string> argv = {cmd};
        std::string tok;
        for (char ch : args + " ") {
            if (ch != ' ') {
                tok += ch;
            } else if (!tok.empty()) {
                argv.push_back(tok);
                tok.clear();
            }
        }
        for (const char *a : {"--quiet", "-o", "-"}) argv.push_back(a);
        Proc p = run(argv);
        EXPECT_EQ(p.status, 0) << join(argv, " ") << "\n" << p.err;
        Table t = read_table(p.out, false);
        EXPECT_TRUE(t.ok) << join(argv, " ");
        return t;
    }

    // A value of the training dtype as the tables print it.
    static double param(const std::string &s, bool f32)
    {
        if (s.empty()) return NAN;
        return f32 ? (double)std::strtof(s.c_str(), nullptr) : std::strtod(s.c_str(), nullptr);
    }

    void check(const Case &c);
};

void columns::check(const Case &c)
{
    SCOPED_TRACE(c.name + ": " + c.args);
    const Table r = table("run", c.args);
    const Table tr = table("trace", c.args);
    const Table d = table("data", c.args);
    ASSERT_EQ(r.rows.size(), 1u);
    ASSERT_GE(tr.rows.size(), 1u);
    ASSERT_EQ(d.rows.size(), (size_t)c.n);
    std::vector<double> x, y;
    for (size_t i = 0; i < d.rows.size(); ++i) x.push_back(d.num(i, "x")), y.push_back(d.num(i, "y"));
    const double cc = std::sqrt(c.a * c.a - c.b * c.b);
    const int per_epoch = (c.n + c.bs - 1) / c.bs;
    const size_t last = tr.rows.size() - 1;  // the final row: the parameters after the last update
    const long updates = std::stol(tr.at(last, "update"));

    // the parameters after u updates, from the trace
    auto wa_after = [&](long u) { return param(tr.at((size_t)u, "wa"), c.f32); };
    auto wb_after = [&](long u) { return param(tr.at((size_t)u, "wb"), c.f32); };

    // with the data in its own order (--shuffle none), every update's loss and
    // gradients from the batch's points and the parameters before it
    if (c.args.find("--shuffle none") != std::string::npos) {
        for (long u = 0; u < updates; ++u) {
            const size_t lo = (size_t)(u % per_epoch) * (size_t)c.bs, hi = std::min(lo + (size_t)c.bs, x.size());
            double loss, gwa, gwb;
            if (c.f32) {
                const Grad<float> g = batch_grad<float>(x, y, cc, lo, hi, (float)wa_after(u), (float)wb_after(u));
                loss = g.loss, gwa = g.gwa, gwb = g.gwb;
            } else {
                const Grad<double> g = batch_grad<double>(x, y, cc, lo, hi, wa_after(u), wb_after(u));
                loss = g.loss, gwa = g.gwa, gwb = g.gwb;
            }
            EXPECT_TRUE(same_bits(param(tr.at((size_t)u, "loss"), c.f32), loss)) << "update " << u << " loss";
            EXPECT_TRUE(same_bits(param(tr.at((size_t)u, "dwa"), c.f32), gwa)) << "update " << u << " dWa";
            EXPECT_TRUE(same_bits(param(tr.at((size_t)u, "dwb"), c.f32), gwb)) << "update " << u << " dWb";
        }
    }

    // final_wa, final_wb: the trace's last parameters, the same text
    EXPECT_EQ(r.at(0, "final_wa"), tr.at(last, "wa"));
    EXPECT_EQ(r.at(0, "final_wb"), tr.at(last, "wb"));
    const double wa = wa_after(updates), wb = wb_after(updates);

    // diverged: stopped at the first update that took a parameter past 1e6 or
    // made it non-finite
    const bool diverged = !(std::fabs(wa) <= 1e6 && std::fabs(wb) <= 1e6);
    for (long u = 0; u < updates; ++u)
        EXPECT_TRUE(std::fabs(wa_after(u)) <= 1e6 && std::fabs(wb_after(u)) <= 1e6)
            << "the training went on after update " << u << " left the limit";
    EXPECT_EQ(r.at(0, "diverged"), diverged ? "1" : "0");
    EXPECT_EQ(updates == (long)c.epochs * per_epoch, !diverged) << updates << " updates";
    EXPECT_EQ(r.at(0, "diverged_at"), diverged ? std::to_string(updates - 1) : "");

    // final_loss: the full-data loss, NaN when diverged or Wa is 0
    const double fl = diverged || wa == 0 ? NAN : full_loss(x, y, cc, wa, wb);
    EXPECT_TRUE(same_bits(r.num(0, "final_loss"), fl)) << "final_loss " << r.at(0, "final_loss");

    // param_error
    const double pe = param_error(wa, wb, c.a, c.b);
    EXPECT_TRUE(same_bits(r.num(0, "param_error"), pe)) << "param_error " << r.at(0, "param_error");

    // steps_to_target: the number of updates after which param_error stays
    // <= target to the end; empty when it ends above it (or diverged)
    long steps = -1;
    if (!diverged && param_error(wa, wb, c.a, c.b) <= c.target) {
        steps = 0;
        for (long u = updates; u >= 0; --u)
            if (!(param_error(wa_after(u), wb_after(u), c.a, c.b) <= c.target)) {
                steps = u + 1;
                break;
            }
    }
    EXPECT_EQ(r.at(0, "steps_to_target"), steps < 0 ? "" : std::to_string(steps));
    EXPECT_EQ(r.at(0, "epochs_to_target"), steps < 0 ? "" : std::to_string((steps + per_epoch - 1) / per_epoch));

    // final_lr: the lr after the last scheduler step (a diverged training
    // stops before its scheduler steps again)
    const double lr_last = std::strtod(tr.at((size_t)updates - 1, "lr").c_str(), nullptr);
    const double final_lr = diverged ? lr_last : c.step(lr_last, updates);
    EXPECT_TRUE(same_bits(r.num(0, "final_lr"), final_lr)) << "final_lr " << r.at(0, "final_lr");

    // masked_batches, path_length: over the updates taken
    long masked = 0;
    double path = 0;
    for (long u = 0; u < updates; ++u) {
        masked += std::isnan(param(tr.at((size_t)u, "loss"), c.f32));
        path += param(tr.at((size_t)u, "eff_step"), c.f32);
    }
    EXPECT_EQ(r.at(0, "masked_batches"), std::to_string(masked));
    EXPECT_TRUE(same_bits(r.num(0, "path_length"), path)) << "path_length " << r.at(0, "path_length");

    // best_loss: the lowest mean minibatch loss of a completed epoch (an
    // epoch cut short by a divergence does not count); empty when none
    const long done_epochs = diverged ? (updates - 1) / per_epoch : updates / per_epoch;
    double best = NAN;
    for (long e = 0; e < done_epochs; ++e) {
        double sum = 0;
        long k = 0;
        for (long u = e * per_epoch; u < (e + 1) * per_epoch; ++u) {
            const double l = param(tr.at((size_t)u, "loss"), c.f32);
            if (!std::isnan(l)) sum += l, ++k;
        }
        if (k && !(best <= sum / (double)k)) best = sum / (double)k;
    }
    if (std::isnan(best))
        EXPECT_EQ(r.at(0, "best_loss"), "");
    else
        EXPECT_TRUE(same_bits(r.num(0, "best_loss"), best)) << "best_loss " << r.at(0, "best_loss");

    // oscillation: the last epoch's relative spread of Wa and Wb (its
    // parameters before its first update and after each update); empty
    // when diverged
    if (diverged) {
        EXPECT_EQ(r.at(0, "oscillation"), "");
    } else {
        double lo_a = INFINITY, hi_a = -INFINITY, lo_b = INFINITY, hi_b = -INFINITY;
        for (long u = updates - per_epoch; u <= updates; ++u) {
            lo_a = std::fmin(lo_a, wa_after(u)), hi_a = std::fmax(hi_a, wa_after(u));
            lo_b = std::fmin(lo_b, wb_after(u)), hi_b = std::fmax(hi_b, wb_after(u));
        }
        const double osc = std::fmax((hi_a - lo_a) / c.a, (hi_b - lo_b) / c.b);
        EXPECT_TRUE(same_bits(r.num(0, "oscillation"), osc)) << "oscillation " << r.at(0, "oscillation");
    }
}

TEST_F(columns, EveryColumnFromTheTraceAndTheData)
{
    std::vector<Case> cases;
    cases.reserve(16);  // add() hands out pointers into it
    auto add = [&](const char *name, const char *args) {
        Case c;
        c.name = name;
        c.args = args;
        cases.push_back(c);
        return &cases.back();
    };
    // reaches the target, leaves it, comes back: steps_to_target is the last entry
    add("sgd_reenters", "--optimizer sgd --lr 0.3 --epochs 20")->epochs = 20;
    Case *m = add("momentum_negative_wa", "--optimizer momentum --lr 0.01 --init-wa -1.2 --dtype float64 --shuffle none --epochs 12");
    m->epochs = 12, m->f32 = false;
    Case *a = add("adam_step", "--optimizer adam --lr 0.05 --init-wa 1 --init-wb 1 --epochs 15 --scheduler step:step_size=20,gamma=0.5 --dtype float64");
    a->epochs = 15, a->f32 = false;
    a->step = [](double lr, long e) { return e % 20 == 0 ? lr * 0.5 : lr; };
    Case *r = add("rmsprop_short_batches", "--optimizer rmsprop --lr 0.01 --batch-size 48 --epochs 10 --seed 3");
    r->epochs = 10, r->bs = 48;
    Case *ne = add("nesterov_wd_trial", "--optimizer nesterov --lr 0.003 --weight-decay 0.01 --epochs 10 --dtype float64 --shuffle trial --target 0.05");
    ne->epochs = 10, ne->f32 = false, ne->target = 0.05;
    Case *dv = add("sgd_diverges", "--optimizer sgd --lr 50 --init-wa 1 --init-wb 1 --dtype float64 --shuffle none --epochs 5");
    dv->epochs = 5, dv->f32 = false;
    // just past the limit: |Wb| reaches 2.7e6, finite (the limit is 1e6, not merely non-finite)
    Case *dg = add("sgd_diverges_gently", "--optimizer sgd --lr 2 --init-wa 1 --init-wb 1 --dtype float64 --shuffle none --epochs 5");
    dg->epochs = 5, dg->f32 = false;
    // batches that start at 50, 100, 150, ...: the trace (one training at a time) and
    // the run (SIMD lanes) must both sum by batch position (starts at a multiple of 4
    // only would not tell: the tree gives the same sum with its halves swapped)
    Case *odd = add("odd_batches", "--optimizer momentum --lr 0.003 --batch-size 50 --epochs 6 --seed 4");
    odd->epochs = 6, odd->bs = 50;
    Case *oddn = add("odd_batches_data_order", "--optimizer adam --lr 0.01 --batch-size 50 --epochs 3 --shuffle none");
    oddn->epochs = 3, oddn->bs = 50;
    Case *dv32 = add("sgd_diverges_f32", "--optimizer sgd --lr 50 --init-wa 1 --init-wb 1 --epochs 4");
    dv32->epochs = 4;
    // Wa 0.003: only the two points nearest the centre are unmasked, one in each of two
    // batches of 16: batches with a single point count as unmasked
    Case *one = add("single_point_batches", "--optimizer adam --lr 0.0001 --init-wa 0.003 --epochs 2 --shuffle none --batch-size 16");
    one->epochs = 2, one->bs = 16;
    Case *mk = add("masked_start", "--optimizer adam --lr 0.05 --init-wa 0.001 --epochs 3");
    mk->epochs = 3;
    Case *ex = add("sgd_exponential", "--optimizer sgd --lr 0.05 --scheduler exponential:gamma=0.99 --epochs 6 --seed 2");
    ex->epochs = 6;
    ex->step = [](double lr, long) { return lr * 0.99; };
    Case *o = add("other_orbit", "--optimizer momentum --lr 0.003 --n 100 --noise 0.3 --a 2 --b 1.5 --batch-size 16 --epochs 25 --init-wa 1.5");
    o->n = 100, o->a = 2, o->b = 1.5, o->bs = 16, o->epochs = 25;
    Case *ne32 = add("adam_negative_wa_f32", "--optimizer adam --lr 0.03 --init-wa -0.5 --epochs 30 --seed 7");
    ne32->epochs = 30;
    for (const Case &c : cases) check(c);
}

// Starting from -Wa mirrors the whole training: Wa's gradient is odd in Wa,
// everything else even, and IEEE rounding is symmetric. Every column but
// final_wa (which changes sign) must be the same text, for every optimizer.
// (Shared batch orders: with --shuffle trial, init_wa keys a different order.)
TEST_F(columns, MirroredStartGivesTheMirroredTraining)
{
    for (const char *dtype : {"float32", "float64"}) {
        const Table t = table("run", std::string("--optimizer sgd,momentum,nesterov,rmsprop,adam --lr 0.01,0.003 "
                                                 "--weight-decay 0,0.01 --init-wa -1.2,1.2,-0.1,0.1 --epochs 20 "
                                                 "--shuffle shared --dtype ") + dtype);
        ASSERT_EQ(t.rows.size(), 5u * 2 * 2 * 4);
        const bool f32 = std::string(dtype) == "float32";
        int reached = 0;
        for (size_t i = 0; i + 1 < t.rows.size(); i += 2) {
            SCOPED_TRACE(std::string(dtype) + " rows " + std::to_string(i) + ", " + std::to_string(i + 1));
            ASSERT_EQ(t.num(i, "init_wa"), -t.num(i + 1, "init_wa"));
            EXPECT_TRUE(same_bits(param(t.at(i, "final_wa"), f32), -param(t.at(i + 1, "final_wa"), f32)));
            for (size_t k = t.col("final_wb"); k < t.header.size(); ++k)
                EXPECT_EQ(t.rows[i][k], t.rows[i + 1][k]) << t.header[k];
            reached += !t.at(i, "steps_to_target").empty();
        }
        EXPECT_GT(reached, 0) << "some trainings must reach the target for the test to mean something";
    }
}

// ---------------------------------------------------------------------------
// the round trip: the table holds the library's values exactly

TEST(ColumnsRoundTrip, EveryFloatReadsBackToTheLibrarysValue)
{
    for (int dtype : {OS_DTYPE_F32, OS_DTYPE_F64}) {
        os_spec s;
        ASSERT_EQ(os_spec_init(&s), OS_OK);
        set_list(&s, OS_AX_OPTIMIZER, "sgd,momentum,nesterov,rmsprop,adam");
        set_list(&s, OS_AX_LR, "0.001,0.03,0.3,40");
        set_list(&s, OS_AX_SCHEDULER, "none");
        os_error err;
        ASSERT_EQ(os_spec_set_axis(&s, OS_AX_SCHEDULER, "cosine:t_max=30,eta_min=0.0001", 0, &err), OS_OK);
        set_list(&s, OS_AX_INIT_WA, "0.001,-0.7,0.1");
        set_list(&s, OS_AX_EPOCHS, "6");
        s.seeds = 2;
        os_spec_set_one(&s, OS_AX_DTYPE, dtype, NULL);
        s.backend = OS_BACKEND_CPU;
        os_sweep sw;
        ASSERT_EQ(os_sweep_plan(&s, &sw, &err), OS_OK) << err.msg;
        std::vector<os_result> res(sw.n_trials);
        ASSERT_EQ(os_sweep_run(&sw, res.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
        const Table t = read_table(table_of(&sw, res), false);
        ASSERT_TRUE(t.ok);
        ASSERT_EQ(t.rows.size(), sw.n_trials);
        int nan_loss = 0, diverged = 0;
        for (size_t i = 0; i < sw.n_trials; ++i) {
            SCOPED_TRACE("row " + std::to_string(i));
            const os_result &r = res[i];
            auto f = [&](const char *col) { return t.at(i, col); };
            auto d = [&](const char *col) { return f(col).empty() ? NAN : std::strtod(f(col).c_str(), nullptr); };
            if (dtype == OS_DTYPE_F32) {
                EXPECT_EQ(std::strtof(f("final_wa").c_str(), nullptr), (float)r.final_wa) << f("final_wa");
                EXPECT_EQ(std::strtof(f("final_wb").c_str(), nullptr), (float)r.final_wb) << f("final_wb");
                EXPECT_TRUE(same_bits((double)(float)r.final_wa, r.final_wa)) << "a float32 result is a float";
            } else {
                EXPECT_TRUE(same_bits(d("final_wa"), r.final_wa)) << f("final_wa");
                EXPECT_TRUE(same_bits(d("final_wb"), r.final_wb)) << f("final_wb");
            }
            for (auto [col, v] : {std::pair<const char *, double>{"final_loss", r.final_loss},
                                  {"loss_gap", r.loss_gap},
                                  {"param_error", r.param_error},
                                  {"best_loss", r.best_loss},
                                  {"final_lr", r.final_lr},
                                  {"oscillation", r.oscillation},
                                  {"path_length", r.path_length}})
                EXPECT_TRUE(same_bits(d(col), v)) << col << " '" << f(col) << "'";
            EXPECT_EQ(f("steps_to_target"), r.steps_to_target < 0 ? "" : std::to_string(r.steps_to_target));
            EXPECT_EQ(f("diverged"), std::to_string(r.diverged));
            EXPECT_EQ(f("masked_batches"), std::to_string(r.masked_batches));
            EXPECT_EQ(f("seed"), std::to_string(sw.trials[i].seed));
            EXPECT_EQ(f("trial"), std::to_string(i));
            // loss_gap is final_loss minus the loss minimum of the training's dataset
            const os_dataset *ds = os_sweep_dataset(&sw, i);
            EXPECT_TRUE(same_bits(r.loss_gap, r.final_loss - ds->min_loss));
            nan_loss += std::isnan(r.final_loss);
            diverged += r.diverged;
        }
        EXPECT_GT(diverged, 0);
        EXPECT_GT(nan_loss, diverged) << "masked starts give NaN losses too";
        os_sweep_free(&sw);
        os_spec_free(&s);
    }
}

}  // namespace
