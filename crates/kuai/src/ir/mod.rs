//! Kuai's internal bytecode: a register (slot) machine.
//!
//! Each function body is translated once into a `Box<[Instr]>`. Operands name *slots* of
//! the function's frame — a window of untyped 64-bit cells on Kuai's value stack:
//!
//! ```text
//! slot 0 .. params      parameters (the caller wrote them there: frames overlap)
//!      .. locals        declared locals (zeroed on entry), then the slots of the
//!                       constants loops use that fit no immediate (set at the start)
//!      .. frame_size    temporaries: one slot per operand-stack height
//! ```
//!
//! Values are untyped (validation already proved the types): an `i32`/`f32` lives in the
//! low 32 bits with the upper bits zero, an `i64`/`f64` uses all 64, a reference is `0`
//! for null or `index + 1` into the store's functions or extern objects.
//!
//! Every instruction fits in 16 bytes (tested below). The few that need a fourth operand
//! are followed by a [`Instr::Data`] word that the executor reads and skips.
//! Branch targets are absolute instruction indices resolved at translation time.

mod simd;

pub(crate) use simd::{SimdBinary, SimdLane, SimdLoad, SimdShift, SimdSplat, SimdTest, SimdUnary, for_each_simd_op};

/// Index of a slot in the current frame.
pub(crate) type Slot = u32;
/// Absolute index of an instruction in its function's code.
pub(crate) type Target = u32;

macro_rules! define_instrs {
    (
        unary { $($un:ident),* $(,)? }
        binary { $($bin:ident),* $(,)? }
        binary_imm { $($bimm:ident),* $(,)? }
        load { $($load:ident),* $(,)? }
        produces { $($(#[$pm:meta])* $prod:ident { $($ps:ident),* ; $($pf:ident : $pt:ty),* }),* $(,)? }
        other { $($(#[$om:meta])* $other:ident { $($os:ident),* ; $($of:ident : $ot:ty),* }),* $(,)? }
        narrow { $($(#[$nm:meta])* $narrow:ident { $($ns:ident),* ; $($nf:ident : $nt:ty),* }),* $(,)? }
    ) => {
        /// One bytecode instruction. See the module docs for the slot model.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub(crate) enum Instr {
            $( #[doc = concat!("`dst = ", stringify!($un), "(src)`")] $un { dst: Slot, src: Slot }, )*
            $( #[doc = concat!("`dst = ", stringify!($bin), "(a, b)`")] $bin { dst: Slot, a: Slot, b: Slot }, )*
            $( #[doc = concat!("`dst = ", stringify!($bimm), "(a, imm)` (immediate sign-extended to the operand width)")] $bimm { dst: Slot, a: Slot, imm: i32 }, )*
            $( #[doc = concat!("`dst = ", stringify!($load), "(memory[addr + offset])`")] $load { dst: Slot, addr: Slot, offset: u32 }, )*
            $( $(#[$pm])* $prod { dst: Slot $(, $ps: Slot)* $(, $pf: $pt)* }, )*
            $( $(#[$om])* $other { $($os: Slot,)* $($of: $ot),* }, )*
            $( $(#[$nm])* $narrow { $($ns: u16,)* $($nf: $nt),* }, )*
        }

        impl Instr {
            /// The slot this instruction writes its single result to, if it has one.
            /// The translator retargets it to fold a following `local.set`.
            pub(crate) fn result_slot_mut(&mut self) -> Option<&mut Slot> {
                match self {
                    $( Instr::$un { dst, .. } => Some(dst), )*
                    $( Instr::$bin { dst, .. } => Some(dst), )*
                    $( Instr::$bimm { dst, .. } => Some(dst), )*
                    $( Instr::$load { dst, .. } => Some(dst), )*
                    $( Instr::$prod { dst, .. } => Some(dst), )*
                    _ => None,
                }
            }

            /// Calls `f` with every slot operand (read or written) of the instruction.
            pub(crate) fn for_each_slot(&self, mut f: impl FnMut(Slot)) {
                match *self {
                    $( Instr::$un { dst, src } => { f(dst); f(src); } )*
                    $( Instr::$bin { dst, a, b } => { f(dst); f(a); f(b); } )*
                    $( Instr::$bimm { dst, a, .. } => { f(dst); f(a); } )*
                    $( Instr::$load { dst, addr, .. } => { f(dst); f(addr); } )*
                    $( Instr::$prod { dst, $($ps,)* .. } => { f(dst); $( f($ps); )* } )*
                    $( Instr::$other { $($os,)* .. } => { $( f($os); )* } )*
                    $( Instr::$narrow { $($ns,)* .. } => { $( f(Slot::from($ns)); )* } )*
                }
            }
        }
    };
}

define_instrs! {
    unary {
        I32Eqz, I32Clz, I32Ctz, I32Popcnt, I32Extend8S, I32Extend16S,
        I64Eqz, I64Clz, I64Ctz, I64Popcnt, I64Extend8S, I64Extend16S, I64Extend32S,
        F32Abs, F32Neg, F32Ceil, F32Floor, F32Trunc, F32Nearest, F32Sqrt,
        F64Abs, F64Neg, F64Ceil, F64Floor, F64Trunc, F64Nearest, F64Sqrt,
        I32WrapI64, I64ExtendI32S,
        I32TruncF32S, I32TruncF32U, I32TruncF64S, I32TruncF64U,
        I64TruncF32S, I64TruncF32U, I64TruncF64S, I64TruncF64U,
        I32TruncSatF32S, I32TruncSatF32U, I32TruncSatF64S, I32TruncSatF64U,
        I64TruncSatF32S, I64TruncSatF32U, I64TruncSatF64S, I64TruncSatF64U,
        F32ConvertI32S, F32ConvertI32U, F32ConvertI64S, F32ConvertI64U, F32DemoteF64,
        F64ConvertI32S, F64ConvertI32U, F64ConvertI64S, F64ConvertI64U, F64PromoteF32,
        Copy,
    }
    binary {
        I32Eq, I32Ne, I32LtS, I32LtU, I32GtS, I32GtU, I32LeS, I32LeU, I32GeS, I32GeU,
        I32Add, I32Sub, I32Mul, I32DivS, I32DivU, I32RemS, I32RemU,
        I32And, I32Or, I32Xor, I32Shl, I32ShrS, I32ShrU, I32Rotl, I32Rotr,
        I64Eq, I64Ne, I64LtS, I64LtU, I64GtS, I64GtU, I64LeS, I64LeU, I64GeS, I64GeU,
        I64Add, I64Sub, I64Mul, I64DivS, I64DivU, I64RemS, I64RemU,
        I64And, I64Or, I64Xor, I64Shl, I64ShrS, I64ShrU, I64Rotl, I64Rotr,
        F32Eq, F32Ne, F32Lt, F32Gt, F32Le, F32Ge,
        F32Add, F32Sub, F32Mul, F32Div, F32Min, F32Max, F32Copysign,
        F64Eq, F64Ne, F64Lt, F64Gt, F64Le, F64Ge,
        F64Add, F64Sub, F64Mul, F64Div, F64Min, F64Max, F64Copysign,
    }
    binary_imm {
        I32EqImm, I32NeImm, I32LtSImm, I32LtUImm, I32GtSImm, I32GtUImm, I32LeSImm, I32LeUImm, I32GeSImm, I32GeUImm,
        I32AddImm, I32MulImm, I32AndImm, I32OrImm, I32XorImm, I32ShlImm, I32ShrSImm, I32ShrUImm, I32RotlImm, I32RotrImm,
        I64EqImm, I64NeImm, I64LtSImm, I64LtUImm, I64GtSImm, I64GtUImm, I64LeSImm, I64LeUImm, I64GeSImm, I64GeUImm,
        I64AddImm, I64MulImm, I64AndImm, I64OrImm, I64XorImm, I64ShlImm, I64ShrSImm, I64ShrUImm, I64RotlImm, I64RotrImm,
    }
    load {
        Load32, Load64, Load8U, Load16U, Load8S32, Load16S32, Load8S64, Load16S64, Load32S64,
        V128Load,
    }
    produces {
        Const64 { ; value: u64 },
        GlobalGet { ; global: u32 },
        /// `global.get` of a `v128` global (two slots).
        GlobalGet128 { ; global: u32 },
        MemorySize { ; },
        /// `memory.grow` of the instance's memory `memory` (the driver performs it).
        MemoryGrow { delta ; memory: u32 },
        TableGet { index ; table: u32 },
        TableSize { ; table: u32 },
        RefFunc { ; func: u32 },
        /// `dst = cond != 0 ? a : b`; followed by `Data { a: b, .. }`.
        Select { cond, a ; },
        /// `select` of `v128` values; followed by `Data { a: b, .. }`.
        Select128 { cond, a ; },
        /// `dst = op(src)` on vectors.
        V128Unary { src ; op: SimdUnary },
        /// `dst = op(a, b)` on vectors.
        V128Binary { a, b ; op: SimdBinary },
        /// `dst (i32) = op(src)`: any/all true, bitmask.
        V128Test { src ; op: SimdTest },
        /// `dst = op(a, b)`: vector `a` shifted by the scalar `b`.
        V128Shift { a, b ; op: SimdShift },
        /// `dst = op(src)`: a scalar copied into every lane.
        V128Splat { src ; op: SimdSplat },
        /// `dst (scalar) = lane` of vector `src`.
        V128Extract { src ; op: SimdLane, lane: u8 },
        /// `dst = src` with `lane` replaced by the scalar `x`.
        V128Replace { src, x ; op: SimdLane, lane: u8 },
        /// `dst = (a & mask) | (b & !mask)`; followed by `Data { a: mask, .. }`.
        V128Bitselect { a, b ; },
        /// Followed by `Data { a, b, c }`: the 16 lane indices, 5 bits each, packed by
        /// [`pack_lanes`] into the low 80 bits of `a | b << 32 | c << 64`.
        I8x16Shuffle { a, b ; },
        /// Loads that widen, splat or zero-extend.
        V128LoadExt { addr ; op: SimdLoad, offset: u32 },
        /// `dst = vector` with `lane` loaded from memory; followed by `Data { a: vector, .. }`.
        V128LoadLane { addr ; op: SimdLane, lane: u8, offset: u32 },
        /// `V128Load` from `(base + index) mod 2^32 + offset`: the address's `i32.add` fused
        /// into the load.
        V128LoadAdd { base, index ; offset: u16 },
        /// `V128Load` from `(base + imm) mod 2^32 + offset`.
        V128LoadAddImm { base ; imm: i32, offset: u16 },
        /// `dst = a + (b << shift)` (32-bit, wrapping): an `i32.shl` by a constant fused into
        /// the `i32.add` that consumes it (array indexing).
        I32AddShl { a, b ; shift: u8 },
        /// `dst = a ^ (a << shift)` and `a ^ (a >> shift)` (unsigned), 32 and 64-bit: a
        /// shift by a constant fused into the `xor` of its own operand (xorshift
        /// generators, hash finalizers).
        I32XorShl { a ; shift: u8 },
        I32XorShrU { a ; shift: u8 },
        I64XorShl { a ; shift: u8 },
        I64XorShrU { a ; shift: u8 },
        /// `Load32` from `(base + (index << shift)) mod 2^32 + offset`: an `I32AddShl` fused
        /// into the load; `scaled` packs `offset << 3 | shift` (shift < 8, offset < 8192),
        /// since a `u8` and a `u16` would not both fit in 16 bytes.
        Load32AddShl { base, index ; scaled: u16 },
        Load64AddShl { base, index ; scaled: u16 },
        Load8UAddShl { base, index ; scaled: u16 },
        Load16UAddShl { base, index ; scaled: u16 },
        Load8S32AddShl { base, index ; scaled: u16 },
        Load16S32AddShl { base, index ; scaled: u16 },
        Load8S64AddShl { base, index ; scaled: u16 },
        Load16S64AddShl { base, index ; scaled: u16 },
        Load32S64AddShl { base, index ; scaled: u16 },
        /// `Load32` from `(base + index) mod 2^32 + offset`: an `i32.add` fused into the load.
        Load32Add { base, index ; offset: u16 },
        Load64Add { base, index ; offset: u16 },
        Load8UAdd { base, index ; offset: u16 },
        Load16UAdd { base, index ; offset: u16 },
        Load8S32Add { base, index ; offset: u16 },
        Load16S32Add { base, index ; offset: u16 },
        Load8S64Add { base, index ; offset: u16 },
        Load16S64Add { base, index ; offset: u16 },
        Load32S64Add { base, index ; offset: u16 },
        /// `dst = a + m`, `a * m`, `a - m` (`f64`) where `m` is the `f64` at `addr + offset`:
        /// an `f64.load` whose result only the arithmetic consumed, fused into it.
        F64AddLoad { a, addr ; offset: u16 },
        F64MulLoad { a, addr ; offset: u16 },
        F64SubLoad { a, addr ; offset: u16 },
        /// `Load32` from `(base + imm) mod 2^32 + offset`: an `i32.add` of a constant fused
        /// into the load.
        Load32AddImm { base ; imm: i32, offset: u16 },
        Load64AddImm { base ; imm: i32, offset: u16 },
        Load8UAddImm { base ; imm: i32, offset: u16 },
        Load16UAddImm { base ; imm: i32, offset: u16 },
        Load8S32AddImm { base ; imm: i32, offset: u16 },
        Load16S32AddImm { base ; imm: i32, offset: u16 },
        Load8S64AddImm { base ; imm: i32, offset: u16 },
        Load16S64AddImm { base ; imm: i32, offset: u16 },
        Load32S64AddImm { base ; imm: i32, offset: u16 },
    }
    other {
        /// `Store64` of `a + b`, `a - b`, `a * b` (`f64`) at `addr + offset`: the
        /// arithmetic whose result only the store consumed, fused into it (`x[i] += …`).
        F64AddStore { addr, a, b ; offset: u16 },
        F64SubStore { addr, a, b ; offset: u16 },
        F64MulStore { addr, a, b ; offset: u16 },
        /// Operands of the previous instruction that did not fit in it. Never executed.
        Data { ; a: u32, b: u32, c: u32 },
        Unreachable { ; },
        /// Charges `amount` fuel for the straight-line run of wasm instructions it starts;
        /// traps with "all fuel consumed by WebAssembly" (charging nothing) if the store
        /// has less. Emitted only with `Config::consume_fuel`.
        ConsumeFuel { ; amount: u32 },
        /// Traps with "interrupt" if the engine's epoch has reached the store's deadline.
        /// At loop heads, only with `Config::epoch_interruption` (function entries are
        /// checked by the call itself).
        CheckEpoch { ; },
        /// `CheckEpoch` then `ConsumeFuel`: a loop head with both enabled.
        CheckEpochConsumeFuel { ; amount: u32 },
        /// Tiered execution, at a function's entry: takes `weight` from the hotness budget
        /// of defined function `def`; once it is spent, stops for the driver to tier the
        /// function up (and to continue in its compiled code if that is ready).
        TierEntry { ; def: u32, weight: u32 },
        /// Tiered execution, at the head of the function's loop number `index` (in body
        /// order), whose body has `weight` instructions: like `TierEntry`, with on-stack
        /// replacement at this loop head (only emitted where no operand-stack value is
        /// live there).
        TierLoop { ; def: u32, index: u32, weight: u32 },
        Br { ; target: Target },
        /// `dst = src`, then jump to `target` (a `Copy` fused into the `Br` after it).
        CopyBr { dst, src ; target: Target },
        BrIfNez { cond ; target: Target },
        BrIfEqz { cond ; target: Target },
        /// Jumps if the 64-bit `cond` is not zero (a fused `i64.eqz` + `br_if`/`if`).
        BrI64Nez { cond ; target: Target },
        /// Jumps if the 64-bit `cond` is zero.
        BrI64Eqz { cond ; target: Target },
        BrI32Eq { a, b ; target: Target },
        BrI32Ne { a, b ; target: Target },
        BrI32LtS { a, b ; target: Target },
        BrI32LtU { a, b ; target: Target },
        BrI32GtS { a, b ; target: Target },
        BrI32GtU { a, b ; target: Target },
        BrI32LeS { a, b ; target: Target },
        BrI32LeU { a, b ; target: Target },
        BrI32GeS { a, b ; target: Target },
        BrI32GeU { a, b ; target: Target },
        BrI32EqImm { a ; imm: i32, target: Target },
        BrI32NeImm { a ; imm: i32, target: Target },
        BrI32LtSImm { a ; imm: i32, target: Target },
        BrI32LtUImm { a ; imm: i32, target: Target },
        BrI32GtSImm { a ; imm: i32, target: Target },
        BrI32GtUImm { a ; imm: i32, target: Target },
        BrI32LeSImm { a ; imm: i32, target: Target },
        BrI32LeUImm { a ; imm: i32, target: Target },
        BrI32GeSImm { a ; imm: i32, target: Target },
        BrI32GeUImm { a ; imm: i32, target: Target },
        BrI64Eq { a, b ; target: Target },
        BrI64Ne { a, b ; target: Target },
        BrI64LtS { a, b ; target: Target },
        BrI64LtU { a, b ; target: Target },
        BrI64GtS { a, b ; target: Target },
        BrI64GtU { a, b ; target: Target },
        BrI64LeS { a, b ; target: Target },
        BrI64LeU { a, b ; target: Target },
        BrI64GeS { a, b ; target: Target },
        BrI64GeU { a, b ; target: Target },
        /// Jumps to `pc + 1 + min(index, len)`: the `len + 1` following `Br`s are the table.
        BrI64EqImm { a ; imm: i32, target: Target },
        BrI64NeImm { a ; imm: i32, target: Target },
        BrI64LtSImm { a ; imm: i32, target: Target },
        BrI64LtUImm { a ; imm: i32, target: Target },
        BrI64GtSImm { a ; imm: i32, target: Target },
        BrI64GtUImm { a ; imm: i32, target: Target },
        BrI64LeSImm { a ; imm: i32, target: Target },
        BrI64LeUImm { a ; imm: i32, target: Target },
        BrI64GeSImm { a ; imm: i32, target: Target },
        BrI64GeUImm { a ; imm: i32, target: Target },
        BrTable { index ; len: u32 },
        /// Returns from the function; results are already in slots `0..n`.
        Return { ; },
        /// Copies `src` to slot 0 and returns.
        ReturnSlot { src ; },
        /// Calls function `func` of the instance; arguments start at slot `args`, which
        /// becomes the callee's slot 0 (and holds the results after the call). `args` is a
        /// frame offset, not an operand: it equals the frame size when there are none.
        Call { ; func: u32, args: Slot },
        /// Calls through table `Function::indirect[site]`, element `index`.
        CallIndirect { index ; site: u32, args: Slot },
        /// `CallIndirect` through the instance's table 0 with expected type `type_id` (the
        /// engine-wide id): the common case, with no site to look up.
        CallIndirect0 { index ; type_id: u32, args: Slot },
        /// `Call` that also charges the callee's entry fuel and checks the epoch (emitted
        /// instead of `Call` when fuel or epochs are on, so plain calls pay nothing).
        CallMetered { ; func: u32, args: Slot },
        /// `CallIndirect` with the checks of `CallMetered`.
        CallIndirectMetered { index ; site: u32, args: Slot },
        GlobalSet { src ; global: u32 },
        GlobalSet128 { src ; global: u32 },
        Store8 { addr, value ; offset: u32 },
        Store16 { addr, value ; offset: u32 },
        Store32 { addr, value ; offset: u32 },
        Store64 { addr, value ; offset: u32 },
        V128Store { addr, value ; offset: u32 },
        /// Stores `lane` of vector `value`.
        V128StoreLane { addr, value ; op: SimdLane, lane: u8, offset: u32 },
        /// Makes memory `index` of the instance the one the memory instructions use.
        /// Brackets each instruction on a memory other than 0 (multi-memory), with
        /// `SelectMemory { index: 0 }` after it: frames start on memory 0.
        SelectMemory { ; index: u32 },
        MemoryFill { dst, value, len ; },
        MemoryCopy { dst, src, len ; },
        /// `memory.copy` between two different memories; followed by
        /// `Data { a: dst_memory, b: src_memory }`.
        MemoryCopyAcross { dst, src, len ; },
        /// Followed by `Data { a: segment, .. }`.
        MemoryInit { dst, src, len ; },
        DataDrop { ; segment: u32 },
        TableSet { index, value ; table: u32 },
        /// `dst = table.grow(init, delta)`; followed by `Data { a: table, .. }`.
        TableGrow { dst, init, delta ; },
        /// Followed by `Data { a: table, .. }`.
        TableFill { index, value, len ; },
        /// Followed by `Data { a: dst_table, b: src_table }`.
        TableCopy { dst, src, len ; },
        /// Followed by `Data { a: table, b: segment }`.
        TableInit { dst, src, len ; },
        ElemDrop { ; segment: u32 },
    }
    narrow {
        /// `d1 = s1; d2 = s2` (two `Copy`s in a row, all four slots below 2^16).
        Copy2 { d1, s1, d2, s2 ; },
        /// `d1 = s1; d2 = s2`, then jump to `target` (a `Copy2` fused into the `Br` after it).
        Copy2Br { d1, s1, d2, s2 ; target: Target },
    }
}

impl Instr {
    /// The branch target of a jump instruction.
    pub(crate) fn target_mut(&mut self) -> Option<&mut Target> {
        match self {
            Instr::Br { target }
            | Instr::CopyBr { target, .. }
            | Instr::Copy2Br { target, .. }
            | Instr::BrIfNez { target, .. }
            | Instr::BrIfEqz { target, .. }
            | Instr::BrI64Nez { target, .. }
            | Instr::BrI64Eqz { target, .. }
            | Instr::BrI32Eq { target, .. }
            | Instr::BrI32Ne { target, .. }
            | Instr::BrI32LtS { target, .. }
            | Instr::BrI32LtU { target, .. }
            | Instr::BrI32GtS { target, .. }
            | Instr::BrI32GtU { target, .. }
            | Instr::BrI32LeS { target, .. }
            | Instr::BrI32LeU { target, .. }
            | Instr::BrI32GeS { target, .. }
            | Instr::BrI32GeU { target, .. }
            | Instr::BrI32EqImm { target, .. }
            | Instr::BrI32NeImm { target, .. }
            | Instr::BrI32LtSImm { target, .. }
            | Instr::BrI32LtUImm { target, .. }
            | Instr::BrI32GtSImm { target, .. }
            | Instr::BrI32GtUImm { target, .. }
            | Instr::BrI32LeSImm { target, .. }
            | Instr::BrI32LeUImm { target, .. }
            | Instr::BrI32GeSImm { target, .. }
            | Instr::BrI32GeUImm { target, .. }
            | Instr::BrI64Eq { target, .. }
            | Instr::BrI64Ne { target, .. }
            | Instr::BrI64LtS { target, .. }
            | Instr::BrI64LtU { target, .. }
            | Instr::BrI64GtS { target, .. }
            | Instr::BrI64GtU { target, .. }
            | Instr::BrI64LeS { target, .. }
            | Instr::BrI64LeU { target, .. }
            | Instr::BrI64GeS { target, .. }
            | Instr::BrI64GeU { target, .. }
            | Instr::BrI64EqImm { target, .. }
            | Instr::BrI64NeImm { target, .. }
            | Instr::BrI64LtSImm { target, .. }
            | Instr::BrI64LtUImm { target, .. }
            | Instr::BrI64GtSImm { target, .. }
            | Instr::BrI64GtUImm { target, .. }
            | Instr::BrI64LeSImm { target, .. }
            | Instr::BrI64LeUImm { target, .. }
            | Instr::BrI64GeSImm { target, .. }
            | Instr::BrI64GeUImm { target, .. } => Some(target),
            _ => None,
        }
    }

    /// Whether execution never falls through to the next instruction.
    fn ends_block(&self) -> bool {
        matches!(
            self,
            Instr::Br { .. }
                | Instr::CopyBr { .. }
                | Instr::Copy2Br { .. }
                | Instr::Return {}
                | Instr::ReturnSlot { .. }
                | Instr::Unreachable {}
        )
    }

    /// Calls `f` with every slot operand that is the first of a `v128`'s two slots.
    fn for_each_wide_slot(&self, mut f: impl FnMut(Slot)) {
        match *self {
            Instr::V128Load { dst, .. }
            | Instr::V128LoadAdd { dst, .. }
            | Instr::V128LoadAddImm { dst, .. }
            | Instr::GlobalGet128 { dst, .. } => f(dst),
            Instr::V128Store { value, .. } => f(value),
            Instr::GlobalSet128 { src, .. } => f(src),
            Instr::Select128 { dst, a, .. }
            | Instr::V128Unary { dst, src: a, .. }
            | Instr::V128Shift { dst, a, .. }
            | Instr::V128Replace { dst, src: a, .. } => {
                f(dst);
                f(a);
            }
            Instr::V128Binary { dst, a, b, .. }
            | Instr::V128Bitselect { dst, a, b }
            | Instr::I8x16Shuffle { dst, a, b } => {
                f(dst);
                f(a);
                f(b);
            }
            Instr::V128Test { src, .. } | Instr::V128Extract { src, .. } => f(src),
            Instr::V128Splat { dst, .. } | Instr::V128LoadExt { dst, .. } | Instr::V128LoadLane { dst, .. } => f(dst),
            Instr::V128StoreLane { value, .. } => f(value),
            _ => {}
        }
    }

    /// Whether any of the instruction's slot operands is a `v128` (two slots).
    pub(crate) fn is_wide(&self) -> bool {
        let mut wide = false;
        self.for_each_wide_slot(|_| wide = true);
        wide
    }

    /// Whether a `Data` word follows the instruction.
    pub(crate) fn has_data(&self) -> bool {
        matches!(
            self,
            Instr::Select { .. }
                | Instr::Select128 { .. }
                | Instr::V128Bitselect { .. }
                | Instr::I8x16Shuffle { .. }
                | Instr::V128LoadLane { .. }
                | Instr::MemoryInit { .. }
                | Instr::MemoryCopyAcross { .. }
                | Instr::TableGrow { .. }
                | Instr::TableFill { .. }
                | Instr::TableCopy { .. }
                | Instr::TableInit { .. }
        )
    }
}

/// A `call_indirect` site: which table, and the canonical type id the callee must have.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndirectSite {
    pub table: u32,
    pub type_id: u32,
}

/// An `i8x16.shuffle`'s lane indices (each below 32, as validation guarantees; only their
/// low 5 bits are kept), 5 bits each: lane `i` in bits `5 * i ..`.
pub(crate) fn pack_lanes(lanes: &[u8; 16]) -> u128 {
    lanes.iter().enumerate().fold(0, |packed, (i, &lane)| packed | u128::from(lane & 31) << (5 * i))
}

/// A translated function: its code and its frame's layout. The translator produces the
/// bytecode (`Code = Box<[Instr]>`); the interpreter keeps its lowered form of the same
/// instructions ([`Function::map_code`]).
#[derive(Debug)]
pub(crate) struct Function<Code = Box<[Instr]>> {
    pub code: Code,
    /// Parameters, then declared locals, then temporaries.
    pub frame_size: u32,
    pub num_params: u32,
    /// Declared (non-parameter) locals and constant slots, zeroed on entry.
    pub num_locals: u32,
    pub indirect: Box<[IndirectSite]>,
    /// Fuel of the run that starts at the entry, charged by the call (with fuel on).
    pub entry_fuel: u32,
}

impl<Code> Function<Code> {
    /// The same function with its code transformed by `f` (or `f`'s error).
    pub(crate) fn map_code<New, E>(self, f: impl FnOnce(Code) -> Result<New, E>) -> Result<Function<New>, E> {
        let Function { code, frame_size, num_params, num_locals, indirect, entry_fuel } = self;
        Ok(Function { code: f(code)?, frame_size, num_params, num_locals, indirect, entry_fuel })
    }
}

/// Checks the invariants the interpreter relies on to skip bounds checks: every slot
/// operand is inside the frame, and control never leaves the code — every branch target
/// and jump-table entry is inside it, no instruction but a block end is last, and each
/// instruction with a `Data` word has one (whose `Select` operand is a valid slot).
/// `indirect` counts the function's call_indirect sites.
pub(crate) fn verify(code: &[Instr], frame_size: u32, indirect: usize) -> Result<(), String> {
    let len = code.len();
    let Some(last) = code.last() else { return Err("empty function".into()) };
    if !last.ends_block() {
        return Err(format!("last instruction {last:?} falls through"));
    }
    for (pc, instr) in code.iter().enumerate() {
        let mut bad_slot = None;
        instr.for_each_slot(|s| {
            if s >= frame_size {
                bad_slot = Some(s);
            }
        });
        instr.for_each_wide_slot(|s| {
            if s + 1 >= frame_size {
                bad_slot = Some(s);
            }
        });
        if let Some(s) = bad_slot {
            return Err(format!("{instr:?} at {pc}: slot {s} outside a frame of {}", frame_size));
        }
        if let Some(&mut target) = instr.clone().target_mut()
            && target as usize >= len
        {
            return Err(format!("{instr:?} at {pc}: target outside {len} instructions"));
        }
        if let Instr::BrTable { len: n, .. } = instr
            && pc + 1 + *n as usize >= len
        {
            return Err(format!("jump table at {pc} runs past the code"));
        }
        if instr.has_data() {
            match code.get(pc + 1) {
                Some(Instr::Data { a, .. })
                    if match instr {
                        Instr::Select { .. } => *a < frame_size,
                        Instr::Select128 { .. } | Instr::V128Bitselect { .. } | Instr::V128LoadLane { .. } => {
                            *a + 1 < frame_size
                        }
                        _ => true,
                    } => {}
                _ => return Err(format!("{instr:?} at {pc} lacks a valid data word")),
            }
        }
        if let Instr::CallIndirect { site, .. } | Instr::CallIndirectMetered { site, .. } = instr
            && *site as usize >= indirect
        {
            return Err(format!("call_indirect site {site} undefined"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verifies `code` as a function with a frame of `frame_size` slots.
    fn func(code: Vec<Instr>, frame_size: u32) -> Checked {
        Checked(verify(&code, frame_size, 0))
    }

    struct Checked(Result<(), String>);

    impl Checked {
        fn verify(self) -> Result<(), String> {
            self.0
        }
    }

    #[test]
    fn verify_accepts_well_formed_code() {
        let f = func(
            vec![Instr::I32Add { dst: 0, a: 1, b: 1 }, Instr::BrIfNez { cond: 0, target: 0 }, Instr::Return {}],
            2,
        );
        assert_eq!(f.verify(), Ok(()));
    }

    #[test]
    fn verify_rejects_out_of_frame_slots_and_stray_control() {
        assert!(func(vec![Instr::Copy { dst: 0, src: 2 }, Instr::Return {}], 2).verify().is_err());
        assert!(func(vec![Instr::Br { target: 5 }], 1).verify().is_err());
        assert!(func(vec![Instr::Copy { dst: 0, src: 0 }], 1).verify().is_err());
        assert!(func(vec![Instr::BrTable { index: 0, len: 3 }, Instr::Br { target: 0 }], 1).verify().is_err());
        let select = vec![Instr::Select { dst: 0, cond: 0, a: 0 }, Instr::Data { a: 9, b: 0, c: 0 }, Instr::Return {}];
        assert!(func(select, 1).verify().is_err());
    }

    #[test]
    fn instructions_are_16_bytes() {
        assert_eq!(std::mem::size_of::<Instr>(), 16);
    }

    #[test]
    fn result_slot_can_be_retargeted() {
        let mut i = Instr::I32Add { dst: 5, a: 1, b: 2 };
        *i.result_slot_mut().unwrap() = 0;
        assert_eq!(i, Instr::I32Add { dst: 0, a: 1, b: 2 });
        assert!(Instr::Br { target: 0 }.result_slot_mut().is_none());
    }
}
