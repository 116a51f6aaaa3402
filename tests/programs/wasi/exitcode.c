/* Exit statuses and traps: `exitcode N` prints a line and exits with N; `exitcode trap`
 * prints a line, then traps (unreachable) with the output still buffered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void crash(int depth) {
    if (depth == 0) __builtin_trap();
    crash(depth - 1);
    printf("unreached\n");
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "0";
    printf("before %s\n", mode);
    fprintf(stderr, "stderr line\n");
    printf("after stderr\n");
    if (strcmp(mode, "trap") == 0) crash(3);
    return atoi(mode);
}
