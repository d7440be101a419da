/*
 * prodcons -- a producer and a consumer thread around a ring buffer.
 *
 * The producer fills RING slots with generated records, the consumer
 * folds them into a histogram of HIST_PAGES pages; both yield when the
 * ring is full or empty.  Two threads, so checkpoints catch one of them
 * blocked or preempted.
 */
#include <rtcr.h>

#ifndef ITEMS
#define ITEMS 200000UL
#endif
#ifndef RING
#define RING 4096UL
#endif
#ifndef HIST_PAGES
#define HIST_PAGES 64
#endif

#define BUCKETS (HIST_PAGES * RTCR_PAGE_SIZE / sizeof(uint64_t))

static uint64_t ring[RING];
static volatile unsigned long head, tail;
static uint64_t hist[BUCKETS];
static uint64_t consumed_sum;

static void producer(void *arg)
{
	(void)arg;
	uint64_t state = 99;
	for (unsigned long i = 0; i < ITEMS; i++) {
		while (head - __atomic_load_n(&tail, __ATOMIC_ACQUIRE) == RING)
			rtcr_yield();
		ring[head % RING] = rtcr_xorshift64(&state);
		__atomic_store_n(&head, head + 1, __ATOMIC_RELEASE);
	}
}

static void consumer(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; i < ITEMS; i++) {
		while (__atomic_load_n(&head, __ATOMIC_ACQUIRE) == tail)
			rtcr_yield();
		uint64_t v = ring[tail % RING];
		__atomic_store_n(&tail, tail + 1, __ATOMIC_RELEASE);
		hist[v % BUCKETS] += v >> 40;
		consumed_sum += v & 0xffff;
	}
}

int main(void)
{
	long p = rtcr_thread_create(producer, 0, 16 * 1024);
	long c = rtcr_thread_create(consumer, 0, 16 * 1024);
	if (p < 0 || c < 0) {
		rtcr_printf("prodcons: thread_create failed\n");
		return 1;
	}
	rtcr_thread_join(p);
	rtcr_thread_join(c);
	uint64_t check = consumed_sum;
	for (unsigned long i = 0; i < BUCKETS; i++)
		check = check * 7 + hist[i];
	rtcr_printf("prodcons: %lu items, checksum %lx\n", (unsigned long)ITEMS,
	            (unsigned long)check);
	return 0;
}
