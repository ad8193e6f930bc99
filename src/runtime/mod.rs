//! The runtime: store, instances, memories, tables, globals, functions, entry and traps.
//!
//! Objects live in a [`store::Store`]; the public handles ([`Func`], [`Memory`], ...) are
//! small `Copy` indices tagged with their store's id, so using a handle with the wrong store
//! is a clear error instead of undefined behaviour.

pub mod addr_hash;
pub mod builtins;
pub mod code;
pub mod entry;
pub mod func;
pub mod global;
pub mod instance;
pub mod interrupt;
pub mod memory;
pub mod stack;
pub mod store;
pub mod table;
pub mod typeids;
pub mod vmctx;

/// A function (Wasm or host) living in a store.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

/// A linear memory living in a store.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

/// A table living in a store.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

/// A global living in a store.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

/// An instantiated module living in a store.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Instance {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

/// Something that can be imported or exported.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Extern {
    Func(Func),
    Memory(Memory),
    Table(Table),
    Global(Global),
}
