/*
 * ram_churn -- allocate, attach, fill, seal, detach and free RAM over time.
 *
 * Test workload: 40 rounds, each allocating a dataspace of 1..6 pages,
 * attaching it (directly, or through a nested sub region map), filling it,
 * sometimes sealing one (reads only afterwards), and freeing old ones --
 * so checkpoints see RAM objects appear, get sealed and get freed, and
 * freed objects' regions detached.  Between rounds the thread sleeps.
 */
#include <rtcr.h>

#define SLOTS 6
#define ROUNDS 40

struct slot {
	long ds;
	unsigned long at;   /* address in the address space */
	unsigned long size;
	int sealed;
	int nested;         /* attached through `sub` at `sub_off` */
	unsigned long sub_off;
};

static struct slot slots[SLOTS];
static long sub;        /* a sub region map, attached into the address space */
static unsigned long sub_base;
static unsigned long sub_next;

static unsigned long checksum(const struct slot *s)
{
	unsigned long h = 0;
	const volatile unsigned long *p = (const volatile unsigned long *)s->at;
	for (unsigned long i = 0; i < s->size / 8; i += 16)
		h = h * 131 + p[i];
	return h;
}

static void release(struct slot *s)
{
	long r1;
	if (s->nested)
		r1 = rtcr_detach(sub, s->sub_off);
	else
		r1 = rtcr_detach(RTCR_ADDRESS_SPACE, s->at);
	long r2 = rtcr_ram_free(s->ds);
	if (r1 != 0 || r2 != 0) {
		rtcr_printf("release failed: %ld %ld\n", r1, r2);
		rtcr_exit(4);
	}
	s->ds = 0;
}

int main(void)
{
	sub = rtcr_rm_create(64 * RTCR_PAGE_SIZE);
	long mds = rtcr_rm_dataspace(sub);
	long b = rtcr_attach(RTCR_ADDRESS_SPACE, mds, 0, 0, RTCR_ANYWHERE, RTCR_W);
	if (sub < 0 || mds < 0 || b < 0) {
		rtcr_printf("setup failed\n");
		return 1;
	}
	sub_base = (unsigned long)b;
	uint64_t state = 7;
	unsigned long grand = 0;
	for (int round = 0; round < ROUNDS; round++) {
		struct slot *s = &slots[round % SLOTS];
		if (s->ds) {
			grand = grand * 3 + checksum(s);
			release(s);
		}
		s->size = (1 + rtcr_xorshift64(&state) % 6) * RTCR_PAGE_SIZE;
		s->ds = rtcr_ram_alloc(s->size);
		s->sealed = 0;
		s->nested = round % 3 == 1;
		long at;
		if (s->nested) {
			if (sub_next + s->size > 64 * RTCR_PAGE_SIZE)
				sub_next = 0;
			at = rtcr_attach(sub, s->ds, 0, 0, (long)sub_next, RTCR_W);
			if (at == (long)sub_next) {
				s->sub_off = sub_next;
				sub_next += 8 * RTCR_PAGE_SIZE;
				at = (long)(sub_base + s->sub_off);
			} else {
				/* slot collided with a live one: attach directly instead */
				s->nested = 0;
				at = rtcr_attach(RTCR_ADDRESS_SPACE, s->ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
			}
		} else {
			at = rtcr_attach(RTCR_ADDRESS_SPACE, s->ds, 0, 0, RTCR_ANYWHERE, RTCR_W);
		}
		if (s->ds < 0 || at < 0) {
			rtcr_printf("round %d: alloc/attach failed %ld %ld\n", round, s->ds, at);
			return 2;
		}
		s->at = (unsigned long)at;
		volatile unsigned long *p = (volatile unsigned long *)s->at;
		for (unsigned long i = 0; i < s->size / 8; i += 4)
			p[i] = rtcr_xorshift64(&state);
		if (round % 7 == 3) {
			long r = rtcr_ram_seal(s->ds);
			s->sealed = 1;
			rtcr_printf("round %d: sealed %lu pages: %ld, avail %ld\n", round,
			            s->size / RTCR_PAGE_SIZE, r, rtcr_ram_avail());
		}
		/* touch the older, unsealed slots again */
		for (int k = 0; k < SLOTS; k++) {
			struct slot *o = &slots[k];
			if (o->ds && !o->sealed && o != s)
				((volatile unsigned long *)o->at)[round % 64] += (unsigned long)round;
		}
		if (round % 5 == 0)
			rtcr_printf("round %d: grand %lx\n", round, grand);
		rtcr_sleep_us(100);
	}
	for (int k = 0; k < SLOTS; k++)
		if (slots[k].ds)
			grand = grand * 3 + checksum(&slots[k]);
	rtcr_printf("final grand %lx avail %ld caps %ld\n", grand, rtcr_ram_avail(),
	            rtcr_caps_avail());
	return 0;
}
