/* summarize.c — one row per configuration of a results table; see summarize.h.
 *
 * The table is read whole (csv.c) before anything is written. Columns are
 * found by header name, so extra or reordered columns are fine. Rows are
 * grouped by the exact text of the configuration columns through a hash
 * table (no reliance on adjacent rows), groups keep their order of first
 * appearance.
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

#include "csv.h"

/* The configuration columns: the axis table's (axes.h), in its order. */
static const char *config_column(int k) { return os_axes[k].column; }

enum { M_PARAM_ERROR, M_LOSS_GAP, M_STEPS, M_DIVERGED, N_METRIC };
static const char *const metric_columns[N_METRIC] = {"param_error", "loss_gap", "steps_to_target",
                                                     "diverged"};

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

/* ------------------------------------------------------------------------ */
/* reading                                                                   */

typedef struct row {
    size_t group;
    int diverged;
    double pe, gap, steps; /* +inf for nan, diverged, not reached */
} row;

typedef struct group_key {
    size_t len;
    uint64_t hash;
} group_key;

typedef struct loader {
    const char *path;
    os_csv r;
    int n_cols;
    int cfg_col[OS_SUMMARY_N_CONFIG], met_col[N_METRIC];
    row *rows;
    size_t n_rows, cap_rows;
    os_summary_group *groups;
    size_t n_groups, cap_groups;
    group_key *keys;    /* per group */
    size_t cap_keys;
    size_t *table;      /* group index + 1, 0 = empty; size table_cap (a power of 2) */
    size_t table_cap;
    char *key;          /* the current row's key */
    size_t key_cap;
} loader;

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

static os_status oom(const loader *ld, os_error *err)
{
    os_set_error(err, "summarize: '%s': out of memory", ld->path);
    return OS_ERUNTIME;
}

/* Column indices by header name; every configuration and metric column is
 * required, and must appear once. */
static os_status read_header(loader *ld, os_error *err)
{
    const os_csv *r = &ld->r;
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
                return OS_EINPUT;
            }
            col = i;
        }
        if (col < 0) {
            os_set_error(err, "summarize: '%s': line %d: the header has no column '%s'", ld->path,
                         r->line, name);
            return OS_EINPUT;
        }
        if (k < OS_SUMMARY_N_CONFIG)
            ld->cfg_col[k] = col;
        else
            ld->met_col[k - OS_SUMMARY_N_CONFIG] = col;
    }
    return OS_OK;
}

/* The whole field as a number (strtod syntax, so nan and inf too). */
static int parse_num(const char *s, double *v)
{
    char *end;
    if (!*s || isspace((unsigned char)*s)) return 0;
    *v = strtod(s, &end);
    return *end == 0;
}

static os_status bad_field(const loader *ld, int m, const char *what, os_error *err)
{
    int col = ld->met_col[m];
    os_set_error(err, "summarize: '%s': line %d, column %d (%s): '%.60s' is not %s", ld->path,
                 ld->r.line, col + 1, metric_columns[m], ld->r.fields[col], what);
    return OS_EINPUT;
}

static os_status parse_metrics(const loader *ld, row *w, os_error *err)
{
    char *const *f = ld->r.fields;
    double d;
    if (!parse_num(f[ld->met_col[M_DIVERGED]], &d) || !(d == 0 || d == 1))
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
    if (w->diverged) w->pe = w->gap = w->steps = INFINITY;
    if (isnan(w->pe)) w->pe = INFINITY;
    if (isnan(w->gap)) w->gap = INFINITY;
    if (isnan(w->steps)) w->steps = INFINITY;
    return OS_OK;
}

/* FNV-1a over the key bytes. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; ++i) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int table_rehash(loader *ld)
{
    size_t cap = ld->table_cap ? 2 * ld->table_cap : 1024;
    size_t *t = calloc(cap, sizeof *t);
    if (!t) return 0;
    for (size_t g = 0; g < ld->n_groups; ++g) {
        size_t i = (size_t)ld->keys[g].hash & (cap - 1);
        while (t[i]) i = (i + 1) & (cap - 1);
        t[i] = g + 1;
    }
    free(ld->table);
    ld->table = t;
    ld->table_cap = cap;
    return 1;
}

/* The group of the current row's configuration, a new one if unseen. The
 * key is the configuration texts, each with its NUL, which is unambiguous
 * since a field holds no NUL. */
static os_status find_group(loader *ld, size_t *group, os_error *err)
{
    size_t len = 0;
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) len += strlen(ld->r.fields[ld->cfg_col[k]]) + 1;
    if (!grow((void **)&ld->key, &ld->key_cap, len, 1)) return oom(ld, err);
    char *p = ld->key;
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) {
        const char *f = ld->r.fields[ld->cfg_col[k]];
        size_t n = strlen(f) + 1;
        memcpy(p, f, n);
        p += n;
    }
    uint64_t h = hash_bytes(ld->key, len);
    if (2 * (ld->n_groups + 1) > ld->table_cap && !table_rehash(ld)) return oom(ld, err);
    size_t i = (size_t)h & (ld->table_cap - 1);
    for (; ld->table[i]; i = (i + 1) & (ld->table_cap - 1)) {
        size_t g = ld->table[i] - 1;
        if (ld->keys[g].hash == h && ld->keys[g].len == len &&
            memcmp(ld->groups[g].key, ld->key, len) == 0) {
            *group = g;
            return OS_OK;
        }
    }
    size_t g = ld->n_groups;
    if (!grow((void **)&ld->groups, &ld->cap_groups, g + 1, sizeof *ld->groups) ||
        !grow((void **)&ld->keys, &ld->cap_keys, g + 1, sizeof *ld->keys))
        return oom(ld, err);
    os_summary_group *gr = &ld->groups[g];
    memset(gr, 0, sizeof *gr);
    if (!(gr->key = malloc(len))) return oom(ld, err);
    memcpy(gr->key, ld->key, len);
    p = gr->key;
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) {
        gr->config[k] = p;
        p += strlen(p) + 1;
    }
    ld->keys[g] = (group_key){len, h};
    ld->table[i] = g + 1;
    ld->n_groups = g + 1;
    *group = g;
    return OS_OK;
}

static os_status read_rows(loader *ld, os_error *err)
{
    int rc = os_csv_next(&ld->r);
    if (rc == 0) {
        os_set_error(err, "summarize: '%s': the file is empty (no header)", ld->path);
        return OS_EINPUT;
    }
    if (rc == 1) {
        os_status st = read_header(ld, err);
        if (st) return st;
        rc = os_csv_next(&ld->r);
    }
    for (; rc == 1; rc = os_csv_next(&ld->r)) {
        if (ld->r.n_fields != ld->n_cols) {
            os_set_error(err, "summarize: '%s': line %d: %d fields where the header has %d",
                         ld->path, ld->r.line, ld->r.n_fields, ld->n_cols);
            return OS_EINPUT;
        }
        row w;
        os_status st;
        if ((st = parse_metrics(ld, &w, err)) || (st = find_group(ld, &w.group, err))) return st;
        if (!grow((void **)&ld->rows, &ld->cap_rows, ld->n_rows + 1, sizeof *ld->rows))
            return oom(ld, err);
        ld->rows[ld->n_rows++] = w;
    }
    if (rc == OS_CSV_NOMEM) return oom(ld, err);
    if (rc < 0) {
        os_set_error(err, "summarize: '%s': %s", ld->path, ld->r.problem);
        return OS_EINPUT;
    }
    if (ld->n_rows == 0) {
        os_set_error(err, "summarize: '%s': no trainings (a header but no rows)", ld->path);
        return OS_EINPUT;
    }
    return OS_OK;
}

/* ------------------------------------------------------------------------ */
/* statistics                                                                */

static void quartiles(double *v, size_t n, double *med, double *q25, double *q75)
{
    qsort(v, n, sizeof *v, cmp_double);
    *med = os_quantile_sorted(v, n, 0.5);
    *q25 = os_quantile_sorted(v, n, 0.25);
    *q75 = os_quantile_sorted(v, n, 0.75);
}

/* Rows ordered by group (a stable counting sort), then each group's values
 * sorted in one scratch buffer. */
static os_status compute(loader *ld, double target, os_error *err)
{
    size_t ng = ld->n_groups, nr = ld->n_rows, max_n = 0;
    size_t *start = calloc(ng + 1, sizeof *start), *order = malloc(nr * sizeof *order);
    if (!start || !order) {
        free(start);
        free(order);
        return oom(ld, err);
    }
    for (size_t i = 0; i < nr; ++i) ld->groups[ld->rows[i].group].n += 1;
    for (size_t g = 0; g < ng; ++g) {
        start[g + 1] = start[g] + ld->groups[g].n;
        if (ld->groups[g].n > max_n) max_n = ld->groups[g].n;
    }
    for (size_t i = 0; i < nr; ++i) order[start[ld->rows[i].group]++] = i;
    double *v = malloc(max_n * sizeof *v);
    if (!v) {
        free(start);
        free(order);
        return oom(ld, err);
    }
    for (size_t g = 0, at = 0; g < ng; ++g) {
        os_summary_group *gr = &ld->groups[g];
        const size_t *idx = order + at;
        at += gr->n;
        for (size_t j = 0; j < gr->n; ++j) {
            const row *w = &ld->rows[idx[j]];
            gr->n_diverged += w->diverged != 0;
            gr->n_success += !w->diverged && w->pe <= target;
            gr->n_reached += !isinf(w->steps);
        }
        for (size_t j = 0; j < gr->n; ++j) v[j] = ld->rows[idx[j]].pe;
        quartiles(v, gr->n, &gr->pe_med, &gr->pe_q25, &gr->pe_q75);
        for (size_t j = 0; j < gr->n; ++j) v[j] = ld->rows[idx[j]].gap;
        quartiles(v, gr->n, &gr->gap_med, &gr->gap_q25, &gr->gap_q75);
        for (size_t j = 0; j < gr->n; ++j) v[j] = ld->rows[idx[j]].steps;
        qsort(v, gr->n, sizeof *v, cmp_double);
        gr->steps_med = os_quantile_sorted(v, gr->n, 0.5);
    }
    free(v);
    free(start);
    free(order);
    return OS_OK;
}

os_status os_summary_load(const char *path, double target, os_summary *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(target > 0) || isinf(target)) {
        os_set_error(err, "--target: '%g' is out of range (a number > 0)", target);
        return OS_EINPUT;
    }
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.path = path;
    if (!os_csv_open(&ld.r, path, (size_t)-1)) { /* a results table may be large: memory is the limit */
        os_set_error(err, "summarize: '%s': %s", path, os_csv_why(&ld.r));
        return OS_EINPUT;
    }
    os_status st = read_rows(&ld, err);
    if (!st) st = compute(&ld, target, err);
    os_csv_close(&ld.r);
    free(ld.rows);
    free(ld.keys);
    free(ld.table);
    free(ld.key);
    out->groups = ld.groups;
    out->n_groups = ld.n_groups;
    out->n_trainings = ld.n_rows;
    out->target = target;
    if (st) os_summary_free(out);
    return st;
}

void os_summary_free(os_summary *s)
{
    for (size_t g = 0; g < s->n_groups; ++g) free(s->groups[g].key);
    free(s->groups);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ */
/* writing                                                                   */

static void put_num(FILE *f, double v)
{
    char b[40];
    os_fmt_double(b, sizeof b, v);
    fputc(',', f);
    fputs(b, f);
}

int os_summary_write(FILE *f, const os_summary *s)
{
    for (int k = 0; k < OS_SUMMARY_N_CONFIG; ++k) fprintf(f, "%s,", config_column(k));
    fputs("n,success_rate,divergence_rate,param_error_median,param_error_q25,param_error_q75,"
          "loss_gap_median,loss_gap_q25,loss_gap_q75,steps_to_target_median,"
          "steps_to_target_reached\n", f);
    for (size_t g = 0; g < s->n_groups; ++g) {
        const os_summary_group *gr = &s->groups[g];
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
    return ferror(f) ? -1 : 0;
}

os_status os_summarize(const char *path, FILE *out, double target, os_error *err)
{
    os_summary s;
    os_status st = os_summary_load(path, target, &s, err);
    if (st) return st;
    if (os_summary_write(out, &s) != 0) {
        os_set_error(err, "summarize: write failed");
        st = OS_ERUNTIME;
    }
    os_summary_free(&s);
    return st;
}
