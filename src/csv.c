/* csv.c — a small RFC 4180 reader; see csv.h. */
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int os_csv_open(os_csv *r, const char *path, size_t max_bytes)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int failed = !buf;
    while (!failed) {
        if (len + 1 >= cap) {
            char *nb = cap <= max_bytes ? realloc(buf, cap *= 2) : NULL;
            if (!nb) {
                failed = 1;
                if (cap > max_bytes) snprintf(r->problem, sizeof r->problem, "larger than %zu bytes", max_bytes);
                break;
            }
            buf = nb;
        }
        const size_t got = fread(buf + len, 1, cap - len - 1, f);
        const char *nul = memchr(buf + len, 0, got);
        if (nul) { /* not text: say where, before reading any further (/dev/zero) */
            int line = 1;
            for (const char *p = buf; p < nul; ++p) line += *p == '\n';
            snprintf(r->problem, sizeof r->problem, "line %d: a NUL byte (not a text file)", line);
            failed = 1;
            break;
        }
        len += got;
        if (len > max_bytes) {
            snprintf(r->problem, sizeof r->problem, "larger than %zu bytes", max_bytes);
            failed = 1;
        }
        if (got == 0) break;
    }
    failed |= ferror(f);
    const int saved = errno;
    fclose(f);
    if (failed) {
        free(buf);
        errno = saved ? saved : EIO;
        if (!r->problem[0] && !buf) errno = ENOMEM;
        return 0;
    }
    buf[len] = 0;
    r->buf = buf;
    r->len = len;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) r->pos = 3; /* a UTF-8 byte order mark */
    r->scratch = malloc(len + 1);
    if (!r->scratch) {
        free(buf);
        r->buf = NULL;
        errno = ENOMEM;
        return 0;
    }
    return 1;
}

const char *os_csv_why(const os_csv *r) { return r->problem[0] ? r->problem : strerror(errno); }

static int push_field(os_csv *r, char *f)
{
    if (r->n_fields == r->cap_fields) {
        int cap = r->cap_fields ? 2 * r->cap_fields : 16;
        char **nf = realloc(r->fields, (size_t)cap * sizeof *nf);
        if (!nf) return 0;
        r->fields = nf;
        r->cap_fields = cap;
    }
    r->fields[r->n_fields++] = f;
    return 1;
}

int os_csv_next(os_csv *r)
{
    for (;;) {
        if (r->pos >= r->len) return 0;
        /* count the line this record starts on */
        r->line += 1;
        const char *p = r->buf + r->pos;
        if (*p == '\n' || (*p == '\r' && p[1] == '\n')) { /* blank line */
            r->pos += *p == '\r' ? 2 : 1;
            continue;
        }
        break;
    }
    r->n_fields = 0;
    char *out = r->scratch + r->pos; /* scratch mirrors buf: fields never outgrow their text */
    char *field = out;
    size_t i = r->pos;
    int extra_lines = 0;
    for (;;) {
        char c = r->buf[i];
        if (c == '"') {
            ++i;
            for (;;) {
                if (i >= r->len) {
                    snprintf(r->problem, sizeof r->problem, "line %d: an unterminated quoted field", r->line);
                    return OS_CSV_MALFORMED;
                }
                if (r->buf[i] == '"') {
                    if (r->buf[i + 1] == '"') {
                        *out++ = '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    const char n = r->buf[i];
                    if (!(n == ',' || n == '\n' || n == 0 || (n == '\r' && (r->buf[i + 1] == '\n' || r->buf[i + 1] == 0)))) {
                        snprintf(r->problem, sizeof r->problem, "line %d: text after a closing quote",
                                 r->line + extra_lines);
                        return OS_CSV_MALFORMED;
                    }
                    break;
                }
                if (r->buf[i] == '\n') ++extra_lines;
                *out++ = r->buf[i++];
            }
            continue;
        }
        if (c == ',') {
            *out++ = 0;
            if (!push_field(r, field)) return OS_CSV_NOMEM;
            field = out;
            ++i;
            continue;
        }
        if (c == '\n' || c == 0 || (c == '\r' && (r->buf[i + 1] == '\n' || r->buf[i + 1] == 0))) {
            *out++ = 0;
            if (!push_field(r, field)) return OS_CSV_NOMEM;
            if (c == '\r') ++i;
            if (i < r->len) ++i;
            r->pos = i;
            r->line += extra_lines;
            return 1;
        }
        *out++ = c;
        ++i;
    }
}

void os_csv_close(os_csv *r)
{
    free(r->buf);
    free(r->scratch);
    free(r->fields);
    memset(r, 0, sizeof *r);
}

void os_csv_put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; ++s) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
