/*
 * pager -- a slow pager thread resolves READ and WRITE faults.
 *
 * Test workload: the main thread walks a 24-page managed window, reading
 * some pages first (READ fault) and writing others (WRITE fault).  The
 * pager thread waits for the fault signal, reads the fault, then works for
 * a while (a long compute loop) before it allocates a page, fills it and
 * attaches it -- so checkpoints taken between the reflection of a fault and
 * its resolution are common: the main thread is blocked on a fault while
 * the pager runs.  Between faults the pager is blocked on its signal.  At
 * the end the main thread tells the pager to stop and joins it.
 */
#include <rtcr.h>

#define PAGES 24UL
#define WINDOW (PAGES * RTCR_PAGE_SIZE)

static long rm, sig, stop_sig;
static volatile unsigned long resolved, reads, writes;
static volatile int stopping;

static void pager(void *arg)
{
	(void)arg;
	for (;;) {
		long fired = rtcr_signal_wait();
		if (fired == stop_sig || stopping)
			break;
		for (;;) {
			struct rtcr_fault f;
			if (rtcr_fault(rm, &f) != 0 || f.type == RTCR_FAULT_NONE)
				break;
			unsigned long page = f.addr & ~(RTCR_PAGE_SIZE - 1);
			/* think about it for a while: checkpoints land in here */
			uint64_t h = page + 1;
			for (int i = 0; i < 3000; i++)
				h = h * 6364136223846793005ULL + 1442695040888963407ULL;
			long ds = rtcr_ram_alloc(RTCR_PAGE_SIZE);
			long tmp = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
			if (ds < 0 || tmp < 0) {
				rtcr_printf("pager: alloc/attach failed %ld %ld\n", ds, tmp);
				rtcr_exit(2);
			}
			unsigned long *fill = (unsigned long *)tmp;
			for (unsigned long i = 0; i < RTCR_PAGE_SIZE / 8; i += 8)
				fill[i] = h ^ i;
			rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)tmp);
			long r = rtcr_attach(rm, ds, 0, 0, (long)page, RTCR_W);
			if (r != (long)page) {
				rtcr_printf("pager: attach at %lx failed: %ld\n", page, r);
				rtcr_exit(3);
			}
			if (f.type == RTCR_FAULT_READ)
				reads++;
			else
				writes++;
			resolved++;
			rtcr_printf("resolved %lu: type %ld page %lu\n", resolved, f.type,
			            page / RTCR_PAGE_SIZE);
		}
	}
	rtcr_printf("pager stops after %lu faults\n", resolved);
}

int main(void)
{
	rm = rtcr_rm_create(WINDOW);
	sig = rtcr_signal_context();
	stop_sig = rtcr_signal_context();
	long h = rtcr_fault_handler(rm, sig);
	long mds = rtcr_rm_dataspace(rm);
	long base = rtcr_attach(RTCR_ADDRESS_SPACE, mds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	long tid = rtcr_thread_create(pager, NULL, 16 * 1024);
	if (rm < 0 || sig < 0 || h != 0 || base < 0 || tid < 0) {
		rtcr_printf("setup failed\n");
		return 1;
	}
	volatile unsigned long *p = (volatile unsigned long *)base;
	unsigned long sum = 0;
	for (unsigned long pg = 0; pg < PAGES; pg++) {
		unsigned long w = pg * (RTCR_PAGE_SIZE / 8);
		if (pg % 3 == 0)
			sum += p[w + 8]; /* READ fault first */
		p[w + (pg % 5)] = sum + pg;  /* WRITE (fault unless read before) */
		for (int i = 0; i < 500; i++)
			sum = sum * 33 + p[w + (unsigned long)(i % 16) * 8];
	}
	rtcr_printf("main: sum %lx after %lu faults (%lu read, %lu write)\n", sum, resolved,
	            reads, writes);
	stopping = 1;
	rtcr_signal_submit(stop_sig);
	rtcr_thread_join(tid);
	return 0;
}
