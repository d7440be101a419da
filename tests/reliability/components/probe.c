/*
 * probe -- what can a component reach through capability selectors 0..200?
 *
 * It first makes its own objects (a dataspace holding SECRET, a region map,
 * a signal context, PROBE_THREADS threads that exit at once) and logs their
 * selectors ("own ..."), then tries every selector 0..200 as each kind of
 * object, without destroying anything:
 *   ds   -- attach it read-only and read its first word: "reach ds SEL VALUE"
 *   rm   -- query its fault state:                       "reach rm SEL"
 *   sig  -- submit it:                                   "reach sig SEL"
 *   tid  -- join it:                                     "reach tid SEL"
 * and finally selector GIFT (1000), which only a deliberate hand-over by the
 * host fills: "gift VALUE" or "gift none".  Ends with "probe done N".
 */
#include <rtcr.h>

#ifndef SECRET
#define SECRET 0x1111111111111111UL
#endif
#ifndef PROBE_THREADS
#define PROBE_THREADS 1
#endif
#define GIFT 1000

static void nothing(void *arg) { (void)arg; }

static long peek(long sel, unsigned long *value)
{
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, sel, RTCR_PAGE_SIZE, 0, RTCR_ANYWHERE, 0);
	if (at < 0)
		return at;
	*value = *(volatile unsigned long *)at;
	rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)at);
	return 0;
}

int main(void)
{
	long ds = rtcr_ram_alloc(RTCR_PAGE_SIZE);
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	*(volatile unsigned long *)at = SECRET;
	long rm = rtcr_rm_create(1 << 20);
	long sig = rtcr_signal_context();
	rtcr_printf("own ds %ld\n", ds);
	rtcr_printf("own rm %ld\n", rm);
	rtcr_printf("own sig %ld\n", sig);
	for (int i = 0; i < PROBE_THREADS; i++) {
		long t = rtcr_thread_create(nothing, 0, 0);
		rtcr_printf("own tid %ld\n", t);
	}
	rtcr_yield();
	int reached = 0;
	for (long sel = 0; sel <= 200; sel++) {
		unsigned long value = 0;
		struct rtcr_fault f;
		if (peek(sel, &value) == 0) {
			rtcr_printf("reach ds %ld %lx\n", sel, value);
			reached++;
		}
		if (rtcr_fault(sel, &f) == 0) {
			rtcr_printf("reach rm %ld\n", sel);
			reached++;
		}
		if (rtcr_signal_submit(sel) == 0) {
			rtcr_printf("reach sig %ld\n", sel);
			reached++;
		}
		if (sel != 1 && rtcr_thread_join(sel) == 0) {   /* 1: ourselves */
			rtcr_printf("reach tid %ld\n", sel);
			reached++;
		}
	}
	unsigned long gift = 0;
	if (peek(GIFT, &gift) == 0)
		rtcr_printf("gift %lx\n", gift);
	else
		rtcr_printf("gift none\n");
	rtcr_printf("probe done %d\n", reached);
	return 0;
}
