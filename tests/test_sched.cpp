// test_sched.cpp — the schedulers against PyTorch's own scheduler tests.
//
// Every case of PyTorch's test/optim/test_lrscheduler.py (TestLRScheduler)
// that runs one scheduler configuration on the lr of param group 0 and that
// orbitsweep's catalogue can express is reproduced here with PyTorch's
// expected values, written as the test writes them, and PyTorch's own
// tolerance (assertEqual(..., atol=1e-5, rtol=0)). Group 0 has lr 0.05
// (0.5 in the plateau cases); cyclic and onecycle take max_lr from the
// training's lr. Exactness against torch 1.13 itself is test_golden's job
// (tests/golden/sched_catalogue.csv); docs/pytorch-semantics.md §3 lists the
// cases covered and the ones left out.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

extern "C" {
#include "orbitsweep/orbitsweep.h"
}

namespace {

using V = std::vector<double>;

V rep(double x, int n) { return V(n, x); }
V cat(std::initializer_list<V> parts)
{
    V out;
    for (const V &p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

os_sched_spec parse(const std::string &spec)
{
    os_sched_spec s;
    os_error err;
    EXPECT_EQ(os_sched_parse(spec.c_str(), &s, &err), OS_OK) << spec << ": " << err.msg;
    return s;
}

// PyTorch's _test: lr checked, then scheduler.step(), for each epoch.
void expect_lrs(const std::string &spec, double base, const V &want, const V *mom = nullptr)
{
    os_sched_spec s = parse(spec);
    os_sched_state st;
    os_sched_init(&s.s, &st, base, mom != nullptr);
    for (size_t e = 0; e < want.size(); ++e) {
        if (e) os_sched_step(&s.s, &st);
        EXPECT_NEAR(st.lr, want[e], 1e-5) << spec << " epoch " << e;
        if (mom) {
            EXPECT_NEAR(st.mom, (*mom)[e], 1e-5) << spec << " momentum, epoch " << e;
        }
    }
    os_sched_free(&s.s);
}

// PyTorch's _test_reduce_lr_on_plateau: step(metric), then lr checked.
void expect_plateau(const std::string &spec, const V &metrics, const V &want)
{
    os_sched_spec s = parse(spec);
    os_sched_state st;
    os_sched_init(&s.s, &st, 0.5, 0);
    /* PyTorch's targets may run past its epochs (one per metric): checked up to the shorter */
    for (size_t e = 0; e < want.size() && e < metrics.size(); ++e) {
        os_sched_epoch(&s.s, &st, metrics[e]);
        EXPECT_NEAR(st.lr, want[e], 1e-5) << spec << " epoch " << e;
    }
    os_sched_free(&s.s);
}

double cos_target(double eta_min, double base, double x, double t)
{
    return eta_min + (base - eta_min) * (1 + std::cos(M_PI * x / t)) / 2;
}

TEST(PyTorchSchedulerTests, StepMultiStepExpPolyCos)
{
    expect_lrs("step:step_size=3,gamma=0.1", 0.05, cat({rep(0.05, 3), rep(0.005, 3), rep(0.0005, 3), rep(0.00005, 3)}));
    expect_lrs("multistep:milestones=2/5/9,gamma=0.1", 0.05,
               cat({rep(0.05, 2), rep(0.005, 3), rep(0.0005, 4), rep(0.00005, 3)}));  // test_multi_step_lr
    V exp, poly, cosv;
    for (int x = 0; x < 10; ++x) exp.push_back(0.05 * std::pow(0.9, x));
    expect_lrs("exponential:gamma=0.9", 0.05, exp);  // test_exp_lr
    for (int x = 0; x < 5; ++x) poly.push_back(std::pow(1.0 - x / 5.0, 0.9) * 0.05);
    poly.resize(10, 0.0);
    expect_lrs("polynomial:total_iters=5,power=0.9", 0.05, poly);  // test_poly_lr
    for (int x = 0; x < 10; ++x) cosv.push_back(cos_target(1e-10, 0.05, x, 10));
    expect_lrs("cosine:t_max=10,eta_min=1e-10", 0.05, cosv);  // test_cos_anneal_lr
}

TEST(PyTorchSchedulerTests, ConstantAndLinear)
{
    expect_lrs("constant:factor=0.5,total_iters=5", 0.05, cat({rep(0.025, 5), rep(0.05, 5)}));  // test_constantlr
    V lin;                                                                                        // test_linearlr
    for (int i = 0; i < 4; ++i) lin.push_back((0.5 + i * (1 - 0.5) / 4) * 0.05);
    expect_lrs("linear:start_factor=0.5,total_iters=4", 0.05, cat({lin, rep(0.05, 6)}));
    V lin2;  // test_get_last_lr_linearlr
    const double sf = 1.0 / 4, ef = 3.0 / 5;
    for (int i = 0; i < 4; ++i) lin2.push_back((sf + i * (ef - sf) / 4) * 0.05);
    expect_lrs("linear:start_factor=0.25,end_factor=0.6,total_iters=4", 0.05, cat({lin2, rep(0.05 * ef, 6)}));
}

TEST(PyTorchSchedulerTests, LambdaAsATable)
{
    // test_lambda_lr, group 0: lambda x: 0.9 ** x, exported as table:FILE
    std::string path = ::testing::TempDir() + "sched_lambda.csv";
    FILE *f = fopen(path.c_str(), "w");
    ASSERT_TRUE(f);
    fputs("factor\n", f);
    V want;
    for (int x = 0; x < 10; ++x) {
        fprintf(f, "%.17g\n", std::pow(0.9, x));
        want.push_back(0.05 * std::pow(0.9, x));
    }
    fclose(f);
    expect_lrs("table:" + path, 0.05, want);
    expect_lrs("multiplicative:factor=0.9", 0.05, want);  // test_multiplicative_lr
}

TEST(PyTorchSchedulerTests, Sequential)
{
    expect_lrs("sequential(exponential:gamma=0.8;step:step_size=4,gamma=0.1;milestones=3)", 0.05,
               cat({{0.05, 0.04, 0.032}, rep(0.05, 4), rep(0.005, 4), rep(0.0005, 4), rep(0.00005, 4)}));  // 1
    V tail;
    for (int x = 0; x < 10; ++x) tail.push_back(0.05 * std::pow(0.9, x));
    expect_lrs("sequential(constant:factor=0.1,total_iters=3;exponential:gamma=0.9;milestones=3)", 0.05,
               cat({rep(0.005, 3), tail}));  // 2
    expect_lrs("sequential(constant:factor=0.1,total_iters=3;exponential:gamma=0.8;step:step_size=2,gamma=0.1;"
               "milestones=3/6)",
               0.05, {0.005, 0.005, 0.005, 0.05, 0.04, 0.032, 0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005});  // 3
    // test_sequentiallr4: ConstantLR(factor=1) then ConstantLR(factor=0.1) leaves the initial lr alone
    expect_lrs("sequential(constant:factor=1;constant:factor=0.1;milestones=10)", 0.1, {0.1});
    // test_sequentiallr_does_not_alias_lr_and_initial_lr (lr 2)
    expect_lrs("sequential(linear:start_factor=0.1,end_factor=0.8,total_iters=4;"
               "linear:start_factor=0.8,end_factor=0.1,total_iters=4;milestones=4)",
               2.0, {0.2, 0.55, 0.9, 1.25, 1.6, 1.25, 0.9, 0.55});
}

TEST(PyTorchSchedulerTests, ChainedAndCompound)
{
    expect_lrs("chain(linear:start_factor=0.4,total_iters=3;multistep:milestones=4/8/10,gamma=0.1)", 0.05,
               {0.02, 0.03, 0.04, 0.05, 0.005, 0.005, 0.005, 0.005, 0.0005, 0.0005});  // chained_lr3 (10 epochs)
    V c4;  // chained_lr4
    for (int x = 0; x < 3; ++x) c4.push_back(0.05 * 0.2 * std::pow(0.9, x));
    c4.push_back(0.05 * 0.2 * std::pow(0.9, 3) * 0.1);
    for (int x = 4; x < 6; ++x) c4.push_back(0.05 * std::pow(0.9, x) * 0.1);
    for (int x = 6; x < 9; ++x) c4.push_back(0.05 * std::pow(0.9, x) * 0.01);
    expect_lrs("chain(exponential:gamma=0.9;constant:factor=0.2,total_iters=4;step:step_size=3,gamma=0.1)", 0.05, c4);
    V c5;  // chained_lr5
    for (int x = 0; x < 5; ++x) c5.push_back(0.05 * std::pow(1.0 - x / 5.0, 0.9) * 0.1);
    c5.resize(10, 0.0);
    expect_lrs("chain(polynomial:total_iters=5,power=0.9;constant:factor=0.1)", 0.05, c5);
    // the compound tests step a list of schedulers: a chain
    expect_lrs("chain(step:step_size=3,gamma=0.1;multistep:milestones=2/5/9,gamma=0.1)", 0.05,
               cat({rep(0.05, 2), {0.005}, rep(5e-4, 2), {5e-5}, rep(5e-6, 3), {5e-8}}));
    V se, em, el, sc, lm, cs, cm, cl, ce;
    for (int x = 0; x < 12; ++x) se.push_back(0.05 * std::pow(0.1, x / 3) * std::pow(0.9, x));
    expect_lrs("chain(step:step_size=3,gamma=0.1;exponential:gamma=0.9)", 0.05, se);
    const int ms[] = {2, 5, 9};
    auto nms = [&](int x) { return (x >= ms[0]) + (x >= ms[1]) + (x >= ms[2]); };
    for (int x = 0; x < 11; ++x) em.push_back(0.05 * std::pow(0.1, nms(x)) * std::pow(0.9, x));
    expect_lrs("chain(multistep:milestones=2/5/9,gamma=0.1;exponential:gamma=0.9)", 0.05, em);
    for (int x = 0; x < 11; ++x) el.push_back(0.05 * std::pow(0.9, x) * (x < 4 ? 0.4 + x / 4.0 * (0.9 - 0.4) : 0.9));
    expect_lrs("chain(linear:start_factor=0.4,end_factor=0.9,total_iters=4;exponential:gamma=0.9)", 0.05, el);
    sc = cat({rep(0.05 * 0.4, 3), {0.005 * 0.4}, rep(0.005, 2), rep(0.0005, 3), rep(0.00005, 3)});
    expect_lrs("chain(step:step_size=3,gamma=0.1;constant:factor=0.4,total_iters=4)", 0.05, sc);
    lm = cat({rep(0.05, 2), rep(0.005, 3), rep(0.0005, 4), rep(0.00005, 2)});
    for (int i = 0; i < 4; ++i) lm[i] *= 0.4 + i / 4.0 * (1 - 0.4);
    expect_lrs("chain(multistep:milestones=2/5/9,gamma=0.1;linear:start_factor=0.4,total_iters=4)", 0.05, lm);
    for (int x = 0; x < 10; ++x) {
        const double c = cos_target(1e-10, 0.05, x, 10);
        cs.push_back(c * std::pow(0.1, x / 3));
        cm.push_back(c * std::pow(0.1, nms(x)));
        cl.push_back(c * (x < 4 ? 0.4 + x / 4.0 * (1 - 0.4) : 1.0));
        ce.push_back(c * std::pow(0.1, x));
    }
    expect_lrs("chain(cosine:t_max=10,eta_min=1e-10;step:step_size=3,gamma=0.1)", 0.05, cs);
    expect_lrs("chain(cosine:t_max=10,eta_min=1e-10;multistep:milestones=2/5/9,gamma=0.1)", 0.05, cm);
    expect_lrs("chain(linear:start_factor=0.4,total_iters=4;cosine:t_max=10,eta_min=1e-10)", 0.05, cl);
    expect_lrs("chain(cosine:t_max=10,eta_min=1e-10;exponential:gamma=0.1)", 0.05, ce);
}

TEST(PyTorchSchedulerTests, ReduceLROnPlateau)
{
    V m1, m2, m4, m5, m6;
    for (int i = 0; i < 20; ++i) m1.push_back(10 - i * 0.0167);
    for (int i = 0; i < 22; ++i) m2.push_back(10 - i * 0.0165);
    for (int i = 0; i < 20; ++i) m4.push_back(1.5 * std::pow(1.025, i));
    for (int i = 0; i < 20; ++i) m5.push_back(1.5 * std::pow(1.005, i));
    for (int i = 0; i < 20; ++i) m6.push_back(1.5 * std::pow(0.85, i));
    expect_plateau("plateau:threshold_mode=abs,mode=min,threshold=0.01,patience=5,cooldown=5", m1, rep(0.5, 20));
    expect_plateau("plateau:patience=5,cooldown=0,threshold_mode=abs,mode=min,threshold=0.1", m2,
                   cat({rep(0.5, 6), rep(0.05, 7), rep(0.005, 7), rep(0.0005, 2)}));
    expect_plateau("plateau:mode=max,patience=5,cooldown=5,threshold_mode=abs", cat({rep(-0.8, 2), rep(-0.234, 20)}),
                   cat({rep(0.5, 8), rep(0.05, 11), rep(0.005, 4)}));
    expect_plateau("plateau:mode=max,patience=3,threshold_mode=rel,threshold=0.1", m4, rep(0.5, 20));
    expect_plateau("plateau:mode=max,threshold_mode=rel,threshold=0.1,patience=5,cooldown=5", m5,
                   cat({rep(0.5, 6), rep(0.05, 11), rep(0.005, 4)}));
    expect_plateau("plateau:mode=min,threshold_mode=rel,threshold=0.1", m6, rep(0.5, 20));
    expect_plateau("plateau:mode=min,threshold_mode=rel,threshold=0.1,patience=5,cooldown=5",
                   cat({rep(1, 7), {0.6}, rep(0.5, 12)}), cat({rep(0.5, 6), rep(0.05, 11), rep(0.005, 4)}));
    // test_reduce_lr_on_plateau8, group 0 (min_lr 0.4)
    expect_plateau("plateau:mode=max,threshold_mode=rel,min_lr=0.4,threshold=0.1,patience=5,cooldown=5", m5,
                   cat({rep(0.5, 6), rep(0.4, 14)}));
}

TEST(PyTorchSchedulerTests, CyclicLR)
{
    const V tri = {1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3}, tri_m = {5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3};
    const std::string m15 = ",cycle_momentum=true,base_momentum=1,max_momentum=5";
    expect_lrs("cyclic:base_lr=1,step_size_up=4,mode=triangular" + m15, 5, tri, &tri_m);
    expect_lrs("cyclic:base_lr=1,step_size_up=4,cycle_momentum=false,mode=triangular", 5, tri);
    const V t2 = {1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5, 2.0, 1.5, 1, 1.25, 1.50, 1.75, 2.00, 1.75};
    const V t2m = {5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 4.5, 4.0,
                   3.5, 3.0, 3.5, 4.0, 4.5, 5.0, 4.75, 4.5, 4.25, 4.0, 4.25};
    expect_lrs("cyclic:base_lr=1,step_size_up=4,mode=triangular2" + m15, 5, t2, &t2m);
    const V xs = {0, 0.25, 0.5, 0.75, 1, 0.75, 0.50, 0.25, 0, 0.25, 0.5, 0.75, 1};
    V er, erm;
    for (size_t i = 0; i < xs.size(); ++i) {
        er.push_back(1 + xs[i] * 4 * std::pow(0.9, (double)i));
        erm.push_back(5 - xs[i] * 4 * std::pow(0.9, (double)i));
    }
    expect_lrs("cyclic:base_lr=1,step_size_up=4,mode=exp_range,gamma=0.9" + m15, 5, er, &erm);
    const V ud = {1.0, 2.0, 3.0, 4.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3, 1.0};
    const V udm = {5.0, 4.0, 3.0, 2.0, 1.0, 5.0 / 3, 7.0 / 3, 3.0, 11.0 / 3, 13.0 / 3, 5.0};
    expect_lrs("cyclic:base_lr=1,step_size_up=4,step_size_down=6,mode=triangular" + m15, 5, ud, &udm);
    const V t2ud = {1.0, 3.0, 5.0, 13.0 / 3, 11.0 / 3, 9.0 / 3, 7.0 / 3, 5.0 / 3, 1.0, 2.0, 3.0, 8.0 / 3,
                    7.0 / 3, 6.0 / 3, 5.0 / 3, 4.0 / 3, 1.0, 3.0 / 2, 2.0, 11.0 / 6, 10.0 / 6, 9.0 / 6, 8.0 / 6, 7.0 / 6};
    const V t2udm = {5.0, 3.0, 1.0, 5.0 / 3, 7.0 / 3, 3.0, 11.0 / 3, 13.0 / 3, 5.0, 4.0, 3.0, 10.0 / 3,
                     11.0 / 3, 4.0, 13.0 / 3, 14.0 / 3, 5.0, 4.5, 4.0, 25.0 / 6, 13.0 / 3, 4.5, 14.0 / 3, 29.0 / 6};
    expect_lrs("cyclic:base_lr=1,step_size_up=2,step_size_down=6,mode=triangular2" + m15, 5, t2ud, &t2udm);
    const V xs2 = {0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6, 3.0 / 6, 2.0 / 6, 1.0 / 6, 0.0, 0.5, 1.0, 5.0 / 6, 4.0 / 6};
    V er2, er2m;
    for (size_t i = 0; i < xs2.size(); ++i) {
        er2.push_back(1 + xs2[i] * 4 * std::pow(0.9, (double)i));
        er2m.push_back(5 - xs2[i] * 4 * std::pow(0.9, (double)i));
    }
    expect_lrs("cyclic:base_lr=1,step_size_up=2,step_size_down=6,mode=exp_range,gamma=0.9" + m15, 5, er2, &er2m);
}

TEST(PyTorchSchedulerTests, OneCycleLR)
{
    const std::string m = ",base_momentum=1,max_momentum=22";
    const V lin = {1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5}, linm = {22, 11.5, 1, 4, 7, 10, 13, 16, 19, 22};
    expect_lrs("onecycle:total_steps=10,final_div_factor=2,anneal_strategy=linear" + m, 25, lin, &linm);
    // test_cycle_lr_with_adam: the same values cycle Adam's beta1
    expect_lrs("onecycle:total_steps=10,final_div_factor=2,anneal_strategy=linear,cycle_momentum=true" + m, 25, lin,
               &linm);
    const V l3 = {1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25}, l3m = {22, 15, 8, 1, 8, 15, 22, 22, 22, 22};
    expect_lrs("onecycle:total_steps=10,div_factor=25,anneal_strategy=linear,pct_start=0.4,final_div_factor=4,"
               "three_phase=true" + m,
               25, l3, &l3m);
    auto ac = [](double start, double end, double pct) {
        return end + (start - end) / 2.0 * (std::cos(M_PI * pct) + 1);
    };
    V c = {1, 13, 25}, cm = {22, 11.5, 1};
    for (int k = 1; k <= 6; ++k) {
        c.push_back(ac(25, 0.5, k / 7.0));
        cm.push_back(ac(1, 22, k / 7.0));
    }
    c.push_back(0.5);
    cm.push_back(22);
    expect_lrs("onecycle:total_steps=10,final_div_factor=2" + m, 25, c, &cm);
}

TEST(PyTorchSchedulerTests, CosineAnnealingWarmRestarts)
{
    for (int t_mult : {1, 2, 4}) {  // test_CosineAnnealingWarmRestarts_lr1
        V want = {0.05};
        int t_i = 10, t_cur = 0;
        for (int k = 1; k < 100; ++k) {
            if (++t_cur >= t_i) {
                t_cur -= t_i;
                t_i *= t_mult;
            }
            want.push_back(cos_target(1e-10, 0.05, t_cur, t_i));
        }
        expect_lrs("cosine_warm_restarts:t_0=10,t_mult=" + std::to_string(t_mult) + ",eta_min=1e-10", 0.05, want);
    }
}

}  // namespace
