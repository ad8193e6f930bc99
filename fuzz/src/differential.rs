//! `differential`: wasm-smith modules run on wazero and on wasmi, results, traps, exported
//! globals and exported memories compared after every call.

use arbitrary::{Result, Unstructured};

use super::engines::{compare_call, compare_state, CallVerdict, Failure, WasmiInstance, WazeroInstance};
use super::features;
use super::util::{describe_module, verbose};
use super::value::{list, DiffValue};

/// Fuel given to `ensure_termination`: every loop head and function entry costs one unit,
/// and the fuel global is shared by all calls of a case.
pub const FUEL: u32 = 1000;
/// Calls per exported function, at most.
pub const MAX_CALLS_PER_EXPORT: u32 = 5;

/// The wasm-smith configuration: drawn from the input, then forced to what we compare.
pub fn config(u: &mut Unstructured<'_>) -> Result<wasm_smith::Config> {
    let mut c: wasm_smith::Config = u.arbitrary()?;
    features::supported().configure_smith(&mut c);
    c.min_types = c.min_types.max(1);
    c.max_types = c.max_types.max(1);
    c.min_funcs = c.min_funcs.max(1);
    c.max_funcs = c.max_funcs.max(1);
    c.max_imports = 0;
    c.min_imports = 0;
    c.export_everything = true;
    c.canonicalize_nans = true;
    c.allow_invalid_funcs = false;
    // wasm-smith's trap-avoiding code (`select`ing 1 for a zero divisor, ...) triggers a wasmi
    // 2.0.0 miscompilation that reports spurious divide-by-zero traps
    // (fuzz/oracle-bugs/wasmi-2.0.0-spurious-div-by-zero.wat): let traps happen instead.
    c.disallow_traps = false;
    // One memory of at most 10 pages, with a maximum; tables of at most 1000 elements, with a maximum.
    c.max_memories = c.max_memories.min(1);
    c.max_memory32_bytes = c.max_memory32_bytes.min(10 * 65536);
    c.memory_max_size_required = true;
    c.max_table_elements = c.max_table_elements.min(1000);
    c.table_max_size_required = true;
    // 1000..=5000 instructions per function (arbitrary draws 0..=1000).
    c.max_instructions = 1000 + c.max_instructions.min(1000) * 4;
    Ok(c)
}

/// Generates the module of a case.
pub fn module(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let c = config(u)?;
    let mut m = wasm_smith::Module::new(c, u)?;
    m.ensure_termination(FUEL).expect("ensure_termination on a wasm-smith generated module");
    Ok(m.to_bytes())
}

/// libFuzzer entry point: runs one case, panics on any divergence.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = check(&mut u);
}

/// One differential case. `Err` only means the input ran out of bytes early.
pub fn check(u: &mut Unstructured<'_>) -> Result<()> {
    let wasm = module(u)?;
    let trace = verbose();
    let fail = |what: String| -> ! { panic!("differential: {what}\n{}", describe_module(&wasm)) };

    // Compile: wasm-smith only produces valid modules, so both must accept.
    let wz_module = match wazero::Module::new(&wasm) {
        Ok(m) => m,
        Err(e) => fail(format!("wazero rejected a valid module: {e}")),
    };
    let engine = WasmiInstance::engine(&features::supported());
    let wi_module = match WasmiInstance::compile(&engine, &wasm) {
        Ok(m) => m,
        Err(e) => fail(format!("wasmi (oracle) rejected the module: {e}")),
    };

    // Instantiate (runs the start function): both succeed or both fail.
    let wz = WazeroInstance::new(&wz_module);
    let wi = WasmiInstance::new(&engine, &wi_module);
    if trace {
        eprintln!(
            "instantiate: wazero {} / wasmi {}",
            wz.as_ref().map_or_else(|e| e.to_string(), |_| "ok".into()),
            wi.as_ref().map_or_else(|e| e.to_string(), |_| "ok".into())
        );
    }
    let (wz, mut wi) = match (wz, wi) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(b)) => {
            match (a.trap(), b.trap()) {
                (Some(x), Some(y)) if x.is_nondeterministic() || y.is_nondeterministic() => {}
                (Some(x), Some(y)) if x != y => {
                    fail(format!("instantiation traps differ: wazero {x:?} vs wasmi {y:?}"))
                }
                _ => {}
            }
            return Ok(());
        }
        (Err(a), Ok(_)) => {
            if a.trap().is_some_and(|t| t.is_nondeterministic()) {
                return Ok(());
            }
            fail(format!("instantiation: wazero failed ({a}) but wasmi succeeded"))
        }
        (Ok(_), Err(b)) => {
            if b.trap().is_some_and(|t| t.is_nondeterministic()) {
                return Ok(());
            }
            fail(format!("instantiation: wasmi failed ({b}) but wazero succeeded"))
        }
    };

    let kinds = wz.export_kinds();
    if kinds != wi.export_kinds() {
        fail(format!("export lists differ: wazero {kinds:?} vs wasmi {:?}", wi.export_kinds()));
    }
    if let Err(d) = compare_state(&wz, &wi) {
        fail(format!("after instantiation: {d}"));
    }

    for export in wz.func_exports() {
        let calls = u.int_in_range(1..=MAX_CALLS_PER_EXPORT)?;
        for k in 0..calls {
            let args = export
                .params
                .iter()
                .map(|&t| DiffValue::arbitrary_of_type(u, t))
                .collect::<Result<Vec<_>>>()?;
            let a = wz.call(&export.name, &args);
            let b = wi.call(&export.name, &args);
            if trace {
                eprintln!(
                    "call {:?} #{k} {}: wazero {} / wasmi {}",
                    export.name,
                    list(&args),
                    super::engines::show(&a),
                    super::engines::show(&b)
                );
            }
            if let Err(Failure::Error(e)) = &a {
                fail(format!("call of export {:?} with args {}: wazero error: {e}", export.name, list(&args)));
            }
            match compare_call(&a, &b, &|_, x, y| x == y) {
                Ok(CallVerdict::Same) => {}
                Ok(CallVerdict::Stop) => return Ok(()),
                Err(d) => fail(format!("call #{k} of export {:?} with args {}: {d}", export.name, list(&args))),
            }
            if let Err(d) = compare_state(&wz, &wi) {
                fail(format!("after call #{k} of export {:?} with args {}: {d}", export.name, list(&args)));
            }
        }
    }
    Ok(())
}
