/* spec.c — sweep specs: defaults, list values, scheduler specs, validation.
 *
 * The command line's contract is DESIGN.md §3: every axis takes a list of
 * comma-separated values and numpy-style ranges; schedulers are
 * NAME[:key=value,...] with list values joined by '/'. Bad input becomes an
 * OS_EINPUT error whose one-line message names the flag and the value.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"

#define OS_MAX_RANGE 10000000

void os_set_error(os_error *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* lists                                                                     */

void os_list_push(os_list *l, double v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        double *p = realloc(l->v, cap * sizeof *p);
        if (!p) abort();
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = v;
}

static void list_set1(os_list *l, double v)
{
    l->n = 0;
    os_list_push(l, v);
}

/* A whole string as one finite double. */
static int parse_number(const char *s, size_t len, double *out)
{
    char buf[128];
    while (len && isspace((unsigned char)*s)) ++s, --len;
    while (len && isspace((unsigned char)s[len - 1])) --len;
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno == ERANGE || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

/* numpy.linspace(a, b, n) element by element: i*step + a, the last = b. */
static double linspace_at(double a, double b, long n, long i)
{
    if (n == 1) return a;
    if (i == n - 1) return b;
    double step = (b - a) / (double)(n - 1);
    return (double)i * step + a;
}

/* One item: a number or NAME(a,b,n). */
static os_status parse_item(const char *flag, const char *s, size_t len, os_list *out,
                            os_error *err)
{
    double v;
    if (parse_number(s, len, &v)) {
        os_list_push(out, v);
        return OS_OK;
    }
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
                if (!parse_number(p, (size_t)(stop - p), &arg[na])) break;
                ++na;
                if (!c) break;
                p = c + 1;
            }
            if (na != 3 || p > end || memchr(p, ',', (size_t)(end - p))) goto bad_range;
            if (arg[2] != floor(arg[2]) || arg[2] < 1 || arg[2] > OS_MAX_RANGE) {
                os_set_error(err, "%s: '%.*s': the count must be an integer in 1..%d", flag,
                             (int)len, s, OS_MAX_RANGE);
                return OS_EINPUT;
            }
            long n = (long)arg[2];
            if (f == 2 && (arg[0] <= 0 || arg[1] <= 0)) {
                os_set_error(err, "%s: '%.*s': geomspace needs positive end points", flag,
                             (int)len, s);
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
                if (!isfinite(v)) goto bad_range;
                os_list_push(out, v);
            }
            return OS_OK;
        bad_range:
            os_set_error(err, "%s: '%.*s': expected %s(start,stop,count)", flag, (int)len, s,
                         fns[f]);
            return OS_EINPUT;
        }
    }
    os_set_error(err, "%s: '%.*s' is not a number or a range", flag, (int)len, s);
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

/* ------------------------------------------------------------------------ */
/* optimizers                                                                */

static const char *const opt_names[OS_OPT_COUNT] = {"sgd", "momentum", "nesterov", "rmsprop",
                                                    "adam"};

int os_optimizer_from_name(const char *name)
{
    for (int i = 0; i < OS_OPT_COUNT; ++i)
        if (strcmp(name, opt_names[i]) == 0) return i;
    return -1;
}

const char *os_optimizer_name(int kind)
{
    return kind >= 0 && kind < OS_OPT_COUNT ? opt_names[kind] : "?";
}

/* ------------------------------------------------------------------------ */
/* schedulers                                                                */

static const char *const sched_names[OS_SCHED_COUNT] = {
    "constant", "multistep", "multiplicative", "step", "exponential", "cosine"};

/* Shortest round-trip text of a double, for canonical names. */
static void fmt_num(char *buf, size_t size, double v) { os_fmt_double(buf, size, v); }

static int parse_int64(const char *s, size_t len, int64_t *out)
{
    double v;
    if (!parse_number(s, len, &v) || v != floor(v) || fabs(v) > 1e15) return 0;
    *out = (int64_t)v;
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

os_status os_sched_parse(const char *text, os_sched_spec *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    os_sched *s = &out->s;
    const char *colon = strchr(text, ':');
    size_t nl = colon ? (size_t)(colon - text) : strlen(text);
    s->kind = -1;
    for (int k = 0; k < OS_SCHED_COUNT; ++k)
        if (strlen(sched_names[k]) == nl && strncmp(text, sched_names[k], nl) == 0) s->kind = k;
    if (s->kind < 0) {
        os_set_error(err, "--scheduler: '%s': unknown scheduler (constant, multistep, "
                          "multiplicative, step, exponential, cosine)", text);
        return OS_EINPUT;
    }
    /* defaults; NAN marks a required key */
    s->gamma = s->kind == OS_SCHED_MULTISTEP || s->kind == OS_SCHED_STEP ? 0.1 : NAN;
    s->factor = NAN;
    s->start = 1;
    s->end = -1;
    s->every = 1;
    s->step_size = 0;
    s->t_max = 0;
    s->eta_min = 0;
    int have_ms = 0;
    const char *p = colon ? colon + 1 : NULL;
    while (p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq) {
            os_set_error(err, "--scheduler: '%s': expected key=value, got '%.*s'", text, (int)len,
                         p);
            return OS_EINPUT;
        }
        size_t kl = (size_t)(eq - p), vl = len - kl - 1;
        const char *v = eq + 1;
#define KEY(name) (kl == strlen(name) && strncmp(p, name, kl) == 0)
        int ok = 1, known = 1;
        if (KEY("gamma") && (s->kind == OS_SCHED_MULTISTEP || s->kind == OS_SCHED_STEP ||
                             s->kind == OS_SCHED_EXPONENTIAL)) {
            ok = parse_number(v, vl, &s->gamma) && s->gamma > 0;
        } else if (KEY("milestones") && s->kind == OS_SCHED_MULTISTEP) {
            have_ms = 1;
            const char *q = v, *vend = v + vl;
            while (ok) {
                const char *slash = memchr(q, '/', (size_t)(vend - q));
                const char *stop = slash ? slash : vend;
                if (s->n_milestones == OS_SCHED_MAX_MILESTONES) {
                    os_set_error(err, "--scheduler: '%s': at most %d milestones", text,
                                 OS_SCHED_MAX_MILESTONES);
                    return OS_EINPUT;
                }
                int64_t m;
                ok = parse_int64(q, (size_t)(stop - q), &m) && m >= 0;
                if (ok) s->milestones[s->n_milestones++] = m;
                if (!slash) break;
                q = slash + 1;
            }
        } else if (KEY("factor") && s->kind == OS_SCHED_MULTIPLICATIVE) {
            ok = parse_number(v, vl, &s->factor) && s->factor > 0;
        } else if (KEY("start") && s->kind == OS_SCHED_MULTIPLICATIVE) {
            ok = parse_int64(v, vl, &s->start) && s->start >= 1;
        } else if (KEY("end") && s->kind == OS_SCHED_MULTIPLICATIVE) {
            ok = parse_int64(v, vl, &s->end) && s->end >= 1;
        } else if (KEY("every") && s->kind == OS_SCHED_MULTIPLICATIVE) {
            ok = parse_int64(v, vl, &s->every) && s->every >= 1;
        } else if (KEY("step_size") && s->kind == OS_SCHED_STEP) {
            ok = parse_int64(v, vl, &s->step_size) && s->step_size >= 1;
        } else if (KEY("t_max") && s->kind == OS_SCHED_COSINE) {
            ok = parse_int64(v, vl, &s->t_max) && s->t_max >= 1;
        } else if (KEY("eta_min") && s->kind == OS_SCHED_COSINE) {
            ok = parse_number(v, vl, &s->eta_min) && s->eta_min >= 0;
        } else {
            known = 0;
        }
#undef KEY
        if (!known) {
            os_set_error(err, "--scheduler: '%s': unknown key '%.*s' for %s", text, (int)kl, p,
                         sched_names[s->kind]);
            return OS_EINPUT;
        }
        if (!ok) {
            os_set_error(err, "--scheduler: '%s': bad value '%.*s' for %.*s", text, (int)vl, v,
                         (int)kl, p);
            return OS_EINPUT;
        }
        p = comma ? comma + 1 : NULL;
    }
    const char *missing = NULL;
    if (s->kind == OS_SCHED_MULTISTEP && !have_ms) missing = "milestones";
    if ((s->kind == OS_SCHED_EXPONENTIAL) && isnan(s->gamma)) missing = "gamma";
    if (s->kind == OS_SCHED_MULTIPLICATIVE && isnan(s->factor)) missing = "factor";
    if (s->kind == OS_SCHED_STEP && s->step_size == 0) missing = "step_size";
    if (s->kind == OS_SCHED_COSINE && s->t_max == 0) missing = "t_max";
    if (missing) {
        os_set_error(err, "--scheduler: '%s': %s is required", text, missing);
        return OS_EINPUT;
    }
    if (s->kind == OS_SCHED_MULTIPLICATIVE && s->end >= 0 && s->end < s->start) {
        os_set_error(err, "--scheduler: '%s': end must be >= start", text);
        return OS_EINPUT;
    }
    qsort(s->milestones, (size_t)s->n_milestones, sizeof s->milestones[0], cmp_i64);

    /* canonical name */
    char *o = out->name;
    size_t room = sizeof out->name;
    char a[64], b[64];
    int w = 0;
    switch (s->kind) {
    case OS_SCHED_CONSTANT:
        w = snprintf(o, room, "constant");
        break;
    case OS_SCHED_MULTISTEP:
        w = snprintf(o, room, "multistep:milestones=");
        for (int i = 0; i < s->n_milestones && w < (int)room; ++i)
            w += snprintf(o + w, room - (size_t)w, "%s%lld", i ? "/" : "",
                          (long long)s->milestones[i]);
        fmt_num(a, sizeof a, s->gamma);
        if (w < (int)room) w += snprintf(o + w, room - (size_t)w, ",gamma=%s", a);
        break;
    case OS_SCHED_MULTIPLICATIVE:
        fmt_num(a, sizeof a, s->factor);
        if (s->end >= 0)
            snprintf(b, sizeof b, ",end=%lld", (long long)s->end);
        else
            b[0] = 0;
        w = snprintf(o, room, "multiplicative:factor=%s,start=%lld%s,every=%lld", a,
                     (long long)s->start, b, (long long)s->every);
        break;
    case OS_SCHED_STEP:
        fmt_num(a, sizeof a, s->gamma);
        w = snprintf(o, room, "step:step_size=%lld,gamma=%s", (long long)s->step_size, a);
        break;
    case OS_SCHED_EXPONENTIAL:
        fmt_num(a, sizeof a, s->gamma);
        w = snprintf(o, room, "exponential:gamma=%s", a);
        break;
    case OS_SCHED_COSINE:
        fmt_num(a, sizeof a, s->eta_min);
        w = snprintf(o, room, "cosine:t_max=%lld,eta_min=%s", (long long)s->t_max, a);
        break;
    }
    if (w >= (int)room) {
        os_set_error(err, "--scheduler: '%s': too long", text);
        return OS_EINPUT;
    }
    return OS_OK;
}

/* ------------------------------------------------------------------------ */
/* defaults and validation                                                   */

void os_spec_init(os_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->optimizers[0] = OS_OPT_ADAM;
    spec->n_optimizers = 1;
    list_set1(&spec->lr, 0.01);
    list_set1(&spec->momentum, 0.9);
    list_set1(&spec->dampening, 0.0);
    list_set1(&spec->alpha, 0.99);
    list_set1(&spec->eps, 1e-8);
    list_set1(&spec->beta1, 0.9);
    list_set1(&spec->beta2, 0.999);
    list_set1(&spec->weight_decay, 0.0);
    list_set1(&spec->batch_size, 64);
    list_set1(&spec->epochs, 100);
    list_set1(&spec->init_wa, 0.1);
    list_set1(&spec->init_wb, 1.8);
    spec->scheds = calloc(1, sizeof *spec->scheds);
    if (!spec->scheds) abort();
    os_error e;
    os_sched_parse("constant", &spec->scheds[0], &e);
    spec->n_scheds = 1;
    spec->sched_per_epoch = 0;
    spec->seed = 0;
    spec->seeds = 1;
    spec->shuffle = OS_SHUFFLE_SHARED;
    spec->dtype = OS_DTYPE_F32;
    spec->backend = OS_BACKEND_AUTO;
    spec->threads = 0;
    spec->n = 512;
    spec->a = 1.261845;
    spec->b = 1.234378;
    spec->offset = 0;
    spec->offset_set = 0;
    spec->noise = 0.1;
    spec->data_file = NULL;
    spec->target = 0.01;
}

void os_spec_free(os_spec *spec)
{
    os_list *lists[] = {&spec->lr,     &spec->momentum,     &spec->dampening,  &spec->alpha,
                        &spec->beta1,  &spec->beta2,        &spec->eps,        &spec->weight_decay,
                        &spec->batch_size, &spec->epochs,   &spec->init_wa,    &spec->init_wb};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; ++i) free(lists[i]->v);
    free(spec->scheds);
    free(spec->data_file);
    memset(spec, 0, sizeof *spec);
}

typedef struct range_check {
    const char *flag;
    const os_list *list;
    double lo, hi;
    int lo_open, hi_open, integer;
    const char *what;
} range_check;

static os_status check_list(const range_check *c, os_error *err)
{
    for (size_t i = 0; i < c->list->n; ++i) {
        double v = c->list->v[i];
        int bad = !isfinite(v) || (c->lo_open ? v <= c->lo : v < c->lo) ||
                  (c->hi_open ? v >= c->hi : v > c->hi) || (c->integer && v != floor(v));
        if (bad) {
            char buf[64];
            os_fmt_double(buf, sizeof buf, v);
            os_set_error(err, "%s: '%s' is out of range (%s)", c->flag, buf, c->what);
            return OS_EINPUT;
        }
    }
    return OS_OK;
}

os_status os_spec_validate(const os_spec *s, os_error *err)
{
    const double inf = INFINITY;
    const range_check checks[] = {
        {"--lr", &s->lr, 0, inf, 1, 1, 0, "must be > 0"},
        {"--momentum", &s->momentum, 0, 1, 0, 1, 0, "must be in [0, 1)"},
        {"--dampening", &s->dampening, 0, 1, 0, 0, 0, "must be in [0, 1]"},
        {"--alpha", &s->alpha, 0, 1, 0, 1, 0, "must be in [0, 1)"},
        {"--beta1", &s->beta1, 0, 1, 0, 1, 0, "must be in [0, 1)"},
        {"--beta2", &s->beta2, 0, 1, 0, 1, 0, "must be in [0, 1)"},
        {"--eps", &s->eps, 0, inf, 0, 1, 0, "must be >= 0"},
        {"--weight-decay", &s->weight_decay, 0, inf, 0, 1, 0, "must be >= 0"},
        {"--batch-size", &s->batch_size, 1, 1e7, 0, 0, 1, "must be an integer >= 1"},
        {"--epochs", &s->epochs, 1, 1e7, 0, 0, 1, "must be an integer in 1..10000000"},
        {"--init-wa", &s->init_wa, -1e6, 1e6, 0, 0, 0, "must be finite, |Wa| <= 1e6"},
        {"--init-wb", &s->init_wb, -1e6, 1e6, 0, 0, 0, "must be finite, |Wb| <= 1e6"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; ++i) {
        os_status st = check_list(&checks[i], err);
        if (st) return st;
    }
    for (size_t i = 0; i < s->init_wa.n; ++i)
        if (s->init_wa.v[i] == 0) {
            os_set_error(err, "--init-wa: '0' is out of range (the model divides by Wa)");
            return OS_EINPUT;
        }
    int nesterov = 0, momentum = 0;
    for (size_t i = 0; i < s->n_optimizers; ++i) {
        nesterov |= s->optimizers[i] == OS_OPT_NESTEROV;
        momentum |= s->optimizers[i] == OS_OPT_MOMENTUM;
    }
    if (nesterov || momentum)
        for (size_t i = 0; i < s->momentum.n; ++i)
            if (s->momentum.v[i] == 0) {
                os_set_error(err, "--momentum: '0' is out of range (%s needs momentum > 0)",
                             nesterov ? "nesterov" : "momentum");
                return OS_EINPUT;
            }
    if (nesterov)
        for (size_t i = 0; i < s->dampening.n; ++i)
            if (s->dampening.v[i] != 0) {
                char buf[64];
                os_fmt_double(buf, sizeof buf, s->dampening.v[i]);
                os_set_error(err, "--dampening: '%s' is out of range (nesterov needs dampening 0)",
                             buf);
                return OS_EINPUT;
            }
    if (s->seeds < 1) {
        os_set_error(err, "--seeds: '%u' is out of range (must be >= 1)", s->seeds);
        return OS_EINPUT;
    }
    if (!s->data_file) {
        char buf[64];
        if (s->n < 2 || s->n > 10000000) {
            os_set_error(err, "--n: '%d' is out of range (must be in 2..10000000)", s->n);
            return OS_EINPUT;
        }
        if (!(s->a > 0 && s->a <= 1e6)) {
            os_fmt_double(buf, sizeof buf, s->a);
            os_set_error(err, "--a: '%s' is out of range (must be in (0, 1e6])", buf);
            return OS_EINPUT;
        }
        if (!(s->b > 0 && s->b <= 1e6)) {
            os_fmt_double(buf, sizeof buf, s->b);
            os_set_error(err, "--b: '%s' is out of range (must be in (0, 1e6])", buf);
            return OS_EINPUT;
        }
        if (!s->offset_set && s->b > s->a) {
            os_fmt_double(buf, sizeof buf, s->b);
            os_set_error(err, "--b: '%s' is out of range (must be <= --a unless --offset is given)",
                         buf);
            return OS_EINPUT;
        }
        if (!(s->noise >= 0 && s->noise <= 1e6)) {
            os_fmt_double(buf, sizeof buf, s->noise);
            os_set_error(err, "--noise: '%s' is out of range (must be in [0, 1e6])", buf);
            return OS_EINPUT;
        }
    }
    if (s->offset_set && !(fabs(s->offset) <= 1e6)) {
        char buf[64];
        os_fmt_double(buf, sizeof buf, s->offset);
        os_set_error(err, "--offset: '%s' is out of range (|offset| <= 1e6)", buf);
        return OS_EINPUT;
    }
    if (!(s->target > 0) || !isfinite(s->target)) {
        char buf[64];
        os_fmt_double(buf, sizeof buf, s->target);
        os_set_error(err, "--target: '%s' is out of range (must be > 0)", buf);
        return OS_EINPUT;
    }
    return OS_OK;
}
