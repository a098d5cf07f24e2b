//! WebAssembly function bodies → Cranelift IR.
//!
//! The translator keeps wasm's operand stack as a stack of SSA values and its control
//! stack as Cranelift blocks: a `block`'s end and a `loop`'s head are blocks whose
//! parameters carry the branch values; locals are frontend variables (SSA construction
//! does the rest). Code after an unconditional branch is skipped until the end of its
//! block. Memory accesses compute `base + zero-extended address + offset`; where the
//! engine reserves 4 GiB plus a guard beyond every memory base, the access itself faults
//! when out of bounds (a trap site), otherwise it is preceded by an explicit check.

use super::memory::Bulk;
use super::{CompileError, clif_type, codes, osr_signature, unsupported, wasm_signature};
use crate::module::ModuleInner;
use crate::types::ValType;
use crate::vm::vmctx::{VmContext, VmFuncEntry, VmStoreContext, VmTable};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::immediates::Offset32;
use cranelift_codegen::ir::{
    self, Block, BlockArg, GlobalValueData, InstBuilder, JumpTableData, MemFlagsData, TrapCode, Value, types,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::mem::offset_of;
use wasmparser::{BlockType, Operator};

/// How a function calls the functions of its own module.
#[derive(Clone, Copy)]
pub(super) enum Calls<'a> {
    /// Directly (the module's code is placed all at once, which patches the calls).
    Direct,
    /// Compiled on its own (lazily): itself directly, the functions `compiled` gives an
    /// address for at that address, the others through their function-table entries.
    Lazy { compiled: &'a dyn Fn(u32) -> Option<usize> },
}

/// Where compiled code can be entered (see [`translate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entries {
    /// At its start, by a call (the wasm signature).
    Call,
    /// At loop heads only (on-stack replacement).
    Loops,
    /// At loop heads, or at its start.
    Both,
}

/// Makes `func`'s prologue check the stack pointer against vmctx->store->stack_limit.
pub(super) fn check_stack_limit(func: &mut ir::Function) -> Result<(), CompileError> {
    let trusted = func.dfg.mem_flags.insert(MemFlagsData::trusted()).map_err(|_| internal("memory flags"))?;
    let vmctx_gv = func.create_global_value(GlobalValueData::VMContext);
    let store_gv = func.create_global_value(GlobalValueData::Load {
        base: vmctx_gv,
        offset: Offset32::new(offset_of!(VmContext, store) as i32),
        global_type: types::I64,
        flags: trusted,
    });
    let limit_gv = func.create_global_value(GlobalValueData::Load {
        base: store_gv,
        offset: Offset32::new(offset_of!(VmStoreContext, stack_limit) as i32),
        global_type: types::I64,
        flags: trusted,
    });
    func.stack_limit = Some(limit_gv);
    Ok(())
}

/// The interpreter-frame slots of defined function `def`'s parameters and locals (the
/// size of its on-stack-replacement frame, after the header).
pub(super) fn local_slots(module: &ModuleInner, def: u32) -> Result<u32, CompileError> {
    let ty = module.func_type(module.num_imported_funcs + def);
    let mut slots: u32 = ty.params().iter().map(|p| p.slots()).sum();
    let range = module.bodies[def as usize].clone();
    let reader = wasmparser::BinaryReader::new(&module.bytes[range.clone()], range.start as u64);
    let body = wasmparser::FunctionBody::new(reader);
    let bad = |e: wasmparser::BinaryReaderError| {
        CompileError::new(crate::error::CompileErrorKind::Malformed, e.message(), Some(e.offset()))
    };
    let mut locals = body.get_locals_reader().map_err(bad)?;
    for _ in 0..locals.get_count() {
        let (count, t) = locals.read().map_err(bad)?;
        let per = val_type(t)?.slots();
        slots = count.checked_mul(per).and_then(|n| slots.checked_add(n)).ok_or_else(|| internal("too many locals"))?;
    }
    Ok(slots)
}

/// Translates defined function `def` of `module` into `func`.
///
/// With other [`Entries`] than calls, the code is instead the function's
/// on-stack-replacement entry, with the signature `(callee_vmctx, caller_vmctx, frame) ->
/// results`: `frame` holds the number of a loop (in body order; a 32-bit value) and, from
/// byte 16, every local, laid out as in the interpreter's frame (8 bytes per slot, parameters first, a `v128` in two slots).
/// The code loads the locals and jumps to that loop's head. Only loops where no
/// operand-stack value is live can be entered so; the function returns their numbers. With
/// [`Entries::Loops`] the rest of the body is translated as usual, and what only the real
/// entry reaches is removed as unreachable; with [`Entries::Both`] a loop number that
/// names no loop (`u32::MAX`) starts the function from its beginning instead, with the
/// frame's parameters and zeroed locals (`trampolines::osr_adapter` makes such a frame),
/// so that one compilation serves calls and on-stack replacement.
pub(super) fn translate(
    module: &ModuleInner,
    def: u32,
    isa: &dyn TargetIsa,
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
    calls: Calls<'_>,
    entries: Entries,
) -> Result<Vec<u32>, CompileError> {
    let func_index = module.num_imported_funcs + def;
    let ty = module.func_type(func_index).clone();
    let osr = entries != Entries::Call;
    func.signature = if osr { osr_signature(&ty)? } else { wasm_signature(&ty)? };
    check_stack_limit(func)?;

    let range = module.bodies[def as usize].clone();
    let reader = wasmparser::BinaryReader::new(&module.bytes[range.clone()], range.start as u64);
    let body = wasmparser::FunctionBody::new(reader);
    let bad = |e: wasmparser::BinaryReaderError| {
        CompileError::new(crate::error::CompileErrorKind::Malformed, e.message(), Some(e.offset()))
    };

    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let vmctx = params[0];
    let mut locals = Vec::new();
    for (i, &p) in ty.params().iter().enumerate() {
        let var = b.declare_var(clif_type(p));
        if !osr {
            b.def_var(var, params[2 + i]);
        }
        locals.push((var, p));
    }
    let mut local_reader = body.get_locals_reader().map_err(bad)?;
    for _ in 0..local_reader.get_count() {
        let (count, t) = local_reader.read().map_err(bad)?;
        let t = val_type(t)?;
        let clif = clif_type(t);
        for _ in 0..count {
            let var = b.declare_var(clif);
            if !osr {
                let zero = zero(&mut b, clif);
                b.def_var(var, zero);
            }
            locals.push((var, t));
        }
    }
    // On-stack replacement: the loop number and the locals from the interpreter's frame
    // (the jump to the loop head is added once the heads exist); the real entry's code
    // follows in a block nothing reaches.
    let osr_index = osr.then(|| {
        let frame = params[2];
        let index = b.ins().load(types::I32, self::trusted(), frame, 0);
        let mut slot = 0i32;
        for &(var, t) in &locals {
            let value = b.ins().load(clif_type(t), self::trusted(), frame, 16 + slot * 8);
            b.def_var(var, value);
            slot += t.slots() as i32;
        }
        let start = b.create_block();
        b.switch_to_block(start);
        (entry, index, start)
    });
    let exit = b.create_block();
    for &r in ty.results() {
        b.append_block_param(exit, clif_type(r));
    }
    let guarded = {
        let layout = module.engine.config().memory_layout();
        layout.reservation >= 1 << 32
    };
    let guard = module.engine.config().memory_layout().guard as u64;
    let mut t = Translator {
        b,
        module,
        vmctx,
        locals,
        stack: Vec::new(),
        control: vec![Frame {
            kind: Kind::Block,
            dest: exit,
            end: exit,
            params: 0,
            results: ty.results().len(),
            height: 0,
            else_block: None,
            reachable_end: false,
        }],
        reachable: true,
        unreachable_depth: 0,
        guarded,
        guard,
        fuel: module.engine.config().consume_fuel,
        epoch: module.engine.config().epoch_interruption,
        run: None,
        def,
        calls,
        loops: 0,
        osr,
        osr_heads: Vec::new(),
    };
    // The entry: the epoch check, then the entry run's charge (as the interpreter's call).
    t.check_epoch();
    t.start_run();
    let mut ops = body.get_operators_reader().map_err(bad)?;
    while !ops.eof() {
        let op = ops.read().map_err(bad)?;
        t.operator(op)?;
    }
    t.finish_run();
    let heads = std::mem::take(&mut t.osr_heads);
    let loops_seen = t.loops as usize;
    let mut b = t.b;
    if let Some((entry, index, start)) = osr_index {
        if heads.is_empty() && entries == Entries::Loops {
            return Err(unsupported("no loop head to enter by on-stack replacement".into()));
        }
        // The entry jumps to the head of the loop the frame names; a loop it cannot enter
        // (which the runtime never names) traps; a number beyond the loops starts the
        // function (`Entries::Both`) or traps.
        let invalid = b.create_block();
        b.switch_to_block(invalid);
        b.ins().trap(codes::UNREACHABLE);
        let mut targets = vec![invalid; loops_seen];
        for &(k, head) in &heads {
            targets[k as usize] = head;
        }
        let pool = &mut b.func.dfg.value_lists;
        let calls: Vec<_> = targets.iter().map(|&block| ir::BlockCall::new(block, [], pool)).collect();
        let beyond = if entries == Entries::Both { start } else { invalid };
        let default = ir::BlockCall::new(beyond, [], pool);
        let table = b.create_jump_table(JumpTableData::new(default, &calls));
        b.switch_to_block(entry);
        b.ins().br_table(index, table);
    }
    // The function's `end` jumped to `exit` (if reachable); return its parameters.
    let loops = heads.iter().map(|&(k, _)| k).collect();
    b.switch_to_block(exit);
    let results = b.block_params(exit).to_vec();
    b.ins().return_(&results);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    Ok(loops)
}

fn internal(what: &str) -> CompileError {
    unsupported(format!("internal error: compiler: {what}"))
}

fn val_type(t: wasmparser::ValType) -> Result<ValType, CompileError> {
    Ok(match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        wasmparser::ValType::Ref(_) => ValType::ExternRef,
    })
}

fn zero(b: &mut FunctionBuilder<'_>, ty: ir::Type) -> Value {
    match ty {
        types::F32 => b.ins().f32const(0.0),
        types::F64 => b.ins().f64const(0.0),
        types::I8X16 => {
            let zeros = b.func.dfg.constants.insert(vec![0u8; 16].into());
            b.ins().vconst(types::I8X16, zeros)
        }
        _ => b.ins().iconst(ty, 0),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Block,
    Loop,
    If,
}

/// A control frame: where branches to it go, with how many values.
struct Frame {
    kind: Kind,
    /// Where branches to the frame go: a block's or `if`'s end (params: its results), or
    /// a loop's head (params: its params).
    dest: Block,
    /// What follows the frame's `end` (params: its results): `dest`, except for loops.
    end: Block,
    params: usize,
    results: usize,
    /// Operand-stack height below the frame's parameters.
    height: usize,
    /// An `if` without `else` so far: its else block (taking the `if`'s parameters).
    else_block: Option<Block>,
    /// Whether a branch targets the end (or the end falls through), so code after it runs.
    reachable_end: bool,
}

impl Frame {
    /// How many values a branch to this frame carries.
    fn branch_arity(&self) -> usize {
        if self.kind == Kind::Loop { self.params } else { self.results }
    }
}

/// The state of one function's translation.
pub(super) struct Translator<'a, 'b> {
    pub(super) b: FunctionBuilder<'b>,
    pub(super) module: &'a ModuleInner,
    pub(super) vmctx: Value,
    locals: Vec<(Variable, ValType)>,
    pub(super) stack: Vec<Value>,
    control: Vec<Frame>,
    /// Whether the current position can be reached.
    reachable: bool,
    /// Blocks entered while unreachable (their operators are skipped).
    unreachable_depth: u32,
    /// Memories have 4 GiB reserved beyond their base plus `guard` bytes of guard.
    pub(super) guarded: bool,
    pub(super) guard: u64,
    /// Fuel metering: charges at every run's start (`meter.rs`).
    pub(super) fuel: bool,
    /// Epoch checks at function entries and loop heads.
    pub(super) epoch: bool,
    /// The current run's charge (its amount instruction) and the amount so far.
    pub(super) run: Option<(ir::Inst, u64)>,
    /// The function being translated (defined-function index).
    def: u32,
    calls: Calls<'a>,
    /// Loops seen so far, in body order (dead ones too, as the interpreter counts them).
    loops: u32,
    /// Translating the on-stack-replacement entry.
    osr: bool,
    /// Its loops that can be entered: number and head.
    osr_heads: Vec<(u32, Block)>,
}

/// Flags of loads from the runtime's structures: aligned, never trapping.
pub(super) fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Flags of linear-memory accesses: may be unaligned; trap as out of bounds if they fault.
pub(super) fn heap() -> MemFlagsData {
    MemFlagsData::new().with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
}

fn args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|&v| BlockArg::Value(v)).collect()
}

impl Translator<'_, '_> {
    pub(super) fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or_else(|| unreachable!("validated: operand stack underflow"))
    }

    pub(super) fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    pub(super) fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    pub(super) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    fn block_arity(&self, ty: BlockType) -> Result<(Vec<ir::Type>, Vec<ir::Type>), CompileError> {
        Ok(match ty {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![clif_type(val_type(t)?)]),
            BlockType::FuncType(i) => {
                let ft = &self.module.types[i as usize];
                (
                    ft.params().iter().map(|&t| clif_type(t)).collect(),
                    ft.results().iter().map(|&t| clif_type(t)).collect(),
                )
            }
        })
    }

    fn new_block(&mut self, tys: &[ir::Type]) -> Block {
        let block = self.b.create_block();
        for &t in tys {
            self.b.append_block_param(block, t);
        }
        block
    }

    /// Branches (unconditionally) to frame `depth` with its values from the stack top.
    fn br(&mut self, depth: u32) {
        let i = self.control.len() - 1 - depth as usize;
        let n = self.control[i].branch_arity();
        let vals = args(self.peekn(n));
        let dest = self.control[i].dest;
        if self.control[i].kind != Kind::Loop {
            self.control[i].reachable_end = true;
        }
        self.b.ins().jump(dest, &vals);
    }

    fn set_unreachable(&mut self) {
        self.reachable = false;
    }

    /// Handles one operator.
    fn operator(&mut self, op: Operator<'_>) -> Result<(), CompileError> {
        if let Operator::Loop { .. } = op {
            self.loops += 1;
        }
        if !self.reachable {
            return self.unreachable_operator(op);
        }
        self.charge(&op);
        use Operator as O;
        match op {
            O::Nop => {}
            O::Unreachable => {
                self.b.ins().trap(codes::UNREACHABLE);
                self.set_unreachable();
            }
            O::Block { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                let dest = self.new_block(&results);
                let height = self.stack.len() - params.len();
                self.control.push(Frame {
                    kind: Kind::Block,
                    dest,
                    end: dest,
                    params: params.len(),
                    results: results.len(),
                    height,
                    else_block: None,
                    reachable_end: false,
                });
            }
            O::Loop { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                let head = self.new_block(&params);
                if self.osr && params.is_empty() && self.stack.is_empty() {
                    self.osr_heads.push((self.loops - 1, head));
                }
                let vals = self.popn(params.len());
                self.b.ins().jump(head, &args(&vals));
                self.b.switch_to_block(head);
                self.check_epoch();
                self.start_run();
                let head_params = self.b.block_params(head).to_vec();
                let height = self.stack.len();
                self.stack.extend(head_params);
                // A loop's end falls through to what follows: a continuation block.
                let next = self.new_block(&results);
                self.control.push(Frame {
                    kind: Kind::Loop,
                    dest: head,
                    end: next,
                    params: params.len(),
                    results: results.len(),
                    height,
                    else_block: None,
                    reachable_end: false,
                });
            }
            O::If { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                let cond = self.pop();
                let then = self.b.create_block();
                let else_block = self.new_block(&params);
                let end = self.new_block(&results);
                let vals = self.peekn(params.len()).to_vec();
                self.b.ins().brif(cond, then, &[], else_block, &args(&vals));
                self.b.switch_to_block(then);
                self.start_run();
                let height = self.stack.len() - params.len();
                self.control.push(Frame {
                    kind: Kind::If,
                    dest: end,
                    end,
                    params: params.len(),
                    results: results.len(),
                    height,
                    else_block: Some(else_block),
                    reachable_end: false,
                });
            }
            O::Else => self.else_()?,
            O::End => self.end(),
            O::Br { relative_depth } => {
                self.br(relative_depth);
                self.set_unreachable();
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop();
                let i = self.control.len() - 1 - relative_depth as usize;
                let n = self.control[i].branch_arity();
                let vals = args(self.peekn(n));
                let dest = self.control[i].dest;
                if self.control[i].kind != Kind::Loop {
                    self.control[i].reachable_end = true;
                }
                let next = self.b.create_block();
                self.b.ins().brif(cond, dest, &vals, next, &[]);
                self.b.switch_to_block(next);
                self.start_run();
            }
            O::BrTable { targets } => {
                let index = self.pop();
                let depths: Vec<u32> =
                    targets.targets().collect::<Result<_, _>>().map_err(|e| unsupported(e.message().into()))?;
                let default = targets.default();
                let n = {
                    let i = self.control.len() - 1 - default as usize;
                    self.control[i].branch_arity()
                };
                let vals = args(self.peekn(n));
                let call_for = |t: &mut Self, depth: u32| {
                    let i = t.control.len() - 1 - depth as usize;
                    if t.control[i].kind != Kind::Loop {
                        t.control[i].reachable_end = true;
                    }
                    let dest = t.control[i].dest;
                    t.b.func.dfg.block_call(dest, &vals)
                };
                let default_call = call_for(self, default);
                let calls: Vec<_> = depths.iter().map(|&d| call_for(self, d)).collect();
                let jt = self.b.create_jump_table(JumpTableData::new(default_call, &calls));
                self.b.ins().br_table(index, jt);
                self.set_unreachable();
            }
            O::Return => {
                self.br(self.control.len() as u32 - 1);
                self.set_unreachable();
            }
            O::Call { function_index } => self.call(function_index)?,
            O::CallIndirect { type_index, table_index } => self.call_indirect(type_index, table_index)?,
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let (a, b, c) = self.pop3();
                let v = self.b.ins().select(c, a, b);
                self.push(v);
            }
            O::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize].0);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[local_index as usize].0, v);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().unwrap_or_else(|| unreachable!("validated"));
                self.b.def_var(self.locals[local_index as usize].0, v);
            }
            O::GlobalGet { global_index } => {
                let (ty, cell) = self.global(global_index)?;
                let v = self.b.ins().load(ty, trusted(), cell, 0);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let (_, cell) = self.global(global_index)?;
                self.b.ins().store(trusted(), v, cell, 0);
            }
            O::I32Const { value } => {
                let v = self.b.ins().iconst(types::I32, value as i64);
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(types::I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(ir::immediates::Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(ir::immediates::Ieee64::with_bits(value.bits()));
                self.push(v);
            }
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.push(v);
            }
            O::RefIsNull => {
                let r = self.pop();
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, r, 0);
                let v = self.b.ins().uextend(types::I32, c);
                self.push(v);
            }
            O::RefFunc { function_index } => {
                // The untyped reference to store function f is f + 1 (0 is null).
                let entry = self.func_entry(function_index);
                let f = self.b.ins().uload32(trusted(), entry, offset_of!(VmFuncEntry, store_func) as i32);
                let v = self.b.ins().iadd_imm_s(f, 1);
                self.push(v);
            }
            O::MemorySize { mem } => {
                let len = self.memory_len(mem);
                let pages = self.b.ins().ushr_imm_s(len, 16);
                let v = self.b.ins().ireduce(types::I32, pages);
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                let delta = self.b.ins().uextend(types::I64, delta);
                let old = self.memory_grow(mem, delta)?;
                let v = self.b.ins().ireduce(types::I32, old);
                self.push(v);
            }
            O::MemoryFill { mem } => {
                let (d, v, n) = self.pop3();
                self.memory_fill(mem, d, v, n);
            }
            O::MemoryCopy { dst_mem, src_mem } if dst_mem == src_mem => {
                let (d, s, n) = self.pop3();
                self.memory_copy(dst_mem, d, s, n);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let (d, s, n) = self.pop3();
                self.bulk(Bulk::MemoryCopy, &[dst_mem, src_mem], &[d, s, n]);
            }
            O::MemoryInit { data_index, mem } => {
                let (d, s, n) = self.pop3();
                self.bulk(Bulk::MemoryInit, &[mem, data_index], &[d, s, n]);
            }
            O::DataDrop { data_index } => {
                self.bulk(Bulk::DataDrop, &[data_index], &[]);
            }
            O::TableGet { table } => {
                let i = self.pop();
                let v = self.bulk_result(Bulk::TableGet, &[table], &[i], types::I64);
                self.push(v);
            }
            O::TableSet { table } => {
                let (i, v) = self.pop2();
                self.bulk(Bulk::TableSet, &[table], &[i, v]);
            }
            O::TableSize { table } => {
                let v = self.bulk_result(Bulk::TableSize, &[table], &[], types::I32);
                self.push(v);
            }
            O::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let v = self.bulk_result(Bulk::TableGrow, &[table], &[init, delta], types::I32);
                self.push(v);
            }
            O::TableFill { table } => {
                let (d, v, n) = self.pop3();
                self.bulk(Bulk::TableFill, &[table], &[d, v, n]);
            }
            O::TableCopy { dst_table, src_table } => {
                let (d, s, n) = self.pop3();
                self.bulk(Bulk::TableCopy, &[dst_table, src_table], &[d, s, n]);
            }
            O::TableInit { elem_index, table } => {
                let (d, s, n) = self.pop3();
                self.bulk(Bulk::TableInit, &[table, elem_index], &[d, s, n]);
            }
            O::ElemDrop { elem_index } => {
                self.bulk(Bulk::ElemDrop, &[elem_index], &[]);
            }
            _ => {
                if let Some(done) = self.memory_op(&op)? {
                    return Ok(done);
                }
                if !super::ops::numeric(self, &op) && !super::simd::simd(self, &op)? {
                    return Err(unsupported(format!("the compiler does not support {op:?} yet")));
                }
            }
        }
        Ok(())
    }

    /// Operators in unreachable code: only the structure matters.
    fn unreachable_operator(&mut self, op: Operator<'_>) -> Result<(), CompileError> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => self.unreachable_depth += 1,
            Operator::Else if self.unreachable_depth == 0 => self.else_()?,
            Operator::End if self.unreachable_depth == 0 => self.end(),
            Operator::End => self.unreachable_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    fn else_(&mut self) -> Result<(), CompileError> {
        let frame = self.control.last_mut().unwrap_or_else(|| unreachable!("validated: else in an if"));
        let else_block = frame.else_block.take().unwrap_or_else(|| unreachable!("validated: one else per if"));
        let (dest, height, results, params) = (frame.dest, frame.height, frame.results, frame.params);
        if self.reachable {
            frame.reachable_end = true;
            let vals = args(&self.stack[self.stack.len() - results..]);
            self.b.ins().jump(dest, &vals);
        }
        self.stack.truncate(height);
        self.b.switch_to_block(else_block);
        let else_params = self.b.block_params(else_block).to_vec();
        debug_assert_eq!(else_params.len(), params);
        self.stack.extend(else_params);
        self.reachable = true;
        self.start_run();
        Ok(())
    }

    fn end(&mut self) {
        let frame = self.control.pop().unwrap_or_else(|| unreachable!("validated: end matches a frame"));
        let next = frame.end;
        // Control arrives at the end other than by falling through: a new run.
        let joined = frame.kind == Kind::If || frame.reachable_end;
        let mut reachable_end = frame.reachable_end;
        if self.reachable {
            let vals = args(&self.stack[self.stack.len() - frame.results..]);
            self.b.ins().jump(next, &vals);
            reachable_end = true;
        }
        // An `if` without `else`: the else arm passes the parameters through.
        if let Some(else_block) = frame.else_block {
            self.b.switch_to_block(else_block);
            let vals = args(self.b.block_params(else_block));
            self.b.ins().jump(next, &vals);
            reachable_end = true;
        }
        self.stack.truncate(frame.height);
        if self.control.is_empty() {
            // The function's end: `next` is the exit block, handled by `translate`.
            self.reachable = false;
            return;
        }
        self.b.switch_to_block(next);
        if reachable_end {
            let params = self.b.block_params(next).to_vec();
            self.stack.extend(params);
            self.reachable = true;
            if joined {
                self.start_run();
            }
        } else {
            // Nothing reaches the end: what follows is dead (the block stays empty and
            // unreachable; give it a terminator).
            self.b.ins().trap(codes::UNREACHABLE);
            self.reachable = false;
        }
    }

    // ---- globals, functions, tables --------------------------------------------------------

    /// The type and cell address of global `index`.
    fn global(&mut self, index: u32) -> Result<(ir::Type, Value), CompileError> {
        let ty = clif_type(self.module.globals[index as usize].content);
        // The array of cell addresses stays where it is for the instance's life (refreshes
        // update it in place); the cells move if the store's globals are reallocated.
        let stable = trusted().with_readonly().with_can_move();
        let array = self.b.ins().load(types::I64, stable, self.vmctx, offset_of!(VmContext, globals) as i32);
        let cell = self.b.ins().load(types::I64, trusted(), array, index as i32 * 8);
        Ok((ty, cell))
    }

    /// The address of the function-table entry of function `index`.
    fn func_entry(&mut self, index: u32) -> Value {
        let funcs = self.b.ins().load(types::I64, trusted(), self.vmctx, offset_of!(VmContext, funcs) as i32);
        self.b.ins().iadd_imm_s(funcs, index as i64 * std::mem::size_of::<VmFuncEntry>() as i64)
    }

    /// Calls the function `entry` points to, with the stack's arguments for type `ty`.
    fn call_entry(&mut self, entry: Value, ty: &crate::types::FuncType) -> Result<(), CompileError> {
        let native = self.b.ins().load(types::I64, trusted(), entry, offset_of!(VmFuncEntry, native) as i32);
        let callee_vmctx = self.b.ins().load(types::I64, trusted(), entry, offset_of!(VmFuncEntry, vmctx) as i32);
        let mut call_args = vec![callee_vmctx, self.vmctx];
        call_args.extend(self.popn(ty.params().len()));
        let sig = self.b.import_signature(wasm_signature(ty)?);
        let call = self.b.ins().call_indirect(sig, native, &call_args);
        let results = self.b.inst_results(call).to_vec();
        self.stack.extend(results);
        Ok(())
    }

    fn call(&mut self, index: u32) -> Result<(), CompileError> {
        let ty = self.module.func_type(index).clone();
        let def = index.checked_sub(self.module.num_imported_funcs);
        // Where the callee's code is known (a function of this module, in the same
        // instance): directly, or, compiled on its own, at its fixed address.
        enum Target {
            Direct(u32),
            At(usize),
        }
        let known = match (def, self.calls) {
            (None, _) => None,
            (Some(def), Calls::Direct) => Some(Target::Direct(def)),
            // (Not from an on-stack-replacement entry: its code is not the function's.)
            (Some(def), Calls::Lazy { .. }) if def == self.def && !self.osr => Some(Target::Direct(def)),
            (Some(def), Calls::Lazy { compiled }) => compiled(def).map(Target::At),
        };
        let Some(target) = known else {
            let entry = self.func_entry(index);
            return self.call_entry(entry, &ty);
        };
        let sig = self.b.import_signature(wasm_signature(&ty)?);
        let mut call_args = vec![self.vmctx, self.vmctx];
        call_args.extend(self.popn(ty.params().len()));
        let call = match target {
            Target::At(code) => {
                let code = self.b.ins().iconst(types::I64, code as i64);
                self.b.ins().call_indirect(sig, code, &call_args)
            }
            Target::Direct(def) => {
                // Placing the code patches the call's address.
                let name = self.b.func.declare_imported_user_function(ir::UserExternalName::new(0, def));
                let callee = self.b.import_function(ir::ExtFuncData {
                    name: ir::ExternalName::User(name),
                    signature: sig,
                    colocated: true,
                    patchable: false,
                });
                self.b.ins().call(callee, &call_args)
            }
        };
        let results = self.b.inst_results(call).to_vec();
        self.stack.extend(results);
        Ok(())
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) -> Result<(), CompileError> {
        let ty = self.module.types[type_index as usize].clone();
        let expected = self.module.type_ids[type_index as usize];
        let index = self.pop();
        let tables = self.b.ins().load(types::I64, trusted(), self.vmctx, offset_of!(VmContext, tables) as i32);
        let at = table as i32 * std::mem::size_of::<VmTable>() as i32;
        let base = self.b.ins().load(types::I64, trusted(), tables, at + offset_of!(VmTable, base) as i32);
        let len = self.b.ins().load(types::I64, trusted(), tables, at + offset_of!(VmTable, len) as i32);
        let index = self.b.ins().uextend(types::I64, index);
        let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.b.ins().trapnz(oob, codes::UNDEFINED_ELEMENT);
        let offset = self.b.ins().ishl_imm_s(index, 3);
        let addr = self.b.ins().iadd(base, offset);
        let elem = self.b.ins().load(types::I64, trusted(), addr, 0);
        self.b.ins().trapz(elem, codes::UNINITIALIZED_ELEMENT);
        // Element e names store function e - 1; its entry is in the store's array.
        let store = self.b.ins().load(types::I64, trusted(), self.vmctx, offset_of!(VmContext, store) as i32);
        let funcs = self.b.ins().load(types::I64, trusted(), store, offset_of!(VmStoreContext, funcs) as i32);
        let func = self.b.ins().iadd_imm_s(elem, -1);
        let scaled = self.b.ins().imul_imm_s(func, std::mem::size_of::<VmFuncEntry>() as i64);
        let entry = self.b.ins().iadd(funcs, scaled);
        let type_id = self.b.ins().uload32(trusted(), entry, offset_of!(VmFuncEntry, type_id) as i32);
        let mismatch = self.b.ins().icmp_imm_s(IntCC::NotEqual, type_id, expected as i64);
        self.b.ins().trapnz(mismatch, codes::INDIRECT_CALL_TYPE_MISMATCH);
        self.call_entry(entry, &ty)
    }
}

/// What [`super::ops`] needs of the translator.
impl<'b> Translator<'_, 'b> {
    pub(super) fn ins(&mut self) -> cranelift_frontend::FuncInstBuilder<'_, 'b> {
        self.b.ins()
    }
    pub(super) fn pop_value(&mut self) -> Value {
        self.pop()
    }
    pub(super) fn push_value(&mut self, v: Value) {
        self.push(v)
    }
}
