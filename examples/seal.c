/*
 * seal -- every attach of a sealed dataspace is read-only.
 *
 * Demonstrates rtcr_ram_seal, as Genode's Pd_session::seal_ram: 4 pages are
 * filled through a writable mapping and sealed; that mapping, made before
 * the seal, keeps its rights (reads and writes work).  The sealed dataspace
 * is then attached -- asking for RTCR_W -- into a sub region map with a
 * fault handler: the attach is read-only, reads work, a write raises a
 * WRITE fault in the sub map (the leaf).  The handler resolves
 * it copy-on-write style: it copies the sealed content into a fresh RAM
 * dataspace and attaches that in place of the sealed one, so the write
 * retries into the copy; the sealed original stays unchanged.  Finally the
 * owner frees the sealed dataspace (allowed), and sealing an unknown or
 * wrong-kind capability fails with -RTCR_ECAP.
 *
 * Expected output (see expected/seal.txt):
 *   [seal] filled 4 pages, sum 0x...
 *   [seal] seal: 0
 *   [seal] reads after seal ok
 *   [seal] existing mapping still writable: yes
 *   [seal] sub map reads ok
 *   [seal] fault: WRITE at 0x1000
 *   [seal] write went to the copy, sealed original unchanged
 *   [seal] seal(9999): -2, seal(rm): -2
 *   [seal] free sealed: 0
 *   [seal] seal done
 * exit status 0
 */
#include <rtcr.h>

#define PAGES 4UL
#define SIZE (PAGES * RTCR_PAGE_SIZE)

static const char *const type_names[] = { "NONE", "READ", "WRITE", "EXEC" };

static long rm, sealed_ds;
static volatile const unsigned char *sealed_view; /* the sealed ds, read-only */
static volatile unsigned long faults;

static void handler(void *arg)
{
	(void)arg;
	for (;;) {
		rtcr_signal_wait();
		struct rtcr_fault f;
		if (rtcr_fault(rm, &f) != 0 || f.type == RTCR_FAULT_NONE)
			continue;
		faults++;
		rtcr_printf("fault: %s at 0x%lx\n",
		            f.type >= 0 && f.type < 4 ? type_names[f.type] : "?", f.addr);
		/* copy-on-write: replace the sealed region by a writable copy */
		long copy = rtcr_ram_alloc(SIZE);
		long tmp = rtcr_attach(RTCR_ADDRESS_SPACE, copy, 0, 0, RTCR_ANYWHERE, RTCR_W);
		if (copy < 0 || tmp < 0) {
			rtcr_printf("copy failed: %ld %ld\n", copy, tmp);
			rtcr_exit(1);
		}
		volatile unsigned char *t = (volatile unsigned char *)tmp;
		for (unsigned long i = 0; i < SIZE; i++)
			t[i] = sealed_view[i];
		long d1 = rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)tmp);
		long d2 = rtcr_detach(rm, 0);
		long a = rtcr_attach(rm, copy, 0, 0, 0, RTCR_W);
		if (d1 != 0 || d2 != 0 || a != 0) {
			rtcr_printf("swap failed: %ld %ld %ld\n", d1, d2, a);
			rtcr_exit(1);
		}
	}
}

static unsigned long sum(volatile const unsigned char *p)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < SIZE; i++)
		s = s * 31 + p[i];
	return s;
}

int main(void)
{
	sealed_ds = rtcr_ram_alloc(SIZE);
	long p = rtcr_attach(RTCR_ADDRESS_SPACE, sealed_ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (sealed_ds < 0 || p < 0) {
		rtcr_printf("setup failed: %ld %ld\n", sealed_ds, p);
		return 1;
	}
	volatile unsigned char *w = (volatile unsigned char *)p;
	for (unsigned long i = 0; i < SIZE; i++)
		w[i] = (unsigned char)(i * 7 + i / RTCR_PAGE_SIZE);
	sealed_view = w;
	unsigned long s0 = sum(w);
	rtcr_printf("filled %lu pages, sum 0x%lx\n", PAGES, s0);

	rtcr_printf("seal: %ld\n", rtcr_ram_seal(sealed_ds));
	if (sum(w) != s0) {
		rtcr_printf("content changed by seal\n");
		return 1;
	}
	rtcr_printf("reads after seal ok\n");
	unsigned char keep = w[0];
	w[0] = (unsigned char)(keep ^ 0x5a);
	int kept = w[0] == (unsigned char)(keep ^ 0x5a);
	w[0] = keep;
	rtcr_printf("existing mapping still writable: %s\n", kept ? "yes" : "no");

	rm = rtcr_rm_create(SIZE);
	long sig = rtcr_signal_context();
	long a = rtcr_attach(rm, sealed_ds, 0, 0, 0, RTCR_W); /* effective: read-only */
	long r = rtcr_fault_handler(rm, sig);
	long mds = rtcr_rm_dataspace(rm);
	long base = rtcr_attach(RTCR_ADDRESS_SPACE, mds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	long tid = rtcr_thread_create(handler, NULL, 16 * 1024);
	if (rm < 0 || sig < 0 || a != 0 || r != 0 || mds < 0 || base < 0 || tid < 0) {
		rtcr_printf("setup failed: rm %ld sig %ld attach %ld handler %ld ds %ld base %ld "
		            "thread %ld\n", rm, sig, a, r, mds, base, tid);
		return 1;
	}
	volatile unsigned char *v = (volatile unsigned char *)base;
	if (sum(v) != s0 || faults != 0) {
		rtcr_printf("sub map reads wrong\n");
		return 1;
	}
	rtcr_printf("sub map reads ok\n");

	unsigned char before = w[RTCR_PAGE_SIZE];
	v[RTCR_PAGE_SIZE] = (unsigned char)(before ^ 0xff); /* faults once */
	if (v[RTCR_PAGE_SIZE] != (unsigned char)(before ^ 0xff) || w[RTCR_PAGE_SIZE] != before
	    || sum(w) != s0 || faults != 1) {
		rtcr_printf("write through the sealed path misbehaved\n");
		return 1;
	}
	rtcr_printf("write went to the copy, sealed original unchanged\n");

	rtcr_printf("seal(9999): %ld, seal(rm): %ld\n", rtcr_ram_seal(9999), rtcr_ram_seal(rm));

	long d = rtcr_detach(RTCR_ADDRESS_SPACE, (unsigned long)p);
	long fr = rtcr_ram_free(sealed_ds);
	if (d != 0) {
		rtcr_printf("detach failed: %ld\n", d);
		return 1;
	}
	rtcr_printf("free sealed: %ld\n", fr);
	if (fr != 0)
		return 1;
	rtcr_printf("seal done\n");
	return 0;
}
