//! `wazero.Memory`, `wazero.Global` and `wazero.Table`: exported by modules or created
//! standalone in a runtime, and importable into modules.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::rc::Rc;

use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

use super::convert::{self, Ctx};
use super::errors::{err, index_err, map_error, Site};
use super::{parse_valtype, GlobalType, MemoryType, Owner, Runtime, Shared, TableType, ThreadBound};
use crate::error::Error;
use crate::runtime::store::Store;
use crate::types::ValType;

pub(crate) struct Handle<T> {
    pub owner: Owner,
    pub item: T,
}

fn usage(py: Python<'_>, e: Error) -> PyErr {
    map_error(py, e, Site::Instantiate)
}

/// Turns a Python index (negative counts from the end) into an in-bounds position.
fn position(py: Python<'_>, index: i64, len: u64, what: &str) -> PyResult<u64> {
    let i = if index < 0 { index + len as i64 } else { index };
    if i < 0 || i as u64 >= len {
        return Err(index_err(py, format!("{what} index {index} out of range (length {len})")));
    }
    Ok(i as u64)
}

// ---------------------------------------------------------------------------------------------
// Memory

/// A linear memory: bytes addressed from 0, grown in 64 KiB pages.
///
/// `len(mem)` is its size in bytes, `mem.size` in pages. `read`/`write` copy bytes; the
/// buffer protocol gives zero-copy access (`memoryview(mem)`, `numpy.frombuffer(mem, ...)`).
/// The memory never moves, so such a view stays valid after `grow` (it covers the bytes that
/// existed when it was taken). Standalone: `Memory(runtime, min, max=None)`.
#[pyclass(frozen, module = "wazero")]
pub struct Memory {
    pub(crate) state: ThreadBound<Handle<crate::Memory>>,
}

impl Memory {
    pub(crate) fn wrap(shared: &Rc<Shared>, alive: Option<Rc<Cell<bool>>>, item: crate::Memory) -> Memory {
        Memory { state: ThreadBound::new(Handle { owner: Owner { shared: Rc::clone(shared), alive }, item }) }
    }

    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&Store, crate::Memory) -> Result<R, Error>) -> PyResult<R> {
        let h = self.state.get(py, "memory")?;
        h.owner.with_store(py, |store, _| f(store, h.item).map_err(|e| usage(py, e)))?
    }

    /// (base, len) after checking that `[offset, offset+length)` is in bounds.
    fn range(&self, py: Python<'_>, offset: i64, length: usize, what: &str) -> PyResult<*mut u8> {
        let (base, len) = self.with(py, |s, m| Ok((m.data_ptr(s)?, m.data_size(s)?)))?;
        let ok = offset >= 0 && (offset as u64).checked_add(length as u64).is_some_and(|end| end <= len as u64);
        if !ok {
            return Err(index_err(
                py,
                format!("{what} of {length} bytes at offset {offset} is out of bounds (memory size {len})"),
            ));
        }
        // SAFETY: offset + length <= len, inside the mapped memory.
        Ok(unsafe { base.add(offset as usize) })
    }
}

#[pymethods]
impl Memory {
    #[new]
    #[pyo3(signature = (runtime, min, max = None))]
    fn py_new(py: Python<'_>, runtime: &Runtime, min: u32, max: Option<u32>) -> PyResult<Self> {
        let shared = runtime.shared_rc(py)?;
        let m = {
            let s = shared.store.borrow();
            let store = s.as_ref().ok_or_else(|| err(py, "runtime is closed"))?;
            crate::Memory::new(store, crate::MemoryType { min, max }).map_err(|e| usage(py, e))?
        };
        Ok(Memory::wrap(&shared, None, m))
    }

    /// Copies `length` bytes starting at `offset` out of the memory.
    fn read<'py>(&self, py: Python<'py>, offset: i64, length: usize) -> PyResult<Bound<'py, PyBytes>> {
        let p = self.range(py, offset, length, "read")?;
        // SAFETY: `range` checked [p, p+length) lies inside the memory.
        Ok(PyBytes::new(py, unsafe { std::slice::from_raw_parts(p, length) }))
    }

    /// Copies `data` (bytes-like) into the memory at `offset`.
    fn write(&self, py: Python<'_>, offset: i64, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let copy = |src: &[u8]| -> PyResult<()> {
            let p = self.range(py, offset, src.len(), "write")?;
            // SAFETY: `range` checked the destination; `src` is a distinct Python buffer
            // (or a copy of it), and copy handles overlap anyway.
            unsafe { std::ptr::copy(src.as_ptr(), p, src.len()) };
            Ok(())
        };
        if let Ok(b) = data.cast::<PyBytes>() {
            copy(b.as_bytes())
        } else if let Ok(b) = data.cast::<PyByteArray>() {
            copy(&b.to_vec())
        } else {
            let not_bytes = || {
                super::errors::type_err(
                    py,
                    format!(
                        "write() needs a bytes-like object, got {}",
                        data.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                    ),
                )
            };
            if data.is_instance_of::<pyo3::types::PyInt>() || data.is_instance_of::<pyo3::types::PyString>() {
                return Err(not_bytes());
            }
            // Any other buffer (memoryview, array.array, NumPy arrays): its raw bytes.
            let b = py.get_type::<PyBytes>().call1((data,)).map_err(|_| not_bytes())?;
            copy(b.cast::<PyBytes>()?.as_bytes())
        }
    }

    /// Grows the memory by `pages` 64 KiB pages; returns the previous size in pages.
    fn grow(&self, py: Python<'_>, pages: u32) -> PyResult<u32> {
        self.with(py, |s, m| m.grow(s, pages))
    }

    /// Current size in 64 KiB pages.
    #[getter]
    fn size(&self, py: Python<'_>) -> PyResult<u32> {
        self.with(py, |s, m| m.size(s))
    }

    /// The memory's type: current size as `min`, and its maximum.
    #[getter]
    fn r#type(&self, py: Python<'_>) -> PyResult<MemoryType> {
        let t = self.with(py, |s, m| m.ty(s))?;
        Ok(MemoryType { min: t.min, max: t.max })
    }

    /// Size in bytes.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |s, m| m.data_size(s))
    }

    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut pyo3::ffi::Py_buffer, flags: c_int) -> PyResult<()> {
        let py = slf.py();
        if view.is_null() {
            return Err(PyBufferError::new_err("view is null"));
        }
        let (base, len) = slf.get().with(py, |s, m| Ok((m.data_ptr(s)?, m.data_size(s)?)))?;
        let h = slf.get().state.get(py, "memory")?;
        let shared = &h.owner.shared;
        shared.exported_buffers.set(shared.exported_buffers.get() + 1);
        // SAFETY: `view` is a valid Py_buffer to fill (buffer protocol contract); the memory
        // at [base, base+len) stays mapped until the matching __releasebuffer__ (the store is
        // kept alive while buffers are exported, see `Shared::exported_buffers`).
        unsafe {
            (*view).obj = slf.clone().into_any().into_ptr();
            (*view).buf = base as *mut c_void;
            (*view).len = len as isize;
            (*view).readonly = 0;
            (*view).itemsize = 1;
            (*view).format = if flags & pyo3::ffi::PyBUF_FORMAT == pyo3::ffi::PyBUF_FORMAT {
                c"B".as_ptr() as *mut _
            } else {
                std::ptr::null_mut()
            };
            (*view).ndim = 1;
            (*view).shape =
                if flags & pyo3::ffi::PyBUF_ND == pyo3::ffi::PyBUF_ND { &mut (*view).len } else { std::ptr::null_mut() };
            (*view).strides = if flags & pyo3::ffi::PyBUF_STRIDES == pyo3::ffi::PyBUF_STRIDES {
                &mut (*view).itemsize
            } else {
                std::ptr::null_mut()
            };
            (*view).suboffsets = std::ptr::null_mut();
            (*view).internal = std::ptr::null_mut();
        }
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, py: Python<'_>, _view: *mut pyo3::ffi::Py_buffer) {
        // On a foreign thread we cannot touch the runtime: the store is then leaked.
        if let Ok(h) = self.state.get(py, "memory") {
            h.owner.shared.release_buffer();
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        match self.with(py, |s, m| m.ty(s)) {
            Ok(t) => format!("<wazero.Memory pages={} max={}>", t.min, t.max.map_or("None".into(), |m| m.to_string())),
            Err(_) => "<wazero.Memory (closed)>".into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Global

/// A global variable: `.value` (assignable if mutable) and `.type`.
///
/// Standalone: `Global(runtime, valtype, value, mutable=False)`.
#[pyclass(frozen, module = "wazero")]
pub struct Global {
    pub(crate) state: ThreadBound<Handle<crate::Global>>,
}

impl Global {
    pub(crate) fn wrap(shared: &Rc<Shared>, alive: Option<Rc<Cell<bool>>>, item: crate::Global) -> Global {
        Global { state: ThreadBound::new(Handle { owner: Owner { shared: Rc::clone(shared), alive }, item }) }
    }
}

#[pymethods]
impl Global {
    #[new]
    #[pyo3(signature = (runtime, valtype, value, mutable = false))]
    fn py_new(py: Python<'_>, runtime: &Runtime, valtype: &str, value: &Bound<'_, PyAny>, mutable: bool) -> PyResult<Self> {
        let ty = parse_valtype(py, valtype)?;
        let shared = runtime.shared_rc(py)?;
        let g = {
            let s = shared.store.borrow();
            let store = s.as_ref().ok_or_else(|| err(py, "runtime is closed"))?;
            let ctx = Ctx { store, shared: &shared };
            let v = convert::to_val(value, ty, &|| "global value".to_string(), &ctx)?;
            crate::Global::new(store, crate::GlobalType { content: ty, mutable }, v).map_err(|e| usage(py, e))?
        };
        Ok(Global::wrap(&shared, None, g))
    }

    /// The current value (assigning raises `WazeroError` for an immutable global).
    #[getter]
    fn get_value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let h = self.state.get(py, "global")?;
        h.owner.with_store(py, |store, shared| {
            let v = h.item.get(store).map_err(|e| usage(py, e))?;
            convert::from_val(py, &v, &Ctx { store, shared })
        })?
    }

    #[setter]
    fn set_value(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let h = self.state.get(py, "global")?;
        h.owner.with_store(py, |store, shared| {
            let ty = h.item.ty(store).map_err(|e| usage(py, e))?;
            if !ty.mutable {
                return Err(err(py, "cannot set an immutable global"));
            }
            let v = convert::to_val(value, ty.content, &|| "global value".to_string(), &Ctx { store, shared })?;
            h.item.set(store, v).map_err(|e| usage(py, e))
        })?
    }

    /// The global's type (`GlobalType`).
    #[getter]
    fn r#type(&self, py: Python<'_>) -> PyResult<GlobalType> {
        let h = self.state.get(py, "global")?;
        let t = h.owner.with_store(py, |store, _| h.item.ty(store).map_err(|e| usage(py, e)))??;
        Ok(GlobalType { content: t.content.name(), mutable: t.mutable })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let v = self.get_value(py).and_then(|v| v.repr().map(|r| r.to_string()));
        match (self.r#type(py), v) {
            (Ok(t), Ok(v)) => format!("<wazero.Global {} = {v}>", t.text()),
            _ => "<wazero.Global (closed)>".into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Table

/// A table of references: `len(t)`, `t[i]` and `t[i] = v` (funcref elements are
/// `wazero.Function` or `None`, externref elements any Python object or `None`),
/// `t.grow(n, init=None)`. Standalone: `Table(runtime, elemtype, min, max=None, init=None)`.
#[pyclass(frozen, module = "wazero")]
pub struct Table {
    pub(crate) state: ThreadBound<Handle<crate::Table>>,
}

impl Table {
    pub(crate) fn wrap(shared: &Rc<Shared>, alive: Option<Rc<Cell<bool>>>, item: crate::Table) -> Table {
        Table { state: ThreadBound::new(Handle { owner: Owner { shared: Rc::clone(shared), alive }, item }) }
    }
}

fn elem_type(py: Python<'_>, s: &str) -> PyResult<ValType> {
    match parse_valtype(py, s)? {
        t @ (ValType::FuncRef | ValType::ExternRef) => Ok(t),
        _ => Err(super::errors::type_err(py, format!("table element type must be funcref or externref, not {s:?}"))),
    }
}

#[pymethods]
impl Table {
    #[new]
    #[pyo3(signature = (runtime, elemtype, min, max = None, init = None))]
    fn py_new(
        py: Python<'_>,
        runtime: &Runtime,
        elemtype: &str,
        min: u32,
        max: Option<u32>,
        init: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let ty = elem_type(py, elemtype)?;
        let shared = runtime.shared_rc(py)?;
        let t = {
            let s = shared.store.borrow();
            let store = s.as_ref().ok_or_else(|| err(py, "runtime is closed"))?;
            let ctx = Ctx { store, shared: &shared };
            let none = py.None().into_bound(py);
            let v = convert::to_val(init.unwrap_or(&none), ty, &|| "table init value".to_string(), &ctx)?;
            crate::Table::new(store, crate::TableType { element: ty, min, max }, v).map_err(|e| usage(py, e))?
        };
        Ok(Table::wrap(&shared, None, t))
    }

    /// Number of elements.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let h = self.state.get(py, "table")?;
        Ok(h.owner.with_store(py, |store, _| h.item.size(store).map_err(|e| usage(py, e)))?? as usize)
    }

    fn __getitem__<'py>(&self, py: Python<'py>, index: i64) -> PyResult<Bound<'py, PyAny>> {
        let h = self.state.get(py, "table")?;
        h.owner.with_store(py, |store, shared| {
            let len = h.item.size(store).map_err(|e| usage(py, e))?;
            let i = position(py, index, len as u64, "table")?;
            let v = h.item.get(store, i as u32).map_err(|e| usage(py, e))?;
            convert::from_val(py, &v, &Ctx { store, shared })
        })?
    }

    fn __setitem__(&self, py: Python<'_>, index: i64, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let h = self.state.get(py, "table")?;
        h.owner.with_store(py, |store, shared| {
            let ty = h.item.ty(store).map_err(|e| usage(py, e))?;
            let i = position(py, index, ty.min as u64, "table")?;
            let v = convert::to_val(value, ty.element, &|| format!("table element {i}"), &Ctx { store, shared })?;
            h.item.set(store, i as u32, v).map_err(|e| usage(py, e))
        })?
    }

    /// Grows the table by `delta` elements set to `init`; returns the previous length.
    #[pyo3(signature = (delta, init = None))]
    fn grow(&self, py: Python<'_>, delta: u32, init: Option<&Bound<'_, PyAny>>) -> PyResult<u32> {
        let h = self.state.get(py, "table")?;
        h.owner.with_store(py, |store, shared| {
            let ty = h.item.ty(store).map_err(|e| usage(py, e))?;
            let none = py.None().into_bound(py);
            let v = convert::to_val(init.unwrap_or(&none), ty.element, &|| "table init value".to_string(), &Ctx {
                store,
                shared,
            })?;
            h.item.grow(store, delta, v).map_err(|e| usage(py, e))
        })?
    }

    /// The table's type: element type, current length as `min`, and its maximum.
    #[getter]
    fn r#type(&self, py: Python<'_>) -> PyResult<TableType> {
        let h = self.state.get(py, "table")?;
        let t = h.owner.with_store(py, |store, _| h.item.ty(store).map_err(|e| usage(py, e)))??;
        Ok(TableType { element: t.element.name(), min: t.min, max: t.max })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        match self.r#type(py) {
            Ok(t) => format!("<wazero.Table {} len={}>", t.element, t.min),
            Err(_) => "<wazero.Table (closed)>".into(),
        }
    }
}
