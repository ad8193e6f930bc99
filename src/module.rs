//! Parsing, validation and compilation of a module binary into a [`Module`].

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use wasmparser::{
    DataKind, ElementItems, ElementKind, ExternalKind, FuncToValidate, FunctionBody, Operator,
    Parser, Payload, TypeRef, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

use crate::compiler::{self, CompiledCode};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::runtime::vmctx::VMOffsets;
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType, ValType};

/// A constant expression (Wasm 2.0: one instruction).
#[derive(Clone, Debug, PartialEq)]
pub enum ConstExpr {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    GlobalGet(u32),
    RefNull(ValType),
    RefFunc(u32),
}

/// What an import expects.
#[derive(Clone, Debug)]
pub enum ImportKind {
    /// A function of the module's type index.
    Func(u32),
    Memory(MemoryType),
    Table(TableType),
    Global(GlobalType),
}

/// One import of the module.
#[derive(Clone, Debug)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
}

/// The kind of an exported item; the index is in that kind's index space.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Func,
    Memory,
    Table,
    Global,
}

/// One export of the module.
#[derive(Clone, Debug)]
pub struct Export {
    pub name: String,
    pub kind: ExportKind,
    pub index: u32,
}

/// How an element segment is used.
#[derive(Clone, Debug)]
pub enum ElemMode {
    Passive,
    Active { table: u32, offset: ConstExpr },
    Declared,
}

/// An element segment; every item is a constant expression (`ref.func`, `ref.null`, `global.get`).
#[derive(Clone, Debug)]
pub struct ElementSegment {
    pub mode: ElemMode,
    pub ty: ValType,
    pub items: Vec<ConstExpr>,
}

/// How a data segment is used.
#[derive(Clone, Debug)]
pub enum DataMode {
    Passive,
    Active { memory: u32, offset: ConstExpr },
}

/// A data segment.
#[derive(Clone, Debug)]
pub struct DataSegment {
    pub mode: DataMode,
    pub bytes: Vec<u8>,
}

/// Everything known about a module besides its code. Index spaces put imports first.
#[derive(Clone, Debug, Default)]
pub struct ModuleInfo {
    pub types: Vec<FuncType>,
    /// Type index of every function (imported ones first).
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    pub globals: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Initialisers of the module's own globals (index `i` is global `num_imported_globals + i`).
    pub global_inits: Vec<ConstExpr>,
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elements: Vec<ElementSegment>,
    pub data: Vec<DataSegment>,
    /// Functions referenced outside function bodies (exports, elements, globals): `ref.func` targets.
    pub declared_funcs: Vec<u32>,
}

impl ModuleInfo {
    /// The type of function `func_index`.
    pub fn func_type(&self, func_index: u32) -> &FuncType {
        &self.types[self.funcs[func_index as usize] as usize]
    }

    /// Layout of this module's `VMContext`.
    pub fn vm_offsets(&self) -> VMOffsets {
        VMOffsets::new(
            self.globals.len() as u32,
            self.tables.len() as u32,
            self.types.len() as u32,
            self.funcs.len() as u32,
        )
        .with_segments(self.data.len() as u32, self.elements.len() as u32)
    }
}

pub(crate) struct ModuleInner {
    pub info: ModuleInfo,
    pub code: CompiledCode,
    /// Canonical signature id of each type (`runtime::typeids`), looked up on first use.
    type_ids: OnceLock<Box<[u32]>>,
    /// Export name -> position in `info.exports`, built on first lookup (modules with many
    /// exports only; see [`Module::export_position`]).
    export_names: OnceLock<HashMap<String, u32>>,
}

/// Up to this many exports, a lookup by name scans them (no map to build per module).
const EXPORT_SCAN_MAX: usize = 16;

/// A validated, compiled module. Cheap to clone; instantiate it with [`crate::Store::instantiate`].
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

/// The Wasm features this engine accepts.
pub fn features() -> WasmFeatures {
    // Wasm 2.0 (includes SIMD, bulk memory, reference types, multi-value, sign-ext, sat-trunc).
    WasmFeatures::WASM2
}

type Bodies<'a> = Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'a>)>;

/// Validates a module binary's sections and collects its function bodies (validated as they
/// are compiled).
fn parse<'a>(bytes: &'a [u8], limits: &Limits) -> Result<(ModuleInfo, Bodies<'a>)> {
    let mut validator = Validator::new_with_features(features());
    let mut info = ModuleInfo::default();
    let mut bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        // Before the validator: it allocates per declared count, and ours may be lower.
        crate::limits::check_payload(&payload, &info, bodies.len(), limits)?;
        if let ValidPayload::Func(func, body) = validator.payload(&payload)? {
            bodies.push((func, body));
        }
        if let Payload::CodeSectionStart { count, .. } = &payload {
            // Validated: the function section's count, within `max_functions`.
            bodies.reserve_exact(*count as usize);
        }
        if let Payload::MemorySection(reader) = &payload {
            let range = reader.range();
            check_memory_limit_encoding(&bytes[range.start as usize..range.end as usize], range.start as usize)?;
        }
        read_payload(&mut info, payload)?;
    }
    Ok((info, bodies))
}

/// Validates and compiles a module binary for `isa` whatever the host (cross-compilation
/// tests): the machine code and function offsets.
pub fn compile_for(bytes: &[u8], isa: compiler::Isa) -> Result<(Vec<u8>, Vec<usize>)> {
    compile_parts_for(bytes, isa).map(|(_, code, offsets)| (code, offsets))
}

/// Like [`compile_for`], with the module's metadata (to serialise code for another machine).
pub fn compile_parts_for(bytes: &[u8], isa: compiler::Isa) -> Result<(ModuleInfo, Vec<u8>, Vec<usize>)> {
    let limits = Limits::default();
    let (info, bodies) = parse(bytes, &limits)?;
    let (code, offsets) = compiler::compile_module_for(isa, &info, bodies, &limits)?;
    Ok((info, code, offsets))
}

/// [`compile_for`] on up to `threads` threads (the code does not depend on the count).
pub fn compile_for_with_threads(
    bytes: &[u8],
    isa: compiler::Isa,
    threads: usize,
) -> Result<(Vec<u8>, Vec<usize>)> {
    let limits = Limits::default();
    let (info, bodies) = parse(bytes, &limits)?;
    compiler::compile_module_for_threads(isa, &info, bodies, threads, &limits)
}

impl Module {
    /// A module of already validated metadata and code.
    pub(crate) fn from_parts(info: ModuleInfo, code: CompiledCode) -> Module {
        Module {
            inner: Arc::new(ModuleInner { info, code, type_ids: OnceLock::new(), export_names: OnceLock::new() }),
        }
    }

    /// The canonical signature id of every type of the module, in type index order.
    pub(crate) fn type_ids(&self) -> &[u32] {
        self.inner.type_ids.get_or_init(|| crate::runtime::typeids::type_ids(&self.inner.info.types))
    }

    /// Position in `info().exports` of the export called `name`.
    pub(crate) fn export_position(&self, name: &str) -> Option<usize> {
        let exports = &self.inner.info.exports;
        if exports.len() <= EXPORT_SCAN_MAX {
            return exports.iter().position(|e| e.name == name);
        }
        let names = self.inner.export_names.get_or_init(|| {
            // Export names are unique (validated), so no entry is overwritten.
            exports.iter().enumerate().map(|(k, e)| (e.name.clone(), k as u32)).collect()
        });
        names.get(name).map(|&k| k as usize)
    }

    /// Validates and compiles a module binary within the default [`Limits`]; large modules
    /// compile on [`compiler::parallel::default_threads`] threads.
    pub fn new(bytes: &[u8]) -> Result<Module> {
        Module::with_limits(bytes, &Limits::default())
    }

    /// Validates and compiles a module binary on up to `threads` threads (1: the calling
    /// thread only). The generated code is the same whatever the count.
    pub fn new_with_threads(bytes: &[u8], threads: usize) -> Result<Module> {
        let limits = Limits::default();
        let (info, bodies) = parse(bytes, &limits)?;
        let code = compiler::compile_module_threads(&info, bodies, threads, &limits)?;
        Ok(Module::from_parts(info, code))
    }

    /// Validates and compiles a module binary; exceeding one of `limits` is an
    /// [`Error::Compile`] naming the limit.
    pub fn with_limits(bytes: &[u8], limits: &Limits) -> Result<Module> {
        let (info, bodies) = parse(bytes, limits)?;
        let code = compiler::compile_module_with_limits(&info, bodies, limits)?;
        Ok(Module::from_parts(info, code))
    }

    /// Parses WebAssembly text (or binary bytes passed as text) and compiles it.
    pub fn from_wat(text: &str) -> Result<Module> {
        Module::from_wat_with_limits(text, &Limits::default())
    }

    /// [`Module::from_wat`] within `limits`.
    pub fn from_wat_with_limits(text: &str, limits: &Limits) -> Result<Module> {
        let bytes = wat::parse_str(text)
            .map_err(|e| Error::Compile { message: e.to_string(), offset: None })?;
        Module::with_limits(&bytes, limits)
    }

    /// The module's metadata.
    pub fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    /// `(module, name, type)` of every import, in order.
    pub fn imports(&self) -> Vec<(String, String, ExternType)> {
        let info = &self.inner.info;
        info.imports
            .iter()
            .map(|i| {
                let ty = match &i.kind {
                    ImportKind::Func(t) => ExternType::Func(info.types[*t as usize].clone()),
                    ImportKind::Memory(m) => ExternType::Memory(*m),
                    ImportKind::Table(t) => ExternType::Table(*t),
                    ImportKind::Global(g) => ExternType::Global(*g),
                };
                (i.module.clone(), i.name.clone(), ty)
            })
            .collect()
    }

    /// `(name, type)` of every export, in order.
    pub fn exports(&self) -> Vec<(String, ExternType)> {
        let info = &self.inner.info;
        info.exports
            .iter()
            .map(|e| {
                let i = e.index as usize;
                let ty = match e.kind {
                    ExportKind::Func => ExternType::Func(info.func_type(e.index).clone()),
                    ExportKind::Memory => ExternType::Memory(info.memories[i]),
                    ExportKind::Table => ExternType::Table(info.tables[i]),
                    ExportKind::Global => ExternType::Global(info.globals[i]),
                };
                (e.name.clone(), ty)
            })
            .collect()
    }
}

fn unsupported(what: &str, offset: u64) -> Error {
    Error::Compile { message: format!("unsupported: {what}"), offset: Some(offset as usize) }
}

fn val_type(t: wasmparser::ValType, offset: u64) -> Result<ValType> {
    ValType::from_wasmparser(t).ok_or_else(|| unsupported("reference type outside Wasm 2.0", offset))
}

fn ref_type(t: wasmparser::RefType, offset: u64) -> Result<ValType> {
    val_type(wasmparser::ValType::Ref(t), offset)
}

fn table_type(t: &wasmparser::TableType, offset: u64) -> Result<TableType> {
    if t.table64 || t.shared {
        return Err(unsupported("64-bit or shared table", offset));
    }
    Ok(TableType {
        element: ref_type(t.element_type, offset)?,
        min: t.initial as u32,
        max: t.maximum.map(|m| m as u32),
    })
}

fn memory_type(m: &wasmparser::MemoryType, offset: u64) -> Result<MemoryType> {
    if m.memory64 || m.shared || m.page_size_log2.is_some() {
        return Err(unsupported("64-bit, shared or custom-page-size memory", offset));
    }
    Ok(MemoryType { min: m.initial as u32, max: m.maximum.map(|m| m as u32) })
}

fn global_type(g: &wasmparser::GlobalType, offset: u64) -> Result<GlobalType> {
    Ok(GlobalType { content: val_type(g.content_type, offset)?, mutable: g.mutable })
}

fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr> {
    let mut reader = expr.get_operators_reader();
    let offset = reader.original_position();
    let op = reader.read()?;
    let value = match op {
        Operator::I32Const { value } => ConstExpr::I32(value),
        Operator::I64Const { value } => ConstExpr::I64(value),
        Operator::F32Const { value } => ConstExpr::F32(value.bits()),
        Operator::F64Const { value } => ConstExpr::F64(value.bits()),
        Operator::V128Const { value } => ConstExpr::V128(u128::from_le_bytes(*value.bytes())),
        Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        Operator::RefNull { hty } => ConstExpr::RefNull(ref_type(
            wasmparser::RefType::new(true, hty).ok_or_else(|| unsupported("heap type", offset))?,
            offset,
        )?),
        Operator::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        _ => return Err(unsupported("constant expression", offset)),
    };
    match reader.read()? {
        Operator::End => Ok(value),
        _ => Err(unsupported("extended constant expression", offset)),
    }
}

/// Reads one unsigned LEB128 of at most `max_bytes` bytes; returns the value and its length.
fn read_leb_u64(bytes: &[u8], max_bytes: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(max_bytes) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// wasmparser reads memory limits as 64-bit LEB128 for every memory; a 32-bit memory's limits
/// must be at most 5 bytes long ("integer representation too long" otherwise).
fn check_memory_limit_encoding(section: &[u8], start: usize) -> Result<()> {
    let malformed = |at: usize| Error::Compile {
        message: "integer representation too long".into(),
        offset: Some(start + at),
    };
    let Some((count, mut at)) = read_leb_u64(section, 5) else { return Ok(()) };
    for _ in 0..count {
        let Some(&flags) = section.get(at) else { return Ok(()) };
        at += 1;
        if flags & 0x04 != 0 {
            return Ok(()); // memory64: 64-bit limits are legitimate (and rejected elsewhere)
        }
        let fields = if flags & 0x01 != 0 { 2 } else { 1 };
        for _ in 0..fields {
            match read_leb_u64(&section[at..], 5) {
                Some((_, len)) => at += len,
                None if section.len() > at => return Err(malformed(at)),
                None => return Ok(()),
            }
        }
        if flags & 0x08 != 0 {
            return Ok(()); // custom page size: not ours to decode further
        }
    }
    Ok(())
}

fn read_payload(info: &mut ModuleInfo, payload: Payload<'_>) -> Result<()> {
    match payload {
        Payload::TypeSection(reader) => {
            for rec in reader.into_iter_with_offsets() {
                let (offset, rec) = rec?;
                for sub in rec.into_types() {
                    let f = match &sub.composite_type.inner {
                        wasmparser::CompositeInnerType::Func(f) => f,
                        _ => return Err(unsupported("non-function type", offset)),
                    };
                    let params = f.params().iter().map(|t| val_type(*t, offset)).collect::<Result<Vec<_>>>()?;
                    let results = f.results().iter().map(|t| val_type(*t, offset)).collect::<Result<Vec<_>>>()?;
                    info.types.push(FuncType::new(params, results));
                }
            }
        }
        Payload::ImportSection(reader) => {
            for imp in reader.into_imports_with_offsets() {
                let (offset, imp) = imp?;
                let kind = match imp.ty {
                    TypeRef::Func(t) => {
                        info.funcs.push(t);
                        info.num_imported_funcs += 1;
                        ImportKind::Func(t)
                    }
                    TypeRef::Table(t) => {
                        let t = table_type(&t, offset)?;
                        info.tables.push(t);
                        info.num_imported_tables += 1;
                        ImportKind::Table(t)
                    }
                    TypeRef::Memory(m) => {
                        let m = memory_type(&m, offset)?;
                        info.memories.push(m);
                        info.num_imported_memories += 1;
                        ImportKind::Memory(m)
                    }
                    TypeRef::Global(g) => {
                        let g = global_type(&g, offset)?;
                        info.globals.push(g);
                        info.num_imported_globals += 1;
                        ImportKind::Global(g)
                    }
                    _ => return Err(unsupported("import kind", offset)),
                };
                info.imports.push(Import { module: imp.module.to_string(), name: imp.name.to_string(), kind });
            }
        }
        // Vectors sized from section counts (already within the limits, see
        // `limits::check_payload`): one allocation each, never grown by doubling.
        Payload::FunctionSection(reader) => {
            info.funcs.reserve_exact(reader.count() as usize);
            for t in reader {
                info.funcs.push(t?);
            }
        }
        Payload::TableSection(reader) => {
            for t in reader.into_iter_with_offsets() {
                let (offset, t) = t?;
                info.tables.push(table_type(&t.ty, offset)?);
                if let wasmparser::TableInit::Expr(_) = t.init {
                    return Err(unsupported("table initialiser expression", offset));
                }
            }
        }
        Payload::MemorySection(reader) => {
            for m in reader.into_iter_with_offsets() {
                let (offset, m) = m?;
                info.memories.push(memory_type(&m, offset)?);
            }
        }
        Payload::GlobalSection(reader) => {
            for g in reader.into_iter_with_offsets() {
                let (offset, g) = g?;
                info.globals.push(global_type(&g.ty, offset)?);
                let init = const_expr(&g.init_expr)?;
                if let ConstExpr::RefFunc(f) = init {
                    info.declared_funcs.push(f);
                }
                info.global_inits.push(init);
            }
        }
        Payload::ExportSection(reader) => {
            info.exports.reserve_exact(reader.count() as usize);
            for e in reader.into_iter_with_offsets() {
                let (offset, e) = e?;
                let kind = match e.kind {
                    ExternalKind::Func => {
                        info.declared_funcs.push(e.index);
                        ExportKind::Func
                    }
                    ExternalKind::Table => ExportKind::Table,
                    ExternalKind::Memory => ExportKind::Memory,
                    ExternalKind::Global => ExportKind::Global,
                    _ => return Err(unsupported("export kind", offset)),
                };
                info.exports.push(Export { name: e.name.to_string(), kind, index: e.index });
            }
        }
        Payload::StartSection { func, .. } => info.start = Some(func),
        Payload::ElementSection(reader) => {
            info.elements.reserve_exact(reader.count() as usize);
            for e in reader.into_iter_with_offsets() {
                let (offset, e) = e?;
                let mode = match e.kind {
                    ElementKind::Passive => ElemMode::Passive,
                    ElementKind::Declared => ElemMode::Declared,
                    ElementKind::Active { table_index, offset_expr } => ElemMode::Active {
                        table: table_index.unwrap_or(0),
                        offset: const_expr(&offset_expr)?,
                    },
                };
                let (ty, items) = match e.items {
                    ElementItems::Functions(r) => {
                        let mut items = Vec::with_capacity(r.count() as usize);
                        for f in r {
                            let f = f?;
                            info.declared_funcs.push(f);
                            items.push(ConstExpr::RefFunc(f));
                        }
                        (ValType::FuncRef, items)
                    }
                    ElementItems::Expressions(rt, r) => {
                        let mut items = Vec::new();
                        for expr in r {
                            let c = const_expr(&expr?)?;
                            if let ConstExpr::RefFunc(f) = c {
                                info.declared_funcs.push(f);
                            }
                            items.push(c);
                        }
                        (ref_type(rt, offset)?, items)
                    }
                };
                info.elements.push(ElementSegment { mode, ty, items });
            }
        }
        Payload::DataSection(reader) => {
            info.data.reserve_exact(reader.count() as usize);
            for d in reader {
                let d = d?;
                let mode = match d.kind {
                    DataKind::Passive => DataMode::Passive,
                    DataKind::Active { memory_index, offset_expr } => {
                        DataMode::Active { memory: memory_index, offset: const_expr(&offset_expr)? }
                    }
                };
                info.data.push(DataSegment { mode, bytes: d.data.to_vec() });
            }
        }
        _ => {}
    }
    Ok(())
}
