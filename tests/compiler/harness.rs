//! A fake instance: the structures generated code reads, built by hand (no store/runtime).

#![allow(dead_code)]

pub use wasmparser::{Parser, ValidPayload, Validator};
pub use wazero::compiler::{compile_module, CompiledCode};
pub use wazero::module::{ConstExpr, DataMode, ElemMode, ExportKind, ModuleInfo};
pub use wazero::runtime::entry::{entry_trampoline, host_stub_address, trap_exit_address};
pub use wazero::runtime::typeids::type_id;
pub use wazero::runtime::vmctx::{
    VMDataSegment, VMFuncRef, VMGlobal, VMHostCtx, VMMemoryDef, VMRuntime, VMTableDef,
};
pub use wazero::{abi, Module, TrapKind, ValType};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// A host import: receives the argument area, returns 0 or a trap code.
pub type HostFn = Box<dyn FnMut(&mut [u64]) -> u32>;

struct HostData {
    f: HostFn,
    nslots: usize,
}

unsafe extern "C" fn host_callback(ctx: *mut u8, args: *mut u64) -> u32 {
    // SAFETY: `ctx` is the `VMHostCtx` built by `Instance::new`, whose `data` is a live
    // `HostData`; `args` points to the caller's argument area of `nslots` slots.
    unsafe {
        let ctx = &*(ctx as *const VMHostCtx);
        let data = &mut *(ctx.data as *mut HostData);
        let args = std::slice::from_raw_parts_mut(args, data.nslots);
        (data.f)(args)
    }
}

/// A fake instance: every structure generated code reads, owned by the test.
pub struct Instance {
    pub info: ModuleInfo,
    pub _code: CompiledCode,
    pub runtime: Box<VMRuntime>,
    pub vmctx: Vec<u64>,
    _memory: Option<Box<VMMemoryDef>>,
    pub memory_bytes: Vec<u8>,
    _globals: Vec<Box<VMGlobal>>,
    _tables: Vec<(Box<VMTableDef>, Vec<u64>)>,
    _hosts: Vec<(Box<VMHostCtx>, Box<HostData>)>,
}

pub fn compile(bytes: &[u8]) -> wazero::Result<(ModuleInfo, CompiledCode)> {
    // `Module` keeps its code private; compile a second time through the public compiler API.
    let info = Module::new(bytes)?.info().clone();
    let mut validator = Validator::new_with_features(wazero::module::features());
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        if let ValidPayload::Func(f, b) = validator.payload(&payload?)? {
            bodies.push((f, b));
        }
    }
    let code = compile_module(&info, bodies)?;
    Ok((info, code))
}

fn const_bits(c: &ConstExpr) -> u64 {
    match c {
        ConstExpr::I32(v) => *v as u32 as u64,
        ConstExpr::I64(v) => *v as u64,
        ConstExpr::F32(v) => *v as u64,
        ConstExpr::F64(v) => *v,
        _ => panic!("unsupported constant in test harness"),
    }
}

fn globals_read(globals: &[Box<VMGlobal>], i: u32) -> [u8; 8] {
    globals[i as usize].bytes[..8].try_into().unwrap()
}

/// Segment offsets: constants, or `global.get` of an imported (spectest, 666) global.
fn const_or_global(c: &ConstExpr, _info: &ModuleInfo) -> u64 {
    match c {
        ConstExpr::GlobalGet(_) => 666,
        c => const_bits(c),
    }
}

impl Instance {
    pub fn new(wat: &str) -> Instance {
        Self::with_hosts(wat, Vec::new())
    }

    pub fn with_hosts(wat: &str, hosts: Vec<HostFn>) -> Instance {
        let bytes = wat::parse_str(wat).expect("wat");
        let (info, code) = compile(&bytes).expect("compile");
        Self::build(info, code, hosts)
    }

    /// Builds the instance structures. Imports: functions take `hosts` in order (or do
    /// nothing when `hosts` runs out), globals get the `spectest` values, imported memories
    /// and tables their minimum size.
    pub fn build(info: ModuleInfo, code: CompiledCode, mut hosts: Vec<HostFn>) -> Instance {
        let offsets = info.vm_offsets();
        let local_sp = 0u8;
        let sp = &local_sp as *const u8 as usize;
        let mut runtime = Box::new(VMRuntime {
            stack_limit: AtomicUsize::new(sp - 512 * 1024),
            entry_sp: AtomicUsize::new(0),
            trap_exit: trap_exit_address(),
            trap_code: AtomicU32::new(0),
            interrupt: AtomicU32::new(0),
        });
        let mut vmctx = vec![0u64; offsets.size().div_ceil(8)];
        let base = vmctx.as_mut_ptr() as *mut u8;
        let put = |off: i32, v: u64| {
            // SAFETY: offsets from `VMOffsets` are inside the buffer and 8-byte aligned.
            unsafe { *(base.add(off as usize) as *mut u64) = v }
        };
        put(0, &mut *runtime as *mut VMRuntime as u64);

        let mut memory = None;
        let mut memory_bytes = Vec::new();
        if let Some(m) = info.memories.first() {
            memory_bytes = vec![0u8; m.min as usize * 65536];
            for d in &info.data {
                if let DataMode::Active { offset, .. } = &d.mode {
                    let at = const_or_global(offset, &info) as usize;
                    memory_bytes[at..at + d.bytes.len()].copy_from_slice(&d.bytes);
                }
            }
            let mut def = Box::new(VMMemoryDef {
                base: memory_bytes.as_mut_ptr(),
                len: memory_bytes.len() as u64,
            });
            put(8, &mut *def as *mut VMMemoryDef as u64);
            memory = Some(def);
        }
        // Passive data segments for `memory.init` (the bytes live in `info`, kept below);
        // active ones were applied above and count as dropped (length 0).
        for (i, d) in info.data.iter().enumerate() {
            let len = if matches!(d.mode, DataMode::Passive) { d.bytes.len() as u64 } else { 0 };
            let seg = VMDataSegment { base: d.bytes.as_ptr(), len };
            // SAFETY: the descriptor lies inside the vmctx buffer (8-byte aligned).
            unsafe { (base.add(offsets.data_segment(i as u32) as usize) as *mut VMDataSegment).write(seg) }
        }
        let mut globals = Vec::new();
        for (i, g) in info.globals.iter().enumerate() {
            let mut cell = Box::new(VMGlobal::default());
            let bits = if i < info.num_imported_globals as usize {
                match g.content {
                    ValType::F32 => 666.6f32.to_bits() as u64,
                    ValType::F64 => 666.6f64.to_bits(),
                    _ => 666,
                }
            } else {
                match &info.global_inits[i - info.num_imported_globals as usize] {
                    ConstExpr::GlobalGet(j) => u64::from_le_bytes(globals_read(&globals, *j)),
                    ConstExpr::RefNull(_) => 0,
                    ConstExpr::RefFunc(f) => base as u64 + offsets.func(*f) as u64,
                    c => const_bits(c),
                }
            };
            cell.bytes[..8].copy_from_slice(&bits.to_le_bytes());
            put(offsets.global(i as u32), &mut *cell as *mut VMGlobal as u64);
            globals.push(cell);
        }
        for (i, ty) in info.types.iter().enumerate() {
            let off = offsets.type_id(i as u32) as usize;
            // SAFETY: inside the buffer, 4-byte aligned.
            unsafe { *(base.add(off) as *mut u32) = type_id(ty) };
        }
        let mut host_objs = Vec::new();
        for f in 0..info.funcs.len() as u32 {
            let ty = info.func_type(f);
            let (code_ptr, ctx) = if f < info.num_imported_funcs {
                let f: HostFn = if hosts.is_empty() {
                    Box::new(|_: &mut [u64]| 0)
                } else {
                    hosts.remove(0)
                };
                let mut data = Box::new(HostData {
                    f,
                    nslots: abi::arg_area_slots(ty),
                });
                let mut hctx = Box::new(VMHostCtx {
                    runtime: &mut *runtime,
                    callback: host_callback,
                    data: &mut *data as *mut HostData as *mut u8,
                });
                let p = &mut *hctx as *mut VMHostCtx as *mut u8;
                host_objs.push((hctx, data));
                (host_stub_address(), p)
            } else {
                let local = (f - info.num_imported_funcs) as usize;
                // SAFETY: the offset is inside the module's code block.
                (unsafe { code.code.as_ptr().add(code.func_offsets[local]) }, base)
            };
            let fr = VMFuncRef {
                code: code_ptr,
                vmctx: ctx,
                type_id: type_id(ty),
                _pad: 0,
            };
            let off = offsets.func(f) as usize;
            // SAFETY: inside the buffer, 8-byte aligned.
            unsafe { *(base.add(off) as *mut VMFuncRef) = fr };
        }
        let mut tables = Vec::new();
        for (t, tt) in info.tables.iter().enumerate() {
            let mut elems = vec![0u64; tt.min as usize];
            for e in &info.elements {
                if let ElemMode::Active { table, offset } = &e.mode {
                    if *table as usize != t {
                        continue;
                    }
                    let at = const_or_global(offset, &info) as usize;
                    for (k, item) in e.items.iter().enumerate() {
                        if let ConstExpr::RefFunc(f) = item {
                            elems[at + k] = base as u64 + offsets.func(*f) as u64;
                        }
                    }
                }
            }
            let mut def = Box::new(VMTableDef {
                base: elems.as_mut_ptr(),
                len: elems.len() as u64,
            });
            put(offsets.table(t as u32), &mut *def as *mut VMTableDef as u64);
            tables.push((def, elems));
        }
        Instance {
            info,
            _code: code,
            runtime,
            vmctx,
            _memory: memory,
            memory_bytes,
            _globals: globals,
            _tables: tables,
            _hosts: host_objs,
        }
    }

    pub fn func_index(&self, name: &str) -> u32 {
        self.info
            .exports
            .iter()
            .find(|e| e.name == name && e.kind == ExportKind::Func)
            .unwrap_or_else(|| panic!("no export {name}"))
            .index
    }

    /// Calls an export with raw slot values; returns the raw result slots.
    pub fn call_raw(&mut self, name: &str, args: &[u64]) -> Result<Vec<u64>, TrapKind> {
        let f = self.func_index(name);
        let ty = self.info.func_type(f).clone();
        assert_eq!(args.len(), ty.params.len(), "{name}: argument count");
        let n = abi::arg_area_slots(&ty);
        let mut area = vec![0u64; n.max(1)];
        area[..args.len()].copy_from_slice(args);
        let base = self.vmctx.as_mut_ptr() as *mut u8;
        let off = self.info.vm_offsets().func(f) as usize;
        // SAFETY: the funcref was written by `new`.
        let fr = unsafe { *(base.add(off) as *const VMFuncRef) };
        let tramp = entry_trampoline();
        // SAFETY: the instance structures outlive the call; `area` has `n` slots.
        let status = unsafe { tramp(fr.vmctx, fr.code, area.as_mut_ptr(), n) };
        if status != 0 {
            assert_eq!(self.runtime.trap_code.load(Ordering::Relaxed), status);
            return Err(TrapKind::from_code(status).expect("known trap code"));
        }
        Ok(area[..ty.results.len()].to_vec())
    }

    pub fn call(&mut self, name: &str, args: &[u64]) -> Result<u64, TrapKind> {
        self.call_raw(name, args).map(|r| r[0])
    }
}
