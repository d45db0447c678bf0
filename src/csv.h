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
} os_csv;

/* Opens path; returns 0 and sets errno on failure. */
int os_csv_open(os_csv *r, const char *path);
/* Next record into r->fields / r->n_fields: 1 = a record, 0 = end of file,
 * OS_CSV_MALFORMED (an unterminated quote) or OS_CSV_NOMEM (out of memory).
 * Blank lines are skipped. */
#define OS_CSV_MALFORMED (-1)
#define OS_CSV_NOMEM (-2)
int os_csv_next(os_csv *r);
void os_csv_close(os_csv *r);

/* Write one field, quoted when it holds a comma, quote or line break. */
void os_csv_put_field(FILE *f, const char *s);

#endif
