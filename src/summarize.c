/* summarize.c — one row per configuration of a results table; see summarize.h.
 *
 * The table is streamed (csv.c's os_csv_stream) and checked whole before
 * anything is written: the summary rows go to a spool (an unlinked
 * temporary file) that is copied to the output once the input is known to
 * be good. Columns are found by header name, so extra or reordered columns
 * are fine. Groups keep their order of first appearance.
 *
 * Two ways to group, one result:
 *  - streaming (the fast path): orbitsweep writes the seeds of a
 *    configuration on adjacent rows, so a group is complete when the
 *    configuration changes. Only the current group's values are kept, and
 *    a set of 64-bit hashes of the configurations already seen.
 *  - the hash table (the fallback): when a row starts a configuration
 *    whose hash was seen before (it reappears after others, or two
 *    configurations share a hash), the spool is emptied and the input read
 *    again from its start, grouping rows by the exact text of their
 *    configuration through a hash table; memory then grows with the rows
 *    (about 40 bytes each, plus each configuration's text). A regular file
 *    is read again by seeking back; a pipe or terminal is copied to a
 *    temporary file while it is streamed, and the fallback reads that copy,
 *    then the rest of the pipe.
 * Both read the rows in the same order and apply the same checks, so bad
 * input gets the same message either way.
 *
 * Quantiles use numpy's default definition (method='linear'): on the sorted
 * values, position (n-1)*q, linear between the two neighbours, with numpy's
 * two-sided lerp so finite results match numpy.quantile bit for bit.
 * Diverged trainings and nan values count as +inf; where an infinity is a
 * neighbour the result is its limit (inf), where numpy would say nan.
 */
#include "summarize.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "csv.h"
#include "numtext.h"

/* The configuration columns: the axis table's (axes.h), in its order. */
static const char *config_column(int k) { return os_axes[k].column; }

enum { M_PARAM_ERROR, M_LOSS_GAP, M_STEPS, M_DIVERGED, N_METRIC };
static const char *const metric_columns[N_METRIC] = {"param_error", "loss_gap", "steps_to_target",
                                                     "diverged"};

const char *os_summary_metric(size_t k) { return k < N_METRIC ? metric_columns[k] : NULL; }

#define READ_BYTES ((size_t)1 << 20) /* the read window's first size */

/* ------------------------------------------------------------------------ */
/* quantiles                                                                 */

double os_quantile_sorted(const double *x, size_t n, double q)
{
    double pos = (double)(n - 1) * q, fl = floor(pos);
    size_t lo = (size_t)fl, hi = lo + 1 < n ? lo + 1 : n - 1;
    double t = pos - fl, a = x[lo], b = x[hi];
    if (t == 0 || a == b) return a;
    if (isinf(a) && isinf(b)) return NAN; /* -inf and +inf: no limit */
    if (isinf(a)) return a;
    if (isinf(b)) return b;
    double d = b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t; /* numpy's _lerp */
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Sorts v (no nan in it). Values that compare equal are the same bits,
 * so any sort gives the same array, except for 0 and -0: a group holding
 * a -0 is sorted by qsort with cmp_double, as it always was, so the zero a
 * quantile returns keeps its sign. Small groups (the usual handful of
 * seeds) take an insertion sort. */
static void sort_values(double *v, size_t n)
{
    int negzero = 0;
    for (size_t i = 0; i < n; ++i) negzero |= v[i] == 0 && signbit(v[i]);
    if (negzero || n > 24) {
        qsort(v, n, sizeof *v, cmp_double);
        return;
    }
    for (size_t i = 1; i < n; ++i) {
        const double x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; --j) v[j] = v[j - 1];
        v[j] = x;
    }
}

static void quartiles(double *v, size_t n, double *med, double *q25, double *q75)
{
    sort_values(v, n);
    *med = os_quantile_sorted(v, n, 0.5);
    *q25 = os_quantile_sorted(v, n, 0.25);
    *q75 = os_quantile_sorted(v, n, 0.75);
}

/* ------------------------------------------------------------------------ */
/* writing a row                                                             */

static void put_num(FILE *f, double v)
{
    char b[40];
    os_fmt_double(b, sizeof b, v);
    fputc(',', f);
    fputs(b, f);
}

static void put_header(FILE *f)
{
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) fprintf(f, "%s,", config_column(k));
    fputs("trainings,success_rate,divergence_rate,param_error_median,param_error_q25,param_error_q75,"
          "loss_gap_median,loss_gap_q25,loss_gap_q75,steps_to_target_median,"
          "steps_to_target_reached\n", f);
}

static void put_group(FILE *f, const os_summary_group *gr)
{
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) {
        os_csv_put_field(f, gr->config[k]);
        fputc(',', f);
    }
    fprintf(f, "%zu", gr->n);
    put_num(f, (double)gr->n_success / (double)gr->n);
    put_num(f, (double)gr->n_diverged / (double)gr->n);
    put_num(f, gr->pe_med);
    put_num(f, gr->pe_q25);
    put_num(f, gr->pe_q75);
    put_num(f, gr->gap_med);
    put_num(f, gr->gap_q25);
    put_num(f, gr->gap_q75);
    if (isinf(gr->steps_med)) /* the median training never reached the target */
        fputc(',', f);
    else
        put_num(f, gr->steps_med);
    fprintf(f, ",%zu\n", gr->n_reached);
}

/* ------------------------------------------------------------------------ */
/* where finished groups go: an array (os_summary) or the spool              */

typedef struct sink {
    os_summary *sum;          /* collect into this, or */
    os_summary_spool *spool;  /* format into this */
    size_t cap_groups;
} sink;

/* Discard what the sink holds (the streaming pass gave up). */
static void sink_reset(sink *k)
{
    if (k->sum) {
        for (size_t g = 0; g < k->sum->n_groups; ++g) free(k->sum->groups[g].key);
        k->sum->n_groups = 0;
    } else {
        fseeko(k->spool->f, k->spool->start, SEEK_SET);
        k->spool->n_groups = 0;
    }
}

/* Take a finished group; gr->config points at texts the sink copies. */
static int sink_put(sink *k, const os_summary_group *gr)
{
    if (k->spool) {
        put_group(k->spool->f, gr);
        k->spool->n_groups += 1;
        return 1;
    }
    os_summary *s = k->sum;
    if (s->n_groups == k->cap_groups) {
        size_t cap = k->cap_groups ? 2 * k->cap_groups : 64;
        os_summary_group *ng = realloc(s->groups, cap * sizeof *ng);
        if (!ng) return 0;
        s->groups = ng;
        k->cap_groups = cap;
    }
    size_t len = 0;
    for (int c = 0; c < OS_SUMMARY_N_CONFIG; ++c) len += strlen(gr->config[c]) + 1;
    os_summary_group *g = &s->groups[s->n_groups];
    *g = *gr;
    if (!(g->key = malloc(len))) return 0;
    char *p = g->key;
    for (int c = 0; c < OS_SUMMARY_N_CONFIG; ++c) {
        size_t n = strlen(gr->config[c]) + 1;
        memcpy(p, gr->config[c], n);
        g->config[c] = p;
        p += n;
    }
    s->n_groups += 1;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* reading                                                                   */

typedef struct row {
    size_t group;
    int diverged;
    double pe, gap, steps; /* +inf for nan, diverged, not reached */
    double target;         /* success: pe <= target */
} row;

typedef struct loader {
    const char *path;
    double target; /* NaN: each row's own (its target column) */
    os_csv_stream in;
    FILE *file;      /* the input */
    FILE *tee;       /* its copy so far, when it cannot be read again */
    size_t read_bytes;
    int n_cols;
    int cfg_col[OS_SUMMARY_N_CONFIG], met_col[N_METRIC];
    size_t n_rows;
    sink *out;
    /* streaming: the current group and the hashes of every group begun */
    char *key;       /* its configuration texts, each with its NUL */
    size_t key_len, key_cap;
    const char *cfg[OS_SUMMARY_N_CONFIG];
    double *pe, *gap, *steps; /* its trainings' values, in table order */
    size_t n_val, cap_val;
    size_t n_div, n_succ, n_reach;
    uint64_t *seen;  /* open addressing, 0 = empty; cap_seen a power of 2 */
    size_t n_seen, cap_seen;
    struct hashed *hash; /* the hash table pass's state */
    int can_reread;  /* the input can be read again from its start */
} loader;

static os_status oom(const loader *ld, os_error *err)
{
    os_set_error(err, "summarize: '%s': out of memory", ld->path);
    return OS_ERUNTIME;
}

/* Bad input: the message stands unless a NUL byte further on makes the
 * file not text at all, which the whole-file reader always reported first. */
static os_status bad_input(loader *ld, os_error *err)
{
    if (os_csv_stream_find_nul(&ld->in))
        os_set_error(err, "summarize: '%s': %s", ld->path, ld->in.r.problem);
    return OS_EINPUT;
}

static os_status read_error(loader *ld, int rc, os_error *err)
{
    if (rc == OS_CSV_NOMEM) return oom(ld, err);
    os_set_error(err, "summarize: '%s': %s", ld->path, ld->in.r.problem);
    return bad_input(ld, err);
}

/* Column indices by header name; every configuration and metric column is
 * required, and must appear once, except the axes added after the first
 * tables (hash position >= OS_HASH_LATER): a table written before they
 * existed has them empty. */
static os_status read_header(loader *ld, os_error *err)
{
    const os_csv *r = &ld->in.r;
    ld->n_cols = r->n_fields;
    for (int k = 0; k < OS_SUMMARY_N_CONFIG + N_METRIC; ++k) {
        const char *name = k < OS_SUMMARY_N_CONFIG ? config_column(k)
                                                   : metric_columns[k - OS_SUMMARY_N_CONFIG];
        int col = -1;
        for (int i = 0; i < r->n_fields; ++i) {
            if (strcmp(r->fields[i], name) != 0) continue;
            if (col >= 0) {
                os_set_error(err, "summarize: '%s': line %d: column '%s' appears twice in the "
                                  "header", ld->path, r->line, name);
                return bad_input(ld, err);
            }
            col = i;
        }
        if (col < 0 && k < OS_SUMMARY_N_CONFIG && (os_axes[k].hash >= OS_HASH_LATER || os_axes[k].hash < 0)) {
            ld->cfg_col[k] = -1;
            continue;
        }
        if (col < 0) {
            os_set_error(err, "summarize: '%s': line %d: the header has no column '%s'", ld->path,
                         r->line, name);
            return bad_input(ld, err);
        }
        if (k < OS_SUMMARY_N_CONFIG)
            ld->cfg_col[k] = col;
        else
            ld->met_col[k - OS_SUMMARY_N_CONFIG] = col;
    }
    return OS_OK;
}

/* Configuration column k of the current row ("" where the table has none). */
static const char *cfg_field(const loader *ld, int k)
{
    return ld->cfg_col[k] < 0 ? "" : ld->in.r.fields[ld->cfg_col[k]];
}

/* The whole field as a number (strtod syntax, so nan and inf too). */
static int parse_num(const char *s, double *v)
{
    return os_parse_field(s, strlen(s), v);
}

static os_status bad_field(loader *ld, int m, const char *what, os_error *err)
{
    int col = ld->met_col[m];
    os_set_error(err, "summarize: '%s': line %d, column %d (%s): '%.60s' is not %s", ld->path,
                 ld->in.r.line, col + 1, metric_columns[m], ld->in.r.fields[col], what);
    return bad_input(ld, err);
}

static os_status parse_metrics(loader *ld, row *w, os_error *err)
{
    char *const *f = ld->in.r.fields;
    const char *dv = f[ld->met_col[M_DIVERGED]];
    double d;
    if ((dv[0] == '0' || dv[0] == '1') && dv[1] == 0) /* the usual text, at once */
        d = dv[0] - '0';
    else if (!parse_num(dv, &d) || !(d == 0 || d == 1))
        return bad_field(ld, M_DIVERGED, "0 or 1", err);
    w->diverged = d == 1;
    if (!parse_num(f[ld->met_col[M_PARAM_ERROR]], &w->pe))
        return bad_field(ld, M_PARAM_ERROR, "a number", err);
    if (!parse_num(f[ld->met_col[M_LOSS_GAP]], &w->gap))
        return bad_field(ld, M_LOSS_GAP, "a number", err);
    const char *st = f[ld->met_col[M_STEPS]];
    w->steps = INFINITY; /* empty: never reached */
    if (*st && !(parse_num(st, &w->steps) &&
                 (isnan(w->steps) || (w->steps >= 0 && w->steps == floor(w->steps)))))
        return bad_field(ld, M_STEPS, "a step count (empty or an integer >= 0)", err);
    w->target = ld->target;
    if (isnan(w->target)) { /* the row's own target (0.01 in a table without the column) */
        const int tc = ld->cfg_col[OS_AX_TARGET];
        w->target = 0.01;
        if (tc >= 0 && f[tc][0] && (!parse_num(f[tc], &w->target) || !(w->target > 0) || isinf(w->target))) {
            os_set_error(err, "summarize: '%s': line %d, column %d (target): '%.60s' is not a number > 0", ld->path,
                         ld->in.r.line, tc + 1, f[tc]);
            return bad_input(ld, err);
        }
    }
    if (w->diverged) w->pe = w->gap = w->steps = INFINITY;
    if (isnan(w->pe)) w->pe = INFINITY;
    if (isnan(w->gap)) w->gap = INFINITY;
    if (isnan(w->steps)) w->steps = INFINITY;
    return OS_OK;
}

/* The header, then each row with the right field count and good metrics
 * to take(ld, &w); the messages of every problem. take returns OS_OK,
 * an error, or -1 to stop reading (the streaming pass gives up). */
static os_status read_rows(loader *ld, os_status (*take)(loader *, const row *, os_error *), os_error *err)
{
    os_csv_stream *in = &ld->in;
    int rc = os_csv_stream_next(in);
    if (rc == 0) {
        os_set_error(err, "summarize: '%s': the file is empty (no header)", ld->path);
        return OS_EINPUT;
    }
    if (rc == 1) {
        os_status st = read_header(ld, err);
        if (st) return st;
        rc = os_csv_stream_next(in);
    }
    for (; rc == 1; rc = os_csv_stream_next(in)) {
        if (in->r.n_fields != ld->n_cols) {
            os_set_error(err, "summarize: '%s': line %d: %d fields where the header has %d",
                         ld->path, in->r.line, in->r.n_fields, ld->n_cols);
            return bad_input(ld, err);
        }
        row w;
        os_status st;
        if ((st = parse_metrics(ld, &w, err))) return st;
        if ((st = take(ld, &w, err))) return st;
        ld->n_rows += 1;
    }
    if (rc < 0) return read_error(ld, rc, err);
    if (ld->n_rows == 0) {
        os_set_error(err, "summarize: '%s': no trainings (a header but no rows)", ld->path);
        return OS_EINPUT;
    }
    return OS_OK;
}

/* FNV-1a over the key bytes. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; ++i) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The key of the current row's configuration into *key (the texts, each
 * with its NUL, which is unambiguous since a field holds no NUL). */
static int row_key(const loader *ld, char **key, size_t *cap, size_t *len_out)
{
    size_t len = 0, lens[OS_SUMMARY_N_CONFIG];
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) len += lens[k] = strlen(cfg_field(ld, k)) + 1;
    if (len > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < len) c *= 2;
        char *nk = realloc(*key, c);
        if (!nk) return 0;
        *key = nk;
        *cap = c;
    }
    char *p = *key;
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) {
        memcpy(p, cfg_field(ld, k), lens[k]);
        p += lens[k];
    }
    *len_out = len;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* streaming: adjacent configurations                                        */

/* read_rows' take: stop reading, the streaming pass gave up */
#define GAVE_UP ((os_status)99)

/* 1 if h was in the set, else 0 after adding it; -1 out of memory. */
static int seen_add(loader *ld, uint64_t h)
{
    h += h == 0; /* 0 marks an empty slot */
    if (4 * (ld->n_seen + 1) > 3 * ld->cap_seen) {
        size_t cap = ld->cap_seen ? 2 * ld->cap_seen : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t) return -1;
        for (size_t i = 0; i < ld->cap_seen; ++i) {
            if (!ld->seen[i]) continue;
            size_t j = (size_t)ld->seen[i] & (cap - 1);
            while (t[j]) j = (j + 1) & (cap - 1);
            t[j] = ld->seen[i];
        }
        free(ld->seen);
        ld->seen = t;
        ld->cap_seen = cap;
    }
    size_t i = (size_t)h & (ld->cap_seen - 1);
    for (; ld->seen[i]; i = (i + 1) & (ld->cap_seen - 1))
        if (ld->seen[i] == h) return 1;
    ld->seen[i] = h;
    ld->n_seen += 1;
    return 0;
}

/* The current group's statistics, to the sink. */
static os_status finish_group(loader *ld, os_error *err)
{
    const size_t n = ld->n_val;
    if (n == 0) return OS_OK;
    os_summary_group gr;
    memset(&gr, 0, sizeof gr);
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) gr.config[k] = ld->cfg[k];
    gr.n = n;
    gr.n_success = ld->n_succ;
    gr.n_diverged = ld->n_div;
    gr.n_reached = ld->n_reach;
    quartiles(ld->pe, n, &gr.pe_med, &gr.pe_q25, &gr.pe_q75);
    quartiles(ld->gap, n, &gr.gap_med, &gr.gap_q25, &gr.gap_q75);
    sort_values(ld->steps, n);
    gr.steps_med = os_quantile_sorted(ld->steps, n, 0.5);
    if (!sink_put(ld->out, &gr)) return oom(ld, err);
    ld->n_val = ld->n_div = ld->n_succ = ld->n_reach = 0;
    return OS_OK;
}

/* Does the current row belong to the current group? */
static int same_group(const loader *ld)
{
    if (ld->n_val == 0) return 0;
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k)
        if (strcmp(cfg_field(ld, k), ld->cfg[k]) != 0) return 0;
    return 1;
}

static int push_values(loader *ld, const row *w)
{
    const size_t n = ld->n_val;
    if (n == ld->cap_val) {
        const size_t cap = ld->cap_val ? 2 * ld->cap_val : 64;
        double **arr[3] = {&ld->pe, &ld->gap, &ld->steps};
        for (int a = 0; a < 3; ++a) {
            double *nv = realloc(*arr[a], cap * sizeof *nv);
            if (!nv) return 0;
            *arr[a] = nv;
        }
        ld->cap_val = cap;
    }
    ld->pe[n] = w->pe;
    ld->gap[n] = w->gap;
    ld->steps[n] = w->steps;
    ld->n_val = n + 1;
    ld->n_div += w->diverged != 0;
    ld->n_succ += !w->diverged && w->pe <= w->target;
    ld->n_reach += !isinf(w->steps);
    return 1;
}

static os_status stream_take(loader *ld, const row *w, os_error *err)
{
    if (!same_group(ld)) {
        os_status st = finish_group(ld, err);
        if (st) return st;
        size_t len;
        if (!row_key(ld, &ld->key, &ld->key_cap, &len)) return oom(ld, err);
        const int seen = seen_add(ld, hash_bytes(ld->key, len));
        if (seen < 0) return oom(ld, err);
        if (seen) return GAVE_UP; /* met before (or a hash collision): the hash table decides */
        const char *p = ld->key;
        for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) {
            ld->cfg[k] = p;
            p += strlen(p) + 1;
        }
    }
    if (!push_values(ld, w)) return oom(ld, err);
    return OS_OK;
}

static os_status stream_pass(loader *ld, os_error *err)
{
    os_status st = read_rows(ld, stream_take, err);
    if (st) return st;
    return finish_group(ld, err);
}

/* ------------------------------------------------------------------------ */
/* the hash table: configurations anywhere                                   */

typedef struct hgroup {
    size_t key;      /* offset of its text in keys */
    size_t len, n;
    uint64_t hash;
} hgroup;

struct hashed {
    row *rows;
    size_t n_rows, cap_rows;
    hgroup *groups;
    size_t n_groups, cap_groups;
    char *keys;      /* every group's configuration texts */
    size_t keys_len, keys_cap;
    size_t *table;   /* group index + 1, 0 = empty; size table_cap (a power of 2) */
    size_t table_cap;
    char *key;       /* the current row's key */
    size_t key_cap;
};
typedef struct hashed hashed;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *np = realloc(*p, c * elem);
    if (!np) return 0;
    *p = np;
    *cap = c;
    return 1;
}

static int table_rehash(hashed *h)
{
    size_t cap = h->table_cap ? 2 * h->table_cap : 1024;
    size_t *t = calloc(cap, sizeof *t);
    if (!t) return 0;
    for (size_t g = 0; g < h->n_groups; ++g) {
        size_t i = (size_t)h->groups[g].hash & (cap - 1);
        while (t[i]) i = (i + 1) & (cap - 1);
        t[i] = g + 1;
    }
    free(h->table);
    h->table = t;
    h->table_cap = cap;
    return 1;
}

static os_status hash_take(loader *ld, const row *w, os_error *err)
{
    hashed *h = ld->hash;
    size_t len;
    if (!row_key(ld, &h->key, &h->key_cap, &len)) return oom(ld, err);
    uint64_t hv = hash_bytes(h->key, len);
    if (2 * (h->n_groups + 1) > h->table_cap && !table_rehash(h)) return oom(ld, err);
    size_t i = (size_t)hv & (h->table_cap - 1), g = (size_t)-1;
    for (; h->table[i]; i = (i + 1) & (h->table_cap - 1)) {
        const hgroup *c = &h->groups[h->table[i] - 1];
        if (c->hash == hv && c->len == len && memcmp(h->keys + c->key, h->key, len) == 0) {
            g = h->table[i] - 1;
            break;
        }
    }
    if (g == (size_t)-1) {
        g = h->n_groups;
        if (!grow((void **)&h->groups, &h->cap_groups, g + 1, sizeof *h->groups) ||
            !grow((void **)&h->keys, &h->keys_cap, h->keys_len + len, 1))
            return oom(ld, err);
        memcpy(h->keys + h->keys_len, h->key, len);
        h->groups[g] = (hgroup){h->keys_len, len, 0, hv};
        h->keys_len += len;
        h->table[i] = g + 1;
        h->n_groups = g + 1;
    }
    if (!grow((void **)&h->rows, &h->cap_rows, h->n_rows + 1, sizeof *h->rows)) return oom(ld, err);
    row r = *w;
    r.group = g;
    h->rows[h->n_rows++] = r;
    h->groups[g].n += 1;
    return OS_OK;
}

/* Rows ordered by group (a stable counting sort), then each group's values
 * sorted in one scratch buffer, groups to the sink in order. */
static os_status hash_compute(loader *ld, hashed *h, os_error *err)
{
    size_t ng = h->n_groups, nr = h->n_rows, max_n = 0;
    size_t *start = calloc(ng + 1, sizeof *start), *order = malloc(nr * sizeof *order);
    double *v = NULL;
    os_status st = OS_OK;
    if (!start || !order) goto nomem;
    for (size_t g = 0; g < ng; ++g) {
        start[g + 1] = start[g] + h->groups[g].n;
        if (h->groups[g].n > max_n) max_n = h->groups[g].n;
    }
    for (size_t i = 0; i < nr; ++i) order[start[h->rows[i].group]++] = i;
    if (!(v = malloc(max_n * sizeof *v))) goto nomem;
    for (size_t g = 0, at = 0; g < ng; ++g) {
        os_summary_group gr;
        memset(&gr, 0, sizeof gr);
        const char *p = h->keys + h->groups[g].key;
        for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) {
            gr.config[k] = p;
            p += strlen(p) + 1;
        }
        gr.n = h->groups[g].n;
        const size_t *idx = order + at;
        at += gr.n;
        for (size_t j = 0; j < gr.n; ++j) {
            const row *w = &h->rows[idx[j]];
            gr.n_diverged += w->diverged != 0;
            gr.n_success += !w->diverged && w->pe <= w->target;
            gr.n_reached += !isinf(w->steps);
        }
        for (size_t j = 0; j < gr.n; ++j) v[j] = h->rows[idx[j]].pe;
        quartiles(v, gr.n, &gr.pe_med, &gr.pe_q25, &gr.pe_q75);
        for (size_t j = 0; j < gr.n; ++j) v[j] = h->rows[idx[j]].gap;
        quartiles(v, gr.n, &gr.gap_med, &gr.gap_q25, &gr.gap_q75);
        for (size_t j = 0; j < gr.n; ++j) v[j] = h->rows[idx[j]].steps;
        sort_values(v, gr.n);
        gr.steps_med = os_quantile_sorted(v, gr.n, 0.5);
        if (!sink_put(ld->out, &gr)) goto nomem;
    }
    goto done;
nomem:
    st = oom(ld, err);
done:
    free(v);
    free(start);
    free(order);
    return st;
}

static os_status hash_pass(loader *ld, os_error *err)
{
    hashed h;
    memset(&h, 0, sizeof h);
    ld->hash = &h;
    os_status st = read_rows(ld, hash_take, err);
    if (!st) st = hash_compute(ld, &h, err);
    ld->hash = NULL;
    free(h.rows);
    free(h.groups);
    free(h.keys);
    free(h.table);
    free(h.key);
    return st;
}

/* ------------------------------------------------------------------------ */
/* the input and the passes                                                  */

/* An unlinked temporary file in $TMPDIR (else /tmp), or NULL. */
static FILE *temp_file(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/orbitsweep-summarize.XXXXXX", dir) >= sizeof path) return NULL;
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    unlink(path);
    FILE *f = fdopen(fd, "w+b");
    if (!f) close(fd);
    return f;
}

/* Open the input; a stream that cannot seek back (a pipe) is copied to
 * ld->tee as it is read, when a temporary file can be had. */
static os_status open_input(loader *ld, os_error *err)
{
    if (!(ld->file = fopen(ld->path, "rb"))) {
        os_set_error(err, "summarize: '%s': %s", ld->path, strerror(errno));
        return OS_EINPUT;
    }
    struct stat sb;
    if (fstat(fileno(ld->file), &sb) == 0 && S_ISREG(sb.st_mode) && fseeko(ld->file, 0, SEEK_CUR) == 0)
        ld->can_reread = 1;
    else if ((ld->tee = temp_file()) != NULL)
        ld->can_reread = 1;
    if (!os_csv_stream_from(&ld->in, ld->file, NULL, ld->tee, ld->read_bytes)) {
        os_set_error(err, "summarize: '%s': %s", ld->path, os_csv_why(&ld->in.r));
        return OS_EINPUT;
    }
    return OS_OK;
}

/* Read the input again from its start: seek back, or the copy then the rest. */
static os_status reopen_input(loader *ld, os_error *err)
{
    os_csv_stream_close(&ld->in);
    int ok;
    if (ld->tee) {
        ok = fflush(ld->tee) == 0 && fseeko(ld->tee, 0, SEEK_SET) == 0 &&
             os_csv_stream_from(&ld->in, ld->tee, ld->file, NULL, ld->read_bytes);
    } else {
        ok = fseeko(ld->file, 0, SEEK_SET) == 0 &&
             os_csv_stream_from(&ld->in, ld->file, NULL, NULL, ld->read_bytes);
    }
    if (!ok) {
        os_set_error(err, "summarize: '%s': reading it again: %s", ld->path, os_csv_why(&ld->in.r));
        return OS_ERUNTIME;
    }
    ld->n_rows = 0;
    return OS_OK;
}

static os_status summarize_into(const char *path, double target, os_summary_tuning *tune, sink *out,
                                size_t *n_trainings, os_error *err)
{
    if (!isnan(target) && (!(target > 0) || isinf(target))) {
        os_set_error(err, "--target: '%g' is out of range (a number > 0)", target);
        return OS_EINPUT;
    }
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.path = path;
    ld.target = target;
    ld.out = out;
    ld.read_bytes = tune && tune->read_bytes ? tune->read_bytes : READ_BYTES;
    const int hash_only = tune && tune->hash_grouping;
    os_status st = open_input(&ld, err);
    int used_hash = hash_only || !ld.can_reread;
    if (!st) {
        if (!hash_only && ld.can_reread) {
            st = stream_pass(&ld, err);
            if (st == GAVE_UP) {
                used_hash = 1;
                sink_reset(out);
                if (!(st = reopen_input(&ld, err))) st = hash_pass(&ld, err);
            }
        } else {
            st = hash_pass(&ld, err);
        }
    }
    if (tune) tune->used_hash = used_hash;
    *n_trainings = ld.n_rows;
    os_csv_stream_close(&ld.in);
    if (ld.file) fclose(ld.file);
    if (ld.tee) fclose(ld.tee);
    free(ld.key);
    free(ld.pe);
    free(ld.gap);
    free(ld.steps);
    free(ld.seen);
    return st;
}

/* ------------------------------------------------------------------------ */
/* the API                                                                   */

os_status os_summary_load_tuned(const char *path, double target, os_summary_tuning *tune, os_summary *out,
                                os_error *err)
{
    memset(out, 0, sizeof *out);
    sink k = {out, NULL, 0};
    os_status st = summarize_into(path, target, tune, &k, &out->n_trainings, err);
    out->target = target;
    if (st) os_summary_free(out);
    return st;
}

os_status os_summary_load(const char *path, double target, os_summary *out, os_error *err)
{
    return os_summary_load_tuned(path, target, NULL, out, err);
}

void os_summary_free(os_summary *s)
{
    for (size_t g = 0; g < s->n_groups; ++g) free(s->groups[g].key);
    free(s->groups);
    memset(s, 0, sizeof *s);
}

int os_summary_write(FILE *f, const os_summary *s)
{
    put_header(f);
    for (size_t g = 0; g < s->n_groups; ++g) put_group(f, &s->groups[g]);
    return ferror(f) ? -1 : 0;
}

os_status os_summary_spool_load(const char *path, double target, os_summary_tuning *tune,
                                os_summary_spool *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    out->target = target;
    if (!(out->f = temp_file()) && !(out->f = open_memstream(&out->mem, &out->mem_size))) {
        os_set_error(err, "summarize: no temporary file for the summary: %s", strerror(errno));
        return OS_ERUNTIME;
    }
    if (!out->mem) setvbuf(out->f, NULL, _IOFBF, 1 << 18);
    put_header(out->f);
    out->start = ftello(out->f);
    sink k = {NULL, out, 0};
    os_status st = summarize_into(path, target, tune, &k, &out->n_trainings, err);
    if (!st) {
        out->len = ftello(out->f);
        if (fflush(out->f) != 0 || ferror(out->f) || out->len < 0) {
            os_set_error(err, "summarize: writing the summary to a temporary file: %s", strerror(errno));
            st = OS_ERUNTIME;
        }
    }
    if (st) os_summary_spool_free(out);
    return st;
}

int os_summary_spool_write(FILE *f, os_summary_spool *s)
{
    if (s->mem) { /* open_memstream: the text is s->mem once flushed */
        if (fflush(s->f) != 0) return -1;
        fwrite(s->mem, 1, (size_t)s->len, f);
        return ferror(f) ? -1 : 0;
    }
    if (fseeko(s->f, 0, SEEK_SET) != 0) return -1;
    char *buf = malloc(1 << 18);
    if (!buf) return -1;
    int rc = 0;
    for (off_t left = s->len; left > 0;) {
        const size_t want = left < (1 << 18) ? (size_t)left : (size_t)1 << 18;
        const size_t got = fread(buf, 1, want, s->f);
        if (got == 0) {
            rc = -1;
            break;
        }
        fwrite(buf, 1, got, f);
        left -= (off_t)got;
    }
    free(buf);
    return rc || ferror(f) ? -1 : 0;
}

void os_summary_spool_free(os_summary_spool *s)
{
    if (s->f) fclose(s->f);
    free(s->mem);
    memset(s, 0, sizeof *s);
}

os_status os_summarize(const char *path, FILE *out, double target, os_error *err)
{
    os_summary_spool s;
    os_status st = os_summary_spool_load(path, target, NULL, &s, err);
    if (st) return st;
    if (os_summary_spool_write(out, &s) != 0) {
        os_set_error(err, "summarize: write failed");
        st = OS_ERUNTIME;
    }
    os_summary_spool_free(&s);
    return st;
}
