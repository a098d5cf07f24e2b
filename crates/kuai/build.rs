//! Gives the crate a fingerprint of its own sources (`KUAI_SOURCE_HASH`), which AOT
//! artifacts and the compilation cache put in their compatibility key: code compiled by one
//! build of Kuai is never run by a build from other sources, even with the same version and
//! code ABI number (a development build that changed the generated code must not pick up
//! cached artifacts of the previous one).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("Cargo.toml")];
    files(&root.join("src"), &mut paths);
    paths.sort();
    // FNV-1a over the paths (relative) and contents: stable across toolchains.
    let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
    for path in &paths {
        path.strip_prefix(&root).unwrap_or(path).hash(&mut hash);
        std::fs::read(path).unwrap_or_default().hash(&mut hash);
    }
    println!("cargo:rustc-env=KUAI_SOURCE_HASH={:016x}", hash.finish());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
