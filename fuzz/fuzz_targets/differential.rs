#![no_main]

libfuzzer_sys::fuzz_target!(
    init: {
        wazero_fuzz::util::set_wat_printer(|wasm| wasmprinter::print_bytes(wasm).ok());
        // JIT faults libFuzzer cannot report (native stack overflow...) still leave the input.
        let dir = std::env::var("WAZERO_FUZZ_CRASH_DIR").unwrap_or_else(|_| "fuzz/artifacts/differential".into());
        wazero_fuzz::crash_dump::install(&dir);
    },
    |data: &[u8]| {
        wazero_fuzz::crash_dump::with_input(data, || wazero_fuzz::differential::run(data));
    }
);
