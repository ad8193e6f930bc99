//! The entry trampoline, the host-function stub, the trap exit and (x86-64) the yield entry:
//! a small block of machine code generated once per process.
//!
//! Entry trampoline frame (x86-64), relative to its rbp:
//! ```text
//!   -8 .. -40   saved rbx, r12, r13, r14, r15 (SysV callee-saved)
//!   -48         previous VMRuntime::entry_sp (restored on return and on trap)
//!   -56         args pointer
//!   -64         nslots                      <- VMRuntime::entry_sp points here
//!   below       argument area (nslots slots, 16-byte aligned), then Wasm frames
//! ```
//! The trap exit rebuilds rbp as `entry_sp + 64`, so a trap in any nested Wasm frame
//! returns from the innermost trampoline with the trap code.
//!
//! Entry trampoline frame (aarch64), relative to its x29:
//! ```text
//!   +0 / +8      saved x29, x30
//!   -16 .. -80   saved x19..x28 (pairs)      -96 .. -144  saved d8..d15 (pairs)
//!   -160 / -152  args pointer / previous VMRuntime::entry_sp
//!   -176         nslots                      <- VMRuntime::entry_sp points here
//!   below        argument area (nslots slots, 16-byte aligned), then Wasm frames
//! ```
//! The trap exit (trap code in w0) rebuilds x29 as `entry_sp + 176`.
//!
//! Both ISAs' code is always assembled by this crate; [`build`] picks the running CPU's.

use std::sync::OnceLock;

use dynasmrt::{DynasmApi, DynasmLabelApi};

use crate::abi::{EntryTrampoline, ARGS_OFFSET};
use crate::error::{Error, Result};
use crate::runtime::code::CodeMemory;
use crate::runtime::vmctx::{HOSTCTX_CALLBACK_OFFSET, RUNTIME_ENTRY_SP_OFFSET, RUNTIME_TRAP_CODE_OFFSET};
use crate::x64_asm as asm;
use crate::a64_asm;

/// Offset of the saved-state area below the trampoline's rbp (see the module docs).
const ENTRY_FRAME_BELOW_RBP: i32 = 64;

struct EntryCode {
    code: CodeMemory,
    trampoline: usize,
    trap_exit: usize,
    host_stub: usize,
    /// 0 where generated code never calls it (see `interrupt::YIELDS_SUPPORTED`).
    yield_entry: usize,
}

static ENTRY_CODE: OnceLock<EntryCode> = OnceLock::new();

/// Offsets of the trampoline, trap exit and host stub in one block of machine code.
struct EntryLayout {
    bytes: Vec<u8>,
    trampoline: usize,
    trap_exit: usize,
    host_stub: usize,
    yield_entry: Option<usize>,
}

fn build() -> Result<EntryCode> {
    let layout = if cfg!(target_arch = "aarch64") { build_aarch64()? } else { build_x64()? };
    let code = CodeMemory::new(&layout.bytes)?;
    let base = code.as_ptr() as usize;
    Ok(EntryCode {
        trampoline: base + layout.trampoline,
        trap_exit: base + layout.trap_exit,
        host_stub: base + layout.host_stub,
        yield_entry: layout.yield_entry.map_or(0, |o| base + o),
        code,
    })
}

// dynasm's dynamic register operands (`Rx(i)`) expand to a `.into()` of the same type.
#[allow(clippy::useless_conversion)]
fn build_x64() -> Result<EntryLayout> {
    let mut a = crate::compiler::isa::x64::Asm::new();
    let trap_exit = a.new_dynamic_label();
    let epilogue = a.new_dynamic_label();

    // ---- entry trampoline: (rdi vmctx, rsi code, rdx args, rcx nslots) -> eax
    let trampoline = a.offset().0;
    let (copy_in, call, copy_out, done) = (
        a.new_dynamic_label(),
        a.new_dynamic_label(),
        a.new_dynamic_label(),
        a.new_dynamic_label(),
    );
    asm!(a
        ; push rbp
        ; mov rbp, rsp
        ; push rbx
        ; push r12
        ; push r13
        ; push r14
        ; push r15
        ; mov r15, rdi
        ; mov rax, QWORD [r15]
        ; push QWORD [rax + RUNTIME_ENTRY_SP_OFFSET]
        ; push rdx
        ; push rcx
        ; mov QWORD [rax + RUNTIME_ENTRY_SP_OFFSET], rsp
        // Argument area: nslots * 8 rounded up to keep rsp 16-byte aligned at the call.
        ; lea r11, [rcx * 8 + 15]
        ; and r11, -16
        ; sub rsp, r11
        ; test rcx, rcx
        ; jz =>call
        ; =>copy_in
        ; mov r11, QWORD [rdx + rcx * 8 - 8]
        ; mov QWORD [rsp + rcx * 8 - 8], r11
        ; dec rcx
        ; jnz =>copy_in
        ; =>call
        ; call rsi
        // The callee preserved r15; copy the results back.
        ; mov rdx, QWORD [rbp - 56]
        ; mov rcx, QWORD [rbp - 64]
        ; test rcx, rcx
        ; jz =>done
        ; =>copy_out
        ; mov r11, QWORD [rsp + rcx * 8 - 8]
        ; mov QWORD [rdx + rcx * 8 - 8], r11
        ; dec rcx
        ; jnz =>copy_out
        ; =>done
        ; mov rcx, QWORD [r15]
        ; xor eax, eax
        // Shared exit (eax = status, rcx = runtime, rbp = trampoline frame).
        ; =>epilogue
        ; mov r11, QWORD [rbp - 48]
        ; mov QWORD [rcx + RUNTIME_ENTRY_SP_OFFSET], r11
        ; lea rsp, [rbp - 40]
        ; pop r15
        ; pop r14
        ; pop r13
        ; pop r12
        ; pop rbx
        ; pop rbp
        ; ret
    );

    // ---- trap exit: jumped to with esi = trap code, [r15] = *mut VMRuntime
    a.align(16, 0xcc);
    let trap_exit_offset = a.offset().0;
    asm!(a
        ; =>trap_exit
        ; mov rcx, QWORD [r15]
        ; mov DWORD [rcx + RUNTIME_TRAP_CODE_OFFSET], esi
        ; mov rsp, QWORD [rcx + RUNTIME_ENTRY_SP_OFFSET]
        ; lea rbp, [rsp + ENTRY_FRAME_BELOW_RBP]
        ; mov eax, esi
        ; jmp =>epilogue
    );

    // ---- host stub: internal ABI -> HostCallback(ctx, args)
    a.align(16, 0xcc);
    let host_stub = a.offset().0;
    let host_trap = a.new_dynamic_label();
    asm!(a
        ; push rbp
        ; mov rbp, rsp
        ; mov rdi, r15
        ; lea rsi, [rbp + ARGS_OFFSET]
        ; call QWORD [r15 + HOSTCTX_CALLBACK_OFFSET]
        ; test eax, eax
        ; jnz =>host_trap
        ; pop rbp
        ; ret
        ; =>host_trap
        ; mov esi, eax
        ; jmp =>trap_exit
    );

    // ---- yield entry: called from a loop header's or prologue's slow path (see
    // `runtime::interrupt::wasm_yield`). Wasm code may keep live values in any register, so
    // every register the Rust callee may clobber is saved (the SysV callee-saved ones and
    // r15 = vmctx survive the call); flags are dead at both call sites.
    a.align(16, 0xcc);
    let yield_entry = a.offset().0;
    let yield_trap = a.new_dynamic_label();
    let yield_fn = crate::runtime::interrupt::wasm_yield as *const () as i64;
    asm!(a
        ; push rbp
        ; mov rbp, rsp
        ; push rax
        ; push rcx
        ; push rdx
        ; push rsi
        ; push rdi
        ; push r8
        ; push r9
        ; push r10
        ; push r11
        ; and rsp, -16
        ; sub rsp, 256
    );
    for i in 0..16u8 {
        asm!(a; movdqu [rsp + 16 * i as i32], Rx(i));
    }
    asm!(a
        ; mov rdi, QWORD [r15]
        ; mov rax, QWORD yield_fn
        ; call rax
        ; test eax, eax
        ; jnz =>yield_trap
    );
    for i in 0..16u8 {
        asm!(a; movdqu Rx(i), [rsp + 16 * i as i32]);
    }
    asm!(a
        ; lea rsp, [rbp - 72]
        ; pop r11
        ; pop r10
        ; pop r9
        ; pop r8
        ; pop rdi
        ; pop rsi
        ; pop rdx
        ; pop rcx
        ; pop rax
        ; pop rbp
        ; ret
        ; =>yield_trap
        ; mov esi, eax
        ; jmp =>trap_exit
    );

    let bytes = a
        .finalize()
        .map_err(|e| Error::Resource(format!("cannot assemble entry code: {e}")))?;
    Ok(EntryLayout { bytes, trampoline, trap_exit: trap_exit_offset, host_stub, yield_entry: Some(yield_entry) })
}

/// Offset of the saved-state area below the aarch64 trampoline's x29 (see the module docs).
const A64_ENTRY_FRAME_BELOW_FP: u32 = 176;

fn build_aarch64() -> Result<EntryLayout> {
    let mut a = crate::compiler::isa::aarch64::Asm::new();
    let trap_exit = a.new_dynamic_label();
    let epilogue = a.new_dynamic_label();
    let entry_sp = RUNTIME_ENTRY_SP_OFFSET as u32;
    let trap_code = RUNTIME_TRAP_CODE_OFFSET as u32;

    // ---- entry trampoline: (x0 vmctx, x1 code, x2 args, x3 nslots) -> w0
    let trampoline = a.offset().0;
    let (copy_in, call, copy_out, done) = (
        a.new_dynamic_label(),
        a.new_dynamic_label(),
        a.new_dynamic_label(),
        a.new_dynamic_label(),
    );
    a64_asm!(a
        ; stp x29, x30, [sp, #-16]!
        ; mov x29, sp
        // AAPCS64 callee-saved state: Wasm code clobbers every other register.
        ; stp x19, x20, [sp, #-16]!
        ; stp x21, x22, [sp, #-16]!
        ; stp x23, x24, [sp, #-16]!
        ; stp x25, x26, [sp, #-16]!
        ; stp x27, x28, [sp, #-16]!
        ; stp d8, d9, [sp, #-16]!
        ; stp d10, d11, [sp, #-16]!
        ; stp d12, d13, [sp, #-16]!
        ; stp d14, d15, [sp, #-16]!
        ; mov x28, x0
        ; ldr x16, [x28]
        ; ldr x17, [x16, #entry_sp]
        ; stp x2, x17, [sp, #-16]!
        ; stp x3, xzr, [sp, #-16]!
        ; mov x17, sp
        ; str x17, [x16, #entry_sp]
        // Argument area: nslots * 8 rounded up to keep sp 16-byte aligned.
        ; lsl x17, x3, #3
        ; add x17, x17, #15
        ; and x17, x17, #-16i64 as u64
        ; sub sp, sp, x17
        ; cbz x3, =>call
        ; =>copy_in
        ; sub x3, x3, #1
        ; ldr x16, [x2, x3, lsl #3]
        ; str x16, [sp, x3, lsl #3]
        ; cbnz x3, =>copy_in
        ; =>call
        ; blr x1
        // The callee preserved x28 and x29; copy the results back.
        ; ldur x2, [x29, #-160]
        ; ldur x3, [x29, #-176]
        ; cbz x3, =>done
        ; =>copy_out
        ; sub x3, x3, #1
        ; ldr x16, [sp, x3, lsl #3]
        ; str x16, [x2, x3, lsl #3]
        ; cbnz x3, =>copy_out
        ; =>done
        ; ldr x16, [x28]
        ; movz w0, #0
        // Shared exit (w0 = status, x16 = runtime, x29 = trampoline frame).
        ; =>epilogue
        ; ldur x17, [x29, #-152]
        ; str x17, [x16, #entry_sp]
        ; sub sp, x29, #144
        ; ldp d14, d15, [sp], #16
        ; ldp d12, d13, [sp], #16
        ; ldp d10, d11, [sp], #16
        ; ldp d8, d9, [sp], #16
        ; ldp x27, x28, [sp], #16
        ; ldp x25, x26, [sp], #16
        ; ldp x23, x24, [sp], #16
        ; ldp x21, x22, [sp], #16
        ; ldp x19, x20, [sp], #16
        ; ldp x29, x30, [sp], #16
        ; ret
    );

    // ---- trap exit: jumped to with w0 = trap code, [x28] = *mut VMRuntime
    a.align(16, 0);
    let trap_exit_offset = a.offset().0;
    a64_asm!(a
        ; =>trap_exit
        ; ldr x16, [x28]
        ; str w0, [x16, #trap_code]
        ; ldr x17, [x16, #entry_sp]
        ; mov sp, x17
        ; add x29, x17, #A64_ENTRY_FRAME_BELOW_FP
        ; b =>epilogue
    );

    // ---- host stub: internal ABI -> HostCallback(ctx, args)
    a.align(16, 0);
    let host_stub = a.offset().0;
    let host_trap = a.new_dynamic_label();
    let callback = HOSTCTX_CALLBACK_OFFSET as u32;
    a64_asm!(a
        ; stp x29, x30, [sp, #-16]!
        ; mov x29, sp
        ; mov x0, x28
        ; add x1, x29, #ARGS_OFFSET as u32
        ; ldr x16, [x28, #callback]
        ; blr x16
        ; cbnz w0, =>host_trap
        ; ldp x29, x30, [sp], #16
        ; ret
        ; =>host_trap
        ; b =>trap_exit
    );

    let bytes = a
        .finalize()
        .map_err(|e| Error::Resource(format!("cannot assemble entry code: {e}")))?;
    Ok(EntryLayout { bytes, trampoline, trap_exit: trap_exit_offset, host_stub, yield_entry: None })
}

fn entry_code() -> &'static EntryCode {
    ENTRY_CODE.get_or_init(|| match build() {
        Ok(code) => code,
        // Without these few bytes of executable memory nothing can run at all.
        Err(e) => panic!("wazero: {e}"),
    })
}

/// The entry trampoline (see [`crate::abi`]).
pub fn entry_trampoline() -> EntryTrampoline {
    let code = entry_code();
    debug_assert!(!code.code.is_empty());
    // SAFETY: `trampoline` is the start of the trampoline emitted by `build`, which follows
    // the `EntryTrampoline` (extern "C") signature; the code stays mapped for the whole process
    // because `ENTRY_CODE` is never dropped.
    unsafe { std::mem::transmute::<usize, EntryTrampoline>(code.trampoline) }
}

/// Address to store in `VMRuntime::trap_exit`.
pub fn trap_exit_address() -> usize {
    entry_code().trap_exit
}

/// Address to store in `VMRuntime::yield_entry` (0 where generated code never calls it).
pub fn yield_entry_address() -> usize {
    entry_code().yield_entry
}

/// `VMFuncRef::code` of every host function.
pub fn host_stub_address() -> *const u8 {
    entry_code().host_stub as *const u8
}
