//! Python <-> Wasm value conversion (the hot path of `Module.call`).

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};

use super::errors::{err, overflow_err, type_err};
use crate::types::{Val, ValType};

/// Describes argument `index` (0-based) of export `name` for error messages.
fn arg_desc(name: &Bound<'_, PyString>, index: usize, ty: ValType) -> String {
    format!("argument {} of '{}' ({})", index + 1, name.to_string_lossy(), ty.name())
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// Extracts an integer for an integer parameter: `int` (not `bool`), or an object with
/// `__index__` (e.g. NumPy integers). `float` is rejected.
fn as_int<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
    index: usize,
    ty: ValType,
) -> PyResult<Bound<'py, PyInt>> {
    let py = obj.py();
    if let Ok(i) = obj.cast_exact::<PyInt>() {
        return Ok(i.clone());
    }
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyFloat>() {
        return Err(type_err(
            py,
            format!("{}: expected int, got {}", arg_desc(name, index, ty), type_name(obj)),
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
            format!("{}: expected int, got {}", arg_desc(name, index, ty), type_name(obj)),
        )),
        Err(e) => Err(e),
    }
}

fn out_of_range(py: Python<'_>, name: &Bound<'_, PyString>, index: usize, ty: ValType, v: &Bound<'_, PyAny>) -> PyErr {
    let range = match ty {
        ValType::I32 => "[-2**31, 2**32-1]",
        ValType::I64 => "[-2**63, 2**64-1]",
        ValType::V128 => "[-2**127, 2**128-1]",
        _ => "range",
    };
    let shown = v.str().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    overflow_err(py, format!("{}: {} out of range {}", arg_desc(name, index, ty), shown, range))
}

fn as_float(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyString>, index: usize, ty: ValType) -> PyResult<f64> {
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return Ok(f.value());
    }
    let py = obj.py();
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyString>() {
        return Err(type_err(
            py,
            format!("{}: expected float or int, got {}", arg_desc(name, index, ty), type_name(obj)),
        ));
    }
    match obj.extract::<f64>() {
        Ok(v) => Ok(v),
        Err(e) if e.is_instance_of::<PyOverflowError>(py) => Err(overflow_err(
            py,
            format!("{}: int too large to convert to float", arg_desc(name, index, ty)),
        )),
        Err(e) if e.is_instance_of::<PyTypeError>(py) => Err(type_err(
            py,
            format!("{}: expected float or int, got {}", arg_desc(name, index, ty), type_name(obj)),
        )),
        Err(e) => Err(e),
    }
}

/// Converts argument `index` of export `name` to a Wasm value of type `ty`.
///
/// - i32: `-2**31 ..= 2**32-1` (values >= 2**31 wrap to the same bit pattern);
/// - i64: `-2**63 ..= 2**64-1` (likewise);
/// - f32/f64: `float` or `int` (f32 rounds to nearest-even; too large finite values become ±inf);
/// - v128: int in `-2**127 ..= 2**128-1`;
/// - funcref/externref: only `None` (null) here; `refs::to_val` handles non-null references.
#[inline]
pub(crate) fn to_val(
    obj: &Bound<'_, PyAny>,
    ty: ValType,
    name: &Bound<'_, PyString>,
    index: usize,
) -> PyResult<Val> {
    let py = obj.py();
    match ty {
        ValType::I32 => {
            let i = as_int(obj, name, index, ty)?;
            match i.extract::<i64>() {
                Ok(v) if (-(1i64 << 31)..=(1i64 << 32) - 1).contains(&v) => Ok(Val::I32(v as u32 as i32)),
                Ok(_) => Err(out_of_range(py, name, index, ty, obj)),
                Err(e) if e.is_instance_of::<PyOverflowError>(py) => Err(out_of_range(py, name, index, ty, obj)),
                Err(e) => Err(e),
            }
        }
        ValType::I64 => {
            let i = as_int(obj, name, index, ty)?;
            match i.extract::<i64>() {
                Ok(v) => Ok(Val::I64(v)),
                Err(e) if e.is_instance_of::<PyOverflowError>(py) => match i.extract::<u64>() {
                    Ok(v) => Ok(Val::I64(v as i64)),
                    Err(_) => Err(out_of_range(py, name, index, ty, obj)),
                },
                Err(e) => Err(e),
            }
        }
        ValType::F32 => Ok(Val::F32((as_float(obj, name, index, ty)? as f32).to_bits())),
        ValType::F64 => Ok(Val::F64(as_float(obj, name, index, ty)?.to_bits())),
        ValType::V128 => {
            let i = as_int(obj, name, index, ty)?;
            match i.extract::<u128>() {
                Ok(v) => Ok(Val::V128(v)),
                Err(_) => match i.extract::<i128>() {
                    Ok(v) => Ok(Val::V128(v as u128)),
                    Err(_) => Err(out_of_range(py, name, index, ty, obj)),
                },
            }
        }
        ValType::FuncRef | ValType::ExternRef => {
            if obj.is_none() {
                Ok(Val::default_for(ty))
            } else {
                Err(type_err(
                    py,
                    format!(
                        "{}: only None (a null reference) is supported, got {}",
                        arg_desc(name, index, ty),
                        type_name(obj)
                    ),
                ))
            }
        }
    }
}

/// Converts a Wasm result to Python: integers are signed, floats exact (f64 bits preserved).
#[inline]
pub(crate) fn from_val<'py>(py: Python<'py>, v: &Val) -> PyResult<Bound<'py, PyAny>> {
    Ok(match *v {
        Val::I32(x) => x.into_pyobject(py)?.into_any(),
        Val::I64(x) => x.into_pyobject(py)?.into_any(),
        Val::F32(b) => PyFloat::new(py, f32::from_bits(b) as f64).into_any(),
        Val::F64(b) => PyFloat::new(py, f64::from_bits(b)).into_any(),
        Val::V128(x) => x.into_pyobject(py)?.into_any(),
        Val::FuncRef(None) | Val::ExternRef(None) => py.None().into_bound(py),
        Val::FuncRef(Some(_)) => return Err(err(py, "returning a non-null funcref to Python is not supported yet")),
        Val::ExternRef(Some(_)) => {
            return Err(err(py, "returning a non-null externref to Python is not supported yet"))
        }
    })
}
