/* csv.h — a small RFC 4180 reader (quoted fields, doubled quotes, CRLF).
 *
 * Reads a whole file into memory and hands out one record at a time (--data
 * files), or streams it through a window (os_csv_stream: results tables for
 * summarize). Both share one parser.
 */
#ifndef ORBITSWEEP_CSV_H
#define ORBITSWEEP_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct os_csv {
    char *buf;     /* the file, NUL-terminated */
    size_t pos, len;
    int line;      /* line number of the record last returned (1-based) */
    char **fields; /* fields of the record last returned (point into scratch) */
    int n_fields, cap_fields;
    char *scratch;
    char problem[128]; /* why the file, or the record last read, is not CSV */
} os_csv;

/* The most a table may hold. */
#define OS_CSV_MAX_BYTES ((size_t)1 << 30)

/* Opens path and reads it whole (at most max_bytes; a NUL byte anywhere
 * is refused, since the file is then not text; a UTF-8 byte order mark is
 * skipped). Returns 0 on failure: os_csv_why says why. */
int os_csv_open(os_csv *r, const char *path, size_t max_bytes);
/* Why os_csv_open or os_csv_next failed (r->problem, else errno's text). */
const char *os_csv_why(const os_csv *r);
/* Next record into r->fields / r->n_fields: 1 = a record, 0 = end of file,
 * OS_CSV_MALFORMED (an unterminated quote, text after a closing quote: see
 * r->problem) or OS_CSV_NOMEM (out of memory).
 * Blank lines are skipped. */
#define OS_CSV_MALFORMED (-1)
#define OS_CSV_NOMEM (-2)
int os_csv_next(os_csv *r);
void os_csv_close(os_csv *r);

/* The same reader over a stream, a window of it at a time, so a table of
 * any size is read in bounded memory (the window grows only to hold the
 * longest record). Records, line numbers and every message are those of
 * os_csv_next on the whole input read at once, with one difference of
 * timing: a NUL byte is found when its chunk is read, not before the first
 * record; os_csv_stream_find_nul reads the rest of the input to report it
 * in place of a later problem. */
typedef struct os_csv_stream {
    os_csv r;          /* the window r.buf[0..r.len); the record last returned in r.fields, r.line */
    size_t cap;        /* bytes of r.buf and r.scratch */
    FILE *src[2];      /* read src[0] to its end, then src[1] */
    int n_src, cur, eof;
    FILE *tee;         /* when set, every byte read is also written here */
    FILE *own;         /* opened by os_csv_stream_open, closed by os_csv_stream_close */
    unsigned long long newlines; /* '\n' bytes before r.buf[0] */
} os_csv_stream;

/* Opens path (os_csv_stream_open) or reads first, then rest (either may be
 * NULL; os_csv_stream_from; neither is closed); chunk is the window's first
 * size in bytes. Returns 0 on failure (os_csv_why(&s->r) says why: a
 * missing file, a read error such as a directory, a NUL byte in the first
 * chunk). */
int os_csv_stream_open(os_csv_stream *s, const char *path, size_t chunk);
int os_csv_stream_from(os_csv_stream *s, FILE *first, FILE *rest, FILE *tee, size_t chunk);
/* As os_csv_next; OS_CSV_MALFORMED also for a NUL byte or a read error
 * (s->r.problem says which). */
int os_csv_stream_next(os_csv_stream *s);
/* Reads the rest of the input: 1 if it holds a NUL byte (s->r.problem then
 * names its line, as os_csv_open would have), else 0. */
int os_csv_stream_find_nul(os_csv_stream *s);
void os_csv_stream_close(os_csv_stream *s);

/* Write one field, quoted when it holds a comma, quote or line break. */
void os_csv_put_field(FILE *f, const char *s);

#endif
