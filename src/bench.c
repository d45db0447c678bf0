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
 * second). On a GPU the CUDA context is created by an untimed warm-up run
 * first. Default sizes: 1K, 10K, 100K and 1M on a GPU; 1K, 10K and 100K on
 * the CPU (1M takes minutes there).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench.h"
#include "orbitsweep/orbitsweep.h"

#define BENCH_MAX_SIZES 32

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_bad(const char *flag, const char *val, const char *what)
{
    fprintf(stderr, "orbitsweep: bench: %s: '%s' %s\n", flag, val, what);
    return 2;
}

typedef struct bench_opts {
    int backend, dtype, shuffle, tile, threads, epochs;
    int n_devices, devices[OS_MAX_DEVICES];
    double sizes[BENCH_MAX_SIZES];
    int n_sizes;
} bench_opts;

static int bench_choice(const char *flag, const char *val, const char *const *names, int *out)
{
    for (int i = 0; names[i]; ++i)
        if (strcmp(val, names[i]) == 0) return *out = i, 0;
    return bench_bad(flag, val, "is not one of the choices (see orbitsweep --help)");
}

static int bench_int(const char *flag, const char *val, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (!*val || *end || errno == ERANGE || v < lo || v > hi) {
        char what[96];
        snprintf(what, sizeof what, "is not an integer in %ld..%ld", lo, hi);
        return bench_bad(flag, val, what);
    }
    *out = (int)v;
    return 0;
}

static int bench_parse(int argc, char **argv, bench_opts *o)
{
    static const char *const backends[] = {"auto", "cpu", "cuda", NULL};
    static const char *const dtypes[] = {"float32", "float64", NULL};
    static const char *const shuffles[] = {"shared", "trial", "none", NULL};
    memset(o, 0, sizeof *o);
    o->epochs = 100;
    for (int i = 0; i < argc; ++i) {
        const char *flag = argv[i];
        if (strncmp(flag, "--", 2) != 0 || i + 1 == argc) {
            fprintf(stderr, "orbitsweep: bench: %s '%s' (see orbitsweep --help)\n",
                    strncmp(flag, "--", 2) ? "unexpected argument" : "missing value after", flag);
            return 2;
        }
        const char *val = argv[++i];
        int rc = 0;
        if (strcmp(flag, "--backend") == 0) {
            rc = bench_choice(flag, val, backends, &o->backend);
        } else if (strcmp(flag, "--dtype") == 0) {
            rc = bench_choice(flag, val, dtypes, &o->dtype);
        } else if (strcmp(flag, "--shuffle") == 0) {
            rc = bench_choice(flag, val, shuffles, &o->shuffle);
        } else if (strcmp(flag, "--epochs") == 0) {
            rc = bench_int(flag, val, 1, 100000, &o->epochs);
        } else if (strcmp(flag, "--threads") == 0) {
            rc = bench_int(flag, val, 0, 4096, &o->threads);
        } else if (strcmp(flag, "--tile") == 0) {
            rc = bench_int(flag, val, 0, 8, &o->tile);
            if (!rc && (o->tile & (o->tile - 1)))
                rc = bench_bad(flag, val, "is not 0 (auto), 1, 2, 4 or 8");
        } else if (strcmp(flag, "--devices") == 0) {
            o->n_devices = 0;
            for (const char *tok = val;;) {
                char *end;
                long d = isdigit((unsigned char)*tok) ? strtol(tok, &end, 10) : -1;
                if (d < 0 || d >= 1000000 || (*end && *end != ',') || o->n_devices == OS_MAX_DEVICES)
                    return bench_bad(flag, val, "is not a list of GPU numbers (0,1,...)");
                o->devices[o->n_devices++] = (int)d;
                if (!*end) break;
                tok = end + 1;
            }
        } else if (strcmp(flag, "--sizes") == 0) {
            os_list l = {0};
            os_error err;
            if (os_list_parse("--sizes", val, &l, &err)) {
                free(l.v);
                fprintf(stderr, "orbitsweep: bench: %s\n", err.msg);
                return 2;
            }
            o->n_sizes = 0;
            for (size_t k = 0; k < l.n && !rc; ++k) {
                if (!(l.v[k] >= 1 && l.v[k] <= 1e8 && l.v[k] == floor(l.v[k])) || k == BENCH_MAX_SIZES)
                    rc = bench_bad(flag, val, "is not a list of at most 32 integers in 1..100000000");
                else
                    o->sizes[o->n_sizes++] = l.v[k];
            }
            free(l.v);
        } else {
            fprintf(stderr, "orbitsweep: bench: unknown flag '%s' (see orbitsweep --help)\n", flag);
            return 2;
        }
        if (rc) return rc;
    }
    return 0;
}

/* The standard sweep of (about) `size` trainings into *s. */
static int bench_spec(const bench_opts *o, double size, os_spec *s)
{
    os_spec_init(s);
    const double k = size < 1000 ? size : 1000;
    char lr[96];
    snprintf(lr, sizeof lr, "logspace(-4,-0.5,%.0f)", k);
    os_error err;
    s->lr.n = 0;
    if (os_list_parse("--lr", lr, &s->lr, &err)) return fprintf(stderr, "orbitsweep: bench: %s\n", err.msg), 2;
    s->epochs.v[0] = o->epochs;
    s->seeds = (uint32_t)ceil(size / k);
    s->dtype = o->dtype;
    s->shuffle = o->shuffle;
    s->backend = o->backend;
    s->tile = o->tile;
    s->threads = o->threads;
    s->n_devices = o->n_devices;
    memcpy(s->devices, o->devices, sizeof s->devices);
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
    const double t2 = bench_now();
    st = os_sweep_run(&sw, res, NULL, NULL, &err);
    const double t3 = bench_now(), run = t3 - t2;
    if (st) {
        fprintf(stderr, "orbitsweep: bench: %s\n", err.msg);
    } else if (!quiet_row) {
        const double ev = os_sweep_evaluations(&sw);
        size_t div = 0;
        for (size_t i = 0; i < sw.n_trials; ++i) div += res[i].diverged != 0;
        printf("%10zu %7d %9.3f %9.4f %13.3e %15.3e %9zu\n", sw.n_trials, o->epochs, t1 - t0, run,
               run > 0 ? (double)sw.n_trials / run : 0.0, run > 0 ? ev / run : 0.0, div);
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
    if (rc) return rc;

    /* the backend, as `run` picks it */
    char where[400];
    if (o.backend != OS_BACKEND_CPU) {
        os_spec probe;
        os_spec_init(&probe);
        probe.n_devices = o.n_devices;
        memcpy(probe.devices, o.devices, sizeof probe.devices);
        os_device_info dev[OS_MAX_DEVICES];
        int bad = 0;
        os_error why;
        const int n = os_cuda_select(&probe, dev, &bad, &why);
        os_spec_free(&probe);
        const char *pre = os_cuda_built() ? "no usable GPU: " : "";
        if (n == 0 && (bad || o.backend == OS_BACKEND_CUDA)) {
            if (bad)
                fprintf(stderr, "orbitsweep: bench: %s\n", why.msg);
            else
                fprintf(stderr, "orbitsweep: bench: --backend cuda: %s%s\n", pre, why.msg);
            return bad ? 2 : 1;
        }
        if (n == 0) {
            fprintf(stderr, "orbitsweep: bench: backend auto: running on the CPU (%s%s)\n", pre, why.msg);
            o.backend = OS_BACKEND_CPU;
        } else {
            o.backend = OS_BACKEND_CUDA;
            if (n == 1)
                snprintf(where, sizeof where, "GPU %d (%s)", dev[0].index, dev[0].name);
            else
                snprintf(where, sizeof where, "%d GPUs (%s, ...)", n, dev[0].name);
        }
    }
    if (o.backend == OS_BACKEND_CPU) {
        int threads = 1;
#ifdef _OPENMP
        threads = o.threads > 0 ? o.threads : omp_get_max_threads();
#endif
        snprintf(where, sizeof where, "the CPU (%d threads)", threads);
    }
    if (o.n_sizes == 0) {
        const double gpu[] = {1e3, 1e4, 1e5, 1e6}, cpu[] = {1e3, 1e4, 1e5};
        const int n = o.backend == OS_BACKEND_CUDA ? 4 : 3;
        for (int i = 0; i < n; ++i) o.sizes[i] = o.backend == OS_BACKEND_CUDA ? gpu[i] : cpu[i];
        o.n_sizes = n;
    }

    printf("orbitsweep bench: adam, lr logspace(-4,-0.5,min(S,1000)) x seeds, 512 points, batch 64, "
           "%d epochs, %s, shuffle %s\n", o.epochs, o.dtype == OS_DTYPE_F32 ? "float32" : "float64",
           o.shuffle == OS_SHUFFLE_SHARED ? "shared" : o.shuffle == OS_SHUFFLE_TRIAL ? "trial" : "none");
    printf("backend %s on %s\n", o.backend == OS_BACKEND_CUDA ? "cuda" : "cpu", where);
    if (o.backend == OS_BACKEND_CUDA) { /* context creation and module load, untimed */
        const int ep = o.epochs;
        o.epochs = 1;
        rc = bench_one(&o, 64, 1);
        o.epochs = ep;
        if (rc) return rc;
    }
    printf("%10s %7s %9s %9s %13s %15s %9s\n", "trainings", "epochs", "plan_s", "run_s", "trainings/s",
           "sample_evals/s", "diverged");
    for (int i = 0; i < o.n_sizes; ++i)
        if ((rc = bench_one(&o, o.sizes[i], 0))) return rc;
    return 0;
}
