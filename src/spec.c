/* spec.c — sweep specs: the axis and optimizer tables, list values,
 * defaults and validation.
 *
 * The command line's contract is docs/design.md §3: every axis takes a list
 * of comma-separated values and numpy-style ranges. Bad input becomes an
 * OS_EINPUT error whose one-line message names the flag and the value.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "orbitsweep/orbitsweep.h"
#include "util.h"

#define OS_MAX_RANGE 10000000

/* ------------------------------------------------------------------------ */
/* the description tables (axes.h, optim.h)                                  */

const os_axis_def os_axes[OS_AX_COUNT] = {
#define OS_X(ID, col, flag, type, member, dflt, lo, hi, lo_open, hi_open, integer, range, nest, hash, hp, help) \
    {OS_AX_##ID, col, flag, type, offsetof(os_trial, member), dflt, lo, hi, lo_open, hi_open, integer, range, nest, hash, hp, help},
    OS_AXES(OS_X)
#undef OS_X
};

const os_optimizer_def os_optimizers[OS_OPT_COUNT] = {
#define OS_X(ID, name, what, uses, pinned, positive, state, cycles, defaults) \
    {OS_OPT_##ID, name, what, uses, pinned, positive, state, cycles, defaults},
    OS_OPTIMIZERS(OS_X)
#undef OS_X
};

int os_optimizer_from_name(const char *name)
{
    for (int i = 0; i < OS_OPT_COUNT; ++i)
        if (strcmp(name, os_optimizers[i].name) == 0) return i;
    return -1;
}

const char *os_optimizer_name(int kind)
{
    return kind >= 0 && kind < OS_OPT_COUNT ? os_optimizers[kind].name : "?";
}

/* The names of the choice axes (OS_AXT_CHOICE), in code order (OS_DTYPE_*,
 * OS_SHUFFLE_*, sched_step's 0 update / 1 epoch). */
static const char *const dtype_names[] = {"float32", "float64", NULL};
static const char *const shuffle_names[] = {"shared", "trial", "none", NULL};
static const char *const sched_step_names[] = {"update", "epoch", NULL};
static const char *const *const axis_choices[OS_AX_COUNT] = {
    [OS_AX_DTYPE] = dtype_names, [OS_AX_SHUFFLE] = shuffle_names, [OS_AX_SCHED_STEP] = sched_step_names};

const char *const *os_axis_choices(int axis)
{
    return axis >= 0 && axis < OS_AX_COUNT && os_axes[axis].type == OS_AXT_CHOICE ? axis_choices[axis] : NULL;
}

int os_axis_used(int axis, int kind)
{
    return !os_axes[axis].hp || (os_optimizers[kind].uses & (1u << axis)) != 0;
}

int os_optimizer_cycles(int kind)
{
    return kind >= 0 && kind < OS_OPT_COUNT ? os_optimizers[kind].cycles : OS_CYCLE_NONE;
}

int os_optimizer_default(int kind, int axis, double *v)
{
    const char *col = os_axes[axis].column;
    const size_t cl = strlen(col);
    for (const char *p = os_optimizers[kind].defaults; p && *p;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq && (size_t)(eq - p) == cl && strncmp(p, col, cl) == 0) {
            const size_t vl = (size_t)(end - eq - 1);
            if (vl == 4 && strncmp(eq + 1, "true", 4) == 0) return *v = 1, 1; /* a boolean axis */
            if (vl == 5 && strncmp(eq + 1, "false", 5) == 0) return *v = 0, 1;
            return os_parse_number(eq + 1, vl, v);
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* lists                                                                     */

os_status os_list_push(os_list *l, double v, os_error *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        double *p = realloc(l->v, cap * sizeof *p);
        if (!p) {
            os_set_error(err, "out of memory for a list of %zu values", cap);
            return OS_ERUNTIME;
        }
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return OS_OK;
}

/* numpy.linspace(a, b, n) element by element: i*step + a, the last = b. */
static double linspace_at(double a, double b, long n, long i)
{
    if (n == 1) return a;
    if (i == n - 1) return b;
    double step = (b - a) / (double)(n - 1);
    return (double)i * step + a;
}

/* range([start,]stop[,step]): Python's integers start, start+step, ... before stop. */
static os_status parse_int_range(const char *flag, const char *s, size_t len, const char *args, size_t alen,
                                 os_list *out, os_error *err)
{
    int64_t arg[3] = {0, 0, 1};
    int na = 0, ok = 1;
    for (const char *p = args, *end = args + alen;;) {
        const char *c = memchr(p, ',', (size_t)(end - p)), *stop = c ? c : end;
        if (na == 3 || !os_parse_int64(p, (size_t)(stop - p), &arg[na])) {
            ok = 0;
            break;
        }
        ++na;
        if (!c) break;
        p = c + 1;
    }
    if (na == 1) arg[1] = arg[0], arg[0] = 0; /* range(stop) */
    if (!ok || arg[2] == 0) {
        os_set_error(err, "%s: '%.*s': expected range([start,]stop[,step]) of integers, step not 0", flag, (int)len, s);
        return OS_EINPUT;
    }
    const int64_t step = arg[2];
    const int64_t n = step > 0 ? (arg[1] - arg[0] + step - 1) / step : (arg[0] - arg[1] - step - 1) / -step;
    if (n < 1 || n > OS_MAX_RANGE) {
        os_set_error(err, "%s: '%.*s': %s", flag, (int)len, s,
                     n < 1 ? "an empty range" : "more values than a range may have (10000000)");
        return OS_EINPUT;
    }
    for (int64_t i = 0; i < n; ++i)
        if (os_list_push(out, (double)(arg[0] + i * step), err)) return OS_ERUNTIME;
    return OS_OK;
}

/* One item: a number, NAME(a,b,n), 1-NAME(a,b,n) (1 minus each value:
 * beta2 as 0.9, 0.99, 0.999 is 1-logspace(-1,-3,3)) or range([start,]stop[,step]). */
static os_status parse_item(const char *flag, const char *s, size_t len, os_list *out,
                            os_error *err)
{
    double v;
    if (os_parse_number(s, len, &v)) {
        return os_list_push(out, v, err);
    }
    while (len && (*s == ' ' || *s == '\t')) ++s, --len; /* blanks around an item, as around a number */
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) --len;
    if (len > 7 && strncmp(s, "range(", 6) == 0 && s[len - 1] == ')')
        return parse_int_range(flag, s, len, s + 6, len - 7, out, err);
    const int one_minus = len > 2 && s[0] == '1' && s[1] == '-' && isalpha((unsigned char)s[2]);
    const char *item = s;
    const size_t item_len = len;
    if (one_minus) s += 2, len -= 2;
    static const char *fns[] = {"logspace", "linspace", "geomspace"};
    for (int f = 0; f < 3; ++f) {
        size_t fl = strlen(fns[f]);
        if (len > fl + 2 && strncmp(s, fns[f], fl) == 0 && s[fl] == '(' && s[len - 1] == ')') {
            const char *p = s + fl + 1, *end = s + len - 1;
            double arg[3];
            int na = 0;
            while (na < 3) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                const char *stop = c ? c : end;
                if (!os_parse_number(p, (size_t)(stop - p), &arg[na])) break;
                ++na;
                if (!c) break;
                p = c + 1;
            }
            if (na != 3 || p > end || memchr(p, ',', (size_t)(end - p))) goto bad_range;
            if (arg[2] != floor(arg[2]) || arg[2] < 1 || arg[2] > OS_MAX_RANGE) {
                os_set_error(err, "%s: '%.*s': the count must be an integer in 1..%d", flag,
                             (int)item_len, item, OS_MAX_RANGE);
                return OS_EINPUT;
            }
            long n = (long)arg[2];
            if (f == 2 && (arg[0] <= 0 || arg[1] <= 0)) {
                os_set_error(err, "%s: '%.*s': geomspace needs positive end points", flag,
                             (int)item_len, item);
                return OS_EINPUT;
            }
            for (long i = 0; i < n; ++i) {
                if (f == 0) {
                    v = pow(10.0, linspace_at(arg[0], arg[1], n, i));
                } else if (f == 1) {
                    v = linspace_at(arg[0], arg[1], n, i);
                } else {
                    v = pow(10.0, linspace_at(log10(arg[0]), log10(arg[1]), n, i));
                    if (i == 0) v = arg[0];
                    if (i == n - 1 && n > 1) v = arg[1];
                }
                if (!isfinite(v) || (f != 1 && v == 0)) {
                    os_set_error(err, "%s: '%.*s': its values %s a double", flag, (int)item_len, item,
                                 v == 0 ? "underflow" : "overflow");
                    return OS_EINPUT;
                }
                if (os_list_push(out, one_minus ? 1.0 - v : v, err)) return OS_ERUNTIME;
            }
            return OS_OK;
        bad_range:
            os_set_error(err, "%s: '%.*s': expected %s%s(start,stop,count)", flag, (int)item_len, item,
                         one_minus ? "1-" : "", fns[f]);
            return OS_EINPUT;
        }
    }
    os_set_error(err, "%s: '%.*s' is not a number or a range", flag, (int)item_len, item);
    return OS_EINPUT;
}

os_status os_list_parse(const char *flag, const char *text, os_list *out, os_error *err)
{
    const char *p = text;
    size_t before = out->n;
    if (!*text) {
        os_set_error(err, "%s: empty value", flag);
        return OS_EINPUT;
    }
    for (;;) {
        int depth = 0;
        const char *q = p;
        while (*q && !(*q == ',' && depth == 0)) {
            depth += *q == '(';
            depth -= *q == ')';
            ++q;
        }
        os_status st = parse_item(flag, p, (size_t)(q - p), out, err);
        if (st) return st;
        if (!*q) break;
        p = q + 1;
    }
    if (out->n == before) {
        os_set_error(err, "%s: '%s' is an empty list", flag, text);
        return OS_EINPUT;
    }
    return OS_OK;
}

/* "sgd, momentum, ..." */
static void optimizer_names(char *buf, size_t size)
{
    size_t w = 0;
    buf[0] = 0;
    for (int k = 0; k < OS_OPT_COUNT && w < size; ++k)
        w += (size_t)snprintf(buf + w, size - w, "%s%s", k ? ", " : "", os_optimizers[k].name);
}

/* --optimizer: names, comma-separated; a repeat is dropped. */
static os_status parse_optimizers(const char *text, os_list *l, os_error *err)
{
    for (const char *tok = text;;) {
        const char *end = strchr(tok, ',');
        const size_t len = end ? (size_t)(end - tok) : strlen(tok);
        int k = -1;
        for (int o = 0; o < OS_OPT_COUNT; ++o)
            if (strlen(os_optimizers[o].name) == len && strncmp(tok, os_optimizers[o].name, len) == 0) k = o;
        if (k < 0) {
            char names[256];
            optimizer_names(names, sizeof names);
            os_set_error(err, "--optimizer: unknown optimizer '%.*s' in '%s' (%s)", (int)len, tok, text, names);
            return OS_EINPUT;
        }
        size_t i = 0;
        while (i < l->n && l->v[i] != k) ++i;
        if (i == l->n && os_list_push(l, k, err)) return OS_ERUNTIME;
        if (!end) return OS_OK;
        tok = end + 1;
    }
}

/* A boolean axis (--amsgrad, --centered): true/false, comma-separated. */
static os_status parse_bools(const char *flag, const char *text, os_list *l, os_error *err)
{
    for (const char *tok = text;;) {
        const char *end = strchr(tok, ',');
        const size_t len = end ? (size_t)(end - tok) : strlen(tok);
        double v;
        if (len == 4 && strncmp(tok, "true", 4) == 0) {
            v = 1;
        } else if (len == 5 && strncmp(tok, "false", 5) == 0) {
            v = 0;
        } else {
            os_set_error(err, "%s: '%.*s' in '%s' is not true or false", flag, (int)len, tok, text);
            return OS_EINPUT;
        }
        if (os_list_push(l, v, err)) return OS_ERUNTIME;
        if (!end) return OS_OK;
        tok = end + 1;
    }
}

/* A choice axis (--dtype, --shuffle, --sched-step): its names, comma-separated
 * (blanks around a name are dropped, as around a number). */
static os_status parse_choices(const char *flag, const char *const *names, const char *text, os_list *l,
                               os_error *err)
{
    for (const char *tok = text;;) {
        const char *end = strchr(tok, ',');
        size_t len = end ? (size_t)(end - tok) : strlen(tok);
        while (len && (*tok == ' ' || *tok == '\t')) ++tok, --len;
        while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t')) --len;
        char *name = strndup(tok, len); /* one name, read as the settings' choices are (value.c) */
        int k;
        if (!name) return os_set_error(err, "out of memory"), OS_ERUNTIME;
        const os_status st = os_value_parse(OS_V_CHOICE, flag, name, &k, names, err);
        free(name);
        if (st) return st;
        if (os_list_push(l, k, err)) return OS_ERUNTIME;
        if (!end) return OS_OK;
        tok = end + 1;
    }
}

/* --scheduler: one scheduler spec per call, appended to spec->scheds. */
static os_status add_scheduler(os_spec *spec, const char *text, os_error *err)
{
    os_sched_spec s;
    os_status st = os_sched_parse(text, &s, err);
    if (st) return st;
    os_sched_spec *ns = realloc(spec->scheds, (spec->n_scheds + 1) * sizeof *ns);
    if (!ns) {
        os_sched_free(&s.s);
        os_set_error(err, "out of memory");
        return OS_ERUNTIME;
    }
    spec->scheds = ns;
    spec->scheds[spec->n_scheds] = s;
    if (os_list_push(&spec->axis[OS_AX_SCHEDULER], (double)spec->n_scheds, err)) return OS_ERUNTIME;
    spec->n_scheds += 1;
    return OS_OK;
}

/* uniform(a,b), log_uniform(a,b), int_uniform(a,b): the distribution's
 * kind (0 for any other text) and its end points into l. */
static int parse_dist(const char *flag, const char *text, os_list *l, os_status *st, os_error *err)
{
    static const struct {
        const char *name;
        int dist;
    } dists[] = {{"uniform(", OS_DIST_UNIFORM}, {"log_uniform(", OS_DIST_LOG_UNIFORM}, {"int_uniform(", OS_DIST_INT_UNIFORM}};
    const size_t len = strlen(text);
    for (size_t k = 0; k < sizeof dists / sizeof dists[0]; ++k) {
        const size_t nl = strlen(dists[k].name);
        if (strncmp(text, dists[k].name, nl) != 0 || len < nl + 1 || text[len - 1] != ')') continue;
        const char *comma = memchr(text + nl, ',', len - nl - 1);
        double a, b;
        if (!comma || !os_parse_number(text + nl, (size_t)(comma - text - nl), &a) ||
            !os_parse_number(comma + 1, (size_t)(text + len - 1 - comma - 1), &b)) {
            os_set_error(err, "%s: '%s': expected %sa,b)", flag, text, dists[k].name);
            *st = OS_EINPUT;
            return dists[k].dist;
        }
        const int d = dists[k].dist;
        const char *why = d == OS_DIST_UNIFORM && !(a < b)                        ? "needs a < b"
                          : d == OS_DIST_LOG_UNIFORM && !(a > 0 && a < b)         ? "needs 0 < a < b"
                          : d == OS_DIST_INT_UNIFORM && (a != floor(a) || b != floor(b) || a > b) ? "needs integers a <= b"
                                                                                  : NULL;
        if (why) {
            os_set_error(err, "%s: '%s' %s", flag, text, why);
            *st = OS_EINPUT;
            return d;
        }
        *st = os_list_push(l, a, err);
        if (!*st) *st = os_list_push(l, b, err);
        return d;
    }
    return 0;
}

/* choice(v1,v2,...): the values, one drawn per sample point (a list otherwise). */
static const char *choice_inner(const char *text, char *buf, size_t size)
{
    const size_t len = strlen(text);
    if (strncmp(text, "choice(", 7) != 0 || len < 9 || text[len - 1] != ')' || len - 8 >= size) return text;
    memcpy(buf, text + 7, len - 8);
    buf[len - 8] = 0;
    return buf;
}

os_status os_spec_set_axis(os_spec *spec, int axis, const char *text, int first, os_error *err)
{
    const os_axis_def *a = &os_axes[axis];
    os_list *l = &spec->axis[axis];
    char inner[4096];
    if (first) spec->dist[axis] = OS_DIST_LIST;
    if (a->type == OS_AXT_REAL || a->type == OS_AXT_INT) {
        if (!first && spec->dist[axis] != OS_DIST_LIST) {
            os_set_error(err, "%s: '%s' after a distribution: a distribution is the axis's one value", a->flag, text);
            return OS_EINPUT;
        }
        os_list fresh = {0};
        os_status st = OS_OK;
        const int d = parse_dist(a->flag, text, &fresh, &st, err);
        if (d && !st && !first) {
            os_set_error(err, "%s: '%s' after other values: a distribution is the axis's one value", a->flag, text);
            st = OS_EINPUT;
        }
        if (d) {
            if (!st) free(l->v), *l = fresh, spec->dist[axis] = d, spec->given[axis] = 1;
            else free(fresh.v);
            return st;
        }
    }
    if (a->type != OS_AXT_SCHED) text = choice_inner(text, inner, sizeof inner);
    if (first) {
        l->n = 0; /* with blocks, other lists may use the schedulers: os_spec_compact_scheds drops the unused */
        if (a->type == OS_AXT_SCHED && !spec->n_blocks) {
            for (size_t k = 0; k < spec->n_scheds; ++k) os_sched_free(&spec->scheds[k].s);
            spec->n_scheds = 0;
        }
    }
    spec->given[axis] = 1;
    switch (a->type) {
    case OS_AXT_OPT:
        if (!*text) {
            os_set_error(err, "%s: empty value", a->flag);
            return OS_EINPUT;
        }
        return parse_optimizers(text, l, err);
    case OS_AXT_SCHED:
        return add_scheduler(spec, text, err);
    case OS_AXT_BOOL:
        return parse_bools(a->flag, text, l, err);
    case OS_AXT_CHOICE:
        return parse_choices(a->flag, os_axis_choices(axis), text, l, err);
    default:
        return os_list_parse(a->flag, text, l, err);
    }
}

os_status os_spec_set_one(os_spec *spec, int axis, double v, os_error *err)
{
    spec->axis[axis].n = 0;
    spec->given[axis] = 1;
    spec->dist[axis] = OS_DIST_LIST;
    return os_list_push(&spec->axis[axis], v, err);
}

/* ------------------------------------------------------------------------ */
/* blocks: conditional grids                                                 */

size_t os_spec_n_blocks(const os_spec *spec) { return spec->n_blocks ? spec->n_blocks : 1; }

const os_list *os_spec_block_axes(const os_spec *spec, size_t b, const int **given)
{
    if (!spec->n_blocks) return *given = spec->given, spec->axis;
    return *given = spec->blocks[b].given, spec->blocks[b].axis;
}

int os_spec_block_sampling(const os_spec *spec, size_t b, const int **dist, int64_t *n_samples)
{
    if (!spec->n_blocks) return *dist = spec->dist, *n_samples = spec->n_samples, spec->sample;
    const os_axis_set *set = &spec->blocks[b];
    return *dist = set->dist, *n_samples = set->n_samples, set->sample;
}

void os_spec_swap_axes(os_spec *spec, os_axis_set *set)
{
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        const os_list l = spec->axis[a];
        const int g = spec->given[a], d = spec->dist[a];
        spec->axis[a] = set->axis[a], spec->given[a] = set->given[a], spec->dist[a] = set->dist[a];
        set->axis[a] = l, set->given[a] = g, set->dist[a] = d;
    }
    const int sample = spec->sample;
    const int64_t n = spec->n_samples;
    spec->sample = set->sample, spec->n_samples = set->n_samples;
    set->sample = sample, set->n_samples = n;
}

static void axis_set_free(os_axis_set *set)
{
    for (int a = 0; a < OS_AX_COUNT; ++a) free(set->axis[a].v);
}

void os_spec_drop_blocks(os_spec *spec)
{
    for (size_t b = 0; b < spec->n_blocks; ++b) axis_set_free(&spec->blocks[b]);
    free(spec->blocks);
    spec->blocks = NULL;
    spec->n_blocks = 0;
}

os_status os_spec_add_block(os_spec *spec, size_t *index, os_error *err)
{
    os_axis_set *nb = realloc(spec->blocks, (spec->n_blocks + 1) * sizeof *nb);
    if (!nb) return os_set_error(err, "out of memory"), OS_ERUNTIME;
    spec->blocks = nb;
    os_axis_set *set = &nb[spec->n_blocks];
    memset(set, 0, sizeof *set);
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        const os_list *from = &spec->axis[a];
        for (size_t i = 0; i < from->n; ++i)
            if (os_list_push(&set->axis[a], from->v[i], err)) return axis_set_free(set), OS_ERUNTIME;
        set->given[a] = spec->given[a];
        set->dist[a] = spec->dist[a];
    }
    set->sample = spec->sample;
    set->n_samples = spec->n_samples;
    *index = spec->n_blocks++;
    return OS_OK;
}

os_status os_spec_compact_scheds(os_spec *spec, os_error *err)
{
    if (!spec->n_blocks || !spec->n_scheds) return OS_OK;
    size_t *map = malloc(spec->n_scheds * sizeof *map), kept = 0;
    os_sched_spec *keep = malloc(spec->n_scheds * sizeof *keep);
    if (!map || !keep) return free(map), free(keep), os_set_error(err, "out of memory"), OS_ERUNTIME;
    for (size_t k = 0; k < spec->n_scheds; ++k) map[k] = SIZE_MAX;
    for (size_t b = 0; b < spec->n_blocks; ++b) { /* new numbers in order of first use */
        const os_list *l = &spec->blocks[b].axis[OS_AX_SCHEDULER];
        for (size_t i = 0; i < l->n; ++i) {
            const size_t k = (size_t)l->v[i];
            if (map[k] == SIZE_MAX) keep[kept] = spec->scheds[k], map[k] = kept++;
        }
    }
    for (size_t k = 0; k < spec->n_scheds; ++k) /* the kept ones moved to keep; the others freed */
        if (map[k] == SIZE_MAX) os_sched_free(&spec->scheds[k].s);
    free(spec->scheds);
    spec->scheds = keep;
    for (size_t b = 0; b < spec->n_blocks; ++b) {
        os_list *l = &spec->blocks[b].axis[OS_AX_SCHEDULER];
        for (size_t i = 0; i < l->n; ++i) l->v[i] = (double)map[(size_t)l->v[i]];
    }
    os_list *base = &spec->axis[OS_AX_SCHEDULER]; /* the base's own list: the schedulers that stay */
    size_t w = 0;
    for (size_t i = 0; i < base->n; ++i)
        if (map[(size_t)base->v[i]] != SIZE_MAX) base->v[w++] = (double)map[(size_t)base->v[i]];
    base->n = w;
    spec->n_scheds = kept;
    free(map);
    return OS_OK;
}

/* ------------------------------------------------------------------------ */
/* the settings table                                                        */

static const char *const backend_names[] = {"auto", "cpu", "cuda", NULL};
static const char *const simd_names[] = {"on", "off", NULL};
static const char *const overlap_names[] = {"auto", "on", "off", NULL}; /* OS_OVERLAP_* */

#define F(field) offsetof(os_spec, field)
/* clang-format off */
const os_setting_def os_settings[] = {
    {"seeds", "--seeds", OS_V_INT, F(seeds), NULL, -1, "1", NULL, NULL, "K", "replicates seed..seed+K-1 (data noise, order)"},
    {"seed", "--seed", OS_V_U64, F(seed), NULL, -1, "0", NULL, NULL, "S", "the first seed"},
    {"a", "--a", OS_V_DOUBLE, F(a), NULL, -1, "1.261845", NULL, "data", "A", "semi-major axis of the true orbit"},
    {"b", "--b", OS_V_DOUBLE, F(b), NULL, -1, "1.234378", NULL, "data", "B", "semi-minor axis"},
    {"offset", "--offset", OS_V_DOUBLE, F(offset), NULL, (long)F(offset_set), NULL, "sqrt(a^2-b^2)", "data", "C",
     "the model's offset c"},
    {"data", "--data", OS_V_STRING, F(data_file), NULL, -1, NULL, NULL, "data", "FILE", "load x,y from a CSV file instead"},
    {"backend", "--backend", OS_V_CHOICE, F(backend), backend_names, -1, "auto", NULL, "execution", "NAME",
     "auto (a GPU when one is usable), cpu or cuda"},
    {"devices", "--devices", OS_V_DEVICES, 0, NULL, -1, NULL, "all", "execution", "LIST",
     "CUDA: the GPUs to split the sweep across"},
    {"tile", "--tile", OS_V_INT, F(tile), NULL, -1, "0", NULL, "execution", "N", "CUDA: lanes per training, 1 2 4 8 (0: auto)"},
    {"cuda_chunk", "--cuda-chunk", OS_V_INT, F(cuda_chunk), NULL, -1, "4194304", NULL, "execution", "N",
     "CUDA: trainings per launch"},
    {"cuda_table_bytes", "--cuda-table-bytes", OS_V_DOUBLE, F(cuda_table_bytes), NULL, -1, "1073741824", NULL,
     "execution", "B", "CUDA: shared batch orders precomputed per GPU (0: on the fly)"},
    {"max_blocks", "--max-blocks", OS_V_INT, F(max_blocks), NULL, -1, "0", NULL, "execution", "N",
     "CUDA: at most N blocks per launch, so lanes take several trainings in turn (0: as many as fit)"},
    {"block", "--block", OS_V_INT, F(block), NULL, -1, "0", "auto", "execution", "N",
     "trainings trained and written at a time; bounds memory (0: auto)"},
    {"overlap", "--overlap", OS_V_CHOICE, F(overlap), overlap_names, -1, "auto", NULL, "execution", "WHEN",
     "write a block's rows while the next block trains: auto (on), on, off (one block in memory, not two)"},
    {"threads", "--threads", OS_V_INT, F(threads), NULL, -1, "0", NULL, "execution", "N", "CPU threads (0: all cores)"},
    {"max_memory", "--max-memory", OS_V_DOUBLE, F(max_memory), NULL, -1, "0", NULL, "execution", "BYTES",
     "refuse a sweep that needs more memory (0: what the machine has available)"},
    {"simd", "--simd", OS_V_CHOICE, F(cpu_scalar), simd_names, -1, "on", NULL, "execution", "on|off",
     "CPU: trainings side by side in SIMD lanes"},
    {"random", "--random", OS_V_SAMPLE, F(sample), NULL, -1, NULL, NULL, "sampling", "N",
     "N random points per optimizer of the block, not its product; axes take uniform(a,b), "
     "log_uniform(a,b), int_uniform(a,b) or a list"},
    {"sobol", "--sobol", OS_V_SAMPLE, F(sample), NULL, -1, NULL, NULL, "sampling", "N",
     "the same with the first N points of a Sobol sequence (Joe-Kuo)"},
    {"sample_seed", "--sample-seed", OS_V_U64, F(sample_seed), NULL, -1, "0", NULL, "sampling", "S",
     "the seed of random points and of Sobol scrambling"},
    {"scramble", "--scramble", OS_V_CHOICE, F(sobol_plain), simd_names, -1, "on", NULL, "sampling", "on|off",
     "Sobol points shifted by a random digital shift (off: the plain sequence, from the origin)"},
};
/* clang-format on */
const int os_n_settings = (int)(sizeof os_settings / sizeof os_settings[0]);
_Static_assert(sizeof os_settings / sizeof os_settings[0] <= 64, "settings_given has 64 bits");

int os_spec_given(const os_spec *spec, const char *name)
{
    const int k = os_setting_find(name);
    return k >= 0 && (spec->settings_given >> k & 1);
}

int os_setting_find(const char *name)
{
    for (int i = 0; i < os_n_settings; ++i)
        if (strcmp(name, os_settings[i].key) == 0 || strcmp(name, os_settings[i].flag) == 0) return i;
    return -1;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la > 63 || lb > 63) return SIZE_MAX;
    for (size_t j = 0; j <= lb; ++j) row[j] = j;
    for (size_t i = 1; i <= la; ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; ++j) {
            const size_t up = row[j], sub = diag + (a[i - 1] != b[j - 1]), ins = row[j - 1] + 1;
            row[j] = sub < up + 1 ? sub : up + 1;
            if (ins < row[j]) row[j] = ins;
            diag = up;
        }
    }
    return row[lb];
}

const char *os_key_nearest(const char *key, const char *const *extra, int n_extra)
{
    const char *best = os_axes[0].column;
    size_t bd = SIZE_MAX;
    const int n = OS_AX_COUNT + os_n_settings + n_extra;
    for (int i = 0; i < n; ++i) {
        const char *k = i < OS_AX_COUNT ? os_axes[i].column
                        : i < OS_AX_COUNT + os_n_settings ? os_settings[i - OS_AX_COUNT].key
                                                          : extra[i - OS_AX_COUNT - os_n_settings];
        const size_t d = edit_distance(key, k);
        if (d < bd) bd = d, best = k;
    }
    return best;
}

os_status os_spec_set_key(os_spec *spec, const char *key, const char *text, int first, os_error *err)
{
    for (int a = 0; a < OS_AX_COUNT; ++a)
        if (strcmp(key, os_axes[a].column) == 0) return os_spec_set_axis(spec, a, text, first, err);
    for (int i = 0; i < os_n_settings; ++i)
        if (strcmp(key, os_settings[i].key) == 0) return os_spec_set(spec, i, text, err);
    os_set_error(err, "unknown key '%.64s' (did you mean '%s'?)", key, os_key_nearest(key, NULL, 0));
    return OS_EINPUT;
}

/* --devices: GPU numbers 0,1,... */
static os_status set_devices(os_spec *s, const char *flag, const char *val, os_error *err)
{
    s->n_devices = 0;
    for (const char *tok = val;;) {
        char *end;
        errno = 0;
        const long d = isdigit((unsigned char)*tok) ? strtol(tok, &end, 10) : -1;
        if (d < 0 || errno == ERANGE || d >= 1000000 || (*end && *end != ',')) {
            os_set_error(err, "%s: '%s' is not a list of GPU numbers (0,1,...)", flag, val);
            return OS_EINPUT;
        }
        if (s->n_devices == OS_MAX_DEVICES) {
            os_set_error(err, "%s: '%s' lists more than %d GPUs", flag, val, OS_MAX_DEVICES);
            return OS_EINPUT;
        }
        s->devices[s->n_devices++] = (int)d;
        if (!*end) return OS_OK;
        tok = end + 1;
    }
}

os_status os_spec_set(os_spec *spec, int setting, const char *text, os_error *err)
{
    const os_setting_def *d = &os_settings[setting];
    spec->settings_given |= (uint64_t)1 << setting;
    if (d->mark >= 0) *(int *)((char *)spec + d->mark) = 1;
    if (d->kind == OS_V_DEVICES) return set_devices(spec, d->flag, text, err);
    if (d->kind == OS_V_SAMPLE) { /* random / sobol: the kind from the key, the count from the text */
        int64_t n;
        if (!os_parse_int64(text, strlen(text), &n) || n < 1 || n > (int64_t)OS_MAX_TRIALS) {
            os_set_error(err, "%s: '%s' is not a number of points in 1..%llu", d->flag, text, OS_MAX_TRIALS);
            return OS_EINPUT;
        }
        spec->sample = strcmp(d->key, "sobol") == 0 ? OS_SAMPLE_SOBOL : OS_SAMPLE_RANDOM;
        spec->n_samples = n;
        return OS_OK;
    }
    return os_value_parse(d->kind, d->flag, text, (char *)spec + d->offset, d->choices, err);
}

/* ------------------------------------------------------------------------ */
/* defaults and validation                                                   */

os_status os_spec_init(os_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    os_error err;
    os_status st = OS_OK;
    for (int a = 0; a < OS_AX_COUNT && !st; ++a) {
        st = os_spec_set_axis(spec, a, os_axes[a].dflt, 1, &err);
        spec->given[a] = 0;
    }
    for (int i = 0; i < os_n_settings && !st; ++i)
        if (os_settings[i].dflt) st = os_spec_set(spec, i, os_settings[i].dflt, &err);
    spec->settings_given = 0;
    if (st) os_spec_free(spec); /* the tables' defaults parse: only memory can fail */
    return st;
}

void os_spec_free(os_spec *spec)
{
    for (int a = 0; a < OS_AX_COUNT; ++a) free(spec->axis[a].v);
    os_spec_drop_blocks(spec);
    for (size_t k = 0; spec->scheds && k < spec->n_scheds; ++k) os_sched_free(&spec->scheds[k].s);
    free(spec->scheds);
    free(spec->data_file);
    memset(spec, 0, sizeof *spec);
}

int os_spec_threads(const os_spec *spec)
{
#ifdef _OPENMP
    return spec->threads > 0 ? spec->threads : omp_get_max_threads();
#else
    (void)spec;
    return 1;
#endif
}

size_t os_spec_block(const os_spec *spec)
{
    const size_t cpu = (size_t)1 << 18; /* ~75 MB of trials, results and the CPU's plan */
    if (spec->block > 0) return (size_t)spec->block;
    if (spec->backend == OS_BACKEND_CUDA) /* whole launches */
        return (size_t)spec->cuda_chunk > cpu ? (size_t)spec->cuda_chunk : cpu;
    return os_spec_overlaps(spec) ? cpu / 2 : cpu; /* two blocks in flight: the memory of one, a shorter last write */
}

int os_spec_overlaps(const os_spec *spec)
{
    return spec->overlap == OS_OVERLAP_ON || (spec->overlap == OS_OVERLAP_AUTO && spec->backend == OS_BACKEND_CUDA);
}

double os_spec_offset(const os_spec *spec)
{
    return spec->offset_set ? spec->offset : sqrt(spec->a * spec->a - spec->b * spec->b);
}

static os_status out_of_range(os_error *err, const char *flag, double v, const char *why)
{
    char buf[64];
    os_fmt_double(buf, sizeof buf, v);
    os_set_error(err, "%s: '%s' is out of range (%s)", flag, buf, why);
    return OS_EINPUT;
}

/* Every value of a numeric axis within its row's range. */
static os_status check_axis(const os_axis_def *a, const os_list *l, os_error *err)
{
    if (l->n == 0) {
        os_set_error(err, "%s: empty list", a->flag);
        return OS_EINPUT;
    }
    for (size_t i = 0; i < l->n; ++i) {
        const double v = l->v[i];
        const int bad = !isfinite(v) || (a->lo_open ? v <= a->lo : v < a->lo) ||
                        (a->hi_open ? v >= a->hi : v > a->hi) || (a->integer && v != floor(v));
        if (bad) return out_of_range(err, a->flag, v, a->range);
    }
    return OS_OK;
}

/* The optimizers' own rules on the values given for their axes: pinned
 * axes must be 0, some must be > 0. */
static os_status check_optimizers(const os_list *axis, const int *given, os_error *err)
{
    const os_list *opts = &axis[OS_AX_OPTIMIZER];
    for (size_t o = 0; o < opts->n; ++o) {
        const os_optimizer_def *d = &os_optimizers[(int)opts->v[o]];
        for (int a = 0; a < OS_AX_COUNT; ++a) {
            if (!given[a]) continue; /* its own default (tests/test_plan.cpp checks them) */
            const int pinned = (d->pinned >> a) & 1, positive = (d->positive >> a) & 1;
            for (size_t i = 0; i < axis[a].n && (pinned || positive); ++i) {
                const double v = axis[a].v[i];
                if (pinned ? v == 0 : v > 0) continue;
                char why[128];
                snprintf(why, sizeof why, "%s needs %s %s", d->name, os_axes[a].column, pinned ? "0" : "> 0");
                return out_of_range(err, os_axes[a].flag, v, why);
            }
        }
    }
    return OS_OK;
}

static os_status check_int(const char *flag, double v, double lo, double hi, os_error *err)
{
    if (v == floor(v) && v >= lo && v <= hi) return OS_OK;
    char why[96];
    snprintf(why, sizeof why, "an integer in %.0f..%.0f", lo, hi);
    return out_of_range(err, flag, v, why);
}

/* The axes of one block (or of a spec without blocks). */
static os_status check_axes(const os_list *axis, const int *given, const int *dist, int sample, os_error *err)
{
    os_status st;
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        if (dist[a] == OS_DIST_LIST) continue;
        if (sample == OS_SAMPLE_GRID) {
            os_set_error(err, "%s: a distribution needs random: N or sobol: N (--random, --sobol) in its block",
                         os_axes[a].flag);
            return OS_EINPUT;
        }
        if (os_axes[a].integer && dist[a] != OS_DIST_INT_UNIFORM) {
            os_set_error(err, "%s: takes integers: int_uniform(a,b) or a list", os_axes[a].flag);
            return OS_EINPUT;
        }
    }
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        if (os_axes[a].type == OS_AXT_OPT || os_axes[a].type == OS_AXT_SCHED) {
            if (axis[a].n == 0) {
                os_set_error(err, "%s: empty list", os_axes[a].flag);
                return OS_EINPUT;
            }
        } else if ((st = check_axis(&os_axes[a], &axis[a], err))) {
            return st;
        }
    }
    const os_list *wa = &axis[OS_AX_INIT_WA];
    for (size_t i = 0; i < wa->n; ++i)
        if (wa->v[i] == 0) return out_of_range(err, "--init-wa", 0, "the model divides by Wa");
    return check_optimizers(axis, given, err);
}

int os_spec_dtypes(const os_spec *spec)
{
    int bits = 0;
    for (size_t b = 0; b < os_spec_n_blocks(spec); ++b) {
        const int *given;
        const os_list *l = &os_spec_block_axes(spec, b, &given)[OS_AX_DTYPE];
        for (size_t i = 0; i < l->n; ++i) bits |= 1 << (int)l->v[i];
    }
    return bits;
}

os_status os_spec_validate(const os_spec *s, os_error *err)
{
    os_status st;
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const int *given, *dist;
        int64_t n_samples;
        const os_list *axis = os_spec_block_axes(s, b, &given);
        const int sample = os_spec_block_sampling(s, b, &dist, &n_samples);
        if ((st = check_axes(axis, given, dist, sample, err))) {
            if (s->n_blocks) { /* say which block */
                char msg[sizeof err->msg];
                snprintf(msg, sizeof msg, "%s", err->msg);
                os_set_error(err, "block %zu: %s", b + 1, msg);
            }
            return st;
        }
    }
    if ((st = check_int("--seeds", s->seeds, 1, 1e6, err))) return st;
    if (s->seed > UINT64_MAX - (uint64_t)(s->seeds - 1)) {
        os_set_error(err, "--seeds: '%d' with --seed %llu passes the last seed, 18446744073709551615", s->seeds,
                     (unsigned long long)s->seed);
        return OS_EINPUT;
    }
    if ((st = check_int("--threads", s->threads, 0, 4096, err))) return st;
    if (!(s->tile == 0 || s->tile == 1 || s->tile == 2 || s->tile == 4 || s->tile == 8))
        return out_of_range(err, "--tile", s->tile, "0 (auto), 1, 2, 4 or 8");
    if ((st = check_int("--cuda-chunk", s->cuda_chunk, 1, 2147483647, err))) return st;
    if ((st = check_int("--block", s->block, 0, 2147483647, err))) return st;
    if ((st = check_int("--max-blocks", s->max_blocks, 0, 2147483647, err))) return st;
    if (!(s->max_memory >= 0)) return out_of_range(err, "--max-memory", s->max_memory, "bytes >= 0");
    if (!(s->cuda_table_bytes >= 0 && s->cuda_table_bytes <= 1e15))
        return out_of_range(err, "--cuda-table-bytes", s->cuda_table_bytes, "bytes in 0..1e15");
    if (s->data_file) /* the file's points are the data: one n, no noise */
        for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
            const int *given, *dist;
            int64_t n_samples;
            const os_list *axis = os_spec_block_axes(s, b, &given);
            os_spec_block_sampling(s, b, &dist, &n_samples);
            static const int swept[] = {OS_AX_N, OS_AX_NOISE};
            for (int k = 0, a; k < 2 && (a = swept[k], 1); ++k)
                if (axis[a].n > 1 || dist[a] != OS_DIST_LIST) {
                    os_set_error(err, "%s: swept with --data '%s': the file's points are the data (one n, no "
                                      "noise); sweep %s over generated data, or run each file separately",
                                 os_axes[a].flag, s->data_file, os_axes[a].flag);
                    return OS_EINPUT;
                }
        }
    if (!s->data_file) {
        if (!(s->a > 0 && s->a <= 1e6)) return out_of_range(err, "--a", s->a, "must be in (0, 1e6]");
        if (!(s->b > 0 && s->b <= 1e6)) return out_of_range(err, "--b", s->b, "must be in (0, 1e6]");
        if (!s->offset_set && s->b > s->a) { /* blame the one the user gave */
            char why[96], other[40];
            if (os_spec_given(s, "--a") && !os_spec_given(s, "--b")) {
                os_fmt_double(other, sizeof other, s->b);
                snprintf(why, sizeof why, "must be >= --b (%s) unless --offset is given", other);
                return out_of_range(err, "--a", s->a, why);
            }
            os_fmt_double(other, sizeof other, s->a);
            snprintf(why, sizeof why, "must be <= --a (%s) unless --offset is given", other);
            return out_of_range(err, "--b", s->b, why);
        }
    }
    if (s->offset_set && !(fabs(s->offset) <= 1e6))
        return out_of_range(err, "--offset", s->offset, "|offset| <= 1e6");
    return OS_OK;
}
