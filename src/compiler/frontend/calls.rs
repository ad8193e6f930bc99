//! Calls: direct, imported and indirect.
//!
//! Every function has two entries. The *direct entry* (its first instruction) takes the
//! first integer and float parameters in the ISA's argument registers
//! ([`MacroAssembler::arg_regs`]) and the rest in the argument area; direct calls between
//! defined functions use it, and it stores its register parameters to their homes in the
//! area. The *area entry* (the function's `VMFuncRef` code, used by the entry trampoline,
//! `call_indirect` and imports of it) takes every parameter in the area. Both share one
//! prologue and everything after it (layout: [`FuncCompiler::emit_entries`]).

use crate::abi;
use crate::compiler::frontend::{addr_plus, FuncCompiler};
use crate::compiler::masm::*;
use crate::compiler::value_stack::{class_of, Loc};
use crate::error::{Result, TrapKind};
use crate::types::{FuncType, ValType};

impl<'a, M: MacroAssembler> FuncCompiler<'a, M> {
    /// Stores the top `params.len()` entries into the outgoing argument area and pops them;
    /// then spills every register (the callee clobbers them all).
    fn prepare_call(&mut self, ty: &FuncType) -> Result<()> {
        self.max_outgoing_slots = self.max_outgoing_slots.max(abi::arg_area_slots(ty));
        let slots = abi::param_slots(ty);
        let base = self.stack.len() - ty.params.len();
        for (j, slot_index) in slots.iter().enumerate() {
            let slot = self.stack.get(base + j);
            let dst = Addr::Outgoing(abi::SLOT_SIZE * *slot_index as i32);
            self.write_value(slot, base + j, dst, false);
        }
        self.truncate_stack(base);
        self.spill_registers();
        Ok(())
    }

    /// The register each parameter of `ty` travels in to a direct entry (`None`: the
    /// argument area). v128 parameters always use the area.
    pub(super) fn param_regs(&self, ty: &FuncType) -> Vec<Option<Reg>> {
        let mut next = [0usize; 2];
        ty.params
            .iter()
            .map(|&t| {
                if t == ValType::V128 {
                    return None;
                }
                let class = class_of(t);
                let k = &mut next[class as usize];
                let hw = self.masm.arg_regs(class).get(*k).copied();
                *k += 1;
                hw.map(|hw| Reg { class, hw })
            })
            .collect()
    }

    /// When `op` is a direct call: the register of its last parameter (the value on top of
    /// the stack when it runs), a good place to compute that value.
    pub(crate) fn last_arg_reg(&self, op: &wasmparser::Operator<'_>) -> Option<Reg> {
        match *op {
            wasmparser::Operator::Call { function_index } if function_index >= self.env.info.num_imported_funcs => {
                let ty = self.env.info.func_type(function_index);
                self.param_regs(ty).last().copied().flatten()
            }
            _ => None,
        }
    }

    /// Emits the function's entries and its prologue; returns each parameter's register
    /// (`param_regs`). Layout, when some parameter travels in a register:
    ///
    /// - the area entry, only when some of those parameters are pinned: loads them from the
    ///   argument area into their pinned registers and jumps to the prologue;
    /// - the direct entry: stores the register parameters to their homes in the area (read
    ///   there by unpinned uses and by reloads after calls), moves the pinned ones to their
    ///   registers, and falls into the prologue, which is the area entry otherwise. When no
    ///   call is inside a loop, pinned ones are stored by the calls that need them instead
    ///   (`Local::home_stale`).
    ///
    /// Both run before the prologue (which leaves those registers alone), so a yield at its
    /// stack check resumes with them intact.
    pub(super) fn emit_entries(&mut self) -> Vec<Option<Reg>> {
        let ty = self.func_type.clone();
        let regs = self.param_regs(&ty);
        let slots = abi::param_slots(&ty);
        let prologue = self.masm.new_label();
        let mut area = None;
        if regs.iter().enumerate().any(|(i, r)| r.is_some() && self.locals[i].reg.is_some()) {
            area = Some(self.masm.code_offset());
            for (i, r) in regs.iter().enumerate() {
                if let (Some(_), Some(home)) = (r, self.locals[i].reg) {
                    let addr = self.masm.entry_arg_addr(abi::SLOT_SIZE * slots[i] as i32);
                    self.load_typed(self.locals[i].ty, home, addr);
                }
            }
            self.masm.jmp(prologue);
            self.masm.align_function();
        }
        let direct = self.masm.code_offset();
        for (i, r) in regs.iter().enumerate() {
            let Some(r) = *r else { continue };
            let l = self.locals[i];
            if l.reg.is_some() && !self.calls_in_loop {
                // Only reloads after calls read the home: the calls save it (a path without
                // calls, like a recursion's base case, never stores it).
                self.locals[i].home_stale = true;
            } else {
                let addr = self.masm.entry_arg_addr(abi::SLOT_SIZE * slots[i] as i32);
                self.store_typed(l.ty, addr, r);
            }
            if let Some(home) = l.reg {
                self.masm.mov(home, r);
            }
        }
        self.masm.bind(prologue);
        if regs.iter().any(Option::is_some) {
            self.entries = Some((area.unwrap_or(self.masm.code_offset()), direct));
        }
        self.entry_prologue();
        regs
    }

    /// Places the arguments of a direct call to a defined function of type `ty` (the top
    /// `params.len()` entries): those of `param_regs` in their registers (returned, taken),
    /// the others in the outgoing area; pops them and spills every other register.
    fn prepare_direct_call(&mut self, ty: &FuncType) -> Vec<Reg> {
        // The whole area is reserved: the callee keeps its parameters' homes there.
        self.max_outgoing_slots = self.max_outgoing_slots.max(abi::arg_area_slots(ty));
        let slots = abi::param_slots(ty);
        let regs = self.param_regs(ty);
        let base = self.stack.len() - ty.params.len();
        // The entries below the arguments first (spilling flags may need a register).
        for depth in self.stack.regs_from()..base {
            if matches!(self.stack.get(depth).loc, Loc::Reg(_) | Loc::Flags(_)) {
                self.spill_entry(depth);
            }
        }
        // Area arguments: plain stores; their registers are released.
        for (j, slot_index) in slots.iter().enumerate() {
            if regs[j].is_some() {
                continue;
            }
            let slot = self.stack.get(base + j);
            let dst = Addr::Outgoing(abi::SLOT_SIZE * *slot_index as i32);
            self.write_value(slot, base + j, dst, false);
            if let Loc::Reg(r) = slot.loc {
                self.free(r);
            }
            self.stack.set_loc(base + j, Loc::Spilled);
        }
        // Register arguments: taking a register moves an argument still held there away.
        // A placed argument's entry becomes `Spilled` (never read again) so that nothing
        // moves or frees its register.
        let mut taken = Vec::new();
        for (j, r) in regs.iter().enumerate() {
            let Some(r) = *r else { continue };
            let depth = base + j;
            let slot = self.stack.get(depth);
            if slot.loc != Loc::Reg(r) {
                self.take_reg(r);
                self.load_slot_into(slot, depth, r);
            }
            self.stack.set_loc(depth, Loc::Spilled);
            taken.push(r);
        }
        self.truncate_stack(base);
        self.stack.mark_no_regs();
        taken
    }

    /// Pushes the results of a call from the outgoing area.
    fn finish_call(&mut self, ty: &FuncType) {
        for (ty, slot_index) in ty.results.iter().zip(abi::result_slots(ty)) {
            let src = Addr::Outgoing(abi::SLOT_SIZE * slot_index as i32);
            match self.regs.try_alloc(class_of(*ty)) {
                Some(r) => {
                    self.load_typed(*ty, r, src);
                    self.push_reg(*ty, r);
                }
                None => {
                    let dst = self.slot_addr(self.stack.len());
                    self.masm.copy_slot(dst, src);
                    if *ty == ValType::V128 {
                        self.masm.copy_slot(addr_plus(dst, 8), addr_plus(src, 8));
                    }
                    self.stack.push(*ty, Loc::Spilled);
                }
            }
        }
    }

    pub(super) fn visit_call(&mut self, function_index: u32) -> Result<()> {
        let env = self.env;
        let ty = env.info.func_type(function_index);
        let imported = self.env.info.num_imported_funcs;
        if function_index < imported {
            self.prepare_call(ty)?;
            self.save_pinned_locals();
            self.masm
                .call_funcref(Addr::Vmctx(self.env.offsets.func(function_index)));
        } else {
            let arg_regs = self.prepare_direct_call(ty);
            self.save_pinned_locals();
            self.masm.call_func(function_index - imported);
            for r in arg_regs {
                self.free(r);
            }
        }
        self.reload_pinned_locals();
        if function_index >= imported && ty.results.len() == 1 {
            // A defined function leaves its single result in the result register too.
            let rty = ty.results[0];
            let r = self.masm.block_result_reg(class_of(rty));
            self.take_reg(r);
            self.push_reg(rty, r);
            return Ok(());
        }
        self.finish_call(ty);
        Ok(())
    }

    pub(super) fn visit_call_indirect(&mut self, type_index: u32, table_index: u32) -> Result<()> {
        let env = self.env;
        let ty = &env.info.types[type_index as usize];
        let (_, index) = self.pop_to_reg();
        self.prepare_call(ty)?;
        let table = self.alloc(RegClass::Int);
        let undefined = self.trap(TrapKind::UndefinedElement);
        let uninitialized = self.trap(TrapKind::UninitializedElement);
        let mismatch = self.trap(TrapKind::IndirectCallTypeMismatch);
        use crate::runtime::vmctx::{FUNCREF_TYPE_ID_OFFSET, TABLE_BASE_OFFSET, TABLE_LEN_OFFSET};
        self.masm.load(
            LoadKind::I64,
            table,
            Addr::Vmctx(self.env.offsets.table(table_index)),
        );
        self.masm.cmp(
            Size::S64,
            index,
            Operand::Mem(Addr::Base(table, TABLE_LEN_OFFSET)),
        );
        self.masm.branch(Cond::GeU, false, undefined);
        self.masm
            .load(LoadKind::I64, table, Addr::Base(table, TABLE_BASE_OFFSET));
        self.masm.shift(ShiftOp::Shl, Size::S64, index, Operand::Imm(3));
        // `table` becomes the element: a `*const VMFuncRef`, null when uninitialised.
        self.masm
            .load(LoadKind::I64, table, Addr::Indexed(table, index, 0));
        self.masm.test(Size::S64, table);
        self.masm.branch(Cond::Eq, false, uninitialized);
        self.masm.load(
            LoadKind::I32,
            index,
            Addr::Vmctx(self.env.offsets.type_id(type_index)),
        );
        self.masm.cmp(
            Size::S32,
            index,
            Operand::Mem(Addr::Base(table, FUNCREF_TYPE_ID_OFFSET)),
        );
        self.masm.branch(Cond::Ne, false, mismatch);
        self.save_pinned_locals();
        self.masm.call_funcref(Addr::Base(table, 0));
        self.reload_pinned_locals();
        self.free(index);
        self.free(table);
        self.finish_call(ty);
        Ok(())
    }
}
