//! Numeric, conversion and memory operators of the frontend.

use wasmparser::{MemArg, Operator};

use crate::compiler::frontend::{addr_plus, unsupported, BuiltinArg, DeferredBinop, FuncCompiler};
use crate::compiler::masm::*;
use crate::compiler::value_stack::{class_of, Loc};
use crate::error::{Result, TrapKind};
use crate::runtime::memory::PAGE_SIZE;
use crate::runtime::vmctx::{
    MEMORY_BASE_OFFSET, MEMORY_LEN_OFFSET, SEGMENT_LEN_OFFSET, TABLE_BASE_OFFSET, TABLE_LEN_OFFSET,
    VMCTX_MEMORY_OFFSET,
};
use crate::types::ValType;

/// Evaluates a foldable integer operation on constants (wrapping, like the hardware).
fn fold_alu(op: AluOp, size: Size, a: u64, b: u64) -> u64 {
    let r = match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Mul => a.wrapping_mul(b),
        AluOp::And => a & b,
        AluOp::Or => a | b,
        AluOp::Xor => a ^ b,
    };
    match size {
        Size::S32 => r as u32 as u64,
        Size::S64 => r,
    }
}

fn int_ty(size: Size) -> ValType {
    match size {
        Size::S32 => ValType::I32,
        Size::S64 => ValType::I64,
    }
}

/// Operator name for "unsupported" errors: the text-format name and its feature group where
/// known (the spec runner attributes failures by these words).
fn op_name(op: &Operator<'_>) -> String {
    let debug = format!("{op:?}");
    let name = debug.split([' ', '{', '(']).next().unwrap_or("operator");
    let simd = ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"]
        .iter()
        .any(|p| name.starts_with(p));
    if simd {
        format!("{name} (simd)")
    } else {
        name.to_string()
    }
}

impl<'a, M: MacroAssembler> FuncCompiler<'a, M> {
    fn top_loc(&self, from_top: usize) -> Loc {
        self.stack.get(self.stack.len() - 1 - from_top).loc
    }

    /// For commutative operations: brings a constant left operand to the right so that it
    /// becomes an immediate (only when the entries do not live in depth-bound slots).
    fn swap_const_left(&mut self) -> bool {
        let len = self.stack.len();
        let (lhs, rhs) = (self.stack.get(len - 2), self.stack.get(len - 1));
        if matches!(lhs.loc, Loc::Const(_)) && matches!(rhs.loc, Loc::Reg(_) | Loc::Local(_)) {
            self.stack.set_loc(len - 2, rhs.loc);
            self.stack.set_loc(len - 1, lhs.loc);
            return true;
        }
        false
    }

    /// For commutative operations: `local.get i; <computed>` (local `i` in a register) swaps
    /// so the computed register becomes the destination and the local is only read (no copy
    /// of the local first).
    pub(crate) fn swap_pinned_left(&mut self) {
        let len = self.stack.len();
        let (lhs, rhs) = (self.stack.get(len - 2), self.stack.get(len - 1));
        if let (Loc::Local(i), Loc::Reg(_)) = (lhs.loc, rhs.loc) {
            if self.is_pinned(i) {
                self.stack.set_loc(len - 2, rhs.loc);
                self.stack.set_loc(len - 1, lhs.loc);
            }
        }
    }

    fn int_binop(&mut self, size: Size, op: AluOp) {
        if let (Loc::Const(a), Loc::Const(b)) = (self.top_loc(1), self.top_loc(0)) {
            self.stack.pop();
            self.stack.pop();
            self.push_const(int_ty(size), fold_alu(op, size, a, b));
            return;
        }
        if op != AluOp::Sub {
            self.swap_const_left();
            // A spilled left operand is read from its own slot into the right one's register
            // (no load into a fresh register and copy back).
            if let (Loc::Spilled, Loc::Reg(r)) = (self.top_loc(1), self.top_loc(0)) {
                let ty = self.stack.pop().ty;
                let lhs = self.pop_operand(size);
                self.masm.alu(op, size, r, lhs);
                self.push_reg(ty, r);
                return;
            }
        }
        let rhs = self.pop_operand(size);
        if let Loc::Local(i) = self.top_loc(0) {
            if self.is_pinned(i) {
                // `local.set i (op (local.get i) x)` becomes one in-place instruction: wait
                // for the next operator to see whether it is that `local.set`.
                let ty = self.stack.pop().ty;
                self.deferred = Some(DeferredBinop { size, op, local: i, ty, rhs });
                return;
            }
        }
        let (ty, lhs) = self.pop_to_reg();
        self.masm.alu(op, size, lhs, rhs);
        self.free_operand(rhs);
        self.push_reg(ty, lhs);
    }

    /// Handles a [`DeferredBinop`] before operator `op`: in place when `op` writes the
    /// binop's own local (returns true: `op` is done), else emitted as usual.
    pub(crate) fn flush_deferred(&mut self, op: &Operator<'_>) -> bool {
        let Some(d) = self.deferred.take() else {
            return false;
        };
        let home = self.local_reg(d.local).expect("deferred binop on a pinned local");
        match *op {
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index } if local_index == d.local => {
                // Older stack entries reading the local keep its old value (as `local.set` does).
                self.materialize_local(d.local);
                self.masm.alu(d.op, d.size, home, d.rhs);
                self.free_operand(d.rhs);
                if matches!(op, Operator::LocalTee { .. }) {
                    self.stack.push(d.ty, Loc::Local(d.local));
                }
                true
            }
            _ => {
                let dst = match self.last_arg_reg(op) {
                    Some(r) if r.class == RegClass::Int && self.regs.is_free(r) => {
                        self.regs.take(r);
                        r
                    }
                    _ => self.alloc(RegClass::Int),
                };
                match (d.op, d.rhs) {
                    (AluOp::Add, Operand::Imm(k)) => self.masm.add_imm_to(d.size, dst, home, k),
                    (AluOp::Sub, Operand::Imm(k)) if k != i32::MIN => self.masm.add_imm_to(d.size, dst, home, -k),
                    _ => {
                        self.masm.mov(dst, home);
                        self.masm.alu(d.op, d.size, dst, d.rhs);
                    }
                }
                self.free_operand(d.rhs);
                self.push_reg(d.ty, dst);
                false
            }
        }
    }

    fn int_compare(&mut self, size: Size, cond: Cond) {
        let cond = if self.swap_const_left() { cond.swap() } else { cond };
        let rhs = self.pop_operand(size);
        let (_, lhs, owned) = self.pop_readonly();
        self.masm.cmp(size, lhs, rhs);
        self.free_operand(rhs);
        self.free_readonly(lhs, owned);
        self.stack.push(ValType::I32, Loc::Flags(cond));
    }

    fn int_eqz(&mut self, size: Size) {
        let (_, r, owned) = self.pop_readonly();
        self.masm.test(size, r);
        self.free_readonly(r, owned);
        self.stack.push(ValType::I32, Loc::Flags(Cond::Eq));
    }

    fn int_shift(&mut self, size: Size, op: ShiftOp) {
        let count = match self.top_loc(0) {
            Loc::Const(c) => {
                self.stack.pop();
                Operand::Imm(c as i32)
            }
            _ => match self.masm.shift_count_reg() {
                Some(fixed) => {
                    self.pop_into(fixed);
                    Operand::Reg(fixed)
                }
                None => Operand::Reg(self.pop_to_reg().1),
            },
        };
        let (ty, value) = self.pop_to_reg();
        self.masm.shift(op, size, value, count);
        self.free_operand(count);
        self.push_reg(ty, value);
    }

    fn int_divrem(&mut self, size: Size, op: DivOp) {
        let ty = int_ty(size);
        let all_ones = match size {
            Size::S32 => u32::MAX as u64,
            Size::S64 => u64::MAX,
        };
        let divisor = match self.top_loc(0) {
            Loc::Const(c) => Some(c),
            _ => None,
        };
        // Fixed registers (x64: rax/rdx) when the ISA has them, else any.
        let fixed = self.masm.div_regs();
        let (lhs, rhs) = match fixed {
            Some((quotient, remainder)) => {
                self.take_reg(quotient);
                self.take_reg(remainder);
                let (_, rhs) = self.pop_to_reg();
                self.load_top_into_owned(quotient);
                (quotient, rhs)
            }
            None => {
                let (_, rhs) = self.pop_to_reg();
                let (_, lhs) = self.pop_to_reg();
                (lhs, rhs)
            }
        };
        let is_rem = matches!(op, DivOp::RemS | DivOp::RemU);
        let result_reg = match fixed {
            Some((quotient, remainder)) => {
                if is_rem {
                    remainder
                } else {
                    quotient
                }
            }
            None => lhs,
        };
        // Allocated up front: nothing may spill inside conditionally executed code.
        let min_reg =
            (op == DivOp::DivS && divisor.is_none_or(|d| d == all_ones)).then(|| self.alloc(RegClass::Int));
        if divisor.is_none_or(|d| d == 0) {
            let zero = self.trap(TrapKind::IntegerDivideByZero);
            self.masm.test(size, rhs);
            self.masm.branch(Cond::Eq, false, zero);
        }
        let may_be_minus_one = divisor.is_none_or(|d| d == all_ones);
        let result = match op {
            DivOp::DivS if may_be_minus_one => {
                let overflow = self.trap(TrapKind::IntegerOverflow);
                let ok = self.masm.new_label();
                let min_reg = min_reg.expect("allocated above");
                self.masm.cmp(size, rhs, Operand::Imm(-1));
                self.masm.branch(Cond::Ne, false, ok);
                let min = match size {
                    Size::S32 => i32::MIN as u32 as u64,
                    Size::S64 => i64::MIN as u64,
                };
                self.masm.load_const(min_reg, min, size == Size::S64);
                self.masm.cmp(size, lhs, Operand::Reg(min_reg));
                self.masm.branch(Cond::Eq, false, overflow);
                self.masm.bind(ok);
                self.masm.div(op, size, lhs, rhs)
            }
            DivOp::RemS if may_be_minus_one => {
                // x rem -1 = 0, and must not fault on INT_MIN.
                let divide = self.masm.new_label();
                let done = self.masm.new_label();
                self.masm.cmp(size, rhs, Operand::Imm(-1));
                self.masm.branch(Cond::Ne, false, divide);
                self.masm.load_const(result_reg, 0, false);
                self.masm.jmp(done);
                self.masm.bind(divide);
                let r = self.masm.div(op, size, lhs, rhs);
                self.masm.bind(done);
                r
            }
            _ => self.masm.div(op, size, lhs, rhs),
        };
        if let Some(r) = min_reg {
            self.free(r);
        }
        debug_assert_eq!(result, result_reg);
        self.free(rhs);
        if let Some((quotient, remainder)) = fixed {
            self.free(if is_rem { quotient } else { remainder });
        }
        self.push_reg(ty, result);
    }

    /// Loads the top entry into `reg`, which the caller already owns.
    pub(crate) fn load_top_into_owned(&mut self, reg: Reg) {
        let slot = self.stack.pop();
        let depth = self.stack.len();
        self.load_slot_into(slot, depth, reg);
    }

    fn int_unop_in_place(&mut self, result: ValType, f: impl FnOnce(&mut M, Reg)) {
        let (_, r) = self.pop_to_reg();
        f(self.masm, r);
        self.push_reg(result, r);
    }

    fn extend(&mut self, kind: ExtendKind, result: ValType) {
        if let Loc::Const(c) = self.top_loc(0) {
            self.stack.pop();
            let v = match kind {
                ExtendKind::I32From8S => c as i8 as i32 as u32 as u64,
                ExtendKind::I32From16S => c as i16 as i32 as u32 as u64,
                ExtendKind::I64From8S => c as i8 as i64 as u64,
                ExtendKind::I64From16S => c as i16 as i64 as u64,
                ExtendKind::I64From32S => c as i32 as i64 as u64,
                ExtendKind::ZeroUpper32 => c as u32 as u64,
            };
            self.push_const(result, v);
            return;
        }
        self.int_unop_in_place(result, |m, r| m.extend(kind, r, r));
    }

    /// Re-types the top entry without code when its location allows it (little-endian
    /// slots: the low 4 bytes of an i64 are its wrap).
    fn retype_top(&mut self, ty: ValType) -> bool {
        let len = self.stack.len();
        let slot = self.stack.get(len - 1);
        match slot.loc {
            Loc::Local(i) if self.is_pinned(i) => false,
            Loc::Local(_) | Loc::Spilled | Loc::Const(_) => {
                self.stack.pop();
                let loc = match slot.loc {
                    Loc::Const(c) if ty == ValType::I32 || ty == ValType::F32 => Loc::Const(c as u32 as u64),
                    l => l,
                };
                self.stack.push(ty, loc);
                true
            }
            _ => false,
        }
    }

    fn reinterpret(&mut self, to: ValType) {
        if self.retype_top(to) {
            return;
        }
        let (from, src) = self.pop_to_reg();
        let dst = self.alloc(class_of(to));
        let wide = matches!(from, ValType::I64 | ValType::F64);
        self.masm.bitcast(dst, src, wide);
        self.free(src);
        self.push_reg(to, dst);
    }

    fn float_binop(&mut self, size: FSize, op: FloatOp) {
        if matches!(op, FloatOp::Add | FloatOp::Mul) {
            self.swap_pinned_left();
        }
        let (_, rhs, owned) = self.pop_readonly();
        let (ty, lhs) = self.pop_to_reg();
        self.masm.fop(op, size, lhs, rhs);
        self.free_readonly(rhs, owned);
        self.push_reg(ty, lhs);
    }

    fn float_compare(&mut self, size: FSize, cond: Cond) {
        let (_, rhs, rhs_owned) = self.pop_readonly();
        let (_, lhs, lhs_owned) = self.pop_readonly();
        self.masm.fcmp(cond, size, lhs, rhs);
        self.free_readonly(rhs, rhs_owned);
        self.free_readonly(lhs, lhs_owned);
        self.stack.push(ValType::I32, Loc::Flags(cond));
    }

    fn float_unop(&mut self, result: ValType, f: impl FnOnce(&mut M, Reg)) {
        let (_, r) = self.pop_to_reg();
        f(self.masm, r);
        self.push_reg(result, r);
    }

    pub(crate) fn visit_select(&mut self) -> Result<()> {
        let cond_slot = self.stack.pop();
        let mut cond_reg = None;
        let cond = match cond_slot.loc {
            Loc::Flags(c) => c,
            Loc::Const(c) => {
                // Statically known: keep one operand.
                let b = self.stack.pop();
                let b_depth = self.stack.len();
                if c as u32 != 0 {
                    if let Loc::Reg(r) = b.loc {
                        self.free(r);
                    }
                } else {
                    let a_depth = b_depth - 1;
                    self.truncate_stack(a_depth);
                    if b.loc == Loc::Spilled {
                        let (dst, src) = (self.slot_addr(a_depth), self.slot_addr(b_depth));
                        self.masm.copy_slot(dst, src);
                        if b.ty == ValType::V128 {
                            self.masm.copy_slot(addr_plus(dst, 8), addr_plus(src, 8));
                        }
                    }
                    self.stack.push(b.ty, b.loc);
                }
                return Ok(());
            }
            _ => {
                self.stack.push(cond_slot.ty, cond_slot.loc);
                let (_, r) = self.pop_to_reg();
                cond_reg = Some(r);
                Cond::Ne
            }
        };
        let (ty, other) = self.pop_to_reg();
        let (_, dst) = self.pop_to_reg();
        if let Some(r) = cond_reg {
            self.masm.test(Size::S32, r);
            self.free(r);
        }
        let size = if matches!(ty, ValType::I32 | ValType::F32) {
            Size::S32
        } else {
            Size::S64
        };
        self.masm.select(cond, size, dst, other);
        self.free(other);
        self.push_reg(ty, dst);
        Ok(())
    }

    // ------------------------------------------------------------------ memory

    /// Bounds-checks an access of `size` bytes at `index + offset` (index popped from the
    /// stack) and returns its address plus the registers the caller owns (and frees) after
    /// the access.
    pub(crate) fn heap_address(&mut self, offset: u64, size: u32) -> (Addr, [Option<Reg>; 2]) {
        let end_offset = offset + size as u64;
        let oob = self.trap(TrapKind::MemoryOutOfBounds);
        let min_bytes = self.env.info.memories.first().map_or(0, |m| m.min as u64 * PAGE_SIZE);
        // The memory definition: pinned for the function, or loaded now (then owned).
        let (def, owned_def) = match self.memory_regs {
            Some((def, _)) => (def, None),
            None => {
                let def = self.alloc(RegClass::Int);
                self.masm.load(LoadKind::I64, def, Addr::Vmctx(VMCTX_MEMORY_OFFSET));
                (def, Some(def))
            }
        };
        // Where the base ends up: the pinned base, or the definition register reused.
        let base_after_check = |this: &mut Self| match this.memory_regs {
            Some((_, base)) => base,
            None => {
                this.masm.load(LoadKind::I64, def, Addr::Base(def, MEMORY_BASE_OFFSET));
                def
            }
        };
        if let Loc::Const(c) = self.top_loc(0) {
            self.stack.pop();
            let start = c as u32 as u64 + offset;
            let end = start + size as u64;
            // Memories never shrink: an access inside the minimum size needs no check.
            if end > min_bytes {
                let tmp = self.alloc(RegClass::Int);
                self.masm.load_const(tmp, end, true);
                self.masm.cmp(Size::S64, tmp, Operand::Mem(Addr::Base(def, MEMORY_LEN_OFFSET)));
                self.masm.branch(Cond::GtU, false, oob);
                self.free(tmp);
            }
            let base = base_after_check(self);
            if start <= i32::MAX as u64 {
                return (Addr::Base(base, start as i32), [owned_def, None]);
            }
            let tmp = self.alloc(RegClass::Int);
            self.masm.load_const(tmp, start, true);
            return (Addr::Indexed(base, tmp, 0), [owned_def, Some(tmp)]);
        }
        // i32 registers are zero-extended, so `index + end_offset` cannot wrap in 64 bits.
        let (_, source, owned) = self.pop_readonly();
        let index = if owned { source } else { self.alloc(RegClass::Int) };
        self.masm.add_imm64(index, source, end_offset);
        self.masm.cmp(Size::S64, index, Operand::Mem(Addr::Base(def, MEMORY_LEN_OFFSET)));
        self.masm.branch(Cond::GtU, false, oob);
        let base = base_after_check(self);
        (Addr::Indexed(base, index, -(size as i32)), [owned_def, Some(index)])
    }

    fn visit_load(&mut self, memarg: &MemArg, kind: LoadKind, ty: ValType, size: u32) -> Result<()> {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) {
            return Err(unsupported("multiple memories", self.offset));
        }
        let (addr, owned) = self.heap_address(memarg.offset, size);
        // An integer result reuses a register of the address computation.
        let dst = match owned.iter().flatten().next() {
            Some(&r) if class_of(ty) == RegClass::Int => r,
            _ => self.alloc(class_of(ty)),
        };
        self.masm.load(kind, dst, addr);
        for r in owned.into_iter().flatten().filter(|r| *r != dst) {
            self.free(r);
        }
        self.push_reg(ty, dst);
        Ok(())
    }

    fn visit_store(&mut self, memarg: &MemArg, kind: StoreKind, size: u32) -> Result<()> {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) {
            return Err(unsupported("multiple memories", self.offset));
        }
        let imm = match self.top_loc(0) {
            Loc::Const(c) => match kind {
                StoreKind::I64 | StoreKind::F64 => (c as i64 == c as i32 as i64).then_some(c as i32),
                _ => Some(c as i32),
            },
            _ => None,
        };
        let value = match imm {
            Some(_) => {
                self.stack.pop();
                None
            }
            None => Some(self.pop_to_reg().1),
        };
        let (addr, owned) = self.heap_address(memarg.offset, size);
        match (value, imm) {
            (Some(v), _) => self.masm.store(kind, addr, v),
            (None, Some(i)) => self.masm.store_imm(kind, addr, i),
            (None, None) => unreachable!(),
        }
        for r in owned.into_iter().chain([value]).flatten() {
            self.free(r);
        }
        Ok(())
    }

    fn visit_memory_size(&mut self) {
        let r = self.alloc(RegClass::Int);
        self.masm.load(LoadKind::I64, r, Addr::Vmctx(VMCTX_MEMORY_OFFSET));
        self.masm.load(LoadKind::I64, r, Addr::Base(r, MEMORY_LEN_OFFSET));
        self.masm.shift(ShiftOp::ShrU, Size::S64, r, Operand::Imm(16));
        self.push_reg(ValType::I32, r);
    }

    fn visit_memory_grow(&mut self) {
        let result = self.call_builtin(Builtin::MemoryGrow, 1, &[]);
        self.push_reg(ValType::I32, result);
    }

    fn visit_table_grow(&mut self, table: u32) {
        let result = self.call_builtin(Builtin::TableGrow, 2, &[self.env.offsets.table(table)]);
        self.push_reg(ValType::I32, result);
    }

    /// `table.fill` / `table.copy`: the builtin returns 0 or a trap code.
    fn visit_table_bulk(&mut self, builtin: Builtin, tables: &[u32]) {
        let words: Vec<i32> = tables.iter().map(|t| self.env.offsets.table(*t)).collect();
        let result = self.call_builtin(builtin, 3, &words);
        self.trap_on_builtin_result(result);
    }

    /// Tests a builtin's result register and traps with its code when it is non-zero.
    fn trap_on_builtin_result(&mut self, result: Reg) {
        let trap = self.dynamic_trap();
        self.masm.test(Size::S32, result);
        self.masm.branch(Cond::Ne, false, trap);
        self.free(result);
    }

    /// `memory.init`: the builtin checks both ranges before copying (a dropped segment has
    /// length 0) and returns 0 or a trap code.
    fn visit_memory_init(&mut self, data_index: u32) {
        let seg = BuiltinArg::VmctxAddress(self.env.offsets.data_segment(data_index));
        let result = self.call_builtin_with(Builtin::MemoryInit, 3, &[seg]);
        self.trap_on_builtin_result(result);
    }

    /// `table.init`: like `memory.init`, on the table's element words.
    fn visit_table_init(&mut self, elem_index: u32, table: u32) {
        let extra = [
            BuiltinArg::VmctxWord(self.env.offsets.table(table)),
            BuiltinArg::VmctxAddress(self.env.offsets.elem_segment(elem_index)),
        ];
        let result = self.call_builtin_with(Builtin::TableInit, 3, &extra);
        self.trap_on_builtin_result(result);
    }

    /// `data.drop` / `elem.drop`: the segment's length becomes 0 (its storage stays with the
    /// module or instance, so nothing needs freeing while code may still run).
    fn visit_segment_drop(&mut self, descriptor: i32) {
        self.masm
            .store_imm(StoreKind::I64, Addr::Vmctx(descriptor + SEGMENT_LEN_OFFSET), 0);
    }

    /// `memory.copy` (`fill = false`) and `memory.fill` on memory 0: both ranges are checked
    /// before any byte is written (a zero-length access past the end still traps).
    fn visit_memory_bulk(&mut self, fill: bool) {
        let (dst, src, count) = match self.masm.bulk_regs(fill) {
            Some((dst, src, count)) => {
                self.take_reg(dst);
                self.take_reg(src);
                self.take_reg(count);
                self.load_top_into_owned(count);
                self.load_top_into_owned(src);
                self.load_top_into_owned(dst);
                (dst, src, count)
            }
            None => {
                let (_, count) = self.pop_to_reg();
                let (_, src) = self.pop_to_reg();
                let (_, dst) = self.pop_to_reg();
                (dst, src, count)
            }
        };
        let oob = self.trap(TrapKind::MemoryOutOfBounds);
        let def = self.alloc(RegClass::Int);
        let end = self.alloc(RegClass::Int);
        self.masm
            .load(LoadKind::I64, def, Addr::Vmctx(VMCTX_MEMORY_OFFSET));
        // Offsets and count are zero-extended i32s: their 64-bit sum cannot wrap.
        let ranges: &[Reg] = if fill { &[dst] } else { &[dst, src] };
        for &start in ranges {
            self.masm.mov(end, start);
            self.masm.alu(AluOp::Add, Size::S64, end, Operand::Reg(count));
            self.masm
                .cmp(Size::S64, end, Operand::Mem(Addr::Base(def, MEMORY_LEN_OFFSET)));
            self.masm.branch(Cond::GtU, false, oob);
        }
        self.masm
            .load(LoadKind::I64, def, Addr::Base(def, MEMORY_BASE_OFFSET));
        for &start in ranges {
            self.masm.alu(AluOp::Add, Size::S64, start, Operand::Reg(def));
        }
        if fill {
            self.masm.fill_bytes(dst, src, count);
        } else {
            self.masm.copy_bytes(dst, src, count);
        }
        for r in [dst, src, count, def, end] {
            self.free(r);
        }
    }

    // ------------------------------------------------------------------ references, tables

    /// Bounds-checks the index on top of the stack against table `table` and returns
    /// `(element address, registers to free)`.
    fn table_element(&mut self, table: u32) -> (Addr, [Reg; 2]) {
        let (_, index) = self.pop_to_reg();
        let def = self.alloc(RegClass::Int);
        let oob = self.trap(TrapKind::TableOutOfBounds);
        self.masm
            .load(LoadKind::I64, def, Addr::Vmctx(self.env.offsets.table(table)));
        self.masm
            .cmp(Size::S64, index, Operand::Mem(Addr::Base(def, TABLE_LEN_OFFSET)));
        self.masm.branch(Cond::GeU, false, oob);
        self.masm
            .load(LoadKind::I64, def, Addr::Base(def, TABLE_BASE_OFFSET));
        self.masm.shift(ShiftOp::Shl, Size::S64, index, Operand::Imm(3));
        (Addr::Indexed(def, index, 0), [def, index])
    }

    fn visit_table_get(&mut self, table: u32) {
        let ty = self.env.info.tables[table as usize].element;
        let (addr, [def, index]) = self.table_element(table);
        self.masm.load(LoadKind::I64, index, addr);
        self.free(def);
        self.push_reg(ty, index);
    }

    fn visit_table_set(&mut self, table: u32) {
        let (_, value) = self.pop_to_reg();
        let (addr, regs) = self.table_element(table);
        self.masm.store(StoreKind::I64, addr, value);
        for r in regs.into_iter().chain([value]) {
            self.free(r);
        }
    }

    fn visit_table_size(&mut self, table: u32) {
        let r = self.alloc(RegClass::Int);
        self.masm
            .load(LoadKind::I64, r, Addr::Vmctx(self.env.offsets.table(table)));
        // Table lengths fit in 32 bits: the low half of the little-endian u64.
        self.masm.load(LoadKind::I32, r, Addr::Base(r, TABLE_LEN_OFFSET));
        self.push_reg(ValType::I32, r);
    }

    /// A funcref value is a `*const VMFuncRef`; `ref.func` refers to the function's entry in
    /// this instance's vmctx.
    fn visit_ref_func(&mut self, function_index: u32) {
        let r = self.alloc(RegClass::Int);
        self.masm
            .address_of(r, Addr::Vmctx(self.env.offsets.func(function_index)));
        self.push_reg(ValType::FuncRef, r);
    }

    // ------------------------------------------------------------------ dispatch

    pub(crate) fn visit_numeric_or_memory(&mut self, op: &Operator<'_>) -> Result<()> {
        use Operator::*;
        use Size::{S32, S64};
        use ValType as T;
        match op {
            I32Eqz => self.int_eqz(S32),
            I64Eqz => self.int_eqz(S64),
            I32Eq => self.int_compare(S32, Cond::Eq),
            I32Ne => self.int_compare(S32, Cond::Ne),
            I32LtS => self.int_compare(S32, Cond::LtS),
            I32LtU => self.int_compare(S32, Cond::LtU),
            I32GtS => self.int_compare(S32, Cond::GtS),
            I32GtU => self.int_compare(S32, Cond::GtU),
            I32LeS => self.int_compare(S32, Cond::LeS),
            I32LeU => self.int_compare(S32, Cond::LeU),
            I32GeS => self.int_compare(S32, Cond::GeS),
            I32GeU => self.int_compare(S32, Cond::GeU),
            I64Eq => self.int_compare(S64, Cond::Eq),
            I64Ne => self.int_compare(S64, Cond::Ne),
            I64LtS => self.int_compare(S64, Cond::LtS),
            I64LtU => self.int_compare(S64, Cond::LtU),
            I64GtS => self.int_compare(S64, Cond::GtS),
            I64GtU => self.int_compare(S64, Cond::GtU),
            I64LeS => self.int_compare(S64, Cond::LeS),
            I64LeU => self.int_compare(S64, Cond::LeU),
            I64GeS => self.int_compare(S64, Cond::GeS),
            I64GeU => self.int_compare(S64, Cond::GeU),

            I32Add => self.int_binop(S32, AluOp::Add),
            I32Sub => self.int_binop(S32, AluOp::Sub),
            I32Mul => self.int_binop(S32, AluOp::Mul),
            I32And => self.int_binop(S32, AluOp::And),
            I32Or => self.int_binop(S32, AluOp::Or),
            I32Xor => self.int_binop(S32, AluOp::Xor),
            I64Add => self.int_binop(S64, AluOp::Add),
            I64Sub => self.int_binop(S64, AluOp::Sub),
            I64Mul => self.int_binop(S64, AluOp::Mul),
            I64And => self.int_binop(S64, AluOp::And),
            I64Or => self.int_binop(S64, AluOp::Or),
            I64Xor => self.int_binop(S64, AluOp::Xor),

            I32Shl => self.int_shift(S32, ShiftOp::Shl),
            I32ShrS => self.int_shift(S32, ShiftOp::ShrS),
            I32ShrU => self.int_shift(S32, ShiftOp::ShrU),
            I32Rotl => self.int_shift(S32, ShiftOp::Rotl),
            I32Rotr => self.int_shift(S32, ShiftOp::Rotr),
            I64Shl => self.int_shift(S64, ShiftOp::Shl),
            I64ShrS => self.int_shift(S64, ShiftOp::ShrS),
            I64ShrU => self.int_shift(S64, ShiftOp::ShrU),
            I64Rotl => self.int_shift(S64, ShiftOp::Rotl),
            I64Rotr => self.int_shift(S64, ShiftOp::Rotr),

            I32DivS => self.int_divrem(S32, DivOp::DivS),
            I32DivU => self.int_divrem(S32, DivOp::DivU),
            I32RemS => self.int_divrem(S32, DivOp::RemS),
            I32RemU => self.int_divrem(S32, DivOp::RemU),
            I64DivS => self.int_divrem(S64, DivOp::DivS),
            I64DivU => self.int_divrem(S64, DivOp::DivU),
            I64RemS => self.int_divrem(S64, DivOp::RemS),
            I64RemU => self.int_divrem(S64, DivOp::RemU),

            I32Clz => self.int_unop_in_place(T::I32, |m, r| m.bit_count(BitCountOp::Clz, S32, r, r)),
            I32Ctz => self.int_unop_in_place(T::I32, |m, r| m.bit_count(BitCountOp::Ctz, S32, r, r)),
            I32Popcnt => self.int_unop_in_place(T::I32, |m, r| m.bit_count(BitCountOp::Popcnt, S32, r, r)),
            I64Clz => self.int_unop_in_place(T::I64, |m, r| m.bit_count(BitCountOp::Clz, S64, r, r)),
            I64Ctz => self.int_unop_in_place(T::I64, |m, r| m.bit_count(BitCountOp::Ctz, S64, r, r)),
            I64Popcnt => self.int_unop_in_place(T::I64, |m, r| m.bit_count(BitCountOp::Popcnt, S64, r, r)),

            I32Extend8S => self.extend(ExtendKind::I32From8S, T::I32),
            I32Extend16S => self.extend(ExtendKind::I32From16S, T::I32),
            I64Extend8S => self.extend(ExtendKind::I64From8S, T::I64),
            I64Extend16S => self.extend(ExtendKind::I64From16S, T::I64),
            I64Extend32S | I64ExtendI32S => self.extend(ExtendKind::I64From32S, T::I64),
            I64ExtendI32U => {
                // i32 values are kept zero-extended wherever they live.
                let (_, r) = match self.top_loc(0) {
                    Loc::Const(c) => {
                        self.stack.pop();
                        self.push_const(T::I64, c as u32 as u64);
                        return Ok(());
                    }
                    _ => self.pop_to_reg(),
                };
                self.push_reg(T::I64, r);
            }
            I32WrapI64 => {
                if !self.retype_top(T::I32) {
                    self.extend(ExtendKind::ZeroUpper32, T::I32);
                }
            }

            F32Add => self.float_binop(FSize::F32, FloatOp::Add),
            F32Sub => self.float_binop(FSize::F32, FloatOp::Sub),
            F32Mul => self.float_binop(FSize::F32, FloatOp::Mul),
            F32Div => self.float_binop(FSize::F32, FloatOp::Div),
            F64Add => self.float_binop(FSize::F64, FloatOp::Add),
            F64Sub => self.float_binop(FSize::F64, FloatOp::Sub),
            F64Mul => self.float_binop(FSize::F64, FloatOp::Mul),
            F64Div => self.float_binop(FSize::F64, FloatOp::Div),
            F32Sqrt => self.float_unop(T::F32, |m, r| m.fsqrt(FSize::F32, r, r)),
            F64Sqrt => self.float_unop(T::F64, |m, r| m.fsqrt(FSize::F64, r, r)),
            F32Eq => self.float_compare(FSize::F32, Cond::FEq),
            F32Ne => self.float_compare(FSize::F32, Cond::FNe),
            F32Lt => self.float_compare(FSize::F32, Cond::FLt),
            F32Gt => self.float_compare(FSize::F32, Cond::FGt),
            F32Le => self.float_compare(FSize::F32, Cond::FLe),
            F32Ge => self.float_compare(FSize::F32, Cond::FGe),
            F64Eq => self.float_compare(FSize::F64, Cond::FEq),
            F64Ne => self.float_compare(FSize::F64, Cond::FNe),
            F64Lt => self.float_compare(FSize::F64, Cond::FLt),
            F64Gt => self.float_compare(FSize::F64, Cond::FGt),
            F64Le => self.float_compare(FSize::F64, Cond::FLe),
            F64Ge => self.float_compare(FSize::F64, Cond::FGe),
            F64PromoteF32 => self.float_unop(T::F64, |m, r| m.promote(r, r)),
            F32DemoteF64 => self.float_unop(T::F32, |m, r| m.demote(r, r)),
            I32ReinterpretF32 => self.reinterpret(T::I32),
            I64ReinterpretF64 => self.reinterpret(T::I64),
            F32ReinterpretI32 => self.reinterpret(T::F32),
            F64ReinterpretI64 => self.reinterpret(T::F64),

            I32Load { memarg } => self.visit_load(memarg, LoadKind::I32, T::I32, 4)?,
            I64Load { memarg } => self.visit_load(memarg, LoadKind::I64, T::I64, 8)?,
            F32Load { memarg } => self.visit_load(memarg, LoadKind::F32, T::F32, 4)?,
            F64Load { memarg } => self.visit_load(memarg, LoadKind::F64, T::F64, 8)?,
            I32Load8S { memarg } => self.visit_load(memarg, narrow(8, true, false), T::I32, 1)?,
            I32Load8U { memarg } => self.visit_load(memarg, narrow(8, false, false), T::I32, 1)?,
            I32Load16S { memarg } => self.visit_load(memarg, narrow(16, true, false), T::I32, 2)?,
            I32Load16U { memarg } => self.visit_load(memarg, narrow(16, false, false), T::I32, 2)?,
            I64Load8S { memarg } => self.visit_load(memarg, narrow(8, true, true), T::I64, 1)?,
            I64Load8U { memarg } => self.visit_load(memarg, narrow(8, false, true), T::I64, 1)?,
            I64Load16S { memarg } => self.visit_load(memarg, narrow(16, true, true), T::I64, 2)?,
            I64Load16U { memarg } => self.visit_load(memarg, narrow(16, false, true), T::I64, 2)?,
            I64Load32S { memarg } => self.visit_load(memarg, narrow(32, true, true), T::I64, 4)?,
            I64Load32U { memarg } => self.visit_load(memarg, narrow(32, false, true), T::I64, 4)?,
            I32Store { memarg } => self.visit_store(memarg, StoreKind::I32, 4)?,
            I64Store { memarg } => self.visit_store(memarg, StoreKind::I64, 8)?,
            F32Store { memarg } => self.visit_store(memarg, StoreKind::F32, 4)?,
            F64Store { memarg } => self.visit_store(memarg, StoreKind::F64, 8)?,
            I32Store8 { memarg } | I64Store8 { memarg } => self.visit_store(memarg, StoreKind::I8, 1)?,
            I32Store16 { memarg } | I64Store16 { memarg } => self.visit_store(memarg, StoreKind::I16, 2)?,
            I64Store32 { memarg } => self.visit_store(memarg, StoreKind::I32, 4)?,
            MemorySize { mem: 0 } => self.visit_memory_size(),
            MemoryGrow { mem: 0 } => self.visit_memory_grow(),
            RefNull { hty } => {
                let ty = match hty {
                    wasmparser::HeapType::Abstract {
                        ty: wasmparser::AbstractHeapType::Extern,
                        ..
                    } => T::ExternRef,
                    _ => T::FuncRef,
                };
                self.push_const(ty, 0);
            }
            RefIsNull => self.int_eqz(S64),
            RefFunc { function_index } => self.visit_ref_func(*function_index),
            TableGet { table } => self.visit_table_get(*table),
            TableSet { table } => self.visit_table_set(*table),
            TableSize { table } => self.visit_table_size(*table),
            TableGrow { table } => self.visit_table_grow(*table),
            TableFill { table } => self.visit_table_bulk(Builtin::TableFill, &[*table]),
            TableCopy { dst_table, src_table } => {
                self.visit_table_bulk(Builtin::TableCopy, &[*dst_table, *src_table])
            }
            MemoryCopy {
                dst_mem: 0,
                src_mem: 0,
            } => self.visit_memory_bulk(false),
            MemoryFill { mem: 0 } => self.visit_memory_bulk(true),
            MemoryInit { data_index, mem: 0 } => self.visit_memory_init(*data_index),
            DataDrop { data_index } => self.visit_segment_drop(self.env.offsets.data_segment(*data_index)),
            TableInit { elem_index, table } => self.visit_table_init(*elem_index, *table),
            ElemDrop { elem_index } => self.visit_segment_drop(self.env.offsets.elem_segment(*elem_index)),

            _ => {
                return self
                    .visit_float_library_op(op)
                    .unwrap_or_else(|| Err(unsupported(&op_name(op), self.offset)))
            }
        }
        Ok(())
    }

    /// Sign-bit operations: folded on constants.
    fn float_sign_op(&mut self, size: FSize, neg: bool) {
        let sign = match size {
            FSize::F32 => 1u64 << 31,
            FSize::F64 => 1u64 << 63,
        };
        if let Loc::Const(bits) = self.top_loc(0) {
            let ty = self.stack.pop().ty;
            self.push_const(ty, if neg { bits ^ sign } else { bits & !sign });
            return;
        }
        let (ty, r) = self.pop_to_reg();
        if neg {
            self.masm.fneg(size, r);
        } else {
            self.masm.fabs(size, r);
        }
        self.push_reg(ty, r);
    }

    fn float_binop_with(&mut self, f: impl FnOnce(&mut M, Reg, Reg)) {
        let (_, rhs) = self.pop_to_reg();
        let (ty, lhs) = self.pop_to_reg();
        f(self.masm, lhs, rhs);
        self.free(rhs);
        self.push_reg(ty, lhs);
    }

    fn trunc(&mut self, from: FSize, to: Size, signed: bool, saturating: bool) {
        let (_, src) = self.pop_to_reg();
        let dst = self.alloc(RegClass::Int);
        let traps = (!saturating).then(|| {
            (
                self.trap(TrapKind::IntegerOverflow),
                self.trap(TrapKind::InvalidConversion),
            )
        });
        self.masm.trunc_to_int(from, to, signed, dst, src, traps);
        self.free(src);
        self.push_reg(int_ty(to), dst);
    }

    fn convert(&mut self, from: Size, signed: bool, to: FSize) {
        let (_, src) = self.pop_to_reg();
        let dst = self.alloc(RegClass::Float);
        self.masm.convert_from_int(from, signed, to, dst, src);
        self.free(src);
        self.push_reg(
            if to == FSize::F32 {
                ValType::F32
            } else {
                ValType::F64
            },
            dst,
        );
    }

    /// Float operations with multi-instruction sequences (`isa::x64::float` on x86-64):
    /// min/max, rounding, sign manipulation, int<->float conversions.
    fn visit_float_library_op(&mut self, op: &Operator<'_>) -> Option<Result<()>> {
        use FSize::{F32, F64};
        use Operator::*;
        use Size::{S32, S64};
        match op {
            F32Abs => self.float_sign_op(F32, false),
            F64Abs => self.float_sign_op(F64, false),
            F32Neg => self.float_sign_op(F32, true),
            F64Neg => self.float_sign_op(F64, true),
            F32Copysign => self.float_binop_with(|m, d, r| m.fcopysign(F32, d, r)),
            F64Copysign => self.float_binop_with(|m, d, r| m.fcopysign(F64, d, r)),
            F32Min => self.float_binop_with(|m, d, r| m.fmin_max(true, F32, d, r)),
            F64Min => self.float_binop_with(|m, d, r| m.fmin_max(true, F64, d, r)),
            F32Max => self.float_binop_with(|m, d, r| m.fmin_max(false, F32, d, r)),
            F64Max => self.float_binop_with(|m, d, r| m.fmin_max(false, F64, d, r)),
            F32Ceil => self.float_unop(ValType::F32, |m, r| m.fround(RoundMode::Ceil, F32, r, r)),
            F64Ceil => self.float_unop(ValType::F64, |m, r| m.fround(RoundMode::Ceil, F64, r, r)),
            F32Floor => self.float_unop(ValType::F32, |m, r| m.fround(RoundMode::Floor, F32, r, r)),
            F64Floor => self.float_unop(ValType::F64, |m, r| m.fround(RoundMode::Floor, F64, r, r)),
            F32Trunc => self.float_unop(ValType::F32, |m, r| m.fround(RoundMode::Trunc, F32, r, r)),
            F64Trunc => self.float_unop(ValType::F64, |m, r| m.fround(RoundMode::Trunc, F64, r, r)),
            F32Nearest => self.float_unop(ValType::F32, |m, r| m.fround(RoundMode::Nearest, F32, r, r)),
            F64Nearest => self.float_unop(ValType::F64, |m, r| m.fround(RoundMode::Nearest, F64, r, r)),

            I32TruncF32S => self.trunc(F32, S32, true, false),
            I32TruncF32U => self.trunc(F32, S32, false, false),
            I32TruncF64S => self.trunc(F64, S32, true, false),
            I32TruncF64U => self.trunc(F64, S32, false, false),
            I64TruncF32S => self.trunc(F32, S64, true, false),
            I64TruncF32U => self.trunc(F32, S64, false, false),
            I64TruncF64S => self.trunc(F64, S64, true, false),
            I64TruncF64U => self.trunc(F64, S64, false, false),
            I32TruncSatF32S => self.trunc(F32, S32, true, true),
            I32TruncSatF32U => self.trunc(F32, S32, false, true),
            I32TruncSatF64S => self.trunc(F64, S32, true, true),
            I32TruncSatF64U => self.trunc(F64, S32, false, true),
            I64TruncSatF32S => self.trunc(F32, S64, true, true),
            I64TruncSatF32U => self.trunc(F32, S64, false, true),
            I64TruncSatF64S => self.trunc(F64, S64, true, true),
            I64TruncSatF64U => self.trunc(F64, S64, false, true),

            F32ConvertI32S => self.convert(S32, true, F32),
            F32ConvertI32U => self.convert(S32, false, F32),
            F32ConvertI64S => self.convert(S64, true, F32),
            F32ConvertI64U => self.convert(S64, false, F32),
            F64ConvertI32S => self.convert(S32, true, F64),
            F64ConvertI32U => self.convert(S32, false, F64),
            F64ConvertI64S => self.convert(S64, true, F64),
            F64ConvertI64U => self.convert(S64, false, F64),
            _ => return None,
        }
        Some(Ok(()))
    }
}

fn narrow(bits: u8, signed: bool, wide: bool) -> LoadKind {
    LoadKind::Narrow { bits, signed, wide }
}
