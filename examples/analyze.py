#!/usr/bin/env python3
"""Small helpers for examples/run.sh (standard library only: csv, math).

  analyze.py seed   MOM100.csv MOM400.csv FOUR.csv
      The smallest seed whose single runs show every outcome the case study
      reports (see CASE_STUDY below); prints it on stdout and how many seeds
      qualify on stderr. The arguments are raw `orbitsweep run` tables.

  analyze.py tables WORK_DIR OUT_DIR
      Reads the `orbitsweep summarize` tables (and, for the stuck/oscillation
      columns, the raw tables) that run.sh left in WORK_DIR and writes
      OUT_DIR/convergence.md and OUT_DIR/convergence.csv: success rates with
      Wilson 95% intervals.
"""
import csv
import math
import sys

Z = 1.959963984540054  # two-sided 95% normal quantile


def wilson(k, n):
    """Wilson score interval for k successes in n trials (95%)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1 + Z * Z / n
    mid = (p + Z * Z / (2 * n)) / den
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def converged(r):
    return r["diverged"] == "0" and float(r["param_error"]) <= 0.01


def stuck(r):
    # every point masked in most minibatches: Wa ended near 0 (the first
    # RMSprop step is +-lr/sqrt(1-alpha) = 0.1 per coordinate, so a first
    # dL/dWa > 0 takes Wa from 0.1 to ~0 and every later batch is masked)
    updates = int(r["epochs"]) * math.ceil(512 / int(r["batch_size"]))
    return r["diverged"] == "0" and int(r["masked_batches"]) > updates // 2


# The case study's single-run outcomes (momentum at five lrs, 100 and 400
# epochs; the four optimizers at lr 0.01 all reaching the minimum).
CASE_STUDY = [
    ("m100", "0.012", False), ("m100", "0.01", True), ("m100", "0.005", True),
    ("m100", "0.001", True), ("m100", "0.00015", False),
    ("m400", "0.012", True), ("m400", "0.00015", True),
]


def cmd_seed(m100, m400, four):
    tabs = {"m100": {}, "m400": {}, "four": {}}
    for name, path in (("m100", m100), ("m400", m400), ("four", four)):
        for r in rows(path):
            tabs[name][(r["optimizer"], r["lr"], int(r["seed"]))] = r
    seeds = sorted({k[2] for k in tabs["m100"]})
    good = []
    for s in seeds:
        ok = all(converged(tabs[t]["momentum", lr, s]) == want
                 for t, lr, want in CASE_STUDY)
        ok = ok and all(converged(tabs["four"][o, "0.01", s])
                        for o in ("sgd", "momentum", "adam"))
        rms = tabs["four"]["rmsprop", "0.01", s]
        # RMSprop "dances around the target": reaches it, need not stay within 1%
        ok = ok and rms["diverged"] == "0" and float(rms["param_error"]) <= 0.05
        if ok:
            good.append(s)
    if not good:
        sys.exit("analyze.py seed: no seed reproduces the case study's outcomes")
    print(f"{len(good)} of {len(seeds)} seeds reproduce every single-run outcome "
          f"of the case study; the first is {good[0]}", file=sys.stderr)
    print(good[0])
    return good, seeds


def summary(path):
    return {(r["optimizer"], r["lr"], r["scheduler"], r["epochs"]): r
            for r in rows(path)}


def rate(r):
    n = int(r["trainings"])
    k = round(float(r["success_rate"]) * n)
    lo, hi = wilson(k, n)
    return n, k, k / n, lo, hi


def pct(x):
    return f"{100 * x:.1f}%"


def ci(n, k, p, lo, hi):
    return f"{pct(p)} [{pct(lo)}, {pct(hi)}]"


def median(xs):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def steps(r):
    s = r["steps_to_target_median"]
    return f"{float(s):g}" if s else "never"  # summarize may write 2.6e+02


def cmd_tables(work, out):
    md, out_rows = [], []

    def record(section, r, dtype, n, k, p, lo, hi):
        out_rows.append({
            "section": section, "optimizer": r["optimizer"], "lr": r["lr"],
            "scheduler": r["scheduler"], "epochs": r["epochs"], "dtype": dtype,
            "n": n, "converged": k, "p_converge": f"{p:.4f}",
            "ci95_low": f"{lo:.4f}", "ci95_high": f"{hi:.4f}",
            "divergence_rate": r["divergence_rate"],
            "steps_to_target_median": r["steps_to_target_median"]})

    # A. momentum at the case study's five learning rates
    case = {("0.012", "100"): "far off (Wa 3.34, Wb 1.00)",
            ("0.01", "100"): "converged", ("0.005", "100"): "converged",
            ("0.001", "100"): "converged", ("0.00015", "100"): "too slow",
            ("0.012", "400"): "converged", ("0.00015", "400"): "converged"}
    md += ["### A. SGD with momentum, constant lr (§2.2)", "",
           "| lr | epochs | case study (1 run) | P(converge), float32 [95% CI] "
           "| P(diverge), float32 | P(converge), float64 [95% CI] "
           "| median updates to target (float32) |",
           "|---|---|---|---|---|---|---|"]
    for ep in ("100", "400"):
        s32 = summary(f"{work}/momentum_{ep}_summary.csv")
        s64 = summary(f"{work}/momentum_{ep}_f64_summary.csv")
        for key, r in s32.items():
            r64 = s64[key]
            a, b = rate(r), rate(r64)
            record("A", r, "float32", *a)
            record("A", r64, "float64", *b)
            md.append(f"| {r['lr']} | {ep} | {case.get((r['lr'], ep), '—')} "
                      f"| {ci(*a)} | {pct(float(r['divergence_rate']))} "
                      f"| {ci(*b)} | {steps(r)} |")

    # B. the four optimizers at lr 0.01 (§2.1)
    raw = rows(f"{work}/four_optimizers.csv")
    md += ["", "### B. Four optimizers at lr 0.01, 100 epochs (§2.1)", "",
           "| optimizer | P(converge) [95% CI] | P(stuck at Wa≈0) "
           "| P(diverge) | median updates to target "
           "| median last-epoch oscillation |",
           "|---|---|---|---|---|---|"]
    for key, r in summary(f"{work}/four_optimizers_summary.csv").items():
        mine = [x for x in raw if x["optimizer"] == key[0]]
        n_stuck = sum(stuck(x) for x in mine)
        osc = median([float(x["oscillation"]) for x in mine
                      if x["oscillation"] not in ("", "nan")])
        a = rate(r)
        record("B", r, "float32", *a)
        md.append(f"| {r['optimizer']} | {ci(*a)} | {pct(n_stuck / len(mine))} "
                  f"| {pct(float(r['divergence_rate']))} | {steps(r)} "
                  f"| {osc:.2g} |")

    # C. Adam with and without schedulers (§3.2, §3.3)
    raw = rows(f"{work}/adam_schedulers.csv")
    md += ["", "### C. Adam with and without schedulers, 100 epochs (§3.2, §3.3)", "",
           "| lr | scheduler | P(converge) [95% CI] | P(diverge) "
           "| median updates to target | median last-epoch oscillation |",
           "|---|---|---|---|---|---|"]
    for key, r in summary(f"{work}/adam_schedulers_summary.csv").items():
        mine = [x for x in raw if (x["lr"], x["scheduler"]) == (key[1], key[2])]
        osc = median([float(x["oscillation"]) for x in mine
                      if x["oscillation"] not in ("", "nan")])
        a = rate(r)
        record("C", r, "float32", *a)
        md.append(f"| {r['lr']} | `{r['scheduler']}` | {ci(*a)} "
                  f"| {pct(float(r['divergence_rate']))} | {steps(r)} | {osc:.2g} |")

    md += ["", "Converged: param_error = max(|Wa−A|/A, |Wb−B|/B) ≤ 0.01 at the end "
           "and not diverged (summarize's success_rate). Intervals: Wilson score, 95%. "
           "Oscillation: spread of Wa, Wb over the last epoch (relative)."]
    with open(f"{out}/convergence.md", "w") as f:
        f.write("\n".join(md) + "\n")
    with open(f"{out}/convergence.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(out_rows[0]))
        w.writeheader()
        w.writerows(out_rows)
    print("\n".join(md))


def main(argv):
    if len(argv) == 5 and argv[1] == "seed":
        cmd_seed(*argv[2:])
    elif len(argv) == 4 and argv[1] == "tables":
        cmd_tables(*argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
