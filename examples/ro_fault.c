/*
 * ro_fault -- read-only attach of writable RAM, upgraded on write faults.
 *
 * Demonstrates the mechanism rtcr's "ro-attach" dirty tracking is built
 * on, done by a component itself: 8 pages of (writable) RAM are first
 * filled through an ordinary writable mapping, then attached page by page
 * READ-ONLY (flags 0) into a sub region map whose managed dataspace is
 * attached writable into the address space.  Reads through the window
 * never fault.  The first write to each page raises a WRITE fault
 * (effective rights = AND along the path); the handler thread logs it and
 * upgrades that one page: detach + re-attach writable at the same address.
 * The handler logs while the writer is blocked, so the order is fixed.
 *
 * Expected output (see expected/ro_fault.txt):
 *   [ro_fault] read pass: 8 pages, sum 0x..., faults 0
 *   [ro_fault] fault 1: WRITE at 0x0
 *   ...
 *   [ro_fault] fault 8: WRITE at 0x7000
 *   [ro_fault] write faults: 8 (read 0, write 8, exec 0)
 *   [ro_fault] verified 8 pages
 *   [ro_fault] ro_fault done
 * exit status 0
 */
#include <rtcr.h>

#define PAGES 8UL
#define SIZE (PAGES * RTCR_PAGE_SIZE)

static const char *const type_names[] = { "NONE", "READ", "WRITE", "EXEC" };

static long rm, ram;
static volatile unsigned long faults, faults_by_type[4];
static volatile unsigned char upgraded[PAGES];

static void handler(void *arg)
{
	(void)arg;
	for (;;) {
		rtcr_signal_wait();
		for (;;) {
			struct rtcr_fault f;
			if (rtcr_fault(rm, &f) != 0 || f.type == RTCR_FAULT_NONE)
				break;
			unsigned long page = f.addr & ~(RTCR_PAGE_SIZE - 1);
			unsigned long index = page / RTCR_PAGE_SIZE;
			if (index >= PAGES || upgraded[index])
				break;
			faults++;
			if (f.type >= 0 && f.type < 4)
				faults_by_type[f.type]++;
			rtcr_printf("fault %lu: %s at 0x%lx\n", faults,
			            f.type >= 0 && f.type < 4 ? type_names[f.type] : "?", f.addr);
			long r = rtcr_detach(rm, page);
			long a = rtcr_attach(rm, ram, RTCR_PAGE_SIZE, page, (long)page, RTCR_W);
			if (r != 0 || a != (long)page) {
				rtcr_printf("upgrade of 0x%lx failed: detach %ld attach %ld\n", page, r, a);
				rtcr_exit(1);
			}
			upgraded[index] = 1;
		}
	}
}

int main(void)
{
	ram = rtcr_ram_alloc(SIZE);
	rm = rtcr_rm_create(SIZE);
	long sig = rtcr_signal_context();
	if (ram < 0 || rm < 0 || sig < 0) {
		rtcr_printf("setup failed: ram %ld rm %ld sig %ld\n", ram, rm, sig);
		return 1;
	}

	/* fill the RAM through a plain writable mapping */
	long rw = rtcr_attach(RTCR_ADDRESS_SPACE, ram, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (rw < 0) {
		rtcr_printf("attach rw failed: %ld\n", rw);
		return 1;
	}
	volatile unsigned char *q = (volatile unsigned char *)rw;
	for (unsigned long i = 0; i < SIZE; i += 64)
		q[i] = (unsigned char)(i / 64 + 1);
	if (rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)rw) != 0) {
		rtcr_printf("detach rw failed\n");
		return 1;
	}

	/* the window: each page read-only */
	for (unsigned long i = 0; i < PAGES; i++) {
		unsigned long off = i * RTCR_PAGE_SIZE;
		long a = rtcr_attach(rm, ram, RTCR_PAGE_SIZE, off, (long)off, 0);
		if (a != (long)off) {
			rtcr_printf("attach ro of page %lu failed: %ld\n", i, a);
			return 1;
		}
	}
	long r = rtcr_fault_handler(rm, sig);
	long mds = rtcr_rm_dataspace(rm);
	long base = rtcr_attach(RTCR_ADDRESS_SPACE, mds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	long tid = rtcr_thread_create(handler, NULL, 16 * 1024);
	if (r != 0 || mds < 0 || base < 0 || tid < 0) {
		rtcr_printf("setup failed: handler %ld ds %ld attach %ld thread %ld\n", r, mds,
		            base, tid);
		return 1;
	}
	volatile unsigned char *p = (volatile unsigned char *)base;

	/* read pass: no faults */
	unsigned long sum = 0;
	for (unsigned long i = 0; i < SIZE; i++)
		sum += p[i];
	rtcr_printf("read pass: %lu pages, sum 0x%lx, faults %lu\n", PAGES, sum, faults);

	/* write pass: one WRITE fault per page */
	for (unsigned long i = 0; i < PAGES; i++)
		p[i * RTCR_PAGE_SIZE] = (unsigned char)(0xa0 + i);
	rtcr_printf("write faults: %lu (read %lu, write %lu, exec %lu)\n", faults,
	            faults_by_type[RTCR_FAULT_READ], faults_by_type[RTCR_FAULT_WRITE],
	            faults_by_type[RTCR_FAULT_EXEC]);

	for (unsigned long i = 0; i < SIZE; i += 64) {
		unsigned char want = i % RTCR_PAGE_SIZE == 0
		                     ? (unsigned char)(0xa0 + i / RTCR_PAGE_SIZE)
		                     : (unsigned char)(i / 64 + 1);
		if (p[i] != want) {
			rtcr_printf("mismatch at 0x%lx: %u != %u\n", i, p[i], want);
			return 1;
		}
	}
	rtcr_printf("verified %lu pages\n", PAGES);
	if (faults != PAGES || faults_by_type[RTCR_FAULT_WRITE] != PAGES)
		return 1;
	rtcr_printf("ro_fault done\n");
	return 0;
}
