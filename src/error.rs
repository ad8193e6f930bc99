//! Errors and traps.

use std::fmt;

/// Result type of the whole crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a running Wasm function stopped abnormally.
///
/// The numeric values are what generated code writes into `VMRuntime::trap_code`
/// (0 means "no trap"), so they must stay stable.
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TrapKind {
    /// `unreachable` was executed.
    Unreachable = 1,
    /// A load, store or bulk memory operation went out of bounds.
    MemoryOutOfBounds = 2,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 3,
    /// `INT_MIN / -1` or a float-to-int conversion out of range.
    IntegerOverflow = 4,
    /// Float-to-int conversion of NaN.
    InvalidConversion = 5,
    /// `call_indirect` whose callee has a different signature.
    IndirectCallTypeMismatch = 6,
    /// `call_indirect` (or a table access) with an index past the table's end.
    UndefinedElement = 7,
    /// `call_indirect` through a null table entry.
    UninitializedElement = 8,
    /// The Wasm stack limit was reached.
    StackOverflow = 9,
    /// `table.get/set/fill/copy/init` out of bounds.
    TableOutOfBounds = 10,
    /// A host function failed; the error itself is carried separately.
    HostError = 11,
    /// Execution was interrupted from outside (`InterruptHandle::interrupt`, Ctrl-C).
    Interrupted = 12,
    /// The call ran past its deadline (`Store::set_timeout`).
    Timeout = 13,
}

impl TrapKind {
    /// Decodes a trap code written by generated code.
    pub fn from_code(code: u32) -> Option<TrapKind> {
        use TrapKind::*;
        Some(match code {
            1 => Unreachable,
            2 => MemoryOutOfBounds,
            3 => IntegerDivideByZero,
            4 => IntegerOverflow,
            5 => InvalidConversion,
            6 => IndirectCallTypeMismatch,
            7 => UndefinedElement,
            8 => UninitializedElement,
            9 => StackOverflow,
            10 => TableOutOfBounds,
            11 => HostError,
            12 => Interrupted,
            13 => Timeout,
            _ => return None,
        })
    }

    /// The message the WebAssembly spec tests use for this trap.
    pub fn message(self) -> &'static str {
        use TrapKind::*;
        match self {
            Unreachable => "unreachable",
            MemoryOutOfBounds => "out of bounds memory access",
            IntegerDivideByZero => "integer divide by zero",
            IntegerOverflow => "integer overflow",
            InvalidConversion => "invalid conversion to integer",
            IndirectCallTypeMismatch => "indirect call type mismatch",
            UndefinedElement => "undefined element",
            UninitializedElement => "uninitialized element",
            StackOverflow => "call stack exhausted",
            TableOutOfBounds => "out of bounds table access",
            HostError => "host function failed",
            Interrupted => "interrupted",
            Timeout => "timed out",
        }
    }

    /// A short snake_case name, used as `wazero.Trap.kind` in Python.
    pub fn name(self) -> &'static str {
        use TrapKind::*;
        match self {
            Unreachable => "unreachable",
            MemoryOutOfBounds => "memory_out_of_bounds",
            IntegerDivideByZero => "integer_divide_by_zero",
            IntegerOverflow => "integer_overflow",
            InvalidConversion => "invalid_conversion",
            IndirectCallTypeMismatch => "indirect_call_type_mismatch",
            UndefinedElement => "undefined_element",
            UninitializedElement => "uninitialized_element",
            StackOverflow => "stack_overflow",
            TableOutOfBounds => "table_out_of_bounds",
            HostError => "host_error",
            Interrupted => "interrupted",
            Timeout => "timeout",
        }
    }
}

/// A trap raised while running Wasm code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What went wrong.
    pub kind: TrapKind,
    /// Human-readable context (e.g. the export that was called), may be empty.
    pub context: String,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context.is_empty() {
            write!(f, "wasm trap: {}", self.kind.message())
        } else {
            write!(f, "wasm trap: {} ({})", self.kind.message(), self.context)
        }
    }
}

/// Every error of the crate.
#[derive(Debug)]
pub enum Error {
    /// The module bytes are malformed or invalid; `offset` is the byte offset in the binary.
    Compile { message: String, offset: Option<usize> },
    /// Instantiation failed: an import is missing or has the wrong type.
    Link(String),
    /// Wasm code trapped.
    Trap(Trap),
    /// A host function returned an error: carried through the Wasm frames unchanged.
    Host(Box<dyn std::any::Any + Send>),
    /// Misuse of the API: wrong argument count or type, unknown export, closed object...
    Usage(String),
    /// The operating system refused a resource (memory mapping, ...).
    Resource(String),
}

impl Error {
    /// Shorthand for a usage error.
    pub fn usage(msg: impl Into<String>) -> Error {
        Error::Usage(msg.into())
    }
    /// Shorthand for a link error.
    pub fn link(msg: impl Into<String>) -> Error {
        Error::Link(msg.into())
    }
    /// Shorthand for a trap without context.
    pub fn trap(kind: TrapKind) -> Error {
        Error::Trap(Trap { kind, context: String::new() })
    }
    /// The trap kind, if this error is a trap.
    pub fn trap_kind(&self) -> Option<TrapKind> {
        match self {
            Error::Trap(t) => Some(t.kind),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Compile { message, offset: Some(o) } => {
                write!(f, "invalid module at byte offset {o:#x}: {message}")
            }
            Error::Compile { message, offset: None } => write!(f, "invalid module: {message}"),
            Error::Link(m) => write!(f, "link error: {m}"),
            Error::Trap(t) => t.fmt(f),
            Error::Host(_) => write!(f, "host function error"),
            Error::Usage(m) => f.write_str(m),
            Error::Resource(m) => write!(f, "resource error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Error {
        Error::Compile { message: e.message().to_string(), offset: Some(e.offset() as usize) }
    }
}
