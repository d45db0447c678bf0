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
#define OS_STATE_V 2 /* square_avg / exp_avg_sq / sum / exp_inf */
#define OS_STATE_MB 4 /* m = momentum_buffer where the momentum is > 0 (RMSprop) */

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
#define OS_WD OS_HP(WEIGHT_DECAY)
#define OS_ADAMISH (OS_HP(BETA1) | OS_HP(BETA2) | OS_HP(EPS) | OS_WD)
#define OS_MV (OS_STATE_M | OS_STATE_V)
#define OS_OPTIMIZERS(X) \
  X(SGD,      "sgd",      "SGD without momentum",                  OS_WD, 0, 0, 0, OS_CYCLE_MOMENTUM, \
    "weight_decay=0") \
  X(MOMENTUM, "momentum", "SGD with momentum (and dampening)",     OS_HP(MOMENTUM) | OS_HP(DAMPENING) | OS_WD, 0, OS_HP(MOMENTUM), OS_STATE_M, OS_CYCLE_MOMENTUM, \
    "momentum=0.9,dampening=0,weight_decay=0") \
  X(NESTEROV, "nesterov", "SGD with Nesterov momentum",            OS_HP(MOMENTUM) | OS_WD, OS_HP(DAMPENING), OS_HP(MOMENTUM), OS_STATE_M, OS_CYCLE_MOMENTUM, \
    "momentum=0.9,weight_decay=0") \
  X(RMSPROP,  "rmsprop",  "RMSprop (momentum, centered)",          OS_HP(ALPHA) | OS_HP(EPS) | OS_HP(MOMENTUM) | OS_HP(CENTERED) | OS_WD, 0, 0, OS_STATE_V | OS_STATE_MB, OS_CYCLE_MOMENTUM, \
    "alpha=0.99,eps=1e-8,momentum=0,centered=false,weight_decay=0") \
  X(ADAM,     "adam",     "Adam (L2 weight decay, amsgrad)",       OS_ADAMISH | OS_HP(AMSGRAD), 0, 0, OS_MV, OS_CYCLE_BETA1, \
    "beta1=0.9,beta2=0.999,eps=1e-8,amsgrad=false,weight_decay=0") \
  X(ADAMW,    "adamw",    "AdamW (decoupled weight decay, amsgrad)", OS_ADAMISH | OS_HP(AMSGRAD), 0, 0, OS_MV, OS_CYCLE_BETA1, \
    "beta1=0.9,beta2=0.999,eps=1e-8,amsgrad=false,weight_decay=0.01") \
  X(NADAM,    "nadam",    "NAdam (Nesterov Adam, momentum decay)", OS_ADAMISH | OS_HP(MOMENTUM_DECAY), 0, 0, OS_MV, OS_CYCLE_BETA1, \
    "beta1=0.9,beta2=0.999,eps=1e-8,momentum_decay=0.004,weight_decay=0") \
  X(RADAM,    "radam",    "RAdam (rectified Adam)",                OS_ADAMISH, 0, 0, OS_MV, OS_CYCLE_BETA1, \
    "beta1=0.9,beta2=0.999,eps=1e-8,weight_decay=0") \
  X(ADAMAX,   "adamax",   "Adamax (infinity norm)",                OS_ADAMISH, 0, 0, OS_MV, OS_CYCLE_BETA1, \
    "beta1=0.9,beta2=0.999,eps=1e-8,weight_decay=0") \
  X(ADAGRAD,  "adagrad",  "Adagrad (lr decay)",                    OS_HP(LR_DECAY) | OS_HP(INITIAL_ACCUMULATOR_VALUE) | OS_HP(EPS) | OS_WD, 0, 0, OS_STATE_V, OS_CYCLE_NONE, \
    "lr_decay=0,initial_accumulator_value=0,eps=1e-10,weight_decay=0") \
  X(ADADELTA, "adadelta", "Adadelta (lr 1.0)",                     OS_HP(RHO) | OS_HP(EPS) | OS_WD, 0, 0, OS_MV, OS_CYCLE_NONE, \
    "lr=1,rho=0.9,eps=1e-6,weight_decay=0") \
  X(LION,     "lion",     "Lion (optax; decoupled weight decay)",  OS_HP(BETA1) | OS_HP(BETA2) | OS_WD, 0, 0, OS_STATE_M, OS_CYCLE_BETA1, \
    "beta1=0.9,beta2=0.99,weight_decay=0.001")
/* clang-format on */

enum {
#define OS_X(ID, ...) OS_OPT_##ID,
    OS_OPTIMIZERS(OS_X)
#undef OS_X
    OS_OPT_COUNT
};

/* One training's optimizer: its kind and hyperparameters (NaN where the
 * optimizer does not use one; booleans 1 or 0). */
typedef struct os_opt_hp {
    int kind;
    double momentum, dampening; /* SGD family; RMSprop's momentum */
    double alpha;               /* RMSprop */
    double beta1, beta2;        /* Adam family, Lion */
    double eps;                 /* RMSprop, Adam family, Adagrad, Adadelta */
    double weight_decay;        /* all: g += wd * p; AdamW, Lion: decoupled */
    double amsgrad, centered;   /* Adam/AdamW, RMSprop: 1 or 0 */
    double momentum_decay;      /* NAdam */
    double lr_decay, initial_accumulator_value; /* Adagrad */
    double rho;                 /* Adadelta */
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

/* 0.96**x (NAdam's momentum schedule, x = t * momentum_decay >= 0) as
 * exp(x ln 0.96) from +, *, fma, floor and ldexp only, so host and device
 * agree bit for bit (no libm pow or exp): within a few ulp of Python's
 * 0.96 ** x (tests/test_math.cpp). */
OS_HD static inline double os_pow096(double x)
{
    const double L_HI = -0x1.4e69ed6d80eb3p-5, L_LO = -0x1.067d54cb9a84cp-60; /* ln 0.96 */
    const double y = x * L_HI, y_lo = fma(x, L_HI, -y) + x * L_LO;
    if (!(y > -745.0)) return y == y ? 0.0 : y;
    const double k = floor(y * 0x1.71547652b82fep+0 + 0.5); /* round(y / ln 2) */
    const double r = ((y - k * 0x1.62e42fee00000p-1) - k * 0x1.a39ef35793c76p-33) + y_lo;
    double e = 0x1.ae7f3e733b81fp-45; /* Taylor: 1/16!, ..., 1/1!, 1/0! by Horner */
    e = fma(e, r, 0x1.ae7f3e733b81fp-41); e = fma(e, r, 0x1.93974a8c07c9dp-37); e = fma(e, r, 0x1.6124613a86d09p-33); e = fma(e, r, 0x1.1eed8eff8d898p-29);
    e = fma(e, r, 0x1.ae64567f544e4p-26); e = fma(e, r, 0x1.27e4fb7789f5cp-22); e = fma(e, r, 0x1.71de3a556c734p-19); e = fma(e, r, 0x1.a01a01a01a01ap-16);
    e = fma(e, r, 0x1.a01a01a01a01ap-13); e = fma(e, r, 0x1.6c16c16c16c17p-10); e = fma(e, r, 0x1.1111111111111p-7); e = fma(e, r, 0x1.5555555555555p-5);
    e = fma(e, r, 0x1.5555555555555p-3); e = fma(e, r, 0x1.0000000000000p-1); e = fma(e, r, 0x1.0000000000000p+0); e = fma(e, r, 0x1.0000000000000p+0);
    return ldexp(e, (int)k);
}

#define OS_F32 1
#include "typed.h"
#include "optim_t.h"
#define OS_F32 0
#include "typed.h"
#include "optim_t.h"

#endif
