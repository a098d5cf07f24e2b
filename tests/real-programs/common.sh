# Shared by the real-program checks' run.sh scripts (sourced, bash).
#
# run_check NAME WANT_RC   runs "${cmd[@]}" (bounded by TIMEOUT seconds, default 1800, when
#                          coreutils `timeout` exists) with stdout/stderr in $work; with
#                          RECORD=1 saves stdout as $here/expected.stdout and exits; else
#                          compares stdout and the exit status and sets fail=1 on a
#                          difference. Sets rc and secs.
# finish NAME LABEL        prints the verdict (stderr and the command on failure) and exits.

run_check() {
  local name=$1 want_rc=$2
  if command -v timeout >/dev/null 2>&1; then cmd=(timeout "${TIMEOUT:-1800}" "${cmd[@]}"); fi
  local start end
  start=$(date +%s.%N)
  set +e
  "${cmd[@]}" >"$work/stdout" 2>"$work/stderr" </dev/null
  rc=$?
  set -e
  end=$(date +%s.%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')

  if [ "${RECORD:-}" = 1 ]; then
    [ "$rc" -eq "$want_rc" ] || { cat "$work/stderr" >&2; echo "$name: exit status $rc, not $want_rc: not recorded" >&2; exit 1; }
    cp "$work/stdout" "$here/expected.stdout"
    echo "$name: recorded $here/expected.stdout ($(wc -l <"$work/stdout") lines, ${secs}s)"
    exit 0
  fi

  fail=0
  if ! diff -u "$here/expected.stdout" "$work/stdout" >"$work/diff"; then
    echo "$name: stdout differs from expected.stdout:"
    head -n 200 "$work/diff"
    fail=1
  fi
  if [ "$rc" -ne "$want_rc" ]; then
    echo "$name: exit status $rc, expected $want_rc"
    fail=1
  fi
}

finish() {
  local name=$1 label=$2
  if [ "$fail" -ne 0 ]; then
    if [ -s "$work/stderr" ]; then echo "$name: guest stderr:"; cat "$work/stderr"; fi
    echo "$name: command: ${cmd[*]}"
    echo "$name: 0 passed, 1 failed"
    exit 1
  fi
  echo "$name: ok in ${secs}s ($label)"
  echo "$name: 1 passed, 0 failed"
  exit 0
}
