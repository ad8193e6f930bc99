//! The compile-time value stack: where each Wasm operand currently lives.
//!
//! Entries are lazy: a constant, a reference to a local, or the CPU flags of a comparison
//! emit no code until a consumer needs them. Every depth has a pre-assigned frame slot
//! (Liftoff style), so spilling an entry is a single store and never moves the stack pointer.

use crate::compiler::masm::{Cond, Reg, RegClass};
use crate::types::ValType;

/// Where a value is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Loc {
    /// A constant (raw bits; i32/f32 in the low 32 bits).
    Const(u64),
    /// Owned by this entry: no other entry refers to the register.
    Reg(Reg),
    /// The current value of local `i` (valid until the next `local.set/tee i`).
    Local(u32),
    /// An i32 that is 1 when the condition holds on the current CPU flags. Only ever the top
    /// entry, and only while no flag-changing instruction has been emitted since.
    Flags(Cond),
    /// In the frame slot of this entry's depth.
    Spilled,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub ty: ValType,
    pub loc: Loc,
}

/// Register class holding values of a type.
pub fn class_of(ty: ValType) -> RegClass {
    match ty {
        ValType::F32 | ValType::F64 | ValType::V128 => RegClass::Float,
        _ => RegClass::Int,
    }
}

/// Whether a value of this type is 64 bits wide in a register.
pub fn is_wide(ty: ValType) -> bool {
    !matches!(ty, ValType::I32 | ValType::F32)
}

#[derive(Default, Debug)]
pub struct ValueStack {
    slots: Vec<Slot>,
    /// Deepest height reached: decides how many frame slots the function needs.
    max_height: usize,
}

impl ValueStack {
    pub fn clear(&mut self) {
        self.slots.clear();
        self.max_height = 0;
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn max_height(&self) -> usize {
        self.max_height
    }

    pub fn push(&mut self, ty: ValType, loc: Loc) {
        self.slots.push(Slot { ty, loc });
        self.max_height = self.max_height.max(self.slots.len());
    }

    pub fn pop(&mut self) -> Slot {
        self.slots.pop().expect("value stack underflow (validated code)")
    }

    pub fn peek(&self) -> Option<&Slot> {
        self.slots.last()
    }

    /// Entry at `depth` from the bottom.
    pub fn get(&self, depth: usize) -> Slot {
        self.slots[depth]
    }

    pub fn set_loc(&mut self, depth: usize, loc: Loc) {
        self.slots[depth].loc = loc;
    }

    pub fn truncate(&mut self, height: usize) {
        self.slots.truncate(height);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter()
    }

    /// Depth of the deepest entry held in a register of `class`.
    pub fn deepest_reg(&self, class: RegClass) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| matches!(s.loc, Loc::Reg(r) if r.class == class))
    }

    /// Depth of the entry holding `reg`.
    pub fn find_reg(&self, reg: Reg) -> Option<usize> {
        self.slots.iter().position(|s| s.loc == Loc::Reg(reg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_max_height_and_registers() {
        let mut s = ValueStack::default();
        s.push(ValType::I32, Loc::Const(1));
        s.push(ValType::F64, Loc::Reg(Reg::float(3)));
        s.push(ValType::I64, Loc::Reg(Reg::int(2)));
        assert_eq!(s.max_height(), 3);
        assert_eq!(s.deepest_reg(RegClass::Int), Some(2));
        assert_eq!(s.find_reg(Reg::float(3)), Some(1));
        s.pop();
        s.pop();
        assert_eq!(s.len(), 1);
        assert_eq!(s.max_height(), 3);
    }
}
