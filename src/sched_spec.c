/* sched_spec.c — the scheduler table: each scheduler's keys, their
 * defaults and valid values, and the parser of `NAME[:key=value,...]`,
 * `table:FILE`, `sequential(SPEC;SPEC;...;milestones=a/b)` and
 * `chain(SPEC;SPEC;...)`.
 *
 * Keys are PyTorch's keyword names in lower case; list values are joined by
 * '/'. A parsed scheduler gets a canonical name (every key in table order,
 * numbers in shortest round-trip form, enum keys by name), which is what
 * the results table's scheduler column and the configuration hash see.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "orbitsweep/orbitsweep.h"
#include "util.h"

enum { K_REAL, K_INT, K_MILESTONES, K_ENUM };

typedef struct sched_key {
    const char *name;
    int type;
    size_t off;     /* the value's place in os_sched_part */
    double dflt;    /* NAN: required */
    double min;     /* valid values: > min (min_open) or >= min */
    int min_open;
    int optional;   /* 1: unset (dflt) means "none" and is left out of the name */
    const char *const *names; /* K_ENUM: the values' names (NULL-terminated), stored as their index */
} sched_key;

#define OS_SCHED_MAX_KEYS 9

typedef struct sched_def {
    const char *name;
    sched_key keys[OS_SCHED_MAX_KEYS];
    /* a check across keys: returns the reason, or NULL */
    const char *(*check)(const os_sched_part *s);
} sched_def;

#define KEY_REAL(n, field, d, mn, open) {n, K_REAL, offsetof(os_sched_part, field), d, mn, open, 0, NULL}
#define KEY_INT(n, field, d, mn) {n, K_INT, offsetof(os_sched_part, field), d, mn, 0, 0, NULL}
#define KEY_ENUM(n, field, names) {n, K_ENUM, offsetof(os_sched_part, field), 0, 0, 0, 0, names}

static const char *const cyclic_modes[] = {"triangular", "triangular2", "exp_range", NULL};
static const char *const anneal_names[] = {"cos", "linear", NULL};
static const char *const bool_names[] = {"false", "true", NULL};
static const char *const cm_names[] = {"auto", "true", "false", NULL};
static const char *const plateau_modes[] = {"min", "max", NULL};
static const char *const thresh_modes[] = {"rel", "abs", NULL};

static const char *multiplicative_check(const os_sched_part *s)
{
    return s->end >= 0 && s->end < s->start ? "end must be >= start" : NULL;
}

static const char *constant_check(const os_sched_part *s)
{
    return s->factor > 1 ? "factor must be in (0, 1] (0 divides by zero in PyTorch)" : NULL;
}

static const char *linear_check(const os_sched_part *s)
{
    if (s->start_factor > 1) return "start_factor must be in (0, 1] (0 divides by zero in PyTorch)";
    return s->end_factor > 1 ? "end_factor must be in [0, 1]" : NULL;
}

static const char *onecycle_check(const os_sched_part *s)
{
    return s->pct_start > 1 ? "pct_start must be in [0, 1]" : NULL;
}

static const char *plateau_check(const os_sched_part *s)
{
    return s->factor >= 1 ? "factor must be in [0, 1)" : NULL;
}

/* clang-format off */
static const sched_def sched_defs[OS_SCHED_COUNT] = {
    [OS_SCHED_NONE] = {"none", {{0}}, NULL},
    [OS_SCHED_CONSTANT] = {"constant", {
        KEY_REAL("factor", factor, 1.0 / 3, 0, 1),
        KEY_INT("total_iters", total_iters, 5, 0)}, constant_check},
    [OS_SCHED_MULTISTEP] = {"multistep", {
        {"milestones", K_MILESTONES, 0, NAN, 0, 0, 0, NULL},
        KEY_REAL("gamma", gamma, 0.1, 0, 1)}, NULL},
    [OS_SCHED_MULTIPLICATIVE] = {"multiplicative", {
        KEY_REAL("factor", factor, NAN, 0, 1),
        KEY_INT("start", start, 1, 1),
        {"end", K_INT, offsetof(os_sched_part, end), -1, 1, 0, 1, NULL},
        KEY_INT("every", every, 1, 1)}, multiplicative_check},
    [OS_SCHED_STEP] = {"step", {
        KEY_INT("step_size", step_size, NAN, 1),
        KEY_REAL("gamma", gamma, 0.1, 0, 1)}, NULL},
    [OS_SCHED_EXPONENTIAL] = {"exponential", {
        KEY_REAL("gamma", gamma, NAN, 0, 1)}, NULL},
    [OS_SCHED_COSINE] = {"cosine", {
        KEY_INT("t_max", t_max, NAN, 1),
        KEY_REAL("eta_min", eta_min, 0, 0, 0)}, NULL},
    [OS_SCHED_LINEAR] = {"linear", {
        KEY_REAL("start_factor", start_factor, 1.0 / 3, 0, 1),
        KEY_REAL("end_factor", end_factor, 1.0, 0, 0),
        KEY_INT("total_iters", total_iters, 5, 1)}, linear_check},
    [OS_SCHED_POLYNOMIAL] = {"polynomial", {
        KEY_INT("total_iters", total_iters, 5, 1),
        KEY_REAL("power", power, 1.0, 0, 1)}, NULL},
    [OS_SCHED_WARM_RESTARTS] = {"cosine_warm_restarts", {
        KEY_INT("t_0", t_max, NAN, 1),
        KEY_INT("t_mult", t_mult, 1, 1),
        KEY_REAL("eta_min", eta_min, 0, 0, 0)}, NULL},
    [OS_SCHED_CYCLIC] = {"cyclic", {
        KEY_REAL("base_lr", base_lr, NAN, 0, 0),
        KEY_INT("step_size_up", step_up, 2000, 1),
        {"step_size_down", K_INT, offsetof(os_sched_part, step_down), -1, 1, 0, 1, NULL},
        KEY_ENUM("mode", mode, cyclic_modes),
        KEY_REAL("gamma", gamma, 1.0, 0, 1),
        KEY_ENUM("cycle_momentum", cycle_momentum, cm_names),
        KEY_REAL("base_momentum", base_m, 0.8, 0, 0),
        KEY_REAL("max_momentum", max_m, 0.9, 0, 0)}, NULL},
    [OS_SCHED_ONECYCLE] = {"onecycle", {
        KEY_INT("total_steps", total_iters, NAN, 1),
        KEY_REAL("pct_start", pct_start, 0.3, 0, 0),
        KEY_ENUM("anneal_strategy", mode, anneal_names),
        KEY_REAL("div_factor", div_factor, 25, 0, 1),
        KEY_REAL("final_div_factor", final_div_factor, 1e4, 0, 1),
        KEY_ENUM("three_phase", mode2, bool_names),
        KEY_ENUM("cycle_momentum", cycle_momentum, cm_names),
        KEY_REAL("base_momentum", base_m, 0.85, 0, 0),
        KEY_REAL("max_momentum", max_m, 0.95, 0, 0)}, onecycle_check},
    [OS_SCHED_PLATEAU] = {"plateau", {
        KEY_ENUM("mode", mode, plateau_modes),
        KEY_REAL("factor", factor, 0.1, 0, 0),
        KEY_INT("patience", patience, 10, 0),
        KEY_REAL("threshold", threshold, 1e-4, 0, 0),
        KEY_ENUM("threshold_mode", mode2, thresh_modes),
        KEY_INT("cooldown", cooldown, 0, 0),
        KEY_REAL("min_lr", min_lr, 0, 0, 0),
        KEY_REAL("eps", eps, 1e-8, 0, 0)}, plateau_check},
    [OS_SCHED_TABLE] = {"table", {{0}}, NULL},          /* table:FILE (parse_table) */
    [OS_SCHED_SEQUENTIAL] = {"sequential", {{0}}, NULL}, /* sequential(SPEC;...;milestones=a/b) */
    [OS_SCHED_CHAIN] = {"chain", {{0}}, NULL},           /* chain(SPEC;...) */
};
/* clang-format on */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* "none, constant, ..." */
static void sched_names(char *buf, size_t size)
{
    size_t w = 0;
    buf[0] = 0;
    for (int k = 0; k < OS_SCHED_COUNT && w < size; ++k)
        w += (size_t)snprintf(buf + w, size - w, "%s%s", k ? ", " : "", sched_defs[k].name);
}

/* "a/b": ascending milestones into m[0..*n) (at most max); 0 when not. */
static int parse_milestones(const char *v, size_t vl, int64_t *m, int *n, int max, int *full)
{
    const char *q = v, *vend = v + vl;
    for (;;) {
        const char *slash = memchr(q, '/', (size_t)(vend - q));
        const char *stop = slash ? slash : vend;
        if (*n == max) {
            *full = 1;
            return 0;
        }
        int64_t x;
        if (!os_parse_int64(q, (size_t)(stop - q), &x) || x < 0) return 0;
        m[(*n)++] = x;
        if (!slash) return 1;
        q = slash + 1;
    }
}

/* One key's value into s; 0 when it is not a valid value. */
static int set_key(os_sched_part *s, const sched_key *k, const char *v, size_t vl, const char *text,
                   os_error *err, int *failed)
{
    char *field = (char *)s + k->off;
    if (k->type == K_MILESTONES) {
        int full = 0;
        if (parse_milestones(v, vl, s->milestones, &s->n_milestones, OS_SCHED_MAX_MILESTONES, &full)) return 1;
        if (full) {
            os_set_error(err, "--scheduler: '%s': at most %d milestones", text, OS_SCHED_MAX_MILESTONES);
            *failed = 1;
        }
        return 0;
    }
    if (k->type == K_ENUM) {
        for (int i = 0; k->names[i]; ++i)
            if (strlen(k->names[i]) == vl && strncmp(v, k->names[i], vl) == 0) {
                *(int *)field = i;
                return 1;
            }
        return 0;
    }
    double x;
    int64_t i = 0;
    if (k->type == K_INT ? !os_parse_int64(v, vl, &i) : !os_parse_number(v, vl, &x)) return 0;
    if (k->type == K_INT) x = (double)i;
    if (k->min_open ? !(x > k->min) : !(x >= k->min)) return 0;
    if (k->type == K_INT)
        *(int64_t *)field = i;
    else
        *(double *)field = x;
    return 1;
}

/* The canonical name of a part: NAME:key=value,... with every key in table
 * order. Returns the length written, or -1 when it does not fit. */
static int canonical_part(const os_sched_part *s, const char *path, char *o, size_t room)
{
    const sched_def *d = &sched_defs[s->kind];
    int w = snprintf(o, room, "%s", d->name);
    if (s->kind == OS_SCHED_TABLE) w += snprintf(o + w, w < (int)room ? room - (size_t)w : 0, ":%s", path);
    for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name && w < (int)room; ++i) {
        const sched_key *k = &d->keys[i];
        const char *field = (const char *)s + k->off;
        if (k->optional && k->type == K_INT && *(const int64_t *)field == (int64_t)k->dflt) continue;
        w += snprintf(o + w, room - (size_t)w, "%s%s=", i ? "," : ":", k->name);
        if (w >= (int)room) break;
        if (k->type == K_MILESTONES) {
            for (int m = 0; m < s->n_milestones && w < (int)room; ++m)
                w += snprintf(o + w, room - (size_t)w, "%s%lld", m ? "/" : "", (long long)s->milestones[m]);
        } else if (k->type == K_ENUM) {
            w += snprintf(o + w, room - (size_t)w, "%s", k->names[*(const int *)field]);
        } else if (k->type == K_INT) {
            w += snprintf(o + w, room - (size_t)w, "%lld", (long long)*(const int64_t *)field);
        } else {
            char num[64];
            os_fmt_double(num, sizeof num, *(const double *)field);
            w += snprintf(o + w, room - (size_t)w, "%s", num);
        }
    }
    return w < (int)room ? w : -1;
}

/* table:FILE — a CSV with the header `factor` and one multiplier per line,
 * for scheduler steps 0, 1, 2, ... (finite, >= 0). */
static os_status read_table(const char *text, const char *path, os_sched_part *s, os_error *err)
{
    os_csv r;
    if (!*path) {
        os_set_error(err, "--scheduler: '%s': table needs a file (table:FILE)", text);
        return OS_EINPUT;
    }
    if (!os_csv_open(&r, path, OS_CSV_MAX_BYTES)) {
        os_set_error(err, "--scheduler: '%s': cannot read %s: %s", text, path, os_csv_why(&r));
        return OS_EINPUT;
    }
    double *v = NULL;
    size_t n = 0, cap = 0;
    int rc, header = 0;
    os_status st = OS_OK;
    while ((rc = os_csv_next(&r)) == 1) {
        if (r.n_fields != 1) {
            os_set_error(err, "--scheduler: '%s': %s line %d: expected one field, got %d", text, path, r.line,
                         r.n_fields);
            st = OS_EINPUT;
            break;
        }
        if (!header) {
            header = 1;
            if (strcmp(r.fields[0], "factor") != 0) {
                os_set_error(err, "--scheduler: '%s': %s line %d: expected the header 'factor', got '%s'", text,
                             path, r.line, r.fields[0]);
                st = OS_EINPUT;
                break;
            }
            continue;
        }
        double x;
        if (!os_parse_number(r.fields[0], strlen(r.fields[0]), &x) || x < 0) {
            os_set_error(err, "--scheduler: '%s': %s line %d: '%s' is not a finite number >= 0", text, path,
                         r.line, r.fields[0]);
            st = OS_EINPUT;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            double *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                os_set_error(err, "out of memory reading %s", path);
                st = OS_ERUNTIME;
                break;
            }
            v = nv;
        }
        v[n++] = x;
    }
    if (!st && rc < 0) {
        os_set_error(err, "--scheduler: '%s': %s line %d: %s", text, path, r.line + 1, os_csv_why(&r));
        st = rc == OS_CSV_NOMEM ? OS_ERUNTIME : OS_EINPUT;
    }
    if (!st && n == 0) {
        os_set_error(err, "--scheduler: '%s': %s has no multipliers (a header 'factor', then one per step)", text,
                     path);
        st = OS_EINPUT;
    }
    os_csv_close(&r);
    if (st) {
        free(v);
        return st;
    }
    s->tab = v;
    s->tab_len = (int64_t)n;
    return OS_OK;
}

/* One scheduler (no composites) from text[0..len) into *s; its canonical
 * name into name. whole: the user's spec, for messages. */
static os_status parse_part(const char *text, size_t len, const char *whole, os_sched_part *s, char *name,
                            size_t room, os_error *err)
{
    memset(s, 0, sizeof *s);
    const char *colon = memchr(text, ':', len);
    const size_t nl = colon ? (size_t)(colon - text) : len;
    s->kind = -1;
    for (int k = 0; k < OS_SCHED_COUNT; ++k)
        if (strlen(sched_defs[k].name) == nl && strncmp(text, sched_defs[k].name, nl) == 0) s->kind = k;
    if (s->kind < 0) {
        char names[512];
        sched_names(names, sizeof names);
        os_set_error(err, "--scheduler: '%s': unknown scheduler '%.*s' (%s)", whole, (int)nl, text, names);
        return OS_EINPUT;
    }
    const sched_def *d = &sched_defs[s->kind];
    if (s->kind == OS_SCHED_SEQUENTIAL || s->kind == OS_SCHED_CHAIN) {
        os_set_error(err, "--scheduler: '%s': %s takes its schedulers in parentheses: %s(SPEC;SPEC;...)", whole,
                     d->name, d->name);
        return OS_EINPUT;
    }
    if (s->kind == OS_SCHED_TABLE) {
        char path[1024];
        const size_t pl = colon ? len - nl - 1 : 0;
        if (pl >= sizeof path) {
            os_set_error(err, "--scheduler: '%s': file name too long", whole);
            return OS_EINPUT;
        }
        memcpy(path, colon ? colon + 1 : "", pl);
        path[pl] = 0;
        os_status st = read_table(whole, path, s, err);
        if (st) return st;
        if (canonical_part(s, path, name, room) < 0) {
            os_set_error(err, "--scheduler: '%s': too long", whole);
            return OS_EINPUT;
        }
        return OS_OK;
    }
    for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name; ++i) {
        const sched_key *k = &d->keys[i];
        if (k->type == K_INT && !isnan(k->dflt)) *(int64_t *)((char *)s + k->off) = (int64_t)k->dflt;
        if (k->type == K_REAL) *(double *)((char *)s + k->off) = k->dflt;
    }
    int seen[OS_SCHED_MAX_KEYS] = {0};
    const char *end = text + len;
    for (const char *p = colon ? colon + 1 : NULL; p;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const size_t kvl = comma ? (size_t)(comma - p) : (size_t)(end - p);
        const char *eq = memchr(p, '=', kvl);
        if (!eq) {
            os_set_error(err, "--scheduler: '%s': expected key=value, got '%.*s'", whole, (int)kvl, p);
            return OS_EINPUT;
        }
        const size_t kl = (size_t)(eq - p), vl = kvl - kl - 1;
        int ki = -1;
        for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name; ++i)
            if (strlen(d->keys[i].name) == kl && strncmp(p, d->keys[i].name, kl) == 0) ki = i;
        if (ki < 0) {
            os_set_error(err, "--scheduler: '%s': unknown key '%.*s' for %s", whole, (int)kl, p, d->name);
            return OS_EINPUT;
        }
        int failed = 0;
        if (!set_key(s, &d->keys[ki], eq + 1, vl, whole, err, &failed)) {
            if (!failed)
                os_set_error(err, "--scheduler: '%s': bad value '%.*s' for %.*s", whole, (int)vl, eq + 1, (int)kl, p);
            return OS_EINPUT;
        }
        seen[ki] = 1;
        p = comma ? comma + 1 : NULL;
    }
    for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name; ++i)
        if (!seen[i] && isnan(d->keys[i].dflt)) {
            os_set_error(err, "--scheduler: '%s': %s is required for %s", whole, d->keys[i].name, d->name);
            return OS_EINPUT;
        }
    const char *why = d->check ? d->check(s) : NULL;
    if (why) {
        os_set_error(err, "--scheduler: '%s': %s: %s", whole, d->name, why);
        return OS_EINPUT;
    }
    qsort(s->milestones, (size_t)s->n_milestones, sizeof s->milestones[0], cmp_i64);
    if (canonical_part(s, NULL, name, room) < 0) {
        os_set_error(err, "--scheduler: '%s': too long", whole);
        return OS_EINPUT;
    }
    return OS_OK;
}

/* sequential(SPEC;SPEC;...;milestones=a/b) and chain(SPEC;SPEC;...): 2 to
 * OS_SCHED_MAX_PARTS parts, each a scheduler that PyTorch can chain (not
 * none, plateau, cyclic, onecycle or another composite). */
static os_status parse_composite(const char *text, int kind, const char *open, os_sched_spec *out, os_error *err)
{
    os_sched *s = &out->s;
    const char *name = sched_defs[kind].name;
    const size_t tl = strlen(text);
    if (tl < 2 || text[tl - 1] != ')') {
        os_set_error(err, "--scheduler: '%s': %s(...) must end with ')'", text, name);
        return OS_EINPUT;
    }
    s->kind = kind;
    int w = snprintf(out->name, sizeof out->name, "%s(", name), have_ms = 0;
    const char *p = open + 1, *end = text + tl - 1;
    for (;;) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        const size_t len = (size_t)(stop - p);
        if (memchr(p, '(', len) || memchr(p, ')', len)) {
            os_set_error(err, "--scheduler: '%s': schedulers do not nest: '%.*s'", text, (int)len, p);
            return OS_EINPUT;
        }
        if (len > 11 && strncmp(p, "milestones=", 11) == 0) {
            if (kind != OS_SCHED_SEQUENTIAL || semi) {
                os_set_error(err, "--scheduler: '%s': milestones=... comes last, in sequential(...) only", text);
                return OS_EINPUT;
            }
            int n = 0, full = 0;
            if (!parse_milestones(p + 11, len - 11, s->at, &n, OS_SCHED_MAX_PARTS - 1, &full) ||
                n != s->n - 1) {
                os_set_error(err, "--scheduler: '%s': sequential needs %d milestones (one fewer than its "
                                  "schedulers), ascending, >= 1: '%.*s'", text, s->n - 1, (int)len, p);
                return OS_EINPUT;
            }
            for (int i = 0; i < n; ++i)
                if (s->at[i] < 1 || (i && s->at[i] <= s->at[i - 1])) {
                    os_set_error(err, "--scheduler: '%s': sequential's milestones must be ascending and >= 1",
                                 text);
                    return OS_EINPUT;
                }
            have_ms = 1;
            w += snprintf(out->name + w, w < (int)sizeof out->name ? sizeof out->name - (size_t)w : 0,
                          ";milestones=");
            for (int i = 0; i < n && w < (int)sizeof out->name; ++i)
                w += snprintf(out->name + w, sizeof out->name - (size_t)w, "%s%lld", i ? "/" : "",
                              (long long)s->at[i]);
            break;
        }
        if (s->n == OS_SCHED_MAX_PARTS) {
            os_set_error(err, "--scheduler: '%s': at most %d schedulers in %s", text, OS_SCHED_MAX_PARTS, name);
            return OS_EINPUT;
        }
        os_sched_part *part = &s->part[s->n];
        char pname[1024];
        os_status st = parse_part(p, len, text, part, pname, sizeof pname, err);
        if (st) return st;
        s->n += 1;
        const int k = part->kind;
        if (k == OS_SCHED_NONE || k == OS_SCHED_PLATEAU || k == OS_SCHED_CYCLIC || k == OS_SCHED_ONECYCLE) {
            os_set_error(err, "--scheduler: '%s': %s cannot be part of %s (%s)", text, sched_defs[k].name, name,
                         k == OS_SCHED_PLATEAU ? "it steps on a metric" : k == OS_SCHED_NONE
                                                                            ? "no scheduler"
                                                                            : "it overwrites the lr and momentum");
            return OS_EINPUT;
        }
        if (w < (int)sizeof out->name)
            w += snprintf(out->name + w, sizeof out->name - (size_t)w, "%s%s", s->n > 1 ? ";" : "", pname);
        if (!semi) break;
        p = semi + 1;
    }
    if (s->n < 2) {
        os_set_error(err, "--scheduler: '%s': %s needs at least two schedulers", text, name);
        return OS_EINPUT;
    }
    if (kind == OS_SCHED_SEQUENTIAL && !have_ms) {
        os_set_error(err, "--scheduler: '%s': sequential needs milestones=a/b/... (last)", text);
        return OS_EINPUT;
    }
    if (w < (int)sizeof out->name) w += snprintf(out->name + w, sizeof out->name - (size_t)w, ")");
    if (w >= (int)sizeof out->name) {
        os_set_error(err, "--scheduler: '%s': too long", text);
        return OS_EINPUT;
    }
    return OS_OK;
}

os_status os_sched_parse(const char *text, os_sched_spec *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->text, sizeof out->text, "%s", text);
    const char *open = strchr(text, '('), *colon = strchr(text, ':');
    os_status st;
    if (open && (!colon || open < colon)) {
        int kind = -1;
        for (int k = OS_SCHED_SEQUENTIAL; k <= OS_SCHED_CHAIN; ++k)
            if (strlen(sched_defs[k].name) == (size_t)(open - text) &&
                strncmp(text, sched_defs[k].name, (size_t)(open - text)) == 0)
                kind = k;
        if (kind < 0) {
            os_set_error(err, "--scheduler: '%s': only sequential(...) and chain(...) take parentheses", text);
            return OS_EINPUT;
        }
        st = parse_composite(text, kind, open, out, err);
    } else {
        st = parse_part(text, strlen(text), text, &out->s.part[0], out->name, sizeof out->name, err);
        out->s.kind = out->s.part[0].kind;
        out->s.n = 1;
    }
    if (st) os_sched_free(&out->s);
    return st;
}

void os_sched_free(os_sched *s)
{
    for (int i = 0; i < OS_SCHED_MAX_PARTS; ++i) {
        free((void *)s->part[i].tab);
        s->part[i].tab = NULL;
        s->part[i].tab_len = 0;
    }
}

const char *os_sched_name(int kind)
{
    return kind >= 0 && kind < OS_SCHED_COUNT ? sched_defs[kind].name : "?";
}

/* "gamma (0.1), step_size" — a scheduler's keys for --help. */
void os_sched_keys(int kind, char *buf, size_t size)
{
    size_t w = 0;
    buf[0] = 0;
    const sched_def *d = &sched_defs[kind];
    if (kind == OS_SCHED_TABLE) snprintf(buf, size, "table:FILE (a CSV: header 'factor', one lr multiplier per step)");
    if (kind == OS_SCHED_SEQUENTIAL) snprintf(buf, size, "sequential(SPEC;SPEC;...;milestones=a/b/...)");
    if (kind == OS_SCHED_CHAIN) snprintf(buf, size, "chain(SPEC;SPEC;...)");
    for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name && w < size; ++i) {
        const sched_key *k = &d->keys[i];
        char dv[96] = "";
        if (isnan(k->dflt))
            snprintf(dv, sizeof dv, " (required)");
        else if (k->optional)
            snprintf(dv, sizeof dv, " (optional)");
        else if (k->type == K_ENUM) {
            size_t dw = (size_t)snprintf(dv, sizeof dv, " [");
            for (int j = 0; k->names[j] && dw < sizeof dv; ++j)
                dw += (size_t)snprintf(dv + dw, sizeof dv - dw, "%s%s", j ? "|" : "", k->names[j]);
            if (dw < sizeof dv) snprintf(dv + dw, sizeof dv - dw, "]");
        } else if (k->type == K_REAL) {
            char num[40];
            os_fmt_double(num, sizeof num, k->dflt);
            snprintf(dv, sizeof dv, " [%s]", num);
        } else
            snprintf(dv, sizeof dv, " [%.0f]", k->dflt);
        w += (size_t)snprintf(buf + w, size - w, "%s%s%s", i ? ", " : "", k->name, dv);
    }
}
