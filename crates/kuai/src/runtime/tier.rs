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
/// passes before the interpreter asks again.
#[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
const POLL: i32 = 1000;

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
    use super::{POLL, set_budget};
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
        let (func, instance, def, base) = (frame.func, frame.instance, frame.def, frame.base);
        let config = store.inner.engine.config();
        let (threads, entry, fuel) = (config.tiering_threads, config.tiering_entry, config.consume_fuel);
        let Some(Some(compiled)) = store.compiled.modules.get(instance as usize).cloned() else {
            set_budget(store, i32::MAX);
            return Ok(false);
        };
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
            Some(k) => compiled.tier(&module, def, Some(k), threads),
        };
        let (code, trampoline) = match target {
            Tiered::Ready { code, trampoline } => (code, trampoline),
            Tiered::Pending => {
                set_budget(store, POLL);
                return Ok(false);
            }
            Tiered::Failed => {
                let hopeless = osr.is_none() || !matches!(whole, Tiered::Pending | Tiered::Ready { .. });
                set_budget(store, if hopeless { i32::MAX } else { POLL });
                return Ok(false);
            }
        };
        // The frame's state, then the frame itself, leave the interpreter.
        let interp_code = store.interp.code[instance as usize].clone();
        let interp_func = interp_code.get(def)?;
        let ty = module.func_type(module.num_imported_funcs + def).clone();
        let slots = &store.interp.stack.slots;
        let mut values = match osr {
            None => {
                if fuel {
                    store.inner.meter.fuel += u64::from(interp_func.entry_fuel);
                }
                let mut values = vec![0u128; ty.params().len().max(ty.results().len()).max(1)];
                let mut at = base;
                for (cell, &t) in values.iter_mut().zip(ty.params()) {
                    *cell = from_slots(&slots[at..], t);
                    at += t.slots() as usize;
                }
                values
            }
            Some(_) => {
                // Every local, slot by slot (two to a cell).
                let n = (interp_func.num_params + interp_func.num_locals) as usize;
                let mut values = vec![0u128; n.div_ceil(2).max(ty.results().len()).max(1)];
                for (i, &slot) in slots[base..base + n].iter().enumerate() {
                    values[i / 2] |= u128::from(slot) << (64 * (i % 2));
                }
                values
            }
        };
        store.interp.stack.frames.pop();
        match osr {
            None => store.compiled.transfers.calls += 1,
            Some(_) => store.compiled.transfers.loops += 1,
        }
        let outcome = super::super::compiled::enter(store, instance, trampoline, code, &mut values);
        if let Err(mut e) = outcome {
            if let Error::Trap(trap) = &mut e {
                trap.extend_backtrace(store.interp.backtrace(&store.inner, depth));
            }
            return Err(e);
        }
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
        let run = |strategy: Strategy, threshold: u32| {
            let mut config = Config::new();
            config.strategy(strategy).tiering_threshold(threshold).tiering_threads(0).consume_fuel(true);
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
        let interpreted = run(Strategy::Interpret, 0);
        assert_eq!(interpreted.0, Trap::IntegerDivideByZero);
        assert_eq!(interpreted.1.len(), 32);
        for threshold in [0, 1, 100, 1_000, 20_000] {
            assert_eq!(run(Strategy::Tiered, threshold), interpreted, "threshold {threshold}");
        }
    }
}
