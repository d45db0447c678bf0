/* main.c — the orbitsweep command line: run, trace, data, summarize, devices, bench.
 *
 * Parses flags (flags.c, driven by the axis table and the settings table
 * below) into an os_spec (docs/design.md §3), plans the sweep, runs it and
 * writes the table. Only the CLI prints to the user and picks exit codes:
 * 0 ok, 1 runtime failure, 2 bad input (one line on stderr naming the flag
 * and the value; no output file is left behind).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "flags.h"
#include "orbitsweep/orbitsweep.h"
#include "summarize.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* flags of run, trace and data                                              */

typedef struct cli {
    os_spec spec;
    char *out;
    int quiet;
} cli;

#define N_RUN_FLAGS_MAX (OS_AX_COUNT + 64)

/* The flags of run, trace and data: every axis and setting of the spec
 * (their tables), then -o and --quiet. */
static size_t run_flags(os_flag *f)
{
    size_t n = os_flags_for_spec(f, offsetof(cli, spec));
    f[n++] = (os_flag){"-o", OS_F_VALUE, offsetof(cli, out), OS_V_STRING, NULL, "execution", "FILE",
                       "output file (run: results.csv; trace, data: stdout; - is stdout)", NULL};
    f[n++] = (os_flag){"--quiet", OS_F_BOOL, offsetof(cli, quiet), 0, NULL, "execution", NULL,
                       "no summary or progress", NULL};
    return n;
}

typedef struct summarize_opts {
    char *out;
    double target;
    int quiet;
} summarize_opts;

static const os_flag summarize_flags[] = {
    {"-o", OS_F_VALUE, offsetof(summarize_opts, out), OS_V_STRING, NULL, NULL, "FILE", "output file", "stdout"},
    {"--target", OS_F_VALUE, offsetof(summarize_opts, target), OS_V_DOUBLE, NULL, NULL, "X",
     "param_error that counts as success", "0.01"},
    {"--quiet", OS_F_BOOL, offsetof(summarize_opts, quiet), 0, NULL, NULL, NULL, "no summary line", NULL},
};
#define N_SUMMARIZE_FLAGS (sizeof summarize_flags / sizeof summarize_flags[0])

static void usage(FILE *f)
{
    fputs("orbitsweep " OS_VERSION " - train thousands of orbit-regression models at once\n"
          "\n"
          "usage: orbitsweep run   [options]   run a sweep; results table to -o (results.csv)\n"
          "       orbitsweep trace [options]   one training, one row per update (-o or stdout)\n"
          "       orbitsweep data  [options]   the dataset as CSV with header x,y (-o or stdout)\n"
          "       orbitsweep summarize RESULTS.csv [-o FILE] [--target X] [--quiet]\n"
          "                                    one row per configuration, seeds pooled (-o or stdout)\n"
          "       orbitsweep devices           the CPU and each GPU (name, memory, compute capability)\n"
          "       orbitsweep bench [options]   trainings/s and sample evaluations/s at several sizes\n"
          "       orbitsweep --help | --version\n"
          "\n"
          "A LIST is comma-separated values and ranges: 0.1,0.01  logspace(-4,0,64)\n"
          "linspace(a,b,n)  geomspace(a,b,n); a flag may be repeated to extend it.\n"
          "\n"
          "run, trace and data options\n", f);
    os_flag flags[N_RUN_FLAGS_MAX];
    os_flags_help(f, flags, run_flags(flags));
    fputs("\noptimizers (--optimizer)\n", f);
    for (int o = 0; o < OS_OPT_COUNT; ++o) fprintf(f, "  %-20s %s\n", os_optimizers[o].name, os_optimizers[o].what);
    fputs("\nschedulers (--scheduler NAME[:key=value,...], list values joined by /; PyTorch's keyword names\n"
          "and defaults; cyclic and onecycle take max_lr from --lr; plateau steps once per epoch on the\n"
          "epoch's mean training loss, whatever --sched-step says)\n", f);
    for (int k = 0; k < OS_SCHED_COUNT; ++k) {
        char keys[640];
        os_sched_keys(k, keys, sizeof keys);
        fprintf(f, "  %-20s %s\n", os_sched_name(k), keys[0] ? keys : "(no scheduler: the lr stays --lr)");
    }
    fputs("\nsummarize options\n", f);
    os_flags_help(f, summarize_flags, N_SUMMARIZE_FLAGS);
    fputs("\nbench options\n", f);
    os_bench_help(f);
}

static int fail(const os_error *err, os_status st)
{
    fprintf(stderr, "orbitsweep: %s\n", err->msg);
    return (int)st;
}

static int parse_args(cli *c, int argc, char **argv)
{
    os_error err;
    os_status st = os_spec_init(&c->spec);
    int n_pos = 0;
    os_flag flags[N_RUN_FLAGS_MAX];
    const size_t n_flags = run_flags(flags);
    if (!st) st = os_flags_parse(flags, n_flags, c, argc, argv, NULL, 0, &n_pos, &err);
    else os_set_error(&err, "out of memory");
    return st ? fail(&err, st) : 0;
}

/* ------------------------------------------------------------------------ */
/* output files, and what a terminating signal leaves                        */

/* What a signal handler needs, prepared beforehand (it may only unlink and
 * write): the temporary to remove and the line to print. */
static struct {
    char tmp[4096];
    char what[4200]; /* "results.csv was left as it was" */
} g_out;

static void on_signal(int sig)
{
    if (g_out.tmp[0]) unlink(g_out.tmp);
    const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
    char line[4400];
    size_t n = 0;
    const char *parts[] = {"orbitsweep: interrupted by ", name, "; ", g_out.what[0] ? g_out.what : "nothing was written",
                           "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; ++i) {
        const size_t l = strlen(parts[i]);
        if (n + l < sizeof line) memcpy(line + n, parts[i], l), n += l;
    }
    if (write(2, line, n) < 0) { /* nothing more to be done */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Every terminating signal cleans up and says so (main, before any work). */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; ++i) sigaction(sigs[i], &sa, NULL);
}

/* -o checked before any work (exit 2): not a directory, writable, not an input. */
static int check_output(const char *path, const char *input)
{
    if (!path || strcmp(path, "-") == 0) return 0;
    os_error err;
    const char *inputs[] = {input};
    const os_status st = os_output_check(path, inputs, 1, &err);
    return st ? fail(&err, st) : 0;
}

static int open_output(os_atomic_file *af, const char *path, FILE **f)
{
    if (!path || strcmp(path, "-") == 0) {
        *f = stdout;
        snprintf(g_out.what, sizeof g_out.what, "the output on stdout is incomplete");
        return 0;
    }
    os_error err;
    /* no signal between creating the temporary and telling the handler */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT), sigaddset(&block, SIGTERM), sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    const os_status st = os_atomic_open(af, path, &err);
    if (!st) {
        snprintf(g_out.tmp, sizeof g_out.tmp, "%s", af->tmp ? af->tmp : "");
        if (af->tmp)
            snprintf(g_out.what, sizeof g_out.what, "'%s' was left as it was", path);
        else
            snprintf(g_out.what, sizeof g_out.what, "'%s' got an incomplete output", path);
        *f = af->f;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return st ? fail(&err, st) : 0;
}

/* ok: the output is complete. Returns 0 or the exit code, having said why. */
static int close_output(os_atomic_file *af, FILE *f, int ok)
{
    os_error err;
    g_out.what[0] = 0; /* the temporary stays known until it is renamed or removed */
    if (f == stdout) {
        if (fflush(stdout) != 0 || ferror(stdout))
            return fprintf(stderr, "orbitsweep: -o -: write failed: %s\n", strerror(errno)), 1;
        return ok ? 0 : 1;
    }
    if (!ok) {
        os_atomic_abort(af);
        g_out.tmp[0] = 0;
        return 1;
    }
    const os_status st = os_atomic_commit(af, &err);
    g_out.tmp[0] = 0;
    return st ? fail(&err, OS_ERUNTIME) : 0;
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
    int on;    /* 0: --quiet */
    int tty;   /* a bar redrawn in place; else a line every PROGRESS_LINE_S (logs, batch jobs) */
    int lines; /* lines printed (not a tty) */
    int ended; /* the last frame is out */
} progress;

#define PROGRESS_LINE_S 5.0

static void show_progress(void *ctx, size_t done, size_t total)
{
    progress *p = ctx;
    const double t = now_s();
    if (!p->on || p->ended || (t - p->last < (p->tty ? 0.1 : PROGRESS_LINE_S) && done < total)) return;
    p->ended = done >= total;
    if (!p->tty && done >= total && !p->lines) return; /* a short run: the summary says it all */
    p->last = t;
    const double frac = total ? (double)done / (double)total : 1, el = t - p->t0;
    const double rate = el > 0 ? (double)done * p->evals_per_trial / el : 0;
    char eta[32] = "-"; /* nothing done yet: no estimate */
    if (done && done < total) snprintf(eta, sizeof eta, "%.0fs", el * (double)(total - done) / (double)done);
    if (done >= total) snprintf(eta, sizeof eta, "done in %.1fs", el);
    if (p->tty) {
        char bar[31];
        const int fill = (int)(frac * 30);
        for (int i = 0; i < 30; ++i) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r[%s] %3.0f%% %zu/%zu trainings  %.2e eval/s  ETA %s ", bar, 100 * frac, done, total,
                rate, eta);
        if (done >= total) fputc('\n', stderr);
    } else {
        fprintf(stderr, "orbitsweep: %zu/%zu trainings (%.0f%%), %.2e evaluations/s, ETA %s\n", done, total,
                100 * frac, rate, eta);
        p->lines += 1;
    }
    fflush(stderr);
}

/* What the human summary of a run needs, gathered block by block. */
typedef struct tally {
    size_t conv, div;
    struct {
        long trial; /* the best of the optimizer so far (-1: none yet) */
        os_trial t;
        os_result r;
    } best[OS_OPT_COUNT];
} tally;

static void tally_init(tally *y)
{
    memset(y, 0, sizeof *y);
    for (int k = 0; k < OS_OPT_COUNT; ++k) y->best[k].trial = -1;
}

static void tally_block(tally *y, const os_sweep *blk, const os_result *res)
{
    for (size_t i = 0; i < blk->n_trials; ++i) {
        const os_result *r = &res[i];
        y->conv += !r->diverged && r->param_error <= blk->spec->target;
        y->div += r->diverged != 0;
        const int kind = blk->trials[i].opt.kind;
        if (r->diverged || r->param_error != r->param_error) continue;
        if (y->best[kind].trial < 0 || r->param_error < y->best[kind].r.param_error) {
            y->best[kind].trial = (long)(blk->first + i);
            y->best[kind].t = blk->trials[i];
            y->best[kind].r = *r;
        }
    }
}

/* The human summary of a run, on out (stderr when the table is on stdout). */
static void print_summary(FILE *out, const os_sweep *sw, const tally *y, double secs, double wall_s,
                          double write_s, const char *path, const char *where)
{
    const os_spec *s = sw->spec;
    double ev = os_sweep_evaluations(sw);
    fprintf(out, "orbitsweep: %zu trainings on %s, %s\n", sw->n_trials, where,
           s->dtype == OS_DTYPE_F32 ? "float32" : "float64");
    fprintf(out, "time %.3f s, %.3g sample evaluations, %.3g evaluations/s (%.3f s end to end, %.3f s of it "
                 "writing the table)\n", secs, ev, secs > 0 ? ev / secs : 0.0, wall_s, write_s);
    fprintf(out, "converged (param_error <= %g at the end): %zu of %zu; diverged: %zu\n", s->target, y->conv,
           sw->n_trials, y->div);
    fprintf(out, "best training per optimizer (lowest final param_error):\n");
    for (size_t o = 0; o < s->axis[OS_AX_OPTIMIZER].n; ++o) {
        const int kind = (int)s->axis[OS_AX_OPTIMIZER].v[o];
        if (y->best[kind].trial < 0) {
            fprintf(out, "  %-9s all diverged\n", os_optimizer_name(kind));
            continue;
        }
        const os_trial *t = &y->best[kind].t;
        const os_result *r = &y->best[kind].r;
        char steps[32] = "-";
        if (r->steps_to_target >= 0) snprintf(steps, sizeof steps, "%lld", (long long)r->steps_to_target);
        fprintf(out, "  %-9s trial %ld  lr %.4g  %s  seed %llu  param_error %.3g  steps_to_target %s\n",
               os_optimizer_name(t->opt.kind), y->best[kind].trial, t->lr, s->scheds[t->sched].name,
               (unsigned long long)t->seed, r->param_error, steps);
    }
    fprintf(out, "results: %s\n", path);
}

/* ------------------------------------------------------------------------ */
/* commands                                                                  */

static int plan(cli *c, os_sweep *sw)
{
    os_error err;
    os_status st = os_sweep_plan(&c->spec, sw, &err);
    if (st) return fail(&err, st);
    for (int i = 0; i < sw->n_warnings; ++i) fprintf(stderr, "orbitsweep: warning: %s\n", sw->warnings[i]);
    return 0;
}

/* A run's table, written as its blocks finish: CSV on f, or an .npz
 * archive on f's file. */
typedef struct run_out {
    FILE *f;
    os_results_npz *npz;
    tally y;
    double write_s; /* formatting and writing the table */
} run_out;

static os_status write_block(void *ctx, const os_sweep *blk, const os_result *res, os_error *err)
{
    run_out *ro = ctx;
    const double t0 = now_s();
    tally_block(&ro->y, blk, res);
    const int bad = ro->npz ? os_results_npz_rows(ro->npz, blk, res) : os_write_rows(ro->f, blk, res);
    ro->write_s += now_s() - t0;
    if (!bad) return OS_OK;
    if (ferror(ro->f) || ro->npz) os_set_error(err, "cannot write the results table: %s", strerror(errno));
    else os_set_error(err, "out of memory while formatting the results table");
    return OS_ERUNTIME;
}

static void npz_needs_file(const char *out)
{
    fprintf(stderr, "orbitsweep: -o: '%s': an .npz archive is written in place and needs a regular file\n", out);
}

static int cmd_run(cli *c)
{
    const char *out = c->out ? c->out : "results.csv";
    os_error err;
    int rc = check_output(out, c->spec.data_file);
    if (rc) return rc;
    os_status st = os_spec_validate(&c->spec, &err);
    if (st) return fail(&err, st);
    os_backend_choice bc;
    if ((st = os_backend_choose(&c->spec, &bc, &err))) return fail(&err, st);
    c->spec.backend = bc.backend; /* resolved once: the run does not probe again */
    os_sweep sw;
    if ((st = os_sweep_prepare(&c->spec, &sw, &err))) return fail(&err, st);
    for (int i = 0; i < sw.n_warnings; ++i) fprintf(stderr, "orbitsweep: warning: %s\n", sw.warnings[i]);
    os_atomic_file af;
    run_out ro = {NULL, NULL, {0}, 0};
    const size_t len = strlen(out);
    const int npz = len > 4 && strcmp(out + len - 4, ".npz") == 0; /* columns, not text */
    struct stat stt; /* an archive is written in place: before anything is opened, and what was opened */
    if (npz && stat(out, &stt) == 0 && !S_ISREG(stt.st_mode)) return npz_needs_file(out), os_sweep_free(&sw), 2;
    if ((rc = open_output(&af, out, &ro.f))) return os_sweep_free(&sw), rc;
    if (npz) {
        if (fstat(fileno(ro.f), &stt) != 0 || !S_ISREG(stt.st_mode)) {
            npz_needs_file(out);
            close_output(&af, ro.f, 0);
            return os_sweep_free(&sw), 2;
        }
        if (!(ro.npz = os_results_npz_open(fileno(ro.f), &sw))) {
            fprintf(stderr, "orbitsweep: -o: '%s': %s\n", out, errno ? strerror(errno) : "out of memory");
            close_output(&af, ro.f, 0);
            return os_sweep_free(&sw), 1;
        }
    }
    if (bc.note[0] && !c->quiet) fprintf(stderr, "orbitsweep: %s\n", bc.note);
    tally_init(&ro.y);
    const double t0 = now_s();
    progress p = {t0, t0, sw.n_trials ? os_sweep_evaluations(&sw) / (double)sw.n_trials : 0, !c->quiet, isatty(2),
                  0, 0};
    st = !ro.npz && os_write_header(ro.f) ? OS_ERUNTIME : OS_OK;
    if (st) os_set_error(&err, "cannot write the results table: %s", strerror(errno));
    double train_s = 0;
    if (!st) st = os_sweep_stream(&sw, 0, write_block, &ro, show_progress, &p, &train_s, &err);
    if (ro.npz) { /* the archive's headers and directory, now that every column is complete */
        if (!st && os_results_npz_finish(ro.npz) != 0) {
            os_set_error(&err, "cannot write the results table: %s", strerror(errno));
            st = OS_ERUNTIME;
        } else if (st) {
            os_results_npz_abort(ro.npz);
        }
    }
    const double secs = now_s() - p.t0;
    const int write_failed = ferror(ro.f) != 0, to_stdout = ro.f == stdout;
    if (st && !write_failed) fprintf(stderr, "orbitsweep: %s\n", err.msg);
    rc = close_output(&af, ro.f, !st || write_failed); /* a failed write: the commit says why */
    if (!rc && !st && !c->quiet)
        print_summary(to_stdout ? stderr : stdout, &sw, &ro.y, train_s, secs, ro.write_s, to_stdout ? "stdout" : out,
                      bc.where);
    os_sweep_free(&sw);
    return st && !write_failed ? (int)st : rc;
}

static int cmd_trace(cli *c)
{
    os_sweep sw;
    int rc = check_output(c->out, c->spec.data_file);
    if (rc || (rc = plan(c, &sw))) return rc;
    if (sw.n_trials != 1) {
        fprintf(stderr, "orbitsweep: trace: the options give %zu trainings; give one value per "
                        "axis and --seeds 1\n", sw.n_trials);
        return os_sweep_free(&sw), 2;
    }
    os_atomic_file af;
    FILE *f;
    if ((rc = open_output(&af, c->out, &f))) return os_sweep_free(&sw), rc;
    os_error err;
    os_status st = os_sweep_trace(&sw, f, &err);
    if (st) fprintf(stderr, "orbitsweep: %s\n", err.msg);
    rc = close_output(&af, f, st == OS_OK); /* a failed write: the commit says why */
    os_sweep_free(&sw);
    return rc ? rc : (int)st;
}

static int cmd_data(cli *c)
{
    os_error err;
    int rc = check_output(c->out, c->spec.data_file);
    if (rc) return rc;
    if (os_spec_validate(&c->spec, &err)) return fprintf(stderr, "orbitsweep: %s\n", err.msg), 2;
    os_dataset d;
    os_status st = os_dataset_make(&c->spec, 0, &d, &err);
    if (st) return fprintf(stderr, "orbitsweep: %s\n", err.msg), (int)st;
    os_atomic_file af;
    FILE *f;
    rc = open_output(&af, c->out, &f);
    if (rc) return os_dataset_free(&d), rc;
    fputs("x,y\n", f);
    char bx[40], by[40];
    for (int i = 0; i < d.n; ++i) {
        os_fmt_double(bx, sizeof bx, d.x[i]);
        os_fmt_double(by, sizeof by, d.y[i]);
        fprintf(f, "%s,%s\n", bx, by);
    }
    rc = close_output(&af, f, 1);
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
    summarize_opts o = {NULL, 0.01, 0};
    const char *in = NULL;
    int n_pos = 0, rc = 0;
    os_error err;
    os_status st = os_flags_parse(summarize_flags, N_SUMMARIZE_FLAGS, &o, argc, argv, &in, 1, &n_pos, &err);
    if (!st && !in) os_set_error(&err, "summarize: no results table given (orbitsweep summarize FILE)"), st = OS_EINPUT;
    if (!st && !(o.target > 0)) os_set_error(&err, "--target: '%g' is out of range (a number > 0)", o.target), st = OS_EINPUT;
    if (st) return free(o.out), fail(&err, st);
    const char *out = o.out;
    const int quiet = o.quiet;
    const double target = o.target;
    if (strcmp(in, "-") == 0) in = "/dev/stdin"; /* run -o - | orbitsweep summarize - */
    if ((rc = check_output(out, in))) return free(o.out), rc;
    os_summary_spool s; /* the summary, made in bounded memory before the output is opened */
    st = os_summary_spool_load(in, target, NULL, &s, &err);
    if (st) return free(o.out), fail(&err, st);
    os_atomic_file af;
    FILE *f;
    rc = open_output(&af, out, &f);
    if (!rc) {
        os_summary_spool_write(f, &s); /* a failed write: the commit says why */
        rc = close_output(&af, f, 1);
        if (!rc && !quiet && f != stdout)
            printf("%zu configurations from %zu trainings -> %s\n", s.n_groups, s.n_trainings, out);
    }
    os_summary_spool_free(&s);
    free(o.out);
    return rc;
}

/* devices: the CPU, then each GPU the CUDA runtime lists (or why none). */
static int cmd_devices(int argc, char **argv)
{
    if (argc > 0) return fprintf(stderr, "orbitsweep: devices: unexpected argument '%s'\n", argv[0]), 2;
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
    os_spec all;
    memset(&all, 0, sizeof all); /* threads 0: every core */
    printf("cpu     %s, %d threads\n", model[0] ? model : "(unknown model)", os_spec_threads(&all));
    os_device_info dev[OS_MAX_DEVICES];
    os_error why;
    const int n = os_gpu_devices(dev, OS_MAX_DEVICES, &why);
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
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("orbitsweep %s\n", OS_VERSION);
        return 0;
    }
    static const struct {
        const char *name;
        int (*spec_cmd)(cli *);          /* commands over a sweep spec */
        int (*argv_cmd)(int, char **);   /* commands with flags of their own */
    } commands[] = {
        {"run", cmd_run, NULL},           {"trace", cmd_trace, NULL},
        {"data", cmd_data, NULL},         {"summarize", NULL, cmd_summarize},
        {"devices", NULL, cmd_devices},   {"bench", NULL, os_cli_bench},
    };
    int k = -1;
    for (int i = 0; i < (int)(sizeof commands / sizeof commands[0]); ++i)
        if (strcmp(argv[1], commands[i].name) == 0) k = i;
    if (k < 0) {
        fprintf(stderr, "orbitsweep: unknown command '%s' (run, trace, data, summarize, devices, bench; see --help)\n",
                argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; ++i)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return usage(stdout), 0;
    catch_signals();
    if (commands[k].argv_cmd) return commands[k].argv_cmd(argc - 2, argv + 2);
    cli c;
    memset(&c, 0, sizeof c);
    int rc = parse_args(&c, argc - 2, argv + 2);
    if (!rc) rc = commands[k].spec_cmd(&c);
    os_spec_free(&c.spec);
    free(c.out);
    return rc;
}
