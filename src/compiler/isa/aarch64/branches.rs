//! Conditional branches that reach every label of a function, however large.
//!
//! `b.cond` and `cbz`/`cbnz` reach ±1 MiB; `b` reaches ±128 MiB. Trap stubs sit after the
//! body and block ends can be far away, so a function with more than 1 MiB of code would
//! have branches out of range. Like the veneers/islands of other assemblers:
//!
//! - a branch to a bound label (backwards) is one instruction when in range, otherwise the
//!   inverted condition over an unconditional `b`;
//! - a branch to an unbound label goes to an *alias* label shared by the target's branches
//!   since the last island. When the target is bound, its alias is bound at the same place
//!   (one branch, the normal case). When the oldest pending branch is about to go out of
//!   range, an *island* is emitted: `b over; veneer: b target ...; over:`, each alias bound
//!   at its target's veneer; later branches to that target reuse the veneer while in range.
//!
//! Islands are placed only at safe points: before a branch, a bind or a jump, and between
//! operators (`MacroAssembler::safe_point`). Only the flag-preserving `b` runs, so any
//! instruction boundary between operators is safe. Functions below ~880 KiB never get one.

use std::collections::HashMap;

use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi};

use super::masm::Cc;
use super::Asm;
use crate::a64_asm as asm;

/// Reach of `b.cond`/`cbz`/`cbnz` (a signed 19-bit word offset), either way.
pub(super) const COND_RANGE: usize = 1 << 20;

/// Bound on the code one operator (or one masm call between two checks) emits; the
/// jump table, the only larger sequence, checks with its own size first.
const SLACK: usize = 128 << 10;

/// A conditional branch instruction with a ±1 MiB reach.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum CondBr {
    /// `b.cc`.
    Cc(Cc),
    /// `cbz wN` (taken when zero), or `cbnz wN` with `nonzero`.
    Cbz32 { reg: u8, nonzero: bool },
}

impl CondBr {
    fn invert(self) -> CondBr {
        match self {
            CondBr::Cc(cc) => CondBr::Cc(cc.invert()),
            CondBr::Cbz32 { reg, nonzero } => CondBr::Cbz32 { reg, nonzero: !nonzero },
        }
    }

    fn emit(self, a: &mut Asm, label: DynamicLabel) {
        match self {
            CondBr::Cc(cc) => {
                macro_rules! e {
                    ($c:tt) => {
                        asm!(a; b.$c =>label)
                    };
                }
                with_cc!(cc, e)
            }
            CondBr::Cbz32 { reg, nonzero: false } => asm!(a; cbz W(reg), =>label),
            CondBr::Cbz32 { reg, nonzero: true } => asm!(a; cbnz W(reg), =>label),
        }
    }
}

/// Pending forward branches and the veneers of the current function(s).
#[derive(Default)]
pub(super) struct FarBranches {
    /// Unbound target -> the alias its conditional branches since the last island jump to.
    pending: HashMap<DynamicLabel, DynamicLabel>,
    /// Code offset of the oldest pending branch (conservative: not updated when targets
    /// are bound, only reset once none is pending).
    oldest: Option<usize>,
    /// Unbound target -> (offset, label) of its latest veneer.
    veneers: HashMap<DynamicLabel, (usize, DynamicLabel)>,
}

impl FarBranches {
    /// Emits `kind` to `target`, reaching it wherever it is (see the module docs).
    pub(super) fn branch(&mut self, a: &mut Asm, kind: CondBr, target: DynamicLabel) {
        self.check(a, 0);
        let here = a.offset().0;
        if let Ok(at) = a.labels().resolve_dynamic(target) {
            // Bound: at or before `here`. The branch sits at `here`; keep a word of margin.
            if here - at.0 < COND_RANGE - 4 {
                kind.emit(a, target);
            } else {
                let over = a.new_dynamic_label();
                kind.invert().emit(a, over);
                asm!(a; b =>target; =>over);
            }
            return;
        }
        if let Some(&(at, veneer)) = self.veneers.get(&target) {
            if here - at < COND_RANGE - 4 {
                kind.emit(a, veneer);
                return;
            }
        }
        let alias = match self.pending.get(&target) {
            Some(&alias) => alias,
            None => {
                let alias = a.new_dynamic_label();
                self.pending.insert(target, alias);
                alias
            }
        };
        self.oldest.get_or_insert(here);
        kind.emit(a, alias);
    }

    /// Binds `label` here, with the alias its pending branches jump to.
    pub(super) fn bind(&mut self, a: &mut Asm, label: DynamicLabel) {
        self.check(a, 0);
        if let Some(alias) = self.pending.remove(&label) {
            asm!(a; =>alias);
            if self.pending.is_empty() {
                self.oldest = None;
            }
        }
        self.veneers.remove(&label);
        asm!(a; =>label);
    }

    /// Whether no branch waits for its target and no veneer is kept.
    pub(super) fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.veneers.is_empty()
    }

    /// Emits an island if a pending branch could otherwise go out of range within the next
    /// `lookahead` bytes plus [`SLACK`].
    pub(super) fn check(&mut self, a: &mut Asm, lookahead: usize) {
        let Some(oldest) = self.oldest else { return };
        let island = 4 * (self.pending.len() + 1);
        if a.offset().0 + lookahead + SLACK + island - oldest >= COND_RANGE {
            self.island(a);
        }
    }

    /// `b over`, one veneer per pending target, `over:`.
    fn island(&mut self, a: &mut Asm) {
        let over = a.new_dynamic_label();
        asm!(a; b =>over);
        // In label order: the same input gives the same code.
        let mut pending: Vec<(DynamicLabel, DynamicLabel)> = self.pending.drain().collect();
        pending.sort_unstable_by_key(|(t, _)| t.get_id());
        for (target, alias) in pending {
            let at = a.offset().0;
            asm!(a; =>alias; b =>target);
            self.veneers.insert(target, (at, alias));
        }
        asm!(a; =>over);
        self.oldest = None;
    }
}

#[cfg(test)]
mod tests {
    //! Encoding tests (native on any host): follow each branch to where it lands.
    use super::*;
    use crate::compiler::isa::aarch64::masm::A64Masm;
    use crate::compiler::masm::{Cond, MacroAssembler};

    const NOP: u32 = 0xd503_201f;

    /// Where the branch at word `at` of `code` goes (word index), and whether it is `b.cond`.
    fn target(code: &[u32], at: usize) -> (usize, bool) {
        let w = code[at];
        let sext = |v: u32, bits: u32| ((v << (32 - bits)) as i32 >> (32 - bits)) as isize;
        let (off, cond) = if w >> 24 == 0x54 {
            (sext((w >> 5) & 0x7_ffff, 19), true)
        } else if w >> 26 == 0b000101 {
            (sext(w & 0x03ff_ffff, 26), false)
        } else {
            panic!("not a branch: {w:#010x} at word {at}");
        };
        ((at as isize + off) as usize, cond)
    }

    /// Follows `b`/`b.cond` (taken) from word `at` until a non-branch; counts the hops.
    fn land(code: &[u32], mut at: usize) -> (usize, usize) {
        let mut hops = 0;
        while code[at] >> 24 == 0x54 || code[at] >> 26 == 0b000101 {
            at = target(code, at).0;
            hops += 1;
        }
        (at, hops)
    }

    fn finish(m: A64Masm) -> Vec<u32> {
        let (bytes, _) = m.finish().expect("all branches in range");
        bytes.bytes().chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
    }

    /// `n` words of `nop` with a safe point (as between operators) every 64 words.
    fn filler(m: &mut A64Masm, n: usize) {
        for k in 0..n {
            if k % 64 == 0 {
                m.safe_point();
            }
            asm!(m.asm; nop);
        }
    }

    #[test]
    fn near_branches_are_one_instruction() {
        let mut m = A64Masm::new();
        let l = m.new_label();
        m.branch(Cond::Eq, false, l);
        filler(&mut m, 1000);
        m.bind(l);
        asm!(m.asm; brk #1);
        let code = finish(m);
        assert_eq!(code.len(), 1 + 1000 + 1, "no island");
        assert_eq!(target(&code, 0), (1001, true));
    }

    #[test]
    fn far_forward_branches_go_through_one_island_veneer() {
        let mut m = A64Masm::new();
        let (trap, end) = (m.new_label(), m.new_label());
        m.branch(Cond::Eq, false, trap);
        m.check_interrupt(trap); // cbnz
        filler(&mut m, 300_000); // 1.2 MB
        m.branch(Cond::LtU, false, trap); // after the island: direct or via a near veneer
        m.jmp(end);
        m.bind(trap);
        asm!(m.asm; brk #1);
        m.bind(end);
        asm!(m.asm; brk #2);
        let code = finish(m);
        let brk1 = code.iter().position(|&w| w == 0xd420_0020).unwrap();
        assert_eq!(land(&code, 0), (brk1, 2), "b.cond -> veneer -> stub");
        // The island: skipped by an unconditional branch right before it.
        let veneer = target(&code, 0).0;
        assert!(veneer < COND_RANGE / 4 && code[veneer] >> 26 == 0b000101);
        assert_eq!(target(&code, veneer - 1).0, veneer + 1, "b over the island");
        assert!(code.iter().filter(|&&w| w != NOP).count() < 16, "one small island");
        let late = code.iter().rposition(|&w| w >> 24 == 0x54).unwrap();
        assert_eq!(land(&code, late).0, brk1);
    }

    #[test]
    fn far_backward_branch_inverts_over_b() {
        let mut m = A64Masm::new();
        let top = m.new_label();
        m.bind(top);
        asm!(m.asm; brk #3);
        filler(&mut m, 300_000);
        let at = m.asm.offset().0 / 4;
        m.branch(Cond::GtS, false, top);
        asm!(m.asm; brk #4);
        let code = finish(m);
        // b.le over; b top; over: brk #4
        let (over, cond) = target(&code, at);
        assert!(cond && over == at + 2 && code[over] == 0xd420_0080);
        assert_eq!(code[at] & 0xff00_001f, 0x5400_000d, "b.le (inverse of b.gt)");
        assert_eq!(target(&code, at + 1), (0, false));
    }

    #[test]
    fn out_of_range_is_an_error_not_a_panic() {
        // Without safe points nothing can place an island: finalising must fail cleanly.
        let mut m = A64Masm::new();
        let l = m.new_label();
        m.branch(Cond::Eq, false, l);
        for _ in 0..300_000 {
            asm!(m.asm; nop);
        }
        m.bind(l);
        let err = m.finish().expect_err("b.cond beyond 1 MiB");
        assert!(err.contains("relocation") || err.contains("range"), "{err}");
    }
}
