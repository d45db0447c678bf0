// test_cli.cpp — the orbitsweep command line end to end (docs/design.md §3-§5).
// Every test runs the built binary (OS_BIN) with fork/exec in a fresh
// temporary directory and checks exit status, stdout and stderr separately:
//  * bad input: exit 2, one stderr line naming the flag and the value, empty
//    stdout, and no output file (nor its temporary) left behind;
//  * run: the results table's columns, row count, grid order and empty
//    columns for unused hyperparameters; list syntax (repeats, ranges);
//  * determinism: byte-identical tables across --threads and across runs;
//  * trace and data outputs, the golden dataset, --help and --version.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace ostest;

// ---------------------------------------------------------------------------
// helpers

// orbitsweep's tables; a "\r\n" line end is read as "\n".
Table read_table(const std::string &text) { return ostest::read_table(text, true); }

bool is_uint(const std::string &s)
{
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

bool is_number(const std::string &s)
{
    if (s == "nan" || s == "inf" || s == "-inf") return true;
    char *end;
    if (s.empty()) return false;
    strtod(s.c_str(), &end);
    return *end == 0;
}

const char *const kResultsHeader =
    "trial,optimizer,lr,scheduler,momentum,dampening,alpha,beta1,beta2,eps,weight_decay,"
    "amsgrad,centered,momentum_decay,lr_decay,initial_accumulator_value,rho,batch_size,epochs,init_wa,init_wb,dtype,shuffle,sched_step,n,noise,target,seed,final_wa,final_wb,final_loss,loss_gap,param_error,"
    "steps_to_target,diverged,best_loss,final_lr,diverged_at,epochs_to_target,masked_batches,"
    "oscillation,path_length";

const char *const kTraceHeader =
    "update,epoch,batch,lr,loss,wa,wb,dwa,dwb,step_wa,step_wb,eff_step,m_wa,m_wb,v_wa,v_wb";

// The suite is named `cli` (lower case) so that `ctest -R cli` selects it.
// Each test gets root/ (mkdtemp) holding the captured stdout and stderr, and
// root/work/, the program's working directory (ostest::ProgramTest: run,
// path, listing).
class cli : public ProgramTest {
protected:
    cli() : ProgramTest("/tmp/orbitsweep_cli.XXXXXX") {}

    // A run that must succeed quietly; returns the file written to -o name.
    std::string run_ok(std::vector<std::string> args, const std::string &out_name = "out.csv")
    {
        args.push_back("-o");
        args.push_back(out_name);
        Proc p = run(args);
        EXPECT_EQ(p.status, 0) << join(args, " ") << "\nstderr: " << p.err;
        return slurp(path(out_name));
    }
};

// ---------------------------------------------------------------------------
// 1. bad input

struct BadCase {
    const char *name;
    std::vector<std::string> args;     // command first; "-o out.csv" goes right after it
    std::vector<std::string> needles;  // the one stderr line must contain each
    const char *file = nullptr;        // an input file to create in work/ first
    const char *file_text = nullptr;
};

// ctest and gtest show the case's name, not its bytes.
void PrintTo(const BadCase &c, std::ostream *os) { *os << c.name; }

std::string long_optimizer_list()
{
    std::string s;
    for (int i = 0; i < 64; ++i) s += "sgd,";  // 256 characters, then a bad name
    return s + "foo";
}

const std::vector<BadCase> &bad_cases()
{
    static const std::vector<BadCase> cases = {
        {"unknown_flag", {"run", "--bogus", "1"}, {"--bogus"}},
        {"unknown_command", {"frob"}, {"frob"}},
        {"missing_value", {"run", "--lr"}, {"--lr"}},
        {"lr_negative", {"run", "--lr", "-1"}, {"--lr", "-1"}},
        {"lr_zero", {"run", "--lr", "0"}, {"--lr", "0"}},
        {"lr_text", {"run", "--lr", "abc"}, {"--lr", "abc"}},
        {"lr_empty", {"run", "--lr", ""}, {"--lr"}},
        {"lr_empty_range", {"run", "--lr", "logspace(-4,0,0)"}, {"--lr", "logspace(-4,0,0)"}},
        {"lr_malformed_range", {"run", "--lr", "logspace(1,2)"}, {"--lr", "logspace(1,2)"}},
        {"lr_fractional_count", {"run", "--lr", "linspace(1,2,2.5)"}, {"--lr", "linspace(1,2,2.5)"}},
        {"lr_empty_item", {"run", "--lr", "0.1,,0.2"}, {"--lr"}},
        {"optimizer_unknown", {"run", "--optimizer", "foo"}, {"--optimizer", "foo"}},
        {"optimizer_empty", {"run", "--optimizer", ""}, {"--optimizer"}},
        {"momentum_above_1", {"run", "--momentum", "1.5"}, {"--momentum", "1.5"}},
        {"dampening_negative", {"run", "--dampening", "-0.1"}, {"--dampening", "-0.1"}},
        {"alpha_1", {"run", "--alpha", "1"}, {"--alpha", "1"}},
        {"beta1_1", {"run", "--beta1", "1"}, {"--beta1", "1"}},
        {"beta2_negative", {"run", "--beta2", "-0.5"}, {"--beta2", "-0.5"}},
        {"eps_negative", {"run", "--eps", "-1"}, {"--eps", "-1"}},
        {"weight_decay_negative", {"run", "--weight-decay", "-1"}, {"--weight-decay", "-1"}},
        {"batch_size_0", {"run", "--batch-size", "0"}, {"--batch-size", "0"}},
        {"batch_size_fraction", {"run", "--batch-size", "1.5"}, {"--batch-size", "1.5"}},
        {"epochs_0", {"run", "--epochs", "0"}, {"--epochs", "0"}},
        {"init_wa_0", {"run", "--init-wa", "0"}, {"--init-wa", "0"}},
        {"init_wa_nan", {"run", "--init-wa", "nan"}, {"--init-wa", "nan"}},
        {"seeds_0", {"run", "--seeds", "0"}, {"--seeds", "0"}},
        {"seed_negative", {"run", "--seed", "-3"}, {"--seed", "-3"}},
        {"shuffle_unknown", {"run", "--shuffle", "foo"}, {"--shuffle", "foo"}},
        {"dtype_float16", {"run", "--dtype", "float16"}, {"--dtype", "float16"}},
        {"backend_tpu", {"run", "--backend", "tpu"}, {"--backend", "tpu"}},
        {"sched_step_never", {"run", "--sched-step", "never"}, {"--sched-step", "never"}},
        {"n_1", {"run", "--n", "1"}, {"--n", "1"}},
        {"noise_negative", {"run", "--noise", "-1"}, {"--noise", "-1"}},
        {"a_0", {"run", "--a", "0"}, {"--a", "0"}},
        {"target_0", {"run", "--target", "0"}, {"--target", "0"}},
        {"threads_negative", {"run", "--threads", "-1"}, {"--threads", "-1"}},
        {"threads_fraction", {"run", "--threads", "1.5"}, {"--threads", "1.5"}},
        {"tile_3", {"run", "--tile", "3"}, {"--tile", "3"}},
        {"simd_maybe", {"run", "--simd", "maybe"}, {"--simd", "maybe"}},
        {"cuda_chunk_0", {"run", "--cuda-chunk", "0"}, {"--cuda-chunk", "0"}},
        {"max_blocks_negative", {"run", "--max-blocks", "-1"}, {"--max-blocks", "-1"}},
        {"max_blocks_fraction", {"run", "--max-blocks", "2.5"}, {"--max-blocks", "2.5"}},
        {"cuda_table_bytes_negative", {"run", "--cuda-table-bytes", "-1"}, {"--cuda-table-bytes", "-1"}},
        {"positional_argument", {"run", "extra"}, {"extra"}},
        {"scheduler_unknown", {"run", "--scheduler", "warmup"}, {"--scheduler", "warmup"}},
        {"scheduler_missing_key", {"run", "--scheduler", "multistep"}, {"--scheduler", "multistep"}},
        {"scheduler_unknown_key",
         {"run", "--scheduler", "step:step_size=3,foo=1"},
         {"--scheduler", "step:step_size=3,foo=1"}},
        {"scheduler_gamma_0",
         {"run", "--scheduler", "exponential:gamma=0"},
         {"--scheduler", "exponential:gamma=0"}},
        {"scheduler_bad_milestones",
         {"run", "--scheduler", "multistep:milestones=a/b"},
         {"--scheduler", "multistep:milestones=a/b"}},
        {"scheduler_t_max_0",
         {"run", "--scheduler", "cosine:t_max=0"},
         {"--scheduler", "cosine:t_max=0"}},
        {"scheduler_end_before_start",
         {"run", "--scheduler", "multiplicative:factor=0.5,start=10,end=5"},
         {"--scheduler", "multiplicative:factor=0.5,start=10,end=5"}},
        // the scheduler catalogue (none, constant, linear, ..., table, sequential, chain)
        {"scheduler_none_key", {"run", "--scheduler", "none:factor=1"}, {"--scheduler", "none:factor=1", "factor"}},
        {"constant_factor_0", {"run", "--scheduler", "constant:factor=0"}, {"--scheduler", "constant:factor=0"}},
        {"constant_factor_above_1", {"run", "--scheduler", "constant:factor=2"}, {"--scheduler", "factor"}},
        {"linear_start_factor_0", {"run", "--scheduler", "linear:start_factor=0"},
         {"--scheduler", "linear:start_factor=0"}},
        {"linear_end_factor_above_1", {"run", "--scheduler", "linear:end_factor=1.5"}, {"--scheduler", "end_factor"}},
        {"polynomial_total_iters_0", {"run", "--scheduler", "polynomial:total_iters=0"}, {"--scheduler", "0"}},
        {"warm_restarts_missing_t_0", {"run", "--scheduler", "cosine_warm_restarts:t_mult=2"},
         {"--scheduler", "t_0", "required"}},
        {"cyclic_missing_base_lr", {"run", "--scheduler", "cyclic:step_size_up=4"},
         {"--scheduler", "base_lr", "required"}},
        {"cyclic_bad_mode", {"run", "--scheduler", "cyclic:base_lr=0.01,mode=sine"}, {"--scheduler", "sine", "mode"}},
        {"cyclic_cycle_momentum_maybe", {"run", "--scheduler", "cyclic:base_lr=0.01,cycle_momentum=maybe"},
         {"--scheduler", "maybe", "cycle_momentum"}},
        {"onecycle_missing_total_steps", {"run", "--scheduler", "onecycle"}, {"--scheduler", "total_steps"}},
        {"onecycle_three_phase_yes", {"run", "--scheduler", "onecycle:total_steps=1000,three_phase=yes"},
         {"--scheduler", "three_phase", "yes"}},
        {"onecycle_pct_start_above_1", {"run", "--scheduler", "onecycle:total_steps=1000,pct_start=1.5"},
         {"--scheduler", "pct_start"}},
        {"onecycle_too_few_steps", {"run", "--epochs", "10", "--scheduler", "onecycle:total_steps=50"},
         {"--scheduler", "onecycle:total_steps=50", "80"}},
        {"onecycle_zero_length_phase", {"run", "--epochs", "10", "--scheduler", "onecycle:total_steps=100,pct_start=0.01"},
         {"--scheduler", "pct_start=0.01", "zero"}},
        {"plateau_factor_1", {"run", "--scheduler", "plateau:factor=1"}, {"--scheduler", "plateau:factor=1"}},
        {"plateau_bad_mode", {"run", "--scheduler", "plateau:mode=avg"}, {"--scheduler", "avg"}},
        {"plateau_bad_threshold_mode", {"run", "--scheduler", "plateau:threshold_mode=pct"}, {"--scheduler", "pct"}},
        {"sequential_without_milestones", {"run", "--scheduler", "sequential(linear;exponential:gamma=0.9)"},
         {"--scheduler", "milestones"}},
        {"sequential_milestone_count", {"run", "--scheduler", "sequential(linear;exponential:gamma=0.9;milestones=3/6)"},
         {"--scheduler", "milestones=3/6"}},
        {"sequential_milestones_descending",
         {"run", "--scheduler", "sequential(linear;exponential:gamma=0.9;step:step_size=2;milestones=6/3)"},
         {"--scheduler", "ascending"}},
        {"sequential_nested", {"run", "--scheduler", "sequential(chain(linear;linear);linear;milestones=3)"},
         {"--scheduler", "nest"}},
        {"chain_with_plateau", {"run", "--scheduler", "chain(plateau;linear)"}, {"--scheduler", "plateau"}},
        {"chain_with_onecycle", {"run", "--scheduler", "chain(linear;onecycle:total_steps=900)"},
         {"--scheduler", "onecycle"}},
        {"chain_of_one", {"run", "--scheduler", "chain(linear)"}, {"--scheduler", "two"}},
        {"chain_unclosed", {"run", "--scheduler", "chain(linear;exponential:gamma=0.9"}, {"--scheduler", "')'"}},
        {"chain_bad_part", {"run", "--scheduler", "chain(linear;exponential)"}, {"--scheduler", "gamma"}},
        {"composite_unknown", {"run", "--scheduler", "parallel(linear;linear)"}, {"--scheduler", "parallel"}},
        {"table_missing_file", {"run", "--scheduler", "table:missing.csv"}, {"--scheduler", "missing.csv"}},
        {"table_without_file", {"run", "--scheduler", "table"}, {"--scheduler", "table"}},
        {"table_bad_header", {"run", "--scheduler", "table:lr.csv"}, {"--scheduler", "lr.csv", "line 1", "factor"},
         "lr.csv", "lr\n0.5\n"},
        {"table_bad_value", {"run", "--scheduler", "table:t.csv"}, {"--scheduler", "t.csv", "line 3", "abc"}, "t.csv",
         "factor\n1\nabc\n"},
        {"table_negative", {"run", "--scheduler", "table:neg.csv"}, {"--scheduler", "neg.csv", "line 2"}, "neg.csv",
         "factor\n-1\n"},
        {"table_two_columns", {"run", "--scheduler", "table:two.csv"}, {"--scheduler", "two.csv", "line 2"},
         "two.csv", "factor\n1,2\n"},
        {"table_no_rows", {"run", "--scheduler", "table:hdr.csv"}, {"--scheduler", "hdr.csv"}, "hdr.csv", "factor\n"},
        {"nesterov_dampening",
         {"run", "--optimizer", "nesterov", "--dampening", "0.5"},
         {"--dampening", "0.5"}},
        // the optimizer catalogue's names and options
        {"optimizer_unknown_lists_valid", {"run", "--optimizer", "AdamW"},
         {"--optimizer", "'AdamW'", "adamw", "nadam", "radam", "adamax", "adagrad", "adadelta", "lion"}},
        {"optimizer_unknown_in_catalogue_list", {"run", "--optimizer", "adamw,lion,sophia"},
         {"--optimizer", "sophia", "sgd, momentum"}},
        {"amsgrad_maybe", {"run", "--amsgrad", "maybe"}, {"--amsgrad", "maybe", "true or false"}},
        {"amsgrad_number", {"run", "--amsgrad", "1"}, {"--amsgrad", "'1'"}},
        {"amsgrad_capitalised", {"run", "--amsgrad", "false,True"}, {"--amsgrad", "True"}},
        {"amsgrad_empty_item", {"run", "--amsgrad", "true,,false"}, {"--amsgrad"}},
        {"amsgrad_empty", {"run", "--amsgrad", ""}, {"--amsgrad"}},
        {"centered_yes", {"run", "--optimizer", "rmsprop", "--centered", "yes"}, {"--centered", "yes"}},
        {"momentum_decay_negative", {"run", "--momentum-decay", "-0.1"}, {"--momentum-decay", "-0.1"}},
        {"momentum_decay_inf", {"run", "--momentum-decay", "inf"}, {"--momentum-decay", "inf"}},
        {"lr_decay_negative", {"run", "--lr-decay", "-1e-3"}, {"--lr-decay", "-0.001"}},
        {"initial_accumulator_value_negative", {"run", "--initial-accumulator-value", "-1"},
         {"--initial-accumulator-value", "-1"}},
        {"rho_above_1", {"run", "--rho", "1.5"}, {"--rho", "1.5"}},
        {"rho_negative", {"run", "--optimizer", "adadelta", "--rho", "-0.1"}, {"--rho", "-0.1"}},
        {"rmsprop_momentum_1", {"run", "--optimizer", "rmsprop", "--momentum", "1"}, {"--momentum", "1"}},
        {"lion_beta2_1", {"run", "--optimizer", "lion", "--beta2", "1"}, {"--beta2", "1"}},
        {"trace_two_amsgrads", {"trace", "--amsgrad", "false,true"}, {"trace"}},
        {"data_missing", {"run", "--data", "missing.csv"}, {"--data", "missing.csv"}},
        {"data_malformed",
         {"run", "--data", "bad.csv"},
         {"--data", "bad.csv"},
         "bad.csv",
         "x,y\n1.0,abc\n"},
        {"data_header_without_y",
         {"run", "--data", "noy.csv"},
         {"--data", "noy.csv"},
         "noy.csv",
         "x,z\n1.0,2.0\n2.0,3.0\n"},
        {"data_empty", {"run", "--data", "empty.csv"}, {"--data", "empty.csv"}, "empty.csv", ""},
        {"data_directory", {"run", "--data", "."}, {"--data"}},
        {"trace_two_trainings", {"trace", "--lr", "0.1,0.2"}, {"trace"}},
        {"trace_bad_lr", {"trace", "--lr", "-1"}, {"--lr", "-1"}},
        {"data_bad_n", {"data", "--n", "1"}, {"--n", "1"}},
        // bugs found by these tests, since fixed
        {"seed_negative_after_space", {"run", "--seed", " -3"}, {"--seed", "-3"}},
        {"seed_overflow", {"run", "--seed", "99999999999999999999999"},
         {"--seed", "99999999999999999999999"}},
        {"optimizer_empty_item", {"run", "--optimizer", "sgd,,adam"}, {"--optimizer"}},
        {"optimizer_long_list", {"run", "--optimizer", long_optimizer_list()},
         {"--optimizer", "foo"}},
        {"a_overflows_offset", {"run", "--a", "1e200", "--b", "1", "--epochs", "2", "--n", "64"},
         {"--a"}},
    };
    return cases;
}

class BadInput : public cli, public ::testing::WithParamInterface<BadCase> {};

TEST_P(BadInput, ExitsTwoWithOneLineAndNoFile)
{
    const BadCase &c = GetParam();
    if (c.file) spit(path(c.file), c.file_text);
    const std::vector<std::string> before = listing();
    std::vector<std::string> args = c.args;
    args.insert(args.begin() + 1, {"-o", "out.csv"});
    Proc p = run(args);
    const std::vector<std::string> err_lines = lines_of(p.err);
    const std::string line = err_lines.empty() ? "" : err_lines[0];
    SCOPED_TRACE("orbitsweep " + join(args, " "));
    EXPECT_EQ(p.status, 2);
    EXPECT_EQ(p.out, "");
    EXPECT_EQ(err_lines.size(), 1u) << p.err;
    EXPECT_EQ(p.err.back(), '\n');
    for (const auto &n : c.needles)
        EXPECT_NE(line.find(n), std::string::npos) << "stderr does not name '" << n << "': " << line;
    EXPECT_EQ(listing(), before) << "files left behind";
}

INSTANTIATE_TEST_SUITE_P(cli, BadInput, ::testing::ValuesIn(bad_cases()),
                         [](const ::testing::TestParamInfo<BadCase> &i) { return i.param.name; });

// cycle_momentum=true with an optimizer that has neither momentum nor beta1
// is bad input (PyTorch raises); auto leaves it alone, so a sweep of every
// optimizer x cyclic runs.
TEST_F(cli, CycleMomentumTrueWhereNothingCycles)
{
    int tested = 0;
    for (int o = 0; o < OS_OPT_COUNT; ++o) {
        if (os_optimizer_cycles(o) != OS_CYCLE_NONE) continue;
        const std::string name = os_optimizer_name(o);
        Proc p = run({"run", "-o", "out.csv", "--optimizer", name, "--epochs", "2", "--scheduler",
                      "cyclic:base_lr=0.001,step_size_up=4,cycle_momentum=true"});
        EXPECT_EQ(p.status, 2) << name;
        EXPECT_NE(p.err.find("--scheduler"), std::string::npos) << p.err;
        EXPECT_NE(p.err.find("cycle_momentum=true"), std::string::npos) << p.err;
        EXPECT_NE(p.err.find(name), std::string::npos) << p.err;
        EXPECT_TRUE(listing().empty()) << "files left behind";
        p = run({"run", "-o", "out.csv", "--optimizer", name, "--epochs", "2", "--scheduler",
                 "onecycle:total_steps=16"});
        EXPECT_EQ(p.status, 0) << name << ": cycle_momentum=auto: " << p.err;
        std::remove(path("out.csv").c_str()); /* and its sidecar: the next optimizer starts clean */
        std::remove(path("out.csv.json").c_str());
        ++tested;
    }
    if (!tested) GTEST_SKIP() << "every optimizer has a momentum or beta1 to cycle";
}

// -o into a missing directory: an error naming -o, and nothing left behind.
TEST_F(cli, OutputIntoMissingDirectory)
{
    const std::vector<std::vector<std::string>> cmds = {
        {"run", "--epochs", "2", "--n", "64", "--quiet"},
        {"trace", "--epochs", "2", "--n", "64"},
        {"data", "--n", "64"},
    };
    for (auto args : cmds) {
        args.insert(args.end(), {"-o", "nodir/out.csv"});
        SCOPED_TRACE("orbitsweep " + join(args, " "));
        Proc p = run(args);
        EXPECT_TRUE(p.status == 2 || p.status == 1) << p.status;
        EXPECT_EQ(p.out, "");
        ASSERT_EQ(lines_of(p.err).size(), 1u) << p.err;
        EXPECT_NE(p.err.find("-o"), std::string::npos) << p.err;
        EXPECT_NE(p.err.find("nodir/out.csv"), std::string::npos) << p.err;
        EXPECT_TRUE(listing().empty()) << join(listing(), " ");
    }
}

// The same without --quiet: still one line (no "backend auto" notice first).
TEST_F(cli, OutputIntoMissingDirectoryNotQuiet)
{
    const std::vector<std::string> args = {"run", "--epochs", "2", "--n", "64", "-o", "nodir/out.csv"};
    Proc p = run(args);
    const auto err_lines = lines_of(p.err);
    ASSERT_EQ(err_lines.size(), 1u) << p.err;
    EXPECT_TRUE(p.status == 2 || p.status == 1) << p.status;
    EXPECT_EQ(p.out, "");
    EXPECT_NE(p.err.find("-o"), std::string::npos) << p.err;
    EXPECT_TRUE(listing().empty());
}

// ---------------------------------------------------------------------------
// 2. run: the results table

TEST_F(cli, RunSmallGrid)
{
    const std::vector<std::string> args = {
        "run", "--optimizer", "sgd,adam", "--lr", "0.01,0.1", "--scheduler", "none",
        "--scheduler", "step:step_size=3,gamma=0.5", "--seeds", "3", "--epochs", "3",
        "--n", "128", "--quiet", "-o", "out.csv"};
    Proc p = run(args);
    ASSERT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(p.out, "");
    EXPECT_EQ(p.err, "");
    // the table and its sidecar (test_resume checks what the sidecar holds)
    EXPECT_EQ(listing(), (std::vector<std::string>{"out.csv", "out.csv.json"}));
    const std::string text = slurp(path("out.csv"));
    EXPECT_EQ(lines_of(text).at(0), kResultsHeader);
    // the scheduler field holds commas: it must be quoted
    EXPECT_NE(text.find(",\"step:step_size=3,gamma=0.5\","), std::string::npos);

    const Table t = read_table(text);
    ASSERT_TRUE(t.ok) << "not RFC 4180 with 36 fields per row:\n" << text;
    ASSERT_EQ(t.header.size(), 42u);
    ASSERT_EQ(t.rows.size(), 24u);

    std::map<std::string, int> configs;  // optimizer|scheduler|lr -> count
    for (size_t i = 0; i < t.rows.size(); ++i) {
        SCOPED_TRACE("row " + std::to_string(i));
        EXPECT_EQ(t.at(i, "trial"), std::to_string(i));
        EXPECT_EQ(t.at(i, "seed"), std::to_string(i % 3));
        const std::string opt = t.at(i, "optimizer"), sched = t.at(i, "scheduler");
        EXPECT_TRUE(opt == "sgd" || opt == "adam") << opt;
        EXPECT_TRUE(sched == "none" || sched == "step:step_size=3,gamma=0.5") << sched;
        EXPECT_TRUE(t.at(i, "lr") == "0.01" || t.at(i, "lr") == "0.1") << t.at(i, "lr");
        ++configs[opt + "|" + sched + "|" + t.at(i, "lr")];
        // the replicates of one configuration are adjacent
        if (i % 3) {
            for (const char *c : {"optimizer", "scheduler", "lr"})
                EXPECT_EQ(t.at(i, c), t.at(i - 1, c)) << c;
        }
        EXPECT_EQ(t.at(i, "momentum"), "");
        EXPECT_EQ(t.at(i, "dampening"), "");
        EXPECT_EQ(t.at(i, "alpha"), "");
        if (opt == "sgd") {
            for (const char *c : {"beta1", "beta2", "eps"}) EXPECT_EQ(t.at(i, c), "") << c;
        } else {
            EXPECT_EQ(t.at(i, "beta1"), "0.9");
            EXPECT_EQ(t.at(i, "beta2"), "0.999");
            EXPECT_EQ(t.at(i, "eps"), "1e-08");
        }
        EXPECT_EQ(t.at(i, "weight_decay"), "0");
        EXPECT_EQ(t.at(i, "batch_size"), "64");
        EXPECT_EQ(t.at(i, "epochs"), "3");
        EXPECT_EQ(t.at(i, "init_wa"), "0.1");
        EXPECT_EQ(t.at(i, "init_wb"), "1.8");
        for (const char *c : {"final_wa", "final_wb", "final_loss", "loss_gap", "param_error"})
            EXPECT_TRUE(is_number(t.at(i, c))) << c << " = '" << t.at(i, c) << "'";
        const std::string stt = t.at(i, "steps_to_target");
        EXPECT_TRUE(stt.empty() || is_uint(stt)) << stt;
        EXPECT_TRUE(t.at(i, "diverged") == "0" || t.at(i, "diverged") == "1");
    }
    EXPECT_EQ(configs.size(), 8u);
    for (const auto &kv : configs) EXPECT_EQ(kv.second, 3) << kv.first;
}

TEST_F(cli, UnusedAxesDoNotMultiply)
{
    const Table t = read_table(run_ok({"run", "--optimizer", "sgd,adam", "--beta1", "0.8,0.9",
                                       "--seeds", "1", "--epochs", "2", "--n", "64", "--quiet"}));
    ASSERT_TRUE(t.ok);
    ASSERT_EQ(t.rows.size(), 3u);
    EXPECT_EQ(t.column("optimizer"), (std::vector<std::string>{"sgd", "adam", "adam"}));
    EXPECT_EQ(t.column("beta1"), (std::vector<std::string>{"", "0.8", "0.9"}));
}

TEST_F(cli, RepeatedFlagsExtendLists)
{
    const Table t = read_table(run_ok({"run", "--optimizer", "sgd", "--lr", "0.1", "--lr",
                                       "0.01,0.001", "--epochs", "2", "--n", "64", "--quiet"}));
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.column("lr"), (std::vector<std::string>{"0.1", "0.01", "0.001"}));
}

TEST_F(cli, LogspaceRange)
{
    const Table t = read_table(run_ok({"run", "--optimizer", "sgd", "--lr", "logspace(-4,0,5)",
                                       "--epochs", "2", "--n", "64", "--quiet"}));
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.column("lr"), (std::vector<std::string>{"0.0001", "0.001", "0.01", "0.1", "1"}));
}

// ---------------------------------------------------------------------------
// 3. determinism across threads and runs

TEST_F(cli, DeterministicAcrossThreadsAndRuns)
{
    std::map<std::string, std::string> first;  // shuffle mode -> float32 table
    for (const char *shuffle : {"shared", "trial"})
        for (const char *dtype : {"float32", "float64"}) {
            const std::vector<std::string> spec = {
                "run", "--optimizer", "sgd,momentum,nesterov,rmsprop,adam", "--lr", "0.01,0.1",
                "--scheduler", "none", "--scheduler", "multistep:milestones=2/4,gamma=0.5",
                "--seeds", "3", "--shuffle", shuffle, "--dtype", dtype, "--epochs", "5",
                "--n", "128", "--batch-size", "32", "--quiet"};
            SCOPED_TRACE(std::string("--shuffle ") + shuffle + " --dtype " + dtype);
            std::vector<std::string> outs;
            for (const char *threads : {"1", "2", "2", "1"}) {
                std::vector<std::string> a = spec;
                a.insert(a.end(), {"--threads", threads});
                outs.push_back(run_ok(a));
            }
            const Table t = read_table(outs[0]);
            ASSERT_TRUE(t.ok);
            ASSERT_EQ(t.rows.size(), 5u * 2 * 2 * 3);
            for (size_t k = 1; k < outs.size(); ++k)
                EXPECT_TRUE(outs[k] == outs[0]) << "run " << k << " differs from run 0";
            if (std::string(dtype) == "float32") first[shuffle] = outs[0];
        }
    // sanity: the shuffle mode reaches the engine
    EXPECT_NE(first["shared"], first["trial"]);
}

// The vectorised CPU path (trainings in SIMD lanes, a vector loop per
// optimizer) gives the scalar path's table byte for byte, over the whole
// catalogue: every optimizer (amsgrad, centered, RMSprop with and without
// momentum, weight decay) x every scheduler kind (cycled momentum and beta1
// among them) x both sched_step modes x all shuffle modes x both dtypes, with
// mixed batch sizes and epochs in a block, diverging learning rates and
// masked batches (a start of Wa = 0.003).
TEST_F(cli, SimdMatchesScalar)
{
    {
        std::ofstream f(path("lr.csv"));
        f << "factor\n1\n0.5\n0.25\n0.5\n";
    }
    const std::vector<std::string> scheds = {
        "none", "constant:factor=0.5,total_iters=5", "multistep:milestones=2/4,gamma=0.5",
        "multiplicative:factor=0.8,start=3,end=12,every=3", "step:step_size=5,gamma=0.7", "exponential:gamma=0.97",
        "cosine:t_max=10,eta_min=0.0001", "linear:start_factor=0.1,total_iters=6", "polynomial:total_iters=8,power=2",
        "cosine_warm_restarts:t_0=3,t_mult=2", "cyclic:base_lr=0.001,step_size_up=3",
        "cyclic:base_lr=0.001,step_size_up=2,mode=exp_range,gamma=0.9", "onecycle:total_steps=20",
        "plateau:patience=1,factor=0.5", "table:lr.csv",
        "sequential(linear:start_factor=0.1,total_iters=3;cosine:t_max=10;milestones=3)",
        "chain(exponential:gamma=0.9;step:step_size=2,gamma=0.5)"};
    std::vector<std::string> axes = {"--init-wa", "0.1,0.003", "--batch-size", "32,48", "--epochs", "3,4"};
    for (const auto &s : scheds) axes.insert(axes.end(), {"--scheduler", s});
    for (const char *sched_step : {"update", "epoch"})
        for (const char *shuffle : {"shared", "trial", "none"})
            for (const char *dtype : {"float32", "float64"}) {
                // each block its own axes (a block after --and starts from the defaults)
                std::vector<std::string> both = axes;
                both.insert(both.end(), {"--sched-step", sched_step, "--shuffle", shuffle, "--dtype", dtype, "--n", "96"});
                std::vector<std::string> spec = {
                    "run", "--optimizer",
                    "sgd,momentum,nesterov,rmsprop,adam,adamw,nadam,radam,adamax,adagrad,adadelta,lion",
                    "--lr", "0.002,0.05,30", "--amsgrad", "false,true", "--centered", "false,true",
                    "--weight-decay", "0,0.01"};
                spec.insert(spec.end(), both.begin(), both.end());
                for (const std::string s : {"--and", "--optimizer", "rmsprop", "--momentum", "0.5", "--lr", "0.01"})
                    spec.push_back(s);
                spec.insert(spec.end(), both.begin(), both.end());
                for (const std::string s : {"--seeds", "2", "--quiet"}) spec.push_back(s);
                SCOPED_TRACE(std::string("--sched-step ") + sched_step + " --shuffle " + shuffle + " --dtype " + dtype);
                std::vector<std::string> a = spec, b = spec;
                a.insert(a.end(), {"--simd", "on"});
                b.insert(b.end(), {"--simd", "off", "--threads", "1"});
                const std::string simd = run_ok(a), scalar = run_ok(b);
                // 15 optimizers' settings x 3 lr x 2 weight decays, and rmsprop with momentum;
                // x schedulers x init_wa x batch sizes x epochs x seeds
                EXPECT_EQ(read_table(simd).rows.size(), (15u * 3 * 2 + 1) * scheds.size() * 2 * 2 * 2 * 2);
                EXPECT_TRUE(simd == scalar) << "the SIMD table differs from the scalar one";
            }
}

// bench --bound prints the same-run ratio of the bare loop's CPU time to the
// run's (a smoke test: how large it is, is the benchmark's business).
TEST_F(cli, BenchBoundPrintsTheRatio)
{
    Proc p = run({"bench", "--bound", "--backend", "cpu", "--sizes", "64", "--epochs", "2", "--threads", "1"});
    ASSERT_EQ(p.status, 0) << p.err;
    const size_t at = p.out.find("\nratio ");
    ASSERT_NE(at, std::string::npos) << p.out;
    const double r = std::strtod(p.out.c_str() + at + 7, nullptr);
    EXPECT_TRUE(r > 0 && std::isfinite(r)) << p.out;
    EXPECT_NE(p.out.find("of CPU time (64 trainings, best of 3 each)"), std::string::npos) << p.out;
}

// ---------------------------------------------------------------------------
// 4. trace

TEST_F(cli, TraceRows)
{
    struct Shape { int n, batch, epochs; const char *opt; };
    for (const Shape s : {Shape{100, 32, 3, "adam"}, Shape{128, 64, 2, "sgd"}}) {
        std::vector<std::string> args = {"trace", "--optimizer", s.opt,
                                         "--n", std::to_string(s.n),
                                         "--batch-size", std::to_string(s.batch),
                                         "--epochs", std::to_string(s.epochs)};
        SCOPED_TRACE("orbitsweep " + join(args, " "));
        Proc p = run(args);
        ASSERT_EQ(p.status, 0) << p.err;
        const Table t = read_table(p.out);
        ASSERT_TRUE(t.ok) << p.out;
        EXPECT_EQ(join(t.header, ","), kTraceHeader);
        const int per_epoch = (s.n + s.batch - 1) / s.batch, total = s.epochs * per_epoch;
        ASSERT_EQ(t.rows.size(), (size_t)total + 1);
        for (int k = 0; k < total; ++k) {
            EXPECT_EQ(t.at(k, "update"), std::to_string(k));
            EXPECT_EQ(t.at(k, "epoch"), std::to_string(k / per_epoch));
            EXPECT_EQ(t.at(k, "batch"), std::to_string(k % per_epoch));
            for (const char *c : {"lr", "loss", "wa", "wb", "dwa", "dwb", "eff_step"})
                EXPECT_TRUE(is_number(t.at(k, c))) << c << " in update " << k;
        }
        const size_t last = t.rows.size() - 1;
        EXPECT_EQ(t.at(last, "update"), std::to_string(total));
        EXPECT_TRUE(is_number(t.at(last, "wa")));
        EXPECT_TRUE(is_number(t.at(last, "wb")));
        for (const auto &h : t.header) {
            if (h != "update" && h != "wa" && h != "wb") {
                EXPECT_EQ(t.at(last, h), "") << h;
            }
        }
        if (std::string(s.opt) == "sgd") {
            for (const char *c : {"m_wa", "m_wb", "v_wa", "v_wb"}) EXPECT_EQ(t.at(0, c), "") << c;
        }

        // with -o: the same text in the file, nothing on stdout
        args.insert(args.end(), {"-o", "trace.csv"});
        Proc q = run(args);
        ASSERT_EQ(q.status, 0) << q.err;
        EXPECT_EQ(q.out, "");
        EXPECT_EQ(slurp(path("trace.csv")), p.out);
        EXPECT_EQ(listing(), (std::vector<std::string>{"trace.csv", "trace.csv.json"}));
    }
}

// ---------------------------------------------------------------------------
// 5. data

TEST_F(cli, DataDefaultAndN)
{
    Proc p = run({"data"});
    ASSERT_EQ(p.status, 0) << p.err;
    Table t = read_table(p.out);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(join(t.header, ","), "x,y");
    EXPECT_EQ(t.rows.size(), 512u);
    for (const auto &r : t.rows) EXPECT_TRUE(is_number(r[0]) && is_number(r[1]));

    p = run({"data", "--n", "100"});
    ASSERT_EQ(p.status, 0) << p.err;
    t = read_table(p.out);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.rows.size(), 100u);
}

TEST_F(cli, DataMatchesGolden)
{
    // replicate 3 of base seed 7 is Philox key 10
    Proc p = run({"data", "--seed", "10", "--n", "100"});
    ASSERT_EQ(p.status, 0) << p.err;
    const std::string golden = slurp(OS_GOLDEN_DIR "/data_seed7_r3_n100.csv");
    ASSERT_FALSE(golden.empty());
    EXPECT_TRUE(p.out == golden) << "data --seed 10 --n 100 differs from data_seed7_r3_n100.csv";
}

TEST_F(cli, DataFeedsRun)
{
    Proc p = run({"data", "--n", "128", "--quiet", "-o", "d.csv"});
    ASSERT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(p.out, "");
    const Table t = read_table(
        run_ok({"run", "--data", "d.csv", "--epochs", "2", "--optimizer", "sgd,adam", "--quiet"}));
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.rows.size(), 2u);
    for (size_t i = 0; i < t.rows.size(); ++i) EXPECT_TRUE(is_number(t.at(i, "param_error")));
}

// ---------------------------------------------------------------------------
// 6. --help and --version

TEST_F(cli, HelpAndVersion)
{
    Proc p = run({"--help"});
    EXPECT_EQ(p.status, 0);
    EXPECT_NE(p.out.find("usage:"), std::string::npos) << p.out;
    EXPECT_NE(p.out.find("orbitsweep run"), std::string::npos) << p.out;
    EXPECT_EQ(p.err, "");

    p = run({"run", "--help"});
    EXPECT_EQ(p.status, 0);
    EXPECT_NE(p.out.find("usage:"), std::string::npos);
    EXPECT_NE(p.out.find("--max-blocks N"), std::string::npos) << "the CUDA grid cap's row in the settings table";
    EXPECT_TRUE(listing().empty());

    p = run({"--version"});
    EXPECT_EQ(p.status, 0);
    EXPECT_EQ(p.out, "orbitsweep 0.1.0\n");
    EXPECT_EQ(p.err, "");
}

}  // namespace
