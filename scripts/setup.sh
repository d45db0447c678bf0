#!/usr/bin/env bash
# setup.sh — install what building, testing and plotting orbitsweep need,
# from Debian's packages, when it is missing: a C/C++ compiler, CMake,
# Ninja, GoogleTest, zlib (.npz tables), libyaml (sweep files), cJSON (the
# tables' sidecars), OpenSSL's libcrypto (SHA-256 in them), {fmt} (its
# Dragonbox writes the tables' numbers; header-only), libdeflate (the .npz
# tables' checksums, faster than zlib's), matplotlib, and
# venv and headers for the Python package. Open MPI is optional (OS_WITH_MPI=1
# installs it: `mpirun -np N orbitsweep run`; CI does). Safe to run again
# (installs nothing then).
set -euo pipefail

need=()
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v c++ >/dev/null 2>&1 || need+=(g++)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v ninja >/dev/null 2>&1 || need+=(ninja-build)
[ -f /usr/include/gtest/gtest.h ] || need+=(libgtest-dev)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
[ -f /usr/include/yaml.h ] || need+=(libyaml-dev)
[ -f /usr/include/cjson/cJSON.h ] || need+=(libcjson-dev)
[ -f /usr/include/openssl/evp.h ] || need+=(libssl-dev)
[ -f /usr/include/fmt/format.h ] || need+=(libfmt-dev)
[ -f /usr/include/libdeflate.h ] || need+=(libdeflate-dev)
if [ "${OS_WITH_MPI:-0}" = 1 ]; then
  command -v mpirun >/dev/null 2>&1 || need+=(openmpi-bin)
  [ -f /usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h ] || [ -f /usr/include/mpi.h ] || need+=(libopenmpi-dev)
fi
/usr/bin/python3 -c 'import matplotlib, numpy' >/dev/null 2>&1 || need+=(python3-matplotlib python3-numpy)
# the Python package (README "Python"): a virtual environment and Python's headers
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
[ -f "$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] ||
  need+=(python3-dev)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
