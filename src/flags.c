/* flags.c — the command-line flag parser; see flags.h. */
#include "flags.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define OS_MAX_FLAGS 64

static os_status bad(os_error *err, const char *flag, const char *val, const char *what)
{
    os_set_error(err, "%s: '%s' %s", flag, val, what);
    return OS_EINPUT;
}

/* One flag with its value (NULL for OS_F_BOOL); first: its first time. */
static os_status apply(const os_flag *f, void *opts, const char *val, int first, os_error *err)
{
    char *p = (char *)opts + f->off;
    if (f->mark >= 0) *(int *)((char *)opts + f->mark) = 1;
    switch (f->kind) {
    case OS_F_AXIS:
        return os_spec_set_axis((os_spec *)p, f->axis, val, first, err);
    case OS_F_INT: {
        double v;
        if (!os_parse_number(val, strlen(val), &v) || v != floor(v) || fabs(v) > INT_MAX)
            return bad(err, f->name, val, "is not an integer");
        *(int *)p = (int)v;
        return OS_OK;
    }
    case OS_F_U64: {
        char *end;
        errno = 0;
        const unsigned long long v = isdigit((unsigned char)*val) ? strtoull(val, &end, 10) : 0;
        if (!isdigit((unsigned char)*val) || *end || errno == ERANGE)
            return bad(err, f->name, val, "is not an integer in 0..18446744073709551615");
        *(uint64_t *)p = v;
        return OS_OK;
    }
    case OS_F_DOUBLE: {
        char *end;
        const double v = *val ? strtod(val, &end) : NAN;
        if (!*val || *end || !isfinite(v)) return bad(err, f->name, val, "is not a number");
        *(double *)p = v;
        return OS_OK;
    }
    case OS_F_CHOICE:
        for (int i = 0; f->choices[i]; ++i)
            if (strcmp(val, f->choices[i]) == 0) return *(int *)p = i, OS_OK;
        {
            char list[256];
            size_t w = 0;
            list[0] = 0;
            for (int i = 0; f->choices[i] && w < sizeof list; ++i)
                w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "", f->choices[i]);
            os_set_error(err, "%s: unknown value '%s' (%s)", f->name, val, list);
        }
        return OS_EINPUT;
    case OS_F_STRING: {
        if (!*val) return bad(err, f->name, val, "is empty");
        char *copy = strdup(val);
        if (!copy) return os_set_error(err, "out of memory"), OS_ERUNTIME;
        free(*(char **)p);
        *(char **)p = copy;
        return OS_OK;
    }
    case OS_F_BOOL:
        *(int *)p = 1;
        return OS_OK;
    case OS_F_DEVICES: {
        os_spec *s = (os_spec *)p;
        if (first) s->n_devices = 0;
        for (const char *tok = val;;) {
            char *end;
            errno = 0;
            const long d = isdigit((unsigned char)*tok) ? strtol(tok, &end, 10) : -1;
            if (d < 0 || errno == ERANGE || d >= 1000000 || (*end && *end != ','))
                return bad(err, f->name, val, "is not a list of GPU numbers (0,1,...)");
            if (s->n_devices == OS_MAX_DEVICES) return bad(err, f->name, val, "lists too many GPUs");
            s->devices[s->n_devices++] = (int)d;
            if (!*end) return OS_OK;
            tok = end + 1;
        }
    }
    case OS_F_LIST: {
        os_list *l = (os_list *)p;
        if (first) l->n = 0;
        return os_list_parse(f->name, val, l, err);
    }
    }
    return OS_OK;
}

os_status os_flags_parse(const os_flag *flags, size_t n_flags, void *opts, int argc, char **argv,
                         const char **pos, int max_pos, int *n_pos, os_error *err)
{
    int given[OS_MAX_FLAGS] = {0};
    *n_pos = 0;
    for (int i = 0; i < argc; ++i) {
        const char *arg = argv[i], *val = NULL;
        if (arg[0] != '-' || !arg[1]) { /* a positional argument ("-" is one: stdin/stdout) */
            if (*n_pos == max_pos) {
                if (max_pos)
                    os_set_error(err, "unexpected argument '%s' after '%s' (one input only)", arg, pos[max_pos - 1]);
                else
                    os_set_error(err, "unexpected argument '%s' (see orbitsweep --help)", arg);
                return OS_EINPUT;
            }
            pos[(*n_pos)++] = arg;
            continue;
        }
        const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        const size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const os_flag *f = NULL;
        for (size_t k = 0; k < n_flags; ++k)
            if (strlen(flags[k].name) == len && strncmp(arg, flags[k].name, len) == 0) f = &flags[k];
        if (!f) {
            os_set_error(err, "unknown flag '%s' (see orbitsweep --help)", arg);
            return OS_EINPUT;
        }
        if (f->kind == OS_F_BOOL && eq) return bad(err, f->name, eq + 1, "takes no value");
        if (f->kind != OS_F_BOOL) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return os_set_error(err, "%s: missing value", f->name), OS_EINPUT;
        }
        const size_t k = (size_t)(f - flags);
        os_status st = apply(f, opts, val, k < OS_MAX_FLAGS ? !given[k]++ : 1, err);
        if (st) return st;
    }
    return OS_OK;
}

void os_flags_help(FILE *out, const os_flag *flags, size_t n_flags)
{
    const char *section = NULL;
    for (size_t k = 0; k < n_flags; ++k) {
        const os_flag *f = &flags[k];
        if (f->section && (!section || strcmp(section, f->section) != 0)) {
            section = f->section;
            fprintf(out, "%s\n", section);
        }
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", f->name, f->arg ? " " : "", f->arg ? f->arg : "");
        fprintf(out, "  %-20s %s", head, f->help ? f->help : "");
        int users = 0;
        for (int o = 0; f->kind == OS_F_AXIS && o < OS_OPT_COUNT; ++o) users += os_axis_used(f->axis, o);
        if (users && users < OS_OPT_COUNT) { /* a hyperparameter: which optimizers read it */
            const char *sep = " (";
            for (int o = 0; o < OS_OPT_COUNT; ++o)
                if (os_axis_used(f->axis, o)) fprintf(out, "%s%s", sep, os_optimizer_name(o)), sep = ", ";
            fputc(')', out);
        }
        if (f->dflt) fprintf(out, "  [%s]", f->dflt);
        fputc('\n', out);
    }
}
