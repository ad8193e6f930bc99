//! Build script: derives `WAZERO_BUILD_ID`, a fingerprint of the sources, so that serialised
//! machine code is only ever loaded by the exact compiler and runtime that produced it
//! (code generation and data layouts change without the crate version changing).

use std::fs;
use std::path::{Path, PathBuf};

/// 64-bit FNV-1a: enough to tell builds apart (not a security boundary: the blob's own
/// checksum and the trust rules of `serialize` are).
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= b as u64;
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    files.push(root.join("Cargo.lock"));
    files.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for f in &files {
        fnv1a(&mut hash, f.strip_prefix(&root).unwrap_or(f).to_string_lossy().as_bytes());
        fnv1a(&mut hash, &fs::read(f).unwrap_or_default());
    }
    println!("cargo:rustc-env=WAZERO_BUILD_ID={hash:016x}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
