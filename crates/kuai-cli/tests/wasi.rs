//! The WASI test programs: every `tests/wasi/NAME.wasm` (compiled from `NAME.c` by
//! `scripts/build-wasi-tests.sh`) is discovered and run through `kuai run`, one trial
//! each; its stdout must equal `NAME.stdout` and its exit status the `// exit:` directive.
//!
//! The directives at the top of `NAME.c` (see `tests/wasi/README.md`) say how to run it:
//! `// args:`, `// dir: sandbox`, `// env:`, `// stdin:`, `// exit:`, `// tcp: yes`. Each
//! program gets a fresh fixture directory:
//!
//! ```text
//! T/sandbox/            preopened as /sandbox with `// dir: sandbox`
//! T/sandbox/data.txt    "hello sandbox\n"
//! T/sandbox/link-out -> ../outside
//! T/sandbox/abs-link -> /etc
//! T/outside/secret.txt  "secret\n"
//! ```

use libtest_mimic::{Arguments, Failed, Trial};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How one program is run, from its directives.
#[derive(Debug, Default)]
struct Directives {
    args: Vec<String>,
    sandbox: bool,
    env: Vec<String>,
    stdin: Vec<u8>,
    exit: i32,
    tcp: bool,
}

/// Splits on blanks; double quotes group (and may make an empty argument).
fn split_args(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut have) = (Vec::new(), String::new(), false, false);
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                have = true;
            }
            ' ' | '\t' if !quoted => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            c => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        out.push(cur);
    }
    out
}

/// `\n` and `\\` escapes.
fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push(b'\n'),
                Some('\\') => out.push(b'\\'),
                Some(other) => {
                    out.push(b'\\');
                    out.extend_from_slice(other.to_string().as_bytes());
                }
                None => out.push(b'\\'),
            },
            (c, false) => out.extend_from_slice(c.to_string().as_bytes()),
        }
    }
    out
}

fn parse_directives(source: &str) -> Result<Directives, String> {
    let mut d = Directives::default();
    for line in source.lines().take_while(|l| l.starts_with("//")) {
        let Some((key, value)) = line.trim_start_matches('/').trim_start().split_once(": ") else { continue };
        match key {
            "args" => d.args = split_args(value),
            "dir" if value.trim() == "sandbox" => d.sandbox = true,
            "env" => d.env.push(value.to_string()),
            "stdin" => d.stdin = unescape(value),
            "exit" => d.exit = value.trim().parse().map_err(|e| format!("bad `// exit: {value}`: {e}"))?,
            "tcp" => d.tcp = value.trim() == "yes",
            _ => {}
        }
    }
    Ok(d)
}

/// A fresh fixture directory, removed when dropped.
struct Fixture(PathBuf);

impl Fixture {
    fn new(name: &str) -> std::io::Result<Fixture> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("kuai-wasi-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sandbox"))?;
        std::fs::create_dir_all(root.join("outside"))?;
        std::fs::write(root.join("sandbox/data.txt"), "hello sandbox\n")?;
        std::fs::write(root.join("outside/secret.txt"), "secret\n")?;
        std::os::unix::fs::symlink("../outside", root.join("sandbox/link-out"))?;
        std::os::unix::fs::symlink("/etc", root.join("sandbox/abs-link"))?;
        Ok(Fixture(root))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free local TCP port (there is a small race until `kuai` binds it).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The TCP client of `// tcp: yes` programs: sends `hello\n`, expects `HELLO\n`.
fn talk(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut stream = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot connect to port {port}: {e}")),
        }
    };
    stream.set_read_timeout(Some(Duration::from_secs(20))).map_err(|e| e.to_string())?;
    stream.write_all(b"hello\n").map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).map_err(|e| format!("reading the reply: {e}"))?;
    if reply != b"HELLO\n" {
        return Err(format!("the server replied {:?}", String::from_utf8_lossy(&reply)));
    }
    Ok(())
}

fn run_program(dir: &Path, name: &str) -> Result<(), Failed> {
    let source = std::fs::read_to_string(dir.join(format!("{name}.c"))).map_err(|e| format!("{name}.c: {e}"))?;
    let expected = std::fs::read(dir.join(format!("{name}.stdout"))).map_err(|e| format!("{name}.stdout: {e}"))?;
    let d = parse_directives(&source)?;
    let fixture = Fixture::new(name).map_err(|e| format!("fixture: {e}"))?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kuai"));
    // No compilation cache: each run does what its options say.
    cmd.arg("run").current_dir(&fixture.0).env_remove("HOME").env_remove("XDG_CACHE_HOME");
    if d.sandbox {
        cmd.arg("--dir").arg(format!("{}::/sandbox", fixture.0.join("sandbox").display()));
    }
    for env in &d.env {
        cmd.arg("--env").arg(env);
    }
    let port = if d.tcp { Some(free_port().map_err(|e| e.to_string())?) } else { None };
    if let Some(port) = port {
        cmd.arg("--tcplisten").arg(format!("127.0.0.1:{port}"));
    }
    cmd.arg(dir.join(format!("{name}.wasm"))).args(&d.args);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start kuai: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin pipe")?;
    let input = d.stdin.clone();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let client = port.map(|p| std::thread::spawn(move || talk(p)));
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = feeder.join();
    let mut problems = Vec::new();
    if let Some(client) = client {
        match client.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => problems.push(format!("tcp client: {e}")),
            Err(_) => problems.push("tcp client panicked".to_string()),
        }
    }
    let status = output.status.code().unwrap_or(-1);
    if status != d.exit {
        problems.push(format!("exit status {status}, want {}", d.exit));
    }
    if output.stdout != expected {
        let got = String::from_utf8_lossy(&output.stdout);
        let want = String::from_utf8_lossy(&expected);
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines().chain(std::iter::repeat("<missing>")))
            .filter(|(w, g)| w != g)
            .take(10)
            .map(|(w, g)| format!("  want: {w}\n  got:  {g}"))
            .collect();
        problems.push(format!(
            "stdout differs ({} vs {} lines):\n{}",
            got.lines().count(),
            want.lines().count(),
            diff.join("\n")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!("{}\nstderr:\n{stderr}", problems.join("\n")).into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".wasm")).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut trials: Vec<Trial> = names
        .into_iter()
        .map(|name| {
            let dir = dir.clone();
            Trial::test(format!("wasi/{name}"), move || run_program(&dir, &name))
        })
        .collect();
    trials.push(Trial::test("wasi/programs-found", {
        let dir = dir.clone();
        move || {
            let n = std::fs::read_dir(&dir).map_err(|e| e.to_string())?.count();
            if n < 10 { Err(format!("only {n} files in {}", dir.display()).into()) } else { Ok(()) }
        }
    }));
    trials.push(Trial::test("wasi/directive-parser", || {
        let d = parse_directives(
            "// args: a \"b c\" \"\"\n// stdin: x\\ny\\\\\n// exit: 3\n// env: A=1\nint x;\n// args: no",
        )?;
        if d.args != ["a", "b c", ""] || d.stdin != b"x\ny\\" || d.exit != 3 || d.env != ["A=1"] {
            return Err(format!("parsed {d:?}").into());
        }
        Ok(())
    }));
    libtest_mimic::run(&args, trials).exit();
}
