/*
 * ram_hungry -- takes RAM until its quota runs out, then says how much it got.
 *
 * Test workload for `rtcr restore --ram`: it first works a while (so a
 * checkpoint falls before its first allocation), then allocates 64 KiB
 * dataspaces until the RAM quota is exhausted. A restore with a larger
 * quota lets it allocate more; one with the same quota prints what the
 * original run printed.
 */
#include <rtcr.h>

#define CHUNK (64 * 1024)

int main(void)
{
	unsigned long x = 1;
	for (long i = 0; i < 2000000; ++i)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	rtcr_printf("warmed up %lx\n", x & 0xffff);
	long chunks = 0;
	while (rtcr_ram_alloc(CHUNK) >= 0)
		++chunks;
	rtcr_printf("got %ld KiB\n", chunks * (CHUNK / 1024));
	return 0;
}
