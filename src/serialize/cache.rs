//! An on-disk cache of compiled modules, one file per module, keyed by SHA-256 of the
//! engine id (version + source fingerprint), target ISA, CPU features and the module bytes.
//!
//! - Entries are written to a temporary file in the same directory and renamed into place,
//!   so readers (other threads or processes) see either no entry or a complete one; two
//!   processes compiling the same module both write a valid entry and the last rename wins.
//! - An entry that is truncated, corrupted, from another build or for another module is
//!   never loaded: it is recompiled and replaced. Cache I/O errors never fail a compile.
//! - Trust: an entry is native code (see [`crate::serialize`]). The directory must be as
//!   trusted as the program: nobody else may write to it. On Unix, entries owned by another
//!   user are ignored.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::compiler::Isa;
use crate::error::{Error, Result};
use crate::module::Module;
use crate::limits::Limits;

/// How a module was obtained from the cache.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a valid entry.
    Hit,
    /// No entry: compiled (and stored).
    Miss,
    /// An entry existed but was rejected (corrupted, truncated, stale): compiled and replaced.
    Invalid,
}

/// Counts of each [`CacheOutcome`] since the cache was opened.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub invalid: u64,
}

/// A directory of compiled modules. Safe to share between threads and processes.
#[derive(Debug)]
pub struct ModuleCache {
    dir: PathBuf,
    hits: AtomicU64,
    misses: AtomicU64,
    invalid: AtomicU64,
}

/// Suffix of entry files.
const ENTRY_SUFFIX: &str = ".wazero-module";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ModuleCache {
    /// Opens (creating it if needed) the cache directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Result<ModuleCache> {
        let dir = dir.into();
        fs::create_dir_all(&dir)
            .map_err(|e| Error::Resource(format!("cannot create cache directory {}: {e}", dir.display())))?;
        Ok(ModuleCache { dir, hits: AtomicU64::new(0), misses: AtomicU64::new(0), invalid: AtomicU64::new(0) })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a module binary: everything that changes the code generated for it.
    pub fn key(wasm: &[u8]) -> [u8; 32] {
        Self::key_with_limits(wasm, &Limits::default())
    }

    /// The key of a module binary compiled within `limits`: an entry is only reused under the
    /// limits it was checked against (a hit must not skip a stricter runtime's checks).
    pub fn key_with_limits(wasm: &[u8], limits: &Limits) -> [u8; 32] {
        let isa = Isa::host();
        let mut h = Sha256::new();
        h.update(b"wazero module cache\0");
        h.update(super::engine_id().as_bytes());
        h.update(super::FORMAT_VERSION.to_le_bytes());
        h.update([isa.map_or(0, |i| i as u8 + 1)]);
        h.update(isa.map_or(0, super::feature_bits).to_le_bytes());
        for name in Limits::FIELDS {
            h.update(limits.get(name).unwrap_or(0).to_le_bytes());
        }
        h.update((wasm.len() as u64).to_le_bytes());
        h.update(wasm);
        h.finalize().into()
    }

    /// The entry file of a module binary.
    pub fn entry_path(&self, wasm: &[u8]) -> PathBuf {
        self.entry_path_for(&Self::key(wasm))
    }

    fn entry_path_for(&self, key: &[u8; 32]) -> PathBuf {
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(hex + ENTRY_SUFFIX)
    }

    /// The module of binary `wasm`: loaded from its entry, or compiled and stored.
    /// Compile errors are returned (and nothing is stored).
    pub fn get_or_compile(&self, wasm: &[u8]) -> Result<(Module, CacheOutcome)> {
        self.get_or_compile_with_limits(wasm, &Limits::default())
    }

    /// [`ModuleCache::get_or_compile`] within `limits` (part of the key).
    pub fn get_or_compile_with_limits(&self, wasm: &[u8], limits: &Limits) -> Result<(Module, CacheOutcome)> {
        let key = Self::key_with_limits(wasm, limits);
        let path = self.entry_path_for(&key);
        let outcome = match read_entry(&path) {
            None => CacheOutcome::Miss,
            Some(data) => match data.strip_prefix(&key[..]) {
                // SAFETY: the entry is in a directory the caller vouches for (module docs),
                // belongs to this user and carries this module's key; `deserialize` checks
                // the build, ISA, features and checksum.
                Some(blob) => match unsafe { Module::deserialize(blob) } {
                    Ok(module) => {
                        self.hits.fetch_add(1, Ordering::Relaxed);
                        return Ok((module, CacheOutcome::Hit));
                    }
                    Err(_) => CacheOutcome::Invalid,
                },
                None => CacheOutcome::Invalid,
            },
        };
        let module = Module::with_limits(wasm, limits)?;
        let counter = if outcome == CacheOutcome::Miss { &self.misses } else { &self.invalid };
        counter.fetch_add(1, Ordering::Relaxed);
        // Best effort: a full disk or read-only directory only costs the next compile.
        let _ = self.store(&path, &key, &module.serialize());
        Ok((module, outcome))
    }

    /// Counts of hits, misses and rejected entries so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalid: self.invalid.load(Ordering::Relaxed),
        }
    }

    /// Writes `key || blob` to a private temporary file and renames it over `path`.
    fn store(&self, path: &Path, key: &[u8; 32], blob: &[u8]) -> std::io::Result<()> {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = self.dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        let result = (|| {
            let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(key)?;
            f.write_all(blob)?;
            drop(f);
            fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// The bytes of an entry, or `None` if it is absent, unreadable or not ours to trust.
fn read_entry(path: &Path) -> Option<Vec<u8>> {
    let data = fs::read(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: `geteuid` has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if fs::metadata(path).ok()?.uid() != me {
            return None;
        }
    }
    Some(data)
}
