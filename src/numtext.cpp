// numtext.cpp — numbers in table fields, read and written fast; see numtext.h.
//
// Reading: std::from_chars (libstdc++ 12 and later: the fast_float
// algorithm, correctly rounded like glibc's strtod in the default rounding
// mode) takes the plain decimal forms tables hold; anything it does not
// take whole and without complaint (a '+' sign, hex, an exponent out of
// range, text after the number) goes to strtod, so every input gets
// strtod's answer.
//
// Writing: %.Pg is the P significant digits of the correctly rounded
// %.(P-1)e conversion, laid out fixed when -4 <= exponent < P and in
// exponent form otherwise, trailing zeros dropped (C11 7.21.6.1). The
// digits come from std::to_chars(scientific, P-1), which is exact as printf
// is; the layout is done here. The read-back test uses os_parse_field, so
// the precision chosen is the one os_fmt_double's strtod test chooses.
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

namespace {

// v (finite) as printf's %.{p}g; returns the length (out holds >= 40 bytes).
size_t format_g(char *out, double v, int p)
{
    char e[64];
    const std::to_chars_result r = std::to_chars(e, e + sizeof e, v, std::chars_format::scientific, p - 1);
    *r.ptr = 0;
    // e is [-]d[.d...]e(+|-)dd[d]
    const char *q = e;
    char *o = out;
    if (*q == '-') *o++ = *q++;
    char digits[24];
    int nd = 0;
    for (; *q != 'e'; ++q)
        if (*q != '.') digits[nd++] = *q;
    const int x = std::atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0') --nd; /* %g drops trailing zeros */
    if (x < p && x >= -4) {
        if (x >= 0) {
            for (int i = 0; i <= x; ++i) *o++ = i < nd ? digits[i] : '0';
            if (nd > x + 1) {
                *o++ = '.';
                for (int i = x + 1; i < nd; ++i) *o++ = digits[i];
            }
        } else {
            *o++ = '0';
            if (!(nd == 1 && digits[0] == '0')) {
                *o++ = '.';
                for (int i = 0; i < -x - 1; ++i) *o++ = '0';
                for (int i = 0; i < nd; ++i) *o++ = digits[i];
            }
        }
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            for (int i = 1; i < nd; ++i) *o++ = digits[i];
        }
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        const int ax = x < 0 ? -x : x;
        if (ax >= 100) *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    }
    *o = 0;
    return (size_t)(o - out);
}

}  // namespace

void os_fmt_double_fast(char *buf, size_t size, double v)
{
    (void)size;
    if (std::isnan(v)) {
        std::strcpy(buf, "nan");
        return;
    }
    if (std::isinf(v)) {
        std::strcpy(buf, v > 0 ? "inf" : "-inf");
        return;
    }
    for (int p = 15; p < 17; ++p) {
        const size_t n = format_g(buf, v, p);
        double back;
        if (os_parse_field(buf, n, &back) && back == v) return;
    }
    format_g(buf, v, 17);
}
