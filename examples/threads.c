/*
 * threads -- three worker threads increment counters, yield and sleep.
 *
 * Demonstrates: rtcr_thread_create / rtcr_thread_join, preemption-safe
 * shared counters (atomic add), rtcr_yield and rtcr_sleep_us (virtual
 * time).  Each worker i (0..2) does 1000 rounds: increments its own
 * counter and the shared total, yields every 100 rounds and sleeps
 * (i+1)*100 us every 250 rounds.  Only the main thread logs, after every
 * worker has been joined, so the output does not depend on the schedule.
 *
 * Expected output (see expected/threads.txt):
 *   [threads] started 3 threads
 *   [threads] thread 0: 1000 rounds
 *   [threads] thread 1: 1000 rounds
 *   [threads] thread 2: 1000 rounds
 *   [threads] total 3000
 *   [threads] threads done
 * exit status 0
 */
#include <rtcr.h>

#define THREADS 3
#define ROUNDS 1000

struct worker {
	int index;
	volatile unsigned long count;
};

static struct worker workers[THREADS];
static unsigned long total;

static void work(void *arg)
{
	struct worker *w = arg;
	for (int r = 1; r <= ROUNDS; r++) {
		w->count = w->count + 1;
		__atomic_fetch_add(&total, 1, __ATOMIC_SEQ_CST);
		if (r % 100 == 0)
			rtcr_yield();
		if (r % 250 == 0)
			rtcr_sleep_us(100UL * (unsigned long)(w->index + 1));
	}
}

int main(void)
{
	long tids[THREADS];
	for (int i = 0; i < THREADS; i++) {
		workers[i].index = i;
		tids[i] = rtcr_thread_create(work, &workers[i], 16 * 1024);
		if (tids[i] < 0) {
			rtcr_printf("thread_create %d failed: %ld\n", i, tids[i]);
			return 1;
		}
	}
	rtcr_printf("started %d threads\n", THREADS);
	for (int i = 0; i < THREADS; i++) {
		long r = rtcr_thread_join(tids[i]);
		if (r != 0) {
			rtcr_printf("join %d failed: %ld\n", i, r);
			return 1;
		}
	}
	for (int i = 0; i < THREADS; i++)
		rtcr_printf("thread %d: %lu rounds\n", i, workers[i].count);
	rtcr_printf("total %lu\n", __atomic_load_n(&total, __ATOMIC_SEQ_CST));
	if (total != THREADS * ROUNDS)
		return 1;
	rtcr_printf("threads done\n");
	return 0;
}
