/* Reads stdin to the end and writes it to stdout upper-cased, then prints the byte and
 * line counts to stderr. */
#include <ctype.h>
#include <poll.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    struct pollfd p = {0, POLLIN, 0};
    if (poll(&p, 1, 5000) < 0) perror("poll");
    char buf[4096];
    long bytes = 0, lines = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') lines++;
            buf[i] = (char)toupper((unsigned char)buf[i]);
        }
        if (write(1, buf, (size_t)n) != n) return 2;
        bytes += n;
    }
    fprintf(stderr, "%ld bytes, %ld lines\n", bytes, lines);
    return n < 0 ? 1 : 0;
}
