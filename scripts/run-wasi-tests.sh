#!/bin/sh
# Runs the WASI test programs crates/kuai-cli/tests/wasi/*.wasm under a runtime and compares
# (default) or records (--record) their stdout. See crates/kuai-cli/tests/wasi/README.md.
#
#   scripts/run-wasi-tests.sh                              # verify under wasmtime
#   scripts/run-wasi-tests.sh --runtime target/release/kuai
#   scripts/run-wasi-tests.sh --record                     # rewrite NAME.stdout (use wasmtime)
#   scripts/run-wasi-tests.sh files dirs                   # only these programs
#   scripts/run-wasi-tests.sh --tcp-runtime /opt/wasmtime-36/wasmtime_cli/wasmtime
#                                   # runtime for `// tcp: yes` programs (default: --runtime;
#                                   # env WASI_TCP_RUNTIME works too)
#
# For each program a fresh fixture is built in a temp dir T:
#   T/sandbox/            empty, writable; preopened as /sandbox when the .c says `// dir: sandbox`
#   T/sandbox/data.txt    "hello sandbox\n"
#   T/sandbox/link-out -> ../outside
#   T/sandbox/abs-link -> /etc
#   T/outside/secret.txt  "secret\n"
# and the runtime is run from T as working directory:
#   RUNTIME run [--dir T/sandbox::/sandbox] [--env N=V]... /abs/NAME.wasm ARGS... < STDIN
# Programs marked `// tcp: yes` also get a TCP listener on a free 127.0.0.1 port as fd 3
# (`--tcplisten 127.0.0.1:PORT`, or `-S preview2=n -S tcplisten=...` for wasmtime), and a
# python3 client connects, sends "hello\n" and expects "HELLO\n" back. wasmtime >= ~40
# dropped its legacy WASI implementation and with it tcplisten: such a program is then
# SKIPPED (not failed) unless --tcp-runtime names a wasmtime that still has it
# (scripts/install-wasi-toolchain.sh --legacy-wasmtime installs 36.0.9 in /opt/wasmtime-36).
set -u
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
dir=$root/crates/kuai-cli/tests/wasi

runtime=wasmtime
tcp_runtime=${WASI_TCP_RUNTIME:-}
record=0
names=""
while [ $# -gt 0 ]; do
    case "$1" in
        --record) record=1 ;;
        --runtime) runtime=$2; shift ;;
        --runtime=*) runtime=${1#--runtime=} ;;
        --tcp-runtime) tcp_runtime=$2; shift ;;
        --tcp-runtime=*) tcp_runtime=${1#--tcp-runtime=} ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) names="$names $1" ;;
    esac
    shift
done
abspath() {
    case "$1" in
        */*) echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" ;;
        *) echo "$1" ;;
    esac
}
runtime=$(abspath "$runtime")
[ -n "$tcp_runtime" ] || tcp_runtime=$runtime
tcp_runtime=$(abspath "$tcp_runtime")
if [ -z "$names" ]; then
    for f in "$dir"/*.wasm; do names="$names $(basename "$f" .wasm)"; done
fi
is_wasmtime() { case "$(basename "$1")" in wasmtime*) return 0 ;; esac; return 1; }
# Whether a wasmtime still has the legacy WASI implementation (needed for tcplisten).
wasmtime_has_legacy() {
    p=$(mktemp -d)
    printf '\000asm\001\000\000\000' >"$p/empty.wasm"
    "$1" run -S preview2=n "$p/empty.wasm" >/dev/null 2>&1
    rc=$?
    rm -rf "$p"
    return $rc
}
to=""
command -v timeout >/dev/null 2>&1 && to="timeout 300"

# Single-quote one word for eval.
q() { printf "'"; printf '%s' "$1" | sed "s/'/'\\\\''/g"; printf "' "; }

# Directives: leading lines starting with //; `// key: value` for known keys, others ignored.
# Prints "key<TAB>value" lines; args come out already single-quoted; stdin bytes go to $2.
parse_directives() {
    awk -v stdin_file="$2" '
    function shq(s,   n, parts, i, r) {
        n = split(s, parts, "\047"); r = parts[1]
        for (i = 2; i <= n; i++) r = r "\047\\\047\047" parts[i]
        return "\047" r "\047"
    }
    function splitargs(s,   out, i, c, cur, inq, have) {
        out = ""; cur = ""; inq = 0; have = 0
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (inq) { if (c == "\"") inq = 0; else cur = cur c }
            else if (c == "\"") { inq = 1; have = 1 }
            else if (c == " " || c == "\t") { if (have) { out = out " " shq(cur); cur = ""; have = 0 } }
            else { cur = cur c; have = 1 }
        }
        if (have) out = out " " shq(cur)
        return out
    }
    function unesc(s,   out, i, c, d) {
        out = ""
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (c == "\\" && i < length(s)) {
                d = substr(s, i + 1, 1)
                if (d == "n") { out = out "\n"; i++; continue }
                if (d == "\\") { out = out "\\"; i++; continue }
            }
            out = out c
        }
        return out
    }
    !/^\/\// { exit }
    {
        line = $0; sub(/^\/\/[ \t]*/, "", line)
        if (match(line, /^(args|dir|env|stdin|exit|tcp):/)) {
            key = substr(line, 1, RLENGTH - 1); val = substr(line, RLENGTH + 1)
            sub(/^ /, "", val)
            if (key == "args") print "args\t" splitargs(val)
            else if (key == "stdin") printf "%s", unesc(val) > stdin_file
            else print key "\t" val
        }
    }' "$1"
}

passed=0
failed=0
skipped=0
failed_names=""
tab=$(printf '\t')

for name in $names; do
    wasm=$dir/$name.wasm
    src=$dir/$name.c
    expected=$dir/$name.stdout
    if [ ! -f "$wasm" ] || [ ! -f "$src" ]; then
        echo "FAIL $name: missing $name.wasm or $name.c"
        failed=$((failed + 1)); failed_names="$failed_names $name"; continue
    fi
    T=$(mktemp -d)
    H=$(mktemp -d)
    mkdir "$T/sandbox" "$T/outside"
    printf 'secret\n' >"$T/outside/secret.txt"
    printf 'hello sandbox\n' >"$T/sandbox/data.txt"
    ln -s ../outside "$T/sandbox/link-out"
    ln -s /etc "$T/sandbox/abs-link"
    : >"$H/stdin"

    parse_directives "$src" "$H/stdin" >"$H/directives"
    opts=""
    args=""
    want_exit=0
    tcp=0
    while IFS="$tab" read -r key val; do
        case "$key" in
            dir) opts="$opts$(q --dir)$(q "$T/$val::/$val")" ;;
            env) opts="$opts$(q --env)$(q "$val")" ;;
            args) args="$args $val" ;;
            exit) want_exit=$val ;;
            tcp) [ "$val" = yes ] && tcp=1 ;;
        esac
    done <"$H/directives"

    client_ok=1
    if [ "$tcp" = 1 ] && is_wasmtime "$tcp_runtime" && ! wasmtime_has_legacy "$tcp_runtime"; then
        echo "SKIP $name: $tcp_runtime cannot preopen TCP listeners (no legacy WASI); use --tcp-runtime"
        skipped=$((skipped + 1))
        rm -rf "$T" "$H"
        continue
    fi
    if [ "$tcp" = 1 ]; then
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        if is_wasmtime "$tcp_runtime"; then
            opts="$opts$(q -S)$(q preview2=n)$(q -S)$(q "tcplisten=127.0.0.1:$port")"
        else
            opts="$opts$(q --tcplisten)$(q "127.0.0.1:$port")"
        fi
        eval "set -- $opts$(q "$wasm") $args"
        (cd "$T" && exec $to "$tcp_runtime" run "$@" <"$H/stdin" >"$H/stdout" 2>"$H/stderr") &
        rpid=$!
        python3 - "$port" >"$H/client" 2>&1 <<'EOF' || client_ok=0
import socket, sys, time
port = int(sys.argv[1])
deadline = time.time() + 30
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("client: could not connect")
        time.sleep(0.1)
s.sendall(b"hello\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
s.close()
print("client got %r" % data)
sys.exit(0 if data == b"HELLO\n" else 1)
EOF
        wait "$rpid"
        got_exit=$?
    else
        eval "set -- $opts$(q "$wasm") $args"
        (cd "$T" && exec $to "$runtime" run "$@" <"$H/stdin" >"$H/stdout" 2>"$H/stderr")
        got_exit=$?
    fi

    problem=""
    [ "$got_exit" = "$want_exit" ] || problem="exit status $got_exit, want $want_exit"
    [ "$client_ok" = 1 ] || problem="${problem:+$problem; }tcp client: $(cat "$H/client")"
    if [ "$record" = 1 ]; then
        cp "$H/stdout" "$expected"
        verb=RECORDED
    else
        verb=PASS
        if [ ! -f "$expected" ]; then
            problem="${problem:+$problem; }no $name.stdout recorded"
        elif ! cmp -s "$H/stdout" "$expected"; then
            problem="${problem:+$problem; }stdout differs"
        fi
    fi
    if [ -z "$problem" ]; then
        echo "$verb $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name: $problem"
        if [ -f "$expected" ] && [ "$record" = 0 ]; then
            diff -u "$expected" "$H/stdout" | sed 's/^/    /' | head -n 40
        fi
        sed 's/^/    stderr: /' "$H/stderr" | head -n 20
        failed=$((failed + 1)); failed_names="$failed_names $name"
    fi
    rm -rf "$T" "$H"
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
if [ "$skipped" -gt 0 ]; then
    echo "wasi: $passed passed, $failed failed, $skipped skipped"
else
    echo "wasi: $passed passed, $failed failed"
fi
[ "$failed" = 0 ]
