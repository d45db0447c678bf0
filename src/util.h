/* util.h — small internal helpers of the utility layer (src/fmt.c), which
 * depends on nothing: reading numbers the way every flag and key does. */
#ifndef ORBITSWEEP_UTIL_H
#define ORBITSWEEP_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* s[0..len) (surrounding blanks ignored) as one finite double. */
int os_parse_number(const char *s, size_t len, double *out);
/* The same as an integer of magnitude <= 1e15 ("1e3" is 1000). */
int os_parse_int64(const char *s, size_t len, int64_t *out);

#endif
