#!/usr/bin/env python3
"""compare.py - orbitsweep against its PyTorch and JAX peers, on the same sweep.

One command runs orbitsweep and every installed peer on the same sweeps (the
same dataset, learning rates, optimizer, epochs and batch size) and prints the
machine and a table: tool, trainings, epochs, wall s, sample evals/s and
orbitsweep speedup (the peer's wall time over orbitsweep's, from evals/s where
the peer is extrapolated). Below the table, for sanity, each tool's count of
converged and diverged trainings and its final (Wa, Wb) at a few converging
learning rates, so nobody benchmarks a broken peer.

    /usr/bin/python3 scripts/bench/compare.py                       # 1000,10000 trainings
    /usr/bin/python3 scripts/bench/compare.py --trainings 100000 --peers torch-vectorised
    python3 scripts/bench/compare.py --quick --orbitsweep build/orbitsweep   # CI smoke test

Peers (see README.md beside this file): torch-loop (the case study, one
training at a time, timed on a few and extrapolated), torch-vectorised (all
trainings as one tensor dimension), jax-vmap (optional). A peer whose packages
are missing is skipped with a line saying how to install them. Exit status:
0 when every tool that ran succeeded, 1 when orbitsweep or a peer failed,
2 for bad arguments.
"""

import argparse
import csv
import importlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import sweep as sw  # noqa: E402

# name, module, the packages it imports, how to install them
PEERS = [
    ("torch-loop", "peer_torch_loop", ("torch",),
     "Debian: apt-get install python3-torch; else pip install torch"),
    ("torch-vectorised", "peer_torch_vec", ("torch",),
     "Debian: apt-get install python3-torch; else pip install torch"),
    ("jax-vmap", "peer_jax_vmap", ("jax", "optax"),
     "pip install jax optax; beside Debian's torch keep its numpy, see scripts/bench/README.md"),
]
LOOP = "torch-loop"  # the one peer that times a few trainings and extrapolates


class ToolFailed(Exception):
    """orbitsweep or a peer failed: reported, and compare.py exits 1."""


# ---------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------


def machine_lines(threads):
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = "none found"
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            gpu = ", ".join(out.stdout.split("\n")).strip(", ")
    load = "%.2f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else "?"
    return ["CPU: %s, %d cores (tools use %s); load average %s before the run"
            % (cpu, os.cpu_count(), "%d thread%s" % (threads, "s" * (threads > 1))
               if threads else "all of them", load),
            "GPU: %s" % gpu,
            "Python %s at %s" % (platform.python_version(), sys.executable)]


# ---------------------------------------------------------------------------
# orbitsweep
# ---------------------------------------------------------------------------


def run_checked(cmd, what):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise ToolFailed("%s failed (exit %d): %s\n%s" % (what, out.returncode, " ".join(cmd),
                                                          out.stderr.strip()))
    return out


def orbitsweep_data(binary, seed, tmp):
    """The sweep's dataset, as orbitsweep generates it: (xs, ys) float lists."""
    path = os.path.join(tmp, "data.csv")
    run_checked([binary, "data", "--seed", str(seed), "--n", str(sw.N_POINTS),
                 "--noise", repr(sw.NOISE), "-o", path], "orbitsweep data")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != sw.N_POINTS:
        raise ToolFailed("orbitsweep data wrote %d points, not %d" % (len(rows), sw.N_POINTS))
    return [float(r["x"]) for r in rows], [float(r["y"]) for r in rows]


def orbitsweep_backend(binary, device, tmp):
    """'cpu' or 'gpu': where `--backend device` runs, from a one-training run's summary."""
    out = run_checked([binary, "run", "--backend", device, "--epochs", "1",
                       "-o", os.path.join(tmp, "probe.csv")], "orbitsweep run")
    return "cpu" if "CPU" in out.stdout + out.stderr else "gpu"


def run_orbitsweep(binary, spec, device, threads, tmp):
    """Run the sweep as one orbitsweep process, timed whole.

    Returns (Result, (converged, diverged), param_error per trial) from its table."""
    path = os.path.join(tmp, "results_%d.csv" % spec.trainings)
    cmd = [binary, "run", "--quiet", *spec.orbitsweep_args(), "--backend", device,
           "--threads", str(threads or 0), "-o", path]
    t0 = time.perf_counter()
    run_checked(cmd, "orbitsweep")
    wall = time.perf_counter() - t0
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != spec.trainings:
        raise ToolFailed("orbitsweep wrote %d rows for %d trainings" % (len(rows), spec.trainings))
    finals = [(float(r["final_wa"]), float(r["final_wb"])) for r in rows]
    errors = [float(r["param_error"]) for r in rows]
    diverged = [r["diverged"] == "1" for r in rows]
    conv = sum(1 for e, d in zip(errors, diverged) if not d and e <= sw.TARGET)
    result = sw.Result(wall, list(range(spec.trainings)), finals)
    return result, (conv, sum(diverged)), errors


def sample_trials(spec, errors):
    """A few converging trainings per optimizer group: the lowest, the median and the best
    learning rate orbitsweep converged at (just its best one when none converged)."""
    picks = []
    for _, a, e in spec.groups():
        conv = [t for t in range(a, e) if errors[t] <= sw.TARGET]
        if conv:
            picks += sorted({conv[0], conv[len(conv) // 2], min(conv, key=errors.__getitem__)})
        else:
            picks.append(min(range(a, e), key=lambda t: errors[t] if errors[t] == errors[t]
                             else float("inf")))
    return picks


def loop_trials(spec, samples, k):
    """k trials for the extrapolating peer: the samples first, then evenly spread ones."""
    picks = samples[:k]
    for i in range(k):
        if len(picks) >= k:
            break
        t = i * spec.trainings // k
        if t not in picks:
            picks.append(t)
    return sorted(picks)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def fmt_wall(row):
    if row["run"] < row["trainings"]:
        return "~%.3g (extrapolated from %d trainings)" % (row["wall"], row["run"])
    return "%.3g" % row["wall"]


def fmt_speedup(x):
    if x is None:
        return "-"
    return ("%.0fx" if x >= 100 else "%.1fx" if x >= 10 else "%.2fx") % x


def print_table(rows, markdown):
    head = ["tool", "trainings", "epochs", "wall s", "sample evals/s", "orbitsweep speedup"]
    cells = [[r["tool"], str(r["trainings"]), str(r["epochs"]), fmt_wall(r),
              "%.3g" % r["evals_s"], fmt_speedup(r["speedup"])] for r in rows]
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        for c in cells:
            print("| " + " | ".join(c) + " |")
        return
    widths = [max(len(x) for x in col) for col in zip(head, *cells)]
    for c in [head] + cells:
        print("  ".join(x.ljust(w) if i == 0 else x.rjust(w)
                        for i, (x, w) in enumerate(zip(c, widths))))


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trainings", default="1000,10000",
                    help="sweep sizes, comma-separated (default 1000,10000)")
    ap.add_argument("--epochs", type=int, default=100, help="epochs per training (100)")
    ap.add_argument("--optimizer", default="adam",
                    help="optimizer(s), comma-separated, among %s; the trainings are split "
                         "evenly between them (default adam)" % ", ".join(sw.OPTIMIZERS))
    ap.add_argument("--lr-range", default="-4,-1", metavar="LO,HI",
                    help="learning rates logspace(LO,HI,n) per optimizer (default -4,-1)")
    ap.add_argument("--scheduler", default="constant", choices=sw.SCHEDULERS,
                    help="constant, or the case study's MultiStepLR (gamma 0.8 at updates "
                         "4,8,10,...,24) stepped per update (default constant)")
    ap.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"),
                    help="orbitsweep's --backend and the vectorised peers' device (auto)")
    ap.add_argument("--threads", type=int, default=0,
                    help="CPU threads for orbitsweep and torch (default 0: every core)")
    ap.add_argument("--orbitsweep", default=os.path.join(ROOT, "build", "orbitsweep"),
                    help="the orbitsweep binary (default build/orbitsweep in the repository)")
    ap.add_argument("--peers", default=",".join(p[0] for p in PEERS),
                    help="peers to run, comma-separated (default all)")
    ap.add_argument("--loop-trainings", type=int, default=4, metavar="K",
                    help="trainings the torch-loop peer times, to extrapolate from (4)")
    ap.add_argument("--skip-above", type=int, default=0, metavar="T",
                    help="skip the peers that train every training (all but torch-loop) on "
                         "sweeps of more than T trainings (default 0: never)")
    ap.add_argument("--repeat", type=int, default=1, metavar="R",
                    help="run every tool R times and keep its fastest run (1)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 64 trainings, 2 epochs, torch-loop on 2 trainings")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args(argv)
    if args.quick:
        args.trainings, args.epochs, args.loop_trainings = "64", 2, 2
    try:
        args.sizes = [int(t) for t in args.trainings.split(",")]
        lo, hi = (float(v) for v in args.lr_range.split(","))
        args.specs = [sw.Sweep(t, args.epochs, tuple(args.optimizer.split(",")), lo, hi,
                               args.scheduler) for t in args.sizes]
    except ValueError as e:
        ap.error(str(e))
    names = [p[0] for p in PEERS]
    args.peer_list = [p for p in args.peers.split(",") if p]
    for p in args.peer_list:
        if p not in names:
            ap.error("unknown peer %r (peers: %s)" % (p, ", ".join(names)))
    if args.loop_trainings < 1 or args.repeat < 1 or args.threads < 0:
        ap.error("--loop-trainings and --repeat must be >= 1, --threads >= 0")
    return args


def load_peers(args):
    """{name: module} of the requested peers whose packages import; prints the skips."""
    peers = {}
    for name, module, packages, hint in PEERS:
        if name not in args.peer_list:
            continue
        absent = [p for p in packages if importlib.util.find_spec(p) is None]
        if absent:
            print("%s: skipped, %s not installed. To install: %s"
                  % (name, " and ".join(absent), hint))
            continue
        try:
            peers[name] = importlib.import_module(module)
        except Exception as e:  # a package that is there but broken is a failure
            raise ToolFailed("%s: importing %s failed: %s" % (name, module, e)) from e
    return peers


def best_of(repeat, fn, wall=lambda result: result.wall_s):
    """The fastest of `repeat` calls of fn()."""
    return min((fn() for _ in range(repeat)), key=wall)


class Session:
    """One compare.py run: the tools, the dataset, and the rows and notes so far."""

    def __init__(self, args, binary, tmp):
        self.args, self.binary, self.tmp = args, binary, tmp
        self.peers = load_peers(args)
        self.data = orbitsweep_data(binary, 0, tmp)
        self.backend = orbitsweep_backend(binary, args.device, tmp)
        self.threads = args.threads or os.cpu_count()
        self.warm = set()
        self.rows, self.notes, self.failed = [], [], []

    def row(self, tool, spec, run, wall_run, base):
        """One table row; wall_run is the time of `run` of the spec's trainings."""
        evals_s = run * spec.epochs * sw.N_POINTS / wall_run
        self.rows.append(dict(tool=tool, trainings=spec.trainings, epochs=spec.epochs,
                              wall=spec.sample_evals / evals_s, run=run, evals_s=evals_s,
                              speedup=None if base is None else base / evals_s))
        return evals_s

    def run_peer(self, name, mod, spec, trials):
        """mod.run on the spec, after one untimed warm-up the first time (library start-up)."""
        args = self.args
        if name not in self.warm:
            warm = sw.Sweep(len(spec.optimizers), 1, spec.optimizers, scheduler=spec.scheduler)
            mod.run(warm, self.data, args.device, self.threads, [0])
            self.warm.add(name)
        return best_of(args.repeat, lambda: mod.run(spec, self.data, args.device, self.threads,
                                                    trials))

    def bench(self, spec):
        """orbitsweep, then every peer, on one sweep; a peer's crash is noted, not raised."""
        args = self.args
        ours, stats, errors = best_of(args.repeat, lambda: run_orbitsweep(
            self.binary, spec, args.device, args.threads, self.tmp), lambda r: r[0].wall_s)
        base = self.row("orbitsweep (%s)" % self.backend, spec, spec.trainings, ours.wall_s, None)
        samples = sample_trials(spec, errors)
        sanity = [("orbitsweep", ours, stats)]
        for name, mod in self.peers.items():
            if name != LOOP and args.skip_above and spec.trainings > args.skip_above:
                self.notes.append("%s: skipped at %d trainings (--skip-above %d)"
                                  % (name, spec.trainings, args.skip_above))
                continue
            trials = loop_trials(spec, samples, args.loop_trainings) if name == LOOP else None
            try:
                res = self.run_peer(name, mod, spec, trials)
            except sw.DeviceUnavailable as e:
                self.notes.append("%s: skipped, %s" % (name, e))
                continue
            except Exception:  # reported; the other tools still run
                print("FAILED: %s on %d trainings:\n%s"
                      % (name, spec.trainings, traceback.format_exc()), file=sys.stderr)
                self.failed.append(name)
                continue
            self.row("%s (%s)" % (name, res.device), spec, len(res.trials), res.wall_s, base)
            sanity.append((name, res, sw.tally(res.finals)))
            if res.note:
                self.notes.append("%s, %d trainings: %s" % (name, spec.trainings, res.note))
        self.notes += sanity_lines(spec, samples, errors, sanity)


def sanity_lines(spec, samples, errors, sanity):
    """Converged/diverged counts per tool, and each tool's final (Wa, Wb) at the samples."""
    lines = ["sanity, %d trainings (converged: param_error <= %g at the end; with one batch "
             "order shared by all trainings the counts swing by tens of percent between "
             "orders, so compare them loosely):" % (spec.trainings, sw.TARGET)]
    for name, res, (conv, div) in sanity:
        lines.append("  %-18s converged %d, diverged %d of %d trained"
                     % (name, conv, div, len(res.trials)))
    for t in samples:
        optimizer, lr = spec.trial(t)
        lines.append("  trial %d (%s, lr %.4g), orbit (Wa, Wb) = (%g, %g):"
                     % (t, optimizer, lr, sw.ORBIT_A, sw.ORBIT_B))
        for name, res, _ in sanity:
            final = res.final_of(t)
            if final is None:
                continue
            err = sw.param_error(*final)
            warn = ""
            if sw.diverged(*final):
                warn = "  diverged (a few do in every tool: s = 0 exactly gives an infinite dL/dWa)"
            elif name != "orbitsweep" and errors[t] <= sw.TARGET and err > 5 * sw.TARGET:
                warn = "  WARNING: far from the orbit where orbitsweep converged"
            lines.append("    %-18s (%.6g, %.6g)  param_error %.2g%s"
                         % (name, final[0], final[1], err, warn))
    return lines


def main(argv=None):
    args = parse_args(argv)
    binary = os.path.abspath(args.orbitsweep)
    for line in machine_lines(args.threads):
        print(line)
    if not os.access(binary, os.X_OK):
        print("error: no orbitsweep binary at %s (build it: cmake -S . -B build && "
              "cmake --build build, or pass --orbitsweep PATH)" % binary, file=sys.stderr)
        return 1
    print("orbitsweep: %s" % binary)
    print("sweep: %s" % args.specs[0].describe())
    with tempfile.TemporaryDirectory(prefix="orbitsweep-bench-") as tmp:
        try:
            session = Session(args, binary, tmp)
            for spec in args.specs:
                session.bench(spec)
        except ToolFailed as e:
            print("FAILED: %s" % e, file=sys.stderr)
            return 1
    print()
    print_table(session.rows, args.markdown)
    print()
    for line in session.notes:
        print(line)
    if session.failed:
        print("FAILED: %s" % ", ".join(session.failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
