// test_philox.cpp — Philox4x32-10 against known-answer vectors and the
// curand streams of tests/golden/philox.txt (written by an independent
// Python port, scripts/make_golden.py), and the per-epoch batch orders.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include "orbitsweep/shuffle.h"
}

namespace {

void expect_block(std::vector<uint32_t> ctr, std::vector<uint32_t> key, std::vector<uint32_t> want)
{
    uint32_t out[4];
    os_philox_block(ctr.data(), key.data(), out);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], want[i]) << "word " << i;
}

}  // namespace

// Random123 kat_vectors for philox4x32_10.
TEST(Philox, KnownAnswerVectors)
{
    expect_block({0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
    expect_block({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
                 {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
    expect_block({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
                 {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

// curand_init(seed, subsequence, offset) + curand() streams, 16 words each.
TEST(Philox, CurandStreamsMatchGolden)
{
    std::ifstream in(OS_GOLDEN_DIR "/philox.txt");
    ASSERT_TRUE(in) << "missing golden file; regenerate with scripts/make_golden.py";
    std::string line;
    int streams = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        unsigned long long seed, sub, off;
        ASSERT_EQ(std::sscanf(line.c_str(), "%llu %llu %llu:", &seed, &sub, &off), 3) << line;
        std::istringstream words(line.substr(line.find(':') + 1));
        os_philox s;
        os_philox_init(&s, seed, sub, off);
        std::string w;
        int k = 0;
        while (words >> w) {
            EXPECT_EQ(os_philox_next(&s), (uint32_t)std::stoul(w, nullptr, 16))
                << "stream " << seed << " " << sub << " " << off << " word " << k;
            ++k;
        }
        EXPECT_EQ(k, 16);
        ++streams;
    }
    EXPECT_EQ(streams, 2);
}

// docs/gpu-notes.md: the first curand_uniform of curand_init(0,0,0) is 0x3ecc4fd2.
TEST(Philox, UniformBitsAndRange)
{
    os_philox s;
    os_philox_init(&s, 0, 0, 0);
    float u = os_philox_uniform(&s);
    uint32_t bits;
    std::memcpy(&bits, &u, 4);
    EXPECT_EQ(bits, 0x3ecc4fd2u);
    for (int i = 0; i < 100000; ++i) {
        float v = os_philox_uniform(&s);
        ASSERT_GT(v, 0.0f);
        ASSERT_LE(v, 1.0f);
    }
}

// The 128-bit counter carries from word 0 into word 1 (and on).
TEST(Philox, CounterCarry)
{
    os_philox s;
    os_philox_init(&s, 42, 0, 4ull * 0xffffffffull);  // counter word 0 = 0xffffffff
    for (int i = 0; i < 4; ++i) os_philox_next(&s);
    uint32_t ctr[4] = {0, 1, 0, 0}, key[2] = {42, 0}, want[4];
    os_philox_block(ctr, key, want);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(os_philox_next(&s), want[i]);
}

// Every epoch's order is a permutation of [0, n), for awkward n too.
// Known answers of os_perm_at from an independent Python port of the
// documented bijection (key: the first Philox4x32-10 block of counter
// (epoch, 0, stream lo, stream hi) and key (seed lo, seed hi); four rounds
// of add key[r], multiply by key[r+1]|1, xor-shift by half the bits, mod
// 2^bits; cycle-walked into [0, n)).
TEST(BatchOrder, KnownAnswers)
{
    struct Case {
        uint64_t seed, stream;
        uint32_t epoch, n;
        std::vector<uint32_t> first;
    };
    const Case cases[] = {
        {0, 1, 0, 10, {1, 6, 4, 5, 3, 8, 0, 2, 9, 7}},
        {7, 1, 3, 100, {83, 43, 51, 41, 10, 20, 18, 59, 19, 99, 96, 34}},
        {5, (1ULL << 63) | 0x0123456789ABCDEFULL, 2, 512, {183, 325, 448, 58, 304, 202, 5, 491, 147, 313, 272, 81}},
        {UINT64_MAX, 1, 1000, 1, {0}},
    };
    for (const Case &c : cases) {
        os_perm p;
        os_perm_init(&p, c.seed, c.stream, c.epoch, c.n);
        for (size_t i = 0; i < c.first.size(); ++i)
            EXPECT_EQ(os_perm_at(&p, (uint32_t)i), c.first[i]) << "seed " << c.seed << " n " << c.n << " i " << i;
    }
}

TEST(BatchOrder, IsAPermutation)
{
    for (uint32_t n : {1u, 2u, 3u, 7u, 64u, 100u, 511u, 512u, 513u, 1000u, 65537u}) {
        for (uint32_t epoch = 0; epoch < 3; ++epoch) {
            os_perm p;
            os_perm_init(&p, 7, OS_STREAM_SHARED_ORDER, epoch, n);
            std::vector<char> seen(n, 0);
            for (uint32_t i = 0; i < n; ++i) {
                uint32_t j = os_perm_at(&p, i);
                ASSERT_LT(j, n);
                ASSERT_FALSE(seen[j]) << "n " << n << " epoch " << epoch << " index " << j;
                seen[j] = 1;
            }
        }
    }
}

// Orders differ between epochs, seeds and streams, and look shuffled: over
// many epochs, the first position takes many different data indices.
TEST(BatchOrder, FreshEachEpochAndKey)
{
    const uint32_t n = 512;
    std::set<uint32_t> first;
    std::set<std::vector<uint32_t>> orders;
    for (uint32_t e = 0; e < 200; ++e) {
        os_perm p;
        os_perm_init(&p, 3, OS_STREAM_SHARED_ORDER, e, n);
        std::vector<uint32_t> o(n);
        for (uint32_t i = 0; i < n; ++i) o[i] = os_perm_at(&p, i);
        first.insert(o[0]);
        orders.insert(o);
    }
    EXPECT_EQ(orders.size(), 200u);
    EXPECT_GT(first.size(), 120u);  // 200 draws from 512: ~167 distinct expected
    os_perm a, b, c;
    os_perm_init(&a, 3, OS_STREAM_SHARED_ORDER, 0, n);
    os_perm_init(&b, 4, OS_STREAM_SHARED_ORDER, 0, n);
    os_perm_init(&c, 3, OS_STREAM_TRIAL_ORDER(12345), 0, n);
    int same_ab = 0, same_ac = 0;
    for (uint32_t i = 0; i < n; ++i) {
        same_ab += os_perm_at(&a, i) == os_perm_at(&b, i);
        same_ac += os_perm_at(&a, i) == os_perm_at(&c, i);
    }
    EXPECT_LT(same_ab, 20);
    EXPECT_LT(same_ac, 20);
}

// A batch of 64 consecutive positions draws points from all over the data
// (the mean index of a batch is near the middle, not a contiguous block).
TEST(BatchOrder, BatchesMixTheData)
{
    const uint32_t n = 512;
    os_perm p;
    os_perm_init(&p, 0, OS_STREAM_SHARED_ORDER, 5, n);
    for (uint32_t b = 0; b < 8; ++b) {
        double mean = 0;
        for (uint32_t i = 0; i < 64; ++i) mean += os_perm_at(&p, b * 64 + i);
        mean /= 64;
        EXPECT_GT(mean, 150.0) << "batch " << b;
        EXPECT_LT(mean, 361.0) << "batch " << b;
    }
}
