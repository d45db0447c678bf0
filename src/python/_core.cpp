// _core.cpp — the Python package's binding (nanobind) over the C library.
//
// The package's keyword arguments arrive as (name, [texts]) pairs and go
// through the command line's own parser (os_flags_parse over the axis and
// settings tables), so every flag is a keyword argument and every message is
// the CLI's. A run trains on a thread of its own, block by block
// (os_sweep_stream), each block's columns filled in parallel by
// os_results_fill straight into the numpy arrays that become the table;
// meanwhile the calling thread waits without the GIL and, every poll
// interval, takes it to let Python handle signals (KeyboardInterrupt) and
// draw progress. A cancel is seen between blocks.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern "C" {
#include "flags.h"
#include "orbitsweep/orbitsweep.h"
#include "summarize.h"
#include "util.h"
}

namespace nb = nanobind;

namespace {

using Items = std::vector<std::pair<std::string, std::vector<std::string>>>;

// An os_error as the Python exception of its status: bad input is
// ValueError with the CLI's one-line message, anything else RuntimeError.
[[noreturn]] void raise(os_status st, const os_error &err)
{
    if (st == OS_EINPUT) throw nb::value_error(err.msg);
    throw std::runtime_error(err.msg);
}

struct Spec {
    os_spec s;
    Spec()
    {
        if (os_spec_init(&s)) throw std::bad_alloc();
    }
    ~Spec() { os_spec_free(&s); }
    Spec(const Spec &) = delete;
    Spec &operator=(const Spec &) = delete;
};

struct Sweep {
    os_sweep sw;
    bool live = false;
    ~Sweep()
    {
        if (live) os_sweep_free(&sw);
    }
};

// The flag of a keyword: an axis's column or a setting's key names it;
// anything else becomes --name-with-dashes, which the parser then refuses
// as the CLI does ("unknown flag").
std::string flag_of(const std::string &key, bool *axis)
{
    *axis = false;
    for (int a = 0; a < OS_AX_COUNT; ++a)
        if (key == os_axes[a].column) return *axis = true, os_axes[a].flag;
    const int k = os_setting_find(key.c_str());
    if (k >= 0) return os_settings[k].flag;
    std::string f = "--" + key;
    for (char &c : f)
        if (c == '_') c = '-';
    return f;
}

// The spec of the keyword arguments: the sweep file of `config` first (as
// the CLI's FILE or --config FILE), then the others over it as the CLI's
// flags go over a file: an axis's values each as a repeat of its flag (a
// list extends the axis, and a scheduler spec may hold commas), a
// setting's values joined by commas, as typed on a command line.
void parse_spec(os_spec *spec, const Items &items)
{
    std::vector<std::string> args;
    os_error err;
    for (const auto &[key, texts] : items) {
        if (key == "config") { /* a sweep file (its output key is the CLI's: ignored here) */
            if (texts.size() != 1) throw nb::value_error("orbitsweep: config: give one sweep file");
            char *output = nullptr;
            const os_status st = os_sweep_file_load(spec, texts[0].c_str(), &output, &err);
            free(output);
            if (st) raise(st, err);
            continue;
        }
        bool axis;
        const std::string flag = flag_of(key, &axis);
        if (texts.empty()) {
            args.push_back(flag), args.push_back("");
        } else if (axis) {
            for (const std::string &t : texts) args.push_back(flag), args.push_back(t);
        } else {
            std::string joined;
            for (size_t i = 0; i < texts.size(); ++i) joined += (i ? "," : "") + texts[i];
            args.push_back(flag), args.push_back(joined);
        }
    }
    std::vector<char *> argv;
    for (std::string &a : args) argv.push_back(a.data());
    std::vector<os_flag> flags(OS_AX_COUNT + (size_t)os_n_settings);
    const size_t n_flags = os_flags_for_spec(flags.data(), 0);
    int n_pos = 0;
    os_status st = os_flags_parse_over(flags.data(), n_flags, spec, spec, (int)argv.size(), argv.data(), nullptr,
                                       0, &n_pos, &err);
    if (!st) st = os_spec_compact_scheds(spec, &err);
    if (st) raise(st, err);
}

nb::list warnings_of(const os_sweep &sw)
{
    nb::list w;
    for (int i = 0; i < sw.n_warnings; ++i) w.append(nb::str(sw.warnings[i]));
    return w;
}

// A numpy array of n values of type descr that owns its memory.
nb::object new_array(const char *descr, size_t n, void **data)
{
    nb::dlpack::dtype dt;
    if (!strcmp(descr, "<i8")) dt = nb::dtype<int64_t>();
    else if (!strcmp(descr, "<u8")) dt = nb::dtype<uint64_t>();
    else if (!strcmp(descr, "<f8")) dt = nb::dtype<double>();
    else if (!strcmp(descr, "<f4")) dt = nb::dtype<float>();
    else dt = nb::dtype<int32_t>();
    void *p = std::malloc(n ? n * (dt.bits / 8) : 1);
    if (!p) throw std::bad_alloc();
    nb::capsule owner(p, [](void *q) noexcept { std::free(q); });
    size_t shape[1] = {n};
    *data = p;
    return nb::cast(nb::ndarray<nb::numpy>(p, 1, shape, owner, nullptr, dt));
}

// What the training thread shares with the waiting one.
struct RunCtx {
    std::vector<void *> cols;
    std::atomic<size_t> done{0};
    std::atomic<int> cancel{0};
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
};

os_status on_block(void *ctx, const os_sweep *blk, const os_result *res, os_error *err)
{
    auto *c = static_cast<RunCtx *>(ctx);
    if (c->cancel.load()) {
        os_set_error(err, "interrupted");
        return OS_ERUNTIME;
    }
    os_results_fill(blk, res, c->cols.data());
    return OS_OK;
}

void on_progress(void *ctx, size_t done, size_t)
{
    static_cast<RunCtx *>(ctx)->done.store(done);
}

// Trainings per block when the caller leaves --block at its default on the
// CPU: about 1.5e8 sample evaluations (a tenth of a second on two cores), so that a
// KeyboardInterrupt is seen soon; never more than the CLI's block.
size_t block_for(const os_sweep &sw, const os_spec &spec, int backend)
{
    const size_t dflt = os_spec_block(&spec);
    if (spec.block > 0 || backend != OS_BACKEND_CPU || sw.n_trials == 0) return dflt;
    const double per_trial = os_sweep_evaluations(&sw) / (double)sw.n_trials;
    double b = per_trial > 0 ? 1.5e8 / per_trial : (double)dflt;
    b = b < 2048 ? 2048 : b;
    return b < (double)dflt ? (size_t)b : dflt;
}

nb::dict run(const Items &items, nb::object progress, double poll_s)
{
    Spec spec;
    parse_spec(&spec.s, items);
    os_error err;
    os_status st = os_spec_validate(&spec.s, &err);
    if (st) raise(st, err);
    os_backend_choice bc;
    if ((st = os_backend_choose(&spec.s, &bc, &err))) raise(st, err);
    spec.s.backend = bc.backend; // resolved once, as the CLI does
    Sweep s;
    if ((st = os_sweep_prepare(&spec.s, &s.sw, &err))) raise(st, err);
    s.live = true;

    const size_t n_cols = os_results_columns(&s.sw, nullptr);
    std::vector<os_column_def> defs(n_cols);
    os_results_columns(&s.sw, defs.data());
    // the whole table stays in memory (the CLI's holds one block): checked
    // as the plan checks a run's memory, before any work
    double row_bytes = 0;
    for (const os_column_def &d : defs) row_bytes += (double)d.size;
    const double need = row_bytes * (double)s.sw.n_trials + os_sweep_memory((double)os_spec_block(&spec.s), 0, 0);
    const double have = spec.s.max_memory > 0 ? spec.s.max_memory : os_memory_available();
    if (have >= 0 && need > have) {
        os_set_error(&err, "the results table needs about %.3g GB of memory (%zu trainings x %.0f bytes); %s %.3g GB",
                     need / 1e9, s.sw.n_trials, row_bytes,
                     spec.s.max_memory > 0 ? "--max-memory allows" : "this machine has available", have / 1e9);
        raise(OS_EINPUT, err);
    }
    RunCtx ctx;
    ctx.cols.resize(n_cols);
    nb::list columns;
    for (size_t c = 0; c < n_cols; ++c) {
        nb::object arr = new_array(defs[c].dtype, s.sw.n_trials, &ctx.cols[c]);
        columns.append(nb::make_tuple(nb::str(defs[c].name), arr, nb::bool_(defs[c].nullable != 0),
                                      nb::bool_(defs[c].boolean != 0)));
    }

    const size_t block = block_for(s.sw, spec.s, bc.backend), total = s.sw.n_trials;
    double train_s = 0;
    os_status run_st = OS_OK;
    os_error run_err;
    run_err.msg[0] = 0;
    std::thread worker;
    {
        nb::gil_scoped_release nogil;
        worker = std::thread([&] {
            run_st = os_sweep_stream(&s.sw, block, on_block, &ctx, on_progress, &ctx, &train_s, &run_err);
            std::lock_guard<std::mutex> lk(ctx.m);
            ctx.finished = true;
            ctx.cv.notify_all();
        });
    }
    auto stop = [&] {
        ctx.cancel.store(1);
        nb::gil_scoped_release nogil;
        worker.join();
    };
    const auto poll = std::chrono::duration<double>(poll_s > 0 ? poll_s : 0.05);
    for (;;) {
        bool finished;
        {
            nb::gil_scoped_release nogil;
            std::unique_lock<std::mutex> lk(ctx.m);
            finished = ctx.cv.wait_for(lk, poll, [&] { return ctx.finished; });
        }
        if (PyErr_CheckSignals() != 0) { // KeyboardInterrupt, or a handler's exception
            nb::python_error e;
            stop();
            throw e;
        }
        if (!progress.is_none()) {
            try {
                progress(finished ? total : ctx.done.load(), total);
            } catch (...) {
                stop();
                throw;
            }
        }
        if (finished) break;
    }
    worker.join();
    if (run_st) raise(run_st, run_err);

    nb::list opt_names, sched_names;
    for (int k = 0; k < OS_OPT_COUNT; ++k) opt_names.append(nb::str(os_optimizer_name(k)));
    for (size_t k = 0; k < spec.s.n_scheds; ++k) sched_names.append(nb::str(spec.s.scheds[k].name));
    nb::dict out;
    out["columns"] = columns;
    out["optimizer_categories"] = opt_names;
    out["scheduler_categories"] = sched_names;
    for (int a = 0; a < OS_AX_COUNT; ++a) { // the choice axes' names (dtype_categories, ...)
        const char *const *ch = os_axis_choices(a);
        if (!ch) continue;
        nb::list names;
        for (int k = 0; ch[k]; ++k) names.append(nb::str(ch[k]));
        out[nb::str((std::string(os_axes[a].column) + "_categories").c_str())] = names;
    }
    out["warnings"] = warnings_of(s.sw);
    out["note"] = nb::str(bc.note);
    out["where"] = nb::str(bc.where);
    out["train_s"] = train_s;
    const int dtypes = os_spec_dtypes(&spec.s);
    out["dtype"] = nb::str(dtypes == 1 << OS_DTYPE_F32   ? "float32"
                           : dtypes == 1 << OS_DTYPE_F64 ? "float64"
                                                         : "float32 and float64");
    return out;
}

// Text written by fn(FILE *) into memory.
template <class Fn> std::string to_text(Fn fn)
{
    char *buf = nullptr;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) throw std::bad_alloc();
    const bool ok = fn(m);
    const bool closed = fclose(m) == 0;
    std::string text(buf ? buf : "", buf ? len : 0);
    std::free(buf);
    if (!closed) throw std::runtime_error("out of memory");
    if (!ok) throw std::runtime_error("cannot write the table");
    return text;
}

nb::tuple trace(const Items &items)
{
    Spec spec;
    parse_spec(&spec.s, items);
    os_error err;
    Sweep s;
    os_status st = os_sweep_plan(&spec.s, &s.sw, &err);
    if (st) raise(st, err);
    s.live = true;
    if ((st = os_trace_check(&s.sw, &err))) raise(st, err);
    std::string text;
    {
        nb::gil_scoped_release nogil;
        text = to_text([&](FILE *f) { return (st = os_sweep_trace(&s.sw, f, &err)) == OS_OK; });
    }
    return nb::make_tuple(nb::bytes(text.data(), text.size()), warnings_of(s.sw));
}

nb::dict data(const Items &items)
{
    Spec spec;
    parse_spec(&spec.s, items);
    os_error err;
    os_status st = os_spec_validate(&spec.s, &err);
    if (st) raise(st, err);
    os_dataset d;
    {
        nb::gil_scoped_release nogil;
        st = os_dataset_make(&spec.s, 0, &d, &err);
    }
    if (st) raise(st, err);
    nb::dict out;
    void *px, *py;
    try {
        out["x"] = new_array("<f8", (size_t)d.n, &px);
        out["y"] = new_array("<f8", (size_t)d.n, &py);
    } catch (...) {
        os_dataset_free(&d);
        throw;
    }
    std::memcpy(px, d.x, (size_t)d.n * sizeof(double));
    std::memcpy(py, d.y, (size_t)d.n * sizeof(double));
    out["c"] = d.c;
    out["min_loss"] = d.min_loss;
    out["min_wa"] = d.min_wa;
    out["min_wb"] = d.min_wb;
    os_dataset_free(&d);
    return out;
}

nb::bytes summarize(const std::string &path, double target) // target NaN: each row's own
{
    os_error err;
    os_summary_spool sp;
    os_status st;
    {
        nb::gil_scoped_release nogil;
        st = os_summary_spool_load(path.c_str(), target, nullptr, &sp, &err);
    }
    if (st) raise(st, err);
    std::string text;
    try {
        text = to_text([&](FILE *f) { return os_summary_spool_write(f, &sp) == 0; });
    } catch (...) {
        os_summary_spool_free(&sp);
        throw;
    }
    os_summary_spool_free(&sp);
    return nb::bytes(text.data(), text.size());
}

} // namespace

NB_MODULE(_core, m)
{
    m.doc() = "orbitsweep's C library (the package's binding; use the orbitsweep module)";
    m.attr("version") = OS_VERSION;
#ifdef OS_HAVE_CUDA
    m.attr("cuda") = true;
#else
    m.attr("cuda") = false;
#endif
    nb::list axes; // the axis table's columns and kinds (the summary's configuration columns)
    static const char *const kinds[] = {"optimizer", "scheduler", "real", "int", "bool", "choice"}; /* OS_AXT_* */
    for (int a = 0; a < OS_AX_COUNT; ++a)
        axes.append(nb::make_tuple(nb::str(os_axes[a].column), nb::str(kinds[os_axes[a].type])));
    m.attr("axes") = axes;
    nb::list metrics; // and the other results columns a summary reads
    for (size_t k = 0; os_summary_metric(k); ++k) metrics.append(nb::str(os_summary_metric(k)));
    m.attr("summary_metrics") = metrics;
    m.def("run", &run, nb::arg("items"), nb::arg("progress").none(), nb::arg("poll_s"),
          "Train the sweep of items; the results table's columns and what the run said.");
    m.def("trace", &trace, nb::arg("items"), "One training's trace as the CLI writes it (CSV bytes), and warnings.");
    m.def("data", &data, nb::arg("items"), "The dataset of replicate 0: x, y and its loss minimum.");
    m.def("summarize", &summarize, nb::arg("path"), nb::arg("target"),
          "The summary of the results table at path, as the CLI writes it (CSV bytes).");
}
