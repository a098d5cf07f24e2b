//! Tiered execution in a store ([`Strategy::Tiered`](crate::Strategy::Tiered)): what
//! happens when an interpreted function has spent its hotness budget (`Exit::Tier`). Its
//! compilation is requested (`compile/tier.rs`); once the code is ready, the interpreter's
//! frame is replaced by it — at the function's entry, or at a loop head (on-stack
//! replacement) — and the code's results return to the interpreted caller. Compiled code
//! calls functions that are not compiled yet through their host-call trampolines, which
//! run them in the interpreter (`compiled::host_call`).
//!
//! Replacing a frame is exact: the compiled code starts where the interpreter stood, with
//! the same fuel (the interpreter charged the entry already, so it is given back before the
//! compiled function charges it again; a loop head's checks come after the tiering
//! instruction in both tiers).

use super::store::Store;
use crate::error::Error;

/// Budget given back while a compilation is pending: how much more interpreted work
/// passes before the interpreter asks again — an eighth of the threshold (at least 1,000).
/// Much less would make a hot loop stop at every iteration while its code is being made.
#[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
fn poll(config: &crate::Config) -> i32 {
    i32::try_from(config.tiering_threshold / 8).unwrap_or(i32::MAX).max(1000)
}

/// Handles `Exit::Tier` of the activation whose frames begin at `depth`: returns whether
/// that activation is over (its entry frame was replaced by code that has returned).
pub(crate) fn tier_up<T>(store: &mut Store<T>, osr: Option<u32>, depth: usize) -> Result<bool, Error> {
    #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
    return compiled::tier_up(store, osr, depth);
    #[cfg(not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")))]
    {
        // Nothing to tier up to: never ask again.
        let _ = (osr, depth);
        set_budget(store, i32::MAX);
        Ok(false)
    }
}

/// Sets the hotness budget of the top frame's function.
fn set_budget<T>(store: &mut Store<T>, budget: i32) {
    let interp = &mut store.interp;
    if let Some(frame) = interp.stack.frames.last()
        && let Some(b) = interp.budgets.get_mut(frame.instance as usize).and_then(|b| b.get_mut(frame.def as usize))
    {
        *b = budget;
    }
}

#[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
pub(crate) use compiled::{runs_compiled, to_slots};

#[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
mod compiled {
    use super::super::store::Store;
    use super::{poll, set_budget};
    use crate::Strategy;
    use crate::compile::Tiered;
    use crate::error::Error;
    use crate::types::ValType;

    /// Whether a call of function `index` of store instance `instance` from the host runs
    /// compiled code: always with `Strategy::Compile`; tiered, once it is compiled.
    pub(crate) fn runs_compiled<T>(store: &Store<T>, instance: u32, index: u32) -> bool {
        let Some(Some(compiled)) = store.compiled.modules.get(instance as usize) else { return false };
        if store.inner.engine.config().strategy != Strategy::Tiered {
            return true;
        }
        let module = &store.inner.instances[instance as usize].module;
        index.checked_sub(module.num_imported_funcs).is_some_and(|def| compiled.func(def).is_some())
    }

    pub(super) fn tier_up<T>(store: &mut Store<T>, osr: Option<u32>, depth: usize) -> Result<bool, Error> {
        let Some(frame) = store.interp.stack.frames.last() else { return Ok(false) };
        let (func, instance, def) = (frame.func, frame.instance, frame.def);
        let config = store.inner.engine.config();
        let (threads, entry) = (config.tiering_threads, config.tiering_entry);
        if store.compiled.modules.get(instance as usize).is_some_and(Option::is_none)
            && super::super::compiled::compiled_module(store, instance).is_none()
        {
            set_budget(store, i32::MAX);
            return Ok(false);
        }
        let Some(Some(compiled)) = store.compiled.modules.get(instance as usize) else {
            set_budget(store, i32::MAX);
            return Ok(false);
        };
        // The common case first: a call of a function that is compiled.
        if osr.is_none()
            && entry
            && let Some(code) = compiled.func(def)
        {
            let module = &store.inner.instances[instance as usize].module;
            let trampoline = compiled.entry_trampoline(module.funcs[(module.num_imported_funcs + def) as usize]);
            // (Compiled by another store, or in the background since: its callers in
            // compiled code call it directly from now on.)
            if crate::vm::vmctx::native(&store.inner, func) != code {
                crate::vm::vmctx::set_native(&mut store.inner, func, code);
            }
            return transfer(store, None, code, trampoline, depth);
        }
        let compiled = compiled.clone();
        let module = store.inner.instances[instance as usize].module.clone();
        // The whole function, for its next calls (not in the test mode that switches tiers
        // only at loop heads).
        let whole = if entry { compiled.tier(&module, def, None, threads) } else { Tiered::Failed };
        if let Tiered::Ready { code, .. } = whole
            && crate::vm::vmctx::native(&store.inner, func) != code
        {
            crate::vm::vmctx::set_native(&mut store.inner, func, code);
        }
        let target = match osr {
            None if !entry => return Ok(false),
            None => whole,
            // A loop asks for the on-stack-replacement entry only once the whole function is
            // compiled and the loop still runs: most functions that loop are called again
            // soon, and their next call needs no second compilation.
            Some(_) if matches!(whole, Tiered::Pending) => whole,
            Some(k) => compiled.tier(&module, def, Some(k), threads),
        };
        match target {
            Tiered::Ready { code, trampoline } => transfer(store, osr, code, trampoline, depth),
            Tiered::Pending => {
                set_budget(store, poll(store.inner.engine.config()));
                Ok(false)
            }
            Tiered::Failed => {
                let hopeless = osr.is_none() || !matches!(whole, Tiered::Pending | Tiered::Ready { .. });
                let budget = if hopeless { i32::MAX } else { poll(store.inner.engine.config()) };
                set_budget(store, budget);
                Ok(false)
            }
        }
    }

    /// Replaces the top frame (of the activation whose frames begin at `depth`) by
    /// compiled `code`, called through `trampoline`: at its entry, or at the head of loop
    /// `osr`. Returns whether the activation is over.
    fn transfer<T>(
        store: &mut Store<T>,
        osr: Option<u32>,
        code: usize,
        trampoline: usize,
        depth: usize,
    ) -> Result<bool, Error> {
        let Some(frame) = store.interp.stack.frames.pop() else { return Ok(false) };
        let (func, instance, base) = (frame.func, frame.instance, frame.base);
        let ty = &*store.inner.funcs[func as usize].ty;
        let interp_func = store.interp.code[instance as usize].get(frame.def)?;
        let slots = &store.interp.stack.slots;
        // The frame's state: the arguments, or the loop's number and every local.
        let mut inline = [0u128; 8];
        let mut heap = Vec::new();
        let cells = match osr {
            None => ty.params().len().max(ty.results().len()).max(1),
            Some(_) => {
                (1 + (interp_func.num_params + interp_func.num_locals).div_ceil(2) as usize).max(ty.results().len())
            }
        };
        let values = if cells <= inline.len() {
            &mut inline[..cells]
        } else {
            heap.resize(cells, 0);
            &mut heap[..]
        };
        match osr {
            None => {
                // The interpreter charged the entry; the compiled function charges it again.
                if store.inner.engine.config().consume_fuel {
                    store.inner.meter.fuel += u64::from(interp_func.entry_fuel);
                }
                let mut at = base;
                for (cell, &t) in values.iter_mut().zip(ty.params()) {
                    *cell = from_slots(&slots[at..], t);
                    at += t.slots() as usize;
                }
                store.compiled.transfers.calls += 1;
            }
            Some(k) => {
                let n = (interp_func.num_params + interp_func.num_locals) as usize;
                values[0] = u128::from(k);
                for (i, &slot) in slots[base..base + n].iter().enumerate() {
                    values[1 + i / 2] |= u128::from(slot) << (64 * (i % 2));
                }
                store.compiled.transfers.loops += 1;
            }
        }
        if let Err(mut e) = super::super::compiled::enter(store, instance, trampoline, code, values) {
            if let Error::Trap(trap) = &mut e {
                trap.extend_backtrace(store.interp.backtrace(&store.inner, depth));
            }
            return Err(e);
        }
        let ty = &*store.inner.funcs[func as usize].ty;
        let width: usize = ty.results().iter().map(|t| t.slots() as usize).sum();
        let stack = &mut store.interp.stack;
        stack.reserve(base + width)?;
        let mut at = base;
        for (&cell, &t) in values.iter().zip(ty.results()) {
            to_slots(cell, t, &mut stack.slots[at..]);
            at += t.slots() as usize;
        }
        Ok(stack.frames.len() <= depth)
    }

    /// The untyped 16-byte encoding of the value of type `ty` in `slots`.
    fn from_slots(slots: &[u64], ty: ValType) -> u128 {
        match ty.slots() {
            2 => u128::from(slots[0]) | u128::from(slots[1]) << 64,
            _ => u128::from(slots[0]),
        }
    }

    /// Writes a value of type `ty` from its 16-byte encoding (whose unused bytes may hold
    /// anything) into `slots`.
    pub(crate) fn to_slots(cell: u128, ty: ValType, slots: &mut [u64]) {
        match ty {
            ValType::V128 => [slots[0], slots[1]] = [cell as u64, (cell >> 64) as u64],
            ValType::I32 | ValType::F32 => slots[0] = u64::from(cell as u32),
            _ => slots[0] = cell as u64,
        }
    }
}

#[cfg(all(test, feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
mod tests {
    use crate::{Config, Engine, Instance, Module, Store, Strategy, Trap, Val};

    /// A store of a tiered engine (compiling in the calling thread) with `wat` instantiated.
    fn tiered(wat: &str, threshold: u32, configure: impl FnOnce(&mut Config)) -> (Store<()>, Instance) {
        let mut config = Config::new();
        config.strategy(Strategy::Tiered).tiering_threshold(threshold).tiering_threads(0);
        configure(&mut config);
        let engine = Engine::new(&config);
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        (store, instance)
    }

    const SUM: &str = r#"(module
        (func $sum (export "sum") (param $n i32) (result i64)
          (local $acc i64)
          (block $done
            (loop $next
              (br_if $done (i32.eqz (local.get $n)))
              (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br $next)))
          (local.get $acc))
        (func $twice (export "twice") (param i32) (result i64)
          (i64.add (call $sum (local.get 0)) (call $sum (local.get 0)))))"#;

    #[test]
    fn a_long_loop_continues_in_compiled_code_from_its_head() {
        let (mut store, instance) = tiered(SUM, 5_000, |_| {});
        let sum = instance.get_typed_func::<i32, i64>(&store, "sum").unwrap();
        assert_eq!(sum.call(&mut store, 100_000).unwrap(), 5_000_050_000);
        assert_eq!((store.compiled.transfers.calls, store.compiled.transfers.loops), (0, 1));
        // The next call starts compiled (from the host: no transfer needed).
        assert_eq!(sum.call(&mut store, 10).unwrap(), 55);
        assert_eq!(store.compiled.transfers.loops, 1);
    }

    #[test]
    fn an_interpreted_caller_calls_compiled_code_and_compiled_code_interpreted() {
        // Cold `twice` keeps calling `sum`, which is compiled after a few calls.
        let (mut store, instance) = tiered(SUM, 2_000, |_| {});
        let twice = instance.get_typed_func::<i32, i64>(&store, "twice").unwrap();
        for n in 0..50 {
            assert_eq!(twice.call(&mut store, n).unwrap(), i64::from(n) * i64::from(n + 1));
        }
        assert!(store.compiled.transfers.calls > 0, "{:?}", store.compiled.transfers);
        // Only loop heads tier up: `sum` runs compiled from its loop, called by interpreted
        // `twice`; then `twice` compiled... is never (it has no loop).
        let (mut store, instance) = tiered(SUM, 0, |c| {
            c.tiering_entry(false);
        });
        let twice = instance.get_typed_func::<i32, i64>(&store, "twice").unwrap();
        assert_eq!(twice.call(&mut store, 10).unwrap(), 110);
        assert_eq!((store.compiled.transfers.calls, store.compiled.transfers.loops), (0, 2));
    }

    /// A function whose body is bigger than 4 KiB: a loop `$n` times adding 1 to a local
    /// 700 times; its locals start at zero at every call.
    fn big_loop() -> String {
        let step = "(local.set $acc (i64.add (local.get $acc) (i64.const 1)))\n".repeat(700);
        format!(
            r#"(module
              (func $big (export "big") (param $n i32) (result i64)
                (local $acc i64)
                (block $done
                  (loop $next
                    (br_if $done (i32.eqz (local.get $n)))
                    {step}
                    (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                    (br $next)))
                (local.get $acc))
              (func (export "call_big") (param i32) (result i64)
                (i64.add (call $big (local.get 0)) (call $big (local.get 0)))))"#
        )
    }

    #[test]
    fn a_big_function_is_compiled_once_for_calls_and_loop_heads() {
        for (both_entries, compilations) in [(4096, 1), (usize::MAX, 2)] {
            let (mut store, instance) = tiered(&big_loop(), 5_000, |c| {
                c.tiering_both_entries(both_entries);
            });
            let big = instance.get_typed_func::<i32, i64>(&store, "big").unwrap();
            // Entered once, the loop runs hot: on-stack replacement.
            assert_eq!(big.call(&mut store, 1_000).unwrap(), 700_000);
            assert_eq!((store.compiled.transfers.calls, store.compiled.transfers.loops), (0, 1));
            let compiled = store.compiled.modules[0].clone().unwrap();
            assert_eq!(compiled.tier_compilations(), compilations, "both entries from {both_entries} bytes");
            // Later calls (from the host, and from compiled `call_big` once it is hot) start
            // compiled, with zeroed locals.
            let call_big = instance.get_typed_func::<i32, i64>(&store, "call_big").unwrap();
            for n in 0..20 {
                assert_eq!(big.call(&mut store, n).unwrap(), 700 * i64::from(n));
                assert_eq!(call_big.call(&mut store, n).unwrap(), 1_400 * i64::from(n));
            }
            assert_eq!(store.compiled.transfers.loops, 1);
        }
    }

    #[test]
    fn fuel_and_traps_are_the_interpreters() {
        const DEEP: &str = r#"(module
            (func $down (export "down") (param i32) (result i32)
              (if (result i32) (i32.eqz (local.get 0))
                (then (i32.div_u (i32.const 1) (local.get 0)))
                (else (call $down (i32.sub (local.get 0) (i32.const 1))))))
            (func (export "spin") (param $n i32) (result i32)
              (loop $l
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br_if $l (local.get $n)))
              (call $down (i32.const 30))))"#;
        let run = |strategy: Strategy, threshold: u32, both_entries: usize| {
            let mut config = Config::new();
            config.strategy(strategy).tiering_threshold(threshold).tiering_threads(0).consume_fuel(true);
            config.tiering_both_entries(both_entries);
            let engine = Engine::new(&config);
            let module = Module::new(&engine, DEEP).unwrap();
            let mut store = Store::new(&engine, ());
            store.set_fuel(1_000_000).unwrap();
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let spin = instance.get_func(&store, "spin").unwrap();
            let err = spin.call(&mut store, &[Val::I32(5_000)], &mut [Val::I32(0)]).unwrap_err();
            let trap = err.as_trap_error().unwrap();
            let frames: Vec<u32> = trap.backtrace().frames().iter().map(|f| f.func_index).collect();
            (trap.trap(), frames, store.get_fuel().unwrap())
        };
        let interpreted = run(Strategy::Interpret, 0, 0);
        assert_eq!(interpreted.0, Trap::IntegerDivideByZero);
        assert_eq!(interpreted.1.len(), 32);
        for threshold in [0, 1, 100, 1_000, 20_000] {
            // (Both entries for every function: calls go through the adapters.)
            for both_entries in [0, usize::MAX] {
                let tiered = run(Strategy::Tiered, threshold, both_entries);
                assert_eq!(tiered, interpreted, "threshold {threshold}, both entries from {both_entries} bytes");
            }
        }
    }
}
