//! Locals: usage scan, registers for hot locals, `local.set/tee`.

use wasmparser::Operator;

use crate::compiler::frontend::FuncCompiler;
use crate::compiler::masm::*;
use crate::compiler::value_stack::{class_of, Loc, Slot};
use crate::runtime::vmctx::{MEMORY_BASE_OFFSET, VMCTX_MEMORY_OFFSET};
use crate::types::ValType;

/// A local variable: its type, its frame home and, when it is hot, the register that holds
/// it for the whole function (the frame home then only serves across calls).
#[derive(Copy, Clone, Debug)]
pub(super) struct Local {
    pub(super) ty: ValType,
    pub(super) offset: i32,
    pub(super) reg: Option<Reg>,
    /// Written somewhere in the function (a pinned local must then be saved before calls).
    pub(super) written: bool,
    /// A pinned parameter whose home the direct entry left unwritten: saved before calls
    /// after which it is read, until a save that dominates the rest of the body.
    pub(super) home_stale: bool,
    /// Byte offset of the last `local.get` of it (0: never read).
    pub(super) last_read: usize,
}

/// How often (loop-weighted) and whether each local is written, gathered while the body is
/// decoded and validated (before any code is emitted).
#[derive(Default, Debug)]
pub struct LocalUsage {
    pub weight: Vec<u32>,
    pub written: Vec<bool>,
    /// Per local: byte offset of its last `local.get` (0: never read).
    pub last_read: Vec<usize>,
    /// Loop-weighted count of linear-memory loads and stores.
    pub memory_weight: u32,
    /// Whether the body has SIMD (0xfd-prefixed) operators.
    pub simd: bool,
    /// Whether the body has `call_indirect`.
    pub call_indirect: bool,
    /// Lowest function index the body calls directly (`u32::MAX`: none).
    pub lowest_callee: u32,
    /// Whether some call (direct or indirect) is inside a loop.
    pub calls_in_loop: bool,
    /// Byte offsets of the `block`/`if`/`loop` operators whose `end` is directly followed
    /// by other `end`s up to the function's own: branches to their end return (once the
    /// body is scanned).
    pub tail_frames: Vec<usize>,
    /// Nesting of the open control frames: whether a loop, and the offset of its operator.
    frames: Vec<(bool, usize)>,
    /// Number of open loops.
    loops: u32,
}

impl LocalUsage {
    /// Forgets everything (start of a body); keeps the allocations.
    pub fn clear(&mut self) {
        self.weight.clear();
        self.written.clear();
        self.last_read.clear();
        self.memory_weight = 0;
        self.simd = false;
        self.call_indirect = false;
        self.lowest_callee = u32::MAX;
        self.calls_in_loop = false;
        self.tail_frames.clear();
        self.frames.clear();
        self.loops = 0;
    }

    /// Accounts for one operator (in body order) at byte `offset`; `simd_prefix` tells
    /// whether its encoding starts with the 0xfd prefix. Always inlined: pass 1 calls it with
    /// a known variant, so the match folds away.
    #[inline(always)]
    pub fn observe(&mut self, op: &Operator<'_>, simd_prefix: bool, offset: usize) {
        self.simd |= simd_prefix;
        if !matches!(op, Operator::End) {
            // The run of `end`s that closes the body comes after every other operator.
            self.tail_frames.clear();
        }
        let v128 = wasmparser::BlockType::Type(wasmparser::ValType::V128);
        let (index, write) = match *op {
            Operator::Block { blockty } | Operator::If { blockty } | Operator::Loop { blockty } => {
                // v128 values without a SIMD operator: from a block type.
                self.simd |= blockty == v128;
                let is_loop = matches!(op, Operator::Loop { .. });
                self.frames.push((is_loop, offset));
                self.loops += is_loop as u32;
                return;
            }
            Operator::Call { function_index } => {
                self.lowest_callee = self.lowest_callee.min(function_index);
                self.calls_in_loop |= self.loops > 0;
                return;
            }
            Operator::CallIndirect { .. } => {
                self.call_indirect = true;
                self.calls_in_loop |= self.loops > 0;
                return;
            }
            Operator::TypedSelect { ty: wasmparser::ValType::V128 } => {
                self.simd = true;
                return;
            }
            Operator::End => {
                // (The function's own `end` closes no recorded frame.)
                if let Some((is_loop, start)) = self.frames.pop() {
                    self.loops -= is_loop as u32;
                    self.tail_frames.push(start);
                }
                return;
            }
            Operator::I32Load { .. }
            | Operator::I64Load { .. }
            | Operator::F32Load { .. }
            | Operator::F64Load { .. }
            | Operator::I32Load8S { .. }
            | Operator::I32Load8U { .. }
            | Operator::I32Load16S { .. }
            | Operator::I32Load16U { .. }
            | Operator::I64Load8S { .. }
            | Operator::I64Load8U { .. }
            | Operator::I64Load16S { .. }
            | Operator::I64Load16U { .. }
            | Operator::I64Load32S { .. }
            | Operator::I64Load32U { .. }
            | Operator::I32Store { .. }
            | Operator::I64Store { .. }
            | Operator::F32Store { .. }
            | Operator::F64Store { .. }
            | Operator::I32Store8 { .. }
            | Operator::I32Store16 { .. }
            | Operator::I64Store8 { .. }
            | Operator::I64Store16 { .. }
            | Operator::I64Store32 { .. }
            | Operator::V128Load { .. }
            | Operator::V128Store { .. }
            | Operator::V128Load8x8S { .. }
            | Operator::V128Load8x8U { .. }
            | Operator::V128Load16x4S { .. }
            | Operator::V128Load16x4U { .. }
            | Operator::V128Load32x2S { .. }
            | Operator::V128Load32x2U { .. }
            | Operator::V128Load8Splat { .. }
            | Operator::V128Load16Splat { .. }
            | Operator::V128Load32Splat { .. }
            | Operator::V128Load64Splat { .. }
            | Operator::V128Load32Zero { .. }
            | Operator::V128Load64Zero { .. }
            | Operator::V128Load8Lane { .. }
            | Operator::V128Load16Lane { .. }
            | Operator::V128Load32Lane { .. }
            | Operator::V128Load64Lane { .. }
            | Operator::V128Store8Lane { .. }
            | Operator::V128Store16Lane { .. }
            | Operator::V128Store32Lane { .. }
            | Operator::V128Store64Lane { .. } => {
                self.memory_weight = self.memory_weight.saturating_add(10u32.pow(self.loops.min(3)));
                return;
            }
            Operator::LocalGet { local_index } => (local_index, false),
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => (local_index, true),
            _ => return,
        };
        let i = index as usize;
        if i >= self.weight.len() {
            if i > 100_000 {
                return;
            }
            self.weight.resize(i + 1, 0);
            self.written.resize(i + 1, false);
            self.last_read.resize(i + 1, 0);
        }
        self.weight[i] = self.weight[i].saturating_add(10u32.pow(self.loops.min(3)));
        self.written[i] |= write;
        if !write {
            self.last_read[i] = offset;
        }
    }
}

impl<'a, M: MacroAssembler> FuncCompiler<'a, M> {
    /// Gives the most used locals a register of their own for the whole function. Locals
    /// used fewer than twice stay in the frame.
    ///
    /// Also sizes the value-stack slots for v128 when the body has SIMD operators.
    /// (Without SIMD support in the ISA the first SIMD operator reports the error.)
    pub fn pin_locals(&mut self, usage: &LocalUsage) {
        self.simd_ops = usage.simd;
        self.calls_in_loop = usage.calls_in_loop;
        self.tail_frames.clone_from(&usage.tail_frames);
        self.calls_funcrefs = usage.call_indirect || usage.lowest_callee < self.env.info.num_imported_funcs;
        if usage.simd && self.slot_stride < 16 {
            let _ = self.enable_v128();
        }
        let mut hot: Vec<(u32, usize)> = (0..self.locals.len())
            .filter_map(|i| usage.weight.get(i).map(|w| (*w, i)))
            .filter(|(w, _)| *w >= 2)
            .collect();
        hot.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut taken = [0usize; 2];
        for (_, i) in hot {
            let class = class_of(self.locals[i].ty);
            let candidates = self.masm.local_regs(class);
            let k = class as usize;
            if let Some(&hw) = candidates.get(taken[k]) {
                taken[k] += 1;
                let reg = Reg { class, hw };
                self.regs.pin(reg);
                self.locals[i].reg = Some(reg);
                self.pinned_locals.push(i as u32);
                self.locals[i].written = usage.written.get(i).copied().unwrap_or(false);
                self.locals[i].last_read = usage.last_read.get(i).copied().unwrap_or(0);
            }
        }
        // Saved and reloaded in index order.
        self.pinned_locals.sort_unstable();
    }

    /// Keeps memory 0's `VMMemoryDef` pointer and base address in registers for the whole
    /// function when it accesses memory often (the base never moves; the length is still
    /// read at each bounds check).
    pub fn pin_memory(&mut self, usage: &LocalUsage) {
        if self.env.info.memories.is_empty() || usage.memory_weight < 4 {
            return;
        }
        if let Some((def, base)) = self.masm.memory_regs() {
            let (def, base) = (Reg::int(def), Reg::int(base));
            self.regs.pin(def);
            self.regs.pin(base);
            self.memory_regs = Some((def, base));
        }
    }

    /// Whether pinned local `i` may be read after the call being compiled (it is then
    /// reloaded after the call, so its home must be current before).
    fn read_after_call(&self, i: u32) -> bool {
        // Reads that can follow this point: those after it, and, inside loops, those from the
        // outermost enclosing loop's header on (back edges only reach enclosing loops).
        let live_from = self.outer_loop.map_or(self.offset, |(_, start)| start);
        self.stack.refers_to_local(i) || self.locals[i as usize].last_read >= live_from
    }

    /// Before a call: pinned locals whose home may be out of date and that are reloaded
    /// after it (`read_after_call`) go back to their frame homes.
    pub(crate) fn save_pinned_locals(&mut self) {
        // At the body's top level this point dominates the rest of the body.
        let dominates_rest = self.control.len() == 1;
        for k in 0..self.pinned_locals.len() {
            let i = self.pinned_locals[k];
            let l = self.locals[i as usize];
            if let (Some(reg), true) = (l.reg, l.written || l.home_stale) {
                if !self.read_after_call(i) {
                    continue;
                }
                let (ty, addr) = (l.ty, Addr::Frame(l.offset));
                self.store_typed(ty, addr, reg);
                if dominates_rest {
                    self.locals[i as usize].home_stale = false;
                }
            }
        }
    }

    /// After a call (which clobbers every register): pinned locals that may still be read
    /// and the memory registers are reloaded.
    pub(crate) fn reload_pinned_locals(&mut self) {
        self.reload_pinned(|fc, i| fc.read_after_call(i));
    }

    /// Loads the pinned locals that `wanted` accepts from their frame homes, then the memory
    /// registers.
    pub(super) fn reload_pinned(&mut self, wanted: impl Fn(&Self, u32) -> bool) {
        for k in 0..self.pinned_locals.len() {
            let i = self.pinned_locals[k];
            let l = self.locals[i as usize];
            if let (Some(reg), true) = (l.reg, wanted(self, i)) {
                let (ty, addr) = (l.ty, Addr::Frame(l.offset));
                self.load_typed(ty, reg, addr);
            }
        }
        if let Some((def, base)) = self.memory_regs {
            self.masm.load(LoadKind::I64, def, Addr::Vmctx(VMCTX_MEMORY_OFFSET));
            self.masm.load(LoadKind::I64, base, Addr::Base(def, MEMORY_BASE_OFFSET));
        }
    }

    pub(super) fn visit_local_set(&mut self, index: u32, tee: bool) {
        self.materialize_local(index);
        let slot = self.stack.pop();
        let depth = self.stack.len();
        let ty = self.locals[index as usize].ty;
        match self.local_reg(index) {
            Some(home) => match slot.loc {
                Loc::Reg(r) => {
                    self.masm.mov(home, r);
                    self.free(r);
                }
                loc => self.load_slot_into(Slot { ty, loc }, depth, home),
            },
            None => {
                let addr = self.local_addr(index);
                self.write_value(slot, depth, addr, false);
                if let Loc::Reg(r) = slot.loc {
                    if !tee {
                        self.free(r);
                    }
                }
            }
        }
        if tee {
            match slot.loc {
                Loc::Const(_) => self.stack.push(ty, slot.loc),
                Loc::Reg(_) if self.local_reg(index).is_none() => self.stack.push(ty, slot.loc),
                _ => self.stack.push(ty, Loc::Local(index)),
            }
        }
    }
}
