// File I/O and directory listing through a preopen mounted at /data.
// Writes /data/out/hello.txt, appends to it, reads it back, stats it, renames it,
// lists /data (sorted) and prints everything to stdout.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    if (mkdir("/data/out", 0755) != 0) { perror("mkdir"); return 1; }
    FILE *f = fopen("/data/out/hello.txt", "w");
    if (!f) { perror("fopen w"); return 1; }
    fputs("hello, ", f);
    fclose(f);
    f = fopen("/data/out/hello.txt", "a");
    if (!f) { perror("fopen a"); return 1; }
    fputs("world\n", f);
    fclose(f);

    char buf[64] = {0};
    int fd = open("/data/out/hello.txt", O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); return 1; }
    if (lseek(fd, 7, SEEK_SET) != 7) { perror("lseek"); return 1; }
    char tail[16] = {0};
    read(fd, tail, 5);
    close(fd);
    printf("read %zd bytes: %s", n, buf);
    printf("size %lld, tail %s\n", (long long)st.st_size, tail);

    if (rename("/data/out/hello.txt", "/data/out/renamed.txt") != 0) { perror("rename"); return 1; }
    if (access("/data/out/hello.txt", F_OK) == 0 || errno != ENOENT) { puts("old name still exists"); return 1; }

    // An input file provided by the host.
    f = fopen("/data/input.txt", "r");
    if (!f) { perror("fopen input"); return 1; }
    char line[64] = {0};
    fgets(line, sizeof line, f);
    fclose(f);
    printf("input: %s", line);

    DIR *d = opendir("/data");
    if (!d) { perror("opendir"); return 1; }
    char *names[64];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 64) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, cmp);
    printf("listing:");
    for (int i = 0; i < count; i++) printf(" %s", names[i]);
    printf("\n");

    // The missing file gives ENOENT; reading a directory as a file fails.
    if (open("/data/missing", O_RDONLY) >= 0 || errno != ENOENT) { puts("missing file opened"); return 1; }
    if (unlink("/data/out/renamed.txt") != 0) { perror("unlink"); return 1; }
    if (rmdir("/data/out") != 0) { perror("rmdir"); return 1; }
    puts("done");
    return 0;
}
