// test_util.h — helpers shared by the GoogleTest tests (header-only, all in
// namespace ostest): files and lines, a strict RFC 4180 reader and tables by
// column name, temporary directories, running the built binary (OS_BIN) with
// its stdout and stderr captured, and comparing results tables.
#ifndef OS_TESTS_TEST_UTIL_H
#define OS_TESTS_TEST_UTIL_H

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "orbitsweep/orbitsweep.h"

namespace ostest {

// ---------------------------------------------------------------------------
// files and lines

inline bool exists(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

inline std::string slurp(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline void spit(const std::string &path, const std::string &text)
{
    std::ofstream f(path, std::ios::binary);
    f << text;
}

// Lines without their '\n'; a final line without '\n' still counts.
inline std::vector<std::string> lines_of(const std::string &s)
{
    std::vector<std::string> v;
    std::string cur;
    for (char c : s) {
        if (c == '\n') {
            v.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) v.push_back(cur);
    return v;
}

inline std::string join(const std::vector<std::string> &v, const char *sep)
{
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
    return s;
}

// ---------------------------------------------------------------------------
// CSV tables

// A strict RFC 4180 reader: records end with "\n" (or, with crlf, "\r\n"); a
// field is either unquoted (no quote inside) or wholly quoted with "" for a
// quote. Returns false on malformed quoting or a missing final line break.
inline bool parse_csv(const std::string &s, std::vector<std::vector<std::string>> *records, bool crlf)
{
    records->clear();
    std::vector<std::string> rec;
    std::string field;
    enum { START, UNQUOTED, QUOTED, CLOSED } st = START;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (st == QUOTED) {
            if (c != '"') {
                field += c;
            } else if (i + 1 < s.size() && s[i + 1] == '"') {
                field += '"';
                ++i;
            } else {
                st = CLOSED;
            }
            continue;
        }
        if (c == '"') {
            if (st != START) return false;
            st = QUOTED;
        } else if (c == ',' || c == '\n' || (crlf && c == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) {
            if (c == '\r') ++i;
            rec.push_back(field);
            field.clear();
            st = START;
            if (c != ',') {
                records->push_back(rec);
                rec.clear();
            }
        } else {
            if (st == CLOSED) return false;
            field += c;
            st = UNQUOTED;
        }
    }
    return st == START && field.empty() && rec.empty();
}

// A results, trace or summary table: the header and the rows, fields by
// column name (a missing column is a test failure).
struct Table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    bool ok = false;

    size_t col(const std::string &name) const
    {
        auto it = std::find(header.begin(), header.end(), name);
        EXPECT_NE(it, header.end()) << "no column " << name;
        return (size_t)(it - header.begin());
    }
    const std::string &at(size_t row, const std::string &name) const
    {
        static const std::string none = "<no such column>";
        const size_t c = col(name);
        return row < rows.size() && c < rows[row].size() ? rows[row][c] : none;
    }
    std::vector<std::string> column(const std::string &name) const
    {
        std::vector<std::string> v;
        for (size_t r = 0; r < rows.size(); ++r) v.push_back(at(r, name));
        return v;
    }
    double num(size_t row, const std::string &name) const { return strtod(at(row, name).c_str(), nullptr); }
};

// ok: well-formed, a header, and every row as wide as the header.
inline Table read_table(const std::string &text, bool crlf)
{
    Table t;
    std::vector<std::vector<std::string>> recs;
    if (!parse_csv(text, &recs, crlf) || recs.empty()) return t;
    t.header = recs[0];
    t.rows.assign(recs.begin() + 1, recs.end());
    t.ok = true;
    for (const auto &r : t.rows) t.ok = t.ok && r.size() == t.header.size();
    return t;
}

// ---------------------------------------------------------------------------
// temporary directories

// mkdtemp on tmpl ("/tmp/name.XXXXXX"); "" on failure (errno says why).
// The rows of a table without the trial column (as text).
inline std::vector<std::string> rows_without_trial(const Table &t)
{
    std::vector<std::string> v;
    for (const auto &r : t.rows) v.push_back(join(std::vector<std::string>(r.begin() + 1, r.end()), ","));
    return v;
}

inline std::string make_temp_dir(const std::string &tmpl)
{
    std::vector<char> t(tmpl.begin(), tmpl.end());
    t.push_back('\0');
    return mkdtemp(t.data()) ? std::string(t.data()) : std::string();
}

// Removes dir and everything below it (links themselves, not their targets).
inline void remove_tree(const std::string &dir)
{
    if (dir.empty()) return;
    nftw(dir.c_str(), [](const char *p, const struct stat *, int, struct FTW *) { return remove(p); }, 16,
         FTW_DEPTH | FTW_PHYS);
}

// A temporary directory for one scope.
struct TempDir {
    std::string path;
    explicit TempDir(const std::string &tmpl) : path(make_temp_dir(tmpl)) {}
    ~TempDir() { remove_tree(path); }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
};

// ---------------------------------------------------------------------------
// running the binary

struct Proc {
    int status = -1;  // exit status, or 128 + signal number
    std::string out, err;
};

// Runs OS_BIN with args in cwd, stdin from /dev/null, stdout and stderr
// captured in capture_dir/stdout and capture_dir/stderr.
inline Proc run_program(const std::vector<std::string> &args, const std::string &cwd, const std::string &capture_dir)
{
    const std::string out_path = capture_dir + "/stdout", err_path = capture_dir + "/stderr";
    std::vector<char *> argv{const_cast<char *>(OS_BIN)};
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    Proc p;
    pid_t pid = fork();
    if (pid < 0) {
        ADD_FAILURE() << "fork: " << strerror(errno);
        return p;
    }
    if (pid == 0) {  // only async-signal-safe calls until exec
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0 || chdir(cwd.c_str()) != 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
            dup2(err, 2) < 0)
            _exit(126);
        execv(OS_BIN, argv.data());
        _exit(127);
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    p.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    p.out = slurp(out_path);
    p.err = slurp(err_path);
    return p;
}

// Sorted names below dir, as relative paths (directories and their contents).
inline void list_tree(const std::string &dir, const std::string &rel, std::vector<std::string> *v)
{
    DIR *d = opendir(dir.c_str());
    if (!d) return;
    while (struct dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        v->push_back(rel + n);
        struct stat st;
        if (stat((dir + "/" + n).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) list_tree(dir + "/" + n, rel + n + "/", v);
    }
    closedir(d);
}

// A fixture for tests of the command line: each test gets root_ (mkdtemp on
// tmpl) holding the captured stdout and stderr, and root_/work/ (work_), the
// program's working directory, which only the program and the test's own
// input files touch.
class ProgramTest : public ::testing::Test {
protected:
    explicit ProgramTest(const char *tmpl) : tmpl_(tmpl) {}

    void SetUp() override
    {
        root_ = make_temp_dir(tmpl_);
        ASSERT_FALSE(root_.empty()) << "mkdtemp: " << strerror(errno);
        work_ = root_ + "/work";
        ASSERT_EQ(mkdir(work_.c_str(), 0755), 0) << strerror(errno);
    }

    void TearDown() override { remove_tree(root_); }

    // Runs OS_BIN with args in work/, stdin from /dev/null.
    Proc run(const std::vector<std::string> &args) { return run_program(args, work_, root_); }

    std::string path(const std::string &name) const { return work_ + "/" + name; }

    // Sorted names in work/ (recursively, as relative paths).
    std::vector<std::string> listing() const
    {
        std::vector<std::string> v;
        list_tree(work_, "", &v);
        std::sort(v.begin(), v.end());
        return v;
    }

    const char *tmpl_;
    std::string root_, work_;
};

// ---------------------------------------------------------------------------
// results tables (the CUDA backend and its emulation vs the CPU)

// Sets axis `axis` of the spec from its text as on the command line.
inline void set_list(os_spec *s, int axis, const char *text)
{
    os_error err;
    ASSERT_EQ(os_spec_set_axis(s, axis, text, 1, &err), OS_OK) << err.msg;
}

// Writes the generated dataset of n points (replicate 3) to path as a CSV
// file of x,y for --data. Call it with ASSERT_NO_FATAL_FAILURE.
inline void write_dataset(const std::string &path, int n)
{
    os_spec g;
    os_spec_init(&g);
    os_spec_set_one(&g, OS_AX_N, n, NULL);
    os_dataset d;
    os_error err;
    ASSERT_EQ(os_dataset_make(&g, 3, &d, &err), OS_OK) << err.msg;
    FILE *f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fprintf(f, "x,y\n");
    for (int i = 0; i < d.n; ++i) fprintf(f, "%.17g,%.17g\n", d.x[i], d.y[i]);
    fclose(f);
    os_dataset_free(&d);
    os_spec_free(&g);
}

// The results table of res, as os_write_results writes it.
inline std::string table_of(const os_sweep *sw, const std::vector<os_result> &res)
{
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return "";
    os_write_results(f, sw, res.data());
    fclose(f);
    std::string t(buf, len);
    free(buf);
    return t;
}

// The first line where two tables differ, for failure messages; name_a and
// name_b label the two sides.
inline std::string first_difference(const std::string &a, const std::string &b, const char *name_a,
                                    const char *name_b)
{
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    for (int line = 0;; ++line) {
        const bool ga = (bool)std::getline(sa, la), gb = (bool)std::getline(sb, lb);
        if (!ga && !gb) return "(none)";
        if (!ga || !gb || la != lb)
            return "line " + std::to_string(line) + "\n  " + name_a + ": " + (ga ? la : "(end)") + "\n  " + name_b +
                   ": " + (gb ? lb : "(end)");
    }
}

}  // namespace ostest

#endif
