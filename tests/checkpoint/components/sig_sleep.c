/*
 * sig_sleep -- producer, consumer and ticker talking through signals.
 *
 * Test workload: the main thread produces items into a ring buffer and
 * signals the consumer; the consumer waits for its signal, drains the ring
 * and folds the items into a hash; a ticker thread sleeps and submits a
 * tick signal the consumer also handles.  The producer sleeps between
 * batches.  Checkpoints see threads blocked on signals and on sleeps, and
 * signals pending.  At the end the producer joins both threads.
 */
#include <rtcr.h>

#define RING 64
#define BATCHES 30

static long data_sig, tick_sig;
static volatile unsigned long ring[RING];
static volatile unsigned long head, tail;
static volatile int done, ticker_done;
static volatile unsigned long ticks, consumed;
static unsigned long hash = 1469598103934665603ULL;

static void consumer(void *arg)
{
	(void)arg;
	for (;;) {
		long c = rtcr_signal_wait();
		if (c == tick_sig) {
			ticks++;
			if (ticks % 4 == 0)
				rtcr_printf("tick %lu at %lu us, consumed %lu\n", ticks, rtcr_time_us(),
				            consumed);
		}
		while (tail != head) {
			hash = (hash ^ ring[tail % RING]) * 1099511628211ULL;
			tail++;
			consumed++;
		}
		if (done && tail == head && ticker_done)
			break;
	}
	rtcr_printf("consumer: %lu items, %lu ticks, hash %lx\n", consumed, ticks, hash);
}

static void ticker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 12; i++) {
		rtcr_sleep_us(700);
		rtcr_signal_submit(tick_sig);
	}
	ticker_done = 1;
	rtcr_signal_submit(tick_sig);
}

int main(void)
{
	data_sig = rtcr_signal_context();
	tick_sig = rtcr_signal_context();
	long c = rtcr_thread_create(consumer, NULL, 16 * 1024);
	long t = rtcr_thread_create(ticker, NULL, 16 * 1024);
	if (data_sig < 0 || tick_sig < 0 || c < 0 || t < 0) {
		rtcr_printf("setup failed\n");
		return 1;
	}
	uint64_t state = 42;
	for (int b = 0; b < BATCHES; b++) {
		int n = 1 + (int)(rtcr_xorshift64(&state) % 20);
		for (int i = 0; i < n; i++) {
			while (head - tail >= RING)
				rtcr_yield();
			unsigned long v = rtcr_xorshift64(&state);
			for (int k = 0; k < 200; k++)
				v = v * 2862933555777941757ULL + 3037000493ULL;
			ring[head % RING] = v;
			head++;
		}
		rtcr_signal_submit(data_sig);
		if (b % 5 == 4)
			rtcr_printf("batch %d produced, head %lu\n", b, head);
		rtcr_sleep_us(300 + (unsigned long)(b % 4) * 100);
	}
	done = 1;
	rtcr_signal_submit(data_sig);
	rtcr_thread_join(t);
	rtcr_thread_join(c);
	rtcr_printf("producer: %lu items, consumer hash %lx\n", head, hash);
	return 0;
}
