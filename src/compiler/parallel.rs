//! Compiling a module's functions on several threads, then linking them into one code
//! buffer.
//!
//! The defined functions are cut into *chunks* of consecutive functions. Each chunk is
//! validated and compiled into its own code buffer (functions 16-byte aligned from the
//! chunk's start, the chunk padded to 16 bytes at its end); calls between functions are left
//! as [`CallReloc`]s. The linker places the chunks one after the other and patches the
//! calls. Layout and bytes therefore do not depend on the chunking or the thread count: a
//! module compiled on one thread is byte-identical to the same module compiled on many.
//!
//! Errors are deterministic too: a chunk stops at its first error, and the error of the
//! lowest chunk wins (the one a serial compile would have reported).

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use wasmparser::{FuncToValidate, FunctionBody, ValidatorResources};

use crate::compiler::body::BodyCompiler;
use crate::compiler::frontend::ModuleEnv;
use crate::compiler::masm::{CallReloc, MacroAssembler};
use crate::compiler::regalloc::RegAlloc;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::runtime::code::{CodeMemory, CodeWriter};

/// A function body still to validate and compile.
pub(crate) type Body<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// Modules with fewer body bytes than this compile on the calling thread: starting threads
/// would cost more than it saves.
pub const PARALLEL_MIN_BYTES: usize = 128 * 1024;

/// Body bytes per chunk, at least (small enough to balance the threads, large enough that
/// taking a chunk is rare).
const CHUNK_MIN_BYTES: usize = 32 * 1024;

/// The environment variable that sets the default compile thread count.
pub const THREADS_ENV: &str = "WAZERO_COMPILE_THREADS";

/// Threads used to compile a large module unless told otherwise: `WAZERO_COMPILE_THREADS`
/// when it is a positive integer, else the number of CPUs available to the process.
pub fn default_threads() -> usize {
    // Asked once: on Linux the answer reads cgroup files, too slow for every tiny module.
    static CPUS: OnceLock<usize> = OnceLock::new();
    std::env::var(THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())))
}

/// The code of consecutive functions, its calls not yet linked.
struct ChunkCode {
    code: CodeWriter,
    /// Area entry of each function (its `VMFuncRef` code), from the chunk's start.
    func_offsets: Vec<usize>,
    /// Direct entry of each function: the target of direct calls.
    direct_offsets: Vec<usize>,
    relocs: Vec<CallReloc>,
}

/// Machine code bytes per Wasm body byte, a little above the usual (x86-64, generated
/// compile workload: 2.4).
const CODE_PER_BODY_BYTE: usize = 3;

/// Everything the threads share to compile chunks.
struct Job<'e, 'a, F> {
    env: &'e ModuleEnv<'e>,
    regs: &'e RegAlloc,
    new_masm: &'e F,
    _bodies: std::marker::PhantomData<Body<'a>>,
}

impl<'a, M: MacroAssembler, F: Fn() -> M> Job<'_, 'a, F> {
    /// Validates and compiles the functions `first..` (defined indices) of one chunk.
    fn compile_chunk(&self, body_compiler: &mut BodyCompiler<'a>, first: usize, bodies: Vec<Body<'a>>) -> Result<ChunkCode> {
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let mut masm = (self.new_masm)();
            // Capped by the code-size limit (checked after every operator).
            let estimate = CODE_PER_BODY_BYTE * bodies.iter().map(|(_, b)| b.as_bytes().len()).sum::<usize>();
            masm.reserve(estimate.min(usize::try_from(self.env.limits.max_code_size).unwrap_or(usize::MAX)));
            let mut func_offsets = Vec::with_capacity(bodies.len());
            let mut direct_offsets = Vec::with_capacity(bodies.len());
            for (i, (func, body)) in bodies.into_iter().enumerate() {
                let func_index = self.env.info.num_imported_funcs + (first + i) as u32;
                // Functions start 16-byte aligned (better decoding, stable benchmarks).
                masm.align_function();
                let start = masm.code_offset();
                let entries = body_compiler.compile(&mut masm, self.env, self.regs, func_index, func, body)?;
                masm.end_function().map_err(internal_error)?;
                let (area, direct) = entries.unwrap_or((start, start));
                func_offsets.push(area);
                direct_offsets.push(direct);
            }
            masm.align_function();
            let (code, relocs) = masm.finish().map_err(internal_error)?;
            code.check()?;
            Ok(ChunkCode { code, func_offsets, direct_offsets, relocs })
        }));
        caught.unwrap_or_else(|panic| Err(panic_error(panic)))
    }
}

/// Validates and compiles `bodies` (all defined functions, in order) on up to `threads`
/// threads; returns the code, still to be linked.
pub(crate) fn compile_functions<M: MacroAssembler>(
    env: &ModuleEnv<'_>,
    regs: &RegAlloc,
    new_masm: &(impl Fn() -> M + Sync),
    bodies: Vec<Body<'_>>,
    threads: usize,
) -> Result<Unlinked> {
    let job = Job { env, regs, new_masm, _bodies: std::marker::PhantomData };
    let total: usize = bodies.iter().map(|(_, b)| b.as_bytes().len()).sum();
    let chunks = if threads <= 1 || total < PARALLEL_MIN_BYTES {
        vec![job.compile_chunk(&mut BodyCompiler::default(), 0, bodies)?]
    } else {
        let ranges = plan_chunks(&bodies, (total / (4 * threads)).max(CHUNK_MIN_BYTES));
        let threads = threads.min(ranges.len());
        run_parallel(&job, split(bodies, &ranges), threads)?
    };
    let len: usize = chunks.iter().map(|c| c.code.len()).sum();
    let what = || "bytes of code for the module".to_string();
    Limits::check("max_code_size", len as u64, env.limits.max_code_size, what, 0)?;
    Ok(Unlinked { chunks, len, patch_call: M::patch_call })
}

/// Cuts the functions into consecutive ranges of about `target` body bytes.
fn plan_chunks(bodies: &[Body<'_>], target: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, (_, body)) in bodies.iter().enumerate() {
        bytes += body.as_bytes().len();
        if bytes >= target {
            ranges.push(start..i + 1);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < bodies.len() {
        ranges.push(start..bodies.len());
    }
    ranges
}

/// Moves the bodies into one vector per range: `(first function, bodies)`.
fn split<'a>(bodies: Vec<Body<'a>>, ranges: &[Range<usize>]) -> Vec<(usize, Vec<Body<'a>>)> {
    let mut rest = bodies.into_iter();
    ranges.iter().map(|r| (r.start, rest.by_ref().take(r.len()).collect())).collect()
}

/// Compiles the chunks on `threads` scoped threads (the calling thread is one of them),
/// each taking the next chunk in order; returns the chunks in order or the first error.
fn run_parallel<'a, M: MacroAssembler, F: Fn() -> M + Sync>(
    job: &Job<'_, 'a, F>,
    chunks: Vec<(usize, Vec<Body<'a>>)>,
    threads: usize,
) -> Result<Vec<ChunkCode>> {
    let n = chunks.len();
    let queue = Mutex::new(chunks.into_iter().enumerate());
    // Lowest chunk that failed: later chunks need not be compiled.
    let first_error = AtomicUsize::new(usize::MAX);
    let worker = || {
        let mut body_compiler = BodyCompiler::default();
        let mut done: Vec<(usize, Result<ChunkCode>)> = Vec::new();
        loop {
            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
            let Some((k, (first, bodies))) = next else { break };
            if k > first_error.load(Ordering::Relaxed) {
                break;
            }
            let result = job.compile_chunk(&mut body_compiler, first, bodies);
            if result.is_err() {
                first_error.fetch_min(k, Ordering::Relaxed);
            }
            done.push((k, result));
        }
        done
    };
    let mut results: Vec<Option<Result<ChunkCode>>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(worker)).collect();
        let mut all = worker();
        for h in handles {
            // A worker catches the panics of the compiler; anything else is a bug here.
            all.extend(h.join().unwrap_or_else(|p| vec![(0, Err(panic_error(p)))]));
        }
        for (k, r) in all {
            results[k] = Some(r);
        }
    });
    let mut chunks = Vec::with_capacity(n);
    for r in results {
        match r {
            Some(r) => chunks.push(r?),
            None => unreachable!("a chunk below the first error was skipped"),
        }
    }
    Ok(chunks)
}

/// A module's compiled chunks, to be placed one after the other with their calls patched:
/// as executable code ([`Unlinked::into_executable`]: a single chunk in place, several
/// copied into one mapping, each freed once copied, so the code never exists twice in
/// full), or into a `Vec` ([`Unlinked::into_vec`], cross-compilation).
pub(crate) struct Unlinked {
    chunks: Vec<ChunkCode>,
    len: usize,
    patch_call: PatchCall,
}

/// [`MacroAssembler::patch_call`] of the ISA the chunks were compiled for.
type PatchCall = fn(&mut [u8], usize, usize) -> std::result::Result<(), String>;

impl Unlinked {
    /// Writes the linked code into `out` (exactly as long as the code), freeing each
    /// chunk once copied; returns each function's area-entry offset (its `VMFuncRef` code).
    fn link_into(self, out: &mut [u8]) -> Result<Vec<usize>> {
        if out.len() != self.len {
            return Err(internal_error(format!("{} bytes to link into {}", self.len, out.len())));
        }
        let n: usize = self.chunks.iter().map(|c| c.func_offsets.len()).sum();
        let mut func_offsets = Vec::with_capacity(n);
        let mut direct_offsets = Vec::with_capacity(n);
        let mut relocs = Vec::with_capacity(self.chunks.iter().map(|c| c.relocs.len()).sum());
        let mut base = 0;
        for chunk in self.chunks {
            debug_assert_eq!(base % 16, 0, "chunks end 16-byte aligned");
            func_offsets.extend(chunk.func_offsets.iter().map(|o| base + o));
            direct_offsets.extend(chunk.direct_offsets.iter().map(|o| base + o));
            relocs.extend(chunk.relocs.iter().map(|r| CallReloc { offset: base + r.offset, callee: r.callee }));
            out[base..base + chunk.code.len()].copy_from_slice(chunk.code.bytes());
            base += chunk.code.len();
        }
        patch_calls(self.patch_call, out, &relocs, &direct_offsets)?;
        Ok(func_offsets)
    }

    /// The linked code, read+execute, and each function's area-entry offset. A single chunk
    /// (any module compiled on one thread) is linked and made executable in place.
    pub fn into_executable(mut self) -> Result<(CodeMemory, Vec<usize>)> {
        if self.chunks.len() != 1 {
            return CodeMemory::build(self.len, |out| self.link_into(out));
        }
        let ChunkCode { mut code, func_offsets, direct_offsets, relocs } = self.chunks.pop().expect("one chunk");
        patch_calls(self.patch_call, code.bytes_mut(), &relocs, &direct_offsets)?;
        Ok((code.into_executable()?, func_offsets))
    }

    /// The linked code as a `Vec` and each function's area-entry offset.
    pub fn into_vec(self) -> Result<(Vec<u8>, Vec<usize>)> {
        let mut code = vec![0; self.len];
        let func_offsets = self.link_into(&mut code)?;
        Ok((code, func_offsets))
    }
}

/// Points every call at its callee's direct entry.
fn patch_calls(patch_call: PatchCall, code: &mut [u8], relocs: &[CallReloc], direct_offsets: &[usize]) -> Result<()> {
    for r in relocs {
        let target = *direct_offsets
            .get(r.callee as usize)
            .ok_or_else(|| internal_error(format!("call to function {} that has no code", r.callee)))?;
        patch_call(code, r.offset, target).map_err(internal_error)?;
    }
    Ok(())
}

fn internal_error(e: impl std::fmt::Display) -> Error {
    Error::Compile { message: format!("internal compiler error: {e}"), offset: None }
}

/// A compiler panic as an error (it must never unwind into the caller, possibly Python).
pub(crate) fn panic_error(panic: Box<dyn std::any::Any + Send>) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    internal_error(what)
}
