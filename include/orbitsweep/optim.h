/* optim.h — the optimizers, step for step as torch.optim computes them.
 *
 * Hyperparameters are doubles (Python floats in PyTorch); a scalar that
 * enters a tensor op is rounded to the parameter dtype once, R(s) = (T)s,
 * and `1-beta` is always formed in double. fma is written where torch fuses
 * (see shared/pytorch-semantics.md §2); the project builds with
 * -ffp-contract=off (C) and -fmad=false (CUDA) so nothing else is fused.
 *
 * optim_t.h holds the typed code and is instantiated below for float
 * (suffix _f32) and double (_f64).
 */
#ifndef ORBITSWEEP_OPTIM_H
#define ORBITSWEEP_OPTIM_H

#include "os_hd.h"

enum {
    OS_OPT_SGD,      /* SGD, momentum 0 */
    OS_OPT_MOMENTUM, /* SGD with momentum (and dampening) */
    OS_OPT_NESTEROV, /* SGD with Nesterov momentum (dampening 0) */
    OS_OPT_RMSPROP,  /* RMSprop, momentum 0, not centered */
    OS_OPT_ADAM,     /* Adam (L2 weight decay, no amsgrad) */
    OS_OPT_COUNT
};

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

#define OS_F32 1
#include "typed.h"
#include "optim_t.h"
#define OS_F32 0
#include "typed.h"
#include "optim_t.h"

#endif
