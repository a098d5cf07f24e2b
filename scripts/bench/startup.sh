#!/usr/bin/env bash
# Start-up figures for docs/performance.md; called by scripts/bench.sh, prints a markdown
# section on stdout.
#
#   scripts/bench/startup.sh KUAI WASMTIME RUNS
#
# 1. Process time of a trivial WASI command (bench/startup/trivial.wasm: an empty `_start`)
#    for kuai, wasmi and wasmtime.
#    (kuai is the default strategy, tiered; -C strategy=interp only interprets. Every kuai
#    row runs with -C cache=n except "kuai (cache warm)", whose compilation cache holds the
#    module's artifact.)
# 2. On CPython 3.12 (26 MB, fetched by scripts/fetch-real-programs.sh): time to the first
#    instruction, measured as the whole process with zero fuel, which stops at `_start`'s
#    first instruction (kuai --fuel 0, also with -W lazy-validation, which validates each
#    function at its first call, -C strategy=compile, which compiles each function at its
#    first call, and -C strategy=compile,compilation=eager, which compiles every function
#    first; wasmi --fuel 0; wasmtime -W fuel=0 without its compilation cache), the compile
#    throughput in MB/s of module that gives for Kuai's compiled tier and wasmtime; and
#    Kuai's decode + validate and eager translation throughput
#    (crates/kuai/examples/translate_all.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
kuai=$1 wasmtime=${2:-} runs=${3:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
medians() {
  python3 -c "import json, statistics, sys
for r in json.load(open(sys.argv[1]))['results']: print('%.1f' % (statistics.median(r['times']) * 1000))" "$1"
}

trivial=bench/startup/trivial.wasm
names=(kuai "kuai -W lazy-validation" "kuai -C strategy=compile" "kuai -C strategy=compile,compilation=eager"
  "kuai -C strategy=interp" "kuai (cache warm)")
# Every kuai row runs without the compilation cache but "cache warm", which has a cache
# directory of its own per table, filled (in the background, as a miss does) before the
# timed runs: fill_cache DIR COMMAND... runs the command and waits for the entry.
fill_cache() {
  local dir=$1; shift
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq 1200); do
    ls "$dir"/*.kwasm >/dev/null 2>&1 && ! ls "$dir"/*.lock >/dev/null 2>&1 && return
    sleep 0.5
  done
}
cmds=("$kuai run -C cache=n $trivial" "$kuai run -C cache=n -W lazy-validation $trivial" "$kuai run -C cache=n -C strategy=compile $trivial"
  "$kuai run -C cache=n -C strategy=compile,compilation=eager $trivial" "$kuai run -C cache=n -C strategy=interp $trivial"
  "$kuai run -C cache-dir=$tmp/cache-trivial $trivial")
fill_cache "$tmp/cache-trivial" "$kuai" run -C "cache-dir=$tmp/cache-trivial" "$trivial"
command -v wasmi >/dev/null && { names+=(wasmi); cmds+=("wasmi $trivial"); }
[ -n "$wasmtime" ] && { names+=(wasmtime); cmds+=("$wasmtime run $trivial"); }
hyperfine -N --warmup 3 --runs $((runs * 10)) --export-json "$tmp/trivial.json" "${cmds[@]}" >/dev/null 2>&1
mapfile -t trivial_ms < <(medians "$tmp/trivial.json")

python_wasm="$(scripts/fetch-real-programs.sh 2>/dev/null)/python-3.12.0.wasm"
ttfi_names=(kuai "kuai -W lazy-validation" "kuai -C strategy=compile" "kuai -C strategy=compile,compilation=eager"
  "kuai -C strategy=interp" "kuai (cache warm)")
ttfi_cmds=("$kuai run -C cache=n --fuel 0 $python_wasm" "$kuai run -C cache=n -W lazy-validation --fuel 0 $python_wasm"
  "$kuai run -C cache=n -C strategy=compile --fuel 0 $python_wasm" "$kuai run -C cache=n -C strategy=compile,compilation=eager --fuel 0 $python_wasm"
  "$kuai run -C cache=n -C strategy=interp --fuel 0 $python_wasm" "$kuai run -C cache-dir=$tmp/cache-ttfi --fuel 0 $python_wasm")
fill_cache "$tmp/cache-ttfi" "$kuai" run -C "cache-dir=$tmp/cache-ttfi" --fuel 0 "$python_wasm"
command -v wasmi >/dev/null && { ttfi_names+=(wasmi); ttfi_cmds+=("wasmi --fuel 0 $python_wasm"); }
[ -n "$wasmtime" ] && { ttfi_names+=("wasmtime (cold)"); ttfi_cmds+=("$wasmtime run -C cache=n -W fuel=0 $python_wasm"); }
# Every command ends in a fuel trap (non-zero exit): -i keeps hyperfine going.
hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$tmp/ttfi.json" "${ttfi_cmds[@]}" >/dev/null 2>&1
mapfile -t ttfi_ms < <(medians "$tmp/ttfi.json")

# 3. CPython running the real-program check (tests/real-programs/python/check.py, which ends
#    with exit status 3): the whole process, its files removed before each run.
guest=$tmp/guest
mkdir -p "$guest"
cp tests/real-programs/python/check.py "$guest/"
py_args="--dir $guest::/work --argv0 python3 $python_wasm /work/check.py /work"
# The AOT artifact (`kuai compile`), and one with fuel metering for the time to the first
# instruction; the compile time is reported too.
aot_start=$(date +%s.%N)
"$kuai" compile "$python_wasm" -o "$tmp/python.kwasm"
aot_s=$(awk -v a="$aot_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
"$kuai" compile -W fuel=0 "$python_wasm" -o "$tmp/python-fuel.kwasm"
aot_ttfi_ms=$(hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$tmp/aot-ttfi.json" \
  "$kuai run -C cache=n --allow-precompiled --fuel 0 $tmp/python-fuel.kwasm" >/dev/null 2>&1 && medians "$tmp/aot-ttfi.json")
aot_args="--dir $guest::/work --argv0 python3 $tmp/python.kwasm /work/check.py /work"
py_names=(kuai "kuai -C strategy=interp" "kuai -C strategy=compile" "kuai --allow-precompiled (AOT artifact)"
  "kuai (cache warm)")
py_cmds=("$kuai run -C cache=n $py_args" "$kuai run -C cache=n -C strategy=interp $py_args" "$kuai run -C cache=n -C strategy=compile $py_args"
  "$kuai run -C cache=n --allow-precompiled $aot_args" "$kuai run -C cache-dir=$tmp/cache-python $py_args")
rm -rf "$guest/data"
fill_cache "$tmp/cache-python" "$kuai" run -C "cache-dir=$tmp/cache-python" $py_args
if [ -n "$wasmtime" ]; then
  py_names+=("wasmtime (cold)" "wasmtime (cached)")
  py_cmds+=("$wasmtime run -C cache=n $py_args" "$wasmtime run $py_args")
fi
hyperfine -N -i --warmup 1 --runs "$runs" --prepare "rm -rf $guest/data" --export-json "$tmp/python.json" \
  "${py_cmds[@]}" >/dev/null 2>&1
mapfile -t py_ms < <(medians "$tmp/python.json")

cargo build --release -q -p kuai --example translate_all
translate=$(target/release/examples/translate_all "$python_wasm" "$runs")
get() { awk -F'\t' -v k="$1" '$1 == k {print $2}' <<<"$translate"; }
bytes=$(get bytes) validate_ms=$(get validate_ms) eager_ms=$(get eager_ms)

echo
echo "## Start-up"
echo
echo "Process wall time, medians (hyperfine -N). Trivial module: \`$trivial\` (an empty \`_start\`), $((runs * 10)) runs."
echo
echo "| engine | trivial module | CPython 3.12: to the first instruction |"
echo "|---|---:|---:|"
for i in "${!ttfi_names[@]}"; do
  echo "| ${ttfi_names[$i]} | ${trivial_ms[$i]:-–} ms | ${ttfi_ms[$i]:-–} ms |"
done
echo
wasmtime_ttfi=–
for i in "${!ttfi_names[@]}"; do [ "${ttfi_names[$i]}" = "wasmtime (cold)" ] && wasmtime_ttfi=${ttfi_ms[$i]}; done
echo "**CPython 3.12 running \`tests/real-programs/python/check.py\`** (the real-program check: imports,"
echo "sqlite3, json, files; the whole process, medians of $runs runs after one warm-up run, which also fills"
echo "wasmtime's cache for the cached row):"
echo
echo "| engine | time | ratio to wasmtime (cold) |"
echo "|---|---:|---:|"
cold=–
for i in "${!py_names[@]}"; do [ "${py_names[$i]}" = "wasmtime (cold)" ] && cold=${py_ms[$i]}; done
for i in "${!py_names[@]}"; do
  ratio=$(python3 -c "import sys
try: print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))
except ValueError: print('–')" "${py_ms[$i]:-–}" "$cold")
  echo "| ${py_names[$i]} | ${py_ms[$i]:-–} ms | $ratio |"
done
echo
echo "**AOT artifact** of the CPython module (\`kuai compile\`, every function on all $(nproc) cores): written in"
echo "${aot_s} s, $(( $(stat -c %s "$tmp/python.kwasm") / 1000000 )) MB; loading it and reaching the first instruction"
echo "(\`kuai run --allow-precompiled --fuel 0\` of an artifact compiled with \`-W fuel=0\`): ${aot_ttfi_ms:-–} ms."
echo
python3 - "$bytes" "$validate_ms" "$eager_ms" "${ttfi_ms[3]}" "$wasmtime_ttfi" "$(nproc)" <<'PY'
import sys
size, validate, eager = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
mb = size / 1e6
def rate(ms):
    try:
        return f"{mb / (float(ms) / 1e3):.1f} MB/s ({float(ms) / 1e3:.2f} s)"
    except ValueError:
        return "–"
print(f"**Compile throughput** on the CPython module, whole process to the first instruction "
      f"(decode, validate, compile every function eagerly on all {sys.argv[6]} cores, instantiate): "
      f"Kuai `-C strategy=compile,compilation=eager` {rate(sys.argv[4])}, wasmtime without its cache "
      f"{rate(sys.argv[5])}. (`-C strategy=compile` alone compiles each function at its first call: "
      f"only `_start` and up to 63 functions it calls before the first instruction.)")
print()
print(f"CPython module: {mb:.1f} MB. Kuai `Module::new` (decode + validate, lazy translation): "
      f"{validate:.0f} ms = {mb / (validate / 1e3):.0f} MB/s; with every function translated "
      f"eagerly: {eager:.0f} ms, so translation alone runs at {mb / ((eager - validate) / 1e3):.0f} MB/s "
      f"of module (medians of `crates/kuai/examples/translate_all.rs`). \"To the first instruction\" "
      f"runs the module with zero fuel, which traps at `_start`'s first instruction: reading, "
      f"validating (wasmtime: compiling), instantiating, trap report; with `-W lazy-validation` Kuai "
      f"validates each function at its first call instead (an invalid body then fails only when called). "
      f"wasmi runs in its default compilation mode; wasmtime compiles the whole module with Cranelift "
      f"first (cache off).")
PY
