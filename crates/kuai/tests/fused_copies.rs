//! Two `Copy`s in a row become one `Copy2` (and a `Copy2` before a `br`, one `Copy2Br`) when
//! no jump lands between them. The copies stay sequential (the second sees the first's
//! write), and a label between two copies keeps them apart.

use kuai::{Engine, Instance, Module, Store};

fn run(wat: &str, arg: i32) -> i32 {
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    let module = Module::new(&engine, wat).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance.get_typed_func::<i32, i32>(&store, "f").expect("exported");
    f.call(&mut store, arg).expect("runs")
}

#[test]
fn consecutive_copies_are_sequential() {
    // A rotation through a temporary: t = a; a = b; b = c; c = t, each a local-to-local copy.
    let wat = r#"(module (func (export "f") (param i32) (result i32) (local i32 i32 i32 i32)
        (local.set 1 (i32.add (local.get 0) (i32.const 1)))
        (local.set 2 (i32.add (local.get 0) (i32.const 2)))
        (local.set 3 (i32.add (local.get 0) (i32.const 3)))
        (local.set 4 (local.get 1))
        (local.set 1 (local.get 2))
        (local.set 2 (local.get 3))
        (local.set 3 (local.get 4))
        (local.set 2 (local.get 1))
        (local.set 1 (local.get 2))
        (i32.add (i32.mul (local.get 1) (i32.const 100))
          (i32.add (i32.mul (local.get 2) (i32.const 10)) (local.get 3)))))"#;
    // a, b, c = x+1, x+2, x+3 → rotate → x+2, x+3, x+1 → b = a; a = b → x+2, x+2, x+1.
    for x in [0, 5] {
        assert_eq!(run(wat, x), (x + 2) * 100 + (x + 2) * 10 + (x + 1), "f({x})");
    }
}

#[test]
fn a_loop_carries_two_values_through_its_back_edge() {
    // Fibonacci with the pair (a, b) carried as loop parameters: the taken `br_if` copies
    // (b, a + b) into the parameter slots, two copies before the back edge.
    let wat = r#"(module (func (export "f") (param i32) (result i32) (local i32 i32)
        (i32.const 0) (i32.const 1)
        (loop $l (param i32 i32) (result i32 i32)
          (local.set 2) (local.set 1)
          (local.get 2)
          (i32.add (local.get 1) (local.get 2))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br_if $l (local.get 0)))
        (drop)))"#;
    let reference = |mut n: i32| {
        let (mut a, mut b) = (0i32, 1i32);
        loop {
            (a, b) = (b, a.wrapping_add(b));
            n -= 1;
            if n == 0 {
                break a;
            }
        }
    };
    for n in [1, 2, 7, 30] {
        assert_eq!(run(wat, n), reference(n), "f({n})");
    }
}

#[test]
fn a_label_between_copies_keeps_them_apart() {
    // The loop head sits between `local 2 = local 1` and `local 1 = local 3`: a jump back
    // to it must run only the second copy.
    let wat = r#"(module (func (export "f") (param i32) (result i32) (local i32 i32 i32)
        (local.set 1 (i32.const 1))
        (local.set 3 (i32.const 10))
        (local.set 2 (local.get 1))
        (loop $l
          (local.set 1 (local.get 3))
          (local.set 3 (local.get 2))
          (local.set 2 (i32.add (local.get 2) (i32.const 100)))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br_if $l (local.get 0)))
        (i32.add (i32.mul (local.get 1) (i32.const 1000)) (local.get 2))))"#;
    let reference = |mut n: i32| {
        let (mut l1, mut l3) = (1, 10);
        let mut l2 = l1;
        loop {
            l1 = l3;
            l3 = l2;
            l2 += 100;
            n -= 1;
            if n == 0 {
                break l1 * 1000 + l2;
            }
        }
    };
    for n in [1, 2, 3, 6] {
        assert_eq!(run(wat, n), reference(n), "f({n})");
    }
}

#[test]
fn copies_fused_into_a_back_edge_stay_sequential() {
    // `local 2 = local 1; local 3 = local 2; br $l` becomes one `Copy2Br`: the second copy
    // must read the value the first one wrote.
    let wat = r#"(module (func (export "f") (param i32) (result i32) (local i32 i32 i32)
        (local.set 2 (i32.const 7))
        (block $exit
          (loop $l
            (local.set 1 (i32.add (local.get 1) (local.get 0)))
            (br_if $exit (i32.ge_u (local.get 1) (i32.const 50)))
            (local.set 2 (local.get 1))
            (local.set 3 (local.get 2))
            (br $l)))
        (i32.add (i32.mul (local.get 3) (i32.const 1000)) (local.get 1))))"#;
    let reference = |x: i32| {
        let (mut l1, mut l3) = (0, 0);
        loop {
            l1 += x;
            if l1 as u32 >= 50 {
                break l3 * 1000 + l1;
            }
            let l2 = l1;
            l3 = l2;
        }
    };
    for x in [1, 9, 60] {
        assert_eq!(run(wat, x), reference(x), "f({x})");
    }
}
