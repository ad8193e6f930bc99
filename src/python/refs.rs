//! Reference values crossing the Python boundary.
//!
//! - `externref`: any Python object. The runtime keeps a slab of the objects handed to Wasm;
//!   the Rust value is `Val::ExternRef(Some(slot))`. Passing the same object again reuses its
//!   slot, so identity is preserved both ways (`m.call("id", x)[0] is x`). Wasm may keep a
//!   reference anywhere (tables, globals) without the slab knowing, so the objects stay alive
//!   until `Runtime.close()`, which releases them all. `None` is the null reference.
//! - `funcref`: a callable [`Function`] of the same runtime, or `None`.

use std::collections::HashMap;
use std::rc::Rc;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use super::errors::{err, map_error, type_err, Site};
use super::{convert, runtime_closed, Shared, ThreadBound};
use crate::runtime::Func;
use crate::types::{Val, ValType};

/// The Python objects a runtime has handed to Wasm as externrefs.
#[derive(Default)]
pub(crate) struct ExternSlab {
    objects: Vec<Py<PyAny>>,
    /// Object address → slot. Addresses stay unique: the slab holds a strong reference.
    slots: HashMap<usize, u64>,
}

impl ExternSlab {
    /// The handle of `obj`, registering it (one strong reference) on first use.
    fn handle(&mut self, obj: &Bound<'_, PyAny>) -> u64 {
        let addr = obj.as_ptr() as usize;
        if let Some(&h) = self.slots.get(&addr) {
            return h;
        }
        let h = self.objects.len() as u64;
        self.objects.push(obj.clone().unbind());
        self.slots.insert(addr, h);
        h
    }

    fn get<'py>(&self, py: Python<'py>, handle: u64) -> Option<Bound<'py, PyAny>> {
        self.objects.get(handle as usize).map(|o| o.bind(py).clone())
    }

    /// Drops every reference (the GIL is held: the objects are released right away).
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.objects.clear();
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Converts argument `index` of `name` to a value of type `ty` (any type; references here,
/// everything else through `convert::to_val`).
pub(crate) fn to_val(
    shared: &Rc<Shared>,
    obj: &Bound<'_, PyAny>,
    ty: ValType,
    name: &Bound<'_, PyString>,
    index: usize,
) -> PyResult<Val> {
    let py = obj.py();
    match ty {
        _ if obj.is_none() && matches!(ty, ValType::FuncRef | ValType::ExternRef) => Ok(Val::default_for(ty)),
        ValType::ExternRef => Ok(Val::ExternRef(Some(shared.externs.borrow_mut().handle(obj)))),
        ValType::FuncRef => {
            let what = || format!("argument {} of '{}' (funcref)", index + 1, name.to_string_lossy());
            let f = obj.cast::<Function>().map_err(|_| {
                type_err(
                    py,
                    format!(
                        "{}: expected a wazero.Function or None, got {}",
                        what(),
                        type_name(obj)
                    ),
                )
            })?;
            let st = f.get().state.get(py, "function")?;
            if !Rc::ptr_eq(&st.shared, shared) {
                return Err(err(
                    py,
                    format!("{}: the function belongs to another runtime", what()),
                ));
            }
            Ok(Val::FuncRef(Some(st.func)))
        }
        _ => convert::to_val(obj, ty, name, index),
    }
}

/// Converts a Wasm result to Python: numbers through `convert::from_val`, an externref to
/// the very object that was passed in, a funcref to a callable `Function`.
pub(crate) fn from_val<'py>(py: Python<'py>, shared: &Rc<Shared>, v: &Val) -> PyResult<Bound<'py, PyAny>> {
    match *v {
        Val::ExternRef(Some(h)) => shared
            .externs
            .borrow()
            .get(py, h)
            .ok_or_else(|| err(py, format!("externref {h} does not belong to this runtime"))),
        Val::FuncRef(Some(func)) => {
            let ty = {
                let store_ref = shared.store.borrow();
                let store = store_ref.as_ref().ok_or_else(|| runtime_closed(py))?;
                func.ty(store).map_err(|e| map_error(py, e, Site::Instantiate))?
            };
            let f = Function {
                state: ThreadBound::new(FunctionState {
                    shared: Rc::clone(shared),
                    func,
                }),
                ty,
            };
            Ok(Bound::new(py, f)?.into_any())
        }
        _ => convert::from_val(py, v),
    }
}

struct FunctionState {
    shared: Rc<Shared>,
    func: Func,
}

/// A WebAssembly function of a runtime (e.g. a `funcref` result), callable from Python.
///
/// `f(*args)` calls it like `Module.call` and returns the list of results. It stays usable
/// while its runtime is open (and its module, for functions defined by a module).
#[pyclass(frozen, module = "wazero")]
pub struct Function {
    state: ThreadBound<FunctionState>,
    ty: crate::FuncType,
}

#[pymethods]
impl Function {
    #[pyo3(signature = (*args))]
    fn __call__<'py>(&self, py: Python<'py>, args: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyList>> {
        let st = self.state.get(py, "function")?;
        let name = PyString::new(py, "function");
        if args.len() != self.ty.params.len() {
            return Err(type_err(
                py,
                format!(
                    "function takes {} argument(s) ({} given)",
                    self.ty.params.len(),
                    args.len()
                ),
            ));
        }
        let mut vals = Vec::with_capacity(args.len());
        for (i, (arg, ty)) in args.iter().zip(&self.ty.params).enumerate() {
            vals.push(to_val(&st.shared, &arg, *ty, &name, i)?);
        }
        let result = {
            let store_ref = st.shared.store.try_borrow().map_err(|_| runtime_closed(py))?;
            let store = store_ref.as_ref().ok_or_else(|| runtime_closed(py))?;
            st.shared.active_calls.set(st.shared.active_calls.get() + 1);
            let r = st.func.call(store, &vals);
            st.shared.active_calls.set(st.shared.active_calls.get() - 1);
            r
        };
        let results = result.map_err(|e| map_error(py, e, Site::Export("<function>")))?;
        let list = PyList::empty(py);
        for v in &results {
            list.append(from_val(py, &st.shared, v)?)?;
        }
        Ok(list)
    }

    /// The function's signature.
    #[getter]
    #[pyo3(name = "type")]
    fn func_type(&self, py: Python<'_>) -> PyResult<Py<super::FuncType>> {
        Py::new(py, super::FuncType { ty: self.ty.clone() })
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(o) = other.cast::<Function>() else {
            return Ok(false);
        };
        let (a, b) = (
            self.state.get(py, "function")?,
            o.get().state.get(py, "function")?,
        );
        Ok(Rc::ptr_eq(&a.shared, &b.shared) && a.func == b.func)
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<u64> {
        use std::hash::{Hash, Hasher};
        let st = self.state.get(py, "function")?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        st.func.hash(&mut h);
        Ok(h.finish())
    }

    fn __repr__(&self) -> String {
        let j = |v: &[ValType]| v.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
        format!(
            "<wazero.Function ({}) -> ({})>",
            j(&self.ty.params),
            j(&self.ty.results)
        )
    }
}
