/*
 * signals -- one thread submits signals, another waits for them.
 *
 * Demonstrates: rtcr_signal_context / rtcr_signal_submit /
 * rtcr_signal_wait between threads, and rtcr_sleep_us.  The main thread
 * submits 5 signals to one context, sleeping 1000 us (virtual time) after
 * each and waiting until the receiver has acknowledged it, so the result
 * does not depend on whether pending signals are coalesced.  The receiver
 * logs each signal (checking that the context that fired is the one
 * created); the main thread logs only after joining it.
 *
 * Expected output (see expected/signals.txt):
 *   [signals] received signal 1 (context ok)
 *   ...
 *   [signals] received signal 5 (context ok)
 *   [signals] all 5 signals received
 *   [signals] signals done
 * exit status 0
 */
#include <rtcr.h>

#define SIGNALS 5

static long ctx;
static volatile unsigned long received;

static void receiver(void *arg)
{
	(void)arg;
	while (received < SIGNALS) {
		long c = rtcr_signal_wait();
		rtcr_printf("received signal %lu (context %s)\n", received + 1,
		            c == ctx ? "ok" : "WRONG");
		__atomic_fetch_add(&received, 1, __ATOMIC_SEQ_CST);
	}
}

int main(void)
{
	ctx = rtcr_signal_context();
	if (ctx < 0) {
		rtcr_printf("signal_context failed: %ld\n", ctx);
		return 1;
	}
	long tid = rtcr_thread_create(receiver, NULL, 16 * 1024);
	if (tid < 0) {
		rtcr_printf("thread_create failed: %ld\n", tid);
		return 1;
	}
	rtcr_sleep_us(1000); /* let the receiver block in signal_wait */
	for (unsigned long i = 0; i < SIGNALS; i++) {
		long r = rtcr_signal_submit(ctx);
		if (r != 0) {
			rtcr_printf("submit failed: %ld\n", r);
			return 1;
		}
		rtcr_sleep_us(1000);
		while (__atomic_load_n(&received, __ATOMIC_SEQ_CST) < i + 1)
			rtcr_sleep_us(100);
	}
	long r = rtcr_thread_join(tid);
	if (r != 0) {
		rtcr_printf("join failed: %ld\n", r);
		return 1;
	}
	rtcr_printf("all %lu signals received\n", received);
	rtcr_printf("signals done\n");
	return 0;
}
