/*
 * kernel_writes -- the kernel writes into the arena on the component's behalf.
 *
 * Test workload for dirty tracking: after "ready", the component asks the
 * kernel to fill a `struct rtcr_fault` that lives in page 5 of a 12-page
 * arena (rtcr_fault on an empty region map) and logs "phase"; then it
 * repeats with page 9.  The component itself never stores to those pages:
 * only the kernel's copy-out does, which must count as a write.
 */
#include <rtcr.h>

#define ARENA_PAGES 12UL

int main(void)
{
	long ds = rtcr_ram_alloc(ARENA_PAGES * RTCR_PAGE_SIZE);
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	long rm = rtcr_rm_create(RTCR_PAGE_SIZE);
	if (ds < 0 || at < 0 || rm < 0)
		return 1;
	rtcr_log("ready");
	rtcr_yield();
	long r1 = rtcr_fault(rm, (struct rtcr_fault *)(at + 5 * RTCR_PAGE_SIZE + 64));
	rtcr_log("phase");
	rtcr_yield();
	long r2 = rtcr_fault(rm, (struct rtcr_fault *)(at + 9 * RTCR_PAGE_SIZE + 128));
	rtcr_log("phase");
	rtcr_yield();
	return (int)(r1 | r2);
}
