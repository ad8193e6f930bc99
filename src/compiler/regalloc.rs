//! Free lists of allocatable registers, one bit set per register class.
//!
//! The allocator only tracks what is free. When a class runs out, the frontend spills a
//! value-stack entry (it knows which registers the stack holds) and frees its register.

use crate::compiler::masm::{Reg, RegClass};

#[derive(Clone, Debug)]
pub struct RegAlloc {
    /// Bit `hw` set = register free.
    free_int: u32,
    free_float: u32,
    /// Allocation order (the first free one in this order is taken).
    order_int: &'static [u8],
    order_float: &'static [u8],
    all_int: u32,
    all_float: u32,
}

fn mask(regs: &[u8]) -> u32 {
    regs.iter().fold(0, |m, &r| m | 1 << r)
}

impl RegAlloc {
    pub fn new(order_int: &'static [u8], order_float: &'static [u8]) -> RegAlloc {
        let (all_int, all_float) = (mask(order_int), mask(order_float));
        RegAlloc {
            free_int: all_int,
            free_float: all_float,
            order_int,
            order_float,
            all_int,
            all_float,
        }
    }

    /// Marks every register free and unpinned (start of a function).
    pub fn reset(&mut self) {
        self.all_int = mask(self.order_int);
        self.all_float = mask(self.order_float);
        self.free_int = self.all_int;
        self.free_float = self.all_float;
    }

    fn set(&mut self, class: RegClass) -> &mut u32 {
        match class {
            RegClass::Int => &mut self.free_int,
            RegClass::Float => &mut self.free_float,
        }
    }

    /// Removes a register from allocation for the current function (it holds a local).
    pub fn pin(&mut self, reg: Reg) {
        match reg.class {
            RegClass::Int => {
                self.all_int &= !(1 << reg.hw);
                self.free_int &= !(1 << reg.hw);
            }
            RegClass::Float => {
                self.all_float &= !(1 << reg.hw);
                self.free_float &= !(1 << reg.hw);
            }
        }
    }

    /// Takes any free register of `class`.
    pub fn try_alloc(&mut self, class: RegClass) -> Option<Reg> {
        let order = match class {
            RegClass::Int => self.order_int,
            RegClass::Float => self.order_float,
        };
        let free = *self.set(class);
        let hw = *order.iter().find(|&&r| free & (1 << r) != 0)?;
        *self.set(class) &= !(1 << hw);
        Some(Reg { class, hw })
    }

    pub fn is_free(&self, reg: Reg) -> bool {
        let set = match reg.class {
            RegClass::Int => self.free_int,
            RegClass::Float => self.free_float,
        };
        set & (1 << reg.hw) != 0
    }

    /// Takes a specific register, which must be free.
    pub fn take(&mut self, reg: Reg) {
        debug_assert!(self.is_free(reg), "{reg:?} is not free");
        *self.set(reg.class) &= !(1 << reg.hw);
    }

    pub fn free(&mut self, reg: Reg) {
        let allocatable = match reg.class {
            RegClass::Int => self.all_int,
            RegClass::Float => self.all_float,
        };
        // Fixed registers outside the allocatable set (none today) are simply ignored.
        if allocatable & (1 << reg.hw) != 0 {
            debug_assert!(!self.is_free(reg), "double free of {reg:?}");
            *self.set(reg.class) |= 1 << reg.hw;
        }
    }

    /// Whether every allocatable register is free (checked at function end in debug builds).
    pub fn all_free(&self) -> bool {
        self.free_int == self.all_int && self.free_float == self.all_float
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_take_free() {
        let mut ra = RegAlloc::new(&[0, 1, 2], &[0, 1]);
        let a = ra.try_alloc(RegClass::Int).unwrap();
        assert_eq!(a, Reg::int(0));
        ra.take(Reg::int(2));
        assert_eq!(ra.try_alloc(RegClass::Int), Some(Reg::int(1)));
        assert_eq!(ra.try_alloc(RegClass::Int), None);
        ra.free(a);
        assert!(ra.is_free(Reg::int(0)));
        assert_eq!(ra.try_alloc(RegClass::Float), Some(Reg::float(0)));
    }
}
