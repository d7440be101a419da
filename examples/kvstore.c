/*
 * kvstore -- an open-addressing hash table driven by a request stream.
 *
 * Demonstrates: a few MB of RAM (a 2 MiB table in a RAM dataspace that the
 * component allocates and attaches itself) written sparsely and randomly,
 * the typical "many dirty pages per checkpoint interval" workload.
 *
 * The table has 2^17 slots of {key, value} (linear probing, backward-shift
 * deletion, key 0 = empty).  A xorshift64 stream (seed 42) issues 200000
 * requests over 100000 keys: 50% put, 30% get, 20% delete.  The checksum
 * folds in every get result and every delete outcome.  Every 20000
 * requests it logs the request count, the number of live keys and the
 * running checksum; at the end the final checksum, then "kvstore done".
 * About 13 M instructions.
 *
 * Expected output (12 lines; see expected/kvstore.txt):
 *   [kvstore] requests 20000 live N checksum 0x...
 *   ... (every 20000 requests, up to 200000)
 *   [kvstore] final: puts P gets G (hits H) deletes D (hits E) live N checksum 0x...
 *   [kvstore] kvstore done
 * exit status 0
 */
#include <rtcr.h>

#define SLOTS_LOG2 17
#define SLOTS (1UL << SLOTS_LOG2)
#define MASK (SLOTS - 1)
#define KEYS 100000
#define REQUESTS 200000
#define REPORT_EVERY 20000

struct slot {
	uint64_t key;   /* 0: empty */
	uint64_t value;
};

static struct slot *table;
static unsigned long live;

static unsigned long home(uint64_t key)
{
	/* Fibonacci hashing */
	return (unsigned long)((key * 0x9E3779B97F4A7C15ULL) >> (64 - SLOTS_LOG2));
}

static long find(uint64_t key)
{
	unsigned long i = home(key);
	for (;;) {
		if (table[i].key == key)
			return (long)i;
		if (table[i].key == 0)
			return -1;
		i = (i + 1) & MASK;
	}
}

static void put(uint64_t key, uint64_t value)
{
	unsigned long i = home(key);
	while (table[i].key != 0 && table[i].key != key)
		i = (i + 1) & MASK;
	if (table[i].key == 0)
		live++;
	table[i].key = key;
	table[i].value = value;
}

/* Remove `key`; backward-shift the following cluster so lookups stay exact. */
static int del(uint64_t key)
{
	long found = find(key);
	if (found < 0)
		return 0;
	unsigned long hole = (unsigned long)found;
	unsigned long j = hole;
	for (;;) {
		j = (j + 1) & MASK;
		if (table[j].key == 0)
			break;
		unsigned long h = home(table[j].key);
		/* entry j may move into the hole unless its home lies
		 * cyclically in (hole, j] */
		int stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
		if (!stays) {
			table[hole] = table[j];
			hole = j;
		}
	}
	table[hole].key = 0;
	table[hole].value = 0;
	live--;
	return 1;
}

int main(void)
{
	long ds = rtcr_ram_alloc(SLOTS * sizeof(struct slot));
	if (ds < 0) {
		rtcr_printf("ram_alloc failed: %ld\n", ds);
		return 1;
	}
	long at = rtcr_attach(RTCR_ADDRESS_SPACE, ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (at < 0) {
		rtcr_printf("attach failed: %ld\n", at);
		return 1;
	}
	table = (struct slot *)at; /* fresh RAM reads as zero: all slots empty */

	uint64_t rng = 42;
	uint64_t checksum = 0;
	unsigned long puts = 0, gets = 0, get_hits = 0, dels = 0, del_hits = 0;

	for (unsigned long r = 1; r <= REQUESTS; r++) {
		uint64_t x = rtcr_xorshift64(&rng);
		unsigned op = (unsigned)(x % 10);
		uint64_t key = (x >> 8) % KEYS + 1;
		if (op < 5) {
			uint64_t value = rtcr_xorshift64(&rng);
			put(key, value);
			puts++;
		} else if (op < 8) {
			long i = find(key);
			uint64_t v = i < 0 ? 0 : table[i].value;
			gets++;
			if (i >= 0)
				get_hits++;
			checksum = (checksum ^ v) * 0x100000001B3ULL + key;
		} else {
			int hit = del(key);
			dels++;
			del_hits += (unsigned long)hit;
			checksum = (checksum ^ (uint64_t)hit) * 0x100000001B3ULL + key;
		}
		if (r % REPORT_EVERY == 0)
			rtcr_printf("requests %lu live %lu checksum 0x%016llx\n", r, live,
			            (unsigned long long)checksum);
	}

	/* cross-check the live count against the table */
	unsigned long count = 0;
	for (unsigned long i = 0; i < SLOTS; i++)
		count += table[i].key != 0;
	if (count != live) {
		rtcr_printf("table corrupt: %lu keys, expected %lu\n", count, live);
		return 1;
	}
	rtcr_printf("final: puts %lu gets %lu (hits %lu) deletes %lu (hits %lu) live %lu "
	            "checksum 0x%016llx\n", puts, gets, get_hits, dels, del_hits, live,
	            (unsigned long long)checksum);
	rtcr_printf("kvstore done\n");
	return 0;
}
