//! Functions: `wazero.Function` (a callable Wasm or host function of a runtime) and
//! `wazero.Func` (a Python callable with an explicit signature, to import as a host function).
//!
//! The call path is the hot path of the bindings: the signature, argument-area layout and
//! function handle are resolved once when the `Function` is created; a call converts each
//! argument straight into an argument area on the Rust stack (no heap allocation for
//! signatures of numeric types up to `INLINE_SLOTS` slots) and runs `Func::call_raw`.
//! Host functions use `Func::new_host_raw` the same way in the other direction.

use std::rc::{Rc, Weak};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;

use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyList, PyString, PyTuple};

use super::control::{parse_timeout, run_wasm, with_gil};
use super::convert::{self, Ctx, What};
use super::errors::{err, map_error, trap_error, type_err, Site};
use super::{parse_valtypes, FuncType, Owner, Shared, ThreadBound};
use crate::error::Error;
use crate::runtime::store::Store;
use crate::types::{Val, ValType};

/// Argument areas up to this many slots live on the stack.
pub(crate) const INLINE_SLOTS: usize = 16;

fn is_numeric(t: &ValType) -> bool {
    matches!(t, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64 | ValType::V128)
}

/// A function signature with its argument-area layout (see `crate::abi`), computed once.
pub(crate) struct Sig {
    pub ty: crate::FuncType,
    pub param_slots: Box<[usize]>,
    pub result_slots: Box<[usize]>,
    /// Slots of the argument area (at least 1).
    pub area: usize,
    /// Every parameter and result is numeric (no reference conversion needed).
    pub numeric: bool,
}

impl Sig {
    pub fn new(ty: crate::FuncType) -> Sig {
        Sig {
            param_slots: crate::abi::param_slots(&ty).into_boxed_slice(),
            result_slots: crate::abi::result_slots(&ty).into_boxed_slice(),
            area: crate::abi::arg_area_slots(&ty).max(1),
            numeric: ty.params.iter().chain(ty.results.iter()).all(is_numeric),
            ty,
        }
    }
}

/// Reads value `ty` from the slots at `at` and converts it to Python.
#[inline]
fn decode<'py>(py: Python<'py>, ty: ValType, slots: &[u64], at: usize, ctx: &Ctx<'_>) -> PyResult<Bound<'py, PyAny>> {
    let s = slots[at];
    Ok(match ty {
        ValType::I32 => (s as u32 as i32).into_pyobject(py)?.into_any(),
        ValType::I64 => (s as i64).into_pyobject(py)?.into_any(),
        ValType::F32 => PyFloat::new(py, f32::from_bits(s as u32) as f64).into_any(),
        ValType::F64 => PyFloat::new(py, f64::from_bits(s)).into_any(),
        ValType::V128 => ((s as u128) | ((slots[at + 1] as u128) << 64)).into_pyobject(py)?.into_any(),
        ValType::FuncRef | ValType::ExternRef => {
            let v = ctx.store.decode_slots(ty, &slots[at..]);
            convert::from_val(py, &v, ctx)?
        }
    })
}

fn arity_error(py: Python<'_>, name: &str, expected: usize, given: usize) -> PyErr {
    type_err(
        py,
        format!("'{}' takes {} argument{} ({} given)", name, expected, if expected == 1 { "" } else { "s" }, given),
    )
}

// ---------------------------------------------------------------------------------------------
// Function

pub(crate) struct FuncState {
    pub owner: Owner,
    pub func: crate::Func,
}

/// A WebAssembly function (exported by a module, a host function, or a funcref value).
///
/// Call it like a Python function: `f(1, 2)` returns `None` (no results), the single result,
/// or a tuple of results. `f.type` is its `FuncType`.
#[pyclass(frozen, module = "wazero")]
pub struct Function {
    pub(crate) state: ThreadBound<FuncState>,
    pub(crate) sig: Sig,
    /// Name for error messages: the export name, `module.name` of an import, or "funcref".
    pub(crate) name: Py<PyString>,
    /// Read by CPython through `tp_vectorcall_offset` (see [`Function::into_py`]).
    vectorcall: pyo3::ffi::vectorcallfunc,
}

impl Function {
    /// Wraps `func` of the store of `shared`. `alive` is the owning module's open flag.
    pub(crate) fn new(
        py: Python<'_>,
        store: &Store,
        shared: &Rc<Shared>,
        alive: Option<Rc<std::cell::Cell<bool>>>,
        func: crate::Func,
        name: Py<PyString>,
    ) -> PyResult<Function> {
        let ty = func.ty(store).map_err(|e| map_error(py, e, Site::Instantiate))?;
        Ok(Function {
            state: ThreadBound::new(FuncState { owner: Owner { shared: Rc::clone(shared), alive }, func }),
            sig: Sig::new(ty),
            name,
            vectorcall: function_vectorcall,
        })
    }

    /// Moves `f` into a Python object. The first time, also makes `Function` a vectorcall
    /// type: CPython then calls [`function_vectorcall`] with the arguments in an array,
    /// instead of packing them into a tuple for PyO3's `__call__` (kept for `tp_call`).
    pub(crate) fn into_py(py: Python<'_>, f: Function) -> PyResult<Bound<'_, Function>> {
        static ENABLED: AtomicBool = AtomicBool::new(false);
        let obj = Bound::new(py, f)?;
        if !ENABLED.load(Relaxed) {
            let offset = (&obj.get().vectorcall as *const pyo3::ffi::vectorcallfunc as usize) - obj.as_ptr() as usize;
            // SAFETY: we hold the GIL; `Function`'s type object is a live heap type whose
            // instances all have the same layout, so `offset` (measured on one of them) locates
            // the `vectorcall` field, which every instance sets. Setting the flag with the
            // offset is how a type opts into vectorcall; PyO3's `tp_call` stays consistent.
            unsafe {
                let tp = pyo3::ffi::Py_TYPE(obj.as_ptr());
                (*tp).tp_vectorcall_offset = offset as pyo3::ffi::Py_ssize_t;
                (*tp).tp_flags |= pyo3::ffi::Py_TPFLAGS_HAVE_VECTORCALL;
            }
            ENABLED.store(true, Relaxed);
        }
        Ok(obj)
    }

    /// This function as a funcref value for the store in `ctx`.
    pub(crate) fn as_funcref(&self, py: Python<'_>, ctx: &Ctx<'_>, what: What<'_>) -> PyResult<Val> {
        let st = self.state.get(py, "function")?;
        if !Rc::ptr_eq(&st.owner.shared, ctx.shared) {
            return Err(type_err(py, format!("{}: the function belongs to another runtime", what())));
        }
        Ok(Val::FuncRef(Some(st.func)))
    }

    /// Calls the function with `args` (and a deadline `timeout` from now, overriding the
    /// runtime's); `finish` gets the number of results and a getter.
    #[inline]
    pub(crate) fn call_with<'py, R>(
        &self,
        py: Python<'py>,
        args: &[Bound<'py, PyAny>],
        timeout: Option<std::time::Duration>,
        finish: impl FnOnce(usize, &mut dyn FnMut(usize) -> PyResult<Bound<'py, PyAny>>) -> PyResult<R>,
    ) -> PyResult<R> {
        let st = self.state.get(py, "function")?;
        let sig = &self.sig;
        let n = args.len();
        if n != sig.ty.params.len() {
            return Err(arity_error(py, &self.name.bind(py).to_cow()?, sig.ty.params.len(), n));
        }
        // `Owner::with_store`, inlined: the hot path avoids nested results.
        if st.owner.alive.as_ref().is_some_and(|a| !a.get()) {
            return Err(super::module_closed(py));
        }
        let shared = &st.owner.shared;
        let store_ref = shared.store.try_borrow().map_err(|_| err(py, "runtime is busy"))?;
        let Some(store) = store_ref.as_ref() else { return Err(super::runtime_closed(py)) };
        {
            let ctx = Ctx { store, shared };
            let mut inline = [0u64; INLINE_SLOTS];
            let mut heap;
            let slots: &mut [u64] = if sig.area <= INLINE_SLOTS {
                &mut inline[..sig.area]
            } else {
                heap = vec![0u64; sig.area];
                &mut heap
            };
            for i in 0..n {
                let arg = &args[i];
                let what = || format!("argument {} of '{}'", i + 1, self.name.bind(py).to_string_lossy());
                convert::to_slots(arg, sig.ty.params[i], &what, &ctx, slots, sig.param_slots[i])?;
            }
            let func = st.func;
            let area = &mut *slots;
            // SAFETY: `slots` is the function's argument area (`abi::arg_area_slots`) with every
            // argument encoded for its declared type; references were checked to belong to
            // this store by `convert::to_val`.
            let r = run_wasm(py, store, shared, timeout, || unsafe { func.call_raw(store, area) });
            match r {
                Ok(()) => {
                    let slots = &*slots;
                    let mut get = |j: usize| decode(py, sig.ty.results[j], slots, sig.result_slots[j], &ctx);
                    finish(sig.ty.results.len(), &mut get)
                }
                Err(e) => Err(self.call_error(py, e)),
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn call_error(&self, py: Python<'_>, e: Error) -> PyErr {
        match self.name.bind(py).to_cow() {
            Ok(n) => map_error(py, e, Site::Export(&n)),
            Err(e) => e,
        }
    }
}

#[pymethods]
impl Function {
    /// Calls the function: returns `None`, the single result, or a tuple of results.
    /// `timeout` (seconds) overrides the runtime's deadline for this call.
    #[pyo3(signature = (*args, timeout = None))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let timeout = parse_timeout(py, timeout)?;
        self.call_with(py, args.as_slice(), timeout, |n, get| match n {
            0 => Ok(py.None().into_bound(py)),
            1 => get(0),
            _ => {
                let items = (0..n).map(get).collect::<PyResult<Vec<_>>>()?;
                Ok(PyTuple::new(py, items)?.into_any())
            }
        })
    }

    /// The function's type (`FuncType`).
    #[getter]
    fn r#type(&self) -> FuncType {
        FuncType { ty: self.sig.ty.clone() }
    }

    /// Two `Function`s are equal when they are the same function of the same runtime
    /// (e.g. a table element and the export it was set from).
    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(o) = other.cast::<Function>() else { return Ok(false) };
        let (a, b) = (self.state.get(py, "function")?, o.get().state.get(py, "function")?);
        Ok(Rc::ptr_eq(&a.owner.shared, &b.owner.shared) && a.func == b.func)
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<u64> {
        use std::hash::{Hash, Hasher};
        let st = self.state.get(py, "function")?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        st.func.hash(&mut h);
        Ok(h.finish())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("<wazero.Function '{}': {}>", self.name.bind(py).to_string_lossy(), FuncType::text(&self.sig.ty))
    }
}

/// The value of the keyword arguments of a call (only `timeout` exists), from a vectorcall's
/// `kwnames` and the values after the positional arguments. `fname` names the callee.
pub(crate) fn call_kwargs(
    py: Python<'_>,
    kwnames: Option<&Bound<'_, PyAny>>,
    kwvalues: &[Bound<'_, PyAny>],
    fname: &str,
) -> PyResult<Option<std::time::Duration>> {
    let mut timeout = None;
    if let Some(k) = kwnames {
        for (name, value) in k.cast::<PyTuple>()?.iter().zip(kwvalues) {
            if name.cast::<PyString>().is_ok_and(|n| n.to_cow().is_ok_and(|n| n == "timeout")) {
                timeout = parse_timeout(py, value.extract::<Option<f64>>()?)?;
            } else {
                return Err(type_err(py, format!("{fname}() got an unexpected keyword argument {}", name.repr()?)));
            }
        }
    }
    Ok(timeout)
}

/// Runs `body` for a raw CPython entry point: PyO3 errors are restored as the Python error
/// and panics become `PanicException` (`what` names the entry in the message).
pub(crate) fn raw_entry<'py>(
    py: Python<'py>,
    what: &str,
    body: impl FnOnce() -> PyResult<Bound<'py, PyAny>>,
) -> *mut pyo3::ffi::PyObject {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v.into_ptr(),
        Ok(Err(e)) => {
            e.restore(py);
            std::ptr::null_mut()
        }
        Err(_) => {
            pyo3::panic::PanicException::new_err(format!("panic in {what}")).restore(py);
            std::ptr::null_mut()
        }
    }
}

/// Borrows a vectorcall's arguments: (positional, keyword values, keyword names).
///
/// # Safety
/// The pointers must be those CPython passes to a vectorcall or METH_FASTCALL function,
/// valid for `'py` (the duration of the call).
pub(crate) unsafe fn vectorcall_args<'a, 'py>(
    py: Python<'py>,
    args: *const *mut pyo3::ffi::PyObject,
    nargs: usize,
    kwnames: *mut pyo3::ffi::PyObject,
) -> PyResult<(&'a [Bound<'py, PyAny>], &'a [Bound<'py, PyAny>], Option<Bound<'py, PyAny>>)> {
    // SAFETY: `kwnames` is NULL or a borrowed tuple of keyword names (caller's contract).
    let kwnames = unsafe { Bound::<PyAny>::from_borrowed_ptr_or_opt(py, kwnames) };
    let nkw = match &kwnames {
        Some(k) => k.cast::<PyTuple>()?.len(),
        None => 0,
    };
    if nargs + nkw == 0 {
        return Ok((&[], &[], kwnames));
    }
    // SAFETY: `args` holds `nargs` positional then `nkw` keyword-value borrowed references,
    // valid for the call, and `Bound<PyAny>` has the layout of `*mut PyObject` (as in PyO3's
    // `PyTuple::as_slice`).
    let all = unsafe { std::slice::from_raw_parts(args.cast::<Bound<'py, PyAny>>(), nargs + nkw) };
    Ok((&all[..nargs], &all[nargs..], kwnames))
}

/// `Function.__call__` for CPython's vectorcall protocol (see [`Function::into_py`]).
unsafe extern "C" fn function_vectorcall(
    callable: *mut pyo3::ffi::PyObject,
    args: *const *mut pyo3::ffi::PyObject,
    nargsf: usize,
    kwnames: *mut pyo3::ffi::PyObject,
) -> *mut pyo3::ffi::PyObject {
    // SAFETY: CPython makes vectorcalls with the GIL held.
    let py = unsafe { Python::assume_attached() };
    raw_entry(py, "Function.__call__", || {
        // SAFETY: CPython's vectorcall arguments; the flag bit is masked off the count.
        let (pos, kwvalues, kwnames) =
            unsafe { vectorcall_args(py, args, pyo3::ffi::PyVectorcall_NARGS(nargsf) as usize, kwnames)? };
        // SAFETY: CPython only calls this through `tp_vectorcall_offset` of `Function`'s type,
        // so `callable` is a live `Function`, borrowed for the call.
        let f = unsafe { Bound::<PyAny>::from_borrowed_ptr(py, callable) };
        let f = f.cast::<Function>()?;
        let timeout = if kwnames.is_some() { call_kwargs(py, kwnames.as_ref(), kwvalues, "__call__")? } else { None };
        f.get().call_with(py, pos, timeout, |n, get| match n {
            0 => Ok(py.None().into_bound(py)),
            1 => get(0),
            _ => {
                let items = (0..n).map(get).collect::<PyResult<Vec<_>>>()?;
                Ok(PyTuple::new(py, items)?.into_any())
            }
        })
    })
}

/// `Module.call`: results as a list.
pub(crate) fn call_list<'py>(
    f: &Function,
    py: Python<'py>,
    args: &[Bound<'py, PyAny>],
    timeout: Option<std::time::Duration>,
) -> PyResult<Bound<'py, PyList>> {
    f.call_with(py, args, timeout, |n, get| match n {
        0 => Ok(PyList::empty(py)),
        1 => PyList::new(py, [get(0)?]),
        _ => {
            let items = (0..n).map(get).collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Func: a Python callable with an explicit signature

/// A Python callable with an explicit WebAssembly signature, to use as a host function where
/// the type cannot be taken from an import declaration (or to insist on one).
///
/// `Func(fn, params=["i32"], results=["i64"])`; calling the `Func` calls `fn`.
#[pyclass(frozen, module = "wazero")]
pub struct Func {
    pub(crate) callable: Py<PyAny>,
    pub(crate) ty: crate::FuncType,
}

impl Func {
    /// Registers the callable as a host function in the store of `ctx`.
    pub(crate) fn instantiate(&self, py: Python<'_>, ctx: &Ctx<'_>, name: Option<String>) -> PyResult<crate::Func> {
        let name = name.unwrap_or_else(|| {
            self.callable
                .bind(py)
                .getattr("__qualname__")
                .and_then(|n| n.extract::<String>())
                .unwrap_or_else(|_| "host function".into())
        });
        Ok(new_host_func(ctx.store, ctx.shared, self.callable.clone_ref(py), self.ty.clone(), name))
    }
}

#[pymethods]
impl Func {
    #[new]
    #[pyo3(signature = (func, params = Vec::new(), results = Vec::new()))]
    fn py_new(py: Python<'_>, func: Bound<'_, PyAny>, params: Vec<String>, results: Vec<String>) -> PyResult<Self> {
        if !func.is_callable() {
            return Err(type_err(py, "Func() needs a callable"));
        }
        let ty = crate::FuncType::new(parse_valtypes(py, &params)?, parse_valtypes(py, &results)?);
        Ok(Func { callable: func.unbind(), ty })
    }

    /// The wrapped Python callable.
    #[getter]
    fn func(&self, py: Python<'_>) -> Py<PyAny> {
        self.callable.clone_ref(py)
    }

    /// The declared type (`FuncType`).
    #[getter]
    fn r#type(&self) -> FuncType {
        FuncType { ty: self.ty.clone() }
    }

    /// Calls the wrapped callable directly (no conversion).
    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, pyo3::types::PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.callable.bind(py).call(args, kwargs)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let r = self.callable.bind(py).repr().map(|s| s.to_string()).unwrap_or_default();
        format!("wazero.Func({r}, {})", FuncType::text(&self.ty))
    }
}

// ---------------------------------------------------------------------------------------------
// Host functions

/// What a host function's trampoline needs besides the store.
struct HostData {
    callable: Py<PyAny>,
    sig: Sig,
    /// `module.name` of the import (or the callable's name) for error messages.
    name: String,
    /// For reference conversions; weak because the store (inside `Shared`) owns us.
    shared: Weak<Shared>,
}

/// A trap raised for a host function's bad result (naming the import).
fn result_trap(py: Python<'_>, msg: String) -> PyErr {
    match trap_error(py).and_then(|c| c.call1((msg, "host_error", py.None()))) {
        Ok(inst) => PyErr::from_value(inst),
        Err(e) => e,
    }
}

/// Creates a host function of type `ty` in `store` that calls `callable`.
pub(crate) fn new_host_func(
    store: &Store,
    shared: &Rc<Shared>,
    callable: Py<PyAny>,
    ty: crate::FuncType,
    name: String,
) -> crate::Func {
    let data = HostData { callable, sig: Sig::new(ty.clone()), name, shared: Rc::downgrade(shared) };
    crate::Func::new_host_raw(store, ty, move |store, slots| {
        // A long Wasm call may have released the GIL (`control`): take it back if so.
        with_gil(|py| host_call(py, store, &data, slots).map_err(|e| Error::Host(Box::new(e))))
    })
}

fn host_call(py: Python<'_>, store: &Store, data: &HostData, slots: &mut [u64]) -> PyResult<()> {
    let shared = match data.shared.upgrade() {
        Some(s) => s,
        None => return Err(err(py, "runtime is closed")),
    };
    let ctx = Ctx { store, shared: &shared };
    let ret = if data.sig.numeric && data.sig.ty.params.len() <= VECTORCALL_ARGS {
        call_numeric(py, data, slots, &ctx)?
    } else {
        call_tuple(py, data, slots, &ctx)?
    };
    host_results(py, data, slots, &ctx, ret)
}

/// Numeric host-function parameters are passed without a tuple, on a stack array, up to
/// this many.
const VECTORCALL_ARGS: usize = 8;

/// Calls the host function with numeric parameters through `PyObject_Vectorcall`.
fn call_numeric<'py>(py: Python<'py>, data: &HostData, slots: &[u64], ctx: &Ctx<'_>) -> PyResult<Bound<'py, PyAny>> {
    let sig = &data.sig;
    let np = sig.ty.params.len();
    // Owned references to the arguments; `ptrs[0]` stays free for PY_VECTORCALL_ARGUMENTS_OFFSET.
    let mut owned: [Option<Bound<'py, PyAny>>; VECTORCALL_ARGS] = Default::default();
    let mut ptrs = [std::ptr::null_mut::<pyo3::ffi::PyObject>(); VECTORCALL_ARGS + 1];
    for i in 0..np {
        let v = decode(py, sig.ty.params[i], slots, sig.param_slots[i], ctx)?;
        ptrs[i + 1] = v.as_ptr();
        owned[i] = Some(v);
    }
    // SAFETY: we hold the GIL; `ptrs[1..=np]` are live references kept by `owned` for the
    // call, and `ptrs[0]` may be clobbered by the callee (the ARGUMENTS_OFFSET contract); the
    // result is a new reference, or NULL with an exception set.
    unsafe {
        let r = pyo3::ffi::PyObject_Vectorcall(
            data.callable.as_ptr(),
            ptrs.as_mut_ptr().add(1),
            np | pyo3::ffi::PY_VECTORCALL_ARGUMENTS_OFFSET,
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, r)
    }
}

/// Calls the host function with its parameters in a tuple (references, or many parameters).
fn call_tuple<'py>(py: Python<'py>, data: &HostData, slots: &[u64], ctx: &Ctx<'_>) -> PyResult<Bound<'py, PyAny>> {
    let sig = &data.sig;
    let items = (0..sig.ty.params.len())
        .map(|i| decode(py, sig.ty.params[i], slots, sig.param_slots[i], ctx))
        .collect::<PyResult<Vec<_>>>()?;
    data.callable.bind(py).call1(PyTuple::new(py, items)?)
}

/// Stores the host function's return value `ret` into the result slots.
fn host_results(py: Python<'_>, data: &HostData, slots: &mut [u64], ctx: &Ctx<'_>, ret: Bound<'_, PyAny>) -> PyResult<()> {
    let sig = &data.sig;
    let results = &sig.ty.results;
    let set = |slots: &mut [u64], j: usize, obj: &Bound<'_, PyAny>| -> PyResult<()> {
        let what = || format!("result {} of host function '{}'", j + 1, data.name);
        convert::to_slots(obj, results[j], &what, ctx, slots, sig.result_slots[j])
            .map_err(|e| result_trap(py, e.value(py).to_string()))
    };
    let want = || {
        if results.is_empty() {
            "no results".to_string()
        } else {
            let names: Vec<_> = results.iter().map(|t| t.name()).collect();
            format!("{} result{} ({})", results.len(), if results.len() == 1 { "" } else { "s" }, names.join(" "))
        }
    };
    match results.len() {
        0 => {
            if !ret.is_none() {
                let tn = ret.get_type().name().map(|n| n.to_string()).unwrap_or_default();
                return Err(result_trap(
                    py,
                    format!("host function '{}' returned a {tn}, expected {} (return None)", data.name, want()),
                ));
            }
        }
        1 => set(slots, 0, &ret)?,
        n => {
            let items: Vec<Bound<'_, PyAny>> = if let Ok(t) = ret.cast::<PyTuple>() {
                t.iter().collect()
            } else if let Ok(l) = ret.cast::<PyList>() {
                l.iter().collect()
            } else {
                let tn = ret.get_type().name().map(|n| n.to_string()).unwrap_or_default();
                return Err(result_trap(
                    py,
                    format!("host function '{}' returned a {tn}, expected a tuple of {}", data.name, want()),
                ));
            };
            if items.len() != n {
                return Err(result_trap(
                    py,
                    format!("host function '{}' returned {} values, expected {}", data.name, items.len(), want()),
                ));
            }
            for (j, obj) in items.iter().enumerate() {
                set(slots, j, obj)?;
            }
        }
    }
    Ok(())
}
