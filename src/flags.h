/* flags.h — the one command-line flag parser, used by every command.
 *
 * A command describes its flags in a table of os_flag rows (name, kind,
 * where the value goes, help); os_flags_parse reads argv against it
 * (`--flag VALUE` or `--flag=VALUE`, repeats append to lists and replace
 * other values) and os_flags_help prints the table for --help. Values are
 * only parsed here; their ranges are checked by os_spec_validate (or the
 * command), so every check exists once.
 */
#ifndef ORBITSWEEP_FLAGS_H
#define ORBITSWEEP_FLAGS_H

#include <stddef.h>
#include <stdio.h>

#include "orbitsweep/orbitsweep.h"

enum {
    OS_F_AXIS,    /* a sweep axis: the os_spec at `off`, axis `id` (os_spec_set_axis) */
    OS_F_SETTING, /* a setting: the os_spec at `off`, os_settings[id] (os_spec_set) */
    OS_F_VALUE,   /* a value of kind `id` (OS_V_INT, ..., util.h) at `off` */
    OS_F_BOOL,    /* an int at `off` set to 1; takes no value */
    OS_F_LIST,    /* an os_list of numbers at `off` (os_list_parse) */
};

typedef struct os_flag {
    const char *name;
    int kind;
    size_t off;                 /* its place in the command's options struct */
    int id;                     /* the axis, setting or kind of value */
    const char *const *choices; /* OS_F_VALUE with OS_V_CHOICE: NULL-terminated */
    const char *section;        /* --help: the group it is listed under */
    const char *arg, *help, *dflt;
} os_flag;

/* The flag of every sweep axis and setting of an os_spec at `spec_off`,
 * into out (room for OS_AX_COUNT + os_n_settings rows); returns how many. */
size_t os_flags_for_spec(os_flag *out, size_t spec_off);

/* Read argv[0..argc) into opts. Arguments that are not flags go to
 * pos[0..max_pos) (*n_pos of them); more is an error. OS_EINPUT with a
 * one-line message naming the flag and the value, or OS_ERUNTIME (memory). */
os_status os_flags_parse(const os_flag *flags, size_t n_flags, void *opts, int argc, char **argv,
                         const char **pos, int max_pos, int *n_pos, os_error *err);

/* os_flags_parse over a spec that a sweep file may have filled (spec is
 * the os_spec inside opts): a flag's axis replaces that axis in every block
 * of the file, a sampling flag reaches every block, settings apply to the
 * whole sweep, and what the file gave stays given. */
os_status os_flags_parse_over(const os_flag *flags, size_t n_flags, void *opts, os_spec *spec, int argc,
                              char **argv, const char **pos, int max_pos, int *n_pos, os_error *err);

/* The flags as --help lists them, grouped by section. */
void os_flags_help(FILE *f, const os_flag *flags, size_t n_flags);

#endif
