/*
 * spin -- a long, quiet run: a few seconds of emulation in few instructions.
 *
 * Test workload for checkpoints on demand (SIGUSR1): it runs long enough
 * for a test to signal it while it runs (every round is a system call,
 * the slow part of emulation), and ends with a checksum over all rounds,
 * so a restore from any point must recompute the rest of it.
 */
#include <rtcr.h>

#define WORDS 512
#define ROUNDS 400000

static unsigned long table[WORDS];

int main(void)
{
	unsigned long x = 88172645463325252UL;
	for (long round = 0; round < ROUNDS; ++round) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		table[round % WORDS] += x ^ (unsigned long)rtcr_ram_avail();
		if (round % 100000 == 99999)
			rtcr_printf("round %ld\n", round + 1);
	}
	unsigned long sum = 0;
	for (int i = 0; i < WORDS; ++i)
		sum = sum * 31 + table[i];
	rtcr_printf("spin done %lx\n", sum);
	return 0;
}
