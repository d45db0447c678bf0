#!/usr/bin/env python3
"""mutate.py — plant each bug of scripts/mutants.txt, rebuild, run the tests.

    scripts/mutate.py [--build DIR] [--only ID,...] [--smoke N] [--check] [--markdown]

Each mutant is a small, plausible bug in include/, src/ or kernels/: one
exact piece of code replaced by another. For each one the script applies it,
rebuilds the CPU build in DIR (the CUDA kernels' code is run on the CPU by
test_cuda_emu), runs ctest until the first failure, restores the file, and
records which test killed it. It prints one row per mutant, the kill rate,
and the survivors. A mutant whose code is no longer in its file is an error
(the list must follow the code): --check verifies that and exits.

The list format: a header line "@@ ID FILE: what the bug is", then the lines
to find, each starting with "- ", then their replacement, each starting with
"+ ". Lines starting with "#" are comments.

Exit status: 0 when every mutant was killed or marked equivalent in its
description ("(equivalent: why)"), 1 otherwise, 2 on a bad list.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(path):
    mutants, cur = [], None
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("@@ "):
            m = re.match(r"@@ (\S+) (\S+): (.+)$", line)
            if not m:
                sys.exit(f"mutate: {path}:{n}: expected '@@ ID FILE: what'")
            cur = {"id": m.group(1), "file": m.group(2), "what": m.group(3), "old": [], "new": []}
            mutants.append(cur)
        elif line.startswith("- ") or line == "-":
            cur["old"].append(line[2:])
        elif line.startswith("+ ") or line == "+":
            cur["new"].append(line[2:])
        else:
            sys.exit(f"mutate: {path}:{n}: a line must start with '@@ ', '- ', '+ ' or '#'")
    for m in mutants:
        m["old"], m["new"] = "\n".join(m["old"]), "\n".join(m["new"])
    return mutants


def check(mutants):
    bad = 0
    ids = set()
    for m in mutants:
        if m["id"] in ids:
            print(f"mutate: {m['id']}: the id is used twice")
            bad += 1
        ids.add(m["id"])
        text = open(os.path.join(ROOT, m["file"]), encoding="utf-8").read()
        count = text.count(m["old"])
        if count != 1 or m["old"] == m["new"]:
            print(f"mutate: {m['id']}: its code occurs {count} times in {m['file']} (must be once)")
            bad += 1
    return bad


def run(cmd, timeout):
    """(exit status, output); 124 when it ran past timeout (the whole process
    group is killed: a hung test binary must not outlive its ctest)."""
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return 124, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build-mutate"))
    ap.add_argument("--list", default=os.path.join(ROOT, "scripts", "mutants.txt"))
    ap.add_argument("--only", default="", help="comma-separated ids")
    ap.add_argument("--smoke", type=int, default=0, help="only the first N mutants")
    ap.add_argument("--check", action="store_true", help="check the list against the code and exit")
    ap.add_argument("--markdown", action="store_true", help="the table as Markdown")
    args = ap.parse_args()

    mutants = load(args.list)
    if check(mutants):
        return 2
    if args.check:
        print(f"mutate: {len(mutants)} mutants, every one matches its file")
        return 0
    if args.only:
        want = set(args.only.split(","))
        mutants = [m for m in mutants if m["id"] in want]
    if args.smoke:
        mutants = mutants[: args.smoke]

    # the build: CPU only (test_cuda_emu runs the kernels' code), the tests
    rc, out = run(["cmake", "-S", ".", "-B", args.build, "-DCMAKE_BUILD_TYPE=Release",
                   "-DOS_ENABLE_CUDA=OFF", "-DOS_BUILD_TESTS=ON"]
                  + (["-G", "Ninja"] if subprocess.run(["which", "ninja"], capture_output=True).returncode == 0
                     else []), 300)
    if rc == 0:
        rc, out = run(["cmake", "--build", args.build], 1800)
    if rc != 0:
        print(out[-3000:])
        print("mutate: the unmutated build fails")
        return 2
    ctest = ["ctest", "--test-dir", args.build, "-j", str(os.cpu_count() or 2), "--stop-on-failure",
             "--timeout", "300", "-E", "^(test_plots|bench_quick)$"]
    rc, out = run(ctest, 1800)
    if rc != 0:
        print(out[-3000:])
        print("mutate: the unmutated tests fail")
        return 2

    rows = []
    t0 = time.time()
    for m in mutants:
        path = os.path.join(ROOT, m["file"])
        original = open(path, encoding="utf-8").read()
        t = time.time()
        try:
            open(path, "w", encoding="utf-8").write(original.replace(m["old"], m["new"], 1))
            brc, bout = run(["cmake", "--build", args.build], 1800)
            if brc != 0:
                verdict, by = "killed", "the build (does not compile)"
            else:
                trc, tout = run(ctest, 300)
                # the first test to fail, in the order they finished (the summary
                # list is sorted by number and also holds tests stopped by --stop-on-failure)
                failed = re.findall(r"Test +#\d+: (\S+) \.*\*\*\*(?:Failed|Exception|Timeout)", tout) or \
                    re.findall(r"^\s*\d+ - (\S+)", tout, re.M)
                if trc == 0:
                    verdict, by = "SURVIVED", ""
                elif trc == 124:
                    running = re.findall(r"Start +\d+: (\S+)", tout)
                    verdict, by = "killed", "a test hangs (" + (running[-1] if running else "?") + ")"
                else:
                    verdict, by = "killed", failed[0] if failed else f"ctest exit {trc}"
        finally:
            open(path, "w", encoding="utf-8").write(original)
        if verdict == "SURVIVED" and "(equivalent:" in m["what"]:
            verdict = "equivalent"
        rows.append((m, verdict, by, time.time() - t))
        print(f"{m['id']:28s} {verdict:10s} {by}  ({time.time() - t:.0f} s)", flush=True)
    run(["cmake", "--build", args.build], 1800)  # leave it built from the real code

    killed = sum(1 for r in rows if r[1] == "killed")
    equivalent = sum(1 for r in rows if r[1] == "equivalent")
    survivors = [r for r in rows if r[1] == "SURVIVED"]
    real = len(rows) - equivalent
    rate = 100.0 * killed / real if real else 100.0
    if args.markdown:
        print("\n| mutant | file | bug | result | killed by |\n|---|---|---|---|---|")
        for m, v, by, _ in rows:
            print(f"| {m['id']} | {m['file']} | {m['what']} | {v} | {by} |")
    print(f"\nmutate: {len(rows)} mutants, {killed} killed, {equivalent} equivalent, {len(survivors)} survived: "
          f"kill rate {rate:.1f}% of the non-equivalent ({time.time() - t0:.0f} s)")
    for m, _, _, _ in survivors:
        print(f"  survivor {m['id']} ({m['file']}): {m['what']}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
