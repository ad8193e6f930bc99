//! The ISA-neutral frontend: one [`FuncCompiler`] per function body, driven operator by
//! operator right after validation. It holds every Wasm semantic decision (which checks,
//! which traps, where values live) and talks to the machine only through a
//! [`MacroAssembler`].
//!
//! Frame layout (see `crate::abi`): parameters are used in place in the caller's argument
//! area at `[fp + 16 + 8 * slot]`; below the frame pointer come the saved vmctx
//! (`[fp - 8]`), the declared locals, one slot per value-stack depth, and the outgoing
//! argument area at the bottom (`[sp]`).

use wasmparser::{BlockType, Operator};

use crate::abi;
use crate::compiler::control::{ControlFrame, FrameKind};
use crate::compiler::masm::*;
use crate::compiler::regalloc::RegAlloc;
use crate::compiler::value_stack::{class_of, is_wide, Loc, Slot, ValueStack};
use crate::error::{Error, Result, TrapKind};
use crate::module::ModuleInfo;
use crate::runtime::vmctx::VMOffsets;
use crate::types::{FuncType, ValType};

mod calls;
mod locals;
mod simd;

use locals::Local;
pub use locals::LocalUsage;

/// Per-module context shared by the function compilers.
pub struct ModuleEnv<'a> {
    pub info: &'a ModuleInfo,
    pub offsets: VMOffsets,
    /// Limits on bodies and generated code (checked while compiling).
    pub limits: &'a crate::limits::Limits,
    /// Whether any signature, block type or global of the module is v128: then every
    /// function may hold v128 values on its stack.
    pub uses_v128: bool,
}

impl<'a> ModuleEnv<'a> {
    pub fn new(info: &'a ModuleInfo, limits: &'a crate::limits::Limits) -> ModuleEnv<'a> {
        let v128 = |t: &ValType| *t == ValType::V128;
        ModuleEnv {
            info,
            offsets: info.vm_offsets(),
            limits,
            uses_v128: info.types.iter().any(|t| t.params.iter().chain(&t.results).any(v128))
                || info.globals.iter().any(|g| v128(&g.content)),
        }
    }
}

/// A builtin argument taken from the running instance's vmctx.
#[derive(Copy, Clone, Debug)]
pub(crate) enum BuiltinArg {
    /// The 8-byte word at this vmctx offset (e.g. a table's `VMTableDef` pointer).
    VmctxWord(i32),
    /// The address of this vmctx offset (e.g. a segment descriptor inside the vmctx).
    VmctxAddress(i32),
}

pub(crate) fn unsupported(what: &str, offset: usize) -> Error {
    Error::Compile {
        message: format!("unsupported: {what}"),
        offset: Some(offset),
    }
}

pub fn load_kind(ty: ValType) -> LoadKind {
    match ty {
        ValType::I32 => LoadKind::I32,
        ValType::F32 => LoadKind::F32,
        ValType::F64 => LoadKind::F64,
        _ => LoadKind::I64,
    }
}

pub fn store_kind(ty: ValType) -> StoreKind {
    match ty {
        ValType::I32 => StoreKind::I32,
        ValType::F32 => StoreKind::F32,
        ValType::F64 => StoreKind::F64,
        _ => StoreKind::I64,
    }
}

/// `addr` moved up by `bytes`.
pub(crate) fn addr_plus(addr: Addr, bytes: i32) -> Addr {
    match addr {
        Addr::Frame(d) => Addr::Frame(d + bytes),
        Addr::Outgoing(d) => Addr::Outgoing(d + bytes),
        Addr::Vmctx(d) => Addr::Vmctx(d + bytes),
        Addr::Base(b, d) => Addr::Base(b, d + bytes),
        Addr::Indexed(b, i, d) => Addr::Indexed(b, i, d + bytes),
    }
}

/// Compiles one function body.
pub struct FuncCompiler<'a, M: MacroAssembler> {
    pub(crate) masm: &'a mut M,
    pub(crate) env: &'a ModuleEnv<'a>,
    pub(crate) regs: RegAlloc,
    pub(crate) stack: ValueStack,
    control: Vec<ControlFrame>,
    /// Every local, parameters first.
    locals: Vec<Local>,
    /// Indices of the locals held in registers (a few; calls save and reload only these).
    pinned_locals: Vec<u32>,
    func_type: FuncType,
    /// Number of 8-byte frame slots of the declared (non-parameter) locals.
    local_slots: u32,
    /// Whether the current position can execute.
    pub(crate) reachable: bool,
    /// Control frames opened inside unreachable code (validated, not compiled).
    dead_depth: usize,
    trap_labels: [Option<Label>; 16],
    /// Resumable slow paths of the checks (`MacroAssembler::RESUMABLE_CHECKS`): (stub, resume)
    /// of each loop header, emitted after the body.
    yield_stubs: Vec<(Label, Label)>,
    /// (stub, prologue start) of the prologue's stack check, when resumable.
    entry_yield: Option<(Label, Label)>,
    /// Code offsets of the (area, direct) entries when they differ (some parameter travels
    /// in a register).
    entries: Option<(usize, usize)>,
    /// Exit for builtins returning a trap code.
    dynamic_trap: Option<Label>,
    /// Registers holding memory 0's `VMMemoryDef` pointer and base for the whole function.
    pub(crate) memory_regs: Option<(Reg, Reg)>,
    max_outgoing_slots: usize,
    /// The frame size field of the prologue (shared by both entries).
    frame_patch: Option<FramePatch>,
    /// Bytes per value-stack depth: 16 when the function may hold v128 values, else 8.
    pub(crate) slot_stride: i32,
    /// Byte offset of the operator being compiled (for error messages).
    pub(crate) offset: usize,
    /// Whether the body may hold SIMD operators (false skips looking for them).
    simd_ops: bool,
    /// An integer binop on a pinned local whose code waits for the next operator.
    pub(crate) deferred: Option<DeferredBinop>,
    /// The outermost open loop: its control-stack index and byte offset.
    outer_loop: Option<(usize, usize)>,
    /// Whether the body calls through funcrefs (imports, `call_indirect`): only those calls
    /// need the vmctx saved in the frame. True until `pin_locals` knows better.
    calls_funcrefs: bool,
    /// `LocalUsage::tail_frames`: frames whose end is the function's.
    tail_frames: Vec<usize>,
    /// Whether the body has a call inside a loop (then the direct entry stores pinned
    /// register parameters to their homes once, rather than before each call).
    calls_in_loop: bool,
}

/// `local.get i; x; op` with local `i` in a register: popped, not yet emitted. If the next
/// operator is `local.set/tee i` the operation is done in place on the local's register.
#[derive(Copy, Clone, Debug)]
pub(crate) struct DeferredBinop {
    pub(crate) size: Size,
    pub(crate) op: AluOp,
    pub(crate) local: u32,
    pub(crate) ty: ValType,
    /// The right operand (a register it owns, an immediate or a memory slot).
    pub(crate) rhs: Operand,
}

impl<'a, M: MacroAssembler> FuncCompiler<'a, M> {
    pub fn new(masm: &'a mut M, env: &'a ModuleEnv<'a>, regs: RegAlloc, func_index: u32) -> Result<Self> {
        let func_type = env.info.func_type(func_index).clone();
        let mut locals = Vec::new();
        for (ty, slot) in func_type.params.iter().zip(abi::param_slots(&func_type)) {
            let offset = abi::ARGS_OFFSET + abi::SLOT_SIZE * slot as i32;
            locals.push(Local {
                ty: *ty,
                offset,
                reg: None,
                written: false,
                home_stale: false,
                last_read: 0,
            });
        }
        // Any v128 type in the module (signatures, block types, globals) may put v128 values
        // on this function's stack; SIMD operators are found by the usage scan.
        let uses_v128 = env.uses_v128;
        let mut regs = regs;
        regs.reset();
        let mut fc = FuncCompiler {
            masm,
            env,
            regs,
            stack: ValueStack::default(),
            control: Vec::new(),
            locals,
            pinned_locals: Vec::new(),
            func_type,
            local_slots: 0,
            reachable: true,
            dead_depth: 0,
            trap_labels: [None; 16],
            yield_stubs: Vec::new(),
            entry_yield: None,
            entries: None,
            dynamic_trap: None,
            memory_regs: None,
            max_outgoing_slots: 0,
            frame_patch: None,
            slot_stride: abi::SLOT_SIZE,
            offset: 0,
            simd_ops: true,
            deferred: None,
            outer_loop: None,
            calls_funcrefs: true,
            calls_in_loop: true,
            tail_frames: Vec::new(),
        };
        if uses_v128 {
            fc.enable_v128()?;
        }
        Ok(fc)
    }

    /// Makes room for v128 values (16-byte value-stack slots); fails when the ISA has no SIMD.
    pub(crate) fn enable_v128(&mut self) -> Result<()> {
        if self.masm.simd().is_none() {
            return Err(unsupported("SIMD on this ISA", self.offset));
        }
        self.slot_stride = 2 * abi::SLOT_SIZE;
        Ok(())
    }

    /// Declares `count` more locals of type `ty` (after the parameters).
    pub fn add_locals(&mut self, count: u32, ty: wasmparser::ValType, offset: usize) -> Result<()> {
        let ty = ValType::from_wasmparser(ty).ok_or_else(|| unsupported("local type", offset))?;
        if ty == ValType::V128 {
            self.offset = offset;
            self.enable_v128()?;
        }
        for _ in 0..count {
            self.local_slots += ty.slots() as u32;
            let offset = -abi::SLOT_SIZE * (1 + self.local_slots as i32);
            self.locals.push(Local {
                ty,
                offset,
                reg: None,
                written: false,
                home_stale: false,
                last_read: 0,
            });
        }
        Ok(())
    }

    /// Open control frames (the function's own included), reachable or not.
    pub fn nesting_depth(&self) -> usize {
        self.control.len() + self.dead_depth
    }

    // ------------------------------------------------------------------ frame

    fn local_addr(&self, index: u32) -> Addr {
        Addr::Frame(self.locals[index as usize].offset)
    }

    pub(crate) fn local_reg(&self, index: u32) -> Option<Reg> {
        self.locals[index as usize].reg
    }

    pub(crate) fn is_pinned(&self, index: u32) -> bool {
        self.local_reg(index).is_some()
    }

    /// Frame slot of value-stack depth `depth`.
    pub(crate) fn slot_addr(&self, depth: usize) -> Addr {
        Addr::Frame(-abi::SLOT_SIZE * (1 + self.local_slots as i32) - self.slot_stride * (1 + depth as i32))
    }

    /// The out-of-line stub of a trap kind (emitted after the body).
    pub(crate) fn trap(&mut self, kind: TrapKind) -> Label {
        let i = kind as usize;
        if let Some(l) = self.trap_labels[i] {
            return l;
        }
        let l = self.masm.new_label();
        self.trap_labels[i] = Some(l);
        l
    }

    /// The exit for builtins that return a trap code (emitted after the body).
    pub(crate) fn dynamic_trap(&mut self) -> Label {
        if let Some(l) = self.dynamic_trap {
            return l;
        }
        let l = self.masm.new_label();
        self.dynamic_trap = Some(l);
        l
    }

    /// Calls a builtin with the top `n_stack` values followed by the pointers read from the
    /// vmctx at `vmctx_words` as arguments; returns the (taken) result register.
    pub(crate) fn call_builtin(&mut self, builtin: Builtin, n_stack: usize, vmctx_words: &[i32]) -> Reg {
        let extra: Vec<BuiltinArg> = vmctx_words.iter().map(|&o| BuiltinArg::VmctxWord(o)).collect();
        self.call_builtin_with(builtin, n_stack, &extra)
    }

    /// Calls a builtin with the top `n_stack` values followed by `extra` as arguments;
    /// returns the (taken) result register.
    pub(crate) fn call_builtin_with(&mut self, builtin: Builtin, n_stack: usize, extra: &[BuiltinArg]) -> Reg {
        let base = self.stack.len() - n_stack;
        for j in 0..n_stack {
            let slot = self.stack.get(base + j);
            self.write_value(slot, base + j, Addr::Outgoing(abi::SLOT_SIZE * j as i32), true);
        }
        self.truncate_stack(base);
        self.spill_registers();
        for (k, arg) in extra.iter().enumerate() {
            let tmp = self.alloc(RegClass::Int);
            match *arg {
                BuiltinArg::VmctxWord(offset) => self.masm.load(LoadKind::I64, tmp, Addr::Vmctx(offset)),
                BuiltinArg::VmctxAddress(offset) => self.masm.address_of(tmp, Addr::Vmctx(offset)),
            }
            let dst = Addr::Outgoing(abi::SLOT_SIZE * (n_stack + k) as i32);
            self.masm.store(StoreKind::I64, dst, tmp);
            self.free(tmp);
        }
        let nargs = n_stack + extra.len();
        self.max_outgoing_slots = self.max_outgoing_slots.max(nargs);
        self.save_pinned_locals();
        self.masm.call_builtin(builtin, nargs);
        self.reload_pinned_locals();
        let result = self.masm.builtin_result_reg();
        self.take_reg(result);
        result
    }

    /// Emits the prologue and opens the function's control frame.
    pub fn begin(&mut self) {
        // Both entries, ending with the prologue.
        let in_regs = self.emit_entries();
        self.masm
            .zero_frame_slots(-abi::SLOT_SIZE * (1 + self.local_slots as i32), self.local_slots);
        // Other parameters and zeroed locals alike: load from the frame home.
        self.reload_pinned(|_, i| !in_regs.get(i as usize).is_some_and(|r| r.is_some()));
        let label = self.masm.new_label();
        self.control.push(ControlFrame {
            kind: FrameKind::Function,
            params: Vec::new(),
            results: self.func_type.results.clone(),
            height: 0,
            label,
            end_used: false,
            reachable_at_entry: true,
            // A branch to the function's frame returns.
            returns: true,
        });
    }

    /// Binds the prologue's start (where a yield at its stack check resumes, every register
    /// intact) and emits the prologue.
    pub(super) fn entry_prologue(&mut self) {
        let start = self.masm.new_label();
        self.masm.bind(start);
        let overflow = if M::RESUMABLE_CHECKS {
            let stub = self.masm.new_label();
            self.entry_yield = Some((stub, start));
            stub
        } else {
            self.trap(TrapKind::StackOverflow)
        };
        self.frame_patch = Some(self.masm.prologue(overflow, self.calls_funcrefs));
    }

    /// Emits the trap stubs and fixes the frame size. Returns the code offsets of the
    /// (argument-area, direct) entries when they differ (see `frontend::calls`).
    pub fn finish(&mut self) -> Result<Option<(usize, usize)>> {
        if !self.control.is_empty() {
            return Err(Error::Compile {
                message: "function body not terminated".into(),
                offset: Some(self.offset),
            });
        }
        if let Some(label) = self.dynamic_trap {
            self.masm.bind(label);
            self.masm.trap_stub_dynamic();
        }
        if let Some((stub, start)) = self.entry_yield {
            self.masm.bind(stub);
            self.masm.yield_stub_at_entry(start);
        }
        for &(stub, resume) in &self.yield_stubs {
            self.masm.bind(stub);
            self.masm.yield_stub(resume);
        }
        for (code, label) in self.trap_labels.iter().enumerate() {
            if let Some(label) = *label {
                self.masm.bind(label);
                self.masm
                    .trap_stub(TrapKind::from_code(code as u32).expect("trap code"));
            }
        }
        let stack_slots = self.stack.max_height() * (self.slot_stride / abi::SLOT_SIZE) as usize;
        let slots = 1 + self.local_slots as usize + stack_slots + self.max_outgoing_slots;
        let bytes = (slots * abi::SLOT_SIZE as usize + 15) & !15;
        if bytes > i32::MAX as usize / 2 {
            return Err(unsupported("function frame too large", self.offset));
        }
        let patch = self.frame_patch.expect("prologue emitted");
        self.masm.patch_frame_size(patch, bytes as u32);
        debug_assert!(self.regs.all_free(), "register leak");
        Ok(self.entries)
    }

    // ------------------------------------------------------------------ registers

    /// A free register of `class`, spilling the deepest register-held entry if none is free.
    pub(crate) fn alloc(&mut self, class: RegClass) -> Reg {
        if let Some(r) = self.regs.try_alloc(class) {
            return r;
        }
        let depth = self.stack.deepest_reg(class).expect("no register to spill");
        self.spill_entry(depth);
        self.regs.try_alloc(class).expect("register freed by spill")
    }

    /// Takes a specific register, moving (or spilling) the stack entry that holds it.
    pub(crate) fn take_reg(&mut self, reg: Reg) {
        if self.regs.is_free(reg) {
            self.regs.take(reg);
            return;
        }
        let depth = self
            .stack
            .find_reg(reg)
            .expect("fixed register owned by the current operation");
        match self.regs.try_alloc(reg.class) {
            // The entry moves to another register; `reg` stays allocated, now to the caller.
            Some(other) => {
                self.masm.mov(other, reg);
                self.stack.set_loc(depth, Loc::Reg(other));
            }
            None => {
                self.spill_entry(depth);
                self.regs.take(reg);
            }
        }
    }

    pub(crate) fn free(&mut self, reg: Reg) {
        self.regs.free(reg);
    }

    pub(crate) fn free_operand(&mut self, op: Operand) {
        if let Operand::Reg(r) = op {
            self.free(r);
        }
    }

    // ------------------------------------------------------------------ value stack

    pub(crate) fn push_reg(&mut self, ty: ValType, reg: Reg) {
        self.stack.push(ty, Loc::Reg(reg));
    }

    pub(crate) fn push_const(&mut self, ty: ValType, bits: u64) {
        let bits = if is_wide(ty) { bits } else { bits as u32 as u64 };
        self.stack.push(ty, Loc::Const(bits));
    }

    /// Loads a value of type `ty` from memory (v128 through the SIMD interface).
    pub(crate) fn load_typed(&mut self, ty: ValType, dst: Reg, addr: Addr) {
        if ty == ValType::V128 {
            self.vm().v128_load(dst, addr);
        } else {
            self.masm.load(load_kind(ty), dst, addr);
        }
    }

    /// Stores a value of type `ty` to memory (v128 through the SIMD interface).
    pub(crate) fn store_typed(&mut self, ty: ValType, addr: Addr, src: Reg) {
        if ty == ValType::V128 {
            self.vm().v128_store(addr, src);
        } else {
            self.masm.store(store_kind(ty), addr, src);
        }
    }

    /// Loads `slot` (just popped from depth `depth`) into the owned register `dst`.
    pub(crate) fn load_slot_into(&mut self, slot: Slot, depth: usize, dst: Reg) {
        match slot.loc {
            Loc::Reg(r) => {
                if r != dst {
                    self.masm.mov(dst, r);
                    self.free(r);
                }
            }
            Loc::Const(bits) => self.masm.load_const(dst, bits, is_wide(slot.ty)),
            Loc::Local(i) => match self.local_reg(i) {
                Some(home) if slot.ty == ValType::I32 => self.masm.extend(ExtendKind::ZeroUpper32, dst, home),
                Some(home) => self.masm.mov(dst, home),
                None => {
                    let addr = self.local_addr(i);
                    self.load_typed(slot.ty, dst, addr)
                }
            },
            Loc::Spilled => {
                let addr = self.slot_addr(depth);
                self.load_typed(slot.ty, dst, addr)
            }
            Loc::Flags(c) => self.masm.set_cond(c, dst),
        }
    }

    /// Pops the top value into a register the caller owns (and may modify).
    pub(crate) fn pop_to_reg(&mut self) -> (ValType, Reg) {
        let slot = self.stack.pop();
        if let Loc::Reg(r) = slot.loc {
            return (slot.ty, r);
        }
        let depth = self.stack.len();
        let dst = self.alloc(class_of(slot.ty));
        self.load_slot_into(slot, depth, dst);
        (slot.ty, dst)
    }

    /// Pops the top value into a register that the caller only reads: a pinned local's own
    /// register when possible. Returns whether the caller owns (and must free) it.
    pub(crate) fn pop_readonly(&mut self) -> (ValType, Reg, bool) {
        if let Some(Slot {
            ty,
            loc: Loc::Local(i),
        }) = self.stack.peek().copied()
        {
            if let Some(home) = self.local_reg(i) {
                self.stack.pop();
                return (ty, home, false);
            }
        }
        let (ty, r) = self.pop_to_reg();
        (ty, r, true)
    }

    /// Frees a register obtained from [`pop_readonly`](Self::pop_readonly).
    pub(crate) fn free_readonly(&mut self, reg: Reg, owned: bool) {
        if owned {
            self.free(reg);
        }
    }

    /// Pops the top value into the specific register `reg` (taken for the caller).
    pub(crate) fn pop_into(&mut self, reg: Reg) {
        if self.stack.peek().map(|s| s.loc) == Some(Loc::Reg(reg)) {
            self.stack.pop();
            return;
        }
        self.take_reg(reg);
        let slot = self.stack.pop();
        let depth = self.stack.len();
        self.load_slot_into(slot, depth, reg);
    }

    /// Pops the top (integer) value as an operand: an immediate when it fits the operation,
    /// a memory slot when it is not in a register.
    pub(crate) fn pop_operand(&mut self, size: Size) -> Operand {
        let top = *self.stack.peek().expect("operand");
        match top.loc {
            Loc::Const(bits) => {
                let fits = match size {
                    Size::S32 => true,
                    Size::S64 => bits as i64 == bits as i32 as i64,
                };
                if fits {
                    self.stack.pop();
                    return Operand::Imm(bits as i32);
                }
            }
            Loc::Reg(r) => {
                self.stack.pop();
                return Operand::Reg(r);
            }
            Loc::Local(i) => {
                self.stack.pop();
                // A pinned register is only read by the consumer (and never freed).
                return match self.local_reg(i) {
                    Some(home) => Operand::Reg(home),
                    None => Operand::Mem(self.local_addr(i)),
                };
            }
            Loc::Spilled => {
                self.stack.pop();
                return Operand::Mem(self.slot_addr(self.stack.len()));
            }
            Loc::Flags(_) => {}
        }
        Operand::Reg(self.pop_to_reg().1)
    }

    /// Drops everything above `height`, freeing registers.
    pub(crate) fn truncate_stack(&mut self, height: usize) {
        while self.stack.len() > height {
            if let Loc::Reg(r) = self.stack.pop().loc {
                self.free(r);
            }
        }
    }

    /// Turns a pending comparison on top of the stack into a 0/1 register.
    pub(crate) fn materialize_flags(&mut self) {
        if let Some(Slot {
            loc: Loc::Flags(c), ..
        }) = self.stack.peek().copied()
        {
            let r = self.alloc(RegClass::Int);
            self.masm.set_cond(c, r);
            let depth = self.stack.len() - 1;
            self.stack.set_loc(depth, Loc::Reg(r));
        }
    }

    /// Writes the value of entry `slot` (at `depth`) to `dst`. With `zext32`, 32-bit values
    /// get zeroed upper bytes (results in the argument area). Only `mov`-class instructions:
    /// the flags survive.
    fn write_value(&mut self, slot: Slot, depth: usize, dst: Addr, zext32: bool) {
        let narrow = !is_wide(slot.ty);
        let loc = match slot.loc {
            Loc::Local(i) => self.local_reg(i).map_or(slot.loc, Loc::Reg),
            l => l,
        };
        match loc {
            Loc::Reg(r) => {
                if zext32 && slot.ty == ValType::F32 {
                    self.masm.store_imm(StoreKind::I64, dst, 0);
                    self.masm.store(StoreKind::F32, dst, r);
                } else if zext32 && slot.ty == ValType::I32 {
                    // i32 registers always hold a zero-extended value.
                    self.masm.store(StoreKind::I64, dst, r);
                } else {
                    self.store_typed(slot.ty, dst, r);
                }
            }
            Loc::Const(bits) => {
                if narrow && !zext32 {
                    self.masm.store_imm(StoreKind::I32, dst, bits as i32);
                } else {
                    self.masm.store_const64(dst, bits);
                }
            }
            Loc::Local(_) | Loc::Spilled => {
                let src = match loc {
                    Loc::Local(i) => self.local_addr(i),
                    _ => self.slot_addr(depth),
                };
                if src == dst {
                    return;
                }
                if narrow && zext32 {
                    self.masm.copy_slot_zext32(dst, src);
                } else if slot.ty == ValType::V128 {
                    self.masm.copy_slot(dst, src);
                    self.masm.copy_slot(addr_plus(dst, 8), addr_plus(src, 8));
                } else {
                    self.masm.copy_slot(dst, src);
                }
            }
            Loc::Flags(_) => unreachable!("flags are materialised before being stored"),
        }
    }

    /// Moves entry `depth` into its own frame slot.
    pub(crate) fn spill_entry(&mut self, depth: usize) {
        let slot = self.stack.get(depth);
        if slot.loc == Loc::Spilled {
            return;
        }
        if let Loc::Flags(c) = slot.loc {
            let r = self.alloc(RegClass::Int);
            self.masm.set_cond(c, r);
            self.stack.set_loc(depth, Loc::Reg(r));
            return self.spill_entry(depth);
        }
        let addr = self.slot_addr(depth);
        self.write_value(slot, depth, addr, false);
        if let Loc::Reg(r) = slot.loc {
            self.free(r);
        }
        self.stack.set_loc(depth, Loc::Spilled);
    }

    /// Before entering a control frame: every entry that could differ between paths
    /// (registers, local references, flags) goes to its slot; constants may stay except for
    /// the top `canonical_top` entries (the frame's parameters), which are all spilled.
    fn spill_for_control(&mut self, canonical_top: usize) {
        let len = self.stack.len();
        // Below `dirty_from` everything is spilled or constant already.
        for depth in self.stack.dirty_from().min(len - canonical_top)..len {
            let keep_const = depth < len - canonical_top;
            match self.stack.get(depth).loc {
                Loc::Const(_) if keep_const => {}
                Loc::Spilled => {}
                _ => self.spill_entry(depth),
            }
        }
        self.stack.mark_no_regs();
        self.stack.mark_no_locals();
    }

    /// Before a call: every register-held entry goes to its slot (calls clobber all registers).
    pub(crate) fn spill_registers(&mut self) {
        for depth in self.stack.regs_from()..self.stack.len() {
            if matches!(self.stack.get(depth).loc, Loc::Reg(_) | Loc::Flags(_)) {
                self.spill_entry(depth);
            }
        }
        self.stack.mark_no_regs();
    }

    /// Before `local.set/tee index`: entries still referring to the old value are copied.
    /// A long scan also copies the references to every other local, so that no later scan
    /// covers the same entries again (each entry is then scanned a bounded number of times).
    pub(crate) fn materialize_local(&mut self, index: u32) {
        if !self.stack.refers_to_local(index) {
            return;
        }
        const SHORT_SCAN: usize = 64;
        let (from, len) = (self.stack.locals_from(), self.stack.len());
        let all = len - from > SHORT_SCAN;
        for depth in from..len {
            match self.stack.get(depth).loc {
                Loc::Local(i) if i == index || all => self.spill_entry(depth),
                _ => {}
            }
        }
        if all {
            self.stack.mark_no_locals();
        }
    }

    // ------------------------------------------------------------------ control

    fn block_type(&self, bt: BlockType) -> (Vec<ValType>, Vec<ValType>) {
        match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![ValType::from_wasmparser(t).unwrap_or(ValType::I32)]),
            BlockType::FuncType(i) => {
                let ty = &self.env.info.types[i as usize];
                (ty.params.clone(), ty.results.clone())
            }
        }
    }

    fn check_block_types(&mut self, params: &[ValType], results: &[ValType]) -> Result<()> {
        if params.iter().chain(results).any(|t| *t == ValType::V128) && self.slot_stride < 16 {
            // The pre-scan sizes the slots for v128 block types; reaching here is a bug.
            self.enable_v128()?;
            return Err(unsupported("v128 block type missed by the pre-scan", self.offset));
        }
        Ok(())
    }

    fn push_frame(&mut self, kind: FrameKind, params: Vec<ValType>, results: Vec<ValType>, label: Label) {
        let height = self.stack.len() - params.len();
        // A branch to a loop goes to its header; to the end of a tail frame with nothing
        // below it, it returns (the frame's results are then the function's).
        let returns = kind != FrameKind::Loop && height == 0 && self.tail_frames.contains(&self.offset);
        self.control.push(ControlFrame {
            kind,
            params,
            results,
            height,
            label,
            end_used: false,
            reachable_at_entry: true,
            returns,
        });
    }

    /// Where a single block result travels: a fixed register (the first allocatable one of
    /// its class). Loops (their parameters) and multi-value frames use the depth slots.
    fn result_reg(&self, frame: &ControlFrame) -> Option<Reg> {
        match (frame.kind, frame.branch_types()) {
            (FrameKind::Loop | FrameKind::Function, _) => None,
            (_, [ty]) => Some(self.masm.block_result_reg(class_of(*ty))),
            _ => None,
        }
    }

    /// Copies entry `slot` (at `depth`) into `dst` without changing the compile-time state.
    fn copy_to_reg(&mut self, slot: Slot, depth: usize, dst: Reg) {
        match slot.loc {
            Loc::Reg(r) => self.masm.mov(dst, r),
            Loc::Const(bits) => self.masm.load_const(dst, bits, is_wide(slot.ty)),
            Loc::Local(i) => match self.local_reg(i) {
                Some(home) if slot.ty == ValType::I32 => self.masm.extend(ExtendKind::ZeroUpper32, dst, home),
                Some(home) => self.masm.mov(dst, home),
                None => {
                    let addr = self.local_addr(i);
                    self.load_typed(slot.ty, dst, addr)
                }
            },
            Loc::Spilled => {
                let addr = self.slot_addr(depth);
                self.load_typed(slot.ty, dst, addr)
            }
            Loc::Flags(c) => self.masm.set_cond(c, dst),
        }
    }

    /// Puts the top `n` entries where frame results/parameters travel: `to_reg` for a single
    /// result, else the slots of depths `height..height + n`. Does not change the
    /// compile-time stack (the fall-through path of `br_if` keeps using it).
    fn write_branch_values(&mut self, height: usize, n: usize, to_reg: Option<Reg>) {
        let len = self.stack.len();
        if let Some(r) = to_reg {
            debug_assert_eq!(n, 1);
            let slot = self.stack.get(len - 1);
            return self.copy_to_reg(slot, len - 1, r);
        }
        // Increasing order is safe: a source at depth `len - n + j` is never below the
        // destination `height + j`, so no source is overwritten before it is read.
        for j in 0..n {
            let depth = len - n + j;
            let slot = self.stack.get(depth);
            let dst = self.slot_addr(height + j);
            self.write_value(slot, depth, dst, false);
        }
    }

    /// Whether a branch to frame `index` needs code besides the jump itself.
    fn branch_needs_moves(&self, index: usize) -> bool {
        let target = &self.control[index];
        if target.returns {
            return true;
        }
        let n = target.branch_types().len();
        let len = self.stack.len();
        if let Some(r) = self.result_reg(target) {
            return self.stack.get(len - 1).loc != Loc::Reg(r);
        }
        (0..n).any(|j| !(len - n + j == target.height + j && self.stack.get(len - n + j).loc == Loc::Spilled))
    }

    /// Emits the transfer of the branch values and the jump to control frame `index`.
    fn emit_branch_to(&mut self, index: usize) {
        if self.control[index].returns {
            return self.emit_return();
        }
        let (height, n, label, reg) = {
            let t = &self.control[index];
            (t.height, t.branch_types().len(), t.label, self.result_reg(t))
        };
        self.write_branch_values(height, n, reg);
        self.masm.jmp(label);
        if self.control[index].kind != FrameKind::Loop {
            self.control[index].end_used = true;
        }
    }

    /// Copies result values that still refer to parameters read from their homes (their
    /// slots are about to be overwritten by results) into their own slots.
    fn protect_params_from_results(&mut self) {
        let n = self.func_type.results.len();
        let n_params = self.func_type.params.len() as u32;
        let len = self.stack.len();
        for depth in len - n..len {
            if matches!(self.stack.get(depth).loc, Loc::Local(i) if i < n_params && !self.is_pinned(i)) {
                self.spill_entry(depth);
            }
        }
    }

    /// Writes the results (the top entries) to the argument area and returns.
    fn emit_return(&mut self) {
        self.protect_params_from_results();
        let results = self.func_type.results.clone();
        let slots = abi::result_slots(&self.func_type);
        let len = self.stack.len();
        for (j, _) in results.iter().enumerate() {
            let depth = len - results.len() + j;
            let mut slot = self.stack.get(depth);
            let dst = Addr::Frame(abi::ARGS_OFFSET + abi::SLOT_SIZE * slots[j] as i32);
            if results.len() == 1 {
                // A single result also travels in the result register (`abi`): direct
                // callers read it from there. Code after a return is dead, so the register
                // may be clobbered without telling the allocator.
                let r = self.masm.block_result_reg(class_of(slot.ty));
                self.copy_to_reg(slot, depth, r);
                slot.loc = Loc::Reg(r);
            }
            self.write_value(slot, depth, dst, true);
        }
        self.masm.epilogue();
    }

    /// After `br`, `return`, `unreachable`, `br_table`: the rest of the frame is dead.
    fn set_unreachable(&mut self) {
        let height = self.control.last().map_or(0, |f| f.height);
        self.truncate_stack(height);
        self.reachable = false;
    }

    fn visit_block(&mut self, bt: BlockType, kind_is_loop: bool) -> Result<()> {
        let (params, results) = self.block_type(bt);
        self.check_block_types(&params, &results)?;
        self.spill_for_control(params.len());
        let label = self.masm.new_label();
        if kind_is_loop {
            self.push_frame(FrameKind::Loop, params, results, label);
            if self.outer_loop.is_none() {
                self.outer_loop = Some((self.control.len() - 1, self.offset));
            }
            self.masm.bind(label);
            let interrupted = if M::RESUMABLE_CHECKS {
                let stub = self.masm.new_label();
                self.yield_stubs.push((stub, label));
                stub
            } else {
                self.trap(TrapKind::Interrupted)
            };
            self.masm.check_interrupt(interrupted);
        } else {
            self.push_frame(FrameKind::Block, params, results, label);
        }
        Ok(())
    }

    /// Pops an i32 condition and returns the flags condition meaning "non-zero", or a
    /// constant. Code emitted after this must not change the flags before the consumer.
    fn pop_condition(&mut self) -> std::result::Result<Cond, bool> {
        let top = self.stack.pop();
        match top.loc {
            Loc::Flags(c) => Ok(c),
            Loc::Const(bits) => Err(bits as u32 != 0),
            _ => {
                self.stack.push(top.ty, top.loc);
                let (_, r, owned) = self.pop_readonly();
                self.masm.test(Size::S32, r);
                self.free_readonly(r, owned);
                Ok(Cond::Ne)
            }
        }
    }

    fn visit_if(&mut self, bt: BlockType) -> Result<()> {
        let (params, results) = self.block_type(bt);
        self.check_block_types(&params, &results)?;
        // Spill first (flag-neutral moves), then test the condition right before the jump.
        let cond_slot = self.stack.pop();
        let cond_reg = match cond_slot.loc {
            Loc::Flags(_) | Loc::Const(_) => None,
            _ => {
                self.stack.push(cond_slot.ty, cond_slot.loc);
                let (_, r) = self.pop_to_reg();
                Some(r)
            }
        };
        self.spill_for_control(params.len());
        let else_label = self.masm.new_label();
        match (cond_slot.loc, cond_reg) {
            (_, Some(r)) => {
                self.masm.test(Size::S32, r);
                self.masm.branch(Cond::Ne, true, else_label);
                self.free(r);
            }
            (Loc::Flags(c), None) => self.masm.branch(c, true, else_label),
            (Loc::Const(bits), None) => {
                if bits as u32 == 0 {
                    self.masm.jmp(else_label);
                }
            }
            _ => unreachable!(),
        }
        let label = self.masm.new_label();
        self.push_frame(
            FrameKind::If {
                else_label,
                has_else: false,
            },
            params,
            results,
            label,
        );
        Ok(())
    }

    fn visit_else(&mut self) {
        let idx = self.control.len() - 1;
        if self.reachable && self.control[idx].returns {
            // The end of the `if` is the function's: return from here (no jump to a shared
            // epilogue; fewer taken branches on the path).
            self.emit_return();
        } else if self.reachable {
            let (height, n, label, reg) = {
                let f = &self.control[idx];
                (f.height, f.results.len(), f.label, self.result_reg(f))
            };
            self.write_branch_values(height, n, reg);
            self.masm.jmp(label);
            self.control[idx].end_used = true;
        }
        let frame = &mut self.control[idx];
        let FrameKind::If { else_label, .. } = frame.kind else {
            unreachable!("else without if")
        };
        frame.kind = FrameKind::If {
            else_label,
            has_else: true,
        };
        let (height, params) = (frame.height, frame.params.clone());
        self.truncate_stack(height);
        for ty in params {
            self.stack.push(ty, Loc::Spilled);
        }
        self.masm.bind(else_label);
        self.reachable = true;
    }

    fn visit_end(&mut self) -> Result<()> {
        let frame = self.control.pop().expect("control frame");
        if self.outer_loop.is_some_and(|(index, _)| index >= self.control.len()) {
            self.outer_loop = None;
        }
        let n = frame.results.len();
        if frame.kind == FrameKind::Function {
            if self.reachable {
                self.emit_return();
            }
            self.truncate_stack(0);
            return Ok(());
        }
        let canonical = frame.results_canonical_at_end();
        let reg = self.result_reg(&frame);
        if self.reachable && canonical {
            self.write_branch_values(frame.height, n, reg);
        }
        let mut reachable_after = self.reachable || frame.end_used;
        if let FrameKind::If {
            else_label,
            has_else: false,
        } = frame.kind
        {
            // The false branch passes the parameters on as results (same types), from their
            // slots.
            if let Some(r) = reg {
                if self.reachable {
                    self.masm.jmp(frame.label);
                }
                self.masm.bind(else_label);
                let addr = self.slot_addr(frame.height);
                self.load_typed(frame.results[0], r, addr);
            } else {
                self.masm.bind(else_label);
            }
            reachable_after = true;
        }
        if frame.kind != FrameKind::Loop {
            self.masm.bind(frame.label);
        }
        if canonical || !self.reachable {
            self.truncate_stack(frame.height);
            if reachable_after {
                match reg {
                    Some(r) => {
                        self.regs.take(r);
                        self.push_reg(frame.results[0], r);
                    }
                    None => {
                        for ty in &frame.results {
                            self.stack.push(*ty, Loc::Spilled);
                        }
                    }
                }
            }
        }
        self.reachable = reachable_after;
        if !reachable_after {
            self.set_unreachable();
        }
        Ok(())
    }

    fn visit_br_if(&mut self, relative_depth: u32) {
        let index = self.control.len() - 1 - relative_depth as usize;
        // Inside a loop, returning in place from a tail frame would put its epilogue on the
        // loop's path (a taken branch over it at every iteration): jump to its end instead.
        let tail_in_loop = self.control[index].returns
            && self.control[index].kind != FrameKind::Function
            && self.outer_loop.is_some();
        if tail_in_loop {
            self.control[index].returns = false;
            self.visit_br_if_to(index);
            self.control[index].returns = true;
        } else {
            self.visit_br_if_to(index);
        }
    }

    fn visit_br_if_to(&mut self, index: usize) {
        if self.control[index].returns {
            // Done before the condition is tested: it may emit code on both paths.
            let top = self.stack.pop();
            self.protect_params_from_results();
            self.stack.push(top.ty, top.loc);
        }
        match self.pop_condition() {
            Err(false) => {}
            Err(true) => self.emit_branch_to(index),
            Ok(cond) => {
                if self.branch_needs_moves(index) {
                    let skip = self.masm.new_label();
                    self.masm.branch(cond, true, skip);
                    self.emit_branch_to(index);
                    self.masm.bind(skip);
                } else {
                    let label = self.control[index].label;
                    self.masm.branch(cond, false, label);
                    if self.control[index].kind != FrameKind::Loop {
                        self.control[index].end_used = true;
                    }
                }
            }
        }
    }

    fn visit_br_table(&mut self, targets: &wasmparser::BrTable<'_>) -> Result<()> {
        let depths: Vec<u32> = targets.targets().collect::<std::result::Result<_, _>>()?;
        let default = targets.default();
        let n_ctrl = self.control.len();
        let to_index = |d: u32| n_ctrl - 1 - d as usize;
        let (_, index_reg) = self.pop_to_reg();
        if self.control[to_index(default)].returns
            || depths.iter().any(|&d| self.control[to_index(d)].returns)
        {
            self.protect_params_from_results();
        }
        // One label per distinct target: the frame's own label when no moves are needed,
        // otherwise a stub that moves the values and jumps.
        let mut stubs: Vec<(usize, Label)> = Vec::new();
        let mut stub_of: std::collections::HashMap<usize, Label> = std::collections::HashMap::new();
        let mut label_for = |this: &mut Self, d: u32| -> Label {
            let index = to_index(d);
            if !this.branch_needs_moves(index) {
                if this.control[index].kind != FrameKind::Loop {
                    this.control[index].end_used = true;
                }
                return this.control[index].label;
            }
            if let Some(&l) = stub_of.get(&index) {
                return l;
            }
            let l = this.masm.new_label();
            stubs.push((index, l));
            stub_of.insert(index, l);
            l
        };
        let default_label = label_for(self, default);
        let labels: Vec<Label> = depths.iter().map(|&d| label_for(self, d)).collect();
        if !labels.is_empty() {
            self.masm
                .cmp(Size::S32, index_reg, Operand::Imm(labels.len() as i32));
            self.masm.branch(Cond::GeU, false, default_label);
            self.masm.jump_table(index_reg, &labels);
        } else {
            self.masm.jmp(default_label);
        }
        self.free(index_reg);
        for (index, label) in stubs {
            self.masm.bind(label);
            self.emit_branch_to(index);
        }
        self.set_unreachable();
        Ok(())
    }

    // ------------------------------------------------------------------ locals, globals

    fn visit_global_get(&mut self, index: u32) -> Result<()> {
        let ty = self.env.info.globals[index as usize].content;
        let ptr = self.alloc(RegClass::Int);
        self.masm
            .load(LoadKind::I64, ptr, Addr::Vmctx(self.env.offsets.global(index)));
        if class_of(ty) == RegClass::Int {
            self.masm.load(load_kind(ty), ptr, Addr::Base(ptr, 0));
            self.push_reg(ty, ptr);
        } else {
            let dst = self.alloc(RegClass::Float);
            self.load_typed(ty, dst, Addr::Base(ptr, 0));
            self.free(ptr);
            self.push_reg(ty, dst);
        }
        Ok(())
    }

    fn visit_global_set(&mut self, index: u32) -> Result<()> {
        let ty = self.env.info.globals[index as usize].content;
        let (_, value) = self.pop_to_reg();
        let ptr = self.alloc(RegClass::Int);
        self.masm
            .load(LoadKind::I64, ptr, Addr::Vmctx(self.env.offsets.global(index)));
        self.store_typed(ty, Addr::Base(ptr, 0), value);
        self.free(ptr);
        self.free(value);
        Ok(())
    }

    // ------------------------------------------------------------------ dispatch

    /// Compiles one (already validated) operator.
    pub fn visit(&mut self, offset: usize, op: &Operator<'_>) -> Result<()> {
        self.offset = offset;
        self.masm.safe_point();
        if self.deferred.is_some() && self.flush_deferred(op) {
            return Ok(());
        }
        if !self.reachable {
            return self.visit_unreachable(op);
        }
        if !matches!(
            op,
            Operator::BrIf { .. } | Operator::If { .. } | Operator::Select | Operator::TypedSelect { .. }
        ) {
            self.materialize_flags();
        }
        use Operator::*;
        match op {
            Nop => {}
            Unreachable => {
                let l = self.trap(TrapKind::Unreachable);
                self.masm.jmp(l);
                self.set_unreachable();
            }
            Block { blockty } => self.visit_block(*blockty, false)?,
            Loop { blockty } => self.visit_block(*blockty, true)?,
            If { blockty } => self.visit_if(*blockty)?,
            Else => self.visit_else(),
            End => self.visit_end()?,
            Br { relative_depth } => {
                let index = self.control.len() - 1 - *relative_depth as usize;
                self.emit_branch_to(index);
                self.set_unreachable();
            }
            BrIf { relative_depth } => self.visit_br_if(*relative_depth),
            BrTable { targets } => self.visit_br_table(targets)?,
            Return => {
                self.emit_return();
                self.set_unreachable();
            }
            Call { function_index } => self.visit_call(*function_index)?,
            CallIndirect {
                type_index,
                table_index,
            } => self.visit_call_indirect(*type_index, *table_index)?,
            Drop => self.truncate_stack(self.stack.len() - 1),
            Select | TypedSelect { .. } => self.visit_select()?,
            LocalGet { local_index } => {
                let ty = self.locals[*local_index as usize].ty;
                self.stack.push(ty, Loc::Local(*local_index));
            }
            LocalSet { local_index } => self.visit_local_set(*local_index, false),
            LocalTee { local_index } => self.visit_local_set(*local_index, true),
            GlobalGet { global_index } => self.visit_global_get(*global_index)?,
            GlobalSet { global_index } => self.visit_global_set(*global_index)?,
            I32Const { value } => self.push_const(ValType::I32, *value as u32 as u64),
            I64Const { value } => self.push_const(ValType::I64, *value as u64),
            F32Const { value } => self.push_const(ValType::F32, value.bits() as u64),
            F64Const { value } => self.push_const(ValType::F64, value.bits()),
            _ if self.simd_ops => match self.visit_simd(op) {
                Some(result) => result?,
                None => self.visit_numeric_or_memory(op)?,
            },
            _ => self.visit_numeric_or_memory(op)?,
        }
        Ok(())
    }

    /// In unreachable code only the nesting of control frames matters.
    fn visit_unreachable(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => self.dead_depth += 1,
            Operator::Else if self.dead_depth == 0 => self.visit_else(),
            Operator::End if self.dead_depth > 0 => self.dead_depth -= 1,
            Operator::End => self.visit_end()?,
            _ => {}
        }
        Ok(())
    }
}
