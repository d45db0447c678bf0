/* npz.c — numpy .npz archives written in place; see npz.h.
 *
 * The file, entry after entry: a ZIP local header (ZIP64: its sizes in an
 * extra field), the .npy header (format 1.0: magic, version, a Python dict
 * literal padded with spaces to a multiple of 64 bytes), the elements;
 * then the central directory, the ZIP64 end records and the classic end
 * record. Entries are stored, not compressed; times are 1980-01-01 00:00 so
 * the same arrays make the same bytes. Local headers are written last,
 * when each entry's CRC-32 is known: libdeflate's where the build has it
 * (several times faster), else zlib's, the same checksum. Depends on
 * nothing but zlib (and libdeflate, optionally).
 */
#include "npz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#ifdef OS_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#define NAME_MAX_LEN 200
#define LOCAL_FIXED 30   /* a local header without its name and extra field */
#define LOCAL_EXTRA 20   /* ZIP64 extra field: id, size, two 8-byte sizes */
#define CENTRAL_FIXED 46
#define CENTRAL_EXTRA 28 /* ZIP64 extra field: id, size, two sizes, the offset */
#define ZIP_VERSION 45   /* 4.5: ZIP64 */
#define DOS_DATE 0x21    /* 1980-01-01 */

typedef struct npz_item {
    char name[NAME_MAX_LEN + 8]; /* NAME.npy */
    char npy[256];               /* the .npy header */
    size_t npy_len;
    size_t itemsize, count, written;
    uint64_t local_off, data_off, size; /* size: .npy header + elements */
    unsigned long crc;
} npz_item;

struct os_npz {
    int fd;
    size_t n;
    uint64_t end; /* where the central directory goes */
    npz_item items[];
};

/* The CRC-32 of p[0..n) continued from crc. */
static unsigned long crc_update(unsigned long crc, const void *p, size_t n)
{
#ifdef OS_HAVE_LIBDEFLATE
    return libdeflate_crc32((uint32_t)crc, p, n);
#else
    for (size_t done = 0; done < n;) { /* zlib's crc32 takes at most 4 GiB at a time */
        const size_t part = n - done < ((size_t)1 << 30) ? n - done : ((size_t)1 << 30);
        crc = crc32(crc, (const Bytef *)p + done, (uInt)part);
        done += part;
    }
    return crc;
#endif
}

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; ++i) p[i] = (unsigned char)(v >> (8 * i));
}

static int write_at(int fd, const void *buf, size_t n, uint64_t off)
{
    const char *p = buf;
    while (n) {
        const ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return -1;
        }
        p += w, n -= (size_t)w, off += (uint64_t)w;
    }
    return 0;
}

/* The .npy 1.0 header of a one-dimensional array. */
static size_t npy_header(char *out, const char *descr, size_t count)
{
    char dict[200];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu,), }", descr, count);
    size_t total = 10 + (size_t)len + 1; /* magic, version, length; the dict; '\n' */
    total = (total + 63) / 64 * 64;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    put16((unsigned char *)out + 8, (unsigned)(total - 10));
    memcpy(out + 10, dict, (size_t)len);
    memset(out + 10 + len, ' ', total - 10 - (size_t)len - 1);
    out[total - 1] = '\n';
    return total;
}

os_npz *os_npz_open(int fd, const os_npz_entry *entries, size_t n)
{
    os_npz *z = calloc(1, sizeof *z + n * sizeof z->items[0]);
    if (!z) return NULL;
    z->fd = fd;
    z->n = n;
    uint64_t off = 0;
    for (size_t k = 0; k < n; ++k) {
        npz_item *it = &z->items[k];
        const os_npz_entry *e = &entries[k];
        if (strlen(e->name) > NAME_MAX_LEN || strlen(e->descr) > 32) return free(z), NULL;
        snprintf(it->name, sizeof it->name, "%s.npy", e->name);
        it->npy_len = npy_header(it->npy, e->descr, e->count);
        it->itemsize = e->itemsize;
        it->count = e->count;
        it->local_off = off;
        it->data_off = off + LOCAL_FIXED + strlen(it->name) + LOCAL_EXTRA + it->npy_len;
        it->size = it->npy_len + (uint64_t)e->itemsize * e->count;
        it->crc = crc_update(0, it->npy, it->npy_len);
        off = it->data_off + (uint64_t)e->itemsize * e->count;
    }
    z->end = off;
    for (size_t k = 0; k < n; ++k)
        if (write_at(fd, z->items[k].npy, z->items[k].npy_len, z->items[k].data_off - z->items[k].npy_len))
            return free(z), NULL;
    return z;
}

int os_npz_write(os_npz *z, size_t k, size_t first, const void *data, size_t count)
{
    npz_item *it = &z->items[k];
    if (first != it->written || first + count > it->count) {
        errno = EINVAL;
        return -1;
    }
    const size_t bytes = count * it->itemsize;
    if (write_at(z->fd, data, bytes, it->data_off + (uint64_t)first * it->itemsize)) return -1;
    it->crc = crc_update(it->crc, data, bytes);
    it->written += count;
    return 0;
}

/* What local and central headers share, from the modification time on:
 * time, date, CRC-32, both sizes (in the ZIP64 field), name and extra
 * field lengths; then the name. Returns where the extra field goes. */
static unsigned char *put_entry(unsigned char *p, const npz_item *it, unsigned extra_len, size_t fixed_rest)
{
    const size_t nl = strlen(it->name);
    put16(p + 2, DOS_DATE);
    put32(p + 4, (uint32_t)it->crc);
    put32(p + 8, 0xFFFFFFFFu);
    put32(p + 12, 0xFFFFFFFFu);
    put16(p + 16, (unsigned)nl);
    put16(p + 18, extra_len);
    memcpy(p + 20 + fixed_rest, it->name, nl);
    return p + 20 + fixed_rest + nl;
}

/* The ZIP64 extra field: both sizes, and the local header's offset when
 * given (the central directory's). Returns its length. */
static size_t put_zip64(unsigned char *x, const npz_item *it, int with_offset)
{
    put16(x, 0x0001);
    put16(x + 2, with_offset ? 24 : 16);
    put64(x + 4, it->size);
    put64(x + 12, it->size);
    if (with_offset) put64(x + 20, it->local_off);
    return with_offset ? CENTRAL_EXTRA : LOCAL_EXTRA;
}

int os_npz_finish(os_npz *z)
{
    int bad = 0;
    unsigned char h[CENTRAL_FIXED + NAME_MAX_LEN + 8 + CENTRAL_EXTRA];
    uint64_t at = z->end;
    for (size_t k = 0; k < z->n && !bad; ++k) { /* the local headers, now that the CRCs are known */
        const npz_item *it = &z->items[k];
        if (it->written != it->count) {
            errno = EINVAL;
            bad = 1;
            break;
        }
        memset(h, 0, sizeof h);
        put32(h, 0x04034b50);
        put16(h + 4, ZIP_VERSION);
        unsigned char *x = put_entry(h + 10, it, LOCAL_EXTRA, 0);
        const size_t len = (size_t)(x - h) + put_zip64(x, it, 0);
        bad = write_at(z->fd, h, len, it->local_off) != 0;
    }
    for (size_t k = 0; k < z->n && !bad; ++k) { /* the central directory */
        const npz_item *it = &z->items[k];
        memset(h, 0, sizeof h);
        put32(h, 0x02014b50);
        put16(h + 4, 0x0300 | ZIP_VERSION); /* made by: Unix */
        put16(h + 6, ZIP_VERSION);
        /* after the shared fields: comment length, disk, internal attributes (0) */
        put32(h + 38, 0100644u << 16); /* a regular file, rw-r--r-- */
        put32(h + 42, 0xFFFFFFFFu);    /* the offset: in the ZIP64 field */
        unsigned char *x = put_entry(h + 12, it, CENTRAL_EXTRA, CENTRAL_FIXED - 32);
        const size_t len = (size_t)(x - h) + put_zip64(x, it, 1);
        bad = write_at(z->fd, h, len, at) != 0;
        at += len;
    }
    if (!bad) { /* ZIP64 end of central directory, its locator, the classic end record */
        unsigned char e[56 + 20 + 22];
        memset(e, 0, sizeof e);
        const uint64_t cd_size = at - z->end;
        put32(e, 0x06064b50);
        put64(e + 4, 44);
        put16(e + 12, 0x0300 | ZIP_VERSION);
        put16(e + 14, ZIP_VERSION);
        put64(e + 24, z->n);
        put64(e + 32, z->n);
        put64(e + 40, cd_size);
        put64(e + 48, z->end);
        put32(e + 56, 0x07064b50);
        put64(e + 64, at);
        put32(e + 72, 1);
        unsigned char *c = e + 76;
        put32(c, 0x06054b50);
        put16(c + 8, z->n < 0xFFFF ? (unsigned)z->n : 0xFFFF);
        put16(c + 10, z->n < 0xFFFF ? (unsigned)z->n : 0xFFFF);
        put32(c + 12, 0xFFFFFFFFu);
        put32(c + 16, 0xFFFFFFFFu);
        bad = write_at(z->fd, e, sizeof e, at) != 0;
    }
    free(z);
    return bad ? -1 : 0;
}

void os_npz_free(os_npz *z) { free(z); }
