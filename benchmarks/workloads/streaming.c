/*
 * streaming -- copy one buffer into another, pass after pass.
 *
 * Every pass reads all of `src` and writes all of `dst` (BUF_PAGES pages
 * each), then changes a few words of `src`: reads and writes are balanced,
 * so detach faults about twice as often as read-only attach.
 */
#include <rtcr.h>

#ifndef BUF_PAGES
#define BUF_PAGES 512
#endif
#ifndef PASSES
#define PASSES 40
#endif

#define WORDS (BUF_PAGES * RTCR_PAGE_SIZE / sizeof(uint64_t))

static uint64_t src[WORDS];
static uint64_t dst[WORDS];

int main(void)
{
	for (unsigned long i = 0; i < WORDS; i++)
		src[i] = i * 0x9e3779b97f4a7c15ULL;
	uint64_t check = 0;
	for (unsigned long p = 0; p < PASSES; p++) {
		for (unsigned long i = 0; i < WORDS; i++)
			dst[i] = src[i] + p;
		src[(p * 4099) % WORDS] ^= dst[(p * 7919) % WORDS];
		check += dst[(p * 104729) % WORDS];
	}
	rtcr_printf("streaming: %lu pages x %lu passes, checksum %lx\n",
	            (unsigned long)BUF_PAGES, (unsigned long)PASSES, (unsigned long)check);
	return 0;
}
