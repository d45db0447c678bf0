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
 * Adding a scheduler: a row here, its case in os_sched_part_lr, its keys in
 * src/sched_spec.c, golden lr sequences and a line in the docs.
 *
 * Layout: an os_sched is flat (no pointers but its parts' host-prepared
 * tables), so it is copied as it is to a GPU: one part (a single
 * scheduler), or up to OS_SCHED_MAX_PARTS parts of a sequential or chain
 * scheduler. Transcendentals (cos, pow) are never computed on a device:
 * the host fills each part's `tab` (os_sched_part_tabval, plan.c) and the
 * device reads it, so every backend gets the host libm's bits.
 */
#ifndef ORBITSWEEP_SCHED_H
#define ORBITSWEEP_SCHED_H

#include "os_hd.h"

/* Columns: ID, name; get_lr() at step e from the current lr (e = 0: the
 * constructor's initial step; b = initial lr, the training's --lr):
 *   none            lr (no scheduler)
 *   constant        ConstantLR: e = 0: lr f; e = total_iters: lr / f
 *   linear          LinearLR: e = 0: lr sf; 1 <= e <= T: lr (1 + (ef - sf) / (T sf + (e-1)(ef - sf)))
 *   polynomial      PolynomialLR: 1 <= e <= T: lr ((1 - e/T) / (1 - (e-1)/T))^p   (table)
 *   multistep       lr * gamma^(count of e in milestones)   (also at e = 0)
 *   multiplicative  lr * factor when start <= e <= end and e % every == 0
 *   step            lr * gamma when e % step_size == 0
 *   exponential     lr * gamma
 *   cosine          lr_e = (1 + cos(pi e/T)) / (1 + cos(pi (e-1)/T)) (lr - eta_min) + eta_min,
 *                   or lr + (base - eta_min)(1 - cos(pi/T))/2 when (e - 1 - T) % 2T == 0
 *   cosine_warm_restarts  eta_min + (b - eta_min)(1 + cos(pi Tcur/Ti))/2   (table)
 *   cyclic          CyclicLR between base_lr and max_lr = b (closed in e; exp_range: table)
 *   onecycle        OneCycleLR up to max_lr = b (closed in e; cos: table)
 *   plateau         ReduceLROnPlateau on the epoch's training loss (os_sched_epoch)
 *   table           LambdaLR: b * tab[min(e, len - 1)] (a CSV file's multipliers)
 *   sequential      SequentialLR over the parts, milestones in `at`
 *   chain           ChainedScheduler over the parts
 * clang-format off */
#define OS_SCHEDULERS(X) \
  X(NONE,           "none") \
  X(CONSTANT,       "constant") \
  X(MULTISTEP,      "multistep") \
  X(MULTIPLICATIVE, "multiplicative") \
  X(STEP,           "step") \
  X(EXPONENTIAL,    "exponential") \
  X(COSINE,         "cosine") \
  X(LINEAR,         "linear") \
  X(POLYNOMIAL,     "polynomial") \
  X(WARM_RESTARTS,  "cosine_warm_restarts") \
  X(CYCLIC,         "cyclic") \
  X(ONECYCLE,       "onecycle") \
  X(PLATEAU,        "plateau") \
  X(TABLE,          "table") \
  X(SEQUENTIAL,     "sequential") \
  X(CHAIN,          "chain")
/* clang-format on */

enum {
#define OS_X(ID, ...) OS_SCHED_##ID,
    OS_SCHEDULERS(OS_X)
#undef OS_X
    OS_SCHED_COUNT
};

#define OS_SCHED_MAX_MILESTONES 64
#define OS_SCHED_MAX_PARTS 4

/* enum keys' values */
enum { OS_CYC_TRIANGULAR, OS_CYC_TRIANGULAR2, OS_CYC_EXP_RANGE };     /* cyclic mode */
enum { OS_ANNEAL_COS, OS_ANNEAL_LINEAR };                              /* onecycle anneal_strategy */
enum { OS_PLATEAU_MIN, OS_PLATEAU_MAX };                               /* plateau mode */
enum { OS_THRESH_REL, OS_THRESH_ABS };                                 /* plateau threshold_mode */
enum { OS_CM_AUTO, OS_CM_TRUE, OS_CM_FALSE };                          /* cycle_momentum */

/* One scheduler (a part of an os_sched). */
typedef struct os_sched_part {
    int kind;
    int mode;                /* cyclic: OS_CYC_*; onecycle: OS_ANNEAL_*; plateau: OS_PLATEAU_* */
    int mode2;               /* onecycle: three_phase; plateau: OS_THRESH_* */
    int cycle_momentum;      /* cyclic, onecycle: OS_CM_* */
    double gamma;            /* multistep, step, exponential, cyclic (exp_range) */
    double factor;           /* multiplicative, constant, plateau */
    int64_t start, end;      /* multiplicative: lr *= factor when the update count e is in */
    int64_t every;           /*   [start, end] (end < 0: no end) and e % every == 0 */
    int64_t step_size;       /* step */
    int64_t t_max;           /* cosine; cosine_warm_restarts' t_0 */
    int64_t t_mult;          /* cosine_warm_restarts */
    double eta_min;          /* cosine, cosine_warm_restarts */
    int64_t total_iters;     /* constant, linear, polynomial; onecycle's total_steps */
    double start_factor, end_factor; /* linear */
    double power;            /* polynomial */
    double base_lr;          /* cyclic (max_lr is the training's lr) */
    int64_t step_up, step_down; /* cyclic (step_down < 0: = step_up) */
    double base_m, max_m;    /* cyclic, onecycle: base_momentum, max_momentum */
    double pct_start, div_factor, final_div_factor; /* onecycle */
    int64_t patience, cooldown; /* plateau */
    double threshold, min_lr, eps; /* plateau */
    const double *tab;       /* host-prepared values indexed by the part's step e (cosine: */
    int64_t tab_len;         /*   cos(pi e/T); see os_sched_part_tabval), or table's multipliers */
    int n_milestones;        /* multistep: ascending, repeats multiply again */
    int64_t milestones[OS_SCHED_MAX_MILESTONES];
} os_sched_part;

/* A training's schedule: kind OS_SCHED_SEQUENTIAL or OS_SCHED_CHAIN over n
 * parts, or a single scheduler (kind = part[0].kind, n = 1). */
typedef struct os_sched {
    int kind;
    int n;
    int64_t at[OS_SCHED_MAX_PARTS - 1]; /* sequential: milestones, strictly ascending, >= 1 */
    os_sched_part part[OS_SCHED_MAX_PARTS];
} os_sched;

typedef struct os_sched_state {
    double base; /* initial_lr: the training's --lr */
    double lr;   /* the lr the next optimizer step uses */
    double mom;  /* the momentum / beta1 the next step uses (cyclic, onecycle); NaN: the optimizer's own */
    double best; /* plateau: the best epoch loss so far */
    int64_t e;   /* last_epoch */
    int32_t bad, cool; /* plateau: bad epochs, cooldown left */
} os_sched_state;

OS_HD static inline int os_sched_milestone_count(const os_sched_part *s, int64_t e)
{
    int c = 0;
    for (int i = 0; i < s->n_milestones; ++i) c += s->milestones[i] == e;
    return c;
}

/* OneCycleLR's phase at step e: its start and end (indices into
 * {initial, max, min} for the lr and {max_m, base_m} for momentum) and pct,
 * as get_lr() computes them (phase ends are doubles). Returns the
 * denominator (end_step - start_step), which is 0 where PyTorch divides by
 * zero (the host rejects those schedules). */
OS_HD static inline double os_onecycle_phase(const os_sched_part *s, int64_t e, int *lr0, int *lr1, int *m0,
                                             int *m1, double *pct)
{
    const double T = (double)s->total_iters, x = (double)e;
    const int tp = s->mode2 != 0; /* three_phase */
    const double end0 = s->pct_start * T - 1, end1 = tp ? 2 * s->pct_start * T - 2 : T - 1;
    /* the first phase with e <= its end, else the last (no arrays: registers on a GPU) */
    int i;
    double start, end;
    if (x <= end0)
        i = 0, start = 0, end = end0;
    else if (!tp || x <= end1)
        i = 1, start = end0, end = end1;
    else
        i = 2, start = end1, end = T - 1;
    /* lr: initial -> max, then max -> min (three phases: max -> initial,
     * initial -> min); momentum: max_m -> base_m, then back (three phases:
     * base_m -> max_m, then max_m held) */
    *lr0 = i == 1 ? 1 : 0;
    *lr1 = i == 0 ? 1 : i == 1 && tp ? 0 : 2;
    *m0 = i == 1 ? 1 : 0;
    *m1 = i == 0 ? 1 : 0;
    const double den = end - start;
    *pct = (x - start) / den;
    return den;
}

/* The value a part's table holds at its step e, computed with the host's
 * libm exactly as Python computes it (host code only: plan.c fills the
 * tables with it, and the host falls back to it past a table's end).
 *   cosine                cos(pi e / T)
 *   polynomial            ((1 - e/T) / (1 - (e-1)/T)) ** power       (1 <= e <= T)
 *   cosine_warm_restarts  cos(pi Tcur / Ti) after e steps
 *   cyclic exp_range      gamma ** e
 *   onecycle (cos)        cos(pi pct)
 */
#ifndef __CUDA_ARCH__
static inline double os_sched_part_tabval(const os_sched_part *s, int64_t e)
{
    const double pi = 3.141592653589793;
    switch (s->kind) {
    case OS_SCHED_COSINE:
        return cos(pi * (double)e / (double)s->t_max);
    case OS_SCHED_POLYNOMIAL: {
        if (e < 1 || e > s->total_iters) return 1.0;
        const double t = (double)s->total_iters;
        return pow((1.0 - (double)e / t) / (1.0 - (double)(e - 1) / t), s->power);
    }
    case OS_SCHED_WARM_RESTARTS: {
        int64_t tcur = 0, ti = s->t_max;
        for (int64_t k = 1; k <= e; ++k)
            if (++tcur >= ti) {
                tcur -= ti;
                ti *= s->t_mult;
            }
        return cos(pi * (double)tcur / (double)ti);
    }
    case OS_SCHED_CYCLIC:
        return pow(s->gamma, (double)e);
    case OS_SCHED_ONECYCLE: {
        int a, b, c, d;
        double pct;
        os_onecycle_phase(s, e, &a, &b, &c, &d, &pct);
        return cos(pi * pct);
    }
    case OS_SCHED_TABLE:
        return s->tab[e < s->tab_len ? e : s->tab_len - 1];
    default:
        return 0;
    }
}
#endif

/* Does the part read a table? (What the host prepares.) */
static inline int os_sched_part_has_tab(const os_sched_part *s)
{
    return s->kind == OS_SCHED_COSINE || s->kind == OS_SCHED_POLYNOMIAL || s->kind == OS_SCHED_WARM_RESTARTS ||
           (s->kind == OS_SCHED_CYCLIC && s->mode == OS_CYC_EXP_RANGE) ||
           (s->kind == OS_SCHED_ONECYCLE && s->mode == OS_ANNEAL_COS) || s->kind == OS_SCHED_TABLE;
}

/* tab at step e. The plan's tables cover the most scheduler steps of any
 * training of the sweep (plan.c), so on the GPU the fallback is
 * unreachable: device code reads the table alone (the index is clamped,
 * never out of bounds); the host computes past a table's end. */
OS_HD static inline double os_sched_tab(const os_sched_part *s, int64_t e)
{
#ifdef __CUDA_ARCH__
    return s->tab[e < s->tab_len ? e : s->tab_len - 1];
#else
    return e < s->tab_len ? s->tab[e] : os_sched_part_tabval(s, e);
#endif
}

/* CyclicLR's get_lr() at step e (max_lr = b); its momentum into *mom. */
OS_HD static inline double os_sched_cyclic(const os_sched_part *s, double b, int64_t e, double *mom)
{
    const double up = (double)s->step_up, down = s->step_down < 0 ? up : (double)s->step_down;
    const double total = up + down, ratio = up / total;
    const double cycle = floor(1 + (double)e / total);
    const double x = 1. + (double)e / total - cycle;
    const double sf = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    double scale = 1.0; /* triangular */
    if (s->mode == OS_CYC_TRIANGULAR2)
        scale = 1 / ldexp(1.0, (int)(cycle - 1)); /* 1 / (2. ** (cycle - 1)), exact */
    else if (s->mode == OS_CYC_EXP_RANGE)
        scale = os_sched_tab(s, e); /* gamma ** e */
    *mom = s->max_m - (s->max_m - s->base_m) * sf * scale;
    return s->base_lr + (b - s->base_lr) * sf * scale;
}

/* OneCycleLR's get_lr() at step e (max_lr = b); momentum into *mom. */
OS_HD static inline double os_sched_onecycle(const os_sched_part *s, double b, int64_t e, double *mom)
{
    int l0, l1, m0, m1;
    double pct;
    os_onecycle_phase(s, e, &l0, &l1, &m0, &m1, &pct);
    const double initial = b / s->div_factor, lowest = initial / s->final_div_factor;
    const double S = l0 == 0 ? initial : b, E = l1 == 0 ? initial : l1 == 1 ? b : lowest; /* no arrays: registers */
    const double MS = m0 == 0 ? s->max_m : s->base_m, ME = m1 == 0 ? s->max_m : s->base_m;
    if (s->mode == OS_ANNEAL_COS) {
        const double c = os_sched_tab(s, e) + 1; /* math.cos(math.pi * pct) + 1 */
        *mom = ME + (MS - ME) / 2.0 * c;
        return E + (S - E) / 2.0 * c;
    }
    *mom = (ME - MS) * pct + MS;
    return (E - S) * pct + S;
}

/* The parts whose get_lr() at step e multiplies the lr by a factor of e
 * alone (none, constant, linear, polynomial, multistep, multiplicative,
 * step, exponential): 1 with the factor in *q where step e multiplies the
 * lr by it, 0 where it leaves the lr as it is; -1 for the other kinds. So
 * trainings that share such a schedule and its step share the factor (the
 * CPU's SIMD lanes step them together, os_sched_step_factor). */
OS_HD static inline int os_sched_part_factor(const os_sched_part *s, int64_t e, double *q)
{
    switch (s->kind) {
    case OS_SCHED_NONE:
        return 0;
    case OS_SCHED_CONSTANT: /* lr f at 0; lr / f at total_iters */
        if (e == 0) return *q = s->factor, 1;
        return e == s->total_iters ? (*q = 1.0 / s->factor, 1) : 0;
    case OS_SCHED_LINEAR: /* lr sf at 0; lr (1 + (ef-sf) / (T sf + (e-1)(ef-sf))) up to T */
        if (e == 0) return *q = s->start_factor, 1;
        if (e > s->total_iters) return 0;
        *q = 1. + (s->end_factor - s->start_factor) /
                      ((double)s->total_iters * s->start_factor + (double)(e - 1) * (s->end_factor - s->start_factor));
        return 1;
    case OS_SCHED_POLYNOMIAL: /* lr ((1 - e/T) / (1 - (e-1)/T))^p up to T */
        if (e == 0 || e > s->total_iters) return 0;
        *q = os_sched_tab(s, e);
        return 1;
    case OS_SCHED_MULTISTEP: { /* lr gamma^(times e is a milestone) */
        const int c = os_sched_milestone_count(s, e);
        if (c == 0) return 0;
        /* gamma**1 and gamma**2 are what Python's pow gives bit for bit;
         * repeated multiplication, so that host and device agree */
        double g = s->gamma;
        for (int i = 1; i < c; ++i) g *= s->gamma;
        *q = g;
        return 1;
    }
    case OS_SCHED_MULTIPLICATIVE: { /* lr factor, when start <= e <= end and every | e */
        if (e <= 0) return 0;
        const int hit = e >= s->start && (s->end < 0 || e <= s->end) && e % s->every == 0;
        *q = hit ? s->factor : 1.0;
        return 1;
    }
    case OS_SCHED_STEP: /* lr gamma, when step_size | e */
        return e > 0 && e % s->step_size == 0 ? (*q = s->gamma, 1) : 0;
    case OS_SCHED_EXPONENTIAL: /* lr gamma */
        return e > 0 ? (*q = s->gamma, 1) : 0;
    default:
        return -1;
    }
}

/* get_lr() of one part at its step e >= 0 from the current lr (e = 0: the
 * constructor's initial step); cyclic and onecycle write the momentum they
 * would cycle into *mom (a local of the caller: no pointer into the state,
 * which stays in registers on a GPU). */
OS_HD static inline double os_sched_part_lr(const os_sched_part *s, double base, double lr, int64_t e, double *mom)
{
    double q = 1.0;
    const int f = os_sched_part_factor(s, e, &q);
    if (f >= 0) return f ? lr * q : lr;
    switch (s->kind) {
    case OS_SCHED_COSINE: { /* eta_min + (lr - eta_min) (1 + cos(pi e/T)) / (1 + cos(pi (e-1)/T)) */
        if (e == 0) return lr;
        int64_t t = s->t_max, k = (e - 1 - t) % (2 * t);
        if (k == 0) /* Python's % is never negative; k == 0 is the same test */
            return lr + (base - s->eta_min) * (1.0 - os_sched_tab(s, 1)) / 2.0;
        return (1.0 + os_sched_tab(s, e)) / (1.0 + os_sched_tab(s, e - 1)) * (lr - s->eta_min) + s->eta_min;
    }
    case OS_SCHED_WARM_RESTARTS: /* eta_min + (b - eta_min) (1 + cos(pi Tcur/Ti)) / 2 */
        return s->eta_min + (base - s->eta_min) * (1 + os_sched_tab(s, e)) / 2;
    case OS_SCHED_CYCLIC:
        return os_sched_cyclic(s, base, e, mom);
    case OS_SCHED_ONECYCLE:
        return os_sched_onecycle(s, base, e, mom);
    case OS_SCHED_TABLE: /* LambdaLR: b lambda(e) */
        return base * os_sched_tab(s, e);
    default: /* none; plateau steps in os_sched_epoch */
        return lr;
    }
}

/* SequentialLR's step(0) of a part at a milestone: its closed form at 0
 * where PyTorch has one, else get_lr() at 0 (MultiplicativeLR carries the
 * current lr on; LambdaLR and warm restarts restart from b). */
OS_HD static inline double os_sched_part_restart(const os_sched_part *s, double base, double lr)
{
    switch (s->kind) {
    case OS_SCHED_CONSTANT: /* b (f + (0 >= T)(1 - f)) */
        return base * (s->total_iters == 0 ? s->factor + (1 - s->factor) : s->factor);
    case OS_SCHED_LINEAR: /* b (sf + (ef - sf) min(T, 0) / T) */
        return base * s->start_factor;
    case OS_SCHED_MULTISTEP: { /* b gamma^(milestones <= 0) */
        double q = 1.0;
        return os_sched_part_factor(s, 0, &q) ? base * q : base;
    }
    case OS_SCHED_POLYNOMIAL: /* b (1 - 0/T)^p */
    case OS_SCHED_STEP:       /* b gamma^(0 // s) */
    case OS_SCHED_EXPONENTIAL: /* b gamma^0 */
        return base;
    case OS_SCHED_COSINE: /* eta_min + (b - eta_min) (1 + cos(0)) / 2 */
        return s->eta_min + (base - s->eta_min);
    default: {
        double unused;
        return os_sched_part_lr(s, base, lr, 0, &unused);
    }
    }
}

/* The part of a sequential schedule that is active at step e >= 1 and its
 * own step count (0 at the milestone where it starts). */
OS_HD static inline int os_sched_seq_part(const os_sched *s, int64_t e, int64_t *local)
{
    int idx = 0;
    while (idx < s->n - 1 && s->at[idx] <= e) ++idx; /* bisect_right(milestones, e) */
    *local = idx > 0 ? e - s->at[idx - 1] : e;
    return idx;
}

/* Construction: initial_lr = base, then the initial step to e = 0 (a
 * chain: every part's, in order; a sequence: the first part's). cyc: the
 * training cycles momentum (os_sched_cycles), so st->mom follows the
 * schedule; else NaN. */
OS_HD static inline void os_sched_init(const os_sched *s, os_sched_state *st, double base, int cyc)
{
    st->base = base;
    st->e = 0;
    st->mom = NAN;
    st->best = s->part[0].mode == OS_PLATEAU_MAX ? -(double)INFINITY : (double)INFINITY;
    st->bad = st->cool = 0;
    double lr = base, mom = NAN;
    const int n = s->kind == OS_SCHED_SEQUENTIAL ? 1 : s->n;
    for (int i = 0; i < n; ++i) lr = os_sched_part_lr(&s->part[i], base, lr, 0, &mom);
    st->lr = lr;
    st->mom = cyc ? mom : NAN;
}

/* A schedule of one part of os_sched_part_factor's kinds: its factor at
 * step e (as there); -1 for other schedules. */
OS_HD static inline int os_sched_factor(const os_sched *s, int64_t e, double *q)
{
    return s->kind == s->part[0].kind ? os_sched_part_factor(&s->part[0], e, q) : -1;
}

/* scheduler.step() of such a schedule, with os_sched_factor(s, st->e + 1)
 * = f (>= 0) and its factor q. */
OS_HD static inline void os_sched_step_factor(os_sched_state *st, int f, double q)
{
    st->e += 1;
    st->lr = f ? st->lr * q : st->lr;
}

/* scheduler.step(). */
OS_HD static inline void os_sched_step(const os_sched *s, os_sched_state *st)
{
    if (s->kind == OS_SCHED_PLATEAU) return; /* steps once per epoch, in os_sched_epoch */
    double q = 1.0;
    const int f = os_sched_factor(s, st->e + 1, &q);
    if (f >= 0) { /* none, and the schedules of a factor */
        os_sched_step_factor(st, f, q);
        return;
    }
    st->e += 1;
    double mom = NAN;
    if (s->kind == OS_SCHED_SEQUENTIAL) {
        int64_t local;
        const int i = os_sched_seq_part(s, st->e, &local);
        st->lr = local == 0 ? os_sched_part_restart(&s->part[i], st->base, st->lr)
                            : os_sched_part_lr(&s->part[i], st->base, st->lr, local, &mom);
        return;
    }
    double lr = st->lr;
    for (int i = 0; i < s->n; ++i) lr = os_sched_part_lr(&s->part[i], st->base, lr, st->e, &mom);
    st->lr = lr;
    if (st->mom == st->mom) st->mom = mom; /* cycling: mom is a number */
}

/* ReduceLROnPlateau.step(metric) at the end of an epoch, on the epoch's
 * training loss (NaN when it had none: never better); other schedules do
 * nothing here. */
OS_HD static inline void os_sched_epoch(const os_sched *s, os_sched_state *st, double metric)
{
    if (s->kind != OS_SCHED_PLATEAU) return;
    const os_sched_part *p = &s->part[0];
    st->e += 1;
    int better;
    if (p->mode == OS_PLATEAU_MIN)
        better = p->mode2 == OS_THRESH_REL ? metric < st->best * (1. - p->threshold) : metric < st->best - p->threshold;
    else
        better = p->mode2 == OS_THRESH_REL ? metric > st->best * (p->threshold + 1.) : metric > st->best + p->threshold;
    if (better) {
        st->best = metric;
        st->bad = 0;
    } else {
        st->bad += 1;
    }
    if (st->cool > 0) { /* in cooldown: bad epochs ignored */
        st->cool -= 1;
        st->bad = 0;
    }
    if (st->bad > p->patience) {
        const double old = st->lr, f = old * p->factor;
        const double nl = p->min_lr > f ? p->min_lr : f; /* Python's max(old * factor, min_lr) */
        if (old - nl > p->eps) st->lr = nl;
        st->cool = (int32_t)p->cooldown;
        st->bad = 0;
    }
}

#endif
