//! Mapping `wazero::Error` to the Python exception hierarchy.
//!
//! The classes themselves are defined in Python (`wazero/_errors.py`) because the
//! hierarchy needs multiple inheritance (`WazeroTypeError(WazeroError, TypeError)`), which
//! `create_exception!` cannot express. They are imported once and cached.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::error::Error;

const ERRORS_MODULE: &str = "wazero._errors";

macro_rules! exc_class {
    ($fn_name:ident, $py_name:literal) => {
        pub(crate) fn $fn_name(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
            static CELL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
            CELL.import(py, ERRORS_MODULE, $py_name)
        }
    };
}

exc_class!(wazero_error, "WazeroError");
exc_class!(compile_error, "CompileError");
exc_class!(link_error, "LinkError");
exc_class!(trap_error, "Trap");
exc_class!(type_error, "WazeroTypeError");
exc_class!(overflow_error, "WazeroOverflowError");
exc_class!(wasi_exit_error, "WasiExit");
exc_class!(index_error, "WazeroIndexError");
exc_class!(deserialize_error, "DeserializeError");

/// Instantiates exception class `cls` with `args` and turns it into a `PyErr`.
fn make<'py, A>(_py: Python<'py>, cls: PyResult<&Bound<'py, PyType>>, args: A) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    match cls.and_then(|c| c.call1(args)) {
        Ok(inst) => PyErr::from_value(inst),
        Err(e) => e,
    }
}

/// A plain `wazero.WazeroError`.
pub(crate) fn err(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    make(py, wazero_error(py), (msg.into(),))
}

/// A `wazero.WazeroTypeError` (also a `TypeError`).
pub(crate) fn type_err(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    make(py, type_error(py), (msg.into(),))
}

/// A `wazero.WazeroOverflowError` (also an `OverflowError`).
pub(crate) fn overflow_err(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    make(py, overflow_error(py), (msg.into(),))
}

/// A `wazero.WazeroIndexError` (also an `IndexError`).
pub(crate) fn index_err(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    make(py, index_error(py), (msg.into(),))
}

/// A `wazero.DeserializeError`.
pub(crate) fn deserialize_err(py: Python<'_>, msg: String) -> PyErr {
    make(py, deserialize_error(py), (msg,))
}

/// A `wazero.LinkError`.
pub(crate) fn link_err(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    make(py, link_error(py), (msg.into(),))
}

/// A `wazero.CompileError`.
/// `limit` names the `wazero.Limits` field exceeded, if that is the problem.
pub(crate) fn compile_err(py: Python<'_>, msg: String, offset: Option<usize>, limit: Option<String>) -> PyErr {
    make(py, compile_error(py), (msg, offset, limit))
}

/// Where an error happened, for trap messages.
#[derive(Copy, Clone)]
pub(crate) enum Site<'a> {
    /// Calling the named export.
    Export(&'a str),
    /// Instantiating (start function, segment initialisation).
    Instantiate,
}

/// Converts a Rust-side error into the matching Python exception.
pub(crate) fn map_error(py: Python<'_>, e: Error, site: Site<'_>) -> PyErr {
    match e {
        Error::Compile { message, offset } => {
            let limit = crate::limits::exceeded_limit(&message).map(str::to_string);
            let text = Error::Compile { message, offset }.to_string();
            compile_err(py, text, offset, limit)
        }
        Error::Link(m) => link_err(py, format!("link error: {m}")),
        Error::Trap(t) => {
            let mut msg = t.kind.message().to_string();
            if !t.context.is_empty() {
                msg.push_str(": ");
                msg.push_str(&t.context);
            }
            match site {
                Site::Export(name) => msg.push_str(&format!(" (in export '{name}')")),
                Site::Instantiate => msg.push_str(" (while instantiating)"),
            }
            let export = match site {
                Site::Export(name) => Some(name.to_string()),
                Site::Instantiate => None,
            };
            make(py, trap_error(py), (msg, t.kind.name(), export))
        }
        Error::Host(payload) if payload.is::<crate::wasi::WasiExit>() => {
            let code = payload.downcast_ref::<crate::wasi::WasiExit>().map(|e| e.0).unwrap_or(0);
            make(py, wasi_exit_error(py), (code,))
        }
        Error::Host(payload) => match payload.downcast::<PyErr>() {
            // A Python exception raised by a host function: re-raise the very same object.
            Ok(pyerr) => *pyerr,
            Err(other) => {
                let what = if let Some(s) = other.downcast_ref::<String>() {
                    s.clone()
                } else if let Some(s) = other.downcast_ref::<&'static str>() {
                    (*s).to_string()
                } else {
                    "host function error".to_string()
                };
                err(py, format!("host function failed: {what}"))
            }
        },
        Error::Usage(m) => err(py, m),
        Error::Resource(m) => err(py, format!("resource error: {m}")),
        Error::Deserialize(m) => deserialize_err(py, Error::Deserialize(m).to_string()),
    }
}
