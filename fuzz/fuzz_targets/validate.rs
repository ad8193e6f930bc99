#![no_main]

libfuzzer_sys::fuzz_target!(
    init: {
        wazero_fuzz::util::set_wat_printer(|wasm| wasmprinter::print_bytes(wasm).ok());
    },
    |data: &[u8]| {
        wazero_fuzz::validate::run(data);
    }
);
