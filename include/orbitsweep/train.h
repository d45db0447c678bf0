/* train.h — one training's update: minibatch sums -> loss, gradients,
 * optimizer step, divergence check, convergence tracking, scheduler step.
 *
 * A backend owns only the loops (which points form a batch, which lanes
 * hold which partials); everything that happens once per update is here,
 * shared by the CPU backend and the kernels.
 */
#ifndef ORBITSWEEP_TRAIN_H
#define ORBITSWEEP_TRAIN_H

#include "model.h"
#include "optim.h"
#include "sched.h"

/* |W| above this (or non-finite) counts as diverged and stops a training. */
#define OS_DIVERGE_LIMIT 1e6

/* Everything one training needs besides its data (host-prepared, doubles
 * as Python would hold them). */
typedef struct os_train_cfg {
    os_opt_hp opt;
    const os_sched *sched;
    double lr;            /* initial learning rate */
    int sched_per_epoch;  /* 0: scheduler.step() after each update, 1: after each epoch */
    double init_wa, init_wb;
    double ref_wa, ref_wb; /* the reference parameters of param_error */
    double tol_wa, tol_wb; /* param_error <= target exactly when both deviations are
                              within these (os_param_error_tolerance) */
} os_train_cfg;

/* max(||Wa|-A|/A, |Wb-B|/B) in double; NaN for non-finite parameters.
 * Wa enters the model only as Wa^2, so -Wa is the same ellipse: a training
 * that lands on (-A, B) has converged. */
OS_HD static inline double os_param_error(double wa, double wb, double ref_wa, double ref_wb)
{
    double ea = fabs(fabs(wa) - ref_wa) / fabs(ref_wa);
    double eb = fabs(wb - ref_wb) / fabs(ref_wb);
    if (ea != ea || eb != eb) return NAN;
    return ea > eb ? ea : eb;
}

/* The largest deviation u (a double) with fl(u / |ref|) <= target. Division
 * by a positive constant is monotone in u, so "||Wa|-A| <= tol" decides
 * "||Wa|-A|/A <= target" exactly, without a division per update. */
OS_HD static inline double os_param_error_tolerance(double ref, double target)
{
    double r = fabs(ref), u = target * r;
    while (u > 0 && !(u / r <= target)) u = nextafter(u, 0.0);
    while (nextafter(u, INFINITY) / r <= target) u = nextafter(u, INFINITY);
    return u;
}

#define OS_F32 1
#include "typed.h"
#include "train_t.h"
#define OS_F32 0
#include "typed.h"
#include "train_t.h"

#endif
