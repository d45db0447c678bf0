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
    OS_F_AXIS,    /* a sweep axis: the spec at `off`, axis `axis` (os_spec_set_axis) */
    OS_F_INT,     /* an int; "1e3" is 1000, "1.5" is an error */
    OS_F_U64,     /* a uint64_t, digits only */
    OS_F_DOUBLE,  /* a finite double */
    OS_F_CHOICE,  /* an int: the index of the value in `choices` */
    OS_F_STRING,  /* a malloc'd char * (non-empty) */
    OS_F_BOOL,    /* an int set to 1; takes no value */
    OS_F_DEVICES, /* GPU numbers 0,1,...: the spec at `off` (devices, n_devices) */
    OS_F_LIST,    /* an os_list of numbers (os_list_parse) */
};

typedef struct os_flag {
    const char *name;
    int kind;
    size_t off;                 /* the value's place in the command's options struct */
    const char *const *choices; /* OS_F_CHOICE: NULL-terminated */
    int axis;                   /* OS_F_AXIS */
    long mark;                  /* >= 0: an int at this offset is set to 1 when the flag is given */
    const char *section;        /* --help: the group it is listed under */
    const char *arg, *help, *dflt;
} os_flag;

/* Read argv[0..argc) into opts. Arguments that are not flags go to
 * pos[0..max_pos) (*n_pos of them); more is an error. OS_EINPUT with a
 * one-line message naming the flag and the value, or OS_ERUNTIME (memory). */
os_status os_flags_parse(const os_flag *flags, size_t n_flags, void *opts, int argc, char **argv,
                         const char **pos, int max_pos, int *n_pos, os_error *err);

/* The flags as --help lists them, grouped by section. */
void os_flags_help(FILE *f, const os_flag *flags, size_t n_flags);

#endif
