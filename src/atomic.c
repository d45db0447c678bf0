/* atomic.c — crash-safe output files: the table goes to a temporary file
 * beside the target and is renamed over it only when complete, so no
 * half-written table is ever left. Depends on nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orbitsweep/orbitsweep.h"

os_status os_atomic_open(os_atomic_file *af, const char *path, os_error *err)
{
    memset(af, 0, sizeof *af);
    size_t len = strlen(path);
    af->path = strdup(path);
    af->tmp = malloc(len + 16);
    if (!af->path || !af->tmp) {
        os_atomic_abort(af);
        os_set_error(err, "-o: out of memory");
        return OS_ERUNTIME;
    }
    snprintf(af->tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp);
    if (fd < 0) {
        os_set_error(err, "-o: '%s': %s", path, strerror(errno));
        free(af->tmp);
        af->tmp = NULL;
        os_atomic_abort(af);
        return OS_EINPUT;
    }
    mode_t mask = umask(0); /* mkstemp makes 0600; give the table the usual mode */
    umask(mask);
    fchmod(fd, 0666 & ~mask);
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
    int bad = ferror(af->f);
    if (fclose(af->f) != 0) bad = 1;
    af->f = NULL;
    if (bad) {
        os_set_error(err, "-o: '%s': write failed: %s", af->path, strerror(errno));
        os_atomic_abort(af);
        return OS_ERUNTIME;
    }
    if (rename(af->tmp, af->path) != 0) {
        os_set_error(err, "-o: '%s': %s", af->path, strerror(errno));
        os_atomic_abort(af);
        return OS_ERUNTIME;
    }
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof *af);
    return OS_OK;
}

void os_atomic_abort(os_atomic_file *af)
{
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    free(af->tmp);
    free(af->path);
    memset(af, 0, sizeof *af);
}
