// Clocks and randomness: prints the realtime clock in seconds, checks that the monotonic
// clock advances across a 20 ms sleep (poll_oneoff), resolution, and getentropy output.
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    struct timespec rt, m0, m1, res;
    if (clock_gettime(CLOCK_REALTIME, &rt) != 0) return 1;
    if (clock_gettime(CLOCK_MONOTONIC, &m0) != 0) return 2;
    struct timespec nap = {0, 20 * 1000 * 1000};
    if (nanosleep(&nap, NULL) != 0) return 3;
    if (clock_gettime(CLOCK_MONOTONIC, &m1) != 0) return 4;
    long long elapsed = (m1.tv_sec - m0.tv_sec) * 1000000000LL + (m1.tv_nsec - m0.tv_nsec);
    if (clock_getres(CLOCK_MONOTONIC, &res) != 0) return 5;
    unsigned char a[64], b[64];
    if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0) return 6;
    int zeros = 0;
    for (int i = 0; i < 64; i++) zeros += a[i] == 0;
    printf("realtime %lld\n", (long long)rt.tv_sec);
    printf("slept_enough %d\n", elapsed >= 20 * 1000 * 1000);
    printf("res_ok %d\n", res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 1000000);
    printf("random_differs %d\n", memcmp(a, b, sizeof a) != 0);
    printf("random_not_zero %d\n", zeros < 16);
    return 0;
}
