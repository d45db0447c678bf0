/* fmt.c — numbers as the shortest decimal that reads back to the same
 * value (so tables are exact and diffable); nan, inf, -inf for non-finite
 * values. Depends on nothing. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"
#include "util.h"

static int fmt_special(char *buf, size_t size, double v)
{
    if (isnan(v)) return snprintf(buf, size, "nan"), 1;
    if (isinf(v)) return snprintf(buf, size, v > 0 ? "inf" : "-inf"), 1;
    return 0;
}

/* The fewest significant digits that read back exactly. A value whose
 * shortest form has p <= 15 digits (a double carries 15.95) prints as just
 * that under %.15g, since %g drops trailing zeros; otherwise it needs 16 or
 * 17. So at most three tries — formatting is a large share of the time of
 * a big table. Floats likewise from 6 digits (a float carries 7.2). */
void os_fmt_double(char *buf, size_t size, double v)
{
    if (fmt_special(buf, size, v)) return;
    for (int p = 15; p < 17; ++p) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
    snprintf(buf, size, "%.17g", v);
}

void os_fmt_float(char *buf, size_t size, float v)
{
    if (fmt_special(buf, size, v)) return;
    for (int p = 6; p < 9; ++p) {
        snprintf(buf, size, "%.*g", p, (double)v);
        if (strtof(buf, NULL) == v) return;
    }
    snprintf(buf, size, "%.9g", (double)v);
}

/* ------------------------------------------------------------------------ */
/* reading numbers                                                           */

int os_parse_number(const char *s, size_t len, double *out)
{
    char buf[128];
    while (len && isspace((unsigned char)*s)) ++s, --len;
    while (len && isspace((unsigned char)s[len - 1])) --len;
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (strpbrk(buf, "xXpP")) return 0; /* decimal only: strtod would take 0x10 as 16 */
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno == ERANGE || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

int os_parse_int64(const char *s, size_t len, int64_t *out)
{
    double v;
    if (!os_parse_number(s, len, &v) || v != floor(v) || fabs(v) > 1e15) return 0;
    *out = (int64_t)v;
    return 1;
}
