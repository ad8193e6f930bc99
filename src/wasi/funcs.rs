//! The 46 functions of `wasi_snapshot_preview1` and the descriptor table behind them.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant, SystemTime};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, SystemTimeSpec};
use cap_std::fs::{Dir, MetadataExt, OpenOptions, OpenOptionsExt};

use super::types::{errno, fdflags, filetype, fstflags, oflags, rights, Errno, GuestMem, LOOKUP_SYMLINK_FOLLOW};
use super::{Output, Stdin, WasiConfig, WasiCtx, WasiExit};
use crate::error::Error;
use crate::runtime::{Func, Memory};
use crate::runtime::store::Store;
use crate::types::{FuncType, Val, ValType};

/// What a descriptor refers to.
enum Handle {
    Stdin,
    Stdout,
    Stderr,
    File(File),
    Dir(Dir),
}

struct Entry {
    handle: Handle,
    base: u64,
    inheriting: u64,
    flags: u16,
    /// Guest name, for preopened directories.
    preopen: Option<String>,
}

pub(crate) struct State {
    pub memory: Option<Memory>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Stdin,
    stdout: Output,
    stderr: Output,
    fds: BTreeMap<u32, Entry>,
}

impl State {
    pub fn new(config: WasiConfig) -> State {
        let mut fds = BTreeMap::new();
        for (fd, handle) in [(0, Handle::Stdin), (1, Handle::Stdout), (2, Handle::Stderr)] {
            fds.insert(fd, Entry { handle, base: rights::STDIO, inheriting: 0, flags: 0, preopen: None });
        }
        for (i, p) in config.preopens.into_iter().enumerate() {
            let mask = if p.read_only { !rights::WRITING } else { u64::MAX };
            fds.insert(
                3 + i as u32,
                Entry {
                    handle: Handle::Dir(p.dir),
                    base: rights::DIR & mask,
                    inheriting: rights::DIR_INHERITING & mask,
                    flags: 0,
                    preopen: Some(p.guest),
                },
            );
        }
        State {
            memory: None,
            args: config.args,
            env: config.env,
            stdin: config.stdin,
            stdout: config.stdout,
            stderr: config.stderr,
            fds,
        }
    }

    pub fn flush(&mut self) {
        for o in [&mut self.stdout, &mut self.stderr] {
            if let Output::Writer(w) = o {
                let _ = w.flush();
            }
        }
        let _ = io::stdout().flush();
        let _ = io::stderr().flush();
    }

    fn entry(&self, fd: u32) -> Result<&Entry, Fail> {
        self.fds.get(&fd).ok_or(Fail::Errno(errno::BADF))
    }

    fn entry_mut(&mut self, fd: u32) -> Result<&mut Entry, Fail> {
        self.fds.get_mut(&fd).ok_or(Fail::Errno(errno::BADF))
    }

    /// The entry, which must have all of `need` in its base rights.
    fn with_rights(&self, fd: u32, need: u64) -> Result<&Entry, Fail> {
        let e = self.entry(fd)?;
        if e.base & need != need {
            return Err(Fail::Errno(errno::NOTCAPABLE));
        }
        Ok(e)
    }

    /// A directory descriptor with the rights `need`.
    fn dir(&self, fd: u32, need: u64) -> Result<(&Dir, u64), Fail> {
        let e = self.entry(fd)?;
        match &e.handle {
            Handle::Dir(d) => {
                if e.base & need != need {
                    return Err(Fail::Errno(errno::NOTCAPABLE));
                }
                Ok((d, e.inheriting))
            }
            _ => Err(Fail::Errno(errno::NOTDIR)),
        }
    }

    /// A regular file descriptor with the rights `need` (`EISDIR` for a directory,
    /// `ESPIPE`-like behaviour is left to callers for stdio).
    fn file(&self, fd: u32, need: u64) -> Result<&File, Fail> {
        let e = self.with_rights(fd, need)?;
        match &e.handle {
            Handle::File(f) => Ok(f),
            Handle::Dir(_) => Err(Fail::Errno(errno::ISDIR)),
            _ => Err(Fail::Errno(errno::SPIPE)),
        }
    }

    fn insert(&mut self, entry: Entry) -> Result<u32, Fail> {
        let mut fd = 3;
        for &k in self.fds.keys() {
            if k < fd {
                continue;
            }
            if k == fd {
                fd += 1;
            } else {
                break;
            }
        }
        if fd == u32::MAX {
            return Err(Fail::Errno(errno::MFILE));
        }
        self.fds.insert(fd, entry);
        Ok(fd)
    }
}

/// Why a WASI function did not succeed: an errno for the guest, or an error that ends the
/// Wasm call (`proc_exit`, host failures).
pub(crate) enum Fail {
    Errno(Errno),
    Fatal(Error),
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Fail {
        Fail::Errno(e)
    }
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Errno(super::types::errno_of(&e))
    }
}

type Res = Result<(), Fail>;

/// Arguments of a call, by position.
struct Args<'a>(&'a [Val]);

impl Args<'_> {
    fn u32(&self, i: usize) -> u32 {
        match self.0[i] {
            Val::I32(v) => v as u32,
            Val::I64(v) => v as u32,
            _ => 0,
        }
    }
    fn u64(&self, i: usize) -> u64 {
        match self.0[i] {
            Val::I64(v) => v as u64,
            Val::I32(v) => v as u32 as u64,
            _ => 0,
        }
    }
}

type Impl = fn(&mut State, &GuestMem, &Args) -> Res;

/// (name, parameter types: `i` = i32, `I` = i64, implementation). All return an errno i32
/// except `proc_exit`.
const FUNCS: &[(&str, &str, Impl)] = &[
    ("args_get", "ii", args_get),
    ("args_sizes_get", "ii", args_sizes_get),
    ("environ_get", "ii", environ_get),
    ("environ_sizes_get", "ii", environ_sizes_get),
    ("clock_res_get", "ii", clock_res_get),
    ("clock_time_get", "iIi", clock_time_get),
    ("fd_advise", "iIIi", fd_advise),
    ("fd_allocate", "iII", fd_allocate),
    ("fd_close", "i", fd_close),
    ("fd_datasync", "i", fd_datasync),
    ("fd_fdstat_get", "ii", fd_fdstat_get),
    ("fd_fdstat_set_flags", "ii", fd_fdstat_set_flags),
    ("fd_fdstat_set_rights", "iII", fd_fdstat_set_rights),
    ("fd_filestat_get", "ii", fd_filestat_get),
    ("fd_filestat_set_size", "iI", fd_filestat_set_size),
    ("fd_filestat_set_times", "iIIi", fd_filestat_set_times),
    ("fd_pread", "iiiIi", fd_pread),
    ("fd_prestat_get", "ii", fd_prestat_get),
    ("fd_prestat_dir_name", "iii", fd_prestat_dir_name),
    ("fd_pwrite", "iiiIi", fd_pwrite),
    ("fd_read", "iiii", fd_read),
    ("fd_readdir", "iiiIi", fd_readdir),
    ("fd_renumber", "ii", fd_renumber),
    ("fd_seek", "iIii", fd_seek),
    ("fd_sync", "i", fd_sync),
    ("fd_tell", "ii", fd_tell),
    ("fd_write", "iiii", fd_write),
    ("path_create_directory", "iii", path_create_directory),
    ("path_filestat_get", "iiiii", path_filestat_get),
    ("path_filestat_set_times", "iiiiIIi", path_filestat_set_times),
    ("path_link", "iiiiiii", path_link),
    ("path_open", "iiiiiIIii", path_open),
    ("path_readlink", "iiiiii", path_readlink),
    ("path_remove_directory", "iii", path_remove_directory),
    ("path_rename", "iiiiii", path_rename),
    ("path_symlink", "iiiii", path_symlink),
    ("path_unlink_file", "iii", path_unlink_file),
    ("poll_oneoff", "iiii", poll_oneoff),
    ("proc_exit", "i", proc_exit),
    ("proc_raise", "i", proc_raise),
    ("sched_yield", "", sched_yield),
    ("random_get", "ii", random_get),
    ("sock_accept", "iii", sock_accept),
    ("sock_recv", "iiiiii", sock_recv),
    ("sock_send", "iiiii", sock_send),
    ("sock_shutdown", "ii", sock_shutdown),
];

/// Names of every function of `wasi_snapshot_preview1`.
pub const FUNCTION_NAMES: [&str; 46] = {
    let mut out = [""; 46];
    let mut i = 0;
    while i < 46 {
        out[i] = FUNCS[i].0;
        i += 1;
    }
    out
};

/// The type of a WASI function.
pub fn func_type(name: &str) -> Option<FuncType> {
    let (_, sig, _) = FUNCS.iter().find(|(n, _, _)| *n == name)?;
    let params: Vec<ValType> = sig.chars().map(|c| if c == 'I' { ValType::I64 } else { ValType::I32 }).collect();
    let results = if name == "proc_exit" { vec![] } else { vec![ValType::I32] };
    Some(FuncType::new(params, results))
}

pub(crate) fn make_func(ctx: &WasiCtx, store: &Store, name: &str) -> Option<Func> {
    let (_, _, f) = *FUNCS.iter().find(|(n, _, _)| *n == name)?;
    let ty = func_type(name)?;
    let has_result = !ty.results.is_empty();
    let ctx = ctx.clone();
    Some(Func::new_host(store, ty, move |store, params, results| {
        let mut state = ctx
            .state
            .try_borrow_mut()
            .map_err(|_| Error::usage("WASI function re-entered"))?;
        let mem = match state.memory {
            Some(m) => {
                let base = m.data_ptr(store)?;
                let len = m.data_size(store)?;
                // SAFETY: the memory is live for the whole call (the store owns it and this
                // host call does not run Wasm code, so it cannot grow or be released).
                unsafe { GuestMem::new(base, len) }
            }
            // Not bound yet: every guest pointer is out of bounds (EFAULT).
            None => unsafe { GuestMem::new(std::ptr::NonNull::dangling().as_ptr(), 0) },
        };
        let code = match f(&mut state, &mem, &Args(params)) {
            Ok(()) => errno::SUCCESS,
            Err(Fail::Errno(e)) => e,
            Err(Fail::Fatal(e)) => {
                state.flush();
                return Err(e);
            }
        };
        if has_result {
            results[0] = Val::I32(code as i32);
        }
        Ok(())
    }))
}

// ---------------------------------------------------------------- args, environ

fn write_strings(mem: &GuestMem, strings: &[Vec<u8>], ptrs: u32, buf: u32) -> Res {
    let mut p = buf;
    for (i, s) in strings.iter().enumerate() {
        mem.put_u32(ptrs.wrapping_add(4 * i as u32), p)?;
        mem.write(p, s)?;
        mem.write(p.wrapping_add(s.len() as u32), &[0])?;
        p = p.wrapping_add(s.len() as u32 + 1);
    }
    Ok(())
}

fn sizes(mem: &GuestMem, strings: &[Vec<u8>], count: u32, size: u32) -> Res {
    mem.put_u32(count, strings.len() as u32)?;
    mem.put_u32(size, strings.iter().map(|s| s.len() as u32 + 1).sum())?;
    Ok(())
}

fn arg_bytes(st: &State) -> Vec<Vec<u8>> {
    st.args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn env_bytes(st: &State) -> Vec<Vec<u8>> {
    st.env.iter().map(|(k, v)| format!("{k}={v}").into_bytes()).collect()
}

fn args_get(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    write_strings(mem, &arg_bytes(st), a.u32(0), a.u32(1))
}
fn args_sizes_get(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    sizes(mem, &arg_bytes(st), a.u32(0), a.u32(1))
}
fn environ_get(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    write_strings(mem, &env_bytes(st), a.u32(0), a.u32(1))
}
fn environ_sizes_get(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    sizes(mem, &env_bytes(st), a.u32(0), a.u32(1))
}

// ---------------------------------------------------------------- clocks, random, sched

fn clock_id(id: u32) -> Result<libc::clockid_t, Fail> {
    Ok(match id {
        0 => libc::CLOCK_REALTIME,
        1 => libc::CLOCK_MONOTONIC,
        2 => libc::CLOCK_PROCESS_CPUTIME_ID,
        3 => libc::CLOCK_THREAD_CPUTIME_ID,
        _ => return Err(Fail::Errno(errno::INVAL)),
    })
}

fn ts_nanos(ts: &libc::timespec) -> u64 {
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

fn clock_now(id: u32) -> Result<u64, Fail> {
    let clk = clock_id(id)?;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid clock id and out pointer.
    if unsafe { libc::clock_gettime(clk, &mut ts) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    Ok(ts_nanos(&ts))
}

fn clock_res_get(_: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let clk = clock_id(a.u32(0))?;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid clock id and out pointer.
    if unsafe { libc::clock_getres(clk, &mut ts) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    mem.put_u64(a.u32(1), ts_nanos(&ts).max(1))?;
    Ok(())
}

fn clock_time_get(_: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let t = clock_now(a.u32(0))?;
    mem.put_u64(a.u32(2), t)?;
    Ok(())
}

fn random_get(_: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let buf = mem.slice_mut(a.u32(0), a.u32(1))?;
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: writes at most rest.len() bytes into rest.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.into());
        }
        filled += n as usize;
    }
    Ok(())
}

fn sched_yield(_: &mut State, _: &GuestMem, _: &Args) -> Res {
    std::thread::yield_now();
    Ok(())
}

fn proc_exit(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    st.flush();
    Err(Fail::Fatal(Error::Host(Box::new(WasiExit(a.u32(0) as i32)))))
}

fn proc_raise(_: &mut State, _: &GuestMem, _: &Args) -> Res {
    Err(Fail::Errno(errno::NOSYS))
}

// ---------------------------------------------------------------- sockets (none preopened)

fn not_a_socket(st: &State, fd: u32) -> Res {
    st.entry(fd)?;
    Err(Fail::Errno(errno::NOTSOCK))
}
fn sock_accept(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    not_a_socket(st, a.u32(0))
}
fn sock_recv(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    not_a_socket(st, a.u32(0))
}
fn sock_send(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    not_a_socket(st, a.u32(0))
}
fn sock_shutdown(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    not_a_socket(st, a.u32(0))
}

// ---------------------------------------------------------------- descriptors

fn cvt(r: libc::c_int) -> Result<libc::c_int, Fail> {
    if r < 0 {
        Err(io::Error::last_os_error().into())
    } else {
        Ok(r)
    }
}

fn raw_fd(h: &Handle) -> Option<RawFd> {
    match h {
        Handle::File(f) => Some(f.as_raw_fd()),
        Handle::Dir(d) => Some(d.as_fd().as_raw_fd()),
        _ => None,
    }
}

fn filetype_of_mode(mode: u32) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => filetype::DIRECTORY,
        libc::S_IFREG => filetype::REGULAR_FILE,
        libc::S_IFLNK => filetype::SYMBOLIC_LINK,
        libc::S_IFCHR => filetype::CHARACTER_DEVICE,
        libc::S_IFBLK => filetype::BLOCK_DEVICE,
        libc::S_IFSOCK => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

/// A `filestat` (64 bytes).
struct Filestat {
    dev: u64,
    ino: u64,
    filetype: u8,
    nlink: u64,
    size: u64,
    atim: u64,
    mtim: u64,
    ctim: u64,
}

impl Filestat {
    fn write(&self, mem: &GuestMem, ptr: u32) -> Res {
        let mut b = [0u8; 64];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        mem.write(ptr, &b)?;
        Ok(())
    }
}

fn nanos(sec: i64, nsec: i64) -> u64 {
    (sec as u64).wrapping_mul(1_000_000_000).wrapping_add(nsec as u64)
}

fn fstat(fd: RawFd) -> Result<Filestat, Fail> {
    // SAFETY: zeroed stat is a valid out buffer.
    let mut s: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is a live descriptor owned by the table.
    cvt(unsafe { libc::fstat(fd, &mut s) })?;
    Ok(Filestat {
        dev: s.st_dev,
        ino: s.st_ino,
        filetype: filetype_of_mode(s.st_mode),
        #[allow(clippy::useless_conversion)] // st_nlink is u32 on aarch64 Linux, u64 on x86-64
        nlink: u64::from(s.st_nlink),
        size: s.st_size as u64,
        atim: nanos(s.st_atime, s.st_atime_nsec),
        mtim: nanos(s.st_mtime, s.st_mtime_nsec),
        ctim: nanos(s.st_ctime, s.st_ctime_nsec),
    })
}

fn meta_stat(m: &cap_std::fs::Metadata) -> Filestat {
    let ft = m.file_type();
    let filetype = if ft.is_dir() {
        filetype::DIRECTORY
    } else if ft.is_file() {
        filetype::REGULAR_FILE
    } else if ft.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else {
        filetype_of_mode(m.mode())
    };
    Filestat {
        dev: m.dev(),
        ino: m.ino(),
        filetype,
        nlink: m.nlink(),
        size: m.size(),
        atim: nanos(m.atime(), m.atime_nsec()),
        mtim: nanos(m.mtime(), m.mtime_nsec()),
        ctim: nanos(m.ctime(), m.ctime_nsec()),
    }
}

/// The host descriptor behind an inherited standard stream.
fn stdio_host_fd(st: &State, h: &Handle) -> Option<RawFd> {
    match h {
        Handle::Stdin if matches!(st.stdin, Stdin::Inherit) => Some(0),
        Handle::Stdout if matches!(st.stdout, Output::Inherit) => Some(1),
        Handle::Stderr if matches!(st.stderr, Output::Inherit) => Some(2),
        _ => None,
    }
}

fn entry_filetype(st: &State, e: &Entry) -> u8 {
    match &e.handle {
        Handle::Dir(_) => filetype::DIRECTORY,
        Handle::File(f) => fstat(f.as_raw_fd()).map(|s| s.filetype).unwrap_or(filetype::UNKNOWN),
        h => match stdio_host_fd(st, h) {
            // SAFETY: isatty on a descriptor number is always safe.
            Some(fd) if unsafe { libc::isatty(fd) } == 1 => filetype::CHARACTER_DEVICE,
            _ => filetype::UNKNOWN,
        },
    }
}

fn fd_close(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    st.fds.remove(&a.u32(0)).map(|_| ()).ok_or(Fail::Errno(errno::BADF))
}

fn fd_sync_impl(st: &mut State, fd: u32, data_only: bool) -> Res {
    let e = st.entry(fd)?;
    let need = if data_only { rights::FD_DATASYNC } else { rights::FD_SYNC };
    if e.base & need != need {
        return Err(Fail::Errno(errno::NOTCAPABLE));
    }
    match raw_fd(&e.handle) {
        // SAFETY: live descriptor.
        Some(raw) => cvt(unsafe { if data_only { libc::fdatasync(raw) } else { libc::fsync(raw) } }).map(|_| ()),
        None => Err(Fail::Errno(errno::INVAL)),
    }
}

fn fd_datasync(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    fd_sync_impl(st, a.u32(0), true)
}

fn fd_sync(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    fd_sync_impl(st, a.u32(0), false)
}

fn fd_fdstat_get(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let e = st.entry(a.u32(0))?;
    let mut b = [0u8; 24];
    b[0] = entry_filetype(st, e);
    b[2..4].copy_from_slice(&e.flags.to_le_bytes());
    b[8..16].copy_from_slice(&e.base.to_le_bytes());
    b[16..24].copy_from_slice(&e.inheriting.to_le_bytes());
    mem.write(a.u32(1), &b)?;
    Ok(())
}

fn fd_fdstat_set_flags(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    let flags = a.u32(1) as u16;
    let e = st.entry_mut(a.u32(0))?;
    if e.base & rights::FD_FDSTAT_SET_FLAGS == 0 {
        return Err(Fail::Errno(errno::NOTCAPABLE));
    }
    if flags & !(fdflags::APPEND | fdflags::NONBLOCK | fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
        return Err(Fail::Errno(errno::INVAL));
    }
    if flags & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
        return Err(Fail::Errno(errno::NOTSUP));
    }
    if let Some(raw) = raw_fd(&e.handle) {
        // SAFETY: live descriptor.
        let cur = cvt(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
        let mut new = cur & !(libc::O_APPEND | libc::O_NONBLOCK);
        if flags & fdflags::APPEND != 0 {
            new |= libc::O_APPEND;
        }
        if flags & fdflags::NONBLOCK != 0 {
            new |= libc::O_NONBLOCK;
        }
        // SAFETY: live descriptor.
        cvt(unsafe { libc::fcntl(raw, libc::F_SETFL, new) })?;
    }
    e.flags = flags;
    Ok(())
}

fn fd_fdstat_set_rights(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    let (base, inh) = (a.u64(1), a.u64(2));
    let e = st.entry_mut(a.u32(0))?;
    if base & !e.base != 0 || inh & !e.inheriting != 0 {
        return Err(Fail::Errno(errno::NOTCAPABLE));
    }
    e.base = base;
    e.inheriting = inh;
    Ok(())
}

fn fd_filestat_get(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let e = st.entry(a.u32(0))?;
    let stat = match raw_fd(&e.handle).or_else(|| stdio_host_fd(st, &e.handle)) {
        Some(raw) => fstat(raw)?,
        None => Filestat {
            dev: 0,
            ino: 0,
            filetype: filetype::UNKNOWN,
            nlink: 0,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        },
    };
    stat.write(mem, a.u32(1))
}

fn fd_filestat_set_size(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    let f = st.file(a.u32(0), rights::FD_FILESTAT_SET_SIZE)?;
    f.set_len(a.u64(1))?;
    Ok(())
}

/// Validates `fstflags` and builds the pair of `timespec`s for `utimensat`/`futimens`.
fn times(atim: u64, mtim: u64, flags: u16) -> Result<[libc::timespec; 2], Fail> {
    if flags & !(fstflags::ATIM | fstflags::ATIM_NOW | fstflags::MTIM | fstflags::MTIM_NOW) != 0
        || (flags & fstflags::ATIM != 0 && flags & fstflags::ATIM_NOW != 0)
        || (flags & fstflags::MTIM != 0 && flags & fstflags::MTIM_NOW != 0)
    {
        return Err(Fail::Errno(errno::INVAL));
    }
    let spec = |t: u64, set: u16, now: u16| {
        if flags & now != 0 {
            libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_NOW }
        } else if flags & set != 0 {
            libc::timespec { tv_sec: (t / 1_000_000_000) as i64, tv_nsec: (t % 1_000_000_000) as i64 }
        } else {
            libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_OMIT }
        }
    };
    Ok([spec(atim, fstflags::ATIM, fstflags::ATIM_NOW), spec(mtim, fstflags::MTIM, fstflags::MTIM_NOW)])
}

fn fd_filestat_set_times(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    let ts = times(a.u64(1), a.u64(2), a.u32(3) as u16)?;
    let e = st.with_rights(a.u32(0), rights::FD_FILESTAT_SET_TIMES)?;
    let raw = raw_fd(&e.handle).ok_or(Fail::Errno(errno::BADF))?;
    // SAFETY: live descriptor, two timespecs.
    cvt(unsafe { libc::futimens(raw, ts.as_ptr()) })?;
    Ok(())
}

fn fd_advise(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    let advice = match a.u32(3) {
        0 => libc::POSIX_FADV_NORMAL,
        1 => libc::POSIX_FADV_SEQUENTIAL,
        2 => libc::POSIX_FADV_RANDOM,
        3 => libc::POSIX_FADV_WILLNEED,
        4 => libc::POSIX_FADV_DONTNEED,
        5 => libc::POSIX_FADV_NOREUSE,
        _ => return Err(Fail::Errno(errno::INVAL)),
    };
    let f = st.file(a.u32(0), rights::FD_ADVISE)?;
    let (off, len) = (a.u64(1) as i64, a.u64(2) as i64);
    if off < 0 || len < 0 {
        return Err(Fail::Errno(errno::INVAL));
    }
    // SAFETY: live descriptor.
    let r = unsafe { libc::posix_fadvise(f.as_raw_fd(), off, len, advice) };
    if r != 0 {
        return Err(Fail::Errno(super::types::errno_of_raw(r)));
    }
    Ok(())
}

fn fd_allocate(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    let f = st.file(a.u32(0), rights::FD_ALLOCATE)?;
    let end = a.u64(1).checked_add(a.u64(2)).ok_or(Fail::Errno(errno::FBIG))?;
    if end > i64::MAX as u64 {
        return Err(Fail::Errno(errno::FBIG));
    }
    if end > f.metadata()?.len() {
        f.set_len(end)?;
    }
    Ok(())
}

fn fd_prestat_get(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let e = st.entry(a.u32(0))?;
    let name = e.preopen.as_ref().ok_or(Fail::Errno(errno::BADF))?;
    let mut b = [0u8; 8];
    b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
    mem.write(a.u32(1), &b)?;
    Ok(())
}

fn fd_prestat_dir_name(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let e = st.entry(a.u32(0))?;
    let name = e.preopen.as_ref().ok_or(Fail::Errno(errno::BADF))?;
    if (a.u32(2) as usize) < name.len() {
        return Err(Fail::Errno(errno::NAMETOOLONG));
    }
    mem.write(a.u32(1), name.as_bytes())?;
    Ok(())
}

/// Reads at most `max` bytes from a descriptor (at `offset` for `pread`).
fn read_from(st: &mut State, fd: u32, max: usize, offset: Option<u64>) -> Result<Vec<u8>, Fail> {
    let e = st.entry(fd)?;
    if let Handle::Dir(_) = e.handle {
        return Err(Fail::Errno(errno::ISDIR));
    }
    if e.base & rights::FD_READ == 0 {
        return Err(Fail::Errno(errno::NOTCAPABLE));
    }
    let mut buf = vec![0u8; max];
    let n = match &e.handle {
        Handle::File(f) => match offset {
            Some(off) => loop {
                match f.read_at(&mut buf, off) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r?,
                }
            },
            None => loop {
                match (&*f).read(&mut buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r?,
                }
            },
        },
        Handle::Stdin => {
            if offset.is_some() {
                return Err(Fail::Errno(errno::SPIPE));
            }
            match &mut st.stdin {
                Stdin::Empty => 0,
                Stdin::Inherit => io::stdin().read(&mut buf)?,
                Stdin::Reader(r) => loop {
                    match r.read(&mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        r => break r?,
                    }
                },
            }
        }
        _ => return Err(Fail::Errno(errno::BADF)),
    };
    buf.truncate(n);
    Ok(buf)
}

/// Writes `data` to a descriptor (at `offset` for `pwrite`); returns the bytes written.
fn write_to(st: &mut State, fd: u32, data: &[u8], offset: Option<u64>) -> Result<usize, Fail> {
    let e = st.entry(fd)?;
    if let Handle::Dir(_) = e.handle {
        return Err(Fail::Errno(errno::ISDIR));
    }
    if e.base & rights::FD_WRITE == 0 {
        return Err(Fail::Errno(errno::NOTCAPABLE));
    }
    let is_err = match &e.handle {
        Handle::File(f) => {
            match offset {
                Some(off) => f.write_all_at(data, off)?,
                None => (&*f).write_all(data)?,
            }
            return Ok(data.len());
        }
        Handle::Stdout => false,
        Handle::Stderr => true,
        _ => return Err(Fail::Errno(errno::BADF)),
    };
    let out = if is_err { &mut st.stderr } else { &mut st.stdout };
    if offset.is_some() {
        return Err(Fail::Errno(errno::SPIPE));
    }
    match out {
        Output::Null => {}
        Output::Inherit => {
            if is_err {
                io::stderr().write_all(data)?;
            } else {
                let mut o = io::stdout().lock();
                o.write_all(data)?;
                o.flush()?;
            }
        }
        Output::Writer(w) => w.write_all(data)?,
    }
    Ok(data.len())
}

/// Largest single read from the host (guests get a short read beyond it).
const MAX_IO: usize = 16 << 20;

fn fd_read_impl(st: &mut State, mem: &GuestMem, a: &Args, offset: Option<u64>, nread_ptr: u32) -> Res {
    let iovs = mem.iovecs(a.u32(1), a.u32(2))?;
    // A short read is always allowed: cap the host buffer.
    let total: usize = iovs.iter().map(|&(_, l)| l as usize).sum::<usize>().min(MAX_IO);
    let data = read_from(st, a.u32(0), total, offset)?;
    mem.scatter(&iovs, &data)?;
    mem.put_u32(nread_ptr, data.len() as u32)?;
    Ok(())
}

fn fd_read(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    fd_read_impl(st, mem, a, None, a.u32(3))
}

fn fd_pread(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    fd_read_impl(st, mem, a, Some(a.u64(3)), a.u32(4))
}

fn fd_write(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let data = mem.gather(a.u32(1), a.u32(2))?;
    let n = write_to(st, a.u32(0), &data, None)?;
    mem.put_u32(a.u32(3), n as u32)?;
    Ok(())
}

fn fd_pwrite(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let data = mem.gather(a.u32(1), a.u32(2))?;
    let n = write_to(st, a.u32(0), &data, Some(a.u64(3)))?;
    mem.put_u32(a.u32(4), n as u32)?;
    Ok(())
}

fn seek(st: &mut State, fd: u32, offset: i64, whence: u32) -> Result<u64, Fail> {
    let pos = match whence {
        0 => SeekFrom::Start(if offset < 0 { return Err(Fail::Errno(errno::INVAL)) } else { offset as u64 }),
        1 => SeekFrom::Current(offset),
        2 => SeekFrom::End(offset),
        _ => return Err(Fail::Errno(errno::INVAL)),
    };
    let need = if offset == 0 && whence == 1 { rights::FD_TELL } else { rights::FD_SEEK };
    let e = st.entry(fd)?;
    match &e.handle {
        Handle::Dir(_) => return Err(Fail::Errno(errno::ISDIR)),
        Handle::File(_) => {}
        _ => return Err(Fail::Errno(errno::SPIPE)),
    }
    if e.base & need == 0 {
        return Err(Fail::Errno(errno::NOTCAPABLE));
    }
    let Handle::File(f) = &e.handle else { unreachable!() };
    Ok((&*f).seek(pos)?)
}

fn fd_seek(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let pos = seek(st, a.u32(0), a.u64(1) as i64, a.u32(2) & 0xff)?;
    mem.put_u64(a.u32(3), pos)?;
    Ok(())
}

fn fd_tell(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let pos = seek(st, a.u32(0), 0, 1)?;
    mem.put_u64(a.u32(1), pos)?;
    Ok(())
}

fn fd_renumber(st: &mut State, _: &GuestMem, a: &Args) -> Res {
    let (from, to) = (a.u32(0), a.u32(1));
    st.entry(from)?;
    st.entry(to)?;
    if from == to {
        return Ok(());
    }
    let e = st.fds.remove(&from).unwrap();
    st.fds.insert(to, e);
    Ok(())
}

fn fd_readdir(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let (buf, buf_len, cookie, used_ptr) = (a.u32(1), a.u32(2), a.u64(3), a.u32(4));
    let e = st.entry(a.u32(0))?;
    let dir = match &e.handle {
        Handle::Dir(d) => d,
        _ => return Err(Fail::Errno(errno::NOTDIR)),
    };
    if e.base & rights::FD_READDIR == 0 {
        return Err(Fail::Errno(errno::NOTCAPABLE));
    }
    mem.slice(buf, buf_len)?;
    let self_ino = fstat(dir.as_fd().as_raw_fd())?.ino;
    let mut entries: Vec<(u64, u8, Vec<u8>)> =
        vec![(self_ino, filetype::DIRECTORY, b".".to_vec()), (0, filetype::DIRECTORY, b"..".to_vec())];
    for ent in dir.entries()? {
        let ent = ent?;
        let ft = ent.file_type()?;
        let t = if ft.is_dir() {
            filetype::DIRECTORY
        } else if ft.is_file() {
            filetype::REGULAR_FILE
        } else if ft.is_symlink() {
            filetype::SYMBOLIC_LINK
        } else {
            use cap_std::fs::FileTypeExt;
            if ft.is_char_device() {
                filetype::CHARACTER_DEVICE
            } else if ft.is_block_device() {
                filetype::BLOCK_DEVICE
            } else if ft.is_socket() {
                filetype::SOCKET_STREAM
            } else {
                filetype::UNKNOWN
            }
        };
        use std::os::unix::ffi::OsStrExt;
        entries.push((ent.metadata()?.ino(), t, ent.file_name().as_bytes().to_vec()));
    }
    let mut out = Vec::new();
    for (i, (ino, t, name)) in entries.iter().enumerate().skip(cookie.min(usize::MAX as u64) as usize) {
        let mut d = [0u8; 24];
        d[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        d[8..16].copy_from_slice(&ino.to_le_bytes());
        d[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
        d[20] = *t;
        out.extend_from_slice(&d);
        out.extend_from_slice(name);
        if out.len() >= buf_len as usize {
            break;
        }
    }
    out.truncate(buf_len as usize);
    mem.write(buf, &out)?;
    mem.put_u32(used_ptr, out.len() as u32)?;
    Ok(())
}

// ---------------------------------------------------------------- paths

fn path_open(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let (dirfd, dirflags, oflag, base, inh, fdfl) =
        (a.u32(0), a.u32(1), a.u32(4) as u16, a.u64(5), a.u64(6), a.u32(7) as u16);
    let path = mem.str(a.u32(2), a.u32(3))?;
    let mut need = rights::PATH_OPEN;
    if oflag & oflags::CREAT != 0 {
        need |= rights::PATH_CREATE_FILE;
    }
    if oflag & oflags::TRUNC != 0 {
        need |= rights::PATH_FILESTAT_SET_SIZE;
    }
    let (dir, dir_inh) = st.dir(dirfd, need)?;
    if oflag & !(oflags::CREAT | oflags::DIRECTORY | oflags::EXCL | oflags::TRUNC) != 0 {
        return Err(Fail::Errno(errno::INVAL));
    }
    if oflag & oflags::DIRECTORY != 0 && oflag & (oflags::CREAT | oflags::TRUNC) != 0 {
        return Err(Fail::Errno(errno::INVAL));
    }
    let base = base & dir_inh;
    let inh = inh & dir_inh;
    let read = base & (rights::FD_READ | rights::FD_READDIR) != 0;
    let write = base & (rights::FD_WRITE | rights::FD_DATASYNC | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE)
        != 0
        || oflag & (oflags::CREAT | oflags::TRUNC) != 0
        || fdfl & fdflags::APPEND != 0;
    let mut opts = OpenOptions::new();
    opts.read(read || !write);
    opts.write(write);
    if oflag & oflags::CREAT != 0 {
        if oflag & oflags::EXCL != 0 {
            opts.create_new(true);
        } else {
            opts.create(true);
        }
    }
    if oflag & oflags::TRUNC != 0 {
        opts.truncate(true);
    }
    // O_APPEND as a raw flag: std's `append(true)` refuses to combine with `truncate`.
    let mut custom = 0;
    if fdfl & fdflags::APPEND != 0 {
        custom |= libc::O_APPEND;
    }
    let follow = dirflags & LOOKUP_SYMLINK_FOLLOW != 0;
    if oflag & oflags::DIRECTORY != 0 {
        // Not O_DIRECTORY: the kernel checks it before O_NOFOLLOW, so a symlink fails with
        // ENOTDIR, which cap-std's own path walk (used where openat2 is missing: kernels
        // before 5.6, seccomp sandboxes, qemu-user) takes for "not found" instead of
        // following the link. Check the type first (sandboxed), open without blocking
        // (a FIFO swapped in meanwhile), and check the opened file again below.
        let meta = if follow { dir.metadata(path)? } else { dir.symlink_metadata(path)? };
        if meta.file_type().is_symlink() {
            return Err(Fail::Errno(errno::LOOP));
        }
        if !meta.is_dir() {
            return Err(Fail::Errno(errno::NOTDIR));
        }
        custom |= libc::O_NONBLOCK;
    }
    if fdfl & fdflags::NONBLOCK != 0 {
        custom |= libc::O_NONBLOCK;
    }
    if fdfl & fdflags::DSYNC != 0 {
        custom |= libc::O_DSYNC;
    }
    if fdfl & fdflags::SYNC != 0 {
        custom |= libc::O_SYNC;
    }
    if fdfl & fdflags::RSYNC != 0 {
        custom |= libc::O_RSYNC;
    }
    opts.custom_flags(custom);
    opts.maybe_dir(true);
    opts.follow(if follow { FollowSymlinks::Yes } else { FollowSymlinks::No });
    if oflag & oflags::DIRECTORY != 0 && write {
        // Linux would fail with EISDIR on an existing directory anyway.
        return Err(Fail::Errno(errno::ISDIR));
    }
    let file = dir.open_with(path, &opts)?.into_std();
    let is_dir = file.metadata()?.is_dir();
    let entry = if is_dir {
        Entry {
            handle: Handle::Dir(Dir::from_std_file(file)),
            base: base & rights::DIR,
            inheriting: inh,
            flags: fdfl & (fdflags::APPEND | fdflags::NONBLOCK),
            preopen: None,
        }
    } else {
        if oflag & oflags::DIRECTORY != 0 {
            return Err(Fail::Errno(errno::NOTDIR));
        }
        Entry { handle: Handle::File(file), base: base & rights::FILE, inheriting: inh, flags: fdfl, preopen: None }
    };
    let fd = st.insert(entry)?;
    if let Err(e) = mem.put_u32(a.u32(8), fd) {
        st.fds.remove(&fd);
        return Err(e.into());
    }
    Ok(())
}

fn path_create_directory(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let path = mem.str(a.u32(1), a.u32(2))?;
    let (dir, _) = st.dir(a.u32(0), rights::PATH_CREATE_DIRECTORY)?;
    dir.create_dir(path)?;
    Ok(())
}

fn path_remove_directory(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let path = mem.str(a.u32(1), a.u32(2))?;
    let (dir, _) = st.dir(a.u32(0), rights::PATH_REMOVE_DIRECTORY)?;
    dir.remove_dir(path)?;
    Ok(())
}

fn path_unlink_file(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let path = mem.str(a.u32(1), a.u32(2))?;
    let (dir, _) = st.dir(a.u32(0), rights::PATH_UNLINK_FILE)?;
    if path.ends_with('/') {
        // unlinkat(2) of "name/" is EISDIR for a directory and ENOTDIR otherwise.
        let meta = dir.symlink_metadata(path.trim_end_matches('/'))?;
        return Err(Fail::Errno(if meta.is_dir() { errno::ISDIR } else { errno::NOTDIR }));
    }
    dir.remove_file_or_symlink(path)?;
    Ok(())
}

fn path_filestat_get(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let path = mem.str(a.u32(2), a.u32(3))?;
    let (dir, _) = st.dir(a.u32(0), rights::PATH_FILESTAT_GET)?;
    let meta = if a.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0 { dir.metadata(path)? } else { dir.symlink_metadata(path)? };
    meta_stat(&meta).write(mem, a.u32(4))
}

fn path_filestat_set_times(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let path = mem.str(a.u32(2), a.u32(3))?;
    let (atim, mtim, flags) = (a.u64(4), a.u64(5), a.u32(6) as u16);
    times(atim, mtim, flags)?;
    let (dir, _) = st.dir(a.u32(0), rights::PATH_FILESTAT_SET_TIMES)?;
    let spec = |t: u64, set: u16, now: u16| {
        if flags & now != 0 {
            Some(SystemTimeSpec::SymbolicNow)
        } else if flags & set != 0 {
            Some(SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(
                SystemTime::UNIX_EPOCH + Duration::from_nanos(t),
            )))
        } else {
            None
        }
    };
    let at = spec(atim, fstflags::ATIM, fstflags::ATIM_NOW);
    let mt = spec(mtim, fstflags::MTIM, fstflags::MTIM_NOW);
    if a.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0 {
        dir.set_times(path, at, mt)?;
    } else {
        dir.set_symlink_times(path, at, mt)?;
    }
    Ok(())
}

fn path_link(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let old = mem.str(a.u32(2), a.u32(3))?;
    let new = mem.str(a.u32(5), a.u32(6))?;
    if a.u32(1) & LOOKUP_SYMLINK_FOLLOW != 0 {
        return Err(Fail::Errno(errno::INVAL));
    }
    let (src, _) = st.dir(a.u32(0), rights::PATH_LINK_SOURCE)?;
    let (dst, _) = st.dir(a.u32(4), rights::PATH_LINK_TARGET)?;
    src.hard_link(old, dst, new)?;
    Ok(())
}

fn path_readlink(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let path = mem.str(a.u32(1), a.u32(2))?;
    let (buf, buf_len, used) = (a.u32(3), a.u32(4), a.u32(5));
    let (dir, _) = st.dir(a.u32(0), rights::PATH_READLINK)?;
    let target = dir.read_link_contents(path)?;
    use std::os::unix::ffi::OsStrExt;
    let bytes = target.as_os_str().as_bytes();
    let n = bytes.len().min(buf_len as usize);
    mem.write(buf, &bytes[..n])?;
    mem.put_u32(used, n as u32)?;
    Ok(())
}

fn path_rename(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let old = mem.str(a.u32(1), a.u32(2))?;
    let new = mem.str(a.u32(4), a.u32(5))?;
    let (src, _) = st.dir(a.u32(0), rights::PATH_RENAME_SOURCE)?;
    let (dst, _) = st.dir(a.u32(3), rights::PATH_RENAME_TARGET)?;
    if old.ends_with('/') || new.ends_with('/') {
        // Trailing slashes are allowed only when the source is a directory.
        let meta = src.symlink_metadata(old.trim_end_matches('/'))?;
        if !meta.is_dir() {
            return Err(Fail::Errno(errno::NOTDIR));
        }
    }
    src.rename(old, dst, new)?;
    Ok(())
}

fn path_symlink(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let old = mem.str(a.u32(0), a.u32(1))?;
    let new = mem.str(a.u32(3), a.u32(4))?;
    let (dir, _) = st.dir(a.u32(2), rights::PATH_SYMLINK)?;
    dir.symlink(old, new)?;
    Ok(())
}

// ---------------------------------------------------------------- poll_oneoff

fn poll_oneoff(st: &mut State, mem: &GuestMem, a: &Args) -> Res {
    let (subs, events, n, nevents) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    if n == 0 {
        return Err(Fail::Errno(errno::INVAL));
    }
    mem.slice(subs, n.checked_mul(48).ok_or(errno::FAULT)?)?;
    mem.slice(events, n.checked_mul(32).ok_or(errno::FAULT)?)?;
    // (userdata, error, type, nbytes)
    let mut ready: Vec<(u64, u16, u8, u64)> = Vec::new();
    // (userdata, deadline, clock error)
    let mut clocks: Vec<(u64, Option<Instant>, u16)> = Vec::new();
    let mut stdin_wait = false;
    let mut stdin_ud = Vec::new();
    for i in 0..n {
        let s = subs + i * 48;
        let ud = mem.u64(s)?;
        let tag = mem.u8(s + 8)?;
        match tag {
            0 => {
                let id = mem.u32(s + 16)?;
                let timeout = mem.u64(s + 24)?;
                let flags = mem.u16(s + 40)?;
                match clock_now(id) {
                    Ok(now) => {
                        let rel = if flags & 1 != 0 { timeout.saturating_sub(now) } else { timeout };
                        clocks.push((ud, Instant::now().checked_add(Duration::from_nanos(rel)), 0));
                    }
                    Err(Fail::Errno(e)) => ready.push((ud, e, 0, 0)),
                    Err(f) => return Err(f),
                }
            }
            1 | 2 => {
                let fd = mem.u32(s + 16)?;
                match st.fds.get(&fd) {
                    None => ready.push((ud, errno::BADF, tag, 0)),
                    Some(e) if e.base & rights::POLL_FD_READWRITE == 0 && !matches!(e.handle, Handle::Stdin | Handle::Stdout | Handle::Stderr) => {
                        ready.push((ud, errno::NOTCAPABLE, tag, 0))
                    }
                    Some(e) => match &e.handle {
                        Handle::Stdin if tag == 1 && matches!(st.stdin, Stdin::Inherit) => {
                            stdin_wait = true;
                            stdin_ud.push(ud);
                        }
                        Handle::File(f) if tag == 1 => {
                            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                            let pos = (&*f).stream_position().unwrap_or(0);
                            ready.push((ud, 0, tag, len.saturating_sub(pos)));
                        }
                        Handle::Dir(_) => ready.push((ud, errno::BADF, tag, 0)),
                        _ => ready.push((ud, 0, tag, 0)),
                    },
                }
            }
            _ => return Err(Fail::Errno(errno::INVAL)),
        }
    }
    if ready.is_empty() {
        let now = Instant::now();
        let deadline = clocks.iter().filter_map(|c| c.1).min();
        let wait = deadline.map(|d| d.saturating_duration_since(now));
        if stdin_wait {
            let ms = wait.map(|w| w.as_millis().min(i32::MAX as u128) as i32).unwrap_or(-1);
            let mut pfd = libc::pollfd { fd: 0, events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut pfd, 1, ms) };
            if r > 0 {
                for ud in &stdin_ud {
                    ready.push((*ud, 0, 1, 0));
                }
            }
        } else if let Some(w) = wait {
            std::thread::sleep(w);
        } else if clocks.is_empty() {
            return Err(Fail::Errno(errno::INVAL));
        }
        if ready.is_empty() {
            let now = Instant::now();
            for (ud, dl, err) in &clocks {
                if dl.is_some_and(|d| d <= now) || *dl == deadline {
                    ready.push((*ud, *err, 0, 0));
                }
            }
        }
    }
    for (i, (ud, err, ty, nbytes)) in ready.iter().enumerate() {
        let mut b = [0u8; 32];
        b[0..8].copy_from_slice(&ud.to_le_bytes());
        b[8..10].copy_from_slice(&err.to_le_bytes());
        b[10] = *ty;
        b[16..24].copy_from_slice(&nbytes.to_le_bytes());
        mem.write(events + 32 * i as u32, &b)?;
    }
    mem.put_u32(nevents, ready.len() as u32)?;
    Ok(())
}
