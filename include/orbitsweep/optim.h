/* optim.h — the optimizers, step for step as torch.optim computes them.
 *
 * Hyperparameters are doubles (Python floats in PyTorch); a scalar that
 * enters a tensor op is rounded to the parameter dtype once, R(s) = (T)s,
 * and `1-beta` is always formed in double. fma is written where torch fuses
 * (docs/pytorch-semantics.md §2); the project builds with -ffp-contract=off
 * (C) and -fmad=false (CUDA) so nothing else is fused.
 *
 * The optimizer table below is the one list of optimizers: the enum, the
 * names the command line and the results table use, which hyperparameter
 * axes each one reads (axes.h), which are pinned, and which state its trace
 * shows all come from it. Adding an optimizer: a row here, its case in
 * os_opt_step (optim_t.h), golden traces (scripts/make_golden.py) and a line
 * in docs/pytorch-semantics.md.
 *
 * optim_t.h holds the typed code and is instantiated below for float
 * (suffix _f32) and double (_f64).
 */
#ifndef ORBITSWEEP_OPTIM_H
#define ORBITSWEEP_OPTIM_H

#include "axes.h"
#include "os_hd.h"

/* The state an optimizer keeps per parameter (trace columns m_* and v_*). */
#define OS_STATE_M 1 /* momentum buffer / exp_avg */
#define OS_STATE_V 2 /* square_avg / exp_avg_sq */

/* What PyTorch's CyclicLR / OneCycleLR cycle for an optimizer with
 * cycle_momentum (the optimizer table's `cycles` column): nothing, the
 * param group's 'momentum', or beta1 of its 'betas' (PyTorch >= 2.1). The
 * cycled value reaches the step as its `mom` argument. */
#define OS_CYCLE_NONE 0
#define OS_CYCLE_MOMENTUM 1
#define OS_CYCLE_BETA1 2

/* Columns: ID, name, what it is (for --help), the hyperparameter axes it
 * uses, axes pinned to 0 (their column shows 0; a given value must be 0),
 * axes that must be > 0 for it, its state, what a cyclic scheduler cycles
 * (OS_CYCLE_*), and its defaults: the value of each hyperparameter it uses
 * when the flag is not given (PyTorch's, but momentum 0.9 for the momentum
 * optimizers; a given flag applies to every optimizer that uses it).
 * clang-format off */
#define OS_OPTIMIZERS(X) \
  X(SGD,      "sgd",      "SGD without momentum",                  OS_HP(WEIGHT_DECAY), 0, 0, 0, OS_CYCLE_MOMENTUM, \
    "weight_decay=0") \
  X(MOMENTUM, "momentum", "SGD with momentum (and dampening)",     OS_HP(MOMENTUM) | OS_HP(DAMPENING) | OS_HP(WEIGHT_DECAY), 0, OS_HP(MOMENTUM), OS_STATE_M, OS_CYCLE_MOMENTUM, \
    "momentum=0.9,dampening=0,weight_decay=0") \
  X(NESTEROV, "nesterov", "SGD with Nesterov momentum",            OS_HP(MOMENTUM) | OS_HP(WEIGHT_DECAY), OS_HP(DAMPENING), OS_HP(MOMENTUM), OS_STATE_M, OS_CYCLE_MOMENTUM, \
    "momentum=0.9,weight_decay=0") \
  X(RMSPROP,  "rmsprop",  "RMSprop (momentum 0, not centered)",    OS_HP(ALPHA) | OS_HP(EPS) | OS_HP(WEIGHT_DECAY), 0, 0, OS_STATE_V, OS_CYCLE_MOMENTUM, \
    "alpha=0.99,eps=1e-8,weight_decay=0") \
  X(ADAM,     "adam",     "Adam (L2 weight decay, no amsgrad)",    OS_HP(BETA1) | OS_HP(BETA2) | OS_HP(EPS) | OS_HP(WEIGHT_DECAY), 0, 0, OS_STATE_M | OS_STATE_V, OS_CYCLE_BETA1, \
    "beta1=0.9,beta2=0.999,eps=1e-8,weight_decay=0")
/* clang-format on */

enum {
#define OS_X(ID, ...) OS_OPT_##ID,
    OS_OPTIMIZERS(OS_X)
#undef OS_X
    OS_OPT_COUNT
};

/* One training's optimizer: its kind and hyperparameters (NaN where the
 * optimizer does not use one). */
typedef struct os_opt_hp {
    int kind;
    double momentum, dampening; /* SGD family */
    double alpha;               /* RMSprop */
    double beta1, beta2;        /* Adam */
    double eps;                 /* RMSprop, Adam */
    double weight_decay;        /* all: g += wd * p */
} os_opt_hp;

/* beta**t for t = 1, 2, ... as a running product kept in double-double, so
 * the rounded result is the correctly rounded power (what Python's pow
 * gives) on host and device alike, at the cost of a few flops per step. */
typedef struct os_powdd {
    double hi, lo;
} os_powdd;

OS_HD static inline void os_powdd_mul(os_powdd *p, double b)
{
    double h = p->hi * b;
    double e = fma(p->hi, b, -h); /* exact error of the product */
    double l = fma(p->lo, b, e);
    double s = h + l;             /* renormalise (fast two-sum, |h| >= |l|) */
    p->lo = l - (s - h);
    p->hi = s;
}

/* b**t for t >= 1 from scratch, by squaring in double-double: hi is the
 * correctly rounded power like os_powdd_mul's running product (the two
 * agree), for a b that changes from step to step (a cycled beta1). */
OS_HD static inline os_powdd os_powdd_pow(double b, int64_t t)
{
    os_powdd r = {1.0, 0.0}, x = {b, 0.0};
    for (;;) {
        if (t & 1) { /* r *= x */
            double h = r.hi * x.hi;
            double l = fma(r.hi, x.hi, -h) + (r.hi * x.lo + r.lo * x.hi);
            r.hi = h + l;
            r.lo = l - (r.hi - h);
        }
        t >>= 1;
        if (!t) return r;
        double h = x.hi * x.hi; /* x *= x */
        double l = fma(x.hi, x.hi, -h) + 2.0 * (x.hi * x.lo);
        x.hi = h + l;
        x.lo = l - (x.hi - h);
    }
}

#define OS_F32 1
#include "typed.h"
#include "optim_t.h"
#define OS_F32 0
#include "typed.h"
#include "optim_t.h"

#endif
