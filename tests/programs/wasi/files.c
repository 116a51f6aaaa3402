/* Files through WASI: create, write, read, seek/tell, pread/pwrite, truncate, allocate,
 * stat, times, fdstat flags, sync, rename, link, symlink, readlink, unlink, mkdir, rmdir.
 * Run with the working directory preopened as "." (`--dir DIR::.`). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#include "check.h"

int main(void) {
    const char msg[] = "hello, wasi\n";
    int fd = open("a.txt", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK("open create", fd >= 0);
    CHECK("write", write(fd, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1));
    CHECK("tell", lseek(fd, 0, SEEK_CUR) == (off_t)(sizeof msg - 1));
    CHECK("seek set", lseek(fd, 7, SEEK_SET) == 7);
    char buf[64] = {0};
    CHECK("read", read(fd, buf, sizeof buf) == 5 && memcmp(buf, "wasi\n", 5) == 0);
    CHECK("read at eof", read(fd, buf, sizeof buf) == 0);
    CHECK("seek end", lseek(fd, -5, SEEK_END) == 7);
    CHECK_ERR("seek negative", lseek(fd, -100, SEEK_SET), EINVAL);
    CHECK("pwrite", pwrite(fd, "HELLO", 5, 0) == 5);
    memset(buf, 0, sizeof buf);
    CHECK("pread", pread(fd, buf, 5, 0) == 5 && memcmp(buf, "HELLO", 5) == 0);
    CHECK("pread keeps offset", lseek(fd, 0, SEEK_CUR) == 7);
    struct stat st;
    CHECK("fstat size", fstat(fd, &st) == 0 && st.st_size == (off_t)(sizeof msg - 1) &&
                            S_ISREG(st.st_mode));
    CHECK("ftruncate", ftruncate(fd, 3) == 0 && fstat(fd, &st) == 0 && st.st_size == 3);
    CHECK("posix_fallocate", posix_fallocate(fd, 0, 4096) == 0 && fstat(fd, &st) == 0 &&
                                 st.st_size == 4096);
    CHECK("posix_fadvise", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
    CHECK("fsync", fsync(fd) == 0);
    CHECK("fdatasync", fdatasync(fd) == 0);
    struct timespec times[2] = {{1000000000, 5}, {1100000000, 7}};
    CHECK("futimens", futimens(fd, times) == 0 && fstat(fd, &st) == 0 &&
                          st.st_mtim.tv_sec == 1100000000 && st.st_atim.tv_sec == 1000000000);
    CHECK("fcntl append", fcntl(fd, F_SETFL, O_APPEND) == 0 &&
                              (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    CHECK("append write", write(fd, "z", 1) == 1 && fstat(fd, &st) == 0 && st.st_size == 4097);
    CHECK("close", close(fd) == 0);
    CHECK_ERR("close again", close(fd), EBADF);
    CHECK_ERR("read closed", read(fd, buf, 1), EBADF);

    CHECK("open read-only", (fd = open("a.txt", O_RDONLY)) >= 0);
    CHECK_ERR("write read-only", write(fd, "x", 1), EBADF);
    close(fd);
    CHECK_ERR("open excl", open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    CHECK_ERR("open missing", open("missing.txt", O_RDONLY), ENOENT);
    CHECK_ERR("open file as dir", open("a.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);

    CHECK("mkdir", mkdir("d", 0755) == 0);
    CHECK_ERR("mkdir again", mkdir("d", 0755), EEXIST);
    CHECK("stat dir", stat("d", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_ERR("open dir for write", open("d", O_WRONLY), EISDIR);
    CHECK("rename", rename("a.txt", "d/b.txt") == 0);
    CHECK_ERR("old name gone", stat("a.txt", &st), ENOENT);
    CHECK("link", link("d/b.txt", "c.txt") == 0 && stat("c.txt", &st) == 0 && st.st_nlink == 2);
    CHECK("symlink", symlink("d/b.txt", "s.txt") == 0);
    char target[64] = {0};
    CHECK("readlink", readlink("s.txt", target, sizeof target) == 7 &&
                          memcmp(target, "d/b.txt", 7) == 0);
    CHECK("lstat symlink", lstat("s.txt", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK("stat through symlink", stat("s.txt", &st) == 0 && S_ISREG(st.st_mode) &&
                                      st.st_size == 4097);
    CHECK("open through symlink", (fd = open("s.txt", O_RDONLY)) >= 0 && read(fd, buf, 3) == 3 && memcmp(buf, "HEL", 3) == 0);
    close(fd);
    CHECK_ERR("open symlink nofollow", open("s.txt", O_RDONLY | O_NOFOLLOW), ELOOP);
    CHECK("utimensat", utimensat(AT_FDCWD, "c.txt", times, 0) == 0 && stat("c.txt", &st) == 0 &&
                           st.st_mtim.tv_sec == 1100000000);
    CHECK_ERR("rmdir non-empty", rmdir("d"), ENOTEMPTY);
    CHECK_ERR("unlink dir", unlink("d"), EISDIR);
    CHECK("unlink", unlink("d/b.txt") == 0 && unlink("c.txt") == 0 && unlink("s.txt") == 0);
    CHECK("rmdir", rmdir("d") == 0);
    CHECK_ERR("rmdir missing", rmdir("d"), ENOENT);

    /* Raw calls: renumber, rights, and hostile pointers. */
    fd = open("r.txt", O_CREAT | O_RDWR, 0644);
    int fd2 = open("r2.txt", O_CREAT | O_RDWR, 0644);
    CHECK("fd_renumber", __wasi_fd_renumber(fd, fd2) == 0 && write(fd2, "r", 1) == 1);
    CHECK_ERR("renumbered source closed", write(fd, "r", 1), EBADF);
    __wasi_fdstat_t fst;
    CHECK("fd_fdstat_get", __wasi_fd_fdstat_get(fd2, &fst) == 0 &&
                               fst.fs_filetype == __WASI_FILETYPE_REGULAR_FILE);
    CHECK("drop write right",
          __wasi_fd_fdstat_set_rights(fd2, fst.fs_rights_base & ~__WASI_RIGHTS_FD_WRITE, 0) == 0);
    __wasi_ciovec_t one = {(const uint8_t *)"r", 1};
    __wasi_size_t written;
    CHECK("write without right",
          __wasi_fd_write(fd2, &one, 1, &written) == __WASI_ERRNO_NOTCAPABLE);
    CHECK("rights cannot grow",
          __wasi_fd_fdstat_set_rights(fd2, fst.fs_rights_base, 0) == __WASI_ERRNO_NOTCAPABLE);
    close(fd2);
    unlink("r.txt");
    unlink("r2.txt");
    __wasi_size_t n;
    CHECK("fd_write bad iovec", __wasi_fd_write(1, (const __wasi_ciovec_t *)0xfffffff0u, 4, &n) ==
                                    __WASI_ERRNO_FAULT);
    __wasi_ciovec_t bad = {(const uint8_t *)0xffff0000u, 0x10000000u};
    CHECK("fd_write bad buffer", __wasi_fd_write(1, &bad, 1, &n) == __WASI_ERRNO_FAULT);
    CHECK("fd_read bad result", __wasi_fd_read(0, (const __wasi_iovec_t *)&bad, 0,
                                               (__wasi_size_t *)0xfffffffcu) != 0);
    CHECK("path_open bad path",
          raw_path_open(3, 0, (int)0xfffffff0u, 100, 0, 0, 0, 0, (int)&n) == __WASI_ERRNO_FAULT);
    CHECK("path_open bad result",
          raw_path_open(3, 0, (int)"r.txt", 5, 1, 2, 0, 0, (int)0xfffffffeu) == __WASI_ERRNO_FAULT);
    unlink("r.txt");
    CHECK("args_get bad pointers", __wasi_args_get((uint8_t **)0xfffffff0u,
                                                   (uint8_t *)0xfffffff0u) == __WASI_ERRNO_FAULT);
    CHECK("clock_time_get bad clock", __wasi_clock_time_get(99, 0, (__wasi_timestamp_t *)&fst) ==
                                          __WASI_ERRNO_INVAL);
    CHECK("bad fd", __wasi_fd_close(12345) == __WASI_ERRNO_BADF);
    CHECK("sock on file", __wasi_sock_shutdown(1, 0) == __WASI_ERRNO_NOTSOCK);
    CHECK("proc_raise unsupported", raw_proc_raise(6) == __WASI_ERRNO_NOSYS);
    return finish();
}
