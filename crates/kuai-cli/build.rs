//! Link settings of the `kuai` binary.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    // Pack the binary's relative relocations (DT_RELR, glibc >= 2.36): the dynamic loader
    // applies them faster, which is part of every run's start-up.
    if target.contains("linux-gnu") && std::env::var_os("KUAI_NO_RELR").is_none() {
        println!("cargo:rustc-link-arg-bin=kuai=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-env-changed=KUAI_NO_RELR");
}
