/* cpu_t.h — the CPU backend's loops for one dtype (template: see typed.h).
 *
 * Included twice by cpu_backend.c. The loops only decide which point goes
 * into which canonical partial; every formula comes from the shared
 * headers (model.h, optim.h, sched.h, train.h).
 */

/* The dataset as the training dtype sees it: d2 = ((T)x + (T)c)^2, y. */
typedef struct OS_FN(cpu_data) {
    OS_T *d2, *y;
} OS_FN(cpu_data);

static int OS_FN(cpu_data_make)(OS_FN(cpu_data) *cd, const os_dataset *d)
{
    cd->d2 = malloc((size_t)d->n * sizeof *cd->d2);
    cd->y = malloc((size_t)d->n * sizeof *cd->y);
    if (!cd->d2 || !cd->y) return 0;
    const OS_T c = (OS_T)d->c;
    for (int i = 0; i < d->n; ++i) {
        OS_T xc = (OS_T)d->x[i] + c;
        cd->d2[i] = xc * xc;
        cd->y[i] = (OS_T)d->y[i];
    }
    return 1;
}

static void OS_FN(put)(FILE *f, OS_T v)
{
    char b[40];
    if (sizeof(OS_T) == sizeof(float))
        os_fmt_float(b, sizeof b, (float)v);
    else
        os_fmt_double(b, sizeof b, (double)v);
    fputs(b, f);
}

/* One trace row (DESIGN.md §5): parameters before update k, what it did,
 * and the optimizer state after it. */
static void OS_FN(trace_row)(FILE *f, int64_t k, int epoch, int batch,
                             const OS_FN(os_update_info) *u, const OS_FN(os_train) *tr, int kind)
{
    char b[40];
    os_fmt_double(b, sizeof b, u->lr);
    fprintf(f, "%lld,%d,%d,%s,", (long long)k, epoch, batch, b);
    const OS_T v[] = {u->loss, u->wa, u->wb, u->gwa, u->gwb, u->step_wa, u->step_wb, u->eff_step};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; ++i) {
        OS_FN(put)(f, v[i]);
        fputc(',', f);
    }
    const int has_m = kind == OS_OPT_MOMENTUM || kind == OS_OPT_NESTEROV || kind == OS_OPT_ADAM;
    const int has_v = kind == OS_OPT_RMSPROP || kind == OS_OPT_ADAM;
    if (has_m) OS_FN(put)(f, tr->opt.m[0]);
    fputc(',', f);
    if (has_m) OS_FN(put)(f, tr->opt.m[1]);
    fputc(',', f);
    if (has_v) OS_FN(put)(f, tr->opt.v[0]);
    fputc(',', f);
    if (has_v) OS_FN(put)(f, tr->opt.v[1]);
    fputc('\n', f);
}

/* One epoch of one training over the batch order `order`. */
static void OS_FN(cpu_epoch)(OS_FN(os_train) *tr, const os_train_cfg *c, const OS_FN(cpu_data) *cd,
                             const uint32_t *order, int n, int bs, int epoch, FILE *trace)
{
    const OS_T *d2 = cd->d2, *y = cd->y;
    OS_FN(os_update_info) info;
    for (int lo = 0, b = 0; lo < n; lo += bs, ++b) {
        const int hi = lo + bs < n ? lo + bs : n;
        OS_FN(os_acc) acc[OS_PARTIALS];
        for (int p = 0; p < OS_PARTIALS; ++p) OS_FN(os_acc_zero)(&acc[p]);
        const OS_FN(os_fwd) f = OS_FN(os_fwd_make)(tr->wa, tr->wb);
        int j = lo;
        for (; j + OS_PARTIALS <= hi; j += OS_PARTIALS)
            for (int p = 0; p < OS_PARTIALS; ++p)
                OS_FN(os_point)(&f, d2[order[j + p]], y[order[j + p]], &acc[p]);
        for (int p = 0; j < hi; ++j, ++p) OS_FN(os_point)(&f, d2[order[j]], y[order[j]], &acc[p]);
        const int64_t k = tr->updates;
        OS_FN(os_train_update)(tr, c, acc, trace ? &info : NULL);
        if (trace) OS_FN(trace_row)(trace, k, epoch, b, &info, tr, c->opt.kind);
        if (tr->diverged) return;
    }
    OS_FN(os_train_end_epoch)(tr, c);
}

/* Trainings idx[0..cnt) of one seed, epoch by epoch, so a shared batch
 * order is derived once per epoch for all of them. */
static void OS_FN(cpu_block)(const os_sweep *sw, const OS_FN(cpu_data) *cds, const size_t *idx,
                             int cnt, const uint32_t *identity, uint32_t *order, os_result *res)
{
    OS_FN(os_train) tr[OS_CPU_BLOCK];
    os_train_cfg cfg[OS_CPU_BLOCK];
    const os_dataset *d = os_sweep_dataset(sw, idx[0]);
    const OS_FN(cpu_data) *cd = &cds[sw->n_data == 1 ? 0 : sw->trials[idx[0]].replicate];
    const int n = d->n, shuffle = sw->spec->shuffle;
    int max_ep = 0;
    for (int t = 0; t < cnt; ++t) {
        cfg[t] = os_sweep_train_cfg(sw, idx[t]);
        OS_FN(os_train_init)(&tr[t], &cfg[t]);
        const int ep = sw->trials[idx[t]].epochs;
        max_ep = ep > max_ep ? ep : max_ep;
    }
    for (int e = 0; e < max_ep; ++e) {
        int shared_ready = 0;
        for (int t = 0; t < cnt; ++t) {
            const os_trial *tl = &sw->trials[idx[t]];
            if (e >= tl->epochs || tr[t].diverged) continue;
            const uint32_t *ord = identity;
            if (shuffle == OS_SHUFFLE_TRIAL || (shuffle == OS_SHUFFLE_SHARED && !shared_ready)) {
                cpu_make_order(order, tl->seed, tl->order_stream, (uint32_t)e, (uint32_t)n);
                shared_ready = shuffle == OS_SHUFFLE_SHARED;
            }
            if (shuffle != OS_SHUFFLE_NONE) ord = order;
            OS_FN(cpu_epoch)(&tr[t], &cfg[t], cd, ord, n, tl->batch_size, e, NULL);
        }
    }
    for (int t = 0; t < cnt; ++t) {
        os_result *r = &res[idx[t]];
        r->final_wa = (double)tr[t].wa;
        r->final_wb = (double)tr[t].wb;
        r->diverged = tr[t].diverged;
        r->updates = tr[t].updates;
        r->steps_to_target =
            tr[t].diverged || tr[t].last_bad == tr[t].updates ? -1 : tr[t].last_bad + 1;
        os_result_finish(sw, idx[t], r);
    }
}

/* The trace of trial 0: every update, then the final parameters. */
static void OS_FN(cpu_trace)(const os_sweep *sw, const OS_FN(cpu_data) *cd, const uint32_t *identity,
                             uint32_t *order, FILE *f)
{
    const os_trial *tl = &sw->trials[0];
    const int n = os_sweep_dataset(sw, 0)->n;
    os_train_cfg cfg = os_sweep_train_cfg(sw, 0);
    OS_FN(os_train) tr;
    OS_FN(os_train_init)(&tr, &cfg);
    fputs("update,epoch,batch,lr,loss,wa,wb,dwa,dwb,step_wa,step_wb,eff_step,m_wa,m_wb,v_wa,v_wb\n",
          f);
    for (int e = 0; e < tl->epochs && !tr.diverged; ++e) {
        const uint32_t *ord = identity;
        if (sw->spec->shuffle != OS_SHUFFLE_NONE) {
            cpu_make_order(order, tl->seed, tl->order_stream, (uint32_t)e, (uint32_t)n);
            ord = order;
        }
        OS_FN(cpu_epoch)(&tr, &cfg, cd, ord, n, tl->batch_size, e, f);
    }
    fprintf(f, "%lld,,,,,", (long long)tr.updates);
    OS_FN(put)(f, tr.wa);
    fputc(',', f);
    OS_FN(put)(f, tr.wb);
    fputs(",,,,,,,,,\n", f);
}
