/* Writes N MiB (default 64) of a repeating pattern to stdout in 64 KiB writes, so a test
 * can check that output streams without the host holding it all. */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long mib = argc > 1 ? atol(argv[1]) : 64;
    static char block[65536];
    for (size_t i = 0; i < sizeof block; i++) block[i] = (char)('a' + i % 26);
    block[sizeof block - 1] = '\n';
    for (long i = 0; i < mib * 16; i++) {
        if (write(1, block, sizeof block) != (ssize_t)sizeof block) return 1;
    }
    return 0;
}
