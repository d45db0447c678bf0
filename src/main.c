/* main.c — the orbitsweep command line: run, trace, data, summarize, devices, bench.
 *
 * Parses flags into an os_spec (DESIGN.md §3), plans the sweep, runs it and
 * writes the table. Only this file prints to the user and picks exit codes:
 * 0 ok, 1 runtime failure, 2 bad input (one line on stderr naming the flag
 * and the value; no output file is left behind).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench.h"
#include "orbitsweep/orbitsweep.h"
#include "summarize.h"

static const char usage[] =
    "orbitsweep " OS_VERSION " - train thousands of orbit-regression models at once\n"
    "\n"
    "usage: orbitsweep run   [options]   run a sweep; results table to -o (results.csv)\n"
    "       orbitsweep trace [options]   one training, one row per update (-o or stdout)\n"
    "       orbitsweep data  [options]   the dataset as CSV with header x,y (-o or stdout)\n"
    "       orbitsweep summarize RESULTS.csv [-o FILE] [--target X] [--quiet]\n"
    "                                    one row per configuration, seeds pooled (-o or stdout)\n"
    "       orbitsweep devices           the CPU and each GPU (name, memory, compute capability)\n"
    "       orbitsweep bench [--backend B] [--sizes LIST] [--epochs N]\n"
    "                                    trainings/s and sample evaluations/s at several sizes\n"
    "       orbitsweep --help | --version\n"
    "\n"
    "Every sweep axis takes a list: 0.1,0.01  logspace(-4,0,64)  linspace(a,b,n)\n"
    "geomspace(a,b,n); flags may be repeated. run trains the Cartesian product.\n"
    "\n"
    "training\n"
    "  --optimizer LIST     sgd, momentum, nesterov, rmsprop, adam       [adam]\n"
    "  --lr LIST            initial learning rate (> 0)                  [0.01]\n"
    "  --momentum LIST      momentum, nesterov                           [0.9]\n"
    "  --dampening LIST     momentum                                     [0]\n"
    "  --alpha LIST         rmsprop smoothing                            [0.99]\n"
    "  --eps LIST           rmsprop, adam                                [1e-8]\n"
    "  --beta1 LIST         adam                                         [0.9]\n"
    "  --beta2 LIST         adam                                         [0.999]\n"
    "  --weight-decay LIST  L2 as in torch.optim                         [0]\n"
    "  --scheduler SPEC     one per flag (repeat for a list)             [constant]\n"
    "                       constant | multistep:milestones=4/8/10,gamma=0.8\n"
    "                       multiplicative:factor=0.8,start=6,end=24,every=2\n"
    "                       step:step_size=N,gamma=G | exponential:gamma=G\n"
    "                       cosine:t_max=N,eta_min=E\n"
    "  --sched-step WHEN    update (after every minibatch) or epoch      [update]\n"
    "  --batch-size LIST                                                 [64]\n"
    "  --epochs LIST                                                     [100]\n"
    "  --init-wa LIST --init-wb LIST  starting point                     [0.1, 1.8]\n"
    "  --seeds K            replicates seed..seed+K-1 (data noise, order) [1]\n"
    "  --seed S             the first seed                               [0]\n"
    "  --shuffle MODE       shared | trial | none                        [shared]\n"
    "  --dtype TYPE         float32 | float64                            [float32]\n"
    "  --target X           param_error that counts as converged         [0.01]\n"
    "data\n"
    "  --n N --a A --b B --offset C --noise X   generated dataset\n"
    "                       [512, 1.261845, 1.234378, sqrt(a^2-b^2), 0.1]\n"
    "  --data FILE          load x,y from a CSV file instead\n"
    "execution\n"
    "  --backend NAME       auto (a GPU when one is usable) | cpu | cuda [auto]\n"
    "  --devices LIST       CUDA: the GPUs to split the sweep across     [all]\n"
    "  --tile N             CUDA: lanes per training, 1 2 4 8 (0: auto)  [0]\n"
    "  --threads N          CPU threads (0: all cores)                   [0]\n"
    "  --simd on|off        CPU: trainings side by side in SIMD lanes    [on]\n"
    "  -o FILE              output file\n"
    "  --quiet              no summary or progress\n";

/* ------------------------------------------------------------------------ */
/* flags                                                                     */

enum { F_LIST, F_OPT, F_SCHED, F_INT, F_U64, F_DOUBLE, F_CHOICE, F_STRING, F_BOOL, F_DEVICES };

typedef struct flag_def {
    const char *name;
    int kind;
    size_t off;               /* offset into the cli struct */
    const char *const *choices;
} flag_def;

typedef struct cli {
    os_spec spec;
    char *out;
    int quiet;
    double seeds_d, threads_d, n_d, tile_d;
} cli;

static const char *const shuffle_names[] = {"shared", "trial", "none", NULL};
static const char *const dtype_names[] = {"float32", "float64", NULL};
static const char *const backend_names[] = {"auto", "cpu", "cuda", NULL};
static const char *const sched_step_names[] = {"update", "epoch", NULL};
static const char *const simd_names[] = {"on", "off", NULL};

#define S(field) offsetof(cli, spec.field)
static const flag_def flags[] = {
    {"--optimizer", F_OPT, 0, NULL},
    {"--lr", F_LIST, S(lr), NULL},
    {"--momentum", F_LIST, S(momentum), NULL},
    {"--dampening", F_LIST, S(dampening), NULL},
    {"--alpha", F_LIST, S(alpha), NULL},
    {"--eps", F_LIST, S(eps), NULL},
    {"--beta1", F_LIST, S(beta1), NULL},
    {"--beta2", F_LIST, S(beta2), NULL},
    {"--weight-decay", F_LIST, S(weight_decay), NULL},
    {"--scheduler", F_SCHED, 0, NULL},
    {"--sched-step", F_CHOICE, S(sched_per_epoch), sched_step_names},
    {"--batch-size", F_LIST, S(batch_size), NULL},
    {"--epochs", F_LIST, S(epochs), NULL},
    {"--init-wa", F_LIST, S(init_wa), NULL},
    {"--init-wb", F_LIST, S(init_wb), NULL},
    {"--seeds", F_DOUBLE, offsetof(cli, seeds_d), NULL},
    {"--seed", F_U64, S(seed), NULL},
    {"--shuffle", F_CHOICE, S(shuffle), shuffle_names},
    {"--n", F_DOUBLE, offsetof(cli, n_d), NULL},
    {"--a", F_DOUBLE, S(a), NULL},
    {"--b", F_DOUBLE, S(b), NULL},
    {"--offset", F_DOUBLE, S(offset), NULL},
    {"--noise", F_DOUBLE, S(noise), NULL},
    {"--data", F_STRING, S(data_file), NULL},
    {"--target", F_DOUBLE, S(target), NULL},
    {"--dtype", F_CHOICE, S(dtype), dtype_names},
    {"--backend", F_CHOICE, S(backend), backend_names},
    {"--threads", F_DOUBLE, offsetof(cli, threads_d), NULL},
    {"--simd", F_CHOICE, S(cpu_scalar), simd_names},
    {"--devices", F_DEVICES, 0, NULL},
    {"--tile", F_DOUBLE, offsetof(cli, tile_d), NULL},
    {"-o", F_STRING, offsetof(cli, out), NULL},
    {"--quiet", F_BOOL, offsetof(cli, quiet), NULL},
};
#define N_FLAGS (sizeof flags / sizeof flags[0])

static int bad(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "orbitsweep: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

static int parse_double_full(const char *s, double *v)
{
    char *end;
    if (!*s) return 0;
    *v = strtod(s, &end);
    return *end == 0 && isfinite(*v);
}

/* One flag with its value. Returns 0 or an exit code. */
static int apply_flag(cli *c, const flag_def *f, const char *val, int first)
{
    void *p = (char *)c + f->off;
    os_error err;
    switch (f->kind) {
    case F_LIST: {
        os_list *l = p;
        if (first) l->n = 0;
        if (os_list_parse(f->name, val, l, &err)) return fprintf(stderr, "orbitsweep: %s\n", err.msg), 2;
        return 0;
    }
    case F_OPT: {
        if (first) c->spec.n_optimizers = 0;
        for (const char *tok = val;;) {
            const char *end = strchr(tok, ',');
            size_t len = end ? (size_t)(end - tok) : strlen(tok);
            int k = -1;
            for (int o = 0; o < OS_OPT_COUNT; ++o)
                if (strlen(os_optimizer_name(o)) == len && strncmp(tok, os_optimizer_name(o), len) == 0)
                    k = o;
            if (k < 0) {
                fprintf(stderr, "orbitsweep: --optimizer: unknown optimizer '%.*s' in '%s' (sgd, "
                                "momentum, nesterov, rmsprop, adam)\n", (int)len, tok, val);
                return 2;
            }
            size_t i = 0;
            while (i < c->spec.n_optimizers && c->spec.optimizers[i] != k) ++i;
            if (i == c->spec.n_optimizers) c->spec.optimizers[c->spec.n_optimizers++] = k;
            if (!end) break;
            tok = end + 1;
        }
        return 0;
    }
    case F_SCHED: {
        os_sched_spec s;
        if (os_sched_parse(val, &s, &err)) return fprintf(stderr, "orbitsweep: %s\n", err.msg), 2;
        if (first) c->spec.n_scheds = 0;
        os_sched_spec *ns = realloc(c->spec.scheds, (c->spec.n_scheds + 1) * sizeof *ns);
        if (!ns) return fprintf(stderr, "orbitsweep: out of memory\n"), 1;
        c->spec.scheds = ns;
        c->spec.scheds[c->spec.n_scheds++] = s;
        return 0;
    }
    case F_DOUBLE:
        if (!parse_double_full(val, (double *)p)) return bad("%s: '%s' is not a number", f->name, val);
        if (p == &c->spec.offset) c->spec.offset_set = 1;
        return 0;
    case F_U64: {
        char *end;
        errno = 0;
        unsigned long long v = isdigit((unsigned char)*val) ? strtoull(val, &end, 10) : 0;
        if (!isdigit((unsigned char)*val) || *end || errno == ERANGE)
            return bad("%s: '%s' is not an integer in 0..18446744073709551615", f->name, val);
        *(uint64_t *)p = v;
        return 0;
    }
    case F_CHOICE:
        for (int i = 0; f->choices[i]; ++i)
            if (strcmp(val, f->choices[i]) == 0) return *(int *)p = i, 0;
        return bad("%s: unknown value '%s'", f->name, val);
    case F_STRING:
        if (!*val) return bad("%s: '%s' is empty", f->name, val);
        free(*(char **)p);
        *(char **)p = strdup(val);
        return 0;
    case F_BOOL:
        *(int *)p = 1;
        return 0;
    case F_DEVICES: /* CUDA device numbers: 0,1,... (repeats extend the list) */
        if (first) c->spec.n_devices = 0;
        for (const char *tok = val;;) {
            char *end;
            errno = 0;
            long d = isdigit((unsigned char)*tok) ? strtol(tok, &end, 10) : -1;
            if (d < 0 || errno == ERANGE || d >= 1000000 || (*end && *end != ','))
                return bad("%s: '%s' is not a list of GPU numbers (0,1,...)", f->name, val);
            if (c->spec.n_devices == OS_MAX_DEVICES)
                return bad("%s: '%s' lists too many GPUs", f->name, val);
            c->spec.devices[c->spec.n_devices++] = (int)d;
            if (!*end) break;
            tok = end + 1;
        }
        return 0;
    }
    return 0;
}

/* Integral flags read as doubles so that 1e3 works and 1.5 is caught. */
static int check_int(const char *name, double v, double lo, double hi, double *dummy)
{
    (void)dummy;
    if (v != floor(v) || v < lo || v > hi) {
        char buf[64];
        os_fmt_double(buf, sizeof buf, v);
        fprintf(stderr, "orbitsweep: %s: '%s' is out of range (an integer in %.0f..%.0f)\n", name,
                buf, lo, hi);
        return 2;
    }
    return 0;
}

static int parse_args(cli *c, int argc, char **argv)
{
    int given[N_FLAGS] = {0};
    os_spec_init(&c->spec);
    c->seeds_d = 1;
    c->n_d = 512;
    for (int i = 0; i < argc; ++i) {
        const char *arg = argv[i], *val = NULL;
        const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const flag_def *f = NULL;
        for (size_t k = 0; k < N_FLAGS; ++k)
            if (strlen(flags[k].name) == len && strncmp(arg, flags[k].name, len) == 0) f = &flags[k];
        if (!f) return bad("unknown flag '%s'%s (see orbitsweep --help)", arg, "");
        if (f->kind == F_BOOL && eq) return bad("%s: takes no value, got '%s'", f->name, eq + 1);
        if (f->kind != F_BOOL) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return bad("%s: missing value%s", f->name, "");
        }
        int rc = apply_flag(c, f, val, !given[f - flags]++);
        if (rc) return rc;
    }
    int rc = check_int("--seeds", c->seeds_d, 1, 1e6, NULL);
    if (!rc) rc = check_int("--n", c->n_d, 2, 1e7, NULL);
    if (!rc) rc = check_int("--threads", c->threads_d, 0, 4096, NULL);
    if (!rc && !(c->tile_d == 0 || c->tile_d == 1 || c->tile_d == 2 || c->tile_d == 4 || c->tile_d == 8)) {
        char buf[64];
        os_fmt_double(buf, sizeof buf, c->tile_d);
        rc = bad("--tile: '%s' is out of range (0 (auto), 1, 2, 4 or 8)%s", buf, "");
    }
    if (rc) return rc;
    c->spec.tile = (int)c->tile_d;
    c->spec.seeds = (uint32_t)c->seeds_d;
    c->spec.n = (int)c->n_d;
    c->spec.threads = (int)c->threads_d;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* output files: a temporary file renamed when complete, removed on ^C       */

static os_atomic_file *g_pending;

static void on_signal(int sig)
{
    if (g_pending && g_pending->tmp) unlink(g_pending->tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int open_output(os_atomic_file *af, const char *path, FILE **f)
{
    if (!path || strcmp(path, "-") == 0) {
        *f = stdout;
        return 0;
    }
    os_error err;
    if (os_atomic_open(af, path, &err)) return fprintf(stderr, "orbitsweep: %s\n", err.msg), 2;
    g_pending = af;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    *f = af->f;
    return 0;
}

static int close_output(os_atomic_file *af, FILE *f, int ok)
{
    os_error err;
    if (f == stdout) {
        if (fflush(stdout) != 0) return fprintf(stderr, "orbitsweep: write failed\n"), 1;
        return ok ? 0 : 1;
    }
    g_pending = NULL;
    if (!ok) {
        os_atomic_abort(af);
        return 1;
    }
    if (os_atomic_commit(af, &err)) return fprintf(stderr, "orbitsweep: %s\n", err.msg), 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* progress and summary                                                      */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct progress {
    double t0, last, evals_per_trial;
    int tty;
} progress;

static void show_progress(void *ctx, size_t done, size_t total)
{
    progress *p = ctx;
    double t = now_s();
    if (!p->tty || (t - p->last < 0.1 && done < total)) return;
    p->last = t;
    double frac = total ? (double)done / (double)total : 1, el = t - p->t0;
    double rate = el > 0 ? (double)done * p->evals_per_trial / el : 0;
    double eta = done ? el * (double)(total - done) / (double)done : 0;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; ++i) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r[%s] %3.0f%% %zu/%zu trainings  %.2e eval/s  ETA %.0fs ", bar, 100 * frac,
            done, total, rate, eta);
    if (done >= total) fputc('\n', stderr);
    fflush(stderr);
}

static void print_summary(const os_sweep *sw, const os_result *res, double secs, const char *out,
                          const char *where)
{
    const os_spec *s = sw->spec;
    double ev = os_sweep_evaluations(sw);
    printf("orbitsweep: %zu trainings on %s, %s\n", sw->n_trials, where,
           s->dtype == OS_DTYPE_F32 ? "float32" : "float64");
    printf("time %.3f s, %.3g sample evaluations, %.3g evaluations/s\n", secs, ev,
           secs > 0 ? ev / secs : 0.0);
    size_t conv = 0, div = 0;
    for (size_t i = 0; i < sw->n_trials; ++i) {
        conv += !res[i].diverged && res[i].param_error <= s->target;
        div += res[i].diverged != 0;
    }
    printf("converged (param_error <= %g at the end): %zu of %zu; diverged: %zu\n", s->target, conv,
           sw->n_trials, div);
    printf("best training per optimizer (lowest final param_error):\n");
    for (size_t o = 0; o < s->n_optimizers; ++o) {
        long best = -1;
        for (size_t i = 0; i < sw->n_trials; ++i)
            if (sw->trials[i].opt.kind == s->optimizers[o] && !res[i].diverged &&
                res[i].param_error == res[i].param_error &&
                (best < 0 || res[i].param_error < res[best].param_error))
                best = (long)i;
        if (best < 0) {
            printf("  %-9s all diverged\n", os_optimizer_name(s->optimizers[o]));
            continue;
        }
        const os_trial *t = &sw->trials[best];
        char steps[32] = "-";
        if (res[best].steps_to_target >= 0)
            snprintf(steps, sizeof steps, "%lld", (long long)res[best].steps_to_target);
        printf("  %-9s trial %ld  lr %.4g  %s  seed %llu  param_error %.3g  steps_to_target %s\n",
               os_optimizer_name(t->opt.kind), best, t->lr, s->scheds[t->sched].name,
               (unsigned long long)t->seed, res[best].param_error, steps);
    }
    printf("results: %s\n", out);
}

/* ------------------------------------------------------------------------ */
/* commands                                                                  */

static int plan(cli *c, os_sweep *sw)
{
    os_error err;
    os_status st = os_sweep_plan(&c->spec, sw, &err);
    if (st) fprintf(stderr, "orbitsweep: %s\n", err.msg);
    return (int)st;
}

/* "the CPU (N threads)" */
static void describe_cpu(const os_spec *s, char *buf, size_t size)
{
    int threads = 1;
#ifdef _OPENMP
    threads = s->threads > 0 ? s->threads : omp_get_max_threads();
#endif
    snprintf(buf, size, "the CPU (%d thread%s)", threads, threads == 1 ? "" : "s");
}

/* Picks the backend of a run: resolves auto to cuda or cpu, and fills
 * `where` (for the summary) and `note` (the auto notice for stderr, printed
 * once the output is open). Returns 0 or an exit code, having printed why:
 * --backend cuda without a usable GPU is 1, a --devices number that is not
 * a GPU of this machine is 2. */
static int backend_resolve(os_spec *s, char *where, size_t wsize, char *note, size_t nsize)
{
    note[0] = 0;
    if (s->backend == OS_BACKEND_CPU) return describe_cpu(s, where, wsize), 0;
    os_device_info dev[OS_MAX_DEVICES];
    int bad = 0;
    os_error why;
    const int n = os_cuda_select(s, dev, &bad, &why);
    const char *pre = os_cuda_built() ? "no usable GPU: " : ""; /* else: "this build has no CUDA" */
    if (n == 0 && (bad || s->backend == OS_BACKEND_CUDA)) {
        if (bad)
            fprintf(stderr, "orbitsweep: %s\n", why.msg);
        else
            fprintf(stderr, "orbitsweep: --backend cuda: %s%s; use --backend cpu or auto\n", pre, why.msg);
        return bad ? 2 : 1;
    }
    if (n == 0) {
        describe_cpu(s, where, wsize);
        snprintf(note, nsize, "orbitsweep: backend auto: running on the CPU (%s%s)\n", pre, why.msg);
        s->backend = OS_BACKEND_CPU;
        return 0;
    }
    if (n == 1)
        snprintf(where, wsize, "GPU %d (%s)", dev[0].index, dev[0].name);
    else
        snprintf(where, wsize, "%d GPUs (%s, ...)", n, dev[0].name);
    if (s->backend == OS_BACKEND_AUTO) snprintf(note, nsize, "orbitsweep: backend auto: running on %s\n", where);
    s->backend = OS_BACKEND_CUDA;
    return 0;
}

static int cmd_run(cli *c)
{
    os_sweep sw;
    int rc = plan(c, &sw);
    if (rc) return rc;
    const char *out = c->out ? c->out : "results.csv";
    os_atomic_file af;
    FILE *f;
    char where[400], note[700];
    if ((rc = backend_resolve(&c->spec, where, sizeof where, note, sizeof note)) ||
        (rc = open_output(&af, out, &f)))
        return os_sweep_free(&sw), rc;
    if (note[0] && !c->quiet) fputs(note, stderr);
    os_result *res = calloc(sw.n_trials, sizeof *res);
    if (!res) {
        fprintf(stderr, "orbitsweep: out of memory for %zu results\n", sw.n_trials);
        close_output(&af, f, 0);
        return os_sweep_free(&sw), 1;
    }
    progress p = {now_s(), 0, sw.n_trials ? os_sweep_evaluations(&sw) / (double)sw.n_trials : 0,
                  !c->quiet && isatty(2)};
    os_error err;
    os_status st = os_sweep_run(&sw, res, show_progress, &p, &err);
    double secs = now_s() - p.t0;
    if (st) {
        fprintf(stderr, "orbitsweep: %s\n", err.msg);
        close_output(&af, f, 0);
    } else {
        int ok = os_write_results(f, &sw, res) == 0;
        if (!ok) fprintf(stderr, "orbitsweep: -o '%s': write failed\n", out);
        rc = close_output(&af, f, ok);
        if (!rc && !c->quiet) print_summary(&sw, res, secs, f == stdout ? "stdout" : out, where);
    }
    free(res);
    os_sweep_free(&sw);
    return st ? (int)st : rc;
}

static int cmd_trace(cli *c)
{
    os_sweep sw;
    int rc = plan(c, &sw);
    if (rc) return rc;
    if (sw.n_trials != 1) {
        fprintf(stderr, "orbitsweep: trace: the options give %zu trainings; give one value per "
                        "axis and --seeds 1\n", sw.n_trials);
        return os_sweep_free(&sw), 2;
    }
    os_atomic_file af;
    FILE *f;
    if ((rc = open_output(&af, c->out, &f))) return os_sweep_free(&sw), rc;
    os_error err;
    os_status st = os_cpu_trace(&sw, f, &err);
    if (st) fprintf(stderr, "orbitsweep: %s\n", err.msg);
    rc = close_output(&af, f, st == OS_OK);
    os_sweep_free(&sw);
    return st ? (int)st : rc;
}

static int cmd_data(cli *c)
{
    os_error err;
    if (os_spec_validate(&c->spec, &err)) return fprintf(stderr, "orbitsweep: %s\n", err.msg), 2;
    os_dataset d;
    os_status st;
    if (c->spec.data_file) {
        double off = c->spec.offset_set ? c->spec.offset
                                        : sqrt(c->spec.a * c->spec.a - c->spec.b * c->spec.b);
        st = os_dataset_load(c->spec.data_file, off, &d, &err);
    } else {
        st = os_dataset_generate(&c->spec, 0, &d, &err);
    }
    if (st) return fprintf(stderr, "orbitsweep: %s\n", err.msg), (int)st;
    os_atomic_file af;
    FILE *f;
    int rc = open_output(&af, c->out, &f);
    if (rc) return os_dataset_free(&d), rc;
    fputs("x,y\n", f);
    char bx[40], by[40];
    for (int i = 0; i < d.n; ++i) {
        os_fmt_double(bx, sizeof bx, d.x[i]);
        os_fmt_double(by, sizeof by, d.y[i]);
        fprintf(f, "%s,%s\n", bx, by);
    }
    rc = close_output(&af, f, !ferror(f));
    if (!rc && !c->quiet && f != stdout)
        fprintf(stderr, "orbitsweep: %d points; loss minimum %.6g at Wa %.6g, Wb %.6g\n", d.n,
                d.min_loss, d.min_wa, d.min_wb);
    os_dataset_free(&d);
    return rc;
}

/* summarize RESULTS.csv [-o FILE] [--target X] [--quiet]; see summarize.h. The
 * table is read and checked whole before the output is opened. */
static int cmd_summarize(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    double target = 0.01;
    int quiet = 0;
    for (int i = 0; i < argc; ++i) {
        const char *a = argv[i];
        const char *val = strncmp(a, "--target=", 9) == 0 ? a + 9 : NULL;
        if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--target") == 0 || val) {
            if (!val && i + 1 == argc) return bad("%s: missing value%s", a, "");
            if (!val) val = argv[++i];
            if (a[1] == 'o' && !*val) return bad("-o: '%s' is empty", val, "");
            if (a[1] == 'o') out = val;
            else if (!parse_double_full(val, &target) || !(target > 0))
                return bad("--target: '%s' is out of range (a number > 0)", val, "");
        } else if (a[0] == '-' && a[1]) {
            return bad("summarize: unknown flag '%s'%s (see orbitsweep --help)", a, "");
        } else if (in) {
            return bad("summarize: a second input '%s' after '%s' (one results table)", a, in);
        } else {
            in = a;
        }
    }
    if (!in) return bad("summarize: no results table given%s%s (orbitsweep summarize FILE)", "", "");
    os_summary s;
    os_error err;
    os_status st = os_summary_load(in, target, &s, &err);
    if (st) return fprintf(stderr, "orbitsweep: %s\n", err.msg), (int)st;
    os_atomic_file af;
    FILE *f;
    int rc = open_output(&af, out, &f);
    if (!rc) {
        int ok = os_summary_write(f, &s) == 0;
        if (!ok) fprintf(stderr, "orbitsweep: summarize: write failed\n");
        rc = close_output(&af, f, ok);
        if (!rc && !quiet && f != stdout)
            printf("%zu configurations from %zu trainings -> %s\n", s.n_groups, s.n_trainings, out);
    }
    os_summary_free(&s);
    return rc;
}

/* devices: the CPU, then each GPU the CUDA runtime lists (or why none). */
static int cmd_devices(int argc, char **argv)
{
    if (argc > 0) return bad("devices: unexpected argument '%s'%s", argv[0], "");
    char model[256] = "";
    FILE *ci = fopen("/proc/cpuinfo", "r");
    if (ci) {
        char line[512];
        while (!model[0] && fgets(line, sizeof line, ci)) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon) {
                colon += 1 + (colon[1] == ' ');
                colon[strcspn(colon, "\n")] = 0;
                snprintf(model, sizeof model, "%s", colon);
            }
        }
        fclose(ci);
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    printf("cpu     %s, %d threads\n", model[0] ? model : "(unknown model)", threads);
    os_device_info dev[OS_MAX_DEVICES];
    os_error why;
    const int n = os_cuda_devices(dev, OS_MAX_DEVICES, &why);
    if (n == 0) printf("gpu     none (%s)\n", why.msg);
    for (int i = 0; i < n && i < OS_MAX_DEVICES; ++i) {
        printf("gpu %-3d %s, %.1f GiB, compute capability %d.%d, %d SMs", dev[i].index, dev[i].name,
               (double)dev[i].mem_bytes / 1073741824.0, dev[i].cc_major, dev[i].cc_minor, dev[i].sms);
        if (dev[i].usable)
            printf("\n");
        else
            printf(" (not usable: %s)\n", dev[i].why);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("orbitsweep %s\n", OS_VERSION);
        return 0;
    }
    int (*cmd)(cli *) = NULL;
    if (strcmp(argv[1], "run") == 0) cmd = cmd_run;
    if (strcmp(argv[1], "trace") == 0) cmd = cmd_trace;
    if (strcmp(argv[1], "data") == 0) cmd = cmd_data;
    int summarize = strcmp(argv[1], "summarize") == 0;
    int devices = strcmp(argv[1], "devices") == 0, bench = strcmp(argv[1], "bench") == 0;
    if (!cmd && !summarize && !devices && !bench)
        return bad("unknown command '%s'%s (run, trace, data, summarize, devices, bench; see --help)",
                   argv[1], "");
    for (int i = 2; i < argc; ++i)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return fputs(usage, stdout), 0;
    if (summarize) return cmd_summarize(argc - 2, argv + 2);
    if (devices) return cmd_devices(argc - 2, argv + 2);
    if (bench) return os_cli_bench(argc - 2, argv + 2);
    cli c;
    memset(&c, 0, sizeof c);
    int rc = parse_args(&c, argc - 2, argv + 2);
    if (!rc) rc = cmd(&c);
    os_spec_free(&c.spec);
    free(c.out);
    return rc;
}
