// test_output.cpp — never clobber, never lose, never crash: the output
// file rules, interruption by signals, hostile --data files, the memory
// estimate, and the messages and warnings users rely on. Each test runs the
// built binary in a fresh temporary directory.
//  * -o: a device node or a named pipe is written to, never replaced; a
//    symlink is written through (it stays a link); a directory, a missing
//    directory or one of the inputs is refused before any work (exit 2);
//    /dev/full is a write error naming the path and the reason (exit 1);
//  * run -o - puts only the table on stdout (the summary goes to stderr),
//    so `run -o - | summarize -` works;
//  * SIGINT, SIGTERM, SIGHUP during a run or a trace: the process says so,
//    leaves no temporary file and the previous output as it was (a run's
//    finished rows stay in r.csv.part for --resume: test_resume);
//  * --data: NUL bytes, /dev/zero, no header, text after a closing quote
//    are refused with exit 2; a BOM and "x, y" headers are fine;
//  * a sweep that needs more memory than allowed is refused before it
//    allocates.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace {

using namespace ostest;

class output : public ProgramTest {
protected:
    output() : ProgramTest("/tmp/os_output.XXXXXX") {}

    static bool has(const std::string &s, const std::string &needle) { return s.find(needle) != std::string::npos; }

    // Every name in work/ that looks like one of our temporaries.
    std::vector<std::string> temporaries() const
    {
        std::vector<std::string> t;
        for (const auto &n : listing())
            if (has(n, ".tmp.")) t.push_back(n);
        return t;
    }
};

const std::vector<std::string> kSmall = {"--optimizer", "sgd,adam", "--lr", "0.01,0.1", "--epochs", "2",
                                         "--n", "64", "--quiet"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string> &b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// ---------------------------------------------------------------------------
// -o targets

TEST_F(output, DeviceNodeIsWrittenNotReplaced)
{
    // /dev/null itself, only for writing
    Proc p = run(with({"run", "-o", "/dev/null"}, kSmall));
    EXPECT_EQ(p.status, 0) << p.err;
    struct stat st;
    ASSERT_EQ(stat("/dev/null", &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << "/dev/null is no longer a device";
    // a node of our own (root only): the same rule
    const std::string node = path("null");
    if (mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) GTEST_SKIP() << "mknod: " << strerror(errno);
    p = run(with({"trace", "-o", node}, {"--epochs", "1", "--n", "64"}));
    EXPECT_EQ(p.status, 0) << p.err;
    ASSERT_EQ(stat(node.c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << "the device node was replaced";
    EXPECT_TRUE(temporaries().empty());
}

TEST_F(output, FullDeviceIsAWriteErrorNamingThePath)
{
    Proc p = run(with({"run", "-o", "/dev/full"}, kSmall));
    EXPECT_EQ(p.status, 1);
    EXPECT_TRUE(has(p.err, "/dev/full") && has(p.err, "No space left")) << p.err;
    EXPECT_EQ(lines_of(p.err).size(), 1u) << p.err;
    p = run({"trace", "-o", "/dev/full", "--epochs", "1", "--n", "64"});
    EXPECT_EQ(p.status, 1);
    EXPECT_EQ(lines_of(p.err).size(), 1u) << "trace reports a failed write once: " << p.err;
}

TEST_F(output, NamedPipeIsWrittenThrough)
{
    const std::string fifo = path("pipe");
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << strerror(errno);
    std::string got;
    std::thread reader([&] {
        const int fd = open(fifo.c_str(), O_RDONLY);
        char buf[4096];
        ssize_t n;
        while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) got.append(buf, (size_t)n);
        if (fd >= 0) close(fd);
    });
    Proc p = run(with({"run", "-o", fifo}, kSmall));
    reader.join();
    EXPECT_EQ(p.status, 0) << p.err;
    const Table t = read_table(got, false);
    EXPECT_TRUE(t.ok);
    EXPECT_EQ(t.rows.size(), 4u) << got;
    struct stat st;
    ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the pipe was replaced by a file";
}

// /dev/stdout leads to whatever stdout is (here a regular file): written to,
// not renamed over.
TEST_F(output, DevStdoutIsStdout)
{
    Proc p = run({"trace", "--epochs", "1", "--n", "64", "-o", "/dev/stdout"});
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(read_table(p.out, false).rows.size(), 2u) << p.out;
}

TEST_F(output, SymlinkIsWrittenThroughAndStaysALink)
{
    spit(path("target.csv"), "old\n");
    ASSERT_EQ(symlink("target.csv", path("link.csv").c_str()), 0);
    Proc p = run(with({"run", "-o", "link.csv"}, kSmall));
    EXPECT_EQ(p.status, 0) << p.err;
    struct stat st;
    ASSERT_EQ(lstat(path("link.csv").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link was replaced";
    EXPECT_EQ(read_table(slurp(path("target.csv")), false).rows.size(), 4u);
    // a dangling link: its target is created
    ASSERT_EQ(symlink("sub-new.csv", path("dangling.csv").c_str()), 0);
    p = run(with({"run", "-o", "dangling.csv"}, kSmall));
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(read_table(slurp(path("sub-new.csv")), false).rows.size(), 4u);
    EXPECT_TRUE(temporaries().empty());
}

TEST_F(output, BadTargetsAreRefusedBeforeAnyWork)
{
    ASSERT_EQ(mkdir(path("dir").c_str(), 0755), 0);
    struct Case {
        std::vector<std::string> args;
        std::string needle;
    };
    spit(path("data.csv"), "x,y\n-1,0.5\n0,1\n1,0.5\n");
    const Case cases[] = {
        {{"run", "-o", "dir"}, "directory"},
        {{"run", "-o", "missing/r.csv"}, "does not exist"},
        {{"trace", "-o", "dir"}, "directory"},
        {{"run", "--data", "data.csv", "-o", "data.csv"}, "input"},
        {{"data", "--data", "data.csv", "-o", "data.csv"}, "input"},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(join(c.args, " "));
        const std::vector<std::string> before = listing();
        const std::string data_before = slurp(path("data.csv"));
        Proc p = run(c.args);
        EXPECT_EQ(p.status, 2);
        EXPECT_TRUE(has(p.err, "-o") && has(p.err, c.needle)) << p.err;
        EXPECT_EQ(lines_of(p.err).size(), 1u) << p.err;
        EXPECT_EQ(listing(), before);
        EXPECT_EQ(slurp(path("data.csv")), data_before);
    }
    // summarize r.csv -o r.csv, also through a link
    ASSERT_EQ(run(with({"run", "-o", "r.csv"}, kSmall)).status, 0);
    ASSERT_EQ(symlink("r.csv", path("alias.csv").c_str()), 0);
    const std::string table = slurp(path("r.csv"));
    for (const char *o : {"r.csv", "alias.csv"}) {
        Proc p = run({"summarize", "r.csv", "-o", o});
        EXPECT_EQ(p.status, 2) << o;
        EXPECT_TRUE(has(p.err, "input")) << p.err;
        EXPECT_EQ(slurp(path("r.csv")), table);
    }
}

TEST_F(output, TableOnStdoutKeepsTheSummaryOffIt)
{
    std::vector<std::string> args = {"run", "-o", "-", "--optimizer", "sgd,adam", "--lr", "0.01,0.1",
                                     "--epochs", "2", "--n", "64"};  // not --quiet: the summary is printed
    Proc p = run(args);
    ASSERT_EQ(p.status, 0) << p.err;
    const Table t = read_table(p.out, false);
    EXPECT_TRUE(t.ok) << p.out;
    EXPECT_EQ(t.rows.size(), 4u);
    EXPECT_FALSE(has(p.out, "orbitsweep:"));
    EXPECT_TRUE(has(p.err, "trainings on")) << p.err;
    // and summarize reads it from stdin
    spit(path("t.csv"), p.out);
    const std::string cmd = std::string(OS_BIN) + " summarize - < " + path("t.csv") + " > " + path("s.csv");
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_EQ(read_table(slurp(path("s.csv")), false).rows.size(), 4u);
}

// ---------------------------------------------------------------------------
// signals

TEST_F(output, TerminatingSignalsCleanUpAndSaySo)
{
    // run: the rows finished so far stay in r.csv.part (test_resume resumes
    // them); trace: its temporary file is removed. The previous r.csv is
    // untouched either way.
    for (const bool is_run : {true, false})
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
            SCOPED_TRACE(std::string(strsignal(sig)) + (is_run ? " run" : " trace"));
            spit(path("r.csv"), "the previous table\n");
            const std::string err_path = root_ + "/stderr-signal";
            const pid_t pid = fork();
            ASSERT_GE(pid, 0);
            if (pid == 0) {
                if (chdir(work_.c_str()) != 0) _exit(126);
                const int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
                dup2(fd, 2);
                if (is_run)
                    execl(OS_BIN, OS_BIN, "run", "--lr", "logspace(-4,0,4000)", "--seeds", "50", "--epochs", "400",
                          "--quiet", "-o", "r.csv", (char *)nullptr);
                else
                    execl(OS_BIN, OS_BIN, "trace", "--epochs", "200000", "--n", "4096", "--batch-size", "1",
                          "-o", "r.csv", (char *)nullptr);
                _exit(127);
            }
            // wait for the part or temporary file: the run has started writing into it
            bool started = false;
            for (int i = 0; i < 400 && !started; ++i) {
                started = is_run ? exists(path("r.csv.part")) : !temporaries().empty();
                if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(25));
            }
            EXPECT_TRUE(started) << "no part or temporary file appeared";
            kill(pid, sig);
            int status = 0;
            ASSERT_EQ(waitpid(pid, &status, 0), pid);
            EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
            const std::string err = slurp(err_path);
            EXPECT_TRUE(has(err, "interrupted by") && has(err, "r.csv")) << err;
            EXPECT_TRUE(temporaries().empty()) << "a temporary file was left behind";
            EXPECT_EQ(slurp(path("r.csv")), "the previous table\n");
            if (is_run) {
                EXPECT_TRUE(has(err, "--resume") && has(err, "r.csv.part")) << err;
                EXPECT_TRUE(exists(path("r.csv.part")) && exists(path("r.csv.part.json")));
                unlink(path("r.csv.part").c_str());
                unlink(path("r.csv.part.json").c_str());
            }
        }
}

// ---------------------------------------------------------------------------
// --data files

TEST_F(output, HostileDataFilesAreRefused)
{
    struct Case {
        const char *name, *text;
        size_t len;
        const char *needle;
    };
    const char nul[] = "x,y\n1,2\n3\0,4\n";
    const Case cases[] = {
        {"nul.csv", nul, sizeof nul - 1, "NUL"},
        {"noheader.csv", "1,2\n3,4\n5,6\n", 0, "header"},
        {"quote.csv", "x,y\n\"1\"2,3\n4,5\n", 0, "closing quote"},
        {"one.csv", "x,y\n1,2\n", 0, "at least 2"},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        spit(path(c.name), c.len ? std::string(c.text, c.len) : std::string(c.text));
        Proc p = run({"run", "--data", c.name, "-o", "r.csv", "--epochs", "1"});
        EXPECT_EQ(p.status, 2);
        EXPECT_TRUE(has(p.err, "--data") && has(p.err, c.needle)) << p.err;
        const std::vector<std::string> l = listing();
        EXPECT_EQ(std::find(l.begin(), l.end(), "r.csv"), l.end()) << "an output was written";
    }
    Proc p = run({"run", "--data", "/dev/zero", "-o", "r.csv", "--epochs", "1"});
    EXPECT_EQ(p.status, 2);
    EXPECT_TRUE(has(p.err, "NUL")) << p.err;
}

// --n is capped at 10^7 points; a --data file is held to the same cap while
// it is read (the eleven-millionth line is not even parsed).
TEST_F(output, DataFilesAreCappedAtTenMillionPoints)
{
    {
        FILE *f = fopen(path("big.csv").c_str(), "w");
        ASSERT_NE(f, nullptr);
        fputs("x,y\n", f);
        for (int i = 0; i < 10000001; ++i) fputs("0,1\n", f);
        fclose(f);
    }
    Proc p = run({"run", "--data", "big.csv", "-o", "r.csv", "--epochs", "1"});
    EXPECT_EQ(p.status, 2);
    EXPECT_TRUE(has(p.err, "--data") && has(p.err, "more than 10000000 points")) << p.err;
}

TEST_F(output, ByteOrderMarkAndSpacedHeaderAreFine)
{
    spit(path("bom.csv"), "\xEF\xBB\xBFx, y\n-1.1,0.4\n-0.5,1.0\n0,1.2\n0.5,1.0\n1.1,0.4\n");
    Proc p = run({"run", "--data", "bom.csv", "-o", "r.csv", "--epochs", "1", "--quiet", "--offset", "0"});
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(read_table(slurp(path("r.csv")), false).rows.size(), 1u);
}

// ---------------------------------------------------------------------------
// memory, messages, warnings

TEST_F(output, TooMuchMemoryIsRefusedWithTheFigure)
{
    // 10^6 trainings need some 300 MB: refused under a 100 MB allowance,
    // before anything is allocated
    Proc p = run({"run", "--lr", "logspace(-4,0,1000)", "--seeds", "1000", "--max-memory", "1e8", "-o", "r.csv"});
    EXPECT_EQ(p.status, 2);
    EXPECT_TRUE(has(p.err, "GB") && has(p.err, "--max-memory")) << p.err;
    EXPECT_TRUE(listing().empty());
}

TEST_F(output, MessagesNameWhatTheUserTyped)
{
    struct Case {
        std::vector<std::string> args;
        std::vector<std::string> needles;
    };
    const Case cases[] = {
        {{"run", "--a", "1"}, {"--a", "'1'"}},
        {{"run", "--batch-size", "10000001"}, {"--batch-size", "1..10000000"}},
        {{"run", "--lr", "logspace(0,400,3)"}, {"--lr", "overflow"}},
        {{"run", "--lr", "0x10"}, {"--lr", "0x10"}},
        {{"run", "--backend", "gpu"}, {"--backend", "auto, cpu, cuda"}},
        {{"run", "--dtype", "float16"}, {"--dtype", "float32, float64"}},
        {{"run", "--seed", "18446744073709551615", "--seeds", "3"}, {"--seeds", "18446744073709551615"}},
        {{"run", "--lr", "logspace(-4,0,100000)", "--init-wb", "linspace(1,2,10000)"}, {"more than the limit"}},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(join(c.args, " "));
        Proc p = run(with(c.args, {"-o", "r.csv"}));
        EXPECT_EQ(p.status, 2);
        EXPECT_EQ(lines_of(p.err).size(), 1u) << p.err;
        for (const auto &n : c.needles) EXPECT_TRUE(has(p.err, n)) << p.err;
        EXPECT_FALSE(has(p.err, "--seeds") && !has(join(c.args, " "), "--seeds")) << "blames a flag not given";
        EXPECT_TRUE(listing().empty());
    }
}

TEST_F(output, PseudoReplicationIsWarnedAbout)
{
    Proc p = run({"run", "--lr", "0.1,0.1", "--seeds", "2", "--epochs", "1", "--n", "64", "-o", "r.csv", "--quiet"});
    EXPECT_EQ(p.status, 0);
    EXPECT_TRUE(has(p.err, "warning") && has(p.err, "--lr") && has(p.err, "0.1")) << p.err;
    p = run({"run", "--shuffle", "none", "--noise", "0", "--seeds", "3", "--epochs", "1", "--n", "64", "-o",
             "r.csv", "--quiet"});
    EXPECT_TRUE(has(p.err, "warning") && has(p.err, "same thing")) << p.err;
    p = run({"run", "--epochs", "1", "--n", "64", "-o", "r.csv", "--quiet"});
    EXPECT_EQ(p.err, "") << "no warning for an ordinary sweep";
    spit(path("d.csv"), "x,y\n-1.1,0.4\n-0.5,1.0\n0,1.2\n0.5,1.0\n1.1,0.4\n");
    p = run({"run", "--data", "d.csv", "--n", "64", "--offset", "0", "--epochs", "1", "-o", "r.csv", "--quiet"});
    EXPECT_TRUE(has(p.err, "warning") && has(p.err, "--n") && has(p.err, "--data")) << p.err;
}

TEST_F(output, PoorlyFittingDataFileIsWarnedAbout)
{
    // an orbit with A 1.5, B 1.2 fitted with the default offset of A 1.261845, B 1.234378
    ASSERT_EQ(run({"data", "--a", "1.5", "--b", "1.2", "-o", "e.csv", "--quiet"}).status, 0);
    Proc p = run({"run", "--data", "e.csv", "--epochs", "1", "-o", "r.csv", "--quiet"});
    EXPECT_EQ(p.status, 0);
    EXPECT_TRUE(has(p.err, "warning") && has(p.err, "--offset")) << p.err;
    p = run({"run", "--data", "e.csv", "--offset", "0.9", "--epochs", "1", "-o", "r.csv", "--quiet"});
    EXPECT_EQ(p.err, "") << "the right offset fits";
}

}  // namespace
