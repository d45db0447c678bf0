/* flags.c — the command-line flag parser; see flags.h. */
#include "flags.h"

#include <string.h>

#include "util.h"

#define OS_MAX_FLAGS 128

/* One flag with its value (NULL for OS_F_BOOL); first: its first time. */
static os_status apply(const os_flag *f, void *opts, const char *val, int first, os_error *err)
{
    char *p = (char *)opts + f->off;
    switch (f->kind) {
    case OS_F_AXIS: return os_spec_set_axis((os_spec *)p, f->id, val, first, err);
    case OS_F_SETTING: return os_spec_set((os_spec *)p, f->id, val, err);
    case OS_F_VALUE: return os_value_parse(f->id, f->name, val, p, f->choices, err);
    case OS_F_BOOL: *(int *)p = 1; return OS_OK;
    case OS_F_LIST: {
        os_list *l = (os_list *)p;
        if (first) l->n = 0;
        return os_list_parse(f->name, val, l, err);
    }
    }
    return OS_OK;
}

size_t os_flags_for_spec(os_flag *out, size_t spec_off)
{
    size_t n = 0;
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        const os_axis_def *d = &os_axes[a];
        out[n++] = (os_flag){d->flag, OS_F_AXIS, spec_off, a, NULL, "training (every axis takes a list; run trains the grid)",
                             d->type == OS_AXT_SCHED ? "SPEC" : "LIST", d->help, d->dflt};
    }
    for (int i = 0; i < os_n_settings; ++i) {
        const os_setting_def *s = &os_settings[i];
        out[n++] = (os_flag){s->flag, OS_F_SETTING, spec_off, i, NULL, s->section, s->arg, s->help,
                             s->shown ? s->shown : s->dflt};
    }
    return n;
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
        if (f->kind == OS_F_BOOL && eq) {
            os_set_error(err, "%s: takes no value, got '%s'", f->name, eq + 1);
            return OS_EINPUT;
        }
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
        for (int o = 0; f->kind == OS_F_AXIS && o < OS_OPT_COUNT; ++o) users += os_axis_used(f->id, o);
        if (users && users < OS_OPT_COUNT) { /* a hyperparameter: which optimizers read it */
            const char *sep = " (";
            for (int o = 0; o < OS_OPT_COUNT; ++o)
                if (os_axis_used(f->id, o)) fprintf(out, "%s%s", sep, os_optimizer_name(o)), sep = ", ";
            fputc(')', out);
        }
        if (f->dflt) fprintf(out, "  [%s]", f->dflt);
        fputc('\n', out);
    }
}

/* Replace axis a of every block by the spec's own list (a flag overrides a
 * sweep file's blocks). */
static os_status override_blocks(os_spec *s, int a, os_error *err)
{
    for (size_t b = 0; b < s->n_blocks; ++b) {
        os_list *l = &s->blocks[b].axis[a];
        l->n = 0;
        for (size_t i = 0; i < s->axis[a].n; ++i)
            if (os_list_push(l, s->axis[a].v[i], err)) return OS_ERUNTIME;
        s->blocks[b].given[a] = 1;
        s->blocks[b].dist[a] = s->dist[a];
    }
    return OS_OK;
}

os_status os_flags_parse_over(const os_flag *flags, size_t n_flags, void *opts, os_spec *spec, int argc,
                              char **argv, const char **pos, int max_pos, int *n_pos, os_error *err)
{
    int file_given[OS_AX_COUNT];
    const uint64_t file_settings = spec->settings_given;
    memcpy(file_given, spec->given, sizeof file_given);
    memset(spec->given, 0, sizeof spec->given);
    spec->settings_given = 0;
    os_status st = os_flags_parse(flags, n_flags, opts, argc, argv, pos, max_pos, n_pos, err);
    for (int a = 0; a < OS_AX_COUNT && !st; ++a) {
        if (spec->given[a]) st = override_blocks(spec, a, err);
        spec->given[a] |= file_given[a];
    }
    if (os_spec_given(spec, "random") || os_spec_given(spec, "sobol")) /* in every block too */
        for (size_t b = 0; b < spec->n_blocks; ++b)
            spec->blocks[b].sample = spec->sample, spec->blocks[b].n_samples = spec->n_samples;
    spec->settings_given |= file_settings;
    return st;
}
