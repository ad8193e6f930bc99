// Adversarial sandbox checks. The host (tests/wasi/own.rs) lays out:
//   SCRATCH/secret.txt                       outside every preopen
//   SCRATCH/sandbox/      preopened as /sandbox (fd 3, read-write)
//       inside.txt, sub/, link_out_rel -> ../secret.txt,
//       link_out_abs -> SCRATCH/secret.txt (absolute), link_dir_out -> ..
//   SCRATCH/ro/           preopened as /ro (fd 4, read-only), with ro.txt
// Every escape must fail with the expected WASI errno; the host then checks that nothing
// outside the sandbox changed. Prints one line per check; exits with the failure count.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
IMPORT(fd_write) int32_t raw_fd_write(int32_t fd, uint32_t iovs, uint32_t n, uint32_t nwritten);
IMPORT(fd_read) int32_t raw_fd_read(int32_t fd, uint32_t iovs, uint32_t n, uint32_t nread);
IMPORT(path_open) int32_t raw_path_open(int32_t fd, int32_t dirflags, uint32_t path, uint32_t len,
                                        int32_t oflags, int64_t base, int64_t inh, int32_t fdflags,
                                        uint32_t out);
IMPORT(args_sizes_get) int32_t raw_args_sizes_get(uint32_t argc, uint32_t size);
IMPORT(args_get) int32_t raw_args_get(uint32_t argv, uint32_t buf);
IMPORT(random_get) int32_t raw_random_get(uint32_t buf, uint32_t len);
IMPORT(clock_time_get) int32_t raw_clock_time_get(int32_t id, int64_t precision, uint32_t out);
IMPORT(poll_oneoff) int32_t raw_poll_oneoff(uint32_t in, uint32_t out, uint32_t n, uint32_t nevents);
IMPORT(fd_prestat_dir_name) int32_t raw_fd_prestat_dir_name(int32_t fd, uint32_t buf, uint32_t len);
IMPORT(fd_readdir) int32_t raw_fd_readdir(int32_t fd, uint32_t buf, uint32_t len, int64_t cookie, uint32_t used);

static int failures;

static void check(const char *what, int got, int want1, int want2) {
    if (got == want1 || got == want2) {
        printf("ok %s (errno %d)\n", what, got);
    } else {
        printf("FAIL %s: errno %d, want %d\n", what, got, want1);
        failures++;
    }
}
#define EXPECT(what, expr, want) check(what, (int)(expr), want, want)
#define PERM __WASI_ERRNO_PERM
#define NOTCAP __WASI_ERRNO_NOTCAPABLE
#define FAULT __WASI_ERRNO_FAULT

static const __wasi_rights_t RW = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE;

static int open_at(int dirfd, int follow, const char *path, int oflags, __wasi_rights_t rights,
                   __wasi_fd_t *fd) {
    return __wasi_path_open(dirfd, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path, oflags,
                            rights, rights, 0, fd);
}

int main(void) {
    __wasi_fd_t fd;
    const int S = 3, RO = 4;

    // Path escapes: `..`, absolute paths, symlinks pointing outside.
    EXPECT("open ../secret.txt", open_at(S, 1, "../secret.txt", 0, RW, &fd), PERM);
    EXPECT("open /etc/passwd", open_at(S, 1, "/etc/passwd", 0, RW, &fd), PERM);
    EXPECT("open sub/../../secret.txt", open_at(S, 1, "sub/../../secret.txt", 0, RW, &fd), PERM);
    EXPECT("open link_out_rel (follow)", open_at(S, 1, "link_out_rel", 0, RW, &fd), PERM);
    EXPECT("open link_out_rel (nofollow)", open_at(S, 0, "link_out_rel", 0, RW, &fd), __WASI_ERRNO_LOOP);
    EXPECT("open link_out_abs (follow)", open_at(S, 1, "link_out_abs", 0, RW, &fd), PERM);
    EXPECT("open link_dir_out/secret.txt", open_at(S, 1, "link_dir_out/secret.txt", 0, RW, &fd), PERM);
    EXPECT("open link_dir_out as dir", open_at(S, 1, "link_dir_out", __WASI_OFLAGS_DIRECTORY, 0, &fd), PERM);
    EXPECT("create ../created.txt", open_at(S, 1, "../created.txt", __WASI_OFLAGS_CREAT, RW, &fd), PERM);
    EXPECT("open empty path", open_at(S, 1, "", 0, RW, &fd), __WASI_ERRNO_NOENT);
    __wasi_filestat_t fst;
    EXPECT("stat ../secret.txt", __wasi_path_filestat_get(S, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "../secret.txt", &fst), PERM);
    EXPECT("stat link_out_abs (follow)", __wasi_path_filestat_get(S, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link_out_abs", &fst), PERM);
    EXPECT("stat link_out_abs (nofollow)", __wasi_path_filestat_get(S, 0, "link_out_abs", &fst), 0);

    // Symlinks made by the guest.
    int r = __wasi_path_symlink("/etc/passwd", S, "guest_abs");
    if (r == 0) {
        EXPECT("open guest symlink to /etc/passwd", open_at(S, 1, "guest_abs", 0, RW, &fd), PERM);
        EXPECT("unlink guest_abs", __wasi_path_unlink_file(S, "guest_abs"), 0);
    } else {
        EXPECT("symlink to /etc/passwd", r, PERM);
    }
    r = __wasi_path_symlink("../secret.txt", S, "guest_rel");
    if (r == 0) {
        EXPECT("open guest symlink to ../secret.txt", open_at(S, 1, "guest_rel", 0, RW, &fd), PERM);
        EXPECT("unlink guest_rel", __wasi_path_unlink_file(S, "guest_rel"), 0);
    } else {
        EXPECT("symlink to ../secret.txt", r, PERM);
    }
    EXPECT("symlink placed outside", __wasi_path_symlink("inside.txt", S, "../placed"), PERM);

    // Hard links.
    EXPECT("link ../secret.txt in", __wasi_path_link(S, 0, "../secret.txt", S, "hl"), PERM);
    EXPECT("link inside.txt out", __wasi_path_link(S, 0, "inside.txt", S, "../hl_out"), PERM);
    EXPECT("link via link_dir_out", __wasi_path_link(S, 0, "link_dir_out/secret.txt", S, "hl2"), PERM);
    EXPECT("link to symlink itself", __wasi_path_link(S, 0, "link_out_rel", S, "hl3"), 0);
    EXPECT("open hard link of outward symlink", open_at(S, 1, "hl3", 0, RW, &fd), PERM);
    EXPECT("unlink hl3", __wasi_path_unlink_file(S, "hl3"), 0);

    // Renames, removals, directories.
    EXPECT("rename inside.txt out", __wasi_path_rename(S, "inside.txt", S, "../moved.txt"), PERM);
    EXPECT("rename secret in", __wasi_path_rename(S, "../secret.txt", S, "stolen.txt"), PERM);
    EXPECT("mkdir ../newdir", __wasi_path_create_directory(S, "../newdir"), PERM);
    EXPECT("unlink ../secret.txt", __wasi_path_unlink_file(S, "../secret.txt"), PERM);
    EXPECT("unlink via link_dir_out", __wasi_path_unlink_file(S, "link_dir_out/secret.txt"), PERM);
    EXPECT("rmdir ../ro", __wasi_path_remove_directory(S, "../ro"), PERM);
    EXPECT("set times ../secret.txt",
           __wasi_path_filestat_set_times(S, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "../secret.txt", 0, 0,
                                          __WASI_FSTFLAGS_MTIM_NOW), PERM);

    // Read-only preopen.
    EXPECT("ro: create", open_at(RO, 1, "new.txt", __WASI_OFLAGS_CREAT, RW, &fd), NOTCAP);
    EXPECT("ro: truncate", open_at(RO, 1, "ro.txt", __WASI_OFLAGS_TRUNC, RW, &fd), NOTCAP);
    EXPECT("ro: mkdir", __wasi_path_create_directory(RO, "d"), NOTCAP);
    EXPECT("ro: unlink", __wasi_path_unlink_file(RO, "ro.txt"), NOTCAP);
    EXPECT("ro: rename out", __wasi_path_rename(RO, "ro.txt", S, "taken.txt"), NOTCAP);
    EXPECT("ro: symlink", __wasi_path_symlink("ro.txt", RO, "l"), NOTCAP);
    EXPECT("ro: set times", __wasi_path_filestat_set_times(RO, 0, "ro.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), NOTCAP);
    EXPECT("ro: regain rights", __wasi_fd_fdstat_set_rights(RO, ~0ULL >> 34, ~0ULL >> 34), NOTCAP);
    EXPECT("ro: open for read", open_at(RO, 1, "ro.txt", 0, RW, &fd), 0);
    char c = 'x';
    __wasi_ciovec_t civ = {(const uint8_t *)&c, 1};
    size_t nw;
    EXPECT("ro: write to opened file", __wasi_fd_write(fd, &civ, 1, &nw), NOTCAP);
    EXPECT("ro: resize opened file", __wasi_fd_filestat_set_size(fd, 0), NOTCAP);
    char rbuf[16] = {0};
    __wasi_iovec_t iv = {(uint8_t *)rbuf, sizeof rbuf};
    size_t nr;
    EXPECT("ro: read opened file", __wasi_fd_read(fd, &iv, 1, &nr), 0);
    EXPECT("ro: content", strcmp(rbuf, "read only") == 0 ? 0 : 1, 0);
    __wasi_fd_close(fd);

    // Bad guest pointers are EFAULT, never a crash.
    uint32_t top = 0xFFFFFFF0u;
    uint32_t okn = (uint32_t)(uintptr_t)&nw;
    EXPECT("fd_write iovs out of bounds", raw_fd_write(1, top, 1, okn), FAULT);
    static uint32_t bad_iov[2] = {0xFFFFFF00u, 0x1000};
    EXPECT("fd_write buffer out of bounds", raw_fd_write(1, (uint32_t)(uintptr_t)bad_iov, 1, okn), FAULT);
    static uint32_t huge_iov[2] = {0, 0xFFFFFFFFu};
    EXPECT("fd_write buffer length overflow", raw_fd_write(1, (uint32_t)(uintptr_t)huge_iov, 1, okn), FAULT);
    EXPECT("fd_write result out of bounds", raw_fd_write(1, (uint32_t)(uintptr_t)&civ, 1, top + 12), FAULT);
    EXPECT("fd_write iovec count overflow", raw_fd_write(1, 8, 0x20000001u, okn), FAULT);
    EXPECT("fd_read into out of bounds", raw_fd_read(0, (uint32_t)(uintptr_t)bad_iov, 1, okn), FAULT);
    EXPECT("path_open path out of bounds", raw_path_open(S, 0, top, 100, 0, 0, 0, 0, okn), FAULT);
    EXPECT("path_open result out of bounds",
           raw_path_open(S, 0, (uint32_t)(uintptr_t)"inside.txt", 10, 0, 0, 0, 0, top + 14), FAULT);
    EXPECT("args_sizes_get out of bounds", raw_args_sizes_get(top + 14, okn), FAULT);
    EXPECT("args_get out of bounds", raw_args_get(top, top), FAULT);
    EXPECT("random_get out of bounds", raw_random_get(top, 100), FAULT);
    EXPECT("clock_time_get out of bounds", raw_clock_time_get(0, 0, top + 12), FAULT);
    EXPECT("poll_oneoff out of bounds", raw_poll_oneoff(top, top, 1, okn), FAULT);
    EXPECT("prestat_dir_name out of bounds", raw_fd_prestat_dir_name(S, top + 15, 8), FAULT);
    EXPECT("fd_readdir out of bounds", raw_fd_readdir(S, top, 256, 0, okn), FAULT);

    // Descriptors that do not exist, and sockets (none are preopened).
    __wasi_prestat_t ps;
    EXPECT("prestat of fd 5", __wasi_fd_prestat_get(5, &ps), __WASI_ERRNO_BADF);
    EXPECT("close fd 99", __wasi_fd_close(99), __WASI_ERRNO_BADF);
    EXPECT("sock_shutdown fd 99", __wasi_sock_shutdown(99, __WASI_SDFLAGS_RD), __WASI_ERRNO_BADF);
    EXPECT("sock_shutdown on a directory", __wasi_sock_shutdown(S, __WASI_SDFLAGS_RD), __WASI_ERRNO_NOTSOCK);
    EXPECT("sock_accept on a directory", __wasi_sock_accept(S, 0, &fd), __WASI_ERRNO_NOTSOCK);

    printf("%d failures\n", failures);
    return failures;
}
