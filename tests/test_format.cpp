// Number formatting (src/shortest.cpp) against its definition, written out
// here with printf and strtod: the first of %.15g, %.16g, %.17g (floats
// %.6g .. %.9g) that reads back as the same value. Every byte must agree,
// on every number of the golden tables and on millions of random doubles
// and floats (random bit patterns, so subnormals and extremes included;
// short decimals; neighbours of powers of two and ten).
#include <gtest/gtest.h>

#include <charconv>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "orbitsweep/orbitsweep.h"

namespace {

std::string ref_double(double v)
{
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char b[64];
    for (int p = 15; p < 17; ++p) {
        snprintf(b, sizeof b, "%.*g", p, v);
        if (strtod(b, nullptr) == v) return b;
    }
    snprintf(b, sizeof b, "%.17g", v);
    return b;
}

std::string ref_float(float v)
{
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char b[64];
    for (int p = 6; p < 9; ++p) {
        snprintf(b, sizeof b, "%.*g", p, (double)v);
        if (strtof(b, nullptr) == v) return b;
    }
    snprintf(b, sizeof b, "%.9g", (double)v);
    return b;
}

std::string fmt_double(double v)
{
    char b[40];
    const int n = os_fmt_double(b, sizeof b, v);
    EXPECT_EQ(n, (int)strlen(b));
    return b;
}

std::string fmt_float(float v)
{
    char b[40];
    const int n = os_fmt_float(b, sizeof b, v);
    EXPECT_EQ(n, (int)strlen(b));
    return b;
}

// Compares one value; counts rather than floods on failure.
struct Checker {
    long checked = 0, bad = 0;
    void dbl(double v)
    {
        ++checked;
        const std::string got = fmt_double(v), want = ref_double(v);
        if (got != want && ++bad <= 10) ADD_FAILURE() << "double " << want << ": got " << got;
    }
    void flt(float v)
    {
        ++checked;
        const std::string got = fmt_float(v), want = ref_float(v);
        if (got != want && ++bad <= 10) ADD_FAILURE() << "float " << want << ": got " << got;
    }
};

TEST(Format, KnownValues)
{
    EXPECT_EQ(fmt_double(0.0), "0");
    EXPECT_EQ(fmt_double(-0.0), "-0");
    EXPECT_EQ(fmt_double(0.1), "0.1");
    EXPECT_EQ(fmt_double(1e-5), "1e-05");
    EXPECT_EQ(fmt_double(1e-4), "0.0001");
    EXPECT_EQ(fmt_double(123456789012345.0), "123456789012345");
    EXPECT_EQ(fmt_double(1e15), "1e+15");
    EXPECT_EQ(fmt_double(1234567890123456.0), "1234567890123456");
    EXPECT_EQ(fmt_double(1e300), "1e+300");
    EXPECT_EQ(fmt_double(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(fmt_double(DBL_TRUE_MIN), "4.94065645841247e-324"); // 15 digits read back
    EXPECT_EQ(fmt_double(NAN), "nan");
    EXPECT_EQ(fmt_double(-INFINITY), "-inf");
    EXPECT_EQ(fmt_float(0.1f), "0.1");
    EXPECT_EQ(fmt_float(1.0f / 3.0f), "0.33333334");
    EXPECT_EQ(fmt_float(16777216.0f), "16777216");
    EXPECT_EQ(fmt_float(-1e-7f), "-1e-07");
}

TEST(Format, TruncatesLikeSnprintf)
{
    char b[4];
    EXPECT_EQ(os_fmt_double(b, sizeof b, 0.30000000000000004), 19);
    EXPECT_STREQ(b, "0.3");
    EXPECT_EQ(os_fmt_double(b, 0, 1.5), 3);
}

// Every number of every golden table and trace.
TEST(Format, GoldenTables)
{
    Checker c;
    DIR *dir = opendir(OS_GOLDEN_DIR);
    ASSERT_NE(dir, nullptr);
    while (dirent *e = readdir(dir)) {
        const std::string name = e->d_name;
        if (name.size() < 4 || name.compare(name.size() - 4, 4, ".csv") != 0) continue;
        std::ifstream in(std::string(OS_GOLDEN_DIR) + "/" + name);
        std::string line, field;
        while (std::getline(in, line)) {
            std::stringstream ss(line);
            while (std::getline(ss, field, ',')) {
                double v;
                const auto r = std::from_chars(field.data(), field.data() + field.size(), v);
                if (r.ec != std::errc() || r.ptr != field.data() + field.size()) continue;
                c.dbl(v);
                c.flt((float)v);
            }
        }
    }
    closedir(dir);
    EXPECT_GT(c.checked, 1000);
    EXPECT_EQ(c.bad, 0);
}

TEST(Format, RandomBitPatterns)
{
    std::mt19937_64 rng(20261201);
    Checker c;
    for (int i = 0; i < 1500000; ++i) {
        const uint64_t bits = rng();
        double v;
        memcpy(&v, &bits, sizeof v);
        c.dbl(v);
        const uint32_t fb = (uint32_t)(bits >> 11);
        float f;
        memcpy(&f, &fb, sizeof f);
        c.flt(f);
    }
    EXPECT_EQ(c.bad, 0);
}

// Values like the tables hold: results of arithmetic in [1e-8, 1e4], short
// decimals (lr grids), their float roundings, and subnormals.
TEST(Format, TableLikeValues)
{
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> expo(-8, 4), unit(0, 1);
    Checker c;
    for (int i = 0; i < 800000; ++i) {
        const double v = std::pow(10.0, expo(rng)) * (i % 2 ? 1 : -1);
        c.dbl(v);
        c.flt((float)v);
        const int digits = 1 + (int)(rng() % 15);
        char b[64];
        snprintf(b, sizeof b, "%.*e", digits - 1, v);
        c.dbl(strtod(b, nullptr));
        c.flt(strtof(b, nullptr));
    }
    for (int i = 0; i < 200000; ++i) {
        c.dbl(unit(rng) * DBL_MIN);
        c.flt((float)(unit(rng) * FLT_MIN));
    }
    EXPECT_EQ(c.bad, 0);
}

// What summaries hold: fractions k/n (rates), integers, differences.
TEST(Format, SummaryLikeValues)
{
    Checker c;
    for (int n = 1; n <= 400; ++n)
        for (int k = 0; k <= n; ++k) c.dbl((double)k / (double)n);
    std::mt19937_64 rng(99);
    for (int i = 0; i < 200000; ++i) {
        c.dbl((double)(rng() % 100000000000000000ull));
        c.dbl((double)(int64_t)(rng() >> 11) * 0x1p-30);
    }
    EXPECT_EQ(c.bad, 0);
}

// The digit writer works in groups of eight, four and two digits: every
// four-digit group in each place of 7- to 17-digit numbers, at exponents
// that take each layout (0.000ddd, ddd.ddd, d.ddde+xx).
TEST(Format, EveryDigitGroup)
{
    Checker c;
    for (int q = 0; q < 10000; ++q) {
        const int r = q * 7919 % 10000;
        char a[16], b[16];
        snprintf(a, sizeof a, "%04d%04d", q, r); /* 8 digits */
        snprintf(b, sizeof b, "%04d%04d", r, q);
        const std::string A = a, B = b;
        for (const std::string &digits : {A.substr(1), "1" + A, "1" + A.substr(0, 6) + B, "1" + A + B.substr(0, 7),
                                          "1" + A + B, "9" + B + A})
            for (const char *exp : {"e-30", "e-3", "e+0", "e+7", "e+14", "e+20"}) {
                const std::string text = digits.substr(0, 1) + "." + digits.substr(1) + exp;
                c.dbl(strtod(text.c_str(), nullptr));
                c.flt(strtof(text.c_str(), nullptr));
            }
    }
    EXPECT_EQ(c.bad, 0);
}

// Neighbours of powers of two (where a double's rounding interval is
// lopsided) and of powers of ten (where the digit count changes).
TEST(Format, Boundaries)
{
    Checker c;
    for (int e = -1074; e <= 1023; ++e) {
        const double p = std::ldexp(1.0, e);
        double v = p;
        for (int k = 0; k < 8; ++k) v = std::nextafter(v, 0.0);
        for (int k = 0; k < 16; ++k, v = std::nextafter(v, INFINITY)) c.dbl(v), c.dbl(-v);
    }
    for (int e = -149; e <= 127; ++e) {
        float v = std::ldexp(1.0f, e);
        for (int k = 0; k < 8; ++k) v = std::nextafter(v, 0.0f);
        for (int k = 0; k < 16; ++k, v = std::nextafter(v, INFINITY)) c.flt(v);
    }
    for (int e = -320; e <= 308; ++e) {
        char b[32];
        snprintf(b, sizeof b, "1e%d", e);
        double v = strtod(b, nullptr);
        for (int k = 0; k < 8; ++k) v = std::nextafter(v, 0.0);
        for (int k = 0; k < 16; ++k, v = std::nextafter(v, INFINITY)) c.dbl(v);
        if (e >= -45 && e <= 38) {
            float f = strtof(b, nullptr);
            for (int k = 0; k < 8; ++k) f = std::nextafter(f, 0.0f);
            for (int k = 0; k < 16; ++k, f = std::nextafter(f, INFINITY)) c.flt(f);
        }
    }
    EXPECT_EQ(c.bad, 0);
}

} // namespace
