/*
 * rtcr instruction counter: a unicorn UC_HOOK_BLOCK callback that counts
 * guest instructions exactly, one table lookup per executed translation
 * block.
 *
 * The table maps (block address, block size) -> number of instructions in
 * the block.  It is filled from Python (icount.py) the first time a block is
 * seen: on a miss the hook records the block and stops emulation BEFORE the
 * block executes (unicorn runs UC_HOOK_BLOCK callbacks ahead of the block's
 * exit check, so uc_emu_stop() from here prevents the block from running);
 * Python learns the block's instruction count and restarts at RIP.
 *
 * On a hit: if count >= limit the hook stops emulation before the block (the
 * block is not counted); otherwise count += icount and the block is
 * remembered as the current one (for rewinding after a data fault inside it).
 *
 * If external_stop is set (another hook asked the emulation to stop) the hook
 * does nothing at all.
 *
 * No unicorn headers are needed: uc_emu_stop is passed in as a function
 * pointer, so this file compiles with any C99 compiler and links against
 * nothing.  Keep the struct layout in sync with _State in icount.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ICOUNT_ABI 2

enum { REASON_NONE = 0, REASON_LIMIT = 1, REASON_MISS = 2 };

typedef int (*emu_stop_fn)(void *uc);

typedef struct {
    uint64_t addr;
    uint32_t size;   /* 0 = empty slot (unicorn never reports size 0 blocks) */
    uint32_t icount;
} entry_t;

typedef struct {
    uint64_t count;          /* instructions executed so far */
    uint64_t limit;          /* stop at the first block boundary with count >= limit */
    uint64_t cur_addr;       /* last counted block */
    uint64_t miss_addr;      /* block that missed */
    uint64_t hooks;          /* number of hook calls (statistics) */
    uint32_t cur_size;
    uint32_t cur_icount;
    uint32_t miss_size;
    uint32_t reason;         /* REASON_* of the last stop made by this hook */
    uint32_t external_stop;  /* set by request_stop(): hook does nothing */
    uint32_t abi;
    emu_stop_fn emu_stop;
    entry_t *table;
    uint64_t mask;           /* capacity - 1, capacity is a power of two */
    uint64_t used;
} icount_state_t;

static inline uint64_t slot_of(uint64_t addr, uint32_t size, uint64_t mask)
{
    uint64_t h = (addr ^ ((uint64_t)size << 48)) * 0x9E3779B97F4A7C15ull;
    return (h >> 20) & mask;
}

void icount_block_hook(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    icount_state_t *s = (icount_state_t *)user_data;
    s->hooks++;
    if (s->external_stop)
        return;
    if (s->count >= s->limit) {
        s->reason = REASON_LIMIT;
        s->emu_stop(uc);
        return;
    }
    uint64_t mask = s->mask;
    entry_t *t = s->table;
    for (uint64_t i = slot_of(address, size, mask);; i = (i + 1) & mask) {
        entry_t *e = &t[i];
        if (e->addr == address && e->size == size) {
            s->count += e->icount;
            s->cur_addr = address;
            s->cur_size = size;
            s->cur_icount = e->icount;
            return;
        }
        if (e->size == 0)
            break;
    }
    s->reason = REASON_MISS;
    s->miss_addr = address;
    s->miss_size = size;
    s->emu_stop(uc);
}

static int insert_raw(entry_t *t, uint64_t mask, uint64_t addr, uint32_t size, uint32_t icount)
{
    for (uint64_t i = slot_of(addr, size, mask);; i = (i + 1) & mask) {
        entry_t *e = &t[i];
        if (e->size == 0) {
            e->addr = addr;
            e->size = size;
            e->icount = icount;
            return 1;
        }
        if (e->addr == addr && e->size == size) {
            e->icount = icount;
            return 0;
        }
    }
}

/* Returns 0 on success, -1 when out of memory. */
int icount_insert(icount_state_t *s, uint64_t addr, uint32_t size, uint32_t icount)
{
    if (size == 0 || icount == 0)
        return -1;
    if ((s->used + 1) * 2 > s->mask + 1) {
        uint64_t ncap = (s->mask + 1) * 2;
        entry_t *nt = calloc(ncap, sizeof(entry_t));
        if (!nt)
            return -1;
        for (uint64_t i = 0; i <= s->mask; i++)
            if (s->table[i].size)
                insert_raw(nt, ncap - 1, s->table[i].addr, s->table[i].size,
                           s->table[i].icount);
        free(s->table);
        s->table = nt;
        s->mask = ncap - 1;
    }
    s->used += (uint64_t)insert_raw(s->table, s->mask, addr, size, icount);
    return 0;
}

/* Returns the instruction count recorded for the block, 0 if unknown. */
uint32_t icount_lookup(const icount_state_t *s, uint64_t addr, uint32_t size)
{
    for (uint64_t i = slot_of(addr, size, s->mask);; i = (i + 1) & s->mask) {
        const entry_t *e = &s->table[i];
        if (e->addr == addr && e->size == size)
            return e->icount;
        if (e->size == 0)
            return 0;
    }
}

/* Allocates the table; returns 0 on success, -1 when out of memory. */
int icount_init(icount_state_t *s, emu_stop_fn stop, uint64_t capacity)
{
    uint64_t cap = 64;
    while (cap < capacity)
        cap *= 2;
    s->table = calloc(cap, sizeof(entry_t));
    if (!s->table)
        return -1;
    s->mask = cap - 1;
    s->used = 0;
    s->emu_stop = stop;
    s->abi = ICOUNT_ABI;
    return 0;
}

void icount_clear(icount_state_t *s)
{
    memset(s->table, 0, (s->mask + 1) * sizeof(entry_t));
    s->used = 0;
}

/* Forget every block that overlaps [lo, hi): the code there changed.  The
 * survivors are re-inserted into the cleared table (no tombstones needed). */
int icount_forget(icount_state_t *s, uint64_t lo, uint64_t hi)
{
    uint64_t cap = s->mask + 1;
    entry_t *old = s->table;
    entry_t *fresh = calloc(cap, sizeof(entry_t));
    if (!fresh)
        return -1;
    s->table = fresh;
    s->used = 0;
    for (uint64_t i = 0; i < cap; i++) {
        entry_t *e = &old[i];
        if (e->size && (e->addr >= hi || e->addr + e->size <= lo))
            s->used += (uint64_t)insert_raw(fresh, s->mask, e->addr, e->size, e->icount);
    }
    free(old);
    return 0;
}

void icount_free(icount_state_t *s)
{
    free(s->table);
    s->table = NULL;
    s->mask = 0;
    s->used = 0;
}

int icount_abi(void)
{
    return ICOUNT_ABI;
}
