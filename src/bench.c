/* bench.c — `orbitsweep bench`: the standard sweep at several sizes.
 *
 *   orbitsweep bench [--backend auto|cpu|cuda] [--sizes LIST] [--epochs N]
 *                    [--dtype T] [--shuffle M] [--tile N] [--devices LIST] [--threads N]
 *
 * The standard sweep of S trainings: Adam over lr logspace(-4,-0.5,K), K =
 * min(S, 1000), times ceil(S/K) seeds, on the default problem (512 points,
 * batch 64, start (0.1, 1.8)), 100 epochs. Each size is planned (datasets,
 * grid), then run and timed alone: the table gives the run's wall time,
 * trainings/s and sample evaluations/s (trainings x epochs x points per
 * second) end to end — the backend's own plan, uploads, kernels, copies
 * back and result rows — and, on a GPU, the training and final-loss
 * kernels' own time (cudaEvents) and evaluations/s at that time. On a GPU the CUDA context is created by an untimed warm-up run
 * first. Default sizes: 1K, 10K, 100K and 1M on a GPU; 1K, 10K and 100K on
 * the CPU (1M takes minutes there).
 *
 * --bound (CPU) also times the bare loop on each size's trainings (the
 * vectorised forward pass and gradient alone, os_cpu_bound) and prints
 * the training rate as a fraction of it: the ratio scripts/bench/host.py
 * reports, measured in the same run. The run and the bare loop are timed
 * in CPU time (all threads), three times each, alternately, and the ratio
 * is that of their least times, so that other processes on a shared
 * machine move it less (they lengthen the wall time, not ours); the
 * table's row is the first run's, in wall time.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"
#include "flags.h"
#include "orbitsweep/backend.h"

#define BENCH_MAX_SIZES 32
#define BENCH_BOUND_REPEATS 3 /* --bound: times each of the run and the bare loop, alternately */

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The CPU time this process has used (all its threads), in seconds. */
static double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct bench_opts {
    os_spec spec; /* backend, dtype, shuffle, tile, threads, devices */
    os_list sizes;
    int epochs;
    int bound; /* --bound: also the bare loop (CPU), and the ratio */
} bench_opts;

/* bench's flags: its own, these axes (one value each) and these settings of the spec */
static const int bench_axes[] = {OS_AX_DTYPE, OS_AX_SHUFFLE};
static const char *const bench_settings[] = {"--backend", "--tile", "--devices", "--threads"};
#define N_BENCH_AXES (sizeof bench_axes / sizeof bench_axes[0])
#define N_BENCH_SETTINGS (sizeof bench_settings / sizeof bench_settings[0])
#define N_BENCH_FLAGS_MAX (3 + N_BENCH_AXES + N_BENCH_SETTINGS)

static size_t bench_flags(os_flag *f)
{
    size_t n = 0;
    f[n++] = (os_flag){"--sizes", OS_F_LIST, offsetof(bench_opts, sizes), 0, NULL, NULL, "LIST",
                       "trainings per run, at most 32 sizes", "1e3,1e4,1e5 (GPU: and 1e6)"};
    f[n++] = (os_flag){"--epochs", OS_F_VALUE, offsetof(bench_opts, epochs), OS_V_INT, NULL, NULL, "N",
                       "epochs, 1..100000", "100"};
    f[n++] = (os_flag){"--bound", OS_F_BOOL, offsetof(bench_opts, bound), 0, NULL, NULL, NULL,
                       "CPU: also time the bare forward+gradient loop on the same trainings, and print the ratio "
                       "(of the least CPU time of 3 timings each)",
                       NULL};
    for (size_t i = 0; i < N_BENCH_AXES; ++i) {
        const os_axis_def *d = &os_axes[bench_axes[i]];
        f[n++] = (os_flag){d->flag, OS_F_AXIS, offsetof(bench_opts, spec), bench_axes[i], NULL, NULL, "NAME", d->help,
                           d->dflt};
    }
    for (size_t i = 0; i < N_BENCH_SETTINGS; ++i) {
        const int k = os_setting_find(bench_settings[i]);
        const os_setting_def *s = &os_settings[k];
        f[n++] = (os_flag){s->flag, OS_F_SETTING, offsetof(bench_opts, spec), k, NULL, NULL, s->arg, s->help,
                           s->shown ? s->shown : s->dflt};
    }
    return n;
}
void os_bench_help(FILE *f)
{
    os_flag flags[N_BENCH_FLAGS_MAX];
    os_flags_help(f, flags, bench_flags(flags));
}

static int bench_fail(const os_error *err, os_status st)
{
    fprintf(stderr, "orbitsweep: bench: %s\n", err->msg);
    return (int)st;
}

static int bench_parse(int argc, char **argv, bench_opts *o)
{
    memset(o, 0, sizeof *o);
    os_error err;
    os_status st = os_spec_init(&o->spec);
    if (st) return fprintf(stderr, "orbitsweep: bench: out of memory\n"), 1;
    o->epochs = 100;
    int n_pos = 0;
    os_flag flags[N_BENCH_FLAGS_MAX];
    const size_t n_flags = bench_flags(flags);
    if ((st = os_flags_parse(flags, n_flags, o, argc, argv, NULL, 0, &n_pos, &err)) ||
        (st = os_spec_validate(&o->spec, &err)))
        return bench_fail(&err, st);
    for (size_t i = 0; i < N_BENCH_AXES; ++i)
        if (o->spec.axis[bench_axes[i]].n != 1) {
            fprintf(stderr, "orbitsweep: bench: %s: takes one value\n", os_axes[bench_axes[i]].flag);
            return 2;
        }
    if (o->epochs < 1 || o->epochs > 100000) {
        fprintf(stderr, "orbitsweep: bench: --epochs: '%d' is out of range (an integer in 1..100000)\n", o->epochs);
        return 2;
    }
    for (size_t k = 0; k < o->sizes.n; ++k) {
        const double v = o->sizes.v[k];
        if (!(v >= 1 && v <= 1e8 && v == floor(v)) || k == BENCH_MAX_SIZES) {
            char buf[40];
            os_fmt_double(buf, sizeof buf, v);
            fprintf(stderr, "orbitsweep: bench: --sizes: '%s' is out of range (at most %d integers in "
                            "1..100000000)\n", buf, BENCH_MAX_SIZES);
            return 2;
        }
    }
    return 0;
}

static void bench_free(bench_opts *o)
{
    os_spec_free(&o->spec);
    free(o->sizes.v);
}

/* The standard sweep of (about) `size` trainings into *s. */
static int bench_spec(const bench_opts *o, double size, os_spec *s)
{
    os_error err;
    if (os_spec_init(s)) return fprintf(stderr, "orbitsweep: bench: out of memory\n"), 1;
    const double k = size < 1000 ? size : 1000;
    char lr[96], ep[32];
    snprintf(lr, sizeof lr, "logspace(-4,-0.5,%.0f)", k);
    snprintf(ep, sizeof ep, "%d", o->epochs);
    os_status st = os_spec_set_axis(s, OS_AX_LR, lr, 1, &err);
    if (!st) st = os_spec_set_axis(s, OS_AX_EPOCHS, ep, 1, &err);
    for (size_t i = 0; i < N_BENCH_AXES && !st; ++i) {
        const int a = bench_axes[i];
        st = os_spec_set_axis(s, a, os_axis_choices(a)[(int)o->spec.axis[a].v[0]], 1, &err);
    }
    if (st) return bench_fail(&err, st);
    s->seeds = (int)ceil(size / k);
    s->backend = o->spec.backend;
    s->tile = o->spec.tile;
    s->threads = o->spec.threads;
    s->n_devices = o->spec.n_devices;
    memcpy(s->devices, o->spec.devices, sizeof s->devices);
    return 0;
}

/* Seconds the CUDA kernels have run in this process (0 on the CPU). */
static double bench_kernel_seconds(const os_spec *s)
{
#ifdef OS_HAVE_CUDA
    if (s->backend == OS_BACKEND_CUDA) return os_cuda_kernel_seconds();
#endif
    (void)s;
    return 0;
}

/* One size: plan, run, time. Returns 0 or an exit code. */
static int bench_one(const bench_opts *o, double size, int quiet_row)
{
    os_spec s;
    int rc = bench_spec(o, size, &s);
    if (rc) return os_spec_free(&s), rc;
    os_sweep sw;
    os_error err;
    const double t0 = bench_now();
    os_status st = os_sweep_plan(&s, &sw, &err);
    const double t1 = bench_now();
    if (st) {
        fprintf(stderr, "orbitsweep: bench: %s\n", err.msg);
        return os_spec_free(&s), (int)st;
    }
    os_result *res = calloc(sw.n_trials, sizeof *res);
    if (!res) {
        fprintf(stderr, "orbitsweep: bench: out of memory for %zu results\n", sw.n_trials);
        os_sweep_free(&sw);
        return os_spec_free(&s), 1;
    }
    const double k0 = bench_kernel_seconds(&s), t2 = bench_now(), c2 = bench_cpu_now();
    st = os_sweep_run(&sw, res, NULL, NULL, &err);
    const double t3 = bench_now(), run = t3 - t2, run_cpu = bench_cpu_now() - c2, kern = bench_kernel_seconds(&s) - k0;
    if (st) {
        fprintf(stderr, "orbitsweep: bench: %s\n", err.msg);
    } else if (!quiet_row) {
        const double ev = os_sweep_evaluations(&sw);
        size_t div = 0;
        for (size_t i = 0; i < sw.n_trials; ++i) div += res[i].diverged != 0;
        printf("%10zu %7d %9.3f %9.4f %13.3e %15.3e %9zu", sw.n_trials, o->epochs, t1 - t0, run,
               run > 0 ? (double)sw.n_trials / run : 0.0, run > 0 ? ev / run : 0.0, div);
        if (s.backend == OS_BACKEND_CUDA)
            printf(" %9.4f %15.3e\n", kern, kern > 0 ? ev / kern : 0.0);
        else
            printf(" %9s %15s\n", "-", "-");
        if (o->bound) { /* the bare loop and the run, alternately; the least CPU time of each */
            double best_run = run_cpu, best_bare = INFINITY;
            for (int r = 0; r < BENCH_BOUND_REPEATS && st == OS_OK; ++r) {
                double bare = 0;
                if (r > 0) {
                    const double c4 = bench_cpu_now();
                    st = os_sweep_run(&sw, res, NULL, NULL, &err);
                    best_run = fmin(best_run, bench_cpu_now() - c4);
                }
                const double c5 = bench_cpu_now();
                if (st == OS_OK) st = os_cpu_bound(&sw, &bare, &err);
                best_bare = fmin(best_bare, bench_cpu_now() - c5);
            }
            if (st == OS_OK)
                printf("ratio %.3f  orbitsweep %.3e evaluations/s / bare loop %.3e evaluations/s of CPU time "
                       "(%zu trainings, best of %d each)\n", best_bare / best_run, ev / best_run, ev / best_bare,
                       sw.n_trials, BENCH_BOUND_REPEATS);
            else
                fprintf(stderr, "orbitsweep: bench: %s\n", err.msg);
        }
        fflush(stdout);
    }
    free(res);
    os_sweep_free(&sw);
    os_spec_free(&s);
    return (int)st;
}

int os_cli_bench(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o);
    if (rc) return bench_free(&o), rc;

    /* the backend, as `run` picks it */
    os_backend_choice bc;
    os_error err;
    os_status st = os_backend_choose(&o.spec, &bc, &err);
    if (st) return bench_free(&o), bench_fail(&err, st);
    if (bc.note[0]) fprintf(stderr, "orbitsweep: bench: %s\n", bc.note);
    o.spec.backend = bc.backend;
    if (o.bound && bc.backend != OS_BACKEND_CPU) {
        fprintf(stderr, "orbitsweep: bench: --bound: the bare loop is the CPU's; add --backend cpu\n");
        return bench_free(&o), 2;
    }
    if (o.sizes.n == 0) {
        const char *dflt = bc.backend == OS_BACKEND_CUDA ? "1e3,1e4,1e5,1e6" : "1e3,1e4,1e5";
        if (os_list_parse("--sizes", dflt, &o.sizes, &err)) return bench_free(&o), bench_fail(&err, OS_ERUNTIME);
    }
    const int cuda = bc.backend == OS_BACKEND_CUDA;
    printf("orbitsweep bench: adam, lr logspace(-4,-0.5,min(S,1000)) x seeds, 512 points, batch 64, "
           "%d epochs, %s, shuffle %s\n", o.epochs, os_axis_choices(OS_AX_DTYPE)[(int)o.spec.axis[OS_AX_DTYPE].v[0]],
           os_axis_choices(OS_AX_SHUFFLE)[(int)o.spec.axis[OS_AX_SHUFFLE].v[0]]);
    printf("backend %s on %s\n", cuda ? "cuda" : "cpu", bc.where);
    if (cuda) { /* context creation and module load, untimed */
        const int ep = o.epochs;
        o.epochs = 1;
        rc = bench_one(&o, 64, 1);
        o.epochs = ep;
    }
    if (!rc)
        printf("%10s %7s %9s %9s %13s %15s %9s %9s %15s\n", "trainings", "epochs", "plan_s", "run_s", "trainings/s",
               "sample_evals/s", "diverged", "kernel_s", "kernel_evals/s");
    for (size_t i = 0; i < o.sizes.n && !rc; ++i) rc = bench_one(&o, o.sizes.v[i], 0);
    bench_free(&o);
    return rc;
}
