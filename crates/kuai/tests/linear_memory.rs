//! Linear memory as a reservation: growth from wasm and from the host keeps the memory's
//! address and contents and hands out zeroed pages; with no reservation
//! (`Config::memory_reservation(0)`) the memory moves instead, keeping its contents.

use kuai::{Config, Engine, Instance, Module, Store};

const WAT: &str = r#"
    (module
      (memory (export "m") 1)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
"#;

/// Grows the memory page by page from wasm and from the host, writing a marker at the end
/// of each new page through wasm and checking every earlier marker and the zeroed rest.
/// Returns how many distinct base addresses the memory had.
fn grow_and_check(config: &Config) -> usize {
    let engine = Engine::new(config);
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let memory = instance.get_memory(&store, "m").unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    let store_i32 = instance.get_typed_func::<(i32, i32), ()>(&store, "store").unwrap();
    let load = instance.get_typed_func::<i32, i32>(&store, "load").unwrap();
    let mut bases = vec![memory.data(&store).as_ptr()];
    for page in 1..40i32 {
        let old =
            if page % 2 == 0 { grow.call(&mut store, 1).unwrap() } else { memory.grow(&mut store, 1).unwrap() as i32 };
        assert_eq!(old, page);
        let end = (page + 1) * 65536 - 4;
        assert_eq!(load.call(&mut store, end).unwrap(), 0, "a new page reads as zero");
        store_i32.call(&mut store, (end, page)).unwrap();
        for earlier in 1..=page {
            assert_eq!(load.call(&mut store, (earlier + 1) * 65536 - 4).unwrap(), earlier);
        }
        let data = memory.data(&store);
        assert_eq!(data.len(), (page as usize + 1) * 65536);
        assert!(data[page as usize * 65536..data.len() - 4].iter().all(|&b| b == 0));
        bases.push(data.as_ptr());
    }
    bases.dedup();
    bases.len()
}

#[test]
fn a_reserved_memory_grows_in_place() {
    assert_eq!(grow_and_check(&Config::new()), 1, "the memory moved");
}

#[test]
fn a_memory_without_reservation_moves_and_keeps_its_contents() {
    let mut config = Config::new();
    config.memory_reservation(0).memory_guard_size(0);
    assert!(grow_and_check(&config) > 1, "the memory never moved: the mode is not exercised");
}

#[test]
fn growth_beyond_the_maximum_is_refused_in_both_modes() {
    for reservation in [4 << 30, 0] {
        let mut config = Config::new();
        config.memory_reservation(reservation);
        let engine = Engine::new(&config);
        let module = Module::new(&engine, r#"(module (memory (export "m") 1 3))"#).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let memory = instance.get_memory(&store, "m").unwrap();
        assert_eq!(memory.grow(&mut store, 2).unwrap(), 1);
        assert!(memory.grow(&mut store, 1).is_err());
        assert_eq!(memory.data(&store).len(), 3 * 65536);
    }
}
