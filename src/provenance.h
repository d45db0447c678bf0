/* provenance.h — the sidecar beside every table: where it came from.
 *
 * `results.csv` gets `results.csv.json` (docs/design.md §4, "The
 * sidecar"): the full spec in a canonical form and its SHA-256, the trials
 * the table holds (all, or a shard's range), the orbitsweep version, the
 * backend, the --data file's path and SHA-256, and the command that
 * reproduces the table. Resume and merge compare sidecars; summarize and
 * scripts/plot.py read them. JSON through cJSON (Debian's libcjson-dev),
 * SHA-256 through OpenSSL's libcrypto.
 */
#ifndef ORBITSWEEP_PROVENANCE_H
#define ORBITSWEEP_PROVENANCE_H

#include <stddef.h>

#include "orbitsweep/orbitsweep.h"

#define OS_SIDECAR_FORMAT 1

/* A numeric axis of more values than this is held in the canonical spec
 * by its count and the SHA-256 of its values' list (provenance.c). */
#define OS_SIDECAR_LISTED 1000

typedef struct os_provenance {
    char *spec_json;      /* the canonical spec: everything the table's bytes depend on */
    char spec_hash[65];   /* its SHA-256, hex */
    char data_sha256[65]; /* the --data file's SHA-256 ("" without one) */
    char *data_file;      /* its path as given (NULL without one) */
    char *kind;           /* "run" (a results table) or "trace" */
    char *table;          /* "csv" or "npz" */
    char *backend;        /* "cpu" or "cuda" */
    char *version;        /* orbitsweep's */
    char *command;        /* the command that reproduces the table, shell-quoted */
    size_t trials;        /* the whole grid's */
    size_t first, count;  /* the table holds trials first .. first+count-1 */
    int shard_k, shard_n; /* --shard K/N (0 0: none) */
} os_provenance;

/* The provenance of a table of spec (validated) over n_trials trainings,
 * holding all of them; the caller sets first/count/shard and the command
 * (os_provenance_command). OS_EINPUT: the --data file cannot be read. */
os_status os_provenance_make(const os_spec *spec, const char *kind, const char *table, size_t n_trials,
                             os_provenance *out, os_error *err);

/* The command line argv[0..argc) as one shell-quoted string into p->command. */
os_status os_provenance_command(os_provenance *p, int argc, char *const *argv, os_error *err);

/* Write p as JSON to path (temporary beside it, renamed when complete). */
os_status os_sidecar_write(const char *path, const os_provenance *p, os_error *err);

/* Read the sidecar at path. OS_EINPUT (naming flag and path) when it is
 * missing, not JSON or not an orbitsweep sidecar. */
os_status os_sidecar_read(const char *path, const char *flag, os_provenance *out, os_error *err);

/* The canonical spec's setting `key` ("target", "seed", ...) as text into
 * buf: 0, or -1 when the spec has no such setting. */
int os_provenance_setting(const os_provenance *p, const char *key, char *buf, size_t size);

/* 1 when this build writes and reads sidecars (built with cJSON and
 * libcrypto); without, os_sidecar_write writes nothing and os_sidecar_read
 * says so, and --resume and merge are refused. */
int os_sidecar_supported(void);

/* 1 when path holds an orbitsweep sidecar (a file we may replace). */
int os_sidecar_is_ours(const char *path);

/* The sidecar's path for a table's: path + ".json" (malloc'd). */
char *os_sidecar_path(const char *table);

void os_provenance_free(os_provenance *p);

#endif
