/*
 * touch_pages -- read, then write one byte of each of PAGES pages, ROUNDS
 * times.  A microbenchmark of the write-fault path: under read-only attach
 * every write is the first write to its page since the last checkpoint
 * when the runtime re-arms between rounds.
 */
#include <rtcr.h>

#ifndef PAGES
#define PAGES 4096
#endif
#ifndef ROUNDS
#define ROUNDS 4
#endif

static volatile unsigned char area[PAGES * RTCR_PAGE_SIZE];

int main(void)
{
	unsigned long sum = 0;
	for (unsigned long r = 0; r < ROUNDS; r++)
		for (unsigned long p = 0; p < PAGES; p++) {
			unsigned char v = area[p * RTCR_PAGE_SIZE];
			area[p * RTCR_PAGE_SIZE] = (unsigned char)(v + 1);
			sum += v;
		}
	rtcr_printf("touch_pages: %lu pages x %lu rounds, sum %lu\n", (unsigned long)PAGES,
	            (unsigned long)ROUNDS, sum);
	return 0;
}
