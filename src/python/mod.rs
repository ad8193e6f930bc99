//! PyO3 bindings: the native module `wazero._wazero` behind the `wazero` Python package.
//!
//! Threading model: a `Store` is not `Sync` (and may hold thread-affine state), so every
//! object that reaches a store (`Runtime`, `Module`) is bound to the thread that created it.
//! Using it from another thread raises `WazeroError` instead of panicking (PyO3's
//! `unsendable` would raise a `PanicException`); dropping it from another thread leaks it.
//! The GIL is released while compiling (modules of 2 KiB and more), and by Wasm calls that
//! run longer than about a millisecond (see `control`); only `Runtime.interrupt` may be
//! called from any thread.

mod control;
mod convert;
mod errors;
mod externs;
mod func;
mod inspect;
mod serialize;
mod limits;
mod wasi;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PyString, PyTuple};

use crate::error::Error;
use crate::runtime::store::Store;
use crate::runtime::{Extern, Instance};
use crate::serialize::cache::ModuleCache;
use crate::types::{ExternType, ValType};
use errors::{err, link_err, map_error, type_err, Site};
use externs::{Global, Memory, Table};
use func::{Func, Function};

// ---------------------------------------------------------------------------------------------
// Thread affinity

static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);
thread_local! {
    static THREAD_TOKEN: u64 = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
}

fn thread_token() -> u64 {
    THREAD_TOKEN.with(|t| *t)
}

/// A value only ever touched on the thread that created it.
pub(crate) struct ThreadBound<T> {
    owner: u64,
    value: ManuallyDrop<T>,
}

// SAFETY: the value is only reachable through `get`, which checks that the current thread is
// the owner, and `Drop` only drops it on the owner thread (it is leaked otherwise).
unsafe impl<T> Send for ThreadBound<T> {}
unsafe impl<T> Sync for ThreadBound<T> {}

impl<T> ThreadBound<T> {
    fn new(value: T) -> Self {
        ThreadBound { owner: thread_token(), value: ManuallyDrop::new(value) }
    }

    #[inline]
    fn get(&self, py: Python<'_>, what: &str) -> PyResult<&T> {
        if thread_token() == self.owner {
            Ok(&self.value)
        } else {
            Err(err(
                py,
                format!("this {what} was created by another thread and can only be used there"),
            ))
        }
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if thread_token() == self.owner {
            // SAFETY: dropped once, on the owner thread.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        }
    }
}

/// The store shared by a runtime and everything created in it; `None` once closed.
pub(crate) struct Shared {
    store: RefCell<Option<Store>>,
    /// Calls from Python into this store currently running.
    active_calls: Cell<u32>,
    /// externref values: handle `h` is `externs[h]`, kept alive until the runtime closes.
    externs: RefCell<Vec<Py<PyAny>>>,
    /// Object address -> handle, so the same object always gets the same handle.
    extern_ids: RefCell<HashMap<usize, u64>>,
    /// Memory buffers (buffer protocol) handed out and not yet released.
    exported_buffers: Cell<usize>,
    /// A closed store kept alive (memory mapped) until the last exported buffer is released.
    zombie: RefCell<Option<Store>>,
    /// Calls hold the GIL until a yield releases it (`control`), else release it on entry.
    yields: bool,
}

impl Shared {
    fn new(store: Store) -> Shared {
        let yields = control::watch(&store);
        Shared {
            yields,
            store: RefCell::new(Some(store)),
            active_calls: Cell::new(0),
            externs: RefCell::new(Vec::new()),
            extern_ids: RefCell::new(HashMap::new()),
            exported_buffers: Cell::new(0),
            zombie: RefCell::new(None),
        }
    }

    /// The externref handle of `obj` (registering it: it stays alive until `close()`).
    pub(crate) fn intern_extern(&self, obj: &Bound<'_, PyAny>) -> u64 {
        let key = obj.as_ptr() as usize;
        if let Some(&h) = self.extern_ids.borrow().get(&key) {
            return h;
        }
        let mut externs = self.externs.borrow_mut();
        let h = externs.len() as u64;
        externs.push(obj.clone().unbind());
        self.extern_ids.borrow_mut().insert(key, h);
        h
    }

    /// The object behind externref handle `h`.
    pub(crate) fn extern_object<'py>(&self, py: Python<'py>, h: u64) -> Option<Bound<'py, PyAny>> {
        self.externs.borrow().get(h as usize).map(|o| o.bind(py).clone())
    }

    /// A memory buffer was released: free a closed store once no buffer points into it.
    pub(crate) fn release_buffer(&self) {
        let n = self.exported_buffers.get().saturating_sub(1);
        self.exported_buffers.set(n);
        if n == 0 {
            let z = self.zombie.borrow_mut().take();
            drop(z);
        }
    }
}

/// What every object living in a runtime holds: the runtime, and the open flag of the
/// module it was exported from (`None` for standalone objects).
pub(crate) struct Owner {
    pub shared: Rc<Shared>,
    pub alive: Option<Rc<Cell<bool>>>,
}

impl Owner {
    /// Runs `f` with the store, or fails if the module or runtime is closed.
    #[inline]
    pub(crate) fn with_store<R>(&self, py: Python<'_>, f: impl FnOnce(&Store, &Rc<Shared>) -> R) -> PyResult<R> {
        if let Some(a) = &self.alive {
            if !a.get() {
                return Err(module_closed(py));
            }
        }
        let s = self.shared.store.try_borrow().map_err(|_| err(py, "runtime is busy"))?;
        let store = s.as_ref().ok_or_else(|| runtime_closed(py))?;
        Ok(f(store, &self.shared))
    }
}

pub(crate) fn runtime_closed(py: Python<'_>) -> PyErr {
    err(py, "runtime is closed")
}

pub(crate) fn module_closed(py: Python<'_>) -> PyErr {
    err(py, "module is closed")
}

// ---------------------------------------------------------------------------------------------
// Sources

/// Compiles `source`: a `CompiledModule`, `bytes`/`bytearray`/`memoryview` (binary, or text
/// if it does not start with `\0asm`), or `str` (WebAssembly text).
fn compile_source(py: Python<'_>, source: &Bound<'_, PyAny>, limits: &crate::Limits) -> PyResult<crate::Module> {
    if let Ok(c) = source.cast::<CompiledModule>() {
        return Ok(c.get().module.clone());
    }
    let result = if let Ok(s) = source.cast::<PyString>() {
        let text = s.to_cow()?;
        let text: &str = &text;
        detach_unless_small(py, text.len(), || crate::Module::from_wat_with_limits(text, limits))
    } else if let Ok(b) = source.cast::<PyBytes>() {
        let bytes = b.as_bytes();
        detach_unless_small(py, bytes.len(), || compile_bytes(bytes, limits))
    } else if let Ok(b) = source.cast::<PyByteArray>() {
        let bytes = b.to_vec();
        detach_unless_small(py, bytes.len(), || compile_bytes(&bytes, limits))
    } else if source.is_instance_of::<PyMemoryView>() {
        let b = source.call_method0("tobytes")?;
        let b = b.cast::<PyBytes>()?;
        let bytes = b.as_bytes();
        detach_unless_small(py, bytes.len(), || compile_bytes(bytes, limits))
    } else {
        let tn = source.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        return Err(type_err(
            py,
            format!("expected bytes, bytearray, memoryview, str or CompiledModule, got {tn}"),
        ));
    };
    result.map_err(|e| map_error(py, e, Site::Instantiate))
}

/// Inputs below this many bytes compile with the GIL held: they take microseconds, less than
/// releasing and taking back the GIL is worth (hashlib draws the line at the same size).
const GIL_RELEASE_MIN_BYTES: usize = 2048;

/// Runs `f` (work on an input of `len` bytes) with the GIL released, unless the input is small.
fn detach_unless_small<T: Send>(py: Python<'_>, len: usize, f: impl FnOnce() -> T + Send) -> T {
    if len < GIL_RELEASE_MIN_BYTES {
        f()
    } else {
        py.detach(f)
    }
}

/// Binary if it starts with the Wasm magic, otherwise UTF-8 WebAssembly text.
fn compile_bytes(bytes: &[u8], limits: &crate::Limits) -> crate::Result<crate::Module> {
    crate::Module::with_limits(&wasm_of(bytes)?, limits)
}

/// The module binary of `bytes`: themselves if they start with the Wasm magic, otherwise
/// UTF-8 WebAssembly text converted to binary (also the `cache_dir` key).
pub(crate) fn wasm_of(bytes: &[u8]) -> crate::Result<std::borrow::Cow<'_, [u8]>> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Error::Compile {
        message: format!("neither a WebAssembly binary (no \\0asm header) nor UTF-8 WebAssembly text ({e})"),
        offset: Some(e.valid_up_to()),
    })?;
    let wasm = wat::parse_str(text).map_err(|e| Error::Compile { message: e.to_string(), offset: None })?;
    Ok(wasm.into())
}

/// Compiles a file within `limits`, through `cache` if given.
fn compile_path(py: Python<'_>, path: &PathBuf, limits: &crate::Limits, cache: Option<&ModuleCache>) -> PyResult<crate::Module> {
    let bytes = std::fs::read(path).map_err(|e| {
        // OSError(errno, strerror, filename) picks the subclass (FileNotFoundError...).
        let errno = e.raw_os_error().unwrap_or(0);
        let msg = std::io::Error::from_raw_os_error(errno).to_string();
        let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
        pyo3::exceptions::PyOSError::new_err((errno, msg, path.to_string_lossy().into_owned()))
    })?;
    if let Some(cache) = cache {
        return serialize::compile_raw(py, cache, bytes, limits);
    }
    detach_unless_small(py, bytes.len(), || compile_bytes(&bytes, limits)).map_err(|e| map_error(py, e, Site::Instantiate))
}

// ---------------------------------------------------------------------------------------------
// Types

fn names(py: Python<'_>, tys: &[ValType]) -> PyResult<Py<PyTuple>> {
    Ok(PyTuple::new(py, tys.iter().map(|t| t.name()))?.unbind())
}

fn parse_valtypes(py: Python<'_>, names: &[String]) -> PyResult<Vec<ValType>> {
    names.iter().map(|s| parse_valtype(py, s)).collect()
}

fn parse_valtype(py: Python<'_>, s: &str) -> PyResult<ValType> {
    Ok(match s {
        "i32" => ValType::I32,
        "i64" => ValType::I64,
        "f32" => ValType::F32,
        "f64" => ValType::F64,
        "v128" => ValType::V128,
        "funcref" => ValType::FuncRef,
        "externref" => ValType::ExternRef,
        _ => {
            return Err(type_err(
                py,
                format!("unknown value type {s:?} (expected i32, i64, f32, f64, v128, funcref or externref)"),
            ))
        }
    })
}

fn limits(min: u32, max: Option<u32>) -> String {
    match max {
        Some(m) => format!("{min} {m}"),
        None => format!("{min}"),
    }
}

/// The type of a function: parameter and result value types.
#[pyclass(frozen, module = "wazero")]
pub struct FuncType {
    pub(crate) ty: crate::FuncType,
}

impl FuncType {
    /// `func (param i32 i32) (result i32)`.
    pub(crate) fn text(ty: &crate::FuncType) -> String {
        let j = |v: &[ValType]| v.iter().map(|t| t.name()).collect::<Vec<_>>().join(" ");
        let mut s = String::from("func");
        if !ty.params.is_empty() {
            s.push_str(&format!(" (param {})", j(&ty.params)));
        }
        if !ty.results.is_empty() {
            s.push_str(&format!(" (result {})", j(&ty.results)));
        }
        s
    }
}

#[pymethods]
impl FuncType {
    #[new]
    fn py_new(py: Python<'_>, params: Vec<String>, results: Vec<String>) -> PyResult<Self> {
        Ok(FuncType { ty: crate::FuncType::new(parse_valtypes(py, &params)?, parse_valtypes(py, &results)?) })
    }
    /// Parameter types, e.g. `("i32", "i32")`.
    #[getter]
    fn params(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        names(py, &self.ty.params)
    }
    /// Result types, e.g. `("i32",)`.
    #[getter]
    fn results(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        names(py, &self.ty.results)
    }
    fn __str__(&self) -> String {
        FuncType::text(&self.ty)
    }
    fn __repr__(&self) -> String {
        let q = |v: &[ValType]| v.iter().map(|t| format!("'{}'", t.name())).collect::<Vec<_>>().join(", ");
        format!("FuncType([{}], [{}])", q(&self.ty.params), q(&self.ty.results))
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<FuncType>().map(|o| o.get().ty == self.ty).unwrap_or(false)
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.ty.hash(&mut h);
        h.finish()
    }
}

/// The type of a linear memory: limits in 64 KiB pages.
#[pyclass(frozen, module = "wazero", get_all)]
pub struct MemoryType {
    /// Initial size in pages.
    pub(crate) min: u32,
    /// Maximum size in pages, or None.
    pub(crate) max: Option<u32>,
}

#[pymethods]
impl MemoryType {
    fn __str__(&self) -> String {
        format!("memory {}", limits(self.min, self.max))
    }
    fn __repr__(&self) -> String {
        format!("MemoryType(min={}, max={})", self.min, self.max.map_or("None".into(), |m| m.to_string()))
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<MemoryType>().map(|o| (o.get().min, o.get().max) == (self.min, self.max)).unwrap_or(false)
    }
    fn __hash__(&self) -> u64 {
        ((self.min as u64) << 33) ^ self.max.map_or(1, |m| (m as u64) << 1)
    }
}

/// The type of a table: element type and limits.
#[pyclass(frozen, module = "wazero", get_all)]
pub struct TableType {
    /// Element type, `"funcref"` or `"externref"`.
    pub(crate) element: &'static str,
    /// Initial size in elements.
    pub(crate) min: u32,
    /// Maximum size in elements, or None.
    pub(crate) max: Option<u32>,
}

#[pymethods]
impl TableType {
    fn __str__(&self) -> String {
        format!("table {} {}", limits(self.min, self.max), self.element)
    }
    fn __repr__(&self) -> String {
        format!(
            "TableType(element='{}', min={}, max={})",
            self.element,
            self.min,
            self.max.map_or("None".into(), |m| m.to_string())
        )
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<TableType>()
            .map(|o| (o.get().element, o.get().min, o.get().max) == (self.element, self.min, self.max))
            .unwrap_or(false)
    }
    fn __hash__(&self) -> u64 {
        ((self.min as u64) << 33) ^ self.max.map_or(1, |m| (m as u64) << 1) ^ self.element.len() as u64
    }
}

/// The type of a global: value type and mutability.
#[pyclass(frozen, module = "wazero", get_all)]
pub struct GlobalType {
    /// Value type, e.g. `"i32"`.
    pub(crate) content: &'static str,
    /// Whether the global is mutable.
    pub(crate) mutable: bool,
}

impl GlobalType {
    pub(crate) fn text(&self) -> String {
        if self.mutable {
            format!("global (mut {})", self.content)
        } else {
            format!("global {}", self.content)
        }
    }
}

#[pymethods]
impl GlobalType {
    fn __str__(&self) -> String {
        self.text()
    }
    fn __repr__(&self) -> String {
        format!("GlobalType(content='{}', mutable={})", self.content, if self.mutable { "True" } else { "False" })
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<GlobalType>().map(|o| (o.get().content, o.get().mutable) == (self.content, self.mutable)).unwrap_or(false)
    }
    fn __hash__(&self) -> u64 {
        self.content.len() as u64 * 2 + self.mutable as u64
    }
}

fn extern_type(py: Python<'_>, t: &ExternType) -> PyResult<Py<PyAny>> {
    Ok(match t {
        ExternType::Func(f) => Py::new(py, FuncType { ty: f.clone() })?.into_any(),
        ExternType::Memory(m) => Py::new(py, MemoryType { min: m.min, max: m.max })?.into_any(),
        ExternType::Table(t) => {
            Py::new(py, TableType { element: t.element.name(), min: t.min, max: t.max })?.into_any()
        }
        ExternType::Global(g) => {
            Py::new(py, GlobalType { content: g.content.name(), mutable: g.mutable })?.into_any()
        }
    })
}

fn exports_list<'py>(py: Python<'py>, m: &crate::Module) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (name, ty) in m.exports() {
        list.append((name, extern_type(py, &ty)?))?;
    }
    Ok(list)
}

fn imports_list<'py>(py: Python<'py>, m: &crate::Module) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (module, name, ty) in m.imports() {
        list.append((module, name, extern_type(py, &ty)?))?;
    }
    Ok(list)
}

// ---------------------------------------------------------------------------------------------
// CompiledModule

/// A validated, compiled WebAssembly module, not yet instantiated.
///
/// Compile once, then instantiate it in any number of runtimes (`Runtime.instantiate`
/// accepts a `CompiledModule`). Thread-safe and immutable.
#[pyclass(frozen, module = "wazero")]
pub struct CompiledModule {
    module: crate::Module,
}

#[pymethods]
impl CompiledModule {
    /// `limits` (a `wazero.Limits`) bounds what the module may declare (defaults if absent).
    #[new]
    #[pyo3(signature = (source, *, limits = None))]
    fn py_new(py: Python<'_>, source: &Bound<'_, PyAny>, limits: Option<&Bound<'_, limits::PyLimits>>) -> PyResult<Self> {
        Ok(CompiledModule { module: compile_source(py, source, &limits::limits_of(limits))? })
    }

    /// Compiles a `.wasm` (binary) or `.wat` (text) file; the format is decided by content.
    #[staticmethod]
    #[pyo3(signature = (path, *, limits = None))]
    fn from_file(py: Python<'_>, path: PathBuf, limits: Option<&Bound<'_, limits::PyLimits>>) -> PyResult<Self> {
        Ok(CompiledModule { module: compile_path(py, &path, &limits::limits_of(limits), None)? })
    }

    /// `(module, name, type)` of every import, in order.
    #[getter]
    fn imports<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        imports_list(py, &self.module)
    }

    /// `(name, type)` of every export, in order.
    #[getter]
    fn exports<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        exports_list(py, &self.module)
    }

    /// The compiled module as bytes, for `CompiledModule.deserialize` or
    /// `Runtime.deserialize` in this same wazero build on a CPU with the same features
    /// (another process, a later run, a cache). Also what `pickle` stores.
    fn serialize<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        serialize::serialize(py, &self.module)
    }

    /// Loads bytes written by `serialize()` without recompiling. Raises
    /// `wazero.DeserializeError` (and runs nothing) for bytes that are truncated, corrupted,
    /// or written by another wazero build, CPU architecture or CPU feature set.
    ///
    /// The bytes are native machine code: load only data you would trust as a native
    /// library (your own process, your own cache). The checksum detects accidents, not
    /// tampering.
    #[staticmethod]
    fn deserialize(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<CompiledModule> {
        serialize::deserialize(py, data)
    }

    /// Pickling stores `serialize()`; unpickling calls `deserialize` (same trust rules).
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        serialize::reduce(py, &self.module)
    }

    fn __repr__(&self) -> String {
        format!(
            "<wazero.CompiledModule: {} imports, {} exports>",
            self.module.info().imports.len(),
            self.module.info().exports.len()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Runtime

/// A WebAssembly runtime: owns every module instantiated in it (wraps a `wazero::Store`).
///
/// Use it as a context manager or call `close()`; closing it closes its modules.
/// A runtime and its modules may only be used by the thread that created the runtime.
#[pyclass(frozen, module = "wazero")]
pub struct Runtime {
    shared: ThreadBound<Rc<Shared>>,
    /// Not thread-bound: `interrupt()` works from any thread.
    interrupt: crate::InterruptHandle,
    /// `Runtime(cache_dir=...)`: compiled modules are loaded from / stored there.
    cache: Option<ModuleCache>,
    /// Module limits of `compile`/`instantiate` (not re-checked for a `CompiledModule`).
    limits: crate::Limits,
}

/// Looks `module`.`name` up in the `imports` mapping of mappings; `None` if absent.
fn lookup_import<'py>(
    imports: Option<&Bound<'py, PyAny>>,
    module: &str,
    name: &str,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(imports) = imports else { return Ok(None) };
    let py = imports.py();
    let is_key_error = |e: &PyErr| e.is_instance_of::<pyo3::exceptions::PyKeyError>(py);
    let ns = match imports.get_item(module) {
        Ok(ns) => ns,
        Err(e) if is_key_error(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    match ns.get_item(name) {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_key_error(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn type_desc(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => FuncType::text(f),
        ExternType::Memory(m) => format!("memory {}", limits(m.min, m.max)),
        ExternType::Table(t) => format!("table {} {}", limits(t.min, t.max), t.element.name()),
        ExternType::Global(g) => GlobalType { content: g.content.name(), mutable: g.mutable }.text(),
    }
}

impl Runtime {
    pub(crate) fn shared_rc(&self, py: Python<'_>) -> PyResult<Rc<Shared>> {
        let shared = self.shared.get(py, "runtime")?;
        if shared.store.try_borrow().map(|s| s.is_none()).unwrap_or(false) {
            return Err(runtime_closed(py));
        }
        Ok(Rc::clone(shared))
    }

    /// Turns the Python value given for an import into an `Extern` of this store.
    fn resolve_import(
        &self,
        py: Python<'_>,
        ctx: &convert::Ctx<'_>,
        (module, name, ty): &(String, String, ExternType),
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Extern> {
        let what = format!("import '{module}.{name}' ({})", type_desc(ty));
        let same = |owner: &Owner| -> PyResult<()> {
            if !Rc::ptr_eq(&owner.shared, ctx.shared) {
                return Err(link_err(py, format!("{what}: the value belongs to another runtime")));
            }
            if owner.alive.as_ref().is_some_and(|a| !a.get()) {
                return Err(link_err(py, format!("{what}: the module that exported the value is closed")));
            }
            Ok(())
        };
        if let Ok(f) = value.cast::<Function>() {
            let st = f.get().state.get(py, "function")?;
            same(&st.owner)?;
            return Ok(Extern::Func(st.func));
        }
        if let Ok(m) = value.cast::<Memory>() {
            let h = m.get().state.get(py, "memory")?;
            same(&h.owner)?;
            return Ok(Extern::Memory(h.item));
        }
        if let Ok(g) = value.cast::<Global>() {
            let h = g.get().state.get(py, "global")?;
            same(&h.owner)?;
            return Ok(Extern::Global(h.item));
        }
        if let Ok(t) = value.cast::<Table>() {
            let h = t.get().state.get(py, "table")?;
            same(&h.owner)?;
            return Ok(Extern::Table(h.item));
        }
        if let Ok(f) = value.cast::<Func>() {
            return Ok(Extern::Func(f.get().instantiate(py, ctx, Some(format!("{module}.{name}")))?));
        }
        if let ExternType::Func(fty) = ty {
            if value.is_callable() {
                let f = func::new_host_func(
                    ctx.store,
                    ctx.shared,
                    value.clone().unbind(),
                    fty.clone(),
                    format!("{module}.{name}"),
                );
                return Ok(Extern::Func(f));
            }
        }
        let tn = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        let expected = match ty {
            ExternType::Func(_) => "a callable, wazero.Function or wazero.Func",
            ExternType::Memory(_) => "a wazero.Memory",
            ExternType::Table(_) => "a wazero.Table",
            ExternType::Global(_) => "a wazero.Global",
        };
        Err(link_err(py, format!("{what}: expected {expected}, got {tn}")))
    }

    /// Compiles `source` through the cache if there is one.
    fn compile_any(&self, py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<crate::Module> {
        match &self.cache {
            Some(cache) => serialize::compile_cached(py, cache, source, &self.limits),
            None => compile_source(py, source, &self.limits),
        }
    }

    fn instantiate_module(
        &self,
        py: Python<'_>,
        module: crate::Module,
        imports: Option<&Bound<'_, PyAny>>,
        wasi: Option<&Bound<'_, wasi::WasiConfig>>,
    ) -> PyResult<Module> {
        let shared = self.shared.get(py, "runtime")?;
        let store_ref = shared.store.try_borrow().map_err(|_| err(py, "runtime is busy"))?;
        let store = store_ref.as_ref().ok_or_else(|| runtime_closed(py))?;
        let ctx = convert::Ctx { store, shared };
        // WASI: a fresh context per instance; `imports` entries take precedence over it.
        let wasi_ctx = match wasi {
            Some(config) => Some(config.get().build(py)?),
            None => None,
        };
        let wanted = module.imports();
        let mut externs = Vec::with_capacity(wanted.len());
        let mut missing = Vec::new();
        for imp in &wanted {
            match lookup_import(imports, &imp.0, &imp.1)? {
                Some(v) => externs.push(self.resolve_import(py, &ctx, imp, &v)?),
                None => match wasi_ctx.as_ref().filter(|_| imp.0 == crate::wasi::MODULE).and_then(|w| w.func(store, &imp.1)) {
                    Some(f) => externs.push(Extern::Func(f)),
                    None => missing.push(format!("'{}.{}' ({})", imp.0, imp.1, type_desc(&imp.2))),
                },
            }
        }
        if let Some(w) = &wasi_ctx {
            for (imp, ext) in wanted.iter().zip(&externs) {
                if let (ExternType::Memory(_), Extern::Memory(m)) = (&imp.2, ext) {
                    w.set_memory(*m);
                }
            }
        }
        if !missing.is_empty() {
            return Err(link_err(
                py,
                format!("unresolved import{} {}", if missing.len() == 1 { "" } else { "s" }, missing.join(", ")),
            ));
        }
        let instance = control::run_wasm(py, store, shared, None, || store.instantiate(&module, &externs));
        let instance = instance.map_err(|e| map_error(py, e, Site::Instantiate))?;
        if let Some(w) = &wasi_ctx {
            // Bind the WASI context to this instance's memory, then initialise a reactor.
            w.bind(store, &instance);
            if let Some(Extern::Func(init)) = instance.export(store, "_initialize") {
                drop(wasi::take_stream_error());
                let r = control::run_wasm(py, store, shared, None, || init.call(store, &[]));
                w.flush();
                if let Some(e) = wasi::take_stream_error() {
                    return Err(e);
                }
                r.map_err(|e| map_error(py, e, Site::Export("_initialize")))?;
            }
        }
        Ok(Module {
            state: ThreadBound::new(ModuleState {
                owner: Owner { shared: Rc::clone(shared), alive: Some(Rc::new(Cell::new(true))) },
                instance,
                wasi: wasi_ctx,
            }),
            compiled: module,
            exports: PyOnceLock::new(),
            exports_view: PyOnceLock::new(),
        })
    }
}

#[pymethods]
impl Runtime {
    #[new]
    #[pyo3(signature = (*, max_wasm_stack = None, timeout = None, max_memory_bytes = None, max_table_elements = None, limits = None, cache_dir = None))]
    fn py_new(
        py: Python<'_>,
        max_wasm_stack: Option<usize>,
        timeout: Option<f64>,
        max_memory_bytes: Option<u64>,
        max_table_elements: Option<u32>,
        limits: Option<&Bound<'_, limits::PyLimits>>,
        cache_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let store = Store::new();
        if let Some(bytes) = max_wasm_stack {
            store.set_max_wasm_stack(bytes);
        }
        store.set_timeout(control::parse_timeout(py, timeout)?);
        if let Some(bytes) = max_memory_bytes {
            store.set_max_memory_bytes(bytes);
        }
        if let Some(n) = max_table_elements {
            store.set_max_table_elements(n);
        }
        let interrupt = store.interrupt_handle();
        let limits = limits::limits_of(limits);
        let cache = cache_dir.map(|dir| serialize::open_cache(py, dir)).transpose()?;
        Ok(Runtime { shared: ThreadBound::new(Rc::new(Shared::new(store))), interrupt, limits, cache })
    }

    /// Stops the Wasm code running in this runtime at its next loop iteration or function
    /// call: the call raises `Trap` with `kind == "interrupted"`. Callable from any thread
    /// (and from a host function); without a running call it has no effect.
    fn interrupt(&self) {
        self.interrupt.interrupt();
    }

    /// Compiles a module without instantiating it (same as `CompiledModule(source)`, but
    /// through the runtime's `cache_dir` if it has one).
    fn compile(&self, py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<CompiledModule> {
        Ok(CompiledModule { module: self.compile_any(py, source)? })
    }

    /// Same as `CompiledModule.deserialize(data)`.
    fn deserialize(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<CompiledModule> {
        serialize::deserialize(py, data)
    }

    /// Counts of the `cache_dir` cache: `{"hits", "misses", "invalid"}` (entries rejected
    /// and recompiled); `None` without a cache.
    #[getter]
    fn cache_stats(&self) -> Option<HashMap<&'static str, u64>> {
        self.cache.as_ref().map(serialize::stats)
    }

    /// Compiles (unless given a `CompiledModule`) and instantiates a module.
    ///
    /// `source` is a WebAssembly binary (`bytes`, `bytearray`, `memoryview`), WebAssembly
    /// text (`str`), or a `CompiledModule`. `imports` maps module name -> name -> value:
    /// a Python callable (typed by the import declaration), `Func`, `Function`, `Memory`,
    /// `Global` or `Table`.
    /// `wasi` (a `WasiConfig`) provides the `wasi_snapshot_preview1` imports not given in
    /// `imports`; a reactor's `_initialize` runs here.
    #[pyo3(signature = (source, imports = None, *, wasi = None))]
    fn instantiate(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        imports: Option<&Bound<'_, PyAny>>,
        wasi: Option<&Bound<'_, wasi::WasiConfig>>,
    ) -> PyResult<Module> {
        // Fail fast on a closed runtime before compiling.
        self.check_open(py)?;
        let module = self.compile_any(py, source)?;
        self.instantiate_module(py, module, imports, wasi)
    }

    /// Compiles and instantiates a `.wasm` (binary) or `.wat` (text) file.
    #[pyo3(signature = (path, imports = None, *, wasi = None))]
    fn instantiate_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        imports: Option<&Bound<'_, PyAny>>,
        wasi: Option<&Bound<'_, wasi::WasiConfig>>,
    ) -> PyResult<Module> {
        self.check_open(py)?;
        let module = compile_path(py, &path, &self.limits, self.cache.as_ref())?;
        self.instantiate_module(py, module, imports, wasi)
    }

    /// Frees the runtime and all its modules. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let shared = self.shared.get(py, "runtime")?;
        let mut slot = shared
            .store
            .try_borrow_mut()
            .map_err(|_| err(py, "cannot close a runtime while one of its functions is running"))?;
        let store = slot.take();
        drop(slot);
        if shared.exported_buffers.get() > 0 {
            // Memory views are still out: keep the memory mapped until they are released.
            if let Some(store) = store {
                *shared.zombie.borrow_mut() = Some(store);
            }
        } else {
            drop(store);
        }
        let externs = std::mem::take(&mut *shared.externs.borrow_mut());
        shared.extern_ids.borrow_mut().clear();
        drop(externs);
        Ok(())
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        let shared = self.shared.get(py, "runtime")?;
        Ok(shared.store.try_borrow().map(|s| s.is_none()).unwrap_or(false))
    }

    fn __enter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        slf.get().check_open(slf.py())?;
        Ok(slf.clone())
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        match self.closed(py) {
            Ok(true) => "<wazero.Runtime (closed)>".into(),
            _ => "<wazero.Runtime>".into(),
        }
    }
}

impl Runtime {
    fn check_open(&self, py: Python<'_>) -> PyResult<()> {
        if self.closed(py)? {
            Err(runtime_closed(py))
        } else {
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Module

struct ModuleState {
    /// `owner.alive` is false once the module is closed.
    owner: Owner,
    instance: Instance,
    /// The WASI context of a module instantiated with `wasi=`.
    wasi: Option<crate::wasi::WasiCtx>,
}

/// An instantiated WebAssembly module (an instance), created by `Runtime.instantiate`.
///
/// `exports` maps each export name to a `Function`, `Memory`, `Global` or `Table`;
/// `call(name, *args)` calls an exported function and returns the list of its results.
#[pyclass(frozen, module = "wazero")]
pub struct Module {
    state: ThreadBound<ModuleState>,
    compiled: crate::Module,
    /// name -> Function | Memory | Global | Table, built on first use.
    exports: PyOnceLock<Py<PyDict>>,
    /// `types.MappingProxyType(exports)`.
    exports_view: PyOnceLock<Py<PyAny>>,
}

impl Module {
    fn exports_dict<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyDict>> {
        let d = self.exports.get_or_try_init(py, || self.build_exports(py))?;
        Ok(d.bind(py))
    }

    #[cold]
    fn build_exports(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let st = self.state.get(py, "module")?;
        let alive = st.owner.alive.clone();
        st.owner.with_store(py, |store, shared| -> PyResult<Py<PyDict>> {
            let dict = PyDict::new(py);
            for (name, ext) in st.instance.exports(store) {
                let obj: Py<PyAny> = match ext {
                    Extern::Func(f) => {
                        let n = PyString::new(py, &name).unbind();
                        Function::into_py(py, Function::new(py, store, shared, alive.clone(), f, n)?)?.into_any().unbind()
                    }
                    Extern::Memory(m) => Py::new(py, Memory::wrap(shared, alive.clone(), m))?.into_any(),
                    Extern::Global(g) => Py::new(py, Global::wrap(shared, alive.clone(), g))?.into_any(),
                    Extern::Table(t) => Py::new(py, Table::wrap(shared, alive.clone(), t))?.into_any(),
                };
                dict.set_item(name, obj)?;
            }
            Ok(dict.unbind())
        })?
    }

    #[inline]
    fn call_slice<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
        args: &[Bound<'py, PyAny>],
        timeout: Option<std::time::Duration>,
    ) -> PyResult<Bound<'py, PyList>> {
        let value = self.exports_dict(py)?.get_item(name)?;
        match value.as_ref().and_then(|v| v.cast::<Function>().ok()) {
            Some(f) => func::call_list(f.get(), py, args, timeout),
            None => Err(self.not_a_function(py, name, value)),
        }
    }

    #[cold]
    fn not_a_function(&self, py: Python<'_>, name: &Bound<'_, PyString>, value: Option<Bound<'_, PyAny>>) -> PyErr {
        let n = name.to_string_lossy();
        match value {
            None => err(py, format!("no export named '{n}'")),
            Some(v) => {
                let kind = if v.is_instance_of::<Memory>() {
                    "a memory"
                } else if v.is_instance_of::<Table>() {
                    "a table"
                } else {
                    "a global"
                };
                err(py, format!("export '{n}' is {kind}, not a function"))
            }
        }
    }
}

#[pymethods]
impl Module {
    /// Calls the exported function `name` with `args`; returns the list of its results.
    ///
    /// Integers are accepted in the signed or unsigned range of i32/i64 and returned
    /// signed; floats are returned as Python floats. Raises `Trap` if the function traps.
    /// `timeout` (seconds) overrides the runtime's deadline for this call.
    #[pyo3(signature = (name, *args, timeout = None))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
        args: &Bound<'py, PyTuple>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        self.call_slice(py, name, args.as_slice(), control::parse_timeout(py, timeout)?)
    }

    /// Read-only mapping of export name -> `Function`, `Memory`, `Global` or `Table`, in
    /// declaration order.
    #[getter]
    fn exports<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let view = self.exports_view.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            let d = self.exports_dict(py)?;
            Ok(py.import("types")?.getattr("MappingProxyType")?.call1((d,))?.unbind())
        })?;
        Ok(view.bind(py).clone())
    }

    /// Runs a WASI command: calls `_start` and returns the exit status (0 when `_start`
    /// returns, `n` after `proc_exit(n)`). Raises `Trap` if the program traps, or the
    /// exception a stdio object raised (the program saw an I/O error). `timeout` (seconds)
    /// overrides the runtime's deadline.
    #[pyo3(signature = (*, timeout = None))]
    fn run(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<i32> {
        let st = self.state.get(py, "module")?;
        let timeout = control::parse_timeout(py, timeout)?;
        let r = st.owner.with_store(py, |store, shared| {
            let start = match st.instance.export(store, "_start") {
                Some(Extern::Func(f)) => f,
                _ => return None,
            };
            drop(wasi::take_stream_error()); // stale, from a plain call
            Some(control::run_wasm(py, store, shared, timeout, || start.call(store, &[])))
        })?;
        let Some(r) = r else {
            return Err(err(py, "the module has no '_start' function (not a WASI command)"));
        };
        if let Some(ctx) = &st.wasi {
            ctx.flush();
        }
        // A Python exception raised by a stdio object (the guest saw EIO) wins.
        if let Some(e) = wasi::take_stream_error() {
            return Err(e);
        }
        match r {
            Ok(_) => Ok(0),
            Err(e) => match crate::wasi::exit_code(&e) {
                Some(code) => Ok(code),
                None => Err(map_error(py, e, Site::Export("_start"))),
            },
        }
    }

    /// The `CompiledModule` this module was instantiated from.
    #[getter]
    fn compiled(&self) -> CompiledModule {
        CompiledModule { module: self.compiled.clone() }
    }

    /// Closes the module and frees its instance; further calls raise `WazeroError`. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let st = self.state.get(py, "module")?;
        let alive = st.owner.alive.as_ref().expect("modules have an open flag");
        if !alive.get() {
            return Ok(());
        }
        alive.set(false);
        let shared = &st.owner.shared;
        // Free the instance now unless Wasm code is running in this store (a host function
        // closing the module) or a memory view may point into it: then it is freed with the
        // runtime.
        if shared.active_calls.get() == 0 && shared.exported_buffers.get() == 0 {
            if let Ok(store_ref) = shared.store.try_borrow() {
                if let Some(store) = store_ref.as_ref() {
                    store.release_instance(st.instance).map_err(|e| map_error(py, e, Site::Instantiate))?;
                }
            }
        }
        Ok(())
    }

    /// True once this module or its runtime was closed.
    #[getter]
    fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        let st = self.state.get(py, "module")?;
        if st.owner.alive.as_ref().is_some_and(|a| !a.get()) {
            return Ok(true);
        }
        Ok(st.owner.shared.store.try_borrow().map(|s| s.is_none()).unwrap_or(false))
    }

    fn __enter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        if slf.get().closed(slf.py())? {
            return Err(module_closed(slf.py()));
        }
        Ok(slf.clone())
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let names: Vec<String> = self.compiled.info().exports.iter().map(|e| format!("'{}'", e.name)).collect();
        let closed = if self.closed(py).unwrap_or(false) { " (closed)" } else { "" };
        format!("<wazero.Module exports=[{}]{closed}>", names.join(", "))
    }
}

// ---------------------------------------------------------------------------------------------
// Module.call as a raw METH_FASTCALL method
//
// PyO3 collects `*args` into a new tuple on every call; `Module.call` is hot enough that this
// matters, so the module init replaces the PyO3 method with this one, which reads the
// arguments straight from CPython's vectorcall array (same behaviour, same docstring).

const MODULE_CALL_DOC: &std::ffi::CStr = c"call($self, name, /, *args, timeout=None)\n--\n\nCalls the exported function `name` with `args`; returns the list of its results.\n\nIntegers are accepted in the signed or unsigned range of i32/i64 and returned signed; floats\nare returned as Python floats. Raises `Trap` if the function traps. `timeout` (seconds)\noverrides the runtime's deadline for this call.";

unsafe extern "C" fn module_call_fast(
    slf: *mut pyo3::ffi::PyObject,
    args: *const *mut pyo3::ffi::PyObject,
    nargs: pyo3::ffi::Py_ssize_t,
    kwnames: *mut pyo3::ffi::PyObject,
) -> *mut pyo3::ffi::PyObject {
    // SAFETY: CPython calls METH_FASTCALL methods with the GIL held.
    let py = unsafe { Python::assume_attached() };
    func::raw_entry(py, "Module.call", || {
        // SAFETY: CPython's METH_FASTCALL arguments.
        let (all, kwvalues, kwnames) = unsafe { func::vectorcall_args(py, args, nargs.max(0) as usize, kwnames)? };
        let timeout = func::call_kwargs(py, kwnames.as_ref(), kwvalues, "call")?;
        // SAFETY: `slf` is a live object (the method descriptor checked it is a Module).
        let slf = unsafe { Bound::<PyAny>::from_borrowed_ptr(py, slf) };
        let module = slf.cast::<Module>()?;
        let Some((name, rest)) = all.split_first() else {
            return Err(type_err(py, "call() missing required argument 'name'"));
        };
        let name = name.cast::<PyString>().map_err(|_| {
            let tn = name.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            pyo3::exceptions::PyTypeError::new_err(format!("call() argument 'name' must be str, not {tn}"))
        })?;
        Ok(module.get().call_slice(py, name, rest, timeout)?.into_any())
    })
}

/// Installs `module_call_fast` as `Module.call` (keeps the PyO3 method if that fails).
fn install_fast_module_call(m: &Bound<'_, pyo3::types::PyModule>) -> PyResult<()> {
    let py = m.py();
    let ty = py.get_type::<Module>();
    let def = Box::leak(Box::new(pyo3::ffi::PyMethodDef {
        ml_name: c"call".as_ptr(),
        ml_meth: pyo3::ffi::PyMethodDefPointer { PyCFunctionFastWithKeywords: module_call_fast },
        ml_flags: pyo3::ffi::METH_FASTCALL | pyo3::ffi::METH_KEYWORDS,
        ml_doc: MODULE_CALL_DOC.as_ptr(),
    }));
    // SAFETY: `def` lives forever; PyDescr_NewMethod returns a new reference or NULL.
    let descr = unsafe {
        Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyDescr_NewMethod(ty.as_type_ptr(), def))
    }?;
    if ty.setattr("call", descr).is_err() {
        // An immutable type (future PyO3 default?): the PyO3 method stays, just slower.
        let _ = PyErr::take(py);
    }
    Ok(())
}

/// The version of the wazero package (and its Rust core).
#[pyfunction]
fn version() -> &'static str {
    crate::version()
}

/// The native part of the `wazero` package. Import `wazero` instead.
#[pymodule]
#[pyo3(name = "_wazero")]
mod _wazero {
    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        super::install_fast_module_call(m)
    }

    #[pymodule_export]
    use super::{
        version, CompiledModule, Func, FuncType, Function, Global, GlobalType, Memory, MemoryType, Module, Runtime,
        Table, TableType,
    };
    #[pymodule_export]
    use super::limits::PyLimits;
    #[pymodule_export]
    use super::wasi::WasiConfig;
    #[pymodule_export]
    use super::inspect::_inspect;
}
