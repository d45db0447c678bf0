/* summarize.h — one row per configuration of a results table, seeds pooled.
 *
 * `orbitsweep summarize` reads a results table (docs/design.md §4), groups the
 * trainings that differ only by seed (same text in every configuration
 * column) and gives each group its success and divergence rates, the
 * quartiles of param_error and loss_gap, and the median steps_to_target.
 * Reading and writing are separate so that bad input is found before any
 * output exists. The table is streamed: see summarize.c for how groups are
 * found without keeping its rows.
 */
#ifndef ORBITSWEEP_SUMMARIZE_H
#define ORBITSWEEP_SUMMARIZE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "orbitsweep/orbitsweep.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The configuration columns: one per sweep axis (axes.h), in table order. */
#define OS_SUMMARY_N_CONFIG OS_AX_COUNT

/* One configuration and the statistics over its trainings. Quantiles count
 * diverged trainings and nan values as +inf; steps_med counts trainings
 * that never reached the target as +inf. */
typedef struct os_summary_group {
    char *key;                                 /* owns the config texts */
    const char *config[OS_SUMMARY_N_CONFIG];   /* from the group's first row */
    size_t n, n_success, n_diverged, n_reached;
    double pe_med, pe_q25, pe_q75;             /* param_error */
    double gap_med, gap_q25, gap_q75;          /* loss_gap */
    double steps_med;
} os_summary_group;

typedef struct os_summary {
    os_summary_group *groups; /* in order of first appearance */
    size_t n_groups, n_trainings;
    double target;
} os_summary;

/* The results columns a summary reads besides the configuration's, k = 0, 1,
 * ...; NULL past the last. */
const char *os_summary_metric(size_t k);

/* Read the results table at path and summarize it; success means
 * param_error <= target and not diverged (target NaN: each row's own, its
 * `target` column, 0.01 in a table without one). Returns OS_OK, OS_EINPUT (a
 * missing or malformed file, a missing column, a bad field, no rows; the
 * message names the file and the line and column) or OS_ERUNTIME (out of
 * memory). On failure *out is empty and needs no free. The table is
 * streamed (summarize.c); the groups are kept, so memory grows with their
 * number: the command line uses the spool below instead. */
os_status os_summary_load(const char *path, double target, os_summary *out, os_error *err);

/* Write the summary table, header first (RFC 4180). Returns 0, or -1 if
 * the stream reports an error. */
int os_summary_write(FILE *f, const os_summary *s);

void os_summary_free(os_summary *s);

/* The summary table as text, header first, in an unlinked temporary file
 * ($TMPDIR, else /tmp; in memory if none can be made): what summarize
 * writes, made in bounded memory and complete before any output exists. */
typedef struct os_summary_spool {
    FILE *f;
    char *mem;            /* the text when f is an open_memstream */
    size_t mem_size;
    off_t start, len;     /* where the rows start; the text's length */
    size_t n_groups, n_trainings;
    double target;
} os_summary_spool;

/* How a summary is made, for tests (NULL: the defaults). */
typedef struct os_summary_tuning {
    size_t read_bytes;    /* the read window's first size (0: 1 MiB) */
    int hash_grouping;    /* 1: group through the hash table from the start */
    int used_hash;        /* out: 1 if the hash table made the summary (a
                             configuration came back after others, the
                             input could not be read twice, or asked) */
} os_summary_tuning;

/* As os_summary_load, into a spool (same errors; out of room for the
 * temporary file is OS_ERUNTIME). */
os_status os_summary_spool_load(const char *path, double target, os_summary_tuning *tune,
                                os_summary_spool *out, os_error *err);
/* Copy the spool's text to f. Returns 0, or -1 on an error. */
int os_summary_spool_write(FILE *f, os_summary_spool *s);
void os_summary_spool_free(os_summary_spool *s);

os_status os_summary_load_tuned(const char *path, double target, os_summary_tuning *tune, os_summary *out,
                                os_error *err);

/* Load path, then write its summary to out; nothing is written on failure. */
os_status os_summarize(const char *path, FILE *out, double target, os_error *err);

/* The q-quantile of sorted[0..n-1] (n >= 1), numpy's default 'linear'
 * method: position (n-1)*q, linear between its neighbours. */
double os_quantile_sorted(const double *sorted, size_t n, double q);

#ifdef __cplusplus
}
#endif

#endif
