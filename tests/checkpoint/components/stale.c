/*
 * stale -- a return address left on the stack by a call that returned.
 *
 * Test workload for the stale marks of `rtcr show`: main calls setup(),
 * which returns; then a variable-length array moves main's stack pointer
 * down over the slot setup()'s return address was pushed to, without
 * writing it, and main calls wait_here(), which spins through system
 * calls long enough for checkpoints to fall there. The stack then holds,
 * between the live return into main and the one into _start, a word that
 * looks like a return address into main, but whose call goes to setup().
 */
#include <rtcr.h>

static volatile unsigned long sink;

__attribute__((noinline, noipa)) static unsigned long setup(void)
{
	return (unsigned long)rtcr_ram_avail();
}

__attribute__((noinline, noipa)) static void wait_here(void)
{
	for (int i = 0; i < 200000; ++i)
		sink += (unsigned long)rtcr_ram_avail();
}

int main(void)
{
	unsigned long n = setup() & 7;
	volatile char room[n + 64];
	room[0] = 1;
	wait_here();
	rtcr_printf("stale %d\n", room[0]);
	return 0;
}
