#!/usr/bin/env python3
"""check_layers.py — the library's one-way dependency chain (docs/design.md §2).

    check_layers.py SOURCE_DIR OBJECT...

Reads which object file defines and which uses each symbol (nm), and fails
when a file of src/ or kernels/ uses a file of a later layer, or when files
depend on each other in a circle; and when kernels/ includes anything from
src/ or tests/. Exit status 0 passes, 1 fails.
"""
import os
import re
import subprocess
import sys

# The layers, first to last; a file may use files of its own or earlier layers.
LAYERS = [
    {"error", "fmt", "shortest", "numtext", "value", "csv", "npz", "atomic", "memory"},  # utilities: depend on nothing
    {"spec", "sched_spec", "sweepfile"},   # the spec, its tables, sweep files
    {"dataset"},
    {"plan", "sample"},                    # the grid and its sample points
    {"cpu_backend", "cuda_backend"},       # backends
    {"run"},                               # the backend table
    {"results", "summarize", "provenance", "parts"},  # tables, their sidecars, parts and merge
    {"flags", "bench", "main", "mpi_run"},  # the CLI
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def unit(path):
    return re.sub(r"\.(c|cu|cpp)\.o(bj)?$", "", os.path.basename(path))


def main():
    src = sys.argv[1]
    objs = [o for arg in sys.argv[2:] for o in arg.split(";") if o]  # CMake passes lists whole
    defs, uses = {}, {}
    for o in objs:
        name = unit(o)
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBRW":
                defs.setdefault(p[2], name)
            elif len(p) == 2 and p[0] == "U":
                uses.setdefault(name, set()).add(p[1])
    deps = {n: {defs[s] for s in syms if s in defs and defs[s] != n} for n, syms in uses.items()}
    errors = []
    for n, ds in sorted(deps.items()):
        if n not in RANK:
            errors.append(f"{n}: not in a layer of check_layers.py (add it where it belongs)")
            continue
        for d in sorted(ds):
            if d in RANK and RANK[d] > RANK[n]:
                errors.append(f"{n} (layer {RANK[n]}) uses {d} (layer {RANK[d]}), a later layer")
    # circles (within a layer)
    def reaches(a, b, seen):
        if a == b:
            return True
        seen.add(a)
        return any(reaches(x, b, seen) for x in deps.get(a, ()) if x not in seen)
    for n, ds in sorted(deps.items()):
        for d in sorted(ds):
            if reaches(d, n, set()) and n < d:
                errors.append(f"{n} and {d} depend on each other")
    # kernels/: production code that includes nothing from src/ or tests/
    kdir = os.path.join(src, "kernels")
    local = set(os.listdir(kdir))
    for f in sorted(local):
        for i, line in enumerate(open(os.path.join(kdir, f), encoding="utf-8"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if m and not (m.group(1).startswith("orbitsweep/") or m.group(1) in local):
                errors.append(f"kernels/{f}:{i}: includes \"{m.group(1)}\" (only orbitsweep/ and kernels/)")
    for e in errors:
        print("check_layers:", e)
    print(f"check_layers: {len(deps)} files, {sum(len(d) for d in deps.values())} dependencies, "
          f"{len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
