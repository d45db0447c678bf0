/* cpu_t.h — the CPU backend's loops for one dtype (template: see typed.h).
 *
 * Included twice by cpu_backend.c. The loops only decide which point goes
 * into which canonical partial and which SIMD lane holds which training;
 * every formula comes from the shared headers (model.h, optim.h, sched.h,
 * train.h).
 *
 * Vectorised path: OS_CPU_LANES trainings of one batch size run side by
 * side, one per SIMD lane; each batch point is broadcast to all lanes
 * (trainings of one seed), or each lane reads its own, gathered lane-major
 * in its own order (several seeds in a block, --shuffle trial).
 * The canonical order is kept by summing partial p (points p, p+8, ... of
 * the batch, in batch order) for all lanes before partial p+1.
 */

/* The dataset as the training dtype sees it: d2 = ((T)x + (T)c)^2, y. d2
 * depends only on x and c, so a dataset with the previous one's x (the
 * generated replicates share one) shares its d2; in double, y is the
 * dataset's own array. */
typedef struct OS_FN(cpu_data) {
    OS_T *d2, *y;
    int own_d2, own_y; /* which of them this struct allocated */
} OS_FN(cpu_data);

static void OS_FN(cpu_data_free)(OS_FN(cpu_data) *cd)
{
    if (cd->own_d2) free(cd->d2);
    if (cd->own_y) free(cd->y);
    memset(cd, 0, sizeof *cd);
}

static int OS_FN(cpu_data_make)(OS_FN(cpu_data) *cd, const os_dataset *d, const os_dataset *prev,
                                const OS_FN(cpu_data) *prev_cd)
{
    memset(cd, 0, sizeof *cd);
    if (prev && prev->x == d->x && prev->n == d->n && memcmp(&prev->c, &d->c, sizeof d->c) == 0) {
        cd->d2 = prev_cd->d2;
    } else {
        cd->d2 = malloc((size_t)d->n * sizeof *cd->d2);
        if (!cd->d2) return 0;
        cd->own_d2 = 1;
        for (int i = 0; i < d->n; ++i) cd->d2[i] = OS_FN(os_point_d2)(d->x[i], d->c);
    }
    if (sizeof(OS_T) == sizeof(double)) {
        cd->y = (OS_T *)(void *)d->y;
    } else {
        cd->y = malloc((size_t)d->n * sizeof *cd->y);
        if (!cd->y) return 0;
        cd->own_y = 1;
        for (int i = 0; i < d->n; ++i) cd->y[i] = (OS_T)d->y[i];
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

/* One trace row (docs/design.md §5): parameters before update k, what it did,
 * and the optimizer state after it. */
static void OS_FN(trace_row)(FILE *f, int64_t k, int epoch, int batch,
                             const OS_FN(os_update_info) *u, const OS_FN(os_train) *tr, const os_opt_hp *hp)
{
    char b[40];
    os_fmt_double(b, sizeof b, u->lr);
    fprintf(f, "%lld,%d,%d,%s,", (long long)k, epoch, batch, b);
    const OS_T v[] = {u->loss, u->wa, u->wb, u->gwa, u->gwb, u->step_wa, u->step_wb, u->eff_step};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; ++i) {
        OS_FN(put)(f, v[i]);
        fputc(',', f);
    }
    const int state = os_optimizers[hp->kind].state;
    const int has_m = (state & OS_STATE_M) || ((state & OS_STATE_MB) && hp->momentum > 0);
    const int has_v = (state & OS_STATE_V) != 0;
    if (has_m) OS_FN(put)(f, tr->opt.m[0]);
    fputc(',', f);
    if (has_m) OS_FN(put)(f, tr->opt.m[1]);
    fputc(',', f);
    if (has_v) OS_FN(put)(f, tr->opt.v[0]);
    fputc(',', f);
    if (has_v) OS_FN(put)(f, tr->opt.v[1]);
    fputc('\n', f);
}

/* The data in batch order: bd2[j] = d2[order[j]], by[j] = y[order[j]]. */
static void OS_FN(cpu_gather)(OS_T *restrict bd2, OS_T *restrict by, const OS_T *restrict d2, const OS_T *restrict y,
                              const uint32_t *restrict order, int n)
{
    for (int j = 0; j < n; ++j) bd2[j] = d2[order[j]], by[j] = y[order[j]];
}

/* Every lane's data in its batch order, lane-major (j * OS_CPU_LANES + l):
 * ld2 from d2[doff[l] + i], ly from y[yoff[l] + i], i = idx[j *
 * OS_CPU_LANES + l] (cpu_lane_orders). One base array per quantity, so
 * that a row of lanes is one vector gather each (AVX-512: GCC's generic
 * tuning does not emit gathers itself). */
static void OS_FN(cpu_gather_lanes)(OS_T *restrict ld2, OS_T *restrict ly, const OS_T *restrict d2,
                                    const OS_T *restrict y, const int32_t *restrict doff,
                                    const int32_t *restrict yoff, const uint32_t *restrict idx, int n)
{
#if defined(__AVX512F__) && OS_CPU_LANES == 16
    const __m512i dv = _mm512_loadu_si512(doff), yv = _mm512_loadu_si512(yoff);
    for (int j = 0; j < n; ++j) {
        const __m512i x = _mm512_loadu_si512(idx + (size_t)j * OS_CPU_LANES);
        const __m512i xd = _mm512_add_epi32(x, dv), xy = _mm512_add_epi32(x, yv);
        OS_T *rd = ld2 + (size_t)j * OS_CPU_LANES, *ry = ly + (size_t)j * OS_CPU_LANES;
        if (sizeof(OS_T) == sizeof(float)) {
            _mm512_storeu_ps(rd, _mm512_i32gather_ps(xd, (const void *)d2, 4));
            _mm512_storeu_ps(ry, _mm512_i32gather_ps(xy, (const void *)y, 4));
        } else {
            _mm512_storeu_pd(rd, _mm512_i32gather_pd(_mm512_castsi512_si256(xd), (const void *)d2, 8));
            _mm512_storeu_pd(rd + 8, _mm512_i32gather_pd(_mm512_extracti64x4_epi64(xd, 1), (const void *)d2, 8));
            _mm512_storeu_pd(ry, _mm512_i32gather_pd(_mm512_castsi512_si256(xy), (const void *)y, 8));
            _mm512_storeu_pd(ry + 8, _mm512_i32gather_pd(_mm512_extracti64x4_epi64(xy, 1), (const void *)y, 8));
        }
    }
#else
    for (int j = 0; j < n; ++j) {
        const uint32_t *x = idx + (size_t)j * OS_CPU_LANES;
        OS_T *rd = ld2 + (size_t)j * OS_CPU_LANES, *ry = ly + (size_t)j * OS_CPU_LANES;
        for (int l = 0; l < OS_CPU_LANES; ++l) rd[l] = d2[doff[l] + x[l]], ry[l] = y[yoff[l] + x[l]];
    }
#endif
}

/* The lanes' datasets as cpu_gather_lanes reads them: one base array and an
 * offset per lane for d2 and for y, the lanes' own arrays where they share
 * one, else copies end to end in buf_d2 / buf_y (lane l at l * n). Lanes
 * past `lanes` read lane 0's. */
static void OS_FN(cpu_lanes_data)(const OS_FN(cpu_data) *const *cdl, int lanes, int n, OS_T *buf_d2, OS_T *buf_y,
                                  const OS_T **d2, const OS_T **y, int32_t *doff, int32_t *yoff)
{
    int same_d2 = 1, same_y = 1;
    for (int l = 1; l < lanes; ++l) same_d2 &= cdl[l]->d2 == cdl[0]->d2, same_y &= cdl[l]->y == cdl[0]->y;
    *d2 = same_d2 ? cdl[0]->d2 : buf_d2;
    *y = same_y ? cdl[0]->y : buf_y;
    for (int l = 0; l < OS_CPU_LANES; ++l) {
        const int own = l < lanes ? l : 0;
        doff[l] = same_d2 ? 0 : own * n;
        yoff[l] = same_y ? 0 : own * n;
        if (l >= lanes) continue;
        if (!same_d2) memcpy(buf_d2 + (size_t)l * (size_t)n, cdl[l]->d2, (size_t)n * sizeof *buf_d2);
        if (!same_y) memcpy(buf_y + (size_t)l * (size_t)n, cdl[l]->y, (size_t)n * sizeof *buf_y);
    }
}

/* ------------------------------------------------------------------------ */
/* scalar path: one training at a time (traces, and the reference the       */
/* vectorised path is tested against)                                        */

/* One epoch of one training; bd2/by hold the data in batch order. */
static void OS_FN(cpu_epoch)(OS_FN(os_train) *tr, const os_train_cfg *c, const OS_T *bd2,
                             const OS_T *by, int n, int bs, int epoch, FILE *trace)
{
    OS_FN(os_update_info) info;
    for (int lo = 0, b = 0; lo < n; lo += bs, ++b) {
        const int hi = lo + bs < n ? lo + bs : n;
        OS_FN(os_acc) acc[OS_PARTIALS];
        for (int p = 0; p < OS_PARTIALS; ++p) OS_FN(os_acc_zero)(&acc[p]);
        const OS_FN(os_fwd) f = OS_FN(os_fwd_make)(tr->wa, tr->wb);
        for (int j = lo; j < hi; ++j) OS_FN(os_point)(&f, bd2[j], by[j], &acc[(j - lo) % OS_PARTIALS]);
        const int64_t k = tr->opt.t;
        OS_FN(os_train_update)(tr, c, acc, trace ? &info : NULL);
        if (trace) OS_FN(trace_row)(trace, k, epoch, b, &info, tr, &c->opt);
        if (tr->diverged) return;
    }
    OS_FN(os_train_end_epoch)(tr, c);
}

/* ------------------------------------------------------------------------ */
/* vectorised path                                                           */

/* One partial of one batch for all lanes: points j = first, first+8, ...
 * < hi, data broadcast from d2[j], y[j]. Not inlined and with restrict
 * accumulators in the caller's memory: that is the shape GCC vectorises
 * across lanes (inlined, it scalarises the small arrays and unrolls). */
static __attribute__((noinline)) void
OS_FN(cpu_partial_bcast)(const OS_T *restrict inv, const OS_T *restrict wb,
                         const OS_T *restrict d2, const OS_T *restrict y, int first, int hi,
                         OS_T *restrict al, OS_T *restrict aa, OS_T *restrict ab, int *restrict ak)
{
    for (int l = 0; l < OS_CPU_LANES; ++l) al[l] = aa[l] = ab[l] = 0, ak[l] = 0;
    for (int j = first; j < hi; j += OS_PARTIALS) {
        const OS_T dj = d2[j], yj = y[j];
#pragma omp simd
        for (int l = 0; l < OS_CPU_LANES; ++l)
            OS_FN(os_point_add)(inv[l], wb[l], dj, yj, &al[l], &aa[l], &ab[l], &ak[l]);
    }
}

/* The same with per-lane data, lane-major: [j*OS_CPU_LANES + l]. */
static __attribute__((noinline)) void
OS_FN(cpu_partial_lanes)(const OS_T *restrict inv, const OS_T *restrict wb,
                         const OS_T *restrict d2, const OS_T *restrict y, int first, int hi,
                         OS_T *restrict al, OS_T *restrict aa, OS_T *restrict ab, int *restrict ak)
{
    for (int l = 0; l < OS_CPU_LANES; ++l) al[l] = aa[l] = ab[l] = 0, ak[l] = 0;
    for (int j = first; j < hi; j += OS_PARTIALS) {
        const OS_T *dj = d2 + (size_t)j * OS_CPU_LANES, *yj = y + (size_t)j * OS_CPU_LANES;
#pragma omp simd
        for (int l = 0; l < OS_CPU_LANES; ++l)
            OS_FN(os_point_add)(inv[l], wb[l], dj[l], yj[l], &al[l], &aa[l], &ab[l], &ak[l]);
    }
}

/* The loss and gradients of the lanes (os_grad, one array per quantity). */
typedef struct OS_FN(cpu_grad) {
    OS_T loss[OS_CPU_LANES], gwa[OS_CPU_LANES], gwb[OS_CPU_LANES];
    int k[OS_CPU_LANES];
} OS_FN(cpu_grad);

/* Loss and gradients of all lanes from their 8 partials (SoA, [p][lane]). */
static __attribute__((noinline)) void
OS_FN(cpu_lanes_grad)(const OS_T (*restrict al)[OS_CPU_LANES], const OS_T (*restrict aa)[OS_CPU_LANES],
                      const OS_T (*restrict ab)[OS_CPU_LANES], const int (*restrict ak)[OS_CPU_LANES],
                      const OS_T *restrict wa, const OS_T *restrict wb, OS_FN(cpu_grad) *restrict g)
{
#pragma omp simd
    for (int l = 0; l < OS_CPU_LANES; ++l) {
        OS_T sl = OS_FN(os_tree8)(al[0][l], al[1][l], al[2][l], al[3][l], al[4][l], al[5][l], al[6][l], al[7][l]);
        OS_T sa = OS_FN(os_tree8)(aa[0][l], aa[1][l], aa[2][l], aa[3][l], aa[4][l], aa[5][l], aa[6][l], aa[7][l]);
        OS_T sb = OS_FN(os_tree8)(ab[0][l], ab[1][l], ab[2][l], ab[3][l], ab[4][l], ab[5][l], ab[6][l], ab[7][l]);
        g->k[l] = ak[0][l] + ak[1][l] + ak[2][l] + ak[3][l] + ak[4][l] + ak[5][l] + ak[6][l] + ak[7][l];
        OS_FN(os_grad_scalars)(sl, sa, sb, g->k[l], wa[l], wb[l], &g->loss[l], &g->gwa[l], &g->gwb[l]);
    }
}

/* The loss and gradients of all lanes at (wa, wb) on the batch lo..hi-1:
 * the 8 canonical partials, then the combining tree. */
static void OS_FN(cpu_lanes_batch)(const OS_T *wa, const OS_T *wb, const OS_T *d2, const OS_T *y, int lane_major,
                                   int lo, int hi, OS_FN(cpu_grad) *g)
{
    OS_T inv[OS_CPU_LANES], wbf[OS_CPU_LANES];
    for (int l = 0; l < OS_CPU_LANES; ++l) {
        OS_FN(os_fwd) f = OS_FN(os_fwd_make)(wa[l], wb[l]);
        inv[l] = f.inv_wa2;
        wbf[l] = f.wb;
    }
    OS_T al[OS_PARTIALS][OS_CPU_LANES], aa[OS_PARTIALS][OS_CPU_LANES], ab[OS_PARTIALS][OS_CPU_LANES];
    int ak[OS_PARTIALS][OS_CPU_LANES];
    for (int p = 0; p < OS_PARTIALS; ++p)
        (lane_major ? OS_FN(cpu_partial_lanes) : OS_FN(cpu_partial_bcast))(inv, wbf, d2, y, lo + p, hi, al[p], aa[p],
                                                                          ab[p], ak[p]);
    OS_FN(cpu_lanes_grad)(al, aa, ab, ak, wa, wb, g);
}

/* The lanes' trainings, structure of arrays: each field of os_train
 * (train_t.h) and each field of os_train_cfg that an update reads, as an
 * array over the lanes, so that a loop over the lanes loads and stores
 * whole vectors. X(type, array, field of os_train / os_train_cfg). */
#ifndef OS_CPU_TRAIN_FIELDS
#define OS_CPU_SCHED_FIELDS(X)                                                                                  \
    X(double, s_base, sched.base) X(double, s_lr, sched.lr) X(double, s_mom, sched.mom)                         \
    X(double, s_best, sched.best) X(int64_t, s_e, sched.e) X(int32_t, s_bad, sched.bad)                         \
    X(int32_t, s_cool, sched.cool)
#define OS_CPU_TRAIN_FIELDS(X)                                                                                  \
    X(OS_T, wa, wa) X(OS_T, wb, wb) X(OS_T, m0, opt.m[0]) X(OS_T, m1, opt.m[1]) X(OS_T, v0, opt.v[0])            \
    X(OS_T, v1, opt.v[1]) X(OS_T, u0, opt.u[0]) X(OS_T, u1, opt.u[1]) X(int64_t, t, opt.t)                      \
    X(double, b1t_hi, opt.b1t.hi) X(double, b1t_lo, opt.b1t.lo) X(double, b2t_hi, opt.b2t.hi)                   \
    X(double, b2t_lo, opt.b2t.lo) OS_CPU_SCHED_FIELDS(X) X(int64_t, last_bad, last_bad)                         \
    X(int, diverged, diverged) X(int64_t, masked, m.masked) X(double, path, m.path)                             \
    X(double, ep_loss_sum, m.ep_loss_sum) X(int64_t, ep_loss_n, m.ep_loss_n) X(double, best_loss, m.best_loss)  \
    X(double, lo_wa, m.lo_wa) X(double, hi_wa, m.hi_wa) X(double, lo_wb, m.lo_wb) X(double, hi_wb, m.hi_wb)     \
    X(double, oscillation, m.oscillation)
#define OS_CPU_CFG_FIELDS(X)                                                                                    \
    X(double, momentum, opt.momentum) X(double, dampening, opt.dampening) X(double, alpha, opt.alpha)           \
    X(double, beta1, opt.beta1) X(double, beta2, opt.beta2) X(double, eps, opt.eps)                             \
    X(double, weight_decay, opt.weight_decay) X(double, amsgrad, opt.amsgrad) X(double, centered, opt.centered) \
    X(double, momentum_decay, opt.momentum_decay) X(double, lr_decay, opt.lr_decay)                             \
    X(double, initial_accumulator_value, opt.initial_accumulator_value) X(double, rho, opt.rho)                 \
    X(int, sched_per_epoch, sched_per_epoch) X(double, ref_wa, ref_wa) X(double, ref_wb, ref_wb)                \
    X(double, tol_wa, tol_wa) X(double, tol_wb, tol_wb)
#define OS_CPU_SOA(type, name, field) _Alignas(64) type name[OS_CPU_LANES];
#endif

/* Every field is in the lists: the listed ones fill the struct but for
 * padding (cpu_lane_cfg sets kind, sched_cycles, sched, lr, init_wa and
 * init_wb itself). */
#define CPU_X(type, name, field) +sizeof(type)
_Static_assert(sizeof(OS_FN(os_train)) - (0 OS_CPU_TRAIN_FIELDS(CPU_X)) < 8, "a field of os_train is not in OS_CPU_TRAIN_FIELDS");
_Static_assert(sizeof(os_train_cfg) - (0 OS_CPU_CFG_FIELDS(CPU_X) + 2 * sizeof(int) + sizeof(void *) + 3 * sizeof(double)) < 8,
               "a field of os_train_cfg is not in OS_CPU_CFG_FIELDS");
#undef CPU_X

typedef struct OS_FN(cpu_lanes) {
    OS_CPU_TRAIN_FIELDS(OS_CPU_SOA)
    OS_CPU_CFG_FIELDS(OS_CPU_SOA)
    int kind[OS_CPU_LANES];    /* the optimizer */
    int cycles[OS_CPU_LANES];  /* the scheduler cycles its momentum (cfg->sched_cycles) */
    unsigned kinds;            /* the optimizers of the lanes that do not cycle, one bit each */
    int any_cycles;            /* some lane cycles */
    const os_sched *sched;     /* the lanes' one schedule (NULL: they have several) */
    const os_train_cfg *cfg;   /* the lanes' configurations */
    int n;                     /* lanes in use (the others copy lane 0 and are never stepped) */
} OS_FN(cpu_lanes);

static OS_FORCEINLINE void OS_FN(cpu_lane_get)(const OS_FN(cpu_lanes) *restrict L, int l, OS_FN(os_train) *restrict t)
{
#define CPU_X(type, name, field) t->field = L->name[l];
    OS_CPU_TRAIN_FIELDS(CPU_X)
#undef CPU_X
}

/* Lane l's state from *t where `on` (a select, so that a loop over the
 * lanes stores whole vectors). */
static OS_FORCEINLINE void OS_FN(cpu_lane_put)(OS_FN(cpu_lanes) *restrict L, int l, const OS_FN(os_train) *restrict t,
                                               int on)
{
#define CPU_X(type, name, field) L->name[l] = on ? t->field : L->name[l];
    OS_CPU_TRAIN_FIELDS(CPU_X)
#undef CPU_X
}

/* Lane l's configuration as os_train_step reads it, with the optimizer
 * `kind` (the constant of the caller's loop) and no cycling. */
static OS_FORCEINLINE void OS_FN(cpu_lane_cfg)(const OS_FN(cpu_lanes) *restrict L, int l, int kind,
                                               os_train_cfg *restrict c)
{
#define CPU_X(type, name, field) c->field = L->name[l];
    OS_CPU_CFG_FIELDS(CPU_X)
#undef CPU_X
    c->opt.kind = kind;
    c->sched_cycles = 0;
    c->sched = L->sched; /* os_train_epoch's, where the lanes share it */
    c->lr = c->init_wa = c->init_wb = 0; /* not read */
}

/* Lanes 0..n-1 start the trainings of cfg[0..n) (os_train_init). */
static void OS_FN(cpu_lanes_init)(OS_FN(cpu_lanes) *L, const os_train_cfg *cfg, int n)
{
    L->cfg = cfg;
    L->n = n;
    L->kinds = 0;
    L->any_cycles = 0;
    L->sched = cfg[0].sched;
    for (int l = 0; l < OS_CPU_LANES; ++l) {
        const os_train_cfg *c = &cfg[l < n ? l : 0];
        OS_FN(os_train) t;
        OS_FN(os_train_init)(&t, c);
        OS_FN(cpu_lane_put)(L, l, &t, 1);
#define CPU_X(type, name, field) L->name[l] = c->field;
        OS_CPU_CFG_FIELDS(CPU_X)
#undef CPU_X
        L->kind[l] = c->opt.kind;
        L->cycles[l] = c->sched_cycles;
        if (!c->sched_cycles) L->kinds |= 1u << c->opt.kind;
        L->any_cycles |= c->sched_cycles;
        if (c->sched != L->sched) L->sched = NULL;
    }
}

/* The update of the lanes of optimizer `kind` (a constant: the optimizer's
 * switch folds away) that do not cycle, among those `on`: os_train_step
 * in every lane, kept where the lane is one of them, so the loop
 * vectorises. step[l]: lane l's scheduler steps now. */
static OS_FORCEINLINE void OS_FN(cpu_lanes_step_kind)(OS_FN(cpu_lanes) *restrict L, const OS_FN(cpu_grad) *restrict g,
                                                      const int *restrict on, int kind, int *restrict step)
{
    for (int l = 0; l < OS_CPU_LANES; ++l) {
        OS_FN(os_train) t;
        os_train_cfg c;
        OS_FN(cpu_lane_get)(L, l, &t);
        OS_FN(cpu_lane_cfg)(L, l, kind, &c);
        OS_FN(os_grad) gl;
        gl.loss = g->loss[l];
        gl.gwa = g->gwa[l];
        gl.gwb = g->gwb[l];
        gl.k = g->k[l];
        const int s = OS_FN(os_train_step)(&t, &c, &gl, NULL);
        const int mine = on[l] && L->kind[l] == kind && !L->cycles[l];
        OS_FN(cpu_lane_put)(L, l, &t, mine);
        step[l] = mine ? s : step[l];
    }
}

/* scheduler.step() in the lanes `step`. Where the lanes share a schedule
 * of a factor (os_sched_factor: none, multistep, ...) and their step count,
 * the factor is found once and applied in a vector loop; else each lane
 * steps alone. */
static void OS_FN(cpu_lanes_sched)(OS_FN(cpu_lanes) *restrict L, const int *restrict step)
{
    int f = -1;
    double q = 1.0;
    if (L->sched) { /* the least and the most step count of the lanes that step */
        int64_t lo = INT64_MAX, hi = -1;
#pragma omp simd reduction(min : lo) reduction(max : hi)
        for (int l = 0; l < OS_CPU_LANES; ++l) {
            const int64_t a = step[l] ? L->s_e[l] : INT64_MAX, b = step[l] ? L->s_e[l] : -1;
            lo = a < lo ? a : lo;
            hi = b > hi ? b : hi;
        }
        if (hi < 0) return; /* no lane steps */
        if (lo == hi) f = os_sched_factor(L->sched, hi + 1, &q);
    }
    if (f >= 0) {
        for (int l = 0; l < OS_CPU_LANES; ++l) {
            OS_FN(os_train) t;
#define CPU_X(type, name, field) t.field = L->name[l];
            OS_CPU_SCHED_FIELDS(CPU_X)
#undef CPU_X
            os_sched_step_factor(&t.sched, f, q);
#define CPU_X(type, name, field) L->name[l] = step[l] ? t.field : L->name[l];
            OS_CPU_SCHED_FIELDS(CPU_X)
#undef CPU_X
        }
        return;
    }
    for (int l = 0; l < L->n; ++l) {
        if (!step[l]) continue;
        OS_FN(os_train) t;
#define CPU_X(type, name, field) t.field = L->name[l];
        OS_CPU_SCHED_FIELDS(CPU_X)
#undef CPU_X
        os_sched_step(L->cfg[l].sched, &t.sched);
#define CPU_X(type, name, field) L->name[l] = t.field;
        OS_CPU_SCHED_FIELDS(CPU_X)
#undef CPU_X
    }
}

/* One update of the lanes `on` from their loss and gradients: os_train_apply
 * in each, as a vector loop per optimizer of the lanes, then the scheduler
 * steps. */
static void OS_FN(cpu_lanes_update)(OS_FN(cpu_lanes) *restrict L, const OS_FN(cpu_grad) *restrict g,
                                    const int *restrict on)
{
    int step[OS_CPU_LANES] = {0};
#define CPU_X(ID, ...) \
    if (L->kinds & (1u << OS_OPT_##ID)) OS_FN(cpu_lanes_step_kind)(L, g, on, OS_OPT_##ID, step);
    OS_OPTIMIZERS(CPU_X)
#undef CPU_X
    for (int l = 0; l < L->n && L->any_cycles; ++l) {
        if (!on[l] || !L->cycles[l]) continue;
        /* a cycled momentum or beta1: the lane alone, scheduler and all */
        OS_FN(os_train) t;
        OS_FN(cpu_lane_get)(L, l, &t);
        OS_FN(os_grad) gl = {g->loss[l], g->gwa[l], g->gwb[l], g->k[l]};
        OS_FN(os_train_apply)(&t, &L->cfg[l], &gl, NULL);
        OS_FN(cpu_lane_put)(L, l, &t, 1);
    }
    OS_FN(cpu_lanes_sched)(L, step);
}

/* The end of an epoch in the lanes `on` (os_train_end_epoch): a vector loop
 * where the lanes share their schedule. */
static void OS_FN(cpu_lanes_end_epoch)(OS_FN(cpu_lanes) *restrict L, const int *restrict on)
{
    int step[OS_CPU_LANES] = {0};
    if (L->sched) {
        /* a copy: reads of it are safe in every lane, so the loop vectorises */
        const os_sched sched = *L->sched;
        for (int l = 0; l < OS_CPU_LANES; ++l) {
            OS_FN(os_train) t;
            os_train_cfg c;
            OS_FN(cpu_lane_get)(L, l, &t);
            OS_FN(cpu_lane_cfg)(L, l, 0, &c);
            c.sched = &sched;
            const int s = OS_FN(os_train_epoch)(&t, &c);
            OS_FN(cpu_lane_put)(L, l, &t, on[l]);
            step[l] = on[l] && s;
        }
    } else {
        for (int l = 0; l < L->n; ++l) {
            if (!on[l]) continue;
            OS_FN(os_train) t;
            OS_FN(cpu_lane_get)(L, l, &t);
            step[l] = OS_FN(os_train_epoch)(&t, &L->cfg[l]);
            OS_FN(cpu_lane_put)(L, l, &t, 1);
        }
    }
    OS_FN(cpu_lanes_sched)(L, step);
}

/* One epoch of the lanes `on` (cleared where a training diverges). */
static void OS_FN(cpu_lanes_epoch)(OS_FN(cpu_lanes) *L, int *on, const OS_T *d2, const OS_T *y, int lane_major,
                                   int n, int bs)
{
    for (int lo = 0; lo < n; lo += bs) {
        const int hi = lo + bs < n ? lo + bs : n;
        OS_FN(cpu_grad) g;
        OS_FN(cpu_lanes_batch)(L->wa, L->wb, d2, y, lane_major, lo, hi, &g);
        OS_FN(cpu_lanes_update)(L, &g, on);
        int any = 0;
        for (int l = 0; l < L->n; ++l) {
            on[l] = on[l] && !L->diverged[l];
            any |= on[l];
        }
        if (!any) return;
    }
    OS_FN(cpu_lanes_end_epoch)(L, on);
}

/* ------------------------------------------------------------------------ */
/* a block: trainings of one seed and batch size, epoch by epoch             */

static void OS_FN(cpu_block)(const os_sweep *sw, const OS_FN(cpu_data) *cds, const size_t *idx,
                             int cnt, cpu_scratch *ws, int simd, os_result *res)
{
    OS_FN(os_train) tr[OS_CPU_BLOCK];                    /* the scalar path's trainings */
    OS_FN(cpu_lanes) grp[OS_CPU_BLOCK / OS_CPU_LANES]; /* the vectorised path's, a group of lanes each */
    os_train_cfg cfg[OS_CPU_BLOCK];
    const os_dataset *d = os_sweep_dataset(sw, idx[0]);
    const OS_FN(cpu_data) *cd = &cds[sw->trials[idx[0]].data];
    const int n = d->n, shuffle = sw->trials[idx[0]].shuffle, bs = sw->trials[idx[0]].batch_size;
    /* a block of several seeds or datasets (cpu_plan_mix_seeds): every lane
     * its own data and its seed's order, lane-major, as with --shuffle trial */
    int mixed = 0;
    for (int t = 1; t < cnt; ++t)
        mixed |= sw->trials[idx[t]].replicate != sw->trials[idx[0]].replicate ||
                 sw->trials[idx[t]].data != sw->trials[idx[0]].data;
    OS_T *bd2 = (OS_T *)ws->bd2, *by = (OS_T *)ws->by, *ld2 = (OS_T *)ws->ld2, *ly = (OS_T *)ws->ly;
    int max_ep = 0;
    for (int t = 0; t < cnt; ++t) {
        cfg[t] = os_sweep_train_cfg(sw, idx[t]);
        if (!simd) OS_FN(os_train_init)(&tr[t], &cfg[t]);
        const int ep = sw->trials[idx[t]].epochs;
        max_ep = ep > max_ep ? ep : max_ep;
    }
    for (int c0 = 0; simd && c0 < cnt; c0 += OS_CPU_LANES)
        OS_FN(cpu_lanes_init)(&grp[c0 / OS_CPU_LANES], &cfg[c0], cnt - c0 < OS_CPU_LANES ? cnt - c0 : OS_CPU_LANES);
    const OS_T *gd2 = NULL, *gy = NULL; /* cpu_lanes_data of the lane group gc0 */
    int32_t doff[OS_CPU_LANES], yoff[OS_CPU_LANES];
    int gc0 = -1;
    for (int e = 0; e < max_ep; ++e) {
        const OS_T *sd2 = cd->d2, *sy = cd->y; /* the shared batch order's data */
        if (shuffle == OS_SHUFFLE_SHARED && !mixed) {
            const os_trial *t0 = &sw->trials[idx[0]];
            cpu_make_order(ws, t0->seed, t0->order_stream, (uint32_t)e, (uint32_t)n);
            OS_FN(cpu_gather)(bd2, by, cd->d2, cd->y, ws->order, n);
            sd2 = bd2;
            sy = by;
        }
        for (int c0 = 0; c0 < cnt; c0 += OS_CPU_LANES) {
            const int lanes = cnt - c0 < OS_CPU_LANES ? cnt - c0 : OS_CPU_LANES;
            OS_FN(cpu_lanes) *L = &grp[c0 / OS_CPU_LANES];
            int active[OS_CPU_LANES] = {0}, any = 0;
            for (int l = 0; l < lanes; ++l) {
                const os_trial *tl = &sw->trials[idx[c0 + l]];
                active[l] = e < tl->epochs && !(simd ? L->diverged[l] : tr[c0 + l].diverged);
                any |= active[l];
            }
            if (!any) continue;
            if (simd && (shuffle == OS_SHUFFLE_TRIAL || mixed)) {
                /* each lane its own order and data: the orders of all lanes
                 * at once, then one gather per row of lanes */
                os_perm perm[OS_CPU_LANES];
                for (int l = 0; l < OS_CPU_LANES; ++l) {
                    const os_trial *tl = &sw->trials[idx[c0 + (l < lanes ? l : 0)]];
                    if (shuffle != OS_SHUFFLE_NONE) os_perm_init(&perm[l], tl->seed, tl->order_stream, (uint32_t)e, (uint32_t)n);
                }
                cpu_lane_orders(ws, shuffle == OS_SHUFFLE_NONE ? NULL : perm, (uint32_t)n, ws->lorder);
                if (gc0 != c0) {
                    const OS_FN(cpu_data) *cdl[OS_CPU_LANES];
                    for (int l = 0; l < lanes; ++l) cdl[l] = &cds[sw->trials[idx[c0 + l]].data];
                    OS_FN(cpu_lanes_data)(cdl, lanes, n, (OS_T *)ws->cd2, (OS_T *)ws->cy, &gd2, &gy, doff, yoff);
                    gc0 = c0;
                }
                OS_FN(cpu_gather_lanes)(ld2, ly, gd2, gy, doff, yoff, ws->lorder, n);
                OS_FN(cpu_lanes_epoch)(L, active, ld2, ly, 1, n, bs);
            } else if (shuffle == OS_SHUFFLE_TRIAL || mixed) {
                /* each lane's order (lanes of one seed and stream share it) and data */
                const uint32_t *ord[OS_CPU_LANES];
                const OS_T *ld[OS_CPU_LANES], *lyv[OS_CPU_LANES];
                for (int l = 0; l < lanes; ++l) {
                    const os_trial *tl = &sw->trials[idx[c0 + l]], *tp = l ? &sw->trials[idx[c0 + l - 1]] : NULL;
                    const OS_FN(cpu_data) *cdl = &cds[tl->data];
                    ld[l] = cdl->d2;
                    lyv[l] = cdl->y;
                    uint32_t *own = ws->lorder + (size_t)l * (size_t)n;
                    if (tp && (shuffle == OS_SHUFFLE_NONE || (tl->seed == tp->seed && tl->order_stream == tp->order_stream))) {
                        ord[l] = ord[l - 1];
                    } else if (shuffle == OS_SHUFFLE_NONE) {
                        for (int j = 0; j < n; ++j) own[j] = (uint32_t)j;
                        ord[l] = own;
                    } else {
                        cpu_make_order_to(ws, own, tl->seed, tl->order_stream, (uint32_t)e, (uint32_t)n);
                        ord[l] = own;
                    }
                }
                for (int l = 0; l < lanes; ++l) {
                    if (!active[l]) continue;
                    OS_FN(cpu_gather)(bd2, by, ld[l], lyv[l], ord[l], n);
                    OS_FN(cpu_epoch)(&tr[c0 + l], &cfg[c0 + l], bd2, by, n, bs, e, NULL);
                }
            } else if (simd) {
                OS_FN(cpu_lanes_epoch)(L, active, sd2, sy, 0, n, bs);
            } else {
                for (int l = 0; l < lanes; ++l)
                    if (active[l]) OS_FN(cpu_epoch)(&tr[c0 + l], &cfg[c0 + l], sd2, sy, n, bs, e, NULL);
            }
        }
    }
    for (int t = 0; t < cnt; ++t) {
        if (simd) OS_FN(cpu_lane_get)(&grp[t / OS_CPU_LANES], t % OS_CPU_LANES, &tr[t]);
        OS_FN(os_train_result)(&tr[t], &res[idx[t]]);
    }
}

/* The trace of trial 0: every update, then the final parameters. */
static void OS_FN(cpu_trace)(const os_sweep *sw, const OS_FN(cpu_data) *cd, cpu_scratch *ws, FILE *f)
{
    const os_trial *tl = &sw->trials[0];
    const int n = os_sweep_dataset(sw, 0)->n;
    OS_T *bd2 = (OS_T *)ws->bd2, *by = (OS_T *)ws->by;
    os_train_cfg cfg = os_sweep_train_cfg(sw, 0);
    OS_FN(os_train) tr;
    OS_FN(os_train_init)(&tr, &cfg);
    fputs("update,epoch,batch,lr,loss,wa,wb,dwa,dwb,step_wa,step_wb,eff_step,m_wa,m_wb,v_wa,v_wb\n",
          f);
    for (int e = 0; e < tl->epochs && !tr.diverged; ++e) {
        const OS_T *sd2 = cd->d2, *sy = cd->y;
        if (tl->shuffle != OS_SHUFFLE_NONE) {
            cpu_make_order(ws, tl->seed, tl->order_stream, (uint32_t)e, (uint32_t)n);
            OS_FN(cpu_gather)(bd2, by, cd->d2, cd->y, ws->order, n);
            sd2 = bd2;
            sy = by;
        }
        OS_FN(cpu_epoch)(&tr, &cfg, sd2, sy, n, tl->batch_size, e, f);
    }
    fprintf(f, "%lld,,,,,", (long long)tr.opt.t);
    OS_FN(put)(f, tr.wa);
    fputc(',', f);
    OS_FN(put)(f, tr.wb);
    fputs(",,,,,,,,,\n", f);
}

/* ------------------------------------------------------------------------ */
/* the bound: the bare loop                                                  */

/* cnt trainings of epochs x (n points in batches of bs) with nothing but
 * the vectorised forward pass and gradient (cpu_lanes_batch, as a
 * training's) and a plain gradient step: no batch orders, no optimizer,
 * scheduler or metrics. What `orbitsweep bench --bound` compares to. */
static void OS_FN(cpu_bound_block)(const OS_FN(cpu_data) *cd, int n, int bs, int epochs, int cnt, double *sink)
{
    for (int c0 = 0; c0 < cnt; c0 += OS_CPU_LANES) {
        OS_T wa[OS_CPU_LANES], wb[OS_CPU_LANES];
        for (int l = 0; l < OS_CPU_LANES; ++l) wa[l] = (OS_T)(1.2 + 0.001 * l), wb[l] = (OS_T)1.2;
        for (int e = 0; e < epochs; ++e)
            for (int lo = 0; lo < n; lo += bs) {
                const int hi = lo + bs < n ? lo + bs : n;
                OS_FN(cpu_grad) g;
                OS_FN(cpu_lanes_batch)(wa, wb, cd->d2, cd->y, 0, lo, hi, &g);
#pragma omp simd
                for (int l = 0; l < OS_CPU_LANES; ++l) {
                    wa[l] -= (OS_T)1e-4 * g.gwa[l];
                    wb[l] -= (OS_T)1e-4 * g.gwb[l];
                }
            }
        for (int l = 0; l < OS_CPU_LANES; ++l) *sink += (double)wa[l] + (double)wb[l];
    }
}
