//! Python side of serialised modules: `CompiledModule.serialize/deserialize`, pickling, and
//! compiling through `Runtime(cache_dir=...)`'s on-disk cache. The `#[pymethods]` in
//! `mod.rs` delegate here.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};

use super::errors::{map_error, type_err, Site};
use super::CompiledModule;
use crate::serialize::cache::ModuleCache;

/// The module as bytes (the GIL is released while they are produced).
pub(crate) fn serialize<'py>(py: Python<'py>, module: &crate::Module) -> Bound<'py, PyBytes> {
    let blob = py.detach(|| module.serialize());
    PyBytes::new(py, &blob)
}

/// Copies a `bytes`/`bytearray`/`memoryview` argument (`what` names it in errors).
fn bytes_of(py: Python<'_>, data: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        Ok(b.as_bytes().to_vec())
    } else if let Ok(b) = data.cast::<PyByteArray>() {
        Ok(b.to_vec())
    } else if data.is_instance_of::<PyMemoryView>() {
        Ok(data.call_method0("tobytes")?.cast::<PyBytes>()?.as_bytes().to_vec())
    } else {
        let tn = data.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        Err(type_err(py, format!("{what}: expected bytes, bytearray or memoryview, got {tn}")))
    }
}

/// Loads a blob written by `serialize` (raises `DeserializeError` for any blob this build
/// and CPU did not write, intact).
pub(crate) fn deserialize(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<CompiledModule> {
    let blob = bytes_of(py, data, "deserialize")?;
    // SAFETY: documented on the Python API (`CompiledModule.deserialize`): like loading a
    // native extension, the caller vouches for the blob's origin; every check that can
    // catch an accident (build, ISA, CPU features, checksum, structure) runs first.
    let module = py.detach(|| unsafe { crate::Module::deserialize(&blob) });
    Ok(CompiledModule { module: module.map_err(|e| map_error(py, e, Site::Instantiate))? })
}

/// `pickle` support: `CompiledModule.deserialize(serialized)`.
pub(crate) fn reduce<'py>(py: Python<'py>, module: &crate::Module) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
    let ctor = py.get_type::<CompiledModule>().getattr("deserialize")?;
    Ok((ctor, (serialize(py, module),)))
}

/// Opens the cache of `Runtime(cache_dir=...)`.
pub(crate) fn open_cache(py: Python<'_>, dir: PathBuf) -> PyResult<ModuleCache> {
    ModuleCache::new(dir).map_err(|e| map_error(py, e, Site::Instantiate))
}

/// Compiles `source` (as `compile_source` accepts it) through `cache`.
pub(crate) fn compile_cached(
    py: Python<'_>,
    cache: &ModuleCache,
    source: &Bound<'_, PyAny>,
    limits: &crate::Limits,
) -> PyResult<crate::Module> {
    if let Ok(c) = source.cast::<CompiledModule>() {
        return Ok(c.get().module.clone());
    }
    let raw = if let Ok(s) = source.cast::<PyString>() {
        s.to_cow()?.as_bytes().to_vec()
    } else {
        bytes_of(py, source, "source").map_err(|_| {
            let tn = source.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            type_err(py, format!("expected bytes, bytearray, memoryview, str or CompiledModule, got {tn}"))
        })?
    };
    compile_raw(py, cache, raw, limits)
}

/// Compiles text or binary `raw` through `cache`, without the GIL.
pub(crate) fn compile_raw(
    py: Python<'_>,
    cache: &ModuleCache,
    raw: Vec<u8>,
    limits: &crate::Limits,
) -> PyResult<crate::Module> {
    py.detach(|| super::wasm_of(&raw).and_then(|wasm| cache.get_or_compile_with_limits(&wasm, limits)))
        .map(|(module, _)| module)
        .map_err(|e| map_error(py, e, Site::Instantiate))
}

/// `Runtime.cache_stats`: `{"hits": n, "misses": n, "invalid": n}`.
pub(crate) fn stats(cache: &ModuleCache) -> std::collections::HashMap<&'static str, u64> {
    let s = cache.stats();
    [("hits", s.hits), ("misses", s.misses), ("invalid", s.invalid)].into_iter().collect()
}
