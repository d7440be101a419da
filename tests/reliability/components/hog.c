/*
 * hog -- a component that exhausts one resource (HOG_MODE) and reports how.
 *
 *   1 ram:     allocate 64 KiB dataspaces until an error
 *   2 caps:    create signal contexts until an error
 *   3 threads: spawn threads that block forever until an error
 *   4 spin:    loop forever (only --max-instructions stops it)
 *   5 all:     1, 2 and 3 in turn
 * Logs "exhausted KIND after N: CODE" for every resource, then "hog done"
 * and exits 0 -- a component out of resources still runs.
 */
#include <rtcr.h>

#ifndef HOG_MODE
#define HOG_MODE 5
#endif

static void block_forever(void *arg)
{
	(void)arg;
	for (;;)
		rtcr_signal_wait();   /* nobody ever submits */
}

static void hog_ram(void)
{
	long n = 0, r;
	while ((r = rtcr_ram_alloc(64 * 1024)) >= 0) {
		long at = rtcr_attach(RTCR_ADDRESS_SPACE, r, 0, 0, RTCR_ANYWHERE, RTCR_W);
		if (at >= 0)
			*(volatile long *)at = n;
		n++;
	}
	rtcr_printf("exhausted ram after %ld: %ld avail %ld\n", n, r, rtcr_ram_avail());
}

static void hog_caps(void)
{
	long n = 0, r;
	while ((r = rtcr_signal_context()) >= 0)
		n++;
	rtcr_printf("exhausted caps after %ld: %ld avail %ld\n", n, r, rtcr_caps_avail());
	r = rtcr_ram_alloc(4096);
	rtcr_printf("ram alloc without caps: %ld\n", r);
}

static void hog_threads(void)
{
	long n = 0, r;
	while ((r = rtcr_thread_create(block_forever, 0, 0)) >= 0)
		n++;
	rtcr_printf("exhausted threads after %ld: %ld\n", n, r);
}

int main(void)
{
	switch (HOG_MODE) {
	case 1: hog_ram(); break;
	case 2: hog_caps(); break;
	case 3: hog_threads(); break;
	case 4:
		rtcr_printf("spinning\n");
		for (volatile unsigned long i = 0;; i++)
			;
	default:
		hog_ram();
		hog_caps();
		hog_threads();
	}
	rtcr_printf("hog done\n");
	return 0;
}
