/* Shared helpers of the WASI test programs: CHECK prints "ok NAME" or "FAIL NAME ..."
 * (with errno), so a test only has to look for FAIL lines and the final "done". */
#ifndef CHECK_H
#define CHECK_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(name, cond)                                                        \
    do {                                                                         \
        errno = 0;                                                               \
        if (cond) {                                                              \
            printf("ok %s\n", name);                                             \
        } else {                                                                 \
            printf("FAIL %s (line %d, errno %d: %s)\n", name, __LINE__, errno,   \
                   strerror(errno));                                             \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* Expects `call` to fail with errno `err`. */
#define CHECK_ERR(name, call, err)                                               \
    do {                                                                         \
        errno = 0;                                                               \
        long r_ = (long)(call);                                                  \
        int e_ = errno;                                                          \
        if (r_ < 0 && e_ == (err)) {                                             \
            printf("ok %s\n", name);                                             \
        } else {                                                                 \
            printf("FAIL %s (line %d: result %ld, errno %d: %s, want %d)\n",     \
                   name, __LINE__, r_, e_, strerror(e_), (err));                 \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* Raw imports, for calls wasi-libc does not expose in this form (explicit path lengths,
 * hostile pointers). */
#define WASI_IMPORT(name) \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))
WASI_IMPORT("path_open")
int raw_path_open(int fd, int dirflags, int path, int path_len, int oflags,
                  long long base, long long inheriting, int fdflags, int result);
WASI_IMPORT("path_link")
int raw_path_link(int old_fd, int old_flags, int old_path, int old_len, int new_fd,
                  int new_path, int new_len);
WASI_IMPORT("path_rename")
int raw_path_rename(int fd, int old_path, int old_len, int new_fd, int new_path, int new_len);
WASI_IMPORT("path_create_directory")
int raw_path_create_directory(int fd, int path, int len);
WASI_IMPORT("path_unlink_file")
int raw_path_unlink_file(int fd, int path, int len);
WASI_IMPORT("path_symlink")
int raw_path_symlink(int old_path, int old_len, int fd, int new_path, int new_len);
WASI_IMPORT("path_filestat_get")
int raw_path_filestat_get(int fd, int flags, int path, int len, int result);
WASI_IMPORT("proc_raise")
int raw_proc_raise(int sig);

static int finish(void) {
    printf("done: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
#endif
