/*
 * sparse_random -- random updates of a large open-addressing hash table.
 *
 * UPDATES keys drawn from a skewed random stream are inserted or counted
 * in a table of SLOTS 16-byte slots; each interval writes a scattered
 * subset of the table's pages.
 */
#include <rtcr.h>

#ifndef SLOTS
#define SLOTS (1UL << 17)
#endif
#ifndef UPDATES
#define UPDATES 400000UL
#endif

struct slot {
	uint64_t key;
	uint64_t count;
};

static struct slot table[SLOTS];

int main(void)
{
	uint64_t state = 77;
	unsigned long used = 0;
	for (unsigned long u = 0; u < UPDATES; u++) {
		uint64_t r = rtcr_xorshift64(&state);
		/* a key space twice the table's half: the table fills to about half */
		uint64_t key = (r % (SLOTS / 2)) + 1;
		unsigned long h = (unsigned long)((key * 0x9e3779b97f4a7c15ULL) >> 20) & (SLOTS - 1);
		while (table[h].key != 0 && table[h].key != key)
			h = (h + 1) & (SLOTS - 1);
		if (table[h].key == 0) {
			table[h].key = key;
			used++;
		}
		table[h].count++;
	}
	uint64_t check = 0;
	for (unsigned long i = 0; i < SLOTS; i++)
		check = check * 3 + table[i].count;
	rtcr_printf("sparse_random: %lu slots, %lu used, checksum %lx\n",
	            (unsigned long)SLOTS, used, (unsigned long)check);
	return 0;
}
