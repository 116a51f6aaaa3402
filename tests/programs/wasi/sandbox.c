/* Escapes from a preopened directory, each of which must be refused: absolute paths, "..",
 * symlinks that point outside (made by the host or by the guest itself), on files,
 * directories, renames and links. Run with DIR preopened as "." where DIR/../secret.txt
 * exists and DIR/out is a host-made symlink to "..". */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#include "check.h"

/* The preopen's descriptor (wasi-libc numbers preopens from 3). */
#define PRE 3

/* True if the raw path_open of `path` fails (the sandbox refused it). */
static int refused_open(const char *path, __wasi_lookupflags_t follow) {
    __wasi_fd_t fd;
    int e = raw_path_open(PRE, (int)follow, (int)path, (int)strlen(path), 0,
                          __WASI_RIGHTS_FD_READ, 0, 0, (int)&fd);
    if (e == 0) {
        (void)__wasi_fd_close(fd);
        return 0;
    }
    return 1;
}

int main(void) {
    struct stat st;
    char buf[64];
    CHECK("inside ok", open("inside.txt", O_RDONLY) >= 0);
    CHECK("parent refused", refused_open("../secret.txt", 1));
    CHECK("nested parent refused", refused_open("sub/../../secret.txt", 1));
    CHECK("absolute refused", refused_open("/etc/passwd", 1));
    CHECK("host symlink refused", refused_open("out/secret.txt", 1));
    CHECK("libc parent refused", open("../secret.txt", O_RDONLY) < 0);
    CHECK("stat parent refused", stat("../secret.txt", &st) < 0);
    CHECK("stat via symlink refused", stat("out/secret.txt", &st) < 0);
    CHECK("opendir parent refused", opendir("..") == NULL);
    CHECK("opendir via symlink refused", opendir("out") == NULL);

    /* The guest's own symlinks: creating them is allowed, following them out is not. */
    CHECK("guest symlink up", symlink("../secret.txt", "up") == 0);
    CHECK("guest symlink abs", symlink("/etc/passwd", "abs") == 0);
    CHECK("follow guest symlink refused", refused_open("up", 1));
    CHECK("follow absolute symlink refused", refused_open("abs", 1));
    CHECK("read guest symlink refused", open("up", O_RDONLY) < 0);
    CHECK("create through symlink refused", open("up", O_CREAT | O_WRONLY, 0644) < 0);
    CHECK("guest symlink dir", symlink("..", "updir") == 0);
    CHECK("create in symlinked dir refused", open("updir/new.txt", O_CREAT | O_WRONLY, 0644) < 0);
    CHECK("mkdir via symlink refused", mkdir("updir/newdir", 0755) < 0);
    CHECK("mkdir parent refused", mkdir("../newdir", 0755) < 0);
    CHECK("rmdir parent refused", rmdir("../sandbox-victim") < 0);
    CHECK("unlink parent refused", unlink("../secret.txt") < 0);
    CHECK("unlink via symlink refused", unlink("out/secret.txt") < 0);
    CHECK("unlink symlink itself ok", unlink("abs") == 0);

    /* Renames and links across the boundary. */
    CHECK("rename out refused", rename("inside.txt", "../moved.txt") < 0);
    CHECK("rename out via symlink refused", rename("inside.txt", "updir/moved.txt") < 0);
    CHECK("rename in refused", rename("../secret.txt", "stolen.txt") < 0);
    CHECK("link in refused", link("../secret.txt", "stolen.txt") < 0);
    CHECK("link in via symlink refused", link("out/secret.txt", "stolen.txt") < 0);
    CHECK("link out refused", link("inside.txt", "../linked.txt") < 0);
    int e = raw_path_link(PRE, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, (int)"up", 2, PRE,
                          (int)"stolen.txt", 10);
    CHECK("link following guest symlink refused", e != 0);
    CHECK("nothing stolen", stat("stolen.txt", &st) < 0);
    CHECK("readlink parent refused", readlink("../secret-link", buf, sizeof buf) < 0);
    CHECK("utimes via symlink refused", utimensat(AT_FDCWD, "up", NULL, 0) < 0);
    CHECK("symlink outside refused", symlink("x", "../planted") < 0);

    /* The same escapes as raw calls, so that no libc path handling stands in between:
     * each must fail with ENOTCAPABLE. */
#define S(x) (int)(x), (int)strlen(x)
    char st_buf[64];
    CHECK("raw stat parent", raw_path_filestat_get(PRE, 1, S("../secret.txt"), (int)st_buf) ==
                                 __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw stat absolute", raw_path_filestat_get(PRE, 1, S("/etc/passwd"), (int)st_buf) ==
                                   __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw stat via guest symlink", raw_path_filestat_get(PRE, 1, S("up"), (int)st_buf) ==
                                            __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw rename out", raw_path_rename(PRE, S("inside.txt"), PRE, S("../moved.txt")) ==
                                __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw rename out via symlink",
          raw_path_rename(PRE, S("inside.txt"), PRE, S("updir/moved.txt")) ==
              __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw rename in", raw_path_rename(PRE, S("out/secret.txt"), PRE, S("stolen.txt")) ==
                               __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw link in", raw_path_link(PRE, 0, S("../secret.txt"), PRE, S("stolen.txt")) ==
                             __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw mkdir out", raw_path_create_directory(PRE, S("../newdir")) ==
                               __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw mkdir via symlink", raw_path_create_directory(PRE, S("updir/newdir")) ==
                                       __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw unlink out", raw_path_unlink_file(PRE, S("../secret.txt")) ==
                                __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw unlink ..", raw_path_unlink_file(PRE, S("sub/../..")) == __WASI_ERRNO_NOTCAPABLE);
    CHECK("raw symlink out", raw_path_symlink(S("x"), PRE, S("../planted")) ==
                                 __WASI_ERRNO_NOTCAPABLE);
#undef S
    CHECK("cleanup", unlink("up") == 0 && unlink("updir") == 0);
    return finish();
}
