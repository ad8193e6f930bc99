//! `wazero.WasiConfig`: WASI preview1 configuration from Python, turned into a
//! [`crate::wasi::WasiCtx`] for each instantiation (`Runtime.instantiate(..., wasi=config)`).
//!
//! Streams: stdin is `None` (empty), `"inherit"`, `bytes`-like, a path (`str`/`os.PathLike`)
//! or a binary file-like object (`read(n)`); stdout/stderr are `None` (discarded),
//! `"inherit"`, a `bytearray` (appended to: captured bytes without temp files), a path
//! (created/truncated) or any file-like object with `write` (text streams such as
//! `sys.stdout`, Jupyter's or pytest's capture get decoded UTF-8).

use std::io::{self, Cursor, Read, Write};
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView, PyString, PyTuple};

use crate::wasi::{Output, Stdin, WasiConfig as RustConfig, WasiCtx};

/// Configuration of a WASI preview1 program.
///
/// `argv` (`argv[0]` is the program name), `env` (the *whole* guest environment),
/// `stdin`, `stdout`, `stderr` (see the module docs), `preopens` / `readonly_preopens`
/// (guest path → host directory).
#[pyclass(frozen, module = "wazero")]
pub struct WasiConfig {
    argv: Py<PyTuple>,
    env: Vec<(String, String)>,
    stdin: Py<PyAny>,
    stdout: Py<PyAny>,
    stderr: Py<PyAny>,
    preopens: Vec<(String, PathBuf, bool)>,
}

fn fspath(obj: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    let os = obj.py().import("os")?;
    os.call_method1("fspath", (obj,))?.extract()
}

fn is_pathlike(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__").unwrap_or(false)
}

fn is_inherit(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyString>() && obj.extract::<String>().map(|s| s == "inherit").unwrap_or(false)
}

#[pymethods]
impl WasiConfig {
    #[new]
    #[pyo3(signature = (argv = None, env = None, *, stdin = None, stdout = None, stderr = None, preopens = None, readonly_preopens = None))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        py: Python<'_>,
        argv: Option<&Bound<'_, PyAny>>,
        env: Option<&Bound<'_, PyAny>>,
        stdin: Option<Py<PyAny>>,
        stdout: Option<Py<PyAny>>,
        stderr: Option<Py<PyAny>>,
        preopens: Option<&Bound<'_, PyDict>>,
        readonly_preopens: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let argv: Vec<String> = match argv {
            Some(a) if a.is_instance_of::<PyString>() => {
                return Err(pyo3::exceptions::PyTypeError::new_err("argv must be a list of str, not a str"))
            }
            Some(a) => a.extract()?,
            None => Vec::new(),
        };
        let env: Vec<(String, String)> = match env {
            Some(e) => {
                let d = e.call_method0("items")?;
                d.try_iter()?.map(|kv| kv?.extract::<(String, String)>()).collect::<PyResult<_>>()?
            }
            None => Vec::new(),
        };
        for (k, _) in &env {
            if k.contains('=') || k.is_empty() {
                return Err(pyo3::exceptions::PyValueError::new_err(format!("invalid environment variable name {k:?}")));
            }
        }
        let mut dirs = Vec::new();
        for (dict, ro) in [(preopens, false), (readonly_preopens, true)] {
            if let Some(d) = dict {
                for (guest, host) in d.iter() {
                    dirs.push((guest.extract::<String>()?, fspath(&host)?, ro));
                }
            }
        }
        let none = || py.None();
        Ok(WasiConfig {
            argv: PyTuple::new(py, &argv)?.unbind(),
            env,
            stdin: stdin.unwrap_or_else(none),
            stdout: stdout.unwrap_or_else(none),
            stderr: stderr.unwrap_or_else(none),
            preopens: dirs,
        })
    }

    /// The program's arguments (`argv[0]` is the program name).
    #[getter]
    fn argv(&self, py: Python<'_>) -> Py<PyTuple> {
        self.argv.clone_ref(py)
    }

    /// The guest environment as a dict.
    #[getter]
    fn env<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in &self.env {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// `{guest: (host, readonly)}` of the preopened directories.
    #[getter]
    fn preopens<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (g, h, ro) in &self.preopens {
            d.set_item(g, (h.to_string_lossy().into_owned(), *ro))?;
        }
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let argv = self.argv.bind(py).repr().map(|r| r.to_string()).unwrap_or_default();
        format!("<wazero.WasiConfig argv={argv} env={} vars preopens={}>", self.env.len(), self.preopens.len())
    }
}

impl WasiConfig {
    /// A fresh WASI context for one instance.
    pub(crate) fn build(&self, py: Python<'_>) -> PyResult<WasiCtx> {
        let mut c = RustConfig::new();
        let argv: Vec<String> = self.argv.bind(py).extract()?;
        c.args(argv);
        for (k, v) in &self.env {
            c.env(k.clone(), v.clone());
        }
        c.stdin(make_stdin(self.stdin.bind(py))?);
        c.stdout(make_output(self.stdout.bind(py), "stdout")?);
        c.stderr(make_output(self.stderr.bind(py), "stderr")?);
        for (guest, host, ro) in &self.preopens {
            c.preopen_dir(host, guest.clone(), *ro).map_err(|e| {
                pyo3::exceptions::PyFileNotFoundError::new_err(format!("preopen {guest:?}: {e}"))
            })?;
        }
        Ok(WasiCtx::new(c))
    }
}

fn make_stdin(obj: &Bound<'_, PyAny>) -> PyResult<Stdin> {
    if obj.is_none() {
        return Ok(Stdin::Empty);
    }
    if is_inherit(obj) {
        return Ok(Stdin::Inherit);
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Stdin::Reader(Box::new(Cursor::new(b.as_bytes().to_vec()))));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Stdin::Reader(Box::new(Cursor::new(b.to_vec()))));
    }
    if obj.is_instance_of::<PyMemoryView>() {
        let b: Vec<u8> = obj.call_method0("tobytes")?.extract()?;
        return Ok(Stdin::Reader(Box::new(Cursor::new(b))));
    }
    if is_pathlike(obj) {
        let p = fspath(obj)?;
        let f = std::fs::File::open(&p)
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("stdin {}: {e}", p.display())))?;
        return Ok(Stdin::Reader(Box::new(f)));
    }
    if obj.hasattr("read")? {
        return Ok(Stdin::Reader(Box::new(PyReader { obj: obj.clone().unbind() })));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "stdin must be None, 'inherit', bytes, a path or a file-like object with read()",
    ))
}

fn make_output(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Output> {
    if obj.is_none() {
        return Ok(Output::Null);
    }
    if is_inherit(obj) {
        return Ok(Output::Inherit);
    }
    if obj.is_instance_of::<PyByteArray>() {
        return Ok(Output::Writer(Box::new(PyWriter { obj: obj.clone().unbind(), kind: Kind::ByteArray, pending: vec![] })));
    }
    if is_pathlike(obj) {
        let p = fspath(obj)?;
        let f = std::fs::File::create(&p)
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{what} {}: {e}", p.display())))?;
        return Ok(Output::Writer(Box::new(f)));
    }
    if obj.hasattr("write")? {
        let io = obj.py().import("io")?;
        let binary = obj.is_instance(&io.getattr("BufferedIOBase")?)? || obj.is_instance(&io.getattr("RawIOBase")?)?;
        let text = obj.is_instance(&io.getattr("TextIOBase")?)? || (!binary && obj.hasattr("encoding")?);
        let kind = if text { Kind::Text } else { Kind::Binary };
        return Ok(Output::Writer(Box::new(PyWriter { obj: obj.clone().unbind(), kind, pending: vec![] })));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{what} must be None, 'inherit', a bytearray, a path or a file-like object with write()"
    )))
}

thread_local! {
    /// The first Python exception raised by a stdio object during the current WASI run: the
    /// guest gets `EIO`, and `Module.run()` (or instantiation) re-raises it afterwards.
    static STREAM_ERROR: std::cell::RefCell<Option<PyErr>> = const { std::cell::RefCell::new(None) };
}

fn py_io_error(e: PyErr) -> io::Error {
    let msg = e.to_string();
    STREAM_ERROR.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
    });
    io::Error::other(msg)
}

/// Takes the Python exception parked by a stdio object, if any.
pub(crate) fn take_stream_error() -> Option<PyErr> {
    STREAM_ERROR.with(|slot| slot.borrow_mut().take())
}

/// Reads from a Python binary file-like object.
struct PyReader {
    obj: Py<PyAny>,
}

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        super::control::with_gil(|py| {
            let data = self.obj.bind(py).call_method1("read", (buf.len(),)).map_err(py_io_error)?;
            if data.is_none() {
                return Err(io::Error::from(io::ErrorKind::WouldBlock));
            }
            let bytes: Vec<u8> = if let Ok(s) = data.cast::<PyString>() {
                s.to_cow().map_err(py_io_error)?.as_bytes().to_vec()
            } else {
                data.extract().map_err(py_io_error)?
            };
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            Ok(n)
        })
    }
}

enum Kind {
    ByteArray,
    Binary,
    Text,
}

/// Writes to a Python `bytearray` or file-like object.
struct PyWriter {
    obj: Py<PyAny>,
    kind: Kind,
    /// Text streams: an incomplete UTF-8 sequence carried to the next write.
    pending: Vec<u8>,
}

impl Write for PyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        super::control::with_gil(|py| {
            let obj = self.obj.bind(py);
            match self.kind {
                Kind::ByteArray => {
                    let ba = obj.cast::<PyByteArray>().map_err(|e| py_io_error(e.into()))?;
                    let old = ba.len();
                    ba.resize(old + buf.len()).map_err(py_io_error)?;
                    // SAFETY: no Python code runs while the slice is alive.
                    unsafe { ba.as_bytes_mut()[old..].copy_from_slice(buf) };
                }
                Kind::Binary => {
                    obj.call_method1("write", (PyBytes::new(py, buf),)).map_err(py_io_error)?;
                }
                Kind::Text => {
                    self.pending.extend_from_slice(buf);
                    let valid = match std::str::from_utf8(&self.pending) {
                        Ok(_) => self.pending.len(),
                        Err(e) if e.error_len().is_none() => e.valid_up_to(),
                        Err(_) => self.pending.len(),
                    };
                    let text = String::from_utf8_lossy(&self.pending[..valid]).into_owned();
                    self.pending.drain(..valid);
                    obj.call_method1("write", (text,)).map_err(py_io_error)?;
                }
            }
            Ok(buf.len())
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        super::control::with_gil(|py| {
            let obj = self.obj.bind(py);
            if !self.pending.is_empty() {
                let text = String::from_utf8_lossy(&self.pending).into_owned();
                self.pending.clear();
                obj.call_method1("write", (text,)).map_err(py_io_error)?;
            }
            if !matches!(self.kind, Kind::ByteArray) && obj.hasattr("flush").unwrap_or(false) {
                obj.call_method0("flush").map_err(py_io_error)?;
            }
            Ok(())
        })
    }
}
