//! Process-wide canonical ids for function signatures, compared by `call_indirect`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::types::FuncType;

static IDS: Mutex<Option<HashMap<FuncType, u32>>> = Mutex::new(None);

fn ids() -> MutexGuard<'static, Option<HashMap<FuncType, u32>>> {
    // A plain map that no panic can leave inconsistent.
    IDS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The id of `ty` in `map`, registering it if new (cloned only then).
fn id_in(map: &mut HashMap<FuncType, u32>, ty: &FuncType) -> u32 {
    if let Some(&id) = map.get(ty) {
        return id;
    }
    let next = map.len() as u32 + 1;
    map.insert(ty.clone(), next);
    next
}

/// The canonical id of a signature: equal ids iff equal signatures. Ids start at 1 so that a
/// zeroed `VMFuncRef` never matches.
pub fn type_id(ty: &FuncType) -> u32 {
    id_in(ids().get_or_insert_with(HashMap::new), ty)
}

/// [`type_id`] of each of `types`, under one lock.
pub fn type_ids(types: &[FuncType]) -> Box<[u32]> {
    let mut guard = ids();
    let map = guard.get_or_insert_with(HashMap::new);
    types.iter().map(|ty| id_in(map, ty)).collect()
}
