/*
 * heap_grow -- a heap that grows by many RAM allocations.
 *
 * Allocates CHUNKS dataspaces of CHUNK_KB KiB each (rtcr_ram_alloc +
 * rtcr_attach), fills each new chunk (every FILL_STRIDE-th word), and
 * between allocations rewrites a few pages of older chunks: the runtime
 * tracks a growing set of dataspaces, and new dataspaces enter
 * checkpoints whole.
 */
#include <rtcr.h>

#ifndef CHUNKS
#define CHUNKS 96
#endif
#ifndef CHUNK_KB
#define CHUNK_KB 64
#endif
#ifndef WORK
#define WORK 20000UL
#endif
#ifndef FILL_STRIDE
#define FILL_STRIDE 1 /* words between two filled words (512: one per page) */
#endif

#define CHUNK_BYTES (CHUNK_KB * 1024UL)
#define CHUNK_WORDS (CHUNK_BYTES / sizeof(uint64_t))

static uint64_t *chunks[CHUNKS];

int main(void)
{
	uint64_t state = 5;
	uint64_t check = 0;
	for (unsigned long c = 0; c < CHUNKS; c++) {
		long ds = rtcr_ram_alloc(CHUNK_BYTES);
		if (ds < 0) {
			rtcr_printf("heap_grow: ram_alloc %lu failed: %ld\n", c, ds);
			return 1;
		}
		long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
		if (at < 0) {
			rtcr_printf("heap_grow: attach %lu failed: %ld\n", c, at);
			return 1;
		}
		uint64_t *chunk = (uint64_t *)at;
		chunks[c] = chunk;
		for (unsigned long i = 0; i < CHUNK_WORDS; i += FILL_STRIDE)
			chunk[i] = i ^ c;
		for (unsigned long w = 0; w < WORK; w++) {
			uint64_t r = rtcr_xorshift64(&state);
			uint64_t *old = chunks[r % (c + 1)];
			unsigned long i = (r >> 20) % CHUNK_WORDS;
			if ((w & 15) == 0)
				old[i] += w;
			check += old[i];
		}
	}
	rtcr_printf("heap_grow: %lu chunks of %lu KiB, checksum %lx\n", (unsigned long)CHUNKS,
	            (unsigned long)CHUNK_KB, (unsigned long)check);
	return 0;
}
