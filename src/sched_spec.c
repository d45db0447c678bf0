/* sched_spec.c — the scheduler table: each scheduler's keys, their
 * defaults and valid values, and the parser of `NAME[:key=value,...]`.
 *
 * Keys are PyTorch's keyword names in lower case; list values are joined by
 * '/'. A parsed scheduler gets a canonical name (every key in table order,
 * numbers in shortest round-trip form), which is what the results table's
 * scheduler column and the configuration hash see.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"
#include "util.h"

enum { K_REAL, K_INT, K_MILESTONES };

typedef struct sched_key {
    const char *name;
    int type;
    size_t off;     /* the value's place in os_sched */
    double dflt;    /* NAN: required */
    double min;     /* valid values: > min (min_open) or >= min */
    int min_open;
    int optional;   /* 1: unset (dflt) means "none" and is left out of the name */
} sched_key;

#define OS_SCHED_MAX_KEYS 4

typedef struct sched_def {
    const char *name;
    sched_key keys[OS_SCHED_MAX_KEYS];
    /* a check across keys: returns the reason, or NULL */
    const char *(*check)(const os_sched *s);
} sched_def;

#define KEY_REAL(n, field, d, mn, open) {n, K_REAL, offsetof(os_sched, field), d, mn, open, 0}
#define KEY_INT(n, field, d, mn) {n, K_INT, offsetof(os_sched, field), d, mn, 0, 0}

static const char *multiplicative_check(const os_sched *s)
{
    return s->end >= 0 && s->end < s->start ? "end must be >= start" : NULL;
}

/* clang-format off */
static const sched_def sched_defs[OS_SCHED_COUNT] = {
    [OS_SCHED_CONSTANT] = {"constant", {{0}}, NULL},
    [OS_SCHED_MULTISTEP] = {"multistep", {
        {"milestones", K_MILESTONES, 0, NAN, 0, 0, 0},
        KEY_REAL("gamma", gamma, 0.1, 0, 1)}, NULL},
    [OS_SCHED_MULTIPLICATIVE] = {"multiplicative", {
        KEY_REAL("factor", factor, NAN, 0, 1),
        KEY_INT("start", start, 1, 1),
        {"end", K_INT, offsetof(os_sched, end), -1, 1, 0, 1},
        KEY_INT("every", every, 1, 1)}, multiplicative_check},
    [OS_SCHED_STEP] = {"step", {
        KEY_INT("step_size", step_size, NAN, 1),
        KEY_REAL("gamma", gamma, 0.1, 0, 1)}, NULL},
    [OS_SCHED_EXPONENTIAL] = {"exponential", {
        KEY_REAL("gamma", gamma, NAN, 0, 1)}, NULL},
    [OS_SCHED_COSINE] = {"cosine", {
        KEY_INT("t_max", t_max, NAN, 1),
        KEY_REAL("eta_min", eta_min, 0, 0, 0)}, NULL},
};
/* clang-format on */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* "constant, multistep, ..." */
static void sched_names(char *buf, size_t size)
{
    size_t w = 0;
    buf[0] = 0;
    for (int k = 0; k < OS_SCHED_COUNT && w < size; ++k)
        w += (size_t)snprintf(buf + w, size - w, "%s%s", k ? ", " : "", sched_defs[k].name);
}

/* One key's value into s; 0 when it is not a valid value. */
static int set_key(os_sched *s, const sched_key *k, const char *v, size_t vl, const char *text,
                   os_error *err, int *failed)
{
    char *field = (char *)s + k->off;
    if (k->type == K_MILESTONES) {
        const char *q = v, *vend = v + vl;
        for (;;) {
            const char *slash = memchr(q, '/', (size_t)(vend - q));
            const char *stop = slash ? slash : vend;
            if (s->n_milestones == OS_SCHED_MAX_MILESTONES) {
                os_set_error(err, "--scheduler: '%s': at most %d milestones", text, OS_SCHED_MAX_MILESTONES);
                *failed = 1;
                return 0;
            }
            int64_t m;
            if (!os_parse_int64(q, (size_t)(stop - q), &m) || m < 0) return 0;
            s->milestones[s->n_milestones++] = m;
            if (!slash) return 1;
            q = slash + 1;
        }
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

/* The canonical name: NAME:key=value,... with every key in table order. */
static int canonical_name(const os_sched *s, char *o, size_t room)
{
    const sched_def *d = &sched_defs[s->kind];
    int w = snprintf(o, room, "%s", d->name);
    for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name && w < (int)room; ++i) {
        const sched_key *k = &d->keys[i];
        const char *field = (const char *)s + k->off;
        if (k->optional && k->type == K_INT && *(const int64_t *)field == (int64_t)k->dflt) continue;
        w += snprintf(o + w, room - (size_t)w, "%s%s=", i ? "," : ":", k->name);
        if (k->type == K_MILESTONES) {
            for (int m = 0; m < s->n_milestones && w < (int)room; ++m)
                w += snprintf(o + w, room - (size_t)w, "%s%lld", m ? "/" : "", (long long)s->milestones[m]);
        } else if (k->type == K_INT) {
            if (w < (int)room) w += snprintf(o + w, room - (size_t)w, "%lld", (long long)*(const int64_t *)field);
        } else {
            char num[64];
            os_fmt_double(num, sizeof num, *(const double *)field);
            if (w < (int)room) w += snprintf(o + w, room - (size_t)w, "%s", num);
        }
    }
    return w < (int)room;
}

os_status os_sched_parse(const char *text, os_sched_spec *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    os_sched *s = &out->s;
    const char *colon = strchr(text, ':');
    const size_t nl = colon ? (size_t)(colon - text) : strlen(text);
    s->kind = -1;
    for (int k = 0; k < OS_SCHED_COUNT; ++k)
        if (strlen(sched_defs[k].name) == nl && strncmp(text, sched_defs[k].name, nl) == 0) s->kind = k;
    if (s->kind < 0) {
        char names[256];
        sched_names(names, sizeof names);
        os_set_error(err, "--scheduler: '%s': unknown scheduler (%s)", text, names);
        return OS_EINPUT;
    }
    const sched_def *d = &sched_defs[s->kind];
    for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name; ++i) {
        const sched_key *k = &d->keys[i];
        if (k->type == K_INT && !isnan(k->dflt)) *(int64_t *)((char *)s + k->off) = (int64_t)k->dflt;
        if (k->type == K_REAL) *(double *)((char *)s + k->off) = k->dflt;
    }
    int seen[OS_SCHED_MAX_KEYS] = {0};
    for (const char *p = colon ? colon + 1 : NULL; p;) {
        const char *comma = strchr(p, ',');
        const size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq) {
            os_set_error(err, "--scheduler: '%s': expected key=value, got '%.*s'", text, (int)len, p);
            return OS_EINPUT;
        }
        const size_t kl = (size_t)(eq - p), vl = len - kl - 1;
        int ki = -1;
        for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name; ++i)
            if (strlen(d->keys[i].name) == kl && strncmp(p, d->keys[i].name, kl) == 0) ki = i;
        if (ki < 0) {
            os_set_error(err, "--scheduler: '%s': unknown key '%.*s' for %s", text, (int)kl, p, d->name);
            return OS_EINPUT;
        }
        int failed = 0;
        if (!set_key(s, &d->keys[ki], eq + 1, vl, text, err, &failed)) {
            if (!failed)
                os_set_error(err, "--scheduler: '%s': bad value '%.*s' for %.*s", text, (int)vl, eq + 1, (int)kl, p);
            return OS_EINPUT;
        }
        seen[ki] = 1;
        p = comma ? comma + 1 : NULL;
    }
    for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name; ++i)
        if (!seen[i] && isnan(d->keys[i].dflt)) {
            os_set_error(err, "--scheduler: '%s': %s is required", text, d->keys[i].name);
            return OS_EINPUT;
        }
    const char *why = d->check ? d->check(s) : NULL;
    if (why) {
        os_set_error(err, "--scheduler: '%s': %s", text, why);
        return OS_EINPUT;
    }
    qsort(s->milestones, (size_t)s->n_milestones, sizeof s->milestones[0], cmp_i64);
    if (!canonical_name(s, out->name, sizeof out->name)) {
        os_set_error(err, "--scheduler: '%s': too long", text);
        return OS_EINPUT;
    }
    return OS_OK;
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
    for (int i = 0; i < OS_SCHED_MAX_KEYS && d->keys[i].name && w < size; ++i) {
        const sched_key *k = &d->keys[i];
        char dv[64] = "";
        if (isnan(k->dflt))
            snprintf(dv, sizeof dv, " (required)");
        else if (k->optional)
            snprintf(dv, sizeof dv, " (optional)");
        else if (k->type == K_REAL) {
            char num[40];
            os_fmt_double(num, sizeof num, k->dflt);
            snprintf(dv, sizeof dv, " [%s]", num);
        } else
            snprintf(dv, sizeof dv, " [%.0f]", k->dflt);
        w += (size_t)snprintf(buf + w, size - w, "%s%s%s", i ? ", " : "", k->name, dv);
    }
}
