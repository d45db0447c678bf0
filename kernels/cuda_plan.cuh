/* cuda_plan.cuh — the CUDA backend's host plan (host C++, no CUDA calls).
 *
 * From a planned sweep to its launch groups (cu_groups: the trainings of
 * one dtype, shuffle mode, scheduler stepping, target and dataset size and
 * noise, each a sweep of its own), and from a group to what the kernels
 * read: the grid's configurations
 * (a trial without its replicate), the trainings in launch order (batch
 * size, epochs, optimizer, scheduler, replicate — so neighbouring lanes
 * run the same code and read the same batch order), the data in the
 * training dtype and in double, each dataset's param_error reference; and
 * back: a chunk's kernel output into os_result rows. Kept free of CUDA
 * calls so that tests/test_cuda_emu.cpp can run the kernels' code on the
 * CPU against the same plan.
 */
#ifndef ORBITSWEEP_CUDA_PLAN_CUH
#define ORBITSWEEP_CUDA_PLAN_CUH

#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "cuda_train.cuh"
#include "orbitsweep/backend.h"

/* ------------------------------------------------------------------------ */
/* the plan, shared by every device                                     */

struct cu_plan {
    const os_sweep *sw; /* a launch group (cu_groups) */
    const size_t *back; /* sw's trial t is the sweep's trial back[t] (NULL: t) */
    int n, max_ep, single_data, dtype, shuffle, sched_per_epoch;
    double target;
    uint32_t reps;
    std::vector<cu_config> configs;
    std::vector<cu_ref> refs;          /* per dataset */
    std::vector<cu_point<float>> d32;  /* float32 runs: n_data x n */
    std::vector<cu_point<double>> d64; /* n_data x n: float64 training data and final losses */
    std::vector<uint32_t> order;       /* trial indices in launch order */
    std::vector<cu_job> jobs;          /* jobs[s] is trial order[s] */
};

/* Stable counting sort of idx by key(idx) in [0, buckets). */
template <typename Key>
static inline void cu_counting_sort(const std::vector<uint32_t> &in, std::vector<uint32_t> &out, size_t buckets, Key key)
{
    std::vector<size_t> pos(buckets + 1, 0);
    for (uint32_t i : in) ++pos[key(i) + 1];
    for (size_t b = 0; b < buckets; ++b) pos[b + 1] += pos[b];
    out.resize(in.size());
    for (uint32_t i : in) out[pos[key(i)]++] = i;
}

/* The distinct values of v, sorted (ranks for sort keys). */
static inline std::vector<double> cu_distinct(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

static inline size_t cu_rank(const std::vector<double> &v, double x)
{
    return (size_t)(std::lower_bound(v.begin(), v.end(), x) - v.begin());
}

/* A launch group: the trainings of a sweep that share their dtype, shuffle
 * mode, scheduler stepping, target and dataset (n, noise) — what one plan
 * and its launches share — as a sweep of its own: copies of its trials in
 * grid order, their configurations renumbered from 0 and their datasets
 * counted from the group's first, its datasets a slice of the sweep's. */
struct cu_group {
    os_sweep sw;
    std::vector<os_trial> trials;
    std::vector<size_t> index; /* the group's trial k is the sweep's index[k] */
};

/* The launch groups of sw, in order of their first trial. A sweep whose new
 * axes are single-valued is one group. */
static inline void cu_groups(const os_sweep *sw, std::vector<cu_group> &out)
{
    typedef std::tuple<int, int, int, uint64_t, uint32_t> key_t;
    std::map<key_t, size_t> at;
    out.clear();
    const uint32_t seeds = (uint32_t)sw->spec->seeds;
    for (size_t i = 0; i < sw->n_trials; ++i) {
        const os_trial &t = sw->trials[i];
        uint64_t tb;
        memcpy(&tb, &t.target, sizeof tb);
        const uint32_t base = sw->spec->data_file ? 0 : t.data - t.replicate;
        const key_t k(t.dtype, t.shuffle, t.sched_step, tb, base);
        auto it = at.find(k);
        if (it == at.end()) {
            it = at.emplace(k, out.size()).first;
            out.emplace_back();
            cu_group &g = out.back();
            g.sw = *sw;
            g.sw.data = sw->data + base;
            g.sw.n_data = sw->spec->data_file ? 1 : seeds;
        }
        cu_group &g = out[it->second];
        os_trial c = t;
        c.data -= base;
        c.cfg = g.trials.empty() ? 0 : g.trials.back().cfg + (t.cfg != sw->trials[g.index.back()].cfg);
        g.trials.push_back(c);
        g.index.push_back(i);
    }
    for (cu_group &g : out) {
        g.sw.trials = g.trials.data();
        g.sw.n_trials = g.trials.size();
    }
}

static inline os_status cu_plan_make(const os_sweep *sw, cu_plan *pl, os_error *err)
{
    const os_spec *s = sw->spec;
    const size_t nt = sw->n_trials;
    pl->sw = sw;
    pl->back = NULL;
    pl->n = sw->data[0].n;
    pl->single_data = sw->n_data == 1;
    const os_trial *t0 = nt ? &sw->trials[0] : NULL; /* what a launch group's trainings share */
    pl->dtype = t0 ? t0->dtype : OS_DTYPE_F64;
    pl->shuffle = t0 ? t0->shuffle : OS_SHUFFLE_SHARED;
    pl->sched_per_epoch = t0 ? t0->sched_step : 0;
    pl->target = t0 ? t0->target : 0.01;
    pl->reps = (uint32_t)s->seeds;
    for (size_t r = 0; r < sw->n_data; ++r)
        if (sw->data[r].n != pl->n) {
            os_set_error(err, "CUDA backend: datasets of different sizes (%d and %d points)", pl->n, sw->data[r].n);
            return OS_ERUNTIME;
        }
    if (nt > UINT32_MAX) {
        os_set_error(err, "CUDA backend: more than %u trainings", UINT32_MAX);
        return OS_ERUNTIME;
    }

    /* configurations: a trial is its configuration plus a replicate */
    uint32_t n_cfg = 0;
    for (size_t i = 0; i < nt; ++i) n_cfg = std::max(n_cfg, sw->trials[i].cfg + 1);
    pl->configs.assign(n_cfg, cu_config());
    std::vector<char> seen(n_cfg, 0);
    pl->max_ep = 0;
    for (size_t i = 0; i < nt; ++i) {
        const os_trial *t = &sw->trials[i];
        if (t->dtype != pl->dtype || t->shuffle != pl->shuffle || t->sched_step != pl->sched_per_epoch ||
            memcmp(&t->target, &pl->target, sizeof t->target) != 0 || t->data != (pl->single_data ? 0 : t->replicate)) {
            os_set_error(err, "CUDA backend: trial %zu is not of its launch group (cu_groups)", i);
            return OS_ERUNTIME;
        }
        if (t->seed != s->seed + t->replicate || t->replicate >= (uint32_t)s->seeds) {
            os_set_error(err, "CUDA backend: trial %zu: seed %llu is not seed + replicate", i,
                         (unsigned long long)t->seed);
            return OS_ERUNTIME;
        }
        cu_config &c = pl->configs[t->cfg];
        if (!seen[t->cfg]) {
            seen[t->cfg] = 1;
            memset(&c, 0, sizeof c);
            c.opt = t->opt;
            c.lr = t->lr;
            c.init_wa = t->init_wa;
            c.init_wb = t->init_wb;
            c.order_stream = t->order_stream;
            c.sched = t->sched;
            c.sched_cycles = os_sched_cycles(&pl->sw->scheds[t->sched], t->opt.kind) > 0;
            c.batch_size = t->batch_size;
            c.epochs = t->epochs;
            pl->max_ep = std::max(pl->max_ep, t->epochs);
        } else if (c.order_stream != t->order_stream || c.lr != t->lr || c.batch_size != t->batch_size ||
                   c.epochs != t->epochs) {
            os_set_error(err, "CUDA backend: trial %zu differs from its configuration %u", i, t->cfg);
            return OS_ERUNTIME;
        }
    }

    /* the data as the training dtype sees it, and in double (os_point_d2) */
    const size_t np = sw->n_data * (size_t)pl->n;
    pl->d64.resize(np);
    if (pl->dtype == OS_DTYPE_F32) pl->d32.resize(np);
    pl->refs.resize(sw->n_data);
    for (size_t r = 0; r < sw->n_data; ++r) {
        const os_dataset *d = &sw->data[r];
        for (int i = 0; i < d->n; ++i) {
            pl->d64[r * pl->n + i] = cu_point<double>{os_point_d2_f64(d->x[i], d->c), d->y[i]};
            if (pl->dtype == OS_DTYPE_F32)
                pl->d32[r * pl->n + i] = cu_point<float>{os_point_d2_f32(d->x[i], d->c), (float)d->y[i]};
        }
        pl->refs[r].ref_wa = d->ref_wa;
        pl->refs[r].ref_wb = d->ref_wb;
        pl->refs[r].tol_wa = os_param_error_tolerance(d->ref_wa, pl->target);
        pl->refs[r].tol_wb = os_param_error_tolerance(d->ref_wb, pl->target);
    }

    /* launch order: by (batch size, epochs, optimizer, scheduler,
     * replicate), grid order within; two stable counting passes */
    std::vector<double> bs_all, ep_all; /* the batch sizes and epochs of the trials' configurations (any block) */
    for (uint32_t c = 0; c < n_cfg; ++c)
        if (seen[c]) bs_all.push_back(pl->configs[c].batch_size), ep_all.push_back(pl->configs[c].epochs);
    const std::vector<double> bss = cu_distinct(std::move(bs_all)), eps = cu_distinct(std::move(ep_all));
    const size_t n_class = bss.size() * eps.size() * OS_OPT_COUNT * s->n_scheds;
    std::vector<uint32_t> cls(n_cfg);
    for (uint32_t c = 0; c < n_cfg; ++c) {
        const cu_config &k = pl->configs[c];
        cls[c] = (uint32_t)(((cu_rank(bss, k.batch_size) * eps.size() + cu_rank(eps, k.epochs)) * OS_OPT_COUNT +
                             (size_t)k.opt.kind) * s->n_scheds + k.sched);
    }
    std::vector<uint32_t> idx(nt), tmp;
    for (size_t i = 0; i < nt; ++i) idx[i] = (uint32_t)i;
    if (n_class <= UINT32_MAX && n_class <= 4 * nt + 4096) {
        cu_counting_sort(idx, tmp, (size_t)s->seeds, [&](uint32_t i) { return (size_t)sw->trials[i].replicate; });
        cu_counting_sort(tmp, pl->order, n_class, [&](uint32_t i) { return (size_t)cls[sw->trials[i].cfg]; });
    } else {
        std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
            const uint32_t ka = cls[sw->trials[a].cfg], kb = cls[sw->trials[b].cfg];
            return ka != kb ? ka < kb : sw->trials[a].replicate < sw->trials[b].replicate;
        });
        pl->order.swap(idx);
    }
    pl->jobs.resize(nt);
#pragma omp parallel for schedule(static) if (nt > 65536)
    for (long kk = 0; kk < (long)nt; ++kk) {
        const size_t k = (size_t)kk;
        const os_trial *t = &sw->trials[pl->order[k]];
        pl->jobs[k].cfg = t->cfg;
        pl->jobs[k].rep = t->replicate;
    }
    return OS_OK;
}

/* A launch shape for `count` trainings at `tile` lanes each: blocks of
 * up to CU_BLOCK_MAX threads, halved down to 64 while fewer than 2 blocks
 * per SM would be needed (cu_block_for); then no more blocks than are
 * resident at once (per_sm, the occupancy API's answer for that block,
 * times sms), in balanced rounds, and at most max_blocks (--max-blocks,
 * 0: no cap) — the grid-stride loop takes the rest, so a capped grid makes
 * tiles hand over from training to training (cu_grid_for). Pure: the
 * emulator test launches with these shapes. */
struct cu_shape {
    int grid, block;
};

static inline int cu_block_for(size_t count, int tile, int sms)
{
    const size_t threads = count * (size_t)tile;
    int block = CU_BLOCK_MAX;
    while (block > 64 && (threads + block - 1) / block < (size_t)(2 * sms)) block /= 2;
    return block;
}

static inline cu_shape cu_grid_for(size_t count, int tile, int sms, int block, int per_sm, int max_blocks)
{
    const size_t threads = count * (size_t)tile;
    const size_t need = std::max<size_t>(1, (threads + block - 1) / block),
                 cap = (size_t)std::max(per_sm, 1) * (size_t)std::max(sms, 1);
    const size_t rounds = (need + cap - 1) / cap;
    size_t grid = (need + rounds - 1) / rounds;
    if (max_blocks > 0) grid = std::min(grid, (size_t)max_blocks);
    cu_shape sh;
    sh.block = block;
    sh.grid = (int)grid;
    return sh;
}

/* Contiguous slices of the launch order for nd GPUs, balanced by work:
 * GPU d trains positions [cut[d], cut[d+1]) of nt, weight(k) the work of
 * position k (its epochs). A cut is placed where the running work first
 * reaches d/nd of the total, then moved so that no slice is empty while
 * there are at least as many trainings as GPUs (epochs {1, 100} on 2 GPUs:
 * [0, 1, 2], not [0, 2, 2]). With more GPUs than trainings, GPU d < nt
 * takes training d and the rest get empty slices: a caller starts nothing
 * on a GPU whose slice is empty. cut[0] = 0, cut[nd] = nt, never
 * decreasing. Pure: tests/test_cuda_emu.cpp checks it. */
template <typename W> static inline std::vector<size_t> cu_split(size_t nt, int nd, W weight)
{
    if (nd < 1) nd = 1;
    std::vector<size_t> cut((size_t)nd + 1, nt);
    cut[0] = 0;
    if (nt < (size_t)nd) {
        for (int d = 1; d < nd; ++d) cut[d] = std::min((size_t)d, nt);
        return cut;
    }
    double total = 0, acc = 0;
    for (size_t k = 0; k < nt; ++k) total += weight(k);
    int d = 1;
    for (size_t k = 0; k < nt && d < nd; ++k) {
        acc += weight(k);
        while (d < nd && acc >= total * d / nd) cut[d++] = k + 1;
    }
    for (d = 1; d < nd; ++d) /* every slice at least one training */
        cut[d] = std::min(std::max(cut[d], cut[d - 1] + 1), nt - (size_t)(nd - d));
    return cut;
}

/* The plan's launch order split across nd GPUs by epochs (cu_split). */
static inline std::vector<size_t> cu_plan_split(const cu_plan &pl, int nd)
{
    return cu_split(pl.jobs.size(), nd, [&](size_t k) { return (double)pl.configs[pl.jobs[k].cfg].epochs; });
}

/* Rows c0 .. c0+cnt of the launch order from their kernel output out[0 ..
 * cnt), then os_result_finish's loss_gap and param_error; res is the
 * sweep's (a group's trial t is its row pl.back[t]). */
static inline void cu_fill_results(const cu_plan &pl, size_t c0, size_t cnt, const os_result *out, os_result *res)
{
#pragma omp parallel for schedule(static)
    for (long q = 0; q < (long)cnt; ++q) {
        const size_t t = pl.order[c0 + (size_t)q], row = pl.back ? pl.back[t] : t;
        res[row] = out[q];
        os_result_finish(pl.sw, t, &res[row]);
    }
}

#endif
