/* container.c - the versioned limpid file container (model files and training checkpoints),
 * and whole-file read / atomic write helpers.
 *
 * Byte layout, format version 1. All integers and floats little-endian; no implicit padding.
 *
 *   offset  size  field
 *   0       8     magic "LIMPIDMF"
 *   8       4     u32 format version (= 1)
 *   12      4     u32 kind: 1 model, 2 training checkpoint
 *   16      4     u32 n_kv   (<= 1024)
 *   20      4     u32 n_rec  (<= 65536)
 *   24      8     u64 total file length in bytes, checksum included
 *   32            n_kv metadata entries, each:
 *                   u16 key length (1..47) + key bytes (printable ASCII 0x20..0x7e, no NUL)
 *                   u8  type: 1 i64, 2 f64 (IEEE-754 binary64, NaN/Inf allowed), 3 string
 *                   value: i64 (8) | f64 (8) | u32 length (0..511) + bytes (no NUL inside)
 *                 then n_rec tensor records, each:
 *                   u16 name length (1..47) + name bytes (printable ASCII)
 *                   u8  ndim (1 or 2)
 *                   i64 dims[ndim], each >= 1, product <= 2^31
 *                   zero bytes up to the next multiple of 16 of the file offset
 *                   float32 data[product of dims] (IEEE-754 binary32, all finite)
 *   len-8   8     u64 checksum: FNV-1a 64 over bytes [0, len-8)
 *
 * Keys are unique within a file, and so are record names. A reader of this version refuses
 * any other version: a new field or type means a new version number.
 *
 * Order of the reader's checks, each with its own status: size and magic (FORMAT, or
 * TRUNCATED for a prefix of a limpid file), version (VERSION), declared vs actual length
 * (TRUNCATED / CORRUPT), checksum (CORRUPT), kind (FORMAT), then every count and length
 * against the bytes that remain before it is used (CORRUPT), finiteness of tensor data
 * (NUMERIC). The checksum precedes the kind so that a damaged file reads as damaged.
 *
 * Built with -DLPI_FUZZ_NO_CHECKSUM (fuzzing only) the checksum is computed but not compared,
 * so that mutated inputs reach the parser behind it.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define LPI_MAGIC "LIMPIDMF"
#define LPI_FORMAT_VERSION 1u
#define LPI_HEADER_BYTES 32u
#define LPI_CHECKSUM_BYTES 8u
#define LPI_MIN_FILE (LPI_HEADER_BYTES + LPI_CHECKSUM_BYTES)
#define LPI_MAX_KV 1024u
#define LPI_MAX_REC 65536u
#define LPI_NAME_MAX 47u
#define LPI_STR_MAX 511u
#define LPI_MAX_ELEMS (1ull << 31)
#define LPI_DATA_ALIGN 16u
/* Smallest encodings, used to reject counts the remaining bytes cannot hold before any
 * allocation: kv = 2 + 1 (key) + 1 (type) + 4 (empty string); record = 2 + 1 + 1 + 8 + 4. */
#define LPI_MIN_KV_BYTES 8u
#define LPI_MIN_REC_BYTES 16u
/* Record data in the reader's blob starts on 64-byte boundaries (16 floats). */
#define LPI_BLOB_ALIGN_FLOATS 16u
#define LPI_MAX_FILE_BYTES (2ull << 30) /* 2 GiB */

/* ------------------------------------------------------------------------ */
/* Byte helpers (endian-independent) */

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LPI_HOST_LE 1
#else
#define LPI_HOST_LE 0
#endif

/* n float32 values to / from little-endian bytes */
static void put_f32s(uint8_t *dst, const float *src, size_t n)
{
#if LPI_HOST_LE
    memcpy(dst, src, n * sizeof(float));
#else
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], 4);
        put_u32(dst + 4 * i, u);
    }
#endif
}
static void get_f32s(float *dst, const uint8_t *src, size_t n)
{
#if LPI_HOST_LE
    memcpy(dst, src, n * sizeof(float));
#else
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(src + 4 * i);
        memcpy(&dst[i], &u, 4);
    }
#endif
}

/* FNV-1a 64. Any single changed byte changes the result: each step is a bijection of the
 * state for a fixed input byte. */
static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static int name_ok(const char *s, size_t n)
{
    if (n < 1 || n > LPI_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* Stable merge sort of indices by name; duplicates are then adjacent. O(n log n) because n
 * may be 65536 (a quadratic search would be too slow); no qsort: it has no context argument. */
static void merge_sort_idx(int *a, int *tmp, int n, const char *const *names)
{
    if (n < 2)
        return;
    int h = n / 2;
    merge_sort_idx(a, tmp, h, names);
    merge_sort_idx(a + h, tmp, n - h, names);
    int i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int c = strcmp(names[a[i]], names[a[j]]);
        if (c < 0 || (c == 0 && a[i] < a[j]))
            tmp[k++] = a[i++];
        else
            tmp[k++] = a[j++];
    }
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}
/* Returns 1 with the indices of a first occurrence and its duplicate if two of the n names are
 * equal, 0 if all are distinct, -1 on allocation failure. */
static int find_duplicate(const char *const *names, int n, int *first, int *dup)
{
    if (n < 2)
        return 0;
    int *idx = malloc((size_t)n * 2 * sizeof *idx);
    if (!idx)
        return -1;
    for (int i = 0; i < n; i++)
        idx[i] = i;
    merge_sort_idx(idx, idx + n, n, names);
    int found = 0;
    for (int i = 1; i < n; i++) {
        if (strcmp(names[idx[i - 1]], names[idx[i]]) == 0) {
            /* stable: idx[i-1] < idx[i]; report the pair with the earliest duplicate */
            if (!found || idx[i] < *dup) {
                *first = idx[i - 1];
                *dup = idx[i];
            }
            found = 1;
        }
    }
    free(idx);
    return found;
}

/* ------------------------------------------------------------------------ */
/* Writer */

static size_t pad16(size_t off) { return (LPI_DATA_ALIGN - off % LPI_DATA_ALIGN) % LPI_DATA_ALIGN; }

limpid_status lpi_container_write(const lpi_container *c, void **buf, size_t *len)
{
    if (!c || !buf || !len)
        return LIMPID_ERR_INVALID;
    *buf = NULL;
    *len = 0;
    if (c->kind != LPI_KIND_MODEL && c->kind != LPI_KIND_CHECKPOINT)
        return LIMPID_ERR_INVALID;
    if (c->n_kv < 0 || (unsigned)c->n_kv > LPI_MAX_KV || c->n_rec < 0 ||
        (unsigned)c->n_rec > LPI_MAX_REC)
        return LIMPID_ERR_INVALID;
    if ((c->n_kv > 0 && !c->kv) || (c->n_rec > 0 && !c->rec))
        return LIMPID_ERR_INVALID;

    /* Pass 1: validate what the reader would refuse, and size the file. */
    size_t total = LPI_HEADER_BYTES;
    for (int i = 0; i < c->n_kv; i++) {
        const lpi_kv *kv = &c->kv[i];
        size_t kl = strnlen(kv->key, sizeof kv->key);
        if (!name_ok(kv->key, kl))
            return LIMPID_ERR_INVALID;
        total += 2 + kl + 1;
        if (kv->type == LPI_KV_I64 || kv->type == LPI_KV_F64) {
            total += 8;
        } else if (kv->type == LPI_KV_STR) {
            size_t sl = strnlen(kv->s, sizeof kv->s);
            if (sl > LPI_STR_MAX)
                return LIMPID_ERR_INVALID;
            total += 4 + sl;
        } else {
            return LIMPID_ERR_INVALID;
        }
    }
    for (int i = 0; i < c->n_rec; i++) {
        const lpi_rec *r = &c->rec[i];
        size_t nl = strnlen(r->name, sizeof r->name);
        if (!name_ok(r->name, nl) || (r->ndim != 1 && r->ndim != 2))
            return LIMPID_ERR_INVALID;
        uint64_t prod = 1;
        for (int d = 0; d < r->ndim; d++) {
            if (r->dims[d] < 1 || (uint64_t)r->dims[d] > LPI_MAX_ELEMS)
                return LIMPID_ERR_INVALID;
            prod *= (uint64_t)r->dims[d]; /* <= 2^62: no overflow */
            if (prod > LPI_MAX_ELEMS)
                return LIMPID_ERR_INVALID;
        }
        if (prod != (uint64_t)r->count || !r->data)
            return LIMPID_ERR_INVALID;
        /* a file the reader would refuse is not written: non-finite weights are an error of
         * the caller (a diverged training run), reported now rather than at load time */
        for (size_t k = 0; k < r->count; k++)
            if (!isfinite(r->data[k]))
                return LIMPID_ERR_NUMERIC;
        total += 2 + nl + 1 + 8 * (size_t)r->ndim;
        total += pad16(total);
        if (r->count > (SIZE_MAX - total - LPI_CHECKSUM_BYTES) / 4)
            return LIMPID_ERR_NOMEM;
        total += 4 * r->count;
    }
    for (int i = 0; i < c->n_kv; i++)
        for (int j = 0; j < i; j++)
            if (strncmp(c->kv[i].key, c->kv[j].key, sizeof c->kv[i].key) == 0)
                return LIMPID_ERR_INVALID;
    if (c->n_rec > 1) {
        const char **names = malloc((size_t)c->n_rec * sizeof *names);
        if (!names)
            return LIMPID_ERR_NOMEM;
        for (int i = 0; i < c->n_rec; i++)
            names[i] = c->rec[i].name; /* NUL-terminated: name_ok checked length < 48 */
        int a, b;
        int dup = find_duplicate(names, c->n_rec, &a, &b);
        free(names);
        if (dup < 0)
            return LIMPID_ERR_NOMEM;
        if (dup)
            return LIMPID_ERR_INVALID;
    }
    total += LPI_CHECKSUM_BYTES;

    /* Pass 2: serialise. */
    uint8_t *out = calloc(1, total); /* calloc: padding bytes are zero */
    if (!out)
        return LIMPID_ERR_NOMEM;
    memcpy(out, LPI_MAGIC, 8);
    put_u32(out + 8, LPI_FORMAT_VERSION);
    put_u32(out + 12, c->kind);
    put_u32(out + 16, (uint32_t)c->n_kv);
    put_u32(out + 20, (uint32_t)c->n_rec);
    put_u64(out + 24, (uint64_t)total);
    size_t pos = LPI_HEADER_BYTES;
    for (int i = 0; i < c->n_kv; i++) {
        const lpi_kv *kv = &c->kv[i];
        size_t kl = strnlen(kv->key, sizeof kv->key);
        put_u16(out + pos, (uint16_t)kl);
        memcpy(out + pos + 2, kv->key, kl);
        pos += 2 + kl;
        out[pos++] = (uint8_t)kv->type;
        if (kv->type == LPI_KV_I64) {
            put_u64(out + pos, (uint64_t)kv->i);
            pos += 8;
        } else if (kv->type == LPI_KV_F64) {
            uint64_t u;
            memcpy(&u, &kv->f, 8);
            put_u64(out + pos, u);
            pos += 8;
        } else {
            size_t sl = strnlen(kv->s, sizeof kv->s);
            put_u32(out + pos, (uint32_t)sl);
            memcpy(out + pos + 4, kv->s, sl);
            pos += 4 + sl;
        }
    }
    for (int i = 0; i < c->n_rec; i++) {
        const lpi_rec *r = &c->rec[i];
        size_t nl = strnlen(r->name, sizeof r->name);
        put_u16(out + pos, (uint16_t)nl);
        memcpy(out + pos + 2, r->name, nl);
        pos += 2 + nl;
        out[pos++] = (uint8_t)r->ndim;
        for (int d = 0; d < r->ndim; d++) {
            put_u64(out + pos, (uint64_t)r->dims[d]);
            pos += 8;
        }
        pos += pad16(pos);
        put_f32s(out + pos, r->data, r->count);
        pos += 4 * r->count;
    }
    put_u64(out + pos, fnv1a64(out, pos));
    *buf = out;
    *len = total;
    return LIMPID_OK;
}

/* ------------------------------------------------------------------------ */
/* Reader */

typedef struct cursor {
    const uint8_t *p;
    size_t pos, end; /* end: offset of the checksum */
} cursor;

static int have(const cursor *cu, size_t n) { return cu->end - cu->pos >= n; }

#define FAIL(st, ...)                                                                  \
    do {                                                                               \
        lpi_errf(err, errlen, __VA_ARGS__);                                            \
        status = (st);                                                                 \
        goto fail;                                                                     \
    } while (0)

/* Reads a u16-length-prefixed name into dst[48]; what = "key" / "tensor name". */
static limpid_status read_name(cursor *cu, char *dst, const char *what, int index, char *err,
                               size_t errlen)
{
    size_t at = cu->pos;
    if (!have(cu, 2)) {
        lpi_errf(err, errlen, "%s %d at byte %zu: its length field runs past the end of the data",
                 what, index, at);
        return LIMPID_ERR_CORRUPT;
    }
    size_t n = get_u16(cu->p + cu->pos);
    cu->pos += 2;
    if (n < 1 || n > LPI_NAME_MAX) {
        lpi_errf(err, errlen, "%s %d at byte %zu: length %zu is outside 1..%u", what, index, at,
                 n, LPI_NAME_MAX);
        return LIMPID_ERR_CORRUPT;
    }
    if (!have(cu, n)) {
        lpi_errf(err, errlen, "%s %d at byte %zu: %zu bytes long, only %zu remain", what, index,
                 at, n, cu->end - cu->pos);
        return LIMPID_ERR_CORRUPT;
    }
    if (!name_ok((const char *)cu->p + cu->pos, n)) {
        lpi_errf(err, errlen, "%s %d at byte %zu: contains a byte that is not printable ASCII",
                 what, index, at);
        return LIMPID_ERR_CORRUPT;
    }
    memcpy(dst, cu->p + cu->pos, n);
    dst[n] = '\0';
    cu->pos += n;
    return LIMPID_OK;
}

limpid_status lpi_container_read(lpi_container *c, const void *buf, size_t len, char *err,
                                 size_t errlen)
{
    limpid_status status = LIMPID_OK;
    size_t *data_off = NULL;
    const char **names = NULL;
    if (!c)
        return LIMPID_ERR_INVALID;
    memset(c, 0, sizeof *c);
    if (!buf && len > 0) {
        lpi_errf(err, errlen, "no data given");
        return LIMPID_ERR_INVALID;
    }
    const uint8_t *p = buf;

    /* magic first: a foreign file is FORMAT whatever its size; a short prefix of a limpid
     * file is TRUNCATED */
    size_t ml = len < 8 ? len : 8;
    if (ml > 0 && memcmp(p, LPI_MAGIC, ml) != 0)
        FAIL(LIMPID_ERR_FORMAT, "not a limpid model file (bad magic)");
    if (len < LPI_MIN_FILE)
        FAIL(LIMPID_ERR_TRUNCATED,
             "file is %zu bytes, shorter than the %u bytes of the smallest limpid file", len,
             LPI_MIN_FILE);
    uint32_t version = get_u32(p + 8);
    if (version != LPI_FORMAT_VERSION)
        FAIL(LIMPID_ERR_VERSION,
             "file format version %u; this build of limpid %s reads version %u only", version,
             limpid_version(), LPI_FORMAT_VERSION);
    uint64_t declared = get_u64(p + 24);
    if (declared > (uint64_t)len)
        FAIL(LIMPID_ERR_TRUNCATED, "file is %zu bytes, header says %llu", len,
             (unsigned long long)declared);
    if (declared < (uint64_t)len)
        FAIL(LIMPID_ERR_CORRUPT, "file is %zu bytes, header says %llu (extra bytes at the end)",
             len, (unsigned long long)declared);
    uint64_t stored = get_u64(p + len - LPI_CHECKSUM_BYTES);
    uint64_t actual = fnv1a64(p, len - LPI_CHECKSUM_BYTES);
#ifndef LPI_FUZZ_NO_CHECKSUM
    if (stored != actual)
        FAIL(LIMPID_ERR_CORRUPT, "checksum mismatch (stored %016llx, computed %016llx): the "
             "file is damaged", (unsigned long long)stored, (unsigned long long)actual);
#else
    (void)stored;
    (void)actual;
#endif
    uint32_t kind = get_u32(p + 12);
    if (kind != LPI_KIND_MODEL && kind != LPI_KIND_CHECKPOINT)
        FAIL(LIMPID_ERR_FORMAT, "unknown file kind %u (1 is a model, 2 a training checkpoint)",
             kind);
    uint32_t n_kv = get_u32(p + 16), n_rec = get_u32(p + 20);
    cursor cu = {p, LPI_HEADER_BYTES, len - LPI_CHECKSUM_BYTES};
    if (n_kv > LPI_MAX_KV)
        FAIL(LIMPID_ERR_CORRUPT, "header says %u metadata keys; at most %u are allowed", n_kv,
             LPI_MAX_KV);
    if (n_rec > LPI_MAX_REC)
        FAIL(LIMPID_ERR_CORRUPT, "header says %u tensors; at most %u are allowed", n_rec,
             LPI_MAX_REC);
    /* both counts are small, so the products cannot overflow */
    if ((size_t)n_kv * LPI_MIN_KV_BYTES + (size_t)n_rec * LPI_MIN_REC_BYTES >
        cu.end - cu.pos)
        FAIL(LIMPID_ERR_CORRUPT,
             "header says %u metadata keys and %u tensors, more than %zu bytes can hold", n_kv,
             n_rec, cu.end - cu.pos);
    c->kind = kind;
    if (n_kv > 0 && !(c->kv = calloc(n_kv, sizeof *c->kv)))
        FAIL(LIMPID_ERR_NOMEM, "out of memory reading %u metadata keys", n_kv);
    if (n_rec > 0) {
        c->rec = calloc(n_rec, sizeof *c->rec);
        data_off = calloc(n_rec, sizeof *data_off);
        if (!c->rec || !data_off)
            FAIL(LIMPID_ERR_NOMEM, "out of memory reading %u tensors", n_rec);
    }

    /* metadata */
    for (uint32_t i = 0; i < n_kv; i++) {
        lpi_kv *kv = &c->kv[i];
        size_t at = cu.pos;
        limpid_status st = read_name(&cu, kv->key, "key", (int)i, err, errlen);
        if (st != LIMPID_OK) {
            status = st;
            goto fail;
        }
        c->n_kv = (int)i + 1;
        if (!have(&cu, 1))
            FAIL(LIMPID_ERR_CORRUPT, "key \"%s\" at byte %zu: its type runs past the end of the "
                 "data", kv->key, at);
        int type = cu.p[cu.pos++];
        if (type == LPI_KV_I64 || type == LPI_KV_F64) {
            if (!have(&cu, 8))
                FAIL(LIMPID_ERR_CORRUPT, "key \"%s\" at byte %zu: its value runs past the end "
                     "of the data", kv->key, at);
            uint64_t u = get_u64(cu.p + cu.pos);
            cu.pos += 8;
            kv->type = (lpi_kv_type)type;
            if (type == LPI_KV_I64)
                kv->i = (int64_t)u; /* two's complement: the bits are the value */
            else
                memcpy(&kv->f, &u, 8);
        } else if (type == LPI_KV_STR) {
            if (!have(&cu, 4))
                FAIL(LIMPID_ERR_CORRUPT, "key \"%s\" at byte %zu: its string length runs past "
                     "the end of the data", kv->key, at);
            uint32_t sl = get_u32(cu.p + cu.pos);
            cu.pos += 4;
            if (sl > LPI_STR_MAX)
                FAIL(LIMPID_ERR_CORRUPT, "key \"%s\" at byte %zu: string of %u bytes; at most "
                     "%u are allowed", kv->key, at, sl, LPI_STR_MAX);
            if (!have(&cu, sl))
                FAIL(LIMPID_ERR_CORRUPT, "key \"%s\" at byte %zu: string of %u bytes, only %zu "
                     "remain", kv->key, at, sl, cu.end - cu.pos);
            if (memchr(cu.p + cu.pos, 0, sl))
                FAIL(LIMPID_ERR_CORRUPT, "key \"%s\" at byte %zu: string contains a NUL byte",
                     kv->key, at);
            kv->type = LPI_KV_STR;
            memcpy(kv->s, cu.p + cu.pos, sl);
            kv->s[sl] = '\0';
            cu.pos += sl;
        } else {
            FAIL(LIMPID_ERR_CORRUPT, "key \"%s\" at byte %zu: unknown value type %d (1 integer, "
                 "2 number, 3 string)", kv->key, at, type);
        }
    }

    /* records: headers and bounds; data is copied once the blob size is known */
    size_t blob_floats = 0;
    for (uint32_t i = 0; i < n_rec; i++) {
        lpi_rec *r = &c->rec[i];
        size_t at = cu.pos;
        limpid_status st = read_name(&cu, r->name, "tensor", (int)i, err, errlen);
        if (st != LIMPID_OK) {
            status = st;
            goto fail;
        }
        c->n_rec = (int)i + 1;
        if (!have(&cu, 1))
            FAIL(LIMPID_ERR_CORRUPT, "tensor %s at byte %zu: its rank runs past the end of the "
                 "data", r->name, at);
        int ndim = cu.p[cu.pos++];
        if (ndim != 1 && ndim != 2)
            FAIL(LIMPID_ERR_CORRUPT, "tensor %s at byte %zu: rank %d (1 or 2 expected)",
                 r->name, at, ndim);
        if (!have(&cu, 8 * (size_t)ndim))
            FAIL(LIMPID_ERR_CORRUPT, "tensor %s at byte %zu: its shape runs past the end of the "
                 "data", r->name, at);
        uint64_t prod = 1;
        r->ndim = ndim;
        r->dims[1] = 0; /* the layout's convention for rank 1 */
        for (int d = 0; d < ndim; d++) {
            uint64_t v = get_u64(cu.p + cu.pos);
            cu.pos += 8;
            if (v < 1 || v > LPI_MAX_ELEMS)
                FAIL(LIMPID_ERR_CORRUPT, "tensor %s at byte %zu: dimension %d is %lld; it must be "
                     "in 1..2^31", r->name, at, d, (long long)(int64_t)v);
            prod *= v; /* both factors <= 2^31: no overflow */
            r->dims[d] = (int64_t)v;
        }
        if (prod > LPI_MAX_ELEMS)
            FAIL(LIMPID_ERR_CORRUPT, "tensor %s at byte %zu: %llu elements; at most 2^31 are "
                 "allowed", r->name, at, (unsigned long long)prod);
        size_t pad = pad16(cu.pos);
        if (!have(&cu, pad))
            FAIL(LIMPID_ERR_CORRUPT, "tensor %s at byte %zu: its padding runs past the end of "
                 "the data", r->name, at);
        for (size_t k = 0; k < pad; k++)
            if (cu.p[cu.pos + k] != 0)
                FAIL(LIMPID_ERR_CORRUPT, "tensor %s at byte %zu: padding byte %zu is not zero",
                     r->name, at, cu.pos + k);
        cu.pos += pad;
        r->count = (size_t)prod;
        /* count <= 2^31, so 4 * count fits a 64-bit size_t; on 32-bit the division guards */
        if (r->count > (cu.end - cu.pos) / 4)
            FAIL(LIMPID_ERR_CORRUPT, "tensor %s at byte %zu: %zu values need %llu bytes, only %zu "
                 "remain", r->name, at, r->count, 4ull * (unsigned long long)r->count,
                 cu.end - cu.pos);
        data_off[i] = cu.pos;
        cu.pos += 4 * r->count;
        /* bounded by the file size: sum of counts <= len / 4, plus alignment */
        blob_floats += (r->count + LPI_BLOB_ALIGN_FLOATS - 1) / LPI_BLOB_ALIGN_FLOATS *
                       LPI_BLOB_ALIGN_FLOATS;
    }
    if (cu.pos != cu.end)
        FAIL(LIMPID_ERR_CORRUPT, "%zu bytes of unexpected data after the last tensor (byte %zu)",
             cu.end - cu.pos, cu.pos);

    /* unique keys and names */
    {
        int n = (int)(n_kv > n_rec ? n_kv : n_rec);
        if (n > 0 && !(names = malloc((size_t)n * sizeof *names)))
            FAIL(LIMPID_ERR_NOMEM, "out of memory checking names");
        int a, b, dup;
        for (uint32_t i = 0; i < n_kv; i++)
            names[i] = c->kv[i].key;
        if ((dup = find_duplicate(names, (int)n_kv, &a, &b)) < 0)
            FAIL(LIMPID_ERR_NOMEM, "out of memory checking names");
        if (dup)
            FAIL(LIMPID_ERR_CORRUPT, "key \"%s\" appears twice (entries %d and %d)",
                 c->kv[a].key, a, b);
        for (uint32_t i = 0; i < n_rec; i++)
            names[i] = c->rec[i].name;
        if ((dup = find_duplicate(names, (int)n_rec, &a, &b)) < 0)
            FAIL(LIMPID_ERR_NOMEM, "out of memory checking names");
        if (dup)
            FAIL(LIMPID_ERR_CORRUPT, "tensor %s appears twice (records %d and %d)",
                 c->rec[a].name, a, b);
    }

    /* tensor data: one aligned owned copy, checked for finiteness */
    if (blob_floats > 0) {
        void *mem = NULL;
        if (posix_memalign(&mem, 4 * LPI_BLOB_ALIGN_FLOATS, blob_floats * sizeof(float)) != 0)
            FAIL(LIMPID_ERR_NOMEM, "out of memory for %zu bytes of tensor data",
                 blob_floats * sizeof(float));
        c->blob = mem;
        size_t off = 0;
        for (uint32_t i = 0; i < n_rec; i++) {
            lpi_rec *r = &c->rec[i];
            float *dst = c->blob + off;
            get_f32s(dst, cu.p + data_off[i], r->count);
            for (size_t k = 0; k < r->count; k++) {
                uint32_t bits;
                memcpy(&bits, &dst[k], 4);
                if ((bits & 0x7f800000u) == 0x7f800000u)
                    FAIL(LIMPID_ERR_NUMERIC, "tensor %s holds a non-finite value (%s) at index %zu",
                         r->name, (bits & 0x007fffffu) ? "NaN" : "Inf", k);
            }
            r->data = dst;
            off += (r->count + LPI_BLOB_ALIGN_FLOATS - 1) / LPI_BLOB_ALIGN_FLOATS *
                   LPI_BLOB_ALIGN_FLOATS;
        }
    }
    free(names);
    free(data_off);
    return LIMPID_OK;

fail:
    free(names);
    free(data_off);
    lpi_container_free(c);
    return status;
}
#undef FAIL

void lpi_container_free(lpi_container *c)
{
    /* for containers filled by lpi_container_read only: a writer's arrays belong to its caller */
    if (!c)
        return;
    free(c->kv);
    free(c->rec);
    free(c->blob);
    memset(c, 0, sizeof *c);
}

const lpi_kv *lpi_container_kv(const lpi_container *c, const char *key)
{
    if (!c || !key)
        return NULL;
    for (int i = 0; i < c->n_kv; i++)
        if (strcmp(c->kv[i].key, key) == 0)
            return &c->kv[i];
    return NULL;
}

const lpi_rec *lpi_container_rec(const lpi_container *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (int i = 0; i < c->n_rec; i++)
        if (strcmp(c->rec[i].name, name) == 0)
            return &c->rec[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Files */

limpid_status lpi_read_file(const char *path, void **buf, size_t *len, char *err, size_t errlen)
{
    if (!buf || !len) {
        lpi_errf(err, errlen, "no output given");
        return LIMPID_ERR_INVALID;
    }
    *buf = NULL;
    *len = 0;
    if (!path || !*path) {
        lpi_errf(err, errlen, "no file name given");
        return LIMPID_ERR_INVALID;
    }
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        lpi_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return LIMPID_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lpi_errf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return LIMPID_ERR_IO;
    }
    if (S_ISDIR(st.st_mode)) {
        lpi_errf(err, errlen, "%s: is a directory, not a file", path);
        close(fd);
        return LIMPID_ERR_IO;
    }
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > LPI_MAX_FILE_BYTES) {
        lpi_errf(err, errlen, "%s: file is %lld bytes; files over 2 GiB are refused", path,
                 (long long)st.st_size);
        close(fd);
        return LIMPID_ERR_IO;
    }
    /* regular files: st_size is the size hint; others (pipes) grow the buffer as they go */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
    size_t n = 0;
    uint8_t *b = malloc(cap);
    if (!b) {
        lpi_errf(err, errlen, "%s: out of memory for %zu bytes", path, cap);
        close(fd);
        return LIMPID_ERR_NOMEM;
    }
    for (;;) {
        if (n == cap) {
            if (cap > LPI_MAX_FILE_BYTES) {
                lpi_errf(err, errlen, "%s: file is over 2 GiB; refused", path);
                free(b);
                close(fd);
                return LIMPID_ERR_IO;
            }
            size_t ncap = cap * 2;
            uint8_t *nb = realloc(b, ncap);
            if (!nb) {
                lpi_errf(err, errlen, "%s: out of memory for %zu bytes", path, ncap);
                free(b);
                close(fd);
                return LIMPID_ERR_NOMEM;
            }
            b = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            lpi_errf(err, errlen, "%s: read error: %s", path, strerror(errno));
            free(b);
            close(fd);
            return LIMPID_ERR_IO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > LPI_MAX_FILE_BYTES) {
        lpi_errf(err, errlen, "%s: file is %zu bytes; files over 2 GiB are refused", path, n);
        free(b);
        return LIMPID_ERR_IO;
    }
    *buf = b;
    *len = n;
    return LIMPID_OK;
}

limpid_status lpi_write_file_atomic(const char *path, const void *buf, size_t len)
{
    if (!path || !*path || (!buf && len > 0))
        return LIMPID_ERR_INVALID;
    static const char suffix[] = ".tmp-XXXXXX";
    size_t pl = strlen(path);
    char *tmp = malloc(pl + sizeof suffix);
    if (!tmp)
        return LIMPID_ERR_NOMEM;
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, suffix, sizeof suffix);
    /* mkstemp in the target's folder: rename() is then atomic (same filesystem) */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return LIMPID_ERR_IO;
    }
    int ok = fchmod(fd, 0644) == 0; /* mkstemp creates 0600 */
    const uint8_t *p = buf;
    size_t done = 0;
    while (ok && done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            ok = 0;
        } else {
            done += (size_t)w;
        }
    }
    if (ok && fsync(fd) != 0)
        ok = 0;
    if (close(fd) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        free(tmp);
        return LIMPID_ERR_IO;
    }
    /* make the rename itself durable; best effort (some filesystems refuse fsync on dirs) */
    char *slash = strrchr(tmp, '/');
    if (slash)
        slash[slash == tmp ? 1 : 0] = '\0'; /* "/x" -> "/", "a/b/x" -> "a/b" */
    const char *dir = slash ? tmp : ".";
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(tmp);
    return LIMPID_OK;
}
