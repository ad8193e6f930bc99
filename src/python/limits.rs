//! `wazero.Limits`: the module limits of [`crate::Limits`], for `Runtime(limits=...)` and
//! `CompiledModule(source, limits=...)`.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::errors::type_err;

/// Hard limits on what a module may declare (function size, locals, nesting depth...).
///
/// `Limits(max_locals=1000, ...)`: every keyword is optional and defaults to the value of
/// `crate::Limits::default()`; read a limit as an attribute. Exceeding one raises
/// `wazero.CompileError` whose `limit` attribute names it.
#[pyclass(frozen, module = "wazero", name = "Limits")]
pub struct PyLimits {
    pub(crate) inner: crate::Limits,
}

// The methods and one read-only property per limit: a single `#[pymethods]` block,
// generated from the list of fields in `crate::limits`.
macro_rules! py_limits_methods {
    ($($field:ident),* $(,)?) => {
        #[pymethods]
        impl PyLimits {
            #[new]
            #[pyo3(signature = (**kwargs))]
            fn py_new(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
                let mut inner = crate::Limits::default();
                for (key, value) in kwargs.into_iter().flatten() {
                    let key: String = key.extract()?;
                    let Some(field) = inner.get_mut(&key) else {
                        return Err(type_err(py, format!("Limits() got an unexpected keyword argument '{key}'")));
                    };
                    *field = value
                        .extract::<u64>()
                        .map_err(|_| type_err(py, format!("Limits({key}=...) must be a non-negative int below 2**64")))?;
                }
                Ok(PyLimits { inner })
            }

            /// Every limit by name.
            fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                for name in crate::Limits::FIELDS {
                    d.set_item(name, self.inner.get(name))?;
                }
                Ok(d)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other.cast::<PyLimits>().is_ok_and(|o| o.get().inner == self.inner)
            }

            fn __repr__(&self) -> String {
                let fields: Vec<String> = crate::Limits::FIELDS
                    .iter()
                    .map(|n| format!("{n}={}", self.inner.get(n).unwrap_or_default()))
                    .collect();
                format!("wazero.Limits({})", fields.join(", "))
            }

            $(
                #[doc = concat!("The `", stringify!($field), "` limit (documented in the stubs).")]
                #[getter]
                fn $field(&self) -> u64 {
                    self.inner.$field
                }
            )*
        }
    };
}
crate::limits::for_each_limit!(py_limits_methods);

/// The limits of an optional `limits=` argument (the defaults when absent).
pub(crate) fn limits_of(limits: Option<&Bound<'_, PyLimits>>) -> crate::Limits {
    limits.map(|l| l.get().inner.clone()).unwrap_or_default()
}
