//! The ISA-neutral interface between the frontend and a backend.
//!
//! The frontend decides *what* happens (Wasm semantics, which checks, which trap); a
//! [`MacroAssembler`] decides *how*: it takes physical registers, immediates and addresses
//! and emits instructions. Fixed-register constraints of an ISA are published as queries
//! ([`MacroAssembler::shift_count_reg`], [`MacroAssembler::div_regs`]) that the frontend
//! satisfies by asking its register allocator for those registers by name.

use dynasmrt::DynamicLabel;

use crate::error::TrapKind;
use crate::runtime::code::CodeWriter;
pub use crate::runtime::builtins::Builtin;

/// A code position to branch to; bound once.
pub type Label = DynamicLabel;

/// Register file of a register.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegClass {
    /// General purpose: integers, references, addresses.
    Int,
    /// Floating point / vector.
    Float,
}

/// A physical register: its class and its hardware number in that class.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reg {
    pub class: RegClass,
    pub hw: u8,
}

impl Reg {
    pub const fn int(hw: u8) -> Reg {
        Reg {
            class: RegClass::Int,
            hw,
        }
    }
    pub const fn float(hw: u8) -> Reg {
        Reg {
            class: RegClass::Float,
            hw,
        }
    }
    pub fn is_int(self) -> bool {
        self.class == RegClass::Int
    }
}

/// Width of an integer operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Size {
    S32,
    S64,
}

/// Width of a float operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FSize {
    F32,
    F64,
}

/// A memory address. The frame, the outgoing argument area and the vmctx have their own
/// variants because each ISA keeps their base in a register of its choosing.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    /// Frame-pointer relative: parameters, locals, value-stack slots, the saved vmctx.
    Frame(i32),
    /// Stack-pointer relative: the outgoing argument area of calls.
    Outgoing(i32),
    /// Relative to the running instance's vmctx.
    Vmctx(i32),
    /// `base + disp`.
    Base(Reg, i32),
    /// `base + index + disp` (linear-memory accesses: index already zero-extended).
    Indexed(Reg, Reg, i32),
}

/// Second operand of an integer operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    Reg(Reg),
    /// For 64-bit operations: sign-extended to 64 bits.
    Imm(i32),
    Mem(Addr),
}

/// A condition on the flags set by [`MacroAssembler::cmp`], [`MacroAssembler::test`] or
/// [`MacroAssembler::fcmp`]. Float conditions are false when either operand is NaN, except
/// `FNe` which is true.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    Eq,
    Ne,
    LtS,
    LeS,
    GtS,
    GeS,
    LtU,
    LeU,
    GtU,
    GeU,
    FEq,
    FNe,
    FLt,
    FLe,
    FGt,
    FGe,
}

impl Cond {
    /// The condition with swapped operands (`a < b` ⇔ `b > a`), for integer conditions.
    pub fn swap(self) -> Cond {
        use Cond::*;
        match self {
            LtS => GtS,
            LeS => GeS,
            GtS => LtS,
            GeS => LeS,
            LtU => GtU,
            LeU => GeU,
            GtU => LtU,
            GeU => LeU,
            FLt => FGt,
            FLe => FGe,
            FGt => FLt,
            FGe => FLe,
            c => c,
        }
    }
}

/// Two-operand integer operations `dst = dst op src`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ShiftOp {
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BitCountOp {
    Clz,
    Ctz,
    Popcnt,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DivOp {
    DivS,
    DivU,
    RemS,
    RemU,
}

/// Float arithmetic `dst = dst op src`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// Rounding of a float to an integral float.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RoundMode {
    Nearest,
    Floor,
    Ceil,
    Trunc,
}

/// Width and extension of a load into a register.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LoadKind {
    I32,
    I64,
    F32,
    F64,
    /// `(bits, signed, into 64-bit)`: narrow integer load.
    Narrow {
        bits: u8,
        signed: bool,
        wide: bool,
    },
}

/// Width of a store from a register or immediate.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StoreKind {
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

/// In-register integer extensions.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExtendKind {
    /// i32.extend8_s
    I32From8S,
    /// i32.extend16_s
    I32From16S,
    /// i64.extend8_s
    I64From8S,
    /// i64.extend16_s
    I64From16S,
    /// i64.extend32_s, i64.extend_i32_s
    I64From32S,
    /// i64.extend_i32_u, i32.wrap_i64: clears the upper 32 bits.
    ZeroUpper32,
}

/// A call to a defined function, patched when the module's code is linked.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CallReloc {
    /// Offset of the call instruction.
    pub offset: usize,
    /// The callee's index among the defined functions.
    pub callee: u32,
}

/// Where the frame size must be written once the function is complete.
#[derive(Copy, Clone, Debug)]
pub struct FramePatch(pub usize);

/// The operations the frontend needs from a backend.
pub trait MacroAssembler {
    // ---- module-level code buffer
    /// Current code offset (a function's entry when taken right after `align_function`).
    fn code_offset(&self) -> usize;

    /// Pads to the alignment of a function entry with never-executed filler.
    fn align_function(&mut self);
    /// Resolves the branches of the function just emitted and forgets its labels (none is
    /// used by a later function).
    fn end_function(&mut self) -> std::result::Result<(), String>;
    /// Makes room for `bytes` more bytes of code (avoids regrowing the buffer).
    fn reserve(&mut self, bytes: usize);
    /// Resolves all labels and returns the machine code with the calls left to link.
    fn finish(self) -> std::result::Result<(CodeWriter, Vec<CallReloc>), String>
    where
        Self: Sized;
    /// Points the call recorded at `site` (a [`CallReloc::offset`]) of `code` at `target`
    /// (both offsets in `code`); fails when the distance is out of the instruction's range.
    fn patch_call(code: &mut [u8], site: usize, target: usize) -> std::result::Result<(), String>
    where
        Self: Sized;

    /// Registers (hardware numbers, in order of use) that may hold hot locals for a whole
    /// function; the allocator never hands them out in that function.
    fn local_regs(&self, class: RegClass) -> &'static [u8];

    /// Two GPRs (hardware numbers) that may hold memory 0's definition pointer and base for
    /// a whole function, if the ISA can spare them.
    fn memory_regs(&self) -> Option<(u8, u8)>;

    /// Register carrying the single result of a block to its end label.
    fn block_result_reg(&self, class: RegClass) -> Reg;

    /// Registers (hardware numbers, in order) carrying the first parameters of each class
    /// into a defined function's direct entry (`crate::abi`). None of them may be used by
    /// `prologue`, be a `local_regs` or `memory_regs` register, or be clobbered by the
    /// resumable stack check's slow path.
    fn arg_regs(&self, class: RegClass) -> &'static [u8];

    /// Where byte `disp` of the argument area is at a function's first instruction (before
    /// the prologue).
    fn entry_arg_addr(&self, disp: i32) -> Addr;

    // ---- labels and control
    fn new_label(&mut self) -> Label;
    fn bind(&mut self, label: Label);
    fn jmp(&mut self, label: Label);
    /// Jumps to `label` when `cond` holds (or does not hold, when `negate`).
    fn branch(&mut self, cond: Cond, negate: bool, label: Label);
    /// Called between operators: a point where the backend may place code that is jumped
    /// over (aarch64: branch islands for functions with more than ~1 MiB of code).
    fn safe_point(&mut self) {}
    /// Jumps to `targets[index]`, `index` (a 32-bit value) known to be `< targets.len()`.
    /// May clobber `index`.
    fn jump_table(&mut self, index: Reg, targets: &[Label]);
    /// The shared out-of-line exit of one trap kind.
    fn trap_stub(&mut self, kind: TrapKind);

    // ---- frame
    /// Sets up the frame and checks the stack limit (jumping to `stack_overflow` when the
    /// frame would not fit); the frame size is filled in later with `patch_frame_size`.
    /// With `save_vmctx` it stores the vmctx at `abi::VMCTX_SLOT` (only calls through a
    /// funcref read it back).
    fn prologue(&mut self, stack_overflow: Label, save_vmctx: bool) -> FramePatch;
    fn patch_frame_size(&mut self, patch: FramePatch, frame_size: u32);
    /// Zeroes `count` 8-byte frame slots starting at frame offset `lowest` upwards.
    fn zero_frame_slots(&mut self, lowest: i32, count: u32);
    fn epilogue(&mut self);
    /// Optional interrupt check (at loop headers): jumps to `interrupted` when requested.
    fn check_interrupt(&mut self, interrupted: Label);
    /// Whether the checks' slow paths may resume (`yield_stub`, `yield_stub_at_entry`):
    /// `VMRuntime::interrupt` may then also ask for a yield (see `runtime::interrupt`).
    const RESUMABLE_CHECKS: bool = false;
    /// Out-of-line slow path of a loop header's interrupt check: calls the runtime's yield
    /// entry (which traps, or returns with every register intact), then jumps to `resume`.
    fn yield_stub(&mut self, resume: Label) {
        let _ = resume;
        self.trap_stub(TrapKind::Interrupted);
    }
    /// Out-of-line slow path of the prologue's stack check: undoes the prologue up to that
    /// check, calls the yield entry, then jumps to `start`, the function's first instruction.
    fn yield_stub_at_entry(&mut self, start: Label) {
        let _ = start;
        self.trap_stub(TrapKind::StackOverflow);
    }

    // ---- moves (never change the flags)
    fn mov(&mut self, dst: Reg, src: Reg);
    /// Loads a constant of the given width (raw bits for floats).
    fn load_const(&mut self, dst: Reg, bits: u64, wide: bool);
    fn load(&mut self, kind: LoadKind, dst: Reg, addr: Addr);
    fn store(&mut self, kind: StoreKind, addr: Addr, src: Reg);
    /// Stores an immediate (sign-extended to 64 bits for `I64`).
    fn store_imm(&mut self, kind: StoreKind, addr: Addr, imm: i32);
    /// Copies 8 bytes between two memory slots.
    fn copy_slot(&mut self, dst: Addr, src: Addr);
    /// Copies 4 bytes zero-extended to 8 (i32/f32 results).
    fn copy_slot_zext32(&mut self, dst: Addr, src: Addr);
    /// Stores a 64-bit constant into a slot.
    fn store_const64(&mut self, addr: Addr, bits: u64);
    /// `dst = address of addr`.
    fn address_of(&mut self, dst: Reg, addr: Addr);
    /// `dst = base + disp` on 64 bits (disp may exceed 32 bits).
    fn add_imm64(&mut self, dst: Reg, base: Reg, disp: u64);
    /// Bit moves between classes (reinterpret).
    fn bitcast(&mut self, dst: Reg, src: Reg, wide: bool);
    /// `dst = src + imm` (`dst` ≠ `src`, `src` unchanged; `imm` sign-extended for `S64`).
    fn add_imm_to(&mut self, size: Size, dst: Reg, src: Reg, imm: i32) {
        self.mov(dst, src);
        self.alu(AluOp::Add, size, dst, Operand::Imm(imm));
    }

    // ---- integers
    fn alu(&mut self, op: AluOp, size: Size, dst: Reg, src: Operand);
    fn cmp(&mut self, size: Size, lhs: Reg, rhs: Operand);
    fn test(&mut self, size: Size, reg: Reg);
    /// `count` is an immediate or the register of [`shift_count_reg`](Self::shift_count_reg).
    fn shift(&mut self, op: ShiftOp, size: Size, dst: Reg, count: Operand);
    fn shift_count_reg(&self) -> Option<Reg>;
    fn bit_count(&mut self, op: BitCountOp, size: Size, dst: Reg, src: Reg);
    fn extend(&mut self, kind: ExtendKind, dst: Reg, src: Reg);
    /// Registers the dividend must be in / the other one clobbered: `(quotient, remainder)`.
    fn div_regs(&self) -> Option<(Reg, Reg)>;
    /// Raw division (no checks); returns the register holding the result: the quotient or
    /// remainder register of `div_regs` when the ISA fixes them, otherwise `lhs`.
    fn div(&mut self, op: DivOp, size: Size, lhs: Reg, rhs: Reg) -> Reg;
    /// `dst = cond ? 1 : 0` (32-bit).
    fn set_cond(&mut self, cond: Cond, dst: Reg);
    /// `dst = cond ? dst : other` for registers of either class.
    fn select(&mut self, cond: Cond, size: Size, dst: Reg, other: Reg);

    // ---- floats
    fn fop(&mut self, op: FloatOp, size: FSize, dst: Reg, src: Reg);
    fn fsqrt(&mut self, size: FSize, dst: Reg, src: Reg);
    /// Compares for `cond` (one of the `F*` conditions); the flags then answer `cond`.
    fn fcmp(&mut self, cond: Cond, size: FSize, lhs: Reg, rhs: Reg);
    fn promote(&mut self, dst: Reg, src: Reg);
    fn demote(&mut self, dst: Reg, src: Reg);
    /// `dst = min(dst, rhs)` / `max` with Wasm NaN and signed-zero rules.
    fn fmin_max(&mut self, is_min: bool, size: FSize, dst: Reg, rhs: Reg);
    fn fround(&mut self, mode: RoundMode, size: FSize, dst: Reg, src: Reg);
    fn fabs(&mut self, size: FSize, dst: Reg);
    fn fneg(&mut self, size: FSize, dst: Reg);
    fn fcopysign(&mut self, size: FSize, dst: Reg, rhs: Reg);
    /// Float to integer truncation; with `traps = Some((overflow, invalid))` it jumps there
    /// for out-of-range / NaN inputs, with `None` it saturates (NaN gives 0).
    fn trunc_to_int(
        &mut self,
        from: FSize,
        to: Size,
        signed: bool,
        dst: Reg,
        src: Reg,
        traps: Option<(Label, Label)>,
    );
    fn convert_from_int(&mut self, from: Size, signed: bool, to: FSize, dst: Reg, src: Reg);

    // ---- bulk memory
    /// Registers `(dst, src or fill value, count)` that `copy_bytes`/`fill_bytes` need, if fixed.
    fn bulk_regs(&self, fill: bool) -> Option<(Reg, Reg, Reg)>;
    /// Copies `count` bytes from address `src` to address `dst`; overlapping ranges are
    /// handled like `memmove`. Clobbers the three registers.
    fn copy_bytes(&mut self, dst: Reg, src: Reg, count: Reg);
    /// Stores the low byte of `value` into `count` bytes at address `dst`. Clobbers `dst` and
    /// `count`.
    fn fill_bytes(&mut self, dst: Reg, value: Reg, count: Reg);

    // ---- calls
    /// Calls the function defined at index `defined` (imports not counted), wherever the
    /// linker places it: emits a call with a zero target and records a [`CallReloc`].
    fn call_func(&mut self, defined: u32);
    /// Calls the `VMFuncRef` at `[funcref + 0]`: switches the vmctx to its own, calls its
    /// code, and restores the caller's vmctx from the frame.
    fn call_funcref(&mut self, funcref: Addr);
    /// Calls a Rust `extern "C"` builtin `(vmctx, a0, .., a{nargs-1}) -> u32`, through the
    /// store's builtin table (`VMRuntime::builtins`, never an embedded address), whose
    /// arguments are the first `nargs` (at most 5) outgoing slots; the zero-extended result
    /// is in `builtin_result_reg`.
    fn call_builtin(&mut self, builtin: Builtin, nargs: usize);
    fn builtin_result_reg(&self) -> Reg;
    /// The shared exit of builtins that return a trap code: traps with the code held in
    /// `builtin_result_reg`.
    fn trap_stub_dynamic(&mut self);

    // ---- SIMD
    /// The vector operations of this ISA, if it compiles SIMD (see [`crate::compiler::simd`]).
    /// Provided: an ISA without SIMD support need not implement anything.
    fn simd(&mut self) -> Option<&mut dyn crate::compiler::simd::SimdMasm> {
        None
    }
}
