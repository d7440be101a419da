/* The store's page codec: gather, hash, deduplicate, compress, verify and scatter
 * pages in bulk, called once per batch through ctypes (which releases the GIL
 * for the whole call, so the target's thread is never held up by it). Encoding
 * compresses a batch's new blobs on two threads (see the team, below).
 *
 * It links nothing at build time: the hash and the compressors come from the
 * system's libxxhash.so.0, liblz4.so.1 and libzstd.so.1 (every Debian and
 * Ubuntu has them, apt itself depends on them), loaded RTLD_GLOBAL by
 * native.py before this library, and declared here by their stable ABI.
 *
 * A page's content address is its XXH3-128 digest in canonical (big-endian)
 * byte order. A location names where a blob lives: pack file, offset, stored
 * length and codec; a zero page has codec ZERO and lives nowhere.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { uint64_t low64, high64; } XXH128_hash_t;
extern XXH128_hash_t XXH3_128bits(const void *data, size_t len);
/* The same function, in the best SIMD variant the CPU has (AVX2 where there is
 * one: 0.19 against 0.30 us a page here), where libxxhash was built with its
 * dispatcher (Debian's is); weak, so a library without it still loads. */
extern XXH128_hash_t XXH3_128bits_dispatch(const void *data, size_t len) __attribute__((weak));
extern void *XXH3_createState(void);
extern int XXH3_freeState(void *state);
extern int XXH3_128bits_reset(void *state);
extern int XXH3_128bits_update(void *state, const void *data, size_t len);
extern XXH128_hash_t XXH3_128bits_digest(const void *state);
extern int LZ4_compress_default(const char *src, char *dst, int src_size, int dst_capacity);
extern int LZ4_decompress_safe(const char *src, char *dst, int compressed_size, int dst_capacity);
extern void *ZSTD_createCCtx(void);
extern size_t ZSTD_freeCCtx(void *cctx);
extern size_t ZSTD_compressCCtx(void *cctx, void *dst, size_t dst_capacity, const void *src,
                                size_t src_size, int level);
extern void *ZSTD_createDCtx(void);
extern size_t ZSTD_freeDCtx(void *dctx);
extern size_t ZSTD_decompressDCtx(void *dctx, void *dst, size_t dst_capacity, const void *src,
                                  size_t size);
extern unsigned ZSTD_isError(size_t code);

#define PAGE 4096u

enum { CODEC_ZERO = 0, CODEC_RAW = 1, CODEC_LZ4 = 2, CODEC_ZSTD = 3 };

/* Problems reported by decode, per page (the first one stops the call). */
enum { OK = 0, E_PACK = 1, E_TRUNCATED = 2, E_DECOMPRESS = 3, E_HASH = 4, E_LOCATION = 5,
       E_CODEC = 6 };

typedef struct { uint32_t pack, offset, length, codec; } loc_t;

static void canonical(XXH128_hash_t h, uint8_t out[16]) {
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(h.high64 >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(h.low64 >> (56 - 8 * i));
    }
}

static void digest(const void *data, size_t len, uint8_t out[16]) {
    canonical(XXH3_128bits_dispatch ? XXH3_128bits_dispatch(data, len) : XXH3_128bits(data, len),
              out);
}

void rtcr_digest(const uint8_t *data, size_t len, uint8_t *out) { digest(data, len, out); }

/* The digest of n buffers one after the other (without joining them); -1 out of memory. */
int rtcr_digest_parts(size_t n, const uint8_t *const *parts, const size_t *lens, uint8_t *out) {
    void *state = XXH3_createState();
    if (!state) return -1;
    XXH3_128bits_reset(state);
    for (size_t i = 0; i < n; i++) XXH3_128bits_update(state, parts[i], lens[i]);
    canonical(XXH3_128bits_digest(state), out);
    XXH3_freeState(state);
    return 0;
}

/* Whether a page is all zero bytes; stops at the first 64-byte line that is not
 * (a page of a program's memory rarely begins with a zero line). */
static int is_zero(const uint8_t *page) {
    const uint64_t *w = (const uint64_t *)page;
    for (unsigned i = 0; i < PAGE / 8; i += 8) {
        uint64_t acc = 0;
        for (unsigned j = 0; j < 8; j++) acc |= w[i + j];
        if (acc) return 0;
    }
    return 1;
}

/* Copy page i from base + addrs[i] to dst + i*PAGE. */
void rtcr_gather(const uint8_t *base, const uint64_t *addrs, size_t n, uint8_t *dst) {
    for (size_t i = 0; i < n; i++) memcpy(dst + i * PAGE, base + addrs[i], PAGE);
}

/* ------------------------------------------------------------------ index */
/* Open addressing with linear probing; a slot with length 0 is empty. The keys
 * are digests, already uniformly distributed: their first 8 bytes are the hash. */

typedef struct { uint8_t key[16]; loc_t loc; } slot_t;
typedef struct { slot_t *slots; size_t mask, count; } index_t;

static size_t home(const index_t *ix, const uint8_t *key) {
    uint64_t h;
    memcpy(&h, key, 8);
    return (size_t)h & ix->mask;
}

index_t *rtcr_index_new(void) {
    index_t *ix = calloc(1, sizeof *ix);
    if (!ix) return NULL;
    ix->mask = 1023;
    ix->slots = calloc(ix->mask + 1, sizeof(slot_t));
    if (!ix->slots) { free(ix); return NULL; }
    return ix;
}

void rtcr_index_free(index_t *ix) {
    if (!ix) return;
    free(ix->slots);
    free(ix);
}

size_t rtcr_index_count(const index_t *ix) { return ix->count; }

size_t rtcr_index_bytes(const index_t *ix) { return (ix->mask + 1) * sizeof(slot_t); }

static slot_t *find(const index_t *ix, const uint8_t *key) {
    for (size_t i = home(ix, key);; i = (i + 1) & ix->mask) {
        slot_t *s = &ix->slots[i];
        if (s->loc.length == 0 || memcmp(s->key, key, 16) == 0) return s;
    }
}

static int grow(index_t *ix) {
    size_t old_cap = ix->mask + 1;
    slot_t *old = ix->slots;
    slot_t *slots = calloc(old_cap * 2, sizeof(slot_t));
    if (!slots) return -1;
    ix->slots = slots;
    ix->mask = old_cap * 2 - 1;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].loc.length) *find(ix, old[i].key) = old[i];
    free(old);
    return 0;
}

/* Insert unless present; 1 if inserted, 0 if it was there, -1 out of memory. */
static int insert(index_t *ix, const uint8_t *key, const loc_t *loc) {
    if ((ix->count + 1) * 4 > (ix->mask + 1) * 3 && grow(ix) != 0) return -1;
    slot_t *s = find(ix, key);
    if (s->loc.length) return 0;
    memcpy(s->key, key, 16);
    s->loc = *loc;
    ix->count++;
    return 1;
}

int rtcr_index_lookup(const index_t *ix, const uint8_t *key, loc_t *out) {
    slot_t *s = find(ix, key);
    if (!s->loc.length) return 0;
    *out = s->loc;
    return 1;
}

/* Backward-shift deletion keeps every probe chain intact without tombstones. */
void rtcr_index_remove(index_t *ix, const uint8_t *key) {
    slot_t *s = find(ix, key);
    if (!s->loc.length) return;
    size_t i = (size_t)(s - ix->slots);
    for (size_t j = (i + 1) & ix->mask;; j = (j + 1) & ix->mask) {
        slot_t *t = &ix->slots[j];
        if (!t->loc.length) break;
        size_t h = home(ix, t->key);
        /* t may move to i if its home is not in the cyclic range (i, j]. */
        int in_range = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!in_range) {
            ix->slots[i] = *t;
            i = j;
        }
    }
    memset(&ix->slots[i], 0, sizeof(slot_t));
    ix->count--;
}

void rtcr_index_remove_many(index_t *ix, size_t n, const uint8_t *keys) {
    for (size_t i = 0; i < n; i++) rtcr_index_remove(ix, keys + 16 * i);
}

/* ------------------------------------------------------------------ encode */

/* Compressing a batch's new blobs (lz4: ~5 us a program-like page, 25 times
 * its hash) is shared between the calling thread and at most one helper
 * thread (the machine this is built for has two cores), as a team: both take
 * small chunks of blobs from a shared counter until none are left, and each
 * chunk's blobs go to a place fixed by the chunk's number. Everything whose
 * result depends on order (hashing is cheap and stays with the caller;
 * deduplication against the index and against earlier pages of the batch;
 * the place of each blob in the pack) happens in one pass on the calling
 * thread, in page order. The result (digests, locations, blob bytes, index)
 * is therefore the same for any number of threads and any timing, byte for
 * byte.
 *
 * Chunks are taken, not assigned: on a busy machine the helper may start late
 * or be preempted, and the calling thread then does the rest itself instead of
 * waiting for it (a fixed split into halves, hashing included, measured slower
 * than one thread whenever the other core was taken, and a helper per batch
 * of duplicates or zero pages cost more than it saved). The calling thread
 * only waits for a chunk the helper is in the middle of. The team lives on
 * the heap, freed by whichever thread leaves it last: a helper that starts
 * after the call returned finds nothing left to take and touches nothing
 * else. */
#define COMPRESS_CHUNK 8 /* blobs: ~40 us of lz4 */
/* Below this many new blobs, starting a helper (20-50 us) costs more than it saves. */
#define TEAM_MIN_BLOBS 32
/* Codec of a location entered into the index for a blob of this batch whose
 * place is not known yet (fixed before the call returns). */
#define CODEC_PENDING 0xffffffffu

static uint32_t compress_page(const uint8_t *page, int codec, int level, void *zstd,
                              uint8_t *out, uint32_t *used_codec) {
    if (codec == CODEC_LZ4) {
        /* Acceleration 1 (LZ4_compress_default). Measured on bench_store's
         * program-like pages (one core, idle machine): 4.8 us a page at ratio
         * 2.53; acceleration 2, 4, 8: 4.4, 3.8, 3.4 us at 2.46, 2.42, 2.30; HC
         * level 9: 79 us at 2.72. Faster settings trade disk bytes for codec
         * time; with both cores the codec outruns this disk 3x, but on the slow
         * disk of earlier runs (140 MB/s) the bytes were the limit, so the
         * default keeps them. */
        int n = LZ4_compress_default((const char *)page, (char *)out, PAGE, PAGE - 1);
        if (n > 0) { *used_codec = CODEC_LZ4; return (uint32_t)n; }
    } else if (codec == CODEC_ZSTD) {
        size_t n = ZSTD_compressCCtx(zstd, out, PAGE - 1, page, PAGE, level);
        if (!ZSTD_isError(n) && n < PAGE) { *used_codec = CODEC_ZSTD; return (uint32_t)n; }
    }
    memcpy(out, page, PAGE); /* incompressible (or codec none): stored as it is */
    *used_codec = CODEC_RAW;
    return PAGE;
}

/* Chunk c compresses fresh[c * COMPRESS_CHUNK ...] into out + c * COMPRESS_CHUNK * PAGE. */
typedef struct {
    atomic_int refs;
    const uint8_t *base;
    const uint64_t *addrs;
    const uint32_t *fresh;
    size_t nf, chunks;
    int codec, level;
    uint8_t *out;
    uint32_t *lengths, *codecs;
    size_t *chunk_used;
    atomic_size_t next, done;
} team_t;

static void team_leave(team_t *t) {
    if (atomic_fetch_sub(&t->refs, 1) == 1) free(t);
}

static void compress_chunks(team_t *t, void *zstd) {
    for (;;) {
        size_t c = atomic_fetch_add(&t->next, 1);
        if (c >= t->chunks) return;
        size_t from = c * COMPRESS_CHUNK;
        size_t to = from + COMPRESS_CHUNK < t->nf ? from + COMPRESS_CHUNK : t->nf;
        uint8_t *out = t->out + from * PAGE;
        size_t used = 0;
        for (size_t f = from; f < to; f++) {
            t->lengths[f] = compress_page(t->base + t->addrs[t->fresh[f]], t->codec, t->level,
                                          zstd, out + used, &t->codecs[f]);
            used += t->lengths[f];
        }
        t->chunk_used[c] = used;
        atomic_fetch_add(&t->done, 1);
    }
}

static void *helper(void *arg) {
    team_t *t = arg;
    void *zstd = t->codec == CODEC_ZSTD ? ZSTD_createCCtx() : NULL;
    if (t->codec != CODEC_ZSTD || zstd) compress_chunks(t, zstd); /* (no context: leave it all) */
    if (zstd) ZSTD_freeCCtx(zstd);
    team_leave(t);
    return NULL;
}

static void start_helper(team_t *t) {
    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr) != 0) return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&t->refs, 1);
    if (pthread_create(&thread, &attr, helper, t) != 0) atomic_fetch_sub(&t->refs, 1);
    pthread_attr_destroy(&attr); /* (no helper: the caller compresses alone) */
}

/* Encode n pages, page i at base + addrs[i]: digest each; zero pages and pages
 * the index knows (or an earlier page of the batch) take no space; the others
 * are compressed into out (which must hold n * PAGE bytes) in page order,
 * located at pack / offset + their place in out, and entered into the index.
 * With threads > 1, a helper thread shares the compression (see the team
 * above); the result does not depend on it. Fills hashes (16 n), locs (n) and
 * fresh (the batch positions of the new blobs, *nfresh of them). Returns the
 * bytes used in out, or -1 when memory ran out (the fresh keys are then in the
 * index with no valid place: the caller forgets them).
 */
long rtcr_encode(index_t *ix, const uint8_t *base, const uint64_t *addrs, size_t n, int codec,
                 int level, uint32_t pack, uint32_t offset, uint8_t *out, uint8_t *hashes,
                 loc_t *locs, uint32_t *fresh, size_t *nfresh, int threads) {
    size_t nf = 0, used = 0;
    long result = -1;
    size_t slots = n ? n : 1;
    void *zstd = NULL;
    uint8_t zero_digest[16];
    uint32_t *lengths = malloc(slots * sizeof(uint32_t));
    uint32_t *codecs = malloc(slots * sizeof(uint32_t));
    size_t *chunk_used = malloc(slots * sizeof(size_t));
    team_t *t = calloc(1, sizeof *t);
    if (!lengths || !codecs || !chunk_used || !t) {
        free(t);
        t = NULL;
        goto done;
    }
    {
        uint8_t blank[PAGE];
        memset(blank, 0, PAGE);
        digest(blank, PAGE, zero_digest);
    }
    /* 1. digests, zero pages and deduplication, in page order */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *page = base + addrs[i];
        uint8_t *key = hashes + 16 * i;
        if (is_zero(page)) {
            memcpy(key, zero_digest, 16);
            locs[i] = (loc_t){0, 0, 0, CODEC_ZERO};
            continue;
        }
        digest(page, PAGE, key);
        if (rtcr_index_lookup(ix, key, &locs[i])) continue;
        locs[i] = (loc_t){pack, 0, PAGE, CODEC_PENDING};
        if (insert(ix, key, &locs[i]) < 0) goto done;
        fresh[nf++] = (uint32_t)i;
    }
    /* 2. compression of the new blobs, by the team */
    *t = (team_t){.base = base, .addrs = addrs, .fresh = fresh, .nf = nf,
                  .chunks = (nf + COMPRESS_CHUNK - 1) / COMPRESS_CHUNK, .codec = codec,
                  .level = level, .out = out, .lengths = lengths, .codecs = codecs,
                  .chunk_used = chunk_used};
    atomic_init(&t->refs, 1);
    atomic_init(&t->next, 0);
    atomic_init(&t->done, 0);
    if (codec == CODEC_ZSTD && !(zstd = ZSTD_createCCtx())) goto done;
    if (threads > 1 && nf >= TEAM_MIN_BLOBS) start_helper(t);
    compress_chunks(t, zstd);
    while (atomic_load(&t->done) < t->chunks) sched_yield(); /* the helper's last chunk */
    /* 3. the chunks laid end to end, in page order; places fixed in the index */
    for (size_t c = 0; c < t->chunks; c++) {
        uint8_t *from = out + c * COMPRESS_CHUNK * PAGE;
        if (from != out + used) memmove(out + used, from, chunk_used[c]);
        used += chunk_used[c];
    }
    size_t at = 0;
    for (size_t f = 0; f < nf; f++) {
        uint32_t i = fresh[f];
        locs[i] = (loc_t){pack, offset + (uint32_t)at, lengths[f], codecs[f]};
        find(ix, hashes + 16 * i)->loc = locs[i];
        at += lengths[f];
    }
    for (size_t i = 0; i < n; i++) /* pages that repeat a new blob of this batch */
        if (locs[i].codec == CODEC_PENDING) rtcr_index_lookup(ix, hashes + 16 * i, &locs[i]);
    result = (long)used;
done:
    if (t) team_leave(t); /* (nothing is left to take: the arrays may go) */
    if (zstd) ZSTD_freeCCtx(zstd);
    free(lengths);
    free(codecs);
    free(chunk_used);
    *nfresh = nf;
    return result;
}

/* ------------------------------------------------------------------ decode */

typedef struct {
    int fd;
    uint32_t pack;
    uint64_t size; /* committed bytes: nothing past them is ever read */
} pack_t;

/* Add the stored blobs of a verified page table, except those whose pack is
 * not among packs (missing) or that lie past its committed size: a writer
 * never deduplicates against data that is not there. -1: out of memory. */
int rtcr_index_add(index_t *ix, size_t n, const uint8_t *hashes, const loc_t *locs,
                   const pack_t *packs, size_t npacks) {
    for (size_t i = 0; i < n; i++) {
        const loc_t *loc = &locs[i];
        if (loc->codec == CODEC_ZERO || loc->length == 0) continue;
        int ok = 0;
        for (size_t p = 0; p < npacks; p++)
            if (packs[p].pack == loc->pack) {
                ok = packs[p].fd >= 0 && (uint64_t)loc->offset + loc->length <= packs[p].size;
                break;
            }
        if (ok && insert(ix, hashes + 16 * i, loc) < 0) return -1;
    }
    return 0;
}

typedef struct {
    uint8_t *buf;
    size_t cap;
    int slot;
    uint64_t start, len;
} window_t;

#define WINDOW (1u << 20)

/* The stored bytes of a blob, through a read-ahead window (blobs of one batch
 * are mostly adjacent in their pack). */
static int fetch(const pack_t *packs, size_t npacks, window_t *w, const loc_t *loc,
                 const uint8_t **out) {
    int slot = -1;
    for (size_t p = 0; p < npacks; p++)
        if (packs[p].pack == loc->pack) { slot = (int)p; break; }
    if (slot < 0 || packs[slot].fd < 0) return E_PACK;
    uint64_t end = (uint64_t)loc->offset + loc->length;
    if (end > packs[slot].size) return E_TRUNCATED;
    if (w->slot != slot || loc->offset < w->start || end > w->start + w->len) {
        uint64_t len = packs[slot].size - loc->offset;
        if (len > w->cap) len = w->cap;
        uint64_t got = 0;
        while (got < len) {
            ssize_t r = pread(packs[slot].fd, w->buf + got, len - got, (off_t)(loc->offset + got));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return E_PACK;
            if (r == 0) break;
            got += (uint64_t)r;
        }
        w->slot = slot;
        w->start = loc->offset;
        w->len = got;
        if (got < loc->length) { w->slot = -1; return E_TRUNCATED; }
    }
    *out = w->buf + (loc->offset - w->start);
    return OK;
}

/* Decode n pages into dst + addrs[indices[i]] (dst + addrs[i] without
 * indices; with dst NULL, only check them): read, decompress, verify the
 * digest. With zeroed, every destination page reads as zero already (fresh
 * frames): a zero page is then only checked against the zero page's digest,
 * and its destination never touched. Returns n, or the position of the first
 * bad page with *problem set. */
long rtcr_decode(const pack_t *packs, size_t npacks, size_t n, const uint32_t *indices,
                 const uint8_t *hashes, const loc_t *locs, uint8_t *dst, const uint64_t *addrs,
                 int zeroed, int *problem) {
    window_t w = {malloc(WINDOW), WINDOW, -1, 0, 0};
    uint8_t scratch[PAGE];
    uint8_t zero_digest[16];
    void *zstd = ZSTD_createDCtx();
    memset(scratch, 0, PAGE);
    digest(scratch, PAGE, zero_digest);
    *problem = OK;
    if (!w.buf || !zstd) { free(w.buf); if (zstd) ZSTD_freeDCtx(zstd); *problem = E_PACK; return 0; }
    size_t i;
    for (i = 0; i < n; i++) {
        const loc_t *loc = &locs[i];
        uint8_t *page = dst ? dst + addrs[indices ? indices[i] : i] : scratch;
        if (loc->codec == CODEC_ZERO) {
            if (loc->length != 0) { *problem = E_LOCATION; break; }
            if (zeroed && dst) {
                if (memcmp(zero_digest, hashes + 16 * i, 16) != 0) { *problem = E_HASH; break; }
                continue;
            }
            /* Memory that reads as zero stays untouched: reading fresh memory maps
             * the kernel's zero page, where a write would allocate a page. */
            if (!is_zero(page)) memset(page, 0, PAGE);
        } else {
            if (loc->length == 0 || loc->length > PAGE) { *problem = E_LOCATION; break; }
            const uint8_t *blob;
            int r = fetch(packs, npacks, &w, loc, &blob);
            if (r != OK) { *problem = r; break; }
            if (loc->codec == CODEC_RAW) {
                if (loc->length != PAGE) { *problem = E_DECOMPRESS; break; }
                memcpy(page, blob, PAGE);
            } else if (loc->codec == CODEC_LZ4) {
                int got = LZ4_decompress_safe((const char *)blob, (char *)page, (int)loc->length,
                                              PAGE);
                if (got != (int)PAGE) { *problem = E_DECOMPRESS; break; }
            } else if (loc->codec == CODEC_ZSTD) {
                size_t got = ZSTD_decompressDCtx(zstd, page, PAGE, blob, loc->length);
                if (ZSTD_isError(got) || got != PAGE) { *problem = E_DECOMPRESS; break; }
            } else {
                *problem = E_CODEC;
                break;
            }
        }
        uint8_t d[16];
        digest(page, PAGE, d);
        if (memcmp(d, hashes + 16 * i, 16) != 0) { *problem = E_HASH; break; }
    }
    free(w.buf);
    ZSTD_freeDCtx(zstd);
    return (long)i;
}

/* ------------------------------------------------------------------ tables */

/* Merge the page tables of one object's lineage, nearest first, into the
 * table the nearest one sees: for every index, the entry of the nearest table
 * that has it. tables[k] holds count[k] entries: indices (u32), hashes (16 B)
 * and locations. Indices at or past npages are ignored. Output arrays must
 * hold npages entries; returns the number of entries written (ascending). */
long rtcr_merge(size_t k, const size_t *count, const uint32_t *const *indices,
                const uint8_t *const *hashes, const loc_t *const *locs, uint32_t npages,
                uint32_t *out_idx, uint8_t *out_hashes, loc_t *out_locs) {
    int64_t *src = malloc((size_t)npages * sizeof(int64_t));
    if (!src && npages) return -1;
    for (uint32_t p = 0; p < npages; p++) src[p] = -1;
    for (size_t t = k; t-- > 0;)
        for (size_t e = 0; e < count[t]; e++) {
            uint32_t idx = indices[t][e];
            if (idx < npages) src[idx] = (int64_t)((uint64_t)t << 40 | e);
        }
    long m = 0;
    for (uint32_t p = 0; p < npages; p++) {
        if (src[p] < 0) continue;
        size_t t = (size_t)((uint64_t)src[p] >> 40), e = (size_t)(src[p] & ((1ll << 40) - 1));
        out_idx[m] = p;
        memcpy(out_hashes + 16 * m, hashes[t] + 16 * e, 16);
        out_locs[m] = locs[t][e];
        m++;
    }
    free(src);
    return m;
}

/* Whether n u32 values strictly ascend. */
int rtcr_ascending(const uint32_t *v, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (v[i] <= v[i - 1]) return 0;
    return 1;
}

/* Free the disk blocks of a byte range, keeping the file's size (reads give zeros). */
int rtcr_punch(int fd, uint64_t offset, uint64_t len) {
#ifdef __linux__
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
                     (off_t)len) == 0 ? 0 : errno;
#else
    (void)fd; (void)offset; (void)len;
    return EOPNOTSUPP;
#endif
}

/* Start writing a byte range of a file back to the disk, without waiting for it
 * (SYNC_FILE_RANGE_WRITE: durable only after a later data sync). 0 or an errno. */
int rtcr_start_writeback(int fd, uint64_t offset, uint64_t len) {
#ifdef __linux__
    return sync_file_range(fd, (off_t)offset, (off_t)len, SYNC_FILE_RANGE_WRITE) == 0 ? 0 : errno;
#else
    (void)fd; (void)offset; (void)len;
    return EOPNOTSUPP;
#endif
}

/* Reserve disk blocks for a pack without changing its size (FALLOC_FL_KEEP_SIZE). */
int rtcr_preallocate(int fd, uint64_t offset, uint64_t len) {
#ifdef __linux__
    return fallocate(fd, 1, (off_t)offset, (off_t)len) == 0 ? 0 : errno;
#else
    (void)fd; (void)offset; (void)len;
    return EOPNOTSUPP;
#endif
}
