/* sweep.c — from a spec to trials, datasets and results.
 *
 * Grid order (the row order of results.csv): optimizer, scheduler, lr,
 * momentum, dampening, alpha, beta1, beta2, eps, weight_decay, batch_size,
 * epochs, init_wa, init_wb, then seed innermost, so the replicates of one
 * configuration are adjacent. An axis an optimizer does not use (beta1 for
 * sgd, ...) does not multiply its trainings and its column is left empty.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"
#include "orbitsweep/shuffle.h"

#define OS_MAX_TRIALS 200000000ULL

/* Which axes an optimizer uses. */
enum { AX_MOMENTUM = 1, AX_DAMPENING = 2, AX_ALPHA = 4, AX_BETAS = 8, AX_EPS = 16 };

static int opt_axes(int kind)
{
    switch (kind) {
    case OS_OPT_MOMENTUM: return AX_MOMENTUM | AX_DAMPENING;
    case OS_OPT_NESTEROV: return AX_MOMENTUM;
    case OS_OPT_RMSPROP: return AX_ALPHA | AX_EPS;
    case OS_OPT_ADAM: return AX_BETAS | AX_EPS;
    default: return 0;
    }
}

static size_t used(const os_list *l, int on) { return on ? l->n : 1; }

static double pick(const os_list *l, int on, size_t i) { return on ? l->v[i] : NAN; }

/* FNV-1a over the bytes of a configuration: the key of its own batch order. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001B3ULL;
    return h;
}

static uint64_t config_hash(const os_trial *t, const char *sched_name)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    double v[] = {t->lr,    t->opt.momentum,     t->opt.dampening, t->opt.alpha,
                  t->opt.beta1, t->opt.beta2,    t->opt.eps,       t->opt.weight_decay,
                  t->init_wa, t->init_wb,        (double)t->batch_size, (double)t->epochs,
                  (double)t->opt.kind};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; ++i) {
        double x = isnan(v[i]) ? 0.0 : v[i]; /* one bit pattern for "unused" */
        h = fnv1a(h, &x, sizeof x);
    }
    return fnv1a(h, sched_name, strlen(sched_name));
}

os_status os_sweep_plan(const os_spec *s, os_sweep *sw, os_error *err)
{
    memset(sw, 0, sizeof *sw);
    sw->spec = s;
    os_status st = os_spec_validate(s, err);
    if (st) return st;

    /* count first, so a too-large grid is an input error, not an OOM */
    unsigned long long total = 0;
    for (size_t o = 0; o < s->n_optimizers; ++o) {
        int ax = opt_axes(s->optimizers[o]);
        unsigned long long n = (unsigned long long)s->n_scheds * s->lr.n;
        size_t f[] = {used(&s->momentum, ax & AX_MOMENTUM), used(&s->dampening, ax & AX_DAMPENING),
                      used(&s->alpha, ax & AX_ALPHA),       used(&s->beta1, ax & AX_BETAS),
                      used(&s->beta2, ax & AX_BETAS),       used(&s->eps, ax & AX_EPS),
                      s->weight_decay.n, s->batch_size.n, s->epochs.n, s->init_wa.n,
                      s->init_wb.n, s->seeds};
        for (size_t i = 0; i < sizeof f / sizeof f[0] && n <= OS_MAX_TRIALS; ++i) n *= f[i];
        total += n;
        if (total > OS_MAX_TRIALS) break;
    }
    if (total > OS_MAX_TRIALS) {
        os_set_error(err, "--seeds: the grid has more than %llu trainings", OS_MAX_TRIALS);
        return OS_EINPUT;
    }
    sw->trials = malloc((size_t)total * sizeof *sw->trials);
    if (!sw->trials) {
        os_set_error(err, "out of memory for %llu trainings", total);
        return OS_ERUNTIME;
    }

    size_t k = 0;
    uint32_t cfg = 0;
    for (size_t o = 0; o < s->n_optimizers; ++o) {
        const int kind = s->optimizers[o], ax = opt_axes(kind);
        for (size_t isc = 0; isc < s->n_scheds; ++isc)
        for (size_t ilr = 0; ilr < s->lr.n; ++ilr)
        for (size_t imo = 0; imo < used(&s->momentum, ax & AX_MOMENTUM); ++imo)
        for (size_t ida = 0; ida < used(&s->dampening, ax & AX_DAMPENING); ++ida)
        for (size_t ial = 0; ial < used(&s->alpha, ax & AX_ALPHA); ++ial)
        for (size_t ib1 = 0; ib1 < used(&s->beta1, ax & AX_BETAS); ++ib1)
        for (size_t ib2 = 0; ib2 < used(&s->beta2, ax & AX_BETAS); ++ib2)
        for (size_t ie = 0; ie < used(&s->eps, ax & AX_EPS); ++ie)
        for (size_t iwd = 0; iwd < s->weight_decay.n; ++iwd)
        for (size_t ibs = 0; ibs < s->batch_size.n; ++ibs)
        for (size_t iep = 0; iep < s->epochs.n; ++iep)
        for (size_t iwa = 0; iwa < s->init_wa.n; ++iwa)
        for (size_t iwb = 0; iwb < s->init_wb.n; ++iwb, ++cfg) {
            os_trial t;
            memset(&t, 0, sizeof t);
            t.opt.kind = kind;
            t.opt.momentum = pick(&s->momentum, ax & AX_MOMENTUM, imo);
            t.opt.dampening = kind == OS_OPT_NESTEROV ? 0.0
                                                      : pick(&s->dampening, ax & AX_DAMPENING, ida);
            t.opt.alpha = pick(&s->alpha, ax & AX_ALPHA, ial);
            t.opt.beta1 = pick(&s->beta1, ax & AX_BETAS, ib1);
            t.opt.beta2 = pick(&s->beta2, ax & AX_BETAS, ib2);
            t.opt.eps = pick(&s->eps, ax & AX_EPS, ie);
            t.opt.weight_decay = s->weight_decay.v[iwd];
            t.lr = s->lr.v[ilr];
            t.sched = (uint32_t)isc;
            t.batch_size = (int)s->batch_size.v[ibs];
            t.epochs = (int)s->epochs.v[iep];
            t.init_wa = s->init_wa.v[iwa];
            t.init_wb = s->init_wb.v[iwb];
            t.cfg = cfg;
            uint64_t h = config_hash(&t, s->scheds[isc].name);
            for (uint32_t r = 0; r < s->seeds; ++r) {
                t.replicate = r;
                t.seed = s->seed + r;
                t.order_stream = s->shuffle == OS_SHUFFLE_TRIAL ? OS_STREAM_TRIAL_ORDER(h)
                                                                : OS_STREAM_SHARED_ORDER;
                sw->trials[k++] = t;
            }
        }
    }
    sw->n_trials = k;

    /* the schedulers, each cosine one with its table of cos(pi*e/t_max) up
     * to the most scheduler steps any training takes */
    sw->scheds = calloc(s->n_scheds, sizeof *sw->scheds);
    if (!sw->scheds) {
        os_sweep_free(sw);
        os_set_error(err, "out of memory");
        return OS_ERUNTIME;
    }
    int64_t max_steps = 0;
    for (size_t i = 0; i < sw->n_trials; ++i) {
        const os_trial *t = &sw->trials[i];
        const int64_t n = s->data_file ? 0 : s->n, per_epoch = n ? (n + t->batch_size - 1) / t->batch_size : 0;
        const int64_t steps = s->sched_per_epoch ? t->epochs : (int64_t)t->epochs * per_epoch;
        max_steps = steps > max_steps ? steps : max_steps;
    }
    for (size_t i = 0; i < s->n_scheds; ++i) {
        sw->scheds[i] = s->scheds[i].s;
        sw->scheds[i].cos_tab = NULL;
        sw->scheds[i].cos_len = 0;
    }

    /* datasets: one per seed, or the file for all */
    sw->n_data = s->data_file ? 1 : s->seeds;
    sw->data = calloc(sw->n_data, sizeof *sw->data);
    if (!sw->data) {
        os_sweep_free(sw);
        os_set_error(err, "out of memory");
        return OS_ERUNTIME;
    }
    /* each dataset finds its own loss minimum: build them in parallel */
    os_status first = OS_OK;
#pragma omp parallel for schedule(dynamic, 1)
    for (long r = 0; r < (long)sw->n_data; ++r) {
        os_error e;
        os_status rs;
        if (s->data_file) {
            double c = s->offset_set ? s->offset : sqrt(s->a * s->a - s->b * s->b);
            rs = os_dataset_load(s->data_file, c, &sw->data[r], &e);
        } else {
            rs = os_dataset_generate(s, (uint32_t)r, &sw->data[r], &e);
        }
        if (rs) {
#pragma omp critical
            if (!first) first = rs, *err = e;
        }
    }
    if (first) {
        os_sweep_free(sw);
        return first;
    }
    if (s->data_file) { /* the step count needs the file's size */
        for (size_t i = 0; i < sw->n_trials; ++i) {
            const os_trial *t = &sw->trials[i];
            const int64_t per_epoch = (sw->data[0].n + t->batch_size - 1) / t->batch_size;
            const int64_t steps = s->sched_per_epoch ? t->epochs : (int64_t)t->epochs * per_epoch;
            max_steps = steps > max_steps ? steps : max_steps;
        }
    }
    for (size_t i = 0; i < s->n_scheds; ++i) {
        os_sched *sc = &sw->scheds[i];
        if (sc->kind != OS_SCHED_COSINE) continue;
        double *tab = malloc((size_t)(max_steps + 1) * sizeof *tab);
        if (!tab) {
            os_sweep_free(sw);
            os_set_error(err, "out of memory");
            return OS_ERUNTIME;
        }
        for (int64_t e = 0; e <= max_steps; ++e)
            tab[e] = cos(3.141592653589793 * (double)e / (double)sc->t_max);
        sc->cos_tab = tab;
        sc->cos_len = max_steps + 1;
    }
    return OS_OK;
}

const os_dataset *os_sweep_dataset(const os_sweep *sw, size_t i)
{
    return &sw->data[sw->n_data == 1 ? 0 : sw->trials[i].replicate];
}

os_train_cfg os_sweep_train_cfg(const os_sweep *sw, size_t i)
{
    const os_trial *t = &sw->trials[i];
    const os_dataset *d = os_sweep_dataset(sw, i);
    os_train_cfg c;
    c.opt = t->opt;
    c.sched = &sw->scheds[t->sched];
    c.lr = t->lr;
    c.sched_per_epoch = sw->spec->sched_per_epoch;
    c.init_wa = t->init_wa;
    c.init_wb = t->init_wb;
    c.ref_wa = d->ref_wa;
    c.ref_wb = d->ref_wb;
    c.tol_wa = os_param_error_tolerance(d->ref_wa, sw->spec->target);
    c.tol_wb = os_param_error_tolerance(d->ref_wb, sw->spec->target);
    return c;
}

void os_result_finish(const os_sweep *sw, size_t i, os_result *r)
{
    const os_dataset *d = os_sweep_dataset(sw, i);
    r->loss_gap = r->final_loss - d->min_loss;
    r->param_error = os_param_error(r->final_wa, r->final_wb, d->ref_wa, d->ref_wb);
}

double os_sweep_evaluations(const os_sweep *sw)
{
    double e = 0;
    for (size_t i = 0; i < sw->n_trials; ++i)
        e += (double)sw->trials[i].epochs * os_sweep_dataset(sw, i)->n;
    return e;
}

/* auto: the GPUs when one is usable (the CLI says which before it runs). */
os_status os_sweep_run(const os_sweep *sw, os_result *results, os_progress_fn progress,
                       void *ctx, os_error *err)
{
    int backend = sw->spec->backend;
    if (backend == OS_BACKEND_AUTO) {
        int bad = 0;
        os_error why;
        backend = os_cuda_select(sw->spec, NULL, &bad, &why) > 0 ? OS_BACKEND_CUDA : OS_BACKEND_CPU;
    }
    if (backend == OS_BACKEND_CUDA) return os_cuda_run(sw, results, progress, ctx, err);
    return os_cpu_run(sw, results, progress, ctx, err);
}

void os_sweep_free(os_sweep *sw)
{
    for (size_t i = 0; sw->scheds && i < sw->spec->n_scheds; ++i) free((void *)sw->scheds[i].cos_tab);
    free(sw->scheds);
    for (size_t r = 0; r < sw->n_data && sw->data; ++r) os_dataset_free(&sw->data[r]);
    free(sw->data);
    free(sw->trials);
    memset(sw, 0, sizeof *sw);
}
