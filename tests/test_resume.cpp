// test_resume.cpp — sweeps past one run: resume after real signals, the
// sidecar, shards and merge. Each test drives the built binary in a fresh
// temporary directory and compares the final table with an uninterrupted
// run's, byte for byte (the reference: the same spec run once, whole).
//  * SIGKILL at ten points of a sweep (polled by the part file's size, so
//    some land while a block's rows are being written), then --resume: the
//    same table; torn last lines (a real kill's, a prefix of the next row, a
//    NUL) are dropped and retrained;
//  * SIGINT, SIGTERM, SIGHUP: the process dies of the signal, says how to
//    resume, and the resumed table is the same;
//  * --resume refuses a part of another spec, a part without its sidecar,
//    a file that is not a results table, .npz and stdout (exit 2, nothing
//    touched); a finished table is left alone;
//  * the sidecar: the same spec hash for the same spec typed differently,
//    another for another spec, the --data file's SHA-256, and its command
//    reproduces the table;
//  * shards 1/3 + 2/3 + 3/3 merged are the unsharded table, balanced by
//    cost; merge refuses other specs, overlaps, gaps and unfinished parts.
#include <gtest/gtest.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace {

using namespace ostest;

bool has(const std::string &s, const std::string &needle) { return s.find(needle) != std::string::npos; }

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string> &b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

long file_size(const std::string &p)
{
    struct stat st;
    return stat(p.c_str(), &st) == 0 ? (long)st.st_size : -1;
}

class resume : public ProgramTest {
protected:
    resume() : ProgramTest("/tmp/os_resume.XXXXXX") {}

    // Starts OS_BIN with args in work/ (stderr to root/stderr-N); its pid.
    pid_t spawn(const std::vector<std::string> &args, const std::string &err_path)
    {
        std::vector<char *> argv{const_cast<char *>(OS_BIN)};
        for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
        argv.push_back(nullptr);
        const pid_t pid = fork();
        if (pid == 0) {
            const int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int in = open("/dev/null", O_RDWR);
            if (fd < 0 || in < 0 || chdir(work_.c_str()) != 0 || dup2(fd, 2) < 0 || dup2(in, 1) < 0 ||
                dup2(in, 0) < 0)
                _exit(126);
            execv(OS_BIN, argv.data());
            _exit(127);
        }
        return pid;
    }

    // Waits until path grows past `bytes` (or the process ends); then sends
    // sig. Returns the wait status; *sent says whether sig was sent.
    int kill_when(pid_t pid, const std::string &p, long bytes, int sig, bool *sent)
    {
        int ws = 0;
        *sent = false;
        for (;;) {
            const pid_t r = waitpid(pid, &ws, WNOHANG);
            if (r == pid) return ws;
            if (file_size(p) > bytes) break;
            std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
        kill(pid, sig);
        *sent = true;
        waitpid(pid, &ws, 0);
        return ws;
    }
};

// 40,000 trainings x 20 epochs in blocks of 500 on one thread: about a
// second, 80 blocks (under the sanitizers, 20 times slower: a tenth of it
// in 80 blocks of 50).
#ifdef OS_SANITIZED
const std::vector<std::string> kSweep = {"--lr", "logspace(-3,-1,100)", "--seeds", "40", "--epochs", "20",
                                         "--batch-size", "128", "--block", "50", "--threads", "1", "--quiet"};
#else
const std::vector<std::string> kSweep = {"--lr", "logspace(-3,-1,100)", "--seeds", "400", "--epochs", "20",
                                         "--batch-size", "128", "--block", "500", "--threads", "1", "--quiet"};
#endif

TEST_F(resume, KilledAtTenPointsResumesToTheSameTable)
{
    Proc ref = run(with({"run", "-o", "ref.csv"}, kSweep));
    ASSERT_EQ(ref.status, 0) << ref.err;
    const std::string want = slurp(path("ref.csv"));
    const std::string part = path("r.csv.part");
    int kills = 0, torn = 0, finished_early = 0;
    for (int k = 1; k <= 10; ++k) {
        SCOPED_TRACE("kill " + std::to_string(k));
        bool sent = false;
        const pid_t pid = spawn(with({"run", "-o", "r.csv", "--resume"}, kSweep), root_ + "/stderr-kill");
        ASSERT_GT(pid, 0);
        const int ws = kill_when(pid, part, (long)want.size() * k / 11, SIGKILL, &sent);
        if (!sent || !WIFSIGNALED(ws)) { // it finished first: nothing left to interrupt
            ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << slurp(root_ + "/stderr-kill");
            finished_early += 1;
            break;
        }
        kills += 1;
        const std::string got = slurp(part);
        ASSERT_TRUE(exists(path("r.csv.part.json"))) << "the part lost its sidecar";
        ASSERT_LE(got.size(), want.size());
        EXPECT_EQ(got, want.substr(0, got.size())) << "the part is not a prefix of the table";
        torn += !got.empty() && got.back() != '\n';
    }
    // torn writes for certain: a prefix of the next row, then a NUL in one
    if (exists(part)) {
        std::string got = slurp(part);
        got = got.substr(0, got.rfind('\n') + 1);
        const size_t next_end = want.find('\n', got.size());
        ASSERT_NE(next_end, std::string::npos);
        spit(part, got + want.substr(got.size(), (next_end - got.size()) / 2)); // half of the next row
        Proc p = run(with({"run", "-o", "r.csv", "--resume", "--block", "50"}, kSweep)); // (the last --block wins)
        (void)p;
    }
    Proc fin = run(with({"run", "-o", "r.csv", "--resume"}, kSweep));
    ASSERT_EQ(fin.status, 0) << fin.err;
    EXPECT_FALSE(exists(part));
    EXPECT_FALSE(exists(path("r.csv.part.json")));
    EXPECT_TRUE(exists(path("r.csv.json")));
    const std::string got = slurp(path("r.csv"));
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << first_difference(got, want, "resumed", "uninterrupted");
    std::printf("[ info ] %d SIGKILLs (%d of them mid-row), %d runs finished before their kill point\n", kills, torn,
                finished_early);
    EXPECT_GE(kills, 5) << "the sweep ran too fast to be interrupted";
}

TEST_F(resume, TornAndCorruptLastLinesAreDropped)
{
    const std::vector<std::string> small = {"--lr", "logspace(-3,-1,20)", "--seeds", "5", "--epochs", "3",
                                            "--quiet", "--threads", "1"};
    ASSERT_EQ(run(with({"run", "-o", "ref.csv"}, small)).status, 0);
    const std::string want = slurp(path("ref.csv"));
    const std::string side = slurp(path("ref.csv.json"));
    std::vector<size_t> ends; // the end of each line
    for (size_t i = want.find('\n'); i != std::string::npos; i = want.find('\n', i + 1)) ends.push_back(i + 1);
    ASSERT_EQ(ends.size(), 101u);
    const struct {
        const char *name;
        std::string text;
    } cases[] = {
        {"nothing", ""},
        {"a torn header", want.substr(0, 10)},
        {"the header", want.substr(0, ends[0])},
        {"a torn row", want.substr(0, ends[40] + 17)},
        {"a NUL in the last row", want.substr(0, ends[40]) + std::string(want, ends[40], 20) + std::string(1, '\0') +
                                      want.substr(ends[40] + 21, ends[41] - ends[40] - 21)},
        {"a row of the wrong trial", want.substr(0, ends[40]) + want.substr(ends[50], ends[51] - ends[50])},
        {"a short row", want.substr(0, ends[40]) + "40,adam,0.001\n"},
        {"every row", want},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.name);
        spit(path("r.csv.part"), c.text);
        spit(path("r.csv.part.json"), side); // the part's sidecar: same spec, same trials
        Proc p = run(with({"run", "-o", "r.csv", "--resume"}, small));
        ASSERT_EQ(p.status, 0) << p.err;
        EXPECT_EQ(slurp(path("r.csv")), want);
        EXPECT_FALSE(exists(path("r.csv.part")));
        unlink(path("r.csv").c_str());
        unlink(path("r.csv.json").c_str());
    }
}

TEST_F(resume, SignalsStopSayHowToResumeAndResumeToTheSameTable)
{
    Proc ref = run(with({"run", "-o", "ref.csv"}, kSweep));
    ASSERT_EQ(ref.status, 0) << ref.err;
    const std::string want = slurp(path("ref.csv"));
    int k = 0;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        SCOPED_TRACE(strsignal(sig));
        bool sent = false;
        const std::string err_path = root_ + "/stderr-sig";
        const pid_t pid = spawn(with({"run", "-o", "r.csv", "--resume"}, kSweep), err_path);
        const int ws = kill_when(pid, path("r.csv.part"), (long)want.size() * ++k / 4, sig, &sent);
        ASSERT_TRUE(sent && WIFSIGNALED(ws) && WTERMSIG(ws) == sig) << "status " << ws;
        const std::string err = slurp(err_path);
        EXPECT_TRUE(has(err, "interrupted by") && has(err, "trainings are kept in 'r.csv.part'") &&
                    has(err, "--resume"))
            << err;
        const std::string got = slurp(path("r.csv.part"));
        EXPECT_EQ(got, want.substr(0, got.size()));
    }
    Proc fin = run(with({"run", "-o", "r.csv", "--resume"}, kSweep));
    ASSERT_EQ(fin.status, 0) << fin.err;
    EXPECT_TRUE(slurp(path("r.csv")) == want);
}

TEST_F(resume, RefusesWhatIsNotThisSweepsPart)
{
    const std::vector<std::string> small = {"--lr", "0.01,0.1", "--seeds", "3", "--epochs", "2", "--quiet"};
    ASSERT_EQ(run(with({"run", "-o", "other.csv"}, with(small, {"--target", "0.02"}))).status, 0);
    ASSERT_EQ(run(with({"run", "-o", "ref.csv"}, small)).status, 0);
    const std::string other = slurp(path("other.csv")), other_side = slurp(path("other.csv.json"));
    struct Case {
        const char *name, *part, *side, *needle;
        std::vector<std::string> extra;
    };
    const Case cases[] = {
        {"another spec's part", "other", "other", "another spec", {"--resume"}},
        {"another shard's part", "other", "ref-shard", "another part of this sweep", {"--resume"}},
        {"a part without a sidecar", "other", nullptr, "no orbitsweep sidecar", {"--resume"}},
        {"a part that is not a table", "junk", "ref", "not a results table", {"--resume"}},
        {"a part without --resume", "other", "other", "holds an unfinished run", {}},
    };
    Proc sh = run(with({"run", "-o", "ref-shard.csv", "--shard", "1/2"}, small));
    ASSERT_EQ(sh.status, 0) << sh.err;
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        const std::string part_text = std::string(c.part) == "junk" ? "x,y\n1,2\n" : other;
        spit(path("r.csv.part"), part_text);
        unlink(path("r.csv.part.json").c_str());
        if (c.side) spit(path("r.csv.part.json"), slurp(path(std::string(c.side) + ".csv.json")));
        Proc p = run(with(with({"run", "-o", "r.csv"}, small), c.extra));
        EXPECT_EQ(p.status, 2) << p.err;
        EXPECT_TRUE(has(p.err, c.needle) && has(p.err, "r.csv.part")) << p.err;
        EXPECT_EQ(slurp(path("r.csv.part")), part_text) << "the part was touched";
        EXPECT_FALSE(exists(path("r.csv")));
    }
    unlink(path("r.csv.part").c_str());
    unlink(path("r.csv.part.json").c_str());
    // what cannot be resumed at all
    Proc npz = run(with({"run", "-o", "r.npz", "--resume"}, small));
    EXPECT_EQ(npz.status, 2);
    EXPECT_TRUE(has(npz.err, "--resume") && has(npz.err, ".npz")) << npz.err;
    Proc out = run(with({"run", "-o", "-", "--resume"}, small));
    EXPECT_EQ(out.status, 2);
    EXPECT_TRUE(has(out.err, "--resume") && has(out.err, "regular file")) << out.err;
    EXPECT_EQ(out.out, "");
    // a sidecar path that holds something else is never replaced
    spit(path("r.csv.json"), "{\"mine\": true}\n");
    Proc side = run(with({"run", "-o", "r.csv"}, small));
    EXPECT_EQ(side.status, 2);
    EXPECT_TRUE(has(side.err, "r.csv.json") && has(side.err, "not an orbitsweep sidecar")) << side.err;
    EXPECT_EQ(slurp(path("r.csv.json")), "{\"mine\": true}\n");
    EXPECT_FALSE(exists(path("r.csv")) || exists(path("r.csv.part")));
    // a finished table: --resume leaves it as it is
    struct stat before, after;
    ASSERT_EQ(stat(path("ref.csv").c_str(), &before), 0);
    Proc again = run(with({"run", "-o", "ref.csv", "--resume"}, small));
    EXPECT_EQ(again.status, 0) << again.err;
    ASSERT_EQ(stat(path("ref.csv").c_str(), &after), 0);
    EXPECT_EQ(before.st_ino, after.st_ino);
    EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

// The sidecar's field key as text ("" when absent or not a string).
std::string json_string(const std::string &text, const char *key)
{
    cJSON *j = cJSON_Parse(text.c_str());
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, key));
    std::string r = v ? v : "";
    cJSON_Delete(j);
    return r;
}

std::string sha256_hex(const std::string &data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
    std::string h;
    char b[3];
    for (unsigned i = 0; i < n; ++i) snprintf(b, sizeof b, "%02x", md[i]), h += b;
    return h;
}

TEST_F(resume, SidecarHoldsTheSpecItsHashTheDataAndTheCommand)
{
    write_dataset(path("d.csv"), 200);
    ASSERT_EQ(run({"run", "--data", "d.csv", "--lr", "0.01,0.05", "--epochs", "3", "--quiet", "-o", "a.csv"}).status,
              0);
    // the same spec typed another way (and other execution settings): the same hash
    ASSERT_EQ(run({"run", "--epochs=3", "--lr", "0.01", "--lr", "0.05", "--data=d.csv", "--threads", "1", "--block",
                   "1", "--quiet", "-o", "b.csv"})
                  .status,
              0);
    ASSERT_EQ(run({"run", "--data", "d.csv", "--lr", "0.01,0.05", "--epochs", "3", "--target", "0.02", "--quiet",
                   "-o", "c.csv"})
                  .status,
              0);
    const std::string a = slurp(path("a.csv.json")), b = slurp(path("b.csv.json")), c = slurp(path("c.csv.json"));
    EXPECT_EQ(json_string(a, "spec_sha256").size(), 64u);
    EXPECT_EQ(json_string(a, "spec_sha256"), json_string(b, "spec_sha256"));
    EXPECT_NE(json_string(a, "spec_sha256"), json_string(c, "spec_sha256"));
    EXPECT_EQ(json_string(a, "data_sha256"), sha256_hex(slurp(path("d.csv"))));
    EXPECT_EQ(json_string(a, "data_file"), "d.csv");
    EXPECT_EQ(json_string(a, "orbitsweep"), OS_VERSION);
    EXPECT_EQ(json_string(a, "backend"), "cpu");
    EXPECT_EQ(json_string(a, "kind"), "run");
    // the spec's hash is the SHA-256 of the spec as the sidecar holds it
    cJSON *j = cJSON_Parse(a.c_str());
    char *spec = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "spec"));
    ASSERT_NE(spec, nullptr);
    EXPECT_EQ(sha256_hex(spec), json_string(a, "spec_sha256"));
    EXPECT_TRUE(has(spec, "\"lr\":{\"given\":true,\"values\":[\"0.01\",\"0.05\"]}")) << spec;
    cJSON_free(spec);
    cJSON_Delete(j);
    // the command reproduces the table, run anew elsewhere
    const std::string cmd = json_string(a, "command");
    ASSERT_TRUE(has(cmd, "run") && has(cmd, "-o a.csv")) << cmd;
    ASSERT_EQ(mkdir(path("again").c_str(), 0755), 0);
    spit(path("again/d.csv"), slurp(path("d.csv")));
    ASSERT_EQ(std::system(("cd " + path("again") + " && " + cmd).c_str()), 0);
    EXPECT_EQ(slurp(path("again/a.csv")), slurp(path("a.csv")));
    // a changed data file is another spec
    write_dataset(path("d.csv"), 201);
    ASSERT_EQ(run({"run", "--data", "d.csv", "--lr", "0.01,0.05", "--epochs", "3", "--quiet", "-o", "e.csv"}).status,
              0);
    EXPECT_NE(json_string(slurp(path("e.csv.json")), "spec_sha256"), json_string(a, "spec_sha256"));
    // traces have one too
    ASSERT_EQ(run({"trace", "--seed", "7", "--epochs", "2", "-o", "t.csv"}).status, 0);
    EXPECT_EQ(json_string(slurp(path("t.csv.json")), "kind"), "trace");
}

// The settings that became axes are part of the spec's hash, one value or
// several: specs that differ in any of them never resume or merge into one
// another; the same spec typed as a list of one value is the same spec.
TEST_F(resume, SpecHashTellsTheNewAxesApart)
{
    const std::vector<std::string> base = {"--lr", "0.01", "--epochs", "1", "--n", "64", "--quiet"};
    const std::vector<std::vector<std::string>> specs = {
        {},
        {"--dtype", "float64"},
        {"--dtype", "float32,float64"},
        {"--shuffle", "shared,trial"},
        {"--sched-step", "epoch"},
        {"--n", "65"},
        {"--noise", "0,0.1"},
        {"--target", "0.02"},
    };
    std::set<std::string> hashes;
    for (size_t k = 0; k < specs.size(); ++k) {
        const std::string out = "h" + std::to_string(k) + ".csv";
        ASSERT_EQ(run(with(with({"run", "-o", out}, base), specs[k])).status, 0) << k;
        hashes.insert(json_string(slurp(path(out + ".json")), "spec_sha256"));
    }
    EXPECT_EQ(hashes.size(), specs.size());
    ASSERT_EQ(run(with({"run", "-o", "same.csv", "--dtype", "float32", "--noise", "0.1"}, base)).status, 0);
    EXPECT_EQ(json_string(slurp(path("same.csv.json")), "spec_sha256"),
              json_string(slurp(path("h0.csv.json")), "spec_sha256"));
}

TEST_F(resume, SummarizeTakesTheTablesOwnTargetAndNoticesAnUnfinishedTable)
{
    const std::vector<std::string> spec = {"--lr", "logspace(-3,-1,6)", "--seeds", "4", "--epochs", "30", "--quiet"};
    ASSERT_EQ(run(with({"run", "--target", "0.05", "-o", "r.csv"}, spec)).status, 0);
    ASSERT_EQ(run({"summarize", "r.csv", "-o", "own.csv"}).status, 0);
    ASSERT_EQ(run({"summarize", "r.csv", "--target", "0.05", "-o", "given.csv"}).status, 0);
    ASSERT_EQ(run({"summarize", "r.csv", "--target", "0.01", "-o", "other.csv"}).status, 0);
    EXPECT_EQ(slurp(path("own.csv")), slurp(path("given.csv")));
    EXPECT_NE(slurp(path("own.csv")), slurp(path("other.csv"))) << "the two targets should differ somewhere";
    // without a sidecar: the table's own target column still
    spit(path("bare.csv"), slurp(path("r.csv")));
    ASSERT_EQ(run({"summarize", "bare.csv", "-o", "bare-s.csv"}).status, 0);
    EXPECT_EQ(slurp(path("bare-s.csv")), slurp(path("own.csv")));
    // a table without the column (written before target was an axis), no sidecar: 0.01
    Table rt = read_table(slurp(path("r.csv")), false);
    std::string old_text;
    for (size_t r = 0; r <= rt.rows.size(); ++r) {
        const std::vector<std::string> &f = r ? rt.rows[r - 1] : rt.header;
        std::string line;
        for (size_t c = 0; c < f.size(); ++c)
            if (rt.header[c] != "target") line += (line.empty() ? "" : ",") + f[c];
        old_text += line + "\n";
    }
    spit(path("old.csv"), old_text);
    ASSERT_EQ(run({"summarize", "old.csv", "-o", "old-s.csv"}).status, 0);
    Table os_ = read_table(slurp(path("old-s.csv")), false), other = read_table(slurp(path("other.csv")), false);
    EXPECT_EQ(os_.column("success_rate"), other.column("success_rate"));
    // a table shorter than its sidecar says: a warning
    const std::string t = slurp(path("r.csv"));
    spit(path("r.csv"), t.substr(0, t.rfind('\n', t.size() - 2) + 1));
    Proc p = run({"summarize", "r.csv", "-o", "short.csv"});
    EXPECT_EQ(p.status, 0) << p.err;
    EXPECT_TRUE(has(p.err, "holds 23 trainings but its sidecar says 24")) << p.err;
}

// An axis of more than 1000 values is held in the canonical spec by its
// count and the SHA-256 of its values' list (the texts the table's lr
// column holds, as a JSON array): the sidecar stays small whatever the
// axis's length (700,000 listed values made a 17 MB sidecar, built in
// ~200 MB, that the reader then refused as too large: the next run to the
// same -o and --resume failed), it is read back, and the same values typed
// another way have the same hash.
TEST_F(resume, ALongAxisIsHeldByItsHashAndTheSidecarReadsBack)
{
    const std::string n_lr = "5000";
    const std::vector<std::string> big = {"run", "--optimizer", "sgd", "--lr", "logspace(-4,0," + n_lr + ")",
                                          "--epochs", "1", "--n", "32", "--batch-size", "32", "--block", "65536",
                                          "--quiet", "-o", "big.csv"};
    Proc p = run(big);
    ASSERT_EQ(p.status, 0) << p.err;
    const std::string side = slurp(path("big.csv.json"));
    EXPECT_LT(side.size(), 16384u);
    const Table t = read_table(slurp(path("big.csv")), false);
    ASSERT_TRUE(t.ok);
    ASSERT_EQ(t.rows.size(), (size_t)std::stol(n_lr));
    std::string list = "[";
    for (size_t r = 0; r < t.rows.size(); ++r) list += (r ? ",\"" : "\"") + t.at(r, "lr") + "\"";
    list += "]";
    cJSON *j = cJSON_Parse(side.c_str());
    const cJSON *lr = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "spec"), "axes"), "lr");
    ASSERT_NE(lr, nullptr) << side;
    EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(lr, "count")), std::stod(n_lr));
    EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(lr, "values"), nullptr);
    const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(lr, "values_sha256"));
    EXPECT_EQ(sha ? sha : "", sha256_hex(list));
    char *spec = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "spec"));
    EXPECT_EQ(sha256_hex(spec ? spec : ""), json_string(side, "spec_sha256"));
    cJSON_free(spec);
    cJSON_Delete(j);
    // the sidecar is ours: --resume finds the table complete, a rerun replaces it
    struct stat before, after;
    ASSERT_EQ(stat(path("big.csv").c_str(), &before), 0);
    p = run(with(big, {"--resume"}));
    EXPECT_EQ(p.status, 0) << p.err;
    ASSERT_EQ(stat(path("big.csv").c_str(), &after), 0);
    EXPECT_EQ(before.st_ino, after.st_ino) << "--resume retrained a complete table";
    p = run(big);
    EXPECT_EQ(p.status, 0) << p.err;
    // 1,200 values as logspace and as their texts listed: one hash; one value changed: another
    ASSERT_EQ(run({"run", "--optimizer", "sgd", "--lr", "logspace(-4,0,1200)", "--epochs", "1", "--n", "32",
                   "--quiet", "-o", "a.csv"})
                  .status,
              0);
    const Table a = read_table(slurp(path("a.csv")), false);
    ASSERT_EQ(a.rows.size(), 1200u);
    std::string typed, changed;
    for (size_t r = 0; r < a.rows.size(); ++r) {
        typed += (r ? "," : "") + a.at(r, "lr");
        changed += (r ? "," : "") + (r == 600 ? std::string("0.5") : a.at(r, "lr"));
    }
    for (const auto &[lrs, out] : {std::pair{typed, "b.csv"}, std::pair{changed, "c.csv"}})
        ASSERT_EQ(run({"run", "--optimizer", "sgd", "--lr", lrs, "--epochs", "1", "--n", "32", "--quiet", "-o", out})
                      .status,
                  0);
    const std::string ha = json_string(slurp(path("a.csv.json")), "spec_sha256");
    EXPECT_EQ(ha, json_string(slurp(path("b.csv.json")), "spec_sha256"));
    EXPECT_NE(ha, json_string(slurp(path("c.csv.json")), "spec_sha256"));
    EXPECT_TRUE(has(slurp(path("a.csv.json")), "\"count\":\t1200")) << slurp(path("a.csv.json"));
}

// Sum over a table's rows of epochs x batches per epoch (n points).
double table_cost(const std::string &text, int n)
{
    Table t = read_table(text, false);
    double c = 0;
    for (size_t r = 0; r < t.rows.size(); ++r) {
        const int e = std::stoi(t.at(r, "epochs")), bs = std::stoi(t.at(r, "batch_size"));
        c += (double)e * ((n + bs - 1) / bs);
    }
    return c;
}

TEST_F(resume, ShardsMergeIntoTheUnshardedTableBalancedByCost)
{
    // costs differ 100-fold between trainings: balanced by count, shard 3 would hold ~all the work
    const std::vector<std::string> spec = {"--optimizer", "sgd,momentum,adam", "--lr", "logspace(-3,-1,7)",
                                           "--epochs", "1,10,100", "--batch-size", "64,256", "--seeds", "3",
                                           "--n", "256", "--quiet", "--threads", "1"};
    ASSERT_EQ(run(with({"run", "-o", "all.csv"}, spec)).status, 0);
    std::vector<std::string> parts;
    double total = 0, most = 0, least = 1e300;
    size_t rows = 0;
    for (int k = 1; k <= 3; ++k) {
        const std::string name = "part" + std::to_string(k) + ".csv";
        Proc p = run(with({"run", "--shard", std::to_string(k) + "/3", "-o", name}, spec));
        ASSERT_EQ(p.status, 0) << p.err;
        const std::string text = slurp(path(name));
        const double c = table_cost(text, 256);
        total += c, most = std::max(most, c), least = std::min(least, c);
        rows += read_table(text, false).rows.size();
        parts.push_back(name);
    }
    EXPECT_EQ(rows, 3u * 7 * 3 * 2 * 3);
    // the largest training costs 100 x 4 updates of a total of about 3 x 7 x 3 x 111 x 5 x 3
    EXPECT_LE(most - least, 2 * 400.0) << "shards not balanced by cost: " << least << " .. " << most;
    Proc m = run({"merge", parts[2], parts[0], parts[1], "-o", "merged.csv"});
    ASSERT_EQ(m.status, 0) << m.err;
    EXPECT_TRUE(slurp(path("merged.csv")) == slurp(path("all.csv")));
    const std::string ms = slurp(path("merged.csv.json")), as = slurp(path("all.csv.json"));
    EXPECT_EQ(json_string(ms, "spec_sha256"), json_string(as, "spec_sha256"));
    EXPECT_TRUE(has(ms, "\"shard\":\tnull")) << ms;
    // a finished shard is left alone by --resume
    struct stat before, after;
    ASSERT_EQ(stat(path(parts[1]).c_str(), &before), 0);
    Proc again = run(with({"run", "--shard", "2/3", "-o", parts[1], "--resume"}, spec));
    EXPECT_EQ(again.status, 0) << again.err;
    ASSERT_EQ(stat(path(parts[1]).c_str(), &after), 0);
    EXPECT_TRUE(before.st_ino == after.st_ino && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
}

TEST_F(resume, MergeRefusesOtherSpecsOverlapsGapsAndUnfinishedParts)
{
    const std::vector<std::string> spec = {"--lr", "logspace(-3,-1,10)", "--seeds", "3", "--epochs", "2", "--quiet"};
    for (int k = 1; k <= 3; ++k)
        ASSERT_EQ(run(with({"run", "--shard", std::to_string(k) + "/3", "-o", "p" + std::to_string(k) + ".csv"}, spec))
                      .status,
                  0);
    ASSERT_EQ(run(with({"run", "--shard", "2/3", "--target", "0.5", "-o", "q2.csv"}, spec)).status, 0);
    ASSERT_EQ(run(with({"run", "--shard", "2/4", "-o", "r2.csv"}, spec)).status, 0);
    spit(path("nosidecar.csv"), slurp(path("p2.csv")));
    spit(path("short.csv"), slurp(path("p2.csv")).substr(0, slurp(path("p2.csv")).size() - 5));
    spit(path("short.csv.json"), slurp(path("p2.csv.json")));
    const std::string p1 = slurp(path("p1.csv")), p3 = slurp(path("p3.csv"));
    size_t p1_rows = read_table(p1, false).rows.size(), p3_first = (size_t)std::stoul(read_table(p3, false).at(0, "trial"));
    struct Case {
        const char *name;
        std::vector<std::string> parts;
        std::vector<std::string> needles;
    };
    const Case cases[] = {
        {"another spec", {"p1.csv", "q2.csv", "p3.csv"}, {"different specs", "q2.csv"}},
        {"a gap", {"p1.csv", "p3.csv"}, {"trials " + std::to_string(p1_rows) + ".." + std::to_string(p3_first - 1),
                                          "in no part"}},
        {"an overlap", {"p1.csv", "p2.csv", "r2.csv", "p3.csv"}, {"both hold trials"}},
        {"the same part twice", {"p1.csv", "p2.csv", "p2.csv", "p3.csv"}, {"both hold trials"}},
        {"no sidecar", {"p1.csv", "nosidecar.csv", "p3.csv"}, {"nosidecar.csv", "no sidecar"}},
        {"an unfinished part", {"p1.csv", "short.csv", "p3.csv"}, {"short.csv", "--resume"}},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        Proc p = run(with(with({"merge"}, c.parts), {"-o", "m.csv"}));
        EXPECT_EQ(p.status, 2) << p.err;
        EXPECT_EQ(std::count(p.err.begin(), p.err.end(), '\n'), 1) << p.err;
        for (const auto &n : c.needles) EXPECT_TRUE(has(p.err, n)) << p.err;
        EXPECT_FALSE(exists(path("m.csv"))) << "merge left a table";
    }
    EXPECT_EQ(run({"merge", "p1.csv", "p2.csv"}).status, 2); // no -o
    EXPECT_EQ(run({"merge", "-o", "m.csv"}).status, 2);      // no parts
    EXPECT_EQ(run({"merge", "p1.csv", "p2.csv", "p3.csv", "-o", "p2.csv"}).status, 2); // an input
    Proc bad = run(with({"run", "--shard", "4/3", "-o", "x.csv"}, spec));
    EXPECT_EQ(bad.status, 2);
    EXPECT_TRUE(has(bad.err, "--shard") && has(bad.err, "4/3")) << bad.err;
}

// mpirun's arguments for n ranks on this machine as root, on few cores.
std::vector<std::string> mpirun(int n)
{
    return {"--allow-run-as-root", "--oversubscribe", "-np", std::to_string(n), OS_BIN};
}

#define SKIP_WITHOUT_MPI()                                                                                        \
    do {                                                                                                          \
        if (!OS_TEST_MPI) GTEST_SKIP() << "MPI: orbitsweep was built without MPI (Debian: libopenmpi-dev)";         \
        if (access(OS_MPIEXEC, X_OK) != 0) GTEST_SKIP() << "MPI: no mpirun at '" << OS_MPIEXEC << "' (openmpi-bin)"; \
    } while (0)

// Runs mpirun with args in work/; its exit status (128 + signal if killed).
int run_mpi(const std::string &work, const std::vector<std::string> &args, std::string *err)
{
    std::string cmd = std::string("cd ") + work + " && " + OS_MPIEXEC;
    for (const auto &a : args) cmd += " '" + a + "'";
    cmd += " > mpi-stdout 2> mpi-stderr";
    const int ws = std::system(cmd.c_str());
    *err = slurp(work + "/mpi-stdout") + slurp(work + "/mpi-stderr");
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

TEST_F(resume, MpiRanksWriteTheSingleProcessTable)
{
    SKIP_WITHOUT_MPI();
    const std::vector<std::string> spec = {"--optimizer", "sgd,adam", "--lr", "logspace(-3,-1,30)", "--seeds", "20",
                                           "--epochs", "4", "--threads", "1", "--block", "97", "--quiet"};
    ASSERT_EQ(run(with({"run", "-o", "ref.csv"}, spec)).status, 0);
    const std::string want = slurp(path("ref.csv"));
    for (int n : {2, 3}) {
        SCOPED_TRACE(std::to_string(n) + " ranks");
        std::string err;
        const std::string out = "mpi" + std::to_string(n) + ".csv";
        ASSERT_EQ(run_mpi(work_, with(with(mpirun(n), {"run", "-o", out}), spec), &err), 0) << err;
        EXPECT_TRUE(slurp(path(out)) == want) << first_difference(slurp(path(out)), want, "mpi", "single");
        EXPECT_EQ(json_string(slurp(path(out + ".json")), "spec_sha256"),
                  json_string(slurp(path("ref.csv.json")), "spec_sha256"));
        // the default block (a few per rank) and .npz: the same
        std::vector<std::string> dflt(spec.begin(), spec.end() - 3);
        dflt.push_back("--quiet");
        ASSERT_EQ(run_mpi(work_, with(with(mpirun(n), {"run", "-o", "d" + out}), dflt), &err), 0) << err;
        EXPECT_TRUE(slurp(path("d" + out)) == want);
    }
    // a shard under MPI is the shard
    std::string err;
    ASSERT_EQ(run(with({"run", "--shard", "2/3", "-o", "s.csv"}, spec)).status, 0);
    ASSERT_EQ(run_mpi(work_, with(with(mpirun(2), {"run", "--shard", "2/3", "-o", "ms.csv"}), spec), &err), 0) << err;
    EXPECT_TRUE(slurp(path("ms.csv")) == slurp(path("s.csv")));
    // bad input: exit 2, said once
    EXPECT_EQ(run_mpi(work_, with(mpirun(3), {"run", "--lr", "-1", "-o", "bad.csv"}), &err), 2) << err;
    EXPECT_TRUE(has(err, "--lr")) << err;
    EXPECT_FALSE(exists(path("bad.csv")) || exists(path("bad.csv.part")));
}

// A rank that fails on its own (here: its copy of the --data file is
// missing, as on a node without it; mpirun's ":" gives each rank its own
// arguments) stops every rank before any file is opened, and its reason is
// said once, naming the rank.
TEST_F(resume, MpiRankFailingAloneStopsEveryRank)
{
    SKIP_WITHOUT_MPI();
    ASSERT_EQ(run({"data", "--n", "64", "-o", "d.csv"}).status, 0);
    const auto rank = [](int n, const char *data) {
        return std::vector<std::string>{"-np", std::to_string(n), OS_BIN, "run", "--data", data, "--epochs", "2",
                                        "--quiet", "-o", "r.csv"};
    };
    struct Case {
        const char *zero, *others, *says;
    } cases[] = {{"d.csv", "gone.csv", "rank 1: --data: 'gone.csv'"},
                 {"gone.csv", "d.csv", "--data: 'gone.csv'"},
                 {"gone.csv", "gone.csv", "--data: 'gone.csv'"}};
    for (const Case &c : cases) {
        SCOPED_TRACE(std::string("rank 0 ") + c.zero + ", ranks 1-2 " + c.others);
        std::vector<std::string> args = with(with({"--allow-run-as-root", "--oversubscribe"}, rank(1, c.zero)), {":"});
        std::string err;
        EXPECT_EQ(run_mpi(work_, with(args, rank(2, c.others)), &err), 2) << err;
        EXPECT_TRUE(has(err, c.says)) << err;
        EXPECT_EQ(err.find("gone.csv"), err.rfind("gone.csv")) << "said more than once: " << err;
        EXPECT_FALSE(exists(path("r.csv")) || exists(path("r.csv.part")) || exists(path("r.csv.json")));
    }
}

TEST_F(resume, MpiRunInterruptedResumesOnRankZero)
{
    SKIP_WITHOUT_MPI();
    Proc ref = run(with({"run", "-o", "ref.csv"}, kSweep));
    ASSERT_EQ(ref.status, 0) << ref.err;
    const std::string want = slurp(path("ref.csv"));
    // mpirun forwards SIGTERM to its ranks; rank 0 keeps what it wrote
    std::vector<std::string> args = with(with(mpirun(2), {"run", "-o", "r.csv"}), kSweep);
    std::vector<char *> argv{const_cast<char *>(OS_MPIEXEC)};
    for (auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = open("/dev/null", O_RDWR);
        if (chdir(work_.c_str()) != 0 || null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) _exit(126);
        execv(OS_MPIEXEC, argv.data());
        _exit(127);
    }
    bool sent = false;
    kill_when(pid, path("r.csv.part"), (long)want.size() / 3, SIGTERM, &sent);
    EXPECT_TRUE(sent) << "the MPI run ended before it could be interrupted";
    const std::string got = slurp(path("r.csv.part"));
    EXPECT_EQ(got, want.substr(0, got.size()));
    std::string err;
    ASSERT_EQ(run_mpi(work_, with(with(mpirun(3), {"run", "-o", "r.csv", "--resume"}), kSweep), &err), 0) << err;
    EXPECT_TRUE(slurp(path("r.csv")) == want);
    EXPECT_FALSE(exists(path("r.csv.part")));
}

} // namespace
