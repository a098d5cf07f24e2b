//! Kuai must never panic on bad input: this test feeds it broken versions of every module
//! of the spec suites.
//!
//! Every `module` directive of the suites in [`common::SUITES`] that encodes to a binary is
//! (a) truncated at many offsets and (b) copied with random bytes changed (a xorshift
//! generator with a fixed seed, so runs are reproducible). Each result goes through
//! [`Module::new`]; errors are fine, panics are not. A mutated module that still compiles
//! is instantiated too, when that is safe: no imports, no start function (it could loop
//! forever) and small memories and tables.
//!
//! Every offset of modules under 256 bytes and 200 spread offsets of larger ones are tried,
//! and 32 mutated copies are made of each module (a few seconds in a debug build).
//! Panicking inputs are written to the temporary directory for reproduction and named in
//! the failure message.

mod common;

use kuai::{Engine, Linker, Module, Store};
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{Wast, WastDirective};

/// Modules up to this size are truncated at every offset.
const SMALL_MODULE: usize = 256;
/// Larger modules are truncated at this many evenly spread offsets.
const SPREAD_OFFSETS: usize = 200;
/// Mutated copies made of each module.
const MUTATIONS: usize = 32;
/// Failures listed in the panic message.
const FAILURES_SHOWN: usize = 10;

/// Every distinct binary module of the suites, in a fixed order.
fn spec_modules() -> &'static [Vec<u8>] {
    static MODULES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    MODULES.get_or_init(|| {
        let mut set = BTreeSet::new();
        for &suite in common::SUITES {
            for script in common::suite_scripts(suite) {
                collect_modules(script.source, &mut set);
            }
        }
        set.into_iter().collect()
    })
}

fn collect_modules(source: &str, out: &mut BTreeSet<Vec<u8>>) {
    let mut lexer = Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let Ok(buf) = ParseBuffer::new_with_lexer(lexer) else { return };
    let Ok(script) = parser::parse::<Wast<'_>>(&buf) else { return };
    for directive in script.directives {
        if let WastDirective::Module(mut module) = directive
            && let Ok(bytes) = module.encode()
            && bytes.starts_with(b"\0asm")
        {
            out.insert(bytes);
        }
    }
}

/// Collects inputs that made Kuai panic.
#[derive(Default)]
struct Failures {
    found: Vec<String>,
}

impl Failures {
    /// Runs `check` on `input`, recording a panic.
    fn check(&mut self, what: impl FnOnce() -> String, input: &[u8], check: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(check)) {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let path = std::env::temp_dir().join(format!("kuai-robustness-{}.wasm", self.found.len()));
            let saved = match std::fs::write(&path, input) {
                Ok(()) => format!("saved to {}", path.display()),
                Err(e) => format!("not saved: {e}"),
            };
            self.found.push(format!("{}: panicked: {message} ({saved})", what()));
        }
    }

    fn assert_none(self, test: &str) {
        if !self.found.is_empty() {
            let shown: Vec<&str> = self.found.iter().take(FAILURES_SHOWN).map(String::as_str).collect();
            panic!("{test}: {} inputs made kuai panic:\n{}", self.found.len(), shown.join("\n"));
        }
    }
}

/// Where to cut a module of `len` bytes.
fn cut_points(len: usize) -> Vec<usize> {
    if len <= SMALL_MODULE {
        (0..len).collect()
    } else {
        let mut cuts: Vec<usize> = (0..SPREAD_OFFSETS).map(|i| i * len / SPREAD_OFFSETS).collect();
        // The last bytes hold the end of the last section: cut there too.
        cuts.extend(len.saturating_sub(4)..len);
        cuts.dedup();
        cuts
    }
}

#[test]
fn truncated_modules_do_not_panic() {
    let engine = Engine::new(&common::all_features());
    let modules = spec_modules();
    assert!(modules.len() > 100, "found only {} modules in the spec suites", modules.len());
    let mut failures = Failures::default();
    for (index, bytes) in modules.iter().enumerate() {
        for cut in cut_points(bytes.len()) {
            let input = &bytes[..cut];
            failures.check(
                || format!("module {index} truncated to {cut} of {} bytes", bytes.len()),
                input,
                || {
                    let _ = Module::new(&engine, input);
                },
            );
        }
    }
    failures.assert_none("truncated modules");
}

/// A xorshift64 pseudo-random generator.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A copy of `bytes` with one to four bytes changed (bit flips or random bytes).
fn mutate(bytes: &[u8], rng: &mut XorShift) -> Vec<u8> {
    let mut copy = bytes.to_vec();
    for _ in 0..1 + rng.below(4) {
        let pos = rng.below(copy.len());
        if rng.next() & 1 == 0 {
            copy[pos] ^= 1 << rng.below(8);
        } else {
            copy[pos] = rng.next() as u8;
        }
    }
    copy
}

#[test]
fn mutated_modules_do_not_panic() {
    let engine = Engine::new(&common::all_features());
    let modules = spec_modules();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut failures = Failures::default();
    let mut instantiated = 0usize;
    for (index, bytes) in modules.iter().enumerate() {
        if bytes.is_empty() {
            continue;
        }
        for mutation in 0..MUTATIONS {
            let input = mutate(bytes, &mut rng);
            failures.check(
                || format!("module {index}, mutation {mutation}"),
                &input,
                || {
                    let Ok(module) = Module::new(&engine, &input) else { return };
                    if module.imports().next().is_none() && sections::instantiation_is_bounded(&input) {
                        let mut store = Store::new(&engine, ());
                        let linker = Linker::new(&engine);
                        let _ = linker.instantiate(&mut store, &module);
                        instantiated += 1;
                    }
                },
            );
        }
    }
    failures.assert_none("mutated modules");
    eprintln!("{} mutated modules of {} were instantiated", instantiated, modules.len() * MUTATIONS);
}

/// Just enough of the binary format to tell whether instantiating a module is quick.
mod sections {
    /// Memories above this many pages are not instantiated.
    const MAX_PAGES: u64 = 64;
    /// Tables above this many elements are not instantiated.
    const MAX_ELEMENTS: u64 = 10_000;

    struct Reader<'a> {
        bytes: &'a [u8],
        pos: usize,
    }

    impl<'a> Reader<'a> {
        fn byte(&mut self) -> Option<u8> {
            let b = *self.bytes.get(self.pos)?;
            self.pos += 1;
            Some(b)
        }

        fn leb(&mut self) -> Option<u64> {
            let mut result = 0u64;
            for shift in (0..64).step_by(7) {
                let b = self.byte()?;
                result |= u64::from(b & 0x7f) << shift;
                if b & 0x80 == 0 {
                    return Some(result);
                }
            }
            None
        }

        fn take(&mut self, n: usize) -> Option<&'a [u8]> {
            let end = self.pos.checked_add(n)?;
            let slice = self.bytes.get(self.pos..end)?;
            self.pos = end;
            Some(slice)
        }

        /// Limits; `None` for flags other than plain min / min-max.
        fn limits_min(&mut self) -> Option<u64> {
            let flags = self.byte()?;
            let min = self.leb()?;
            match flags {
                0 => {}
                1 => {
                    self.leb()?;
                }
                _ => return None,
            }
            Some(min)
        }
    }

    /// Whether every table and memory section entry is small enough.
    fn small(id: u8, payload: &[u8]) -> Option<bool> {
        let mut r = Reader { bytes: payload, pos: 0 };
        let count = r.leb()?;
        for _ in 0..count {
            let ok = match id {
                4 => {
                    let elem = r.byte()?;
                    (elem == 0x70 || elem == 0x6f) && r.limits_min()? <= MAX_ELEMENTS
                }
                _ => r.limits_min()? <= MAX_PAGES,
            };
            if !ok {
                return Some(false);
            }
        }
        Some(true)
    }

    /// True when the module has no start function and only small tables and memories,
    /// so instantiating it ends quickly. False when the sections cannot be walked.
    pub fn instantiation_is_bounded(bytes: &[u8]) -> bool {
        let mut r = Reader { bytes, pos: 8 };
        if bytes.len() < 8 {
            return false;
        }
        while r.pos < bytes.len() {
            let Some(id) = r.byte() else { return false };
            let Some(size) = r.leb().and_then(|s| usize::try_from(s).ok()) else { return false };
            let Some(payload) = r.take(size) else { return false };
            match id {
                8 => return false,
                4 | 5 if small(id, payload) != Some(true) => return false,
                _ => {}
            }
        }
        true
    }

    #[test]
    fn recognises_start_and_big_memories() {
        let header = b"\0asm\x01\0\0\0";
        let with = |section: &[u8]| [&header[..], section].concat();
        assert!(instantiation_is_bounded(header));
        assert!(!instantiation_is_bounded(&with(&[8, 1, 0])));
        assert!(instantiation_is_bounded(&with(&[5, 3, 1, 0, 1])));
        assert!(!instantiation_is_bounded(&with(&[5, 4, 1, 0, 0x80, 0x02])));
        assert!(instantiation_is_bounded(&with(&[4, 4, 1, 0x70, 0, 10])));
        assert!(!instantiation_is_bounded(&with(&[4, 5, 1, 0x70, 0, 0xff, 0x7f])));
        assert!(!instantiation_is_bounded(&with(&[5, 9, 1])));
        assert!(!instantiation_is_bounded(&header[..4]));
    }
}
