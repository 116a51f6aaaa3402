/* Arguments and environment: prints argc, each argument, and the variables named on the
 * command line (or all of them with --all), one per line. */
#include <stdlib.h>

#include "check.h"

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("arg[%d]=%s\n", i, argv[i]);
    int all = argc > 1 && strcmp(argv[1], "--all") == 0;
    if (all) {
        for (char **e = environ; *e; e++) printf("env %s\n", *e);
    } else {
        for (int i = 1; i < argc; i++) {
            const char *v = getenv(argv[i]);
            printf("%s=%s\n", argv[i], v ? v : "(unset)");
        }
    }
    return 0;
}
