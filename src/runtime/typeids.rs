//! Process-wide canonical ids for function signatures, compared by `call_indirect`.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::types::FuncType;

static IDS: Mutex<Option<HashMap<FuncType, u32>>> = Mutex::new(None);

/// The canonical id of a signature: equal ids iff equal signatures. Ids start at 1 so that a
/// zeroed `VMFuncRef` never matches.
pub fn type_id(ty: &FuncType) -> u32 {
    let mut guard = IDS.lock().unwrap_or_else(|e| e.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    let next = map.len() as u32 + 1;
    *map.entry(ty.clone()).or_insert(next)
}
