/* npz.h — a numpy .npz archive written in place: one .npy array per entry,
 * stored (not compressed) in a ZIP64 archive, every entry's size known up
 * front so that its data can be written piece by piece, in order, at its
 * place in the file (pwrite) while other entries are being written too.
 * np.load reads the result; so does any ZIP reader.
 */
#ifndef ORBITSWEEP_NPZ_H
#define ORBITSWEEP_NPZ_H

#include <stddef.h>
#include <stdint.h>

/* One array of the archive: its name (the entry is NAME.npy), numpy's type
 * descriptor ("<f8", "<i8", "<u8", "<f4", "<U12", "|u1" ...), the size of
 * one element and how many there are. */
typedef struct os_npz_entry {
    const char *name;
    const char *descr;
    size_t itemsize;
    size_t count;
} os_npz_entry;

typedef struct os_npz os_npz;

/* An archive of these entries on fd (a regular file, written from offset
 * 0); NULL when out of memory or a name is too long. */
os_npz *os_npz_open(int fd, const os_npz_entry *entries, size_t n);

/* Elements first .. first+count-1 of entry k; every entry's elements must
 * come in order, back to back (its checksum is kept on the way). 0, or -1
 * on a write error (errno). */
int os_npz_write(os_npz *z, size_t k, size_t first, const void *data, size_t count);

/* Writes every entry's header and the central directory, and frees z.
 * Every element of every entry must have been written. 0, or -1 on a
 * write error (errno). */
int os_npz_finish(os_npz *z);
void os_npz_free(os_npz *z);

#endif
