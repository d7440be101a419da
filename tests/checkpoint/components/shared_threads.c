/*
 * shared_threads -- four workers mix a shared, RAM-allocated table.
 *
 * Test workload for restore equivalence: threads share memory (a 16-page
 * dataspace attached into the address space plus a .bss array), update it
 * with and without atomics, yield, sleep (virtual time) and log from
 * several threads; the main thread sleeps and then joins every worker, so
 * checkpoints see threads blocked on sleeps and joins as well as runnable
 * ones.  Output is a function of the deterministic schedule, which a
 * restore must reproduce exactly.
 */
#include <rtcr.h>

#define WORKERS 4
#define ROUNDS 400
#define TABLE_PAGES 16
#define WORDS (TABLE_PAGES * RTCR_PAGE_SIZE / sizeof(unsigned long))

static volatile unsigned long *table;
static unsigned long totals[WORKERS];
static volatile unsigned long mixed[512];

static void work(void *arg)
{
	unsigned long id = (unsigned long)arg;
	uint64_t state = 0x9e3779b97f4a7c15ULL * (id + 1);
	for (unsigned long r = 1; r <= ROUNDS; r++) {
		for (int k = 0; k < 24; k++) {
			unsigned long i = rtcr_xorshift64(&state) % WORDS;
			table[i] = table[i] * 31 + id + r; /* racy on purpose: the schedule decides */
			__atomic_fetch_add(&totals[id], table[i] & 0xff, __ATOMIC_SEQ_CST);
		}
		mixed[(r * 7 + id) % 512] ^= state;
		if (r % 37 == 0)
			rtcr_yield();
		if (r % 90 == 0) {
			rtcr_printf("worker %lu round %lu total %lu\n", id, r, totals[id]);
			rtcr_sleep_us(50 * (id + 1));
		}
	}
}

int main(void)
{
	long ds = rtcr_ram_alloc(TABLE_PAGES * RTCR_PAGE_SIZE);
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (ds < 0 || at < 0) {
		rtcr_printf("setup failed: %ld %ld\n", ds, at);
		return 1;
	}
	table = (volatile unsigned long *)at;
	long tids[WORKERS];
	for (unsigned long i = 0; i < WORKERS; i++) {
		tids[i] = rtcr_thread_create(work, (void *)i, 16 * 1024);
		if (tids[i] < 0) {
			rtcr_printf("thread_create failed: %ld\n", tids[i]);
			return 1;
		}
	}
	rtcr_sleep_us(200);
	for (int i = 0; i < WORKERS; i++) {
		long r = rtcr_thread_join(tids[i]);
		if (r != 0) {
			rtcr_printf("join failed: %ld\n", r);
			return 1;
		}
	}
	unsigned long sum = 0;
	for (unsigned long i = 0; i < WORDS; i++)
		sum = sum * 1099511628211ULL + table[i];
	for (int i = 0; i < 512; i++)
		sum ^= mixed[i];
	rtcr_printf("table hash %lx totals %lu %lu %lu %lu\n", sum, totals[0], totals[1],
	            totals[2], totals[3]);
	return (int)(sum & 0x3f);
}
