/* numtext.h — numbers in table fields, read fast (src/numtext.cpp, on
 * C++17's from_chars; writing them is os_fmt_double, src/shortest.cpp). */
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

#ifdef __cplusplus
}
#endif

#endif
