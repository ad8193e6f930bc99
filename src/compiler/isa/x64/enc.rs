//! Shortest encodings of the most frequent x86-64 instruction forms.
//!
//! dynasm cannot see dynamic register numbers when it expands, so it encodes them for the
//! worst case: a REX prefix even when no bit of it is set, and for a dynamic base register
//! always a SIB byte and a displacement (in case the base is `rsp`/`r12` or `rbp`/`r13`).
//! These helpers pick the prefix, ModRM, SIB and displacement from the actual registers
//! (the standard rules of the Intel SDM, vol. 2, 2.1-2.2), for loads, stores, moves and the
//! integer ALU forms that dominate generated code.

use dynasmrt::DynasmApi;

use super::Asm;

/// A memory operand: base register, optional index register (scale 1), displacement.
pub type MemParts = (u8, Option<u8>, i32);

/// Operand-size and mandatory prefixes, REX and opcode of one instruction.
#[derive(Copy, Clone)]
pub struct Op {
    /// Legacy prefix emitted before REX (`0x66`, `0xf2`, `0xf3`), if any.
    pub prefix: Option<u8>,
    /// REX.W (64-bit operand size).
    pub w: bool,
    /// Opcode bytes (after the prefixes).
    pub opcode: &'static [u8],
    /// The `reg` operand is a byte register (`spl`..`dil` need a REX prefix to exist).
    pub byte_reg: bool,
}

impl Op {
    pub const fn new(prefix: Option<u8>, w: bool, opcode: &'static [u8]) -> Op {
        Op { prefix, w, opcode, byte_reg: false }
    }
}

fn head(asm: &mut Asm, op: Op, reg: u8, index: u8, base: u8) {
    if let Some(p) = op.prefix {
        asm.push(p);
    }
    let rex = 0x40 | (op.w as u8) << 3 | (reg >> 3 & 1) << 2 | (index >> 3 & 1) << 1 | (base >> 3 & 1);
    if rex != 0x40 || (op.byte_reg && (4..8).contains(&reg)) {
        asm.push(rex);
    }
    asm.extend(op.opcode.iter().copied());
}

/// `op reg, [mem]` (or `op [mem], reg`: the direction is the opcode's). `reg` may also be an
/// opcode extension (`/digit`).
pub fn rm_mem(asm: &mut Asm, op: Op, reg: u8, (base, index, disp): MemParts) {
    debug_assert!(index != Some(4), "rsp cannot be an index");
    head(asm, op, reg, index.unwrap_or(0), base);
    let b = base & 7;
    let sib = index.is_some() || b == 4;
    // rbp/r13 as a base have no displacement-free form.
    let (md, size) = if disp == 0 && b != 5 {
        (0u8, 0)
    } else if disp as i8 as i32 == disp {
        (1, 1)
    } else {
        (2, 4)
    };
    asm.push(md << 6 | (reg & 7) << 3 | if sib { 4 } else { b });
    if sib {
        asm.push((index.unwrap_or(4) & 7) << 3 | b);
    }
    match size {
        1 => asm.push(disp as i8 as u8),
        4 => asm.extend(disp.to_le_bytes()),
        _ => {}
    }
}

/// `op reg, rm` with two registers (ModRM mode 3).
pub fn rm_reg(asm: &mut Asm, op: Op, reg: u8, rm: u8) {
    head(asm, op, reg, 0, rm);
    asm.push(0xc0 | (reg & 7) << 3 | (rm & 7));
}

/// The `/digit` of the 0x81/0x83 immediate group and the `op r/m, reg` opcode of an ALU
/// operation: add, or, and, sub, xor, cmp.
#[derive(Copy, Clone)]
pub enum Alu {
    Add,
    Or,
    And,
    Sub,
    Xor,
    Cmp,
}

impl Alu {
    fn digit(self) -> u8 {
        match self {
            Alu::Add => 0,
            Alu::Or => 1,
            Alu::And => 4,
            Alu::Sub => 5,
            Alu::Xor => 6,
            Alu::Cmp => 7,
        }
    }
}

const MR_OPCODES: [&[u8]; 8] = [&[0x01], &[0x09], &[], &[], &[0x21], &[0x29], &[0x31], &[0x39]];
const RM_OPCODES: [&[u8]; 8] = [&[0x03], &[0x0b], &[], &[], &[0x23], &[0x2b], &[0x33], &[0x3b]];

/// `op dst, src` on registers (`w`: 64-bit).
pub fn alu_rr(asm: &mut Asm, alu: Alu, w: bool, dst: u8, src: u8) {
    rm_reg(asm, Op::new(None, w, MR_OPCODES[alu.digit() as usize]), src, dst);
}

/// `op dst, imm` (sign-extended imm8 when it fits).
pub fn alu_ri(asm: &mut Asm, alu: Alu, w: bool, dst: u8, imm: i32) {
    if imm as i8 as i32 == imm {
        rm_reg(asm, Op::new(None, w, &[0x83]), alu.digit(), dst);
        asm.push(imm as i8 as u8);
    } else {
        rm_reg(asm, Op::new(None, w, &[0x81]), alu.digit(), dst);
        asm.extend(imm.to_le_bytes());
    }
}

/// `op dst, [mem]`.
pub fn alu_rm(asm: &mut Asm, alu: Alu, w: bool, dst: u8, mem: MemParts) {
    rm_mem(asm, Op::new(None, w, RM_OPCODES[alu.digit() as usize]), dst, mem);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(f: impl FnOnce(&mut Asm)) -> Vec<u8> {
        let mut a = Asm::new();
        f(&mut a);
        a.finalize().unwrap()
    }

    /// Each form against dynasm's own (longer but equivalent) encoding, decoded by hand.
    #[test]
    fn encodings() {
        const MOV_LOAD32: Op = Op::new(None, false, &[0x8b]);
        const MOV_LOAD64: Op = Op::new(None, true, &[0x8b]);
        // mov ebx, [rbp + 16]
        assert_eq!(bytes(|a| rm_mem(a, MOV_LOAD32, 3, (5, None, 16))), [0x8b, 0x5d, 0x10]);
        // mov rax, [r15]
        assert_eq!(bytes(|a| rm_mem(a, MOV_LOAD64, 0, (15, None, 0))), [0x49, 0x8b, 0x07]);
        // mov eax, [rsp] needs a SIB byte
        assert_eq!(bytes(|a| rm_mem(a, MOV_LOAD32, 0, (4, None, 0))), [0x8b, 0x04, 0x24]);
        // mov eax, [r13] needs a displacement
        assert_eq!(bytes(|a| rm_mem(a, MOV_LOAD32, 0, (13, None, 0))), [0x41, 0x8b, 0x45, 0x00]);
        // mov eax, [r9 + r12 - 16]
        assert_eq!(bytes(|a| rm_mem(a, MOV_LOAD32, 0, (9, Some(12), -16))), [0x43, 0x8b, 0x44, 0x21, 0xf0]);
        // mov r8d, [rcx + 0x1000]
        assert_eq!(bytes(|a| rm_mem(a, MOV_LOAD32, 8, (1, None, 0x1000))), [0x44, 0x8b, 0x81, 0, 0x10, 0, 0]);
        // mov [rax], sil needs an empty REX (else it is dh)
        let store8 = Op { byte_reg: true, ..Op::new(None, false, &[0x88]) };
        assert_eq!(bytes(|a| rm_mem(a, store8, 6, (0, None, 0))), [0x40, 0x88, 0x30]);
        assert_eq!(bytes(|a| rm_mem(a, store8, 1, (0, None, 0))), [0x88, 0x08]);
        // movdqu xmm14, [rbp - 48]
        let movdqu = Op::new(Some(0xf3), false, &[0x0f, 0x6f]);
        assert_eq!(bytes(|a| rm_mem(a, movdqu, 14, (5, None, -48))), [0xf3, 0x44, 0x0f, 0x6f, 0x75, 0xd0]);
        // add ebx, eax; sub r12, 1; cmp ebx, 2; add r12, [rbp + 8]
        assert_eq!(bytes(|a| alu_rr(a, Alu::Add, false, 3, 0)), [0x01, 0xc3]);
        assert_eq!(bytes(|a| alu_ri(a, Alu::Sub, true, 12, 1)), [0x49, 0x83, 0xec, 0x01]);
        assert_eq!(bytes(|a| alu_ri(a, Alu::Cmp, false, 3, 2)), [0x83, 0xfb, 0x02]);
        assert_eq!(bytes(|a| alu_ri(a, Alu::Cmp, false, 0, 1000)), [0x81, 0xf8, 0xe8, 0x03, 0, 0]);
        assert_eq!(bytes(|a| alu_rm(a, Alu::Add, true, 12, (5, None, 8))), [0x4c, 0x03, 0x65, 0x08]);
    }
}
