//! WASI preview1 (`wasi_snapshot_preview1`): run command and reactor programs, sandboxed.
//!
//! ```no_run
//! use wazero::{Module, Store, wasi::{WasiConfig, WasiCtx}};
//! let store = Store::new();
//! let module = Module::new(&std::fs::read("prog.wasm").unwrap()).unwrap();
//! let mut config = WasiConfig::new();
//! config.arg("prog.wasm").arg("--help").env("HOME", "/").preopen_dir("./data", "/data", false).unwrap();
//! let wasi = WasiCtx::new(config);
//! let instance = wasi.instantiate(&store, &module, |_, _| None).unwrap();
//! let exit_code = wasi.run(&store, &instance).unwrap();
//! ```
//!
//! ## Memory binding
//! WASI functions take pointers into the linear memory of the instance that calls them, but
//! host functions only get the [`Store`]. A [`WasiCtx`] is therefore bound to one instance:
//! [`WasiCtx::instantiate`] binds it to the module's exported `memory` (or to its imported
//! memory, which is known before instantiation) right after instantiation, before `_start`
//! or `_initialize` run. A WASI call made before that (from a start section of a module whose
//! memory is its own; toolchains do not emit those for WASI programs) sees an empty memory, so
//! any pointer argument gives `EFAULT`. Use one `WasiCtx` per instance.
//!
//! ## Sandbox
//! Files are reached only through preopened directories, held as `cap_std::fs::Dir`
//! handles: every path is resolved by cap-std beneath its directory (`openat2`
//! `RESOLVE_BENEATH` on Linux, or cap-std's own checked resolution), so `..`, absolute
//! paths and symlinks cannot leave it (`EPERM`/`ENOTCAPABLE`). The host's working directory,
//! environment and file descriptors are never visible unless configured. Read-only preopens
//! lose every right that modifies the file system, and files under them open read-only.
//!
//! ## `proc_exit`
//! `proc_exit(n)` makes the host function return `Error::Host(Box<WasiExit>)`, which unwinds
//! out of the Wasm call; [`WasiCtx::run`] turns it into exit code `n`, and [`exit_code`]
//! extracts it from the error of any other call.

mod funcs;
pub mod types;

use std::cell::RefCell;
use std::io::{Read, Write};
use std::path::Path;
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::module::Module;
use crate::runtime::{Extern, Func, Instance, Memory};
use crate::runtime::store::Store;
use crate::types::ExternType;

pub use funcs::FUNCTION_NAMES;

/// The import module name of WASI preview1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// Raised (inside `Error::Host`) by `proc_exit`: the program exited with this status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasiExit(pub i32);

impl std::fmt::Display for WasiExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WASI program exited with status {}", self.0)
    }
}

/// The exit status carried by `err` if it comes from `proc_exit`.
pub fn exit_code(err: &Error) -> Option<i32> {
    match err {
        Error::Host(payload) => payload.downcast_ref::<WasiExit>().map(|e| e.0),
        _ => None,
    }
}

/// Where a standard stream of the guest goes.
pub enum Stdin {
    /// Reads return end of file immediately.
    Empty,
    /// The host process' stdin.
    Inherit,
    /// Any reader.
    Reader(Box<dyn Read>),
}

/// Where stdout or stderr of the guest goes.
pub enum Output {
    /// Discarded.
    Null,
    /// The host process' stream of the same number.
    Inherit,
    /// Any writer.
    Writer(Box<dyn Write>),
}

/// A directory the guest can see.
pub(crate) struct Preopen {
    pub guest: String,
    pub dir: cap_std::fs::Dir,
    pub read_only: bool,
}

/// Configuration of a WASI program: arguments, environment, stdio and preopens.
pub struct WasiConfig {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) stdin: Stdin,
    pub(crate) stdout: Output,
    pub(crate) stderr: Output,
    pub(crate) preopens: Vec<Preopen>,
}

impl Default for WasiConfig {
    fn default() -> Self {
        WasiConfig::new()
    }
}

impl WasiConfig {
    /// No arguments, empty environment, empty stdin, stdout/stderr discarded, no preopens.
    pub fn new() -> WasiConfig {
        WasiConfig {
            args: Vec::new(),
            env: Vec::new(),
            stdin: Stdin::Empty,
            stdout: Output::Null,
            stderr: Output::Null,
            preopens: Vec::new(),
        }
    }
    /// Appends one argument (the first is the program name, `argv[0]`).
    pub fn arg(&mut self, a: impl Into<String>) -> &mut Self {
        self.args.push(a.into());
        self
    }
    /// Appends arguments.
    pub fn args<S: Into<String>>(&mut self, args: impl IntoIterator<Item = S>) -> &mut Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
    /// Adds an environment variable (the guest sees only what is added here).
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.push((key.into(), value.into()));
        self
    }
    /// Sets the guest's stdin.
    pub fn stdin(&mut self, s: Stdin) -> &mut Self {
        self.stdin = s;
        self
    }
    /// Sets the guest's stdout.
    pub fn stdout(&mut self, o: Output) -> &mut Self {
        self.stdout = o;
        self
    }
    /// Sets the guest's stderr.
    pub fn stderr(&mut self, o: Output) -> &mut Self {
        self.stderr = o;
        self
    }
    /// Stdin, stdout and stderr of the host process.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.stdin = Stdin::Inherit;
        self.stdout = Output::Inherit;
        self.stderr = Output::Inherit;
        self
    }
    /// Makes the host directory `host` visible to the guest as `guest` (e.g. `"/"`, `"."`,
    /// `"/data"`). Preopens get descriptors 3, 4, ... in the order they are added.
    pub fn preopen_dir(&mut self, host: impl AsRef<Path>, guest: impl Into<String>, read_only: bool) -> Result<&mut Self> {
        let host = host.as_ref();
        let dir = cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority())
            .map_err(|e| Error::usage(format!("cannot preopen {}: {e}", host.display())))?;
        self.preopens.push(Preopen { guest: guest.into(), dir, read_only });
        Ok(self)
    }
}

/// The WASI state of one instance: descriptor table, stdio, arguments, environment.
/// Cheap to clone (shared handle).
#[derive(Clone)]
pub struct WasiCtx {
    pub(crate) state: Rc<RefCell<funcs::State>>,
}

impl WasiCtx {
    /// A context from a configuration.
    pub fn new(config: WasiConfig) -> WasiCtx {
        WasiCtx { state: Rc::new(RefCell::new(funcs::State::new(config))) }
    }

    /// The host function `wasi_snapshot_preview1.<name>`, or `None` for an unknown name.
    pub fn func(&self, store: &Store, name: &str) -> Option<Func> {
        funcs::make_func(self, store, name)
    }

    /// Imports for `module` in the order of `module.imports()`: WASI functions for
    /// `wasi_snapshot_preview1` imports, `other(module, name)` for the rest.
    pub fn imports(
        &self,
        store: &Store,
        module: &Module,
        mut other: impl FnMut(&str, &str) -> Option<Extern>,
    ) -> Result<Vec<Extern>> {
        let mut out = Vec::new();
        for (m, name, ty) in module.imports() {
            let ext = if m == MODULE {
                match self.func(store, &name) {
                    Some(f) => Some(Extern::Func(f)),
                    None => other(&m, &name),
                }
            } else {
                other(&m, &name)
            };
            match ext {
                Some(e) => {
                    if let (Extern::Memory(mem), ExternType::Memory(_)) = (&e, &ty) {
                        self.set_memory(*mem);
                    }
                    out.push(e)
                }
                None => return Err(Error::link(format!("unknown import `{m}.{name}`"))),
            }
        }
        Ok(out)
    }

    /// Binds the context to the memory its WASI functions read and write.
    pub fn set_memory(&self, memory: Memory) {
        self.state.borrow_mut().memory = Some(memory);
    }

    /// Binds the context to `instance`'s exported `memory` (if it has one).
    pub fn bind(&self, store: &Store, instance: &Instance) {
        if let Some(Extern::Memory(m)) = instance.export(store, "memory") {
            self.set_memory(m);
        }
    }

    /// Instantiates `module` with WASI imports (others from `other`), binds the memory and,
    /// for a reactor (exports `_initialize`), runs `_initialize`.
    pub fn instantiate(
        &self,
        store: &Store,
        module: &Module,
        other: impl FnMut(&str, &str) -> Option<Extern>,
    ) -> Result<Instance> {
        let imports = self.imports(store, module, other)?;
        let instance = store.instantiate(module, &imports)?;
        self.bind(store, &instance);
        if let Some(Extern::Func(init)) = instance.export(store, "_initialize") {
            init.call(store, &[])?;
        }
        Ok(instance)
    }

    /// Runs the command's `_start`: its exit status (0 when `_start` returns, `n` for
    /// `proc_exit(n)`). Traps and other errors are returned as errors.
    pub fn run(&self, store: &Store, instance: &Instance) -> Result<i32> {
        let start = match instance.export(store, "_start") {
            Some(Extern::Func(f)) => f,
            _ => return Err(Error::usage("the module has no `_start` function (not a WASI command)")),
        };
        let result = start.call(store, &[]);
        self.flush();
        match result {
            Ok(_) => Ok(0),
            Err(e) => match exit_code(&e) {
                Some(code) => Ok(code),
                None => Err(e),
            },
        }
    }

    /// Flushes the guest's stdout and stderr writers.
    pub fn flush(&self) {
        self.state.borrow_mut().flush();
    }
}

/// An in-memory sink for the guest's stdout/stderr, readable while and after the program runs.
#[derive(Clone, Default)]
pub struct OutputBuffer(Rc<RefCell<Vec<u8>>>);

impl OutputBuffer {
    /// An empty buffer.
    pub fn new() -> OutputBuffer {
        OutputBuffer::default()
    }
    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.borrow().clone()
    }
    /// An [`Output`] writing into this buffer.
    pub fn output(&self) -> Output {
        Output::Writer(Box::new(self.clone()))
    }
}

impl Write for OutputBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
