//! PyO3 bindings: the native module `wazero._wazero` behind the `wazero` Python package.
//!
//! Threading model: a `Store` is not `Sync` (and may hold thread-affine state), so every
//! object that reaches a store (`Runtime`, `Module`) is bound to the thread that created it.
//! Using it from another thread raises `WazeroError` instead of panicking (PyO3's
//! `unsendable` would raise a `PanicException`); dropping it from another thread leaks it.
//! The GIL is held while Wasm runs (the store cannot cross threads); compilation releases it.

mod convert;
mod errors;
mod refs;

use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyFloat, PyList, PyMemoryView, PyString, PyTuple};

use crate::error::Error;
use crate::runtime::store::Store;
use crate::runtime::{Extern, Func, Instance};
use crate::types::{ExternType, ValType};
use errors::{err, link_err, map_error, type_err, Site};

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
struct ThreadBound<T> {
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

/// The store shared by a runtime and its modules; `None` once the runtime is closed.
struct Shared {
    store: RefCell<Option<Store>>,
    /// Calls from Python into this store currently running.
    active_calls: Cell<u32>,
    /// Python objects passed to Wasm as externrefs (released by `Runtime.close()`).
    externs: RefCell<refs::ExternSlab>,
}

fn runtime_closed(py: Python<'_>) -> PyErr {
    err(py, "runtime is closed")
}

fn module_closed(py: Python<'_>) -> PyErr {
    err(py, "module is closed")
}

// ---------------------------------------------------------------------------------------------
// Sources

/// Compiles `source`: a `CompiledModule`, `bytes`/`bytearray`/`memoryview` (binary, or text
/// if it does not start with `\0asm`), or `str` (WebAssembly text).
fn compile_source(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<crate::Module> {
    if let Ok(c) = source.cast::<CompiledModule>() {
        return Ok(c.get().module.clone());
    }
    let result = if let Ok(s) = source.cast::<PyString>() {
        let text = s.to_cow()?;
        let text: &str = &text;
        py.detach(|| crate::Module::from_wat(text))
    } else if let Ok(b) = source.cast::<PyBytes>() {
        let bytes = b.as_bytes();
        py.detach(|| compile_bytes(bytes))
    } else if let Ok(b) = source.cast::<PyByteArray>() {
        let bytes = b.to_vec();
        py.detach(|| compile_bytes(&bytes))
    } else if source.is_instance_of::<PyMemoryView>() {
        let b = source.call_method0("tobytes")?;
        let b = b.cast::<PyBytes>()?;
        let bytes = b.as_bytes();
        py.detach(|| compile_bytes(bytes))
    } else {
        let tn = source.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        return Err(type_err(
            py,
            format!("expected bytes, bytearray, memoryview, str or CompiledModule, got {tn}"),
        ));
    };
    result.map_err(|e| map_error(py, e, Site::Instantiate))
}

/// Binary if it starts with the Wasm magic, otherwise UTF-8 WebAssembly text.
fn compile_bytes(bytes: &[u8]) -> crate::Result<crate::Module> {
    if bytes.starts_with(b"\0asm") {
        crate::Module::new(bytes)
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) => crate::Module::from_wat(text),
            Err(e) => Err(Error::Compile {
                message: format!(
                    "neither a WebAssembly binary (no \\0asm header) nor UTF-8 WebAssembly text ({e})"
                ),
                offset: Some(e.valid_up_to()),
            }),
        }
    }
}

fn compile_path(py: Python<'_>, path: &PathBuf) -> PyResult<crate::Module> {
    let bytes = std::fs::read(path).map_err(|e| {
        // OSError(errno, strerror, filename) picks the subclass (FileNotFoundError...).
        let errno = e.raw_os_error().unwrap_or(0);
        let msg = std::io::Error::from_raw_os_error(errno).to_string();
        let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
        pyo3::exceptions::PyOSError::new_err((errno, msg, path.to_string_lossy().into_owned()))
    })?;
    py.detach(|| compile_bytes(&bytes)).map_err(|e| map_error(py, e, Site::Instantiate))
}

// ---------------------------------------------------------------------------------------------
// Types

fn names(py: Python<'_>, tys: &[ValType]) -> PyResult<Py<PyTuple>> {
    Ok(PyTuple::new(py, tys.iter().map(|t| t.name()))?.unbind())
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
        _ => return Err(type_err(py, format!("unknown value type {s:?}"))),
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
    ty: crate::FuncType,
}

#[pymethods]
impl FuncType {
    #[new]
    fn py_new(py: Python<'_>, params: Vec<String>, results: Vec<String>) -> PyResult<Self> {
        let params = params.iter().map(|s| parse_valtype(py, s)).collect::<PyResult<Vec<_>>>()?;
        let results = results.iter().map(|s| parse_valtype(py, s)).collect::<PyResult<Vec<_>>>()?;
        Ok(FuncType { ty: crate::FuncType::new(params, results) })
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
        let j = |v: &[ValType]| v.iter().map(|t| t.name()).collect::<Vec<_>>().join(" ");
        let mut s = String::from("func");
        if !self.ty.params.is_empty() {
            s.push_str(&format!(" (param {})", j(&self.ty.params)));
        }
        if !self.ty.results.is_empty() {
            s.push_str(&format!(" (result {})", j(&self.ty.results)));
        }
        s
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
    min: u32,
    /// Maximum size in pages, or None.
    max: Option<u32>,
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
    element: &'static str,
    /// Initial size in elements.
    min: u32,
    /// Maximum size in elements, or None.
    max: Option<u32>,
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
    content: &'static str,
    /// Whether the global is mutable.
    mutable: bool,
}

#[pymethods]
impl GlobalType {
    fn __str__(&self) -> String {
        if self.mutable {
            format!("global (mut {})", self.content)
        } else {
            format!("global {}", self.content)
        }
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
    #[new]
    fn py_new(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(CompiledModule { module: compile_source(py, source)? })
    }

    /// Compiles a `.wasm` (binary) or `.wat` (text) file; the format is decided by content.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        Ok(CompiledModule { module: compile_path(py, &path)? })
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
}

impl Runtime {
    fn instantiate_module(&self, py: Python<'_>, module: crate::Module) -> PyResult<Module> {
        let shared = self.shared.get(py, "runtime")?;
        let store_ref = shared.store.try_borrow().map_err(|_| err(py, "runtime is busy"))?;
        let store = store_ref.as_ref().ok_or_else(|| runtime_closed(py))?;
        let imports = module.imports();
        if let Some((m, n, ty)) = imports.first() {
            let more = if imports.len() > 1 { format!(" (and {} more)", imports.len() - 1) } else { String::new() };
            let kind = match ty {
                ExternType::Func(f) => format!("func {f}"),
                other => other.kind_name().to_string(),
            };
            return Err(link_err(
                py,
                format!("unresolved import '{m}.{n}' ({kind}){more}: imports are not supported yet"),
            ));
        }
        let instance = store.instantiate(&module, &[]).map_err(|e| map_error(py, e, Site::Instantiate))?;
        Ok(Module {
            state: ThreadBound::new(ModuleState {
                shared: RefCell::new(Some(Rc::clone(shared))),
                instance,
                closed: Cell::new(false),
            }),
            compiled: module,
            cache: PyDict::new(py).unbind(),
        })
    }
}

#[pymethods]
impl Runtime {
    #[new]
    #[pyo3(signature = (*, max_wasm_stack = None))]
    fn py_new(max_wasm_stack: Option<usize>) -> PyResult<Self> {
        let store = Store::new();
        if let Some(bytes) = max_wasm_stack {
            store.set_max_wasm_stack(bytes);
        }
        Ok(Runtime { shared: ThreadBound::new(Rc::new(Shared {
            store: RefCell::new(Some(store)),
            active_calls: Cell::new(0),
            externs: RefCell::new(refs::ExternSlab::default()),
        })) })
    }

    /// Compiles and instantiates a module.
    ///
    /// `source` is a WebAssembly binary (`bytes`, `bytearray`, `memoryview`), WebAssembly
    /// text (`str`), or a `CompiledModule`.
    fn instantiate(&self, py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Module> {
        // Fail fast on a closed runtime before compiling.
        self.check_open(py)?;
        let module = compile_source(py, source)?;
        self.instantiate_module(py, module)
    }

    /// Compiles and instantiates a `.wasm` (binary) or `.wat` (text) file.
    fn instantiate_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<Module> {
        self.check_open(py)?;
        let module = compile_path(py, &path)?;
        self.instantiate_module(py, module)
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
        drop(store);
        // No Wasm code can hold an externref any more.
        shared.externs.borrow_mut().clear();
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
    /// `None` once the module is closed.
    shared: RefCell<Option<Rc<Shared>>>,
    instance: Instance,
    closed: Cell<bool>,
}

/// A cached exported function: everything `Module.call` needs besides the store.
#[pyclass(frozen)]
struct ExportedFunc {
    func: Func,
    params: Box<[ValType]>,
    results: Box<[ValType]>,
    /// Argument-area slot of each parameter / result (see `crate::abi`).
    param_slots: Box<[usize]>,
    result_slots: Box<[usize]>,
    /// Slots of the argument area (at least 1).
    area: usize,
    /// All parameter and result types are numeric: use `Func::call_raw` on a stack buffer.
    raw: bool,
}

/// An instantiated WebAssembly module (an instance), created by `Runtime.instantiate`.
#[pyclass(frozen, module = "wazero")]
pub struct Module {
    state: ThreadBound<ModuleState>,
    compiled: crate::Module,
    /// export name (str) -> ExportedFunc
    cache: Py<PyDict>,
}

/// Argument areas up to this many slots live on the stack.
const INLINE_SLOTS: usize = 16;

fn is_numeric(t: &ValType) -> bool {
    matches!(t, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64 | ValType::V128)
}

/// Writes a numeric value into argument-area slots (`crate::abi`: i32/f32 in the low 4 bytes,
/// v128 in two little-endian slots).
#[inline]
fn encode_slot(v: crate::Val, slots: &mut [u64], at: usize) {
    match v {
        crate::Val::I32(x) => slots[at] = x as u32 as u64,
        crate::Val::I64(x) => slots[at] = x as u64,
        crate::Val::F32(b) => slots[at] = b as u64,
        crate::Val::F64(b) => slots[at] = b,
        crate::Val::V128(x) => {
            slots[at] = x as u64;
            slots[at + 1] = (x >> 64) as u64;
        }
        crate::Val::FuncRef(_) | crate::Val::ExternRef(_) => unreachable!("raw path is numeric only"),
    }
}

#[inline]
fn decode_slot<'py>(py: Python<'py>, ty: ValType, slots: &[u64], at: usize) -> Bound<'py, PyAny> {
    let s = slots[at];
    match ty {
        ValType::I32 => (s as u32 as i32).into_pyobject(py).unwrap().into_any(),
        ValType::I64 => (s as i64).into_pyobject(py).unwrap().into_any(),
        ValType::F32 => PyFloat::new(py, f32::from_bits(s as u32) as f64).into_any(),
        ValType::F64 => PyFloat::new(py, f64::from_bits(s)).into_any(),
        ValType::V128 => ((s as u128) | ((slots[at + 1] as u128) << 64)).into_pyobject(py).unwrap().into_any(),
        ValType::FuncRef | ValType::ExternRef => unreachable!("raw path is numeric only"),
    }
}

fn arity_error(py: Python<'_>, name: &Bound<'_, PyString>, expected: usize, given: usize) -> PyErr {
    type_err(
        py,
        format!(
            "'{}' takes {} argument{} ({} given)",
            name.to_string_lossy(),
            expected,
            if expected == 1 { "" } else { "s" },
            given
        ),
    )
}

impl Module {
    fn shared(&self, py: Python<'_>) -> PyResult<Rc<Shared>> {
        let st = self.state.get(py, "module")?;
        let s = st.shared.borrow();
        s.as_ref().cloned().ok_or_else(|| module_closed(py))
    }

    /// Resolves (and caches) the exported function `name`.
    #[cold]
    fn resolve<'py>(&self, py: Python<'py>, name: &Bound<'py, PyString>) -> PyResult<Bound<'py, ExportedFunc>> {
        let st = self.state.get(py, "module")?;
        let shared = self.shared(py)?;
        let store_ref = shared.store.borrow();
        let store = store_ref.as_ref().ok_or_else(|| module_closed(py))?;
        let n = name.to_cow()?;
        let func = match st.instance.export(store, &n) {
            Some(Extern::Func(f)) => f,
            Some(other) => {
                let kind = match other {
                    Extern::Memory(_) => "a memory",
                    Extern::Table(_) => "a table",
                    Extern::Global(_) => "a global",
                    Extern::Func(_) => unreachable!(),
                };
                return Err(err(py, format!("export '{n}' is {kind}, not a function")));
            }
            None => return Err(err(py, format!("no export named '{n}'"))),
        };
        let ty = func.ty(store).map_err(|e| map_error(py, e, Site::Export(&n)))?;
        let raw = ty.params.iter().chain(ty.results.iter()).all(is_numeric);
        let entry = ExportedFunc {
            func,
            param_slots: crate::abi::param_slots(&ty).into_boxed_slice(),
            result_slots: crate::abi::result_slots(&ty).into_boxed_slice(),
            area: crate::abi::arg_area_slots(&ty).max(1),
            params: ty.params.into_boxed_slice(),
            results: ty.results.into_boxed_slice(),
            raw,
        };
        let entry = Bound::new(py, entry)?;
        self.cache.bind(py).set_item(name, &entry)?;
        Ok(entry)
    }

    /// Runs `f` with the store, counting the call as active (so `close()` defers freeing).
    #[inline]
    fn with_store<R>(&self, py: Python<'_>, f: impl FnOnce(&Store) -> R) -> PyResult<R> {
        let shared = self.shared(py)?;
        let store_ref = shared.store.try_borrow().map_err(|_| module_closed(py))?;
        let store = store_ref.as_ref().ok_or_else(|| module_closed(py))?;
        shared.active_calls.set(shared.active_calls.get() + 1);
        let r = f(store);
        shared.active_calls.set(shared.active_calls.get() - 1);
        Ok(r)
    }
}

#[pymethods]
impl Module {
    /// Calls the exported function `name` with `args`; returns the list of its results.
    ///
    /// Integers are accepted in the signed or unsigned range of i32/i64 and returned
    /// signed; floats are returned as Python floats. Raises `Trap` if the function traps.
    #[pyo3(signature = (name, *args))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyList>> {
        let entry = match self.cache.bind(py).get_item(name)? {
            Some(e) => e.cast_into::<ExportedFunc>()?,
            None => self.resolve(py, name)?,
        };
        let ef = entry.get();
        let n = args.len();
        if n != ef.params.len() {
            return Err(arity_error(py, name, ef.params.len(), n));
        }
        let result = if ef.raw {
            let mut inline = [0u64; INLINE_SLOTS];
            let mut heap;
            let slots: &mut [u64] = if ef.area <= INLINE_SLOTS {
                &mut inline[..ef.area]
            } else {
                heap = vec![0u64; ef.area];
                &mut heap
            };
            for i in 0..n {
                let arg = args.get_borrowed_item(i)?;
                encode_slot(convert::to_val(&arg, ef.params[i], name, i)?, slots, ef.param_slots[i]);
            }
            // SAFETY: `slots` is the function's argument area (`abi::arg_area_slots`) with every
            // argument encoded for its declared (numeric) type.
            match self.with_store(py, |store| unsafe { ef.func.call_raw(store, slots) })? {
                Ok(()) => {
                    return PyList::new(
                        py,
                        ef.results.iter().zip(ef.result_slots.iter()).map(|(t, at)| decode_slot(py, *t, slots, *at)),
                    );
                }
                Err(e) => e,
            }
        } else {
            let shared = self.shared(py)?;
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                let arg = args.get_borrowed_item(i)?;
                vals.push(refs::to_val(&shared, &arg, ef.params[i], name, i)?);
            }
            match self.with_store(py, |store| ef.func.call(store, &vals))? {
                Ok(results) => {
                    let list = PyList::empty(py);
                    for v in &results {
                        list.append(refs::from_val(py, &shared, v)?)?;
                    }
                    return Ok(list);
                }
                Err(e) => e,
            }
        };
        let n = name.to_cow()?;
        Err(map_error(py, result, Site::Export(&n)))
    }

    /// `(name, type)` of every export, in order.
    #[getter]
    fn exports<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        exports_list(py, &self.compiled)
    }

    /// Closes the module and frees its instance; further calls raise `WazeroError`. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let st = self.state.get(py, "module")?;
        st.closed.set(true);
        let old = st.shared.borrow_mut().take();
        if let Some(shared) = old {
            // Free the instance now unless Wasm code is running in this store (a host
            // function closing the module): then it is freed with the runtime.
            if shared.active_calls.get() == 0 {
                if let Ok(store_ref) = shared.store.try_borrow() {
                    if let Some(store) = store_ref.as_ref() {
                        store.release_instance(st.instance).map_err(|e| map_error(py, e, Site::Instantiate))?;
                    }
                }
            }
        }
        self.cache.bind(py).clear();
        Ok(())
    }

    /// True once this module or its runtime was closed.
    #[getter]
    fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        let st = self.state.get(py, "module")?;
        if st.closed.get() {
            return Ok(true);
        }
        let s = st.shared.borrow();
        Ok(match s.as_ref() {
            None => true,
            Some(shared) => shared.store.try_borrow().map(|s| s.is_none()).unwrap_or(false),
        })
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

/// The version of the wazero package (and its Rust core).
#[pyfunction]
fn version() -> &'static str {
    crate::version()
}

/// The native part of the `wazero` package. Import `wazero` instead.
#[pymodule]
#[pyo3(name = "_wazero")]
mod _wazero {
    #[pymodule_export]
    use super::refs::Function;
    #[pymodule_export]
    use super::{version, CompiledModule, FuncType, GlobalType, MemoryType, Module, Runtime, TableType};
}
