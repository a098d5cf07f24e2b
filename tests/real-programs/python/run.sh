#!/usr/bin/env bash
# Real-program check: CPython 3.12.0 for WASI runs check.py; its stdout must equal
# expected.stdout (recorded under wasmtime 49.0.3), its exit status must be 3 (check.py
# exits 3 on purpose, to test that proc_exit's code reaches the host) and the files it
# wrote must be on the host disk.
#
#   tests/real-programs/python/run.sh [RUNTIME]     # RUNTIME: default `wasmtime`
#   tests/real-programs/python/run.sh target/release/kuai
#   RECORD=1 tests/real-programs/python/run.sh      # rewrite expected.stdout (use wasmtime)
#
# The module comes from scripts/fetch-real-programs.sh (cache dir: $KUAI_REAL_PROGRAMS,
# default ~/.cache/kuai/real-programs). When RUNTIME is not given and no `wasmtime` is on
# PATH, the wasmtime CLI is fetched into that cache too. The runtime is invoked as
#
#   RUNTIME run --dir TMP::/work --env KUAI_CHECK=kuai-real-programs --argv0 python3 \
#       CACHE/python-3.12.0.wasm /work/check.py /work
#
# (the standard library is packed inside the module: no PYTHONHOME, no extra --dir).
# TIMEOUT (seconds, default 1800) bounds the run when coreutils `timeout` exists.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)

if [ $# -ge 1 ]; then
  runtime=$1
elif command -v wasmtime >/dev/null 2>&1; then
  runtime=wasmtime
else
  runtime=$("$root/scripts/fetch-real-programs.sh" --wasmtime)
fi
command -v "$runtime" >/dev/null 2>&1 || { echo "python: runtime not found or not executable: $runtime"; echo "python: 0 passed, 1 failed"; exit 1; }
cache=$("$root/scripts/fetch-real-programs.sh")
wasm=$cache/python-3.12.0.wasm

work=$(mktemp -d "${TMPDIR:-/tmp}/kuai-python-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/guest"
cp "$here/check.py" "$work/guest/check.py"

cmd=("$runtime" run --dir "$work/guest::/work" --env KUAI_CHECK=kuai-real-programs --argv0 python3
     "$wasm" /work/check.py /work)
source "$here/../common.sh"
run_check python 3

# The guest's writes must have reached the host file system.
host_view=$(cd "$work/guest" && { find data -type f 2>/dev/null || true; } | LC_ALL=C sort | while read -r f; do
  printf '%s %s\n' "$f" "$(wc -c <"$f" | tr -d ' ')"; done)
expected_view=$'data/check.db 20480\ndata/hello.txt 1809\ndata/sub/deeper/moved.bin 5000'
if [ "$host_view" != "$expected_view" ]; then
  echo "python: files on the host differ. Expected:"; echo "$expected_view"; echo "Got:"; echo "$host_view"
  fail=1
fi
sha256_of() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
for f in "data/hello.txt 56bf80b694902fad05dc4d18d8a57639e3b1887973dc41009e98cc54ce1bcb8e" \
         "data/sub/deeper/moved.bin 37052b6d90cc8814bd918f68bc459bb50f05cc0be1dc75e7f9da1c28a5f4b024"; do
  read -r path sum <<<"$f"
  if [ -f "$work/guest/$path" ] && [ "$(sha256_of "$work/guest/$path")" != "$sum" ]; then
    echo "python: $path on the host has unexpected content (sha256 $(sha256_of "$work/guest/$path"), expected $sum)"
    fail=1
  fi
done
finish python "$runtime"
