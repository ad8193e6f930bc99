//! Instances: a module's code bound to its imports, memories, tables and globals.

use crate::error::{Error, Result, Trap, TrapKind};
use crate::module::{ConstExpr, DataMode, ElemMode, ExportKind, ImportKind, Module};
use crate::runtime::func::{FuncData, FuncKind, FuncSig};
use crate::runtime::global::GlobalInstance;
use crate::runtime::memory::MemoryInstance;
use crate::runtime::store::Store;
use crate::runtime::table::TableInstance;
use crate::runtime::vmctx::{
    VMDataSegment, VMElemSegment, VMFuncRef, VMGlobal, VMOffsets, VMCTX_MEMORY_OFFSET, VMCTX_RUNTIME_OFFSET,
};
use crate::runtime::{Extern, Func, Global, Instance, Memory, Table};
use crate::types::{Val, ValType};

/// An instance registered in a store.
pub(crate) struct InstanceData {
    /// Keeps the code alive while the instance exists.
    pub module: Module,
    /// The `VMContext` (see `vmctx.rs`), as u64 words for alignment.
    pub vmctx: Box<[u64]>,
    pub funcs: Vec<Func>,
    pub memories: Vec<Memory>,
    pub tables: Vec<Table>,
    pub globals: Vec<Global>,
    /// What each export of `module.info().exports` (same order) resolved to.
    pub exports: Box<[Extern]>,
    /// Some other instance imported one of our exports, or we imported something through
    /// which our functions may have escaped (a table or global): we can't be freed early.
    pub pinned: bool,
    /// Number of functions that are ours (not imported), at the end of `funcs`.
    pub own_funcs: usize,
    /// Element segments evaluated at instantiation (table words); the vmctx's
    /// `VMElemSegment`s point into them.
    pub elem_words: Vec<Box<[u64]>>,
    /// Addresses of the imported functions' `VMFuncRef` copies in our vmctx (registered in
    /// the store's `funcref_index`, since `ref.func` of an import yields them).
    pub import_funcref_copies: Vec<usize>,
}

impl InstanceData {
    fn vmctx_ptr(&mut self) -> *mut u8 {
        self.vmctx.as_mut_ptr() as *mut u8
    }
}

impl Instance {
    fn with<R>(&self, store: &Store, f: impl FnOnce(&InstanceData) -> R) -> Result<R> {
        store.check(self.store_id)?;
        let objects = store.objects.borrow();
        let inst = objects.instances.get(self.index).ok_or_else(|| Error::usage("instance was released"))?;
        Ok(f(inst))
    }

    /// The export called `name`, if any (`None` also for a released instance).
    pub fn export(&self, store: &Store, name: &str) -> Option<Extern> {
        self.with(store, |i| i.module.export_position(name).map(|k| i.exports[k])).ok().flatten()
    }

    /// Every export with its name, in declaration order.
    pub fn exports(&self, store: &Store) -> Vec<(String, Extern)> {
        self.with(store, |i| {
            let names = i.module.info().exports.iter().map(|e| e.name.clone());
            names.zip(i.exports.iter().copied()).collect()
        })
        .unwrap_or_default()
    }
}

fn limits_match(actual_min: u32, actual_max: Option<u32>, min: u32, max: Option<u32>) -> bool {
    actual_min >= min
        && match max {
            None => true,
            Some(m) => matches!(actual_max, Some(am) if am <= m),
        }
}

fn describe(module: &str, name: &str) -> String {
    format!("import `{module}.{name}`")
}

/// Checks one import against what the module expects and marks what it pins.
fn check_import(store: &Store, module: &Module, idx: usize, ext: &Extern) -> Result<()> {
    let imp = &module.info().imports[idx];
    let what = describe(&imp.module, &imp.name);
    let mismatch = |expected: String, got: String| {
        Error::link(format!("{what}: incompatible import type: expected {expected}, got {got}"))
    };
    let kind_name = |e: &Extern| match e {
        Extern::Func(_) => "func",
        Extern::Memory(_) => "memory",
        Extern::Table(_) => "table",
        Extern::Global(_) => "global",
    };
    match (&imp.kind, ext) {
        (ImportKind::Func(t), Extern::Func(f)) => {
            let expected = &module.info().types[*t as usize];
            let actual = f.ty(store)?;
            if &actual != expected {
                return Err(mismatch(format!("func {expected}"), format!("func {actual}")));
            }
        }
        (ImportKind::Memory(m), Extern::Memory(mem)) => {
            let a = mem.ty(store)?;
            if !limits_match(a.min, a.max, m.min, m.max) {
                return Err(mismatch(format!("memory {m:?}"), format!("memory {a:?}")));
            }
        }
        (ImportKind::Table(t), Extern::Table(tab)) => {
            let a = tab.ty(store)?;
            if a.element != t.element || !limits_match(a.min, a.max, t.min, t.max) {
                return Err(mismatch(format!("table {t:?}"), format!("table {a:?}")));
            }
        }
        (ImportKind::Global(g), Extern::Global(gl)) => {
            let a = gl.ty(store)?;
            if a != *g {
                return Err(mismatch(format!("global {g:?}"), format!("global {a:?}")));
            }
        }
        (expected, got) => {
            let expected = match expected {
                ImportKind::Func(_) => "func",
                ImportKind::Memory(_) => "memory",
                ImportKind::Table(_) => "table",
                ImportKind::Global(_) => "global",
            };
            return Err(mismatch(expected.to_string(), kind_name(got).to_string()));
        }
    }
    Ok(())
}

/// Evaluates a constant expression against already-initialised globals and functions.
fn eval_const(store: &Store, expr: &ConstExpr, globals: &[Global], funcs: &[Func]) -> Result<Val> {
    Ok(match *expr {
        ConstExpr::I32(v) => Val::I32(v),
        ConstExpr::I64(v) => Val::I64(v),
        ConstExpr::F32(v) => Val::F32(v),
        ConstExpr::F64(v) => Val::F64(v),
        ConstExpr::V128(v) => Val::V128(v),
        ConstExpr::RefNull(ValType::FuncRef) => Val::FuncRef(None),
        ConstExpr::RefNull(_) => Val::ExternRef(None),
        ConstExpr::RefFunc(i) => Val::FuncRef(Some(funcs[i as usize])),
        ConstExpr::GlobalGet(i) => globals[i as usize].get(store)?,
    })
}

fn offset_of(v: Val) -> u32 {
    match v {
        Val::I32(x) => x as u32,
        _ => 0,
    }
}

pub(crate) fn instantiate(store: &Store, module: &Module, imports: &[Extern]) -> Result<Instance> {
    let info = module.info();
    if imports.len() != info.imports.len() {
        return Err(Error::link(format!(
            "module expects {} import(s), got {}",
            info.imports.len(),
            imports.len()
        )));
    }
    for (i, ext) in imports.iter().enumerate() {
        let id = match ext {
            Extern::Func(f) => f.store_id,
            Extern::Memory(m) => m.store_id,
            Extern::Table(t) => t.store_id,
            Extern::Global(g) => g.store_id,
        };
        store.check(id)?;
        check_import(store, module, i, ext)?;
    }

    let mut funcs = Vec::with_capacity(info.funcs.len());
    let mut memories = Vec::new();
    let mut tables = Vec::new();
    let mut globals = Vec::new();
    let mut pinned = false;
    for ext in imports {
        match *ext {
            Extern::Func(f) => funcs.push(f),
            Extern::Memory(m) => memories.push(m),
            Extern::Table(t) => {
                pinned = true;
                tables.push(t)
            }
            Extern::Global(g) => {
                if matches!(g.ty(store)?.content, ValType::FuncRef | ValType::ExternRef) {
                    pinned = true;
                }
                globals.push(g)
            }
        }
    }
    // Whoever we import from can no longer be freed before us.
    pin_sources(store, imports);

    for m in &info.memories[info.num_imported_memories as usize..] {
        memories.push(Memory::new(store, *m)?);
    }
    for t in &info.tables[info.num_imported_tables as usize..] {
        tables.push(Table::new(store, *t, Val::default_for(t.element))?);
    }

    // The vmctx and the instance's own functions come next: globals may hold `ref.func`.
    let offsets: VMOffsets = info.vm_offsets();
    let vmctx = vec![0u64; offsets.size().div_ceil(8)].into_boxed_slice();
    let index = {
        let mut objects = store.objects.borrow_mut();
        objects.instances.push(Box::new(InstanceData {
            module: module.clone(),
            vmctx,
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            exports: Box::default(),
            pinned,
            own_funcs: 0,
            elem_words: Vec::new(),
            import_funcref_copies: Vec::new(),
        }))
    };
    let instance = Instance { store_id: store.id, index };
    let vmctx_ptr = store.objects.borrow_mut().instances.get_mut(index).unwrap().vmctx_ptr();

    // Own functions: their VMFuncRefs live inside the vmctx.
    let code_base = module.inner.code.code.as_ptr();
    let n_imported = info.num_imported_funcs as usize;
    let type_ids = module.type_ids();
    {
        let mut objects = store.objects.borrow_mut();
        for (k, &offset) in module.inner.code.func_offsets.iter().enumerate() {
            let func_index = (n_imported + k) as u32;
            let type_index = info.funcs[func_index as usize] as usize;

            // SAFETY: the vmctx buffer is `offsets.size()` bytes and 8-aligned; the funcref
            // slot of every function index lies inside it.
            let funcref = unsafe {
                let p = vmctx_ptr.add(offsets.func(func_index) as usize) as *mut VMFuncRef;
                p.write(VMFuncRef {
                    code: code_base.add(offset),
                    vmctx: vmctx_ptr,
                    type_id: type_ids[type_index],
                    _pad: 0,
                });
                p as *const VMFuncRef
            };
            let sig = FuncSig::Module(module.clone(), type_index as u32);
            let fi = objects.funcs.push(Box::new(FuncData { sig, funcref, kind: FuncKind::Wasm { instance: index } }));
            objects.funcref_index.insert(funcref as usize, fi);
            funcs.push(Func { store_id: store.id, index: fi });
        }
    }

    for (k, g) in info.globals[info.num_imported_globals as usize..].iter().enumerate() {
        let init = eval_const(store, &info.global_inits[k], &globals, &funcs)?;
        globals.push(Global::new(store, *g, init)?);
    }

    // Fill the vmctx.
    {
        let objects = store.objects.borrow();
        let put = |off: i32, v: u64| {
            // SAFETY: every offset comes from `VMOffsets` of this module and lies inside the
            // vmctx buffer, which is 8-aligned.
            unsafe { (vmctx_ptr.add(off as usize) as *mut u64).write(v) }
        };
        put(VMCTX_RUNTIME_OFFSET, store.runtime_ptr() as u64);
        if let Some(m) = memories.first() {
            let mem: &MemoryInstance = objects.memories.get(m.index).ok_or_else(|| Error::usage("memory was released"))?;
            put(VMCTX_MEMORY_OFFSET, &mem.def as *const _ as u64);
        }
        for (i, g) in globals.iter().enumerate() {
            let gi: &GlobalInstance = objects.globals.get(g.index).ok_or_else(|| Error::usage("global was released"))?;
            put(offsets.global(i as u32), &gi.cell as *const VMGlobal as u64);
        }
        for (i, t) in tables.iter().enumerate() {
            let ti: &TableInstance = objects.tables.get(t.index).ok_or_else(|| Error::usage("table was released"))?;
            put(offsets.table(i as u32), &ti.def as *const _ as u64);
        }
        for (i, &id) in type_ids.iter().enumerate() {
            // SAFETY: as for `put`; type ids are 4-byte aligned u32s.
            unsafe { (vmctx_ptr.add(offsets.type_id(i as u32) as usize) as *mut u32).write(id) }
        }
        for (i, f) in funcs.iter().take(n_imported).enumerate() {
            let fd = objects.funcs.get(f.index).ok_or_else(|| Error::usage("function was released"))?;
            // SAFETY: `fd.funcref` points to a live VMFuncRef (owned by its instance or host
            // function); the destination lies inside our vmctx.
            unsafe {
                (vmctx_ptr.add(offsets.func(i as u32) as usize) as *mut VMFuncRef).write(*fd.funcref);
            }
        }
    }
    // `ref.func` of an import yields our copy of its `VMFuncRef`: map it back to the import.
    let import_copies: Vec<usize> = (0..n_imported)
        .map(|i| vmctx_ptr as usize + offsets.func(i as u32) as usize)
        .collect();
    {
        let mut objects = store.objects.borrow_mut();
        for (&addr, f) in import_copies.iter().zip(&funcs) {
            objects.funcref_index.entry(addr).or_insert(f.index);
        }
        objects.instances.get_mut(index).unwrap().import_funcref_copies = import_copies;
    }

    // Element segments are evaluated once; `table.init` copies their words.
    let mut elem_words = Vec::with_capacity(info.elements.len());
    for seg in &info.elements {
        let mut words = Vec::with_capacity(seg.items.len());
        for item in &seg.items {
            let bytes = store.encode_val(&eval_const(store, item, &globals, &funcs)?)?;
            words.push(u64::from_le_bytes(bytes[..8].try_into().unwrap()));
        }
        elem_words.push(words.into_boxed_slice());
    }
    for (i, seg) in info.data.iter().enumerate() {
        let d = VMDataSegment { base: seg.bytes.as_ptr(), len: seg.bytes.len() as u64 };
        // SAFETY: the descriptor lies inside our vmctx (8-aligned); the bytes belong to the
        // module, which the instance keeps alive.
        unsafe { (vmctx_ptr.add(offsets.data_segment(i as u32) as usize) as *mut VMDataSegment).write(d) }
    }
    for (i, words) in elem_words.iter().enumerate() {
        let e = VMElemSegment { base: words.as_ptr(), len: words.len() as u64 };
        // SAFETY: as above; the boxed words move into the instance without reallocation.
        unsafe { (vmctx_ptr.add(offsets.elem_segment(i as u32) as usize) as *mut VMElemSegment).write(e) }
    }

    let exports: Box<[Extern]> = info
        .exports
        .iter()
        .map(|e| {
            let i = e.index as usize;
            match e.kind {
                ExportKind::Func => Extern::Func(funcs[i]),
                ExportKind::Memory => Extern::Memory(memories[i]),
                ExportKind::Table => Extern::Table(tables[i]),
                ExportKind::Global => Extern::Global(globals[i]),
            }
        })
        .collect();
    let start = info.start.map(|s| funcs[s as usize]);
    // Segments before the handle lists move into the instance (no copies of them). A
    // failure leaves the instance registered either way: earlier segments may have put its
    // functions into an imported table, so its element words must stay alive too.
    let init = initialize_segments(store, module, &elem_words, &funcs, &memories, &tables, &globals);
    {
        let mut objects = store.objects.borrow_mut();
        let own_memories = memories[info.num_imported_memories as usize..].iter().map(|&m| Extern::Memory(m));
        let own_tables = tables[info.num_imported_tables as usize..].iter().map(|&t| Extern::Table(t));
        let own_globals = globals[info.num_imported_globals as usize..].iter().map(|&g| Extern::Global(g));
        for ext in own_memories.chain(own_tables).chain(own_globals) {
            objects.definers.insert(ext, index);
        }
        let inst = objects.instances.get_mut(index).unwrap();
        inst.exports = exports;
        inst.own_funcs = funcs.len() - n_imported;
        inst.funcs = funcs;
        inst.memories = memories;
        inst.tables = tables;
        inst.globals = globals;
        inst.elem_words = elem_words;
    }
    init?;
    drop_used_segments(module, vmctx_ptr, &offsets);

    if let Some(start) = start {
        start.call(store, &[]).map_err(|e| match e {
            Error::Trap(t) => Error::Trap(Trap { kind: t.kind, context: "start function".into() }),
            e => e,
        })?;
    }
    Ok(instance)
}

/// Active element and data segments, in order; the first one out of bounds traps (earlier
/// writes stay, as in the spec).
fn initialize_segments(
    store: &Store,
    module: &Module,
    elem_words: &[Box<[u64]>],
    funcs: &[Func],
    memories: &[Memory],
    tables: &[Table],
    globals: &[Global],
) -> Result<()> {
    let info = module.info();
    for (seg, words) in info.elements.iter().zip(elem_words) {
        if let ElemMode::Active { table, offset } = &seg.mode {
            let start = offset_of(eval_const(store, offset, globals, funcs)?) as usize;
            let t = tables[*table as usize];
            store.check(t.store_id)?;
            let mut objects = store.objects.borrow_mut();
            let ti = objects.tables.get_mut(t.index).ok_or_else(|| Error::usage("table was released"))?;
            let dst = ti
                .elements_mut()
                .get_mut(start..)
                .and_then(|rest| rest.get_mut(..words.len()))
                .ok_or_else(|| Error::trap(TrapKind::TableOutOfBounds))?;
            dst.copy_from_slice(words);
        }
    }
    for seg in &info.data {
        if let DataMode::Active { memory, offset } = &seg.mode {
            let start = offset_of(eval_const(store, offset, globals, funcs)?) as usize;
            let m = memories[*memory as usize];
            if start as u64 + seg.bytes.len() as u64 > m.data_size(store)? as u64 {
                return Err(Error::trap(TrapKind::MemoryOutOfBounds));
            }
            m.write(store, start, &seg.bytes)?;
        }
    }
    Ok(())
}

/// After instantiation, active data segments and active and declarative element segments
/// are dropped (`memory.init`/`table.init` then see them as empty).
fn drop_used_segments(module: &Module, vmctx: *mut u8, offsets: &VMOffsets) {
    let info = module.info();
    let dropped_elems = info
        .elements
        .iter()
        .enumerate()
        .filter(|(_, s)| !matches!(s.mode, ElemMode::Passive))
        .map(|(i, _)| offsets.elem_segment(i as u32));
    let dropped_data = info
        .data
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.mode, DataMode::Active { .. }))
        .map(|(i, _)| offsets.data_segment(i as u32));
    for descriptor in dropped_elems.chain(dropped_data) {
        // SAFETY: the descriptor lies inside this instance's live vmctx; its `len` is the
        // second u64 of both segment descriptor kinds.
        unsafe { (vmctx.add(descriptor as usize) as *mut u64).add(1).write(0) }
    }
}

/// Marks every instance that defines one of `imports` as pinned: it must outlive us.
fn pin_sources(store: &Store, imports: &[Extern]) {
    if imports.is_empty() {
        return;
    }
    let mut objects = store.objects.borrow_mut();
    for ext in imports {
        let definer = match ext {
            Extern::Func(f) => match objects.funcs.get(f.index).map(|d| &d.kind) {
                Some(FuncKind::Wasm { instance }) => Some(*instance),
                _ => None,
            },
            other => objects.definers.get(other).copied(),
        };
        if let Some(inst) = definer.and_then(|i| objects.instances.get_mut(i)) {
            inst.pinned = true;
        }
    }
}

/// Frees an unpinned instance's own objects. Returns whether it was freed.
pub(crate) fn release(store: &Store, index: u32) -> Result<bool> {
    let mut objects = store.objects.borrow_mut();
    let pinned = match objects.instances.get(index) {
        Some(i) => i.pinned,
        None => return Ok(false),
    };
    if pinned {
        return Ok(false);
    }
    let inst = objects.instances.take(index).unwrap();
    for addr in &inst.import_funcref_copies {
        objects.funcref_index.remove(addr);
    }
    let own_from = inst.funcs.len() - inst.own_funcs;
    for f in &inst.funcs[own_from..] {
        if let Some(d) = objects.funcs.take(f.index) {
            objects.funcref_index.remove(&(d.funcref as usize));
        }
    }
    let info = inst.module.info();
    for m in &inst.memories[info.num_imported_memories as usize..] {
        objects.memories.take(m.index);
        objects.definers.remove(&Extern::Memory(*m));
    }
    for t in &inst.tables[info.num_imported_tables as usize..] {
        objects.tables.take(t.index);
        objects.definers.remove(&Extern::Table(*t));
    }
    for g in &inst.globals[info.num_imported_globals as usize..] {
        objects.globals.take(g.index);
        objects.definers.remove(&Extern::Global(*g));
    }
    Ok(true)
}

