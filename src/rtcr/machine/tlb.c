/*
 * rtcr software TLB: a second-level translation cache in front of the pager.
 *
 * unicorn's own TLB is small (a loop over 16k pages misses on every page),
 * and every miss used to cost a trip into Python to walk the region maps.
 * This cache keeps the pager's answers -- virtual page -> (physical frame,
 * rights) -- in a direct-mapped table consulted by a C UC_HOOK_TLB_FILL
 * callback; only a miss, or an access the cached rights do not allow (a
 * write to a page cached read-only: the write fault that drives dirty
 * tracking), goes on to the Python fill hook, which asks the pager; the
 * hook caches the answer the Python fill returns (no second native call
 * from Python for it).
 *
 * The machine clears the cache (or a range of it) whenever the core flushes
 * mappings of this address space, so the cache never holds a mapping the
 * pager would not give now. Every translation unicorn holds went through
 * this cache; as long as no insert displaced another page (`evicted`), the
 * cache therefore also knows everything unicorn's TLB may still hold --
 * which lets the machine skip flushing unicorn's TLB when a flush turns out
 * to be an upgrade (same frame, more rights), as write tracking does.
 *
 * No unicorn headers needed: the entry layout and constants below mirror
 * unicorn 2.1's uc_tlb_entry, uc_mem_type and uc_prot.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define TLB_ABI 6

enum { UC_MEM_READ = 16, UC_MEM_WRITE = 17, UC_MEM_FETCH = 18 };
enum { PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4 };

typedef struct {
    uint64_t paddr;
    uint32_t perms;
} uc_tlb_entry_t;

typedef bool (*fill_fn)(void *uc, uint64_t addr, int type, uc_tlb_entry_t *entry, void *user);

typedef struct {
    uint64_t *tag;     /* virtual page number + 1; 0 = empty */
    uint64_t *paddr;
    uint32_t *perms;
    uint64_t mask;     /* capacity - 1 (a power of two) */
    fill_fn slow;      /* the Python fill hook */
    void *slow_user;
    uint64_t hits;
    uint64_t misses;
    uint64_t evicted;  /* an insert displaced another page since the last reset */
    /* code coherence (code_fill below) */
    uint8_t *code_state;   /* FRAME_* per physical frame, shared by every CPU of the machine */
    uint64_t *code_vpn;    /* this CPU: vpn + 1 through which a frame was executable, VPN_MANY */
    uint64_t frames;
    void (*code_event)(int event, uint64_t frame);
    uint64_t probe_vpn;    /* vpn + 1 of the probe page (0: none), see tlb_code_probe */
    uint64_t probe_paddr;
} tlb_t;

int tlb_abi(void) { return TLB_ABI; }

int tlb_init(tlb_t *t, uint64_t capacity, void *slow, void *slow_user)
{
    t->tag = calloc(capacity, sizeof *t->tag);
    t->paddr = calloc(capacity, sizeof *t->paddr);
    t->perms = calloc(capacity, sizeof *t->perms);
    if (!t->tag || !t->paddr || !t->perms)
        return -1;
    t->mask = capacity - 1;
    t->slow = (fill_fn)slow;
    t->slow_user = slow_user;
    t->hits = t->misses = t->evicted = 0;
    return 0;
}

void tlb_free(tlb_t *t)
{
    free(t->tag);
    free(t->paddr);
    free(t->perms);
    t->tag = NULL;
    t->paddr = NULL;
    t->perms = NULL;
}

void tlb_insert(tlb_t *t, uint64_t vaddr, uint64_t paddr, uint32_t perms)
{
    uint64_t vpn = vaddr >> 12;
    uint64_t i = vpn & t->mask;
    if (t->tag[i] != 0 && t->tag[i] != vpn + 1)
        t->evicted = 1;
    t->tag[i] = vpn + 1;
    t->paddr[i] = paddr;
    t->perms[i] = perms;
}

/* The cached translation of vaddr's page, if any. */
bool tlb_lookup(tlb_t *t, uint64_t vaddr, uint64_t *paddr, uint32_t *perms)
{
    uint64_t vpn = vaddr >> 12;
    uint64_t i = vpn & t->mask;
    if (t->tag[i] != vpn + 1)
        return false;
    *paddr = t->paddr[i];
    *perms = t->perms[i];
    return true;
}

/* Forget vaddr's page, reporting what was cached for it (one call for the
 * common single-page flush of write tracking). */
bool tlb_take(tlb_t *t, uint64_t vaddr, uint64_t *paddr, uint32_t *perms)
{
    bool cached = tlb_lookup(t, vaddr, paddr, perms);
    if (cached)
        t->tag[(vaddr >> 12) & t->mask] = 0;
    return cached;
}

void tlb_clear(tlb_t *t)
{
    for (uint64_t i = 0; i <= t->mask; i++)
        t->tag[i] = 0;
}

void tlb_invalidate(tlb_t *t, uint64_t start, uint64_t size)
{
    uint64_t first = start >> 12, last = (start + size - 1) >> 12;
    if (size == 0)
        return;
    if (last - first >= t->mask) {
        tlb_clear(t);
        return;
    }
    for (uint64_t vpn = first; vpn <= last; vpn++) {
        uint64_t i = vpn & t->mask;
        if (t->tag[i] == vpn + 1)
            t->tag[i] = 0;
    }
}

/* ---- code coherence ------------------------------------------------------
 *
 * x86 guarantees that a write to a physical page invalidates code translated
 * from it, through whatever mapping it was written. unicorn only notices a
 * write through a TLB entry that was made while the page already held
 * translated code, so a page written through one mapping and executed through
 * another (a W^X JIT) would run stale code. The machine therefore keeps one
 * rule per physical frame, across every CPU: a frame is WRITABLE (unicorn may
 * hold writable entries for it, it has no translated code) or CODE (unicorn
 * may hold executable entries and code translated from it, no writable
 * entry), never both. code_fill hands unicorn entries that keep the rule (an
 * RWX page becomes RW or RX, whichever the access needs; the software TLB
 * keeps the pager's full rights) and reports the two changes of state to the
 * machine: EVENT_EXECUTABLE (WRITABLE -> CODE: the machine flushes unicorn's
 * TLBs, so no writable entry survives) and EVENT_WRITTEN (CODE -> WRITABLE:
 * the machine flushes the TLBs and invalidates the frame's translated code
 * before the next block runs). A frame that never changes state -- code
 * that is only executed, data that is only written -- costs two compares.
 */
enum { FRAME_NONE = 0, FRAME_WRITABLE = 1, FRAME_CODE = 2 };
enum { EVENT_EXECUTABLE = 1, EVENT_WRITTEN = 2 };
#define VPN_MANY UINT64_MAX

int tlb_code_attach(tlb_t *t, uint8_t *state, uint64_t frames, void *event)
{
    t->code_vpn = calloc(frames, sizeof *t->code_vpn);
    if (!t->code_vpn)
        return -1;
    t->code_state = state;
    t->frames = frames;
    t->code_event = (void (*)(int, uint64_t))event;
    return 0;
}

void tlb_code_free(tlb_t *t)
{
    free(t->code_vpn);
    t->code_vpn = NULL;
    t->code_state = NULL;
}

/* The page through which this CPU made `frame` executable (vpn + 1, 0: never,
 * VPN_MANY: through several), forgotten: its code is about to be invalidated. */
uint64_t tlb_code_take(tlb_t *t, uint64_t frame)
{
    uint64_t vpn = t->code_vpn[frame];
    t->code_vpn[frame] = 0;
    return vpn;
}

/* While set, the page `vaddr` translates to the frame at `paddr` (executable):
 * the machine names a frame to unicorn's code invalidation, which takes a
 * virtual address, through a page no guest mapping uses. */
void tlb_code_probe(tlb_t *t, uint64_t vaddr, uint64_t paddr)
{
    t->probe_vpn = vaddr ? (vaddr >> 12) + 1 : 0;
    t->probe_paddr = paddr;
}

static void note_executable(tlb_t *t, uint64_t frame, uint64_t vpn)
{
    uint64_t *seen = &t->code_vpn[frame];
    if (*seen != vpn + 1)
        *seen = *seen == 0 ? vpn + 1 : VPN_MANY;
}

static bool code_fill(tlb_t *t, uint64_t addr, int type, uc_tlb_entry_t *entry)
{
    uint64_t frame = entry->paddr >> 12;
    if (t->code_state == NULL || frame >= t->frames)
        return true;
    uint8_t *state = &t->code_state[frame];
    uint32_t perms = entry->perms;
    if (type == UC_MEM_WRITE) {
        if (*state == FRAME_CODE) {
            *state = FRAME_WRITABLE;
            t->code_event(EVENT_WRITTEN, frame);
        }
        *state = FRAME_WRITABLE;
        entry->perms = perms & ~PROT_EXEC;
    } else if (type == UC_MEM_FETCH || ((perms & PROT_EXEC) && *state != FRAME_WRITABLE)) {
        if (*state == FRAME_WRITABLE) {
            *state = FRAME_CODE;
            t->code_event(EVENT_EXECUTABLE, frame);
        }
        *state = FRAME_CODE;
        note_executable(t, frame, addr >> 12);
        entry->perms = perms & ~PROT_WRITE;
    } else if ((perms & PROT_WRITE) && *state != FRAME_CODE) {
        *state = FRAME_WRITABLE;
        entry->perms = perms & ~PROT_EXEC;
    } else {
        entry->perms = perms & ~(PROT_WRITE | PROT_EXEC);
    }
    return true;
}

bool tlb_fill_hook(void *uc, uint64_t addr, int type, uc_tlb_entry_t *entry, tlb_t *t)
{
    uint64_t vpn = addr >> 12;
    uint64_t i = vpn & t->mask;
    uint32_t need = type == UC_MEM_WRITE ? PROT_WRITE : type == UC_MEM_FETCH ? PROT_EXEC
                                                                             : PROT_READ;
    if (vpn + 1 == t->probe_vpn) {
        entry->paddr = t->probe_paddr;
        entry->perms = PROT_READ | PROT_EXEC;
        return true;
    }
    if (t->tag[i] == vpn + 1 && (t->perms[i] & need)) {
        entry->paddr = t->paddr[i];
        entry->perms = t->perms[i];
        t->hits++;
        return code_fill(t, addr, type, entry);
    }
    t->misses++;
    if (!t->slow(uc, addr, type, entry, t->slow_user))
        return false;
    tlb_insert(t, addr, entry->paddr, entry->perms);  /* the pager's full rights */
    return code_fill(t, addr, type, entry);
}
