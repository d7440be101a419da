/*
 * The heap of the rtcr SDK: malloc, free, calloc, realloc, aligned_alloc,
 * posix_memalign.
 *
 * Small blocks come in power-of-two size classes (16 bytes to 32 KiB) from
 * arenas, RAM dataspaces the heap attaches into the component's address
 * space as it grows (64 KiB first, doubling up to 1 MiB); a freed small
 * block goes back on its class's free list.  Larger blocks get a dataspace
 * of their own, given back to the machine when freed, so a component's
 * big buffers return their RAM quota.  Everything is deterministic (no
 * addresses from the host) and guarded by one yield lock.
 *
 * Every block is preceded by a 16-byte header; the pointer handed out is
 * 16-byte aligned.
 */
#include <rtcr.h>

#define MIN_SHIFT 4                  /* 16 bytes */
#define MAX_SHIFT 15                 /* 32 KiB */
#define NUM_CLASSES (MAX_SHIFT - MIN_SHIFT + 1)
#define FIRST_ARENA (64UL << 10)
#define MAX_ARENA (1UL << 20)
#define HEADER 16UL

enum kind { SMALL = 0x5a11, LARGE = 0x1a76, ALIGNED = 0xa119 };

struct header {
	uint32_t kind;
	uint32_t shift_or_back;      /* SMALL: class shift; ALIGNED: bytes back to the block */
	uint64_t size_or_ds;         /* LARGE: dataspace; SMALL: requested bytes */
};

struct free_block {
	struct free_block *next;
};

static struct free_block *free_lists[NUM_CLASSES];
static char *arena_next, *arena_end;
static unsigned long next_arena_size = FIRST_ARENA;
static int heap_lock;

static void lock(void)
{
	while (__atomic_exchange_n(&heap_lock, 1, __ATOMIC_ACQUIRE))
		rtcr_yield();
}

static void unlock(void)
{
	__atomic_store_n(&heap_lock, 0, __ATOMIC_RELEASE);
}

/* Attach a fresh RAM dataspace of `size` bytes; its address, or NULL. */
static void *map_ram(unsigned long size, long *ds_out)
{
	long ds = rtcr_ram_alloc(size);
	if (ds < 0)
		return 0;
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (at < 0) {
		rtcr_ram_free(ds);
		return 0;
	}
	*ds_out = ds;
	return (void *)at;
}

static unsigned class_shift(size_t n)
{
	unsigned shift = MIN_SHIFT;
	while ((1UL << shift) < n + HEADER)
		shift++;
	return shift;
}

static void *alloc_small(size_t n)
{
	unsigned shift = class_shift(n);
	struct free_block **list = &free_lists[shift - MIN_SHIFT];
	char *block;
	if (*list) {
		block = (char *)*list;
		*list = (*list)->next;
	} else {
		unsigned long bytes = 1UL << shift;
		if ((unsigned long)(arena_end - arena_next) < bytes) {
			/* The rest of the old arena goes to waste: at most one block of each class. */
			long ds;
			unsigned long size = next_arena_size;
			char *arena = map_ram(size, &ds);
			if (!arena)
				return 0;
			arena_next = arena;
			arena_end = arena + size;
			if (next_arena_size < MAX_ARENA)
				next_arena_size *= 2;
		}
		block = arena_next;
		arena_next += bytes;
	}
	struct header *h = (struct header *)block;
	h->kind = SMALL;
	h->shift_or_back = shift;
	h->size_or_ds = n;
	return block + HEADER;
}

static void *alloc_large(size_t n)
{
	long ds;
	char *block = map_ram(n + HEADER, &ds);
	if (!block)
		return 0;
	struct header *h = (struct header *)block;
	h->kind = LARGE;
	h->shift_or_back = 0;
	h->size_or_ds = (uint64_t)ds;
	return block + HEADER;
}

static void *alloc_locked(size_t n)
{
	if (n == 0)
		n = 1;
	if (n >= (1UL << 46))
		return 0;
	if (n + HEADER <= (1UL << MAX_SHIFT))
		return alloc_small(n);
	return alloc_large(n);
}

static struct header *header_of(void *p)
{
	return (struct header *)((char *)p - HEADER);
}

static void bad_free(void *p)
{
	rtcr_printf("free(%p): not a heap block (double free or a wild pointer)\n", p);
	abort();
}

static void free_locked(void *p)
{
	struct header *h = header_of(p);
	if (h->kind == ALIGNED) {
		p = (char *)p - h->shift_or_back;
		h = header_of(p);
	}
	if (h->kind == SMALL) {
		unsigned shift = h->shift_or_back;
		if (shift < MIN_SHIFT || shift > MAX_SHIFT)
			bad_free(p);
		h->kind = 0;
		struct free_block *b = (struct free_block *)h;
		b->next = free_lists[shift - MIN_SHIFT];
		free_lists[shift - MIN_SHIFT] = b;
	} else if (h->kind == LARGE) {
		long ds = (long)h->size_or_ds;
		h->kind = 0;
		rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)h);
		rtcr_ram_free(ds);
	} else {
		bad_free(p);
	}
}

/* Bytes usable at p. */
static size_t usable(void *p)
{
	struct header *h = header_of(p);
	if (h->kind == SMALL)
		return (1UL << h->shift_or_back) - HEADER;
	/* LARGE: the dataspace's size, page-rounded by the machine */
	long size = rtcr_ds_size((long)h->size_or_ds);
	return size > 0 ? (size_t)size - HEADER : 0;
}

void *malloc(size_t n)
{
	lock();
	void *p = alloc_locked(n);
	unlock();
	return p;
}

void free(void *p)
{
	if (!p)
		return;
	lock();
	free_locked(p);
	unlock();
}

void *calloc(size_t count, size_t size)
{
	if (size && count > (size_t)-1 / size)
		return 0;
	void *p = malloc(count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

void *realloc(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	if (n == 0) {
		free(p);
		return 0;
	}
	struct header *h = header_of(p);
	if (h->kind == ALIGNED) {
		/* keep the alignment promise out of realloc: copy into a plain block */
		void *q = malloc(n);
		if (q) {
			size_t old = usable((char *)p - h->shift_or_back) - h->shift_or_back;
			memcpy(q, p, old < n ? old : n);
			free(p);
		}
		return q;
	}
	size_t old = usable(p);
	if (n <= old)
		return p;
	void *q = malloc(n);
	if (!q)
		return 0;
	memcpy(q, p, old);
	free(p);
	return q;
}

void *aligned_alloc(size_t align, size_t n)
{
	if (align <= HEADER)
		return malloc(n);
	if (align & (align - 1))
		return 0;
	if (n > (size_t)-1 - align - HEADER)
		return 0;
	char *raw = malloc(n + align + HEADER);
	if (!raw)
		return 0;
	uintptr_t at = ((uintptr_t)raw + HEADER + align - 1) & ~(uintptr_t)(align - 1);
	struct header *h = header_of((void *)at);
	h->kind = ALIGNED;
	h->shift_or_back = (uint32_t)((char *)at - raw);
	h->size_or_ds = n;
	return (void *)at;
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return RTCR_EINVAL;
	void *p = aligned_alloc(align, n);
	if (!p)
		return RTCR_ENORAM;
	*out = p;
	return 0;
}
