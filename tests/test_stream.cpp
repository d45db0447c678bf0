// Streamed runs: a prepared sweep decodes its trials block by block, and a
// run that trains and writes a block at a time gives the table of the run
// that holds everything in memory, byte for byte, at every block size
// (blocks that divide the grid, that do not, of one training, larger than
// the grid); the command line's --block changes no byte and bounds the
// memory a run takes.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "orbitsweep/orbitsweep.h"
#include "test_util.h"

using namespace ostest;

namespace {

struct Spec {
    os_spec s;
    Spec() { EXPECT_EQ(os_spec_init(&s), OS_OK); }
    ~Spec() { os_spec_free(&s); }
};

// A grid where optimizers use different axes, with seeds, per-trial orders
// and two schedulers: 3 optimizers x ... x 3 seeds.
void mixed_spec(os_spec *s)
{
    set_list(s, OS_AX_OPTIMIZER, "sgd,momentum,adam");
    set_list(s, OS_AX_LR, "0.003,0.03,0.3");
    set_list(s, OS_AX_MOMENTUM, "0.5,0.9");
    set_list(s, OS_AX_BETA2, "0.99,0.999");
    set_list(s, OS_AX_BATCH_SIZE, "16,50");
    set_list(s, OS_AX_EPOCHS, "2,3");
    set_list(s, OS_AX_SCHEDULER, "none");
    os_error err;
    ASSERT_EQ(os_spec_set_axis(s, OS_AX_SCHEDULER, "step:step_size=3,gamma=0.5", 0, &err), OS_OK) << err.msg;
    s->seeds = 3;
    os_spec_set_one(s, OS_AX_N, 100, NULL);
    os_spec_set_one(s, OS_AX_SHUFFLE, OS_SHUFFLE_TRIAL, NULL);
}

bool same_trial(const os_trial &a, const os_trial &b)
{
    for (int ax = 0; ax < OS_AX_COUNT; ++ax) {
        const double x = os_trial_axis(&a, ax), y = os_trial_axis(&b, ax);
        if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
    }
    return a.replicate == b.replicate && a.seed == b.seed && a.order_stream == b.order_stream && a.cfg == b.cfg;
}

TEST(Stream, BlocksOfAPreparedSweepAreThePlansTrials)
{
    Spec sp;
    ASSERT_NO_FATAL_FAILURE(mixed_spec(&sp.s));
    os_sweep plan, lazy;
    os_error err;
    ASSERT_EQ(os_sweep_plan(&sp.s, &plan, &err), OS_OK) << err.msg;
    ASSERT_EQ(os_sweep_prepare(&sp.s, &lazy, &err), OS_OK) << err.msg;
    EXPECT_EQ(lazy.trials, nullptr);
    ASSERT_EQ(lazy.n_trials, plan.n_trials);
    EXPECT_EQ(os_sweep_evaluations(&lazy), os_sweep_evaluations(&plan));
    const size_t n = plan.n_trials;
    for (size_t first : {(size_t)0, (size_t)1, (size_t)2, (size_t)3, (size_t)47, n / 2, n - 1}) {
        for (size_t count : {(size_t)1, (size_t)5, n - first}) {
            if (first + count > n) continue;
            os_sweep blk;
            ASSERT_EQ(os_sweep_block(&lazy, first, count, &blk, &err), OS_OK) << err.msg;
            EXPECT_EQ(blk.first, first);
            EXPECT_EQ(blk.n_trials, count);
            for (size_t i = 0; i < count; ++i)
                ASSERT_TRUE(same_trial(blk.trials[i], plan.trials[first + i])) << "trial " << first + i;
            os_sweep_free(&blk);
        }
    }
    os_sweep_free(&lazy);
    os_sweep_free(&plan);
}

// A block's trials are decoded from the index where a block or a part of
// one starts, and stepped from their neighbour elsewhere: every trial of
// the plan (stepped) is the trial a block of one decodes, over grids whose
// innermost axis carries often, whose n and noise turn, of several blocks.
TEST(Stream, SteppedTrialsAreTheDecodedTrials)
{
    for (int shape = 0; shape < 3; ++shape) {
        SCOPED_TRACE("shape " + std::to_string(shape));
        Spec sp;
        os_error err;
        if (shape == 0) {
            ASSERT_NO_FATAL_FAILURE(mixed_spec(&sp.s));
        } else if (shape == 1) { /* everything turns: two values each, the dataset's axes too */
            set_list(&sp.s, OS_AX_OPTIMIZER, "adam,rmsprop");
            set_list(&sp.s, OS_AX_LR, "0.01,0.1");
            set_list(&sp.s, OS_AX_BETA2, "0.9,0.99");
            set_list(&sp.s, OS_AX_CENTERED, "false,true");
            set_list(&sp.s, OS_AX_EPOCHS, "1,2");
            set_list(&sp.s, OS_AX_INIT_WB, "1.5,1.8");
            set_list(&sp.s, OS_AX_N, "64,100");
            set_list(&sp.s, OS_AX_NOISE, "0,0.1");
            set_list(&sp.s, OS_AX_SHUFFLE, "shared,trial");
            set_list(&sp.s, OS_AX_DTYPE, "float32,float64");
            sp.s.seeds = 2;
        } else { /* a block where only n turns, then one of seven learning rates (as --and) */
            for (int b = 0; b < 2; ++b) {
                size_t k;
                ASSERT_EQ(os_spec_add_block(&sp.s, &k, &err), OS_OK) << err.msg;
                os_spec_swap_axes(&sp.s, &sp.s.blocks[k]);
                if (b == 0) {
                    set_list(&sp.s, OS_AX_N, "32,48,64");
                    set_list(&sp.s, OS_AX_SHUFFLE, "trial");
                } else {
                    set_list(&sp.s, OS_AX_OPTIMIZER, "sgd,momentum");
                    set_list(&sp.s, OS_AX_LR, "logspace(-3,0,7)");
                }
                os_spec_swap_axes(&sp.s, &sp.s.blocks[k]);
            }
            sp.s.seeds = 3;
        }
        os_sweep plan, lazy;
        ASSERT_EQ(os_sweep_plan(&sp.s, &plan, &err), OS_OK) << err.msg;
        ASSERT_EQ(os_sweep_prepare(&sp.s, &lazy, &err), OS_OK) << err.msg;
        ASSERT_GT(plan.n_trials, (size_t)20);
        for (size_t i = 0; i < plan.n_trials; ++i) {
            os_sweep one;
            ASSERT_EQ(os_sweep_block(&lazy, i, 1, &one, &err), OS_OK) << err.msg;
            ASSERT_TRUE(same_trial(one.trials[0], plan.trials[i]) && one.trials[0].data == plan.trials[i].data)
                << "trial " << i;
            os_sweep_free(&one);
        }
        os_sweep_free(&lazy);
        os_sweep_free(&plan);
    }
}

// Collects a streamed table.
struct Sink {
    FILE *f;
    size_t next = 0; // blocks arrive in grid order, back to back
    bool ordered = true;
};

os_status sink_block(void *ctx, const os_sweep *blk, const os_result *res, os_error *)
{
    Sink *s = static_cast<Sink *>(ctx);
    s->ordered = s->ordered && blk->first == s->next;
    s->next = blk->first + blk->n_trials;
    return os_write_rows(s->f, blk, res) == 0 ? OS_OK : OS_ERUNTIME;
}

std::string streamed_table(const os_sweep *sw, size_t block, bool *ordered)
{
    char *buf = nullptr;
    size_t len = 0;
    Sink sink{open_memstream(&buf, &len)};
    os_error err;
    EXPECT_EQ(os_write_header(sink.f), 0);
    EXPECT_EQ(os_sweep_stream(sw, block, sink_block, &sink, nullptr, nullptr, nullptr, &err), OS_OK) << err.msg;
    fclose(sink.f);
    *ordered = sink.ordered && sink.next == sw->n_trials;
    std::string t(buf, len);
    free(buf);
    return t;
}

// Serial (train a block, write it, train the next) and overlapped (a
// writer thread takes each block while the next one trains), float32 and
// float64.
TEST(Stream, StreamedTableIsTheInMemoryTableAtEveryBlockSize)
{
    for (int mode : {0, 1, 2, 3}) {
        const int dtype = mode % 2 ? OS_DTYPE_F64 : OS_DTYPE_F32, overlap = mode / 2 ? OS_OVERLAP_ON : OS_OVERLAP_OFF;
        SCOPED_TRACE(std::string(dtype == OS_DTYPE_F64 ? "float64" : "float32") + (mode / 2 ? ", overlapped" : ""));
        Spec sp;
        ASSERT_NO_FATAL_FAILURE(mixed_spec(&sp.s));
        os_spec_set_one(&sp.s, OS_AX_DTYPE, dtype, NULL);
        sp.s.overlap = overlap;
        os_sweep plan, lazy;
        os_error err;
        ASSERT_EQ(os_sweep_plan(&sp.s, &plan, &err), OS_OK) << err.msg;
        std::vector<os_result> res(plan.n_trials);
        ASSERT_EQ(os_sweep_run(&plan, res.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
        const std::string whole = table_of(&plan, res);
        ASSERT_EQ(os_sweep_prepare(&sp.s, &lazy, &err), OS_OK) << err.msg;
        const size_t n = lazy.n_trials;
        for (size_t block : {(size_t)1, (size_t)7, (size_t)64, (size_t)100, n - 1, n, n + 3, (size_t)0}) {
            SCOPED_TRACE("block " + std::to_string(block) + " of " + std::to_string(n));
            bool ordered = false;
            const std::string t = streamed_table(&lazy, block, &ordered);
            EXPECT_TRUE(ordered);
            EXPECT_EQ(t, whole) << first_difference(t, whole, "streamed", "in memory");
        }
        // the in-memory entry point over a prepared sweep, too
        std::vector<os_result> res2(n);
        ASSERT_EQ(os_sweep_run(&lazy, res2.data(), nullptr, nullptr, &err), OS_OK) << err.msg;
        os_sweep all;
        ASSERT_EQ(os_sweep_block(&lazy, 0, n, &all, &err), OS_OK);
        EXPECT_EQ(table_of(&all, res2), whole);
        os_sweep_free(&all);
        os_sweep_free(&lazy);
        os_sweep_free(&plan);
    }
}

// The Python package's columns (os_results_fill) and the .npz archive's
// arrays are one set of values: filled block by block (blocks that do not
// divide the grid, one of more than one of the archive's tiles of rows), every
// column's bytes equal the archive's.
struct Both {
    os_results_npz *npz;
    std::vector<void *> cols;
};

os_status both_block(void *ctx, const os_sweep *blk, const os_result *res, os_error *)
{
    Both *b = static_cast<Both *>(ctx);
    os_results_fill(blk, res, b->cols.data());
    return os_results_npz_rows(b->npz, blk, res) == 0 ? OS_OK : OS_ERUNTIME;
}

TEST(Stream, FilledColumnsAreTheArchivesArrays)
{
    Spec sp;
    set_list(&sp.s, OS_AX_OPTIMIZER, "sgd,adam");
    set_list(&sp.s, OS_AX_LR, "logspace(-3,0,4000)");
    set_list(&sp.s, OS_AX_AMSGRAD, "false,true");
    sp.s.seeds = 2;
    os_spec_set_one(&sp.s, OS_AX_N, 32, NULL);
    os_spec_set_one(&sp.s, OS_AX_EPOCHS, 1, NULL);
    os_sweep lazy;
    os_error err;
    ASSERT_EQ(os_sweep_prepare(&sp.s, &lazy, &err), OS_OK) << err.msg;
    const size_t n = lazy.n_trials;
    ASSERT_EQ(n, 2 * 4000 * 2 + 4000 * 2u); /* amsgrad does not multiply sgd */
    std::vector<os_column_def> defs(os_results_columns(&lazy, nullptr));
    os_results_columns(&lazy, defs.data());
    std::vector<std::vector<char>> cols(defs.size());
    Both both;
    for (size_t c = 0; c < defs.size(); ++c) {
        cols[c].assign(n * defs[c].size, 0);
        both.cols.push_back(cols[c].data());
    }
    char name[] = "/tmp/os_test_fill_XXXXXX";
    const int fd = mkstemp(name);
    ASSERT_GE(fd, 0);
    unlink(name);
    ASSERT_NE(both.npz = os_results_npz_open(fd, &lazy), nullptr);
    ASSERT_EQ(os_sweep_stream(&lazy, 20000, both_block, &both, nullptr, nullptr, nullptr, &err), OS_OK) << err.msg;
    ASSERT_EQ(os_results_npz_finish(both.npz), 0);
    // the archive's entries in order: a ZIP local header (its name and extra
    // field), the .npy header, the array
    std::string z(lseek(fd, 0, SEEK_END), '\0');
    ASSERT_EQ(pread(fd, &z[0], z.size(), 0), (ssize_t)z.size());
    close(fd);
    size_t at = 0;
    auto u16 = [&](size_t p) { return (size_t)(unsigned char)z[p] | (size_t)(unsigned char)z[p + 1] << 8; };
    for (size_t c = 0; c < defs.size(); ++c) {
        SCOPED_TRACE(defs[c].name);
        ASSERT_EQ(z.compare(at, 4, "PK\x03\x04"), 0);
        const size_t name_len = u16(at + 26), extra = u16(at + 28);
        EXPECT_EQ(z.substr(at + 30, name_len), std::string(defs[c].name) + ".npy");
        const size_t npy = at + 30 + name_len + extra, data = npy + 10 + u16(npy + 8);
        ASSERT_LE(data + cols[c].size(), z.size());
        EXPECT_TRUE(memcmp(z.data() + data, cols[c].data(), cols[c].size()) == 0);
        at = data + cols[c].size();
    }
    os_sweep_free(&lazy);
}

// The CLI: --block changes no byte.
class StreamCli : public ProgramTest {
protected:
    StreamCli() : ProgramTest("/tmp/os_test_stream_XXXXXX") {}
};

TEST_F(StreamCli, BlockSizeChangesNoByte)
{
    const std::vector<std::string> sweep = {"run", "--optimizer", "sgd,nesterov,rmsprop", "--lr", "logspace(-3,0,150)",
                                            "--seeds", "3", "--epochs", "3", "--n", "128", "--quiet"};
    std::string ref;
    for (const char *block : {"0", "1000", "77", "1", "5"}) {
        std::vector<std::string> args = sweep;
        args.insert(args.end(), {"--block", block, "-o", std::string("b") + block + ".csv"});
        if (std::string(block) == "77" || std::string(block) == "5") args.insert(args.end(), {"--overlap", "on"});
        const Proc p = run(args);
        ASSERT_EQ(p.status, 0) << p.err;
        const std::string t = slurp(path(std::string("b") + block + ".csv"));
        EXPECT_EQ(lines_of(t).size(), 1 + 3 * 150 * 3u);
        if (ref.empty()) ref = t;
        EXPECT_EQ(t, ref) << "--block " << block << ": " << first_difference(t, ref, "this", "--block 0");
    }
}

// A block that fails to be handed on stops the run: the writer's error is
// the run's, no later block is handed on, and the stream returns.
os_status fail_third(void *ctx, const os_sweep *blk, const os_result *, os_error *err)
{
    int *calls = static_cast<int *>(ctx);
    if (++*calls == 3) {
        os_set_error(err, "block at %zu refused", blk->first);
        return OS_ERUNTIME;
    }
    return OS_OK;
}

TEST(Stream, AFailedHandOverStopsTheRun)
{
    for (int overlap : {OS_OVERLAP_OFF, OS_OVERLAP_ON}) {
        Spec sp;
        ASSERT_NO_FATAL_FAILURE(mixed_spec(&sp.s));
        sp.s.overlap = overlap;
        os_sweep lazy;
        os_error err;
        ASSERT_EQ(os_sweep_prepare(&sp.s, &lazy, &err), OS_OK) << err.msg;
        int calls = 0;
        EXPECT_EQ(os_sweep_stream(&lazy, 10, fail_third, &calls, nullptr, nullptr, nullptr, &err), OS_ERUNTIME);
        EXPECT_EQ(calls, 3);
        EXPECT_STREQ(err.msg, "block at 20 refused");
        os_sweep_free(&lazy);
    }
}

TEST_F(StreamCli, BadBlockIsAnInputError)
{
    for (const char *bad : {"-1", "1.5", "x"}) {
        const Proc p = run({"run", "--block", bad, "-o", "x.csv"});
        EXPECT_EQ(p.status, 2) << bad;
        EXPECT_NE(p.err.find("--block"), std::string::npos) << p.err;
        EXPECT_NE(p.err.find(bad), std::string::npos) << p.err;
    }
    EXPECT_TRUE(listing().empty());
}

// Peak memory of a child run (ru_maxrss, KB).
long peak_kb(const std::vector<std::string> &args, const std::string &cwd, int *status)
{
    std::vector<char *> argv{const_cast<char *>(OS_BIN)};
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        if (chdir(cwd.c_str()) != 0) _exit(126);
        execv(OS_BIN, argv.data());
        _exit(127);
    }
    int ws = 0;
    struct rusage ru = {};
    while (wait4(pid, &ws, 0, &ru) < 0 && errno == EINTR) {
    }
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    return ru.ru_maxrss;
}

// A million trainings hold ~290 MB of trials and results in memory; blocks
// of 2^16 keep the run's peak far below that: two blocks (65,536 x 288
// bytes, 19 MB each: one written while the next trains), the lr list
// (4 MB) and the program, 61 MB measured (36 MB with --overlap off). The
// bound, 80 MB, also catches anything else that grows with the grid (the
// sidecar once listed every lr: +56 MB here, +320 MB at 10^7 trainings).
TEST_F(StreamCli, ABlockBoundsTheMemory)
{
#ifdef OS_SANITIZED
    GTEST_SKIP() << "AddressSanitizer's shadow memory counts in the peak";
#endif
    int status = -1;
    const long kb = peak_kb({"run", "--optimizer", "sgd,adam", "--lr", "logspace(-4,0,500000)", "--epochs", "1",
                             "--n", "32", "--batch-size", "32", "--block", "65536", "--quiet", "-o", "big.csv"},
                            work_, &status);
    ASSERT_EQ(status, 0);
    const double whole_mb = 1e6 * (double)(sizeof(os_trial) + sizeof(os_result)) / 1e6;
    EXPECT_GT(whole_mb, 200);
    EXPECT_LT(kb / 1024.0, 80) << "peak RSS " << kb / 1024.0 << " MB; all trials and results: " << whole_mb << " MB";
    EXPECT_EQ(lines_of(slurp(path("big.csv"))).size(), 1000001u);
}

} // namespace
