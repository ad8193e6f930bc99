//! Python <-> Wasm value conversion (the hot path of `Module.call`).

use std::rc::Rc;

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};

use super::errors::{err, overflow_err, type_err};
use super::Shared;
use crate::runtime::store::Store;
use crate::types::{Val, ValType};

/// Describes the value being converted for error messages ("argument 1 of 'add'"); only
/// called when there is an error, so the hot path never formats anything.
pub(crate) type What<'a> = &'a dyn Fn() -> String;

/// What reference conversions need: the store (funcrefs) and the runtime (externrefs).
pub(crate) struct Ctx<'a> {
    pub store: &'a Store,
    pub shared: &'a Rc<Shared>,
}

fn desc(what: What<'_>, ty: ValType) -> String {
    format!("{} ({})", what(), ty.name())
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// Extracts an integer for an integer parameter: `int` (not `bool`), or an object with
/// `__index__` (e.g. NumPy integers). `float` is rejected.
fn as_int<'py>(
    obj: &Bound<'py, PyAny>,
    what: What<'_>,
    ty: ValType,
) -> PyResult<Bound<'py, PyInt>> {
    let py = obj.py();
    if let Ok(i) = obj.cast_exact::<PyInt>() {
        return Ok(i.clone());
    }
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyFloat>() {
        return Err(type_err(
            py,
            format!("{}: expected int, got {}", desc(what, ty), type_name(obj)),
        ));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        return Ok(i.clone());
    }
    // SAFETY: PyNumber_Index returns a new reference or NULL with an exception set.
    let idx = unsafe {
        Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyNumber_Index(obj.as_ptr()))
    };
    match idx {
        Ok(i) => Ok(i.cast_into::<PyInt>().map_err(PyErr::from)?),
        Err(e) if e.is_instance_of::<PyTypeError>(py) => Err(type_err(
            py,
            format!("{}: expected int, got {}", desc(what, ty), type_name(obj)),
        )),
        Err(e) => Err(e),
    }
}

fn out_of_range(py: Python<'_>, what: What<'_>, ty: ValType, v: &Bound<'_, PyAny>) -> PyErr {
    let range = match ty {
        ValType::I32 => "[-2**31, 2**32-1]",
        ValType::I64 => "[-2**63, 2**64-1]",
        ValType::V128 => "[-2**127, 2**128-1]",
        _ => "range",
    };
    let shown = v.str().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    overflow_err(py, format!("{}: {} out of range {}", desc(what, ty), shown, range))
}

fn as_float(obj: &Bound<'_, PyAny>, what: What<'_>, ty: ValType) -> PyResult<f64> {
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return Ok(f.value());
    }
    let py = obj.py();
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyString>() {
        return Err(type_err(
            py,
            format!("{}: expected float or int, got {}", desc(what, ty), type_name(obj)),
        ));
    }
    match obj.extract::<f64>() {
        Ok(v) => Ok(v),
        Err(e) if e.is_instance_of::<PyOverflowError>(py) => Err(overflow_err(
            py,
            format!("{}: int too large to convert to float", desc(what, ty)),
        )),
        Err(e) if e.is_instance_of::<PyTypeError>(py) => Err(type_err(
            py,
            format!("{}: expected float or int, got {}", desc(what, ty), type_name(obj)),
        )),
        Err(e) => Err(e),
    }
}

/// Converts a Python value to a Wasm value of type `ty` (`what` names it in errors).
///
/// - i32: `-2**31 ..= 2**32-1` (values >= 2**31 wrap to the same bit pattern);
/// - i64: `-2**63 ..= 2**64-1` (likewise);
/// - f32/f64: `float` or `int` (f32 rounds to nearest-even; too large finite values become ±inf);
/// - v128: int in `-2**127 ..= 2**128-1`;
/// - funcref: `None` (null) or a `wazero.Function` of the same runtime (or a `wazero.Func`,
///   which becomes a new host function), externref: any object (`None` is null).
#[inline]
pub(crate) fn to_val(obj: &Bound<'_, PyAny>, ty: ValType, what: What<'_>, ctx: &Ctx<'_>) -> PyResult<Val> {
    let py = obj.py();
    match ty {
        ValType::I32 => {
            let i = as_int(obj, what, ty)?;
            match i.extract::<i64>() {
                Ok(v) if (-(1i64 << 31)..=(1i64 << 32) - 1).contains(&v) => Ok(Val::I32(v as u32 as i32)),
                Ok(_) => Err(out_of_range(py, what, ty, obj)),
                Err(e) if e.is_instance_of::<PyOverflowError>(py) => Err(out_of_range(py, what, ty, obj)),
                Err(e) => Err(e),
            }
        }
        ValType::I64 => {
            let i = as_int(obj, what, ty)?;
            match i.extract::<i64>() {
                Ok(v) => Ok(Val::I64(v)),
                Err(e) if e.is_instance_of::<PyOverflowError>(py) => match i.extract::<u64>() {
                    Ok(v) => Ok(Val::I64(v as i64)),
                    Err(_) => Err(out_of_range(py, what, ty, obj)),
                },
                Err(e) => Err(e),
            }
        }
        ValType::F32 => Ok(Val::F32((as_float(obj, what, ty)? as f32).to_bits())),
        ValType::F64 => Ok(Val::F64(as_float(obj, what, ty)?.to_bits())),
        ValType::V128 => {
            let i = as_int(obj, what, ty)?;
            match i.extract::<u128>() {
                Ok(v) => Ok(Val::V128(v)),
                Err(_) => match i.extract::<i128>() {
                    Ok(v) => Ok(Val::V128(v as u128)),
                    Err(_) => Err(out_of_range(py, what, ty, obj)),
                },
            }
        }
        ValType::FuncRef => {
            if obj.is_none() {
                return Ok(Val::FuncRef(None));
            }
            if let Ok(f) = obj.cast::<super::func::Function>() {
                return f.get().as_funcref(py, ctx, what);
            }
            if let Ok(f) = obj.cast::<super::func::Func>() {
                return Ok(Val::FuncRef(Some(f.get().instantiate(py, ctx, None)?)));
            }
            Err(type_err(
                py,
                format!(
                    "{}: expected wazero.Function, wazero.Func or None, got {}",
                    desc(what, ty),
                    type_name(obj)
                ),
            ))
        }
        ValType::ExternRef => {
            if obj.is_none() {
                Ok(Val::ExternRef(None))
            } else {
                Ok(Val::ExternRef(Some(ctx.shared.intern_extern(obj))))
            }
        }
    }
}

/// Converts a Python value of type `ty` straight into argument-area slots at `at` (the call
/// hot path: numeric values never go through `Val`). References go through the store.
#[inline]
pub(crate) fn to_slots(
    obj: &Bound<'_, PyAny>,
    ty: ValType,
    what: What<'_>,
    ctx: &Ctx<'_>,
    slots: &mut [u64],
    at: usize,
) -> PyResult<()> {
    let py = obj.py();
    match ty {
        ValType::I32 => {
            let v = if let Ok(i) = obj.cast_exact::<PyInt>() {
                // SAFETY: `i` is an exact int; PyLong_AsLongLong returns -1 with an exception
                // set on overflow, which `extract_i64` reports.
                let x = unsafe { pyo3::ffi::PyLong_AsLongLong(i.as_ptr()) };
                if x == -1 && PyErr::occurred(py) {
                    drop(PyErr::fetch(py));
                    return Err(out_of_range(py, what, ty, obj));
                }
                x
            } else {
                match as_int(obj, what, ty)?.extract::<i64>() {
                    Ok(v) => v,
                    Err(e) if e.is_instance_of::<PyOverflowError>(py) => return Err(out_of_range(py, what, ty, obj)),
                    Err(e) => return Err(e),
                }
            };
            if !(-(1i64 << 31)..=(1i64 << 32) - 1).contains(&v) {
                return Err(out_of_range(py, what, ty, obj));
            }
            slots[at] = v as u32 as u64;
        }
        ValType::F64 => slots[at] = as_float(obj, what, ty)?.to_bits(),
        ValType::F32 => slots[at] = (as_float(obj, what, ty)? as f32).to_bits() as u64,
        _ => match to_val(obj, ty, what, ctx)? {
            Val::I64(x) => slots[at] = x as u64,
            Val::V128(x) => {
                slots[at] = x as u64;
                slots[at + 1] = (x >> 64) as u64;
            }
            v => ctx.store.encode_slots(&v, &mut slots[at..]).map_err(|e| err(py, e.to_string()))?,
        },
    }
    Ok(())
}

/// Converts a Wasm value to Python: integers are signed, floats exact (f64 bits preserved),
/// v128 an unsigned int, funcref a `wazero.Function` (or `None`), externref the very object
/// that was passed in (or `None`).
#[inline]
pub(crate) fn from_val<'py>(py: Python<'py>, v: &Val, ctx: &Ctx<'_>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match *v {
        Val::I32(x) => x.into_pyobject(py)?.into_any(),
        Val::I64(x) => x.into_pyobject(py)?.into_any(),
        Val::F32(b) => PyFloat::new(py, f32::from_bits(b) as f64).into_any(),
        Val::F64(b) => PyFloat::new(py, f64::from_bits(b)).into_any(),
        Val::V128(x) => x.into_pyobject(py)?.into_any(),
        Val::FuncRef(None) | Val::ExternRef(None) => py.None().into_bound(py),
        Val::FuncRef(Some(f)) => {
            let name = PyString::new(py, "funcref");
            super::func::Function::into_py(py, super::func::Function::new(py, ctx.store, ctx.shared, None, f, name.unbind())?)?.into_any()
        }
        Val::ExternRef(Some(h)) => match ctx.shared.extern_object(py, h) {
            Some(obj) => obj,
            None => return Err(err(py, format!("unknown externref handle {h}"))),
        },
    })
}
