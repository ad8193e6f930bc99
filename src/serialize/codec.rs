//! The payload encoding of a serialised module: [`ModuleInfo`] then the code, as fixed-width
//! little-endian integers and length-prefixed sequences.
//!
//! Decoding trusts nothing: every length is checked against the bytes that remain before
//! anything is allocated, every tag is checked, and the input must be consumed exactly.

use crate::module::{
    ConstExpr, DataMode, DataSegment, ElemMode, ElementSegment, Export, ExportKind, Import, ImportKind, ModuleInfo,
};
use crate::types::{FuncType, GlobalType, MemoryType, TableType, ValType};

/// Appends encoded values to a buffer.
#[derive(Default)]
pub(crate) struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// A length (u32: no sequence of a valid module is longer).
    pub fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("sequence longer than u32::MAX"));
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.buf.extend_from_slice(b);
    }
    fn seq<T>(&mut self, items: &[T], mut put: impl FnMut(&mut Writer, &T)) {
        self.len(items.len());
        for item in items {
            put(self, item);
        }
    }
    fn opt_u32(&mut self, v: Option<u32>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u32(v);
            }
        }
    }
}

/// Reads encoded values; every failure names what was being read.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

/// A decoding failure: what was expected, and at which payload offset.
pub(crate) type DecodeResult<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }
    pub fn take(&mut self, n: usize, what: &str) -> DecodeResult<&'a [u8]> {
        if self.data.len() - self.pos < n {
            return Err(format!("truncated {what} at payload offset {}", self.pos));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    pub fn u8(&mut self, what: &str) -> DecodeResult<u8> {
        Ok(self.take(1, what)?[0])
    }
    pub fn u32(&mut self, what: &str) -> DecodeResult<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    pub fn u64(&mut self, what: &str) -> DecodeResult<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }
    /// A sequence length, checked against the bytes left (each item takes at least
    /// `min_item` bytes), so a corrupt length cannot trigger a huge allocation.
    fn len(&mut self, min_item: usize, what: &str) -> DecodeResult<usize> {
        let at = self.pos;
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_item) > self.data.len() - self.pos {
            return Err(format!("{what}: length {n} at payload offset {at} exceeds the data"));
        }
        Ok(n)
    }
    pub fn bytes(&mut self, what: &str) -> DecodeResult<&'a [u8]> {
        let n = self.len(1, what)?;
        self.take(n, what)
    }
    fn string(&mut self, what: &str) -> DecodeResult<String> {
        let at = self.pos;
        let b = self.bytes(what)?;
        String::from_utf8(b.to_vec()).map_err(|_| format!("{what} at payload offset {at} is not UTF-8"))
    }
    fn seq<T>(
        &mut self,
        min_item: usize,
        what: &str,
        mut get: impl FnMut(&mut Reader<'a>) -> DecodeResult<T>,
    ) -> DecodeResult<Vec<T>> {
        let n = self.len(min_item, what)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(get(self)?);
        }
        Ok(out)
    }
    fn opt_u32(&mut self, what: &str) -> DecodeResult<Option<u32>> {
        match self.tag(what, 2)? {
            0 => Ok(None),
            _ => Ok(Some(self.u32(what)?)),
        }
    }
    fn bool(&mut self, what: &str) -> DecodeResult<bool> {
        Ok(self.tag(what, 2)? == 1)
    }
    /// A tag byte that must be below `limit`.
    fn tag(&mut self, what: &str, limit: u8) -> DecodeResult<u8> {
        let at = self.pos;
        let t = self.u8(what)?;
        if t >= limit {
            return Err(format!("invalid {what} tag {t} at payload offset {at}"));
        }
        Ok(t)
    }
    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> DecodeResult<()> {
        if self.pos != self.data.len() {
            return Err(format!("{} trailing bytes after the payload", self.data.len() - self.pos));
        }
        Ok(())
    }
}

const VAL_TYPES: [ValType; 7] =
    [ValType::I32, ValType::I64, ValType::F32, ValType::F64, ValType::V128, ValType::FuncRef, ValType::ExternRef];

fn put_val_type(w: &mut Writer, t: ValType) {
    w.u8(VAL_TYPES.iter().position(|&v| v == t).expect("listed") as u8);
}

fn get_val_type(r: &mut Reader<'_>) -> DecodeResult<ValType> {
    Ok(VAL_TYPES[r.tag("value type", VAL_TYPES.len() as u8)? as usize])
}

fn put_func_type(w: &mut Writer, t: &FuncType) {
    w.seq(&t.params, |w, v| put_val_type(w, *v));
    w.seq(&t.results, |w, v| put_val_type(w, *v));
}

fn get_func_type(r: &mut Reader<'_>) -> DecodeResult<FuncType> {
    let params = r.seq(1, "parameter types", get_val_type)?;
    let results = r.seq(1, "result types", get_val_type)?;
    Ok(FuncType::new(params, results))
}

fn put_table_type(w: &mut Writer, t: &TableType) {
    put_val_type(w, t.element);
    w.u32(t.min);
    w.opt_u32(t.max);
}

fn get_table_type(r: &mut Reader<'_>) -> DecodeResult<TableType> {
    Ok(TableType { element: get_val_type(r)?, min: r.u32("table minimum")?, max: r.opt_u32("table maximum")? })
}

fn put_memory_type(w: &mut Writer, m: &MemoryType) {
    w.u32(m.min);
    w.opt_u32(m.max);
}

fn get_memory_type(r: &mut Reader<'_>) -> DecodeResult<MemoryType> {
    Ok(MemoryType { min: r.u32("memory minimum")?, max: r.opt_u32("memory maximum")? })
}

fn put_global_type(w: &mut Writer, g: &GlobalType) {
    put_val_type(w, g.content);
    w.u8(g.mutable as u8);
}

fn get_global_type(r: &mut Reader<'_>) -> DecodeResult<GlobalType> {
    Ok(GlobalType { content: get_val_type(r)?, mutable: r.bool("global mutability")? })
}

fn put_const(w: &mut Writer, c: &ConstExpr) {
    match *c {
        ConstExpr::I32(v) => {
            w.u8(0);
            w.u32(v as u32);
        }
        ConstExpr::I64(v) => {
            w.u8(1);
            w.u64(v as u64);
        }
        ConstExpr::F32(v) => {
            w.u8(2);
            w.u32(v);
        }
        ConstExpr::F64(v) => {
            w.u8(3);
            w.u64(v);
        }
        ConstExpr::V128(v) => {
            w.u8(4);
            w.u64(v as u64);
            w.u64((v >> 64) as u64);
        }
        ConstExpr::GlobalGet(g) => {
            w.u8(5);
            w.u32(g);
        }
        ConstExpr::RefNull(t) => {
            w.u8(6);
            put_val_type(w, t);
        }
        ConstExpr::RefFunc(f) => {
            w.u8(7);
            w.u32(f);
        }
    }
}

fn get_const(r: &mut Reader<'_>) -> DecodeResult<ConstExpr> {
    Ok(match r.tag("constant expression", 8)? {
        0 => ConstExpr::I32(r.u32("i32 constant")? as i32),
        1 => ConstExpr::I64(r.u64("i64 constant")? as i64),
        2 => ConstExpr::F32(r.u32("f32 constant")?),
        3 => ConstExpr::F64(r.u64("f64 constant")?),
        4 => {
            let lo = r.u64("v128 constant")? as u128;
            ConstExpr::V128(lo | (r.u64("v128 constant")? as u128) << 64)
        }
        5 => ConstExpr::GlobalGet(r.u32("global index")?),
        6 => ConstExpr::RefNull(get_val_type(r)?),
        _ => ConstExpr::RefFunc(r.u32("function index")?),
    })
}

fn put_import(w: &mut Writer, i: &Import) {
    w.bytes(i.module.as_bytes());
    w.bytes(i.name.as_bytes());
    match &i.kind {
        ImportKind::Func(t) => {
            w.u8(0);
            w.u32(*t);
        }
        ImportKind::Memory(m) => {
            w.u8(1);
            put_memory_type(w, m);
        }
        ImportKind::Table(t) => {
            w.u8(2);
            put_table_type(w, t);
        }
        ImportKind::Global(g) => {
            w.u8(3);
            put_global_type(w, g);
        }
    }
}

fn get_import(r: &mut Reader<'_>) -> DecodeResult<Import> {
    let module = r.string("import module name")?;
    let name = r.string("import name")?;
    let kind = match r.tag("import kind", 4)? {
        0 => ImportKind::Func(r.u32("import type index")?),
        1 => ImportKind::Memory(get_memory_type(r)?),
        2 => ImportKind::Table(get_table_type(r)?),
        _ => ImportKind::Global(get_global_type(r)?),
    };
    Ok(Import { module, name, kind })
}

const EXPORT_KINDS: [ExportKind; 4] = [ExportKind::Func, ExportKind::Memory, ExportKind::Table, ExportKind::Global];

fn put_export(w: &mut Writer, e: &Export) {
    w.bytes(e.name.as_bytes());
    w.u8(EXPORT_KINDS.iter().position(|&k| k == e.kind).expect("listed") as u8);
    w.u32(e.index);
}

fn get_export(r: &mut Reader<'_>) -> DecodeResult<Export> {
    let name = r.string("export name")?;
    let kind = EXPORT_KINDS[r.tag("export kind", 4)? as usize];
    Ok(Export { name, kind, index: r.u32("export index")? })
}

fn put_element(w: &mut Writer, e: &ElementSegment) {
    match &e.mode {
        ElemMode::Passive => w.u8(0),
        ElemMode::Declared => w.u8(1),
        ElemMode::Active { table, offset } => {
            w.u8(2);
            w.u32(*table);
            put_const(w, offset);
        }
    }
    put_val_type(w, e.ty);
    w.seq(&e.items, put_const);
}

fn get_element(r: &mut Reader<'_>) -> DecodeResult<ElementSegment> {
    let mode = match r.tag("element mode", 3)? {
        0 => ElemMode::Passive,
        1 => ElemMode::Declared,
        _ => ElemMode::Active { table: r.u32("element table")?, offset: get_const(r)? },
    };
    let ty = get_val_type(r)?;
    Ok(ElementSegment { mode, ty, items: r.seq(2, "element items", get_const)? })
}

fn put_data(w: &mut Writer, d: &DataSegment) {
    match &d.mode {
        DataMode::Passive => w.u8(0),
        DataMode::Active { memory, offset } => {
            w.u8(1);
            w.u32(*memory);
            put_const(w, offset);
        }
    }
    w.bytes(&d.bytes);
}

fn get_data(r: &mut Reader<'_>) -> DecodeResult<DataSegment> {
    let mode = match r.tag("data mode", 2)? {
        0 => DataMode::Passive,
        _ => DataMode::Active { memory: r.u32("data memory")?, offset: get_const(r)? },
    };
    Ok(DataSegment { mode, bytes: r.bytes("data bytes")?.to_vec() })
}

/// Encodes everything the runtime needs of a module besides its code.
pub(crate) fn put_info(w: &mut Writer, info: &ModuleInfo) {
    w.seq(&info.types, put_func_type);
    w.seq(&info.funcs, |w, t| w.u32(*t));
    w.u32(info.num_imported_funcs);
    w.seq(&info.tables, put_table_type);
    w.u32(info.num_imported_tables);
    w.seq(&info.memories, put_memory_type);
    w.u32(info.num_imported_memories);
    w.seq(&info.globals, put_global_type);
    w.u32(info.num_imported_globals);
    w.seq(&info.global_inits, put_const);
    w.seq(&info.imports, put_import);
    w.seq(&info.exports, put_export);
    w.opt_u32(info.start);
    w.seq(&info.elements, put_element);
    w.seq(&info.data, put_data);
    w.seq(&info.declared_funcs, |w, f| w.u32(*f));
}

/// Decodes what [`put_info`] wrote (structure only; see `check` for the invariants).
pub(crate) fn get_info(r: &mut Reader<'_>) -> DecodeResult<ModuleInfo> {
    Ok(ModuleInfo {
        types: r.seq(8, "types", get_func_type)?,
        funcs: r.seq(4, "function types", |r| r.u32("function type index"))?,
        num_imported_funcs: r.u32("imported function count")?,
        tables: r.seq(6, "tables", get_table_type)?,
        num_imported_tables: r.u32("imported table count")?,
        memories: r.seq(5, "memories", get_memory_type)?,
        num_imported_memories: r.u32("imported memory count")?,
        globals: r.seq(2, "globals", get_global_type)?,
        num_imported_globals: r.u32("imported global count")?,
        global_inits: r.seq(2, "global initialisers", get_const)?,
        imports: r.seq(10, "imports", get_import)?,
        exports: r.seq(9, "exports", get_export)?,
        start: r.opt_u32("start function")?,
        elements: r.seq(6, "element segments", get_element)?,
        data: r.seq(5, "data segments", get_data)?,
        declared_funcs: r.seq(4, "declared functions", |r| r.u32("declared function"))?,
    })
}
