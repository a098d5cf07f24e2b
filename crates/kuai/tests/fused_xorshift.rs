//! The translator fuses `x ^ (x << k)` and `x ^ (x >> k)` (unsigned) into one instruction.
//! Every shape around it must compute what wasm says: the shift on either side of the
//! `xor`, counts at and past the width (taken modulo the width), a signed shift (not fused),
//! a shift of another value (not fused), chains that hand results on in the accumulator,
//! and a full xorshift round.

use kuai::{Engine, Instance, Module, Store};

const WAT: &str = r#"
(module
  (func (export "xs32") (param $x i32) (result i32)
    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
    (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
    (local.get $x))
  (func (export "xs64") (param $x i64) (result i64)
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
    (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
    (local.get $x))
  ;; the shift on the left, counts past the width (45 mod 32 = 13, 109 mod 64 = 45), equal to it
  (func (export "left32") (param $x i32) (result i32)
    (i32.xor (i32.shl (local.get $x) (i32.const 45)) (local.get $x)))
  (func (export "width32") (param $x i32) (result i32)
    (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 32))))
  (func (export "left64") (param $x i64) (result i64)
    (i64.xor (i64.shr_u (local.get $x) (i64.const 109)) (local.get $x)))
  (func (export "width64") (param $x i64) (result i64)
    (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 64))))
  ;; not fusable: a signed shift, a shift of another value
  (func (export "signed32") (param $x i32) (result i32)
    (i32.xor (local.get $x) (i32.shr_s (local.get $x) (i32.const 3))))
  (func (export "other32") (param $x i32) (param $y i32) (result i32)
    (i32.xor (local.get $y) (i32.shl (local.get $x) (i32.const 3))))
  (func (export "other64") (param $x i64) (param $y i64) (result i64)
    (i64.xor (i64.shr_u (local.get $y) (i64.const 9)) (local.get $x)))
  ;; a temporary as the operand, and the result consumed by the next op (accumulator)
  (func (export "temp32") (param $x i32) (result i32) (local $t i32)
    (local.set $t (i32.mul (local.get $x) (i32.const 0x9e3779b9)))
    (i32.add
      (i32.xor (local.get $t) (i32.shr_u (local.get $t) (i32.const 16)))
      (i32.const 1)))
)
"#;

fn xs32(mut x: u32) -> u32 {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x
}

fn xs64(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

const VALUES: [u64; 8] = [0, 1, 0x8000_0000, 0xffff_ffff, 0x1234_5678_9abc_def0, u64::MAX, 1 << 63, 0xdead_beef];

#[test]
fn xor_with_own_shift_computes_what_wasm_says() {
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f32 = |store: &mut Store<()>, name: &str| instance.get_typed_func::<i32, i32>(&mut *store, name).unwrap();
    let f64 = |store: &mut Store<()>, name: &str| instance.get_typed_func::<i64, i64>(&mut *store, name).unwrap();
    for v in VALUES {
        let (x, w) = (v as u32, v);
        let call32 = |store: &mut Store<()>, name: &str| f32(store, name).call(&mut *store, x as i32).unwrap() as u32;
        let call64 = |store: &mut Store<()>, name: &str| f64(store, name).call(&mut *store, w as i64).unwrap() as u64;
        assert_eq!(call32(&mut store, "xs32"), xs32(x), "xs32({x:#x})");
        assert_eq!(call64(&mut store, "xs64"), xs64(w), "xs64({w:#x})");
        assert_eq!(call32(&mut store, "left32"), x ^ (x << 13), "left32({x:#x})");
        assert_eq!(call32(&mut store, "width32"), 0, "width32({x:#x})");
        assert_eq!(call64(&mut store, "left64"), w ^ (w >> 45), "left64({w:#x})");
        assert_eq!(call64(&mut store, "width64"), 0, "width64({w:#x})");
        assert_eq!(call32(&mut store, "signed32"), x ^ ((x as i32) >> 3) as u32, "signed32({x:#x})");
        let t = x.wrapping_mul(0x9e37_79b9);
        assert_eq!(call32(&mut store, "temp32"), (t ^ (t >> 16)).wrapping_add(1), "temp32({x:#x})");
        let y = 0x0f0f_1234u32;
        let other32 = instance.get_typed_func::<(i32, i32), i32>(&mut store, "other32").unwrap();
        assert_eq!(other32.call(&mut store, (x as i32, y as i32)).unwrap() as u32, y ^ (x << 3), "other32({x:#x})");
        let z = 0x0123_4567_89ab_cdefu64;
        let other64 = instance.get_typed_func::<(i64, i64), i64>(&mut store, "other64").unwrap();
        assert_eq!(other64.call(&mut store, (w as i64, z as i64)).unwrap() as u64, (z >> 9) ^ w, "other64({w:#x})");
    }
}
