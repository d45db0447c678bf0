/* shortest.cpp — numbers as the shortest decimal that reads back to the
 * same value (so tables are exact and diffable); nan, inf, -inf for the
 * non-finite values. Depends on nothing but the C++17 library.
 *
 * The bytes are those of the rule the tables have always used: the first
 * of printf's %.15g, %.16g, %.17g (for floats %.6g .. %.9g) that reads back
 * as the same value. std::to_chars (libstdc++: Ryu) gives the shortest
 * digits s, k of them, and they are what the rule prints:
 *   - %.pg cannot read back for p < k (k is the shortest);
 *   - %.kg prints r, the k-digit decimal closest to the value. When the
 *     value's rounding interval is symmetric (a normal value whose
 *     significand is not a power of two), r lies in it, since s does and
 *     r is no farther; so r reads back, and r is s, which Ryu picks as the
 *     closest of the shortest (exact ties: both round half to even);
 *   - for k < 15 (floats: 6), %.15g prints r padded with zeros, which %g
 *     strips: a double's rounding interval (at most 2^-52 of the value
 *     wide) holds at most one 15-digit decimal (their spacing is at least
 *     10^-15 of the value), so r is s here even for a lopsided interval.
 *     (Floats: 2^-23 against 10^-6.)
 * So almost every value is laid out from to_chars' digits with no second
 * conversion; the rest (subnormals, powers of two) run the rule itself with
 * to_chars(general, p) (printf's %.pg, exactly) and from_chars, both
 * correctly rounded. tests/test_format.cpp checks every byte against
 * snprintf + strtod on millions of values.
 *
 * Where {fmt} is installed (Debian libfmt-dev, header-only here: nothing
 * to link), the shortest digits come from its Dragonbox (the digits and
 * exponent as integers, fmt::detail::dragonbox::to_decimal, ~25 ns a
 * double) instead of from to_chars' text (~50 ns, then parsed back): the
 * same digits (both give the shortest, and of several the closest,
 * ties to even), so the same bytes; test_format holds either build to
 * printf + strtod.
 */
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <system_error>

#ifdef OS_HAVE_FMT
#include <fmt/format.h>
#endif

#include "orbitsweep/orbitsweep.h"

namespace {

/* v < 10^8 as eight ASCII digits, leading zeros included, the first digit
 * in the lowest byte: the halves, quarters and single digits split in the
 * lanes of one 64-bit word (x / 100 as x * 10486 >> 20 for x < 10^4, x / 10
 * as x * 103 >> 10 for x < 100; tests/test_format.cpp checks every v of
 * each digit count). A few multiplications instead of a division per pair. */
inline uint64_t eight_digits(uint32_t v)
{
    const uint64_t x = v / 10000 | (uint64_t)(v % 10000) << 32;         /* abcd | efgh */
    const uint64_t h = (x * 10486 >> 20) & UINT64_C(0x0000007F0000007F); /* ab | ef */
    const uint64_t y = h | (x - 100 * h) << 16;                          /* ab | cd | ef | gh */
    const uint64_t t = (y * 103 >> 10) & UINT64_C(0x000F000F000F000F);   /* a | c | e | g */
    return (t | (y - 10 * t) << 8) + UINT64_C(0x3030303030303030);
}

/* sig's k decimal digits (1 <= k <= 17, sig < 10^k) at p[0..k), written
 * forwards in 8-byte stores: up to p + 24 may be overwritten. Written in
 * place, not copied from a scratch buffer (a wide load of bytes just
 * stored in pieces waits for the stores). */
inline void put_digits(char *p, uint64_t sig, int k)
{
    if (k <= 8) {
        const uint64_t w = eight_digits((uint32_t)sig) >> (8 * (8 - k));
        std::memcpy(p, &w, 8);
        return;
    }
    if (k > 16) *p++ = (char)('0' + sig / UINT64_C(10000000000000000)), --k;
    const uint64_t hi = eight_digits((uint32_t)(sig / 100000000 % 100000000)) >> (8 * (16 - k));
    const uint64_t lo = eight_digits((uint32_t)(sig % 100000000));
    std::memcpy(p, &hi, 8);
    std::memcpy(p + k - 8, &lo, 8);
}

#ifdef OS_HAVE_FMT
/* The shortest round-trip form of v (finite): value = sig x 10^(x-k+1),
 * sig of k digits and no trailing zeros (0: sig 0, k 1, x 0). Returns k. */
template <class T> int shortest_digits(T v, uint64_t *sig, int *x)
{
    if (v == 0) return *sig = 0, *x = 0, 1;
    const auto dec = fmt::detail::dragonbox::to_decimal(std::fabs(v));
    uint64_t s = dec.significand; /* at most 17 digits */
    int e = dec.exponent;
    while (s % 10 == 0) s /= 10, ++e;
    const int k = fmt::detail::count_digits(s);
    *sig = s;
    *x = e + k - 1;
    return k;
}
#else
/* The same from to_chars' text. */
template <class T> int shortest_digits(T v, uint64_t *sig, int *x)
{
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    *r.ptr = 0;
    const char *p = buf, *end = r.ptr;
    if (*p == '-') ++p;
    int k = 0, zeros = 0; /* digits; trailing zeros among them */
    uint64_t s = 0;
    for (; p < end && *p != 'e'; ++p) {
        if (*p == '.') continue;
        zeros = *p == '0' ? zeros + 1 : 0;
        s = 10 * s + (uint64_t)(*p - '0'), ++k;
    }
    for (; zeros && k > 1; --zeros, --k) s /= 10;
    int e = 0; /* after "e": a sign and two or three digits */
    for (const char *q = p + 2; q < end; ++q) e = 10 * e + (*q - '0');
    *x = p[1] == '-' ? -e : e;
    *sig = s;
    return k;
}
#endif

/* printf's %.Pg layout of sig's k digits (k <= P <= 17, no trailing
 * zeros) with decimal exponent x, and its length. out holds 40 bytes:
 * the stores are of fixed length, each past the end of what it keeps, and
 * the next write or the end moves on. */
inline int layout_g(char *out, bool neg, uint64_t sig, int k, int x, int precision)
{
    char *o = out;
    if (neg) *o++ = '-';
    if (x < -4 || x >= precision) { /* d.ddde+xx: the digits one on, the first moved before the point */
        put_digits(o + 1, sig, k);
        o[0] = o[1];
        if (k > 1) o[1] = '.', o += k + 1;
        else o += 1;
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        const int ax = x < 0 ? -x : x;
        if (ax >= 100) *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    } else if (x >= 0) {
        const int whole = x + 1; /* digits before the point */
        if (k <= whole) {
            put_digits(o, sig, k);
            std::memset(o + k, '0', 16);
            o += whole;
        } else { /* the digits one on, the whole part moved back before the point */
            put_digits(o + 1, sig, k);
            for (int i = 0; i < whole; ++i) o[i] = o[i + 1];
            o[whole] = '.';
            o += k + 1;
        }
    } else {
        std::memcpy(o, "0.000000", 8); /* "0." and up to 3 zeros */
        o += 2 + (-x - 1);
        put_digits(o, sig, k);
        o += k;
    }
    *o = 0;
    return (int)(o - out);
}

/* The rule itself from precision p on: the first %.pg (p < last) that
 * reads back as v, else %.{last}g. */
template <class T> int search(char *out, T v, int p, int last)
{
    for (;; ++p) {
        const auto r = std::to_chars(out, out + 39, (double)v, std::chars_format::general, p);
        *r.ptr = 0;
        if (p == last) return (int)(r.ptr - out);
        T back;
        const auto b = std::from_chars(out, r.ptr, back);
        if (b.ec == std::errc() && back == v) return (int)(r.ptr - out);
    }
}

int special(char *out, double v)
{
    const char *s = std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
    std::strcpy(out, s);
    return (int)std::strlen(s);
}

/* A normal value whose binary significand is not a power of two: its
 * rounding interval is symmetric, half an ulp to each side. */
bool symmetric(double v)
{
    uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    const uint64_t e = (b >> 52) & 0x7FF;
    return e != 0 && e != 0x7FF && (b & ((UINT64_C(1) << 52) - 1)) != 0;
}

bool symmetric(float v)
{
    uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    const uint32_t e = (b >> 23) & 0xFF;
    return e != 0 && e != 0xFF && (b & ((UINT32_C(1) << 23) - 1)) != 0;
}

template <class T> int format(char *buf, size_t size, T v, int first, int last, T min_normal)
{
    char tmp[40], *out = size >= sizeof tmp ? buf : tmp; /* the text is at most 24 bytes */
    int len;
    if (!std::isfinite(v)) {
        len = special(out, (double)v);
    } else {
        uint64_t sig;
        int x;
        const int k = shortest_digits(v, &sig, &x);
        if ((k <= first && (v == 0 || std::fabs(v) >= min_normal)) || symmetric(v))
            len = layout_g(out, std::signbit(v), sig, k, x, k > first ? k : first);
        else
            len = search(out, v, k > first ? k : first, last);
    }
    if (out == buf || size == 0) return len;
    const size_t n = (size_t)len < size ? (size_t)len : size - 1;
    std::memcpy(buf, out, n);
    buf[n] = 0;
    return len;
}

} // namespace

extern "C" int os_fmt_double(char *buf, size_t size, double v)
{
    return format<double>(buf, size, v, 15, 17, DBL_MIN);
}

extern "C" int os_fmt_float(char *buf, size_t size, float v)
{
    return format<float>(buf, size, v, 6, 9, FLT_MIN);
}
