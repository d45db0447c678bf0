/* atomic.c — output files that are never left half-written and never
 * replace what is not ours. Depends on nothing.
 *
 * A regular file, or a path that does not exist yet, is written to a
 * temporary file beside it and renamed over it only when complete; through
 * a symlink, beside and over the link's target (the link stays a link).
 * Anything else that exists — a device such as /dev/null, a named pipe, a
 * terminal, a socket, and any path under /dev or /proc (/dev/stdout) — is
 * written directly, and its write errors are reported; it is never
 * replaced. A directory is refused.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#define _GNU_SOURCE       /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orbitsweep/orbitsweep.h"

/* The file a path names: the path itself, or where its symlinks lead
 * (also when the last link dangles: then the file it would create). */
static char *resolve(const char *path)
{
    char *real = realpath(path, NULL);
    if (real) return real;
    char *cur = strdup(path), link[PATH_MAX];
    struct stat ls;
    for (int hops = 0; cur && hops < 40 && lstat(cur, &ls) == 0 && S_ISLNK(ls.st_mode); ++hops) {
        const ssize_t n = readlink(cur, link, sizeof link - 1); /* a dangling chain: follow it by hand */
        if (n < 0) break;
        link[n] = 0;
        const char *slash = strrchr(cur, '/');
        const size_t dl = link[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1; /* relative: to the link's dir */
        char *next = malloc(dl + (size_t)n + 1);
        if (next) memcpy(next, cur, dl), memcpy(next + dl, link, (size_t)n + 1);
        free(cur);
        cur = next;
    }
    return cur;
}

/* Whether an existing path (st: its stat) is written directly rather than
 * replaced: anything but a regular file, and anything under /dev or /proc
 * (/dev/stdout, /dev/fd/N lead to whatever the descriptor is, even a
 * regular file: renaming over that would lose the output). */
static int writes_directly(const char *path, const struct stat *st)
{
    return !S_ISREG(st->st_mode) || strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0;
}

/* The directory part of path ("." for a bare name). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    char *d = strndup(path, (size_t)(slash - path));
    return d;
}

os_status os_output_check(const char *path, const char *const *inputs, int n_inputs, os_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            os_set_error(err, "-o: '%s': is a directory", path);
            return OS_EINPUT;
        }
        for (int i = 0; i < n_inputs; ++i) {
            struct stat in;
            if (inputs[i] && stat(inputs[i], &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino &&
                S_ISREG(st.st_mode)) {
                os_set_error(err, "-o: '%s' is also an input ('%s'): choose another output", path, inputs[i]);
                return OS_EINPUT;
            }
        }
        if (access(path, W_OK) != 0) {
            os_set_error(err, "-o: '%s': %s", path, strerror(errno));
            return OS_EINPUT;
        }
        if (writes_directly(path, &st)) return OS_OK;
    } else if (errno != ENOENT) {
        os_set_error(err, "-o: '%s': %s", path, strerror(errno));
        return OS_EINPUT;
    }
    /* a regular file or a new one: its directory must take the temporary */
    char *target = resolve(path), *dir = target ? dir_of(target) : NULL;
    os_status rc = OS_OK;
    struct stat ds;
    if (!target || !dir) {
        os_set_error(err, "-o: out of memory");
        rc = OS_ERUNTIME;
    } else if (stat(dir, &ds) != 0 || !S_ISDIR(ds.st_mode)) {
        os_set_error(err, "-o: '%s': the directory '%s' %s", path, dir,
                     errno == ENOENT || !S_ISDIR(ds.st_mode) ? "does not exist" : strerror(errno));
        rc = OS_EINPUT;
    } else if (access(dir, W_OK | X_OK) != 0) {
        os_set_error(err, "-o: '%s': cannot write in '%s': %s", path, dir, strerror(errno));
        rc = OS_EINPUT;
    }
    free(target);
    free(dir);
    return rc;
}

os_status os_atomic_open(os_atomic_file *af, const char *path, os_error *err)
{
    memset(af, 0, sizeof *af);
    af->path = strdup(path);
    if (!af->path) {
        os_set_error(err, "-o: out of memory");
        return OS_ERUNTIME;
    }
    struct stat st;
    const int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        os_set_error(err, "-o: '%s': is a directory", path);
        os_atomic_abort(af);
        return OS_EINPUT;
    }
    if (exists && writes_directly(path, &st)) {
        const int fd = open(path, O_WRONLY | O_CLOEXEC);
        af->f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!af->f) {
            os_set_error(err, "-o: '%s': %s", path, strerror(errno));
            if (fd >= 0) close(fd);
            os_atomic_abort(af);
            return OS_EINPUT;
        }
        return OS_OK;
    }
    af->target = resolve(path);
    if (!af->target) {
        os_atomic_abort(af);
        os_set_error(err, "-o: out of memory");
        return OS_ERUNTIME;
    }
    const size_t len = strlen(af->target);
    af->tmp = malloc(len + 16);
    if (!af->tmp) {
        os_atomic_abort(af);
        os_set_error(err, "-o: out of memory");
        return OS_ERUNTIME;
    }
    snprintf(af->tmp, len + 16, "%s.tmp.XXXXXX", af->target);
    const int fd = mkstemp(af->tmp);
    if (fd < 0) {
        os_set_error(err, "-o: '%s': %s", path, strerror(errno));
        free(af->tmp);
        af->tmp = NULL;
        os_atomic_abort(af);
        return OS_EINPUT;
    }
    const mode_t mask = umask(0); /* mkstemp makes 0600; give the table the usual mode */
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) { /* not fatal: the table is still ours */
    }
    af->f = fdopen(fd, "w");
    if (!af->f) {
        close(fd);
        os_set_error(err, "-o: '%s': %s", path, strerror(errno));
        os_atomic_abort(af);
        return OS_ERUNTIME;
    }
    return OS_OK;
}

os_status os_atomic_commit(os_atomic_file *af, os_error *err)
{
    errno = 0;
    int bad = ferror(af->f) || fflush(af->f) != 0;
    int why = errno;
    if (!bad && af->tmp && fsync(fileno(af->f)) != 0) bad = 1, why = errno;
    if (fclose(af->f) != 0 && !bad) bad = 1, why = errno;
    af->f = NULL;
    if (bad) {
        os_set_error(err, "-o: '%s': write failed: %s", af->path, why ? strerror(why) : "I/O error");
        os_atomic_abort(af);
        return OS_ERUNTIME;
    }
    if (af->tmp && rename(af->tmp, af->target) != 0) {
        os_set_error(err, "-o: '%s': %s", af->path, strerror(errno));
        os_atomic_abort(af);
        return OS_ERUNTIME;
    }
    free(af->tmp);
    free(af->target);
    free(af->path);
    memset(af, 0, sizeof *af);
    return OS_OK;
}

char *os_output_target(const char *path) { return resolve(path); }

void os_atomic_abort(os_atomic_file *af)
{
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    free(af->tmp);
    free(af->target);
    free(af->path);
    memset(af, 0, sizeof *af);
}

void os_file_writeback(int fd, long long off, long long len)
{
#ifdef __linux__
    if (len >= 0) (void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE); /* 0: to the end */
#else
    (void)fd, (void)off, (void)len;
#endif
}
