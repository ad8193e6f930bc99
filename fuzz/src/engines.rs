//! The two engines behind one small interface: wazero (under test) and wasmi (the oracle).

use std::fmt;

use super::features::FeatureSet;
use super::value::DiffValue;
use wazero::ValType;

/// A trap, in terms both engines can be mapped to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Trap {
    Unreachable,
    MemoryOutOfBounds,
    /// Table access or `call_indirect` index past the table's end (wazero: `UndefinedElement`
    /// for `call_indirect`, `TableOutOfBounds` for `table.*`).
    TableOutOfBounds,
    IndirectCallToNull,
    IndirectCallTypeMismatch,
    IntegerDivisionByZero,
    IntegerOverflow,
    InvalidConversionToInteger,
    StackOverflow,
    /// wasmi fuel (never enabled here) / wazero interruption.
    OutOfFuel,
    Other,
}

impl Trap {
    pub fn from_wazero(k: wazero::TrapKind) -> Trap {
        use wazero::TrapKind as K;
        match k {
            K::Unreachable => Trap::Unreachable,
            K::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
            K::IntegerDivideByZero => Trap::IntegerDivisionByZero,
            K::IntegerOverflow => Trap::IntegerOverflow,
            K::InvalidConversion => Trap::InvalidConversionToInteger,
            K::IndirectCallTypeMismatch => Trap::IndirectCallTypeMismatch,
            K::UndefinedElement => Trap::TableOutOfBounds,
            K::UninitializedElement => Trap::IndirectCallToNull,
            K::StackOverflow => Trap::StackOverflow,
            K::TableOutOfBounds => Trap::TableOutOfBounds,
            K::Interrupted | K::Timeout => Trap::OutOfFuel,
            K::HostError => Trap::Other,
        }
    }

    pub fn from_wasmi(c: wasmi::TrapCode) -> Trap {
        use wasmi::TrapCode as C;
        match c {
            C::UnreachableCodeReached => Trap::Unreachable,
            C::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
            C::TableOutOfBounds => Trap::TableOutOfBounds,
            C::IndirectCallToNull => Trap::IndirectCallToNull,
            C::IntegerDivisionByZero => Trap::IntegerDivisionByZero,
            C::IntegerOverflow => Trap::IntegerOverflow,
            C::BadConversionToInteger => Trap::InvalidConversionToInteger,
            C::StackOverflow => Trap::StackOverflow,
            C::BadSignature => Trap::IndirectCallTypeMismatch,
            C::OutOfFuel => Trap::OutOfFuel,
            _ => Trap::Other,
        }
    }

    /// Traps whose occurrence depends on engine limits rather than on Wasm semantics: a case
    /// that hits one of them on either side stops without failing.
    pub fn is_nondeterministic(self) -> bool {
        matches!(self, Trap::StackOverflow | Trap::OutOfFuel)
    }
}

/// Why an operation did not produce a value.
#[derive(Clone, Debug)]
pub enum Failure {
    Trap(Trap),
    /// Any non-trap error (link, resource, usage, compile...), with its message.
    Error(String),
}

impl Failure {
    pub fn trap(&self) -> Option<Trap> {
        match self {
            Failure::Trap(t) => Some(*t),
            Failure::Error(_) => None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Trap(t) => write!(f, "trap {t:?}"),
            Failure::Error(m) => write!(f, "error: {m}"),
        }
    }
}

fn wazero_failure(e: wazero::Error) -> Failure {
    match e {
        wazero::Error::Trap(t) => Failure::Trap(Trap::from_wazero(t.kind)),
        other => Failure::Error(other.to_string()),
    }
}

fn wasmi_failure(e: wasmi::Error) -> Failure {
    match e.as_trap_code() {
        Some(c) => Failure::Trap(Trap::from_wasmi(c)),
        None => Failure::Error(e.to_string()),
    }
}

/// An exported function's name and signature.
#[derive(Clone, Debug)]
pub struct FuncExport {
    pub name: String,
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

/// A wazero instance in its own store.
pub struct WazeroInstance {
    pub store: wazero::Store,
    pub instance: wazero::Instance,
}

impl WazeroInstance {
    /// Instantiates an already compiled module (no imports).
    pub fn new(module: &wazero::Module) -> Result<WazeroInstance, Failure> {
        // The configuration hostile input meets by default: `Module::new` compiles under
        // `Limits::default()` (what `wazero.Runtime()` uses) and the store keeps its default
        // stack, memory and table caps. `validate` also fuzzes tight limits.
        let store = wazero::Store::new();
        let instance = store.instantiate(module, &[]).map_err(wazero_failure)?;
        Ok(WazeroInstance { store, instance })
    }

    fn exports(&self) -> Vec<(String, wazero::Extern)> {
        self.instance.exports(&self.store)
    }

    /// Exported functions sorted by name.
    pub fn func_exports(&self) -> Vec<FuncExport> {
        let mut v: Vec<FuncExport> = self
            .exports()
            .into_iter()
            .filter_map(|(name, e)| match e {
                wazero::Extern::Func(f) => {
                    let ty = f.ty(&self.store).expect("wazero: type of an exported function");
                    Some(FuncExport { name, params: ty.params, results: ty.results })
                }
                _ => None,
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// `(name, kind)` of every export, sorted.
    pub fn export_kinds(&self) -> Vec<(String, &'static str)> {
        let mut v: Vec<_> = self
            .exports()
            .into_iter()
            .map(|(n, e)| {
                let k = match e {
                    wazero::Extern::Func(_) => "func",
                    wazero::Extern::Memory(_) => "memory",
                    wazero::Extern::Table(_) => "table",
                    wazero::Extern::Global(_) => "global",
                };
                (n, k)
            })
            .collect();
        v.sort();
        v
    }

    pub fn call(&self, name: &str, args: &[DiffValue]) -> Result<Vec<DiffValue>, Failure> {
        let Some(wazero::Extern::Func(f)) = self.instance.export(&self.store, name) else {
            return Err(Failure::Error(format!("no exported function `{name}`")));
        };
        let args: Vec<wazero::Val> = args.iter().map(|a| a.to_wazero()).collect();
        let res = f.call(&self.store, &args).map_err(wazero_failure)?;
        Ok(res.iter().map(DiffValue::from_wazero).collect())
    }

    pub fn global(&self, name: &str) -> Option<DiffValue> {
        match self.instance.export(&self.store, name)? {
            wazero::Extern::Global(g) => Some(DiffValue::from_wazero(&g.get(&self.store).expect("wazero: Global::get"))),
            _ => None,
        }
    }

    pub fn memory(&self, name: &str) -> Option<Vec<u8>> {
        match self.instance.export(&self.store, name)? {
            wazero::Extern::Memory(m) => {
                let len = m.data_size(&self.store).expect("wazero: Memory::data_size");
                let mut buf = vec![0u8; len];
                m.read(&self.store, 0, &mut buf).expect("wazero: Memory::read");
                Some(buf)
            }
            _ => None,
        }
    }
}

/// A wasmi instance in its own engine and store (eager compilation, no fuel).
pub struct WasmiInstance {
    pub store: wasmi::Store<()>,
    pub instance: wasmi::Instance,
}

impl WasmiInstance {
    pub fn engine(features: &FeatureSet) -> wasmi::Engine {
        let mut config = wasmi::Config::default();
        features.configure_wasmi(&mut config);
        config.compilation_mode(wasmi::CompilationMode::Eager);
        config.consume_fuel(false);
        wasmi::Engine::new(&config)
    }

    pub fn compile(engine: &wasmi::Engine, wasm: &[u8]) -> Result<wasmi::Module, String> {
        wasmi::Module::new(engine, wasm).map_err(|e| e.to_string())
    }

    pub fn new(engine: &wasmi::Engine, module: &wasmi::Module) -> Result<WasmiInstance, Failure> {
        let mut store = wasmi::Store::new(engine, ());
        let linker = wasmi::Linker::<()>::new(engine);
        let instance = linker.instantiate_and_start(&mut store, module).map_err(wasmi_failure)?;
        Ok(WasmiInstance { store, instance })
    }

    pub fn export_kinds(&self) -> Vec<(String, &'static str)> {
        let mut v: Vec<_> = self
            .instance
            .exports(&self.store)
            .map(|e| {
                let name = e.name().to_string();
                let k = match e.into_extern() {
                    wasmi::Extern::Func(_) => "func",
                    wasmi::Extern::Memory(_) => "memory",
                    wasmi::Extern::Table(_) => "table",
                    wasmi::Extern::Global(_) => "global",
                };
                (name, k)
            })
            .collect();
        v.sort();
        v
    }

    pub fn call(&mut self, name: &str, args: &[DiffValue]) -> Result<Vec<DiffValue>, Failure> {
        let Some(f) = self.instance.get_export(&self.store, name).and_then(|e| e.into_func()) else {
            return Err(Failure::Error(format!("no exported function `{name}`")));
        };
        let ty = f.ty(&self.store);
        let args: Vec<wasmi::Val> = args.iter().map(|a| a.to_wasmi()).collect();
        let mut out: Vec<wasmi::Val> = ty.results().iter().map(|t| wasmi::Val::default_for_ty(*t)).collect();
        f.call(&mut self.store, &args, &mut out).map_err(wasmi_failure)?;
        Ok(out.iter().map(DiffValue::from_wasmi).collect())
    }

    pub fn global(&self, name: &str) -> Option<DiffValue> {
        let g = self.instance.get_export(&self.store, name)?.into_global()?;
        Some(DiffValue::from_wasmi(&g.get(&self.store)))
    }

    pub fn memory(&self, name: &str) -> Option<Vec<u8>> {
        let m = self.instance.get_export(&self.store, name)?.into_memory()?;
        Some(m.data(&self.store).to_vec())
    }
}

/// Compares every exported global and every exported memory (byte for byte) of the two
/// instances; `Err` describes the first difference.
pub fn compare_state(wz: &WazeroInstance, wi: &WasmiInstance) -> Result<(), String> {
    for (name, kind) in wz.export_kinds() {
        match kind {
            "global" => {
                let a = wz.global(&name);
                let b = wi.global(&name);
                match (a, b) {
                    (Some(a), Some(b)) if a == b => {}
                    (a, b) => {
                        return Err(format!(
                            "exported global {name:?} differs: wazero {} vs wasmi {}",
                            a.map_or("<missing>".into(), |v| v.to_string()),
                            b.map_or("<missing>".into(), |v| v.to_string())
                        ))
                    }
                }
            }
            "memory" => {
                let a = wz.memory(&name).unwrap_or_default();
                let b = wi.memory(&name).unwrap_or_default();
                if a.len() != b.len() {
                    return Err(format!(
                        "exported memory {name:?} size differs: wazero {} bytes vs wasmi {} bytes",
                        a.len(),
                        b.len()
                    ));
                }
                if a != b {
                    let first = a.iter().zip(&b).position(|(x, y)| x != y).unwrap();
                    let n = a.iter().zip(&b).filter(|(x, y)| x != y).count();
                    let lo = first & !7;
                    let hi = (lo + 16).min(a.len());
                    return Err(format!(
                        "exported memory {name:?} differs at {n} byte(s), first at offset {first:#x}: \
                         wazero[{lo:#x}..{hi:#x}] = {:02x?} vs wasmi {:02x?}",
                        &a[lo..hi],
                        &b[lo..hi]
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Outcome of calling the same export on both engines.
pub enum CallVerdict {
    /// Same results or the same trap.
    Same,
    /// An engine-limit trap on either side: stop the case without failing.
    Stop,
}

/// Compares one call's outcomes; `Err` describes the difference. `eq` compares one result.
pub fn compare_call(
    wz: &Result<Vec<DiffValue>, Failure>,
    wi: &Result<Vec<DiffValue>, Failure>,
    eq: &dyn Fn(usize, &DiffValue, &DiffValue) -> bool,
) -> Result<CallVerdict, String> {
    let nondet = |r: &Result<Vec<DiffValue>, Failure>| {
        matches!(r, Err(Failure::Trap(t)) if t.is_nondeterministic())
    };
    if nondet(wz) || nondet(wi) {
        return Ok(CallVerdict::Stop);
    }
    match (wz, wi) {
        (Ok(a), Ok(b)) => {
            if a.len() == b.len() && a.iter().zip(b).enumerate().all(|(i, (x, y))| eq(i, x, y)) {
                Ok(CallVerdict::Same)
            } else {
                Err(format!(
                    "results differ: wazero {} vs wasmi {}",
                    super::value::list(a),
                    super::value::list(b)
                ))
            }
        }
        (Err(Failure::Trap(a)), Err(Failure::Trap(b))) if a == b => Ok(CallVerdict::Same),
        (a, b) => Err(format!("outcomes differ: wazero {} vs wasmi {}", show(a), show(b))),
    }
}

pub fn show(r: &Result<Vec<DiffValue>, Failure>) -> String {
    match r {
        Ok(v) => format!("ok {}", super::value::list(v)),
        Err(f) => f.to_string(),
    }
}
