//! x86-64 backend.

pub(crate) mod float;
