/* Native reference for the wasm kernels (same algorithms as fib/loop/sum/sieve/matmul.wat).
 * wazero benches copy: adds `indirect` (indirect.wat) and `copy8`/`copy64` (copy.wat); the
 * shared kernels are unchanged.
 * Build: gcc -O2 -o native native.c
 * Usage: native KERNEL N [N2] REPS  -> prints JSON {"result": ..., "times": [seconds per call...]}
 * Each timed sample runs the kernel `inner` times (chosen so a sample lasts >= 20 ms) and
 * reports the time per kernel call. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint8_t *mem; /* stands in for linear memory: 16 MiB */

__attribute__((noinline)) int32_t fib(int32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) uint64_t loop_k(uint64_t n) {
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++) s += i ^ (s >> 3);
    return s;
}

__attribute__((noinline)) uint64_t sum_k(uint64_t n) {
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++) s += i;
    return s;
}

__attribute__((noinline)) int32_t sieve(uint32_t n) {
    memset(mem, 0, (n + 7) & ~7u);
    for (uint32_t i = 2; i * i < n; i++)
        if (!mem[i])
            for (uint32_t j = i * i; j < n; j += i) mem[j] = 1;
    int32_t c = 0;
    for (uint32_t i = 2; i < n; i++) c += mem[i] == 0;
    return c;
}

__attribute__((noinline)) double matmul(uint32_t n, uint32_t reps) {
    double *A = (double *)mem, *B = A + n * n, *C = B + n * n;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++) {
            A[i * n + j] = (double)((i * 3 + j) % 17);
            B[i * n + j] = (double)((i + 2 * j) % 13) - 6.0;
        }
    for (uint32_t r = 0; r < reps; r++)
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < n; j++) {
                double acc = 0.0;
                for (uint32_t k = 0; k < n; k++) acc += A[i * n + k] * B[k * n + j];
                C[i * n + j] = acc;
            }
    double sum = 0.0;
    for (uint32_t i = 0; i < n * n; i++) sum += C[i];
    return sum;
}


/* indirect.wat: acc = table[(i ^ (i >> 3)) & 7](acc, i). The table is a non-static global so
 * gcc cannot devirtualise the calls (it must assume another unit may rewrite it). */
__attribute__((noinline)) uint32_t ind0(uint32_t a, uint32_t b) { return a + b; }
__attribute__((noinline)) uint32_t ind1(uint32_t a, uint32_t b) { return a ^ b; }
__attribute__((noinline)) uint32_t ind2(uint32_t a, uint32_t b) { return a - b; }
__attribute__((noinline)) uint32_t ind3(uint32_t a, uint32_t b) { return a * 3u + b; }
__attribute__((noinline)) uint32_t ind4(uint32_t a, uint32_t b) { return ((a << 5) | (a >> 27)) ^ b; }
__attribute__((noinline)) uint32_t ind5(uint32_t a, uint32_t b) { return (a >> 1) + b; }
__attribute__((noinline)) uint32_t ind6(uint32_t a, uint32_t b) { return a + (b << 2); }
__attribute__((noinline)) uint32_t ind7(uint32_t a, uint32_t b) { return (a * 0x9E3779B1u) ^ b; }
uint32_t (*ind_table[8])(uint32_t, uint32_t) = {ind0, ind1, ind2, ind3, ind4, ind5, ind6, ind7};

__attribute__((noinline)) uint32_t indirect_k(uint32_t n) {
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) acc = ind_table[(i ^ (i >> 3)) & 7](acc, i);
    return acc;
}

/* copy.wat: src = [0, n), dst = [n, 2n); init src with one i64 store per 8 bytes, copy it
 * `reps` times byte by byte (copy8) or word by word (copy64), return a checksum of dst.
 * Loop distribution into a memcpy/memset call is disabled so native runs the same loop
 * (gcc -O2 may still vectorise it: that is the native floor). */
static void copy_init(uint32_t n) {
    for (uint32_t i = 0; i < n; i += 8) {
        uint64_t v = (uint64_t)i * 0x0101010101010101ull + 0x0123456789abcdefull;
        memcpy(mem + i, &v, 8);
    }
}
static uint64_t copy_sum(uint32_t n) {
    uint64_t s = 0;
    for (uint32_t i = 0; i < n; i += 8) { uint64_t v; memcpy(&v, mem + n + i, 8); s = s * 31u + v; }
    return s;
}
__attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))
uint64_t copy8_k(uint32_t n, uint32_t reps) {
    copy_init(n);
    for (uint32_t r = 0; r < reps; r++) {
        uint8_t *volatile dp = mem + n; /* keep gcc from assuming src/dst never alias */
        uint8_t *d = dp;
        for (uint32_t j = 0; j < n; j++) d[j] = mem[j];
    }
    return copy_sum(n);
}
__attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))
uint64_t copy64_k(uint32_t n, uint32_t reps) {
    copy_init(n);
    for (uint32_t r = 0; r < reps; r++) {
        for (uint32_t j = 0; j < n; j += 8) { uint64_t v; memcpy(&v, mem + j, 8); memcpy(mem + n + j, &v, 8); }
    }
    return copy_sum(n);
}

/* hostcall.wat: acc += f(i) for i in [0, n) with f(x) = 3x + 1 called through a function
 * pointer (a non-static global, so gcc can neither inline nor devirtualise it): the native
 * floor of "Wasm calls an imported host function". */
__attribute__((noinline)) uint32_t host_f(uint32_t x) { return 3u * x + 1u; }
uint32_t (*host_fn)(uint32_t) = host_f;

__attribute__((noinline)) uint32_t hostcall_k(uint32_t n) {
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) acc += host_fn(i);
    return acc;
}

/* simd.wat: f32 dot product with 4 lane accumulators, in the same order as the f32x4 code
 * (lanes accumulate across reps, then (l0 + l1) + (l2 + l3)). Plain loops: gcc -O2's SLP
 * vectoriser turns the 4-lane body into movups/mulps/addps with the accumulator in a register, which is the fair floor. */
static void simd_init(float *a, float *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        a[i] = (float)((int32_t)((i * 7u) % 17u) - 8) * 0.25f;
        b[i] = (float)((int32_t)((i * 5u) % 13u) - 6) * 0.125f;
    }
}
__attribute__((noinline)) float simd_dot_k(uint32_t n, uint32_t reps) {
    float *a = (float *)mem, *b = a + n;
    simd_init(a, b, n);
    /* four scalars, not a float[4] (gcc then keeps the vector accumulator on the stack);
     * size_t index: no 32-bit wrap-around, so the loads become 16-byte loads */
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    for (uint32_t r = 0; r < reps; r++)
        for (size_t i = 0; i < n; i += 4) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
    return (s0 + s1) + (s2 + s3);
}

/* simd.wat's axpy: b[i] += 0.75 * a[i], `reps` times, then the in-order scalar checksum.
 * Each 4-lane step loads a and b, then stores b (like v128.load/v128.store), which lets gcc -O2
 * vectorise it into 16-byte loads/stores without assuming a and b don't alias. */
static void axpy_pass(const float *a, float *b, size_t n) {
    for (size_t i = 0; i < n; i += 4) {
        float x0 = a[i], x1 = a[i + 1], x2 = a[i + 2], x3 = a[i + 3];
        float y0 = b[i], y1 = b[i + 1], y2 = b[i + 2], y3 = b[i + 3];
        b[i] = y0 + 0.75f * x0;
        b[i + 1] = y1 + 0.75f * x1;
        b[i + 2] = y2 + 0.75f * x2;
        b[i + 3] = y3 + 0.75f * x3;
    }
}
__attribute__((noinline)) float simd_axpy_k(uint32_t n, uint32_t reps) {
    float *a = (float *)mem, *b = a + n;
    simd_init(a, b, n);
    for (uint32_t r = 0; r < reps; r++) axpy_pass(a, b, n);
    float s = 0.0f;
    for (uint32_t i = 0; i < n; i++) s = s * 0.5f + b[i];
    return s;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static volatile double sink;

static double run(const char *k, uint64_t n, uint64_t n2, char *out, size_t outlen) {
    if (!strcmp(k, "fib")) { int32_t r = fib((int32_t)n); sink = r; snprintf(out, outlen, "%d", r); }
    else if (!strcmp(k, "loop")) { uint64_t r = loop_k(n); sink = (double)r; snprintf(out, outlen, "%llu", (unsigned long long)r); }
    else if (!strcmp(k, "sum")) { uint64_t r = sum_k(n); sink = (double)r; snprintf(out, outlen, "%llu", (unsigned long long)r); }
    else if (!strcmp(k, "sieve")) { int32_t r = sieve((uint32_t)n); sink = r; snprintf(out, outlen, "%d", r); }
    else if (!strcmp(k, "matmul")) { double r = matmul((uint32_t)n, (uint32_t)n2); sink = r; snprintf(out, outlen, "%.17g", r); }
    else if (!strcmp(k, "indirect")) { uint32_t r = indirect_k((uint32_t)n); sink = r; snprintf(out, outlen, "%u", r); }
    else if (!strcmp(k, "copy8")) { uint64_t r = copy8_k((uint32_t)n, (uint32_t)n2); sink = (double)r; snprintf(out, outlen, "%llu", (unsigned long long)r); }
    else if (!strcmp(k, "copy64")) { uint64_t r = copy64_k((uint32_t)n, (uint32_t)n2); sink = (double)r; snprintf(out, outlen, "%llu", (unsigned long long)r); }
    else if (!strcmp(k, "hostcall")) { uint32_t r = hostcall_k((uint32_t)n); sink = r; snprintf(out, outlen, "%u", r); }
    else if (!strcmp(k, "simd_dot")) { float r = simd_dot_k((uint32_t)n, (uint32_t)n2); sink = r; snprintf(out, outlen, "%.17g", (double)r); }
    else if (!strcmp(k, "simd_axpy")) { float r = simd_axpy_k((uint32_t)n, (uint32_t)n2); sink = r; snprintf(out, outlen, "%.17g", (double)r); }
    else { fprintf(stderr, "unknown kernel %s\n", k); exit(2); }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: native KERNEL N [N2] REPS\n"); return 2; }
    const char *k = argv[1];
    uint64_t n = strtoull(argv[2], 0, 10);
    uint64_t n2 = argc > 4 ? strtoull(argv[3], 0, 10) : 0;
    int reps = atoi(argv[argc - 1]);
    mem = aligned_alloc(4096, 16u << 20);
    char out[64];
    /* calibrate the inner repeat count */
    double t0 = now();
    run(k, n, n2, out, sizeof out);
    double one = now() - t0;
    long inner = one >= 0.02 ? 1 : (long)(0.02 / (one > 1e-7 ? one : 1e-7)) + 1;
    printf("{\"result\": \"%s\", \"inner\": %ld, \"times\": [", out, inner);
    for (int r = 0; r < reps; r++) {
        t0 = now();
        for (long i = 0; i < inner; i++) run(k, n, n2, out, sizeof out);
        printf("%s%.9f", r ? ", " : "", (now() - t0) / inner);
    }
    /* wazero benches: peak RSS (VmHWM: per address space, unlike ru_maxrss which keeps the
     * forking parent's peak across exec) */
    long hwm = -1;
    FILE *st = fopen("/proc/self/status", "r");
    if (st) {
        char line[256];
        while (fgets(line, sizeof line, st))
            if (!strncmp(line, "VmHWM:", 6)) { hwm = strtol(line + 6, 0, 10); break; }
        fclose(st);
    }
    printf("], \"maxrss_kb\": %ld}\n", hwm);
    return 0;
}
