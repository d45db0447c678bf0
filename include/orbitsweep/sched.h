/* sched.h — learning-rate schedules, as torch.optim.lr_scheduler computes them.
 *
 * The lr lives in double and is updated with the schedulers' recursive
 * ("chainable") get_lr(), not their closed forms: the two differ in the last
 * bits and PyTorch uses the recursion (docs/pytorch-semantics.md §3).
 * State: e = last_epoch (the number of scheduler.step() calls so far) and
 * the current lr. Optimizer update k uses the lr after k steps (or after
 * epoch-many steps when the schedule steps per epoch).
 *
 * The scheduler table below is the one list of schedulers (the enum and
 * the names); src/sched_spec.c holds each one's keys, defaults and checks.
 * Adding a scheduler: a row here, its case in os_sched_next_lr, its keys in
 * src/sched_spec.c, golden lr sequences and a line in the docs.
 */
#ifndef ORBITSWEEP_SCHED_H
#define ORBITSWEEP_SCHED_H

#include "os_hd.h"

/* Columns: ID, name; the recursion each applies at step e >= 1 (lr_e from lr_{e-1}):
 *   constant        lr_e = lr
 *   multistep       lr_e = lr * gamma^(count of e in milestones)   (also at e = 0)
 *   multiplicative  lr_e = lr * factor when start <= e <= end and e % every == 0
 *   step            lr_e = lr * gamma when e % step_size == 0
 *   exponential     lr_e = lr * gamma
 *   cosine          lr_e = (1 + cos(pi e/T)) / (1 + cos(pi (e-1)/T)) (lr - eta_min) + eta_min,
 *                   or lr + (base - eta_min)(1 - cos(pi/T))/2 when (e - 1 - T) % 2T == 0
 * clang-format off */
#define OS_SCHEDULERS(X) \
  X(CONSTANT,       "constant") \
  X(MULTISTEP,      "multistep") \
  X(MULTIPLICATIVE, "multiplicative") \
  X(STEP,           "step") \
  X(EXPONENTIAL,    "exponential") \
  X(COSINE,         "cosine")
/* clang-format on */

enum {
#define OS_X(ID, ...) OS_SCHED_##ID,
    OS_SCHEDULERS(OS_X)
#undef OS_X
    OS_SCHED_COUNT
};

#define OS_SCHED_MAX_MILESTONES 64

typedef struct os_sched {
    int kind;
    double gamma;            /* multistep, step, exponential */
    double factor;           /* multiplicative: lr *= factor when the update count */
    int64_t start, end;      /*   e is in [start, end] (end < 0: no end) */
    int64_t every;           /*   and e % every == 0 (the case study's lambdas) */
    int64_t step_size;       /* step */
    int64_t t_max;           /* cosine */
    double eta_min;          /* cosine */
    const double *cos_tab;   /* cosine: cos(pi*e/t_max) for e < cos_len, from the host's */
    int64_t cos_len;         /*   libm, so a GPU (whose cos differs) gets the same bits */
    int n_milestones;        /* multistep: ascending, repeats multiply again */
    int64_t milestones[OS_SCHED_MAX_MILESTONES];
} os_sched;

typedef struct os_sched_state {
    double base; /* initial_lr */
    double lr;   /* the lr the next optimizer step uses */
    int64_t e;   /* last_epoch */
} os_sched_state;

OS_HD static inline int os_sched_milestone_count(const os_sched *s, int64_t e)
{
    int c = 0;
    for (int i = 0; i < s->n_milestones; ++i) c += s->milestones[i] == e;
    return c;
}

/* MultiStepLR: lr * gamma ** count(e). gamma**1 and gamma**2 are what
 * Python's pow gives bit for bit; repeated multiplication is used so that
 * host and device agree. */
OS_HD static inline double os_sched_multistep(const os_sched *s, double lr, int64_t e)
{
    int c = os_sched_milestone_count(s, e);
    if (c == 0) return lr;
    double g = s->gamma;
    for (int i = 1; i < c; ++i) g *= s->gamma;
    return lr * g;
}

/* cos(pi*e/t_max) exactly as Python's math.cos computes it on the host.
 * The plan's table covers the most scheduler steps of any training of the
 * sweep (plan.c), so on the GPU the libm fallback is unreachable: device
 * code reads the table alone (no cos() slow path, its stack and registers,
 * in the training kernel; the index is clamped, never out of bounds). */
OS_HD static inline double os_sched_cos(const os_sched *s, int64_t e)
{
#ifdef __CUDA_ARCH__
    return s->cos_tab[e < s->cos_len ? e : s->cos_len - 1];
#else
    const double pi = 3.141592653589793;
    return e < s->cos_len ? s->cos_tab[e] : cos(pi * (double)e / (double)s->t_max);
#endif
}

/* get_lr() for e >= 1 given the previous lr (the recursive form). */
OS_HD static inline double os_sched_next_lr(const os_sched *s, double base, double lr, int64_t e)
{
    switch (s->kind) {
    case OS_SCHED_MULTISTEP: /* lr gamma^(times e is a milestone) */
        return os_sched_multistep(s, lr, e);
    case OS_SCHED_MULTIPLICATIVE: { /* lr factor, when start <= e <= end and every | e */
        int hit = e >= s->start && (s->end < 0 || e <= s->end) && e % s->every == 0;
        return lr * (hit ? s->factor : 1.0);
    }
    case OS_SCHED_STEP: /* lr gamma, when step_size | e */
        return e % s->step_size == 0 ? lr * s->gamma : lr;
    case OS_SCHED_EXPONENTIAL: /* lr gamma */
        return lr * s->gamma;
    case OS_SCHED_COSINE: { /* eta_min + (lr - eta_min) (1 + cos(pi e/T)) / (1 + cos(pi (e-1)/T)) */
        int64_t t = s->t_max, k = (e - 1 - t) % (2 * t);
        if (k == 0) /* Python's % is never negative; k == 0 is the same test */
            return lr + (base - s->eta_min) * (1.0 - os_sched_cos(s, 1)) / 2.0;
        return (1.0 + os_sched_cos(s, e)) / (1.0 + os_sched_cos(s, e - 1)) * (lr - s->eta_min) +
               s->eta_min;
    }
    default:
        return lr;
    }
}

/* Construction: initial_lr = base, then the initial step to e = 0. */
OS_HD static inline void os_sched_init(const os_sched *s, os_sched_state *st, double base)
{
    st->base = base;
    st->e = 0;
    st->lr = s->kind == OS_SCHED_MULTISTEP ? os_sched_multistep(s, base, 0) : base;
}

/* scheduler.step(). */
OS_HD static inline void os_sched_step(const os_sched *s, os_sched_state *st)
{
    st->e += 1;
    st->lr = os_sched_next_lr(s, st->base, st->lr, st->e);
}

#endif
