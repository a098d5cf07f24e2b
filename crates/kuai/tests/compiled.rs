//! The compiled tier (`Strategy::Compile`): results, traps with the interpreter's messages,
//! host calls in both directions, memory growth, indirect calls and deep recursion.

#![cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]

use kuai::{Caller, Config, Engine, Instance, Linker, Module, Store, Strategy, Trap, Val};

fn engine() -> Engine {
    let mut config = Config::new();
    config.strategy(Strategy::Compile);
    Engine::new(&config)
}

fn instance(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
    let module = Module::new(engine, wat).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn trap_of(result: Result<(), kuai::Error>) -> Trap {
    match result {
        Err(kuai::Error::Trap(t)) => t.trap(),
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn arithmetic_control_flow_and_locals() {
    let engine = engine();
    let (mut store, instance) = instance(
        &engine,
        r#"(module
          (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
          (func (export "sum") (param i64) (result i64) (local i64)
            (block $done
              (loop $next
                (br_if $done (i64.eqz (local.get 0)))
                (local.set 1 (i64.add (local.get 1) (local.get 0)))
                (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
                (br $next)))
            (local.get 1))
          (func (export "switch") (param i32) (result i32)
            (block $c (block $b (block $a
              (br_table $a $b $c (local.get 0)))
              (return (i32.const 10)))
              (return (i32.const 20)))
            (i32.const 30))
          (func (export "floats") (param f64 f32) (result f64)
            (f64.add (f64.sqrt (local.get 0)) (f64.promote_f32 (f32.nearest (local.get 1)))))
          (func (export "multi") (param i32) (result i32 i64 f32)
            (local.get 0) (i64.extend_i32_s (local.get 0)) (f32.convert_i32_s (local.get 0))))"#,
    );
    let fib = instance.get_typed_func::<i32, i32>(&store, "fib").unwrap();
    assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
    let sum = instance.get_typed_func::<i64, i64>(&store, "sum").unwrap();
    assert_eq!(sum.call(&mut store, 100_000).unwrap(), 5_000_050_000);
    let switch = instance.get_typed_func::<i32, i32>(&store, "switch").unwrap();
    let got: Vec<i32> = (0..5).map(|i| switch.call(&mut store, i).unwrap()).collect();
    assert_eq!(got, [10, 20, 30, 30, 30]);
    let floats = instance.get_typed_func::<(f64, f32), f64>(&store, "floats").unwrap();
    assert_eq!(floats.call(&mut store, (16.0, 2.5)).unwrap(), 6.0);
    let multi = instance.get_typed_func::<i32, (i32, i64, f32)>(&store, "multi").unwrap();
    assert_eq!(multi.call(&mut store, -3).unwrap(), (-3, -3, -3.0));
}

#[test]
fn every_trap_kind_has_the_interpreters_message_and_the_store_stays_usable() {
    let engine = engine();
    let (mut store, instance) = instance(
        &engine,
        r#"(module
          (memory 1)
          (table 2 funcref)
          (type $v (func))
          (func $f (param i32))
          (elem (i32.const 0) $f)
          (func (export "unreachable") unreachable)
          (func (export "div0") (drop (i32.div_s (i32.const 1) (i32.const 0))))
          (func (export "divu0") (drop (i64.div_u (i64.const 1) (i64.const 0))))
          (func (export "rem0") (drop (i32.rem_s (i32.const 1) (i32.const 0))))
          (func (export "overflow") (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))))
          (func (export "conversion") (drop (i32.trunc_f32_s (f32.const nan))))
          (func (export "conversion_range") (drop (i32.trunc_f64_u (f64.const -1))))
          (func (export "oob") (drop (i32.load (i32.const 65534))))
          (func (export "oob_far") (drop (i32.load offset=0xffff0000 (i32.const 0xffff))))
          (func (export "store_oob") (i64.store (i32.const -1) (i64.const 0)))
          (func (export "undefined") (call_indirect (type $v) (i32.const 5)))
          (func (export "uninitialized") (call_indirect (type $v) (i32.const 1)))
          (func (export "mismatch") (call_indirect (type $v) (i32.const 0)))
          (func $deep (export "deep") (call $deep))
          (func (export "ok") (result i32) (i32.const 7)))"#,
    );
    let cases = [
        ("unreachable", Trap::Unreachable),
        ("div0", Trap::IntegerDivideByZero),
        ("divu0", Trap::IntegerDivideByZero),
        ("rem0", Trap::IntegerDivideByZero),
        ("overflow", Trap::IntegerOverflow),
        ("conversion", Trap::InvalidConversionToInteger),
        ("conversion_range", Trap::IntegerOverflow),
        ("oob", Trap::MemoryOutOfBounds),
        ("oob_far", Trap::MemoryOutOfBounds),
        ("store_oob", Trap::MemoryOutOfBounds),
        ("undefined", Trap::UndefinedElement),
        ("uninitialized", Trap::UninitializedElement),
        ("mismatch", Trap::IndirectCallTypeMismatch),
        ("deep", Trap::StackOverflow),
    ];
    let ok = instance.get_typed_func::<(), i32>(&store, "ok").unwrap();
    for round in 0..10_000 {
        for (name, trap) in cases {
            let f = instance.get_typed_func::<(), ()>(&store, name).unwrap();
            assert_eq!(trap_of(f.call(&mut store, ())), trap, "{name} (round {round})");
        }
        assert_eq!(ok.call(&mut store, ()).unwrap(), 7);
    }
}

#[test]
fn host_functions_are_called_with_a_caller_and_their_errors_come_back() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
          (import "host" "add" (func $add (param i32 i64) (result i64)))
          (import "host" "fail" (func $fail))
          (import "host" "reenter" (func $reenter (param i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "twice") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
          (func (export "call_add") (param i32) (result i64) (call $add (local.get 0) (i64.const 40)))
          (func (export "call_fail") (call $fail))
          (func (export "nested") (param i32) (result i32) (i32.add (call $reenter (local.get 0)) (i32.const 1))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "add", |mut caller: Caller<'_, Vec<i32>>, a: i32, b: i64| {
            caller.data_mut().push(a);
            let memory = caller.get_export("memory").and_then(|e| e.into_memory()).unwrap();
            memory.data_mut(&mut caller)[0] = 99;
            a as i64 + b
        })
        .unwrap();
    linker
        .func_wrap("host", "fail", |_: Caller<'_, Vec<i32>>| -> Result<(), kuai::Error> {
            Err(kuai::Error::TypeMismatch("from the host".into()))
        })
        .unwrap();
    linker
        .func_wrap("host", "reenter", |mut caller: Caller<'_, Vec<i32>>, x: i32| -> Result<i32, kuai::Error> {
            let twice = caller.get_export("twice").and_then(|e| e.into_func()).unwrap();
            let mut out = [Val::I32(0)];
            twice.call(&mut caller, &[Val::I32(x)], &mut out)?;
            match out[0] {
                Val::I32(v) => Ok(v),
                _ => unreachable!(),
            }
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let call_add = instance.get_typed_func::<i32, i64>(&store, "call_add").unwrap();
    assert_eq!(call_add.call(&mut store, 2).unwrap(), 42);
    assert_eq!(store.data(), &[2]);
    let memory = instance.get_memory(&store, "memory").unwrap();
    assert_eq!(memory.data(&store)[0], 99);
    let call_fail = instance.get_typed_func::<(), ()>(&store, "call_fail").unwrap();
    for _ in 0..100 {
        let err = call_fail.call(&mut store, ()).unwrap_err();
        assert!(err.to_string().contains("from the host"), "{err}");
    }
    let nested = instance.get_typed_func::<i32, i32>(&store, "nested").unwrap();
    assert_eq!(nested.call(&mut store, 20).unwrap(), 41);
}

#[test]
fn a_panicking_host_function_unwinds_to_the_caller_and_the_store_stays_usable() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "boom" (func $boom))
                   (func (export "run") (call $boom))
                   (func (export "ok") (result i32) (i32.const 1)))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "boom", |_: Caller<'_, ()>| -> () { panic!("host panic") }).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<(), ()>(&store, "run").unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.call(&mut store, ())));
    assert!(caught.is_err());
    let ok = instance.get_typed_func::<(), i32>(&store, "ok").unwrap();
    assert_eq!(ok.call(&mut store, ()).unwrap(), 1);
}

#[test]
fn memory_grows_from_wasm_and_from_the_host_and_compiled_code_sees_it() {
    for reservation in [4u64 << 30, 0] {
        let mut config = Config::new();
        config.strategy(Strategy::Compile).memory_reservation(reservation);
        let engine = Engine::new(&config);
        let (mut store, instance) = instance(
            &engine,
            r#"(module
              (memory (export "m") 1 100)
              (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
              (func (export "size") (result i32) (memory.size))
              (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
              (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
              (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
              (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2))))"#,
        );
        let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
        let size = instance.get_typed_func::<(), i32>(&store, "size").unwrap();
        let store_i32 = instance.get_typed_func::<(i32, i32), ()>(&store, "store").unwrap();
        let load = instance.get_typed_func::<i32, i32>(&store, "load").unwrap();
        let memory = instance.get_memory(&store, "m").unwrap();
        assert_eq!(trap_of(load.call(&mut store, 65536).map(drop)), Trap::MemoryOutOfBounds);
        assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
        store_i32.call(&mut store, (65536, 5)).unwrap();
        assert_eq!(memory.grow(&mut store, 2).unwrap(), 2);
        assert_eq!(size.call(&mut store, ()).unwrap(), 4);
        store_i32.call(&mut store, (4 * 65536 - 4, 6)).unwrap();
        assert_eq!(load.call(&mut store, 65536).unwrap(), 5);
        assert_eq!(grow.call(&mut store, 1000).unwrap(), -1);
        let fill = instance.get_typed_func::<(i32, i32, i32), ()>(&store, "fill").unwrap();
        let copy = instance.get_typed_func::<(i32, i32, i32), ()>(&store, "copy").unwrap();
        fill.call(&mut store, (100, 0xab, 8)).unwrap();
        copy.call(&mut store, (200, 100, 8)).unwrap();
        assert_eq!(load.call(&mut store, 204).unwrap(), 0xabababab_u32 as i32);
        assert_eq!(trap_of(fill.call(&mut store, (4 * 65536 - 4, 0, 5))), Trap::MemoryOutOfBounds);
    }
}

#[test]
fn deep_recursion_traps_cleanly_and_the_next_call_works() {
    let engine = engine();
    let (mut store, instance) = instance(
        &engine,
        r#"(module (func $r (export "r") (param i32) (result i32)
             (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
               (else (i32.add (i32.const 1) (call $r (i32.sub (local.get 0) (i32.const 1))))))))"#,
    );
    let r = instance.get_typed_func::<i32, i32>(&store, "r").unwrap();
    assert_eq!(r.call(&mut store, 1000).unwrap(), 1000);
    for _ in 0..3 {
        assert_eq!(trap_of(r.call(&mut store, 200_000).map(drop)), Trap::StackOverflow);
        assert_eq!(r.call(&mut store, 100).unwrap(), 100);
    }
}

#[test]
fn traps_carry_a_backtrace_of_compiled_frames() {
    let engine = engine();
    let (mut store, instance) = instance(
        &engine,
        r#"(module $m (func $inner unreachable) (func $middle (call $inner)) (func $outer (export "outer") (call $middle)))"#,
    );
    let outer = instance.get_typed_func::<(), ()>(&store, "outer").unwrap();
    let Err(kuai::Error::Trap(t)) = outer.call(&mut store, ()) else { panic!("no trap") };
    let names: Vec<_> = t.backtrace().frames().iter().map(|f| f.func_name.clone().unwrap_or_default()).collect();
    assert_eq!(names, ["inner", "middle", "outer"]);
}

#[test]
fn two_threads_trapping_at_once_each_get_their_own_trap() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (memory 1)
             (func (export "oob") (param i32) (drop (i32.load (local.get 0))))
             (func (export "div") (param i32) (drop (i32.div_u (i32.const 1) (local.get 0)))))"#,
    )
    .unwrap();
    let threads: Vec<_> = ["oob", "div"]
        .into_iter()
        .map(|name| {
            let (engine, module) = (engine.clone(), module.clone());
            std::thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                let f = instance.get_typed_func::<i32, ()>(&store, name).unwrap();
                let arg = if name == "oob" { 70_000 } else { 0 };
                (0..2000).map(|_| trap_of(f.call(&mut store, arg))).collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results[0].iter().all(|&t| t == Trap::MemoryOutOfBounds));
    assert!(results[1].iter().all(|&t| t == Trap::IntegerDivideByZero));
}

#[test]
fn vector_functions_compile_beside_scalar_ones_in_batches() {
    // A v128 function among scalar ones, on one thread (3 fillers) and on the parallel
    // path (200): v128 values cross locals, blocks, calls and the entry trampoline.
    for filler in [3, 200] {
        let mut wat = String::from("(module (memory 1) (func (result i32) (i32.const 1))");
        wat.push_str(
            "(func (export \"dot\") (param v128 v128) (result v128) (local v128)
               (local.set 2 (i32x4.dot_i16x8_s (local.get 0) (local.get 1)))
               (block (result v128) (i32x4.add (local.get 2) (i32x4.splat (call 0)))))",
        );
        for i in 0..filler {
            wat.push_str(&format!("(func (result i32) (i32.add (i32.const {i}) (call 0)))"));
        }
        wat.push(')');
        let engine = engine();
        let module = Module::new(&engine, &wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let dot = instance.get_func(&mut store, "dot").unwrap();
        // i16 lanes a = [1, 2, 3, 4, 5, 6, 7, 8], b = [2; 8]: pairs sum to 6, 14, 22, 30, plus 1.
        let a = (0..8u128).fold(0u128, |v, i| v | ((i + 1) << (16 * i)));
        let b = (0..8u128).fold(0u128, |v, i| v | (2 << (16 * i)));
        let mut out = [Val::I32(0)];
        dot.call(&mut store, &[Val::V128(a), Val::V128(b)], &mut out).unwrap();
        let lanes: Vec<u32> = match out[0] {
            Val::V128(v) => (0..4).map(|i| (v >> (32 * i)) as u32).collect(),
            ref other => panic!("{other:?}"),
        };
        assert_eq!(lanes, [7, 15, 23, 31]);
    }
}

#[test]
fn lazily_compiled_functions_work_through_every_kind_of_call_and_in_every_store() {
    // Functions compile on their first call (the default): through an export, a table
    // element, another instance's import, and in a second store sharing the module.
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
             (type $t (func (param i32) (result i32)))
             (table (export "t") 2 funcref) (elem (i32.const 0) $double $triple)
             (func $double (export "double") (type $t) (i32.mul (local.get 0) (i32.const 2)))
             (func $triple (type $t) (i32.mul (local.get 0) (i32.const 3)))
             (func (export "pick") (param i32 i32) (result i32)
               (call_indirect (type $t) (local.get 1) (local.get 0))))"#,
    )
    .unwrap();
    let user = Module::new(
        &engine,
        r#"(module (import "m" "double" (func $d (param i32) (result i32)))
             (func (export "quad") (param i32) (result i32) (call $d (call $d (local.get 0)))))"#,
    )
    .unwrap();
    for _ in 0..2 {
        let mut store = Store::new(&engine, ());
        let m = Instance::new(&mut store, &module, &[]).unwrap();
        let double = m.get_func(&mut store, "double").unwrap();
        let u = Instance::new(&mut store, &user, &[double.into()]).unwrap();
        let quad = u.get_typed_func::<i32, i32>(&store, "quad").unwrap();
        let pick = m.get_typed_func::<(i32, i32), i32>(&store, "pick").unwrap();
        assert_eq!(pick.call(&mut store, (1, 5)).unwrap(), 15);
        assert_eq!(quad.call(&mut store, 5).unwrap(), 20);
        assert_eq!(pick.call(&mut store, (0, 5)).unwrap(), 10);
        assert_eq!(trap_of(pick.call(&mut store, (2, 5)).map(drop)), Trap::UndefinedElement);
    }
}

#[test]
fn an_invalid_body_compiled_lazily_fails_its_first_call_only() {
    // With lazy validation, an invalid function is found when it is first compiled: its
    // callers compile (it stays behind), calling it is an error, the store stays usable.
    let mut config = Config::new();
    config.strategy(Strategy::Compile).lazy_validation(true);
    let engine = Engine::new(&config);
    // Function 0 adds an i32 to an i64: invalid.
    let bytes = wat::parse_str(
        r#"(module
             (func $bad (result i32) (i32.add (i32.const 1) (i32.const 2)))
             (func (export "maybe") (param i32) (result i32)
               (if (result i32) (local.get 0) (then (call $bad)) (else (i32.const 7)))))"#,
    )
    .unwrap();
    let mut bytes = bytes;
    // Patch $bad's second `i32.const 2` (0x41 0x02) into `i64.const 2` (0x42 0x02).
    let at = bytes.windows(4).position(|w| w == [0x41, 0x01, 0x41, 0x02]).unwrap() + 2;
    bytes[at] = 0x42;
    let module = Module::new(&engine, &bytes).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let maybe = instance.get_typed_func::<i32, i32>(&store, "maybe").unwrap();
    assert_eq!(maybe.call(&mut store, 0).unwrap(), 7);
    // A body calling a function that does not exist (found by run_bytes: the lazy group's
    // planning read the index before validation).
    let mut bytes = wat::parse_str(r#"(module (func $a (call $b)) (func $b) (func (export "f") (call $a)))"#).unwrap();
    let at = bytes.windows(3).position(|w| w == [0x10, 0x01, 0x0b]).unwrap() + 1;
    bytes[at] = 0x7f;
    let module = Module::new(&engine, &bytes).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), ()>(&store, "f").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    assert!(err.to_string().contains("unknown function"), "{err}");
    for _ in 0..3 {
        let err = maybe.call(&mut store, 1).unwrap_err();
        assert!(!matches!(err, kuai::Error::Trap(_)), "an invalid body is not a guest trap: {err}");
        assert!(err.to_string().contains("type mismatch"), "{err}");
        assert_eq!(maybe.call(&mut store, 0).unwrap(), 7);
    }
}
