//! The one place that says which Wasm proposals the fuzzers generate and compare.

use wasmparser::WasmFeatures;

/// A set of Wasm proposals, as toggles shared by wasm-smith, wasmparser and wasmi.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FeatureSet {
    pub mutable_global: bool,
    pub sign_extension: bool,
    pub saturating_float_to_int: bool,
    pub multi_value: bool,
    pub bulk_memory: bool,
    pub reference_types: bool,
    pub simd: bool,
}

/// The proposals the JIT compiles *today*: Wasm 2.0 without SIMD, i.e. Wasm 1.0 +
/// sign-extension + saturating float-to-int + multi-value + mutable globals + bulk memory +
/// reference types (bulk memory and reference types were turned on once main's compiler
/// passed their spec tests; set them to `false` to fuzz the Wasm 1.0-based set only).
///
/// Enabling a proposal for fuzzing is a one-line change here: flip its toggle when the
/// compiler supports it (SIMD next). Everything not listed in `FeatureSet` (exceptions, GC,
/// memory64, relaxed SIMD, tail calls, threads, wide arithmetic, extended-const, custom page
/// sizes, multi-memory) is always off.
pub fn supported() -> FeatureSet {
    FeatureSet {
        mutable_global: true,
        sign_extension: true,
        saturating_float_to_int: true,
        multi_value: true,
        bulk_memory: true,      // memory.copy/fill/init, data.drop, table.copy/init, elem.drop
        reference_types: true,  // funcref/externref values, table.get/set/grow/size/fill, several tables
        simd: true,             // v128 and its operators (never relaxed SIMD)
    }
}

impl FeatureSet {
    /// The same set for `wasmparser::Validator`.
    pub fn wasmparser(&self) -> WasmFeatures {
        let mut f = WasmFeatures::MVP;
        f.set(WasmFeatures::MUTABLE_GLOBAL, self.mutable_global);
        f.set(WasmFeatures::SIGN_EXTENSION, self.sign_extension);
        f.set(WasmFeatures::SATURATING_FLOAT_TO_INT, self.saturating_float_to_int);
        f.set(WasmFeatures::MULTI_VALUE, self.multi_value);
        f.set(WasmFeatures::BULK_MEMORY, self.bulk_memory);
        f.set(WasmFeatures::REFERENCE_TYPES, self.reference_types);
        f.set(WasmFeatures::SIMD, self.simd);
        f
    }

    /// Forces these toggles (and turns every other proposal off) in a wasm-smith config.
    pub fn configure_smith(&self, c: &mut wasm_smith::Config) {
        // wasm-smith always generates mutable globals (no knob).
        c.sign_extension_ops_enabled = self.sign_extension;
        c.saturating_float_to_int_enabled = self.saturating_float_to_int;
        c.multi_value_enabled = self.multi_value;
        c.bulk_memory_enabled = self.bulk_memory;
        c.reference_types_enabled = self.reference_types;
        c.simd_enabled = self.simd;
        c.relaxed_simd_enabled = false;
        c.exceptions_enabled = false;
        c.gc_enabled = false;
        c.memory64_enabled = false;
        c.tail_call_enabled = false;
        c.threads_enabled = false;
        c.shared_everything_threads_enabled = false;
        c.wide_arithmetic_enabled = false;
        c.extended_const_enabled = false;
        c.custom_page_sizes_enabled = false;
        c.custom_descriptors_enabled = false;
        c.acquire_release_atomics_enabled = false;
        c.multibyte_array_access_enabled = false;
        c.compact_imports_enabled = false;
        c.max_memories = c.max_memories.min(1); // no multi-memory
        if !self.reference_types {
            c.max_tables = c.max_tables.min(1);
        }
    }

    /// Forces these toggles (and turns every other proposal off) in a wasmi config.
    pub fn configure_wasmi(&self, c: &mut wasmi::Config) {
        c.wasm_mutable_global(self.mutable_global)
            .wasm_sign_extension(self.sign_extension)
            .wasm_saturating_float_to_int(self.saturating_float_to_int)
            .wasm_multi_value(self.multi_value)
            .wasm_bulk_memory(self.bulk_memory)
            .wasm_reference_types(self.reference_types)
            .wasm_simd(self.simd)
            .wasm_relaxed_simd(false)
            .wasm_multi_memory(false)
            .wasm_tail_call(false)
            .wasm_extended_const(false)
            .wasm_custom_page_sizes(false)
            .wasm_memory64(false)
            .wasm_wide_arithmetic(false);
    }
}
