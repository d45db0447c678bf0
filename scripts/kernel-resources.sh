#!/usr/bin/env bash
# kernel-resources.sh — what each CUDA kernel costs on paper: registers,
# stack, spill stores and loads (ptxas), and, where the toolkit has
# cuobjdump, the SASS instruction count of each kernel. No GPU needed: it
# compiles kernels/cuda_backend.cu's device code alone (about 10 s).
#
#   scripts/kernel-resources.sh [--arch sm_90] [--min-blocks 2] [--quick]
#
# --min-blocks: the OS_CUDA_MIN_BLOCKS the kernels are compiled for (CMake's
# default 2). --quick: the training kernels only in the table's body (the
# other kernels are summarized in one line). Prints a table; exit 1 when the
# compile fails. Run it before and after a kernel change to measure it.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=sm_90 MB=2 QUICK=0
while [ $# -gt 0 ]; do
  case $1 in
    --arch) ARCH=$2; shift 2 ;;
    --min-blocks) MB=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    *) echo "kernel-resources: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
[ -x "$NVCC" ] || { echo "kernel-resources: no nvcc" >&2; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# the project's device flags (CMakeLists.txt OS_CUDA_FLAGS): same code as the build
"$NVCC" -cubin -arch="$ARCH" -std=c++17 -fmad=false -prec-div=true -prec-sqrt=true -ftz=false \
  -DCU_MIN_BLOCKS="$MB" -DOS_HAVE_CUDA=1 -Iinclude -Ikernels --resource-usage \
  kernels/cuda_backend.cu -o "$W/k.cubin" >"$W/ptxas.txt" 2>&1 || { cat "$W/ptxas.txt" >&2; exit 1; }
SASS=""
CUOBJDUMP=$(command -v cuobjdump || ls "$(dirname "$NVCC")/cuobjdump" 2>/dev/null || true)
if [ -n "$CUOBJDUMP" ] && "$CUOBJDUMP" -sass "$W/k.cubin" >"$W/sass.txt" 2>/dev/null; then SASS=$W/sass.txt; fi
echo "kernel resources: $("$NVCC" --version | tail -n 1), $ARCH, OS_CUDA_MIN_BLOCKS=$MB$([ -n "$SASS" ] || echo ', no cuobjdump: no SASS counts')"
python3 - "$W/ptxas.txt" "${SASS:-}" "$QUICK" <<'EOF'
import re, subprocess, sys
ptxas, sass, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
rows, cur = {}, None
for line in open(ptxas):
    m = re.search(r"Function properties for (\S+)", line)
    if m:
        cur = m.group(1); rows.setdefault(cur, {}); continue
    m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
    if m and cur:
        rows[cur].update(stack=int(m.group(1)), st=int(m.group(2)), ld=int(m.group(3))); continue
    m = re.search(r"Used (\d+) registers", line)
    if m and cur:
        rows[cur]["regs"] = int(m.group(1))
ins = {}
if sass:
    fn = None
    for line in open(sass):
        m = re.match(r"\s*Function : (\S+)", line)
        if m:
            fn = m.group(1); ins[fn] = 0; continue
        if fn and re.match(r"\s*/\*[0-9a-f]{4,}\*/\s+[A-Z@]", line) and " NOP" not in line:
            ins[fn] += 1
names = list(rows)
dem = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.split("\n") \
    if names else []
def short(d):
    d = d.replace("void ", "", 1).replace("cu_args<float>", "").replace("cu_args<double>", "").replace("(const )", "").replace("()", "")
    return re.sub(r"\(.*\)$", "", d)
table = []
for n, d in zip(names, dem):
    r = rows[n]
    if "regs" not in r:
        continue  # a device function, not a kernel
    table.append((short(d), r.get("regs", 0), r.get("stack", 0), r.get("st", 0), r.get("ld", 0), ins.get(n)))
table.sort(key=lambda t: (not t[0].startswith("cu_train"), t[0]))
print(f"{'kernel':38s} {'regs':>5s} {'stack':>6s} {'spill_st':>8s} {'spill_ld':>8s} {'sass_ins':>8s}")
others = []
for k, rg, stk, st, ld, n in table:
    if quick and not k.startswith("cu_train"):
        others.append(f"{k} {rg}")
        continue
    print(f"{k:38s} {rg:5d} {stk:6d} {st:8d} {ld:8d} {n if n is not None else '-':>8}")
if others:
    print("others (regs): " + ", ".join(others))
EOF
