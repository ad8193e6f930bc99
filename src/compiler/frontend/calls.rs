//! Calls: direct, imported and indirect, through the outgoing argument area.

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
        self.prepare_call(ty)?;
        let imported = self.env.info.num_imported_funcs;
        self.save_pinned_locals();
        if function_index < imported {
            self.masm
                .call_funcref(Addr::Vmctx(self.env.offsets.func(function_index)));
        } else {
            self.masm.call_func(function_index - imported);
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
