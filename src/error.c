/* error.c — error messages (depends on nothing). */
#include <stdarg.h>
#include <stdio.h>

#include "orbitsweep/orbitsweep.h"

void os_set_error(os_error *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}
