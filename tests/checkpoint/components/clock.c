/*
 * clock -- reads the time stamp counter between computing and sleeping.
 *
 * Test workload for virtual time: rdtsc and rdtscp must give the machine's
 * virtual time (one tick per instruction, plus the time spent asleep), the
 * same in an uninterrupted run and after a restore, wherever unicorn cut
 * its translation blocks.
 */
#include <rtcr.h>

static unsigned long tsc(void)
{
	unsigned int lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((unsigned long)hi << 32) | lo;
}

static unsigned long tscp(unsigned int *aux)
{
	unsigned int lo, hi, c;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
	*aux = c;
	return ((unsigned long)hi << 32) | lo;
}

int main(void)
{
	unsigned long acc = 1;
	for (int round = 0; round < 30; round++) {
		for (int i = 0; i < 30000 + round * 100; i++)
			acc = acc * 6364136223846793005UL + 1442695040888963407UL;
		unsigned int aux;
		unsigned long before = tsc();
		if (round % 5 == 4)
			rtcr_sleep_us(250);
		unsigned long after = tscp(&aux);
		rtcr_printf("round %d tsc %lu %lu aux %u acc %lx\n", round, before, after, aux, acc);
	}
	return 0;
}
