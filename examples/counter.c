/*
 * counter -- a sheep counter whose state lives in a RAM dataspace.
 *
 * Demonstrates: rtcr_ram_alloc + rtcr_attach into the component's own
 * address space (RTCR_ADDRESS_SPACE), a long-running loop with a small,
 * frequently written working set -- the classic checkpoint/restore demo:
 * checkpoint it mid-run, restore, and the count continues where it was.
 *
 * The counter (and a busy-work accumulator) live in the attached page; the
 * busy work (an LCG, 1000 steps per sheep) only burns instructions
 * (about 9 M instructions in total).
 *
 * Expected output (21 lines; see expected/counter.txt):
 *   [counter] sheep 100
 *   [counter] sheep 200
 *   ...
 *   [counter] sheep 2000
 *   [counter] counted 2000 sheep, work 0x...   (a fixed value)
 * exit status 0
 */
#include <rtcr.h>

#define SHEEP 2000
#define WORK_PER_SHEEP 1000

struct state {
	unsigned long sheep;
	unsigned long work;
};

int main(void)
{
	long ds = rtcr_ram_alloc(RTCR_PAGE_SIZE);
	if (ds < 0) {
		rtcr_printf("ram_alloc failed: %ld\n", ds);
		return 1;
	}
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (at < 0) {
		rtcr_printf("attach failed: %ld\n", at);
		return 1;
	}
	volatile struct state *st = (volatile struct state *)at;

	while (st->sheep < SHEEP) {
		unsigned long w = st->work;
		for (int i = 0; i < WORK_PER_SHEEP; i++)
			w = w * 6364136223846793005UL + 1442695040888963407UL;
		st->work = w;
		st->sheep = st->sheep + 1;
		if (st->sheep % 100 == 0)
			rtcr_printf("sheep %lu\n", st->sheep);
	}
	rtcr_printf("counted %lu sheep, work 0x%016lx\n", st->sheep, st->work);
	return 0;
}
