/*
 * read_mostly -- a large lookup table read every round, few pages written.
 *
 * The table (TABLE_PAGES pages) is built once; every round then reads one
 * word per cache line of the whole table and folds it into a small result
 * array (one page), so an interval reads every table page but writes only
 * a couple of pages: the case read-only attach is made for.
 */
#include <rtcr.h>

#ifndef TABLE_PAGES
#define TABLE_PAGES 1024
#endif
#ifndef ROUNDS
#define ROUNDS 60
#endif

#define WORDS (TABLE_PAGES * RTCR_PAGE_SIZE / sizeof(uint64_t))

static uint64_t table[WORDS];
static uint64_t results[512];

int main(void)
{
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	for (unsigned long i = 0; i < WORDS; i++)
		table[i] = rtcr_xorshift64(&state);
	uint64_t acc = 0;
	for (unsigned long r = 0; r < ROUNDS; r++) {
		uint64_t sum = r;
		for (unsigned long i = r & 7; i < WORDS; i += 8)
			sum = (sum ^ table[i]) * 0x100000001b3ULL;
		results[r % 512] = sum;
		acc += sum;
	}
	rtcr_printf("read_mostly: %lu pages x %lu rounds, checksum %lx\n",
	            (unsigned long)TABLE_PAGES, (unsigned long)ROUNDS, (unsigned long)acc);
	return 0;
}
