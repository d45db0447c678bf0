/* train_t.h — typed training state and update (template: see typed.h). */

/* A training's state. (The CPU's SIMD lanes hold it field by field:
 * a new field goes into OS_CPU_TRAIN_FIELDS in src/cpu_t.h too.) */
typedef struct OS_FN(os_train) {
    OS_T wa, wb;
    OS_FN(os_opt_state) opt; /* opt.t: the updates taken (one optimizer step each) */
    os_sched_state sched;
    int64_t last_bad; /* last update count with param_error > target (-1: none) */
    int diverged;     /* 1 once a parameter went non-finite or past the limit */
    os_metrics m;
} OS_FN(os_train);

/* What one update did, for traces (the parameters BEFORE the update). */
typedef struct OS_FN(os_update_info) {
    double lr;
    OS_T loss, wa, wb, gwa, gwb, step_wa, step_wb, eff_step;
} OS_FN(os_update_info);

OS_HD static inline void OS_FN(os_train_track)(OS_FN(os_train) *tr, const os_train_cfg *c)
{
    /* os_param_error(wa, wb) <= target, decided exactly without dividing */
    double ua = fabs(fabs((double)tr->wa) - c->ref_wa), ub = fabs((double)tr->wb - c->ref_wb);
    if (!(ua <= c->tol_wa && ub <= c->tol_wb)) tr->last_bad = tr->opt.t;
}

OS_HD static inline void OS_FN(os_train_init)(OS_FN(os_train) *tr, const os_train_cfg *c)
{
    tr->wa = (OS_T)c->init_wa;
    tr->wb = (OS_T)c->init_wb;
    OS_FN(os_opt_init)(&tr->opt);
    os_sched_init(c->sched, &tr->sched, c->lr, c->sched_cycles);
    tr->last_bad = -1;
    tr->diverged = 0;
    os_metrics_init(&tr->m, (double)tr->wa, (double)tr->wb);
    OS_FN(os_train_track)(tr, c);
}

/* One update from the minibatch's loss and gradients (os_grad_finish) up
 * to the scheduler: optimizer step, metrics, divergence check, convergence
 * tracking. Fills *info when given. Returns 1 when scheduler.step() follows
 * now (the training goes on and steps its scheduler per update): the
 * caller then calls os_sched_step, as os_train_apply does. Branch-free but
 * for the optimizer's kind and c->sched_cycles, so a loop over trainings of
 * one kind that do not cycle vectorises (the CPU's SIMD lanes, cpu_t.h). */
OS_HD static OS_FORCEINLINE int OS_FN(os_train_step)(OS_FN(os_train) *tr, const os_train_cfg *c,
                                                     const OS_FN(os_grad) *g, OS_FN(os_update_info) *info)
{
    OS_T p[2] = {tr->wa, tr->wb};
    const OS_T grad[2] = {g->gwa, g->gwb};
    double lr = tr->sched.lr;
    if (c->sched_cycles) /* the scheduler's momentum / beta1 */
        OS_FN(os_opt_step)(&c->opt, &tr->opt, p, grad, lr, tr->sched.mom);
    else /* the optimizer's own: a constant NaN, so the cycling code folds away */
        OS_FN(os_opt_step)(&c->opt, &tr->opt, p, grad, lr, NAN);
    /* the step and its length (the case study's effective step size) */
    const OS_T step_wa = p[0] - tr->wa, step_wb = p[1] - tr->wb;
    const OS_T eff = OS_SQRT(step_wa * step_wa + step_wb * step_wb);
    if (info) {
        info->lr = lr;
        info->loss = g->loss;
        info->wa = tr->wa;
        info->wb = tr->wb;
        info->gwa = g->gwa;
        info->gwb = g->gwb;
        info->step_wa = step_wa;
        info->step_wb = step_wb;
        info->eff_step = eff;
    }
    os_metrics_update(&tr->m, (double)eff, (double)p[0], (double)p[1], (double)g->loss, g->k);
    tr->wa = p[0];
    tr->wb = p[1];
    if (!(fabs((double)p[0]) <= OS_DIVERGE_LIMIT && fabs((double)p[1]) <= OS_DIVERGE_LIMIT)) {
        tr->diverged = 1; /* also catches NaN and +-inf */
        tr->last_bad = tr->opt.t;
        return 0;
    }
    OS_FN(os_train_track)(tr, c);
    return !c->sched_per_epoch;
}

/* One update: os_train_step, then the scheduler step where it follows. */
OS_HD static OS_FORCEINLINE void OS_FN(os_train_apply)(OS_FN(os_train) *tr, const os_train_cfg *c,
                                                       const OS_FN(os_grad) *g, OS_FN(os_update_info) *info)
{
    if (OS_FN(os_train_step)(tr, c, g, info)) os_sched_step(c->sched, &tr->sched);
}

/* One update from the batch's 8 canonical partials. */
OS_HD static inline void OS_FN(os_train_update)(OS_FN(os_train) *tr, const os_train_cfg *c,
                                                const OS_FN(os_acc) part[OS_PARTIALS],
                                                OS_FN(os_update_info) *info)
{
    const OS_FN(os_grad) g = OS_FN(os_grad_finish)(OS_FN(os_acc_tree)(part), tr->wa, tr->wb);
    OS_FN(os_train_apply)(tr, c, &g, info);
}

/* End of an epoch up to the per-epoch scheduler step: the epoch's metrics
 * and plateau's step on its training loss (once per epoch whatever
 * --sched-step says). Returns 1 when scheduler.step() follows now (the
 * schedule steps per epoch), as os_train_step. */
OS_HD static OS_FORCEINLINE int OS_FN(os_train_epoch)(OS_FN(os_train) *tr, const os_train_cfg *c)
{
    if (tr->diverged) return 0;
    const double loss = os_metrics_end_epoch(&tr->m, (double)tr->wa, (double)tr->wb, c->ref_wa, c->ref_wb);
    os_sched_epoch(c->sched, &tr->sched, loss);
    return c->sched_per_epoch;
}

/* End of an epoch: os_train_epoch, then the scheduler step where it follows. */
OS_HD static inline void OS_FN(os_train_end_epoch)(OS_FN(os_train) *tr, const os_train_cfg *c)
{
    if (OS_FN(os_train_epoch)(tr, c)) os_sched_step(c->sched, &tr->sched);
}

/* The results of a finished (or diverged) training, final_loss NaN until
 * the backend's final-loss pass; loss_gap and param_error are the host's.
 * steps_to_target: the first update after which param_error stays <= the
 * target to the end (-1 when it ends above it, or diverged). */
OS_HD static inline void OS_FN(os_train_result)(const OS_FN(os_train) *tr, os_result *r)
{
    r->final_wa = (double)tr->wa;
    r->final_wb = (double)tr->wb;
    r->final_loss = NAN;
    r->loss_gap = NAN;
    r->param_error = NAN;
    r->diverged = tr->diverged;
    r->updates = tr->opt.t;
    r->steps_to_target = tr->diverged || tr->last_bad == tr->opt.t ? -1 : tr->last_bad + 1;
    r->best_loss = tr->m.best_loss;
    r->final_lr = tr->sched.lr;
    r->masked_batches = tr->m.masked;
    r->oscillation = tr->diverged ? NAN : tr->m.oscillation;
    r->path_length = tr->m.path;
}
