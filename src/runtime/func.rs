//! Functions: calling Wasm from Rust, host functions callable from Wasm, and the conversion
//! of values to and from the 8-byte slots of the internal ABI.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::abi;
use crate::error::{Error, Result, TrapKind};
use crate::module::Module;
use crate::runtime::store::Store;
use crate::runtime::vmctx::{VMFuncRef, VMHostCtx};
use crate::runtime::{entry, typeids, Func};
use crate::types::{FuncType, Val, ValType};

/// The Rust side of a host function: gets the arguments, writes the results (the slice has
/// exactly `ty.results.len()` entries, pre-filled with zeros of the right types).
pub type HostFn = dyn Fn(&Store, &[Val], &mut [Val]) -> Result<()>;

/// The allocation-free form of a host function: gets the caller's argument area (the
/// internal ABI's slots, see `crate::abi`: parameters in, results written back in place).
/// The slice holds `abi::arg_area_slots(ty)` slots.
pub type RawHostFn = dyn Fn(&Store, &mut [u64]) -> Result<()>;

/// The two shapes of host function.
pub(crate) enum HostImpl {
    Vals(Box<HostFn>),
    Raw(Box<RawHostFn>),
}

/// Everything a host function needs at call time. `ctx` must stay the first field: the
/// host stub passes `*mut VMHostCtx`, which the callback casts back to this struct.
#[repr(C)]
pub(crate) struct HostFuncData {
    ctx: VMHostCtx,
    funcref: VMFuncRef,
    ty: FuncType,
    func: HostImpl,
    /// Size of the argument area, `abi::arg_area_slots(&ty)`.
    area: usize,
    /// The owning store's "store of the running call" cell (boxed, so its address is stable).
    current: *const Cell<*const Store>,
}

/// Where a function's code comes from.
pub(crate) enum FuncKind {
    /// Defined by a Wasm instance; its `VMFuncRef` lives in that instance's vmctx.
    Wasm { instance: u32 },
    /// Owns the host function's data (referenced by generated code through `funcref`).
    #[allow(dead_code)]
    Host(Box<HostFuncData>),
}

/// A function's signature: its own (host functions) or a type of the module defining it
/// (shared, so instantiating copies no signatures).
pub(crate) enum FuncSig {
    Own(FuncType),
    /// Type index in the module's types.
    Module(Module, u32),
}

/// A function registered in a store.
pub(crate) struct FuncData {
    pub sig: FuncSig,
    pub funcref: *const VMFuncRef,
    pub kind: FuncKind,
}

impl FuncData {
    /// The function's signature.
    pub fn ty(&self) -> &FuncType {
        match &self.sig {
            FuncSig::Own(ty) => ty,
            FuncSig::Module(module, index) => &module.info().types[*index as usize],
        }
    }
}

/// Called by the host stub (see `crate::abi`): decodes arguments, runs the Rust closure,
/// encodes results. Never unwinds: panics and errors become trap codes, with the error
/// parked in the store for the entry point to return.
unsafe extern "C" fn host_callback(ctx: *mut u8, args: *mut u64) -> u32 {
    // SAFETY: the host stub passes the `VMHostCtx` registered with this callback, which is
    // the first field of a live `HostFuncData` (repr(C)); `args` is the caller's argument
    // area, sized by `abi::arg_area_slots` of this function's type.
    let data = unsafe { &*(ctx as *const HostFuncData) };
    // SAFETY: host functions only run inside `Store::invoke`, which sets the store's
    // `current` cell to itself for the duration of the call; the cell is boxed by the store.
    let store = unsafe { &*(*data.current).get() };
    // SAFETY: see above: the area holds `data.area` slots.
    let slots = unsafe { std::slice::from_raw_parts_mut(args, data.area) };
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        let func = match &data.func {
            HostImpl::Raw(f) => return f(store, slots),
            HostImpl::Vals(f) => f,
        };
        let params: Vec<Val> = abi::param_slots(&data.ty)
            .into_iter()
            .zip(&data.ty.params)
            .map(|(s, &t)| store.decode_slots(t, &slots[s..]))
            .collect();
        let mut results: Vec<Val> = data.ty.results.iter().map(|&t| Val::default_for(t)).collect();
        func(store, &params, &mut results)?;
        for (r, &t) in results.iter().zip(&data.ty.results) {
            if r.ty() != t {
                return Err(Error::usage(format!("host function returned a {} where {} was declared", r.ty(), t)));
            }
        }
        for (s, r) in abi::result_slots(&data.ty).into_iter().zip(&results) {
            store.encode_slots(r, &mut slots[s..])?;
        }
        Ok(())
    }));
    let err = match outcome {
        Ok(Ok(())) => return 0,
        Ok(Err(e)) => e,
        Err(_) => Error::usage("host function panicked"),
    };
    *store.pending_error.borrow_mut() = Some(err);
    TrapKind::HostError as u32
}

impl Func {
    /// A host function of type `ty`.
    pub fn new_host(
        store: &Store,
        ty: FuncType,
        f: impl Fn(&Store, &[Val], &mut [Val]) -> Result<()> + 'static,
    ) -> Func {
        Func::new_host_impl(store, ty, HostImpl::Vals(Box::new(f)))
    }

    /// A host function of type `ty` that works on the argument area directly (no per-call
    /// allocation): `f` reads parameter `i` from slot `abi::param_slots(&ty)[i]` and writes
    /// result `j` to slot `abi::result_slots(&ty)[j]` (i32/f32 in the low 4 bytes, v128 in
    /// two little-endian slots). Result slots must hold values of the declared types.
    pub fn new_host_raw(
        store: &Store,
        ty: FuncType,
        f: impl Fn(&Store, &mut [u64]) -> Result<()> + 'static,
    ) -> Func {
        Func::new_host_impl(store, ty, HostImpl::Raw(Box::new(f)))
    }

    fn new_host_impl(store: &Store, ty: FuncType, func: HostImpl) -> Func {
        let type_id = typeids::type_id(&ty);
        let mut data = Box::new(HostFuncData {
            ctx: VMHostCtx {
                runtime: store.runtime_ptr(),
                callback: host_callback,
                data: std::ptr::null_mut(),
            },
            funcref: VMFuncRef {
                code: entry::host_stub_address(),
                vmctx: std::ptr::null_mut(),
                type_id,
                _pad: 0,
            },
            area: abi::arg_area_slots(&ty),
            ty: ty.clone(),
            func,
            current: &*store.current,
        });
        data.ctx.data = &mut *data as *mut HostFuncData as *mut u8;
        data.funcref.vmctx = &mut data.ctx as *mut VMHostCtx as *mut u8;
        let funcref = &data.funcref as *const VMFuncRef;
        let mut objects = store.objects.borrow_mut();
        let index = objects.funcs.push(Box::new(FuncData { sig: FuncSig::Own(ty), funcref, kind: FuncKind::Host(data) }));
        objects.funcref_index.insert(funcref as usize, index);
        Func { store_id: store.id, index }
    }

    pub(crate) fn data<R>(&self, store: &Store, f: impl FnOnce(&FuncData) -> R) -> Result<R> {
        store.check(self.store_id)?;
        let objects = store.objects.borrow();
        let d = objects.funcs.get(self.index).ok_or_else(|| Error::usage("function was released"))?;
        Ok(f(d))
    }

    /// The function's signature.
    pub fn ty(&self, store: &Store) -> Result<FuncType> {
        self.data(store, |d| d.ty().clone())
    }

    /// Calls the function. Arguments must match the parameter types exactly
    /// (`Error::Usage` otherwise); a trap is returned as `Error::Trap`, an error raised by a
    /// host function as that same error.
    pub fn call(&self, store: &Store, args: &[Val]) -> Result<Vec<Val>> {
        let (ty, funcref) = self.data(store, |d| (d.ty().clone(), d.funcref))?;
        if args.len() != ty.params.len() {
            return Err(Error::usage(format!(
                "function expects {} argument(s), got {}",
                ty.params.len(),
                args.len()
            )));
        }
        let mut slots = vec![0u64; abi::arg_area_slots(&ty).max(1)];
        for (i, ((a, &t), s)) in args.iter().zip(&ty.params).zip(abi::param_slots(&ty)).enumerate() {
            if a.ty() != t {
                return Err(Error::usage(format!("argument {i} must be {t}, got {}", a.ty())));
            }
            store.encode_slots(a, &mut slots[s..])?;
        }
        // SAFETY: `funcref` belongs to a live function of this store (checked by `data`), and
        // `slots` holds its argument area with arguments of the declared types.
        unsafe { store.invoke(funcref, &mut slots)? };
        Ok(abi::result_slots(&ty)
            .into_iter()
            .zip(&ty.results)
            .map(|(s, &t)| store.decode_slots(t, &slots[s..]))
            .collect())
    }

    /// Calls the function with arguments already encoded in `slots` (the internal ABI's
    /// argument area; results are written back in place). For fast bindings.
    ///
    /// # Safety
    /// `slots` must hold at least `abi::arg_area_slots(ty)` slots with arguments encoded for
    /// the function's parameter types (references must be live values of this store).
    pub unsafe fn call_raw(&self, store: &Store, slots: &mut [u64]) -> Result<()> {
        let funcref = self.data(store, |d| d.funcref)?;
        // SAFETY: forwarded to the caller's contract.
        unsafe { store.invoke(funcref, slots) }
    }
}

impl Store {
    /// Encodes a value into a 16-byte little-endian cell (globals, table words, slots).
    pub(crate) fn encode_val(&self, v: &Val) -> Result<[u8; 16]> {
        let mut out = [0u8; 16];
        match *v {
            Val::I32(x) => out[..4].copy_from_slice(&x.to_le_bytes()),
            Val::I64(x) => out[..8].copy_from_slice(&x.to_le_bytes()),
            Val::F32(x) => out[..4].copy_from_slice(&x.to_le_bytes()),
            Val::F64(x) => out[..8].copy_from_slice(&x.to_le_bytes()),
            Val::V128(x) => out = x.to_le_bytes(),
            Val::FuncRef(None) | Val::ExternRef(None) => {}
            Val::FuncRef(Some(f)) => {
                let p = f.data(self, |d| d.funcref as usize)?;
                out[..8].copy_from_slice(&(p as u64).to_le_bytes());
            }
            Val::ExternRef(Some(h)) => {
                // Stored shifted by one so that 0 can stay the null reference.
                let word = h.checked_add(1).ok_or_else(|| Error::usage("externref handle u64::MAX is reserved"))?;
                out[..8].copy_from_slice(&word.to_le_bytes());
            }
        }
        Ok(out)
    }

    /// Decodes a value of type `ty` from a 16-byte cell.
    pub(crate) fn decode_val(&self, ty: ValType, b: &[u8; 16]) -> Val {
        let w32 = u32::from_le_bytes(b[..4].try_into().unwrap());
        let w64 = u64::from_le_bytes(b[..8].try_into().unwrap());
        match ty {
            ValType::I32 => Val::I32(w32 as i32),
            ValType::I64 => Val::I64(w64 as i64),
            ValType::F32 => Val::F32(w32),
            ValType::F64 => Val::F64(w64),
            ValType::V128 => Val::V128(u128::from_le_bytes(*b)),
            ValType::ExternRef => Val::ExternRef(w64.checked_sub(1)),
            ValType::FuncRef => Val::FuncRef(if w64 == 0 {
                None
            } else {
                self.objects
                    .borrow()
                    .funcref_index
                    .get(&(w64 as usize))
                    .map(|&index| Func { store_id: self.id, index })
            }),
        }
    }

    /// Writes a value into argument-area slots (two for v128).
    pub(crate) fn encode_slots(&self, v: &Val, slots: &mut [u64]) -> Result<()> {
        let b = self.encode_val(v)?;
        slots[0] = u64::from_le_bytes(b[..8].try_into().unwrap());
        if v.ty() == ValType::V128 {
            slots[1] = u64::from_le_bytes(b[8..].try_into().unwrap());
        }
        Ok(())
    }

    /// Reads a value of type `ty` from argument-area slots.
    pub(crate) fn decode_slots(&self, ty: ValType, slots: &[u64]) -> Val {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&slots[0].to_le_bytes());
        if ty == ValType::V128 {
            b[8..].copy_from_slice(&slots[1].to_le_bytes());
        }
        self.decode_val(ty, &b)
    }
}
