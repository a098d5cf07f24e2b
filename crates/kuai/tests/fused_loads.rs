//! An `i32.add` that computes a load's address is fused into the load
//! (`translate::ops::fuse_address`). The address arithmetic must stay wasm's: the sum wraps
//! at 2^32 before the offset is added, and a trap is still "out of bounds memory access".

use kuai::{Engine, Instance, Module, Store};

const WAT: &str = r#"(module (memory 2)
    (data (i32.const 8) "\2a\00\00\00\07\00\00\00")
    (data (i32.const 65544) "\63\00\00\00")
    (func (export "add") (param i32 i32) (result i32) (i32.load (i32.add (local.get 0) (local.get 1))))
    (func (export "add_offset") (param i32 i32) (result i32) (i32.load offset=4 (i32.add (local.get 0) (local.get 1))))
    (func (export "add_imm") (param i32 i32) (result i32) (i32.load8_u (i32.add (local.get 0) (i32.const 24))))
    (func (export "big_offset") (param i32 i32) (result i32) (i32.load offset=65536 (i32.add (local.get 0) (local.get 1))))
    (func (export "indexed") (param i32 i32) (result i32)
      (i32.load (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2)))))
    (func (export "indexed_masked") (param i32 i32) (result i32)
      (i32.load offset=4 (i32.add (i32.shl (local.get 1) (i32.const 34)) (local.get 0))))
    (func (export "indexed_big_offset") (param i32 i32) (result i32)
      (i32.load offset=65536 (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2)))))
    (func (export "indexed_big_shift") (param i32 i32) (result i32)
      (i32.load offset=4 (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 9)))))
    (func (export "shifted_sum") (param i32 i32) (result i32)
      (i32.add (i32.shl (local.get 1) (i32.const 31)) (local.get 0)))
    (func (export "i64") (param i32 i32) (result i32)
      (i32.wrap_i64 (i64.load32_s (i32.add (local.get 0) (local.get 1)))))
    (func (export "v128_add") (param i32 i32) (result i32)
      (i32x4.extract_lane 1 (v128.load offset=4 (i32.add (local.get 0) (local.get 1)))))
    (func (export "v128_add_imm") (param i32 i32) (result i32)
      (i32x4.extract_lane 0 (v128.load offset=2 (i32.add (local.get 0) (i32.const 26))))))"#;

fn call(name: &str, a: u32, b: u32) -> Result<i32, String> {
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    let module = Module::new(&engine, WAT).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance.get_typed_func::<(i32, i32), i32>(&store, name).expect("exported");
    f.call(&mut store, (a as i32, b as i32)).map_err(|e| e.to_string())
}

#[test]
fn fused_address_sums_wrap_at_2_pow_32() {
    assert_eq!(call("add", 4, 4), Ok(42));
    assert_eq!(call("add", 0xffff_fff0, 0x18), Ok(42));
    assert_eq!(call("add_offset", 0xffff_fff0, 0x18), Ok(7));
    assert_eq!(call("add_imm", 0xffff_fff0, 0), Ok(42));
    assert_eq!(call("i64", 0xffff_fff0, 0x1c), Ok(7));
}

#[test]
fn fused_shifted_indices_wrap_and_mask_the_shift() {
    assert_eq!(call("indexed", 0, 2), Ok(42));
    assert_eq!(call("indexed", 0xffff_fff0, 6), Ok(42));
    assert_eq!(call("indexed_masked", 8, 0), Ok(7));
    assert_eq!(call("indexed_masked", 0xffff_fffc, 3), Ok(7));
    assert_eq!(call("shifted_sum", 5, 3), Ok(i32::MIN + 5));
    assert!(call("indexed", 0x1_fffc, 1).unwrap_err().contains("out of bounds memory access"));
}

#[test]
fn offsets_beyond_16_bits_still_apply() {
    assert_eq!(call("big_offset", 4, 4), Ok(99));
    assert_eq!(call("indexed_big_offset", 4, 1), Ok(99));
    assert_eq!(call("indexed_big_shift", 0xffff_fe08, 1), Ok(7));
}

#[test]
fn fused_loads_trap_out_of_bounds() {
    let trap = "out of bounds memory access";
    assert!(call("add", 0x1_0000, 0x1_0000).unwrap_err().contains(trap));
    assert!(call("add_offset", 0x2_0000, 0xfffc).unwrap_err().contains(trap));
    assert!(call("add_imm", 0x1_ffe8, 0).unwrap_err().contains(trap));
}

#[test]
fn fused_vector_load_addresses_wrap_at_2_pow_32() {
    // Bytes 8..16 hold 42 and 7: lane 1 of the vector at 4 + 4 + 4 is the 7.
    assert_eq!(call("v128_add", 2, 2), Ok(7));
    assert_eq!(call("v128_add", 0xffff_fff0, 0x14), Ok(7));
    // (0xffff_fff0 + 26) mod 2^32 + 2 = 12: the 7 again, now in lane 0.
    assert_eq!(call("v128_add_imm", 0xffff_fff0, 0), Ok(7));
    assert!(call("v128_add", 0x1_fff0, 0x8).unwrap_err().contains("out of bounds memory access"));
    assert_eq!(call("v128_add_imm", 0x1_ffd4, 0), Ok(0));
    assert!(call("v128_add_imm", 0x1_ffd5, 0).unwrap_err().contains("out of bounds memory access"));
}
