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

/* What one training reports: the results table's measured columns. A
 * backend fills everything but loss_gap and param_error, which
 * os_result_finish derives on the host. */
typedef struct os_result {
    double final_wa, final_wb;
    double final_loss, loss_gap, param_error;
    int64_t steps_to_target; /* -1: ends above the target */
    int64_t updates;
    int diverged;
    double best_loss;        /* lowest epoch training loss */
    double final_lr;         /* the optimizer's lr at the end */
    int64_t masked_batches;  /* updates whose minibatch had every point masked */
    double oscillation;      /* relative spread of Wa, Wb over the last epoch */
    double path_length;      /* sum of the effective step lengths */
} os_result;

/* final_loss rules: defined for a training that did not diverge and ends
 * at finite parameters with Wa != 0; then the mean over the unmasked points
 * of the whole dataset (float64, data order, canonical partials), NaN when
 * every point is masked. */
OS_HD static inline int os_final_loss_defined(double wa, double wb, int diverged)
{
    return !diverged && isfinite(wa) && isfinite(wb) && wa != 0;
}

OS_HD static inline double os_loss_mean(os_acc_f64 t) { return t.k ? t.l / t.k : NAN; }

/* Everything one training needs besides its data (host-prepared, doubles
 * as Python would hold them). */
typedef struct os_train_cfg {
    os_opt_hp opt;
    const os_sched *sched;
    double lr;            /* initial learning rate */
    int sched_per_epoch;  /* 0: scheduler.step() after each update, 1: after each epoch */
    int sched_cycles;     /* 1: the scheduler cycles the optimizer's momentum / beta1 (os_sched_cycles) */
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

/* Convergence metrics gathered along a training (all in double, in update
 * order, so every backend gets the same bits). */
typedef struct os_metrics {
    int64_t masked;            /* updates whose minibatch had every point masked */
    double path;               /* sum of the effective step lengths (eff_step) */
    double ep_loss_sum;        /* this epoch's minibatch losses (masked ones left out) */
    int64_t ep_loss_n;
    double best_loss;          /* lowest epoch training loss so far (NaN: none yet) */
    double lo_wa, hi_wa, lo_wb, hi_wb; /* this epoch's parameter range */
    double oscillation;        /* relative spread over the last full epoch */
} os_metrics;

OS_HD static inline void os_metrics_init(os_metrics *m, double wa, double wb)
{
    m->masked = 0;
    m->path = 0;
    m->ep_loss_sum = 0;
    m->ep_loss_n = 0;
    m->best_loss = NAN;
    m->lo_wa = m->hi_wa = wa;
    m->lo_wb = m->hi_wb = wb;
    m->oscillation = NAN;
}

/* After an update of effective step length eff (the trace's eff_step) to
 * (wa, wb), on a minibatch with loss `loss` over k unmasked points. */
OS_HD static inline void os_metrics_update(os_metrics *m, double eff, double wa, double wb,
                                           double loss, int k)
{
    m->path += eff;
    if (k == 0) {
        m->masked += 1;
    } else {
        m->ep_loss_sum += loss;
        m->ep_loss_n += 1;
    }
    m->lo_wa = wa < m->lo_wa ? wa : m->lo_wa;
    m->hi_wa = wa > m->hi_wa ? wa : m->hi_wa;
    m->lo_wb = wb < m->lo_wb ? wb : m->lo_wb;
    m->hi_wb = wb > m->hi_wb ? wb : m->hi_wb;
}

/* At the end of an epoch: its training loss (the mean of its minibatch
 * losses, as a PyTorch loop logs it: each loss.item() as a double, summed
 * left to right from 0.0 in update order, fully masked batches left out,
 * divided by their count) and its parameter spread relative to the
 * reference ("dancing around the target"). Returns the epoch loss (NaN when
 * every batch was masked): the metric of the plateau scheduler. */
OS_HD static inline double os_metrics_end_epoch(os_metrics *m, double wa, double wb, double ref_wa,
                                                double ref_wb)
{
    double l = NAN;
    if (m->ep_loss_n > 0) {
        l = m->ep_loss_sum / (double)m->ep_loss_n;
        if (!(m->best_loss <= l)) m->best_loss = l; /* also replaces NaN */
    }
    m->ep_loss_sum = 0;
    m->ep_loss_n = 0;
    double sa = (m->hi_wa - m->lo_wa) / fabs(ref_wa), sb = (m->hi_wb - m->lo_wb) / fabs(ref_wb);
    m->oscillation = sa > sb ? sa : sb;
    m->lo_wa = m->hi_wa = wa;
    m->lo_wb = m->hi_wb = wb;
    return l;
}

/* The largest deviation u (a double) with fl(u / |ref|) <= target. Division
 * by a positive constant is monotone in u, so "||Wa|-A| <= tol" decides
 * "||Wa|-A|/A <= target" exactly, without a division per update. */
OS_HD static inline double os_param_error_tolerance(double ref, double target)
{
    double r = fabs(ref), u = target * r;
    while (u > 0 && !(u / r <= target)) u = nextafter(u, 0.0);
    while (nextafter(u, (double)INFINITY) / r <= target) u = nextafter(u, (double)INFINITY);
    return u;
}

#define OS_F32 1
#include "typed.h"
#include "train_t.h"
#define OS_F32 0
#include "typed.h"
#include "train_t.h"

#endif
