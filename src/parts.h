/* parts.h — results tables in parts: what a partial table holds (resume)
 * and the merge of shards into the table a single run writes
 * (docs/design.md §3, "Resume, shards and merge").
 */
#ifndef ORBITSWEEP_PARTS_H
#define ORBITSWEEP_PARTS_H

#include <stddef.h>
#include <sys/types.h>

#include "orbitsweep/orbitsweep.h"

/* What a CSV results table at path holds, read up to its first row that is
 * not whole: the header, then rows of trials first, first+1, ... (each
 * ending in a newline, with the table's field count and no NUL byte), at
 * most max_rows of them. *rows: the whole rows; *good: the bytes they end
 * at (0 when even the header is torn); *size: the file's. OS_EINPUT when
 * the file does not begin with (a prefix of) orbitsweep's header: not a
 * results table. */
os_status os_table_scan(const char *path, const char *flag, size_t first, size_t max_rows, size_t *rows,
                        off_t *good, off_t *size, os_error *err);

/* merge PARTS... -o OUT: each part's sidecar read and compared (same spec,
 * same grid), the parts' ranges checked to tile the grid (no overlap, no
 * gap), each part checked whole, then the rows copied in grid order under
 * one header to out (through os_atomic_*), with a sidecar of the whole
 * table. argc/argv: the command, for the sidecar. OS_EINPUT naming the
 * parts and trials at fault. */
os_status os_merge(const char *const *parts, int n_parts, const char *out, int argc, char *const *argv,
                   os_error *err);

#endif
