/* A large directory: creates N files in a new directory, lists it with readdir (which
 * needs several fd_readdir calls with cookies), checks every name appears once, seeks
 * back with rewinddir, then removes everything. Usage: dirs N (default 3000). */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 3000;
    char name[64];
    CHECK("mkdir", mkdir("big", 0755) == 0);
    int created = 0;
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "big/file-with-a-longish-name-%05d.txt", i);
        int fd = open(name, O_CREAT | O_WRONLY, 0644);
        if (fd < 0) break;
        close(fd);
        created++;
    }
    CHECK("create all", created == n);
    unsigned char *seen = calloc(n, 1);
    DIR *d = opendir("big");
    CHECK("opendir", d != NULL);
    int files = 0, dots = 0, dupes = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            dots++;
            continue;
        }
        int i;
        if (sscanf(e->d_name, "file-with-a-longish-name-%d.txt", &i) == 1 && i >= 0 && i < n &&
            e->d_type == DT_REG) {
            if (seen[i]) dupes++;
            seen[i] = 1;
            files++;
        }
    }
    CHECK("every entry once", files == n && dupes == 0);
    CHECK("dot entries", dots == 2);
    if (d) {
        rewinddir(d);
        int again = 0;
        while ((e = readdir(d)) != NULL) again++;
        CHECK("rewinddir", again == n + 2);
        closedir(d);
    }
    int removed = 0;
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "big/file-with-a-longish-name-%05d.txt", i);
        if (unlink(name) == 0) removed++;
    }
    CHECK("remove all", removed == n);
    CHECK("rmdir", rmdir("big") == 0);
    printf("listed %d files\n", files);
    free(seen);
    return finish();
}
