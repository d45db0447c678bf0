/* memory.c — how much memory this machine can still give (depends on
 * nothing): MemAvailable of /proc/meminfo, else the free physical pages. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

double os_memory_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        double kb = -1;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "MemAvailable:", 13) == 0 && sscanf(line + 13, "%lf", &kb) == 1) break;
        fclose(f);
        if (kb >= 0) return kb * 1024.0;
    }
#ifdef _SC_AVPHYS_PAGES
    const long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && size > 0) return (double)pages * (double)size;
#endif
    return -1; /* unknown */
}
