#!/usr/bin/env bash
# Real-program check: QuickJS-NG 0.17.0 (qjs-wasi-reactor.wasm, a WASI *reactor*) evaluates
# check.js; stdout must equal expected.stdout, the host must exit 0, and the file the
# script leaves behind must be on the host disk.
#
# A reactor has no _start, so it cannot be run by `RUNTIME run`; it needs a host that calls
# its exports (HOST.md). Two ways:
#
#   tests/real-programs/quickjs/run.sh
#       reference: the wasmtime CLI with wasmtime_driver.wat (a tiny WASI command that
#       calls the reactor's exports), `wasmtime run --preload qjs=MODULE driver ...`.
#   tests/real-programs/quickjs/run.sh HOST [HOST-ARGS...]
#       any host with prototype_host.py's interface, run as
#         HOST [HOST-ARGS...] --dir TMP::/work MODULE qjs --std -m /work/check.js alpha beta
#       e.g.  run.sh python3 tests/real-programs/quickjs/prototype_host.py   (pip install wasmtime)
#             run.sh target/release/examples/qjs_host                         (a Rust host on Kuai)
#
#   RECORD=1 tests/real-programs/quickjs/run.sh     # rewrite expected.stdout
#
# The module comes from scripts/fetch-real-programs.sh (cache: $KUAI_REAL_PROGRAMS, default
# ~/.cache/kuai/real-programs). TIMEOUT (seconds, default 1800) bounds the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)

cache=$("$root/scripts/fetch-real-programs.sh")
wasm=$cache/qjs-wasi-reactor.wasm
qjs_args=(--std -m /work/check.js alpha beta)

work=$(mktemp -d "${TMPDIR:-/tmp}/kuai-quickjs-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/guest"
cp "$here/check.js" "$work/guest/check.js"

if [ $# -ge 1 ]; then
  command -v "$1" >/dev/null 2>&1 || { echo "quickjs: host not found or not executable: $1"; echo "quickjs: 0 passed, 1 failed"; exit 1; }
  host=$1
  cmd=("$@" --dir "$work/guest::/work" "$wasm" qjs "${qjs_args[@]}")
else
  if command -v wasmtime >/dev/null 2>&1; then wt=wasmtime
  else wt=$("$root/scripts/fetch-real-programs.sh" --wasmtime); fi
  host="$wt + wasmtime_driver.wat"
  cmd=("$wt" run --dir "$work/guest::/work" --preload "qjs=$wasm" "$here/wasmtime_driver.wat" "${qjs_args[@]}")
fi
source "$here/../common.sh"
run_check quickjs 0

# What check.js leaves in /work/out must be on the host disk.
expected_json='{"primes":[2,3,5,7,11,13,17,19,23,29]}'
got_files=$(cd "$work/guest" && { find out -type f 2>/dev/null || true; } | LC_ALL=C sort | tr '\n' ' ')
if [ "$got_files" != "out/moved.json " ] || [ "$(cat "$work/guest/out/moved.json" 2>/dev/null)" != "$expected_json" ]; then
  echo "quickjs: files on the host differ: expected out/moved.json = $expected_json; got: ${got_files:-nothing}"
  fail=1
fi
finish quickjs "$host"
