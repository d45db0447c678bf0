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

/* One record from r->buf[r->pos .. r->len) (r->buf[r->len] is 0) into
 * r->fields. With more_to_come, the window is not the end of the input: a
 * record that reaches the window's end might continue past it, so nothing
 * is consumed and CSV_MORE says to read on and call again. */
#define CSV_MORE (-100)
/* The bytes that end a run of field text. */
static const unsigned char special[256] = {[0] = 1, ['"'] = 1, [','] = 1, ['\n'] = 1, ['\r'] = 1};
static int parse_record(os_csv *r, int more_to_come)
{
    const size_t pos0 = r->pos;
    const int line0 = r->line;
    for (;;) {
        if (r->pos >= r->len) {
            if (more_to_come) goto more;
            return 0;
        }
        /* count the line this record starts on */
        r->line += 1;
        const char *p = r->buf + r->pos;
        if (more_to_come && *p == '\r' && r->pos + 1 >= r->len) goto more;
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
        /* a run of ordinary bytes at once (the window ends with a 0) */
        size_t j = i;
        while (!special[(unsigned char)r->buf[j]]) ++j;
        if (j > i) {
            memcpy(out, r->buf + i, j - i);
            out += j - i;
            i = j;
        }
        char c = r->buf[i];
        if (c == '"') {
            ++i;
            for (;;) {
                if (i >= r->len) {
                    if (more_to_come) goto more;
                    snprintf(r->problem, sizeof r->problem, "line %d: an unterminated quoted field", r->line);
                    return OS_CSV_MALFORMED;
                }
                if (r->buf[i] == '"') {
                    /* the quote and the two bytes after it decide */
                    if (more_to_come && i + 2 >= r->len) goto more;
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
        if (c == 0 && more_to_come) goto more; /* the window's end (a NUL byte is never read) */
        if (c == '\r' && more_to_come && i + 1 >= r->len) goto more;
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
more:
    r->pos = pos0;
    r->line = line0;
    return CSV_MORE;
}

int os_csv_next(os_csv *r) { return parse_record(r, 0); }

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

/* ------------------------------------------------------------------------ */
/* the streaming reader                                                      */

/* '\n' bytes in p[0..n). */
static unsigned long long count_newlines(const char *p, size_t n)
{
    unsigned long long k = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; ++p) ++k;
    return k;
}

/* Up to n bytes from the current source (the next one at the end of one);
 * 0 at the end of the last. -1 on a read error (errno says why). */
static long read_source(os_csv_stream *s, char *dst, size_t n)
{
    while (s->cur < s->n_src) {
        FILE *f = s->src[s->cur];
        const size_t got = fread(dst, 1, n, f);
        if (got > 0) return (long)got;
        if (ferror(f)) {
            if (!errno) errno = EIO;
            return -1;
        }
        s->cur += 1;
    }
    return 0;
}

/* The NUL byte at nul (in chunk, which follows everything read so far):
 * the message names its line. */
static int refuse_nul(os_csv_stream *s, const char *chunk, const char *nul)
{
    const unsigned long long line = 1 + s->newlines + count_newlines(s->r.buf, s->r.len) +
                                    count_newlines(chunk, (size_t)(nul - chunk));
    snprintf(s->r.problem, sizeof s->r.problem, "line %llu: a NUL byte (not a text file)", line);
    return OS_CSV_MALFORMED;
}

/* Drop the consumed part of the window, make room and read a chunk.
 * Returns 1, or OS_CSV_MALFORMED (a NUL byte, a read error: r.problem)
 * or OS_CSV_NOMEM. At the end of the input s->eof is set. */
static int refill(os_csv_stream *s)
{
    os_csv *r = &s->r;
    if (r->pos > 0) {
        s->newlines += count_newlines(r->buf, r->pos);
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (s->cap - r->len - 1 < s->cap / 2) { /* less than half free: a long record, grow */
        const size_t cap = 2 * s->cap;
        char *nb = realloc(r->buf, cap);
        if (!nb) return OS_CSV_NOMEM;
        r->buf = nb;
        char *ns = realloc(r->scratch, cap);
        if (!ns) return OS_CSV_NOMEM;
        r->scratch = ns;
        s->cap = cap;
    }
    char *dst = r->buf + r->len;
    const long got = read_source(s, dst, s->cap - r->len - 1);
    if (got < 0) {
        snprintf(r->problem, sizeof r->problem, "%s", strerror(errno));
        return OS_CSV_MALFORMED;
    }
    if (got == 0) {
        s->eof = 1;
        r->buf[r->len] = 0;
        return 1;
    }
    const char *nul = memchr(dst, 0, (size_t)got);
    if (nul) return refuse_nul(s, dst, nul);
    if (s->tee && fwrite(dst, 1, (size_t)got, s->tee) != (size_t)got) {
        snprintf(r->problem, sizeof r->problem, "a temporary copy of the input: %s", strerror(errno ? errno : EIO));
        return OS_CSV_MALFORMED;
    }
    r->len += (size_t)got;
    r->buf[r->len] = 0;
    return 1;
}

int os_csv_stream_from(os_csv_stream *s, FILE *first, FILE *rest, FILE *tee, size_t chunk)
{
    memset(s, 0, sizeof *s);
    s->tee = tee;
    if (first) s->src[s->n_src++] = first;
    if (rest) s->src[s->n_src++] = rest;
    s->cap = chunk < 8 ? 8 : chunk;
    s->r.buf = malloc(s->cap);
    s->r.scratch = malloc(s->cap);
    if (!s->r.buf || !s->r.scratch) {
        os_csv_stream_close(s);
        errno = ENOMEM;
        return 0;
    }
    s->r.buf[0] = 0;
    /* the first bytes: a read error (a directory), a byte order mark */
    while (!s->eof && s->r.len < 3) {
        const int rc = refill(s);
        if (rc != 1) {
            if (rc == OS_CSV_NOMEM) errno = ENOMEM;
            const int saved = errno;
            char why[sizeof s->r.problem];
            memcpy(why, s->r.problem, sizeof why);
            os_csv_stream_close(s);
            memcpy(s->r.problem, why, sizeof why);
            errno = saved;
            return 0;
        }
    }
    if (s->r.len >= 3 && memcmp(s->r.buf, "\xEF\xBB\xBF", 3) == 0) s->r.pos = 3;
    return 1;
}

int os_csv_stream_open(os_csv_stream *s, const char *path, size_t chunk)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(s, 0, sizeof *s);
        return 0;
    }
    if (!os_csv_stream_from(s, f, NULL, NULL, chunk)) {
        const int saved = errno;
        fclose(f);
        errno = saved;
        return 0;
    }
    s->own = f;
    return 1;
}

int os_csv_stream_next(os_csv_stream *s)
{
    for (;;) {
        const int rc = parse_record(&s->r, !s->eof);
        if (rc != CSV_MORE) return rc;
        const int fr = refill(s);
        if (fr != 1) return fr;
    }
}

int os_csv_stream_find_nul(os_csv_stream *s)
{
    if (s->eof) return 0;
    char *chunk = malloc(1 << 16);
    if (!chunk) return 0;
    unsigned long long seen = 0; /* newlines read here before this chunk */
    int found = 0;
    for (;;) {
        const long got = read_source(s, chunk, 1 << 16);
        if (got <= 0) break;
        const char *nul = memchr(chunk, 0, (size_t)got);
        if (nul) {
            s->newlines += seen;
            refuse_nul(s, chunk, nul);
            found = 1;
            break;
        }
        seen += count_newlines(chunk, (size_t)got);
    }
    free(chunk);
    s->eof = 1;
    return found;
}

void os_csv_stream_close(os_csv_stream *s)
{
    if (s->own) fclose(s->own);
    os_csv_close(&s->r);
    memset(s, 0, sizeof *s);
}
