//! The store: owns every instance, memory, table, global and function created in it.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result, Trap, TrapKind};
use crate::module::Module;
use crate::runtime::func::FuncData;
use crate::runtime::global::GlobalInstance;
use crate::runtime::instance::InstanceData;
use crate::runtime::memory::MemoryInstance;
use crate::runtime::table::TableInstance;
use crate::runtime::vmctx::{VMFuncRef, VMRuntime};
use crate::runtime::{entry, stack, Extern, Instance};

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// Default budget of native stack for Wasm frames.
pub const DEFAULT_MAX_WASM_STACK: usize = 1 << 20;

/// Objects of one kind, addressed by handle index. A released object leaves `None` behind so
/// stale handles fail cleanly. Objects are boxed: generated code holds their addresses.
pub(crate) struct Arena<T> {
    items: Vec<Option<Box<T>>>,
}

impl<T> Arena<T> {
    fn new() -> Arena<T> {
        Arena { items: Vec::new() }
    }
    pub(crate) fn push(&mut self, item: Box<T>) -> u32 {
        self.items.push(Some(item));
        (self.items.len() - 1) as u32
    }
    pub(crate) fn get(&self, index: u32) -> Option<&T> {
        self.items.get(index as usize).and_then(|i| i.as_deref())
    }
    pub(crate) fn get_mut(&mut self, index: u32) -> Option<&mut T> {
        self.items.get_mut(index as usize).and_then(|i| i.as_deref_mut())
    }
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
    pub(crate) fn take(&mut self, index: u32) -> Option<Box<T>> {
        self.items.get_mut(index as usize).and_then(|i| i.take())
    }
}

/// All objects of a store.
pub(crate) struct Objects {
    pub funcs: Arena<FuncData>,
    pub memories: Arena<MemoryInstance>,
    pub tables: Arena<TableInstance>,
    pub globals: Arena<GlobalInstance>,
    pub instances: Arena<InstanceData>,
    /// `VMFuncRef` address → func handle index, to turn funcref values back into handles.
    pub funcref_index: HashMap<usize, u32>,
}

/// Owns all runtime objects; a Python `wazero.Runtime` wraps one.
///
/// Methods take `&self` so that host functions can call back into Wasm (re-entrancy).
/// A `Store` is used from one thread at a time (it is neither `Send` nor `Sync`).
pub struct Store {
    pub(crate) id: u64,
    pub(crate) objects: RefCell<Objects>,
    /// Shared with generated code, which writes `trap_code` and `entry_sp`.
    pub(crate) runtime: Box<UnsafeCell<VMRuntime>>,
    max_wasm_stack: Cell<usize>,
    /// Number of Rust→Wasm entries currently on the stack.
    depth: Cell<u32>,
    /// The store of the innermost running call, for host functions.
    pub(crate) current: Box<Cell<*const Store>>,
    /// Error raised by a host function, on its way out to the entry that will return it.
    pub(crate) pending_error: RefCell<Option<Error>>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        let runtime = VMRuntime::new(entry::trap_exit_address());
        Store {
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            objects: RefCell::new(Objects {
                funcs: Arena::new(),
                memories: Arena::new(),
                tables: Arena::new(),
                globals: Arena::new(),
                instances: Arena::new(),
                funcref_index: HashMap::new(),
            }),
            runtime: Box::new(UnsafeCell::new(runtime)),
            max_wasm_stack: Cell::new(DEFAULT_MAX_WASM_STACK),
            depth: Cell::new(0),
            current: Box::new(Cell::new(std::ptr::null())),
            pending_error: RefCell::new(None),
        }
    }

    /// Instantiates `module` with `imports` given in the order of `module.imports()`,
    /// then runs its start function.
    pub fn instantiate(&self, module: &Module, imports: &[Extern]) -> Result<Instance> {
        crate::runtime::instance::instantiate(self, module, imports)
    }

    /// Sets how many bytes of native stack Wasm code may use (default 1 MiB), within the
    /// bounds of the calling thread's stack.
    pub fn set_max_wasm_stack(&self, bytes: usize) {
        self.max_wasm_stack.set(bytes);
    }

    /// Frees an instance's own objects if nothing else can still reach them (no other
    /// instance imported its exports and it never shared reference-holding imports).
    /// Handles to freed objects then report an error instead of dangling. Returns whether
    /// the instance was freed.
    pub fn release_instance(&self, instance: Instance) -> Result<bool> {
        self.check(instance.store_id)?;
        crate::runtime::instance::release(self, instance.index)
    }

    pub(crate) fn runtime_ptr(&self) -> *mut VMRuntime {
        self.runtime.get()
    }

    /// Verifies that a handle belongs to this store.
    pub(crate) fn check(&self, store_id: u64) -> Result<()> {
        if store_id == self.id {
            Ok(())
        } else {
            Err(Error::usage("object belongs to a different store"))
        }
    }

    /// Runs `funcref` with its argument area `slots` (arguments in, results out).
    ///
    /// # Safety
    /// `funcref` must point to a live `VMFuncRef` of this store and `slots` must hold at least
    /// `abi::arg_area_slots` of its type, with arguments of the right types.
    pub(crate) unsafe fn invoke(&self, funcref: *const VMFuncRef, slots: &mut [u64]) -> Result<()> {
        let rt = self.runtime_ptr();
        let outermost = self.depth.get() == 0;
        let saved_current = self.current.replace(self as *const Store);
        if outermost {
            // SAFETY: single-threaded store; no Wasm code runs at depth 0, so nothing else
            // accesses the runtime struct right now.
            unsafe {
                (*rt).stack_limit = stack::wasm_stack_limit(self.max_wasm_stack.get());
                (*rt).trap_code = 0;
            }
        }
        self.depth.set(self.depth.get() + 1);
        // SAFETY: the caller guarantees `funcref` is live; the trampoline follows `crate::abi`
        // and only touches `slots.len()` slots of `slots`.
        let code = unsafe {
            let f = &*funcref;
            (entry::entry_trampoline())(f.vmctx, f.code, slots.as_mut_ptr(), slots.len())
        };
        self.depth.set(self.depth.get() - 1);
        self.current.set(saved_current);
        if code == 0 {
            return Ok(());
        }
        let kind = TrapKind::from_code(code).unwrap_or(TrapKind::Unreachable);
        if kind == TrapKind::HostError {
            if let Some(err) = self.pending_error.borrow_mut().take() {
                return Err(err);
            }
        }
        Err(Error::Trap(Trap { kind, context: String::new() }))
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}
