//! Functions with more than 1 MiB of code: traps, forward and backward branches across the
//! whole body land where they should (on aarch64: islands and long-form branches).

#[path = "../common/big_function.rs"]
mod big_function;

use super::harness::*;
use wazero::TrapKind;

#[test]
fn over_one_mib_function_traps_from_start_and_end_and_returns() {
    let wasm = wat::parse_str(big_function::wat()).expect("wat");
    let (info, code) = compile(&wasm).expect("a > 1 MiB function compiles");
    let mut inst = Instance::build(info, code, Vec::new());
    assert_eq!(inst.call("f", &[0]), Ok(big_function::expected() as u64));
    assert_eq!(inst.call("f", &[1]), Err(TrapKind::IntegerDivideByZero));
    assert_eq!(inst.call("f", &[2]), Err(TrapKind::IntegerDivideByZero));
    assert_eq!(inst.call("f", &[3]), Err(TrapKind::MemoryOutOfBounds));
    assert_eq!(inst.call("f", &[4]), Ok(0));
    assert_eq!(inst.call("f", &[5]), Err(TrapKind::StackOverflow));
    // A trap leaves the instance usable.
    assert_eq!(inst.call("f", &[0]), Ok(big_function::expected() as u64));
}
