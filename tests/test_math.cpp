// test_math.cpp — the shared step math against independent references:
// central finite differences for the gradients (float64), PyTorch's edge
// cases (all points masked, s == 0), the canonical summation order under
// GPU-style lane splits, closed forms of the optimizers and schedulers, and
// the loss minimum of noise-free data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

extern "C" {
#include "orbitsweep/orbitsweep.h"
}

namespace {

struct Batch {
    std::vector<double> d2, y;
};

// 64 points of the default generated dataset around the centre, some masked for small Wa.
Batch make_batch(int first = 200, int count = 64)
{
    os_spec spec;
    os_spec_init(&spec);
    os_dataset d;
    os_error err;
    EXPECT_EQ(os_dataset_make(&spec, 0, &d, &err), OS_OK);
    Batch b;
    for (int i = first; i < first + count; ++i) {
        double xc = d.x[i] + d.c;
        b.d2.push_back(xc * xc);
        b.y.push_back(d.y[i]);
    }
    os_dataset_free(&d);
    os_spec_free(&spec);
    return b;
}

os_grad_f64 batch_grad(const Batch &b, double wa, double wb)
{
    os_acc_f64 p[OS_PARTIALS];
    for (auto &a : p) os_acc_zero_f64(&a);
    os_fwd_f64 f = os_fwd_make_f64(wa, wb);
    for (size_t k = 0; k < b.d2.size(); ++k) os_point_f64(&f, b.d2[k], b.y[k], &p[k % OS_PARTIALS]);
    return os_grad_finish_f64(os_acc_tree_f64(p), wa, wb);
}

// The loss written directly from its definition (no shared code).
double direct_loss(const Batch &b, double wa, double wb)
{
    double s = 0;
    int k = 0;
    for (size_t i = 0; i < b.d2.size(); ++i) {
        double r = 1 - b.d2[i] / (wa * wa);
        if (r < 0) continue;
        double e = wb * std::sqrt(r) - b.y[i];
        s += e * e;
        ++k;
    }
    return s / k;
}

}  // namespace

// dL/dWa and dL/dWb against central differences, where no point sits on the
// mask edge (tolerance 1e-6 relative; h = 1e-6 gives ~1e-10 truncation).
TEST(Model, GradientsMatchFiniteDifferences)
{
    Batch b = make_batch();
    const double pts[][2] = {{1.0, 1.1}, {1.3, 1.2}, {0.5, 0.7}, {2.5, 0.3}, {-1.2, 1.0}};
    for (auto &p : pts) {
        double wa = p[0], wb = p[1], h = 1e-6;
        os_grad_f64 g = batch_grad(b, wa, wb);
        EXPECT_NEAR(g.loss, direct_loss(b, wa, wb), 1e-13 * std::fabs(g.loss)) << wa << "," << wb;
        double fa = (direct_loss(b, wa + h, wb) - direct_loss(b, wa - h, wb)) / (2 * h);
        double fb = (direct_loss(b, wa, wb + h) - direct_loss(b, wa, wb - h)) / (2 * h);
        EXPECT_NEAR(g.gwa, fa, 1e-6 * std::fabs(fa) + 1e-9) << "dWa at " << wa << "," << wb;
        EXPECT_NEAR(g.gwb, fb, 1e-6 * std::fabs(fb) + 1e-9) << "dWb at " << wa << "," << wb;
    }
}

// Float32 gradients follow the float64 ones closely on a well-conditioned point.
TEST(Model, Float32CloseToFloat64)
{
    Batch b = make_batch();
    os_acc_f32 p[OS_PARTIALS];
    for (auto &a : p) os_acc_zero_f32(&a);
    os_fwd_f32 f = os_fwd_make_f32(1.0f, 1.1f);
    for (size_t k = 0; k < b.d2.size(); ++k)
        os_point_f32(&f, (float)b.d2[k], (float)b.y[k], &p[k % OS_PARTIALS]);
    os_grad_f32 g32 = os_grad_finish_f32(os_acc_tree_f32(p), 1.0f, 1.1f);
    os_grad_f64 g64 = batch_grad(b, 1.0, 1.1);
    EXPECT_NEAR(g32.gwa, g64.gwa, 1e-4 * std::fabs(g64.gwa));
    EXPECT_NEAR(g32.gwb, g64.gwb, 1e-4 * std::fabs(g64.gwb));
}

// PyTorch: every point masked -> loss NaN (mean of nothing), gradients 0.
TEST(Model, FullyMaskedBatch)
{
    Batch b = make_batch(0, 64);  // the left end of the orbit: |x+c| > 0.9
    os_grad_f64 g = batch_grad(b, 0.1, 1.8);
    EXPECT_EQ(g.k, 0);
    EXPECT_TRUE(std::isnan(g.loss));
    EXPECT_EQ(g.gwa, 0.0);
    EXPECT_EQ(g.gwb, 0.0);
}

// Masked points contribute nothing (not NaN); an unmasked point with s == 0
// exactly gives an infinite dL/dWa term, as in PyTorch.
TEST(Model, MaskEdgeCases)
{
    Batch b;
    b.d2 = {0.25, 4.0, 0.01};
    b.y = {0.5, 0.1, 0.9};
    os_grad_f64 g = batch_grad(b, 1.0, 1.0);  // point 2 masked
    EXPECT_EQ(g.k, 2);
    EXPECT_TRUE(std::isfinite(g.gwa) && std::isfinite(g.gwb) && std::isfinite(g.loss));
    Batch edge;
    edge.d2 = {1.0, 0.25};  // s = 1 - 1/1 = 0 exactly for the first point
    edge.y = {0.3, 0.5};
    os_grad_f64 ge = batch_grad(edge, 1.0, 1.0);
    EXPECT_EQ(ge.k, 2);
    EXPECT_TRUE(std::isinf(ge.gwa));
    EXPECT_TRUE(std::isfinite(ge.gwb));
}

// The canonical order: a tile of T lanes (T = 1, 2, 4, 8), lane j holding the
// partials k with k mod T == j, combined by a shuffle-xor butterfly, gives the
// same bits as the CPU's 8 partials and fixed tree.
TEST(Model, CanonicalOrderIndependentOfTileSize)
{
    Batch b = make_batch(150, 61);  // a short, odd-sized batch
    os_grad_f32 ref;
    {
        os_acc_f32 p[8];
        for (auto &a : p) os_acc_zero_f32(&a);
        os_fwd_f32 f = os_fwd_make_f32(0.9f, 1.3f);
        for (size_t k = 0; k < b.d2.size(); ++k) os_point_f32(&f, (float)b.d2[k], (float)b.y[k], &p[k % 8]);
        ref = os_grad_finish_f32(os_acc_tree_f32(p), 0.9f, 1.3f);
    }
    for (int T : {1, 2, 4, 8}) {
        // lane j owns partials j, j+T, ...; it computes them, then combines its own
        // partials in tree order (pairs at distance T, 2T, 4T) before the butterfly.
        std::vector<os_acc_f32> part(8);
        for (auto &a : part) os_acc_zero_f32(&a);
        os_fwd_f32 f = os_fwd_make_f32(0.9f, 1.3f);
        for (size_t k = 0; k < b.d2.size(); ++k) os_point_f32(&f, (float)b.d2[k], (float)b.y[k], &part[k % 8]);
        std::vector<os_acc_f32> lane(8);
        for (int j = 0; j < 8; ++j) lane[j] = part[j];
        for (int dist = 1; dist < 8; dist *= 2) {  // butterfly over lanes xor dist
            std::vector<os_acc_f32> next(8);
            for (int j = 0; j < 8; ++j) {
                int lo = j & ~dist, hi = j | dist;  // IEEE + is commutative: order of operands is fixed by the tree
                next[j] = os_acc_add_f32(lane[lo], lane[hi]);
            }
            lane = next;
        }
        os_grad_f32 g = os_grad_finish_f32(lane[0], 0.9f, 1.3f);
        EXPECT_EQ(std::memcmp(&g.gwa, &ref.gwa, 4), 0) << "T=" << T;
        EXPECT_EQ(std::memcmp(&g.gwb, &ref.gwb, 4), 0) << "T=" << T;
        EXPECT_EQ(std::memcmp(&g.loss, &ref.loss, 4), 0) << "T=" << T;
    }
}

// beta**t from the double-double running product equals the correctly
// rounded power; glibc's pow (what Python uses) is within one ulp of it,
// and where the two differ the running product is the closer one.
TEST(Optim, PowerOfBetaIsCorrectlyRounded)
{
    for (double beta : {0.9, 0.999, 0.99, 0.8, 0.95}) {
        os_powdd p = {1.0, 0.0};
        int off_by_one = 0;
        for (int t = 1; t <= 20000; ++t) {
            os_powdd_mul(&p, beta);
            if (p.hi < 1e-290) break;  // (Adam: 1 - beta^t == 1 long before)
            long double exact = powl((long double)beta, (long double)t);
            double want = std::pow(beta, (double)t);
            if (p.hi != want) {
                ++off_by_one;
                ASSERT_EQ(std::fabs(p.hi - want), std::fabs(std::nextafter(want, 0.0) - want))
                    << beta << "^" << t;
                // the running product must then be the closer one to the exact value
                ASSERT_LE(std::fabs((long double)p.hi - exact), std::fabs((long double)want - exact))
                    << beta << "^" << t;
            }
        }
        EXPECT_LT(off_by_one, 100) << beta;  // glibc pow is off by an ulp ~0.1% of the time
    }
}

// The division-free convergence test decides param_error <= target exactly.
TEST(Train, ToleranceDecidesParamErrorExactly)
{
    uint64_t state = 12345;
    auto next = [&]() { state = state * 6364136223846793005ULL + 1442695040888963407ULL; return (double)(state >> 11) / 9007199254740992.0; };
    for (double target : {0.01, 0.001, 0.1, 1e-5}) {
        for (double ref : {1.261845, 1.234378, 0.7, 3.0}) {
            const double tol = os_param_error_tolerance(ref, target);
            EXPECT_LE(tol / ref, target);
            EXPECT_GT(std::nextafter(tol, INFINITY) / ref, target);
            for (int i = 0; i < 20000; ++i) {
                // values within a few ulps of the boundary and scattered around it
                double w = ref * (1 + target * (2 * next() - 1) * 1.5);
                if (i % 2) w = ref + (i % 4 == 1 ? 1 : -1) * std::nextafter(tol, (i % 8 < 4) ? 0.0 : 1.0);
                float wf = (float)w;
                double pe = os_param_error(wf, ref, ref, ref);
                bool by_division = pe <= target;
                bool by_tolerance = std::fabs(std::fabs((double)wf) - ref) <= tol;
                ASSERT_EQ(by_division, by_tolerance) << "ref " << ref << " target " << target << " w " << wf;
            }
        }
    }
}

namespace {
// As the plan gives them: the SGD family's momentum only where used (an
// sgd step with a momentum would be momentum SGD, as in torch).
os_opt_hp hp(int kind)
{
    os_opt_hp h;
    h.kind = kind;
    h.amsgrad = h.centered = 0;
    h.momentum_decay = 0.004;
    h.lr_decay = h.initial_accumulator_value = 0;
    h.rho = 0.9;
    h.momentum = kind == OS_OPT_MOMENTUM || kind == OS_OPT_NESTEROV ? 0.9 : NAN;
    h.dampening = 0;
    h.alpha = 0.99;
    h.beta1 = 0.9;
    h.beta2 = 0.999;
    h.eps = 1e-8;
    h.weight_decay = 0;
    return h;
}
}  // namespace

// Closed forms with a constant gradient g.
TEST(Optim, ClosedFormsWithConstantGradient)
{
    const double g[2] = {0.5, -2.0}, lr = 0.01;
    {  // SGD: p_t = p_0 - t lr g
        os_opt_hp h = hp(OS_OPT_SGD);
        os_opt_state_f64 st;
        os_opt_init_f64(&st);
        double p[2] = {1, 1};
        for (int t = 0; t < 100; ++t) os_opt_step_f64(&h, &st, p, g, lr, NAN);
        EXPECT_NEAR(p[0], 1 - 100 * lr * g[0], 1e-12);
        EXPECT_NEAR(p[1], 1 - 100 * lr * g[1], 1e-12);
    }
    {  // momentum: buf_t = g (1 - mu^t) / (1 - mu)
        os_opt_hp h = hp(OS_OPT_MOMENTUM);
        os_opt_state_f64 st;
        os_opt_init_f64(&st);
        double p[2] = {1, 1}, want = 1;
        for (int t = 1; t <= 50; ++t) {
            os_opt_step_f64(&h, &st, p, g, lr, NAN);
            want -= lr * g[0] * (1 - std::pow(0.9, t)) / 0.1;
            EXPECT_NEAR(st.m[0], g[0] * (1 - std::pow(0.9, t)) / 0.1, 1e-12);
        }
        EXPECT_NEAR(p[0], want, 1e-12);
    }
    {  // RMSprop first step: s = (1-alpha) g^2, step = -lr g / (sqrt(s) + eps) ~ -10 lr sign(g)
        os_opt_hp h = hp(OS_OPT_RMSPROP);
        os_opt_state_f64 st;
        os_opt_init_f64(&st);
        double p[2] = {1, 1};
        os_opt_step_f64(&h, &st, p, g, lr, NAN);
        EXPECT_NEAR(p[0] - 1, -lr * g[0] / (std::sqrt(0.01 * g[0] * g[0]) + 1e-8), 1e-15);
        EXPECT_NEAR(p[1] - 1, -lr * g[1] / (std::sqrt(0.01 * g[1] * g[1]) + 1e-8), 1e-15);
    }
    {  // Adam with a constant gradient: every bias-corrected step is ~ -lr sign(g)
        os_opt_hp h = hp(OS_OPT_ADAM);
        os_opt_state_f64 st;
        os_opt_init_f64(&st);
        double p[2] = {1, 1};
        for (int t = 1; t <= 30; ++t) {
            double before = p[1];
            os_opt_step_f64(&h, &st, p, g, lr, NAN);
            EXPECT_NEAR(p[1] - before, lr, 1e-9) << "t=" << t;
        }
    }
    {  // weight decay: SGD on a zero gradient shrinks p by (1 - lr wd) per step
        os_opt_hp h = hp(OS_OPT_SGD);
        h.weight_decay = 0.1;
        os_opt_state_f64 st;
        os_opt_init_f64(&st);
        double p[2] = {2, -3};
        const double zero[2] = {0, 0};
        for (int t = 0; t < 10; ++t) os_opt_step_f64(&h, &st, p, zero, lr, NAN);
        EXPECT_NEAR(p[0], 2 * std::pow(1 - lr * 0.1, 10), 1e-14);
        EXPECT_NEAR(p[1], -3 * std::pow(1 - lr * 0.1, 10), 1e-14);
    }
}

// Recursive schedules against their closed forms (they agree to rounding).
TEST(Sched, RecursiveMatchesClosedForms)
{
    struct Case {
        const char *spec;
        double (*closed)(double b, long e);
    };
    const Case cases[] = {
        {"step:step_size=7,gamma=0.3", [](double b, long e) { return b * std::pow(0.3, e / 7); }},
        {"exponential:gamma=0.97", [](double b, long e) { return b * std::pow(0.97, e); }},
        {"multistep:milestones=4/8/10,gamma=0.8",
         [](double b, long e) { return b * std::pow(0.8, (e >= 4) + (e >= 8) + (e >= 10)); }},
        {"multiplicative:factor=0.5,start=5,end=20,every=5",
         [](double b, long e) { return b * std::pow(0.5, std::min(e, 20L) / 5); }},
        {"cosine:t_max=20,eta_min=0.001",
         [](double b, long e) {
             return 0.001 + (b - 0.001) * (1 + std::cos(M_PI * e / 20.0)) / 2;
         }},
    };
    for (const Case &c : cases) {
        os_sched_spec s;
        os_error err;
        ASSERT_EQ(os_sched_parse(c.spec, &s, &err), OS_OK) << err.msg;
        os_sched_state st;
        os_sched_init(&s.s, &st, 0.12, 0);
        for (long e = 0; e <= 60; ++e) {
            if (e) os_sched_step(&s.s, &st);
            double want = c.closed(0.12, e);
            EXPECT_NEAR(st.lr, want, 1e-12 * want + 1e-15) << c.spec << " e=" << e;
        }
    }
}

// Canonical scheduler names, and the parser's defaults.
// MultiStepLR's constructor takes its initial step to last_epoch 0, where a
// milestone at 0 already applies (docs/pytorch-semantics.md §3): lr 0.1,
// milestones 0/0/2, gamma 0.5 gives 0.025 before the first update, then
// 0.025, 0.0125, 0.0125, ... (exact in binary).
TEST(Sched, MultistepMilestoneAtZeroAppliesAtConstruction)
{
    os_sched_spec spec;
    os_error err;
    ASSERT_EQ(os_sched_parse("multistep:milestones=0/0/2,gamma=0.5", &spec, &err), OS_OK) << err.msg;
    os_sched_state st;
    os_sched_init(&spec.s, &st, 0.1, 0);
    EXPECT_EQ(st.lr, 0.1 * 0.5 * 0.5);
    const double want[] = {0.025, 0.0125, 0.0125, 0.0125};
    for (double w : want) {
        os_sched_step(&spec.s, &st);
        EXPECT_EQ(st.lr, w) << "e = " << st.e;
    }
}

TEST(Sched, CanonicalNames)
{
    const char *io[][2] = {
        {"none", "none"},
        {"constant", "constant:factor=0.3333333333333333,total_iters=5"},
        {"multistep:gamma=0.5,milestones=20/5/10", "multistep:milestones=5/10/20,gamma=0.5"},
        {"multistep:milestones=3", "multistep:milestones=3,gamma=0.1"},
        {"multiplicative:factor=0.8,start=6,end=24,every=2",
         "multiplicative:factor=0.8,start=6,end=24,every=2"},
        {"multiplicative:factor=0.9", "multiplicative:factor=0.9,start=1,every=1"},
        {"step:step_size=10", "step:step_size=10,gamma=0.1"},
        {"exponential:gamma=0.97", "exponential:gamma=0.97"},
        {"cosine:t_max=100", "cosine:t_max=100,eta_min=0"},
    };
    for (auto &p : io) {
        os_sched_spec s;
        os_error err;
        ASSERT_EQ(os_sched_parse(p[0], &s, &err), OS_OK) << err.msg;
        EXPECT_STREQ(s.name, p[1]);
        os_sched_spec again;  // the canonical name parses to itself
        ASSERT_EQ(os_sched_parse(s.name, &again, &err), OS_OK);
        EXPECT_STREQ(again.name, s.name);
    }
}

// numpy's logspace/linspace/geomspace element values.
TEST(Spec, RangesAsNumpy)
{
    os_list l = {nullptr, 0, 0};
    os_error err;
    ASSERT_EQ(os_list_parse("--lr", "logspace(-4,0,5)", &l, &err), OS_OK);
    ASSERT_EQ(l.n, 5u);
    EXPECT_EQ(l.v[0], 1e-4);
    EXPECT_EQ(l.v[2], 1e-2);
    EXPECT_EQ(l.v[4], 1.0);
    l.n = 0;
    ASSERT_EQ(os_list_parse("--lr", "linspace(0,1,5),7,geomspace(1,1000,4)", &l, &err), OS_OK);
    const double want[] = {0, 0.25, 0.5, 0.75, 1, 7, 1, 10, 100, 1000};
    ASSERT_EQ(l.n, 10u);
    for (int i = 0; i < 10; ++i) EXPECT_NEAR(l.v[i], want[i], 1e-12 * want[i]) << i;
    free(l.v);
}

// Noise-free data: the engine's loss minimum is 0 at the generating (A, B).
TEST(Dataset, MinimumOfNoiseFreeData)
{
    os_spec spec;
    os_spec_init(&spec);
    os_spec_set_one(&spec, OS_AX_NOISE, 0, NULL);
    os_dataset d;
    os_error err;
    ASSERT_EQ(os_dataset_make(&spec, 0, &d, &err), OS_OK);
    EXPECT_LT(d.min_loss, 1e-20);
    EXPECT_NEAR(d.min_wa, spec.a, 1e-7);
    EXPECT_NEAR(d.min_wb, spec.b, 1e-7);
    EXPECT_NEAR(os_dataset_loss(&d, spec.a, spec.b), 0, 1e-16);
    os_dataset_free(&d);
    os_spec_free(&spec);
}

// With noise, the minimum is the best loss nearby: no (Wa, Wb) on a grid
// around it (all points unmasked) does better.
TEST(Dataset, MinimumIsMinimal)
{
    os_spec spec;
    os_spec_init(&spec);
    os_dataset d;
    os_error err;
    ASSERT_EQ(os_dataset_make(&spec, 3, &d, &err), OS_OK);
    EXPECT_NEAR(d.min_loss, 0.1 * 0.1 / 12, 0.0003);  // uniform noise variance
    for (double da = -0.02; da <= 0.02; da += 0.001)
        for (double db = -0.02; db <= 0.02; db += 0.001)
            EXPECT_GE(os_dataset_loss(&d, d.min_wa + da, d.min_wb + db), d.min_loss - 1e-15);
    os_dataset_free(&d);
    os_spec_free(&spec);
}

// Number formatting: the shortest decimal that reads back, as Python's repr
// finds it (David Gay's algorithm), written in printf's %g style. Known
// answers from CPython 3 (repr, and the shortest float32 by search).
TEST(Format, ShortestRoundTripDigits)
{
    const struct {
        double v;
        const char *text;
    } doubles[] = {
        {0x1.999999999999ap-4, "0.1"},
        {0x1.5555555555555p-2, "0.3333333333333333"},
        {0x1.3333333333334p-2, "0.30000000000000004"},
        {0x1.5555555555555p-1, "0.6666666666666666"},
        {0x1.5798ee2308c3ap-27, "1e-08"},
        {0x1.ff7ced916872bp-1, "0.999"},
        {0x1.4308461f9f01cp+0, "1.261845"},
        {0x1.921fb54442d18p+1, "3.141592653589793"},
        {0x1.b4dfc092518b2p+993, "1.4285714285714286e+299"},
        {0x1.e240c9fbe76c9p+16, "123456.789"},
        {0x1.0000000000000p-30, "9.313225746154785e-10"},
        {0x1.fffffffffffffp-1, "0.9999999999999999"},
        {0x1.8777e75094fc3p-16, "2.3333333333333332e-05"},
        {0x1.227bf22ad7891p+21, "2379646.2709189137"},
        {0x1.cd1e4c655e918p-38, "6.552885923981311e-12"},
        {0x1.6301d70b745d0p+16, "90881.84001853247"},
        {0x1.0ff3d0276ca85p-12, "0.00025935401432800764"},
        {-0x1.4308461f9f01cp+0, "-1.261845"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {NAN, "nan"},
    };
    char buf[64];
    for (const auto &c : doubles) {
        os_fmt_double(buf, sizeof buf, c.v);
        EXPECT_STREQ(buf, c.text);
    }
    const struct {
        float v;
        const char *text;
    } floats[] = {
        {0.1f, "0.1"},       {0.3333333432674408f, "0.33333334"}, {0.3f, "0.3"},
        {1.261845f, "1.261845"}, {4.857142716340486e+37f, "4.8571427e+37"}, {1e-07f, "1e-07"},
    };
    for (const auto &c : floats) {
        os_fmt_float(buf, sizeof buf, c.v);
        EXPECT_STREQ(buf, c.text);
    }
}

// numpy.linspace(start, stop, n) ends exactly at stop: for n = 36, 71, 80,
// ... (119 of the n below 3000 with the default orbit) the formula
// i*step + start would miss it by an ulp.
TEST(Dataset, GeneratedXEndsExactlyAtStop)
{
    for (int n : {36, 71, 80, 138, 141, 512, 2999}) {
        os_spec spec;
        ASSERT_EQ(os_spec_init(&spec), OS_OK);
        os_spec_set_one(&spec, OS_AX_N, n, NULL);
        os_dataset d;
        os_error err;
        ASSERT_EQ(os_dataset_make(&spec, 0, &d, &err), OS_OK) << err.msg;
        const double c = std::sqrt(spec.a * spec.a - spec.b * spec.b);
        EXPECT_EQ(d.x[0], -(spec.a + c)) << "n " << n;
        EXPECT_EQ(d.x[n - 1], spec.a - c) << "n " << n;
        os_dataset_free(&d);
        os_spec_free(&spec);
    }
}

// NAdam's 0.96**x (os_pow096: +, *, fma, floor and ldexp only, so host and
// device agree) against glibc's pow, which is what Python's 0.96 ** x (and
// so torch's NAdam) calls: within 4 ulp over the exponents a training meets
// (t * momentum_decay for t up to 10^6 and momentum_decay up to 1) and a few
// extremes; 0 and NaN pass through.
TEST(Optim, NadamPowerMatchesPythonsPow)
{
    int worst = 0;
    auto ulps = [](double a, double b) {
        int64_t ia, ib;
        std::memcpy(&ia, &a, 8);
        std::memcpy(&ib, &b, 8);
        return (int)std::llabs(ia - ib);
    };
    for (double psi : {0.004, 0.001, 0.01, 0.1, 0.5, 1.0, 3e-7})
        for (long t = 1; t <= 1000000; t = t < 100 ? t + 1 : t * 3 / 2) {
            const double x = (double)t * psi, want = std::pow(0.96, x), got = os_pow096(x);
            const int u = ulps(want, got);
            ASSERT_LE(u, 4) << "0.96**" << x << ": pow " << want << ", os_pow096 " << got;
            worst = std::max(worst, u);
        }
    EXPECT_EQ(os_pow096(0.0), 1.0);
    EXPECT_EQ(os_pow096(1e6), 0.0);  // underflows, as pow does
    EXPECT_TRUE(std::isnan(os_pow096(NAN)));
    RecordProperty("worst_ulps", worst);
}
