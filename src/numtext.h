/* numtext.h — numbers in table fields, read and written fast
 * (src/numtext.cpp, on C++17's from_chars and to_chars). */
#ifndef ORBITSWEEP_NUMTEXT_H
#define ORBITSWEEP_NUMTEXT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The whole of s[0..n) (s[n] must be its NUL) as strtod reads it: the
 * same double for every input, nan and inf included; 0 when the field is
 * empty, starts with a blank or has text after the number. */
int os_parse_field(const char *s, size_t n, double *v);

/* The same text as os_fmt_double (fmt.c) for every double, faster: the
 * first of %.15g, %.16g that reads back to v, else %.17g; nan, inf,
 * -inf. size must be at least 32. */
void os_fmt_double_fast(char *buf, size_t size, double v);

#ifdef __cplusplus
}
#endif

#endif
