// numtext.cpp — numbers in table fields, read fast; see numtext.h.
//
// Reading: std::from_chars (libstdc++ 12 and later: the fast_float
// algorithm, correctly rounded like glibc's strtod in the default rounding
// mode) takes the plain decimal forms tables hold; anything it does not
// take whole and without complaint (a '+' sign, hex, an exponent out of
// range, text after the number) goes to strtod, so every input gets
// strtod's answer.

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "numtext.h"

int os_parse_field(const char *s, size_t n, double *v)
{
    if (n == 0 || s[n] != 0) return 0;
    const unsigned char c = (unsigned char)s[0];
    if ((c >= '0' && c <= '9') || c == '-' || c == '.') {
        double d;
        const std::from_chars_result r = std::from_chars(s, s + n, d);
        if (r.ec == std::errc() && r.ptr == s + n) {
            *v = d;
            return 1;
        }
    }
    if (c == ' ' || (c >= '\t' && c <= '\r')) return 0; /* strtod would skip it */
    char *end;
    *v = std::strtod(s, &end);
    return end == s + n;
}
