//! The entry trampoline, the host-function stub and the trap exit: a small block of machine
//! code generated once per process.
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

use std::sync::OnceLock;

use dynasmrt::{DynasmApi, DynasmLabelApi};

use crate::abi::{EntryTrampoline, ARGS_OFFSET};
use crate::error::{Error, Result};
use crate::runtime::code::CodeMemory;
use crate::runtime::vmctx::{HOSTCTX_CALLBACK_OFFSET, RUNTIME_ENTRY_SP_OFFSET, RUNTIME_TRAP_CODE_OFFSET};
use crate::x64_asm as asm;

/// Offset of the saved-state area below the trampoline's rbp (see the module docs).
const ENTRY_FRAME_BELOW_RBP: i32 = 64;

struct EntryCode {
    code: CodeMemory,
    trampoline: usize,
    trap_exit: usize,
    host_stub: usize,
}

static ENTRY_CODE: OnceLock<EntryCode> = OnceLock::new();

fn build() -> Result<EntryCode> {
    let mut a = crate::compiler::isa::x64::Asm::new(0);
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

    let bytes = a
        .finalize()
        .map_err(|e| Error::Resource(format!("cannot assemble entry code: {e}")))?;
    let code = CodeMemory::new(&bytes)?;
    let base = code.as_ptr() as usize;
    Ok(EntryCode {
        trampoline: base + trampoline,
        trap_exit: base + trap_exit_offset,
        host_stub: base + host_stub,
        code,
    })
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
    // the `EntryTrampoline` (sysv64) signature; the code stays mapped for the whole process
    // because `ENTRY_CODE` is never dropped.
    unsafe { std::mem::transmute::<usize, EntryTrampoline>(code.trampoline) }
}

/// Address to store in `VMRuntime::trap_exit`.
pub fn trap_exit_address() -> usize {
    entry_code().trap_exit
}

/// `VMFuncRef::code` of every host function.
pub fn host_stub_address() -> *const u8 {
    entry_code().host_stub as *const u8
}
