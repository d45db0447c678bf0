/* value.c — one flag or setting value from its text (depends on nothing
 * but fmt.c's number reader): the one place these kinds are parsed, for the
 * spec's settings and the commands' own flags alike. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"
#include "util.h"

static os_status bad(os_error *err, const char *flag, const char *val, const char *what)
{
    os_set_error(err, "%s: '%s' %s", flag, val, what);
    return OS_EINPUT;
}

os_status os_value_parse(int kind, const char *flag, const char *val, void *dst, const char *const *choices,
                         os_error *err)
{
    switch (kind) {
    case OS_V_INT: {
        double v;
        if (!os_parse_number(val, strlen(val), &v) || v != floor(v)) return bad(err, flag, val, "is not an integer");
        if (fabs(v) > INT_MAX) return bad(err, flag, val, "is out of range (|value| <= 2147483647)");
        *(int *)dst = (int)v;
        return OS_OK;
    }
    case OS_V_U64: {
        char *end;
        errno = 0;
        const unsigned long long v = isdigit((unsigned char)*val) ? strtoull(val, &end, 10) : 0;
        if (!isdigit((unsigned char)*val) || *end || errno == ERANGE)
            return bad(err, flag, val, "is not an integer in 0..18446744073709551615");
        *(uint64_t *)dst = v;
        return OS_OK;
    }
    case OS_V_DOUBLE: {
        double v;
        if (!os_parse_number(val, strlen(val), &v)) return bad(err, flag, val, "is not a (finite, decimal) number");
        *(double *)dst = v;
        return OS_OK;
    }
    case OS_V_CHOICE: {
        for (int i = 0; choices[i]; ++i)
            if (strcmp(val, choices[i]) == 0) return *(int *)dst = i, OS_OK;
        char list[256];
        size_t w = 0;
        list[0] = 0;
        for (int i = 0; choices[i] && w < sizeof list; ++i)
            w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "", choices[i]);
        os_set_error(err, "%s: unknown value '%s' (%s)", flag, val, list);
        return OS_EINPUT;
    }
    case OS_V_STRING: {
        if (!*val) return bad(err, flag, val, "is empty");
        char *copy = strdup(val);
        if (!copy) return os_set_error(err, "out of memory"), OS_ERUNTIME;
        free(*(char **)dst);
        *(char **)dst = copy;
        return OS_OK;
    }
    }
    os_set_error(err, "%s: unknown kind of value", flag);
    return OS_ERUNTIME;
}
