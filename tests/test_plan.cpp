// test_plan.cpp — the plan (src/plan.c) and the description tables, tested
// directly rather than through the CLI:
//  * grid order: trials equal an independent nested enumeration of the
//    documented order (optimizer, scheduler, lr, momentum, ..., init_wb,
//    seed innermost), field by field;
//  * unused hyperparameters do not multiply the grid and are NaN, pinned
//    ones are 0;
//  * the configuration hash: equal to an independent FNV-1a over the
//    documented byte sequence (so --shuffle trial orders never change
//    silently), and the same for any order of the axis table's rows;
//  * the tables themselves: nest and hash positions are permutations, names
//    unique, every default valid.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "orbitsweep/orbitsweep.h"
#include "orbitsweep/shuffle.h"
#include "test_util.h"

namespace {

using ostest::set_list;

struct Spec {
    os_spec s;
    Spec() { EXPECT_EQ(os_spec_init(&s), OS_OK); }
    ~Spec() { os_spec_free(&s); }
};

struct Sweep {
    os_sweep sw;
    os_status st;
    os_error err;
    explicit Sweep(const os_spec *s) { st = os_sweep_plan(s, &sw, &err); }
    ~Sweep()
    {
        if (st == OS_OK) os_sweep_free(&sw);
    }
};

std::vector<double> values(const char *text)
{
    os_list l = {nullptr, 0, 0};
    os_error err;
    EXPECT_EQ(os_list_parse("list", text, &l, &err), OS_OK) << err.msg;
    std::vector<double> v(l.v, l.v + l.n);
    free(l.v);
    return v;
}

// ---------------------------------------------------------------------------
// grid order

TEST(Plan, GridOrderIsTheDocumentedNesting)
{
    Spec sp;
    os_spec *s = &sp.s;
    set_list(s, OS_AX_OPTIMIZER, "sgd,momentum,adam");
    set_list(s, OS_AX_SCHEDULER, "none");
    os_error err;
    ASSERT_EQ(os_spec_set_axis(s, OS_AX_SCHEDULER, "exponential:gamma=0.9", 0, &err), OS_OK);
    const char *lr = "0.01,0.1", *mom = "0.5,0.9", *damp = "0,0.2", *b1 = "0.8,0.9", *bs = "16,32";
    const char *ep = "2,3", *wa = "0.1,-1.2";
    set_list(s, OS_AX_LR, lr);
    set_list(s, OS_AX_MOMENTUM, mom);
    set_list(s, OS_AX_DAMPENING, damp);
    set_list(s, OS_AX_BETA1, b1);
    set_list(s, OS_AX_BATCH_SIZE, bs);
    set_list(s, OS_AX_EPOCHS, ep);
    set_list(s, OS_AX_INIT_WA, wa);
    s->seeds = 2;
    s->seed = 40;
    os_spec_set_one(s, OS_AX_N, 64, NULL);
    Sweep p(s);
    ASSERT_EQ(p.st, OS_OK) << p.err.msg;

    // the expected trials, by hand: sgd uses none of momentum/dampening/beta1,
    // momentum uses momentum and dampening, adam uses beta1 (and beta2, eps)
    struct Want {
        int kind;
        uint32_t sched;
        double lr, mom, damp, b1;
        int bs, ep;
        double wa;
        uint32_t rep;
    };
    std::vector<Want> want;
    const double nan = NAN;
    for (int kind : {OS_OPT_SGD, OS_OPT_MOMENTUM, OS_OPT_ADAM}) {
        const std::vector<double> moms = kind == OS_OPT_MOMENTUM ? values(mom) : std::vector<double>{nan};
        const std::vector<double> damps = kind == OS_OPT_MOMENTUM ? values(damp) : std::vector<double>{nan};
        const std::vector<double> b1s = kind == OS_OPT_ADAM ? values(b1) : std::vector<double>{nan};
        for (uint32_t sc : {0u, 1u})
            for (double l : values(lr))
                for (double m : moms)
                    for (double d : damps)
                        for (double b : b1s)
                            for (double bsz : values(bs))
                                for (double e : values(ep))
                                    for (double w : values(wa))
                                        for (uint32_t r = 0; r < 2; ++r)
                                            want.push_back({kind, sc, l, m, d, b, (int)bsz, (int)e, w, r});
    }
    ASSERT_EQ(p.sw.n_trials, want.size());
    auto same = [](double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
    for (size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE("trial " + std::to_string(i));
        const os_trial &t = p.sw.trials[i];
        const Want &w = want[i];
        EXPECT_EQ(t.opt.kind, w.kind);
        EXPECT_EQ(t.sched, w.sched);
        EXPECT_EQ(t.lr, w.lr);
        EXPECT_TRUE(same(t.opt.momentum, w.mom)) << t.opt.momentum;
        EXPECT_TRUE(same(t.opt.dampening, w.damp)) << t.opt.dampening;
        EXPECT_TRUE(same(t.opt.beta1, w.b1)) << t.opt.beta1;
        EXPECT_TRUE(same(t.opt.beta2, w.kind == OS_OPT_ADAM ? 0.999 : nan));
        EXPECT_TRUE(same(t.opt.eps, w.kind == OS_OPT_ADAM ? 1e-8 : nan));
        EXPECT_TRUE(std::isnan(t.opt.alpha));
        EXPECT_EQ(t.opt.weight_decay, 0.0);
        EXPECT_EQ(t.batch_size, w.bs);
        EXPECT_EQ(t.epochs, w.ep);
        EXPECT_EQ(t.init_wa, w.wa);
        EXPECT_EQ(t.init_wb, 1.8);
        EXPECT_EQ(t.replicate, w.rep);
        EXPECT_EQ(t.seed, 40u + w.rep);
        EXPECT_EQ(t.cfg, (uint32_t)(i / 2));
        EXPECT_EQ(t.order_stream, (uint64_t)OS_STREAM_SHARED_ORDER);
    }
}

TEST(Plan, UnusedAxesDoNotMultiplyAndPinnedAxesAreZero)
{
    Spec sp;
    os_spec *s = &sp.s;
    set_list(s, OS_AX_OPTIMIZER, "sgd,nesterov,rmsprop,adam");
    set_list(s, OS_AX_MOMENTUM, "0.5,0.9,0.99");
    set_list(s, OS_AX_ALPHA, "0.9,0.99");
    set_list(s, OS_AX_BETA2, "0.99,0.999,0.9999");
    set_list(s, OS_AX_EPS, "1e-8,1e-6");
    s->seeds = 3;
    os_spec_set_one(s, OS_AX_N, 64, NULL);
    Sweep p(s);
    ASSERT_EQ(p.st, OS_OK) << p.err.msg;
    // sgd 1, nesterov 3 (momentum), rmsprop 3x2x2 (momentum, alpha, eps), adam 3x2 (beta2,
    // eps); x 3 seeds
    EXPECT_EQ(p.sw.n_trials, (1u + 3u + 12u + 6u) * 3u);
    for (size_t i = 0; i < p.sw.n_trials; ++i) {
        const os_trial &t = p.sw.trials[i];
        for (int a = 0; a < OS_AX_COUNT; ++a) {
            const double v = os_trial_axis(&t, a);
            if (a == OS_AX_DAMPENING && t.opt.kind == OS_OPT_NESTEROV) {
                EXPECT_EQ(v, 0.0) << "nesterov pins dampening to 0";
            } else {
                EXPECT_EQ(std::isnan(v), !os_axis_used(a, t.opt.kind)) << os_axes[a].column << " of "
                                                                       << os_optimizer_name(t.opt.kind);
            }
        }
    }
}

TEST(Plan, GridLimitIsAnInputError)
{
    Spec sp;
    set_list(&sp.s, OS_AX_LR, "logspace(-4,0,100000)");
    set_list(&sp.s, OS_AX_INIT_WB, "linspace(1,2,10000)");
    Sweep p(&sp.s);
    EXPECT_EQ(p.st, OS_EINPUT);
    EXPECT_NE(std::string(p.err.msg).find("more than"), std::string::npos) << p.err.msg;
}

// ---------------------------------------------------------------------------
// the configuration hash

// FNV-1a over the bytes of the doubles lr, momentum, dampening, alpha,
// beta1, beta2, eps, weight_decay, init_wa, init_wb, batch_size, epochs,
// optimizer kind (NaN -> 0), then the scheduler's canonical name: the
// definition --shuffle trial orders have been keyed by since the first
// release. Written out here, independently of plan.c.
uint64_t reference_hash(const os_trial &t, const char *sched)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    auto bytes = [&h](const void *p, size_t n) {
        const unsigned char *b = (const unsigned char *)p;
        for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001B3ULL;
    };
    const double v[] = {t.lr,      t.opt.momentum, t.opt.dampening,       t.opt.alpha,       t.opt.beta1,
                        t.opt.beta2, t.opt.eps,    t.opt.weight_decay,    t.init_wa,         t.init_wb,
                        (double)t.batch_size,      (double)t.epochs,      (double)t.opt.kind};
    for (double x : v) {
        if (std::isnan(x)) x = 0.0;
        bytes(&x, sizeof x);
    }
    bytes(sched, strlen(sched));
    return h;
}

struct HashGrid : ::testing::Test {
    Spec sp;
    void SetUp() override
    {
        os_spec *s = &sp.s;
        set_list(s, OS_AX_OPTIMIZER, "sgd,momentum,nesterov,rmsprop,adam");
        set_list(s, OS_AX_SCHEDULER, "none");
        os_error err;
        ASSERT_EQ(os_spec_set_axis(s, OS_AX_SCHEDULER, "cosine:t_max=7", 0, &err), OS_OK);
        set_list(s, OS_AX_LR, "0.01,0.3");
        set_list(s, OS_AX_WEIGHT_DECAY, "0,0.01");
        set_list(s, OS_AX_BATCH_SIZE, "16,64");
        s->seeds = 2;
        os_spec_set_one(s, OS_AX_N, 64, NULL);
        os_spec_set_one(s, OS_AX_SHUFFLE, OS_SHUFFLE_TRIAL, NULL);
    }
};

TEST_F(HashGrid, MatchesTheDocumentedDefinition)
{
    Sweep p(&sp.s);
    ASSERT_EQ(p.st, OS_OK) << p.err.msg;
    std::set<uint64_t> distinct;
    for (size_t i = 0; i < p.sw.n_trials; ++i) {
        const os_trial &t = p.sw.trials[i];
        const uint64_t h = reference_hash(t, sp.s.scheds[t.sched].name);
        EXPECT_EQ(os_config_hash(os_axes, OS_AX_COUNT, &t, &sp.s), h) << "trial " << i;
        EXPECT_EQ(t.order_stream, (uint64_t)OS_STREAM_TRIAL_ORDER(h)) << "trial " << i;
        distinct.insert(h);
    }
    EXPECT_EQ(distinct.size(), p.sw.n_trials / 2) << "one hash per configuration, shared by its seeds";
}

TEST_F(HashGrid, DoesNotDependOnTheOrderOfTheAxisTable)
{
    Sweep p(&sp.s);
    ASSERT_EQ(p.st, OS_OK) << p.err.msg;
    std::vector<os_axis_def> table(os_axes, os_axes + OS_AX_COUNT);
    std::mt19937 rng(12345);
    for (int round = 0; round < 5; ++round) {
        if (round == 0)
            std::reverse(table.begin(), table.end());
        else
            std::shuffle(table.begin(), table.end(), rng);
        for (size_t i = 0; i < p.sw.n_trials; ++i)
            ASSERT_EQ(os_config_hash(table.data(), table.size(), &p.sw.trials[i], &sp.s),
                      os_config_hash(os_axes, OS_AX_COUNT, &p.sw.trials[i], &sp.s))
                << "trial " << i << ", reordering " << round;
    }
}

// ---------------------------------------------------------------------------
// the description tables

TEST(Tables, AxisTablePositionsArePermutationsAndNamesUnique)
{
    std::set<int> nest, hash;
    std::set<std::string> flags, columns;
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        const os_axis_def &d = os_axes[a];
        EXPECT_EQ(d.id, a);
        nest.insert(d.nest);
        hash.insert(d.hash);
        flags.insert(d.flag);
        columns.insert(d.column);
        std::string f = std::string("--") + d.column;
        std::replace(f.begin(), f.end(), '_', '-');
        EXPECT_EQ(f, d.flag) << "flag and column name the same thing";
    }
    EXPECT_EQ(nest.size(), (size_t)OS_AX_COUNT);
    EXPECT_EQ(*nest.begin(), 0);
    EXPECT_EQ(*nest.rbegin(), OS_AX_COUNT - 1);
    // the hashed axes' positions are 0, 1, ...; the axes outside the
    // optimizer (the settings that became axes) are not hashed, and are no
    // hyperparameter: the optimizer decides which of the axes inside it count
    int outer = 0;
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        const os_axis_def &d = os_axes[a];
        const bool out = d.nest < os_axes[OS_AX_OPTIMIZER].nest;
        outer += out;
        EXPECT_EQ(out, d.hash < 0) << d.column;
        if (out) {
            EXPECT_FALSE(d.hp) << d.column;
        }
    }
    hash.erase(-1);
    EXPECT_EQ(hash.size(), (size_t)(OS_AX_COUNT - outer));
    EXPECT_EQ(*hash.begin(), 0);
    EXPECT_EQ(*hash.rbegin(), OS_AX_COUNT - outer - 1);
    EXPECT_EQ(os_axes[OS_AX_OPTIMIZER].nest, outer) << "the outer axes, then the optimizer";
    EXPECT_EQ(flags.size(), (size_t)OS_AX_COUNT);
    EXPECT_EQ(columns.size(), (size_t)OS_AX_COUNT);
}

TEST(Tables, OptimizerRowsNameOnlyHyperparameters)
{
    std::set<std::string> names;
    for (int o = 0; o < OS_OPT_COUNT; ++o) {
        const os_optimizer_def &d = os_optimizers[o];
        EXPECT_EQ(d.kind, o);
        names.insert(d.name);
        EXPECT_EQ(os_optimizer_from_name(d.name), o);
        for (int a = 0; a < OS_AX_COUNT; ++a) {
            const unsigned bit = 1u << a;
            if ((d.uses | d.pinned | d.positive) & bit) {
                EXPECT_TRUE(os_axes[a].hp) << d.name << " names " << os_axes[a].column;
            }
            EXPECT_FALSE((d.uses & bit) && (d.pinned & bit)) << d.name << ": used and pinned";
        }
    }
    EXPECT_EQ(names.size(), (size_t)OS_OPT_COUNT);
    EXPECT_EQ(os_optimizer_from_name("adamx"), -1);
    EXPECT_EQ(os_optimizer_from_name("Adam"), -1);
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        if (!os_axes[a].hp) continue;
        int users = 0;
        for (int o = 0; o < OS_OPT_COUNT; ++o) users += os_axis_used(a, o);
        EXPECT_GT(users, 0) << os_axes[a].column << " is used by no optimizer";
    }
}

TEST(Tables, OptimizerDefaultsAreValidForTheirAxesAndRules)
{
    for (int o = 0; o < OS_OPT_COUNT; ++o) {
        const os_optimizer_def &d = os_optimizers[o];
        for (int a = 0; a < OS_AX_COUNT; ++a) {
            double v;
            const int has = os_optimizer_default(o, a, &v);
            SCOPED_TRACE(std::string(d.name) + " " + os_axes[a].column);
            if (!has) continue;
            EXPECT_TRUE(os_axis_used(a, o)) << "a default for an axis it does not use";
            Spec sp;  // the value must pass the axis's own check
            sp.s.axis[a].v[0] = v;
            os_error err;
            EXPECT_EQ(os_spec_validate(&sp.s, &err), OS_OK) << err.msg;
            if (d.positive & (1u << a)) {
                EXPECT_GT(v, 0);
            }
        }
    }
    // every default in a row names a real axis
    for (int o = 0; o < OS_OPT_COUNT; ++o) {
        std::string defs = os_optimizers[o].defaults;
        size_t named = 0;
        for (int a = 0; a < OS_AX_COUNT; ++a) {
            double v;
            named += os_optimizer_default(o, a, &v);
        }
        EXPECT_EQ(named, (size_t)std::count(defs.begin(), defs.end(), '=') ) << defs;
    }
}

// torch.optim's documented defaults (1.13): RMSprop(alpha=0.99, eps=1e-08),
// Adam(betas=(0.9, 0.999), eps=1e-08), weight_decay=0 everywhere.
TEST(Plan, EachOptimizerTrainsWithItsOwnDefaults)
{
    Spec sp;
    set_list(&sp.s, OS_AX_OPTIMIZER, "sgd,momentum,nesterov,rmsprop,adam");
    os_spec_set_one(&sp.s, OS_AX_N, 64, NULL);
    Sweep p(&sp.s);
    ASSERT_EQ(p.st, OS_OK) << p.err.msg;
    ASSERT_EQ(p.sw.n_trials, 5u);
    const os_opt_hp *h[5];
    for (int i = 0; i < 5; ++i) h[i] = &p.sw.trials[i].opt;
    EXPECT_EQ(h[1]->momentum, 0.9);
    EXPECT_EQ(h[1]->dampening, 0.0);
    EXPECT_EQ(h[2]->momentum, 0.9);
    EXPECT_EQ(h[3]->alpha, 0.99);
    EXPECT_EQ(h[3]->eps, 1e-8);
    EXPECT_EQ(h[4]->beta1, 0.9);
    EXPECT_EQ(h[4]->beta2, 0.999);
    EXPECT_EQ(h[4]->eps, 1e-8);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(h[i]->weight_decay, 0.0);
    EXPECT_EQ(h[3]->momentum, 0.0);  // RMSprop(momentum=0, centered=False)
    EXPECT_EQ(h[3]->centered, 0.0);
    EXPECT_EQ(h[4]->amsgrad, 0.0);
}

// The rest of the catalogue: torch.optim 1.13's defaults (AdamW
// weight_decay=1e-2; NAdam momentum_decay=4e-3; Adagrad lr_decay=0,
// initial_accumulator_value=0, eps=1e-10; Adadelta lr=1.0, rho=0.9,
// eps=1e-6) and optax.lion's (b1=0.9, b2=0.99, weight_decay=1e-3); the lr
// of every other optimizer is the axis default 0.01.
TEST(Plan, TheCataloguesOwnDefaults)
{
    Spec sp;
    set_list(&sp.s, OS_AX_OPTIMIZER, "adamw,nadam,radam,adamax,adagrad,adadelta,lion");
    os_spec_set_one(&sp.s, OS_AX_N, 64, NULL);
    Sweep p(&sp.s);
    ASSERT_EQ(p.st, OS_OK) << p.err.msg;
    ASSERT_EQ(p.sw.n_trials, 7u);
    const os_trial *t = p.sw.trials;
    for (int i = 0; i < 4; ++i) {  // the Adam family
        EXPECT_EQ(t[i].opt.beta1, 0.9);
        EXPECT_EQ(t[i].opt.beta2, 0.999);
        EXPECT_EQ(t[i].opt.eps, 1e-8);
        EXPECT_EQ(t[i].opt.weight_decay, i == 0 ? 0.01 : 0.0);
        EXPECT_EQ(t[i].lr, 0.01);
    }
    EXPECT_EQ(t[0].opt.amsgrad, 0.0);
    EXPECT_TRUE(std::isnan(t[1].opt.amsgrad));
    EXPECT_EQ(t[1].opt.momentum_decay, 0.004);
    EXPECT_EQ(t[4].opt.lr_decay, 0.0);
    EXPECT_EQ(t[4].opt.initial_accumulator_value, 0.0);
    EXPECT_EQ(t[4].opt.eps, 1e-10);
    EXPECT_EQ(t[4].lr, 0.01);
    EXPECT_EQ(t[5].opt.rho, 0.9);
    EXPECT_EQ(t[5].opt.eps, 1e-6);
    EXPECT_EQ(t[5].lr, 1.0);
    EXPECT_EQ(t[6].opt.beta1, 0.9);
    EXPECT_EQ(t[6].opt.beta2, 0.99);
    EXPECT_EQ(t[6].opt.weight_decay, 1e-3);
    EXPECT_TRUE(std::isnan(t[6].opt.eps));
    // a given flag applies to every optimizer that uses it, lr included
    Spec sg;
    set_list(&sg.s, OS_AX_OPTIMIZER, "adagrad,adadelta");
    set_list(&sg.s, OS_AX_EPS, "1e-7");
    set_list(&sg.s, OS_AX_LR, "0.5");
    os_spec_set_one(&sg.s, OS_AX_N, 64, NULL);
    Sweep q(&sg.s);
    ASSERT_EQ(q.st, OS_OK) << q.err.msg;
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(q.sw.trials[i].opt.eps, 1e-7);
        EXPECT_EQ(q.sw.trials[i].lr, 0.5);
    }
}

// Booleans: true/false lists are sweep axes (false, true: two trainings).
TEST(Plan, BooleanAxesSweep)
{
    Spec sp;
    set_list(&sp.s, OS_AX_OPTIMIZER, "adam,rmsprop,sgd");
    set_list(&sp.s, OS_AX_AMSGRAD, "false,true");
    set_list(&sp.s, OS_AX_CENTERED, "true");
    os_spec_set_one(&sp.s, OS_AX_N, 64, NULL);
    Sweep p(&sp.s);
    ASSERT_EQ(p.st, OS_OK) << p.err.msg;
    ASSERT_EQ(p.sw.n_trials, 4u);  // adam x 2, rmsprop 1, sgd 1
    EXPECT_EQ(p.sw.trials[0].opt.amsgrad, 0.0);
    EXPECT_EQ(p.sw.trials[1].opt.amsgrad, 1.0);
    EXPECT_EQ(p.sw.trials[2].opt.centered, 1.0);
    EXPECT_TRUE(std::isnan(p.sw.trials[3].opt.centered));
}

TEST(Plan, AGivenValueAppliesToEveryOptimizerThatUsesIt)
{
    Spec sp;
    set_list(&sp.s, OS_AX_OPTIMIZER, "sgd,rmsprop,adam");
    set_list(&sp.s, OS_AX_EPS, "1e-6,1e-4");
    os_spec_set_one(&sp.s, OS_AX_N, 64, NULL);
    Sweep p(&sp.s);
    ASSERT_EQ(p.st, OS_OK) << p.err.msg;
    ASSERT_EQ(p.sw.n_trials, 5u);  // sgd 1, rmsprop 2, adam 2
    EXPECT_TRUE(std::isnan(p.sw.trials[0].opt.eps));
    EXPECT_EQ(p.sw.trials[1].opt.eps, 1e-6);
    EXPECT_EQ(p.sw.trials[2].opt.eps, 1e-4);
    EXPECT_EQ(p.sw.trials[3].opt.eps, 1e-6);
    EXPECT_EQ(p.sw.trials[4].opt.eps, 1e-4);
}

TEST(Tables, DefaultsAreValidAndPlanOneTraining)
{
    Spec sp;
    os_error err;
    EXPECT_EQ(os_spec_validate(&sp.s, &err), OS_OK) << err.msg;
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        EXPECT_EQ(sp.s.axis[a].n, 1u) << os_axes[a].column;
        EXPECT_FALSE(sp.s.given[a]);
    }
    os_spec_set_one(&sp.s, OS_AX_N, 64, NULL);
    Sweep p(&sp.s);
    ASSERT_EQ(p.st, OS_OK) << p.err.msg;
    ASSERT_EQ(p.sw.n_trials, 1u);
    const os_trial &t = p.sw.trials[0];
    EXPECT_EQ(t.opt.kind, OS_OPT_ADAM);
    EXPECT_EQ(t.lr, 0.01);
    EXPECT_STREQ(sp.s.scheds[t.sched].name, "none");
    EXPECT_EQ(t.batch_size, 64);
    EXPECT_EQ(t.epochs, 100);
}

TEST(Tables, EveryAxisRejectsAValueOutsideItsRange)
{
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        const os_axis_def &d = os_axes[a];
        if (d.type == OS_AXT_OPT || d.type == OS_AXT_SCHED) continue;
        Spec sp;
        const double bad = d.lo_open ? d.lo : std::nextafter(d.lo, -INFINITY);
        sp.s.axis[a].v[0] = bad;
        os_error err;
        EXPECT_EQ(os_spec_validate(&sp.s, &err), OS_EINPUT) << d.column << " = " << bad;
        EXPECT_NE(std::string(err.msg).find(d.flag), std::string::npos) << err.msg;
    }
}

}  // namespace
