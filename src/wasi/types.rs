//! `wasi_snapshot_preview1` constants, guest memory access and errno mapping.

use std::io;

/// A WASI errno value (`errno` in the witx; 0 = success).
pub type Errno = u16;

pub mod errno {
    use super::Errno;
    pub const SUCCESS: Errno = 0;
    pub const TOOBIG: Errno = 1;
    pub const ACCES: Errno = 2;
    pub const AGAIN: Errno = 6;
    pub const BADF: Errno = 8;
    pub const BUSY: Errno = 10;
    pub const EXIST: Errno = 20;
    pub const FAULT: Errno = 21;
    pub const FBIG: Errno = 22;
    pub const ILSEQ: Errno = 25;
    pub const INTR: Errno = 27;
    pub const INVAL: Errno = 28;
    pub const IO: Errno = 29;
    pub const ISDIR: Errno = 31;
    pub const LOOP: Errno = 32;
    pub const MFILE: Errno = 33;
    pub const MLINK: Errno = 34;
    pub const NAMETOOLONG: Errno = 37;
    pub const NFILE: Errno = 41;
    pub const NODEV: Errno = 43;
    pub const NOENT: Errno = 44;
    pub const NOMEM: Errno = 48;
    pub const NOSPC: Errno = 51;
    pub const NOSYS: Errno = 52;
    pub const NOTDIR: Errno = 54;
    pub const NOTEMPTY: Errno = 55;
    pub const NOTSOCK: Errno = 57;
    pub const NOTSUP: Errno = 58;
    pub const NOTTY: Errno = 59;
    pub const NXIO: Errno = 60;
    pub const OVERFLOW: Errno = 61;
    pub const PERM: Errno = 63;
    pub const PIPE: Errno = 64;
    pub const RANGE: Errno = 68;
    pub const ROFS: Errno = 69;
    pub const SPIPE: Errno = 70;
    pub const TXTBSY: Errno = 74;
    pub const XDEV: Errno = 75;
    pub const NOTCAPABLE: Errno = 76;
}

pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_DGRAM: u8 = 5;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

pub mod fdflags {
    pub const APPEND: u16 = 1;
    pub const DSYNC: u16 = 2;
    pub const NONBLOCK: u16 = 4;
    pub const RSYNC: u16 = 8;
    pub const SYNC: u16 = 16;
}

pub mod oflags {
    pub const CREAT: u16 = 1;
    pub const DIRECTORY: u16 = 2;
    pub const EXCL: u16 = 4;
    pub const TRUNC: u16 = 8;
}

pub mod fstflags {
    pub const ATIM: u16 = 1;
    pub const ATIM_NOW: u16 = 2;
    pub const MTIM: u16 = 4;
    pub const MTIM_NOW: u16 = 8;
}

pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    pub const ALL: u64 = (1 << 30) - 1;

    /// Rights of a regular file descriptor.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// Rights of a directory descriptor (its base rights).
    pub const DIR: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | POLL_FD_READWRITE;
    /// Rights a directory hands down to what is opened through it.
    pub const DIR_INHERITING: u64 = DIR | FILE;
    /// Rights that modify the file system (removed from read-only preopens).
    pub const WRITING: u64 = FD_DATASYNC
        | FD_WRITE
        | FD_ALLOCATE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;
    /// Rights of stdin/stdout/stderr.
    pub const STDIO: u64 = FD_READ | FD_WRITE | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
}

/// Maps an I/O error to the errno wasmtime reports for it on Linux.
pub fn errno_of(e: &io::Error) -> Errno {
    if let Some(code) = e.raw_os_error() {
        return errno_of_raw(code);
    }
    use io::ErrorKind::*;
    match e.kind() {
        NotFound => errno::NOENT,
        PermissionDenied => errno::PERM,
        AlreadyExists => errno::EXIST,
        InvalidInput => errno::INVAL,
        InvalidData => errno::ILSEQ,
        WouldBlock => errno::AGAIN,
        Interrupted => errno::INTR,
        BrokenPipe => errno::PIPE,
        Unsupported => errno::NOTSUP,
        OutOfMemory => errno::NOMEM,
        UnexpectedEof => errno::IO,
        _ => errno::IO,
    }
}

/// Maps a Linux errno to a WASI errno.
pub fn errno_of_raw(code: i32) -> Errno {
    match code {
        libc::EPERM => errno::PERM,
        libc::ENOENT => errno::NOENT,
        libc::ESRCH => 71,
        libc::EINTR => errno::INTR,
        libc::EIO => errno::IO,
        libc::ENXIO => errno::NXIO,
        libc::E2BIG => errno::TOOBIG,
        libc::ENOEXEC => 45,
        libc::EBADF => errno::BADF,
        libc::ECHILD => 12,
        libc::EAGAIN => errno::AGAIN,
        libc::ENOMEM => errno::NOMEM,
        libc::EACCES => errno::ACCES,
        libc::EFAULT => errno::FAULT,
        libc::EBUSY => errno::BUSY,
        libc::EEXIST => errno::EXIST,
        libc::EXDEV => errno::XDEV,
        libc::ENODEV => errno::NODEV,
        libc::ENOTDIR => errno::NOTDIR,
        libc::EISDIR => errno::ISDIR,
        libc::EINVAL => errno::INVAL,
        libc::ENFILE => errno::NFILE,
        libc::EMFILE => errno::MFILE,
        libc::ENOTTY => errno::NOTTY,
        libc::ETXTBSY => errno::TXTBSY,
        libc::EFBIG => errno::FBIG,
        libc::ENOSPC => errno::NOSPC,
        libc::ESPIPE => errno::SPIPE,
        libc::EROFS => errno::ROFS,
        libc::EMLINK => errno::MLINK,
        libc::EPIPE => errno::PIPE,
        libc::EDOM => 18,
        libc::ERANGE => errno::RANGE,
        libc::EDEADLK => 16,
        libc::ENAMETOOLONG => errno::NAMETOOLONG,
        libc::ENOLCK => 46,
        libc::ENOSYS => errno::NOSYS,
        libc::ENOTEMPTY => errno::NOTEMPTY,
        libc::ELOOP => errno::LOOP,
        libc::EOVERFLOW => errno::OVERFLOW,
        libc::EILSEQ => errno::ILSEQ,
        libc::ENOTSOCK => errno::NOTSOCK,
        libc::EOPNOTSUPP => errno::NOTSUP,
        libc::EMSGSIZE => 35,
        libc::EADDRINUSE => 3,
        libc::EADDRNOTAVAIL => 4,
        libc::ECONNREFUSED => 14,
        libc::ECONNRESET => 15,
        libc::ECONNABORTED => 13,
        libc::ENOTCONN => 53,
        libc::ETIMEDOUT => 73,
        libc::EDQUOT => 19,
        libc::ESTALE => 72,
        _ => errno::IO,
    }
}

/// A view of the calling instance's linear memory for the duration of one host call.
/// Every access is bounds-checked; an out-of-bounds guest pointer is `EFAULT`.
pub struct GuestMem {
    base: *mut u8,
    len: usize,
}

impl GuestMem {
    /// # Safety
    /// `[base, base+len)` must be mapped and writable for as long as the value lives, and no
    /// other code may access it concurrently (WASI host calls never re-enter Wasm).
    pub unsafe fn new(base: *mut u8, len: usize) -> GuestMem {
        GuestMem { base, len }
    }

    fn range(&self, ptr: u32, len: u32) -> Result<(usize, usize), Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(errno::FAULT)?;
        if end > self.len {
            return Err(errno::FAULT);
        }
        Ok((start, end))
    }

    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let (s, e) = self.range(ptr, len)?;
        // SAFETY: bounds checked against the mapped length (see `new`).
        Ok(unsafe { std::slice::from_raw_parts(self.base.add(s), e - s) })
    }

    #[allow(clippy::mut_from_ref)]
    pub fn slice_mut(&self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let (s, e) = self.range(ptr, len)?;
        // SAFETY: bounds checked; callers never hold two overlapping slices at once
        // (each is used and dropped before the next is taken).
        Ok(unsafe { std::slice::from_raw_parts_mut(self.base.add(s), e - s) })
    }

    pub fn read<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        Ok(self.slice(ptr, N as u32)?.try_into().unwrap())
    }
    pub fn u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.read::<1>(ptr)?[0])
    }
    pub fn u16(&self, ptr: u32) -> Result<u16, Errno> {
        Ok(u16::from_le_bytes(self.read(ptr)?))
    }
    pub fn u32(&self, ptr: u32) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.read(ptr)?))
    }
    pub fn u64(&self, ptr: u32) -> Result<u64, Errno> {
        Ok(u64::from_le_bytes(self.read(ptr)?))
    }
    pub fn write(&self, ptr: u32, data: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(data.len()).map_err(|_| errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }
    pub fn put_u32(&self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }
    pub fn put_u64(&self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// A guest string (not NUL-terminated), which must be UTF-8 (`EILSEQ` otherwise).
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str, Errno> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| errno::ILSEQ)
    }

    /// The `(buf, len)` pairs of an iovec/ciovec array, each range checked.
    pub fn iovecs(&self, iovs: u32, n: u32) -> Result<Vec<(u32, u32)>, Errno> {
        let total = n.checked_mul(8).ok_or(errno::FAULT)?;
        self.slice(iovs, total)?;
        let mut out = Vec::with_capacity(n as usize);
        for i in 0..n {
            let buf = self.u32(iovs + i * 8)?;
            let len = self.u32(iovs + i * 8 + 4)?;
            self.range(buf, len)?;
            out.push((buf, len));
        }
        Ok(out)
    }

    /// Gathers the bytes of a ciovec array.
    pub fn gather(&self, iovs: u32, n: u32) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        for (buf, len) in self.iovecs(iovs, n)? {
            out.extend_from_slice(self.slice(buf, len)?);
        }
        Ok(out)
    }

    /// Scatters `data` into an iovec array (as far as it goes).
    pub fn scatter(&self, iovs: &[(u32, u32)], mut data: &[u8]) -> Result<(), Errno> {
        for &(buf, len) in iovs {
            if data.is_empty() {
                break;
            }
            let n = (len as usize).min(data.len());
            self.write(buf, &data[..n])?;
            data = &data[n..];
        }
        Ok(())
    }
}
