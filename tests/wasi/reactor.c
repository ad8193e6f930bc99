// A WASI reactor (no `_start`; `_initialize` runs constructors): `bump` prints with stdio
// and reads the environment, which only works once `_initialize` has run.
#include <stdio.h>
#include <stdlib.h>

static int counter;

__attribute__((constructor)) static void init(void) { counter = 41; }

__attribute__((export_name("bump"))) int bump(void) {
    counter++;
    const char *who = getenv("WHO");
    printf("bump %d %s\n", counter, who ? who : "?");
    fflush(stdout);
    return counter;
}
