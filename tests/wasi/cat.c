// Copies stdin to stdout, upper-cased, and reports the byte count on stderr.
#include <ctype.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) buf[i] = toupper((unsigned char)buf[i]);
        if (write(1, buf, n) != n) return 2;
        total += n;
    }
    if (n < 0) return 3;
    fprintf(stderr, "%ld bytes\n", total);
    return 0;
}
