/*
 * self_pager -- a component that is its own pager (the guest version of
 * Genode's rm_nested test, part A).
 *
 * Demonstrates: managed dataspaces and fault handling from inside a
 * component.  The main thread creates a 64 KiB region map, registers a
 * signal context as its fault handler and attaches the map's managed
 * dataspace into its own address space -- an empty window: every first
 * touch of one of its 16 pages faults.  A second thread, the pager, waits
 * for the signal, reads the fault (rtcr_fault), logs it, allocates a 4 KiB
 * RAM dataspace and attaches it writable at the faulting page of the sub
 * map, which wakes the faulting main thread.
 *
 * The main thread writes one byte every 256 bytes across the window (so
 * each page faults exactly once, with a WRITE fault at the page's first
 * byte), then reads everything back.  The pager logs while the main thread
 * is blocked in its fault, so the output order is fixed.
 *
 * Expected output (see expected/self_pager.txt):
 *   [self_pager] fault 1: WRITE at 0x0
 *   [self_pager] fault 2: WRITE at 0x1000
 *   ...
 *   [self_pager] fault 16: WRITE at 0xf000
 *   [self_pager] faults handled: 16 (read 0, write 16, exec 0)
 *   [self_pager] verified 256 bytes
 *   [self_pager] self_pager done
 * exit status 0
 */
#include <rtcr.h>

#define WINDOW (64UL * 1024)
#define PAGES (WINDOW / RTCR_PAGE_SIZE)
#define STRIDE 256

static const char *const type_names[] = { "NONE", "READ", "WRITE", "EXEC" };

static long rm;
static volatile unsigned long faults_by_type[4];
static volatile unsigned long faults;
static volatile unsigned char mapped[PAGES];

static void pager(void *arg)
{
	(void)arg;
	for (;;) {
		rtcr_signal_wait();
		/* drain every queued fault */
		for (;;) {
			struct rtcr_fault f;
			if (rtcr_fault(rm, &f) != 0 || f.type == RTCR_FAULT_NONE)
				break;
			unsigned long page = f.addr & ~(RTCR_PAGE_SIZE - 1);
			unsigned long index = page / RTCR_PAGE_SIZE;
			if (index >= PAGES || mapped[index])
				break; /* not ours to resolve; wait for the next signal */
			faults++;
			if (f.type >= 0 && f.type < 4)
				faults_by_type[f.type]++;
			rtcr_printf("fault %lu: %s at 0x%lx\n", faults,
			            f.type >= 0 && f.type < 4 ? type_names[f.type] : "?", f.addr);
			long ds = rtcr_ram_alloc(RTCR_PAGE_SIZE);
			if (ds < 0) {
				rtcr_printf("pager: ram_alloc failed: %ld\n", ds);
				rtcr_exit(1);
			}
			long r = rtcr_attach(rm, ds, 0, 0, (long)page, RTCR_W);
			if (r != (long)page) {
				rtcr_printf("pager: attach at 0x%lx failed: %ld\n", page, r);
				rtcr_exit(1);
			}
			mapped[index] = 1;
		}
	}
}

int main(void)
{
	rm = rtcr_rm_create(WINDOW);
	long sig = rtcr_signal_context();
	if (rm < 0 || sig < 0) {
		rtcr_printf("setup failed: rm %ld sig %ld\n", rm, sig);
		return 1;
	}
	long r = rtcr_fault_handler(rm, sig);
	long mds = rtcr_rm_dataspace(rm);
	long base = rtcr_attach(RTCR_ADDRESS_SPACE, mds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (r != 0 || mds < 0 || base < 0) {
		rtcr_printf("setup failed: handler %ld ds %ld attach %ld\n", r, mds, base);
		return 1;
	}
	long tid = rtcr_thread_create(pager, NULL, 16 * 1024);
	if (tid < 0) {
		rtcr_printf("thread_create failed: %ld\n", tid);
		return 1;
	}

	volatile unsigned char *p = (volatile unsigned char *)base;
	for (unsigned long off = 0; off < WINDOW; off += STRIDE)
		p[off] = (unsigned char)((off / STRIDE) ^ 0x5a);

	rtcr_printf("faults handled: %lu (read %lu, write %lu, exec %lu)\n", faults,
	            faults_by_type[RTCR_FAULT_READ], faults_by_type[RTCR_FAULT_WRITE],
	            faults_by_type[RTCR_FAULT_EXEC]);

	unsigned long ok = 0;
	for (unsigned long off = 0; off < WINDOW; off += STRIDE) {
		if (p[off] != (unsigned char)((off / STRIDE) ^ 0x5a)) {
			rtcr_printf("mismatch at offset 0x%lx\n", off);
			return 1;
		}
		if (p[off + 1] != 0) {
			rtcr_printf("fresh RAM not zero at offset 0x%lx\n", off + 1);
			return 1;
		}
		ok++;
	}
	rtcr_printf("verified %lu bytes\n", ok);
	if (faults != PAGES || faults_by_type[RTCR_FAULT_WRITE] != PAGES) {
		rtcr_printf("expected %lu WRITE faults\n", PAGES);
		return 1;
	}
	rtcr_printf("self_pager done\n");
	return 0;
}
