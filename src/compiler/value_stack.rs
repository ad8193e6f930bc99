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

/// Register class whose free list a location draws on (flags become an integer register).
fn reg_class_of(loc: Loc) -> Option<RegClass> {
    match loc {
        Loc::Reg(r) => Some(r.class),
        Loc::Flags(_) => Some(RegClass::Int),
        _ => None,
    }
}

/// The stack keeps lower bounds of where register-held and local-referring entries can be,
/// so that searches over it start there: without them, a deep stack of spilled values
/// would be rescanned by every spill, call, block entry and `local.set` (quadratic).
#[derive(Default, Debug)]
pub struct ValueStack {
    slots: Vec<Slot>,
    /// Deepest height reached: decides how many frame slots the function needs.
    max_height: usize,
    /// Per register class: no entry below this depth holds a register (or flags).
    reg_from: [usize; 2],
    /// No entry below this depth refers to a local.
    local_from: usize,
    /// Per local index: how many entries refer to it.
    local_refs: Vec<u32>,
}

impl ValueStack {
    pub fn clear(&mut self) {
        self.truncate(0);
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

    /// Bookkeeping for `loc` entering the stack at `depth`.
    #[inline]
    fn enter(&mut self, depth: usize, loc: Loc) {
        if let Some(class) = reg_class_of(loc) {
            let from = &mut self.reg_from[class as usize];
            *from = (*from).min(depth);
        }
        if let Loc::Local(i) = loc {
            self.local_from = self.local_from.min(depth);
            let i = i as usize;
            if i >= self.local_refs.len() {
                self.local_refs.resize(i + 1, 0);
            }
            self.local_refs[i] += 1;
        }
    }

    /// Bookkeeping for `loc` leaving the stack.
    #[inline]
    fn leave(&mut self, loc: Loc) {
        if let Loc::Local(i) = loc {
            self.local_refs[i as usize] -= 1;
        }
    }

    #[inline]
    pub fn push(&mut self, ty: ValType, loc: Loc) {
        self.enter(self.slots.len(), loc);
        self.slots.push(Slot { ty, loc });
        self.max_height = self.max_height.max(self.slots.len());
    }

    #[inline]
    pub fn pop(&mut self) -> Slot {
        let slot = self.slots.pop().expect("value stack underflow (validated code)");
        self.leave(slot.loc);
        slot
    }

    pub fn peek(&self) -> Option<&Slot> {
        self.slots.last()
    }

    /// Entry at `depth` from the bottom.
    pub fn get(&self, depth: usize) -> Slot {
        self.slots[depth]
    }

    pub fn set_loc(&mut self, depth: usize, loc: Loc) {
        let old = self.slots[depth].loc;
        self.leave(old);
        self.enter(depth, loc);
        self.slots[depth].loc = loc;
    }

    pub fn truncate(&mut self, height: usize) {
        while self.slots.len() > height {
            self.pop();
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter()
    }

    /// Depth of the deepest entry held in a register of `class`.
    pub fn deepest_reg(&mut self, class: RegClass) -> Option<usize> {
        let from = self.reg_from[class as usize].min(self.slots.len());
        let found = self.slots[from..]
            .iter()
            .position(|s| matches!(s.loc, Loc::Reg(r) if r.class == class))
            .map(|p| from + p);
        self.reg_from[class as usize] = found.unwrap_or(self.slots.len());
        found
    }

    /// Depth of the entry holding `reg`.
    pub fn find_reg(&self, reg: Reg) -> Option<usize> {
        let from = self.reg_from[reg.class as usize].min(self.slots.len());
        self.slots[from..].iter().position(|s| s.loc == Loc::Reg(reg)).map(|p| from + p)
    }

    /// Lowest depth that may hold a register or flags (of any class).
    pub fn regs_from(&self) -> usize {
        self.reg_from[0].min(self.reg_from[1]).min(self.slots.len())
    }

    /// Lowest depth that may hold a register, flags or a local reference: everything below
    /// is spilled or constant.
    pub fn dirty_from(&self) -> usize {
        self.regs_from().min(self.local_from)
    }

    /// Lowest depth that may refer to a local.
    pub fn locals_from(&self) -> usize {
        self.local_from.min(self.slots.len())
    }

    /// Whether some entry refers to local `index`.
    pub fn refers_to_local(&self, index: u32) -> bool {
        self.local_refs.get(index as usize).is_some_and(|&n| n > 0)
    }

    /// Records that no entry holds a register (or flags) any more.
    pub fn mark_no_regs(&mut self) {
        self.reg_from = [self.slots.len(); 2];
    }

    /// Records that no entry refers to a local any more (the caller spilled them all).
    pub fn mark_no_locals(&mut self) {
        self.local_from = self.slots.len();
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

    #[test]
    fn search_bounds_follow_pushes_and_location_changes() {
        let mut s = ValueStack::default();
        for _ in 0..5 {
            s.push(ValType::I32, Loc::Spilled);
        }
        assert_eq!(s.dirty_from(), 0, "bounds start conservative");
        s.mark_no_regs();
        s.mark_no_locals();
        s.push(ValType::I32, Loc::Local(7));
        s.push(ValType::I64, Loc::Reg(Reg::int(2)));
        assert_eq!(s.dirty_from(), 5);
        assert!(s.refers_to_local(7) && !s.refers_to_local(6));
        assert_eq!(s.deepest_reg(RegClass::Int), Some(6));
        s.set_loc(6, Loc::Spilled);
        assert_eq!(s.deepest_reg(RegClass::Int), None);
        s.set_loc(5, Loc::Spilled);
        assert!(!s.refers_to_local(7));
        s.mark_no_locals();
        assert_eq!((s.locals_from(), s.regs_from()), (7, 5));
        // A register entering below the bound lowers it again.
        s.set_loc(1, Loc::Reg(Reg::int(3)));
        assert_eq!(s.deepest_reg(RegClass::Int), Some(1));
        assert_eq!(s.find_reg(Reg::int(3)), Some(1));
        s.truncate(0);
        assert!(s.is_empty());
    }
}
