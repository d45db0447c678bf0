/* main.c — the orbitsweep command line: run, trace, data, summarize, devices, bench.
 *
 * Parses flags (flags.c, driven by the axis table and the settings table
 * below) into an os_spec (docs/design.md §3), plans the sweep, runs it and
 * writes the table. Only the CLI prints to the user and picks exit codes:
 * 0 ok, 1 runtime failure, 2 bad input (one line on stderr naming the flag
 * and the value; no output file is left behind).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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
#include "csv.h"
#include "flags.h"
#include "mpi_run.h"
#include "parts.h"
#include "provenance.h"
#include "orbitsweep/orbitsweep.h"
#include "summarize.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* flags of run, trace and data                                              */

typedef struct cli {
    os_spec spec;
    char *out;
    char *config; /* --config FILE (or the positional FILE): a sweep file */
    int quiet;
    int dry_run;
    char *shard; /* run: --shard K/N */
    int resume;  /* run: --resume */
} cli;

#define N_RUN_FLAGS_MAX (OS_AX_COUNT + 64)

/* The flags of run, trace and data: every axis and setting of the spec
 * (their tables), then -o, --config, --dry-run and --quiet. */
static size_t run_flags(os_flag *f)
{
    size_t n = os_flags_for_spec(f, offsetof(cli, spec));
    f[n++] = (os_flag){"-o", OS_F_VALUE, offsetof(cli, out), OS_V_STRING, NULL, "execution", "FILE",
                       "output file (run: results.csv; trace, data: stdout; - is stdout)", NULL};
    f[n++] = (os_flag){"--config", OS_F_VALUE, offsetof(cli, config), OS_V_STRING, NULL, "execution", "FILE",
                       "a YAML sweep file (also: orbitsweep run FILE); flags override its keys", NULL};
    f[n++] = (os_flag){"--dry-run", OS_F_BOOL, offsetof(cli, dry_run), 0, NULL, "execution", NULL,
                       "run: print the trainings per block, the memory and time, the first configurations; train nothing",
                       NULL};
    f[n++] = (os_flag){"--quiet", OS_F_BOOL, offsetof(cli, quiet), 0, NULL, "execution", NULL,
                       "no summary or progress", NULL};
    f[n++] = (os_flag){"--resume", OS_F_BOOL, offsetof(cli, resume), 0, NULL, "execution", NULL,
                       "run: continue the unfinished table of the same spec at -o (FILE.part)", NULL};
    f[n++] = (os_flag){"--shard", OS_F_VALUE, offsetof(cli, shard), OS_V_STRING, NULL, "execution", "K/N",
                       "run: only shard K of N of the trials (balanced by cost; orbitsweep merge joins them)", NULL};
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
     "param_error that counts as success", "the table's own, from its sidecar; else 0.01"},
    {"--quiet", OS_F_BOOL, offsetof(summarize_opts, quiet), 0, NULL, NULL, NULL, "no summary line", NULL},
};
#define N_SUMMARIZE_FLAGS (sizeof summarize_flags / sizeof summarize_flags[0])

static void usage(FILE *f)
{
    fputs("orbitsweep " OS_VERSION " - train thousands of orbit-regression models at once\n"
          "\n"
          "usage: orbitsweep run   [FILE] [options]   run a sweep; results table to -o (results.csv)\n"
          "       orbitsweep trace [FILE] [options]   one training, one row per update (-o or stdout)\n"
          "       orbitsweep data  [FILE] [options]   the dataset as CSV with header x,y (-o or stdout)\n"
          "       orbitsweep summarize RESULTS.csv [-o FILE] [--target X] [--quiet]\n"
          "                                    one row per configuration, seeds pooled (-o or stdout)\n"
          "       orbitsweep merge PART.csv... -o FILE\n"
          "                                    the shards of one sweep (run --shard K/N) as the table one run writes\n"
          "       orbitsweep devices           the CPU and each GPU (name, memory, compute capability)\n"
          "       orbitsweep bench [options]   trainings/s and sample evaluations/s at several sizes\n"
          "       orbitsweep --help | --version\n"
          "\n"
          "A LIST is comma-separated values and ranges: 0.1,0.01  logspace(-4,0,64)\n"
          "linspace(a,b,n)  geomspace(a,b,n)  1-logspace(-1,-4,4) (0.9 .. 0.9999)\n"
          "range([start,]stop[,step]) (integers); a flag may be repeated to extend it.\n"
          "run, trace and data also read a YAML sweep file: orbitsweep run sweep.yaml (or\n"
          "--config FILE); its keys are the results columns and the flags' names\n"
          "(weight_decay, sched_step, output, blocks), flags given on the command line\n"
          "override them. --and separates blocks: the grid is the union of their products\n"
          "(e.g. --optimizer sgd --lr logspace(-4,-1,8) --and --optimizer adam --lr 0.1).\n"
          "--dtype, --shuffle, --sched-step, --n, --noise and --target are axes too, outside\n"
          "the optimizer: the table is each combination of their values' grid in turn\n"
          "(e.g. --dtype float32,float64 --noise 0,0.05: four grids, one table).\n"
          "\n"
          "run, trace and data options\n", f);
    os_flag flags[N_RUN_FLAGS_MAX];
    os_flags_help(f, flags, run_flags(flags));
    fputs("\noptimizers (--optimizer) [their defaults where the flag is not given]\n", f);
    for (int o = 0; o < OS_OPT_COUNT; ++o) fprintf(f, "  %-20s %s  [%s]\n", os_optimizers[o].name, os_optimizers[o].what, os_optimizers[o].defaults);
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

/* The sweep file the flags name (a positional FILE or --config FILE), as
 * a copy, into *path (NULL: none). */
static os_status find_sweep_file(const os_flag *flags, size_t n_flags, int argc, char **argv, char **path,
                                 os_error *err)
{
    cli scratch;
    memset(&scratch, 0, sizeof scratch);
    const char *pos = NULL;
    int n_pos = 0;
    *path = NULL;
    os_status st = os_spec_init(&scratch.spec);
    if (st) return os_set_error(err, "out of memory"), st;
    st = os_flags_parse(flags, n_flags, &scratch, argc, argv, &pos, 1, &n_pos, err);
    if (!st && n_pos && scratch.config) {
        os_set_error(err, "--config: '%s' and the sweep file '%s': give one sweep file", scratch.config, pos);
        st = OS_EINPUT;
    }
    if (!st && (n_pos || scratch.config) && !(*path = strdup(n_pos ? pos : scratch.config)))
        st = OS_ERUNTIME, os_set_error(err, "out of memory");
    os_spec_free(&scratch.spec);
    free(scratch.out);
    free(scratch.config);
    free(scratch.shard);
    return st;
}

/* The spec from the sweep file (if any), then the flags over it. Flags
 * separated by --and are blocks of the grid, each over the file's top
 * level (replacing the file's blocks); without --and, a flag's axis
 * replaces that axis in every block of the file. Settings apply to the
 * whole sweep wherever they are given. */
static int parse_args(cli *c, int argc, char **argv)
{
    os_error err;
    os_flag flags[N_RUN_FLAGS_MAX];
    const size_t n_flags = run_flags(flags);
    os_status st = os_spec_init(&c->spec);
    if (st) return os_set_error(&err, "out of memory"), fail(&err, st);
    int end0 = 0, n_seg = 1, n_pos = 0;
    while (end0 < argc && strcmp(argv[end0], "--and") != 0) ++end0;
    for (int i = end0; i < argc; ++i) n_seg += strcmp(argv[i], "--and") == 0;
    const char *pos = NULL;
    if ((st = find_sweep_file(flags, n_flags, end0, argv, &c->config, &err))) return fail(&err, st);
    if (c->config && (st = os_sweep_file_load(&c->spec, c->config, &c->out, &err))) return fail(&err, st);
    if (n_seg == 1) {
        st = os_flags_parse_over(flags, n_flags, c, &c->spec, argc, argv, &pos, 1, &n_pos, &err);
    } else {
        os_spec_drop_blocks(&c->spec);
        for (int k = 0, from = 0; k < n_seg && !st; ++k) {
            int to = from;
            while (to < argc && strcmp(argv[to], "--and") != 0) ++to;
            if (to == from) {
                os_set_error(&err, "--and: an empty block (--and separates blocks of flags)");
                st = OS_EINPUT;
                break;
            }
            size_t b;
            if ((st = os_spec_add_block(&c->spec, &b, &err))) break;
            os_spec_swap_axes(&c->spec, &c->spec.blocks[b]);
            st = os_flags_parse(flags, n_flags, c, to - from, argv + from, &pos, k == 0, &n_pos, &err);
            os_spec_swap_axes(&c->spec, &c->spec.blocks[b]);
            from = to + 1;
        }
    }
    if (!st) st = os_spec_compact_scheds(&c->spec, &err);
    return st ? fail(&err, st) : 0;
}

/* ------------------------------------------------------------------------ */
/* output files, and what a terminating signal leaves                        */

/* What a signal handler needs, prepared beforehand (it may only unlink and
 * write): the temporary to remove and the line to print. */
static struct {
    char tmp[4096];
    char what[8400]; /* "results.csv was left as it was" */
} g_out;

static int g_mpi_stop; /* a run failed on rank 0 while the other ranks train: end them */
static volatile sig_atomic_t g_kept = -1; /* a partial table: rows safely in its part (-1: none) */

static void on_signal(int sig)
{
    if (g_out.tmp[0]) unlink(g_out.tmp);
    const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
    char kept[24] = "", *k = kept + sizeof kept - 1; /* the count of a partial table's rows, as text */
    if (g_kept >= 0) {
        long v = (long)g_kept;
        do *--k = (char)('0' + v % 10), v /= 10;
        while (v);
    }
    char line[8600];
    size_t n = 0;
    const char *parts[] = {"orbitsweep: interrupted by ", name, "; ", k, g_out.what[0] ? g_out.what : "nothing was written",
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
    size_t base, end; /* this run's trials: base .. end-1 of the grid (a shard, a resumed rest; end 0: all) */
} progress;

#define PROGRESS_LINE_S 5.0

static void show_progress(void *ctx, size_t done, size_t total)
{
    progress *p = ctx;
    if (p->end) done = done > p->base ? done - p->base : 0, total = p->end - p->base;
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
        y->conv += !r->diverged && r->param_error <= blk->trials[i].target;
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

/* "float32", "float64" or "float32 and float64": the sweep's dtypes. */
static const char *dtypes_text(const os_spec *s)
{
    const int d = os_spec_dtypes(s);
    return d == 1 << OS_DTYPE_F32 ? "float32" : d == 1 << OS_DTYPE_F64 ? "float64" : "float32 and float64";
}

/* "0.01" (the sweep's one target) or "its target" into buf. */
static const char *target_text(const os_spec *s, char *buf, size_t size)
{
    double one = NAN;
    int many = 0;
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const int *given, *dist;
        int64_t n;
        const os_list *l = &os_spec_block_axes(s, b, &given)[OS_AX_TARGET];
        os_spec_block_sampling(s, b, &dist, &n);
        many |= dist[OS_AX_TARGET] != OS_DIST_LIST;
        for (size_t i = 0; i < l->n; ++i) {
            many |= !isnan(one) && l->v[i] != one;
            one = l->v[i];
        }
    }
    if (many) return "its target";
    snprintf(buf, size, "%g", one);
    return buf;
}

/* The human summary of a run, on out (stderr when the table is on stdout). */
static void print_summary(FILE *out, const os_sweep *sw, size_t n_run, const tally *y, double secs, double wall_s,
                          double write_s, const char *path, const char *where)
{
    const os_spec *s = sw->spec;
    double ev = sw->n_trials ? os_sweep_evaluations(sw) * (double)n_run / (double)sw->n_trials : 0;
    char tt[32];
    fprintf(out, "orbitsweep: %zu trainings on %s, %s\n", n_run, where, dtypes_text(s));
    fprintf(out, "time %.3f s, %.3g sample evaluations, %.3g evaluations/s (%.3f s end to end, %.3f s of it "
                 "writing the table)\n", secs, ev, secs > 0 ? ev / secs : 0.0, wall_s, write_s);
    fprintf(out, "converged (param_error <= %s at the end): %zu of %zu; diverged: %zu\n",
            target_text(s, tt, sizeof tt), y->conv, n_run, y->div);
    fprintf(out, "best training per optimizer (lowest final param_error):\n");
    int kinds[OS_OPT_COUNT], n_kinds = 0, seen[OS_OPT_COUNT] = {0}; /* in order of first appearance */
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const int *given;
        const os_list *opts = &os_spec_block_axes(s, b, &given)[OS_AX_OPTIMIZER];
        for (size_t o = 0; o < opts->n; ++o)
            if (!seen[(int)opts->v[o]]++) kinds[n_kinds++] = (int)opts->v[o];
    }
    for (int o = 0; o < n_kinds; ++o) {
        const int kind = kinds[o];
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
typedef struct partial partial;
typedef struct run_out {
    FILE *f;
    os_results_npz *npz;
    tally y;
    double write_s; /* formatting and writing the table */
    partial *part;  /* a resumable table: its part file */
    long long sent; /* its bytes handed to the disk so far (sync_block) */
} run_out;

static os_status write_block(void *ctx, const os_sweep *blk, const os_result *res, os_error *err)
{
    run_out *ro = ctx;
    const double t0 = now_s();
    tally_block(&ro->y, blk, res);
    const int bad = ro->npz ? os_results_npz_rows(ro->npz, blk, res) : os_write_rows(ro->f, blk, res);
    if (!bad && ro->npz) os_file_writeback(fileno(ro->f), 0, 0); /* so the commit's fsync finds it written */
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

/* One trial's configuration as the results table's columns would show it. */
static void print_config(FILE *out, const os_sweep *sw, const os_trial *t, size_t row)
{
    fprintf(out, "  %zu", row);
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        const double v = os_trial_axis(t, a);
        char buf[64] = "";
        if (os_axes[a].type == OS_AXT_OPT)
            snprintf(buf, sizeof buf, "%s", os_optimizer_name((int)v));
        else if (os_axes[a].type == OS_AXT_BOOL && v == v)
            snprintf(buf, sizeof buf, "%s", v != 0 ? "true" : "false");
        else if (os_axes[a].type == OS_AXT_CHOICE)
            snprintf(buf, sizeof buf, "%s", os_axis_choices(a)[(int)v]);
        else if (os_axes[a].type != OS_AXT_SCHED && v == v)
            os_fmt_double(buf, sizeof buf, v);
        fputc(',', out);
        os_csv_put_field(out, os_axes[a].type == OS_AXT_SCHED ? sw->spec->scheds[t->sched].name : buf);
    }
    fprintf(out, ",%llu\n", (unsigned long long)t->seed);
}

/* --dry-run: what the run would train, its memory and time, and its first
 * configurations; nothing is trained or written. */
static int dry_run(const os_sweep *sw, const char *where, const char *out)
{
    const os_spec *s = sw->spec;
    const size_t shown = 3; /* configurations shown per block */
    const double evals = os_sweep_evaluations(sw), block = (double)os_spec_block(s);
    double n_data = (double)sw->n_data, n = 0;
    for (size_t d = 0; d < sw->n_data; ++d) n = sw->data[d].n > n ? sw->data[d].n : n;
    const int two = (double)sw->n_trials > block && os_spec_overlaps(s); /* one written, one training */
    const double mem = os_sweep_memory(two ? 2 * block : sw->n_trials < block ? (double)sw->n_trials : block, n_data, n);
    const double rate = 5e8 * os_spec_threads(s); /* evaluations/s a CPU thread trains (README: Performance) */
    printf("orbitsweep: dry run of %zu trainings on %s, %s; nothing is trained, %s is not written\n", sw->n_trials,
           where, dtypes_text(s), out);
    size_t first = 0;
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const size_t count = (size_t)os_spec_count_block(s, b);
        printf("block %zu: %zu trainings (rows %zu..%zu)\n", b + 1, count, first, first + count - 1);
        first += count;
    }
    printf("total: %zu trainings, %.3g sample evaluations\n", sw->n_trials, evals);
    printf("memory: about %.3g MB (%s of %.0f trainings%s, %.0f datasets of %.0f points)\n", mem / 1e6,
           two ? "two --blocks" : "one --block", sw->n_trials < block ? (double)sw->n_trials : block,
           two ? ": one trains while the other is written" : " at a time", n_data, n);
    if (os_spec_threads(s) && strstr(where, "CPU"))
        printf("time: about %.2g s of training at ~%.2g evaluations/s (%d CPU threads; orbitsweep bench measures this "
               "machine)\n", evals / rate, rate, os_spec_threads(s));
    else
        printf("time: not estimated for a GPU (orbitsweep bench measures it)\n");
    printf("first configurations of each block (trial");
    for (int a = 0; a < OS_AX_COUNT; ++a) printf(",%s", os_axes[a].column);
    printf(",seed):\n");
    first = 0;
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const size_t count = (size_t)os_spec_count_block(s, b), k = count < shown ? count : shown;
        os_sweep blk;
        os_error err;
        if (os_sweep_block(sw, first, k, &blk, &err)) return fail(&err, OS_ERUNTIME);
        for (size_t i = 0; i < k; ++i) print_config(stdout, sw, &blk.trials[i], first + i);
        os_sweep_free(&blk);
        first += count;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

/* The sidecar of a finished table at out (a regular file): refused
 * beforehand (exit 2) when out's sidecar path holds something that is not
 * an orbitsweep sidecar; written afterwards. */
static int sidecar_check(const char *out)
{
    if (!out || strcmp(out, "-") == 0) return 0;
    char *target = os_output_target(out), *side = target ? os_sidecar_path(target) : NULL;
    struct stat sb;
    int rc = 0;
    if (side && lstat(side, &sb) == 0 && (!S_ISREG(sb.st_mode) || !os_sidecar_is_ours(side))) {
        fprintf(stderr, "orbitsweep: -o: '%s' exists and is not an orbitsweep sidecar; it would be replaced by the "
                        "table's: move it away\n", side);
        rc = 2;
    }
    free(target), free(side);
    return rc;
}

static int is_regular_output(const char *out)
{
    struct stat sb;
    return out && strcmp(out, "-") != 0 && strncmp(out, "/dev/", 5) != 0 && strncmp(out, "/proc/", 6) != 0 &&
           stat(out, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int sidecar_write_for(const char *out, const os_spec *spec, const char *kind, size_t n, int argc, char **argv)
{
    if (!is_regular_output(out)) return 0; /* a device, a pipe, stdout: no file beside it */
    os_error err;
    os_provenance pv;
    os_status st = os_provenance_make(spec, kind, "csv", n, &pv, &err);
    char *target = st ? NULL : os_output_target(out), *side = target ? os_sidecar_path(target) : NULL;
    if (!st) st = os_provenance_command(&pv, argc, argv, &err);
    if (!st && !side) st = OS_ERUNTIME, os_set_error(&err, "out of memory");
    if (!st) st = os_sidecar_write(side, &pv, &err);
    if (!st || pv.spec_json) os_provenance_free(&pv);
    free(target), free(side);
    return st ? fail(&err, st) : 0;
}

/* --shard K/N into *k, *n (1 <= K <= N <= 10^6); 0 0 without one. */
static int parse_shard(const char *text, int *k, int *n)
{
    *k = *n = 0;
    if (!text) return 0;
    char *end;
    errno = 0;
    const long a = isdigit((unsigned char)text[0]) ? strtol(text, &end, 10) : -1;
    const long b = a >= 0 && *end == '/' && isdigit((unsigned char)end[1]) ? strtol(end + 1, &end, 10) : -1;
    if (a < 1 || b < a || b > 1000000 || *end || errno) {
        fprintf(stderr, "orbitsweep: --shard: '%s' is not K/N with 1 <= K <= N <= 1000000 (e.g. 2/4)\n", text);
        return 2;
    }
    *k = (int)a, *n = (int)b;
    return 0;
}

/* A resumable CSV table: rows go to TARGET.part, in place, written and
 * handed to the disk after every block (sync_block); the sidecar to TARGET.part.json before the
 * first row; both renamed to TARGET and TARGET.json when complete. */
struct partial {
    char *target, *part, *part_side, *side;
    size_t rows; /* rows in the part (whole ones) */
};

static void partial_free(partial *q)
{
    free(q->target), free(q->part), free(q->part_side), free(q->side);
    memset(q, 0, sizeof *q);
}

static char *cat2(const char *a, const char *b)
{
    const size_t la = strlen(a), lb = strlen(b);
    char *r = malloc(la + lb + 1);
    if (r) memcpy(r, a, la), memcpy(r + la, b, lb + 1);
    return r;
}

/* What the signal handler says about a partial table, prepared here. */
static void note_partial(const partial *q, const os_provenance *pv)
{
    snprintf(g_out.what, sizeof g_out.what, " of %zu trainings are kept in '%s'; to continue, run the same command "
             "with --resume: %s%s", pv->count, q->part, pv->command, strstr(pv->command, " --resume") ? "" : " --resume");
    g_kept = (sig_atomic_t)q->rows;
}

/* Opens (or continues, with --resume) the partial table of q for pv's
 * trials: *f positioned after its last whole row, the header written.
 * Returns 0, or the exit code having said why; *done = 1 when the table
 * is already complete (nothing to run). */
static int partial_open(partial *q, const char *out, const os_provenance *pv, int resume, FILE **f, int *done)
{
    *done = 0;
    q->target = os_output_target(out);
    q->part = q->target ? cat2(q->target, ".part") : NULL;
    q->part_side = q->part ? cat2(q->part, ".json") : NULL;
    q->side = q->target ? os_sidecar_path(q->target) : NULL;
    if (!q->side || !q->part_side) return fprintf(stderr, "orbitsweep: out of memory\n"), 1;
    struct stat sb;
    if (lstat(q->side, &sb) == 0 && (!S_ISREG(sb.st_mode) || !os_sidecar_is_ours(q->side))) {
        fprintf(stderr, "orbitsweep: -o: '%s' exists and is not an orbitsweep sidecar; it would be replaced by the "
                        "table's: move it away\n", q->side);
        return 2;
    }
    os_error err;
    const int have_part = lstat(q->part, &sb) == 0;
    if (have_part && !resume) {
        fprintf(stderr, "orbitsweep: -o: '%s' holds an unfinished run: continue it with --resume, or remove it to "
                        "start over\n", q->part);
        return 2;
    }
    if (have_part && !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "orbitsweep: --resume: '%s' is not a regular file: not an orbitsweep table\n", q->part);
        return 2;
    }
    os_provenance old;
    if (!have_part && resume && stat(q->target, &sb) == 0 && S_ISREG(sb.st_mode) &&
        !os_sidecar_read(q->side, "--resume", &old, &err)) { /* a finished table of this spec? */
        const int same = strcmp(old.spec_hash, pv->spec_hash) == 0 && old.first == pv->first && old.count == pv->count;
        os_provenance_free(&old);
        size_t rows;
        off_t good, size;
        if (same && !os_table_scan(q->target, "--resume", pv->first, pv->count, &rows, &good, &size, &err) &&
            rows == pv->count && good == size)
            return *done = 1, 0;
    }
    off_t keep = 0;
    if (have_part) {
        if (lstat(q->part_side, &sb) != 0 || os_sidecar_read(q->part_side, "--resume", &old, &err)) {
            fprintf(stderr, "orbitsweep: --resume: '%s' has no orbitsweep sidecar ('%s'): cannot tell which sweep it "
                            "holds; remove it to start over\n", q->part, q->part_side);
            return 2;
        }
        const int same = strcmp(old.spec_hash, pv->spec_hash) == 0 && old.trials == pv->trials &&
                         old.first == pv->first && old.count == pv->count;
        if (!same) {
            fprintf(stderr, "orbitsweep: --resume: '%s' holds %s (spec_sha256 %.12s..., trials %zu..%zu of %zu), not "
                            "this one (spec_sha256 %.12s..., trials %zu..%zu of %zu): run its own command (%s), or "
                            "remove it to start over\n", q->part, strcmp(old.spec_hash, pv->spec_hash) ? "another spec"
                            : "another part of this sweep", old.spec_hash, old.first, old.first + old.count - 1,
                    old.trials, pv->spec_hash, pv->first, pv->first + pv->count - 1, pv->trials, old.command);
            os_provenance_free(&old);
            return 2;
        }
        os_provenance_free(&old);
        off_t size;
        const os_status st = os_table_scan(q->part, "--resume", pv->first, pv->count, &q->rows, &keep, &size, &err);
        if (st) return fail(&err, st);
    }
    /* a new part: its sidecar first, so the part is never without one */
    if (!have_part && os_sidecar_write(q->part_side, pv, &err)) return fail(&err, OS_ERUNTIME);
    const int fd = open(q->part, O_RDWR | O_CREAT | O_CLOEXEC | (have_part ? 0 : O_EXCL), 0666);
    if (fd < 0) return fprintf(stderr, "orbitsweep: -o: '%s': %s\n", q->part, strerror(errno)), 1;
    if (ftruncate(fd, keep) != 0 || lseek(fd, keep, SEEK_SET) < 0 || !(*f = fdopen(fd, "w"))) {
        fprintf(stderr, "orbitsweep: -o: '%s': %s\n", q->part, strerror(errno));
        close(fd);
        return 1;
    }
    if (keep == 0 && os_write_header(*f)) {
        fprintf(stderr, "orbitsweep: -o: '%s': %s\n", q->part, strerror(errno));
        return fclose(*f), 1;
    }
    return 0;
}

/* The part complete: synced, then renamed to the target and its sidecar
 * beside it. 0 or the exit code. */
static int partial_commit(partial *q, FILE *f)
{
    errno = 0;
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    const int why = errno;
    if (fclose(f) != 0 && !bad) bad = 1;
    if (bad) {
        fprintf(stderr, "orbitsweep: -o: '%s': write failed: %s (the rows before are kept; --resume continues)\n",
                q->part, why ? strerror(why) : "I/O error");
        return 1;
    }
    if (rename(q->part, q->target) != 0 || (os_sidecar_supported() && rename(q->part_side, q->side) != 0)) {
        fprintf(stderr, "orbitsweep: -o: '%s': %s\n", q->target, strerror(errno));
        return 1;
    }
    return 0;
}

/* Each block of a partial table: the blocks before it made durable
 * (fdatasync: they were handed to the disk a block ago, so this rarely
 * waits), its rows written and handed to the disk without waiting, then
 * counted. A process that dies keeps every row written (the kernel has
 * them); a power cut takes at most the block in progress and the one
 * before it. The commit's fsync waits for the last. */
static os_status sync_block(void *ctx, const os_sweep *blk, const os_result *res, os_error *err)
{
    run_out *ro = ctx;
    os_status st = ro->sent && fdatasync(fileno(ro->f)) != 0 ? OS_ERUNTIME : OS_OK;
    if (!st) st = write_block(ctx, blk, res, err);
    else os_set_error(err, "cannot write the results table: %s", strerror(errno));
    if (!st && fflush(ro->f) != 0) {
        os_set_error(err, "cannot write the results table: %s", strerror(errno));
        st = OS_ERUNTIME;
    }
    if (st) return st;
    const long long end = (long long)ftello(ro->f);
    os_file_writeback(fileno(ro->f), ro->sent, end - ro->sent);
    ro->sent = end;
    ro->part->rows += blk->n_trials, g_kept = (sig_atomic_t)ro->part->rows;
    return st;
}

/* Train trials lo .. hi-1 of sw, handing each block to done in grid order. */
static os_status run_range(const os_spec *spec, const os_sweep *sw, size_t lo, size_t hi, os_block_fn done,
                           run_out *ro, progress *p, double *train_s, os_error *err)
{
    return os_mpi_stream(sw, lo, hi, (size_t)spec->block, done, ro, show_progress, p, train_s, err);
}

static int cmd_run(cli *c, int argc, char **argv)
{
    const char *out = c->out ? c->out : "results.csv";
    os_error err;
    const int rank = os_mpi_rank(); /* under MPI: rank 0 alone touches files */
    int shard_k, shard_n, rc = parse_shard(c->shard, &shard_k, &shard_n);
    if (rc) return rc;
    os_status st = os_spec_validate(&c->spec, &err);
    if (st) return fail(&err, st);
    const size_t len = strlen(out);
    const int npz = len > 4 && strcmp(out + len - 4, ".npz") == 0; /* columns, not text */
    struct stat stt;
    const int to_file = strcmp(out, "-") != 0 && (stat(out, &stt) != 0 || (S_ISREG(stt.st_mode) &&
                        strncmp(out, "/dev/", 5) != 0 && strncmp(out, "/proc/", 6) != 0));
    if (npz && (c->resume || shard_n)) {
        fprintf(stderr, "orbitsweep: %s: '%s': an .npz table is written whole (its directory comes last), so it "
                        "cannot be resumed or sharded: use a .csv output\n", c->resume ? "--resume" : "--shard", out);
        return 2;
    }
    if (c->resume && !os_sidecar_supported()) {
        fprintf(stderr, "orbitsweep: --resume: this build has no sidecars, so it cannot tell which sweep a part "
                        "holds (rebuild with libcjson-dev and libssl-dev: scripts/setup.sh)\n");
        return 2;
    }
    if (c->resume && !to_file) {
        fprintf(stderr, "orbitsweep: --resume: -o '%s' is not a regular file: only a file can be resumed\n", out);
        return 2;
    }
    if (!rank) /* the output's checks, rank 0's alone: every rank hears the verdict */
        if (!(rc = check_output(out, c->spec.data_file)) && to_file) rc = sidecar_check(out);
    if ((rc = (int)os_mpi_share(rc))) return rc;
    if (os_mpi_size() > 1 && c->spec.backend != OS_BACKEND_CPU && !c->spec.n_devices) {
        os_device_info dev[OS_MAX_DEVICES]; /* one GPU per rank of a node, where there are GPUs */
        os_error why;
        const int ng = os_gpu_devices(dev, OS_MAX_DEVICES, &why);
        if (ng > 0) c->spec.devices[0] = dev[os_mpi_local_rank() % ng].index, c->spec.n_devices = 1;
    }
    /* What each rank does on its own (its node's devices, its read of a
     * --data file, its memory), then every rank's verdict: a rank that
     * failed stops them all here, before any file is opened, instead of
     * leaving the others waiting for it. */
    os_backend_choice bc;
    os_sweep sw;
    os_provenance pv;
    memset(&sw, 0, sizeof sw);
    memset(&pv, 0, sizeof pv);
    size_t lo = 0, hi = 0;
    if (!(st = os_backend_choose(&c->spec, &bc, &err))) {
        c->spec.backend = bc.backend; /* resolved once: the run does not probe again */
        if (c->spec.overlap == OS_OVERLAP_AUTO) /* the table's writing overlaps the training on any backend */
            c->spec.overlap = OS_OVERLAP_ON;
        st = os_sweep_prepare(&c->spec, &sw, &err);
    }
    if (!st && !c->dry_run) {
        hi = sw.n_trials;
        if (!(st = os_sweep_shard(&sw, shard_k, shard_n, &lo, &hi, &err)) &&
            !(st = os_provenance_make(&c->spec, "run", npz ? "npz" : "csv", sw.n_trials, &pv, &err))) {
            pv.first = lo, pv.count = hi - lo, pv.shard_k = shard_k, pv.shard_n = shard_n;
            st = os_provenance_command(&pv, argc, argv, &err);
        }
    }
    if (st && !rank) fail(&err, st);
    if ((rc = os_mpi_agree((int)st, err.msg))) return os_provenance_free(&pv), os_sweep_free(&sw), rc;
    if (!rank)
        for (int i = 0; i < sw.n_warnings; ++i) fprintf(stderr, "orbitsweep: warning: %s\n", sw.warnings[i]);
    if (c->dry_run) { /* rank 0's alone, as a single process's */
        rc = rank ? 0 : dry_run(&sw, bc.where, out);
        os_sweep_free(&sw);
        return rc;
    }
    os_atomic_file af;
    memset(&af, 0, sizeof af);
    partial q;
    memset(&q, 0, sizeof q);
    run_out ro = {NULL, NULL, {0}, 0, NULL, 0};
    const int resumable = to_file && !npz;
    if (rank) { /* the others: the first trial rank 0 continues from, or stop */
        const long v = os_mpi_share(0);
        if (v >= 0) {
            double t;
            st = os_mpi_stream(&sw, (size_t)v, hi, (size_t)c->spec.block, NULL, NULL, NULL, NULL, &t, &err);
        }
        os_provenance_free(&pv), os_sweep_free(&sw);
        return v >= 0 ? (int)st : v == -1000 ? 0 : (int)-v;
    }
    if (resumable) {
        int done = 0;
        sigset_t block, old; /* no signal between creating the part and telling the handler */
        sigemptyset(&block);
        sigaddset(&block, SIGINT), sigaddset(&block, SIGTERM), sigaddset(&block, SIGHUP);
        sigprocmask(SIG_BLOCK, &block, &old);
        rc = partial_open(&q, out, &pv, c->resume, &ro.f, &done);
        if (!rc && !done) note_partial(&q, &pv), ro.part = &q;
        sigprocmask(SIG_SETMASK, &old, NULL);
        os_mpi_share(rc ? -rc : done ? -1000 : (long)(lo + q.rows));
        if (rc || done) {
            if (done && !c->quiet)
                fprintf(stderr, "orbitsweep: --resume: '%s' is already complete (%zu trainings); nothing to do\n", out,
                        pv.count);
            return partial_free(&q), os_provenance_free(&pv), os_sweep_free(&sw), rc;
        }
        if (q.rows && !c->quiet)
            fprintf(stderr, "orbitsweep: --resume: %zu of %zu trainings already in '%s'; training the other %zu\n",
                    q.rows, pv.count, q.part, pv.count - q.rows);
    } else {
        struct stat stn; /* an archive is written in place: before anything is opened, and what was opened */
        if (npz && stat(out, &stn) == 0 && !S_ISREG(stn.st_mode)) rc = 2, npz_needs_file(out);
        else rc = open_output(&af, out, &ro.f);
        if (!rc && npz && (fstat(fileno(ro.f), &stn) != 0 || !S_ISREG(stn.st_mode))) {
            npz_needs_file(out);
            close_output(&af, ro.f, 0);
            rc = 2;
        } else if (!rc && npz && !(ro.npz = os_results_npz_open(fileno(ro.f), &sw))) {
            fprintf(stderr, "orbitsweep: -o: '%s': %s\n", out, errno ? strerror(errno) : "out of memory");
            close_output(&af, ro.f, 0);
            rc = 1;
        }
        os_mpi_share(rc ? -rc : (long)lo);
        if (rc) return os_provenance_free(&pv), os_sweep_free(&sw), rc;
    }
    if (bc.note[0] && !c->quiet) fprintf(stderr, "orbitsweep: %s\n", bc.note);
    tally_init(&ro.y);
    const double t0 = now_s();
    progress p = {t0, t0, sw.n_trials ? os_sweep_evaluations(&sw) / (double)sw.n_trials : 0, !c->quiet, isatty(2),
                  0, 0, lo + q.rows, hi};
    st = !ro.npz && !resumable && os_write_header(ro.f) ? OS_ERUNTIME : OS_OK;
    if (st) os_set_error(&err, "cannot write the results table: %s", strerror(errno));
    double train_s = 0;
    const size_t start = lo + q.rows;
    if (!st) st = run_range(&c->spec, &sw, start, hi, resumable ? sync_block : write_block, &ro, &p, &train_s, &err);
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
    g_mpi_stop = st != OS_OK;
    if (resumable) {
        g_kept = -1;
        g_out.what[0] = 0;
        if (st) {
            fprintf(stderr, "orbitsweep: %s\n", err.msg);
            fprintf(stderr, "orbitsweep: %zu of %zu trainings are kept in '%s'; --resume continues\n", q.rows,
                    pv.count, q.part);
            fclose(ro.f);
            rc = 1;
        } else {
            rc = partial_commit(&q, ro.f);
        }
    } else {
        if (st && !write_failed) fprintf(stderr, "orbitsweep: %s\n", err.msg);
        rc = close_output(&af, ro.f, !st || write_failed); /* a failed write: the commit says why */
        if (!rc && !st && !to_stdout && to_file) { /* the table's sidecar, once the table is there */
            char *target = os_output_target(out), *side = target ? os_sidecar_path(target) : NULL;
            if (!side || os_sidecar_write(side, &pv, &err)) rc = fail(&err, OS_ERUNTIME);
            free(target), free(side);
        }
    }
    char where[sizeof bc.where + 64];
    snprintf(where, sizeof where, "%s", bc.where);
    if (os_mpi_size() > 1) { /* the ranks' wall time: rank 0's own training is a part of it */
        snprintf(where, sizeof where, "%d MPI ranks (rank 0: %s)", os_mpi_size(), bc.where);
        train_s = secs;
    }
    if (!rc && !st && !c->quiet)
        print_summary(to_stdout ? stderr : stdout, &sw, hi - start, &ro.y, train_s, secs, ro.write_s,
                      to_stdout ? "stdout" : out, where);
    partial_free(&q);
    os_provenance_free(&pv);
    os_sweep_free(&sw);
    return st && !write_failed ? (int)st : rc;
}

static int cmd_trace(cli *c, int argc, char **argv)
{
    os_sweep sw;
    int rc = check_output(c->out, c->spec.data_file);
    if (rc || (rc = sidecar_check(c->out)) || (rc = plan(c, &sw))) return rc;
    os_error err;
    os_status st = os_trace_check(&sw, &err);
    if (st) return fail(&err, st), os_sweep_free(&sw), (int)st;
    os_atomic_file af;
    FILE *f;
    if ((rc = open_output(&af, c->out, &f))) return os_sweep_free(&sw), rc;
    st = os_sweep_trace(&sw, f, &err);
    if (st) fprintf(stderr, "orbitsweep: %s\n", err.msg);
    rc = close_output(&af, f, st == OS_OK); /* a failed write: the commit says why */
    if (!rc && !st) rc = sidecar_write_for(c->out, &c->spec, "trace", 1, argc, argv);
    os_sweep_free(&sw);
    return rc ? rc : (int)st;
}

static int cmd_data(cli *c, int argc, char **argv)
{
    os_error err;
    int rc = check_output(c->out, c->spec.data_file);
    if (rc || (rc = sidecar_check(c->out))) return rc;
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
    if (!rc) rc = sidecar_write_for(c->out, &c->spec, "data", (size_t)d.n, argc, argv);
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
    summarize_opts o = {NULL, -1, 0}; /* --target: given, else each row's own (its target column; an older
                                         table's sidecar's, or 0.01) */
    const char *in = NULL;
    int n_pos = 0, rc = 0;
    os_error err;
    os_status st = os_flags_parse(summarize_flags, N_SUMMARIZE_FLAGS, &o, argc, argv, &in, 1, &n_pos, &err);
    if (!st && !in) os_set_error(&err, "summarize: no results table given (orbitsweep summarize FILE)"), st = OS_EINPUT;
    os_provenance pv; /* the table's sidecar, when it has one */
    char *side = !st && strcmp(in, "-") != 0 ? os_sidecar_path(in) : NULL;
    const int have_pv = side && is_regular_output(side) && !os_sidecar_read(side, "summarize", &pv, &err) &&
                        (strcmp(pv.kind, "run") == 0 || (os_provenance_free(&pv), 0));
    free(side);
    char text[64];
    int target_given = 0;
    for (int i = 0; i < argc; ++i) target_given |= strncmp(argv[i], "--target", 8) == 0;
    if (!st && !target_given)
        o.target = have_pv && !os_provenance_setting(&pv, "target", text, sizeof text) ? strtod(text, NULL) : NAN;
    if (!st && !(o.target > 0) && !(isnan(o.target) && !target_given))
        os_set_error(&err, "--target: '%g' is out of range (a number > 0)", o.target), st = OS_EINPUT;
    if (st) return (have_pv ? os_provenance_free(&pv) : (void)0), free(o.out), fail(&err, st);
    const char *out = o.out;
    const int quiet = o.quiet;
    const double target = o.target;
    if (strcmp(in, "-") == 0) in = "/dev/stdin"; /* run -o - | orbitsweep summarize - */
    if ((rc = check_output(out, in))) return (have_pv ? os_provenance_free(&pv) : (void)0), free(o.out), rc;
    os_summary_spool s; /* the summary, made in bounded memory before the output is opened */
    st = os_summary_spool_load(in, target, NULL, &s, &err);
    if (have_pv && !st && s.n_trainings != pv.count)
        fprintf(stderr, "orbitsweep: warning: '%s' holds %zu trainings but its sidecar says %zu: an unfinished or "
                        "edited table\n", in, s.n_trainings, pv.count);
    if (have_pv) os_provenance_free(&pv);
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

/* merge PART.csv... -o ALL.csv: the shards' rows under one header (parts.h). */
static int cmd_merge(int argc, char **argv)
{
    typedef struct merge_opts {
        char *out;
        int quiet;
    } merge_opts;
    static const os_flag flags[] = {
        {"-o", OS_F_VALUE, offsetof(merge_opts, out), OS_V_STRING, NULL, NULL, "FILE", "the merged table", NULL},
        {"--quiet", OS_F_BOOL, offsetof(merge_opts, quiet), 0, NULL, NULL, NULL, "no summary line", NULL},
    };
    merge_opts o = {NULL, 0};
    const char **parts = calloc((size_t)argc + 1, sizeof *parts);
    int n = 0;
    os_error err;
    os_status st = parts ? os_flags_parse(flags, 2, &o, argc, argv, parts, argc, &n, &err) : OS_ERUNTIME;
    if (!parts) os_set_error(&err, "out of memory");
    if (!st && n == 0) st = OS_EINPUT, os_set_error(&err, "merge: no parts given (orbitsweep merge PART... -o FILE)");
    if (!st && !o.out) st = OS_EINPUT, os_set_error(&err, "merge: -o: give the merged table's path");
    if (!st && !os_sidecar_supported())
        st = OS_EINPUT, os_set_error(&err, "merge: this build has no sidecars, so it cannot check the parts (rebuild "
                                           "with libcjson-dev and libssl-dev: scripts/setup.sh)");
    int rc = st ? fail(&err, st) : 0;
    if (!rc) {
        const char *out = strcmp(o.out, "-") == 0 ? "/dev/stdout" : o.out;
        os_error e2;
        if ((st = os_output_check(out, parts, n, &e2))) rc = fail(&e2, st);
        if (!rc) rc = sidecar_check(out);
        if (!rc && (st = os_merge(parts, n, out, argc + 2, argv - 2, &err))) rc = fail(&err, st);
        if (!rc && !o.quiet && strcmp(o.out, "-") != 0) printf("merged %d parts -> %s\n", n, o.out);
    }
    free(parts);
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
        int (*spec_cmd)(cli *, int, char **); /* commands over a sweep spec (and their command line) */
        int (*argv_cmd)(int, char **);   /* commands with flags of their own */
    } commands[] = {
        {"run", cmd_run, NULL},           {"trace", cmd_trace, NULL},
        {"data", cmd_data, NULL},         {"summarize", NULL, cmd_summarize},
        {"devices", NULL, cmd_devices},   {"bench", NULL, os_cli_bench},
        {"merge", NULL, cmd_merge},
    };
    int k = -1;
    for (int i = 0; i < (int)(sizeof commands / sizeof commands[0]); ++i)
        if (strcmp(argv[1], commands[i].name) == 0) k = i;
    if (k < 0) {
        fprintf(stderr, "orbitsweep: unknown command '%s' (run, trace, data, summarize, merge, devices, bench; see --help)\n",
                argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; ++i)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return usage(stdout), 0;
    if (commands[k].spec_cmd == cmd_run) os_mpi_init(&argc, &argv); /* mpirun -np N orbitsweep run ... */
    catch_signals();
    if (commands[k].argv_cmd) return commands[k].argv_cmd(argc - 2, argv + 2);
    cli c;
    memset(&c, 0, sizeof c);
    int rc = parse_args(&c, argc - 2, argv + 2);
    if (!rc && (c.resume || c.shard) && commands[k].spec_cmd != cmd_run) {
        fprintf(stderr, "orbitsweep: %s: %s is a flag of run only\n", argv[1], c.resume ? "--resume" : "--shard");
        rc = 2;
    }
    if (!rc) rc = commands[k].spec_cmd(&c, argc, argv);
    if (g_mpi_stop && os_mpi_size() > 1) os_mpi_abort(rc); /* having said why: the other ranks stop too */
    os_mpi_finalize();
    os_spec_free(&c.spec);
    free(c.out);
    free(c.config);
    free(c.shard);
    return rc;
}
