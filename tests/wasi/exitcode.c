// Prints its arguments and $GREETING, then exits with the status given as argv[1]
// (through exit(), i.e. proc_exit), or returns 0 from main without arguments.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    const char *g = getenv("GREETING");
    printf("GREETING=%s\n", g ? g : "(unset)");
    printf("HOME=%s\n", getenv("HOME") ? getenv("HOME") : "(unset)");
    fflush(stdout);
    if (argc > 1) exit(atoi(argv[1]));
    return 0;
}
