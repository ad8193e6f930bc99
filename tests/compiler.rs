//! End-to-end tests of the compiler: modules written in WAT are compiled and run through the
//! entry trampoline inside a minimal, hand-built instance (no store/runtime involved).

// Boxes keep the addresses generated code holds stable; tables of reference closures read best inline.
#![allow(clippy::vec_box, clippy::type_complexity)]

use wasmparser::{Parser, ValidPayload, Validator};
use wazero::compiler::{compile_module, CompiledCode};
use wazero::module::{ConstExpr, DataMode, ElemMode, ExportKind, ModuleInfo};
use wazero::runtime::entry::{entry_trampoline, host_stub_address, trap_exit_address};
use wazero::runtime::typeids::type_id;
use wazero::runtime::vmctx::{VMFuncRef, VMGlobal, VMHostCtx, VMMemoryDef, VMRuntime, VMTableDef};
use wazero::{abi, Module, TrapKind, ValType};

/// A host import: receives the argument area, returns 0 or a trap code.
type HostFn = Box<dyn FnMut(&mut [u64]) -> u32>;

struct HostData {
    f: HostFn,
    nslots: usize,
}

unsafe extern "sysv64" fn host_callback(ctx: *mut u8, args: *mut u64) -> u32 {
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
struct Instance {
    info: ModuleInfo,
    _code: CompiledCode,
    runtime: Box<VMRuntime>,
    vmctx: Vec<u64>,
    _memory: Option<Box<VMMemoryDef>>,
    memory_bytes: Vec<u8>,
    _globals: Vec<Box<VMGlobal>>,
    _tables: Vec<(Box<VMTableDef>, Vec<u64>)>,
    _hosts: Vec<(Box<VMHostCtx>, Box<HostData>)>,
}

fn compile(bytes: &[u8]) -> wazero::Result<(ModuleInfo, CompiledCode)> {
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
    fn new(wat: &str) -> Instance {
        Self::with_hosts(wat, Vec::new())
    }

    fn with_hosts(wat: &str, hosts: Vec<HostFn>) -> Instance {
        let bytes = wat::parse_str(wat).expect("wat");
        let (info, code) = compile(&bytes).expect("compile");
        Self::build(info, code, hosts)
    }

    /// Builds the instance structures. Imports: functions take `hosts` in order (or do
    /// nothing when `hosts` runs out), globals get the `spectest` values, imported memories
    /// and tables their minimum size.
    fn build(info: ModuleInfo, code: CompiledCode, mut hosts: Vec<HostFn>) -> Instance {
        let offsets = info.vm_offsets();
        let local_sp = 0u8;
        let sp = &local_sp as *const u8 as usize;
        let mut runtime = Box::new(VMRuntime {
            stack_limit: sp - 512 * 1024,
            entry_sp: 0,
            trap_exit: trap_exit_address(),
            trap_code: 0,
            interrupt: 0,
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

    fn func_index(&self, name: &str) -> u32 {
        self.info
            .exports
            .iter()
            .find(|e| e.name == name && e.kind == ExportKind::Func)
            .unwrap_or_else(|| panic!("no export {name}"))
            .index
    }

    /// Calls an export with raw slot values; returns the raw result slots.
    fn call_raw(&mut self, name: &str, args: &[u64]) -> Result<Vec<u64>, TrapKind> {
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
            assert_eq!(self.runtime.trap_code, status);
            return Err(TrapKind::from_code(status).expect("known trap code"));
        }
        Ok(area[..ty.results.len()].to_vec())
    }

    fn call(&mut self, name: &str, args: &[u64]) -> Result<u64, TrapKind> {
        self.call_raw(name, args).map(|r| r[0])
    }
}

// ------------------------------------------------------------------ integer operators

const I32_EDGES: &[u32] = &[
    0,
    1,
    2,
    3,
    7,
    31,
    32,
    33,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0x8000,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0001,
    0xffff_fffe,
    0xffff_ffff,
    0x1234_5678,
    0xdead_beef,
];
const I64_EDGES: &[u64] = &[
    0,
    1,
    2,
    7,
    63,
    64,
    65,
    0xff,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff,
    0x8000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0x8000_0000_0000_0001,
    u64::MAX,
    u64::MAX - 1,
    0x0123_4567_89ab_cdef,
    0xfedc_ba98_7654_3210,
];

type Ref32 = fn(u32, u32) -> Result<u32, TrapKind>;
type Ref64 = fn(u64, u64) -> Result<u64, TrapKind>;

fn i32_binops() -> Vec<(&'static str, Ref32)> {
    use TrapKind::*;
    vec![
        ("add", |a, b| Ok(a.wrapping_add(b))),
        ("sub", |a, b| Ok(a.wrapping_sub(b))),
        ("mul", |a, b| Ok(a.wrapping_mul(b))),
        ("and", |a, b| Ok(a & b)),
        ("or", |a, b| Ok(a | b)),
        ("xor", |a, b| Ok(a ^ b)),
        ("shl", |a, b| Ok(a.wrapping_shl(b))),
        ("shr_s", |a, b| Ok((a as i32).wrapping_shr(b) as u32)),
        ("shr_u", |a, b| Ok(a.wrapping_shr(b))),
        ("rotl", |a, b| Ok(a.rotate_left(b % 32))),
        ("rotr", |a, b| Ok(a.rotate_right(b % 32))),
        ("div_s", |a, b| match (a as i32).checked_div(b as i32) {
            _ if b == 0 => Err(IntegerDivideByZero),
            Some(v) => Ok(v as u32),
            None => Err(IntegerOverflow),
        }),
        ("div_u", |a, b| a.checked_div(b).ok_or(IntegerDivideByZero)),
        ("rem_s", |a, b| {
            if b == 0 {
                Err(IntegerDivideByZero)
            } else {
                Ok((a as i32).wrapping_rem(b as i32) as u32)
            }
        }),
        ("rem_u", |a, b| a.checked_rem(b).ok_or(IntegerDivideByZero)),
        ("eq", |a, b| Ok((a == b) as u32)),
        ("ne", |a, b| Ok((a != b) as u32)),
        ("lt_s", |a, b| Ok(((a as i32) < b as i32) as u32)),
        ("lt_u", |a, b| Ok((a < b) as u32)),
        ("gt_s", |a, b| Ok((a as i32 > b as i32) as u32)),
        ("gt_u", |a, b| Ok((a > b) as u32)),
        ("le_s", |a, b| Ok((a as i32 <= b as i32) as u32)),
        ("le_u", |a, b| Ok((a <= b) as u32)),
        ("ge_s", |a, b| Ok((a as i32 >= b as i32) as u32)),
        ("ge_u", |a, b| Ok((a >= b) as u32)),
    ]
}

fn i64_binops() -> Vec<(&'static str, Ref64)> {
    use TrapKind::*;
    vec![
        ("add", |a, b| Ok(a.wrapping_add(b))),
        ("sub", |a, b| Ok(a.wrapping_sub(b))),
        ("mul", |a, b| Ok(a.wrapping_mul(b))),
        ("and", |a, b| Ok(a & b)),
        ("or", |a, b| Ok(a | b)),
        ("xor", |a, b| Ok(a ^ b)),
        ("shl", |a, b| Ok(a.wrapping_shl(b as u32))),
        ("shr_s", |a, b| Ok((a as i64).wrapping_shr(b as u32) as u64)),
        ("shr_u", |a, b| Ok(a.wrapping_shr(b as u32))),
        ("rotl", |a, b| Ok(a.rotate_left((b % 64) as u32))),
        ("rotr", |a, b| Ok(a.rotate_right((b % 64) as u32))),
        ("div_s", |a, b| match (a as i64).checked_div(b as i64) {
            _ if b == 0 => Err(IntegerDivideByZero),
            Some(v) => Ok(v as u64),
            None => Err(IntegerOverflow),
        }),
        ("div_u", |a, b| a.checked_div(b).ok_or(IntegerDivideByZero)),
        ("rem_s", |a, b| {
            if b == 0 {
                Err(IntegerDivideByZero)
            } else {
                Ok((a as i64).wrapping_rem(b as i64) as u64)
            }
        }),
        ("rem_u", |a, b| a.checked_rem(b).ok_or(IntegerDivideByZero)),
        ("eq", |a, b| Ok((a == b) as u64)),
        ("ne", |a, b| Ok((a != b) as u64)),
        ("lt_s", |a, b| Ok(((a as i64) < b as i64) as u64)),
        ("lt_u", |a, b| Ok((a < b) as u64)),
        ("gt_s", |a, b| Ok((a as i64 > b as i64) as u64)),
        ("gt_u", |a, b| Ok((a > b) as u64)),
        ("le_s", |a, b| Ok((a as i64 <= b as i64) as u64)),
        ("le_u", |a, b| Ok((a <= b) as u64)),
        ("ge_s", |a, b| Ok((a as i64 >= b as i64) as u64)),
        ("ge_u", |a, b| Ok((a >= b) as u64)),
    ]
}

fn is_compare(op: &str) -> bool {
    matches!(
        op,
        "eq" | "ne" | "lt_s" | "lt_u" | "gt_s" | "gt_u" | "le_s" | "le_u" | "ge_s" | "ge_u"
    )
}

/// For every binary op: register/register, register/immediate, immediate/register,
/// constant/constant (folded) forms, and for comparisons the flag-consuming forms.
fn binop_module(ty: &str, ops: &[&str], consts: &[u64]) -> String {
    let mut m = String::from("(module\n");
    for op in ops {
        let rty = if is_compare(op) { "i32" } else { ty };
        m += &format!(
            "(func (export \"{op}\") (param {ty} {ty}) (result {rty}) local.get 0 local.get 1 {ty}.{op})\n"
        );
        for (k, c) in consts.iter().enumerate() {
            m += &format!("(func (export \"{op}_rc{k}\") (param {ty}) (result {rty}) local.get 0 {ty}.const {} {ty}.{op})\n", *c as i64);
            m += &format!("(func (export \"{op}_cr{k}\") (param {ty}) (result {rty}) {ty}.const {} local.get 0 {ty}.{op})\n", *c as i64);
        }
        if is_compare(op) {
            m += &format!("(func (export \"{op}_if\") (param {ty} {ty}) (result i32) (if (result i32) ({ty}.{op} (local.get 0) (local.get 1)) (then (i32.const 1)) (else (i32.const 0))))\n");
            m += &format!("(func (export \"{op}_select\") (param {ty} {ty}) (result i32) (select (i32.const 1) (i32.const 0) ({ty}.{op} (local.get 0) (local.get 1))))\n");
            m += &format!("(func (export \"{op}_brif\") (param {ty} {ty}) (result i32) (block (br_if 0 ({ty}.{op} (local.get 0) (local.get 1))) (return (i32.const 0))) (i32.const 1))\n");
        }
        // Values computed in registers (not straight from locals).
        m += &format!("(func (export \"{op}_regs\") (param {ty} {ty}) (result {rty}) ({ty}.{op} ({ty}.add (local.get 0) ({ty}.const 0)) ({ty}.or (local.get 1) ({ty}.const 0))))\n");
    }
    m + ")"
}

#[test]
fn i32_binary_operators_match_reference() {
    let ops = i32_binops();
    let names: Vec<&str> = ops.iter().map(|o| o.0).collect();
    let consts: Vec<u64> = [0u32, 1, 5, 31, 32, 0x8000_0000, 0xffff_ffff, 0x7fff_ffff]
        .iter()
        .map(|&c| c as u64)
        .collect();
    let mut inst = Instance::new(&binop_module("i32", &names, &consts));
    for (name, f) in &ops {
        for &a in I32_EDGES {
            for &b in I32_EDGES {
                let want = f(a, b).map(|v| v as u64);
                for variant in ["", "_regs"] {
                    let got = inst.call(&format!("{name}{variant}"), &[a as u64, b as u64]);
                    assert_eq!(got, want, "i32.{name}{variant}({a:#x}, {b:#x})");
                }
                if is_compare(name) {
                    for variant in ["_if", "_select", "_brif"] {
                        let got = inst.call(&format!("{name}{variant}"), &[a as u64, b as u64]);
                        assert_eq!(got, want, "i32.{name}{variant}({a:#x}, {b:#x})");
                    }
                }
            }
            for (k, &c) in consts.iter().enumerate() {
                let c = c as u32;
                assert_eq!(
                    inst.call(&format!("{name}_rc{k}"), &[a as u64]),
                    f(a, c).map(|v| v as u64),
                    "i32.{name}({a:#x}, const {c:#x})"
                );
                assert_eq!(
                    inst.call(&format!("{name}_cr{k}"), &[a as u64]),
                    f(c, a).map(|v| v as u64),
                    "i32.{name}(const {c:#x}, {a:#x})"
                );
            }
        }
    }
}

#[test]
fn i64_binary_operators_match_reference() {
    let ops = i64_binops();
    let names: Vec<&str> = ops.iter().map(|o| o.0).collect();
    let consts: Vec<u64> = vec![
        0,
        1,
        5,
        63,
        64,
        0x8000_0000,
        0xffff_ffff,
        u64::MAX,
        0x8000_0000_0000_0000,
        0x1234_5678_9abc_def0,
    ];
    let mut inst = Instance::new(&binop_module("i64", &names, &consts));
    for (name, f) in &ops {
        for &a in I64_EDGES {
            for &b in I64_EDGES {
                let want = f(a, b).map(|v| if is_compare(name) { v as u32 as u64 } else { v });
                for variant in ["", "_regs"] {
                    let got = inst.call(&format!("{name}{variant}"), &[a, b]);
                    assert_eq!(got, want, "i64.{name}{variant}({a:#x}, {b:#x})");
                }
                if is_compare(name) {
                    for variant in ["_if", "_select", "_brif"] {
                        assert_eq!(
                            inst.call(&format!("{name}{variant}"), &[a, b]),
                            want,
                            "i64.{name}{variant}({a:#x}, {b:#x})"
                        );
                    }
                }
            }
            for (k, &c) in consts.iter().enumerate() {
                assert_eq!(
                    inst.call(&format!("{name}_rc{k}"), &[a]),
                    f(a, c),
                    "i64.{name}({a:#x}, const {c:#x})"
                );
                assert_eq!(
                    inst.call(&format!("{name}_cr{k}"), &[a]),
                    f(c, a),
                    "i64.{name}(const {c:#x}, {a:#x})"
                );
            }
        }
    }
}

#[test]
fn integer_unary_operators_match_reference() {
    let wat = r#"(module
      (func (export "i32.clz") (param i32) (result i32) (i32.clz (local.get 0)))
      (func (export "i32.ctz") (param i32) (result i32) (i32.ctz (local.get 0)))
      (func (export "i32.popcnt") (param i32) (result i32) (i32.popcnt (local.get 0)))
      (func (export "i32.eqz") (param i32) (result i32) (i32.eqz (local.get 0)))
      (func (export "i32.extend8_s") (param i32) (result i32) (i32.extend8_s (local.get 0)))
      (func (export "i32.extend16_s") (param i32) (result i32) (i32.extend16_s (local.get 0)))
      (func (export "i32.wrap_i64") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
      (func (export "i32.wrap_i64_reg") (param i64) (result i32) (i32.wrap_i64 (i64.add (local.get 0) (i64.const 0))))
      (func (export "i64.clz") (param i64) (result i64) (i64.clz (local.get 0)))
      (func (export "i64.ctz") (param i64) (result i64) (i64.ctz (local.get 0)))
      (func (export "i64.popcnt") (param i64) (result i64) (i64.popcnt (local.get 0)))
      (func (export "i64.eqz") (param i64) (result i32) (i64.eqz (local.get 0)))
      (func (export "i64.extend8_s") (param i64) (result i64) (i64.extend8_s (local.get 0)))
      (func (export "i64.extend16_s") (param i64) (result i64) (i64.extend16_s (local.get 0)))
      (func (export "i64.extend32_s") (param i64) (result i64) (i64.extend32_s (local.get 0)))
      (func (export "i64.extend_i32_s") (param i32) (result i64) (i64.extend_i32_s (local.get 0)))
      (func (export "i64.extend_i32_u") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
      (func (export "i64.extend_i32_u_reg") (param i32) (result i64) (i64.extend_i32_u (i32.add (local.get 0) (i32.const 0))))
    )"#;
    let mut inst = Instance::new(wat);
    for &a in I32_EDGES {
        let a64 = a as u64;
        assert_eq!(inst.call("i32.clz", &[a64]), Ok(a.leading_zeros() as u64));
        assert_eq!(inst.call("i32.ctz", &[a64]), Ok(a.trailing_zeros() as u64));
        assert_eq!(inst.call("i32.popcnt", &[a64]), Ok(a.count_ones() as u64));
        assert_eq!(inst.call("i32.eqz", &[a64]), Ok((a == 0) as u64));
        assert_eq!(
            inst.call("i32.extend8_s", &[a64]),
            Ok(a as i8 as i32 as u32 as u64)
        );
        assert_eq!(
            inst.call("i32.extend16_s", &[a64]),
            Ok(a as i16 as i32 as u32 as u64)
        );
        assert_eq!(inst.call("i64.extend_i32_s", &[a64]), Ok(a as i32 as i64 as u64));
        assert_eq!(inst.call("i64.extend_i32_u", &[a64]), Ok(a64));
        assert_eq!(inst.call("i64.extend_i32_u_reg", &[a64]), Ok(a64));
        // Garbage in the upper half of an i32 argument must be ignored.
        assert_eq!(
            inst.call("i64.extend_i32_u", &[a64 | 0xdead_0000_0000_0000]),
            Ok(a64)
        );
    }
    for &a in I64_EDGES {
        assert_eq!(inst.call("i64.clz", &[a]), Ok(a.leading_zeros() as u64));
        assert_eq!(inst.call("i64.ctz", &[a]), Ok(a.trailing_zeros() as u64));
        assert_eq!(inst.call("i64.popcnt", &[a]), Ok(a.count_ones() as u64));
        assert_eq!(inst.call("i64.eqz", &[a]), Ok((a == 0) as u64));
        assert_eq!(inst.call("i64.extend8_s", &[a]), Ok(a as i8 as i64 as u64));
        assert_eq!(inst.call("i64.extend16_s", &[a]), Ok(a as i16 as i64 as u64));
        assert_eq!(inst.call("i64.extend32_s", &[a]), Ok(a as i32 as i64 as u64));
        assert_eq!(inst.call("i32.wrap_i64", &[a]), Ok(a as u32 as u64));
        assert_eq!(inst.call("i32.wrap_i64_reg", &[a]), Ok(a as u32 as u64));
    }
}

#[test]
fn constant_folding_and_const_operands() {
    let wat = r#"(module
      (func (export "fold") (result i32) (i32.mul (i32.add (i32.const 7) (i32.const 5)) (i32.const -3)))
      (func (export "fold64") (result i64) (i64.xor (i64.const -1) (i64.const 0x0f0f0f0f0f0f0f0f)))
      (func (export "div_const") (param i32) (result i32) (i32.div_s (local.get 0) (i32.const -1)))
      (func (export "rem_const") (param i32) (result i32) (i32.rem_s (local.get 0) (i32.const -1)))
      (func (export "div7") (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 7)))
      (func (export "div0") (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 0)))
      (func (export "big_imm") (param i64) (result i64) (i64.add (local.get 0) (i64.const 0x123456789)))
      (func (export "ext_const") (result i64) (i64.extend_i32_s (i32.const -2)))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("fold", &[]), Ok((-36i32) as u32 as u64));
    assert_eq!(inst.call("fold64", &[]), Ok(0xf0f0_f0f0_f0f0_f0f0));
    assert_eq!(inst.call("div_const", &[5]), Ok((-5i32) as u32 as u64));
    assert_eq!(
        inst.call("div_const", &[0x8000_0000]),
        Err(TrapKind::IntegerOverflow)
    );
    assert_eq!(inst.call("rem_const", &[0x8000_0000]), Ok(0));
    assert_eq!(inst.call("div7", &[50]), Ok(7));
    assert_eq!(inst.call("div0", &[50]), Err(TrapKind::IntegerDivideByZero));
    assert_eq!(inst.call("big_imm", &[1]), Ok(0x12345678a));
    assert_eq!(inst.call("ext_const", &[]), Ok(-2i64 as u64));
}

// ------------------------------------------------------------------ floats

const F32_EDGES: &[f32] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    3.25,
    f32::MIN_POSITIVE,
    f32::MAX,
    f32::MIN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    1e-45,
    16777217.0,
];
const F64_EDGES: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    3.25,
    f64::MIN_POSITIVE,
    f64::MAX,
    f64::MIN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    5e-324,
    1e300,
];

fn same_f32(got: u64, want: f32) -> bool {
    let g = f32::from_bits(got as u32);
    (g.is_nan() && want.is_nan()) || g.to_bits() == want.to_bits()
}

fn same_f64(got: u64, want: f64) -> bool {
    let g = f64::from_bits(got);
    (g.is_nan() && want.is_nan()) || g.to_bits() == want.to_bits()
}

#[test]
fn float_arithmetic_and_comparisons_match_reference() {
    let mut m = String::from("(module\n");
    for ty in ["f32", "f64"] {
        for op in ["add", "sub", "mul", "div"] {
            m += &format!("(func (export \"{ty}.{op}\") (param {ty} {ty}) (result {ty}) ({ty}.{op} (local.get 0) (local.get 1)))\n");
        }
        for op in ["eq", "ne", "lt", "gt", "le", "ge"] {
            m += &format!("(func (export \"{ty}.{op}\") (param {ty} {ty}) (result i32) ({ty}.{op} (local.get 0) (local.get 1)))\n");
            m += &format!("(func (export \"{ty}.{op}_if\") (param {ty} {ty}) (result i32) (if (result i32) ({ty}.{op} (local.get 0) (local.get 1)) (then (i32.const 1)) (else (i32.const 0))))\n");
            m += &format!("(func (export \"{ty}.{op}_select\") (param {ty} {ty}) (result i32) (select (i32.const 1) (i32.const 0) ({ty}.{op} (local.get 0) (local.get 1))))\n");
            m += &format!("(func (export \"{ty}.{op}_brif\") (param {ty} {ty}) (result i32) (block (br_if 0 ({ty}.{op} (local.get 0) (local.get 1))) (return (i32.const 0))) (i32.const 1))\n");
            m += &format!("(func (export \"{ty}.{op}_fsel\") (param {ty} {ty}) (result {ty}) (select (local.get 0) (local.get 1) ({ty}.{op} (local.get 0) (local.get 1))))\n");
        }
        m += &format!("(func (export \"{ty}.sqrt\") (param {ty}) (result {ty}) ({ty}.sqrt (local.get 0)))\n");
    }
    m += r#"(func (export "promote") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
      (func (export "demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
      (func (export "i32.reinterpret") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
      (func (export "i32.reinterpret_reg") (param f32) (result i32) (i32.reinterpret_f32 (f32.add (local.get 0) (f32.const 0))))
      (func (export "f64.reinterpret_reg") (param i64) (result f64) (f64.reinterpret_i64 (i64.add (local.get 0) (i64.const 1))))
      (func (export "f32.const") (result f32) (f32.const -0x1.8p1))
      (func (export "f64.const") (result f64) (f64.const 0x1.23456789abcdep100))
    )"#;
    let mut inst = Instance::new(&m);
    let cmp32: [(&str, fn(f32, f32) -> bool); 6] = [
        ("eq", |a, b| a == b),
        ("ne", |a, b| a != b),
        ("lt", |a, b| a < b),
        ("gt", |a, b| a > b),
        ("le", |a, b| a <= b),
        ("ge", |a, b| a >= b),
    ];
    let cmp64: [(&str, fn(f64, f64) -> bool); 6] = [
        ("eq", |a, b| a == b),
        ("ne", |a, b| a != b),
        ("lt", |a, b| a < b),
        ("gt", |a, b| a > b),
        ("le", |a, b| a <= b),
        ("ge", |a, b| a >= b),
    ];
    for &a in F32_EDGES {
        for &b in F32_EDGES {
            let args = [a.to_bits() as u64, b.to_bits() as u64];
            for (op, want) in [("add", a + b), ("sub", a - b), ("mul", a * b), ("div", a / b)] {
                let got = inst.call(&format!("f32.{op}"), &args).unwrap();
                assert!(
                    same_f32(got, want),
                    "f32.{op}({a}, {b}) = {}",
                    f32::from_bits(got as u32)
                );
                assert_eq!(got >> 32, 0, "f32 results are zero-extended");
            }
            for (op, f) in cmp32 {
                let want = f(a, b) as u64;
                for v in ["", "_if", "_select", "_brif"] {
                    assert_eq!(
                        inst.call(&format!("f32.{op}{v}"), &args),
                        Ok(want),
                        "f32.{op}{v}({a}, {b})"
                    );
                }
                let sel = inst.call(&format!("f32.{op}_fsel"), &args).unwrap();
                assert!(
                    same_f32(sel, if f(a, b) { a } else { b }),
                    "f32.{op}_fsel({a}, {b})"
                );
            }
        }
        let got = inst.call("f32.sqrt", &[a.to_bits() as u64]).unwrap();
        assert!(same_f32(got, a.sqrt()));
        assert!(same_f64(
            inst.call("promote", &[a.to_bits() as u64]).unwrap(),
            a as f64
        ));
        assert_eq!(
            inst.call("i32.reinterpret", &[a.to_bits() as u64]),
            Ok(a.to_bits() as u64)
        );
    }
    for &a in F64_EDGES {
        for &b in F64_EDGES {
            let args = [a.to_bits(), b.to_bits()];
            for (op, want) in [("add", a + b), ("sub", a - b), ("mul", a * b), ("div", a / b)] {
                let got = inst.call(&format!("f64.{op}"), &args).unwrap();
                assert!(same_f64(got, want), "f64.{op}({a}, {b})");
            }
            for (op, f) in cmp64 {
                let want = f(a, b) as u64;
                for v in ["", "_if", "_select", "_brif"] {
                    assert_eq!(
                        inst.call(&format!("f64.{op}{v}"), &args),
                        Ok(want),
                        "f64.{op}{v}({a}, {b})"
                    );
                }
                let sel = inst.call(&format!("f64.{op}_fsel"), &args).unwrap();
                assert!(
                    same_f64(sel, if f(a, b) { a } else { b }),
                    "f64.{op}_fsel({a}, {b})"
                );
            }
        }
        assert!(same_f64(inst.call("f64.sqrt", &[a.to_bits()]).unwrap(), a.sqrt()));
        assert!(same_f32(inst.call("demote", &[a.to_bits()]).unwrap(), a as f32));
    }
    assert_eq!(
        inst.call("i32.reinterpret_reg", &[1.5f32.to_bits() as u64]),
        Ok(1.5f32.to_bits() as u64)
    );
    assert_eq!(inst.call("f64.reinterpret_reg", &[41]), Ok(42));
    assert_eq!(inst.call("f32.const", &[]), Ok((-3.0f32).to_bits() as u64));
    assert_eq!(
        inst.call("f64.const", &[]),
        Ok(f64::from_bits(0x4632_3456_789a_bcde).to_bits())
    );
}

// ------------------------------------------------------------------ control flow

#[test]
fn control_flow_blocks_loops_and_br_table() {
    let wat = r#"(module
      (func (export "sum_to") (param i32) (result i32) (local i32)
        (block $done
          (loop $next
            (br_if $done (i32.eqz (local.get 0)))
            (local.set 1 (i32.add (local.get 1) (local.get 0)))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br $next)))
        (local.get 1))
      (func (export "switch") (param i32) (result i32)
        (block $d (block $c (block $b (block $a
          (br_table $a $b $c $d (local.get 0)))
          (return (i32.const 10)))
          (return (i32.const 11)))
          (return (i32.const 12)))
        (i32.const 13))
      (func (export "switch_values") (param i32) (result i32)
        (block $outer (result i32)
          (block $inner (result i32)
            (i32.const 100)
            (br_table $inner $outer 0 (local.get 0)))
          (i32.add (i32.const 1)))
        (i32.add (i32.const 1000)))
      (func (export "switch_return") (param i32) (result i32)
        (block $a (result i32)
          (i32.const 7)
          (br_table $a 1 (local.get 0)))
        (i32.const 2) (i32.mul))
      (func (export "nested_if") (param i32 i32) (result i32)
        (if (result i32) (local.get 0)
          (then (if (result i32) (local.get 1) (then (i32.const 1)) (else (i32.const 2))))
          (else (if (result i32) (local.get 1) (then (i32.const 3)) (else (i32.const 4))))))
      (func (export "if_no_else") (param i32) (result i32) (local i32)
        (local.set 1 (i32.const 5))
        (if (local.get 0) (then (local.set 1 (i32.const 6))))
        (local.get 1))
      (func (export "br_if_value") (param i32) (result i32)
        (block (result i32)
          (drop (br_if 0 (i32.const 42) (local.get 0)))
          (i32.const 7)))
      (func (export "stack_across_block") (param i32) (result i32)
        (i32.add (i32.mul (local.get 0) (i32.const 3))
          (block (result i32) (i32.add (local.get 0) (i32.const 1)))))
      (func (export "loop_param") (param i32) (result i32)
        (i32.const 0)
        (loop $l (param i32) (result i32)
          (i32.add (local.get 0))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br_if $l (i32.ne (local.get 0) (i32.const 0)) )))
      (func (export "unreachable_tail") (param i32) (result i32)
        (block (result i32)
          (br 0 (i32.const 9))
          (i32.add (i32.const 1) (i32.const 2))
          (block (drop (i32.const 3)))
          (if (result i32) (i32.const 1) (then (i32.const 1)) (else (i32.const 2)))
          (drop))
        (return)
        (i32.const 5))
      (func (export "select_local") (param i32 i32 i32) (result i32)
        (select (local.get 0) (local.get 1) (local.get 2)))
      (func (export "tee") (param i32) (result i32) (local i32)
        (i32.add (local.tee 1 (i32.mul (local.get 0) (i32.const 2))) (local.get 1)))
      (func (export "latent_local") (param i32) (result i32)
        (local.get 0)
        (local.set 0 (i32.const 100))
        (local.get 0)
        (i32.sub))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("sum_to", &[100]), Ok(5050));
    for (i, want) in [
        (0, 10),
        (1, 11),
        (2, 12),
        (3, 13),
        (4, 13),
        (1000, 13),
        (u32::MAX as u64, 13),
    ] {
        assert_eq!(inst.call("switch", &[i]), Ok(want), "switch({i})");
    }
    assert_eq!(inst.call("switch_values", &[0]), Ok(1101));
    assert_eq!(inst.call("switch_values", &[1]), Ok(1100));
    assert_eq!(inst.call("switch_values", &[2]), Ok(1101));
    assert_eq!(inst.call("switch_return", &[0]), Ok(14));
    assert_eq!(inst.call("switch_return", &[1]), Ok(7));
    assert_eq!(inst.call("switch_return", &[9]), Ok(7));
    assert_eq!(inst.call("nested_if", &[1, 1]), Ok(1));
    assert_eq!(inst.call("nested_if", &[1, 0]), Ok(2));
    assert_eq!(inst.call("nested_if", &[0, 1]), Ok(3));
    assert_eq!(inst.call("nested_if", &[0, 0]), Ok(4));
    assert_eq!(inst.call("if_no_else", &[0]), Ok(5));
    assert_eq!(inst.call("if_no_else", &[1]), Ok(6));
    assert_eq!(inst.call("br_if_value", &[1]), Ok(42));
    assert_eq!(inst.call("br_if_value", &[0]), Ok(7));
    assert_eq!(inst.call("stack_across_block", &[5]), Ok(21));
    assert_eq!(inst.call("loop_param", &[4]), Ok(10));
    assert_eq!(inst.call("unreachable_tail", &[0]), Ok(9));
    assert_eq!(inst.call("select_local", &[1, 2, 0]), Ok(2));
    assert_eq!(inst.call("select_local", &[1, 2, 5]), Ok(1));
    assert_eq!(inst.call("tee", &[21]), Ok(84));
    assert_eq!(
        inst.call("latent_local", &[1]),
        Ok((1u32.wrapping_sub(100)) as u64)
    );
}

#[test]
fn multi_value_blocks_and_functions() {
    let wat = r#"(module
      (func $swap (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
      (func (export "swap") (param i32 i64) (result i64 i32) (call $swap (local.get 0) (local.get 1)))
      (func (export "swap_params") (param i64 i64) (result i64 i64) (local.get 1) (local.get 0))
      (func (export "block_multi") (param i32) (result i32)
        (i32.const 5)
        (block (param i32) (result i32 i32)
          (i32.const 10)
          (br_if 0 (local.get 0))
          (drop) (drop) (i32.const 1) (i32.const 2))
        (i32.sub))
      (func (export "if_multi") (param i32) (result i32 i32 i32)
        (i32.const 5)
        (if (param i32) (result i32 i32 i32) (local.get 0)
          (then (i32.const 6) (i32.const 7))
          (else (i32.const 8) (i32.const 9))))
      (func (export "many") (result i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
        (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5) (i32.const 6) (i32.const 7) (i32.const 8)
        (i32.const 9) (i32.const 10) (i32.const 11) (i32.const 12) (i32.const 13) (i32.const 14) (i32.const 15) (i32.const 16))
      (func $many_regs (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
        (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8)
        (i64.const 9) (i64.const 10) (i64.const 11) (i64.const 12) (i64.const 13) (i64.const 14) (i64.const 15))
      (func (export "sum_many") (result i64)
        (call $many_regs)
        (i64.add) (i64.add) (i64.add) (i64.add) (i64.add) (i64.add) (i64.add)
        (i64.add) (i64.add) (i64.add) (i64.add) (i64.add) (i64.add) (i64.add))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(
        inst.call_raw("swap", &[3, 0x1_0000_0000]),
        Ok(vec![0x1_0000_0000, 3])
    );
    assert_eq!(inst.call_raw("swap_params", &[1, 2]), Ok(vec![2, 1]));
    assert_eq!(inst.call("block_multi", &[1]), Ok(0xffff_fffb)); // taken: 5 - 10
    assert_eq!(inst.call("block_multi", &[0]), Ok(0xffff_ffff));
    assert_eq!(inst.call_raw("if_multi", &[1]), Ok(vec![5, 6, 7]));
    assert_eq!(inst.call_raw("if_multi", &[0]), Ok(vec![5, 8, 9]));
    assert_eq!(inst.call_raw("many", &[]), Ok((1..=16).collect()));
    assert_eq!(inst.call("sum_many", &[]), Ok(120));
}

// ------------------------------------------------------------------ calls

#[test]
fn calls_recursion_and_register_pressure() {
    let wat = r#"(module
      (func $fib (export "fib") (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
          (then (local.get 0))
          (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                         (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
      (func $mix (param i64 f64 i32 f32) (result f64 i64)
        (f64.add (local.get 1) (f64.promote_f32 (local.get 3)))
        (i64.add (local.get 0) (i64.extend_i32_u (local.get 2))))
      (func (export "mix") (result f64 i64)
        (call $mix (i64.const 40) (f64.const 1.5) (i32.const 2) (f32.const 0.25)))
      (func (export "live_across_call") (param i32) (result i32)
        (i32.add (i32.mul (local.get 0) (i32.const 7))
                 (call $fib (i32.const 10))))
      (func (export "pressure") (param i32) (result i32)
        (i32.add (local.get 0) (i32.const 1)) (i32.add (local.get 0) (i32.const 2))
        (i32.add (local.get 0) (i32.const 3)) (i32.add (local.get 0) (i32.const 4))
        (i32.add (local.get 0) (i32.const 5)) (i32.add (local.get 0) (i32.const 6))
        (i32.add (local.get 0) (i32.const 7)) (i32.add (local.get 0) (i32.const 8))
        (i32.add (local.get 0) (i32.const 9)) (i32.add (local.get 0) (i32.const 10))
        (i32.add (local.get 0) (i32.const 11)) (i32.add (local.get 0) (i32.const 12))
        (i32.add (local.get 0) (i32.const 13)) (i32.add (local.get 0) (i32.const 14))
        (i32.add (local.get 0) (i32.const 15)) (i32.add (local.get 0) (i32.const 16))
        (i32.div_u (i32.const 1000) (local.get 0))
        (i32.shl (i32.const 1) (local.get 0))
        (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add)
        (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add))
      (func (export "fpressure") (param f64) (result f64)
        (f64.add (local.get 0) (f64.const 1)) (f64.add (local.get 0) (f64.const 2))
        (f64.add (local.get 0) (f64.const 3)) (f64.add (local.get 0) (f64.const 4))
        (f64.add (local.get 0) (f64.const 5)) (f64.add (local.get 0) (f64.const 6))
        (f64.add (local.get 0) (f64.const 7)) (f64.add (local.get 0) (f64.const 8))
        (f64.add (local.get 0) (f64.const 9)) (f64.add (local.get 0) (f64.const 10))
        (f64.add (local.get 0) (f64.const 11)) (f64.add (local.get 0) (f64.const 12))
        (f64.add (local.get 0) (f64.const 13)) (f64.add (local.get 0) (f64.const 14))
        (f64.add (local.get 0) (f64.const 15)) (f64.add (local.get 0) (f64.const 16))
        (f64.add (local.get 0) (f64.const 17))
        (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add)
        (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("fib", &[20]), Ok(6765));
    assert_eq!(inst.call_raw("mix", &[]), Ok(vec![1.75f64.to_bits(), 42]));
    assert_eq!(inst.call("live_across_call", &[3]), Ok(21 + 55));
    let x = 5u32;
    let want: u32 = (1..=16).map(|k| x + k).sum::<u32>() + 1000 / x + (1 << x);
    assert_eq!(inst.call("pressure", &[x as u64]), Ok(want as u64));
    let want: f64 = (1..=17).map(|k| 0.5 + k as f64).sum();
    assert_eq!(inst.call("fpressure", &[0.5f64.to_bits()]), Ok(want.to_bits()));
}

#[test]
fn call_indirect_and_its_traps() {
    let wat = r#"(module
      (type $ii (func (param i32) (result i32)))
      (type $v (func))
      (table 4 funcref)
      (elem (i32.const 0) $double $triple $nop)
      (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
      (func $triple (type $ii) (i32.mul (local.get 0) (i32.const 3)))
      (func $nop (type $v))
      (func (export "dispatch") (param i32 i32) (result i32)
        (call_indirect (type $ii) (local.get 1) (local.get 0)))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("dispatch", &[0, 7]), Ok(14));
    assert_eq!(inst.call("dispatch", &[1, 7]), Ok(21));
    assert_eq!(
        inst.call("dispatch", &[2, 7]),
        Err(TrapKind::IndirectCallTypeMismatch)
    );
    assert_eq!(
        inst.call("dispatch", &[3, 7]),
        Err(TrapKind::UninitializedElement)
    );
    assert_eq!(inst.call("dispatch", &[4, 7]), Err(TrapKind::UndefinedElement));
    assert_eq!(
        inst.call("dispatch", &[u32::MAX as u64, 7]),
        Err(TrapKind::UndefinedElement)
    );
    assert_eq!(inst.call("dispatch", &[1, 8]), Ok(24));
}

#[test]
fn host_imports_and_nested_traps() {
    let wat = r#"(module
      (import "env" "add10" (func $add10 (param i64) (result i64)))
      (import "env" "fail" (func $fail (param i32)))
      (global $g (mut i32) (i32.const 0))
      (func (export "call_host") (param i64) (result i64)
        (i64.mul (call $add10 (local.get 0)) (i64.const 2)))
      (func (export "call_fail") (param i32) (result i32)
        (global.set $g (i32.const 1))
        (call $fail (local.get 0))
        (global.get $g))
    )"#;
    let hosts: Vec<HostFn> = vec![
        Box::new(|args: &mut [u64]| {
            args[0] += 10;
            0
        }),
        Box::new(|args: &mut [u64]| args[0] as u32),
    ];
    let mut inst = Instance::with_hosts(wat, hosts);
    assert_eq!(inst.call("call_host", &[5]), Ok(30));
    assert_eq!(inst.call("call_fail", &[0]), Ok(1));
    assert_eq!(
        inst.call("call_fail", &[TrapKind::HostError as u64]),
        Err(TrapKind::HostError)
    );
    assert_eq!(inst.call("call_host", &[1]), Ok(22));
}

// ------------------------------------------------------------------ traps

#[test]
fn every_trap_kind_then_successful_call() {
    let wat = r#"(module
      (memory 1)
      (func (export "unreachable") (unreachable))
      (func (export "div0") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
      (func (export "overflow") (param i64) (result i64) (i64.div_s (i64.const 0x8000000000000000) (local.get 0)))
      (func (export "rem_min") (param i64) (result i64) (i64.rem_s (i64.const 0x8000000000000000) (local.get 0)))
      (func (export "oob") (param i32) (result i32) (i32.load (local.get 0)))
      (func $deep (export "deep") (param i32) (result i32) (i32.add (call $deep (local.get 0)) (i32.const 1)))
      (func (export "ok") (result i32) (i32.const 77))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call_raw("unreachable", &[]), Err(TrapKind::Unreachable));
    assert_eq!(inst.call("ok", &[]), Ok(77));
    assert_eq!(inst.call("div0", &[0]), Err(TrapKind::IntegerDivideByZero));
    assert_eq!(inst.call("div0", &[1]), Ok(1));
    assert_eq!(inst.call("overflow", &[u64::MAX]), Err(TrapKind::IntegerOverflow));
    assert_eq!(inst.call("overflow", &[2]), Ok(0xc000_0000_0000_0000));
    assert_eq!(inst.call("rem_min", &[u64::MAX]), Ok(0));
    assert_eq!(inst.call("oob", &[65533]), Err(TrapKind::MemoryOutOfBounds));
    assert_eq!(inst.call("oob", &[65532]), Ok(0));
    assert_eq!(inst.call("deep", &[0]), Err(TrapKind::StackOverflow));
    assert_eq!(inst.call("ok", &[]), Ok(77));
    assert_eq!(inst.runtime.entry_sp, 0, "entry_sp restored after traps");
}

#[test]
fn interrupt_flag_stops_loops() {
    let wat = r#"(module (func (export "spin") (loop (br 0))))"#;
    let mut inst = Instance::new(wat);
    inst.runtime.interrupt = 1;
    assert_eq!(inst.call_raw("spin", &[]), Err(TrapKind::Interrupted));
}

// ------------------------------------------------------------------ memory

#[test]
fn memory_loads_stores_and_bounds() {
    let wat = r#"(module
      (memory 1)
      (data (i32.const 16) "\01\02\03\04\05\06\07\08\f0\ff\ff\ff\80")
      (func (export "i32.load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "i32.load_off") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
      (func (export "i64.load") (param i32) (result i64) (i64.load (local.get 0)))
      (func (export "i32.load8_s") (param i32) (result i32) (i32.load8_s (local.get 0)))
      (func (export "i32.load8_u") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "i32.load16_s") (param i32) (result i32) (i32.load16_s (local.get 0)))
      (func (export "i32.load16_u") (param i32) (result i32) (i32.load16_u (local.get 0)))
      (func (export "i64.load8_s") (param i32) (result i64) (i64.load8_s (local.get 0)))
      (func (export "i64.load16_s") (param i32) (result i64) (i64.load16_s (local.get 0)))
      (func (export "i64.load32_s") (param i32) (result i64) (i64.load32_s (local.get 0)))
      (func (export "i64.load32_u") (param i32) (result i64) (i64.load32_u (local.get 0)))
      (func (export "f32.load") (param i32) (result f32) (f32.load (local.get 0)))
      (func (export "f64.load") (param i32) (result f64) (f64.load (local.get 0)))
      (func (export "const_addr") (result i32) (i32.load (i32.const 16)))
      (func (export "const_oob") (result i32) (i32.load (i32.const 65535)))
      (func (export "huge_offset") (param i32) (result i32) (i32.load offset=0xfffffff0 (local.get 0)))
      (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
      (func (export "store16") (param i32 i32) (i32.store16 (local.get 0) (local.get 1)))
      (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
      (func (export "store64_32") (param i32 i64) (i64.store32 (local.get 0) (local.get 1)))
      (func (export "storef32") (param i32 f32) (f32.store (local.get 0) (local.get 1)))
      (func (export "storef64") (param i32 f64) (f64.store (local.get 0) (local.get 1)))
      (func (export "store_imm") (param i32) (i64.store (local.get 0) (i64.const -2)))
      (func (export "size") (result i32) (memory.size))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "sum_bytes") (param i32 i32) (result i32) (local i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get 0) (local.get 1)))
          (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 0))))
          (local.set 0 (i32.add (local.get 0) (i32.const 1)))
          (br $l)))
        (local.get 2))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("i32.load", &[16]), Ok(0x0403_0201));
    assert_eq!(inst.call("i32.load_off", &[16]), Ok(0x0807_0605));
    assert_eq!(inst.call("i64.load", &[16]), Ok(0x0807_0605_0403_0201));
    assert_eq!(inst.call("i32.load8_s", &[24]), Ok(0xffff_fff0));
    assert_eq!(inst.call("i32.load8_u", &[24]), Ok(0xf0));
    assert_eq!(inst.call("i32.load16_s", &[24]), Ok(0xffff_fff0));
    assert_eq!(inst.call("i32.load16_u", &[24]), Ok(0xfff0));
    assert_eq!(inst.call("i64.load8_s", &[28]), Ok(0xffff_ffff_ffff_ff80));
    assert_eq!(inst.call("i64.load16_s", &[27]), Ok(0xffff_ffff_ffff_80ff));
    assert_eq!(inst.call("i64.load32_s", &[25]), Ok(0xffff_ffff_80ff_ffff));
    assert_eq!(inst.call("i64.load32_u", &[25]), Ok(0x80ff_ffff));
    assert_eq!(inst.call("const_addr", &[]), Ok(0x0403_0201));
    assert_eq!(inst.call("const_oob", &[]), Err(TrapKind::MemoryOutOfBounds));
    assert_eq!(inst.call("huge_offset", &[0]), Err(TrapKind::MemoryOutOfBounds));
    assert_eq!(
        inst.call("huge_offset", &[0x20]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    // Bounds edges for every width.
    for (f, size) in [
        ("i32.load", 4u64),
        ("i64.load", 8),
        ("i32.load8_u", 1),
        ("i32.load16_u", 2),
        ("f64.load", 8),
    ] {
        assert!(inst.call(f, &[65536 - size]).is_ok(), "{f} at last valid address");
        assert_eq!(
            inst.call(f, &[65536 - size + 1]),
            Err(TrapKind::MemoryOutOfBounds),
            "{f} one past"
        );
        assert_eq!(
            inst.call(f, &[u32::MAX as u64]),
            Err(TrapKind::MemoryOutOfBounds),
            "{f} at 4 GiB - 1"
        );
    }
    inst.call_raw("store8", &[100, 0x1ff]).unwrap();
    inst.call_raw("store16", &[102, 0x12345]).unwrap();
    assert_eq!(inst.call("i32.load", &[100]), Ok(0x2345_00ff));
    inst.call_raw("store32", &[104, 0xdead_beef]).unwrap();
    assert_eq!(inst.call("i32.load", &[104]), Ok(0xdead_beef));
    inst.call_raw("store64", &[200, 0x0102_0304_0506_0708]).unwrap();
    assert_eq!(inst.call("i64.load", &[200]), Ok(0x0102_0304_0506_0708));
    inst.call_raw("store64_32", &[200, 0xffff_ffff_aaaa_bbbb])
        .unwrap();
    assert_eq!(inst.call("i64.load", &[200]), Ok(0x0102_0304_aaaa_bbbb));
    inst.call_raw("storef32", &[300, 2.5f32.to_bits() as u64])
        .unwrap();
    assert_eq!(inst.call("f32.load", &[300]), Ok(2.5f32.to_bits() as u64));
    inst.call_raw("storef64", &[304, (-0.125f64).to_bits()]).unwrap();
    assert_eq!(inst.call("f64.load", &[304]), Ok((-0.125f64).to_bits()));
    inst.call_raw("store_imm", &[400]).unwrap();
    assert_eq!(inst.call("i64.load", &[400]), Ok(-2i64 as u64));
    assert_eq!(
        inst.call_raw("store32", &[65533, 1]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(&inst.memory_bytes[400..408], &(-2i64).to_le_bytes());
    assert_eq!(inst.call("size", &[]), Ok(1));
    // The placeholder runtime helper refuses to grow.
    assert_eq!(inst.call("grow", &[1]), Ok(u32::MAX as u64));
    assert_eq!(inst.call("sum_bytes", &[16, 20]), Ok(10));
}

#[test]
fn globals_read_and_write() {
    let wat = r#"(module
      (global $a (mut i32) (i32.const -5))
      (global $b (mut i64) (i64.const 0x100000000))
      (global $c (mut f64) (f64.const 2.5))
      (global $d f32 (f32.const 1.5))
      (func (export "bump") (result i32) (global.set $a (i32.add (global.get $a) (i32.const 1))) (global.get $a))
      (func (export "b") (result i64) (global.set $b (i64.shl (global.get $b) (i64.const 1))) (global.get $b))
      (func (export "c") (result f64) (global.set $c (f64.mul (global.get $c) (f64.const 2))) (global.get $c))
      (func (export "d") (result f32) (global.get $d))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("bump", &[]), Ok((-4i32) as u32 as u64));
    assert_eq!(inst.call("bump", &[]), Ok((-3i32) as u32 as u64));
    assert_eq!(inst.call("b", &[]), Ok(0x2_0000_0000));
    assert_eq!(inst.call("c", &[]), Ok(5.0f64.to_bits()));
    assert_eq!(inst.call("d", &[]), Ok(1.5f32.to_bits() as u64));
}

#[test]
fn invalid_and_unsupported_modules_are_errors() {
    let bad = wat::parse_str("(module (func (result i32) (i64.const 1)))").unwrap();
    match compile(&bad) {
        Err(wazero::Error::Compile { offset: Some(_), .. }) => {}
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("invalid module accepted"),
    }
    let simd =
        wat::parse_str("(module (func (result i32) (i32x4.extract_lane 0 (v128.const i64x2 0 0))))").unwrap();
    match compile(&simd) {
        Err(wazero::Error::Compile { message, .. }) => assert!(message.contains("unsupported"), "{message}"),
        _ => panic!("SIMD should be unsupported for now"),
    }
}

// ------------------------------------------------------------------ float library operators

fn wasm_min_max<F: Copy + PartialOrd>(
    a: F,
    b: F,
    is_nan: fn(F) -> bool,
    neg_sign: fn(F) -> bool,
    is_min: bool,
) -> Option<F> {
    if is_nan(a) || is_nan(b) {
        return None; // any NaN
    }
    if a == b {
        // ±0: min prefers the negative zero, max the positive one.
        return Some(if neg_sign(a) == is_min { a } else { b });
    }
    Some(if (a < b) == is_min { a } else { b })
}

fn trunc_ref(x: f64, lo: f64, hi_exclusive: f64) -> Result<f64, TrapKind> {
    if x.is_nan() {
        return Err(TrapKind::InvalidConversion);
    }
    let t = x.trunc();
    if t < lo || t >= hi_exclusive {
        return Err(TrapKind::IntegerOverflow);
    }
    Ok(t)
}

#[test]
fn float_library_operators_match_reference() {
    let mut m = String::from("(module\n");
    for ty in ["f32", "f64"] {
        for op in ["min", "max", "copysign"] {
            m += &format!("(func (export \"{ty}.{op}\") (param {ty} {ty}) (result {ty}) ({ty}.{op} (local.get 0) (local.get 1)))\n");
        }
        for op in ["abs", "neg", "ceil", "floor", "trunc", "nearest"] {
            m += &format!(
                "(func (export \"{ty}.{op}\") (param {ty}) (result {ty}) ({ty}.{op} (local.get 0)))\n"
            );
        }
        for ity in ["i32", "i64"] {
            for sign in ["s", "u"] {
                m += &format!("(func (export \"{ity}.trunc_{ty}_{sign}\") (param {ty}) (result {ity}) ({ity}.trunc_{ty}_{sign} (local.get 0)))\n");
                m += &format!("(func (export \"{ity}.trunc_sat_{ty}_{sign}\") (param {ty}) (result {ity}) ({ity}.trunc_sat_{ty}_{sign} (local.get 0)))\n");
                m += &format!("(func (export \"{ty}.convert_{ity}_{sign}\") (param {ity}) (result {ty}) ({ty}.convert_{ity}_{sign} (local.get 0)))\n");
            }
        }
    }
    m += r#"(func (export "neg_const") (result f64) (f64.neg (f64.const 1.5)))
      (func (export "abs_const") (result f32) (f32.abs (f32.const -2)))
    )"#;
    let mut inst = Instance::new(&m);
    let f32s: Vec<f32> = F32_EDGES
        .iter()
        .copied()
        .chain([
            0.5,
            1.5,
            2.5,
            -0.5,
            -2.5,
            2147483520.0,
            2147483648.0,
            -2147483648.0,
            4294967040.0,
            4294967296.0,
            -0.9,
            9.223372e18,
            1.8446743e19,
        ])
        .collect();
    let f64s: Vec<f64> = F64_EDGES
        .iter()
        .copied()
        .chain([
            0.5,
            1.5,
            2.5,
            -0.5,
            -2.5,
            2147483647.9,
            2147483648.0,
            -2147483648.9,
            -2147483649.0,
            4294967295.5,
            4294967296.0,
            -0.99,
            9223372036854774784.0,
            9223372036854775808.0,
            18446744073709549568.0,
            18446744073709551616.0,
        ])
        .collect();
    for &a in &f32s {
        let x = a.to_bits() as u64;
        for &b in &f32s {
            let args = [x, b.to_bits() as u64];
            for (op, is_min) in [("min", true), ("max", false)] {
                let got = inst.call(&format!("f32.{op}"), &args).unwrap();
                match wasm_min_max(a, b, f32::is_nan, f32::is_sign_negative, is_min) {
                    None => assert!(f32::from_bits(got as u32).is_nan(), "f32.{op}({a}, {b})"),
                    Some(w) => assert_eq!(got, w.to_bits() as u64, "f32.{op}({a}, {b})"),
                }
            }
            assert_eq!(
                inst.call("f32.copysign", &args),
                Ok(a.copysign(b).to_bits() as u64),
                "copysign({a}, {b})"
            );
        }
        for (op, want) in [
            ("abs", a.abs()),
            ("neg", -a),
            ("ceil", a.ceil()),
            ("floor", a.floor()),
            ("trunc", a.trunc()),
            ("nearest", a.round_ties_even()),
        ] {
            let got = inst.call(&format!("f32.{op}"), &[x]).unwrap();
            assert!(
                same_f32(got, want),
                "f32.{op}({a}) = {}",
                f32::from_bits(got as u32)
            );
            if matches!(op, "abs" | "neg") {
                assert_eq!(got, want.to_bits() as u64, "f32.{op}({a}) is a bit operation");
            }
        }
        let v = a as f64;
        assert_eq!(
            inst.call("i32.trunc_f32_s", &[x]),
            trunc_ref(v, -2147483648.0, 2147483648.0).map(|t| t as i32 as u32 as u64),
            "i32.trunc_f32_s({a})"
        );
        assert_eq!(
            inst.call("i32.trunc_f32_u", &[x]),
            trunc_ref(v, 0.0, 4294967296.0).map(|t| t as u32 as u64),
            "i32.trunc_f32_u({a})"
        );
        assert_eq!(
            inst.call("i64.trunc_f32_s", &[x]),
            trunc_ref(v, -9223372036854775808.0, 9223372036854775808.0).map(|t| t as i64 as u64),
            "i64.trunc_f32_s({a})"
        );
        assert_eq!(
            inst.call("i64.trunc_f32_u", &[x]),
            trunc_ref(v, 0.0, 18446744073709551616.0).map(|t| t as u64),
            "i64.trunc_f32_u({a})"
        );
        assert_eq!(
            inst.call("i32.trunc_sat_f32_s", &[x]),
            Ok(a as i32 as u32 as u64),
            "sat {a}"
        );
        assert_eq!(
            inst.call("i32.trunc_sat_f32_u", &[x]),
            Ok(a as u32 as u64),
            "sat {a}"
        );
        assert_eq!(
            inst.call("i64.trunc_sat_f32_s", &[x]),
            Ok(a as i64 as u64),
            "sat {a}"
        );
        assert_eq!(inst.call("i64.trunc_sat_f32_u", &[x]), Ok(a as u64), "sat {a}");
    }
    for &a in &f64s {
        let x = a.to_bits();
        for &b in &f64s {
            let args = [x, b.to_bits()];
            for (op, is_min) in [("min", true), ("max", false)] {
                let got = inst.call(&format!("f64.{op}"), &args).unwrap();
                match wasm_min_max(a, b, f64::is_nan, f64::is_sign_negative, is_min) {
                    None => assert!(f64::from_bits(got).is_nan(), "f64.{op}({a}, {b})"),
                    Some(w) => assert_eq!(got, w.to_bits(), "f64.{op}({a}, {b})"),
                }
            }
            assert_eq!(inst.call("f64.copysign", &args), Ok(a.copysign(b).to_bits()));
        }
        for (op, want) in [
            ("abs", a.abs()),
            ("neg", -a),
            ("ceil", a.ceil()),
            ("floor", a.floor()),
            ("trunc", a.trunc()),
            ("nearest", a.round_ties_even()),
        ] {
            let got = inst.call(&format!("f64.{op}"), &[x]).unwrap();
            assert!(same_f64(got, want), "f64.{op}({a})");
        }
        assert_eq!(
            inst.call("i32.trunc_f64_s", &[x]),
            trunc_ref(a, -2147483648.0, 2147483648.0).map(|t| t as i32 as u32 as u64),
            "i32.trunc_f64_s({a})"
        );
        assert_eq!(
            inst.call("i32.trunc_f64_u", &[x]),
            trunc_ref(a, 0.0, 4294967296.0).map(|t| t as u32 as u64),
            "i32.trunc_f64_u({a})"
        );
        assert_eq!(
            inst.call("i64.trunc_f64_s", &[x]),
            trunc_ref(a, -9223372036854775808.0, 9223372036854775808.0).map(|t| t as i64 as u64),
            "i64.trunc_f64_s({a})"
        );
        assert_eq!(
            inst.call("i64.trunc_f64_u", &[x]),
            trunc_ref(a, 0.0, 18446744073709551616.0).map(|t| t as u64),
            "i64.trunc_f64_u({a})"
        );
        assert_eq!(inst.call("i32.trunc_sat_f64_s", &[x]), Ok(a as i32 as u32 as u64));
        assert_eq!(inst.call("i32.trunc_sat_f64_u", &[x]), Ok(a as u32 as u64));
        assert_eq!(inst.call("i64.trunc_sat_f64_s", &[x]), Ok(a as i64 as u64));
        assert_eq!(inst.call("i64.trunc_sat_f64_u", &[x]), Ok(a as u64));
    }
    for &i in I32_EDGES {
        let x = i as u64;
        assert_eq!(
            inst.call("f32.convert_i32_s", &[x]),
            Ok((i as i32 as f32).to_bits() as u64)
        );
        assert_eq!(
            inst.call("f32.convert_i32_u", &[x]),
            Ok((i as f32).to_bits() as u64)
        );
        assert_eq!(
            inst.call("f64.convert_i32_s", &[x]),
            Ok((i as i32 as f64).to_bits())
        );
        assert_eq!(inst.call("f64.convert_i32_u", &[x]), Ok((i as f64).to_bits()));
    }
    for &i in I64_EDGES
        .iter()
        .chain(&[0x20_0000_0000_0001u64, 0xffff_ff7f_ffff_ffff])
    {
        assert_eq!(
            inst.call("f32.convert_i64_s", &[i]),
            Ok((i as i64 as f32).to_bits() as u64),
            "f32.convert_i64_s({i:#x})"
        );
        assert_eq!(
            inst.call("f32.convert_i64_u", &[i]),
            Ok((i as f32).to_bits() as u64),
            "f32.convert_i64_u({i:#x})"
        );
        assert_eq!(
            inst.call("f64.convert_i64_s", &[i]),
            Ok((i as i64 as f64).to_bits())
        );
        assert_eq!(inst.call("f64.convert_i64_u", &[i]), Ok((i as f64).to_bits()));
    }
    assert_eq!(inst.call("neg_const", &[]), Ok((-1.5f64).to_bits()));
    assert_eq!(inst.call("abs_const", &[]), Ok(2.0f32.to_bits() as u64));
}

// ------------------------------------------------------------------ spec suite subset

mod spec {
    use super::*;
    use wast::core::{NanPattern, WastArgCore, WastRetCore};
    use wast::parser::{self, ParseBuffer};
    use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastRet};

    const SUITE: &str = "/work/shared/wasm-testsuite/core-2.0";

    /// Files whose every module this harness can instantiate (spectest imports only, no
    /// linking between modules, no memory growth: the harness memory cannot grow).
    const FILES: &[&str] = &[
        "address",
        "align",
        "block",
        "br",
        "br_if",
        "br_table",
        "call",
        "call_indirect",
        "const",
        "conversions",
        "endianness",
        "f32",
        "f32_bitwise",
        "f32_cmp",
        "f64",
        "f64_bitwise",
        "f64_cmp",
        "fac",
        "float_exprs",
        "float_literals",
        "float_memory",
        "float_misc",
        "forward",
        "func",
        "func_ptrs",
        "global",
        "i32",
        "i64",
        "if",
        "int_exprs",
        "int_literals",
        "labels",
        "left-to-right",
        "load",
        "local_get",
        "local_set",
        "local_tee",
        "loop",
        "memory",
        "memory_redundancy",
        "memory_trap",
        "nop",
        "return",
        "select",
        "stack",
        "store",
        "switch",
        "traps",
        "unreachable",
        "unwind",
        "unreached-valid",
        "memory_copy",
        "memory_fill",
        "ref_null",
        "ref_is_null",
        "ref_func",
        "table_get",
        "table_set",
        "table_size",
    ];

    fn arg(a: &WastArg) -> Option<u64> {
        Some(match a {
            WastArg::Core(WastArgCore::I32(v)) => *v as u32 as u64,
            WastArg::Core(WastArgCore::I64(v)) => *v as u64,
            WastArg::Core(WastArgCore::F32(v)) => v.bits as u64,
            WastArg::Core(WastArgCore::F64(v)) => v.bits,
            WastArg::Core(WastArgCore::RefNull(_)) => 0,
            // Host references are opaque non-null words.
            WastArg::Core(WastArgCore::RefExtern(n)) => *n as u64 + 1,
            _ => return None,
        })
    }

    fn ret_matches(r: &WastRet, got: u64) -> Option<bool> {
        Some(match r {
            WastRet::Core(WastRetCore::I32(v)) => got == *v as u32 as u64,
            WastRet::Core(WastRetCore::I64(v)) => got == *v as u64,
            WastRet::Core(WastRetCore::F32(p)) => {
                let b = got as u32;
                match p {
                    NanPattern::CanonicalNan => b & 0x7fff_ffff == 0x7fc0_0000,
                    NanPattern::ArithmeticNan => b & 0x7fc0_0000 == 0x7fc0_0000,
                    NanPattern::Value(v) => b == v.bits && got >> 32 == 0,
                }
            }
            WastRet::Core(WastRetCore::F64(p)) => match p {
                NanPattern::CanonicalNan => got & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
                NanPattern::ArithmeticNan => got & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
                NanPattern::Value(v) => got == v.bits,
            },
            WastRet::Core(WastRetCore::RefNull(_)) => got == 0,
            WastRet::Core(WastRetCore::RefExtern(Some(n))) => got == *n as u64 + 1,
            WastRet::Core(WastRetCore::RefFunc(_)) => got != 0,
            _ => return None,
        })
    }

    fn instantiate(wat: &mut QuoteWat) -> Result<Option<Instance>, String> {
        let bytes = wat.encode().map_err(|e| e.to_string())?;
        let (info, code) = match compile(&bytes) {
            Ok(x) => x,
            Err(wazero::Error::Compile { message, .. }) if message.starts_with("unsupported") => {
                return Ok(None)
            }
            Err(e) => return Err(format!("compile: {e}")),
        };
        if info.imports.iter().any(|i| i.module != "spectest") {
            return Ok(None);
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Instance::build(info, code, Vec::new())
        }))
        .map(Some)
        .map_err(|_| "instantiation failed".to_string())
    }

    fn run_file(name: &str, failures: &mut Vec<String>) -> (usize, usize) {
        let path = format!("{SUITE}/{name}.wast");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let buf = ParseBuffer::new(&text).unwrap();
        let wast: Wast = parser::parse(&buf).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut current: Option<Instance> = None;
        let (mut passed, mut skipped) = (0, 0);
        for directive in wast.directives {
            let line = {
                let (l, _) = directive.span().linecol_in(&text);
                l + 1
            };
            let at = format!("{name}.wast:{line}");
            let invoke = |inst: &mut Instance, exec: &WastExecute| -> Option<Result<Vec<u64>, TrapKind>> {
                let WastExecute::Invoke(inv) = exec else {
                    return None;
                };
                // `memory.grow` needs the real runtime (the placeholder helper refuses).
                if inv.module.is_some() || inv.name.contains("memory.grow") {
                    return None;
                }
                let args: Option<Vec<u64>> = inv.args.iter().map(arg).collect();
                Some(inst.call_raw(inv.name, &args?))
            };
            match directive {
                WastDirective::Module(mut wat) => match instantiate(&mut wat) {
                    Ok(i) => current = i,
                    Err(e) => {
                        failures.push(format!("{at}: {e}"));
                        current = None;
                    }
                },
                WastDirective::AssertReturn { exec, results, .. } => {
                    let Some(inst) = current.as_mut() else {
                        skipped += 1;
                        continue;
                    };
                    match invoke(inst, &exec) {
                        None => skipped += 1,
                        Some(Err(t)) => failures.push(format!("{at}: trapped {t:?}")),
                        Some(Ok(got)) => {
                            let ok: Option<Vec<bool>> = results
                                .iter()
                                .zip(&got)
                                .map(|(r, g)| ret_matches(r, *g))
                                .collect();
                            match ok {
                                None => skipped += 1,
                                Some(v) if v.iter().all(|b| *b) && v.len() == results.len() => passed += 1,
                                Some(_) => failures.push(format!("{at}: got {got:x?}")),
                            }
                        }
                    }
                }
                WastDirective::AssertExhaustion { call, message, .. } => {
                    let Some(inst) = current.as_mut() else {
                        skipped += 1;
                        continue;
                    };
                    match invoke(inst, &WastExecute::Invoke(call)) {
                        None => skipped += 1,
                        Some(Err(TrapKind::StackOverflow)) => passed += 1,
                        Some(r) => failures.push(format!("{at}: expected {message:?}, got {r:x?}")),
                    }
                }
                WastDirective::AssertTrap { exec, message, .. } => {
                    let Some(inst) = current.as_mut() else {
                        skipped += 1;
                        continue;
                    };
                    match invoke(inst, &exec) {
                        None => skipped += 1,
                        Some(Err(t))
                            if message.starts_with(t.message()) || t.message().starts_with(message) =>
                        {
                            passed += 1
                        }
                        Some(r) => failures.push(format!("{at}: expected trap {message:?}, got {r:x?}")),
                    }
                }
                WastDirective::Invoke(inv) => {
                    let Some(inst) = current.as_mut() else {
                        skipped += 1;
                        continue;
                    };
                    let args: Option<Vec<u64>> = inv.args.iter().map(arg).collect();
                    if let Some(args) = args {
                        let _ = inst.call_raw(inv.name, &args);
                    }
                }
                WastDirective::AssertInvalid { mut module, .. }
                | WastDirective::AssertMalformed { mut module, .. } => {
                    if let Ok(bytes) = module.encode() {
                        if compile(&bytes).is_ok() {
                            failures.push(format!("{at}: invalid module accepted"));
                        } else {
                            passed += 1;
                        }
                    }
                }
                _ => skipped += 1,
            }
        }
        (passed, skipped)
    }

    #[test]
    fn spec_core_subset_on_fake_instances() {
        if !std::path::Path::new(SUITE).exists() {
            eprintln!("spec suite not found at {SUITE}; skipped");
            return;
        }
        // Deep-recursion tests need more than the default test-thread stack.
        let handle = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(|| {
                let mut failures = Vec::new();
                let (mut passed, mut skipped) = (0, 0);
                for f in FILES {
                    let (p, s) = run_file(f, &mut failures);
                    passed += p;
                    skipped += s;
                }
                (failures, passed, skipped)
            })
            .unwrap();
        let (failures, passed, skipped) = handle.join().unwrap();
        eprintln!(
            "spec subset: {passed} passed, {skipped} skipped, {} failed",
            failures.len()
        );
        for f in failures.iter().take(60) {
            eprintln!("  {f}");
        }
        assert!(failures.is_empty(), "{} spec failures", failures.len());
    }
}

/// Debug aid: `WAZERO_DUMP=file.wat cargo test --test compiler dump_code -- --nocapture`
/// writes the module's machine code to `/tmp/wazero-dump.bin` (disassemble with
/// `objdump -D -b binary -mi386:x86-64 /tmp/wazero-dump.bin`).
#[test]
fn dump_code() {
    let Ok(path) = std::env::var("WAZERO_DUMP") else {
        return;
    };
    let bytes = wat::parse_file(&path).expect("wat");
    let (_, code) = compile(&bytes).expect("compile");
    // SAFETY: the code memory is readable for `len` bytes.
    let text = unsafe { std::slice::from_raw_parts(code.code.as_ptr(), code.code.len()) };
    std::fs::write("/tmp/wazero-dump.bin", text).unwrap();
    eprintln!("function offsets: {:x?}", code.func_offsets);
}

/// Timings of the shared benchmark kernels:
/// `cargo test --release --test compiler bench_kernels -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_kernels() {
    let dir = "/work/shared/bench";
    let cases: &[(&str, &str, &[u64])] = &[
        ("fib", "fib", &[34]),
        ("loop", "loop", &[300_000_000]),
        ("sum", "sum", &[500_000_000]),
        ("sieve", "sieve", &[16_777_216]),
        ("matmul", "matmul", &[200, 30]),
    ];
    for (file, export, args) in cases {
        let wat = std::fs::read_to_string(format!("{dir}/{file}.wat")).unwrap();
        let mut inst = Instance::new(&wat);
        let start = std::time::Instant::now();
        let r = inst.call(export, args);
        eprintln!("{file}: {:?} in {:.3}s", r, start.elapsed().as_secs_f64());
    }
}

#[test]
fn host_can_reenter_wasm_and_nested_traps_unwind_one_level() {
    use std::cell::Cell;
    use std::rc::Rc;
    let wat = r#"(module
      (import "env" "reenter" (func $reenter (param i32) (result i32)))
      (func $inner (export "inner") (param i32) (result i32)
        (if (i32.eqz (local.get 0)) (then unreachable))
        (i32.add (local.get 0) (i32.const 1)))
      (func (export "outer") (param i32) (result i32)
        (i32.mul (call $reenter (local.get 0)) (i32.const 10)))
    )"#;
    // (code, vmctx) of "inner", filled in once the instance exists.
    let target: Rc<Cell<(usize, usize)>> = Rc::new(Cell::new((0, 0)));
    let t = target.clone();
    let reenter: HostFn = Box::new(move |args: &mut [u64]| {
        let (code, vmctx) = t.get();
        let mut area = [args[0]];
        // SAFETY: `code`/`vmctx` are the funcref of a live instance's function of type
        // (i32) -> i32, whose argument area has one slot.
        let status = unsafe { entry_trampoline()(vmctx as *mut u8, code as *const u8, area.as_mut_ptr(), 1) };
        if status != 0 {
            return status; // propagate the inner trap as this host call's trap
        }
        args[0] = area[0];
        0
    });
    let mut inst = Instance::with_hosts(wat, vec![reenter]);
    let f = inst.func_index("inner");
    let off = inst.info.vm_offsets().func(f) as usize;
    // SAFETY: the funcref was written by `build`.
    let fr = unsafe { *((inst.vmctx.as_ptr() as *const u8).add(off) as *const VMFuncRef) };
    target.set((fr.code as usize, fr.vmctx as usize));
    assert_eq!(inst.call("outer", &[4]), Ok(50));
    assert_eq!(inst.call("outer", &[0]), Err(TrapKind::Unreachable));
    assert_eq!(inst.runtime.entry_sp, 0);
    assert_eq!(inst.call("outer", &[1]), Ok(20));
}

/// Every real-world module of the WASI test suite compiles (or reports a clean
/// "unsupported" error), and compilation speed is reported.
#[test]
fn wasi_testsuite_modules_compile() {
    let dir = "/work/shared/wasi-testsuite";
    if !std::path::Path::new(dir).exists() {
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "wasm") {
                files.push(p);
            }
        }
    }
    let (mut bytes_total, mut unsupported) = (0usize, Vec::new());
    let start = std::time::Instant::now();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        bytes_total += bytes.len();
        match Module::new(&bytes) {
            Ok(_) => {}
            Err(wazero::Error::Compile { message, .. }) if message.starts_with("unsupported") => {
                unsupported.push(format!("{}: {message}", f.display()))
            }
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{} modules, {} KiB in {secs:.3}s ({:.1} MB/s)",
        files.len(),
        bytes_total / 1024,
        bytes_total as f64 / secs / 1e6
    );
    for u in unsupported.iter().take(10) {
        eprintln!("  {u}");
    }
}

// ------------------------------------------------------------------ random expression programs

/// Random expression trees evaluated both by a Rust model and by compiled code: stresses
/// register allocation, spilling, lazy locals/flags and block results together.
mod random_programs {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum Bin {
        Add,
        Sub,
        Mul,
        And,
        Or,
        Xor,
        Shl,
        ShrU,
        ShrS,
        Rotl,
        DivU,
        RemS,
        FAdd,
        I32Add,
    }
    #[derive(Clone, Copy, Debug)]
    enum Cmp {
        Eq,
        Ne,
        LtS,
        LtU,
        GeS,
        GtU,
    }

    enum E {
        Local(u32),
        Const(i64),
        Bin(Bin, Box<E>, Box<E>),
        Cmp(Cmp, Box<E>, Box<E>),
        Select(Box<E>, Box<E>, Box<C>),
        If(Box<C>, Box<E>, Box<E>),
        BrIf(Box<E>, Box<C>, Box<E>),
        Tee(u32, Box<E>),
        Call(Box<E>),
        /// Runs its body twice; the u32 is its own i32 counter local.
        Loop(u32, Box<E>),
    }
    /// An i32 condition.
    enum C {
        Cmp(Cmp, E, E),
        Wrap(E),
    }

    const LOCALS: u32 = 6; // 3 params + 3 declared

    fn gen(r: &mut Rng, depth: u32, loops: &mut u32) -> E {
        if depth == 0 || r.below(10) < 2 {
            return if r.below(3) == 0 {
                E::Const([0, 1, -1, 7, i64::MIN, 0x1234_5678_9abc, 63, -3][r.below(8) as usize])
            } else {
                E::Local(r.below(LOCALS as u64) as u32)
            };
        }
        let d = depth - 1;
        let bins = [
            Bin::Add,
            Bin::Sub,
            Bin::Mul,
            Bin::And,
            Bin::Or,
            Bin::Xor,
            Bin::Shl,
            Bin::ShrU,
            Bin::ShrS,
            Bin::Rotl,
            Bin::DivU,
            Bin::RemS,
            Bin::FAdd,
            Bin::I32Add,
        ];
        let cmps = [Cmp::Eq, Cmp::Ne, Cmp::LtS, Cmp::LtU, Cmp::GeS, Cmp::GtU];
        match r.below(14) {
            0..=4 => E::Bin(
                bins[r.below(bins.len() as u64) as usize],
                Box::new(gen(r, d, loops)),
                Box::new(gen(r, d, loops)),
            ),
            5 => E::Cmp(
                cmps[r.below(6) as usize],
                Box::new(gen(r, d, loops)),
                Box::new(gen(r, d, loops)),
            ),
            6 => E::Select(
                Box::new(gen(r, d, loops)),
                Box::new(gen(r, d, loops)),
                Box::new(gen_c(r, d, loops)),
            ),
            7 => E::If(
                Box::new(gen_c(r, d, loops)),
                Box::new(gen(r, d, loops)),
                Box::new(gen(r, d, loops)),
            ),
            8 => E::BrIf(
                Box::new(gen(r, d, loops)),
                Box::new(gen_c(r, d, loops)),
                Box::new(gen(r, d, loops)),
            ),
            9 | 10 => E::Tee(r.below(LOCALS as u64) as u32, Box::new(gen(r, d, loops))),
            11 => E::Call(Box::new(gen(r, d, loops))),
            12 if *loops < 16 => {
                *loops += 1;
                E::Loop(6 + *loops - 1, Box::new(gen(r, d, loops)))
            }
            _ => E::Bin(
                Bin::Add,
                Box::new(gen(r, d, loops)),
                Box::new(E::Bin(
                    Bin::Mul,
                    Box::new(gen(r, d, loops)),
                    Box::new(gen(r, d, loops)),
                )),
            ),
        }
    }

    fn gen_c(r: &mut Rng, depth: u32, loops: &mut u32) -> C {
        let cmps = [Cmp::Eq, Cmp::Ne, Cmp::LtS, Cmp::LtU, Cmp::GeS, Cmp::GtU];
        if r.below(3) == 0 {
            C::Wrap(gen(r, depth, loops))
        } else {
            C::Cmp(
                cmps[r.below(6) as usize],
                gen(r, depth, loops),
                gen(r, depth, loops),
            )
        }
    }

    fn cmp_name(c: Cmp) -> &'static str {
        match c {
            Cmp::Eq => "eq",
            Cmp::Ne => "ne",
            Cmp::LtS => "lt_s",
            Cmp::LtU => "lt_u",
            Cmp::GeS => "ge_s",
            Cmp::GtU => "gt_u",
        }
    }

    fn wat(e: &E, out: &mut String) {
        match e {
            E::Local(i) => *out += &format!("(local.get {i})"),
            E::Const(c) => *out += &format!("(i64.const {c})"),
            E::Bin(op, a, b) => {
                let (pre, mid, post) = match op {
                    Bin::Add => ("(i64.add ", "", ")"),
                    Bin::Sub => ("(i64.sub ", "", ")"),
                    Bin::Mul => ("(i64.mul ", "", ")"),
                    Bin::And => ("(i64.and ", "", ")"),
                    Bin::Or => ("(i64.or ", "", ")"),
                    Bin::Xor => ("(i64.xor ", "", ")"),
                    Bin::Shl => ("(i64.shl ", "", ")"),
                    Bin::ShrU => ("(i64.shr_u ", "", ")"),
                    Bin::ShrS => ("(i64.shr_s ", "", ")"),
                    Bin::Rotl => ("(i64.rotl ", "", ")"),
                    Bin::DivU => ("(i64.div_u ", "(i64.or ", " (i64.const 1)))"),
                    Bin::RemS => ("(i64.rem_s ", "(i64.or ", " (i64.const 1)))"),
                    Bin::FAdd => (
                        "(i64.trunc_sat_f64_s (f64.add (f64.convert_i64_s ",
                        ") (f64.convert_i64_s ",
                        ")))",
                    ),
                    Bin::I32Add => (
                        "(i64.extend_i32_s (i32.add (i32.wrap_i64 ",
                        ") (i32.wrap_i64 ",
                        ")))",
                    ),
                };
                *out += pre;
                wat(a, out);
                *out += mid;
                wat(b, out);
                *out += post;
            }
            E::Cmp(c, a, b) => {
                *out += &format!("(i64.extend_i32_u (i64.{} ", cmp_name(*c));
                wat(a, out);
                wat(b, out);
                *out += "))";
            }
            E::Select(a, b, c) => {
                *out += "(select ";
                wat(a, out);
                wat(b, out);
                wat_c(c, out);
                *out += ")";
            }
            E::If(c, a, b) => {
                *out += "(if (result i64) ";
                wat_c(c, out);
                *out += " (then ";
                wat(a, out);
                *out += ") (else ";
                wat(b, out);
                *out += "))";
            }
            E::BrIf(v, c, o) => {
                *out += "(block (result i64) (drop (br_if 0 ";
                wat(v, out);
                wat_c(c, out);
                *out += ")) ";
                wat(o, out);
                *out += ")";
            }
            E::Tee(i, a) => {
                *out += &format!("(local.tee {i} ");
                wat(a, out);
                *out += ")";
            }
            E::Call(a) => {
                *out += "(call $id ";
                wat(a, out);
                *out += ")";
            }
            E::Loop(counter, a) => {
                *out += &format!("(local.set {counter} (i32.const 2)) (loop $l (result i64) ");
                wat(a, out);
                *out += &format!(" (local.set {counter} (i32.sub (local.get {counter}) (i32.const 1))) (br_if $l (i32.ne (local.get {counter}) (i32.const 0))))");
            }
        }
    }

    fn wat_c(c: &C, out: &mut String) {
        match c {
            C::Cmp(op, a, b) => {
                *out += &format!("(i64.{} ", cmp_name(*op));
                wat(a, out);
                wat(b, out);
                *out += ")";
            }
            C::Wrap(a) => {
                *out += "(i32.wrap_i64 ";
                wat(a, out);
                *out += ")";
            }
        }
    }

    fn eval(e: &E, l: &mut [i64; 6]) -> i64 {
        match e {
            E::Local(i) => l[*i as usize],
            E::Const(c) => *c,
            E::Bin(op, a, b) => {
                let (a, b) = (eval(a, l), eval(b, l));
                match op {
                    Bin::Add => a.wrapping_add(b),
                    Bin::Sub => a.wrapping_sub(b),
                    Bin::Mul => a.wrapping_mul(b),
                    Bin::And => a & b,
                    Bin::Or => a | b,
                    Bin::Xor => a ^ b,
                    Bin::Shl => a.wrapping_shl(b as u32),
                    Bin::ShrU => ((a as u64).wrapping_shr(b as u32)) as i64,
                    Bin::ShrS => a.wrapping_shr(b as u32),
                    Bin::Rotl => a.rotate_left((b & 63) as u32),
                    Bin::DivU => ((a as u64) / ((b | 1) as u64)) as i64,
                    Bin::RemS => a.wrapping_rem(b | 1),
                    Bin::FAdd => ((a as f64) + (b as f64)) as i64,
                    Bin::I32Add => (a as i32).wrapping_add(b as i32) as i64,
                }
            }
            E::Cmp(c, a, b) => {
                let (a, b) = (eval(a, l), eval(b, l));
                cmp(*c, a, b) as i64
            }
            E::Select(a, b, c) => {
                let (a, b) = (eval(a, l), eval(b, l));
                if eval_c(c, l) {
                    a
                } else {
                    b
                }
            }
            E::If(c, a, b) => {
                if eval_c(c, l) {
                    eval(a, l)
                } else {
                    eval(b, l)
                }
            }
            E::BrIf(v, c, o) => {
                let v = eval(v, l);
                if eval_c(c, l) {
                    v
                } else {
                    eval(o, l)
                }
            }
            E::Tee(i, a) => {
                let v = eval(a, l);
                l[*i as usize] = v;
                v
            }
            E::Call(a) => eval(a, l),
            E::Loop(_, a) => {
                eval(a, l);
                eval(a, l)
            }
        }
    }

    fn cmp(c: Cmp, a: i64, b: i64) -> bool {
        match c {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::LtS => a < b,
            Cmp::LtU => (a as u64) < b as u64,
            Cmp::GeS => a >= b,
            Cmp::GtU => a as u64 > b as u64,
        }
    }

    fn eval_c(c: &C, l: &mut [i64; 6]) -> bool {
        match c {
            C::Cmp(op, a, b) => {
                let (a, b) = (eval(a, l), eval(b, l));
                cmp(*op, a, b)
            }
            C::Wrap(a) => eval(a, l) as i32 != 0,
        }
    }

    #[test]
    fn random_expressions_match_model() {
        let mut rng = Rng(0x1234_5678_9e37_79b9);
        let inputs: [[i64; 3]; 4] = [
            [0, 0, 0],
            [1, -1, 2],
            [i64::MIN, 63, 0x7fff_ffff],
            [-7, 1 << 40, 12345],
        ];
        for round in 0..60 {
            let exprs: Vec<E> = (0..25).map(|_| gen(&mut rng, 7, &mut 0)).collect();
            let mut m = String::from("(module (func $id (param i64) (result i64) (local.get 0))\n");
            for (k, e) in exprs.iter().enumerate() {
                m += &format!("(func (export \"e{k}\") (param i64 i64 i64) (result i64) (local i64 i64 i64) (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) ");
                wat(e, &mut m);
                m += ")\n";
            }
            m += ")";
            let mut inst = Instance::new(&m);
            for (k, e) in exprs.iter().enumerate() {
                for input in &inputs {
                    let mut locals = [input[0], input[1], input[2], 0, 0, 0];
                    let want = eval(e, &mut locals) as u64;
                    let args: Vec<u64> = input.iter().map(|v| *v as u64).collect();
                    let got = inst.call(&format!("e{k}"), &args);
                    if got != Ok(want) {
                        let mut text = String::new();
                        wat(e, &mut text);
                        panic!("round {round} e{k}{input:?}: got {got:x?}, want {want:#x}\n{text}");
                    }
                }
            }
        }
    }
}

#[test]
fn pinned_locals_survive_calls_branches_and_tees() {
    let wat = r#"(module
      (func $clobber (param f64 i64) (result f64)
        (local f64 f64 f64 f64 i64 i64 i64 i64)
        (local.set 2 (f64.const 9)) (local.set 3 (f64.const 9)) (local.set 4 (f64.const 9)) (local.set 5 (f64.const 9))
        (local.set 6 (i64.const 9)) (local.set 7 (i64.const 9)) (local.set 8 (i64.const 9)) (local.set 9 (i64.const 9))
        (f64.add (local.get 0) (f64.convert_i64_s (i64.add (local.get 1) (i64.add (local.get 6) (local.get 9))))))
      (func (export "fsum") (param $n i32) (param $x f64) (result f64) (local $acc f64) (local $i i32)
        (loop $l
          (local.set $acc (f64.add (local.get $acc) (call $clobber (local.get $x) (i64.extend_i32_u (local.get $i)))))
          (local.set $x (f64.mul (local.get $x) (f64.const 0.5)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (f64.add (local.get $acc) (f64.convert_i32_u (local.get $i))))
      (func (export "latent_pinned") (param $a i32) (result i32)
        (local.get $a) (local.get $a)
        (local.set $a (i32.const 100))
        (i32.add)
        (local.get $a) (i32.add))
      (func (export "wrap_pinned") (param $v i64) (result i32)
        (i32.add (i32.wrap_i64 (local.get $v)) (i32.wrap_i64 (local.get $v))))
      (func (export "reinterpret_pinned") (param $v f64) (result i64)
        (i64.add (i64.reinterpret_f64 (local.get $v)) (i64.reinterpret_f64 (local.get $v))))
    )"#;
    let mut inst = Instance::new(wat);
    // Model: acc += x + (i + 18), x *= 0.5, for i in 0..n; result acc + n.
    let (mut acc, mut x) = (0.0f64, 3.0f64);
    for i in 0..5 {
        acc += x + (i + 18) as f64;
        x *= 0.5;
    }
    assert_eq!(
        inst.call("fsum", &[5, 3.0f64.to_bits()]),
        Ok((acc + 5.0).to_bits())
    );
    assert_eq!(inst.call("latent_pinned", &[7]), Ok(114));
    assert_eq!(inst.call("wrap_pinned", &[0xffff_ffff_8000_0001]), Ok(2));
    assert_eq!(
        inst.call("reinterpret_pinned", &[1.0f64.to_bits()]),
        Ok(1.0f64.to_bits().wrapping_mul(2))
    );
}
