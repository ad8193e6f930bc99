//! Hard limits on what a module may declare, so that an untrusted module cannot make
//! compilation or instantiation take unbounded time or memory.
//!
//! Every limit is checked before the work it bounds is done (a section's count before its
//! entries are read, a body's size before it is compiled, a table's declared size before
//! anything is allocated). Exceeding one is an [`Error::Compile`] whose message names the
//! limit (the field name below), the value, the maximum and where in the module, e.g.
//! `limit max_locals exceeded: 50001 locals in function 3, the maximum is 50000`.
//!
//! The defaults follow V8's `src/wasm/wasm-limits.h` and wasmtime (whose validator,
//! wasmparser, also enforces some limits of its own; a limit set above wasmparser's is
//! capped by it, with wasmparser's message). Limits on growth at run time (`memory.grow`,
//! `table.grow`) are not module limits and are configured on the runtime instead.

use wasmparser::{ElementItems, Payload, TypeRef};

use crate::error::{Error, Result};
use crate::module::ModuleInfo;

/// Limits on a module, checked while it is parsed and compiled. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one function body (locals declarations included). Default 7,654,321
    /// (V8's `kV8MaxWasmFunctionSize`; wasmtime has none).
    pub max_function_size: u64,
    /// Locals of one function, parameters excluded. Default 50,000 (V8 and wasmtime;
    /// wasmparser's hard cap).
    pub max_locals: u64,
    /// Functions, imported ones included. Default 1,000,000 (V8, wasmtime).
    pub max_functions: u64,
    /// Function types. Default 1,000,000 (V8, wasmtime).
    pub max_types: u64,
    /// Imports. Default 100,000 (V8; wasmtime 1,000,000).
    pub max_imports: u64,
    /// Exports. Default 100,000 (V8; wasmtime 1,000,000).
    pub max_exports: u64,
    /// Globals, imported ones included. Default 1,000,000 (V8, wasmtime).
    pub max_globals: u64,
    /// Declared initial size (elements) of each table, defined or imported. Default
    /// 10,000,000 (V8's `kV8MaxWasmTableSize`; wasmtime 10,000,000).
    pub max_table_size: u64,
    /// Declared initial size (64 KiB pages) of each memory, defined or imported. Default
    /// 65,536 = 4 GiB (the spec's maximum for 32-bit memories; V8 on 64-bit hosts).
    pub max_memory_pages: u64,
    /// Data segments. Default 100,000 (V8, wasmtime).
    pub max_data_segments: u64,
    /// Element segments. Default 100,000 (wasmtime; V8 has none).
    pub max_element_segments: u64,
    /// Bytes of all data segments together. Default 1 GiB (V8's maximum module size).
    pub max_data_bytes: u64,
    /// Items of all element segments together. Default 10,000,000 (V8's
    /// `kV8MaxWasmTableInitEntries`).
    pub max_element_items: u64,
    /// Nesting depth of `block`/`loop`/`if` in one function (the function body itself
    /// counts as one). Default 100,000 (V8 and wasmtime have none: their control stacks
    /// live on the heap, as ours does).
    pub max_nesting_depth: u64,
    /// Targets of one `br_table` (the default target excluded). Default 131,072
    /// (wasmparser's hard cap, so wasmtime's; V8 65,520).
    pub max_br_table_size: u64,
    /// Operand-stack depth in one function (each depth takes a frame slot). Default 100,000
    /// (V8 and wasmtime have none).
    pub max_value_stack: u64,
    /// Bytes of machine code generated for one module: bounds "JIT bombs" (little input
    /// that compiles to much code). Default 256 MiB (no equivalent in V8 or wasmtime).
    pub max_code_size: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_function_size: 7_654_321,
            max_locals: 50_000,
            max_functions: 1_000_000,
            max_types: 1_000_000,
            max_imports: 100_000,
            max_exports: 100_000,
            max_globals: 1_000_000,
            max_table_size: 10_000_000,
            max_memory_pages: 65_536,
            max_data_segments: 100_000,
            max_element_segments: 100_000,
            max_data_bytes: 1 << 30,
            max_element_items: 10_000_000,
            max_nesting_depth: 100_000,
            max_br_table_size: 131_072,
            max_value_stack: 100_000,
            max_code_size: 256 << 20,
        }
    }
}

/// Access by field name (bindings, configuration files), listing each field once.
macro_rules! by_name {
    ($($field:ident),* $(,)?) => {
        impl Limits {
            /// The names of all limits, in declaration order.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The limit called `name`, if there is one.
            pub fn get(&self, name: &str) -> Option<u64> {
                match name {
                    $(stringify!($field) => Some(self.$field),)*
                    _ => None,
                }
            }

            /// The limit called `name`, to change it.
            pub fn get_mut(&mut self, name: &str) -> Option<&mut u64> {
                match name {
                    $(stringify!($field) => Some(&mut self.$field),)*
                    _ => None,
                }
            }
        }
    };
}

/// Calls macro `$m` with the name of every field of [`Limits`], in declaration order (the
/// one list of them: name lookup here, getters in the Python bindings).
macro_rules! for_each_limit {
    ($m:ident) => {
        $m!(
        max_function_size,
        max_locals,
        max_functions,
        max_types,
        max_imports,
        max_exports,
        max_globals,
        max_table_size,
        max_memory_pages,
        max_data_segments,
        max_element_segments,
        max_data_bytes,
        max_element_items,
        max_nesting_depth,
        max_br_table_size,
        max_value_stack,
        max_code_size,
        );
    };
}
#[cfg(feature = "python")] // the Python bindings generate their getters from it
pub(crate) use for_each_limit;

for_each_limit!(by_name);

/// The word between "limit " and " exceeded" in limit errors: see [`exceeded_limit`].
const PREFIX: &str = "limit ";
const SUFFIX: &str = " exceeded: ";

impl Limits {
    /// Fails with a limit error when `value > max`: `what` says what was counted and where
    /// (e.g. "locals in function 3"); `offset` is the byte offset in the binary.
    pub(crate) fn check(name: &'static str, value: u64, max: u64, what: impl FnOnce() -> String, offset: u64) -> Result<()> {
        if value <= max {
            return Ok(());
        }
        Err(Error::Compile {
            message: format!("{PREFIX}{name}{SUFFIX}{value} {}, the maximum is {max}", what()),
            offset: Some(offset as usize),
        })
    }
}

/// Checks one section (or function body) of a module against `limits` before it is
/// validated or read; `info` holds what the earlier sections declared and `bodies` counts the
/// function bodies seen so far.
pub(crate) fn check_payload(payload: &Payload<'_>, info: &ModuleInfo, bodies: usize, limits: &Limits) -> Result<()> {
    let l = limits;
    match payload {
        Payload::TypeSection(r) => {
            Limits::check("max_types", r.count().into(), l.max_types, || "types".into(), r.range().start)?;
        }
        Payload::ImportSection(r) => {
            let at = r.range().start;
            Limits::check("max_imports", r.count().into(), l.max_imports, || "imports".into(), at)?;
            let (mut funcs, mut globals) = (0u64, 0u64);
            for imp in r.clone().into_imports_with_offsets() {
                let (offset, imp) = imp?;
                match imp.ty {
                    TypeRef::Func(_) => funcs += 1,
                    TypeRef::Global(_) => globals += 1,
                    TypeRef::Table(t) => check_table(l, t.initial, offset)?,
                    TypeRef::Memory(m) => check_memory(l, m.initial, offset)?,
                    _ => {}
                }
            }
            Limits::check("max_functions", funcs, l.max_functions, || "imported functions".into(), at)?;
            Limits::check("max_globals", globals, l.max_globals, || "imported globals".into(), at)?;
        }
        Payload::FunctionSection(r) => {
            let n = u64::from(info.num_imported_funcs) + u64::from(r.count());
            Limits::check("max_functions", n, l.max_functions, || "functions".into(), r.range().start)?;
        }
        Payload::TableSection(r) => {
            for t in r.clone().into_iter_with_offsets() {
                let (offset, t) = t?;
                check_table(l, t.ty.initial, offset)?;
            }
        }
        Payload::MemorySection(r) => {
            for m in r.clone().into_iter_with_offsets() {
                let (offset, m) = m?;
                check_memory(l, m.initial, offset)?;
            }
        }
        Payload::GlobalSection(r) => {
            let n = u64::from(info.num_imported_globals) + u64::from(r.count());
            Limits::check("max_globals", n, l.max_globals, || "globals".into(), r.range().start)?;
        }
        Payload::ExportSection(r) => {
            Limits::check("max_exports", r.count().into(), l.max_exports, || "exports".into(), r.range().start)?;
        }
        Payload::ElementSection(r) => {
            let what = || "element segments".into();
            Limits::check("max_element_segments", r.count().into(), l.max_element_segments, what, r.range().start)?;
            let mut items = 0u64;
            for e in r.clone().into_iter_with_offsets() {
                let (offset, e) = e?;
                items += u64::from(match &e.items {
                    ElementItems::Functions(r) => r.count(),
                    ElementItems::Expressions(_, r) => r.count(),
                });
                let what = || "element items in total".into();
                Limits::check("max_element_items", items, l.max_element_items, what, offset)?;
            }
        }
        Payload::DataCountSection { count, range } => {
            let what = || "data segments (data count section)".into();
            Limits::check("max_data_segments", (*count).into(), l.max_data_segments, what, range.start)?;
        }
        Payload::DataSection(r) => {
            let what = || "data segments".into();
            Limits::check("max_data_segments", r.count().into(), l.max_data_segments, what, r.range().start)?;
            let mut bytes = 0u64;
            for d in r.clone().into_iter_with_offsets() {
                let (offset, d) = d?;
                bytes += d.data.len() as u64;
                let what = || "bytes of data segments in total".into();
                Limits::check("max_data_bytes", bytes, l.max_data_bytes, what, offset)?;
            }
        }
        Payload::CodeSectionEntry(body) => {
            let range = body.range();
            let func = u64::from(info.num_imported_funcs) + bodies as u64;
            let what = || format!("bytes in the body of function {func}");
            Limits::check("max_function_size", range.end - range.start, l.max_function_size, what, range.start)?;
        }
        _ => {}
    }
    Ok(())
}

fn check_table(l: &Limits, initial: u64, offset: u64) -> Result<()> {
    Limits::check("max_table_size", initial, l.max_table_size, || "elements declared as a table's initial size".into(), offset)
}

fn check_memory(l: &Limits, initial: u64, offset: u64) -> Result<()> {
    Limits::check("max_memory_pages", initial, l.max_memory_pages, || "pages declared as a memory's initial size".into(), offset)
}

/// The name of the limit a compile error message reports (`"max_locals"`...), if any.
pub fn exceeded_limit(message: &str) -> Option<&str> {
    let rest = message.strip_prefix(PREFIX)?;
    let end = rest.find(SUFFIX)?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_limit_value_maximum_and_place() {
        assert!(Limits::check("max_locals", 5, 5, || unreachable!(), 0).is_ok());
        let e = Limits::check("max_locals", 6, 5, || "locals in function 2".into(), 17).unwrap_err();
        let Error::Compile { message, offset } = &e else { panic!("{e}") };
        assert_eq!(message, "limit max_locals exceeded: 6 locals in function 2, the maximum is 5");
        assert_eq!(*offset, Some(17));
        assert_eq!(exceeded_limit(message), Some("max_locals"));
        assert_eq!(exceeded_limit("type mismatch"), None);
    }

    #[test]
    fn fields_by_name_cover_every_field() {
        let mut l = Limits::default();
        for name in Limits::FIELDS {
            *l.get_mut(name).unwrap() = 3;
        }
        // Every field was reached by name: the struct equals one built with all fields 3.
        let all3 = Limits { max_function_size: 3, ..Limits::default() };
        assert_eq!(l.get("max_function_size"), all3.get("max_function_size"));
        assert!(Limits::FIELDS.iter().all(|n| l.get(n) == Some(3)));
        assert_eq!(format!("{l:?}").matches(": 3").count(), Limits::FIELDS.len());
        assert_eq!(l.get("nope"), None);
    }
}
