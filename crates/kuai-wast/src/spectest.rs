//! The `spectest` host module that the spec test suite imports from.
//!
//! It provides the `print*` functions (which print nothing here), four immutable globals
//! holding 666 / 666.6, a funcref table of 10..20 elements and a memory of 1..2 pages,
//! exactly as the reference interpreter's `spectest` module does.

use kuai::{
    Error, FuncType, Global, GlobalType, Linker, Memory, MemoryType, Mutability, Store, Table, TableType, Val, ValType,
};

/// The module name scripts import the host objects from.
pub const SPECTEST: &str = "spectest";

/// Defines every `spectest` export in `linker`, allocating the objects in `store`.
pub fn define_spectest(linker: &mut Linker<()>, store: &mut Store<()>) -> Result<(), Error> {
    use ValType::{F32, F64, I32, I64};
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(params.iter().copied(), []);
        linker.func_new(SPECTEST, name, ty, |_caller, _params, _results| Ok(()))?;
    }

    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, value) in globals {
        let global = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), value)?;
        linker.define(SPECTEST, name, global)?;
    }

    let table = Table::new(&mut *store, TableType::new(ValType::FuncRef, 10, Some(20)), Val::FuncRef(None))?;
    linker.define(SPECTEST, "table", table)?;
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define(SPECTEST, "memory", memory)?;
    Ok(())
}
