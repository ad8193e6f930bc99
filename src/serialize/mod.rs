//! Serialised compiled modules: [`Module::serialize`] and [`Module::deserialize`].
//!
//! Generated code is position-independent (calls within the module are relative, builtins
//! and the trap exit are reached through the store's `VMRuntime`, signature ids and every
//! other per-instance value through the vmctx), so a blob is the module's metadata plus its
//! code bytes and function offsets, loaded by copying the code into fresh executable pages.
//!
//! ## Format (version [`FORMAT_VERSION`], little-endian)
//! ```text
//!   0   magic        8 bytes  b"\0wazero\x1a"
//!   8   format       u32      FORMAT_VERSION
//!  12   isa          u8       1 = x86-64, 2 = aarch64
//!  13   reserved     3 bytes  zero
//!  16   cpu features u64      features the code relies on (x86-64: see `feature_bits`)
//!  24   engine       u32 length + UTF-8: "wazero <version> build <source fingerprint>"
//!  ..   payload      u64 length + bytes: ModuleInfo, code, function offsets (`codec`)
//! end-32 checksum    SHA-256 of every byte before it
//! ```
//! A blob is accepted only when every field matches this build and this CPU exactly; any
//! other blob is rejected with [`Error::Deserialize`] before any of its code is mapped.
//!
//! ## Trust
//! The checksum detects corruption (truncated files, flipped bits), not tampering: anyone
//! can compute a SHA-256. A blob *is* native code, so deserialising one is as dangerous as
//! running a native library from the same source; that is why [`Module::deserialize`] is
//! `unsafe`. Only load blobs this program (or a trusted equal) wrote, e.g. through a pipe to
//! a worker process or a cache directory nobody else can write.

pub mod cache;
mod check;
mod codec;

use sha2::{Digest, Sha256};

use crate::compiler::isa::x64::CpuFeatures;
use crate::compiler::{CompiledCode, Isa};
use crate::error::{Error, Result};
use crate::module::{Module, ModuleInfo};
use crate::runtime::code::CodeMemory;
use codec::{Reader, Writer};

/// First bytes of every serialised module.
pub const MAGIC: [u8; 8] = *b"\0wazero\x1a";

/// Version of the layout described in the module docs; bump it on any change to the format,
/// the builtin table order or anything else generated code assumes.
pub const FORMAT_VERSION: u32 = 1;

/// Length of the trailing SHA-256.
const CHECKSUM_LEN: usize = 32;

/// Offset of the engine string's length.
const ENGINE_OFFSET: usize = 24;

/// What produced a blob: the crate version and a fingerprint of the sources it was built
/// from (`build.rs`), so two builds never exchange code.
pub fn engine_id() -> String {
    format!("wazero {} build {}", env!("CARGO_PKG_VERSION"), env!("WAZERO_BUILD_ID"))
}

fn isa_code(isa: Isa) -> u8 {
    match isa {
        Isa::X64 => 1,
        Isa::Aarch64 => 2,
    }
}

fn isa_name(code: u8) -> String {
    match code {
        1 => "x86-64".into(),
        2 => "aarch64".into(),
        other => format!("unknown ISA {other}"),
    }
}

/// x86-64 feature bits of the header, with their names.
const X64_FEATURES: [(u64, &str); 6] =
    [(1, "lzcnt"), (2, "bmi1"), (4, "popcnt"), (8, "sse4.1"), (16, "sse4.2"), (32, "ssse3")];

/// The CPU features code compiled for `isa` in this process relies on. x86-64 code always
/// needs SSE4.1 and SSSE3 (the compiler refuses CPUs without them) and uses the optional
/// instructions the compiler detected; aarch64 code needs only the base ISA with NEON.
pub fn feature_bits(isa: Isa) -> u64 {
    match isa {
        Isa::X64 => {
            let f = CpuFeatures::detect();
            let flags = [f.lzcnt, f.bmi1, f.popcnt, true, f.sse42, true];
            X64_FEATURES.iter().zip(flags).filter(|(_, on)| *on).map(|((bit, _), _)| bit).sum()
        }
        Isa::Aarch64 => 0,
    }
}

fn feature_names(isa: u8, bits: u64) -> String {
    let names: Vec<&str> = if isa == 1 {
        X64_FEATURES.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| *n).collect()
    } else {
        Vec::new()
    };
    if names.is_empty() {
        format!("{bits:#x}")
    } else {
        names.join(", ")
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Deserialize(msg.into())
}

/// Writes a blob of `info` with `code` (function entries at `func_offsets`) compiled for
/// `isa` relying on `features` (see the module docs for the layout).
pub fn encode(info: &ModuleInfo, code: &[u8], func_offsets: &[usize], isa: Isa, features: u64) -> Vec<u8> {
    let mut payload = Writer::default();
    codec::put_info(&mut payload, info);
    payload.bytes(code);
    payload.len(func_offsets.len());
    for &o in func_offsets {
        payload.u32(u32::try_from(o).expect("code larger than 4 GiB"));
    }

    let mut w = Writer::default();
    w.buf.extend_from_slice(&MAGIC);
    w.u32(FORMAT_VERSION);
    w.u8(isa_code(isa));
    w.buf.extend_from_slice(&[0; 3]);
    w.u64(features);
    w.bytes(engine_id().as_bytes());
    w.u64(payload.buf.len() as u64);
    w.buf.extend_from_slice(&payload.buf);
    let sum = Sha256::digest(&w.buf);
    w.buf.extend_from_slice(&sum);
    w.buf
}

/// Validates and compiles a module binary for `isa` (any host) and serialises it: blobs for
/// another machine, and foreign blobs for tests.
pub fn precompile(wasm: &[u8], isa: Isa) -> Result<Vec<u8>> {
    let (info, code, offsets) = crate::module::compile_parts_for(wasm, isa)?;
    Ok(encode(&info, &code, &offsets, isa, feature_bits(isa)))
}

/// The parts of a blob that passed every header check.
struct Parts {
    info: ModuleInfo,
    code: Vec<u8>,
    func_offsets: Vec<usize>,
}

/// Checks the header and checksum of `blob` against this build and CPU, then decodes and
/// checks the payload. Nothing is mapped executable here.
fn decode(blob: &[u8]) -> Result<Parts> {
    let min = ENGINE_OFFSET + 4 + 8 + CHECKSUM_LEN;
    if blob.len() < MAGIC.len() || blob[..MAGIC.len()] != MAGIC {
        return Err(bad("not a serialized wazero module (bad magic bytes)"));
    }
    if blob.len() < min {
        return Err(bad(format!("truncated: {} bytes, the header alone takes {min}", blob.len())));
    }
    let mut r = Reader::new(blob);
    let header = |e: String| bad(format!("malformed header: {e}"));
    r.take(MAGIC.len(), "magic").map_err(header)?;
    let version = r.u32("format version").map_err(header)?;
    if version != FORMAT_VERSION {
        return Err(bad(format!("format version {version}, this wazero reads version {FORMAT_VERSION}")));
    }
    let (body, sum) = blob.split_at(blob.len() - CHECKSUM_LEN);
    if Sha256::digest(body).as_slice() != sum {
        return Err(bad("checksum mismatch: the blob is corrupted or truncated"));
    }
    let mut r = Reader::new(body);
    r.take(MAGIC.len() + 4, "magic").map_err(header)?;
    let isa = r.u8("isa").map_err(header)?;
    if r.take(3, "reserved bytes").map_err(header)? != [0, 0, 0] {
        return Err(bad("malformed header: reserved bytes are not zero"));
    }
    let features = r.u64("cpu features").map_err(header)?;
    let engine = r.bytes("engine").map_err(header)?;
    if engine != engine_id().as_bytes() {
        return Err(bad(format!(
            "compiled by '{}', this is '{}' (serialized code only loads into the build that wrote it)",
            String::from_utf8_lossy(engine),
            engine_id()
        )));
    }
    let host = Isa::host().ok_or_else(|| bad("unsupported: host architecture"))?;
    if isa != isa_code(host) {
        return Err(bad(format!("compiled for {}, this CPU is {}", isa_name(isa), isa_name(isa_code(host)))));
    }
    let missing = features & !feature_bits(host);
    if missing != 0 {
        return Err(bad(format!("the code needs CPU features this CPU lacks: {}", feature_names(isa, missing))));
    }
    let payload_len = r.u64("payload length").map_err(header)?;
    let payload = r.take(usize::try_from(payload_len).unwrap_or(usize::MAX), "payload").map_err(header)?;
    r.finish().map_err(header)?;

    let invalid = |e: String| bad(format!("invalid payload: {e}"));
    let mut p = Reader::new(payload);
    let info = codec::get_info(&mut p).map_err(invalid)?;
    let code = p.bytes("code").map_err(invalid)?.to_vec();
    let n = p.u32("function offset count").map_err(invalid)? as usize;
    let offsets = p.take(n.saturating_mul(4), "function offsets").map_err(invalid)?;
    let func_offsets: Vec<usize> =
        offsets.chunks(4).map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")) as usize).collect();
    p.finish().map_err(invalid)?;
    check::check(&info, code.len(), &func_offsets).map_err(invalid)?;
    Ok(Parts { info, code, func_offsets })
}

impl Module {
    /// The compiled module as bytes that [`Module::deserialize`] turns back into a module, in
    /// this build of wazero on a CPU with the same features (see [`crate::serialize`]).
    pub fn serialize(&self) -> Vec<u8> {
        let isa = Isa::host().expect("a module was compiled, so the host has a backend");
        let code = &self.inner.code;
        encode(&self.inner.info, code.code.bytes(), &code.func_offsets, isa, feature_bits(isa))
    }

    /// Loads a module written by [`Module::serialize`]. A blob from another wazero build,
    /// format version, ISA or CPU feature set, or one that is truncated or corrupted, is
    /// rejected with [`Error::Deserialize`] and none of its code runs.
    ///
    /// # Safety
    /// The blob's machine code runs as is: the checks catch accidents, not attacks (see the
    /// module docs). The caller must trust the blob's origin as it would a native library.
    pub unsafe fn deserialize(blob: &[u8]) -> Result<Module> {
        let parts = decode(blob)?;
        let code = CodeMemory::new(&parts.code)?;
        let code = CompiledCode { code, func_offsets: parts.func_offsets };
        Ok(Module::from_parts(parts.info, code))
    }
}

/// Whether `blob` would be accepted by [`Module::deserialize`] (header, checksum and payload
/// checks), without mapping its code.
pub fn check_blob(blob: &[u8]) -> Result<()> {
    decode(blob).map(|_| ())
}
