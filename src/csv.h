/* csv.h — a small RFC 4180 reader (quoted fields, doubled quotes, CRLF).
 *
 * Reads a whole file into memory and hands out one record at a time. Used
 * for --data files (and any table orbitsweep reads back).
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

/* Write one field, quoted when it holds a comma, quote or line break. */
void os_csv_put_field(FILE *f, const char *s);

#endif
