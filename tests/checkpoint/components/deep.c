/*
 * deep -- a call chain of known depth that stays put a while at the bottom.
 *
 * Test workload for the return addresses `rtcr show` lists: main calls
 * descend(5), which calls itself down to descend(0), which spins through
 * system calls long enough for checkpoints to fall there. Each level keeps
 * a volatile local across its call, so the compiler can turn neither the
 * recursion into a loop nor a call into a jump.
 */
#include <rtcr.h>

#define DEPTH 5
#define ROUNDS 200000

static volatile unsigned long sink;

__attribute__((noinline, noipa)) static unsigned long descend(int level)
{
	volatile int here = level;
	if (level == 0) {
		for (int i = 0; i < ROUNDS; ++i)
			sink += (unsigned long)rtcr_ram_avail();
		return sink;
	}
	unsigned long below = descend(level - 1);
	return below + (unsigned long)here;
}

int main(void)
{
	rtcr_printf("deep %lu\n", descend(DEPTH) & 1);
	return 0;
}
