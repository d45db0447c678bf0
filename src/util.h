/* util.h — small internal helpers of the utility layer (src/fmt.c), which
 * depends on nothing: reading numbers the way every flag and key does. */
#ifndef ORBITSWEEP_UTIL_H
#define ORBITSWEEP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "orbitsweep/orbitsweep.h"

/* s[0..len) (surrounding blanks ignored) as one finite double. */
int os_parse_number(const char *s, size_t len, double *out);
/* The same as an integer of magnitude <= 1e15 ("1e3" is 1000). */
int os_parse_int64(const char *s, size_t len, int64_t *out);

/* A flag's or setting's value: OS_V_INT (an int; "1e3" is 1000, "1.5" an
 * error), OS_V_U64 (digits only), OS_V_DOUBLE (finite), OS_V_CHOICE (the
 * index of the text in the NULL-terminated choices), OS_V_STRING (a
 * malloc'd copy, non-empty, replacing the old one) into *dst. OS_EINPUT
 * with a message naming flag and the text. (src/value.c) */
os_status os_value_parse(int kind, const char *flag, const char *text, void *dst, const char *const *choices,
                         os_error *err);

/* Bytes of memory this machine can still give (MemAvailable), or -1 when
 * it cannot tell. (src/memory.c) */
double os_memory_available(void);

#endif
