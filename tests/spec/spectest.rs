//! The `spectest` host module every script may import from.

use std::collections::HashMap;

use wazero::{
    Extern, Func, FuncType, Global, GlobalType, Memory, MemoryType, Store, Table, TableType, Val,
    ValType,
};

/// Builds the `spectest` exports in `store`, by name.
pub fn build(store: &Store) -> wazero::Result<HashMap<String, Extern>> {
    use ValType::*;
    let mut exports = HashMap::new();

    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(params.to_vec(), vec![]);
        let func = Func::new_host(store, ty, |_, _, _| Ok(()));
        exports.insert(name.to_string(), Extern::Func(func));
    }

    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, content, init) in globals {
        let global = Global::new(
            store,
            GlobalType {
                content,
                mutable: false,
            },
            init,
        )?;
        exports.insert(name.to_string(), Extern::Global(global));
    }

    let table_ty = TableType {
        element: FuncRef,
        min: 10,
        max: Some(20),
    };
    let table = Table::new(store, table_ty, Val::FuncRef(None))?;
    exports.insert("table".to_string(), Extern::Table(table));

    let memory = Memory::new(
        store,
        MemoryType {
            min: 1,
            max: Some(2),
        },
    )?;
    exports.insert("memory".to_string(), Extern::Memory(memory));

    Ok(exports)
}
