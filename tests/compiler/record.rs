//! Bodies around pass 1's record bound (`wazero::compiler::RECORD_OPS` operators): the
//! operators past it are decoded again from a copy of the decoder, and the code must be
//! the same as if the whole body had been recorded, whichever operator the bound falls on
//! (here inside a loop and a block that open before it and close after it).

use super::harness::*;

/// `f(p)`: a loop run `p` times that adds 1 to a counter `adds` times per iteration, padded
/// with `nop`s to exactly `ops` operators (the final `end` included); returns the counter.
fn counting_loop(adds: usize, ops: usize) -> String {
    // block, loop, the adds (4 operators each), the loop test (5), end, end, local.get, end.
    let fixed = 2 + 4 * adds + 5 + 3 + 1;
    assert!(ops >= fixed, "{ops} operators cannot hold {adds} adds");
    let mut body = String::from("block $out loop $l\n");
    body += &"nop\n".repeat(ops - fixed);
    body += &"local.get 1 i32.const 1 i32.add local.set 1\n".repeat(adds);
    body += "local.get 0 i32.const 1 i32.sub local.tee 0 br_if $l end end local.get 1";
    format!("(module (func (export \"f\") (param i32) (result i32) (local i32)\n{body}))")
}

#[test]
fn bodies_across_the_record_bound_run_correctly() {
    let bound = wazero::compiler::RECORD_OPS;
    let adds = bound / 4 - 8; // the last adds straddle the bound
    for ops in [bound - 1, bound, bound + 1, bound + 2, bound + 40, 3 * bound] {
        let wasm = wat::parse_str(counting_loop(adds, ops)).expect("wat");
        let (info, code) = compile(&wasm).unwrap_or_else(|e| panic!("{ops} operators: {e}"));
        let mut inst = Instance::build(info, code, Vec::new());
        assert_eq!(inst.call("f", &[3]), Ok(3 * adds as u64), "{ops} operators");
    }
}

#[test]
fn an_invalid_operator_past_the_record_bound_is_rejected() {
    let bound = wazero::compiler::RECORD_OPS;
    let wat = counting_loop(bound / 4 - 8, bound + 40).replace("local.get 1 i32.const 1 i32.add local.set 1\nlocal.get 0", "i64.const 1 local.set 1\nlocal.get 0");
    let wasm = wat::parse_str(wat).expect("wat");
    let e = compile(&wasm).err().expect("a type mismatch after the bound");
    assert!(e.to_string().contains("type mismatch"), "{e}");
}
