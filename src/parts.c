/* parts.c — partial tables and the merge of shards (parts.h). */
#define _XOPEN_SOURCE 700 /* open_memstream, fileno */
#include "parts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "provenance.h"

/* The table's header line, newline included (malloc'd). */
static char *header_text(size_t *len)
{
    char *h = NULL;
    FILE *m = open_memstream(&h, len);
    if (!m) return NULL;
    const int bad = os_write_header(m);
    if (fclose(m) != 0 || bad) return free(h), NULL;
    return h;
}

/* Whether line (len bytes, its newline excluded) is trial `trial`'s whole
 * row: the number first, then `fields` fields (a quoted field may hold
 * commas), no NUL. */
static int row_ok(const char *line, size_t len, size_t trial, size_t fields)
{
    char num[24];
    const int nl = snprintf(num, sizeof num, "%zu,", trial);
    if (len < (size_t)nl || memcmp(line, num, (size_t)nl) != 0 || memchr(line, 0, len)) return 0;
    size_t commas = 0;
    int quoted = 0;
    for (size_t i = 0; i < len; ++i) {
        if (line[i] == '"') quoted = !quoted;
        else if (line[i] == ',' && !quoted) ++commas;
    }
    return !quoted && commas + 1 == fields;
}

os_status os_table_scan(const char *path, const char *flag, size_t first, size_t max_rows, size_t *rows,
                        off_t *good, off_t *size, os_error *err)
{
    *rows = 0, *good = 0, *size = 0;
    size_t hlen = 0;
    char *head = header_text(&hlen);
    FILE *f = head ? fopen(path, "rb") : NULL;
    if (!f) {
        os_set_error(err, "%s: '%s': %s", flag, path, head ? strerror(errno) : "out of memory");
        free(head);
        return head ? OS_EINPUT : OS_ERUNTIME;
    }
    size_t fields = 1;
    for (size_t i = 0; i < hlen; ++i) fields += head[i] == ',';
    const size_t cap = (size_t)1 << 20;
    char *buf = malloc(cap);
    size_t have = 0, at = 0; /* bytes in buf; where the next line starts */
    off_t base = 0;          /* the file offset of buf[0] */
    int eof = 0, header = 0;
    os_status st = OS_OK;
    while (buf && !st) {
        char *nl = memchr(buf + at, '\n', have - at);
        if (!nl) { /* refill: keep the unfinished line, read after it */
            if (eof || (at == 0 && have == cap)) break; /* a torn (or absurdly long) last line */
            memmove(buf, buf + at, have - at);
            base += (off_t)at, have -= at, at = 0;
            const size_t got = fread(buf + have, 1, cap - have, f);
            have += got;
            eof = got == 0;
            continue;
        }
        const size_t len = (size_t)(nl - (buf + at));
        if (!header) {
            if (len + 1 != hlen || memcmp(buf + at, head, hlen) != 0) {
                os_set_error(err, "%s: '%s' does not begin with orbitsweep's results header: not a results table",
                             flag, path);
                st = OS_EINPUT;
                break;
            }
            header = 1;
        } else if (*rows == max_rows || !row_ok(buf + at, len, first + *rows, fields)) {
            break;
        } else {
            *rows += 1;
        }
        at += len + 1;
        *good = base + (off_t)at;
    }
    if (!header && !st && buf) { /* no whole header: a torn one is ours, anything else is not */
        const size_t n = have - at < hlen ? have - at : hlen;
        if (memcmp(buf + at, head, n) != 0 || have - at > hlen) {
            os_set_error(err, "%s: '%s' does not begin with orbitsweep's results header: not a results table",
                         flag, path);
            st = OS_EINPUT;
        }
    }
    if (!buf) os_set_error(err, "out of memory"), st = OS_ERUNTIME;
    if (!st && ferror(f)) os_set_error(err, "%s: '%s': %s", flag, path, strerror(errno)), st = OS_EINPUT;
    struct stat sb;
    if (!st && fstat(fileno(f), &sb) == 0) *size = sb.st_size;
    fclose(f);
    free(buf);
    free(head);
    return st;
}

/* ------------------------------------------------------------------------ */
/* merge                                                                     */

typedef struct part {
    const char *path;
    os_provenance p;
} part;

static int by_first(const void *a, const void *b)
{
    const part *x = a, *y = b;
    return x->p.first < y->p.first ? -1 : x->p.first > y->p.first ? 1 : x->p.count < y->p.count ? -1
                                                                      : x->p.count > y->p.count;
}

/* Copy path's bytes from offset `from` to out. */
static os_status copy_rows(const char *path, off_t from, FILE *out, os_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseeko(f, from, SEEK_SET) != 0) {
        os_set_error(err, "merge: '%s': %s", path, strerror(errno));
        if (f) fclose(f);
        return OS_ERUNTIME;
    }
    static char buf[1 << 20];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, out) != n) break;
    const int bad = ferror(f);
    fclose(f);
    if (bad) {
        os_set_error(err, "merge: '%s': %s", path, strerror(errno));
        return OS_ERUNTIME;
    }
    return OS_OK;
}

static os_status check_parts(part *ps, int n, os_error *err)
{
    for (int i = 0; i < n; ++i) {
        const os_provenance *p = &ps[i].p, *q = &ps[0].p;
        if (strcmp(p->kind, "run") != 0 || strcmp(p->table, "csv") != 0) {
            os_set_error(err, "merge: '%s' is not a CSV results table of orbitsweep run (its sidecar says %s, %s)",
                         ps[i].path, p->kind, p->table);
            return OS_EINPUT;
        }
        if (strcmp(p->spec_hash, q->spec_hash) != 0 || p->trials != q->trials) {
            os_set_error(err, "merge: '%s' and '%s' come from different specs (spec_sha256 %.12s... and %.12s...)",
                         ps[0].path, ps[i].path, q->spec_hash, p->spec_hash);
            return OS_EINPUT;
        }
    }
    qsort(ps, (size_t)n, sizeof *ps, by_first);
    size_t next = 0; /* the first trial no part before has held */
    const char *prev = NULL;
    for (int i = 0; i < n; ++i) {
        const os_provenance *p = &ps[i].p;
        if (!p->count) continue;
        if (p->first < next) {
            const size_t hi = next < p->first + p->count ? next : p->first + p->count;
            os_set_error(err, "merge: '%s' and '%s' both hold trials %zu..%zu", prev, ps[i].path, p->first, hi - 1);
            return OS_EINPUT;
        }
        if (p->first > next) {
            os_set_error(err, "merge: trials %zu..%zu are in no part (a missing shard?)", next, p->first - 1);
            return OS_EINPUT;
        }
        next = p->first + p->count;
        prev = ps[i].path;
    }
    if (next < ps[0].p.trials) {
        os_set_error(err, "merge: trials %zu..%zu are in no part (a missing shard?)", next, ps[0].p.trials - 1);
        return OS_EINPUT;
    }
    return OS_OK;
}

os_status os_merge(const char *const *paths, int n, const char *out, int argc, char *const *argv, os_error *err)
{
    part *ps = calloc((size_t)n, sizeof *ps);
    if (!ps) return os_set_error(err, "out of memory"), OS_ERUNTIME;
    os_status st = OS_OK;
    int read = 0;
    for (; read < n && !st; ++read) {
        ps[read].path = paths[read];
        char *side = os_sidecar_path(paths[read]);
        struct stat sb;
        if (!side) st = OS_ERUNTIME, os_set_error(err, "out of memory");
        else if (stat(paths[read], &sb) != 0)
            st = OS_EINPUT, os_set_error(err, "merge: '%s': %s", paths[read], strerror(errno));
        else if (stat(side, &sb) != 0)
            st = OS_EINPUT, os_set_error(err, "merge: '%s' has no sidecar '%s': cannot tell its spec", paths[read],
                                         side);
        else
            st = os_sidecar_read(side, "merge", &ps[read].p, err);
        free(side);
    }
    if (st) --read; /* the part that failed holds nothing to free */
    if (!st) st = check_parts(ps, n, err);
    off_t *from = st ? NULL : calloc((size_t)n, sizeof *from);
    if (!st && !from) st = OS_ERUNTIME, os_set_error(err, "out of memory");
    for (int i = 0; i < n && !st; ++i) { /* every part whole: its rows, and nothing after them */
        size_t rows;
        off_t good, size;
        const os_provenance *p = &ps[i].p;
        st = os_table_scan(ps[i].path, "merge", p->first, p->count, &rows, &good, &size, err);
        if (!st && (rows != p->count || good != size)) {
            os_set_error(err, "merge: '%s' holds %zu of its %zu rows (trials %zu..%zu)%s", ps[i].path, rows, p->count,
                         p->first, p->first + p->count - 1,
                         rows < p->count ? ": an unfinished shard; finish it with --resume" : " and more bytes");
            st = OS_EINPUT;
        }
        if (!st) { /* the rows start after the header */
            size_t hl = 0;
            char *h = header_text(&hl);
            if (!h) st = OS_ERUNTIME, os_set_error(err, "out of memory");
            free(h);
            from[i] = (off_t)hl;
        }
    }
    os_provenance whole;
    memset(&whole, 0, sizeof whole);
    if (!st) { /* the whole table's sidecar: the parts' spec, no shard */
        whole = ps[0].p;
        whole.first = 0, whole.count = whole.trials, whole.shard_k = whole.shard_n = 0;
        whole.command = NULL;
        st = os_provenance_command(&whole, argc, argv, err);
    }
    char *side = st ? NULL : os_sidecar_path(out);
    if (!st && !side) st = OS_ERUNTIME, os_set_error(err, "out of memory");
    os_atomic_file af;
    int regular = 0; /* a file, not a device or pipe: it gets a sidecar */
    if (!st) st = os_atomic_open(&af, out, err);
    if (!st) {
        regular = af.tmp != NULL;
        const int bad = os_write_header(af.f);
        for (int i = 0; i < n && !st && !bad; ++i)
            if (ps[i].p.count) st = copy_rows(ps[i].path, from[i], af.f, err);
        if (st) os_atomic_abort(&af);
        else st = os_atomic_commit(&af, err); /* a failed write: the commit says so */
    }
    if (!st && regular) st = os_sidecar_write(side, &whole, err);
    free(whole.command);
    free(side);
    free(from);
    for (int i = 0; i < read; ++i) os_provenance_free(&ps[i].p);
    free(ps);
    return st;
}
