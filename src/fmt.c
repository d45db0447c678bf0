/* fmt.c — reading numbers: decimal text to a double or an integer (their
 * writing is src/shortest.cpp). Depends on nothing. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"
#include "util.h"

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
