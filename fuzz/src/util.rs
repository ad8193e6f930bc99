//! Small helpers: a deterministic byte stream for the smoke passes, and an optional WAT printer.

use std::sync::OnceLock;

/// SplitMix64: a tiny deterministic generator, so smoke runs are reproducible everywhere.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// `n` deterministic fuzz inputs of 64..max_len bytes derived from `seed`.
pub fn smoke_inputs(seed: u64, n: usize, max_len: usize) -> Vec<Vec<u8>> {
    let mut rng = SplitMix64(seed);
    (0..n)
        .map(|_| {
            let len = 64 + (rng.next_u64() as usize) % max_len.saturating_sub(64).max(1);
            rng.bytes(len)
        })
        .collect()
}

static WAT_PRINTER: OnceLock<fn(&[u8]) -> Option<String>> = OnceLock::new();

/// Installs a Wasm→WAT printer used in failure messages (the fuzz crate installs wasmprinter;
/// the stable replay test has none and prints sizes only).
pub fn set_wat_printer(f: fn(&[u8]) -> Option<String>) {
    let _ = WAT_PRINTER.set(f);
}

/// The module as WAT if a printer is installed and the module is small, else a short note.
pub fn describe_module(wasm: &[u8]) -> String {
    match WAT_PRINTER.get().and_then(|p| if wasm.len() <= 4096 { p(wasm) } else { None }) {
        Some(wat) => format!("module ({} bytes):\n{wat}", wasm.len()),
        None => format!(
            "module: {} bytes (print it with `cargo run --manifest-path fuzz/Cargo.toml --example print_case -- <target> <input>`)",
            wasm.len()
        ),
    }
}

/// Whether verbose tracing was requested (`WAZERO_FUZZ_VERBOSE=1`).
pub fn verbose() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| std::env::var_os("WAZERO_FUZZ_VERBOSE").is_some_and(|v| v != "0"))
}
