//! Every field of `wazero::Limits`: a module exactly at the limit compiles, one over it is
//! rejected with an `Error::Compile` naming the limit, the value and the maximum.

use wazero::{Error, Limits, Module};

/// (limit, module, the module's value for that limit: `None` when it is not a simple count).
const CASES: &[(&str, &str, Option<u64>)] = &[
    ("max_function_size", "(module (func))", Some(2)),
    ("max_locals", "(module (func (local i32 i64) (local f64)))", Some(3)),
    ("max_functions", "(module (func) (func) (func))", Some(3)),
    ("max_functions", r#"(module (import "m" "a" (func)) (import "m" "b" (func)))"#, Some(2)),
    ("max_types", "(module (type (func)) (type (func (param i32))))", Some(2)),
    ("max_imports", r#"(module (import "m" "a" (func)) (import "m" "g" (global i32)))"#, Some(2)),
    ("max_exports", r#"(module (func (export "a") (export "b")))"#, Some(2)),
    ("max_globals", "(module (global i32 (i32.const 0)) (global i64 (i64.const 0)))", Some(2)),
    ("max_table_size", "(module (table 11 funcref))", Some(11)),
    ("max_table_size", r#"(module (import "m" "t" (table 12 20 funcref)))"#, Some(12)),
    ("max_memory_pages", "(module (memory 2 3))", Some(2)),
    ("max_memory_pages", r#"(module (import "m" "mem" (memory 3)))"#, Some(3)),
    ("max_data_segments", r#"(module (memory 1) (data (i32.const 0) "a") (data "b"))"#, Some(2)),
    ("max_element_segments", "(module (func) (elem func 0) (elem func 0 0))", Some(2)),
    ("max_data_bytes", r#"(module (memory 1) (data (i32.const 0) "ab") (data "cde"))"#, Some(5)),
    ("max_element_items", "(module (func) (elem func 0) (elem func 0 0))", Some(3)),
    ("max_nesting_depth", "(module (func (block (loop (if (i32.const 1) (then))))))", Some(4)),
    ("max_br_table_size", "(module (func (block (br_table 0 0 0 0 (i32.const 1)))))", Some(3)),
    ("max_value_stack", "(module (func i32.const 1 i32.const 2 i32.const 3 drop drop drop))", Some(3)),
    ("max_code_size", "(module (func (result i32) (i32.const 7)))", None),
];

fn limits_with(name: &str, value: u64) -> Limits {
    let mut l = Limits::default();
    *l.get_mut(name).expect("field") = value;
    l
}

fn compile(wat: &str, limits: &Limits) -> wazero::Result<Module> {
    Module::with_limits(&wat::parse_str(wat).expect("wat"), limits)
}

#[test]
fn each_limit_rejects_one_over_and_accepts_the_boundary() {
    for &(name, wat, value) in CASES {
        compile(wat, &Limits::default()).unwrap_or_else(|e| panic!("{name}: default limits: {e}"));
        if let Some(v) = value {
            compile(wat, &limits_with(name, v)).unwrap_or_else(|e| panic!("{name} = {v}: {e}"));
        }
        let max = value.map_or(1, |v| v - 1);
        let err = compile(wat, &limits_with(name, max)).err().unwrap_or_else(|| panic!("{name} = {max} accepted"));
        let Error::Compile { message, offset } = &err else { panic!("{name}: {err}") };
        assert_eq!(wazero::limits::exceeded_limit(message), Some(name), "{message}");
        assert!(message.ends_with(&format!("the maximum is {max}")), "{message}");
        if let Some(v) = value {
            assert!(message.contains(&format!("exceeded: {v} ")), "{message}");
        }
        assert!(offset.is_some(), "{name}: no offset");
    }
}

#[test]
fn every_field_has_a_case() {
    for name in Limits::FIELDS {
        assert!(CASES.iter().any(|c| c.0 == *name), "no case for {name}");
    }
}

#[test]
fn function_limits_say_which_function() {
    let wat = "(module (func) (func (local i32 i32)))";
    let err = compile(wat, &limits_with("max_locals", 1)).err().expect("rejected");
    assert!(err.to_string().contains("2 locals in function 1, the maximum is 1"), "{err}");
}
