//! The store: owns every instance, memory, table, global and function created in it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result, Trap, TrapKind};
use crate::module::Module;
use crate::runtime::addr_hash::BuildAddrHasher;
use crate::runtime::func::FuncData;
use crate::runtime::global::GlobalInstance;
use crate::runtime::instance::InstanceData;
use crate::runtime::interrupt::{self, InterruptHandle};
use crate::runtime::memory::{MemoryInstance, MAX_PAGES, PAGE_SIZE};
use crate::runtime::table::{TableInstance, MAX_TABLE_ELEMENTS};
use crate::runtime::vmctx::{VMFuncRef, VMRuntime};
use crate::runtime::{entry, stack, Extern, Instance};

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// Default budget of native stack for Wasm frames.
pub const DEFAULT_MAX_WASM_STACK: usize = 1 << 20;
/// Default cap on one linear memory: 4 GiB, the whole 32-bit space (no extra limit).
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = MAX_PAGES as u64 * PAGE_SIZE;
/// Default cap on the elements of one table (8 bytes each: 80 MB).
pub const DEFAULT_MAX_TABLE_ELEMENTS: u32 = MAX_TABLE_ELEMENTS;

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
    pub funcref_index: HashMap<usize, u32, BuildAddrHasher>,
    /// Memory, table or global defined by an instance → that instance (to pin it when
    /// another instance imports the object).
    pub definers: HashMap<Extern, u32>,
}

/// Owns all runtime objects; a Python `wazero.Runtime` wraps one.
///
/// Methods take `&self` so that host functions can call back into Wasm (re-entrancy).
/// A `Store` is used from one thread at a time (it is neither `Send` nor `Sync`).
pub struct Store {
    pub(crate) id: u64,
    pub(crate) objects: RefCell<Objects>,
    /// Shared with generated code (which writes `trap_code` and `entry_sp`), with interrupt
    /// handles and with the timeout thread.
    pub(crate) runtime: Arc<VMRuntime>,
    max_wasm_stack: Cell<usize>,
    /// Deadline of each outermost call, counted from its start.
    timeout: Cell<Option<Duration>>,
    /// Caps on memories (in pages) and tables (in elements) created in this store.
    pub(crate) max_memory_pages: Cell<u32>,
    pub(crate) max_table_elements: Cell<u32>,
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
                funcref_index: HashMap::default(),
                definers: HashMap::new(),
            }),
            runtime: Arc::new(runtime),
            max_wasm_stack: Cell::new(DEFAULT_MAX_WASM_STACK),
            timeout: Cell::new(None),
            max_memory_pages: Cell::new(MAX_PAGES),
            max_table_elements: Cell::new(DEFAULT_MAX_TABLE_ELEMENTS),
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

    /// A handle that stops the Wasm code running in this store from any thread.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle::new(&self.runtime)
    }

    /// Sets the function run on the calling thread when a call yields (see
    /// `InterruptHandle::request_yield`; the Python bindings release the GIL there). Returns
    /// false where the generated code cannot resume after a yield (then none is requested).
    pub fn set_yield_hook(&self, hook: interrupt::YieldHook) -> bool {
        interrupt::set_yield_hook(&self.runtime, hook);
        interrupt::YIELDS_SUPPORTED
    }

    /// Gives every outermost call (from Rust into Wasm) a deadline `timeout` after its start
    /// (`None`, the default: no deadline). A call past its deadline traps with
    /// [`TrapKind::Timeout`] at its next loop header or function entry.
    pub fn set_timeout(&self, timeout: Option<Duration>) {
        self.timeout.set(timeout);
    }

    /// The timeout set by [`Store::set_timeout`].
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout.get()
    }

    /// Caps every memory created from now on at `bytes` (rounded down to whole 64 KiB pages;
    /// default and upper bound 4 GiB): a larger minimum fails to instantiate, `memory.grow`
    /// past it returns -1, and only this much address space is reserved.
    pub fn set_max_memory_bytes(&self, bytes: u64) {
        self.max_memory_pages.set((bytes / PAGE_SIZE).min(MAX_PAGES as u64) as u32);
    }

    /// Caps every table created from now on at `elements` (default and upper bound
    /// 10 000 000): a larger minimum fails to instantiate, `table.grow` past it returns -1.
    pub fn set_max_table_elements(&self, elements: u32) {
        self.max_table_elements.set(elements.min(MAX_TABLE_ELEMENTS));
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
        // Generated code writes through this pointer only into atomics (interior mutability).
        Arc::as_ptr(&self.runtime) as *mut VMRuntime
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
        let rt = &*self.runtime;
        let outermost = self.depth.get() == 0;
        let mut _deadline = None;
        if outermost {
            // A new call starts uninterrupted: reset the reason first, then the limit (an
            // interrupt racing with this either stops this call or is lost, never worse).
            // (Release: the two stores stay in this order; no fence is needed on entry.)
            rt.interrupt.store(0, Ordering::Release);
            let limit = stack::wasm_stack_limit(self.max_wasm_stack.get());
            rt.call_stack_limit.store(limit, Ordering::Relaxed);
            rt.stack_limit.store(limit, Ordering::Release);
            rt.trap_code.store(0, Ordering::Relaxed);
            // A deadline too far away to represent is no deadline.
            if let Some(at) = self.timeout.get().and_then(|t| Instant::now().checked_add(t)) {
                _deadline = Some(interrupt::arm(&self.runtime, at)?);
            }
        }
        let saved_current = self.current.replace(self as *const Store);
        self.depth.set(self.depth.get() + 1);
        // SAFETY: the caller guarantees `funcref` is live; the trampoline follows `crate::abi`
        // and only touches `slots.len()` slots of `slots`.
        let code = unsafe {
            let f = &*funcref;
            (entry::entry_trampoline())(f.vmctx, f.code, slots.as_mut_ptr(), slots.len())
        };
        self.depth.set(self.depth.get() - 1);
        self.current.set(saved_current);
        drop(_deadline);
        if code == 0 {
            return Ok(());
        }
        let mut kind = TrapKind::from_code(code).unwrap_or(TrapKind::Unreachable);
        if kind == TrapKind::HostError {
            if let Some(err) = self.pending_error.borrow_mut().take() {
                return Err(err);
            }
        }
        // An interrupt shows as `Interrupted` (loop header, or any check's slow path where
        // `interrupt::wasm_yield` exists) or as a stack overflow against the `usize::MAX` limit
        // (function entry, elsewhere): report why it was requested. A pending yield request
        // is no reason to stop: the trap is what it says.
        let interrupted = kind == TrapKind::Interrupted
            || (kind == TrapKind::StackOverflow && rt.stack_limit.load(Ordering::SeqCst) == usize::MAX);
        if interrupted {
            kind = match rt.interrupt.load(Ordering::SeqCst) {
                interrupt::REASON_TIMEOUT => TrapKind::Timeout,
                interrupt::REASON_YIELD => kind,
                _ => TrapKind::Interrupted,
            };
        }
        Err(Error::Trap(Trap { kind, context: String::new() }))
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}
