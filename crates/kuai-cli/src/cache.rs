//! The compilation cache of `kuai run` (on by default, as wasmtime's): AOT artifacts of the
//! modules this user ran, in `$XDG_CACHE_HOME/kuai` (else `~/.cache/kuai`), one file per
//! module and engine configuration, named by the SHA-256 of both.
//!
//! A run that finds its module's artifact maps it and starts with every function compiled.
//! A run that does not (a miss) goes on as usual — tiered: interpreting at once — and starts
//! `kuai compile --cache-fill` with the same options as a detached, low-priority process,
//! which compiles the module on all cores and puts the artifact in place (a temporary file,
//! then a rename: readers see a whole artifact or none), then trims the cache to its size
//! bound, least recently used first (a hit touches its entry). A lock file per entry keeps
//! concurrent runs from compiling the same module twice. Options: `-C cache=n` (off),
//! `-C cache-dir=DIR`, `-C cache-size=SIZE` (bound, default 1 GiB). `KUAI_LOG=cache` prints
//! what the cache does on stderr.

use crate::error::CliError;
use kuai::{Engine, Module};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The default bound of the cache's size.
const DEFAULT_SIZE: u64 = 1 << 30;
/// A lock (a fill in progress) older than this was left by a filler that died.
const STALE_LOCK: Duration = Duration::from_secs(600);

/// The cache settings of `-C` options.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    size: u64,
    log: bool,
}

/// A cache entry: where a module's artifact for one engine configuration lives.
#[derive(Debug)]
pub struct Entry {
    path: PathBuf,
}

impl Cache {
    /// The cache that `-C` `items` select: `None` if `-C cache=n`, or if there is no home
    /// for it (no `XDG_CACHE_HOME`, no `HOME`).
    pub fn from_options(items: &[String]) -> Result<Option<Cache>, CliError> {
        let mut on = true;
        let mut dir = None;
        let mut size = DEFAULT_SIZE;
        for item in items.iter().flat_map(|s| s.split(',')) {
            match item.split_once('=').unwrap_or((item, "")) {
                ("cache", "n" | "no" | "false") => on = false,
                ("cache", "y" | "yes" | "true" | "") => on = true,
                ("cache", other) => return Err(CliError::Usage(format!("-C cache={other}: expected y or n"))),
                ("cache-dir", d) if !d.is_empty() => dir = Some(PathBuf::from(d)),
                ("cache-size", s) => {
                    size = crate::run::parse_size(s)
                        .map(|n| n as u64)
                        .ok_or_else(|| CliError::Usage(format!("-C cache-size={s}: expected a size like 512M")))?;
                }
                _ => {}
            }
        }
        let home = || {
            let xdg = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()).map(PathBuf::from);
            let xdg = xdg.filter(|d| d.is_absolute());
            xdg.or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cache")))
                .map(|d| d.join("kuai"))
        };
        let log = std::env::var_os("KUAI_LOG").is_some_and(|v| v == "cache");
        Ok(match (on, dir.or_else(home)) {
            (true, Some(dir)) => Some(Cache { dir, size, log }),
            _ => None,
        })
    }

    /// The entry of `wasm` (a module's file bytes) for `engine`'s configuration.
    ///
    /// The name is the SHA-256 of the configuration's compatibility hash, the module's length
    /// and the SHA-256 digests of its 1 MiB chunks, which threads compute side by side: the
    /// CPython module's 26 MB took 23 ms in one piece, a twentieth of a cached run.
    pub fn entry(&self, engine: &Engine, wasm: &[u8]) -> Entry {
        let chunk = |i: usize, _: &mut Vec<u8>| {
            Ok(sha2::Sha256::digest(&wasm[i * CHUNK..wasm.len().min((i + 1) * CHUNK)]).into())
        };
        let digests = chunk_digests(wasm.len().div_ceil(CHUNK), chunk).unwrap_or_default();
        self.entry_of(engine, wasm.len() as u64, &digests)
    }

    /// [`Cache::entry`] of the module in `file`, read chunk by chunk into one small buffer per
    /// thread (reading CPython's 26 MB into one buffer, page faults and all, cost as much as
    /// hashing it).
    pub fn entry_of_file(&self, engine: &Engine, file: &std::fs::File) -> std::io::Result<Entry> {
        let len = file.metadata()?.len();
        let size = usize::try_from(len).map_err(|_| std::io::Error::other("file too big"))?;
        let chunk = |i: usize, buf: &mut Vec<u8>| {
            let (at, end) = (i * CHUNK, size.min((i + 1) * CHUNK));
            buf.resize(end - at, 0);
            std::os::unix::fs::FileExt::read_exact_at(file, buf, at as u64)?;
            Ok(sha2::Sha256::digest(&buf[..]).into())
        };
        let digests = chunk_digests(size.div_ceil(CHUNK), chunk)?;
        Ok(self.entry_of(engine, len, &digests))
    }

    /// The entry of a module of `len` bytes whose chunks have `digests`.
    fn entry_of(&self, engine: &Engine, len: u64, digests: &[[u8; 32]]) -> Entry {
        let mut hasher = Sha256Hasher(sha2::Sha256::new());
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
        let mut sha = hasher.0;
        sha.update(b"\0kuai cache 1\0");
        sha.update(len.to_le_bytes());
        for digest in digests {
            sha.update(digest);
        }
        let hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Entry { path: self.dir.join(format!("{hex}.kwasm")) }
    }

    /// The module of `entry`, if the cache has it (a damaged or incompatible entry is removed).
    pub fn lookup(&self, engine: &Engine, entry: &Entry) -> Option<Module> {
        if !entry.path.exists() {
            self.say(format_args!("miss {}", entry.path.display()));
            return None;
        }
        // Entries are renamed into place whole and never changed: replaced by renames, removed
        // by unlinking, both of which leave a mapping intact.
        // SAFETY: the cache (the user's own, as wasmtime's is) holds artifacts `kuai compile
        // --cache-fill` wrote, which stay unchanged while mapped (above).
        match unsafe { Module::deserialize_file(engine, &entry.path) } {
            Ok(module) => {
                // The eviction order: least recently used first.
                let _ = std::fs::File::options()
                    .append(true)
                    .open(&entry.path)
                    .and_then(|f| f.set_modified(SystemTime::now()));
                self.say(format_args!("hit {}", entry.path.display()));
                Some(module)
            }
            Err(e) => {
                self.say(format_args!("unusable {}: {e}", entry.path.display()));
                let _ = std::fs::remove_file(&entry.path);
                None
            }
        }
    }

    /// Starts `kuai compile --cache-fill` for `file` with the run's options, detached, unless
    /// another process is filling `entry` already.
    pub fn fill_in_background(&self, entry: &Entry, file: &Path, options: &[String]) {
        if lock_held(&lock_path(&entry.path)) {
            self.say(format_args!("being filled {}", entry.path.display()));
            return;
        }
        let Ok(exe) = std::env::current_exe() else { return };
        let mut command = std::process::Command::new(exe);
        command
            .arg("compile")
            .arg("--cache-fill")
            .args(options)
            .arg("-C")
            .arg(format!("cache-dir={},cache-size={}", self.dir.display(), self.size))
            .arg("--")
            .arg(file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(if self.log { std::process::Stdio::inherit() } else { std::process::Stdio::null() });
        // Its own process group: a Ctrl-C meant for the run does not stop the fill.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        match command.spawn() {
            Ok(child) => self.say(format_args!("filling {} (process {})", entry.path.display(), child.id())),
            Err(e) => self.say(format_args!("cannot start a fill: {e}")),
        }
    }

    /// `kuai compile --cache-fill`: compiles `module` (read from `wasm`, `file`'s bytes) into
    /// its entry, at low priority, then trims the cache. Nothing to do if another process
    /// holds the entry's lock or the entry exists.
    pub fn fill(&self, engine: &Engine, wasm: &[u8], module: &Module) -> Result<(), CliError> {
        let _ = rustix::process::nice(19);
        let entry = self.entry(engine, wasm);
        std::fs::create_dir_all(&self.dir).map_err(|e| failed(&self.dir, e))?;
        let Some(_lock) = Lock::take(&lock_path(&entry.path)) else {
            self.say(format_args!("being filled {}", entry.path.display()));
            return Ok(());
        };
        if entry.path.exists() {
            return Ok(());
        }
        let start = std::time::Instant::now();
        let artifact = module.serialize()?;
        crate::commands::write_atomically(&entry.path, &artifact)?;
        self.say(format_args!(
            "filled {} ({} bytes in {:.1} s)",
            entry.path.display(),
            artifact.len(),
            start.elapsed().as_secs_f64()
        ));
        self.trim();
        Ok(())
    }

    /// Removes entries, least recently used first, until the cache is within its bound, and
    /// temporary files that a killed filler left.
    fn trim(&self) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else { return };
        let now = SystemTime::now();
        let mut entries = Vec::new();
        for item in dir.flatten() {
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let Ok(meta) = item.metadata() else { continue };
            let modified = meta.modified().unwrap_or(now);
            let age = now.duration_since(modified).unwrap_or_default();
            if is_temporary(name) && age > STALE_LOCK {
                let _ = std::fs::remove_file(item.path());
            } else if is_entry(name) {
                entries.push((modified, meta.len(), item.path()));
            }
        }
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.size {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                self.say(format_args!("evicted {}", path.display()));
                total -= len;
            }
        }
    }

    fn say(&self, what: std::fmt::Arguments) {
        if self.log {
            eprintln!("kuai cache: {what}");
        }
    }
}

/// The chunk size of [`chunk_digests`]: small enough to share a module evenly between
/// threads and to keep each thread's buffer in cache.
const CHUNK: usize = 1 << 20;

/// The SHA-256 digests of a module's `count` [`CHUNK`]-sized pieces (`chunk(i)` hashes
/// piece `i`), computed on up to as many threads as there are cores (the digests do not
/// depend on how many).
fn chunk_digests(
    count: usize,
    chunk: impl Fn(usize, &mut Vec<u8>) -> std::io::Result<[u8; 32]> + Sync,
) -> std::io::Result<Vec<[u8; 32]>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, count.max(1));
    let per = count.div_ceil(threads).max(1);
    let shares: Vec<std::ops::Range<usize>> = (0..count).step_by(per).map(|i| i..count.min(i + per)).collect();
    let chunk = &chunk;
    let hash = move |share: std::ops::Range<usize>| {
        let mut buf = Vec::new();
        share.map(|i| chunk(i, &mut buf)).collect::<std::io::Result<Vec<_>>>()
    };
    std::thread::scope(|scope| {
        // The first share is hashed here, the others on threads; a share whose thread
        // cannot start (or fails) is hashed here too.
        let others: Vec<_> = shares
            .iter()
            .skip(1)
            .map(|share| {
                let s = share.clone();
                (share.clone(), std::thread::Builder::new().spawn_scoped(scope, move || hash(s)).ok())
            })
            .collect();
        let mut digests = match shares.first() {
            Some(share) => hash(share.clone())?,
            None => Vec::new(),
        };
        for (share, thread) in others {
            match thread.and_then(|t| t.join().ok()) {
                Some(done) => digests.extend(done?),
                None => digests.extend(hash(share)?),
            }
        }
        Ok(digests)
    })
}

/// Whether `name` is a cache entry's (64 hexadecimal digits, `.kwasm`).
fn is_entry(name: &str) -> bool {
    name.strip_suffix(".kwasm").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `name` is a filler's temporary file or lock.
fn is_temporary(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or("");
    base.len() == 64 && (name.contains(".kwasm.tmp") || name.ends_with(".kwasm.lock"))
}

fn lock_path(entry: &Path) -> PathBuf {
    entry.with_extension("kwasm.lock")
}

/// Whether a live filler holds `lock`.
fn lock_held(lock: &Path) -> bool {
    std::fs::metadata(lock)
        .and_then(|m| m.modified())
        .is_ok_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() < STALE_LOCK)
}

/// An entry's lock, created exclusively and removed when dropped.
struct Lock(PathBuf);

impl Lock {
    fn take(path: &Path) -> Option<Lock> {
        let create = || std::fs::File::options().write(true).create_new(true).open(path);
        match create() {
            Ok(_) => Some(Lock(path.to_path_buf())),
            // A lock its filler left when it died: take it over.
            Err(_) if !lock_held(path) => {
                let _ = std::fs::remove_file(path);
                create().ok().map(|_| Lock(path.to_path_buf()))
            }
            Err(_) => None,
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn failed(path: &Path, source: std::io::Error) -> CliError {
    CliError::WriteFailed { path: path.display().to_string(), source }
}

/// Feeds what `Hash` writes into SHA-256.
struct Sha256Hasher(sha2::Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Only `write` is used: the digest is taken from the state itself.
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_keyed_by_module_and_configuration() {
        let cache = Cache { dir: PathBuf::from("/c"), size: DEFAULT_SIZE, log: false };
        let engine = Engine::default();
        let a = cache.entry(&engine, b"\0asm\x01\0\0\0");
        assert_eq!(a.path, cache.entry(&engine, b"\0asm\x01\0\0\0").path);
        assert_ne!(a.path, cache.entry(&engine, b"\0asm\x01\0\0\0\0").path);
        let mut fuel = kuai::Config::new();
        fuel.consume_fuel(true);
        assert_ne!(a.path, cache.entry(&Engine::new(&fuel), b"\0asm\x01\0\0\0").path);
        let name = a.path.file_name().unwrap().to_str().unwrap();
        assert!(is_entry(name), "{name}");
        assert!(!is_entry("python.kwasm"));
        assert!(is_temporary(&format!("{name}.tmp123")));
        assert!(is_temporary(&format!("{name}.lock")));
        assert!(!is_temporary("real-programs"));
    }

    #[test]
    fn entries_of_bytes_and_of_files_agree_and_cover_every_byte() {
        let cache = Cache { dir: PathBuf::from("/c"), size: DEFAULT_SIZE, log: false };
        let engine = Engine::default();
        let path = std::env::temp_dir().join(format!("kuai-cache-hash-{}", std::process::id()));
        let mut bytes = vec![7u8; 3 * CHUNK + 5];
        let mut names = Vec::new();
        for last in [7, 8] {
            *bytes.last_mut().unwrap() = last;
            std::fs::write(&path, &bytes).unwrap();
            let of_file = cache.entry_of_file(&engine, &std::fs::File::open(&path).unwrap()).unwrap();
            assert_eq!(of_file.path, cache.entry(&engine, &bytes).path);
            names.push(of_file.path);
        }
        assert_ne!(names[0], names[1]);
        std::fs::write(&path, b"").unwrap();
        let empty = cache.entry_of_file(&engine, &std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(empty.path, cache.entry(&engine, b"").path);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn options_select_the_cache() {
        let opts = |items: &[&str]| {
            Cache::from_options(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).map(|c| c.map(|c| c.dir))
        };
        assert!(opts(&["cache=n"]).unwrap().is_none());
        assert_eq!(opts(&["cache-dir=/tmp/x"]).unwrap(), Some(PathBuf::from("/tmp/x")));
        assert_eq!(opts(&["strategy=compile,cache-dir=/tmp/y"]).unwrap(), Some(PathBuf::from("/tmp/y")));
        assert!(opts(&["cache=maybe"]).is_err());
        assert!(opts(&["cache-size=lots"]).is_err());
    }

    #[test]
    fn trimming_evicts_the_least_recently_used_entries() {
        let dir = std::env::temp_dir().join(format!("kuai-cache-trim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cache = Cache { dir: dir.clone(), size: 2500, log: false };
        let old = SystemTime::now() - Duration::from_secs(3600);
        let mut names = Vec::new();
        for i in 0..4u64 {
            let name = format!("{:064x}.kwasm", i + 1);
            let path = dir.join(&name);
            std::fs::write(&path, vec![0u8; 1000]).unwrap();
            // Entry 1 is the oldest, entry 4 the newest.
            std::fs::File::options()
                .append(true)
                .open(&path)
                .unwrap()
                .set_modified(old + Duration::from_secs(i))
                .unwrap();
            names.push(path);
        }
        std::fs::write(dir.join("unrelated.kwasm"), vec![0u8; 5000]).unwrap();
        cache.trim();
        let left: Vec<bool> = names.iter().map(|p| p.exists()).collect();
        assert_eq!(left, [false, false, true, true]);
        assert!(dir.join("unrelated.kwasm").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
