// test_numtext.cpp — src/numtext.cpp against the C library: os_parse_field
// gives strtod's double (and accepts exactly what a whole-field strtod
// does), on random bit patterns, short decimals, fractions k/n, integers,
// subnormals and malformed texts. (Writing numbers: test_format.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "orbitsweep/orbitsweep.h"

extern "C" {
#include "numtext.h"
}

namespace {

uint64_t bits(double v)
{
    uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

double of_bits(uint64_t b)
{
    double v;
    std::memcpy(&v, &b, sizeof v);
    return v;
}

// The reference: strtod over the whole field, as summarize always read it.
bool strtod_field(const char *s, double *v)
{
    char *end;
    if (!*s || std::isspace((unsigned char)*s)) return false;
    *v = std::strtod(s, &end);
    return *end == 0;
}

void expect_parse_like_strtod(const std::string &s)
{
    double want = 0, got = 0;
    const bool ok_want = strtod_field(s.c_str(), &want);
    const bool ok_got = os_parse_field(s.c_str(), s.size(), &got) != 0;
    ASSERT_EQ(ok_got, ok_want) << "'" << s << "'";
    if (!ok_want) return;
    if (std::isnan(want))
        EXPECT_TRUE(std::isnan(got)) << "'" << s << "'";
    else
        EXPECT_EQ(bits(got), bits(want)) << "'" << s << "': " << std::hexfloat << got << " vs " << want;
}

TEST(numtext, ParseMatchesStrtod)
{
    const char *const cases[] = {
        "0", "-0", "1", "0.1", ".5", "5.", "-.5", "1e3", "1E3", "1e+3", "1e-3", "+1", "+.5", "nan", "NaN", "-nan",
        "inf", "-inf", "INF", "infinity", "-Infinity", "nan(123)", "0x1p3", "0X1.8P-1", "-0x10", "1e400", "-1e400",
        "1e-400", "4.9e-324", "2.4e-324", "2.5e-324", "2.2250738585072011e-308", "1.7976931348623158e308",
        "1.7976931348623159e308", "", " 1", "1 ", "\t1", "1x", "1e", "e1", "-", ".", "..1", "1..", "0.1.2",
        "00012", "1_000", "0.000000000000000000000000000000000000000000001", "123456789012345678901234567890",
        "0.1000000000000000055511151231257827021181583404541015625", "9007199254740993", "1,5", "inF", "infinit",
        "nan(", "-", "--1", "1e+", "1e-",
    };
    for (const char *s : cases) expect_parse_like_strtod(s);
    std::mt19937_64 rng(777);
    char buf[64];
    for (int i = 0; i < 300000; ++i) {  // every double's shortest and longer texts
        const double v = of_bits(rng());
        if (!std::isfinite(v)) continue;
        for (int p : {6, 15, 16, 17, 25}) {
            std::snprintf(buf, sizeof buf, "%.*g", p, v);
            expect_parse_like_strtod(buf);
        }
    }
    const char alphabet[] = "0123456789.-+eEinfaINFAx";
    for (int i = 0; i < 300000; ++i) {  // random strings of number characters
        std::string s;
        const int n = 1 + (int)(rng() % 12);
        for (int k = 0; k < n; ++k) s += alphabet[rng() % (sizeof alphabet - 1)];
        expect_parse_like_strtod(s);
    }
    for (int i = 0; i < 20000; ++i) {  // subnormal and underflowing texts
        std::snprintf(buf, sizeof buf, "%d.%03de-%d", (int)(rng() % 10), (int)(rng() % 1000), 300 + (int)(rng() % 30));
        expect_parse_like_strtod(buf);
    }
}

}  // namespace
