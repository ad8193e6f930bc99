//! Structural invariants of a decoded module that the runtime relies on (validation
//! guarantees them for a compiled module). Checking them again after decoding is cheap and
//! turns a blob that passed the checksum yet is inconsistent (a bug, or a crafted blob)
//! into an error instead of an out-of-bounds index in the runtime.
//!
//! This does not make an untrusted blob safe: its machine code is run as is.

use crate::module::{ConstExpr, DataMode, ElemMode, ExportKind, ImportKind, ModuleInfo};
use crate::types::ValType;

/// Upper bounds on counts (the validator's own limits), so that `VMOffsets` stays in range.
const MAX_TYPES: usize = 1_000_000;
const MAX_FUNCS: usize = 1_000_000;
const MAX_GLOBALS: usize = 1_000_000;
const MAX_TABLES: usize = 100;
const MAX_SEGMENTS: usize = 100_000;
const MAX_PARAMS: usize = 1000;

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn check_const(c: &ConstExpr, info: &ModuleInfo, what: &str) -> Result<(), String> {
    match *c {
        ConstExpr::GlobalGet(g) => {
            ensure((g as usize) < info.globals.len(), || format!("{what}: global {g} out of range"))
        }
        ConstExpr::RefFunc(f) => {
            ensure((f as usize) < info.funcs.len(), || format!("{what}: function {f} out of range"))
        }
        _ => Ok(()),
    }
}

/// Checks `info` against itself and against the code it comes with (`code_len` bytes,
/// entries at `func_offsets`).
pub(crate) fn check(info: &ModuleInfo, code_len: usize, func_offsets: &[usize]) -> Result<(), String> {
    ensure(info.types.len() <= MAX_TYPES, || "too many types".into())?;
    ensure(info.funcs.len() <= MAX_FUNCS, || "too many functions".into())?;
    ensure(info.globals.len() <= MAX_GLOBALS, || "too many globals".into())?;
    ensure(info.tables.len() <= MAX_TABLES, || "too many tables".into())?;
    ensure(info.memories.len() <= 1, || "more than one memory".into())?;
    ensure(info.data.len() <= MAX_SEGMENTS && info.elements.len() <= MAX_SEGMENTS, || "too many segments".into())?;
    for t in &info.types {
        ensure(t.params.len() <= MAX_PARAMS && t.results.len() <= MAX_PARAMS, || "too many parameters".into())?;
    }
    for (i, &t) in info.funcs.iter().enumerate() {
        ensure((t as usize) < info.types.len(), || format!("function {i}: type {t} out of range"))?;
    }

    // Imports come first in each index space and agree with the import list.
    let (mut f, mut t, mut m, mut g) = (0usize, 0usize, 0usize, 0usize);
    for (i, imp) in info.imports.iter().enumerate() {
        let ok = match &imp.kind {
            ImportKind::Func(ty) => {
                f += 1;
                info.funcs.get(f - 1) == Some(ty)
            }
            ImportKind::Table(ty) => {
                t += 1;
                info.tables.get(t - 1) == Some(ty)
            }
            ImportKind::Memory(ty) => {
                m += 1;
                info.memories.get(m - 1) == Some(ty)
            }
            ImportKind::Global(ty) => {
                g += 1;
                info.globals.get(g - 1) == Some(ty)
            }
        };
        ensure(ok, || format!("import {i} disagrees with its index space"))?;
    }
    ensure(
        (f, t, m, g)
            == (
                info.num_imported_funcs as usize,
                info.num_imported_tables as usize,
                info.num_imported_memories as usize,
                info.num_imported_globals as usize,
            ),
        || "import counts disagree with the import list".into(),
    )?;
    ensure(info.global_inits.len() == info.globals.len() - g, || "one initialiser per own global expected".into())?;
    for (i, c) in info.global_inits.iter().enumerate() {
        // Initialisers run while the module's own globals are being created: only imported
        // globals exist yet (Wasm 2.0).
        if let ConstExpr::GlobalGet(x) = *c {
            ensure((x as usize) < g, || format!("global {} initialiser reads global {x}", g + i))?;
        }
        check_const(c, info, &format!("global {} initialiser", g + i))?;
    }
    for t in &info.tables {
        ensure(matches!(t.element, ValType::FuncRef | ValType::ExternRef), || "table of a non-reference type".into())?;
    }

    for e in &info.exports {
        let n = match e.kind {
            ExportKind::Func => info.funcs.len(),
            ExportKind::Table => info.tables.len(),
            ExportKind::Memory => info.memories.len(),
            ExportKind::Global => info.globals.len(),
        };
        ensure((e.index as usize) < n, || format!("export '{}': index {} out of range", e.name, e.index))?;
    }
    if let Some(s) = info.start {
        ensure((s as usize) < info.funcs.len(), || format!("start function {s} out of range"))?;
        let ty = info.func_type(s);
        ensure(ty.params.is_empty() && ty.results.is_empty(), || "start function with a signature".into())?;
    }
    for (i, seg) in info.elements.iter().enumerate() {
        let what = format!("element segment {i}");
        if let ElemMode::Active { table, offset } = &seg.mode {
            ensure((*table as usize) < info.tables.len(), || format!("{what}: table {table} out of range"))?;
            check_const(offset, info, &what)?;
        }
        ensure(matches!(seg.ty, ValType::FuncRef | ValType::ExternRef), || format!("{what}: not a reference type"))?;
        for c in &seg.items {
            check_const(c, info, &what)?;
        }
    }
    for (i, seg) in info.data.iter().enumerate() {
        if let DataMode::Active { memory, offset } = &seg.mode {
            ensure((*memory as usize) < info.memories.len(), || format!("data segment {i}: memory out of range"))?;
            check_const(offset, info, &format!("data segment {i}"))?;
        }
    }
    for &d in &info.declared_funcs {
        ensure((d as usize) < info.funcs.len(), || format!("declared function {d} out of range"))?;
    }

    // One entry per defined function, strictly increasing, inside the code.
    ensure(func_offsets.len() == info.funcs.len() - f, || "one code offset per defined function expected".into())?;
    for (k, &o) in func_offsets.iter().enumerate() {
        ensure(o < code_len, || format!("function {}: code offset {o} out of range", f + k))?;
        ensure(k == 0 || o > func_offsets[k - 1], || format!("function {}: code offsets not increasing", f + k))?;
    }
    Ok(())
}
