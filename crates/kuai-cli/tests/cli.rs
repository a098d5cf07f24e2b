//! End-to-end tests of the `kuai` binary: output, exit status and one-line errors.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs kuai without a compilation cache (no `HOME`, no `XDG_CACHE_HOME`; the cache tests
/// name theirs with `-C cache-dir`), so that every run does what its options say.
fn kuai(args: &[&str]) -> Output {
    kuai_with(args, &[])
}

fn kuai_with(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kuai"));
    command
        .args(args)
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("KUAI_LOG")
        .envs(envs.iter().copied());
    match command.output() {
        Ok(output) => output,
        Err(e) => panic!("cannot run kuai: {e}"),
    }
}

/// A file under `tests/data`.
fn data(name: &str) -> String {
    path(&["tests", "data", name])
}

fn path(parts: &[&str]) -> String {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    p.extend(parts);
    p.display().to_string()
}

fn fib_wat() -> String {
    path(&["..", "..", "examples", "fib.wat"])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command failed with status `code` and exactly one `error:` line on stderr.
fn assert_one_line_error(o: &Output, code: i32) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
}

#[test]
fn run_fib_prints_the_result() {
    let o = kuai(&["run", "--invoke", "fib", &fib_wat(), "10"]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "55\n");
    let o = kuai(&["run", "--invoke", "fib_iter", &fib_wat(), "0x5a"]);
    assert_eq!(stdout(&o), "2880067194370816120\n", "stderr: {}", stderr(&o));
}

#[test]
fn run_without_invoke_just_instantiates() {
    let o = kuai(&["run", &fib_wat()]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn missing_file_is_a_one_line_error() {
    let o = kuai(&["run", &data("no-such-file.wasm")]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("no-such-file.wasm"));
}

#[test]
fn garbage_files_are_one_line_errors() {
    assert_one_line_error(&kuai(&["run", &data("garbage.wasm")]), 1);
    assert_one_line_error(&kuai(&["run", &data("truncated.wasm")]), 1);
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let o = kuai(&["run", "--invoke", "fib", &fib_wat()]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("takes 1 argument"), "{}", stderr(&o));
    assert_one_line_error(&kuai(&["run", "--invoke", "fib", &fib_wat(), "1", "2"]), 1);
    let o = kuai(&["run", "--invoke", "fib", &fib_wat(), "ten"]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("`ten`"), "{}", stderr(&o));
    assert_one_line_error(&kuai(&["run", "--invoke", "nope", &fib_wat()]), 1);
    // After the module, arguments are the guest's; a module without `_start` ignores them.
    let o = kuai(&["run", &fib_wat(), "5"]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), ""), "stderr: {}", stderr(&o));
}

#[test]
fn negative_and_hex_arguments() {
    let o = kuai(&["run", "--invoke", "div", &data("trap.wat"), "-10", "0x2"]);
    assert_eq!(stdout(&o), "-5\n", "stderr: {}", stderr(&o));
}

#[test]
fn missing_import_is_a_link_error() {
    let o = kuai(&["run", &data("imports.wat")]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("env"), "{}", stderr(&o));
}

#[test]
fn trap_exits_like_wasmtime() {
    let o = kuai(&["run", "--invoke", "div", &data("trap.wat"), "1", "0"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(if cfg!(windows) { 3 } else { 134 }), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert!(err.lines().next().unwrap_or_default().contains("integer divide by zero"), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
}

#[test]
fn wast_passes_a_good_script() {
    let o = kuai(&["wast", &data("good.wast")]);
    assert!(o.status.success(), "stdout: {}\nstderr: {}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o).lines().last(), Some("12 passed, 0 failed"), "stdout: {}", stdout(&o));
}

#[test]
fn wast_fails_a_wrong_script() {
    let o = kuai(&["wast", &data("good.wast"), &data("wrong.wast")]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("wrong.wast:4:2: assert_return"), "stdout: {out}");
    assert_eq!(out.lines().last(), Some("14 passed, 1 failed"), "stdout: {out}");
}

#[test]
fn wast_reports_unreadable_scripts_and_goes_on() {
    let o = kuai(&["wast", &data("missing.wast"), &data("good.wast")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: cannot read"), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o).lines().last(), Some("12 passed, 1 failed"));
}

#[test]
fn validate_good_and_bad() {
    let o = kuai(&["validate", &fib_wat()]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_one_line_error(&kuai(&["validate", &data("truncated.wasm")]), 1);
    assert_one_line_error(&kuai(&["validate", &data("garbage.wasm")]), 1);
}

#[test]
fn usage_errors_exit_with_1() {
    let o = kuai(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("panicked"));
    assert!(kuai(&["--help"]).status.success());
}

#[test]
fn reactor_is_initialized_before_invoke() {
    let o = kuai(&["run", "--invoke", "answer", &data("reactor.wat"), "2"]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "42\n"), "stderr: {}", stderr(&o));
}

#[test]
fn proc_exit_status_is_the_exit_status() {
    let o = kuai(&["run", "--invoke", "quit", &data("reactor.wat"), "9"]);
    assert_eq!((o.status.code(), stderr(&o).as_str()), (Some(9), ""));
    // Statuses from 126 up are reserved: an error, as in wasmtime.
    assert_one_line_error(&kuai(&["run", "--invoke", "quit", &data("reactor.wat"), "200"]), 1);
}

#[test]
fn unknown_imports_are_named_or_stubbed() {
    let o = kuai(&["run", &data("unknown-import.wat")]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("`env::missing`"), "{}", stderr(&o));
    // With --trap-unknown-imports it links, and fails only when the import is called.
    let o = kuai(&["run", "--trap-unknown-imports", &data("unknown-import.wat")]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("called the unknown import `env::missing`"), "{}", stderr(&o));
    let o = kuai(&["run", "--trap-unknown-imports", "--invoke", "answer", &data("reactor.wat"), "1"]);
    assert_eq!(stdout(&o), "41\n", "stderr: {}", stderr(&o));
}

#[test]
fn bad_options_are_one_line_errors() {
    assert_one_line_error(&kuai(&["run", "--dir", "/no/such/dir", &fib_wat()]), 1);
    assert_one_line_error(&kuai(&["run", "-W", "threads", &fib_wat()]), 1);
    assert_one_line_error(&kuai(&["run", "--preload", "nofile", &fib_wat()]), 1);
}

/// The `examples/lz` compressor (C compiled by clang) end to end through WASI.
#[test]
fn lz_example_round_trips_through_preopened_directories() {
    let examples = path(&["..", "..", "examples", "lz"]);
    let lz = path(&["..", "..", "examples", "lz", "lz.wasm"]);
    let data = format!("{examples}::/data");
    let o = kuai(&["run", "--dir", &data, &lz, "t", "/data/sample.txt"]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "original 48791 bytes, compressed 12025 bytes, ratio 4.057, crc ffd1f09f, ok\n"),
        "stderr: {}",
        stderr(&o)
    );
    let out = std::env::temp_dir().join(format!("kuai-lz-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let out_dir = format!("{}::/out", out.display());
    let o = kuai(&["run", "--dir", &data, "--dir", &out_dir, &lz, "c", "/data/sample.txt", "/out/s.lz"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let o = kuai(&["run", "--dir", &out_dir, &lz, "d", "/out/s.lz", "/out/s.txt"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let original = std::fs::read(path(&["..", "..", "examples", "lz", "sample.txt"])).unwrap();
    assert_eq!(std::fs::read(out.join("s.txt")).unwrap(), original);
    // Outside the preopens nothing is reachable.
    let o = kuai(&["run", "--dir", &out_dir, &lz, "t", "/data/sample.txt"]);
    assert_eq!(o.status.code(), Some(1), "stdout: {}", stdout(&o));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn fuel_stops_a_guest_deterministically() {
    // `count(n)` costs 8n + 1 fuel.
    let o = kuai(&["run", "--fuel", "81", "--invoke", "count", &data("spin.wat"), "10"]);
    assert_eq!(stdout(&o), "10\n", "stderr: {}", stderr(&o));
    for fuel in [&["--fuel", "80"], &["-W", "fuel=80"]] {
        let o = kuai(&[&["run"], &fuel[..], &["--invoke", "count", &data("spin.wat"), "10"]].concat());
        assert_eq!(o.status.code(), Some(134));
        assert!(stderr(&o).contains("all fuel consumed by WebAssembly"), "{}", stderr(&o));
    }
}

#[test]
fn timeout_interrupts_an_infinite_loop() {
    let o = kuai(&["run", "--timeout", "100ms", &data("spin.wat")]);
    assert_eq!(o.status.code(), Some(134));
    assert!(stderr(&o).starts_with("error: wasm trap: interrupt"), "{}", stderr(&o));
    let o = kuai(&["run", "--timeout", "soon", &data("spin.wat")]);
    assert_one_line_error(&o, 1);
}

#[test]
fn max_memory_bounds_memory_grow() {
    let grow = data("grow.wat");
    let o = kuai(&["run", "--max-memory", "128K", "--invoke", "grow", &grow, "1"]);
    assert_eq!(stdout(&o), "1\n", "stderr: {}", stderr(&o));
    let o = kuai(&["run", "--max-memory", "128K", "--invoke", "grow", &grow, "2"]);
    assert_eq!(stdout(&o), "-1\n", "stderr: {}", stderr(&o));
    let o = kuai(&["run", "-W", "max-memory-size=32768", "--invoke", "grow", &grow, "0"]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("memory minimum size of 1 pages exceeds memory limits"));
}

/// Runs kuai with its address space limited to 2 GB, so that allocations of several
/// GiB really fail.
fn kuai_in_2gb(args: &[&str]) -> Output {
    let script = "ulimit -v 2000000 && exec \"$0\" \"$@\"";
    let mut command = Command::new("sh");
    command.arg("-c").arg(script).arg(env!("CARGO_BIN_EXE_kuai")).args(args);
    match command.env_remove("HOME").env_remove("XDG_CACHE_HOME").output() {
        Ok(output) => output,
        Err(e) => panic!("cannot run sh: {e}"),
    }
}

#[test]
fn allocations_the_host_cannot_make_fail_cleanly() {
    // Growing to 4 GiB: memory.grow answers -1.
    let o = kuai_in_2gb(&["run", "--invoke", "grow", &data("grow.wat"), "65535"]);
    assert_eq!(stdout(&o), "-1\n", "stderr: {}", stderr(&o));
    assert!(o.status.success());
    // An initial memory of 3.7 GiB: a one-line error, not an abort.
    let o = kuai_in_2gb(&["run", &data("huge-memory.wat")]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("cannot allocate"), "{}", stderr(&o));
}

#[test]
fn codegen_strategy_compile_runs_traps_and_checks_scripts() {
    let o = kuai(&["run", "-C", "strategy=compile", "--invoke", "fib", &fib_wat(), "20"]);
    assert_eq!(stdout(&o), "6765\n", "stderr: {}", stderr(&o));
    let o = kuai(&["run", "-C", "strategy=compile", "--invoke", "div", &data("trap.wat"), "1", "0"]);
    assert_eq!(o.status.code(), Some(134), "stderr: {}", stderr(&o));
    assert!(stderr(&o).contains("integer divide by zero"), "stderr: {}", stderr(&o));
    let o = kuai(&["wast", "-C", "strategy=compile", &data("good.wast")]);
    assert_eq!(stdout(&o).lines().last(), Some("12 passed, 0 failed"), "stdout: {}", stdout(&o));
    // -W and -O as for `run`: multi-memory scripts, the explicit-bounds-check mode.
    let two = data("two-memories.wast");
    let o = kuai(&["wast", "-C", "strategy=compile", &two]);
    assert_eq!(stdout(&o).lines().last(), Some("0 passed, 3 failed"), "stdout: {}", stdout(&o));
    for layout in ["memory-reservation=4G", "memory-reservation=0,memory-guard-size=0"] {
        let o = kuai(&["wast", "-C", "strategy=compile", "-W", "multi-memory", "-O", layout, &two]);
        assert_eq!(stdout(&o).lines().last(), Some("3 passed, 0 failed"), "{layout}: {}", stdout(&o));
    }
    for option in ["strategy=compile,compilation=eager", "strategy=compile,compilation=lazy"] {
        let o = kuai(&["run", "-C", option, "--invoke", "fib", &fib_wat(), "20"]);
        assert_eq!(stdout(&o), "6765\n", "{option}: {}", stderr(&o));
    }
    let o = kuai(&["run", "-C", "compilation=later", &fib_wat()]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("compilation=later"), "stderr: {}", stderr(&o));
    let o = kuai(&["run", "-C", "strategy=jit", &fib_wat()]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("strategy=jit"), "stderr: {}", stderr(&o));
}

#[test]
fn compiled_code_without_address_space_for_its_guard_is_refused_cleanly() {
    // Under `ulimit -v 2000000` no 4 GiB reservation fits: code compiled for the guard
    // region must not run on a memory without it.
    let o = kuai_in_2gb(&["run", "-C", "strategy=compile", "--invoke", "grow", &data("grow.wat"), "1"]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("memory-reservation=0"), "{}", stderr(&o));
    // With explicit bounds checks it runs, and growth beyond the address space is -1.
    let args = ["run", "-C", "strategy=compile", "-O", "memory-reservation=0", "--invoke", "grow", &data("grow.wat")];
    let o = kuai_in_2gb(&[&args[..], &["1"]].concat());
    assert_eq!(stdout(&o), "1\n", "stderr: {}", stderr(&o));
    let o = kuai_in_2gb(&[&args[..], &["65535"]].concat());
    assert_eq!(stdout(&o), "-1\n", "stderr: {}", stderr(&o));
}

#[test]
fn compile_writes_an_artifact_that_runs_with_allow_precompiled() {
    let dir = std::env::temp_dir().join(format!("kuai-cli-compile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let artifact = dir.join("fib.kwasm").display().to_string();
    let o = kuai(&["compile", &fib_wat(), "-o", &artifact]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let o = kuai(&["run", "--allow-precompiled", "--invoke", "fib", &artifact, "20"]);
    assert_eq!(stdout(&o), "6765\n", "stderr: {}", stderr(&o));
    let o = kuai(&["run", "--allow-precompiled", "--invoke", "div", &artifact, "1"]);
    assert_one_line_error(&o, 1);
    // Without the flag, an artifact is not run.
    let o = kuai(&["run", "--invoke", "fib", &artifact, "20"]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("--allow-precompiled"), "{}", stderr(&o));
    // Compiled for other settings, or cut short: one line, nothing run.
    let o = kuai(&["run", "--allow-precompiled", "--fuel", "1000", "--invoke", "fib", &artifact, "20"]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("another engine"), "{}", stderr(&o));
    let bytes = std::fs::read(&artifact).unwrap();
    let cut = dir.join("cut.kwasm").display().to_string();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = kuai(&["run", "--allow-precompiled", "--invoke", "fib", &cut, "20"]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    // `kuai compile` of something that is not a module: one line.
    let o = kuai(&["compile", &cut, "-o", &dir.join("x.kwasm").display().to_string()]);
    assert_one_line_error(&o, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The cache directory's entries and leftovers (temporary files, locks), once no fill is
/// running in it (at most two minutes).
fn settled(dir: &std::path::Path) -> (Vec<String>, Vec<String>) {
    let start = std::time::Instant::now();
    loop {
        let names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let (entries, other): (Vec<String>, Vec<String>) = names.into_iter().partition(|n| n.ends_with(".kwasm"));
        if other.is_empty() || start.elapsed() > std::time::Duration::from_secs(120) {
            return (entries, other);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_compilation_cache_fills_in_the_background_and_the_next_run_hits() {
    let dir = std::env::temp_dir().join(format!("kuai-cli-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = format!("cache-dir={}", dir.display());
    let log = [("KUAI_LOG", "cache")];
    let fib = fib_wat();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "-C", &cache];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--invoke", "fib", &fib, "20"]);
        let o = kuai_with(&args, &log);
        assert_eq!(stdout(&o), "6765\n", "stderr: {}", stderr(&o));
        stderr(&o)
    };
    let first = run(&[]);
    assert!(first.contains("kuai cache: miss") && first.contains("filling"), "{first}");
    let (entries, other) = settled(&dir);
    assert_eq!((entries.len(), other.len()), (1, 0), "{entries:?} {other:?}");
    let second = run(&[]);
    assert!(second.contains("kuai cache: hit"), "{second}");
    // Another configuration is another entry; the interpreter alone and `cache=n` use none.
    assert!(run(&["-W", "fuel=100000000"]).contains("miss"));
    assert!(!run(&["-C", "strategy=interp"]).contains("kuai cache"));
    assert!(!run(&["-C", "cache=n"]).contains("kuai cache"));
    assert_eq!(settled(&dir).0.len(), 2);
    // A damaged entry is dropped and filled again; the run does not notice.
    let entry = dir.join(&entries[0]);
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
    let damaged = run(&[]);
    assert!(damaged.contains("unusable") && damaged.contains("filling"), "{damaged}");
    settled(&dir);
    assert!(run(&[]).contains("hit"));
    // Runs that start together compile once.
    let _ = std::fs::remove_dir_all(&dir);
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_kuai"));
            command.args(["run", "-C", &cache, "--invoke", "fib", &fib, "20"]);
            command.env_remove("HOME").env_remove("XDG_CACHE_HOME").env_remove("KUAI_LOG");
            command.stdout(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for child in runs {
        assert_eq!(String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout), "6765\n");
    }
    let (entries, other) = settled(&dir);
    assert_eq!((entries.len(), other.len()), (1, 0), "{entries:?} {other:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
