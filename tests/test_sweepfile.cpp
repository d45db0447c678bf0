// test_sweepfile.cpp — sweep files and conditional grids (docs/design.md §3):
//  * every key round-trips: an axis key's value comes back in its results
//    column, a setting key fills the spec exactly as its flag does;
//  * flags override the file's keys (in every block), and -o its output;
//  * blocks: the table is the union of the blocks' products, block after
//    block, each block's rows exactly the rows of that block run alone; a
//    file of one block, --and and the plain flags give the same bytes;
//  * value forms: 1-logspace, range(...), against numpy's printed values;
//  * malformed and hostile files (syntax, unknown keys with the nearest one,
//    aliases, deep nesting, huge counts, binary junk) exit 2 with the file,
//    the line and the key on one stderr line, and leave no output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace ostest;

class sweepfile : public ProgramTest {
protected:
    sweepfile() : ProgramTest("/tmp/os_sweepfile.XXXXXX") {}

    // Runs orbitsweep and returns the table it wrote to out (ok: exit 0).
    Table run_table(std::vector<std::string> args, const std::string &out, Proc *p = nullptr)
    {
        Proc q = run(args);
        if (p) *p = q;
        EXPECT_EQ(q.status, 0) << join(args, " ") << "\n" << q.err;
        return read_table(slurp(path(out)), false);
    }
};

// A valid value of axis a that is not its default, as text.
std::string axis_value(const os_axis_def &a)
{
    switch (a.type) {
    case OS_AXT_OPT: return "momentum";
    case OS_AXT_SCHED: return "step:step_size=3,gamma=0.5";
    case OS_AXT_BOOL: return "true";
    }
    if (a.type == OS_AXT_CHOICE) return os_axis_choices(a.id)[1];
    if (a.integer) return "3";
    double v = std::isfinite(a.hi) ? a.lo + 0.25 * (a.hi - a.lo) : a.lo + 0.5;
    if (a.id == OS_AX_INIT_WA || a.id == OS_AX_INIT_WB) v = 1.25;
    char buf[64];
    os_fmt_double(buf, sizeof buf, v);
    return buf;
}

// The first optimizer that uses axis a.
std::string user_of(int a)
{
    for (int k = 0; k < OS_OPT_COUNT; ++k)
        if (os_axis_used(a, k)) return os_optimizer_name(k);
    return "adam";
}

// Every axis key: the file's value is the table's column.
TEST_F(sweepfile, EveryAxisKeyReachesItsColumn)
{
    for (int a = 0; a < OS_AX_COUNT; ++a) {
        const os_axis_def &d = os_axes[a];
        const std::string v = axis_value(d);
        std::string text = a != OS_AX_N ? "n: 64\n" : "";
        if (a != OS_AX_OPTIMIZER) text += "optimizer: " + user_of(a) + "\n";
        if (a != OS_AX_EPOCHS) text += "epochs: 1\n";
        text += std::string(d.column) + ": \"" + v + "\"\n";
        spit(path("s.yaml"), text);
        SCOPED_TRACE(text);
        const Table t = run_table({"run", "s.yaml", "--quiet", "-o", "out.csv"}, "out.csv");
        ASSERT_TRUE(t.ok);
        ASSERT_EQ(t.rows.size(), 1u);
        EXPECT_EQ(t.at(0, d.column), v);
    }
}

// Every setting key fills the spec as its flag does (the same text through
// os_spec_set), and one through the binary reaches the table.
TEST_F(sweepfile, EverySettingKeyMatchesItsFlag)
{
    for (int i = 0; i < os_n_settings; ++i) {
        const os_setting_def &d = os_settings[i];
        std::string v = d.kind == OS_V_CHOICE ? d.choices[1]
                        : d.kind == OS_V_STRING ? "data.csv"
                        : d.kind == OS_V_DEVICES ? "0,1"
                        : d.kind == OS_V_DOUBLE ? "0.5"
                                                : "3";
        spit(path("s.yaml"), std::string(d.key) + ": \"" + v + "\"\n");
        SCOPED_TRACE(d.key);
        os_spec from_file, from_flag;
        os_error err;
        ASSERT_EQ(os_spec_init(&from_file), OS_OK);
        ASSERT_EQ(os_spec_init(&from_flag), OS_OK);
        ASSERT_EQ(os_sweep_file_load(&from_file, path("s.yaml").c_str(), nullptr, &err), OS_OK) << err.msg;
        ASSERT_EQ(os_spec_set(&from_flag, i, v.c_str(), &err), OS_OK) << err.msg;
        EXPECT_EQ(from_file.settings_given, from_flag.settings_given);
        if (d.kind == OS_V_STRING) {
            EXPECT_STREQ(*(char **)((char *)&from_file + d.offset), "data.csv");
        } else if (d.kind == OS_V_DEVICES) {
            EXPECT_EQ(from_file.n_devices, 2);
            EXPECT_EQ(from_file.devices[1], 1);
        } else {
            const size_t size = d.kind == OS_V_DOUBLE ? sizeof(double) : d.kind == OS_V_U64 ? sizeof(uint64_t) : sizeof(int);
            EXPECT_EQ(memcmp((char *)&from_file + d.offset, (char *)&from_flag + d.offset, size), 0);
        }
        os_spec_free(&from_file);
        os_spec_free(&from_flag);
    }
    spit(path("s.yaml"), "seeds: 3\nseed: 7\nepochs: 1\nn: 64\n");
    const Table t = run_table({"run", "s.yaml", "--quiet", "-o", "out.csv"}, "out.csv");
    ASSERT_EQ(t.rows.size(), 3u);
    EXPECT_EQ(t.column("seed"), (std::vector<std::string>{"7", "8", "9"}));
}

// Flags override the file's keys; -o its output; --config names it too.
TEST_F(sweepfile, FlagsOverrideTheFile)
{
    spit(path("s.yaml"), "optimizer: [sgd, adam]\nlr: [0.1, 0.2]\nepochs: 2\nn: 64\noutput: file.csv\n");
    Table t = run_table({"run", "s.yaml", "--quiet"}, "file.csv");
    EXPECT_EQ(t.rows.size(), 4u);
    t = run_table({"run", "--config", "s.yaml", "--lr", "0.05", "--quiet", "-o", "flag.csv"}, "flag.csv");
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.column("lr"), (std::vector<std::string>{"0.05", "0.05"}));
    EXPECT_EQ(t.column("optimizer"), (std::vector<std::string>{"sgd", "adam"}));
    EXPECT_EQ(t.column("epochs"), (std::vector<std::string>{"2", "2"}));
    // in every block
    spit(path("b.yaml"), "epochs: 2\nn: 64\nblocks:\n  - {optimizer: sgd, lr: [0.1, 0.2]}\n"
                         "  - {optimizer: adam, lr: 0.3, beta2: [0.9, 0.99]}\n");
    t = run_table({"run", "b.yaml", "--lr", "0.01", "--epochs", "1", "--quiet", "-o", "o.csv"}, "o.csv");
    ASSERT_EQ(t.rows.size(), 3u);
    EXPECT_EQ(t.column("lr"), (std::vector<std::string>{"0.01", "0.01", "0.01"}));
    EXPECT_EQ(t.column("beta2"), (std::vector<std::string>{"", "0.9", "0.99"}));
    EXPECT_EQ(t.column("epochs"), (std::vector<std::string>{"1", "1", "1"}));
    Proc p = run({"run", "b.yaml", "--config", "s.yaml", "-o", "x.csv"});
    EXPECT_EQ(p.status, 2);
    EXPECT_NE(p.err.find("--config"), std::string::npos) << p.err;
}

// Blocks: each block's rows are exactly that block run alone, in block
// order; --and gives the same bytes as the file.
TEST_F(sweepfile, BlocksAreTheUnionOfTheirProductsInOrder)
{
    // settings apply to the whole sweep wherever they stand; an axis flag (--n too) to its block
    const std::vector<std::string> common = {"--seeds", "2", "--quiet"};
    std::vector<std::vector<std::string>> blocks = {
        {"--optimizer", "sgd,momentum", "--lr", "logspace(-3,-1,3)", "--epochs", "3", "--n", "64"},
        {"--optimizer", "adam", "--lr", "0.01,0.1", "--beta2", "0.99,0.999", "--scheduler", "none", "--scheduler",
         "multistep:milestones=2/4,gamma=0.5", "--epochs", "3", "--n", "64"},
        {"--optimizer", "rmsprop", "--lr", "0.01", "--batch-size", "32,64", "--epochs", "3", "--n", "64"},
    };
    std::vector<std::string> expect;
    size_t n = 0;
    for (size_t b = 0; b < blocks.size(); ++b) {
        std::vector<std::string> args = {"run"};
        args.insert(args.end(), blocks[b].begin(), blocks[b].end());
        args.insert(args.end(), common.begin(), common.end());
        const std::string out = "b" + std::to_string(b) + ".csv";
        args.insert(args.end(), {"-o", out});
        const Table t = run_table(args, out);
        for (const auto &r : rows_without_trial(t)) expect.push_back(r);
        n += t.rows.size();
    }
    std::vector<std::string> args = {"run"};
    for (size_t b = 0; b < blocks.size(); ++b) {
        if (b) args.push_back("--and");
        args.insert(args.end(), blocks[b].begin(), blocks[b].end());
    }
    args.insert(args.end(), common.begin(), common.end());
    args.insert(args.end(), {"-o", "and.csv"});
    const Table t = run_table(args, "and.csv");
    ASSERT_EQ(t.rows.size(), n);
    EXPECT_EQ(rows_without_trial(t), expect);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(t.at(i, "trial"), std::to_string(i));

    spit(path("s.yaml"), "seeds: 2\nepochs: 3\nn: 64\n"
                         "blocks:\n"
                         "  - optimizer: [sgd, momentum]\n"
                         "    lr: logspace(-3,-1,3)\n"
                         "  - optimizer: adam\n"
                         "    lr: [0.01, 0.1]\n"
                         "    beta2: [0.99, 0.999]\n"
                         "    scheduler: [none, {name: multistep, milestones: [2, 4], gamma: 0.5}]\n"
                         "  - {optimizer: rmsprop, lr: 0.01, batch_size: [32, 64]}\n");
    run_table({"run", "s.yaml", "--quiet", "-o", "file.csv"}, "file.csv");
    EXPECT_EQ(slurp(path("file.csv")), slurp(path("and.csv")));
    // the same as an archive of columns, and at any --block
    run_table({"run", "s.yaml", "--quiet", "-o", "file.npz", "--block", "5"}, "file.npz");
    args.back() = "and.npz";
    run_table(args, "and.npz");
    EXPECT_EQ(slurp(path("file.npz")), slurp(path("and.npz")));
}

// One block is today's table, byte for byte (CSV and .npz).
TEST_F(sweepfile, OneBlockIsThePlainGrid)
{
    const std::vector<std::string> flags = {"--optimizer", "sgd,adam", "--lr", "0.01,0.1", "--scheduler", "none",
                                            "--scheduler", "cosine:t_max=5", "--epochs", "2", "--seeds", "2",
                                            "--shuffle", "trial", "--n", "64", "--quiet"};
    for (const char *ext : {".csv", ".npz"}) {
        std::vector<std::string> a = {"run"};
        a.insert(a.end(), flags.begin(), flags.end());
        a.insert(a.end(), {"-o", std::string("plain") + ext});
        run_table(a, std::string("plain") + ext);
        spit(path("s.yaml"), "optimizer: sgd,adam\nlr: [0.01, 0.1]\nscheduler: [none, \"cosine:t_max=5\"]\n"
                             "epochs: 2\nseeds: 2\nshuffle: trial\nn: 64\n");
        run_table({"run", "s.yaml", "--quiet", "-o", std::string("file") + ext}, std::string("file") + ext);
        EXPECT_EQ(slurp(path(std::string("plain") + ext)), slurp(path(std::string("file") + ext))) << ext;
        spit(path("l.yaml"), "- {optimizer: [sgd, adam], lr: [0.01, 0.1], scheduler: [none, \"cosine:t_max=5\"],"
                             " epochs: 2}\n");
        run_table({"run", "l.yaml", "--seeds", "2", "--shuffle", "trial", "--n", "64", "--quiet", "-o",
                   std::string("list") + ext},
                  std::string("list") + ext);
        EXPECT_EQ(slurp(path(std::string("plain") + ext)), slurp(path(std::string("list") + ext))) << ext;
    }
}

// 1-logspace, 1-geomspace and integer ranges, against numpy / Python:
// 1-np.logspace(-1,-4,4) prints 0.9 0.99 0.999 0.9999; list(range(16,129,48)) is 16 64 112.
TEST_F(sweepfile, ValueForms)
{
    spit(path("s.yaml"), "optimizer: adam\nbeta2: 1-logspace(-1,-4,4)\nbatch_size: range(16,129,48)\nepochs: 1\nn: 64\n");
    Table t = run_table({"run", "s.yaml", "--quiet", "-o", "o.csv"}, "o.csv");
    ASSERT_EQ(t.rows.size(), 12u);
    std::vector<std::string> b2, bs;
    for (size_t i = 0; i < 12; i += 3) b2.push_back(t.at(i, "beta2"));
    for (size_t i = 0; i < 3; ++i) bs.push_back(t.at(i, "batch_size"));
    EXPECT_EQ(b2, (std::vector<std::string>{"0.9", "0.99", "0.999", "0.9999"}));
    EXPECT_EQ(bs, (std::vector<std::string>{"16", "64", "112"}));
    t = run_table({"run", "--optimizer", "adam", "--beta2", "1-geomspace(0.1,0.0001,4)", "--epochs", "range(3,0,-1)",
                   "--n", "64", "--quiet", "-o", "p.csv"},
                  "p.csv");
    ASSERT_EQ(t.rows.size(), 12u);
    EXPECT_EQ(t.at(0, "epochs"), "3");
    EXPECT_EQ(t.at(2, "epochs"), "1");
    EXPECT_EQ(t.at(9, "beta2"), "0.9999");
}

// --dry-run: counts per block and the first configurations; nothing written.
TEST_F(sweepfile, DryRun)
{
    Proc p = run({"run", "--optimizer", "sgd", "--lr", "0.1,0.2", "--and", "--optimizer", "adam", "--lr",
                  "logspace(-3,-1,5)", "--seeds", "3", "--dry-run", "-o", "o.csv"});
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_NE(p.out.find("block 1: 6 trainings"), std::string::npos) << p.out;
    EXPECT_NE(p.out.find("block 2: 15 trainings"), std::string::npos) << p.out;
    EXPECT_NE(p.out.find("total: 21 trainings"), std::string::npos) << p.out;
    EXPECT_NE(p.out.find("memory: about"), std::string::npos) << p.out;
    EXPECT_NE(p.out.find("time: about"), std::string::npos) << p.out;
    EXPECT_NE(p.out.find("  6,adam,0.001,none,"), std::string::npos) << p.out;
    EXPECT_TRUE(listing().empty()) << join(listing(), " ");
}

// Every file of examples/sweeps/ is a valid sweep (--dry-run).
TEST_F(sweepfile, ExamplesAreValid)
{
    const std::string dir = std::string(OS_GOLDEN_DIR) + "/../../examples/sweeps";
    std::vector<std::string> files;
    list_tree(dir, "", &files);
    size_t n = 0;
    for (const auto &f : files) {
        if (f.size() < 5 || f.substr(f.size() - 5) != ".yaml") continue;
        SCOPED_TRACE(f);
        Proc p = run({"run", dir + "/" + f, "--dry-run"});
        EXPECT_EQ(p.status, 0) << p.err;
        EXPECT_NE(p.out.find("total: "), std::string::npos) << p.out;
        ++n;
    }
    EXPECT_GE(n, 5u);
    EXPECT_TRUE(listing().empty());
}

// ---------------------------------------------------------------------------
// malformed and hostile files

struct BadFile {
    const char *name;
    std::string text;
    std::vector<std::string> needles; // on the one stderr line
};

std::string deep_nesting()
{
    return "lr: " + std::string(100000, '[') + "0.1" + std::string(100000, ']') + "\n";
}

std::string alias_bomb()
{
    std::string s = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 12; ++i)
        s += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) + ", *a" +
             std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + "]\n";
    return s;
}

std::string junk()
{
    std::string s;
    unsigned x = 12345;
    for (int i = 0; i < 4096; ++i) s += (char)((x = x * 1103515245u + 12345u) >> 16);
    return s;
}

std::vector<BadFile> bad_files()
{
    return {
        {"unknown_key", "optimizer: sgd\nlrr: 0.1\n", {"s.yaml:2", "lrr", "did you mean 'lr'"}},
        {"unknown_setting", "seeds: 2\nsched_stepp: epoch\n", {"s.yaml:2", "sched_stepp", "'sched_step'"}},
        {"bad_value", "epochs: 2\nlr: [0.1, fast]\n", {"s.yaml:2", "lr", "fast"}},
        {"bad_syntax", "lr: [0.1, 0.2\nepochs: 2\n", {"s.yaml:", "malformed YAML"}},
        {"bad_indent", "lr: 0.1\n  epochs: 2\n", {"s.yaml:2", "malformed YAML"}},
        {"unused_hyperparameter", "optimizer: sgd\nbeta2: 0.99\n", {"s.yaml:2", "beta2", "sgd", "adam"}},
        {"unused_in_block", "blocks:\n  - {optimizer: adam, lr: 0.1}\n  - optimizer: sgd\n    momentum: 0.5\n",
         {"s.yaml:4", "momentum", "sgd"}},
        {"setting_in_block", "blocks:\n  - optimizer: adam\n    seeds: 3\n", {"s.yaml:3", "seeds", "top level"}},
        {"duplicate_key", "lr: 0.1\nlr: 0.2\n", {"s.yaml:2", "lr", "twice"}},
        {"empty_blocks", "blocks: []\n", {"s.yaml:1", "blocks"}},
        {"not_a_mapping", "just text\n", {"s.yaml:1", "mapping"}},
        {"setting_list", "seeds: [1, 2]\n", {"s.yaml:1", "seeds", "one value"}},
        {"two_documents", "lr: 0.1\n---\nlr: 0.2\n", {"s.yaml:2", "document"}},
        {"scheduler_without_name", "scheduler: {gamma: 0.5}\n", {"s.yaml:1", "scheduler", "name"}},
        {"bad_scheduler", "scheduler: {name: step, gamma: 0.5}\n", {"s.yaml:1", "scheduler", "step_size"}},
        {"alias_bomb", alias_bomb(), {"s.yaml:1", "aliases"}},
        {"deep_nesting", deep_nesting(), {"s.yaml:1", "deeply"}},
        {"huge_count", "lr: logspace(-4,0,1000000000)\n", {"s.yaml:1", "lr", "count"}},
        {"huge_grid", "lr: logspace(-4,0,20000)\nbeta2: 1-logspace(-1,-4,20000)\noptimizer: adam\n", {"limit"}},
        {"huge_range", "epochs: range(1,1000000000000)\n", {"s.yaml:1", "epochs", "range"}},
        {"binary_junk", junk(), {"s.yaml"}},
        {"nul_byte", std::string("lr: 0.1\nepochs: 2\0\n", 18), {"s.yaml:2", "NUL"}},
        {"too_large", "# " + std::string(2 << 20, 'x') + "\n", {"s.yaml", "larger"}},
        {"missing", "", {"nothere.yaml"}},
    };
}

class BadSweepFile : public sweepfile, public ::testing::WithParamInterface<BadFile> {};

TEST_P(BadSweepFile, ExitsTwoWithFileLineAndKey)
{
    const BadFile &c = GetParam();
    const std::string file = std::string(c.name) == "missing" ? "nothere.yaml" : "s.yaml";
    if (file == "s.yaml") spit(path(file), c.text);
    const std::vector<std::string> before = listing();
    Proc p = run({"run", file, "-o", "out.csv"});
    const std::vector<std::string> lines = lines_of(p.err);
    EXPECT_EQ(p.status, 2);
    EXPECT_EQ(p.out, "");
    ASSERT_EQ(lines.size(), 1u) << p.err;
    for (const auto &n : c.needles) EXPECT_NE(lines[0].find(n), std::string::npos) << "no '" << n << "': " << lines[0];
    EXPECT_EQ(listing(), before) << "files left behind";
}

INSTANTIATE_TEST_SUITE_P(sweepfile, BadSweepFile, ::testing::ValuesIn(bad_files()),
                         [](const ::testing::TestParamInfo<BadFile> &i) { return i.param.name; });

// --and: an empty block is bad input; a positional argument after --and too.
TEST_F(sweepfile, AndErrors)
{
    Proc p = run({"run", "--lr", "0.1", "--and", "--and", "--lr", "0.2", "-o", "o.csv"});
    EXPECT_EQ(p.status, 2);
    EXPECT_NE(p.err.find("--and"), std::string::npos) << p.err;
    p = run({"run", "--lr", "0.1", "--and", "x.yaml", "-o", "o.csv"});
    EXPECT_EQ(p.status, 2);
    EXPECT_NE(p.err.find("x.yaml"), std::string::npos) << p.err;
    EXPECT_TRUE(listing().empty());
}

} // namespace
