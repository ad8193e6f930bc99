//! x86-64 implementation of [`MacroAssembler`]: instruction selection only.

use dynasmrt::{DynasmApi, DynasmLabelApi};

use super::float::{self, FloatTy, IntTy, TruncTraps};
use super::regs::*;
use super::{Asm, CpuFeatures};
use crate::abi::VMCTX_SLOT;
use crate::compiler::masm::*;
use crate::error::TrapKind;
use crate::runtime::vmctx::{
    FUNCREF_CODE_OFFSET, FUNCREF_VMCTX_OFFSET, RUNTIME_INTERRUPT_OFFSET, RUNTIME_STACK_LIMIT_OFFSET,
    RUNTIME_TRAP_EXIT_OFFSET, VMCTX_RUNTIME_OFFSET,
};
use crate::x64_asm as asm;

/// Emits `$pre [address] $post` for an [`Addr`] resolved to `(base, index, disp)`.
macro_rules! memop {
    ($ops:expr, $addr:expr, [$($pre:tt)*] [$($post:tt)*]) => {{
        let (base, index, disp): (u8, Option<u8>, i32) = $addr;
        match index {
            None => asm!($ops; $($pre)* [Rq(base) + disp] $($post)*),
            Some(index) => asm!($ops; $($pre)* [Rq(base) + Rq(index) + disp] $($post)*),
        }
    }};
}

fn float_ty(size: FSize) -> FloatTy {
    match size {
        FSize::F32 => FloatTy::F32,
        FSize::F64 => FloatTy::F64,
    }
}

fn int_ty(size: Size) -> IntTy {
    match size {
        Size::S32 => IntTy::I32,
        Size::S64 => IntTy::I64,
    }
}

/// The x86-64 macro assembler; owns the module's assembler.
pub struct X64Masm {
    pub asm: Asm,
    pub features: CpuFeatures,
}

impl X64Masm {
    pub fn new(features: CpuFeatures) -> X64Masm {
        X64Masm { asm: Asm::new(0), features }
    }

    pub fn offset(&self) -> usize {
        self.asm.offset().0
    }

    /// Pads with `int3` to a 16-byte boundary (between functions: never executed).
    pub fn align16(&mut self) {
        self.asm.align(16, 0xcc);
    }

    fn parts(addr: Addr) -> (u8, Option<u8>, i32) {
        match addr {
            Addr::Frame(d) => (RBP, None, d),
            Addr::Outgoing(d) => (RSP, None, d),
            Addr::Vmctx(d) => (VMCTX, None, d),
            Addr::Base(b, d) => (b.hw, None, d),
            Addr::Indexed(b, i, d) => (b.hw, Some(i.hw), d),
        }
    }

    /// `jcc` for integer-style conditions (after `cmp`/`test`, or after a `ucomis` whose
    /// operands were ordered so that the condition is an unsigned one).
    fn jcc_simple(&mut self, cond: Cond, label: Label) {
        use Cond::*;
        let a = &mut self.asm;
        match cond {
            Eq => asm!(a; je =>label),
            Ne => asm!(a; jne =>label),
            LtS => asm!(a; jl =>label),
            LeS => asm!(a; jle =>label),
            GtS => asm!(a; jg =>label),
            GeS => asm!(a; jge =>label),
            LtU => asm!(a; jb =>label),
            LeU => asm!(a; jbe =>label),
            GtU | FLt | FGt => asm!(a; ja =>label),
            GeU | FLe | FGe => asm!(a; jae =>label),
            FEq | FNe => unreachable!("composite float condition"),
        }
    }

    /// The condition that is true exactly when `cond` is false.
    fn negate_simple(cond: Cond) -> Cond {
        use Cond::*;
        match cond {
            Eq => Ne,
            Ne => Eq,
            LtS => GeS,
            LeS => GtS,
            GtS => LeS,
            GeS => LtS,
            LtU => GeU,
            LeU => GtU,
            GtU | FLt | FGt => LeU,
            GeU | FLe | FGe => LtU,
            FEq => FNe,
            FNe => FEq,
        }
    }

    fn set_simple(&mut self, cond: Cond, r: u8) {
        use Cond::*;
        let a = &mut self.asm;
        match cond {
            Eq => asm!(a; sete Rb(r)),
            Ne => asm!(a; setne Rb(r)),
            LtS => asm!(a; setl Rb(r)),
            LeS => asm!(a; setle Rb(r)),
            GtS => asm!(a; setg Rb(r)),
            GeS => asm!(a; setge Rb(r)),
            LtU => asm!(a; setb Rb(r)),
            LeU => asm!(a; setbe Rb(r)),
            GtU | FLt | FGt => asm!(a; seta Rb(r)),
            GeU | FLe | FGe => asm!(a; setae Rb(r)),
            FEq | FNe => unreachable!("composite float condition"),
        }
    }

    /// `if !cond { dst = src }` with cmov (64-bit, fine for zero-extended i32 too).
    fn cmov_unless(&mut self, cond: Cond, dst: u8, src: u8) {
        use Cond::*;
        let a = &mut self.asm;
        match Self::negate_simple(cond) {
            Eq => asm!(a; cmove Rq(dst), Rq(src)),
            Ne => asm!(a; cmovne Rq(dst), Rq(src)),
            LtS => asm!(a; cmovl Rq(dst), Rq(src)),
            LeS => asm!(a; cmovle Rq(dst), Rq(src)),
            GtS => asm!(a; cmovg Rq(dst), Rq(src)),
            GeS => asm!(a; cmovge Rq(dst), Rq(src)),
            LtU => asm!(a; cmovb Rq(dst), Rq(src)),
            LeU => asm!(a; cmovbe Rq(dst), Rq(src)),
            GtU => asm!(a; cmova Rq(dst), Rq(src)),
            GeU => asm!(a; cmovae Rq(dst), Rq(src)),
            _ => unreachable!(),
        }
    }

    fn fits_i32(v: u64) -> bool {
        v as i64 >= i32::MIN as i64 && v as i64 <= i32::MAX as i64
    }
}

impl MacroAssembler for X64Masm {
    fn new_label(&mut self) -> Label {
        self.asm.new_dynamic_label()
    }

    fn bind(&mut self, label: Label) {
        asm!(self.asm; =>label);
    }

    fn jmp(&mut self, label: Label) {
        asm!(self.asm; jmp =>label);
    }

    fn branch(&mut self, cond: Cond, negate: bool, label: Label) {
        let cond = if negate { Self::negate_simple(cond) } else { cond };
        match cond {
            // Ordered and equal: ZF=1 and PF=0.
            Cond::FEq => {
                let skip = self.asm.new_dynamic_label();
                asm!(self.asm; jp =>skip; je =>label; =>skip);
            }
            // Unordered or not equal: PF=1 or ZF=0.
            Cond::FNe => asm!(self.asm; jp =>label; jne =>label),
            c => self.jcc_simple(c, label),
        }
    }

    fn jump_table(&mut self, index: Reg, targets: &[Label]) {
        // Each table entry is a 5-byte `jmp rel32`.
        let table = self.asm.new_dynamic_label();
        let i = index.hw;
        asm!(self.asm
            ; lea Rq(SCRATCH), [=>table]
            ; lea Rq(i), [Rq(i) + Rq(i) * 4]
            ; add Rq(SCRATCH), Rq(i)
            ; jmp Rq(SCRATCH)
            ; =>table
        );
        for &t in targets {
            let start = self.asm.offset().0;
            asm!(self.asm; jmp =>t);
            debug_assert_eq!(self.asm.offset().0 - start, 5);
        }
    }

    fn trap_stub(&mut self, kind: TrapKind) {
        asm!(self.asm
            ; mov esi, kind as i32
            ; mov rax, QWORD [Rq(VMCTX) + VMCTX_RUNTIME_OFFSET]
            ; jmp QWORD [rax + RUNTIME_TRAP_EXIT_OFFSET]
        );
    }

    fn prologue(&mut self, stack_overflow: Label) -> FramePatch {
        asm!(self.asm
            ; push rbp
            ; mov rbp, rsp
            ; mov Rq(SCRATCH), rsp
            ; sub Rq(SCRATCH), DWORD 0x7fff_fff0
        );
        let patch = FramePatch(self.asm.offset().0 - 4);
        asm!(self.asm
            ; mov rax, QWORD [Rq(VMCTX) + VMCTX_RUNTIME_OFFSET]
            ; cmp Rq(SCRATCH), QWORD [rax + RUNTIME_STACK_LIMIT_OFFSET]
            ; jb =>stack_overflow
            ; mov rsp, Rq(SCRATCH)
            ; mov QWORD [rbp + VMCTX_SLOT], Rq(VMCTX)
        );
        patch
    }

    fn patch_frame_size(&mut self, patch: FramePatch, frame_size: u32) {
        let mut m = self.asm.alter();
        m.goto(dynasmrt::AssemblyOffset(patch.0));
        m.push_u32(frame_size);
    }

    fn zero_frame_slots(&mut self, lowest: i32, count: u32) {
        if count == 0 {
            return;
        }
        if count <= 16 {
            asm!(self.asm; xor eax, eax);
            for k in 0..count as i32 {
                asm!(self.asm; mov QWORD [rbp + lowest + 8 * k], rax);
            }
        } else {
            // rdi/rcx/rax are free in the prologue; the direction flag is clear by ABI.
            asm!(self.asm
                ; lea rdi, [rbp + lowest]
                ; mov ecx, count as i32
                ; xor eax, eax
                ; rep stosq
            );
        }
    }

    fn epilogue(&mut self) {
        asm!(self.asm; mov rsp, rbp; pop rbp; ret);
    }

    fn check_interrupt(&mut self, interrupted: Label) {
        asm!(self.asm
            ; mov Rq(SCRATCH), QWORD [Rq(VMCTX) + VMCTX_RUNTIME_OFFSET]
            ; cmp DWORD [Rq(SCRATCH) + RUNTIME_INTERRUPT_OFFSET], 0
            ; jne =>interrupted
        );
    }

    fn mov(&mut self, dst: Reg, src: Reg) {
        if dst == src {
            return;
        }
        match (dst.class, src.class) {
            (RegClass::Int, RegClass::Int) => asm!(self.asm; mov Rq(dst.hw), Rq(src.hw)),
            (RegClass::Float, RegClass::Float) => asm!(self.asm; movaps Rx(dst.hw), Rx(src.hw)),
            _ => unreachable!("mov across register classes"),
        }
    }

    fn load_const(&mut self, dst: Reg, bits: u64, wide: bool) {
        let bits = if wide { bits } else { bits as u32 as u64 };
        // No `xor` zeroing: materialisation must leave the flags intact.
        let target = if dst.is_int() { dst.hw } else { SCRATCH };
        if bits <= u32::MAX as u64 {
            asm!(self.asm; mov Rd(target), bits as u32 as i32);
        } else if Self::fits_i32(bits) {
            asm!(self.asm; mov Rq(target), bits as i64 as i32);
        } else {
            asm!(self.asm; mov Rq(target), QWORD bits as i64);
        }
        if !dst.is_int() {
            if wide {
                asm!(self.asm; movq Rx(dst.hw), Rq(SCRATCH));
            } else {
                asm!(self.asm; movd Rx(dst.hw), Rd(SCRATCH));
            }
        }
    }

    fn load(&mut self, kind: LoadKind, dst: Reg, addr: Addr) {
        let p = Self::parts(addr);
        let d = dst.hw;
        let a = &mut self.asm;
        match kind {
            LoadKind::I32 => memop!(a, p, [mov Rd(d), DWORD] []),
            LoadKind::I64 => memop!(a, p, [mov Rq(d), QWORD] []),
            LoadKind::F32 => memop!(a, p, [movss Rx(d), DWORD] []),
            LoadKind::F64 => memop!(a, p, [movsd Rx(d), QWORD] []),
            LoadKind::Narrow { bits: 8, signed: false, .. } => memop!(a, p, [movzx Rd(d), BYTE] []),
            LoadKind::Narrow { bits: 16, signed: false, .. } => memop!(a, p, [movzx Rd(d), WORD] []),
            LoadKind::Narrow { bits: 32, signed: false, .. } => memop!(a, p, [mov Rd(d), DWORD] []),
            LoadKind::Narrow { bits: 8, signed: true, wide: false } => memop!(a, p, [movsx Rd(d), BYTE] []),
            LoadKind::Narrow { bits: 16, signed: true, wide: false } => memop!(a, p, [movsx Rd(d), WORD] []),
            LoadKind::Narrow { bits: 8, signed: true, wide: true } => memop!(a, p, [movsx Rq(d), BYTE] []),
            LoadKind::Narrow { bits: 16, signed: true, wide: true } => memop!(a, p, [movsx Rq(d), WORD] []),
            LoadKind::Narrow { bits: 32, signed: true, .. } => memop!(a, p, [movsxd Rq(d), DWORD] []),
            LoadKind::Narrow { .. } => unreachable!("bad narrow load"),
        }
    }

    fn store(&mut self, kind: StoreKind, addr: Addr, src: Reg) {
        let p = Self::parts(addr);
        let s = src.hw;
        let a = &mut self.asm;
        match kind {
            StoreKind::I8 => memop!(a, p, [mov BYTE] [, Rb(s)]),
            StoreKind::I16 => memop!(a, p, [mov WORD] [, Rw(s)]),
            StoreKind::I32 => memop!(a, p, [mov DWORD] [, Rd(s)]),
            StoreKind::I64 => memop!(a, p, [mov QWORD] [, Rq(s)]),
            StoreKind::F32 => memop!(a, p, [movss DWORD] [, Rx(s)]),
            StoreKind::F64 => memop!(a, p, [movsd QWORD] [, Rx(s)]),
        }
    }

    fn store_imm(&mut self, kind: StoreKind, addr: Addr, imm: i32) {
        let p = Self::parts(addr);
        let a = &mut self.asm;
        match kind {
            StoreKind::I8 => memop!(a, p, [mov BYTE] [, imm as i8]),
            StoreKind::I16 => memop!(a, p, [mov WORD] [, imm as i16]),
            StoreKind::I32 | StoreKind::F32 => memop!(a, p, [mov DWORD] [, imm]),
            StoreKind::I64 | StoreKind::F64 => memop!(a, p, [mov QWORD] [, imm]),
        }
    }

    fn copy_slot(&mut self, dst: Addr, src: Addr) {
        let (s, d) = (Self::parts(src), Self::parts(dst));
        memop!(self.asm, s, [mov Rq(SCRATCH), QWORD] []);
        memop!(self.asm, d, [mov QWORD] [, Rq(SCRATCH)]);
    }

    fn copy_slot_zext32(&mut self, dst: Addr, src: Addr) {
        let (s, d) = (Self::parts(src), Self::parts(dst));
        memop!(self.asm, s, [mov Rd(SCRATCH), DWORD] []);
        memop!(self.asm, d, [mov QWORD] [, Rq(SCRATCH)]);
    }

    fn store_const64(&mut self, addr: Addr, bits: u64) {
        if Self::fits_i32(bits) {
            self.store_imm(StoreKind::I64, addr, bits as i64 as i32);
        } else {
            let d = Self::parts(addr);
            asm!(self.asm; mov Rq(SCRATCH), QWORD bits as i64);
            memop!(self.asm, d, [mov QWORD] [, Rq(SCRATCH)]);
        }
    }

    fn add_imm64(&mut self, dst: Reg, base: Reg, disp: u64) {
        if disp <= i32::MAX as u64 {
            asm!(self.asm; lea Rq(dst.hw), [Rq(base.hw) + disp as i32]);
        } else {
            asm!(self.asm; mov Rq(SCRATCH), QWORD disp as i64; lea Rq(dst.hw), [Rq(base.hw) + Rq(SCRATCH)]);
        }
    }

    fn bitcast(&mut self, dst: Reg, src: Reg, wide: bool) {
        let (d, s) = (dst.hw, src.hw);
        match (dst.is_int(), wide) {
            (true, false) => asm!(self.asm; movd Rd(d), Rx(s)),
            (true, true) => asm!(self.asm; movq Rq(d), Rx(s)),
            (false, false) => asm!(self.asm; movd Rx(d), Rd(s)),
            (false, true) => asm!(self.asm; movq Rx(d), Rq(s)),
        }
    }

    fn alu(&mut self, op: AluOp, size: Size, dst: Reg, src: Operand) {
        macro_rules! forms {
            ($ins:ident) => {{
                let d = dst.hw;
                match (size, src) {
                    (Size::S32, Operand::Reg(s)) => asm!(self.asm; $ins Rd(d), Rd(s.hw)),
                    (Size::S64, Operand::Reg(s)) => asm!(self.asm; $ins Rq(d), Rq(s.hw)),
                    (Size::S32, Operand::Imm(i)) => asm!(self.asm; $ins Rd(d), i),
                    (Size::S64, Operand::Imm(i)) => asm!(self.asm; $ins Rq(d), i),
                    (Size::S32, Operand::Mem(m)) => memop!(self.asm, Self::parts(m), [$ins Rd(d), DWORD] []),
                    (Size::S64, Operand::Mem(m)) => memop!(self.asm, Self::parts(m), [$ins Rq(d), QWORD] []),
                }
            }};
        }
        match op {
            AluOp::Add => forms!(add),
            AluOp::Sub => forms!(sub),
            AluOp::And => forms!(and),
            AluOp::Or => forms!(or),
            AluOp::Xor => forms!(xor),
            AluOp::Mul => {
                let d = dst.hw;
                match (size, src) {
                    (Size::S32, Operand::Reg(s)) => asm!(self.asm; imul Rd(d), Rd(s.hw)),
                    (Size::S64, Operand::Reg(s)) => asm!(self.asm; imul Rq(d), Rq(s.hw)),
                    (Size::S32, Operand::Imm(i)) => asm!(self.asm; imul Rd(d), Rd(d), i),
                    (Size::S64, Operand::Imm(i)) => asm!(self.asm; imul Rq(d), Rq(d), i),
                    (Size::S32, Operand::Mem(m)) => memop!(self.asm, Self::parts(m), [imul Rd(d), DWORD] []),
                    (Size::S64, Operand::Mem(m)) => memop!(self.asm, Self::parts(m), [imul Rq(d), QWORD] []),
                }
            }
        }
    }

    fn cmp(&mut self, size: Size, lhs: Reg, rhs: Operand) {
        let l = lhs.hw;
        match (size, rhs) {
            (Size::S32, Operand::Reg(s)) => asm!(self.asm; cmp Rd(l), Rd(s.hw)),
            (Size::S64, Operand::Reg(s)) => asm!(self.asm; cmp Rq(l), Rq(s.hw)),
            (Size::S32, Operand::Imm(i)) => asm!(self.asm; cmp Rd(l), i),
            (Size::S64, Operand::Imm(i)) => asm!(self.asm; cmp Rq(l), i),
            (Size::S32, Operand::Mem(m)) => memop!(self.asm, Self::parts(m), [cmp Rd(l), DWORD] []),
            (Size::S64, Operand::Mem(m)) => memop!(self.asm, Self::parts(m), [cmp Rq(l), QWORD] []),
        }
    }

    fn test(&mut self, size: Size, reg: Reg) {
        match size {
            Size::S32 => asm!(self.asm; test Rd(reg.hw), Rd(reg.hw)),
            Size::S64 => asm!(self.asm; test Rq(reg.hw), Rq(reg.hw)),
        }
    }

    fn shift(&mut self, op: ShiftOp, size: Size, dst: Reg, count: Operand) {
        macro_rules! forms {
            ($ins:ident) => {{
                let d = dst.hw;
                match (size, count) {
                    (Size::S32, Operand::Imm(i)) => asm!(self.asm; $ins Rd(d), (i & 31) as i8),
                    (Size::S64, Operand::Imm(i)) => asm!(self.asm; $ins Rq(d), (i & 63) as i8),
                    (Size::S32, Operand::Reg(r)) if r.hw == RCX => asm!(self.asm; $ins Rd(d), cl),
                    (Size::S64, Operand::Reg(r)) if r.hw == RCX => asm!(self.asm; $ins Rq(d), cl),
                    _ => unreachable!("shift count must be an immediate or cl"),
                }
            }};
        }
        match op {
            ShiftOp::Shl => forms!(shl),
            ShiftOp::ShrS => forms!(sar),
            ShiftOp::ShrU => forms!(shr),
            ShiftOp::Rotl => forms!(rol),
            ShiftOp::Rotr => forms!(ror),
        }
    }

    fn shift_count_reg(&self) -> Option<Reg> {
        Some(gpr(RCX))
    }

    fn bit_count(&mut self, op: BitCountOp, size: Size, dst: Reg, src: Reg) {
        let (d, s) = (dst.hw, src.hw);
        let f = self.features;
        let a = &mut self.asm;
        match (op, size) {
            (BitCountOp::Clz, Size::S32) if f.lzcnt => asm!(a; lzcnt Rd(d), Rd(s)),
            (BitCountOp::Clz, Size::S64) if f.lzcnt => asm!(a; lzcnt Rq(d), Rq(s)),
            // clz = 31 - bsr = bsr ^ 31; a zero input selects 63 so that 63 ^ 31 = 32.
            (BitCountOp::Clz, Size::S32) => {
                asm!(a; bsr Rd(d), Rd(s); mov Rd(SCRATCH), 63; cmovz Rd(d), Rd(SCRATCH); xor Rd(d), 31)
            }
            (BitCountOp::Clz, Size::S64) => {
                asm!(a; bsr Rq(d), Rq(s); mov Rd(SCRATCH), 127; cmovz Rq(d), Rq(SCRATCH); xor Rq(d), 63)
            }
            (BitCountOp::Ctz, Size::S32) if f.bmi1 => asm!(a; tzcnt Rd(d), Rd(s)),
            (BitCountOp::Ctz, Size::S64) if f.bmi1 => asm!(a; tzcnt Rq(d), Rq(s)),
            (BitCountOp::Ctz, Size::S32) => {
                asm!(a; bsf Rd(d), Rd(s); mov Rd(SCRATCH), 32; cmovz Rd(d), Rd(SCRATCH))
            }
            (BitCountOp::Ctz, Size::S64) => {
                asm!(a; bsf Rq(d), Rq(s); mov Rd(SCRATCH), 64; cmovz Rq(d), Rq(SCRATCH))
            }
            (BitCountOp::Popcnt, Size::S32) if f.popcnt => asm!(a; popcnt Rd(d), Rd(s)),
            (BitCountOp::Popcnt, Size::S64) if f.popcnt => asm!(a; popcnt Rq(d), Rq(s)),
            (BitCountOp::Popcnt, size) => {
                // SWAR population count for CPUs without POPCNT.
                let wide = size == Size::S64;
                let m = |v: u64| if wide { v } else { v as u32 as u64 };
                if d != s {
                    asm!(a; mov Rq(d), Rq(s));
                }
                // x - ((x >> 1) & 0x55..)
                asm!(a; mov Rq(SCRATCH), Rq(d); shr Rq(SCRATCH), 1);
                asm!(a; push Rq(d); mov Rq(d), QWORD m(0x5555_5555_5555_5555) as i64; and Rq(SCRATCH), Rq(d); pop Rq(d));
                asm!(a; sub Rq(d), Rq(SCRATCH));
                // (x & 0x33..) + ((x >> 2) & 0x33..)
                asm!(a; mov Rq(SCRATCH), Rq(d); shr Rq(SCRATCH), 2);
                asm!(a; push Rq(SCRATCH); mov Rq(SCRATCH), QWORD m(0x3333_3333_3333_3333) as i64; and Rq(d), Rq(SCRATCH); and Rq(SCRATCH), [rsp]; add Rq(d), Rq(SCRATCH); add rsp, 8);
                // (x + (x >> 4)) & 0x0f..
                asm!(a; mov Rq(SCRATCH), Rq(d); shr Rq(SCRATCH), 4; add Rq(d), Rq(SCRATCH));
                asm!(a; mov Rq(SCRATCH), QWORD m(0x0f0f_0f0f_0f0f_0f0f) as i64; and Rq(d), Rq(SCRATCH));
                // (x * 0x0101..) >> (width - 8)
                asm!(a; mov Rq(SCRATCH), QWORD m(0x0101_0101_0101_0101) as i64; imul Rq(d), Rq(SCRATCH));
                if wide {
                    asm!(a; shr Rq(d), 56);
                } else {
                    asm!(a; shr Rd(d), 24);
                }
            }
        }
    }

    fn extend(&mut self, kind: ExtendKind, dst: Reg, src: Reg) {
        let (d, s) = (dst.hw, src.hw);
        let a = &mut self.asm;
        match kind {
            ExtendKind::I32From8S => asm!(a; movsx Rd(d), Rb(s)),
            ExtendKind::I32From16S => asm!(a; movsx Rd(d), Rw(s)),
            ExtendKind::I64From8S => asm!(a; movsx Rq(d), Rb(s)),
            ExtendKind::I64From16S => asm!(a; movsx Rq(d), Rw(s)),
            ExtendKind::I64From32S => asm!(a; movsxd Rq(d), Rd(s)),
            ExtendKind::ZeroUpper32 => asm!(a; mov Rd(d), Rd(s)),
        }
    }

    fn div_regs(&self) -> Option<(Reg, Reg)> {
        Some((gpr(RAX), gpr(RDX)))
    }

    fn div(&mut self, op: DivOp, size: Size, lhs: Reg, rhs: Reg) -> Reg {
        debug_assert_eq!(lhs.hw, RAX);
        let r = rhs.hw;
        let a = &mut self.asm;
        match (op, size) {
            (DivOp::DivS | DivOp::RemS, Size::S32) => asm!(a; cdq; idiv Rd(r)),
            (DivOp::DivS | DivOp::RemS, Size::S64) => asm!(a; cqo; idiv Rq(r)),
            (DivOp::DivU | DivOp::RemU, Size::S32) => asm!(a; xor edx, edx; div Rd(r)),
            (DivOp::DivU | DivOp::RemU, Size::S64) => asm!(a; xor edx, edx; div Rq(r)),
        }
        match op {
            DivOp::DivS | DivOp::DivU => gpr(RAX),
            DivOp::RemS | DivOp::RemU => gpr(RDX),
        }
    }

    fn set_cond(&mut self, cond: Cond, dst: Reg) {
        let d = dst.hw;
        // `mov` (not `xor`) keeps the flags; setcc then writes the low byte.
        asm!(self.asm; mov Rd(d), 0);
        match cond {
            Cond::FEq => asm!(self.asm; sete Rb(d); setnp Rb(SCRATCH); and Rb(d), Rb(SCRATCH)),
            Cond::FNe => asm!(self.asm; setne Rb(d); setp Rb(SCRATCH); or Rb(d), Rb(SCRATCH)),
            c => self.set_simple(c, d),
        }
    }

    fn select(&mut self, cond: Cond, _size: Size, dst: Reg, other: Reg) {
        if dst.is_int() && !matches!(cond, Cond::FEq | Cond::FNe) {
            self.cmov_unless(cond, dst.hw, other.hw);
        } else {
            let keep = self.asm.new_dynamic_label();
            self.branch(cond, false, keep);
            self.mov(dst, other);
            self.bind(keep);
        }
    }

    fn fop(&mut self, op: FloatOp, size: FSize, dst: Reg, src: Reg) {
        let (d, s) = (dst.hw, src.hw);
        let a = &mut self.asm;
        match (op, size) {
            (FloatOp::Add, FSize::F32) => asm!(a; addss Rx(d), Rx(s)),
            (FloatOp::Add, FSize::F64) => asm!(a; addsd Rx(d), Rx(s)),
            (FloatOp::Sub, FSize::F32) => asm!(a; subss Rx(d), Rx(s)),
            (FloatOp::Sub, FSize::F64) => asm!(a; subsd Rx(d), Rx(s)),
            (FloatOp::Mul, FSize::F32) => asm!(a; mulss Rx(d), Rx(s)),
            (FloatOp::Mul, FSize::F64) => asm!(a; mulsd Rx(d), Rx(s)),
            (FloatOp::Div, FSize::F32) => asm!(a; divss Rx(d), Rx(s)),
            (FloatOp::Div, FSize::F64) => asm!(a; divsd Rx(d), Rx(s)),
        }
    }

    fn fsqrt(&mut self, size: FSize, dst: Reg, src: Reg) {
        match size {
            FSize::F32 => asm!(self.asm; sqrtss Rx(dst.hw), Rx(src.hw)),
            FSize::F64 => asm!(self.asm; sqrtsd Rx(dst.hw), Rx(src.hw)),
        }
    }

    fn fcmp(&mut self, cond: Cond, size: FSize, lhs: Reg, rhs: Reg) {
        // `ucomis a, b` sets CF/ZF like an unsigned `a - b` and all of ZF/PF/CF when
        // unordered, so "above"/"above or equal" are false for NaN: `lhs < rhs` is tested
        // as `rhs above lhs`.
        let (a, b) = match cond {
            Cond::FLt | Cond::FLe => (rhs.hw, lhs.hw),
            _ => (lhs.hw, rhs.hw),
        };
        match size {
            FSize::F32 => asm!(self.asm; ucomiss Rx(a), Rx(b)),
            FSize::F64 => asm!(self.asm; ucomisd Rx(a), Rx(b)),
        }
    }

    fn promote(&mut self, dst: Reg, src: Reg) {
        asm!(self.asm; cvtss2sd Rx(dst.hw), Rx(src.hw));
    }

    fn demote(&mut self, dst: Reg, src: Reg) {
        asm!(self.asm; cvtsd2ss Rx(dst.hw), Rx(src.hw));
    }

    fn fmin_max(&mut self, is_min: bool, size: FSize, dst: Reg, rhs: Reg) {
        if is_min {
            float::fmin(&mut self.asm, float_ty(size), dst.hw, rhs.hw);
        } else {
            float::fmax(&mut self.asm, float_ty(size), dst.hw, rhs.hw);
        }
    }

    fn fround(&mut self, mode: RoundMode, size: FSize, dst: Reg, src: Reg) {
        let mode = match mode {
            RoundMode::Nearest => float::RoundMode::Nearest,
            RoundMode::Floor => float::RoundMode::Floor,
            RoundMode::Ceil => float::RoundMode::Ceil,
            RoundMode::Trunc => float::RoundMode::Trunc,
        };
        float::fround(&mut self.asm, float_ty(size), mode, dst.hw, src.hw);
    }

    fn fabs(&mut self, size: FSize, dst: Reg) {
        float::fabs(&mut self.asm, float_ty(size), dst.hw);
    }

    fn fneg(&mut self, size: FSize, dst: Reg) {
        float::fneg(&mut self.asm, float_ty(size), dst.hw);
    }

    fn fcopysign(&mut self, size: FSize, dst: Reg, rhs: Reg) {
        float::fcopysign(&mut self.asm, float_ty(size), dst.hw, rhs.hw);
    }

    fn trunc_to_int(&mut self, from: FSize, to: Size, signed: bool, dst: Reg, src: Reg, traps: Option<(Label, Label)>) {
        let traps = traps.map(|(overflow, invalid)| TruncTraps { overflow, invalid });
        float::trunc_to_int(&mut self.asm, float_ty(from), int_ty(to), signed, dst.hw, src.hw, traps);
    }

    fn convert_from_int(&mut self, from: Size, signed: bool, to: FSize, dst: Reg, src: Reg) {
        float::convert_from_int(&mut self.asm, int_ty(from), signed, float_ty(to), dst.hw, src.hw);
    }

    fn call_label(&mut self, label: Label) {
        asm!(self.asm; call =>label);
    }

    fn call_funcref(&mut self, funcref: Addr) {
        let p = Self::parts(funcref);
        memop!(self.asm, p, [lea Rq(SCRATCH),] []);
        asm!(self.asm
            ; mov Rq(VMCTX), QWORD [Rq(SCRATCH) + FUNCREF_VMCTX_OFFSET]
            ; call QWORD [Rq(SCRATCH) + FUNCREF_CODE_OFFSET]
            ; mov Rq(VMCTX), QWORD [rbp + VMCTX_SLOT]
        );
    }

    fn call_builtin(&mut self, address: usize, arg: Operand) {
        match arg {
            Operand::Reg(r) => asm!(self.asm; mov esi, Rd(r.hw)),
            Operand::Imm(i) => asm!(self.asm; mov esi, i),
            Operand::Mem(m) => memop!(self.asm, Self::parts(m), [mov esi, DWORD] []),
        }
        // The frame keeps rsp 16-byte aligned, as the SysV ABI requires at a call. r15 (vmctx)
        // and rbp are callee-saved in SysV.
        asm!(self.asm
            ; mov rdi, Rq(VMCTX)
            ; mov rax, QWORD address as i64
            ; call rax
        );
    }

    fn builtin_result_reg(&self) -> Reg {
        gpr(RAX)
    }
}
